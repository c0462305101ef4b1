//! The pcap/pcapng reader and everything after it on arbitrary bytes: never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sim::analyze::{Options, analyze_bytes, list_streams, pcap};

fuzz_target!(|data: &[u8]| {
    let _ = pcap::read_udp(data);
    let _ = list_streams(data);
    let _ = analyze_bytes("fuzz.pcap", data, &Options::default());
});
