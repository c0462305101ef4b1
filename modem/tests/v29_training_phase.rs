//! V.29 training wherever the receiver's symbol clock happens to start: a random lead-in of
//! noise puts the carrier detector's start, and so the timing loop's first phase, anywhere
//! against the transmitter's symbols. A receiver that left the timing to its Gardner loop
//! failed to find segment 2 when it started near the loop's unstable point (the
//! alternation's zero crossings), most often where line distortion weakens the band edges
//! that carry the alternation: 27 of 200 such calls at 4800 bit/s through `long-haul` at
//! 30 dB SNR, 15 through `m1020-limit`, and one in 200 even on a flat line.

mod common;

use channel_models::AudioStage;
use channel_models::filter::{LineFilter, LinePreset};
use channel_models::rng::Rng;
use common::*;
use modem::ModemKind::V29;

/// Calls per line and rate.
const CALLS: u64 = 40;
const BITS: usize = 2400;

/// Calls of `rate` through `line` (None: flat) at 30 dB SNR that do not train exactly once
/// or deliver errored data, as (seed, trainings, errors).
fn failures(rate: u32, line: Option<LinePreset>) -> Vec<(u64, usize, usize)> {
    let mut bad = vec![];
    for seed in 0..CALLS {
        let mut rng = Rng::new(seed);
        let bits: Vec<bool> = (0..BITS).map(|_| rng.chance(0.5)).collect();
        let lead = rng.below(200) as usize;
        let mut sig = our_tx(V29, rate, false, &bits, lead, 800);
        if let Some(p) = line {
            let mut f = Vec::with_capacity(sig.len());
            LineFilter::preset(p).process(&sig, &mut f);
            sig = f;
        }
        let sig = noisy(&sig, 30.0, seed ^ 0xABCD);
        let mut rx = our_receiver(V29, rate, false);
        let c = receive(rx.as_mut(), &sig, 160);
        let (errors, _) = best_aligned_errors(&bits, &c.bits);
        if c.trainings() != 1 || errors > 0 {
            bad.push((seed, c.trainings(), errors));
        }
    }
    bad
}

#[test]
fn v29_4800_trains_through_distorted_lines_at_any_timing_phase() {
    for line in [LinePreset::LongHaul, LinePreset::M1020Limit] {
        let bad = failures(4800, Some(line));
        assert!(bad.is_empty(), "4800 {}: {bad:?}", line.name());
    }
}

#[test]
fn v29_every_rate_trains_on_a_flat_line_at_any_timing_phase() {
    for rate in [9600, 7200, 4800] {
        let bad = failures(rate, None);
        assert!(bad.is_empty(), "{rate} flat: {bad:?}");
    }
}
