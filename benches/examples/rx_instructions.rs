//! Instruction counts of the demodulators, ours and spandsp's, on the inputs of the `modems`
//! bench (a whole transmission at 30 dB SNR, a fresh receiver each time). Wall-clock
//! benchmarks on a shared machine are noisy; instruction counts are steady:
//!
//! ```text
//! cargo build --release -p faxsim-benches --example rx_instructions
//! valgrind --tool=callgrind --toggle-collect='rx_instructions::measured' \
//!     target/release/examples/rx_instructions ours v17 14400
//! ```
//!
//! The count callgrind reports ("Collected") covers `REPEATS` demodulations; divide by
//! `REPEATS` and by the sample count printed for instructions per sample.

use std::hint::black_box;

use channel_models::AudioStage;
use channel_models::line::Awgn;
use modem::prbs::PrbsSource;
use modem::{ModemKind, RxConfig, RxEvent, RxSink, TxConfig};
use sim::modems::{Implementation, make_rx, make_tx};

const BLOCK: usize = 160;
const LEVEL_DBM0: f32 = -10.0;
const NOISE_SEED: u64 = 0x5eed;
const REPEATS: usize = 5;

struct CountBits(u64);

impl RxSink for CountBits {
    fn bit(&mut self, _bit: bool) {
        self.0 += 1;
    }
    fn event(&mut self, _event: RxEvent) {}
}

/// The bench's signal: our modulator, two seconds of PRBS, AWGN at 30 dB.
fn noisy_signal(kind: ModemKind, rate: u32) -> Vec<i16> {
    let cfg = TxConfig {
        rate,
        level_dbm0: LEVEL_DBM0,
        ..Default::default()
    };
    let mut tx = make_tx(Implementation::Ours, kind, &cfg).expect("modulator");
    let mut src = PrbsSource::bounded(u64::from(rate) * 2);
    let mut clean = Vec::new();
    let mut block = [0i16; BLOCK];
    while !tx.is_finished() {
        let n = tx.fill(&mut block, &mut src);
        clean.extend_from_slice(&block[..n]);
    }
    let start = clean.iter().position(|&x| x != 0).unwrap_or(0);
    let mut noisy = Vec::with_capacity(clean.len());
    Awgn::with_snr(30.0, f64::from(LEVEL_DBM0), NOISE_SEED).process(&clean[start..], &mut noisy);
    noisy
}

/// The measured part: callgrind collects only inside it.
#[inline(never)]
fn measured(imp: Implementation, kind: ModemKind, rate: u32, signal: &[i16]) -> u64 {
    demodulate(imp, kind, rate, signal)
}

#[inline(never)]
fn warm_up(imp: Implementation, kind: ModemKind, rate: u32, signal: &[i16]) -> u64 {
    demodulate(imp, kind, rate, signal)
}

#[inline(never)]
fn demodulate(imp: Implementation, kind: ModemKind, rate: u32, signal: &[i16]) -> u64 {
    let mut bits = 0;
    for _ in 0..REPEATS {
        let mut rx = make_rx(
            imp,
            kind,
            &RxConfig {
                rate,
                ..Default::default()
            },
        )
        .expect("demodulator");
        let mut sink = CountBits(0);
        for block in signal.chunks(BLOCK) {
            rx.process(black_box(block), &mut sink);
        }
        bits += sink.0;
    }
    bits
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        eprintln!("usage: rx_instructions ours|spandsp v17|v29|v27ter RATE");
        std::process::exit(2);
    }
    let imp = match args[1].as_str() {
        "ours" => Implementation::Ours,
        "spandsp" => Implementation::Spandsp,
        other => {
            eprintln!("rx_instructions: unknown implementation {other:?}");
            std::process::exit(2);
        }
    };
    let kind = match args[2].as_str() {
        "v17" => ModemKind::V17,
        "v29" => ModemKind::V29,
        "v27ter" => ModemKind::V27ter,
        other => {
            eprintln!("rx_instructions: unknown modem {other:?}");
            std::process::exit(2);
        }
    };
    let Ok(rate) = args[3].parse::<u32>() else {
        eprintln!("rx_instructions: bad rate {:?}", args[3]);
        std::process::exit(2);
    };
    let signal = noisy_signal(kind, rate);
    // Warm-up outside the measured part (tables built once per process, libraries loaded).
    warm_up(imp, kind, rate, &signal[..signal.len().min(8000)]);
    let bits = measured(imp, kind, rate, &signal);
    println!(
        "{} {} {rate}: {} samples x {REPEATS}, {bits} bits",
        imp.name(),
        kind.name(),
        signal.len()
    );
}
