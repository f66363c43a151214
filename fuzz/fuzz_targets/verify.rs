//! A fuzzed `.spk` file: `verify` must return, not panic; when it accepts the package,
//! `unpack` must write only inside its target (see `soiree_fuzz::verify_and_unpack`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(init: soiree_fuzz::init(), |data: &[u8]| {
    soiree_fuzz::verify_and_unpack(data);
});
