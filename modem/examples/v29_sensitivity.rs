//! V.29 sensitivity: bit errors of our receiver and spandsp's on the same noisy signal, per
//! SNR (full-band, 1 dB steps), plus rough throughput figures.
//!
//! `cargo run --release -p modem --example v29_sensitivity -- [rate] [from_db] [to_db] [bits] [tx]`
//! where `tx` is `ours` (default) or `spandsp` (whose transmitter makes the signal).

use channel_models::AudioStage;
use channel_models::line::Awgn;
use channel_models::rng::Rng;
use modem::v29::{V29Rx, V29Tx};
use modem::{Receiver, RxConfig, RxEvent, RxSink, Transmitter, TxConfig};
use std::time::Instant;

#[derive(Default)]
struct Collect {
    bits: Vec<bool>,
    trained: bool,
}

impl RxSink for Collect {
    fn bit(&mut self, bit: bool) {
        self.bits.push(bit);
    }
    fn event(&mut self, event: RxEvent) {
        if matches!(event, RxEvent::TrainingSucceeded { .. }) {
            self.trained = true;
        }
    }
}

/// Errors after aligning `got` on the start of `sent`; missing bits count as errors. With
/// `V29_SHOW_ERRORS` set, prints where the first errors are.
fn bit_errors(sent: &[bool], got: &[bool]) -> usize {
    let probe = sent.len().min(64);
    let off = (0..got.len().min(400))
        .min_by_key(|&o| {
            (0..probe)
                .filter(|&i| got.get(o + i) != Some(&sent[i]))
                .count()
        })
        .unwrap_or(0);
    let wrong: Vec<usize> = (0..sent.len())
        .filter(|&i| got.get(off + i) != Some(&sent[i]))
        .collect();
    if std::env::var_os("V29_SHOW_ERRORS").is_some() && !wrong.is_empty() {
        println!(
            "  {} bits received, offset {off}, first errors at {:?}",
            got.len(),
            &wrong[..wrong.len().min(8)]
        );
    }
    wrong.len()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize, d: &str| args.get(i).cloned().unwrap_or_else(|| d.to_string());
    let rate: u32 = arg(1, "9600").parse().expect("rate");
    let from: i32 = arg(2, "24").parse().expect("from_db");
    let to: i32 = arg(3, "14").parse().expect("to_db");
    let nbits: usize = arg(4, "1000000").parse().expect("bits");
    let use_spandsp_tx = arg(5, "ours") == "spandsp";
    let sp = spandsp_peer::Spandsp::load().ok();

    let mut rng = Rng::new(2024);
    let bits: Vec<bool> = (0..nbits).map(|_| rng.chance(0.5)).collect();
    let mut clean = vec![0i16; 400];
    let mut block = [0i16; 160];
    let mut it = bits.iter().copied();
    let t0 = Instant::now();
    if use_spandsp_tx {
        let sp = sp.as_ref().expect("spandsp needed for its transmitter");
        let mut tx =
            spandsp_peer::ModemTx::new(sp, spandsp_peer::PeerModem::V29, rate, false, -10.0)
                .unwrap();
        while !tx.is_finished() {
            let n = tx.fill(&mut block, &mut || it.next());
            clean.extend_from_slice(&block[..n]);
        }
    } else {
        let mut tx = V29Tx::new(&TxConfig {
            rate,
            ..Default::default()
        })
        .unwrap();
        let mut src = || it.next();
        while !tx.is_finished() {
            let n = tx.fill(&mut block, &mut src);
            clean.extend_from_slice(&block[..n]);
        }
    }
    let tx_time = t0.elapsed().as_secs_f64();
    clean.extend(std::iter::repeat_n(0, 800));
    println!(
        "V.29 {rate} bit/s, {nbits} bits, {} transmitter: {} samples in {:.3} s ({:.1} M samples/s)",
        if use_spandsp_tx { "spandsp" } else { "our" },
        clean.len(),
        tx_time,
        clean.len() as f64 / tx_time / 1e6
    );
    println!("SNR dB | our errors | spandsp errors");
    let (mut ours_best, mut theirs_best) = (None, None);
    let (mut ours_ok, mut theirs_ok) = (true, true);
    for snr in (to..=from).rev() {
        let mut noisy = Vec::with_capacity(clean.len());
        Awgn::with_snr(snr as f64, -10.0, 7).process(&clean, &mut noisy);
        let mut rx = V29Rx::new(&RxConfig {
            rate,
            short_train: false,
        })
        .unwrap();
        let mut c = Collect::default();
        let t = Instant::now();
        for chunk in noisy.chunks(160) {
            rx.process(chunk, &mut c);
        }
        let rx_time = t.elapsed().as_secs_f64();
        let ours = if c.trained {
            bit_errors(&bits, &c.bits)
        } else {
            nbits
        };
        let mut their_time = 0.0;
        let theirs = sp.as_ref().map(|sp| {
            let t = Instant::now();
            let mut rx =
                spandsp_peer::ModemRx::new(sp, spandsp_peer::PeerModem::V29, rate).unwrap();
            let mut got = vec![];
            let mut trained = false;
            for chunk in noisy.chunks(160) {
                rx.process(chunk, &mut |ev| match ev {
                    spandsp_peer::PeerRxEvent::Bit(b) => got.push(b),
                    spandsp_peer::PeerRxEvent::TrainingSucceeded => trained = true,
                    _ => {}
                });
            }
            their_time = t.elapsed().as_secs_f64();
            if trained {
                bit_errors(&bits, &got)
            } else {
                nbits
            }
        });
        println!(
            "{snr:6} | {ours:10} | {:>14}   (receivers: ours {:.1}, spandsp {:.1} M samples/s)",
            theirs.map_or("-".to_string(), |t| t.to_string()),
            noisy.len() as f64 / rx_time / 1e6,
            noisy.len() as f64 / f64::max(their_time, 1e-9) / 1e6
        );
        ours_ok &= ours == 0;
        if ours_ok {
            ours_best = Some(snr);
        }
        if let Some(t) = theirs {
            theirs_ok &= t == 0;
            if theirs_ok {
                theirs_best = Some(snr);
            }
        }
    }
    println!(
        "lowest error-free SNR (every step above it error-free too): ours {ours_best:?} dB, spandsp {theirs_best:?} dB"
    );

    // Throughput on one 30 dB signal: best of five alternating rounds, so that both
    // receivers see the same machine load.
    let mut noisy = Vec::with_capacity(clean.len());
    Awgn::with_snr(30.0, -10.0, 7).process(&clean, &mut noisy);
    let (mut ours_best_rate, mut theirs_best_rate, mut tx_best_rate) = (0f64, 0f64, 0f64);
    for _ in 0..5 {
        let mut rx = V29Rx::new(&RxConfig {
            rate,
            short_train: false,
        })
        .unwrap();
        let mut c = Collect::default();
        let t = Instant::now();
        for chunk in noisy.chunks(160) {
            rx.process(chunk, &mut c);
        }
        ours_best_rate = ours_best_rate.max(noisy.len() as f64 / t.elapsed().as_secs_f64());
        if let Some(sp) = &sp {
            let mut rx =
                spandsp_peer::ModemRx::new(sp, spandsp_peer::PeerModem::V29, rate).unwrap();
            let mut got = Vec::with_capacity(nbits + 1000);
            let t = Instant::now();
            for chunk in noisy.chunks(160) {
                rx.process(chunk, &mut |ev| {
                    if let spandsp_peer::PeerRxEvent::Bit(b) = ev {
                        got.push(b)
                    }
                });
            }
            theirs_best_rate = theirs_best_rate.max(noisy.len() as f64 / t.elapsed().as_secs_f64());
        }
        let mut tx = V29Tx::new(&TxConfig {
            rate,
            ..Default::default()
        })
        .unwrap();
        let mut it = bits.iter().copied();
        let mut src = || it.next();
        let mut n = 0usize;
        let t = Instant::now();
        while !tx.is_finished() {
            n += tx.fill(&mut block, &mut src);
        }
        tx_best_rate = tx_best_rate.max(n as f64 / t.elapsed().as_secs_f64());
    }
    println!(
        "throughput, best of 5 (M samples/s): our transmitter {:.1}, our receiver {:.1}, spandsp receiver {:.1} (ratio {:.2})",
        tx_best_rate / 1e6,
        ours_best_rate / 1e6,
        theirs_best_rate / 1e6,
        ours_best_rate / theirs_best_rate.max(1.0)
    );
}
