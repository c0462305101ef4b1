//! Block-size invariance of the tone detector.

use channel_models::AudioStage;
use channel_models::line::Awgn;
use modem::Transmitter;
use modem::tones::{ToneDetector, ToneEvent, ToneTx};
use proptest::prelude::*;
use std::sync::OnceLock;

/// CNG, then /ANS, with noise: about 5 s.
fn signal() -> &'static [i16] {
    static S: OnceLock<Vec<i16>> = OnceLock::new();
    S.get_or_init(|| {
        let mut none = || None;
        let mut clean = vec![0i16; 8000 * 5];
        ToneTx::cng(-15.0).fill(&mut clean[..8000], &mut none);
        ToneTx::ced(3000, true, -20.0).fill(&mut clean[12_000..], &mut none);
        let mut noisy = Vec::new();
        Awgn::with_snr(15.0, -15.0, 5).process(&clean, &mut noisy);
        noisy
    })
}

fn run(sizes: &[usize]) -> Vec<ToneEvent> {
    let samples = signal();
    let mut det = ToneDetector::new();
    let mut events = Vec::new();
    let mut pos = 0;
    let mut i = 0;
    while pos < samples.len() {
        let n = if sizes.is_empty() {
            samples.len()
        } else {
            sizes[i % sizes.len()]
        };
        let end = (pos + n).min(samples.len());
        det.process(&samples[pos..end], &mut |e| events.push(e));
        pos = end;
        i += 1;
    }
    events
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn tone_detector_is_block_size_invariant(sizes in prop::collection::vec(1usize..700, 1..20)) {
        let whole = run(&[]);
        // CNG on/off, CED on/off.
        prop_assert_eq!(whole.len(), 4, "{:?}", whole);
        prop_assert_eq!(run(&sizes), whole);
    }
}
