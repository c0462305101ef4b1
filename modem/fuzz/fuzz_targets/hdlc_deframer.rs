//! Arbitrary bytes, least significant bit first, into the HDLC deframer: it must never panic,
//! and every frame it reports must respect the configured limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use modem::hdlc::{HdlcDeframer, HdlcEvent, HdlcRxConfig};

fuzz_target!(|data: &[u8]| {
    // The first two bytes choose the limits, the rest is the bit stream.
    let (max_frame_len, preamble_flags) = match data {
        [a, b, ..] => (1 + *a as usize * 2, 1 + (*b as usize % 8)),
        _ => (260, 4),
    };
    let cfg = HdlcRxConfig {
        max_frame_len,
        min_frame_len: 2,
        preamble_flags,
    };
    let mut deframer = HdlcDeframer::new(cfg);
    // The deframer raises a maximum below the minimum to the minimum.
    let max_frame_len = deframer.config().max_frame_len;
    let mut sink = |event: HdlcEvent<'_>| {
        if let HdlcEvent::Frame { data, .. } = event {
            assert!(data.len() >= 2 && data.len() <= max_frame_len);
        }
    };
    deframer.push_bytes(data.get(2..).unwrap_or(&[]), &mut sink);
});
