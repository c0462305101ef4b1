//! V.17 sensitivity: for each rate, the bit errors in 10^6 bits at each SNR (1 dB steps,
//! full-band AWGN), our receiver next to spandsp's on the same noisy signal; then rough
//! transmitter and receiver speeds.
//!
//! `cargo run --release -p modem --example v17_sensitivity -- [RATE ...] [--snr HI LO] [--bits N] [--peer-tx] [--ppm P]`

use channel_models::AudioStage;
use channel_models::line::{Awgn, ClockDrift};
use modem::v17::{V17Rx, V17Tx};
use modem::{Receiver, RxConfig, RxEvent, RxSink, Transmitter, TxConfig};
use spandsp_peer::{ModemRx, ModemTx, PeerModem, PeerRxEvent};
use std::time::Instant;

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

#[derive(Default)]
struct Sink {
    bits: Vec<bool>,
    trained: bool,
}
impl RxSink for Sink {
    fn bit(&mut self, b: bool) {
        self.bits.push(b)
    }
    fn event(&mut self, e: RxEvent) {
        if matches!(e, RxEvent::TrainingSucceeded { .. }) {
            self.trained = true;
        }
    }
}

/// Errors of `got` against `want`, aligning on the first 48 bits found (spandsp emits its
/// segment 4 ones first); `None` when the data cannot be found at all.
fn errors(got: &[bool], want: &[bool]) -> Option<usize> {
    let key = &want[..48];
    let limit = got.len().saturating_sub(48).min(2000);
    let i = (0..=limit).find(|&i| got.len() >= i + 48 && &got[i..i + 48] == key)?;
    Some(
        want.iter().zip(&got[i..]).filter(|(a, b)| a != b).count()
            + want.len().saturating_sub(got.len() - i),
    )
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut rates = vec![];
    let mut hi = 30;
    let mut lo = 18;
    let mut nbits = 1_000_000;
    let mut peer_tx = false;
    let mut ppm = 0.0;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--snr" => {
                hi = args[i + 1].parse().unwrap();
                lo = args[i + 2].parse().unwrap();
                i += 2;
            }
            "--bits" => {
                nbits = args[i + 1].parse().unwrap();
                i += 1;
            }
            "--peer-tx" => peer_tx = true,
            "--ppm" => {
                ppm = args[i + 1].parse().unwrap();
                i += 1;
            }
            r => rates.push(r.parse::<u32>().expect("rate")),
        }
        i += 1;
    }
    if rates.is_empty() {
        rates = vec![7200, 9600, 12000, 14400];
    }
    let sp = spandsp_peer::require().expect("spandsp");
    for rate in rates {
        let data = prbs(nbits, rate);
        let mut clean = vec![0i16; 400];
        let t0 = Instant::now();
        let mut block = [0i16; 160];
        let mut bits = data.iter().copied();
        if peer_tx {
            let mut tx = ModemTx::new(&sp, PeerModem::V17, rate, false, LEVEL).unwrap();
            while !tx.is_finished() {
                let n = tx.fill(&mut block, &mut || bits.next());
                clean.extend_from_slice(&block[..n]);
            }
        } else {
            let mut tx = V17Tx::new(&TxConfig {
                rate,
                short_train: false,
                level_dbm0: LEVEL,
            })
            .unwrap();
            while !tx.is_finished() {
                let n = tx.fill(&mut block, &mut || bits.next());
                clean.extend_from_slice(&block[..n]);
            }
        }
        let tx_time = t0.elapsed().as_secs_f64();
        clean.extend_from_slice(&[0; 800]);
        if ppm != 0.0 {
            let mut drifted = Vec::new();
            ClockDrift::new(ppm).process(&clean, &mut drifted);
            clean = drifted;
        }
        println!(
            "V.17 {rate} bit/s, {nbits} bits, {} transmitter, clock {ppm} ppm; tx {:.1} Msamples/s",
            if peer_tx { "spandsp" } else { "our" },
            clean.len() as f64 / tx_time / 1e6
        );
        println!("  SNR dB | ours: errors | spandsp: errors");
        let mut rx_time = 0.0;
        let mut rx_samples = 0usize;
        let mut sp_time = 0.0;
        for snr in (lo..=hi).rev() {
            let mut noisy = Vec::new();
            Awgn::with_snr(snr as f64, LEVEL as f64, 1000 + snr as u64).process(&clean, &mut noisy);
            let mut rx = V17Rx::new(&RxConfig {
                rate,
                short_train: false,
            })
            .unwrap();
            let mut sink = Sink::default();
            let t = Instant::now();
            rx.process(&noisy, &mut sink);
            rx_time += t.elapsed().as_secs_f64();
            rx_samples += noisy.len();
            let ours = if sink.trained {
                // Our receiver starts its output exactly at the first data bit.
                let e = data.iter().zip(&sink.bits).filter(|(a, b)| a != b).count()
                    + data.len().saturating_sub(sink.bits.len());
                e.to_string()
            } else {
                "no training".to_string()
            };
            let mut prx = ModemRx::new(&sp, PeerModem::V17, rate).unwrap();
            let mut got = vec![];
            let mut trained = false;
            let t = Instant::now();
            for chunk in noisy.chunks(160) {
                prx.process(chunk, &mut |ev| match ev {
                    PeerRxEvent::Bit(b) => got.push(b),
                    PeerRxEvent::TrainingSucceeded => trained = true,
                    _ => {}
                });
            }
            sp_time += t.elapsed().as_secs_f64();
            let theirs = if trained {
                errors(&got, &data).map_or("no data".to_string(), |e| e.to_string())
            } else {
                "no training".to_string()
            };
            println!("  {snr:6} | {ours:>12} | {theirs:>15}");
        }
        println!(
            "  rx: ours {:.2} Msamples/s, spandsp {:.2} Msamples/s",
            rx_samples as f64 / rx_time / 1e6,
            rx_samples as f64 / sp_time / 1e6
        );
    }
}
