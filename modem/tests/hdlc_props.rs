//! Property tests of HDLC framing: round trips, robustness on arbitrary bits, and recovery
//! of frames buried in garbage.

use modem::BitSource;
use modem::crc;
use modem::hdlc::{HdlcDeframer, HdlcFramer, HdlcRxConfig, HdlcTxConfig, TxFault};
#[path = "common/hdlc_props_common.rs"]
mod hdlc_props_common;

use hdlc_props_common::{Seen, octet, record};
use proptest::prelude::*;

fn deframe(bits: &[bool], cfg: HdlcRxConfig) -> Vec<Seen> {
    let mut d = HdlcDeframer::new(cfg);
    let mut seen = Vec::new();
    let mut sink = record(&mut seen);
    for &b in bits {
        d.push_bit(b, &mut sink);
    }
    drop(sink);
    seen
}

fn frame_bits(frames: &[Vec<u8>], cfg: HdlcTxConfig) -> Vec<bool> {
    let mut f = HdlcFramer::new(cfg);
    for fr in frames {
        f.push(fr);
    }
    std::iter::from_fn(|| f.next_bit()).collect()
}

fn tx_config() -> impl Strategy<Value = HdlcTxConfig> {
    (1usize..40, any::<bool>(), 1usize..4).prop_map(|(preamble_flags, shared_flags, closing)| {
        HdlcTxConfig {
            preamble_flags,
            shared_flags,
            closing_flags: closing,
            idle_flags: false,
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn round_trip(frames in prop::collection::vec(prop::collection::vec(octet(), 2..300), 1..8),
                  cfg in tx_config()) {
        let bits = frame_bits(&frames, cfg);
        let seen = deframe(&bits, HdlcRxConfig { max_frame_len: 300, preamble_flags: 1, ..Default::default() });
        let got: Vec<Vec<u8>> = seen.iter().filter_map(|s| match s {
            Seen::Frame(d, true) => Some(d.clone()),
            _ => None,
        }).collect();
        prop_assert_eq!(&got, &frames);
        prop_assert!(!seen.iter().any(|s| matches!(s, Seen::Frame(_, false) | Seen::Abort
            | Seen::TooLong | Seen::TooShort(_) | Seen::Garbage(_))), "{:?}", seen);
    }

    #[test]
    fn stuffed_stream_has_no_six_ones_inside_frames(data in prop::collection::vec(octet(), 0..200)) {
        let bits = frame_bits(std::slice::from_ref(&data), HdlcTxConfig {
            preamble_flags: 1, closing_flags: 1, ..Default::default()
        });
        let body = &bits[8..bits.len() - 8];
        let mut run = 0;
        for &b in body {
            run = if b { run + 1 } else { 0 };
            prop_assert!(run <= 5);
        }
        // Unstuffing by hand gives back data and FCS.
        let mut out = Vec::new();
        let mut ones = 0;
        for &b in body {
            if ones == 5 {
                prop_assert!(!b);
                ones = 0;
                continue;
            }
            ones = if b { ones + 1 } else { 0 };
            out.push(b);
        }
        prop_assert_eq!(out.len(), (data.len() + 2) * 8);
        let octets: Vec<u8> = out.chunks(8)
            .map(|c| c.iter().enumerate().fold(0u8, |a, (i, &b)| a | ((b as u8) << i)))
            .collect();
        prop_assert_eq!(&octets[..data.len()], &data[..]);
        prop_assert!(crc::check(&octets));
    }

    #[test]
    fn deframer_survives_any_bits(bits in prop::collection::vec(any::<bool>(), 0..6000),
                                  max_len in 1usize..300, min_len in 0usize..8,
                                  preamble in 1usize..6) {
        let seen = deframe(&bits, HdlcRxConfig { max_frame_len: max_len, min_frame_len: min_len,
            preamble_flags: preamble });
        for s in seen {
            if let Seen::Frame(d, _) = s {
                prop_assert!(d.len() <= max_len.max(min_len).max(1));
                prop_assert!(d.len() >= min_len);
            }
        }
    }

    #[test]
    fn frames_are_found_in_garbage(prefix in prop::collection::vec(any::<bool>(), 0..2000),
                                   suffix in prop::collection::vec(any::<bool>(), 0..2000),
                                   data in prop::collection::vec(octet(), 2..260)) {
        let mut bits = prefix;
        bits.extend(frame_bits(std::slice::from_ref(&data), HdlcTxConfig {
            preamble_flags: 1, closing_flags: 1, ..Default::default()
        }));
        bits.extend(suffix);
        let seen = deframe(&bits, HdlcRxConfig::default());
        prop_assert!(seen.contains(&Seen::Frame(data.clone(), true)), "{:?}", seen);
    }

    #[test]
    fn faults_are_detected(data in prop::collection::vec(octet(), 2..100), at in 0usize..100) {
        let mut f = HdlcFramer::new(HdlcTxConfig { preamble_flags: 2, ..Default::default() });
        f.push_with_fault(&data, TxFault::BadFcs);
        f.push_with_fault(&data, TxFault::AbortAfter(at));
        f.push(&data);
        let bits: Vec<bool> = std::iter::from_fn(|| f.next_bit()).collect();
        let seen = deframe(&bits, HdlcRxConfig::default());
        let frames: Vec<&Seen> = seen.iter().filter(|s| matches!(s, Seen::Frame(..))).collect();
        prop_assert_eq!(frames.len(), 2, "{:?}", seen);
        prop_assert_eq!(frames[0], &Seen::Frame(data.clone(), false));
        prop_assert_eq!(frames[1], &Seen::Frame(data.clone(), true));
        // An abort after at least one octet is reported; right after the flag it is idle.
        prop_assert_eq!(seen.contains(&Seen::Abort), at.min(data.len()) > 0, "{:?}", seen);
    }
}

#[test]
fn crc_known_values() {
    assert_eq!(crc::fcs(b"123456789"), 0x906E);
    assert_eq!(crc::fcs(b""), 0x0000);
    let dis = [
        0xFF, 0x13, 0x80, 0x00, 0xCE, 0xF4, 0x80, 0x80, 0x81, 0x80, 0x80, 0x80, 0x18,
    ];
    let mut frame = dis.to_vec();
    frame.extend_from_slice(&crc::fcs(&dis).to_le_bytes());
    assert_eq!(crc::update(crc::INIT, &frame), crc::GOOD_RESIDUE);
    assert!(crc::check(&frame));
}
