//! V.17 against spandsp both ways, every rate, long and short train, at 35 dB SNR.

use channel_models::AudioStage;
use channel_models::line::Awgn;
use modem::v17::{V17Rx, V17Tx};
use modem::{Receiver, RxConfig, RxEvent, RxSink, Transmitter, TxConfig};
use spandsp_peer::{ModemRx, ModemTx, PeerModem, PeerRxEvent};

const RATES: [u32; 4] = [7200, 9600, 12000, 14400];
const LEVEL: f32 = -10.0;

fn prbs(n: usize, seed: u32) -> Vec<bool> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x & 1 != 0
        })
        .collect()
}

/// Index of `want` inside `got` (the receiver may emit a few bits before the data).
fn find(got: &[bool], want: &[bool]) -> Option<usize> {
    let key = &want[..64];
    (0..got.len().saturating_sub(want.len()) + 1).find(|&i| &got[i..i + 64] == key)
}

fn errors(got: &[bool], want: &[bool]) -> usize {
    match find(got, want) {
        Some(i) => {
            want.iter().zip(&got[i..]).filter(|(a, b)| a != b).count()
                + want.len().saturating_sub(got.len() - i)
        }
        None => want.len(),
    }
}

fn noisy(samples: &[i16], snr: f64, seed: u64) -> Vec<i16> {
    let mut awgn = Awgn::with_snr(snr, LEVEL as f64, seed);
    let mut out = Vec::new();
    awgn.process(samples, &mut out);
    out
}

fn our_tx(rate: u32, short: bool, data: &[bool]) -> Vec<i16> {
    let mut tx = V17Tx::new(&TxConfig {
        rate,
        short_train: short,
        level_dbm0: LEVEL,
    })
    .unwrap();
    let mut bits = data.iter().copied();
    let mut out = vec![];
    let mut block = [0i16; 160];
    while !tx.is_finished() {
        let n = tx.fill(&mut block, &mut || bits.next());
        out.extend_from_slice(&block[..n]);
    }
    out.extend_from_slice(&[0; 400]);
    out
}

fn peer_tx(
    sp: &std::sync::Arc<spandsp_peer::Spandsp>,
    rate: u32,
    short: bool,
    data: &[bool],
) -> Vec<i16> {
    let mut tx = ModemTx::new(sp, PeerModem::V17, rate, short, LEVEL).unwrap();
    let mut bits = data.iter().copied();
    let mut out = vec![];
    let mut block = [0i16; 160];
    while !tx.is_finished() {
        let n = tx.fill(&mut block, &mut || bits.next());
        out.extend_from_slice(&block[..n]);
    }
    out.extend_from_slice(&[0; 400]);
    out
}

#[derive(Default)]
struct Sink {
    bits: Vec<bool>,
    trained: usize,
    events: Vec<RxEvent>,
}
impl RxSink for Sink {
    fn bit(&mut self, b: bool) {
        self.bits.push(b)
    }
    fn event(&mut self, e: RxEvent) {
        if matches!(e, RxEvent::TrainingSucceeded { .. }) {
            self.trained += 1;
        }
        self.events.push(e)
    }
}

#[test]
fn ours_to_spandsp() {
    let Some(sp) = spandsp_peer::require() else {
        return;
    };
    for rate in RATES {
        let long_data = prbs(20_000, rate);
        let short_data = prbs(20_000, rate + 1);
        let long = noisy(&our_tx(rate, false, &long_data), 35.0, 1);
        let short = noisy(&our_tx(rate, true, &short_data), 35.0, 2);
        let mut rx = ModemRx::new(&sp, PeerModem::V17, rate).unwrap();
        for (sig, data, restart) in [(&long, &long_data, false), (&short, &short_data, true)] {
            if restart {
                rx.restart(rate, true).unwrap();
            }
            let mut got = vec![];
            let mut trained = false;
            for chunk in sig.chunks(160) {
                rx.process(chunk, &mut |ev| match ev {
                    PeerRxEvent::Bit(b) => got.push(b),
                    PeerRxEvent::TrainingSucceeded => trained = true,
                    _ => {}
                });
            }
            assert!(
                trained,
                "spandsp did not train on ours: {rate} short {restart}"
            );
            assert_eq!(
                errors(&got, data),
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
        let long = noisy(&peer_tx(&sp, rate, false, &long_data), 35.0, 3);
        let short = noisy(&peer_tx(&sp, rate, true, &short_data), 35.0, 4);
        let mut rx = V17Rx::new(&RxConfig {
            rate,
            short_train: false,
        })
        .unwrap();
        for (sig, data, short) in [(&long, &long_data, false), (&short, &short_data, true)] {
            if short {
                rx.restart(&RxConfig {
                    rate,
                    short_train: true,
                })
                .unwrap();
            }
            let mut sink = Sink::default();
            rx.process(sig, &mut sink);
            assert_eq!(sink.trained, 1, "{rate} short {short}: {:?}", sink.events);
            assert!(sink.bits.len() >= data.len(), "{rate} short {short}");
            assert_eq!(
                errors(&sink.bits, data),
                0,
                "spandsp -> ours {rate} short {short}"
            );
        }
    }
}
