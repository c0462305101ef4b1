//! Simple line impairments: level, DC offset, mains hum, phase jitter, clock slips.

use crate::AudioStage;
use crate::line::DBM0_RMS;
use std::f64::consts::TAU;

#[inline]
fn to_i16(x: f64) -> i16 {
    x.round().clamp(-32768.0, 32767.0) as i16
}

/// Peak amplitude of a sine at `dbm0`.
fn sine_peak(dbm0: f64) -> f64 {
    DBM0_RMS * std::f64::consts::SQRT_2 * 10f64.powf(dbm0 / 20.0)
}

/// A level change: loss (negative dB) or gain (positive dB), saturating at full scale.
#[derive(Debug, Clone)]
pub struct Gain {
    factor: f64,
}

impl Gain {
    /// A gain of `db` decibels (a loss of 6 dB is `Gain::new(-6.0)`).
    pub fn new(db: f64) -> Self {
        Gain {
            factor: 10f64.powf(db / 20.0),
        }
    }
}

impl AudioStage for Gain {
    fn process(&mut self, input: &[i16], out: &mut Vec<i16>) {
        out.extend(input.iter().map(|&x| to_i16(x as f64 * self.factor)));
    }
}

/// A pure transmission delay (propagation over a long or satellite route).
#[derive(Debug, Clone)]
pub struct Delay {
    ring: Vec<i16>,
    pos: usize,
}

impl Delay {
    /// A delay of `ms` milliseconds (rounded to whole samples).
    pub fn new(ms: f64) -> Self {
        let n = (ms.max(0.0) * 8.0).round() as usize;
        Delay {
            ring: vec![0; n],
            pos: 0,
        }
    }
}

impl AudioStage for Delay {
    fn process(&mut self, input: &[i16], out: &mut Vec<i16>) {
        if self.ring.is_empty() {
            out.extend_from_slice(input);
            return;
        }
        for &x in input {
            out.push(std::mem::replace(&mut self.ring[self.pos], x));
            self.pos += 1;
            if self.pos == self.ring.len() {
                self.pos = 0;
            }
        }
    }
}

/// A constant DC offset in 16-bit sample units (what a faulty A/D or line card adds).
#[derive(Debug, Clone)]
pub struct DcOffset {
    offset: f64,
}

impl DcOffset {
    /// An offset of `offset` sample units.
    pub fn new(offset: f64) -> Self {
        DcOffset { offset }
    }
}

impl AudioStage for DcOffset {
    fn process(&mut self, input: &[i16], out: &mut Vec<i16>) {
        out.extend(input.iter().map(|&x| to_i16(x as f64 + self.offset)));
    }
}

/// Mains hum: the fundamental (50 or 60 Hz) and its harmonics, each at its own level.
#[derive(Debug, Clone)]
pub struct Hum {
    /// (phase step per sample, peak amplitude) per harmonic.
    components: Vec<(f64, f64)>,
    n: u64,
}

impl Hum {
    /// Hum at `mains_hz` with the fundamental at `level_dbm0` and `harmonics` further odd and
    /// even harmonics, each 6 dB below the one before (a common shape for induced hum).
    pub fn new(mains_hz: f64, level_dbm0: f64, harmonics: usize) -> Self {
        let components = (0..=harmonics)
            .map(|h| {
                let f = mains_hz * (h + 1) as f64;
                (TAU * f / 8000.0, sine_peak(level_dbm0 - 6.0 * h as f64))
            })
            .collect();
        Hum { components, n: 0 }
    }
}

impl AudioStage for Hum {
    fn process(&mut self, input: &[i16], out: &mut Vec<i16>) {
        for &x in input {
            let t = self.n as f64;
            let hum: f64 = self
                .components
                .iter()
                .map(|&(w, a)| a * (w * t).sin())
                .sum();
            self.n += 1;
            out.push(to_i16(x as f64 + hum));
        }
    }
}

pub(crate) const HILBERT_TAPS: usize = 127;

/// A Blackman-windowed Hilbert transformer of [`HILBERT_TAPS`] taps (odd, delay 63).
pub(crate) fn hilbert_taps() -> Vec<f64> {
    let mid = (HILBERT_TAPS / 2) as i64;
    let m = (HILBERT_TAPS - 1) as f64;
    (0..HILBERT_TAPS as i64)
        .map(|i| {
            let k = i - mid;
            if k % 2 == 0 {
                0.0
            } else {
                let x = i as f64 / m;
                let w = 0.42 - 0.5 * (TAU * x).cos() + 0.08 * (2.0 * TAU * x).cos();
                2.0 / (std::f64::consts::PI * k as f64) * w
            }
        })
        .collect()
}

/// Phase jitter: the phase of every component of the signal wobbles sinusoidally, as on FDM
/// carrier systems whose carriers are modulated by power-supply ripple. Specified, as line
/// measurements are, in degrees peak-to-peak at a jitter frequency (typically 50–300 Hz).
#[derive(Debug, Clone)]
pub struct PhaseJitter {
    taps: Vec<f64>,
    ring: [f64; HILBERT_TAPS],
    pos: usize,
    peak_rad: f64,
    step: f64,
    n: u64,
}

impl PhaseJitter {
    /// Jitter of `degrees_pp` degrees peak-to-peak at `jitter_hz`.
    pub fn new(degrees_pp: f64, jitter_hz: f64) -> Self {
        PhaseJitter {
            taps: hilbert_taps(),
            ring: [0.0; HILBERT_TAPS],
            pos: 0,
            peak_rad: degrees_pp.to_radians() / 2.0,
            step: TAU * jitter_hz / 8000.0,
            n: 0,
        }
    }
}

impl AudioStage for PhaseJitter {
    fn process(&mut self, input: &[i16], out: &mut Vec<i16>) {
        for &x in input {
            self.ring[self.pos] = x as f64;
            self.pos = (self.pos + 1) % HILBERT_TAPS;
            // ring[pos] is now the oldest sample; the newest is at pos - 1.
            let mut quad = 0.0;
            for (j, t) in self.taps.iter().enumerate() {
                // Convolution: tap j weighs the sample j steps back.
                let idx = (self.pos + HILBERT_TAPS - 1 - j) % HILBERT_TAPS;
                quad += t * self.ring[idx];
            }
            let delayed =
                self.ring[(self.pos + HILBERT_TAPS - 1 - HILBERT_TAPS / 2) % HILBERT_TAPS];
            let theta = self.peak_rad * (self.step * self.n as f64).sin();
            self.n += 1;
            out.push(to_i16(delayed * theta.cos() - quad * theta.sin()));
        }
    }
}

/// What a clock slip does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlipKind {
    /// A sample is lost (the sending clock is fast; a buffer overflows).
    Drop,
    /// A sample is repeated (the sending clock is slow; a buffer underflows).
    Insert,
}

/// Controlled slips of a plesiochronous link: one sample dropped or repeated every `every`
/// samples. (Digital network slips are of whole frames of 125 µs, i.e. one sample per
/// channel, which is exactly this.)
#[derive(Debug, Clone)]
pub struct ClockSlip {
    every: u64,
    kind: SlipKind,
    n: u64,
}

impl ClockSlip {
    /// A slip of `kind` every `every` samples (`every` ≥ 2).
    pub fn new(every: u64, kind: SlipKind) -> Self {
        ClockSlip {
            every: every.max(2),
            kind,
            n: 0,
        }
    }
}

impl AudioStage for ClockSlip {
    fn process(&mut self, input: &[i16], out: &mut Vec<i16>) {
        for &x in input {
            self.n += 1;
            if self.n.is_multiple_of(self.every) {
                match self.kind {
                    SlipKind::Drop => continue,
                    SlipKind::Insert => out.push(x),
                }
            }
            out.push(x);
        }
    }
}
