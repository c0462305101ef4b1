//! V.29 receiver events and block-size invariance.

mod common;

use common::*;
use modem::ModemKind::V29;
use modem::{RxConfig, RxEvent};
use proptest::prelude::*;

#[test]
fn wrong_rate_fails_training() {
    let bits = random_bits(5_000, 3);
    let sig = impair(
        &our_tx(V29, 7200, false, &bits, 400, 800),
        0.0,
        0.0,
        Some(40.0),
        4,
    );
    let (c, rx) = our_rx(V29, 9600, &sig, 160);
    eprintln!("{:?}", c.events);
    assert!(matches!(c.events[0], RxEvent::CarrierUp { .. }));
    assert!(c.events.contains(&RxEvent::TrainingFailed));
    assert!(!c.trained());
    assert_eq!(c.events.last(), Some(&RxEvent::CarrierDown));
    assert!(c.bits.is_empty());
    assert!(!rx.quality().trained);
}

#[test]
fn silence_and_weak_noise_raise_no_carrier() {
    // Noise at -50 dBm0 stays under the -43 dBm0 threshold.
    let sig = impair(&vec![0i16; 40_000], 0.0, 0.0, Some(40.0), 5);
    let (c, _) = our_rx(V29, 9600, &sig, 160);
    assert!(c.events.is_empty());
    assert!(c.bits.is_empty());
}

#[test]
fn a_carrier_without_training_fails() {
    // A steady 1700 Hz tone: carrier, but no alternation.
    let mut tone: Vec<i16> = (0..16_000)
        .map(|n| (5000.0 * (n as f32 * std::f32::consts::TAU * 1700.0 / 8000.0).sin()) as i16)
        .collect();
    tone.extend(std::iter::repeat_n(0, 2000));
    let (c, _) = our_rx(V29, 9600, &tone, 160);
    assert_eq!(c.events.len(), 3, "{:?}", c.events);
    assert!(matches!(c.events[0], RxEvent::CarrierUp { .. }));
    assert_eq!(
        c.events[1..],
        [RxEvent::TrainingFailed, RxEvent::CarrierDown]
    );
}

#[test]
fn two_bursts_and_short_train_restart() {
    let a = random_bits(20_000, 8);
    let b = random_bits(20_000, 9);
    let mut rx = our_receiver(V29, 9600, false);
    let mut c = Collect::default();
    rx.process(
        &impair(
            &our_tx(V29, 9600, false, &a, 400, 800),
            3.0,
            50.0,
            Some(35.0),
            6,
        ),
        &mut c,
    );
    let first = c.bits.len();
    let q1 = rx.quality();
    // The second burst with the equalizer kept from the first training.
    rx.restart(&RxConfig {
        rate: 9600,
        short_train: true,
    })
    .unwrap();
    rx.process(
        &impair(
            &our_tx(V29, 9600, false, &b, 400, 800),
            3.0,
            50.0,
            Some(35.0),
            7,
        ),
        &mut c,
    );
    assert_eq!(c.trainings(), 2, "{:?}", c.events);
    assert_eq!(best_aligned_errors(&a, &c.bits[..first]).0, 0);
    assert_eq!(best_aligned_errors(&b, &c.bits[first..]).0, 0);
    assert!((q1.carrier_offset_hz - 3.0).abs() < 0.5, "{q1:?}");
    assert!(q1.snr_db > 30.0, "{q1:?}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]
    #[test]
    fn block_size_invariance(cuts in proptest::collection::vec(1usize..700, 1..60), seed in 0u64..4) {
        let bits = random_bits(3_000, seed);
        let sig = impair(&our_tx(V29, 9600, false, &bits, 300, 800), 5.0, -60.0, Some(30.0), seed);
        let (whole, _) = our_rx(V29, 9600, &sig, sig.len());
        let parts = receive_cuts(&mut *our_receiver(V29, 9600, false), &sig, &cuts);
        prop_assert_eq!(&whole.bits, &parts.bits);
        prop_assert_eq!(&whole.events, &parts.events);
        prop_assert_eq!(best_aligned_errors(&bits, &whole.bits).0, 0);
    }
}

#[test]
fn training_found_after_long_noise() {
    // At 25 dB the line noise (-35 dBm0) holds the carrier detector on for two seconds
    // before the signal: the receiver reports the failed search once and still trains.
    let bits = random_bits(30_000, 12);
    let sig = impair(
        &our_tx(V29, 9600, false, &bits, 16_000, 800),
        0.0,
        0.0,
        Some(25.0),
        13,
    );
    let (c, _) = our_rx(V29, 9600, &sig, 160);
    eprintln!("{:?}", c.events);
    assert!(matches!(c.events[0], RxEvent::CarrierUp { .. }));
    assert_eq!(c.events[1], RxEvent::TrainingFailed);
    assert!(matches!(
        c.events[2],
        RxEvent::TrainingSucceeded { rate: 9600, .. }
    ));
    assert_eq!(best_aligned_errors(&bits, &c.bits).0, 0);
}

#[test]
fn a_tone_that_alternates_is_not_training() {
    // 500 Hz is 1200 Hz below the carrier: after down-conversion it flips sign every symbol,
    // like an alternation, but not with the A/B ratio.
    let mut tone: Vec<i16> = (0..16_000)
        .map(|n| (5000.0 * (n as f32 * std::f32::consts::TAU * 500.0 / 8000.0).sin()) as i16)
        .collect();
    tone.extend(std::iter::repeat_n(0, 2000));
    let (c, _) = our_rx(V29, 9600, &tone, 160);
    assert_eq!(
        c.events[1..],
        [RxEvent::TrainingFailed, RxEvent::CarrierDown]
    );
    assert!(c.bits.is_empty());
}

#[test]
fn transmit_level_is_as_set() {
    use modem::TxConfig;
    for (rate, dbm0) in [(9600, -10.0), (7200, -20.0), (4800, -6.0)] {
        let mut tx = modem::new_transmitter(
            V29,
            &TxConfig {
                rate,
                short_train: false,
                level_dbm0: dbm0,
            },
        )
        .unwrap();
        let bits = random_bits(50_000, 1);
        let sig = drain(&mut tx, &bits, |_| 97);
        // Skip segment 1 (48 symbols of silence = 160 samples) and the pulse edges.
        let body = &sig[400..sig.len() - 400];
        let ms = body.iter().map(|&x| (x as f64).powi(2)).sum::<f64>() / body.len() as f64;
        let level = modem::level::power_to_dbm0(ms as f32);
        assert!((level - dbm0).abs() < 0.3, "{rate}: {level} dBm0");
        // Segment 1 is silent.
        assert!(sig[..150].iter().all(|&x| x == 0));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]
    #[test]
    fn transmitter_block_size_invariance(cuts in proptest::collection::vec(1usize..500, 1..40)) {
        let bits = random_bits(2_000, 5);
        let whole = our_tx(V29, 9600, false, &bits, 0, 800);
        let parts = drain(&mut our_transmitter(V29, 9600, false), &bits, |i| cuts[i % cuts.len()]);
        prop_assert_eq!(&whole[..whole.len() - 800], &parts[..]);
    }
}

#[test]
fn training_is_reliable_near_the_sensitivity_limit() {
    // Twenty noise seeds per rate at about the lowest SNR each rate runs error-free at.
    for (rate, snr) in [(9600, 20.0), (7200, 17.0), (4800, 12.0)] {
        let bits = random_bits(2_000, rate as u64);
        let clean = our_tx(V29, rate, false, &bits, 400, 800);
        let mut failures = vec![];
        for seed in 0..20 {
            let (c, _) = our_rx(V29, rate, &impair(&clean, 0.0, 0.0, Some(snr), seed), 160);
            if !c.trained() {
                failures.push(seed);
            }
        }
        assert!(
            failures.is_empty(),
            "{rate} at {snr} dB: seeds {failures:?} failed"
        );
    }
}

/// The receiver runs its carrier detector ahead of the demodulator, but only up to the next
/// symbol, whose quality figures read the detector's level: the quality held after a burst
/// (and every event) must be the same sample by sample as in blocks.
#[test]
fn held_quality_is_block_size_invariant() {
    let bits = random_bits(4_000, 7);
    let sig = impair(
        &our_tx(V29, 9600, false, &bits, 300, 800),
        3.0,
        20.0,
        Some(25.0),
        7,
    );
    let mut by_sample = our_receiver(V29, 9600, false);
    let mut by_block = our_receiver(V29, 9600, false);
    let one = receive(&mut *by_sample, &sig, 1);
    let blocks = receive(&mut *by_block, &sig, 160);
    assert_eq!(one, blocks);
    assert!(
        one.events.iter().any(|e| matches!(e, RxEvent::CarrierDown)),
        "{:?}",
        one.events
    );
    let (a, b) = (by_sample.quality(), by_block.quality());
    assert_eq!(format!("{a:?}"), format!("{b:?}"));
    assert!(a.level_dbm0 > -20.0 && a.snr_db > 15.0, "{a:?}");
}
