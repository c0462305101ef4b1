//! V.29 loopback: our transmitter into our receiver through line impairments.

mod v29_util;

use modem::RxEvent;
use v29_util::*;

fn run(rate: u32, n: usize, hz: f64, ppm: f64, snr: Option<f64>) {
    let bits = random_bits(n, rate as u64 + 5);
    let sig = channel(&our_tx(rate, &bits, 400), hz, ppm, snr, 99);
    let (c, rx) = our_rx(rate, &sig, 160);
    let (errors, off) = bit_errors(&bits, &c.bits);
    let q = modem::Receiver::quality(&rx);
    eprintln!(
        "{rate} {hz:+} Hz {ppm:+} ppm {snr:?} dB: {errors} errors in {n} bits (offset {off}), {:?}, q {q:?}",
        c.events
    );
    assert_eq!(errors, 0);
    assert!(matches!(c.events[0], RxEvent::CarrierUp { .. }));
    assert!(
        c.events
            .iter()
            .any(|e| matches!(e, RxEvent::TrainingSucceeded { rate: r, .. } if *r == rate))
    );
    assert!(!c.events.contains(&RxEvent::TrainingFailed));
}

#[test]
fn clean_9600() {
    run(9600, 20_000, 0.0, 0.0, None);
}

#[test]
fn clean_7200() {
    run(7200, 20_000, 0.0, 0.0, None);
}

#[test]
fn clean_4800() {
    run(4800, 20_000, 0.0, 0.0, None);
}
