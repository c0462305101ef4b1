//! Throughput of every modulator and demodulator, ours next to spandsp's on the same input,
//! in samples per second (8000 samples = one second of line signal).
//!
//! Modulators are measured in steady state (past training) filling 20 ms blocks from the
//! 2^11−1 PRBS. Demodulators are measured over a whole transmission (training, 2 s of PRBS
//! data, closing) with white noise 30 dB below the signal, from a fresh receiver each time;
//! both implementations demodulate the very same samples. `scripts/bench-table.py` turns the
//! results into the README table with the ratio.

#[path = "../shared/modem_signal.rs"]
mod modem_signal;

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use modem::ModemKind;
use sim::modems::Implementation;

use modem_signal::{BLOCK, CASES, demodulate, modulator, noisy_signal, receiver};

/// Blocks per measured modulator iteration: one second.
const TX_BLOCKS: usize = 50;

fn implementations() -> Vec<Implementation> {
    let mut v = vec![Implementation::Ours];
    if spandsp_peer::require().is_some() {
        v.push(Implementation::Spandsp);
    }
    v
}

fn id(imp: Implementation, kind: ModemKind, rate: u32) -> String {
    format!("{}/{}/{rate}", imp.name(), kind.name())
}

fn modulators(c: &mut Criterion) {
    let mut group = c.benchmark_group("tx");
    group.throughput(Throughput::Elements((TX_BLOCKS * BLOCK) as u64));
    // Ours and spandsp's back to back for each case, so that a change in the machine's load
    // during the run falls on both sides of a ratio alike.
    for &(kind, rate) in CASES {
        for imp in implementations() {
            let (mut tx, mut src) = modulator(imp, kind, rate);
            let mut block = [0i16; BLOCK];
            group.bench_function(id(imp, kind, rate), |b| {
                b.iter(|| {
                    for _ in 0..TX_BLOCKS {
                        tx.fill(&mut block, &mut src);
                        black_box(&block);
                    }
                })
            });
        }
    }
    group.finish();
}

fn demodulators(c: &mut Criterion) {
    let mut group = c.benchmark_group("rx");
    for &(kind, rate) in CASES {
        let signal = noisy_signal(kind, rate);
        group.throughput(Throughput::Elements(signal.len() as u64));
        for imp in implementations() {
            // Time a receiver that works: it must deliver the data.
            let delivered = demodulate(receiver(imp, kind, rate).as_mut(), &signal);
            // Carrier detection costs the first bit or two; 95 % shows the receiver works.
            assert!(
                delivered >= u64::from(rate) * 2 * 95 / 100,
                "{}: only {delivered} bits delivered",
                id(imp, kind, rate)
            );
            group.bench_function(id(imp, kind, rate), |b| {
                b.iter_batched(
                    || receiver(imp, kind, rate),
                    |mut rx| black_box(demodulate(rx.as_mut(), &signal)),
                    BatchSize::LargeInput,
                )
            });
        }
    }
    group.finish();
}

criterion_group! {
    name = modems;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = modulators, demodulators
}
criterion_main!(modems);
