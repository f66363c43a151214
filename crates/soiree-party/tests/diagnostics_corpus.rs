//! Snapshot test of every broken party under `fixtures/broken/`: each must be rejected, and its
//! rendered diagnostics must equal `expected.txt` beside it. Run with `SOIREE_BLESS=1` to rewrite
//! the snapshots after a deliberate change, then review the diff.

use std::path::Path;

#[test]
fn every_broken_party_renders_its_snapshot() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/broken");
    let bless = std::env::var_os("SOIREE_BLESS").is_some();
    let mut cases: Vec<_> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    assert!(cases.len() >= 15, "the corpus has {} cases", cases.len());
    let mut failures = Vec::new();
    for case in cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let problems = match soiree_party::load(&case.join("party.toml"), None) {
            Ok(_) => {
                failures.push(format!("{name}: accepted, but it is broken"));
                continue;
            }
            Err(p) => p,
        };
        let rendered: String = problems.0.iter().map(|e| e.render_plain()).collect();
        let expected_path = case.join("expected.txt");
        if bless {
            std::fs::write(&expected_path, &rendered).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if expected != rendered {
            failures.push(format!(
                "{name}: diagnostics differ from expected.txt\n--- expected\n{expected}\n--- got\n{rendered}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
