//! V.27ter receiver behaviour: block-size invariance, events, short training, failure.

mod common;
use common::*;
use modem::ModemKind::V27ter;
use modem::{RxConfig, RxEvent};
use proptest::prelude::*;

/// Our V.27ter signal for `bits` after `lead` samples of silence, with 800 after.
fn transmit(rate: u32, short: bool, bits: &[bool], lead: usize) -> Vec<i16> {
    our_tx(V27ter, rate, short, bits, lead, 800)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(8))]
    #[test]
    fn block_size_invariance(sizes in proptest::collection::vec(1usize..500, 1..40),
                             high in any::<bool>()) {
        let rate = if high { 4800 } else { 2400 };
        let sent = random_bits(3000, 21);
        let line = impair(&transmit(rate, false, &sent, 300), 3.0, 50.0, Some(25.0), 22);
        let whole = receive(&mut *our_receiver(V27ter, rate, false), &line, line.len());
        let parts = receive_cuts(&mut *our_receiver(V27ter, rate, false), &line, &sizes);
        prop_assert!(whole.trained());
        prop_assert_eq!(errors(&sent, &whole.bits), 0);
        prop_assert_eq!(whole, parts);
    }
}

#[test]
fn events_in_order_and_quality() {
    let sent = random_bits(5000, 31);
    let line = impair(
        &transmit(4800, false, &sent, 400),
        7.0,
        -60.0,
        Some(40.0),
        32,
    );
    let mut r = our_receiver(V27ter, 4800, false);
    let c = receive(&mut *r, &line, 160);
    assert_eq!(c.events.len(), 3, "{:?}", c.events);
    assert!(matches!(c.events[0], RxEvent::CarrierUp { level_dbm0 } if level_dbm0 < -30.0));
    match c.events[1] {
        RxEvent::TrainingSucceeded { rate, snr_db } => {
            assert_eq!(rate, 4800);
            assert!(snr_db > 20.0, "{snr_db}");
        }
        e => panic!("{e:?}"),
    }
    // No bits before training; all data bits after it.
    assert_eq!(c.at[1], 0);
    assert_eq!(c.events[2], RxEvent::CarrierDown);
    assert_eq!(errors(&sent, &c.bits), 0);
    let q = r.quality();
    assert!(!q.trained, "carrier gone");
    assert!((q.carrier_offset_hz - 7.0).abs() < 1.0, "{q:?}");
    assert!((q.timing_offset_ppm + 60.0).abs() < 40.0, "{q:?}");
}

#[test]
fn short_training_reuses_the_equalizer() {
    for rate in [4800, 2400] {
        let first = random_bits(4000, 41);
        let second = random_bits(4000, 42);
        let mut line = transmit(rate, false, &first, 200);
        let mut r = our_receiver(V27ter, rate, false);
        let c1 = receive(&mut *r, &impair(&line, 5.0, 0.0, Some(30.0), 43), 160);
        assert_eq!(errors(&first, &c1.bits), 0, "{rate} long");
        line = transmit(rate, true, &second, 200);
        r.restart(&RxConfig {
            rate,
            short_train: true,
        })
        .unwrap();
        let c2 = receive(&mut *r, &impair(&line, 5.0, 0.0, Some(30.0), 44), 160);
        eprintln!("{rate} short: {:?}", c2.events);
        assert!(c2.trained(), "{rate} short");
        assert_eq!(errors(&second, &c2.bits), 0, "{rate} short");
    }
}

#[test]
fn short_training_alone_is_too_short_to_train_from_scratch_at_low_snr() {
    // Without a previous long training the receiver must not claim success on garbage: it
    // either trains (and is then error-free) or reports failure.
    let sent = random_bits(2000, 51);
    let line = impair(&transmit(4800, true, &sent, 200), 0.0, 0.0, Some(12.0), 52);
    let c = receive(&mut *our_receiver(V27ter, 4800, true), &line, 160);
    if c.trained() {
        assert!(errors(&sent, &c.bits) < 50);
    } else {
        assert!(c.events.contains(&RxEvent::TrainingFailed));
    }
}

#[test]
fn unmodulated_carrier_fails_training() {
    // Two seconds of 1800 Hz at −10 dBm0, then silence.
    let amp = modem::level::dbm0_to_rms(-10.0) * std::f32::consts::SQRT_2;
    let mut line: Vec<i16> = (0..16_000)
        .map(|n| {
            let t = n as f32 / 8000.0;
            (amp * (std::f32::consts::TAU * 1800.0 * t).sin()) as i16
        })
        .collect();
    line.extend(std::iter::repeat_n(0, 800));
    let c = receive(&mut *our_receiver(V27ter, 4800, false), &line, 160);
    assert!(matches!(c.events[0], RxEvent::CarrierUp { .. }));
    assert!(
        c.events.contains(&RxEvent::TrainingFailed),
        "{:?}",
        c.events
    );
    assert!(!c.trained());
    assert!(c.bits.is_empty());
    assert_eq!(c.events.last(), Some(&RxEvent::CarrierDown));
}

#[test]
fn transmitter_level_and_training_length() {
    for (rate, short, train_symbols) in [
        (4800, false, 1132usize),
        (2400, false, 1132),
        (4800, true, 80),
        (2400, true, 80),
    ] {
        let nbits = 30_000;
        let sent = random_bits(nbits, 61);
        let out = drain(&mut our_transmitter(V27ter, rate, short), &sent, |_| 77);
        let baud = if rate == 4800 { 1600 } else { 1200 };
        let sps = 8000.0 / baud as f64;
        let silence = if short { 0.0 } else { 160.0 };
        // Training, data, 20 ms of closing ones, and the 10-symbol pulse tail.
        let data_symbols = nbits as f64 / (rate / baud) as f64;
        let expected =
            silence + (train_symbols as f64 + data_symbols + baud as f64 / 50.0 + 10.0) * sps;
        assert!(
            (out.len() as f64 - expected).abs() <= sps + 1.0,
            "{rate} {short}: {} vs {expected}",
            out.len()
        );
        // Mean power over the data part is the configured −10 dBm0.
        let start = (silence + train_symbols as f64 * sps) as usize;
        let part = &out[start..start + 8000];
        let ms = part.iter().map(|&s| (s as f32).powi(2)).sum::<f32>() / part.len() as f32;
        let dbm0 = modem::level::power_to_dbm0(ms);
        assert!((dbm0 + 10.0).abs() < 0.3, "{rate}: {dbm0} dBm0");
    }
}

#[test]
fn signal_end_in_continuing_noise_and_a_second_burst() {
    // At 25 dB SNR the line noise (−35 dBm0) keeps the energy detector on between bursts.
    for rate in [4800, 2400] {
        let first = random_bits(3000, 81);
        let second = random_bits(3000, 82);
        let mut clean = transmit(rate, false, &first, 400);
        clean.extend(std::iter::repeat_n(0, 4000));
        clean.extend(transmit(rate, false, &second, 0));
        let line = impair(&clean, 4.0, 30.0, Some(25.0), 83);
        let c = receive(&mut *our_receiver(V27ter, rate, false), &line, 160);
        let kinds: Vec<&str> = c
            .events
            .iter()
            .map(|e| match e {
                RxEvent::CarrierUp { .. } => "up",
                RxEvent::CarrierDown => "down",
                RxEvent::TrainingSucceeded { .. } => "trained",
                RxEvent::TrainingFailed => "failed",
            })
            .collect();
        eprintln!("{rate}: {kinds:?} at {:?}, {} bits", c.at, c.bits.len());
        assert_eq!(
            kinds,
            ["up", "trained", "down", "up", "trained", "down"],
            "{rate}"
        );
        // First burst: exactly its data and then at most the closing ones and a few symbols.
        assert_eq!(errors(&first, &c.bits), 0);
        let end1 = c.at[2];
        assert!(
            end1 - first.len() < 200,
            "{rate}: {} bits after the data",
            end1 - first.len()
        );
        // Second burst: its data starts right at its training.
        assert_eq!(c.at[4], end1);
        assert_eq!(errors(&second, &c.bits[end1..]), 0);
    }
}

/// The receiver runs its carrier detector ahead of the demodulator within a block, except
/// where a symbol reads it: a burst that follows one lost in continuing noise (a gap too
/// short for the detector to drop) is announced with the detector's level at that symbol.
/// Sample by sample and in blocks it must give the same events, levels included, and the
/// same bits.
#[test]
fn carrier_report_after_a_burst_lost_in_noise_is_block_size_invariant() {
    for rate in [4800, 2400] {
        let mut clean = our_tx(V27ter, rate, false, &random_bits(2000, 91), 400, 0);
        clean.extend(std::iter::repeat_n(0, 400));
        clean.extend(our_tx(V27ter, rate, false, &random_bits(2000, 92), 0, 800));
        let line = impair(&clean, 4.0, 30.0, Some(18.0), 93);
        let one = receive(&mut *our_receiver(V27ter, rate, false), &line, 1);
        let blocks = receive(&mut *our_receiver(V27ter, rate, false), &line, 160);
        let ups = one
            .events
            .iter()
            .filter(|e| matches!(e, RxEvent::CarrierUp { .. }))
            .count();
        assert_eq!(ups, 2, "{rate}: {:?}", one.events);
        assert_eq!(one, blocks, "{rate}");
    }
}
