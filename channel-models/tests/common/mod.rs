//! Signals and measurements shared by the channel-model tests.
#![allow(dead_code)]

use channel_models::AudioStage;

/// A sine at `hz` with peak `peak`.
pub fn sine(n: usize, hz: f64, peak: f64) -> Vec<i16> {
    (0..n)
        .map(|i| (peak * (std::f64::consts::TAU * hz * i as f64 / 8000.0).sin()).round() as i16)
        .collect()
}

struct XorShiftBits(u32);
impl modem::BitSource for XorShiftBits {
    fn next_bit(&mut self) -> Option<bool> {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        Some(self.0 & 1 == 1)
    }
}

/// `n` samples of a V.29 9600 bit/s transmission (training, then random data) at -10 dBm0.
pub fn v29_signal(n: usize) -> Vec<i16> {
    let cfg = modem::TxConfig {
        rate: 9600,
        short_train: false,
        level_dbm0: -10.0,
    };
    let mut tx = modem::new_transmitter(modem::ModemKind::V29, &cfg).expect("V.29 transmitter");
    let mut src = XorShiftBits(0x1234_5678);
    let mut out = vec![0i16; n];
    let mut filled = 0;
    while filled < n && !tx.is_finished() {
        filled += tx.fill(&mut out[filled..], &mut src);
    }
    out
}

/// A vowel-like signal: a 110–140 Hz glottal pulse train through three formant resonators
/// (700, 1220, 2600 Hz), with a syllable-rate envelope, at about -15 dBm0.
pub fn speech_like(n: usize) -> Vec<i16> {
    let formants = [
        (700.0, 90.0, 1.0),
        (1220.0, 110.0, 0.6),
        (2600.0, 160.0, 0.25),
    ];
    let mut res: Vec<(f64, f64, f64, f64, f64)> = formants
        .iter()
        .map(|&(f, bw, g)| {
            let r = (-std::f64::consts::PI * bw / 8000.0).exp();
            let c = 2.0 * r * (std::f64::consts::TAU * f / 8000.0).cos();
            (c, -r * r, g, 0.0, 0.0)
        })
        .collect();
    let mut phase = 0.0;
    (0..n)
        .map(|i| {
            let t = i as f64 / 8000.0;
            let f0 = 125.0 + 15.0 * (std::f64::consts::TAU * 0.7 * t).sin();
            phase += f0 / 8000.0;
            let pulse = if phase >= 1.0 {
                phase -= 1.0;
                1.0
            } else {
                0.0
            };
            let mut y = 0.0;
            for (c, d, g, y1, y2) in res.iter_mut() {
                let v = pulse + *c * *y1 + *d * *y2;
                *y2 = *y1;
                *y1 = v;
                y += *g * v;
            }
            let env = 0.6 + 0.4 * (std::f64::consts::TAU * 3.0 * t).sin();
            (y * env * 900.0).round().clamp(-32768.0, 32767.0) as i16
        })
        .collect()
}

/// SNR of `out` against `reference` after `skip` samples.
pub fn snr_db(reference: &[i16], out: &[i16], skip: usize) -> f64 {
    let (mut s, mut e) = (0.0f64, 0.0f64);
    for (&r, &o) in reference.iter().zip(out).skip(skip) {
        s += (r as f64).powi(2);
        e += (r as f64 - o as f64).powi(2);
    }
    10.0 * (s / e.max(1e-9)).log10()
}

/// The best SNR over output delays `0..max_lag` and the optimal gain: how much of the
/// waveform a codec kept, whatever its delay and level. Returns (SNR dB, lag, correlation).
pub fn aligned_snr_db(
    reference: &[i16],
    out: &[i16],
    skip: usize,
    max_lag: usize,
) -> (f64, usize, f64) {
    let mut best = (f64::NEG_INFINITY, 0, 0.0);
    for lag in 0..max_lag {
        let (mut rr, mut oo, mut ro) = (0.0f64, 0.0f64, 0.0f64);
        for i in skip..reference.len().min(out.len().saturating_sub(lag)) {
            let r = reference[i] as f64;
            let o = out[i + lag] as f64;
            rr += r * r;
            oo += o * o;
            ro += r * o;
        }
        let rho = ro / (rr * oo).sqrt().max(1e-9);
        // With the optimal gain the residual is rr (1 - rho^2).
        let snr = -10.0 * (1.0 - rho * rho).max(1e-12).log10();
        if snr > best.0 {
            best = (snr, lag, rho);
        }
    }
    best
}

/// Runs `input` through `stage` in one call.
pub fn run(stage: &mut dyn AudioStage, input: &[i16]) -> Vec<i16> {
    let mut out = Vec::new();
    stage.process(input, &mut out);
    out
}

/// Checks that `make()` gives the same output whether fed whole or in blocks of 1, 7, 160
/// and 333 samples.
pub fn assert_block_invariant<S: AudioStage>(mut make: impl FnMut() -> S, input: &[i16]) {
    let whole = run(&mut make(), input);
    for block in [1usize, 7, 160, 333] {
        let mut stage = make();
        let mut out = Vec::new();
        for chunk in input.chunks(block) {
            stage.process(chunk, &mut out);
        }
        assert_eq!(out.len(), whole.len(), "block {block}: length");
        let first = out.iter().zip(&whole).position(|(a, b)| a != b);
        assert_eq!(first, None, "block {block}: first differing sample");
    }
}
