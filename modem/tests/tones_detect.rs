//! Tone generators against the tone detector: detection, measurement accuracy, noise and
//! level limits, and signals that must not be taken for CNG or CED.

use channel_models::AudioStage;
use channel_models::line::Awgn;
use channel_models::rng::Rng;
use modem::hdlc::{HdlcFramer, HdlcTxConfig};
use modem::level::{dbm0_to_rms, to_i16};
use modem::tones::{Tone, ToneDetector, ToneEvent, ToneSegment, ToneTx};
use modem::v21::{V21Channel, V21Tx};
use modem::{Transmitter, TxConfig};
use std::f64::consts::TAU;

fn render(tx: &mut dyn Transmitter, max_samples: usize) -> Vec<i16> {
    let mut out = vec![0i16; max_samples];
    let mut none = || None;
    let mut done = 0;
    while done < max_samples && !tx.is_finished() {
        let end = (done + 160).min(max_samples);
        done += tx.fill(&mut out[done..end], &mut none);
    }
    out.truncate(done);
    out
}

fn detect(samples: &[i16]) -> Vec<ToneEvent> {
    let mut det = ToneDetector::new();
    let mut events = Vec::new();
    for block in samples.chunks(160) {
        det.process(block, &mut |e| events.push(e));
    }
    // Trailing silence closes any tone still on.
    det.process(&[0; 800], &mut |e| events.push(e));
    events
}

fn with_silence(lead: usize, signal: &[i16], tail: usize) -> Vec<i16> {
    let mut v = vec![0i16; lead];
    v.extend_from_slice(signal);
    v.extend(std::iter::repeat_n(0, tail));
    v
}

fn add_noise(samples: &[i16], snr_db: f64, signal_dbm0: f64, seed: u64) -> Vec<i16> {
    let mut awgn = Awgn::with_snr(snr_db, signal_dbm0, seed);
    let mut out = Vec::new();
    awgn.process(samples, &mut out);
    out
}

fn ons(events: &[ToneEvent], tone: Tone) -> Vec<(f32, f32)> {
    events
        .iter()
        .filter_map(|e| match *e {
            ToneEvent::On {
                tone: t,
                freq_hz,
                level_dbm0,
                ..
            } if t == tone => Some((freq_hz, level_dbm0)),
            _ => None,
        })
        .collect()
}

fn offs(events: &[ToneEvent], tone: Tone) -> Vec<(f32, u32)> {
    events
        .iter()
        .filter_map(|e| match *e {
            ToneEvent::Off {
                tone: t,
                duration_ms,
                phase_reversals,
                ..
            } if t == tone => Some((duration_ms, phase_reversals)),
            _ => None,
        })
        .collect()
}

#[test]
fn cng_cadence_is_detected_and_measured() {
    let mut tx = ToneTx::cng(-10.0);
    // Three cadences: 10.5 s.
    let signal = with_silence(1237, &render(&mut tx, 84_000), 0);
    let events = detect(&signal);
    let on = ons(&events, Tone::Cng);
    let off = offs(&events, Tone::Cng);
    assert_eq!(on.len(), 3, "{events:?}");
    assert_eq!(off.len(), 3, "{events:?}");
    assert!(ons(&events, Tone::Ced).is_empty());
    for (f, l) in on {
        assert!((f - 1100.0).abs() < 1.0, "frequency {f}");
        assert!((l + 10.0).abs() < 0.5, "level {l}");
    }
    for (d, _) in off {
        assert!((d - 500.0).abs() <= 20.0, "duration {d}");
    }
}

#[test]
fn ced_is_detected_with_duration() {
    let mut tx = ToneTx::ced(3300, false, -10.0);
    let signal = with_silence(411, &render(&mut tx, 40_000), 0);
    let events = detect(&signal);
    let on = ons(&events, Tone::Ced);
    let off = offs(&events, Tone::Ced);
    assert_eq!(on.len(), 1, "{events:?}");
    assert!((on[0].0 - 2100.0).abs() < 1.0);
    assert!((on[0].1 + 10.0).abs() < 0.5);
    assert_eq!(off.len(), 1);
    assert!((off[0].0 - 3300.0).abs() <= 20.0, "{off:?}");
    assert_eq!(off[0].1, 0);
    assert!(ons(&events, Tone::Cng).is_empty());
}

#[test]
fn ans_phase_reversals_are_counted_and_do_not_break_the_tone() {
    for lead in [0, 17, 40, 79, 333] {
        let mut tx = ToneTx::ced(3300, true, -12.0);
        let signal = with_silence(lead, &render(&mut tx, 40_000), 0);
        let events = detect(&signal);
        let off = offs(&events, Tone::Ced);
        assert_eq!(ons(&events, Tone::Ced).len(), 1, "lead {lead}: {events:?}");
        assert_eq!(off.len(), 1, "lead {lead}: {events:?}");
        assert!((off[0].0 - 3300.0).abs() <= 20.0);
        // Reversals at 450, 900, … 3150 ms.
        assert_eq!(off[0].1, 7, "lead {lead}");
    }
}

#[test]
fn detection_through_10_db_snr() {
    for seed in 1..=3 {
        let mut cng = ToneTx::cng(-10.0);
        let signal = add_noise(&render(&mut cng, 28_000), 10.0, -10.0, seed);
        let events = detect(&signal);
        let on = ons(&events, Tone::Cng);
        assert_eq!(on.len(), 1, "{events:?}");
        assert!((on[0].0 - 1100.0).abs() < 3.0, "{on:?}");
        assert!((on[0].1 + 10.0).abs() < 1.0, "{on:?}");
        assert!((offs(&events, Tone::Cng)[0].0 - 500.0).abs() <= 30.0);

        let mut ced = ToneTx::ced(3300, false, -10.0);
        let signal = add_noise(&render(&mut ced, 30_000), 10.0, -10.0, seed + 100);
        let events = detect(&signal);
        let on = ons(&events, Tone::Ced);
        assert_eq!(on.len(), 1, "{events:?}");
        assert!((on[0].0 - 2100.0).abs() < 3.0, "{on:?}");
        assert_eq!(offs(&events, Tone::Ced).len(), 1, "{events:?}");
        let off = offs(&events, Tone::Ced);
        assert!((off[0].0 - 3300.0).abs() <= 30.0, "{off:?}");
    }
}

#[test]
fn detection_at_minus_43_dbm0() {
    let mut ced = ToneTx::ced(3000, false, -43.0);
    let events = detect(&render(&mut ced, 30_000));
    let on = ons(&events, Tone::Ced);
    assert_eq!(on.len(), 1, "{events:?}");
    assert!((on[0].1 + 43.0).abs() < 0.5, "{on:?}");
    assert!((on[0].0 - 2100.0).abs() < 2.0, "{on:?}");
    let mut cng = ToneTx::cng(-43.0);
    let events = detect(&render(&mut cng, 8000));
    assert_eq!(ons(&events, Tone::Cng).len(), 1, "{events:?}");
    // Well below the threshold nothing is reported.
    let mut faint = ToneTx::ced(3000, false, -55.0);
    assert!(detect(&render(&mut faint, 30_000)).is_empty());
}

#[test]
fn frequency_tolerance() {
    let tone = |hz: f32| {
        let mut tx = ToneTx::new(
            &[ToneSegment {
                freq_hz: hz,
                duration_ms: 1000,
            }],
            false,
            -10.0,
        );
        detect(&render(&mut tx, 8000))
    };
    for (hz, tone_kind, expect) in [
        (2088.0, Tone::Ced, true),
        (2112.0, Tone::Ced, true),
        (2125.0, Tone::Ced, false),
        (2070.0, Tone::Ced, false),
        (1065.0, Tone::Cng, true),
        (1135.0, Tone::Cng, true),
        (1160.0, Tone::Cng, false),
        (1030.0, Tone::Cng, false),
    ] {
        let events = tone(hz);
        let on = ons(&events, tone_kind);
        assert_eq!(!on.is_empty(), expect, "{hz} Hz: {events:?}");
        if expect {
            assert!((on[0].0 - hz).abs() < 1.0, "{hz} Hz measured {}", on[0].0);
        }
    }
}

/// A sung vowel: harmonics of a vibrato fundamental, shaped by formants, one of them near
/// 2100 Hz so that the answer-tone band holds much of the energy.
fn vowel(f0: f64, vibrato: f64, formants: &[(f64, f64)], seconds: f64) -> Vec<i16> {
    let n = (seconds * 8000.0) as usize;
    let harmonics = (3800.0 / (f0 * (1.0 + vibrato))) as usize;
    let mut phases = vec![0f64; harmonics + 1];
    let amp = dbm0_to_rms(-12.0);
    let gain = |f: f64| -> f64 {
        formants
            .iter()
            .map(|&(fc, bw)| 1.0 / (1.0 + ((f - fc) / bw).powi(2)))
            .sum()
    };
    let norm = (1..=harmonics)
        .map(|k| gain(k as f64 * f0).powi(2) / 2.0)
        .sum::<f64>()
        .sqrt();
    (0..n)
        .map(|i| {
            let t = i as f64 / 8000.0;
            let f = f0 * (1.0 + vibrato * (TAU * 5.5 * t).sin());
            let mut x = 0.0;
            for (k, ph) in phases.iter_mut().enumerate().skip(1) {
                *ph += TAU * f * k as f64 / 8000.0;
                x += gain(k as f64 * f) * ph.sin();
            }
            to_i16((x / norm) as f32 * amp)
        })
        .collect()
}

#[test]
fn no_ced_on_vowels_near_2000_hz() {
    let cases: [(&str, Vec<i16>); 4] = [
        // Whistled/sung near 2000 Hz, harmonics above, 1.5 % vibrato.
        (
            "2000 Hz",
            vowel(2000.0, 0.015, &[(2000.0, 300.0), (3900.0, 400.0)], 3.0),
        ),
        // The same centred right on the answer-tone band.
        (
            "2090 Hz",
            vowel(2090.0, 0.01, &[(2090.0, 300.0), (3900.0, 400.0)], 3.0),
        ),
        // A low voice with a strong formant at 2100 Hz.
        (
            "F0 210 Hz",
            vowel(210.0, 0.02, &[(2100.0, 60.0), (600.0, 100.0)], 3.0),
        ),
        // The same with a dominant harmonic sitting on 2100 Hz and mild vibrato.
        ("F0 175 Hz", vowel(175.0, 0.008, &[(2100.0, 40.0)], 3.0)),
    ];
    for (name, signal) in cases {
        let events = detect(&signal);
        assert!(events.is_empty(), "{name}: {events:?}");
        let events = detect(&add_noise(&signal, 25.0, -12.0, 9));
        assert!(events.is_empty(), "{name} + noise: {events:?}");
    }
}

/// Noise through two resonators (formants), with syllable-rate loudness changes.
fn speech_like_noise(formants: &[(f64, f64)], seconds: f64, seed: u64) -> Vec<i16> {
    let mut rng = Rng::new(seed);
    let n = (seconds * 8000.0) as usize;
    let coeffs: Vec<(f64, f64)> = formants
        .iter()
        .map(|&(fc, bw)| {
            let r = (-std::f64::consts::PI * bw / 8000.0).exp();
            (2.0 * r * (TAU * fc / 8000.0).cos(), -r * r)
        })
        .collect();
    let mut state = vec![(0f64, 0f64); formants.len()];
    let raw: Vec<f64> = (0..n)
        .map(|i| {
            let e = rng.gaussian();
            let mut y = 0.0;
            for ((a1, a2), (y1, y2)) in coeffs.iter().zip(state.iter_mut()) {
                let v = e + a1 * *y1 + a2 * *y2;
                *y2 = *y1;
                *y1 = v;
                y += v;
            }
            let t = i as f64 / 8000.0;
            y * (0.6 + 0.4 * (TAU * 4.0 * t).sin())
        })
        .collect();
    let rms = (raw.iter().map(|v| v * v).sum::<f64>() / n as f64).sqrt();
    let amp = dbm0_to_rms(-12.0) as f64 / rms;
    raw.iter().map(|v| to_i16((v * amp) as f32)).collect()
}

#[test]
fn no_tone_on_speech_like_noise() {
    for seed in 1..=3 {
        for formants in [
            vec![(500.0, 80.0), (1500.0, 100.0), (2500.0, 120.0)],
            vec![(700.0, 60.0), (1100.0, 60.0), (2100.0, 60.0)],
        ] {
            let signal = speech_like_noise(&formants, 4.0, seed);
            let events = detect(&signal);
            assert!(events.is_empty(), "{formants:?} seed {seed}: {events:?}");
        }
    }
}

#[test]
fn no_tone_on_v21_signals() {
    for channel in [V21Channel::Ch1, V21Channel::Ch2] {
        let mut framer = HdlcFramer::new(HdlcTxConfig::default());
        let mut rng = Rng::new(77);
        for len in [3, 20, 60, 130, 250] {
            let data: Vec<u8> = (0..len).map(|_| rng.below(256) as u8).collect();
            framer.push(&data);
        }
        framer.push(&[0x7E; 40]);
        framer.push(&[0x00; 40]);
        framer.push(&[0xFF; 40]);
        let mut tx = V21Tx::new(
            channel,
            &TxConfig {
                rate: 300,
                ..Default::default()
            },
        )
        .unwrap();
        let mut signal = Vec::new();
        let mut block = [0i16; 160];
        while !tx.is_finished() {
            let n = tx.fill(&mut block, &mut framer);
            signal.extend_from_slice(&block[..n]);
        }
        assert!(signal.len() > 8000 * 5);
        let events = detect(&signal);
        assert!(events.is_empty(), "{channel:?}: {events:?}");
    }
}

#[test]
fn generators_keep_their_level_and_cadence() {
    let mut tx = ToneTx::cng(-20.0);
    let s = render(&mut tx, 28_000 * 2);
    assert_eq!(s.len(), 56_000);
    assert!(!tx.is_finished());
    let on = &s[..4000];
    let power = on.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / on.len() as f64;
    let want = dbm0_to_rms(-20.0) as f64;
    assert!((power.sqrt() / want - 1.0).abs() < 0.01);
    assert!(s[4000..28_000].iter().all(|&v| v == 0));
    assert!(s[28_000..28_010].iter().any(|&v| v != 0));
    let mut ced = ToneTx::ced(2600, false, -10.0);
    assert_eq!(render(&mut ced, 100_000).len(), 20_800);
    assert!(ced.is_finished());
    let mut quiet = ToneTx::silence(75);
    let q = render(&mut quiet, 10_000);
    assert_eq!(q.len(), 600);
    assert!(q.iter().all(|&v| v == 0));
}
