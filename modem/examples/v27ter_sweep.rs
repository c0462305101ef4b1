//! Sensitivity of the V.27ter receivers: for each SNR (full band, relative to the −10 dBm0
//! transmit level) one transmission of `bits` pseudo-random bits from our transmitter
//! (or spandsp's with `--spandsp-tx`) gets one noise realisation (fixed seed), and both our
//! receiver and spandsp's decode that same signal. Prints bit errors per receiver.
//!
//! Usage: `cargo run --release -p modem --example v27ter_sweep -- <rate> <bits> <snr>... [--spandsp-tx]`

use channel_models::AudioStage;
use channel_models::line::Awgn;
use channel_models::rng::Rng;
use modem::v27ter::{V27terRx, V27terTx};
use modem::{Receiver, RxConfig, RxEvent, RxSink, Transmitter, TxConfig};
use spandsp_peer::{ModemRx, ModemTx, PeerModem, PeerRxEvent};
use std::time::Instant;

#[derive(Default)]
struct Sink {
    bits: Vec<bool>,
    trained: bool,
}

impl RxSink for Sink {
    fn bit(&mut self, bit: bool) {
        self.bits.push(bit);
    }
    fn event(&mut self, event: RxEvent) {
        if matches!(event, RxEvent::TrainingSucceeded { .. }) {
            self.trained = true;
        }
    }
}

fn errors(sent: &[bool], got: &[bool]) -> usize {
    let probe = 64;
    let Some(start) =
        (0..200.min(got.len().saturating_sub(probe))).find(|&i| got[i..i + probe] == sent[..probe])
    else {
        return sent.len();
    };
    let got = &got[start..];
    let n = sent.len().min(got.len());
    sent[..n]
        .iter()
        .zip(&got[..n])
        .filter(|(a, b)| a != b)
        .count()
        + sent.len()
        - n
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let spandsp_tx = args.iter().any(|a| a == "--spandsp-tx");
    let nums: Vec<f64> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let rate = nums.first().copied().unwrap_or(4800.0) as u32;
    let nbits = nums.get(1).copied().unwrap_or(1e6) as usize;
    let snrs = &nums[2.min(nums.len())..];
    let sp = spandsp_peer::Spandsp::load().expect("libspandsp");

    let mut rng = Rng::new(2024);
    let sent: Vec<bool> = (0..nbits).map(|_| rng.chance(0.5)).collect();
    // Silence before the signal (noise only, once noise is added).
    let lead = std::env::var("LEAD")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(400);
    let mut line = vec![0i16; lead];
    let t = Instant::now();
    let mut block = [0i16; 160];
    let mut it = sent.iter().copied();
    if spandsp_tx {
        let mut tx = ModemTx::new(&sp, PeerModem::V27ter, rate, false, -10.0).unwrap();
        while !tx.is_finished() {
            let n = tx.fill(&mut block, &mut || it.next());
            line.extend_from_slice(&block[..n]);
        }
    } else {
        let mut tx = V27terTx::new(&TxConfig {
            rate,
            ..Default::default()
        })
        .unwrap();
        let mut src = || it.next();
        while !tx.is_finished() {
            let n = tx.fill(&mut block, &mut src);
            line.extend_from_slice(&block[..n]);
        }
    }
    let tx_time = t.elapsed().as_secs_f64();
    line.extend(std::iter::repeat_n(0, 800));
    eprintln!(
        "{} samples; {} tx {:.1} M samples/s",
        line.len(),
        if spandsp_tx { "spandsp" } else { "our" },
        line.len() as f64 / tx_time / 1e6
    );
    for &snr in snrs {
        let mut noisy = Vec::new();
        Awgn::with_snr(snr, -10.0, 99).process(&line, &mut noisy);
        let mut rx = V27terRx::new(&RxConfig {
            rate,
            short_train: false,
        })
        .unwrap();
        let mut ours = Sink::default();
        let t = Instant::now();
        for chunk in noisy.chunks(160) {
            rx.process(chunk, &mut ours);
        }
        let rx_time = t.elapsed().as_secs_f64();
        let mut prx = ModemRx::new(&sp, PeerModem::V27ter, rate).unwrap();
        let mut theirs = Vec::new();
        let mut their_trained = false;
        for chunk in noisy.chunks(160) {
            prx.process(chunk, &mut |ev| match ev {
                PeerRxEvent::Bit(b) if their_trained => theirs.push(b),
                PeerRxEvent::TrainingSucceeded => their_trained = true,
                _ => {}
            });
        }
        println!(
            "{rate} bit/s SNR {snr:>4} dB: ours {} errors (trained {}), spandsp {} errors (trained {}); our rx {:.1} M samples/s",
            errors(&sent, &ours.bits),
            ours.trained,
            errors(&sent, &theirs),
            their_trained,
            noisy.len() as f64 / rx_time / 1e6
        );
    }
}
