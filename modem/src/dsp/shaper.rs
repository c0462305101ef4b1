//! Transmit pulse shaping and up-conversion for the QAM/PSK modems.
//!
//! Complex symbols at the baud rate are shaped by a root-raised-cosine pulse and mixed up to
//! the carrier. The baud rate need not divide 8000 (V.17/V.29 run 2400 baud, 10/3 samples a
//! symbol): the pulse is tabulated at every sampling phase that occurs, which is exact.

use super::{Complex32, Nco};

/// The root-raised-cosine pulse at `t` symbol periods from its centre, with energy one
/// symbol period (∫h² = 1 in symbol units).
pub fn root_raised_cosine(t: f64, rolloff: f64) -> f64 {
    use std::f64::consts::PI;
    let b = rolloff;
    if t.abs() < 1e-9 {
        return 1.0 - b + 4.0 * b / PI;
    }
    if b > 0.0 && ((4.0 * b * t).abs() - 1.0).abs() < 1e-9 {
        return b / 2f64.sqrt()
            * ((1.0 + 2.0 / PI) * (PI / (4.0 * b)).sin()
                + (1.0 - 2.0 / PI) * (PI / (4.0 * b)).cos());
    }
    ((PI * t * (1.0 - b)).sin() + 4.0 * b * t * (PI * t * (1.0 + b)).cos())
        / (PI * t * (1.0 - (4.0 * b * t).powi(2)))
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// Symbols in, passband samples out.
///
/// The shaper asks for a new symbol whenever the output clock crosses a symbol boundary; the
/// pulse spans `span` symbols, so output lags input by `span / 2` symbols. Feed `span` zero
/// symbols after the last one to let the signal die away.
#[derive(Debug, Clone)]
pub struct PulseShaper {
    baud: u32,
    span: usize,
    /// `table[phase * span + j]`: pulse weight of the j-th most recent symbol.
    table: Vec<f32>,
    phase_unit: u32,
    /// The last `span` symbols, newest at `head`.
    ring: Vec<Complex32>,
    head: usize,
    /// Output samples produced, for the exact symbol clock.
    n: u64,
    carrier: Nco,
    gain: f32,
}

impl PulseShaper {
    /// A shaper for `baud` symbols/s on a `carrier_hz` carrier, root-raised-cosine `rolloff`,
    /// pulse truncated to `span` symbols (even).
    pub fn new(baud: u32, carrier_hz: f32, rolloff: f32, span: usize) -> Self {
        assert!(span >= 2 && span.is_multiple_of(2), "span must be even");
        let phase_unit = gcd(baud, crate::SAMPLE_RATE);
        let phases = (crate::SAMPLE_RATE / phase_unit) as usize;
        let mut table = vec![0f32; phases * span];
        let half = span as f64 / 2.0;
        for p in 0..phases {
            let frac = (p as u32 * phase_unit) as f64 / crate::SAMPLE_RATE as f64;
            for j in 0..span {
                // Symbol k-j started j + frac symbol periods ago; its pulse peaks at `half`.
                let t = j as f64 + frac - half;
                // A gentle Hann taper keeps the truncated pulse's spectrum clean.
                let w = 0.5 + 0.5 * (std::f64::consts::PI * t / half).cos();
                table[p * span + j] = (root_raised_cosine(t, rolloff as f64) * w) as f32;
            }
        }
        PulseShaper {
            baud,
            span,
            table,
            phase_unit,
            ring: vec![Complex32::new(0.0, 0.0); span],
            head: 0,
            n: 0,
            carrier: Nco::new(carrier_hz),
            gain: 1.0,
        }
    }

    /// Scales the output so that symbols of mean power `mean_symbol_power` (E|a|²) give a
    /// signal at `dbm0`.
    pub fn set_level(&mut self, dbm0: f32, mean_symbol_power: f32) {
        // A pulse of energy one symbol period spreads each symbol's E|a|² over the samples of
        // that period, so the baseband mean square is E|a|² and the passband one half of it.
        let passband_ms = mean_symbol_power / 2.0;
        self.gain = crate::level::dbm0_to_rms(dbm0) / passband_ms.sqrt();
    }

    /// Produces one output sample, pulling a symbol from `next_symbol` when one is due.
    #[inline]
    pub fn next_sample(&mut self, next_symbol: &mut dyn FnMut() -> Complex32) -> f32 {
        let num = self.n * self.baud as u64;
        let sr = crate::SAMPLE_RATE as u64;
        let frac = (num % sr) as u32;
        if frac < self.baud {
            // The symbol clock ticked since the previous sample.
            self.head = (self.head + 1) % self.span;
            self.ring[self.head] = next_symbol();
        }
        self.n += 1;
        let phase = (frac / self.phase_unit) as usize;
        let taps = &self.table[phase * self.span..(phase + 1) * self.span];
        let mut acc = Complex32::new(0.0, 0.0);
        let mut idx = self.head;
        for &w in taps {
            acc += self.ring[idx] * w;
            idx = if idx == 0 { self.span - 1 } else { idx - 1 };
        }
        let (c, s) = self.carrier.next_cos_sin();
        (acc.re * c - acc.im * s) * self.gain
    }

    /// Output samples produced so far.
    pub fn samples(&self) -> u64 {
        self.n
    }

    /// Pulse length in symbols.
    pub fn span(&self) -> usize {
        self.span
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rrc_has_unit_energy() {
        for b in [0.1, 0.25, 0.5, 0.9] {
            let step = 0.001;
            let e: f64 = (-20_000..=20_000)
                .map(|i| root_raised_cosine(i as f64 * step, b).powi(2) * step)
                .sum();
            assert!((e - 1.0).abs() < 0.01, "rolloff {b}: energy {e}");
        }
    }

    #[test]
    fn level_is_as_set() {
        // QPSK symbols of unit power at 2400 baud on 1800 Hz.
        let mut sh = PulseShaper::new(2400, 1800.0, 0.25, 12);
        sh.set_level(-10.0, 1.0);
        let mut k = 0u32;
        let mut sym = || {
            k = k.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let q = [(1.0, 1.0), (-1.0, 1.0), (-1.0, -1.0), (1.0, -1.0)][(k >> 16) as usize % 4];
            Complex32::new(q.0, q.1) * std::f32::consts::FRAC_1_SQRT_2
        };
        let n = 80_000;
        let ms: f32 = (0..n)
            .map(|_| sh.next_sample(&mut sym).powi(2))
            .sum::<f32>()
            / n as f32;
        let dbm0 = crate::level::power_to_dbm0(ms);
        assert!((dbm0 + 10.0).abs() < 0.3, "{dbm0}");
    }

    #[test]
    fn one_symbol_per_baud_period() {
        for baud in [1200, 1600, 2400] {
            let mut sh = PulseShaper::new(baud, 1800.0, 0.5, 8);
            let mut pulled = 0u32;
            for _ in 0..8000 {
                sh.next_sample(&mut || {
                    pulled += 1;
                    Complex32::new(0.0, 0.0)
                });
            }
            assert_eq!(pulled, baud);
        }
    }
}
