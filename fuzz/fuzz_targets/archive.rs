//! A fuzzed `Archive` message, signed with a fixed key and wrapped as a valid `.spk`, so the
//! manifest, archive walk and unpack code are reached (a fuzzed signature never verifies).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(init: soiree_fuzz::init(), |data: &[u8]| {
    soiree_fuzz::verify_and_unpack(&soiree_fuzz::signed_package(data));
});
