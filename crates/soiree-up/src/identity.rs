//! Who a session is for, as the shell's picker chooses: the grain's owner (every permission), a
//! guest holding one of the package's roles, or an anonymous visitor; and the `UserInfo` the
//! bridge turns into `X-Sandstorm-*` headers.

use std::rc::Rc;

use sha2::{Digest, Sha256};
use soiree_schema::grain_capnp::{identity, profile, user_info};
use soiree_schema::util_capnp::static_asset;

use crate::grain::ViewInfo;
use crate::persist::Record;
use crate::restorable::Registry;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Identity {
    Owner,
    /// A signed-in guest given the role at this index of the view info's roles.
    Guest(usize),
    Anonymous,
}

impl Identity {
    /// The picker's value (`owner`, `role-N`, `anonymous`), as kept in the UI host's cookie.
    pub fn key(&self) -> String {
        match self {
            Identity::Owner => "owner".into(),
            Identity::Guest(n) => format!("role-{n}"),
            Identity::Anonymous => "anonymous".into(),
        }
    }

    pub fn parse(key: &str, view: &ViewInfo) -> Option<Identity> {
        match key {
            "owner" => Some(Identity::Owner),
            "anonymous" => Some(Identity::Anonymous),
            _ => key
                .strip_prefix("role-")
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|n| *n < view.roles.len())
                .map(Identity::Guest),
        }
    }

    /// The name the app sees (`X-Sandstorm-Username`).
    pub fn display_name(&self, view: &ViewInfo) -> String {
        match self {
            Identity::Owner => "Owner".into(),
            Identity::Guest(n) => match view.roles.get(*n) {
                Some(r) if !r.title.is_empty() => format!("Guest ({})", r.title),
                _ => format!("Guest (role {n})"),
            },
            Identity::Anonymous => "Anonymous User".into(),
        }
    }

    /// The permissions granted, indexed like the view info's permissions.
    pub fn permissions(&self, view: &ViewInfo) -> Vec<bool> {
        let n = view.permissions.len();
        match self {
            Identity::Owner => vec![true; n],
            Identity::Guest(r) => {
                let mut p = view
                    .roles
                    .get(*r)
                    .map(|r| r.permissions.clone())
                    .unwrap_or_default();
                p.resize(n, false);
                p
            }
            Identity::Anonymous => vec![false; n],
        }
    }

    /// A stable 32-byte identity id per identity (the bridge shows its first half in hex as
    /// `X-Sandstorm-User-Id`); anonymous visitors have none.
    pub fn identity_id(&self) -> Option<[u8; 32]> {
        match self {
            Identity::Anonymous => None,
            other => Some(Sha256::digest(format!("soiree-up identity {}", other.key())).into()),
        }
    }

    /// The choices the shell's picker offers for a grain.
    pub fn all(view: &ViewInfo) -> Vec<Identity> {
        let mut v = vec![Identity::Owner];
        v.extend((0..view.roles.len()).map(Identity::Guest));
        v.push(Identity::Anonymous);
        v
    }

    /// Fills a `UserInfo` for this identity; `port` is the gateway's, which serves the user's
    /// picture. The `Identity` capability is the registry's, so that it survives being saved.
    pub fn fill(&self, view: &ViewInfo, registry: &Registry, u: user_info::Builder) {
        self.fill_with(view, registry, &self.permissions(view), u)
    }

    /// Fills a `UserInfo` for this identity holding `perms` (an API token's, which its role
    /// assignment decides).
    pub fn fill_with(&self, view: &ViewInfo, registry: &Registry, perms: &[bool], mut u: user_info::Builder) {
        let port = registry.port;
        u.reborrow()
            .init_display_name()
            .set_default_text(self.display_name(view));
        u.set_pronouns(profile::Pronouns::Neutral);
        let mut list = u.reborrow().init_permissions(perms.len() as u32);
        for (i, p) in perms.iter().enumerate() {
            list.set(i as u32, *p);
        }
        if let Some(id) = self.identity_id() {
            u.set_identity_id(&id);
            u.set_preferred_handle(self.handle());
            u.set_picture_url(self.picture_url(port));
            let cap = IdentityCap::new(&self.key(), &self.display_name(view), &self.handle(), port);
            u.set_identity(registry.identity(cap));
        }
    }

    fn handle(&self) -> String {
        self.key().replace('-', "_")
    }

    /// Where the gateway serves this user's picture.
    pub fn picture_url(&self, port: u16) -> String {
        picture_url(&self.key(), port)
    }
}

/// Where the gateway on `port` serves the picture of the user whose key is `key`.
fn picture_url(key: &str, port: u16) -> String {
    format!("http://127.0.0.1:{port}/_soiree/picture/{key}.svg")
}

/// A picture for a user: the first letter of their name in a circle.
pub fn picture_svg(name: &str) -> String {
    let letter = name.chars().next().unwrap_or('?').to_uppercase().to_string();
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"64\" height=\"64\"><circle cx=\"32\" cy=\"32\" r=\"32\" fill=\"#6a5acd\"/>\
         <text x=\"32\" y=\"42\" font-size=\"28\" text-anchor=\"middle\" fill=\"#fff\" font-family=\"sans-serif\">{}</text></svg>\n",
        crate::shell::esc(&letter)
    )
}

/// The `Identity` capability handed to the bridge: it saves it (`saveIdentityCaps`) and asks it
/// for the profile of whoever granted an API it exports.
pub struct IdentityCap {
    key: String,
    name: String,
    handle: String,
    picture: String,
}

impl IdentityCap {
    pub fn new(key: &str, name: &str, handle: &str, port: u16) -> IdentityCap {
        IdentityCap {
            key: key.to_string(),
            name: name.to_string(),
            handle: handle.to_string(),
            picture: picture_url(key, port),
        }
    }

    /// What rebuilds it after a restart of `up`.
    pub fn record(&self) -> Record {
        Record::Identity {
            key: self.key.clone(),
            name: self.name.clone(),
            handle: self.handle.clone(),
        }
    }
}

impl identity::Server for IdentityCap {
    fn get_profile(
        self: Rc<Self>,
        _: identity::GetProfileParams,
        mut results: identity::GetProfileResults,
    ) -> impl std::future::Future<Output = Result<(), capnp::Error>> + 'static {
        let mut p = results.get().init_profile();
        p.reborrow().init_display_name().set_default_text(&self.name);
        p.set_preferred_handle(&self.handle);
        p.set_pronouns(profile::Pronouns::Neutral);
        let url = self.picture.clone();
        p.set_picture(capnp_rpc::new_client(Picture { url }));
        std::future::ready(Ok(()))
    }
}

/// The user's picture as a `StaticAsset`: its URL without the scheme, as Sandstorm gives it.
struct Picture {
    url: String,
}

impl static_asset::Server for Picture {
    fn get_url(
        self: Rc<Self>,
        _: static_asset::GetUrlParams,
        mut results: static_asset::GetUrlResults,
    ) -> impl std::future::Future<Output = Result<(), capnp::Error>> + 'static {
        let mut r = results.get();
        r.set_protocol(static_asset::Protocol::Http);
        r.set_host_path(self.url.trim_start_matches("http://"));
        std::future::ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grain::Role;

    #[test]
    fn permissions_follow_roles() {
        let view = ViewInfo {
            permissions: vec!["read".into(), "write".into()],
            roles: vec![Role {
                title: "viewer".into(),
                permissions: vec![true],
            }],
        };
        assert_eq!(Identity::Owner.permissions(&view), vec![true, true]);
        assert_eq!(Identity::Guest(0).permissions(&view), vec![true, false]);
        assert_eq!(Identity::Anonymous.permissions(&view), vec![false, false]);
        assert_eq!(Identity::parse("role-0", &view), Some(Identity::Guest(0)));
        assert_eq!(Identity::parse("role-1", &view), None);
        assert_eq!(Identity::all(&view).len(), 3);
    }
}
