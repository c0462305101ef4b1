//! Arbitrary sequences of frames, carriers, data and timeouts into the T.30 engine: no panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    t30::engine::fuzz::drive(data);
});
