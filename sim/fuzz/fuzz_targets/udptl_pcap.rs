//! UDPTL in a pcap: the input is cut into datagrams by a length octet, each written into an
//! Ethernet/IPv4/UDP packet of a pcap to or from port 6004 (one more octet picks the
//! direction), and the whole capture is analysed with that port forced to T.38, so every
//! datagram goes through the UDPTL receiver, the IFP decoder and the T.30 ladder.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sim::analyze::{Options, analyze_bytes};

fn packet(out: &mut Vec<u8>, n: u32, from_caller: bool, payload: &[u8]) {
    let mut frame = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00];
    let total = 28 + payload.len();
    let (s, d) = if from_caller { (1, 2) } else { (2, 1) };
    frame.extend_from_slice(&[
        0x45,
        0,
        (total >> 8) as u8,
        total as u8,
        0,
        0,
        0x40,
        0,
        64,
        17,
        0,
        0,
        10,
        0,
        0,
        s,
        10,
        0,
        0,
        d,
    ]);
    let (sp, dp) = if from_caller {
        (6004u16, 7004u16)
    } else {
        (7004, 6004)
    };
    frame.extend_from_slice(&sp.to_be_bytes());
    frame.extend_from_slice(&dp.to_be_bytes());
    frame.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    frame.extend_from_slice(&[0, 0]);
    frame.extend_from_slice(payload);
    out.extend_from_slice(&(1_700_000_000 + n / 50).to_le_bytes());
    out.extend_from_slice(&((n % 50) * 20_000).to_le_bytes());
    out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
    out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
    out.extend_from_slice(&frame);
}

fuzz_target!(|data: &[u8]| {
    let mut pcap = Vec::new();
    for v in [
        0xa1b2c3d4u32.to_le_bytes(),
        [2, 0, 4, 0],
        [0; 4],
        [0; 4],
        65535u32.to_le_bytes(),
        1u32.to_le_bytes(),
    ] {
        pcap.extend_from_slice(&v);
    }
    let mut at = 0;
    let mut n = 0;
    while at + 2 <= data.len() {
        let len = usize::from(data[at]);
        let caller = data[at + 1] & 1 == 0;
        at += 2;
        let end = (at + len).min(data.len());
        packet(&mut pcap, n, caller, &data[at..end]);
        n += 1;
        at = end;
    }
    let opts = Options {
        t38_port: Some(6004),
        ..Options::default()
    };
    let _ = analyze_bytes("fuzz.pcap", &pcap, &opts);
    let _ = analyze_bytes("fuzz.pcap", &pcap, &Options::default());
});
