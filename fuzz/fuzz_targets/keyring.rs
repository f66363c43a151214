//! Fuzzed keyring bytes, and the same bytes as the text of `SOIREE_SIGNING_KEY`.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use soiree_spk::keys;

fuzz_target!(|data: &[u8]| {
    if let Ok(found) = keys::parse_keyring(data, Path::new("fuzz")) {
        // Every key that parses writes back as a KeyFile that parses to the same key.
        for key in found {
            let again = keys::parse_keyring(&key.to_key_file(), Path::new("again"));
            let ids: Vec<_> = again.iter().flatten().map(|k| k.app_id()).collect();
            assert_eq!(ids, vec![key.app_id()]);
        }
    }
    let _ = keys::key_from_base64(&String::from_utf8_lossy(data));
});
