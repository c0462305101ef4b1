//! Line impairments: additive white Gaussian noise, frequency offset, sample-clock drift.

use crate::AudioStage;
use crate::rng::Rng;
use std::collections::VecDeque;

/// RMS in 16-bit units of a 0 dBm0 signal (a sine of peak 22 786, A-law full scale −3.14 dB).
pub const DBM0_RMS: f64 = 22_786.0 * std::f64::consts::FRAC_1_SQRT_2;

fn dbm0_to_rms(dbm0: f64) -> f64 {
    DBM0_RMS * 10f64.powf(dbm0 / 20.0)
}

#[inline]
fn to_i16(x: f64) -> i16 {
    x.round().clamp(-32768.0, 32767.0) as i16
}

/// White Gaussian noise over the whole 0–4000 Hz band, added to the signal.
#[derive(Debug, Clone)]
pub struct Awgn {
    rng: Rng,
    rms: f64,
}

impl Awgn {
    /// Noise at `noise_dbm0`.
    pub fn with_noise_dbm0(noise_dbm0: f64, seed: u64) -> Self {
        Awgn {
            rng: Rng::new(seed),
            rms: dbm0_to_rms(noise_dbm0),
        }
    }

    /// Noise `snr_db` below a signal of `signal_dbm0` (SNR measured over the full band).
    pub fn with_snr(snr_db: f64, signal_dbm0: f64, seed: u64) -> Self {
        Self::with_noise_dbm0(signal_dbm0 - snr_db, seed)
    }
}

impl AudioStage for Awgn {
    fn process(&mut self, input: &[i16], out: &mut Vec<i16>) {
        out.extend(
            input
                .iter()
                .map(|&x| to_i16(x as f64 + self.rms * self.rng.gaussian())),
        );
    }
}

const HILBERT_TAPS: usize = 127;

/// Shifts every frequency of the signal by a fixed number of hertz, as an FDM carrier
/// system with mismatched carriers does (single-sideband shift through a Hilbert transformer).
#[derive(Debug, Clone)]
pub struct FrequencyShift {
    taps: Vec<f64>,
    history: VecDeque<f64>,
    step: f64,
    n: u64,
}

impl FrequencyShift {
    /// A shift of `hz` (positive moves the spectrum up).
    pub fn new(hz: f64) -> Self {
        let mid = (HILBERT_TAPS / 2) as i64;
        let taps = (0..HILBERT_TAPS as i64)
            .map(|i| {
                let k = i - mid;
                if k % 2 == 0 {
                    0.0
                } else {
                    // Ideal Hilbert response 2/(πk), Blackman-windowed.
                    let w = 0.42
                        - 0.5
                            * (std::f64::consts::TAU * i as f64 / (HILBERT_TAPS - 1) as f64).cos()
                        + 0.08
                            * (2.0 * std::f64::consts::TAU * i as f64 / (HILBERT_TAPS - 1) as f64)
                                .cos();
                    2.0 / (std::f64::consts::PI * k as f64) * w
                }
            })
            .collect();
        FrequencyShift {
            taps,
            history: VecDeque::from(vec![0.0; HILBERT_TAPS]),
            step: std::f64::consts::TAU * hz / 8000.0,
            n: 0,
        }
    }
}

impl AudioStage for FrequencyShift {
    fn process(&mut self, input: &[i16], out: &mut Vec<i16>) {
        for &x in input {
            self.history.pop_front();
            self.history.push_back(x as f64);
            let (a, b) = self.history.as_slices();
            let mut h = 0.0;
            for (t, v) in self.taps.iter().zip(a.iter().chain(b.iter())) {
                h += t * v;
            }
            // The taps run oldest-first, so the dot product is the time-reversed convolution;
            // the Hilbert kernel is odd, so negate to get the transform itself.
            let quad = -h;
            let delayed = self.history[HILBERT_TAPS / 2];
            let phase = self.step * self.n as f64;
            self.n += 1;
            out.push(to_i16(delayed * phase.cos() - quad * phase.sin()));
        }
    }
}

const SINC_HALF: usize = 8;
const SINC_PHASES: usize = 256;

/// Sample-clock drift: the signal is resampled as if the sending clock ran `ppm` parts per
/// million fast (positive) or slow (negative) against the receiving one, by band-limited
/// interpolation (Kaiser-windowed sinc, 16 taps, 256 phases).
#[derive(Debug, Clone)]
pub struct ClockDrift {
    ratio: f64,
    kernel: Vec<f32>,
    buf: VecDeque<f32>,
    /// Index in the input stream of `buf[0]`.
    buf_start: u64,
    /// Input samples received so far.
    received: u64,
    /// Output samples produced so far.
    produced: u64,
}

fn bessel_i0(x: f64) -> f64 {
    let mut sum = 1.0;
    let mut term = 1.0;
    for k in 1..50 {
        term *= (x / (2.0 * k as f64)).powi(2);
        sum += term;
        if term < 1e-12 * sum {
            break;
        }
    }
    sum
}

impl ClockDrift {
    /// Drift of `ppm` parts per million.
    pub fn new(ppm: f64) -> Self {
        let beta = 8.0;
        let taps = 2 * SINC_HALF;
        let mut kernel = Vec::with_capacity((SINC_PHASES + 1) * taps);
        for p in 0..=SINC_PHASES {
            let frac = p as f64 / SINC_PHASES as f64;
            for j in 0..taps {
                // Tap j weighs input sample floor(t) - SINC_HALF + 1 + j.
                let x = j as f64 - (SINC_HALF as f64 - 1.0) - frac;
                let cutoff = 0.95;
                let sinc = if x.abs() < 1e-12 {
                    cutoff
                } else {
                    (std::f64::consts::PI * cutoff * x).sin() / (std::f64::consts::PI * x)
                };
                let r = x / SINC_HALF as f64;
                let w = if r.abs() >= 1.0 {
                    0.0
                } else {
                    bessel_i0(beta * (1.0 - r * r).sqrt()) / bessel_i0(beta)
                };
                kernel.push((sinc * w) as f32);
            }
        }
        ClockDrift {
            ratio: 1.0 + ppm * 1e-6,
            kernel,
            buf: VecDeque::from(vec![0.0; SINC_HALF]),
            buf_start: 0,
            received: SINC_HALF as u64,
            produced: 0,
        }
    }
}

impl AudioStage for ClockDrift {
    fn process(&mut self, input: &[i16], out: &mut Vec<i16>) {
        let taps = 2 * SINC_HALF;
        for &x in input {
            self.buf.push_back(x as f32);
            self.received += 1;
            loop {
                // Output n sits at input position n·ratio (offset by the zero pre-roll).
                let t = self.produced as f64 * self.ratio + SINC_HALF as f64;
                let base = t.floor() as u64;
                if base + SINC_HALF as u64 >= self.received {
                    break;
                }
                let frac = t - base as f64;
                let pf = frac * SINC_PHASES as f64;
                let p = pf.floor() as usize;
                let pw = (pf - p as f64) as f32;
                let first = (base + 1 - SINC_HALF as u64 - self.buf_start) as usize;
                let k0 = &self.kernel[p * taps..(p + 1) * taps];
                let k1 = &self.kernel[(p + 1) * taps..(p + 2) * taps];
                let mut acc = 0f32;
                for j in 0..taps {
                    let k = k0[j] + (k1[j] - k0[j]) * pw;
                    acc += k * self.buf[first + j];
                }
                out.push(acc.round().clamp(-32768.0, 32767.0) as i16);
                self.produced += 1;
            }
            // Keep only what the next output can still reach.
            let next_t = self.produced as f64 * self.ratio + SINC_HALF as f64;
            let keep_from = (next_t.floor() as u64 + 1).saturating_sub(SINC_HALF as u64);
            while self.buf_start < keep_from && !self.buf.is_empty() {
                self.buf.pop_front();
                self.buf_start += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(freq: f64, n: usize, amp: f64) -> Vec<i16> {
        (0..n)
            .map(|i| {
                (amp * (std::f64::consts::TAU * freq * i as f64 / 8000.0).sin()).round() as i16
            })
            .collect()
    }

    fn run(stage: &mut dyn AudioStage, input: &[i16], block: usize) -> Vec<i16> {
        let mut out = Vec::new();
        for chunk in input.chunks(block) {
            stage.process(chunk, &mut out);
        }
        out
    }

    /// Frequency of a tone by counting zero crossings (coarse but independent).
    fn measured_freq(x: &[i16]) -> f64 {
        let crossings: Vec<f64> = x
            .windows(2)
            .enumerate()
            .filter(|(_, w)| w[0] < 0 && w[1] >= 0)
            .map(|(i, w)| i as f64 + (-w[0] as f64) / (w[1] as f64 - w[0] as f64))
            .collect();
        let n = crossings.len() - 1;
        n as f64 * 8000.0 / (crossings[n] - crossings[0])
    }

    #[test]
    fn awgn_power_matches_request() {
        let mut s = Awgn::with_noise_dbm0(-30.0, 3);
        let out = run(&mut s, &vec![0; 80_000], 160);
        let p: f64 = out.iter().map(|&x| (x as f64).powi(2)).sum::<f64>() / out.len() as f64;
        let dbm0 = 10.0 * (p / (DBM0_RMS * DBM0_RMS)).log10();
        assert!((dbm0 + 30.0).abs() < 0.1, "{dbm0}");
    }

    #[test]
    fn frequency_shift_moves_a_tone() {
        let input = tone(1000.0, 16_000, 10_000.0);
        for hz in [10.0, -10.0, 7.5] {
            let out = run(&mut FrequencyShift::new(hz), &input, 160);
            let f = measured_freq(&out[2000..]);
            assert!((f - (1000.0 + hz)).abs() < 0.05, "shift {hz}: got {f}");
        }
    }

    #[test]
    fn clock_drift_scales_frequency_and_length() {
        let input = tone(1800.0, 80_000, 10_000.0);
        let out = run(&mut ClockDrift::new(100.0), &input, 160);
        // A fast sender: the same signal in fewer samples, every frequency 100 ppm higher.
        let expect_len = 80_000.0 / 1.0001;
        assert!(
            (out.len() as f64 - expect_len).abs() < 10.0,
            "{}",
            out.len()
        );
        let f = measured_freq(&out[100..out.len() - 100]);
        assert!((f - 1800.18).abs() < 0.02, "{f}");
    }

    #[test]
    fn clock_drift_is_clean() {
        // Interpolation error must sit far below the 40 dB SNR the modem tests use.
        let input = tone(1800.0, 40_000, 10_000.0);
        let out = run(&mut ClockDrift::new(0.0), &input, 160);
        let err: f64 = out[100..39_000]
            .iter()
            .zip(&input[100..39_000])
            .map(|(&a, &b)| (a as f64 - b as f64).powi(2))
            .sum::<f64>()
            / 38_900.0;
        let snr = 10.0 * (5e7 / err).log10();
        assert!(snr > 60.0, "interpolation SNR {snr} dB");
    }

    #[test]
    fn block_size_invariance() {
        let input = tone(1700.0, 20_000, 8000.0);
        for make in [
            || Box::new(Awgn::with_snr(30.0, -10.0, 9)) as Box<dyn AudioStage>,
            || Box::new(FrequencyShift::new(-10.0)) as Box<dyn AudioStage>,
            || Box::new(ClockDrift::new(-100.0)) as Box<dyn AudioStage>,
        ] {
            let a = run(make().as_mut(), &input, 160);
            let b = run(make().as_mut(), &input, 7);
            let c = run(make().as_mut(), &input, 1);
            assert_eq!(a, b);
            assert_eq!(a, c);
        }
    }
}
