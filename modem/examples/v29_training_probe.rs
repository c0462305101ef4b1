//! Counts V.29 training failures of our receiver on our transmitter's signal over many seeds:
//! random data, a random lead-in (so symbol timing and carrier phase fall anywhere against
//! the sample grid), a line filter and white noise. Both transmit pulse spans are measured.
//!
//! `cargo run -p modem --release --example v29_training_probe -- [seeds] [snr_db]` prints a
//! table of training failures (and, in brackets, trained runs with bit errors) per rate,
//! line and pulse span; `… -- one RATE SPAN LINE SEED [SNR]` runs a single trial (LINE is a
//! line preset's name or `flat`).

use channel_models::AudioStage;
use channel_models::filter::{LineFilter, LinePreset};
use channel_models::line::Awgn;
use channel_models::rng::Rng;
use modem::v29::{V29Rx, V29Tx};
use modem::{Receiver, RxConfig, RxEvent, RxSink, Transmitter, TxConfig};

const LEVEL: f32 = -10.0;
const BITS: usize = 4800;

#[derive(Default)]
struct Collect {
    bits: Vec<bool>,
    trained: usize,
    failed: usize,
}

impl RxSink for Collect {
    fn bit(&mut self, bit: bool) {
        self.bits.push(bit);
    }
    fn event(&mut self, event: RxEvent) {
        match event {
            RxEvent::TrainingSucceeded { .. } => self.trained += 1,
            RxEvent::TrainingFailed => self.failed += 1,
            _ => {}
        }
    }
}

/// Bit errors of `got` against `sent`, at the best of the first few alignments.
fn errors(sent: &[bool], got: &[bool]) -> usize {
    (0..8)
        .map(|off| {
            let n = sent.len().min(got.len().saturating_sub(off));
            if n < sent.len() / 2 {
                return usize::MAX;
            }
            (0..n).filter(|&i| sent[i] != got[i + off]).count() + (sent.len() - n)
        })
        .min()
        .unwrap_or(usize::MAX)
}

fn trial(rate: u32, span: usize, line: Option<LinePreset>, snr: f64, seed: u64) -> (bool, usize) {
    let mut rng = Rng::new(seed);
    let bits: Vec<bool> = (0..BITS).map(|_| rng.chance(0.5)).collect();
    let lead = (rng.next_u64() % 200) as usize;
    let cfg = TxConfig {
        rate,
        short_train: false,
        level_dbm0: LEVEL,
    };
    let mut tx = V29Tx::with_pulse_span(&cfg, span).unwrap();
    let mut sig = vec![0i16; lead];
    let mut it = bits.iter().copied();
    let mut src = move || it.next();
    let mut block = [0i16; 160];
    while !tx.is_finished() {
        let n = tx.fill(&mut block, &mut src);
        sig.extend_from_slice(&block[..n]);
    }
    sig.extend(std::iter::repeat_n(0, 800));
    if let Some(p) = line {
        let mut f = Vec::with_capacity(sig.len());
        LineFilter::preset(p).process(&sig, &mut f);
        sig = f;
    }
    let mut noisy = Vec::with_capacity(sig.len());
    Awgn::with_snr(snr, LEVEL as f64, seed ^ 0xABCD).process(&sig, &mut noisy);
    let mut rx = V29Rx::new(&RxConfig {
        rate,
        short_train: false,
    })
    .unwrap();
    let mut c = Collect::default();
    for chunk in noisy.chunks(160) {
        rx.process(chunk, &mut c);
    }
    let ok = c.trained == 1;
    (ok, if ok { errors(&bits, &c.bits) } else { BITS })
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("one") {
        // one RATE SPAN LINE SEED SNR
        let rate: u32 = args[2].parse().unwrap();
        let span: usize = args[3].parse().unwrap();
        let line = LinePreset::ALL.into_iter().find(|p| p.name() == args[4]);
        let seed: u64 = args[5].parse().unwrap();
        let snr: f64 = args.get(6).and_then(|s| s.parse().ok()).unwrap_or(30.0);
        println!("{:?}", trial(rate, span, line, snr, seed));
        return;
    }
    let seeds: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(200);
    let snr: f64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(30.0);
    let verbose = std::env::var_os("PROBE_VERBOSE").is_some();
    let lines = [
        ("flat", None),
        ("telephone-band", Some(LinePreset::TelephoneBand)),
        ("m1020-limit", Some(LinePreset::M1020Limit)),
        ("long-haul", Some(LinePreset::LongHaul)),
    ];
    println!("{seeds} seeds, SNR {snr} dB: training failures (trials with bit errors)");
    for rate in [9600, 7200, 4800] {
        for (name, line) in lines {
            let mut row = format!("{rate:>5} {name:<15}");
            for span in [12, 24] {
                let mut fails = 0;
                let mut errored = 0;
                for seed in 0..seeds {
                    let (ok, e) = trial(rate, span, line, snr, seed);
                    if !ok {
                        fails += 1;
                        if verbose {
                            eprintln!("fail: rate {rate} {name} span {span} seed {seed}");
                        }
                    } else if e > 0 {
                        errored += 1;
                    }
                }
                row += &format!("  span {span}: {fails:>3} ({errored:>3})");
            }
            println!("{row}");
        }
    }
}
