//! VAD and comfort noise: loud signals pass after the onset, quiet ones are replaced.

mod common;
use common::{assert_block_invariant, run, sine, v29_signal};

use channel_models::AudioStage;
use channel_models::vad::{VAD_FRAME, Vad, VadConfig};

#[test]
fn loud_signal_passes_after_onset_clipping() {
    // 200 ms of near-silence, then V.29 at -10 dBm0.
    let mut input = vec![3i16; 1600];
    input.extend(v29_signal(8000));
    let mut vad = Vad::new(VadConfig::default(), 1);
    let out = run(&mut vad, &input);
    // One frame of latency; the first active frame is clipped (onset of 2 frames).
    let lag = VAD_FRAME;
    let first_active = 1600 + input[1600..].iter().position(|&v| v.abs() > 500).unwrap();
    let onset_frame_end = (first_active / VAD_FRAME + 2) * VAD_FRAME;
    assert_eq!(
        &out[onset_frame_end + lag..],
        &input[onset_frame_end..input.len() - lag]
    );
    let clipped = (1600..onset_frame_end)
        .filter(|&i| input[i] != out[i + lag])
        .count();
    println!(
        "VAD: {clipped} samples of the modem onset clipped, {} of {} frames suppressed",
        vad.suppressed_frames(),
        vad.frames()
    );
    assert!(clipped > 0);
}

#[test]
fn quiet_signal_is_replaced_by_comfort_noise() {
    // A tone at -45 dBm0: below the -40 dBm0 threshold, so it never gets through.
    let tone = sine(8000, 1800.0, 22786.0 * 10f64.powf(-45.0 / 20.0));
    let mut vad = Vad::new(VadConfig::default(), 2);
    let out = run(&mut vad, &tone);
    assert_eq!(vad.suppressed_frames(), vad.frames());
    // Comfort noise at most -50 dBm0.
    let p = out[800..].iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / 7200.0;
    let dbm0 = 10.0 * (p / (22786.0f64.powi(2) / 2.0)).log10();
    println!("comfort noise for a -45 dBm0 tone: {dbm0:.1} dBm0");
    assert!((dbm0 + 50.0).abs() < 0.7, "{dbm0}");
}

#[test]
fn hangover_holds_then_closes() {
    let mut input = v29_signal(4000);
    input.extend(vec![0i16; 4000]);
    let mut vad = Vad::new(VadConfig::default(), 3);
    let mut out = Vec::new();
    vad.process(&input, &mut out);
    // 20 frames of hangover after the signal stops, then suppression.
    let after = input.len() / VAD_FRAME - 4000 / VAD_FRAME;
    assert_eq!(vad.frames() as usize, 100);
    assert!(vad.suppressed_frames() as usize >= after - 20 - 1);
}

#[test]
fn deterministic_and_block_invariant() {
    let mut input = vec![0i16; 2000];
    input.extend(v29_signal(4000));
    input.extend(vec![0i16; 3000]);
    assert_block_invariant(|| Vad::new(VadConfig::default(), 9), &input);
    let a = run(&mut Vad::new(VadConfig::default(), 9), &input);
    let b = run(&mut Vad::new(VadConfig::default(), 9), &input);
    assert_eq!(a, b);
}
