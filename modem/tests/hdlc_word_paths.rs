//! The word-at-a-time HDLC paths against the bit-at-a-time ones and a plain reference:
//! the framer's 64-bit words carry exactly its bits, its table-driven stuffing matches a
//! bit-by-bit stuffer, and the deframer's octet input reports exactly what eight single bits
//! report, on framed traffic and on arbitrary bytes.

use modem::BitSource;
use modem::crc;
use modem::hdlc::{HdlcDeframer, HdlcFramer, HdlcRxConfig, HdlcTxConfig, TxFault};
#[path = "common/hdlc_props_common.rs"]
mod hdlc_props_common;

use hdlc_props_common::{Seen, octet, record};
use proptest::prelude::*;

fn fault() -> impl Strategy<Value = TxFault> {
    prop_oneof![
        3 => Just(TxFault::None),
        1 => Just(TxFault::BadFcs),
        1 => (0usize..40).prop_map(TxFault::AbortAfter),
    ]
}

fn framer(frames: &[(Vec<u8>, TxFault)], cfg: HdlcTxConfig) -> HdlcFramer {
    let mut f = HdlcFramer::new(cfg);
    for (data, fault) in frames {
        f.push_with_fault(data, *fault);
    }
    f
}

/// Bits of `byte`, least significant first.
fn bits_of(byte: u8) -> impl Iterator<Item = bool> {
    (0..8).map(move |i| byte >> i & 1 != 0)
}

/// The line bits of fault-free frames, stuffed one bit at a time.
fn reference_bits(frames: &[Vec<u8>], cfg: HdlcTxConfig) -> Vec<bool> {
    let mut out = Vec::new();
    let flag = |out: &mut Vec<bool>| out.extend(bits_of(0x7E));
    for _ in 0..cfg.preamble_flags.max(1) {
        flag(&mut out);
    }
    for (i, data) in frames.iter().enumerate() {
        let mut octets = data.clone();
        octets.extend_from_slice(&crc::fcs(data).to_le_bytes());
        let mut ones = 0;
        for bit in octets.iter().flat_map(|&o| bits_of(o)) {
            out.push(bit);
            ones = if bit { ones + 1 } else { 0 };
            if ones == 5 {
                out.push(false);
                ones = 0;
            }
        }
        let closing = if i + 1 == frames.len() {
            cfg.closing_flags.max(1)
        } else if cfg.shared_flags {
            1
        } else {
            2
        };
        for _ in 0..closing {
            flag(&mut out);
        }
    }
    out
}

/// Events from `bytes` fed bit by bit and octet by octet, then from the same tail of single
/// bits after each (so the state the two paths leave behind is compared too).
fn both_ways(bytes: &[u8], tail: &[bool], cfg: HdlcRxConfig) -> (Vec<Seen>, Vec<Seen>) {
    let mut by_bit = Vec::new();
    let mut d = HdlcDeframer::new(cfg);
    {
        let mut sink = record(&mut by_bit);
        for bit in bytes
            .iter()
            .flat_map(|&b| bits_of(b))
            .chain(tail.iter().copied())
        {
            d.push_bit(bit, &mut sink);
        }
    }
    let mut by_byte = Vec::new();
    let mut d = HdlcDeframer::new(cfg);
    {
        let mut sink = record(&mut by_byte);
        d.push_bytes(bytes, &mut sink);
        for &bit in tail {
            d.push_bit(bit, &mut sink);
        }
    }
    (by_bit, by_byte)
}

fn rx_config() -> impl Strategy<Value = HdlcRxConfig> {
    (2usize..300, 1usize..6).prop_map(|(max_frame_len, preamble_flags)| HdlcRxConfig {
        max_frame_len,
        min_frame_len: 2,
        preamble_flags,
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn framer_words_carry_its_bits(
        frames in prop::collection::vec((prop::collection::vec(octet(), 0..80), fault()), 1..6),
        preamble in 1usize..10, shared in any::<bool>(), closing in 1usize..4,
    ) {
        let cfg = HdlcTxConfig { preamble_flags: preamble, shared_flags: shared, closing_flags: closing, idle_flags: false };
        let mut f = framer(&frames, cfg);
        let bits: Vec<bool> = std::iter::from_fn(|| f.next_bit()).collect();
        let mut f = framer(&frames, cfg);
        let mut words = Vec::new();
        while let Some((w, n)) = f.next_word() {
            prop_assert!((1..=64).contains(&n));
            words.extend((0..n).map(|i| w >> i & 1 != 0));
        }
        prop_assert_eq!(bits, words);
        prop_assert!(f.is_empty());
    }

    #[test]
    fn framer_matches_bitwise_stuffing(
        frames in prop::collection::vec(prop::collection::vec(octet(), 0..80), 1..6),
        preamble in 1usize..10, shared in any::<bool>(), closing in 1usize..4,
    ) {
        let cfg = HdlcTxConfig { preamble_flags: preamble, shared_flags: shared, closing_flags: closing, idle_flags: false };
        let tagged: Vec<(Vec<u8>, TxFault)> = frames.iter().map(|f| (f.clone(), TxFault::None)).collect();
        let mut f = framer(&tagged, cfg);
        let bits: Vec<bool> = std::iter::from_fn(|| f.next_bit()).collect();
        prop_assert_eq!(bits, reference_bits(&frames, cfg));
    }

    #[test]
    fn deframer_octets_match_bits_on_framed_traffic(
        frames in prop::collection::vec((prop::collection::vec(octet(), 0..300), fault()), 1..6),
        skew in prop::collection::vec(any::<bool>(), 0..8),
        tail in prop::collection::vec(any::<bool>(), 0..40),
        cfg in rx_config(),
    ) {
        // Some leading bits put the frames at every alignment against the octets.
        let mut f = framer(&frames, HdlcTxConfig { preamble_flags: 6, ..Default::default() });
        let bits: Vec<bool> = skew.iter().copied().chain(std::iter::from_fn(|| f.next_bit())).collect();
        let bytes: Vec<u8> = bits.chunks(8).map(|c| c.iter().enumerate().fold(0u8, |b, (i, &x)| b | (x as u8) << i)).collect();
        let (by_bit, by_byte) = both_ways(&bytes, &tail, cfg);
        prop_assert!(by_bit.iter().any(|s| matches!(s, Seen::Preamble)));
        prop_assert_eq!(by_bit, by_byte);
    }

    #[test]
    fn deframer_octets_match_bits_on_arbitrary_bytes(
        bytes in prop::collection::vec(octet(), 0..2000),
        tail in prop::collection::vec(any::<bool>(), 0..40),
        cfg in rx_config(),
    ) {
        let (by_bit, by_byte) = both_ways(&bytes, &tail, cfg);
        prop_assert_eq!(by_bit, by_byte);
    }
}
