//! Fuzzed bytes as the text of `party.toml` (what `soiree-pack check` reads), with this
//! repository's `recipes/` beside it: loading must return a party or problems, never panic, and
//! every problem must render as a diagnostic (its spans inside the file it points into).
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let party = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../party.toml"));
    let text = String::from_utf8_lossy(data);
    if let Err(problems) = soiree_party::load_with(party, Some(&text), None) {
        for problem in problems.0 {
            let shown = problem.render_plain();
            assert!(!shown.is_empty());
        }
    }
});
