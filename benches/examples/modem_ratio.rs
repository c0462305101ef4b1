//! Our modems' speed against spandsp's, measured in pairs: on a machine whose speed drifts
//! with its neighbours' load (a shared virtual machine), two benchmarks run one after the
//! other can each see a different machine, and their ratio moves by 10 % and more from run
//! to run. Here every round runs ours and spandsp's once each on the same work, in
//! alternating order, so both see the same load, and the ratio reported is the median of
//! the rounds' ratios. The work is the `modems` bench's: a demodulation of a whole
//! transmission at 30 dB SNR by a fresh receiver, and one second of modulation (50 blocks
//! of 20 ms) past the training.
//!
//! ```text
//! cargo run --release -p faxsim-benches --example modem_ratio [-- ROUNDS [MODEM RATE]]
//! ```
//!
//! Prints a table row per path and case: both medians (µs per round, then Msamples/s) and
//! the median ratio with its interquartile range. Needs libspandsp.

#[path = "../shared/modem_signal.rs"]
mod modem_signal;

use std::hint::black_box;
use std::time::Instant;

use modem::prbs::PrbsSource;
use modem::{ModemKind, Transmitter};
use sim::modems::Implementation;

use modem_signal::{BLOCK, CASES, demodulate, modulator, noisy_signal, receiver};

/// Blocks per modulation round: one second.
const TX_BLOCKS: usize = 50;

/// One demodulation of `signal` by a fresh receiver (its making not timed): seconds
/// taken, bits delivered.
fn timed_demodulation(
    imp: Implementation,
    kind: ModemKind,
    rate: u32,
    signal: &[i16],
) -> (f64, u64) {
    let mut rx = receiver(imp, kind, rate);
    let start = Instant::now();
    let bits = demodulate(rx.as_mut(), signal);
    let took = start.elapsed().as_secs_f64();
    (took, bits)
}

/// One second of modulation: seconds taken.
fn modulate(tx: &mut (Box<dyn Transmitter>, PrbsSource)) -> f64 {
    let mut block = [0i16; BLOCK];
    let start = Instant::now();
    for _ in 0..TX_BLOCKS {
        tx.0.fill(&mut block, &mut tx.1);
        black_box(&block);
    }
    start.elapsed().as_secs_f64()
}

/// Runs `ours` and `theirs` alternately for `rounds` rounds after ten unmeasured ones and
/// prints the table row for `samples` samples per round.
fn pair(
    path: &str,
    kind: ModemKind,
    rate: u32,
    rounds: usize,
    samples: usize,
    mut ours: impl FnMut() -> f64,
    mut theirs: impl FnMut() -> f64,
) {
    let (mut a, mut b, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds + 10 {
        // Alternate which goes first, so neither always runs on a warmer cache.
        let (x, y) = if round % 2 == 0 {
            let x = ours();
            (x, theirs())
        } else {
            let y = theirs();
            (ours(), y)
        };
        if round >= 10 {
            a.push(x);
            b.push(y);
            ratios.push(y / x);
        }
    }
    let (ma, mb) = (median(&mut a), median(&mut b));
    let mr = median(&mut ratios);
    let (q1, q3) = quartiles(&mut ratios);
    let n = samples as f64;
    println!(
        "| {path} | {} | {rate} | {:.1} | {:.1} | {:.1} | {:.1} | {mr:.2} | {q1:.2}–{q3:.2} |",
        kind.name(),
        ma * 1e6,
        mb * 1e6,
        n / ma / 1e6,
        n / mb / 1e6,
    );
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn quartiles(v: &mut [f64]) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 4], v[v.len() * 3 / 4])
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rounds: usize = match args.first().map(|a| a.parse()) {
        None => 400,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("usage: modem_ratio [ROUNDS [v17|v29|v27ter|v21 RATE]]");
            std::process::exit(2);
        }
    };
    let only = match (args.get(1), args.get(2).and_then(|r| r.parse::<u32>().ok())) {
        (Some(m), Some(rate)) => {
            let Some(&(kind, _)) = CASES
                .iter()
                .find(|(k, r)| k.name() == m.as_str() && *r == rate)
            else {
                eprintln!("modem_ratio: no case {m} {rate}");
                std::process::exit(2);
            };
            Some((kind, rate))
        }
        (None, _) => None,
        _ => {
            eprintln!("usage: modem_ratio [ROUNDS [v17|v29|v27ter|v21 RATE]]");
            std::process::exit(2);
        }
    };
    if spandsp_peer::require().is_none() {
        eprintln!("modem_ratio: libspandsp is not available");
        std::process::exit(1);
    }
    println!(
        "| path | modem | rate | ours (µs) | spandsp (µs) | ours (Msamples/s) | spandsp (Msamples/s) | ours / spandsp (median) | interquartile |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let cases = CASES
        .iter()
        .filter(|&&c| only.is_none_or(|o| o == c))
        .copied()
        .collect::<Vec<_>>();
    for &(kind, rate) in &cases {
        let signal = noisy_signal(kind, rate);
        let run = |imp| {
            let (took, bits) = timed_demodulation(imp, kind, rate, &signal);
            // A receiver that loses the signal is quick for nothing.
            assert!(
                bits >= u64::from(rate) * 2 * 95 / 100,
                "{} {} {rate}: only {bits} bits delivered",
                imp.name(),
                kind.name()
            );
            took
        };
        pair(
            "rx",
            kind,
            rate,
            rounds,
            signal.len(),
            || run(Implementation::Ours),
            || run(Implementation::Spandsp),
        );
    }
    for &(kind, rate) in &cases {
        let mut ours = modulator(Implementation::Ours, kind, rate);
        let mut theirs = modulator(Implementation::Spandsp, kind, rate);
        pair(
            "tx",
            kind,
            rate,
            rounds,
            TX_BLOCKS * BLOCK,
            || modulate(&mut ours),
            || modulate(&mut theirs),
        );
    }
}
