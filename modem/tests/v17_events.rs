//! V.17 receiver behaviour beyond the bits: events, quality reports, short-train restarts,
//! block-size invariance.

mod common;
use channel_models::rng::Rng;
use common::*;
use modem::ModemKind::V17;
use modem::{RxConfig, RxEvent, TxConfig};
use proptest::prelude::*;

/// Our V.17 signal for `data`, with 400 samples of silence before and 800 after.
fn transmit(rate: u32, short: bool, data: &[bool]) -> Vec<i16> {
    our_tx(V17, rate, short, data, 400, 800)
}

#[test]
fn transmitter_output_does_not_depend_on_block_size() {
    let data = prbs(3000, 9);
    let whole = transmit(14400, false, &data);
    let out = pad(
        400,
        &drain(&mut our_transmitter(V17, 14400, false), &data, |_| 1),
        800,
    );
    assert_eq!(out, whole);
}

#[test]
fn events_and_quality_of_a_normal_reception() {
    let data = prbs(30_000, 3);
    // 40 dB below the signal the noise (-50 dBm0) is under the carrier-off threshold.
    let noise = Stage::Noise {
        snr_db: 40.0,
        seed: 5,
    };
    let sig = line(&transmit(12000, false, &data), &[Stage::Shift(7.0), noise]);
    let mut r = our_receiver(V17, 12000, false);
    assert!(!r.quality().trained);
    let mut sink = Collect::default();
    // Stop just before the end of the signal to look at the quality while trained.
    let cut = sig.len() - 2000;
    r.process(&sig[..cut], &mut sink);
    let q = r.quality();
    assert!(q.trained);
    assert!((q.level_dbm0 - LEVEL).abs() < 1.5, "{q:?}");
    assert!(q.snr_db > 30.0 && q.snr_db < 46.0, "{q:?}");
    assert!((q.carrier_offset_hz - 7.0).abs() < 1.0, "{q:?}");
    assert!(q.timing_offset_ppm.abs() < 60.0, "{q:?}");
    r.process(&sig[cut..], &mut sink);
    assert!(!r.quality().trained);
    assert!(
        matches!(sink.events[0], RxEvent::CarrierUp { .. }),
        "{:?}",
        sink.events
    );
    match sink.events[1] {
        RxEvent::TrainingSucceeded { rate, snr_db } => {
            assert_eq!(rate, 12000);
            assert!(snr_db > 20.0, "{snr_db}");
        }
        e => panic!("{e:?}"),
    }
    assert_eq!(sink.events[2], RxEvent::CarrierDown);
    assert_eq!(sink.events.len(), 3);
    assert_eq!(&sink.bits[..data.len()], &data[..]);
}

#[test]
fn noise_alone_raises_no_carrier_and_weak_noise_no_training() {
    let mut rng = Rng::new(4);
    // Noise at -60 dBm0: below the carrier-on threshold.
    let quiet: Vec<i16> = (0..40_000)
        .map(|_| (rng.gaussian() * 16.0) as i16)
        .collect();
    let mut r = our_receiver(V17, 14400, false);
    let mut sink = Collect::default();
    r.process(&quiet, &mut sink);
    assert!(sink.events.is_empty(), "{:?}", sink.events);
    // Loud noise: a carrier, but no training, reported once, then carrier down.
    let loud: Vec<i16> = (0..24_000)
        .map(|_| (rng.gaussian() * 3000.0) as i16)
        .chain(std::iter::repeat_n(0, 2000))
        .collect();
    r.process(&loud, &mut sink);
    assert!(
        matches!(sink.events[0], RxEvent::CarrierUp { .. }),
        "{:?}",
        sink.events
    );
    assert_eq!(
        &sink.events[1..],
        &[RxEvent::TrainingFailed, RxEvent::CarrierDown]
    );
    assert!(sink.bits.is_empty());
}

#[test]
fn short_train_keeps_the_long_trains_equalizer() {
    for rate in [7200, 9600, 12000, 14400] {
        let long_data = prbs(20_000, rate);
        let short_data = prbs(20_000, rate + 7);
        let mut r = our_receiver(V17, rate, false);
        let mut sink = Collect::default();
        r.process(
            &noisy(&transmit(rate, false, &long_data), 32.0, 1),
            &mut sink,
        );
        assert_eq!(&sink.bits[..long_data.len()], &long_data[..], "{rate} long");
        r.restart(&RxConfig {
            rate,
            short_train: true,
        })
        .unwrap();
        let mut sink = Collect::default();
        r.process(
            &noisy(&transmit(rate, true, &short_data), 32.0, 2),
            &mut sink,
        );
        assert!(
            matches!(sink.events[1], RxEvent::TrainingSucceeded { .. }),
            "{rate}: {:?}",
            sink.events
        );
        let errors = short_data
            .iter()
            .zip(&sink.bits)
            .filter(|(a, b)| a != b)
            .count();
        assert_eq!(errors, 0, "{rate} short: {:?}", sink.events);
    }
}

#[test]
fn short_train_without_a_long_one_fails() {
    // A receiver set for a short train but never trained has no equalizer to keep: its
    // 38 known symbols are too few, and a long-train receiver does not accept a short train.
    let data = prbs(5000, 1);
    let sig = noisy(&transmit(14400, true, &data), 40.0, 3);
    let mut r = our_receiver(V17, 14400, false);
    let mut sink = Collect::default();
    r.process(&sig, &mut sink);
    assert!(!sink.trained(), "{:?}", sink.events);
    assert!(sink.events.contains(&RxEvent::TrainingFailed));
}

#[test]
fn bad_rates_are_refused() {
    assert!(
        modem::new_receiver(
            V17,
            &RxConfig {
                rate: 4800,
                short_train: false
            }
        )
        .is_err()
    );
    assert!(
        modem::new_transmitter(
            V17,
            &TxConfig {
                rate: 2400,
                ..Default::default()
            }
        )
        .is_err()
    );
}

fn signal() -> &'static (Vec<i16>, Vec<bool>) {
    static SIG: std::sync::OnceLock<(Vec<i16>, Vec<bool>)> = std::sync::OnceLock::new();
    SIG.get_or_init(|| {
        let data = prbs(2000, 11);
        (noisy(&transmit(14400, false, &data), 30.0, 9), data)
    })
}

fn reference() -> &'static Collect {
    static REF: std::sync::OnceLock<Collect> = std::sync::OnceLock::new();
    REF.get_or_init(|| {
        let mut sink = Collect::default();
        our_receiver(V17, 14400, false).process(&signal().0, &mut sink);
        sink
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(8))]
    #[test]
    fn receiver_output_does_not_depend_on_block_sizes(cuts in proptest::collection::vec(1usize..3000, 1..40)) {
        let (sig, data) = signal();
        let sink = receive_cuts(&mut *our_receiver(V17, 14400, false), sig, &cuts);
        let want = reference();
        prop_assert_eq!(&sink.bits[..data.len()], &data[..]);
        prop_assert_eq!(&sink, want);
    }
}
