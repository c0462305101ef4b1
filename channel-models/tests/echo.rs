//! Hybrid echo, the NLMS canceller and its 2100 Hz phase-reversal disabler.

mod common;
use common::{assert_block_invariant, sine, v29_signal};

use channel_models::echo::{EchoCanceller, HybridEcho};

fn power(x: &[i16]) -> f64 {
    x.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / x.len() as f64
}

/// The echo alone of `tx` through a hybrid (receive side silent).
fn echo_of(tx: &[i16], delay_ms: f64, erl_db: f64) -> Vec<i16> {
    let mut out = Vec::new();
    HybridEcho::new(delay_ms, erl_db).process_pair(tx, &vec![0; tx.len()], &mut out);
    out
}

fn cancel(ec: &mut EchoCanceller, reference: &[i16], with_echo: &[i16], block: usize) -> Vec<i16> {
    let mut out = Vec::new();
    for (r, d) in reference.chunks(block).zip(with_echo.chunks(block)) {
        ec.process(r, d, &mut out);
    }
    out
}

#[test]
fn hybrid_echo_has_its_erl_and_delay() {
    // ERL is defined on a white signal.
    let mut rng = channel_models::rng::Rng::new(5);
    let tx: Vec<i16> = (0..16_000)
        .map(|_| (3000.0 * rng.gaussian()) as i16)
        .collect();
    let echo = echo_of(&tx, 20.0, 12.0);
    let erl = 10.0 * (power(&tx[2000..]) / power(&echo[2000..])).log10();
    println!("hybrid ERL asked 12 dB, measured {erl:.2} dB (white noise)");
    assert!((erl - 12.0).abs() < 0.3, "{erl}");
    // Nothing comes back before the round-trip delay.
    assert!(echo[..160].iter().all(|&v| v == 0));
    assert!(echo[160..200].iter().any(|&v| v != 0));
}

#[test]
fn canceller_converges() {
    let tx = v29_signal(32_000);
    let echo = echo_of(&tx, 20.0, 12.0);
    let mut ec = EchoCanceller::new(64.0, true);
    let out = cancel(&mut ec, &tx, &echo, 160);
    let erle = 10.0 * (power(&echo[24_000..]) / power(&out[24_000..]).max(1e-9)).log10();
    println!("NLMS canceller, 64 ms tail, echo 20 ms/12 dB: ERLE after 3 s {erle:.1} dB");
    assert!(erle > 25.0, "ERLE {erle:.1} dB");
    assert!(!ec.is_disabled());
}

/// 2100 Hz at -12 dBm0 with a phase reversal every 450 ms (V.25 ANS with reversals).
fn ans_with_reversals(n: usize) -> Vec<i16> {
    let peak = 22786.0 * 10f64.powf(-12.0 / 20.0);
    (0..n)
        .map(|i| {
            let flips = (i / 3600) % 2;
            let p = std::f64::consts::TAU * 2100.0 * i as f64 / 8000.0
                + if flips == 1 {
                    std::f64::consts::PI
                } else {
                    0.0
                };
            (peak * p.sin()).round() as i16
        })
        .collect()
}

#[test]
fn phase_reversal_tone_disables_plain_ced_does_not() {
    let tone = ans_with_reversals(16_000);
    let echo = echo_of(&tone, 20.0, 12.0);
    let mut ec = EchoCanceller::new(64.0, true);
    let out = cancel(&mut ec, &tone, &echo, 160);
    let at = ec.disabler().tripped_at.expect("disabler tripped");
    println!(
        "tone disabler tripped at {:.0} ms (first reversal at 450 ms)",
        at as f64 / 8.0
    );
    assert!(ec.is_disabled());
    assert!((3600..6000).contains(&at), "{at}");
    // Disabled: the echo passes untouched.
    assert_eq!(&out[7000..], &echo[7000..]);

    // Fax CED: 2100 Hz without reversals leaves the canceller running.
    let ced = sine(16_000, 2100.0, 22786.0 * 10f64.powf(-12.0 / 20.0));
    let echo = echo_of(&ced, 20.0, 12.0);
    let mut ec = EchoCanceller::new(64.0, true);
    cancel(&mut ec, &ced, &echo, 160);
    assert!(!ec.is_disabled());
    assert_eq!(ec.disabler().tripped_at, None);

    // A canceller told to ignore the disabler keeps cancelling.
    let mut ec = EchoCanceller::new(64.0, false);
    let out = cancel(&mut ec, &tone, &echo_of(&tone, 20.0, 12.0), 160);
    assert!(!ec.is_disabled());
    assert_ne!(&out[7000..], &echo_of(&tone, 20.0, 12.0)[7000..]);
}

#[test]
fn disabler_releases_after_250_ms_of_silence() {
    let mut tone = ans_with_reversals(12_000);
    let echo_path = |t: &[i16]| echo_of(t, 20.0, 12.0);
    let mut ec = EchoCanceller::new(32.0, true);
    cancel(&mut ec, &tone, &echo_path(&tone), 80);
    assert!(ec.is_disabled());
    // 75 ms of silence (the T.30 gap) keeps it disabled; 300 ms releases it.
    tone = vec![0; 600];
    cancel(&mut ec, &tone, &tone, 80);
    assert!(ec.is_disabled());
    tone = vec![0; 2400];
    cancel(&mut ec, &tone, &tone, 80);
    assert!(!ec.is_disabled());
}

#[test]
fn block_size_invariance() {
    let tx = v29_signal(6000);
    assert_block_invariant(|| HybridEcho::new(12.5, 9.0), &tx);
    let echo = echo_of(&tx, 20.0, 12.0);
    let whole = cancel(&mut EchoCanceller::new(32.0, true), &tx, &echo, tx.len());
    for block in [1, 7, 160] {
        assert_eq!(
            cancel(&mut EchoCanceller::new(32.0, true), &tx, &echo, block),
            whole
        );
    }
}

#[test]
fn delay_stage_delays_by_whole_samples() {
    use channel_models::AudioStage;
    use channel_models::impair::Delay;
    let input: Vec<i16> = (1..=400).map(|i| i as i16).collect();
    for block in [1, 7, 160] {
        let mut d = Delay::new(25.0);
        let mut out = Vec::new();
        for c in input.chunks(block) {
            d.process(c, &mut out);
        }
        assert_eq!(out.len(), input.len());
        assert!(out[..200].iter().all(|&x| x == 0), "block {block}");
        assert_eq!(&out[200..], &input[..200], "block {block}");
    }
}

#[test]
fn far_end_echo_reads_from_toml() {
    use channel_models::chain::{CancellerMode, ChainSpec};
    let spec = ChainSpec::from_toml(
        "name = \"sat\"\nstages = [{ type = \"delay\", ms = 270.0 }]\n\
         far_end_echo = { erl_db = 12.0, canceller = \"always-on\" }\n",
    )
    .unwrap();
    let echo = spec.far_end_echo.unwrap();
    assert_eq!(echo.erl_db, 12.0);
    assert_eq!(echo.canceller, CancellerMode::AlwaysOn);
    assert_eq!(echo.tail_ms, 32.0);
    assert_eq!(echo.delay_ms, 0.0);
    let preset = ChainSpec::preset("pstn-echo-cancelled").unwrap();
    assert_eq!(preset.far_end_echo.unwrap().canceller, CancellerMode::On);
}
