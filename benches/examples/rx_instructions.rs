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

#[path = "../shared/modem_signal.rs"]
mod modem_signal;

use modem::ModemKind;
use sim::modems::Implementation;

use modem_signal::{demodulate, noisy_signal, receiver};

/// Demodulations per run; `RX_REPEATS` overrides it (more for a sampling profiler).
const REPEATS: usize = 5;

fn repeats() -> usize {
    std::env::var("RX_REPEATS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(REPEATS)
}

/// The measured part: callgrind collects only inside it.
#[inline(never)]
fn measured(imp: Implementation, kind: ModemKind, rate: u32, signal: &[i16]) -> u64 {
    demodulate_repeats(imp, kind, rate, signal)
}

/// One demodulation, whatever `RX_REPEATS` says: a process timed as a whole then counts
/// only a second of signal besides the measured part.
#[inline(never)]
fn warm_up(imp: Implementation, kind: ModemKind, rate: u32, signal: &[i16]) -> u64 {
    demodulate_times(imp, kind, rate, signal, 1)
}

#[inline(never)]
fn demodulate_repeats(imp: Implementation, kind: ModemKind, rate: u32, signal: &[i16]) -> u64 {
    demodulate_times(imp, kind, rate, signal, repeats())
}

fn demodulate_times(
    imp: Implementation,
    kind: ModemKind,
    rate: u32,
    signal: &[i16],
    times: usize,
) -> u64 {
    let mut bits = 0;
    for _ in 0..times {
        bits += demodulate(receiver(imp, kind, rate).as_mut(), signal);
    }
    bits
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        eprintln!("usage: rx_instructions ours|spandsp v17|v29|v27ter|v21 RATE");
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
        "v21" => ModemKind::V21Ch2,
        other => {
            eprintln!("rx_instructions: unknown modem {other:?}");
            std::process::exit(2);
        }
    };
    let Ok(rate) = args[3].parse::<u32>() else {
        eprintln!("rx_instructions: bad rate {:?}", args[3]);
        std::process::exit(2);
    };
    let mut signal = noisy_signal(kind, rate);
    // `RX_SAMPLES` keeps the first samples only: the training alone, say.
    if let Some(n) = std::env::var("RX_SAMPLES")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        signal.truncate(n);
    }
    // Warm-up outside the measured part (tables built once per process, libraries loaded).
    warm_up(imp, kind, rate, &signal[..signal.len().min(8000)]);
    let bits = measured(imp, kind, rate, &signal);
    println!(
        "{} {} {rate}: {} samples x {}, {bits} bits",
        imp.name(),
        kind.name(),
        signal.len(),
        repeats()
    );
}
