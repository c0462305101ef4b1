//! G.729A through bcg729: speech-like audio survives, a V.29 signal does not.

mod common;
use common::{aligned_snr_db, assert_block_invariant, run, speech_like, v29_signal};

use channel_models::g729::{self, G729};

#[test]
fn speech_like_signal_survives() {
    if !g729::require() {
        return;
    }
    let input = speech_like(16_000);
    let out = run(&mut G729::new().unwrap(), &input);
    let (snr, lag, rho) = aligned_snr_db(&input, &out, 1600, 240);
    let level = |x: &[i16]| {
        10.0 * (x.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / x.len() as f64).log10()
    };
    let level_change = level(&out[1600..]) - level(&input[1600..]);
    println!(
        "G.729A speech-like: SNR {snr:.1} dB at lag {lag}, correlation {rho:.3}, level change {level_change:.1} dB"
    );
    assert!(rho > 0.85, "correlation {rho:.3}");
    assert!(
        level_change.abs() < 3.0,
        "level change {level_change:.1} dB"
    );
}

#[test]
fn v29_is_destroyed() {
    if !g729::require() {
        return;
    }
    let input = v29_signal(24_000);
    let out = run(&mut G729::new().unwrap(), &input);
    let (snr, lag, rho) = aligned_snr_db(&input, &out, 1600, 240);
    println!("G.729A V.29 9600 at -10 dBm0: SNR {snr:.1} dB at lag {lag}, correlation {rho:.3}");
    // Measured 2.8 dB; V.29 at 9600 bit/s needs roughly 20 dB.
    assert!(snr < 5.0, "SNR {snr:.1} dB");
}

#[test]
fn block_size_invariance() {
    if !g729::require() {
        return;
    }
    assert_block_invariant(|| G729::new().unwrap(), &speech_like(4000));
}

#[test]
fn unavailable_error_is_one_line() {
    let e = g729::G729Error::Unavailable(
        "cannot load libbcg729.so.0 (install the Debian package libbcg729-0): x".into(),
    );
    assert!(!e.to_string().contains('\n'));
    assert!(e.to_string().starts_with("G.729 unavailable: "));
}
