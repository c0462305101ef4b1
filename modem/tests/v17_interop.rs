//! V.17 against spandsp both ways, every rate, long and short train, at 35 dB SNR.

mod common;
use common::*;
use modem::ModemKind::V17;
use modem::RxConfig;
use spandsp_peer::{ModemRx, PeerModem};

const RATES: [u32; 4] = [7200, 9600, 12000, 14400];

/// Errors of `got` against `want`, wherever in `got` it starts.
fn errors(got: &[bool], want: &[bool]) -> usize {
    aligned_errors(want, got, got.len())
}

#[test]
fn ours_to_spandsp() {
    let Some(sp) = spandsp_peer::require() else {
        return;
    };
    for rate in RATES {
        let long_data = prbs(20_000, rate);
        let short_data = prbs(20_000, rate + 1);
        let long = noisy(&our_tx(V17, rate, false, &long_data, 0, 400), 35.0, 1);
        let short = noisy(&our_tx(V17, rate, true, &short_data, 0, 400), 35.0, 2);
        let mut rx = ModemRx::new(&sp, PeerModem::V17, rate).unwrap();
        for (sig, data, restart) in [(&long, &long_data, false), (&short, &short_data, true)] {
            if restart {
                rx.restart(rate, true).unwrap();
            }
            let peer = spandsp_receive(&mut rx, sig);
            assert!(
                peer.trained(),
                "spandsp did not train on ours: {rate} short {restart}"
            );
            assert_eq!(
                errors(&peer.bits, data),
                0,
                "ours -> spandsp {rate} short {restart}"
            );
        }
    }
}

#[test]
fn spandsp_to_ours() {
    let Some(sp) = spandsp_peer::require() else {
        return;
    };
    for rate in RATES {
        let long_data = prbs(20_000, rate);
        let short_data = prbs(20_000, rate + 1);
        let long = noisy(
            &spandsp_tx(&sp, V17, rate, false, &long_data, 0, 400),
            35.0,
            3,
        );
        let short = noisy(
            &spandsp_tx(&sp, V17, rate, true, &short_data, 0, 400),
            35.0,
            4,
        );
        let mut rx = our_receiver(V17, rate, false);
        for (sig, data, short) in [(&long, &long_data, false), (&short, &short_data, true)] {
            if short {
                rx.restart(&RxConfig {
                    rate,
                    short_train: true,
                })
                .unwrap();
            }
            let mut sink = Collect::default();
            rx.process(sig, &mut sink);
            assert_eq!(
                sink.trainings(),
                1,
                "{rate} short {short}: {:?}",
                sink.events
            );
            assert!(sink.bits.len() >= data.len(), "{rate} short {short}");
            assert_eq!(
                errors(&sink.bits, data),
                0,
                "spandsp -> ours {rate} short {short}"
            );
        }
    }
}
