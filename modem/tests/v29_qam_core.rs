//! The generic receiver core on plain QPSK and 16-QAM: pulse-shaped symbols through AWGN,
//! carrier offset and clock drift must come back error-free after training on known symbols.

use channel_models::AudioStage;
use channel_models::line::{Awgn, ClockDrift, FrequencyShift};
use channel_models::rng::Rng;
use modem::dsp::{Complex32, PulseShaper};
use modem::qam::{DemodConfig, QamDemod};

const PREAMBLE: usize = 256;
const TRAIN: usize = 1024;

fn constellation(qam16: bool) -> Vec<Complex32> {
    let levels: &[f32] = if qam16 {
        &[-3.0, -1.0, 1.0, 3.0]
    } else {
        &[-1.0, 1.0]
    };
    let mut pts = vec![];
    for &i in levels {
        for &q in levels {
            pts.push(Complex32::new(i, q));
        }
    }
    pts
}

fn slice(pts: &[Complex32], y: Complex32) -> usize {
    let mut best = 0;
    let mut bd = f32::MAX;
    for (i, p) in pts.iter().enumerate() {
        let d = (y - p).norm_sqr();
        if d < bd {
            bd = d;
            best = i;
        }
    }
    best
}

/// Sends a two-point alternation, TRAIN known symbols and `data` random ones; returns the
/// symbol errors after training and the core's offset estimates.
fn run(
    qam16: bool,
    baud: u32,
    carrier: f32,
    hz: f64,
    ppm: f64,
    data: usize,
) -> (usize, f32, f32, f32) {
    let pts = constellation(qam16);
    let power = pts.iter().map(|p| p.norm_sqr()).sum::<f32>() / pts.len() as f32;
    let mut rng = Rng::new(7);
    let total = PREAMBLE + TRAIN + data;
    let syms: Vec<usize> = (0..total)
        .map(|i| {
            if i < PREAMBLE {
                // Alternate between two opposite corner points, as modems start.
                if i % 2 == 0 { 0 } else { pts.len() - 1 }
            } else {
                rng.below(pts.len() as u64) as usize
            }
        })
        .collect();
    let mut sh = PulseShaper::new(baud, carrier, 0.25, 10);
    sh.set_level(-10.0, power);
    let mut it = syms.iter();
    let n_samples = (total + 20) as u64 * 8000 / baud as u64;
    let mut tx = Vec::with_capacity(n_samples as usize);
    for _ in 0..n_samples {
        let x = sh.next_sample(&mut || it.next().map_or(Complex32::new(0.0, 0.0), |&s| pts[s]));
        tx.push(modem::level::to_i16(x));
    }
    let mut a = Vec::new();
    FrequencyShift::new(hz).process(&tx, &mut a);
    let mut b = Vec::new();
    ClockDrift::new(ppm).process(&a, &mut b);
    let mut rx = Vec::new();
    Awgn::with_snr(30.0, -10.0, 11).process(&b, &mut rx);

    let mut d = QamDemod::new(&DemodConfig::new(baud, carrier, power));
    let mut ys = vec![];
    let mut delay: Option<usize> = None;
    let mut errors = 0;
    for &x in &rx {
        let Some(y) = d.push(x as f32) else { continue };
        ys.push(y);
        let i = ys.len() - 1;
        match delay {
            None => {
                d.advance();
                // Once well into the known symbols, find the delay by differential
                // correlation (insensitive to carrier phase and offset).
                if i == PREAMBLE + 200 {
                    let mut best = (0.0, 0);
                    for dl in 0..60 {
                        let mut acc = Complex32::new(0.0, 0.0);
                        for j in i - 120..i {
                            let (s1, s0) = (syms[j - dl], syms[j - 1 - dl]);
                            acc += ys[j] * ys[j - 1].conj() * (pts[s1] * pts[s0].conj()).conj();
                        }
                        if acc.norm() > best.0 {
                            best = (acc.norm(), dl);
                        }
                    }
                    delay = Some(best.1);
                    d.align(y, pts[syms[i - best.1]]);
                    d.adapt(pts[syms[i - best.1]]);
                }
            }
            Some(dl) => {
                let k = i - dl;
                if k >= total {
                    break;
                }
                if k < PREAMBLE + TRAIN {
                    d.adapt(pts[syms[k]]);
                    if k == PREAMBLE + TRAIN - 1 {
                        d.freeze_agc(true);
                        d.set_eq_step(0.05);
                        d.set_carrier_bandwidth(0.005);
                        d.set_timing_bandwidth(0.001);
                        d.use_timing_integrator(true);
                        d.restart_clock_estimate();
                    }
                } else {
                    let s = slice(&pts, y);
                    if s != syms[k] {
                        errors += 1;
                    }
                    d.adapt(pts[s]);
                }
            }
        }
    }
    assert!(delay.is_some(), "never aligned");
    (
        errors,
        d.snr_db(),
        d.carrier_offset_hz(),
        d.timing_offset_ppm(),
    )
}

fn check(qam16: bool, hz: f64, ppm: f64) {
    let (errors, snr, cfo, tppm) = run(qam16, 2400, 1800.0, hz, ppm, 40_000);
    eprintln!(
        "qam16={qam16} {hz:+} Hz {ppm:+} ppm: errors {errors}, SNR {snr:.1} dB, offset {cfo:.2} Hz, clock {tppm:.0} ppm"
    );
    assert_eq!(errors, 0);
    assert!(snr > 24.0, "SNR estimate {snr}");
    assert!((cfo as f64 - hz).abs() < 1.0, "carrier estimate {cfo}");
    assert!((tppm as f64 - ppm).abs() < 40.0, "clock estimate {tppm}");
}

#[test]
fn qpsk_plus10hz_plus100ppm() {
    check(false, 10.0, 100.0);
}

#[test]
fn qpsk_minus10hz_minus100ppm() {
    check(false, -10.0, -100.0);
}

#[test]
fn qam16_plus10hz_minus100ppm() {
    check(true, 10.0, -100.0);
}

#[test]
fn qam16_minus10hz_plus100ppm() {
    check(true, -10.0, 100.0);
}

#[test]
fn qam16_at_1200_and_1600_baud() {
    for baud in [1200, 1600] {
        let (errors, snr, ..) = run(true, baud, 1800.0, 7.0, 100.0, 10_000);
        eprintln!("{baud} baud: errors {errors}, SNR {snr:.1}");
        assert_eq!(errors, 0, "{baud} baud");
    }
}
