//! The WAV reader and the audio analysis on arbitrary bytes. Half the inputs (first octet
//! even) are taken as a whole file; the other half get a valid 8 kHz header (mono or
//! stereo, 16-bit, A-law or µ-law by the first octet) so the fuzzer reaches the modems.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sim::analyze::{Options, analyze_bytes};

fn header(channels: u16, tag: u16, bits: u16, len: usize) -> Vec<u8> {
    let block = channels * bits / 8;
    let mut v = Vec::new();
    v.extend_from_slice(b"RIFF");
    v.extend_from_slice(&(36 + len as u32).to_le_bytes());
    v.extend_from_slice(b"WAVEfmt ");
    v.extend_from_slice(&16u32.to_le_bytes());
    v.extend_from_slice(&tag.to_le_bytes());
    v.extend_from_slice(&channels.to_le_bytes());
    v.extend_from_slice(&8000u32.to_le_bytes());
    v.extend_from_slice(&(8000 * u32::from(block)).to_le_bytes());
    v.extend_from_slice(&block.to_le_bytes());
    v.extend_from_slice(&bits.to_le_bytes());
    v.extend_from_slice(b"data");
    v.extend_from_slice(&(len as u32).to_le_bytes());
    v
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let opts = Options {
        from_s: (first & 0x10 != 0).then_some(0.1),
        to_s: (first & 0x20 != 0).then_some(0.5),
        ..Options::default()
    };
    if first & 1 == 0 {
        let _ = analyze_bytes("fuzz.wav", data, &opts);
        return;
    }
    let channels = if first & 2 != 0 { 2 } else { 1 };
    let (tag, bits) = match first >> 2 & 3 {
        0 | 1 => (1, 16),
        2 => (6, 8),
        _ => (7, 8),
    };
    let mut file = header(channels, tag, bits, rest.len());
    file.extend_from_slice(rest);
    let _ = analyze_bytes("fuzz.wav", &file, &opts);
});
