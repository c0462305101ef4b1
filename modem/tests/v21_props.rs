//! Block-size invariance of the V.21 receiver: any partition of the input gives the same bits,
//! events and quality report.

mod common;
use common::*;
use modem::hdlc::{HdlcFramer, HdlcTxConfig};
use modem::v21::{V21Channel, V21Rx};
use modem::{ModemKind, Quality, Receiver, RxConfig};
use proptest::prelude::*;
use std::sync::OnceLock;
/// Silence, a V.21 burst of frames, silence, with noise: about 2.5 s.
fn signal(channel: V21Channel) -> Vec<i16> {
    let mut framer = HdlcFramer::new(HdlcTxConfig {
        preamble_flags: 10,
        ..Default::default()
    });
    framer.push(&[0xFF, 0x13, 0x80, 0x00, 0xCE, 0xF4, 0x80, 0x80]);
    framer.push(&[0x7E; 12]);
    framer.push(&[0x3F; 40]);
    let kind = match channel {
        V21Channel::Ch1 => ModemKind::V21Ch1,
        V21Channel::Ch2 => ModemKind::V21Ch2,
    };
    let mut tx = our_transmitter(kind, 300, false);
    let clean = pad(2000, &drain_source(&mut tx, &mut framer, |_| 160), 2000);
    noisy(&clean, 30.0, 11)
}

fn signals() -> &'static [Vec<i16>; 2] {
    static S: OnceLock<[Vec<i16>; 2]> = OnceLock::new();
    S.get_or_init(|| [signal(V21Channel::Ch1), signal(V21Channel::Ch2)])
}

fn run(channel: V21Channel, samples: &[i16], sizes: &[usize]) -> (Collect, Quality) {
    let mut rx = V21Rx::new(channel, &RxConfig::default()).unwrap();
    // No sizes: the whole signal in one block.
    let whole = [samples.len().max(1)];
    let cuts = if sizes.is_empty() { &whole[..] } else { sizes };
    let log = receive_cuts(&mut rx, samples, cuts);
    (log, rx.quality())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn v21_rx_is_block_size_invariant(sizes in prop::collection::vec(0usize..700, 1..20),
                                      ch2 in any::<bool>()) {
        let (channel, samples) = if ch2 {
            (V21Channel::Ch2, &signals()[1])
        } else {
            (V21Channel::Ch1, &signals()[0])
        };
        let sizes: Vec<usize> = sizes.into_iter().map(|s| s.max(1)).collect();
        let whole = run(channel, samples, &[]);
        let parts = run(channel, samples, &sizes);
        prop_assert!(whole.0.bits.len() > 500);
        prop_assert_eq!(whole.0.events.len(), 2);
        prop_assert!(whole == parts);
    }
}
