//! Line stages: filters meet their amplitude and delay curves; level, DC, hum, phase jitter
//! and slips do what their parameters say; all are block-size invariant.

mod common;
use common::{assert_block_invariant, run, sine, v29_signal};

use channel_models::filter::{LINE_FILTER_DELAY, LineFilter, LinePreset};
use channel_models::impair::{ClockSlip, DcOffset, Gain, Hum, PhaseJitter, SlipKind};
use std::f64::consts::TAU;

/// The DTFT of `h` at `hz`: (magnitude, phase).
fn dtft(h: &[f64], hz: f64) -> (f64, f64) {
    let w = TAU * hz / 8000.0;
    let (mut re, mut im) = (0.0, 0.0);
    for (n, &x) in h.iter().enumerate() {
        re += x * (w * n as f64).cos();
        im -= x * (w * n as f64).sin();
    }
    ((re * re + im * im).sqrt(), im.atan2(re))
}

#[test]
fn line_filters_meet_amplitude_and_delay() {
    for preset in LinePreset::ALL {
        let resp = preset.response();
        let mut impulse = vec![0i16; 600];
        impulse[0] = 32767;
        let h: Vec<f64> = run(&mut LineFilter::preset(preset), &impulse)
            .iter()
            .map(|&x| x as f64 / 32767.0)
            .collect();
        let ref_mag = dtft(&h, 1004.0).0;
        let mut worst = (0.0f64, 0.0f64);
        for hz in (400..=3200).step_by(100).map(|f| f as f64) {
            let (m, _) = dtft(&h, hz);
            let gain_db = 20.0 * (m / ref_mag).log10();
            let want_db = resp.amplitude_db(hz) - resp.amplitude_db(1004.0);
            // Group delay from the phase slope over ±2 Hz.
            let (_, p1) = dtft(&h, hz - 2.0);
            let (_, p2) = dtft(&h, hz + 2.0);
            let mut dp = p2 - p1;
            while dp > std::f64::consts::PI {
                dp -= TAU;
            }
            while dp < -std::f64::consts::PI {
                dp += TAU;
            }
            let delay_us = -dp / (TAU * 4.0) * 1e6 - LINE_FILTER_DELAY as f64 / 8000.0 * 1e6;
            let want_us = resp.delay_us(hz);
            worst.0 = worst.0.max((gain_db - want_db).abs());
            worst.1 = worst.1.max((delay_us - want_us).abs());
        }
        println!(
            "{}: worst amplitude error {:.2} dB, worst delay error {:.0} µs over 400-3200 Hz",
            preset.name(),
            worst.0,
            worst.1
        );
        assert!(
            worst.0 < 0.5,
            "{}: amplitude error {:.2} dB",
            preset.name(),
            worst.0
        );
        assert!(
            worst.1 < 150.0,
            "{}: delay error {:.0} µs",
            preset.name(),
            worst.1
        );
    }
}

#[test]
fn telephone_band_rejects_out_of_band() {
    for hz in [100.0, 3800.0] {
        let out = run(
            &mut LineFilter::preset(LinePreset::TelephoneBand),
            &sine(8000, hz, 10000.0),
        );
        let peak = out[1000..].iter().map(|&x| x.unsigned_abs()).max().unwrap();
        assert!(peak < 300, "{hz} Hz: peak {peak}");
    }
}

fn rms(x: &[i16]) -> f64 {
    (x.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
}

#[test]
fn gain_dc_and_hum_levels() {
    let tone = sine(8000, 1004.0, 10000.0);
    let out = run(&mut Gain::new(-6.0), &tone);
    let ratio_db = 20.0 * (rms(&out) / rms(&tone)).log10();
    assert!((ratio_db + 6.0).abs() < 0.05, "{ratio_db}");

    let out = run(&mut DcOffset::new(250.0), &tone);
    let mean = out.iter().map(|&v| v as f64).sum::<f64>() / out.len() as f64;
    assert!((mean - 250.0).abs() < 1.0, "{mean}");

    // Hum alone at -40 dBm0, no harmonics: RMS of a 0 dBm0 sine is 22786/sqrt 2.
    let out = run(&mut Hum::new(50.0, -40.0, 0), &vec![0; 8000]);
    let dbm0 = 20.0 * (rms(&out) / (22786.0 / 2f64.sqrt())).log10();
    assert!((dbm0 + 40.0).abs() < 0.1, "{dbm0}");
    // With two harmonics the power adds 1 + 1/4 + 1/16.
    let out = run(&mut Hum::new(60.0, -40.0, 2), &vec![0; 8000]);
    let dbm0 = 20.0 * (rms(&out) / (22786.0 / 2f64.sqrt())).log10();
    let want = -40.0 + 10.0 * (1.0f64 + 0.25 + 0.0625).log10();
    assert!((dbm0 - want).abs() < 0.1, "{dbm0} vs {want}");
}

#[test]
fn phase_jitter_peak_to_peak() {
    let tone = sine(16000, 1000.0, 10000.0);
    let out = run(&mut PhaseJitter::new(20.0, 120.0), &tone);
    // Demodulate against the tone delayed by the Hilbert transformer's 63 samples.
    let mut phases = Vec::new();
    for n in 2000..15000 {
        let w = TAU * 1000.0 * (n as f64 - 63.0) / 8000.0;
        // Average I/Q over one 1000 Hz period (8 samples) to remove the 2f term.
        let (mut i, mut q) = (0.0, 0.0);
        for k in 0..8 {
            let x = out[n + k] as f64;
            let wk = w + TAU * 1000.0 * k as f64 / 8000.0;
            i += x * wk.sin();
            q += x * wk.cos();
        }
        phases.push(q.atan2(i).to_degrees());
    }
    let pp = phases.iter().cloned().fold(f64::MIN, f64::max)
        - phases.iter().cloned().fold(f64::MAX, f64::min);
    println!("phase jitter asked 20° p-p at 120 Hz, measured {pp:.1}° p-p");
    // The one-period average smooths the 120 Hz wobble slightly.
    assert!((pp - 20.0).abs() < 2.0, "{pp}");
}

#[test]
fn clock_slips_change_length() {
    let input: Vec<i16> = (0..10_000).map(|i| i as i16).collect();
    let out = run(&mut ClockSlip::new(1000, SlipKind::Drop), &input);
    assert_eq!(out.len(), 9990);
    assert!(!out.contains(&999));
    let out = run(&mut ClockSlip::new(1000, SlipKind::Insert), &input);
    assert_eq!(out.len(), 10_010);
    assert_eq!(&out[998..1001], &[998, 999, 999]);
}

#[test]
fn line_stages_block_size_invariant() {
    let input = v29_signal(6000);
    for p in LinePreset::ALL {
        assert_block_invariant(|| LineFilter::preset(p), &input);
    }
    assert_block_invariant(|| Gain::new(3.0), &input);
    assert_block_invariant(|| DcOffset::new(-100.0), &input);
    assert_block_invariant(|| Hum::new(50.0, -45.0, 3), &input);
    assert_block_invariant(|| PhaseJitter::new(10.0, 50.0), &input);
    assert_block_invariant(|| ClockSlip::new(333, SlipKind::Drop), &input);
    assert_block_invariant(|| ClockSlip::new(333, SlipKind::Insert), &input);
}
