//! V.27ter loopback through our own transmitter and receiver: 10⁶ bits per case at 40 dB
//! SNR, plain and with carrier and clock offsets.

mod common;
use common::*;
use modem::ModemKind::V27ter;
use modem::{Quality, RxEvent};

const MILLION: usize = 1_000_000;

/// One loopback of our modem pair: (bit errors, events, quality at the end of data).
fn loopback(
    rate: u32,
    nbits: usize,
    hz: f64,
    ppm: f64,
    snr: Option<f64>,
    seed: u64,
) -> (usize, Collect, Quality) {
    let sent = random_bits(nbits, seed);
    let tx = our_tx(V27ter, rate, false, &sent, 400, 800);
    let line = impair(&tx, hz, ppm, snr, seed ^ 0x5eed);
    let mut rx = our_receiver(V27ter, rate, false);
    // Quality is read just before the signal ends.
    let cut = line.len() - 1600;
    let mut c = receive(&mut *rx, &line[..cut], 160);
    let q = rx.quality();
    rx.process(&line[cut..], &mut c);
    (errors(&sent, &c.bits), c, q)
}

fn check(rate: u32, hz: f64, ppm: f64, seed: u64) {
    let (errs, c, q) = loopback(rate, MILLION, hz, ppm, Some(40.0), seed);
    eprintln!(
        "{rate} bit/s {hz:+} Hz {ppm:+} ppm 40 dB: {errs} errors in {MILLION}, {:?}, {q:?}",
        c.events
    );
    assert_eq!(errs, 0);
    assert!(matches!(c.events[0], RxEvent::CarrierUp { .. }));
    assert!(c.trained());
    assert!(q.trained);
    assert!(q.snr_db > 25.0, "SNR estimate {}", q.snr_db);
    assert!((q.carrier_offset_hz as f64 - hz).abs() < 1.0, "{q:?}");
    assert!((q.timing_offset_ppm as f64 - ppm).abs() < 30.0, "{q:?}");
    assert_eq!(c.events.last(), Some(&RxEvent::CarrierDown));
}

#[test]
fn clean_short_runs() {
    for rate in [4800, 2400] {
        let (errs, c, _) = loopback(rate, 20_000, 0.0, 0.0, None, 1);
        assert_eq!(errs, 0, "{rate}");
        assert!(c.trained());
    }
}

#[test]
fn r4800_40db() {
    check(4800, 0.0, 0.0, 2);
}

#[test]
fn r4800_40db_plus10hz_plus100ppm() {
    check(4800, 10.0, 100.0, 3);
}

#[test]
fn r4800_40db_minus10hz_minus100ppm() {
    check(4800, -10.0, -100.0, 4);
}

#[test]
fn r2400_40db() {
    check(2400, 0.0, 0.0, 5);
}

#[test]
fn r2400_40db_minus10hz_plus100ppm() {
    check(2400, -10.0, 100.0, 6);
}

#[test]
fn r2400_40db_plus10hz_minus100ppm() {
    check(2400, 10.0, -100.0, 7);
}

/// Three times the ±100 ppm the recommendation allows: the timing loop's integrator, on
/// from the end of training, learns the drift (a first-order loop lost the signal at
/// 300 ppm).
#[test]
fn both_rates_at_300_ppm() {
    check(4800, 0.0, 300.0, 31);
    check(2400, 0.0, -300.0, 32);
}
