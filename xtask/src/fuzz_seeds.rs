//! `cargo xtask fuzz-seeds`: valid small inputs for each fuzz target (packages, keyrings, the
//! repository's party.toml), written to
//! `fuzz/corpus/<target>/` (git-ignored), so the fuzzers start from inputs that pass the checks.

use std::path::{Path, PathBuf};

use soiree_spk::{Compression, KeyPair};

use crate::sample_app;

pub fn corpus_dir(root: &Path, target: &str) -> PathBuf {
    root.join("fuzz/corpus").join(target)
}

/// Writes an app tree into a directory.
type MakeTree = fn(&Path) -> Result<(), String>;

/// Packages as the `verify` target reads them, and their archive messages for `archive`.
fn package_seeds(root: &Path, scratch: &Path) -> Result<usize, String> {
    let key = KeyPair::from_seed(&[1u8; 32]);
    let trees: [(&str, MakeTree); 2] = [
        ("manifest-only", |dir| sample_app::write_manifest(dir, "Seed")),
        ("small-app", sample_app::write_small_app),
    ];
    let verify_dir = corpus_dir(root, "verify");
    let archive_dir = corpus_dir(root, "archive");
    std::fs::create_dir_all(&verify_dir).map_err(|e| format!("{}: {e}", verify_dir.display()))?;
    let mut count = 0;
    for (name, make) in trees {
        let tree_dir = scratch.join(name);
        make(&tree_dir)?;
        let tree = soiree_spk::scan_for_packing(&tree_dir, Some(0)).map_err(|e| format!("{name}: {e}"))?;
        for (suffix, compression) in [
            (
                "",
                Compression {
                    preset: 0,
                    threads: 1,
                    x86_filter: false,
                },
            ),
            (
                "-xz6",
                Compression {
                    preset: 6,
                    threads: 1,
                    x86_filter: false,
                },
            ),
        ] {
            let spk = verify_dir.join(format!("{name}{suffix}.spk"));
            soiree_spk::pack(&tree, &key, &spk, compression).map_err(|e| format!("{name}: {e}"))?;
            count += 1;
        }
        let spk = verify_dir.join(format!("{name}.spk"));
        let opened = soiree_spk::open(&spk).map_err(|e| format!("{}: {e}", spk.display()))?;
        sample_app::write_file(
            &archive_dir.join(format!("{name}.archive")),
            opened.archive_bytes(),
        )?;
        count += 1;
    }
    Ok(count)
}

/// Keyrings (one and two keys) and the base64 text of one key, as `keyring` reads them.
fn keyring_seeds(root: &Path) -> Result<usize, String> {
    let dir = corpus_dir(root, "keyring");
    let one = KeyPair::from_seed(&[2u8; 32]).to_key_file();
    let two = [one.clone(), KeyPair::from_seed(&[3u8; 32]).to_key_file()].concat();
    let base64 = data_encoding::BASE64.encode(&one);
    sample_app::write_file(&dir.join("one-key"), &one)?;
    sample_app::write_file(&dir.join("two-keys"), &two)?;
    sample_app::write_file(&dir.join("one-key.base64"), base64.as_bytes())?;
    Ok(3)
}

/// This repository's own `party.toml` and its profiles, as the `party` target reads it.
fn party_seeds(root: &Path) -> Result<usize, String> {
    let path = root.join("party.toml");
    let text = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    sample_app::write_file(&corpus_dir(root, "party").join("repo-party.toml"), &text)?;
    Ok(1)
}

/// Writes every seed; returns how many files were written.
pub fn write(root: &Path) -> Result<usize, String> {
    let scratch = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    Ok(package_seeds(root, scratch.path())? + keyring_seeds(root)? + party_seeds(root)?)
}
