//! V.29 loopback: our transmitter into our receiver through line impairments.

mod common;

use common::*;
use modem::ModemKind::V29;
use modem::RxEvent;

/// Sends `n` random bits through the impairments and checks that every one arrives, with
/// the events and quality figures to match.
fn run(rate: u32, n: usize, hz: f64, ppm: f64, snr: Option<f64>) {
    let bits = random_bits(n, rate as u64 + 5);
    let sig = impair(&our_tx(V29, rate, false, &bits, 400, 800), hz, ppm, snr, 99);
    let (c, rx) = our_rx(V29, rate, &sig, 160);
    let (errors, off) = best_aligned_errors(&bits, &c.bits);
    let q = rx.quality();
    eprintln!(
        "{rate} {hz:+} Hz {ppm:+} ppm {snr:?} dB: {errors} errors in {n} bits (offset {off}), {:?}, {q:?}",
        c.events
    );
    assert_eq!(errors, 0);
    assert_eq!(off, 0, "bits before the data");
    // After the data: the transmitter's tail of scrambled ones (48 symbols), then nothing
    // once the fading signal is noticed (up to about 20 symbols of noise).
    let extra = &c.bits[n..];
    let bps = rate as usize / 2400;
    assert!(extra.len() <= 72 * bps, "{} extra bits", extra.len());
    assert!(extra.iter().take(44 * bps).all(|&b| b), "tail not ones");
    assert!(
        // Measured on the alternation, whose lines at the band edges lose a little power.
        matches!(c.events[0], RxEvent::CarrierUp { level_dbm0 } if (level_dbm0 + 10.0).abs() < 1.0),
        "{:?}",
        c.events[0]
    );
    assert!(matches!(
        c.events[1],
        RxEvent::TrainingSucceeded { rate: r, snr_db } if r == rate && snr_db > 20.0
    ));
    assert_eq!(c.events[2..], [RxEvent::CarrierDown]);
    // A sample clock `ppm` off moves the 1700 Hz carrier too.
    let carrier_hz = hz + 1700.0 * ppm * 1e-6;
    assert!(
        (q.carrier_offset_hz as f64 - carrier_hz).abs() < 0.5,
        "{q:?}"
    );
    assert!((q.timing_offset_ppm as f64 - ppm).abs() < 20.0, "{q:?}");
    if let Some(snr) = snr {
        // The in-band SNR is about 2 dB above the full-band figure.
        assert!((q.snr_db as f64 - snr).abs() < 5.0, "{q:?}");
    }
    assert!((q.level_dbm0 + 10.0).abs() < 1.0, "{q:?}");
}

#[test]
fn clean_every_rate() {
    for rate in [9600, 7200, 4800] {
        run(rate, 20_000, 0.0, 0.0, None);
    }
}

#[test]
fn million_bits_9600_40db() {
    run(9600, 1_000_000, 0.0, 0.0, Some(40.0));
}

#[test]
fn million_bits_9600_plus10hz_plus100ppm() {
    run(9600, 1_000_000, 10.0, 100.0, Some(40.0));
}

#[test]
fn million_bits_9600_minus10hz_minus100ppm() {
    run(9600, 1_000_000, -10.0, -100.0, Some(40.0));
}

/// A clock 300 ppm off either way: the data-mode timing loop lost the signal after 1–2 s
/// before it was widened (its integrator learnt the drift too slowly).
#[test]
fn clock_offset_300_ppm_both_ways() {
    for rate in [9600, 7200] {
        run(rate, 200_000, 0.0, 300.0, Some(40.0));
        run(rate, 200_000, 0.0, -300.0, Some(40.0));
    }
}

#[test]
fn million_bits_7200_40db() {
    run(7200, 1_000_000, 0.0, 0.0, Some(40.0));
}

#[test]
fn million_bits_7200_plus10hz_minus100ppm() {
    run(7200, 1_000_000, 10.0, -100.0, Some(40.0));
}

#[test]
fn million_bits_7200_minus10hz_plus100ppm() {
    run(7200, 1_000_000, -10.0, 100.0, Some(40.0));
}

#[test]
fn bits_4800_with_offsets() {
    run(4800, 200_000, 10.0, 100.0, Some(40.0));
    run(4800, 200_000, -10.0, -100.0, Some(40.0));
}

/// All-pass coefficients of the line distortion below.
const ALLPASS: [f64; 8] = [-0.75, -0.75, -0.75, -0.75, -0.75, -0.75, 0.6, 0.6];

/// A telephone-line-like distortion: an amplitude tilt (8.6 dB from 500 to 2900 Hz) and a
/// cascade of first-order all-passes whose group delay is about 1.55 ms longer at 500 Hz than
/// at 1700 Hz (and about the same at 2900 Hz).
fn distort(sig: &[i16]) -> Vec<i16> {
    let mut state = [(0.0f64, 0.0f64); ALLPASS.len()];
    let mut x1 = 0.0f64;
    sig.iter()
        .map(|&s| {
            let x = s as f64;
            let mut v = 0.9 * x - 0.5 * x1;
            x1 = x;
            for (a, (px, py)) in ALLPASS.iter().zip(state.iter_mut()) {
                let y = a * v + *px - a * *py;
                *px = v;
                *py = y;
                v = y;
            }
            v.round().clamp(-32768.0, 32767.0) as i16
        })
        .collect()
}

#[test]
fn group_delay_of_the_distortion() {
    // Check the claim above from the all-pass formula (samples at 8000 Hz).
    let delay = |hz: f64| -> f64 {
        let w = std::f64::consts::TAU * hz / 8000.0;
        ALLPASS
            .iter()
            .map(|a| (1.0 - a * a) / (1.0 + 2.0 * a * w.cos() + a * a))
            .sum()
    };
    let (lo, mid, hi) = (delay(500.0), delay(1700.0), delay(2900.0));
    assert!(
        (lo - mid) / 8.0 > 1.45 && (lo - mid) / 8.0 < 1.65,
        "{lo} {mid}"
    );
    assert!((hi - mid).abs() / 8.0 < 0.1, "{hi} {mid}");
}

#[test]
fn equalizer_copes_with_line_distortion() {
    for rate in [9600, 7200] {
        let bits = random_bits(200_000, 31);
        let sig = impair(
            &distort(&our_tx(V29, rate, false, &bits, 400, 800)),
            5.0,
            50.0,
            Some(30.0),
            32,
        );
        let (c, rx) = our_rx(V29, rate, &sig, 160);
        let (errors, _) = best_aligned_errors(&bits, &c.bits);
        eprintln!(
            "distorted line {rate}: {errors} errors, {:?}, {:?}",
            c.events,
            rx.quality()
        );
        assert_eq!(errors, 0);
    }
}

#[test]
fn end_of_signal_found_in_noise_at_low_snr() {
    // At 12 dB the noise after the signal is far above the carrier-off threshold and the
    // signal's end is a fall of only 12 dB: the receiver must still notice that the signal
    // has gone, stop delivering bits and report the carrier down.
    let bits = random_bits(50_000, 41);
    let mut clean = our_tx(V29, 4800, false, &bits, 400, 800);
    clean.extend(std::iter::repeat_n(0, 16_000));
    let sig = impair(&clean, 0.0, 0.0, Some(12.0), 42);
    let (c, _) = our_rx(V29, 4800, &sig, 160);
    let (errors, _) = best_aligned_errors(&bits, &c.bits);
    assert_eq!(errors, 0);
    assert!(c.bits.len() <= bits.len() + 72 * 2, "{} bits", c.bits.len());
    assert_eq!(
        c.events.last(),
        Some(&RxEvent::CarrierDown),
        "{:?}",
        c.events
    );
}

#[test]
fn any_level_from_minus_40_to_0_dbm0() {
    use modem::TxConfig;
    for level in [-40.0, -25.0, 0.0] {
        let bits = random_bits(20_000, 51);
        let mut tx = modem::new_transmitter(
            V29,
            &TxConfig {
                rate: 9600,
                short_train: false,
                level_dbm0: level,
            },
        )
        .unwrap();
        let sig = pad(400, &drain(&mut tx, &bits, |_| 160), 800);
        let (c, rx) = our_rx(V29, 9600, &sig, 160);
        let q = rx.quality();
        assert_eq!(best_aligned_errors(&bits, &c.bits).0, 0, "{level} dBm0");
        assert!((q.level_dbm0 - level).abs() < 1.0, "{level}: {q:?}");
    }
}
