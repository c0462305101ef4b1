//! The QAM receivers' two compilations (x86-64 baseline and AVX2, see `modem::simd`) give
//! the same bits: the same data, events, quality reports and last symbol, on distorted,
//! drifting, noisy signals where decisions are close (errors included), so that a call's
//! records do not depend on the machine that ran it.
//!
//! One test in this file: it switches the process-wide path.

mod common;

use channel_models::AudioStage;
use channel_models::filter::{LineFilter, LinePreset};
use common::*;
use modem::ModemKind::{self, V17, V27ter, V29};
use modem::RxConfig;
use modem::simd::{VectorPath, avx2_available, set_vector_path};

/// What a receiver told, with every float as bits.
#[derive(Debug, PartialEq)]
struct Outcome {
    collect: Collect,
    quality: [u32; 4],
    trained: bool,
    last: Option<(u32, u32)>,
}

/// Runs a receiver over `parts`: the first with a long training, each further one after a
/// restart for a short one.
fn run(kind: ModemKind, rate: u32, parts: &[Vec<i16>], path: VectorPath) -> Outcome {
    assert_eq!(set_vector_path(path), path);
    let mut rx = our_receiver(kind, rate, false);
    let mut c = Collect::default();
    for (k, part) in parts.iter().enumerate() {
        if k > 0 {
            let cfg = RxConfig {
                rate,
                short_train: true,
            };
            rx.restart(&cfg).unwrap();
        }
        // Blocks of changing sizes, so runs start and end anywhere in a symbol.
        let got = receive_cuts(rx.as_mut(), part, &[160, 7, 33, 1, 80]);
        c.bits.extend(got.bits);
        c.events.extend(got.events);
        c.at.extend(got.at);
    }
    let q = rx.quality();
    Outcome {
        collect: c,
        quality: [
            q.level_dbm0.to_bits(),
            q.snr_db.to_bits(),
            q.carrier_offset_hz.to_bits(),
            q.timing_offset_ppm.to_bits(),
        ],
        trained: q.trained,
        last: rx.last_symbol().map(|(a, b)| (a.to_bits(), b.to_bits())),
    }
}

#[test]
fn baseline_and_avx2_receivers_give_the_same_bits() {
    if !avx2_available() {
        eprintln!("no AVX2 on this processor: only the baseline path exists here");
        return;
    }
    // Near each rate's threshold, so that some decisions go wrong.
    let cases: [(ModemKind, u32, f64); 8] = [
        (V17, 14400, 27.0),
        (V17, 12000, 25.0),
        (V17, 7200, 16.0),
        (V29, 9600, 20.0),
        (V29, 7200, 17.0),
        (V29, 4800, 14.0),
        (V27ter, 4800, 16.0),
        (V27ter, 2400, 11.0),
    ];
    for (i, &(kind, rate, snr)) in cases.iter().enumerate() {
        let bits = random_bits(6000, i as u64);
        let mut parts = vec![our_tx(kind, rate, false, &bits, 137, 800)];
        if kind != V29 {
            // Then a short (resynchronising) training, which starts from what the long one
            // taught (V.29 has only one training).
            parts.push(our_tx(kind, rate, true, &bits, 0, 400));
        }
        let parts: Vec<Vec<i16>> = parts
            .iter()
            .enumerate()
            .map(|(k, sig)| {
                let mut distorted = Vec::with_capacity(sig.len());
                LineFilter::preset(LinePreset::M1020Limit).process(sig, &mut distorted);
                impair(
                    &distorted,
                    6.0,
                    80.0,
                    Some(snr),
                    40 + 2 * i as u64 + k as u64,
                )
            })
            .collect();
        let base = run(kind, rate, &parts, VectorPath::Baseline);
        let avx = run(kind, rate, &parts, VectorPath::Avx2);
        // The case must exercise data mode (a short training that fails is fine: its
        // search runs the same code both ways too).
        assert!(
            base.collect.trained() && base.collect.bits.len() > 4000,
            "{kind:?} {rate}: no data to compare ({} bits)",
            base.collect.bits.len()
        );
        assert_eq!(base, avx, "{kind:?} {rate}");
    }
    set_vector_path(VectorPath::Avx2);
}
