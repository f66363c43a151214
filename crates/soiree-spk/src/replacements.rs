//! Sandstorm's app-id replacement and revocation table (`appid-replacements.capnp`): apps whose
//! signing key was replaced keep their original app id, and some old keys are revoked.

use crate::error::{Error, Result};
use crate::ids::{AppId, PackageId};

struct Replacement {
    original: &'static str,
    replacement: &'static str,
    /// When set, packages signed by `original` are rejected unless their id is listed.
    revoke_except: Option<&'static [&'static str]>,
}

/// The table compiled into Sandstorm (commit 231077a9): a test entry, then real apps.
const TABLE: &[Replacement] = &[
    Replacement {
        original: "vjvekechd398fn1t1kn1dgdnmaekqq9jkjv3zsgzymc4z913ref0",
        replacement: "wq95qmutckc0yfmecv0ky96cqxgp156up8sv81yxvmery58q87jh",
        revoke_except: Some(&["b5bb9d8014a0f9b1d61e21e796d78dcc"]),
    },
    Replacement {
        original: "vxe8awcxvtj6yu0vgjpm1tsaeu7x8v8tfp71tyvnm6ykkephu9q0",
        replacement: "n8cn71407n4mezn7mg0k5kkm21juuphhecc24hdf9kf56zyxm4ah",
        revoke_except: None,
    },
    Replacement {
        original: "nfqhx83vvzm80edpgkpax8mhqp176qj2vwg67rgq5e3kjc5r4cyh",
        replacement: "a3w50h1435gsxczugm16q0amwkqm9f4crykzea53sv61pt7phk8h",
        revoke_except: Some(&[
            "1450e0caa29b59ec938b3795bf17cb02",
            "738f0e56a9ca462e77245e3f392686d7",
        ]),
    },
    Replacement {
        original: "m86q05rdvj14yvn78ghaxynqz7u2svw6rnttptxx49g1785cdv1h",
        replacement: "6jz1aawur7kga7tdsj9kgpxx1yzh6xz1qmrpnqukcp1rekprd9f0",
        revoke_except: None,
    },
    Replacement {
        original: "aax9j672p6z8n7nyupzvj2nmumeqd4upa0f7mgu8gprwmy53x04h",
        replacement: "zp00qqrha6gp8515ju84ys91syyq8ezv77g9s1r0t3urz92uzmqh",
        revoke_except: None,
    },
];

fn id(text: &str) -> Option<AppId> {
    text.parse().ok()
}

/// The app id a package signed by `signer` belongs to, or an error if that key is revoked for
/// this package (verify semantics).
pub fn canonical_app_id(signer: &AppId, package_id: &PackageId) -> Result<AppId> {
    for entry in TABLE {
        if id(entry.original).as_ref() == Some(signer) {
            if let Some(allowed) = entry.revoke_except {
                if !allowed
                    .iter()
                    .any(|p| PackageId::from_hex(p).as_ref() == Some(package_id))
                {
                    return Err(Error::Revoked {
                        app_id: signer.to_string(),
                    });
                }
            }
        }
    }
    let mut current = *signer;
    // Bounded: each step moves to a distinct entry's original.
    for _ in 0..=TABLE.len() {
        match TABLE
            .iter()
            .find(|e| id(e.replacement).as_ref() == Some(&current))
        {
            Some(entry) => match id(entry.original) {
                Some(original) => current = original,
                None => break,
            },
            None => break,
        }
    }
    Ok(current)
}

/// The key that signs new packages of `app_id` (pack semantics: original → latest replacement).
pub fn signing_key_for(app_id: &AppId) -> AppId {
    let mut current = *app_id;
    for _ in 0..=TABLE.len() {
        match TABLE.iter().find(|e| id(e.original).as_ref() == Some(&current)) {
            Some(entry) => match id(entry.replacement) {
                Some(next) => current = next,
                None => break,
            },
            None => break,
        }
    }
    current
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_entry_parses() {
        for e in TABLE {
            assert!(
                id(e.original).is_some() && id(e.replacement).is_some(),
                "{}",
                e.original
            );
            for p in e.revoke_except.unwrap_or(&[]) {
                assert!(PackageId::from_hex(p).is_some());
            }
        }
    }

    #[test]
    fn replacement_key_reports_original_id() {
        let original = id(TABLE[1].original).unwrap();
        let replacement = id(TABLE[1].replacement).unwrap();
        let any = PackageId([0; 16]);
        assert_eq!(canonical_app_id(&replacement, &any).unwrap(), original);
        assert_eq!(signing_key_for(&original), replacement);
    }

    #[test]
    fn revoked_key_only_signs_listed_packages() {
        let original = id(TABLE[0].original).unwrap();
        let listed = PackageId::from_hex("b5bb9d8014a0f9b1d61e21e796d78dcc").unwrap();
        assert_eq!(canonical_app_id(&original, &listed).unwrap(), original);
        assert!(matches!(
            canonical_app_id(&original, &PackageId([1; 16])),
            Err(Error::Revoked { .. })
        ));
    }

    #[test]
    fn unrelated_keys_are_themselves() {
        let key = AppId([42; 32]);
        assert_eq!(canonical_app_id(&key, &PackageId([0; 16])).unwrap(), key);
        assert_eq!(signing_key_for(&key), key);
    }
}
