//! Telephone-band line filters with amplitude **and** envelope-delay distortion.
//!
//! A real voice channel is not just band-limited: its loss rises towards the band edges
//! (amplitude distortion, "slope") and its group delay rises sharply there too (envelope
//! delay distortion, EDD), which is what smears QAM symbols and forces modem equalisers to
//! work. A [`LineFilter`] is specified as practitioners measure a line: loss relative to
//! 1004 Hz and envelope delay relative to the minimum, at a few frequencies. From those it
//! builds an FIR filter by frequency sampling (the wanted magnitude and the phase that
//! integrates the wanted group delay), so the filter meets both curves.

use crate::AudioStage;
use std::f64::consts::{PI, TAU};

/// FIR length of a line filter.
pub const LINE_FILTER_TAPS: usize = 384;
/// Bulk delay of every line filter, in samples (the group delay at the delay minimum).
pub const LINE_FILTER_DELAY: usize = 160;
const FFT: usize = 1024;
const TAPER: usize = 48;

/// A line response: amplitude (dB relative to 1004 Hz, negative = more loss) and envelope
/// delay (µs relative to the minimum) at increasing frequencies, linearly interpolated.
/// Outside the first and last amplitude point the response rolls off at 40 dB per 100 Hz.
#[derive(Debug, Clone, PartialEq)]
pub struct LineResponse {
    /// (Hz, dB) points.
    pub amplitude: Vec<(f64, f64)>,
    /// (Hz, µs) points.
    pub delay: Vec<(f64, f64)>,
}

/// Named line responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinePreset {
    /// A good channel of a digital network (band 300–3400 Hz, mild edge delay), as the
    /// G.712 templates allow.
    TelephoneBand,
    /// A leased/switched line at the limits of ITU-T M.1020 (loss up to 6 dB at the band
    /// edges; envelope delay 3 ms at 500–600 and 2600–2800 Hz).
    M1020Limit,
    /// A long loaded loop plus analogue carrier, after the V.56bis-style test lines: strong
    /// low- and high-frequency slope and steep edge delay.
    LongHaul,
}

impl LinePreset {
    /// Every preset.
    pub const ALL: [LinePreset; 3] = [
        LinePreset::TelephoneBand,
        LinePreset::M1020Limit,
        LinePreset::LongHaul,
    ];

    /// The preset's name in configurations.
    pub fn name(self) -> &'static str {
        match self {
            LinePreset::TelephoneBand => "telephone-band",
            LinePreset::M1020Limit => "m1020-limit",
            LinePreset::LongHaul => "long-haul",
        }
    }

    /// The preset by name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The response the preset stands for.
    pub fn response(self) -> LineResponse {
        match self {
            LinePreset::TelephoneBand => LineResponse {
                amplitude: vec![(300.0, -0.5), (600.0, 0.0), (3000.0, 0.0), (3400.0, -0.5)],
                delay: vec![
                    (300.0, 1500.0),
                    (500.0, 600.0),
                    (1000.0, 150.0),
                    (1900.0, 0.0),
                    (2600.0, 150.0),
                    (3000.0, 500.0),
                    (3400.0, 1500.0),
                ],
            },
            LinePreset::M1020Limit => LineResponse {
                amplitude: vec![
                    (300.0, -6.0),
                    (500.0, -3.0),
                    (1004.0, 0.0),
                    (2800.0, -3.0),
                    (3000.0, -6.0),
                    (3400.0, -12.0),
                ],
                delay: vec![
                    (300.0, 4000.0),
                    (500.0, 3000.0),
                    (600.0, 1500.0),
                    (1000.0, 500.0),
                    (1700.0, 0.0),
                    (2600.0, 500.0),
                    (2800.0, 3000.0),
                    (3000.0, 4000.0),
                    (3400.0, 6000.0),
                ],
            },
            LinePreset::LongHaul => LineResponse {
                amplitude: vec![
                    (300.0, -8.0),
                    (600.0, -3.0),
                    (1004.0, 0.0),
                    (2000.0, -1.0),
                    (2800.0, -5.0),
                    (3200.0, -10.0),
                    (3400.0, -16.0),
                ],
                delay: vec![
                    (300.0, 3000.0),
                    (600.0, 1200.0),
                    (1000.0, 400.0),
                    (1800.0, 0.0),
                    (2400.0, 300.0),
                    (2800.0, 1200.0),
                    (3200.0, 2500.0),
                    (3400.0, 3500.0),
                ],
            },
        }
    }
}

fn interp(points: &[(f64, f64)], f: f64) -> f64 {
    let (first, last) = (points[0], points[points.len() - 1]);
    if f <= first.0 {
        return first.1;
    }
    if f >= last.0 {
        return last.1;
    }
    let i = points
        .iter()
        .position(|p| p.0 > f)
        .unwrap_or(points.len() - 1);
    let (a, b) = (points[i - 1], points[i]);
    a.1 + (b.1 - a.1) * (f - a.0) / (b.0 - a.0)
}

impl LineResponse {
    /// The specified amplitude at `hz`, in dB, including the band-edge roll-off.
    pub fn amplitude_db(&self, hz: f64) -> f64 {
        let lo = self.amplitude[0].0;
        let hi = self.amplitude[self.amplitude.len() - 1].0;
        let edge = if hz < lo {
            -0.4 * (lo - hz)
        } else if hz > hi {
            -0.4 * (hz - hi)
        } else {
            0.0
        };
        (interp(&self.amplitude, hz) + edge).max(-60.0)
    }

    /// The specified envelope delay at `hz` relative to the minimum, in µs.
    pub fn delay_us(&self, hz: f64) -> f64 {
        interp(&self.delay, hz)
    }
}

/// A line filter built from a [`LineResponse`] (latency [`LINE_FILTER_DELAY`] samples).
#[derive(Debug, Clone)]
pub struct LineFilter {
    taps: Vec<f32>,
    ring: Vec<f32>,
    pos: usize,
}

impl LineFilter {
    /// The filter of a named preset.
    pub fn preset(p: LinePreset) -> Self {
        Self::new(&p.response())
    }

    /// A filter meeting `resp`.
    pub fn new(resp: &LineResponse) -> Self {
        // Phase: minus the integral of the group delay (bulk + distortion) over frequency.
        let half = FFT / 2;
        let df = 8000.0 / FFT as f64;
        let mut h = vec![(0.0f64, 0.0f64); half + 1];
        let mut phase = 0.0;
        for (k, hk) in h.iter_mut().enumerate() {
            let f = k as f64 * df;
            if k > 0 {
                let fm = f - df / 2.0;
                let tau = LINE_FILTER_DELAY as f64 / 8000.0 + resp.delay_us(fm) * 1e-6;
                phase -= TAU * tau * df;
            }
            let mag = 10f64.powf(resp.amplitude_db(f) / 20.0);
            *hk = (mag * phase.cos(), mag * phase.sin());
        }
        // Nyquist bin must be real for a real response; the roll-off makes it negligible.
        h[half].1 = 0.0;
        let mut taps = Vec::with_capacity(LINE_FILTER_TAPS);
        for n in 0..LINE_FILTER_TAPS {
            let mut acc = h[0].0;
            for (k, &(re, im)) in h.iter().enumerate().take(half).skip(1) {
                let w = TAU * (k * n) as f64 / FFT as f64;
                acc += 2.0 * (re * w.cos() - im * w.sin());
            }
            acc += h[half].0 * if n % 2 == 0 { 1.0 } else { -1.0 };
            // Tukey taper at both ends.
            let w = if n < TAPER {
                0.5 - 0.5 * (PI * n as f64 / TAPER as f64).cos()
            } else if n >= LINE_FILTER_TAPS - TAPER {
                let m = LINE_FILTER_TAPS - 1 - n;
                0.5 - 0.5 * (PI * m as f64 / TAPER as f64).cos()
            } else {
                1.0
            };
            taps.push((acc / FFT as f64 * w) as f32);
        }
        LineFilter {
            ring: vec![0.0; LINE_FILTER_TAPS],
            taps,
            pos: 0,
        }
    }
}

impl AudioStage for LineFilter {
    fn process(&mut self, input: &[i16], out: &mut Vec<i16>) {
        let n = LINE_FILTER_TAPS;
        for &x in input {
            self.pos = if self.pos == 0 { n - 1 } else { self.pos - 1 };
            self.ring[self.pos] = x as f32;
            // ring[pos + j] is the sample j steps back.
            let (a, b) = self.ring.split_at(self.pos);
            let mut acc = 0f32;
            for (t, v) in self.taps.iter().zip(b.iter().chain(a.iter())) {
                acc += t * v;
            }
            out.push(acc.round().clamp(-32768.0, 32767.0) as i16);
        }
    }
}
