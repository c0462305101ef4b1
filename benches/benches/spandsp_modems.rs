//! Throughput of spandsp's modulators and demodulators, per modem and rate, in samples per
//! second (8000 samples = one second of line signal). Our modems go beside these at
//! integration, measured the same way.
//!
//! Modulators are measured in steady state (past training) filling 20 ms blocks from the
//! 2^11−1 PRBS. Demodulators are measured over a whole transmission (training, 2 s of PRBS
//! data, closing) with white noise 30 dB below the signal, from a fresh receiver each time.

use std::hint::black_box;

use channel_models::AudioStage;
use channel_models::line::Awgn;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use modem::BitSource;
use modem::prbs::PrbsSource;
use spandsp_peer::{ModemRx, ModemTx, PeerModem, PeerRxEvent, Spandsp};
use std::sync::Arc;
use std::time::Duration;

const BLOCK: usize = 160;
/// Blocks per measured modulator iteration: one second.
const TX_BLOCKS: usize = 50;
const LEVEL_DBM0: f32 = -10.0;
const NOISE_SEED: u64 = 0x5eed;

const CASES: &[(PeerModem, u32)] = &[
    (PeerModem::V17, 14400),
    (PeerModem::V17, 12000),
    (PeerModem::V17, 9600),
    (PeerModem::V17, 7200),
    (PeerModem::V29, 9600),
    (PeerModem::V29, 7200),
    (PeerModem::V27ter, 4800),
    (PeerModem::V27ter, 2400),
    (PeerModem::V21Ch2, 300),
];

fn id(kind: PeerModem, rate: u32) -> String {
    let name = match kind {
        PeerModem::V17 => "v17",
        PeerModem::V29 => "v29",
        PeerModem::V27ter => "v27ter",
        PeerModem::V21Ch1 => "v21ch1",
        PeerModem::V21Ch2 => "v21",
    };
    format!("{name}/{rate}")
}

/// A whole spandsp transmission of two seconds of PRBS data, with AWGN at 30 dB SNR.
fn noisy_signal(sp: &Arc<Spandsp>, kind: PeerModem, rate: u32) -> Vec<i16> {
    let mut tx = ModemTx::new(sp, kind, rate, false, LEVEL_DBM0).expect("spandsp modulator");
    let mut src = PrbsSource::bounded(u64::from(rate) * 2);
    let mut clean = Vec::new();
    let mut block = [0i16; BLOCK];
    while !tx.is_finished() {
        let n = tx.fill(&mut block, &mut || src.next_bit());
        clean.extend_from_slice(&block[..n]);
    }
    // Noise over the transmitter's leading silence makes some receivers (V.27ter) fail
    // training and idle, which would time an idle receiver: start at the first symbol.
    let start = clean.iter().position(|&x| x != 0).unwrap_or(0);
    let mut noisy = Vec::with_capacity(clean.len());
    Awgn::with_snr(30.0, f64::from(LEVEL_DBM0), NOISE_SEED).process(&clean[start..], &mut noisy);
    noisy
}

/// Demodulates `signal` with a fresh receiver, returning the number of bits delivered.
fn demodulate(rx: &mut ModemRx, signal: &[i16]) -> u64 {
    let mut bits = 0u64;
    for block in signal.chunks(BLOCK) {
        rx.process(block, &mut |ev| {
            if let PeerRxEvent::Bit(_) = ev {
                bits += 1;
            }
        });
    }
    bits
}

fn modulators(c: &mut Criterion, sp: &Arc<Spandsp>) {
    let mut group = c.benchmark_group("spandsp_tx");
    group.throughput(Throughput::Elements((TX_BLOCKS * BLOCK) as u64));
    for &(kind, rate) in CASES {
        let mut tx = ModemTx::new(sp, kind, rate, false, LEVEL_DBM0).expect("spandsp modulator");
        let mut src = PrbsSource::endless();
        let mut block = [0i16; BLOCK];
        // Past the training (V.17's long training is about 1.4 s).
        for _ in 0..100 {
            tx.fill(&mut block, &mut || src.next_bit());
        }
        group.bench_function(id(kind, rate), |b| {
            b.iter(|| {
                for _ in 0..TX_BLOCKS {
                    tx.fill(&mut block, &mut || src.next_bit());
                    black_box(&block);
                }
            })
        });
    }
    group.finish();
}

fn demodulators(c: &mut Criterion, sp: &Arc<Spandsp>) {
    let mut group = c.benchmark_group("spandsp_rx");
    for &(kind, rate) in CASES {
        let signal = noisy_signal(sp, kind, rate);
        // Time a receiver that works: it must deliver the data.
        let mut check = ModemRx::new(sp, kind, rate).expect("spandsp demodulator");
        let delivered = demodulate(&mut check, &signal);
        assert!(
            delivered >= u64::from(rate) * 2,
            "{}: only {delivered} bits delivered",
            id(kind, rate)
        );
        group.throughput(Throughput::Elements(signal.len() as u64));
        group.bench_function(id(kind, rate), |b| {
            b.iter_batched(
                || ModemRx::new(sp, kind, rate).expect("spandsp demodulator"),
                |mut rx| black_box(demodulate(&mut rx, &signal)),
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

fn benches(c: &mut Criterion) {
    let Some(sp) = spandsp_peer::require() else {
        return;
    };
    modulators(c, &sp);
    demodulators(c, &sp);
}

criterion_group! {
    name = spandsp_modems;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = benches
}
criterion_main!(spandsp_modems);
