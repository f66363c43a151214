//! API tokens as Sandstorm's shell makes them (grain-runtime.md §5.3, §4.3): whom each acts as,
//! the permissions its role assignment gives, its petname, and `expiresIfUnused` (5 minutes,
//! extended by keepalives, cleared by the first real use); identical `renderTemplate` requests
//! get the same token for 2.5 minutes. Times are passed in, so tests need no clock.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use crate::grain::ViewInfo;
use crate::identity::Identity;

/// How long a `renderTemplate` token lives unused (Sandstorm's `expiresIfUnusedDuration`).
pub const UNUSED_EXPIRY: Duration = Duration::from_secs(5 * 60);
/// How long identical `renderTemplate` parameters get the same token (the shell's memo).
pub const MEMO_FOR: Duration = Duration::from_secs(150);

/// One API token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub grain: String,
    /// Who the grain's sessions through it are for: the user who made it, or the anonymous user
    /// for a token made `forSharing`.
    pub acting: Identity,
    /// Indexed like the grain's view info's permissions.
    pub permissions: Vec<bool>,
    pub petname: String,
    /// Until when it lives unused; `None` once used, or for tokens that never expire.
    pub expires_if_unused: Option<Instant>,
    /// The token `up` printed for the grain (listed on the shell's index).
    pub printed: bool,
}

/// `renderTemplate`'s `roleAssignment`: a base (`none`, `allAccess`, `roleId`) with permissions
/// added and removed, as Sandstorm's `RoleAssignment`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleAssignment {
    base: Base,
    add: Vec<bool>,
    remove: Vec<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Base {
    None,
    AllAccess,
    Role(usize),
}

impl RoleAssignment {
    /// From the message's value; absent means `{allAccess: null}`, Sandstorm's default.
    pub fn parse(v: Option<&serde_json::Value>) -> Result<RoleAssignment, String> {
        let all = RoleAssignment {
            base: Base::AllAccess,
            add: Vec::new(),
            remove: Vec::new(),
        };
        let Some(v) = v.filter(|v| !v.is_null()) else {
            return Ok(all);
        };
        let o = v
            .as_object()
            .ok_or_else(|| format!("roleAssignment {v}: give an object such as {{\"roleId\": 0}}"))?;
        let bools = |k: &str| -> Result<Vec<bool>, String> {
            match o.get(k) {
                None => Ok(Vec::new()),
                Some(l) => l
                    .as_array()
                    .and_then(|a| a.iter().map(|b| b.as_bool()).collect::<Option<Vec<bool>>>())
                    .ok_or_else(|| format!("roleAssignment.{k} {l}: give a list of booleans")),
            }
        };
        let bases: Vec<Base> = [
            o.contains_key("none").then_some(Ok(Base::None)),
            o.contains_key("allAccess").then_some(Ok(Base::AllAccess)),
            o.get("roleId").map(|r| {
                r.as_u64()
                    .filter(|n| *n <= u64::from(u16::MAX))
                    .map(|n| Base::Role(n as usize))
                    .ok_or_else(|| format!("roleAssignment.roleId {r}: give a role's index"))
            }),
        ]
        .into_iter()
        .flatten()
        .collect::<Result<_, String>>()?;
        if bases.len() > 1 {
            return Err(format!(
                "roleAssignment {v}: give one of none, allAccess and roleId"
            ));
        }
        if let Some(k) = o.keys().find(|k| {
            ![
                "none",
                "allAccess",
                "roleId",
                "addPermissions",
                "removePermissions",
            ]
            .contains(&k.as_str())
        }) {
            return Err(format!("roleAssignment: unknown field {k:?}"));
        }
        Ok(RoleAssignment {
            base: bases.into_iter().next().unwrap_or(Base::None),
            add: bools("addPermissions")?,
            remove: bools("removePermissions")?,
        })
    }

    /// The permissions given, never more than `creator` holds (a user can share only what they
    /// have).
    pub fn permissions(&self, creator: &Identity, view: &ViewInfo) -> Result<Vec<bool>, String> {
        let n = view.permissions.len();
        let mut p = match self.base {
            Base::None => vec![false; n],
            Base::AllAccess => vec![true; n],
            Base::Role(r) => {
                let role = view.roles.get(r).ok_or_else(|| {
                    format!(
                        "roleAssignment.roleId {r}: the grain has {} roles",
                        view.roles.len()
                    )
                })?;
                let mut p = role.permissions.clone();
                p.resize(n, false);
                p
            }
        };
        let held = creator.permissions(view);
        for (i, x) in p.iter_mut().enumerate() {
            let added = self.add.get(i).copied().unwrap_or(false);
            let removed = self.remove.get(i).copied().unwrap_or(false);
            *x = (*x || added) && !removed && held.get(i).copied().unwrap_or(false);
        }
        Ok(p)
    }
}

/// Every API token of the gateway, and the memo of `renderTemplate` requests.
#[derive(Default)]
pub struct Tokens {
    by_token: HashMap<String, ApiToken>,
    memo: HashMap<String, (String, Instant)>,
}

/// What a token is when a request brings it.
#[derive(Debug, PartialEq, Eq)]
pub enum Lookup {
    Valid(ApiToken),
    /// Unknown, or expired unused (and now forgotten): Sandstorm answers both alike.
    Invalid,
}

impl Tokens {
    pub fn insert(&mut self, token: String, t: ApiToken) {
        self.by_token.insert(token, t);
    }

    /// The token minted for the same `memo_key` less than [`MEMO_FOR`] ago, if it still lives.
    pub fn memoized(&mut self, memo_key: &str, now: Instant) -> Option<String> {
        self.memo
            .retain(|_, (t, at)| now.duration_since(*at) < MEMO_FOR && self.by_token.contains_key(t));
        let token = self.memo.get(memo_key)?.0.clone();
        self.check(&token, now).is_valid().then_some(token)
    }

    pub fn remember(&mut self, memo_key: String, token: String, now: Instant) {
        self.memo.insert(memo_key, (token, now));
    }

    /// The token, forgetting it if it expired unused.
    pub fn check(&mut self, token: &str, now: Instant) -> Lookup {
        let Some(t) = self.by_token.get(token) else {
            return Lookup::Invalid;
        };
        if t.expires_if_unused.is_some_and(|at| now >= at) {
            self.by_token.remove(token);
            return Lookup::Invalid;
        }
        Lookup::Valid(t.clone())
    }

    /// A real request used the token: it no longer expires.
    pub fn used(&mut self, token: &str) {
        if let Some(t) = self.by_token.get_mut(token) {
            t.expires_if_unused = None;
        }
    }

    /// `X-Sandstorm-Token-Keepalive: ms`: an unused token lives at least `ms` more.
    pub fn keep_alive(&mut self, token: &str, ms: u64, now: Instant) {
        if let Some(t) = self.by_token.get_mut(token) {
            if let Some(at) = &mut t.expires_if_unused {
                *at = (*at).max(now + Duration::from_millis(ms));
            }
        }
    }

    /// The grain a token opens, expired or not.
    pub fn grain_of(&self, token: &str) -> Option<&str> {
        self.by_token.get(token).map(|t| t.grain.as_str())
    }

    /// The printed token of each grain.
    pub fn printed(&self) -> BTreeMap<&str, &str> {
        self.by_token
            .iter()
            .filter(|(_, t)| t.printed)
            .map(|(k, t)| (t.grain.as_str(), k.as_str()))
            .collect()
    }
}

impl Lookup {
    fn is_valid(&self) -> bool {
        matches!(self, Lookup::Valid(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grain::Role;
    use serde_json::json;

    fn view() -> ViewInfo {
        ViewInfo {
            permissions: vec!["read".into(), "write".into()],
            roles: vec![
                Role {
                    title: "viewer".into(),
                    permissions: vec![true],
                },
                Role {
                    title: "editor".into(),
                    permissions: vec![true, true],
                },
            ],
        }
    }

    fn perms(v: serde_json::Value, creator: &Identity) -> Result<Vec<bool>, String> {
        RoleAssignment::parse(Some(&v))?.permissions(creator, &view())
    }

    #[test]
    fn role_assignments_give_what_the_creator_holds_at_most() {
        let owner = Identity::Owner;
        assert_eq!(
            RoleAssignment::parse(None).unwrap().permissions(&owner, &view()),
            Ok(vec![true, true])
        );
        assert_eq!(perms(json!({"allAccess": null}), &owner), Ok(vec![true, true]));
        assert_eq!(perms(json!({"roleId": 0}), &owner), Ok(vec![true, false]));
        assert_eq!(perms(json!({"none": null}), &owner), Ok(vec![false, false]));
        assert_eq!(
            perms(
                json!({"roleId": 0, "addPermissions": [false, true], "removePermissions": [true]}),
                &owner
            ),
            Ok(vec![false, true])
        );
        // A viewer cannot share writing.
        assert_eq!(
            perms(json!({"allAccess": null}), &Identity::Guest(0)),
            Ok(vec![true, false])
        );
        for bad in [
            json!({"roleId": 2}),
            json!({"roleId": -1}),
            json!({"roleId": 0, "allAccess": null}),
            json!({"role": 0}),
            json!({"addPermissions": "read"}),
            json!("all"),
        ] {
            assert!(perms(bad.clone(), &owner).is_err(), "{bad}");
        }
    }

    fn offer(at: Instant) -> ApiToken {
        ApiToken {
            grain: "g".into(),
            acting: Identity::Anonymous,
            permissions: vec![true, false],
            petname: "players".into(),
            expires_if_unused: Some(at + UNUSED_EXPIRY),
            printed: false,
        }
    }

    #[test]
    fn an_unused_token_expires_unless_kept_alive_and_a_used_one_never() {
        let t0 = Instant::now();
        let min = Duration::from_secs(60);
        let mut tokens = Tokens::default();
        tokens.insert("a".into(), offer(t0));
        tokens.insert("b".into(), offer(t0));
        tokens.insert("c".into(), offer(t0));
        // a: kept alive at 4 min for 5 more, so alive at 8, gone at 9.
        tokens.keep_alive("a", 300_000, t0 + 4 * min);
        assert!(tokens.check("a", t0 + 8 * min).is_valid());
        // b: used once, then alive however long.
        tokens.used("b");
        assert!(tokens.check("b", t0 + 60 * min).is_valid());
        // c: gone at 5 min, and a keepalive cannot bring it back.
        assert!(tokens.check("c", t0 + 4 * min).is_valid());
        assert_eq!(tokens.check("c", t0 + 5 * min), Lookup::Invalid);
        tokens.keep_alive("c", 300_000, t0 + 5 * min);
        assert_eq!(tokens.check("c", t0 + 5 * min), Lookup::Invalid);
        assert_eq!(tokens.check("a", t0 + 9 * min), Lookup::Invalid);
        // A shorter keepalive never shortens the life.
        tokens.insert("d".into(), offer(t0));
        tokens.keep_alive("d", 1, t0);
        assert!(tokens.check("d", t0 + 4 * min).is_valid());
    }

    #[test]
    fn identical_requests_share_a_token_for_a_while() {
        let t0 = Instant::now();
        let mut tokens = Tokens::default();
        tokens.insert("a".into(), offer(t0));
        tokens.remember("k".into(), "a".into(), t0);
        assert_eq!(
            tokens.memoized("k", t0 + Duration::from_secs(149)),
            Some("a".into())
        );
        assert_eq!(tokens.memoized("other", t0), None);
        assert_eq!(tokens.memoized("k", t0 + MEMO_FOR), None);
    }
}
