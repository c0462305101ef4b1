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

/// Longest repeating (sampling phase, carrier phase) pattern the shaper tabulates, samples.
const MAX_PATTERN: usize = 400;
/// Lanes of the tap loops: tables and symbol history are padded to a multiple of this.
const LANES: usize = 4;
/// Tap slots of the tabulated path, a fixed size so its loops unroll completely: pulses up
/// to this many symbols long (all the fax modems') take it.
const FAST_WIDTH: usize = 12;

/// Symbols in, passband samples out.
///
/// The shaper asks for a new symbol whenever the output clock crosses a symbol boundary; the
/// pulse spans `span` symbols, so output lags input by `span / 2` symbols. Feed `span` zero
/// symbols after the last one to let the signal die away.
///
/// For a whole-hertz carrier the pair (sampling phase, carrier phase) repeats after a few
/// dozen samples (40 for 2400 baud on 1800 Hz, 80 on 1700 Hz), so the pulse is tabulated
/// already multiplied by the carrier for each sample of that pattern: a sample is then two
/// real dot products over the symbol history, with no mixer. Other carriers take the
/// reference path (complex pulse sum, then an oscillator), which the tests compare against.
#[derive(Debug, Clone)]
pub struct PulseShaper {
    baud: u32,
    span: usize,
    /// Tap slots per table row and history window: `span` rounded up to [`LANES`].
    width: usize,
    /// `table[phase * span + j]`: pulse weight of the j-th most recent symbol.
    table: Vec<f32>,
    phase_unit: u32,
    /// Passband tables, `pass_re[m * width + j]`: weight of the j-th most recent symbol's real
    /// part at the m-th sample of the pattern (pulse × cos), `pass_im` for the imaginary part
    /// (pulse × −sin). Empty on the reference path.
    pass_re: Vec<f32>,
    pass_im: Vec<f32>,
    /// Pattern length in samples and the position in it.
    pattern: usize,
    pattern_pos: usize,
    /// The last `width` symbols, newest at `head`, written twice (`head` and `head + width`)
    /// so the window `head..head + width` is contiguous.
    hist_re: Vec<f32>,
    hist_im: Vec<f32>,
    head: usize,
    /// `(n · baud) mod 8000` for the next output sample n: the symbol clock's fraction.
    frac: u32,
    /// Output samples produced.
    n: u64,
    carrier: Nco,
    gain: f32,
}

impl PulseShaper {
    /// A shaper for `baud` symbols/s on a `carrier_hz` carrier, root-raised-cosine `rolloff`,
    /// pulse truncated to `span` symbols (even).
    pub fn new(baud: u32, carrier_hz: f32, rolloff: f32, span: usize) -> Self {
        let mut sh = Self::new_reference(baud, carrier_hz, rolloff, span);
        sh.tabulate_passband(carrier_hz);
        sh
    }

    /// The same shaper on the reference path (complex pulse sum and oscillator per sample).
    pub(crate) fn new_reference(baud: u32, carrier_hz: f32, rolloff: f32, span: usize) -> Self {
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
        let width = span.div_ceil(LANES) * LANES;
        let width = if width < FAST_WIDTH {
            FAST_WIDTH
        } else {
            width
        };
        PulseShaper {
            baud,
            span,
            width,
            table,
            phase_unit,
            pass_re: Vec::new(),
            pass_im: Vec::new(),
            pattern: 0,
            pattern_pos: 0,
            hist_re: vec![0.0; 2 * width],
            hist_im: vec![0.0; 2 * width],
            head: 0,
            frac: 0,
            n: 0,
            carrier: Nco::new(carrier_hz),
            gain: 1.0,
        }
    }

    /// Builds the passband tables when the carrier's pattern is short enough.
    fn tabulate_passband(&mut self, carrier_hz: f32) {
        let sr = crate::SAMPLE_RATE;
        if carrier_hz < 0.0 || carrier_hz.fract() != 0.0 || carrier_hz >= sr as f32 {
            return;
        }
        let fc = carrier_hz as u32;
        let carrier_period = sr / gcd(fc, sr);
        let phases = sr / self.phase_unit;
        let pattern = (carrier_period / gcd(carrier_period, phases) * phases) as usize;
        if pattern > MAX_PATTERN || self.width != FAST_WIDTH {
            return;
        }
        let mut re = vec![0f32; pattern * self.width];
        let mut im = vec![0f32; pattern * self.width];
        for m in 0..pattern {
            let phase = ((m as u64 * self.baud as u64) % sr as u64) as u32 / self.phase_unit;
            let phase = phase as usize;
            // Exact carrier angle of sample m (the pattern starts at phase zero, as the
            // oscillator does).
            let cycles = (m as u64 * fc as u64) % sr as u64;
            let theta = std::f64::consts::TAU * cycles as f64 / sr as f64;
            let (s, c) = theta.sin_cos();
            for j in 0..self.span {
                let h = self.table[phase * self.span + j] as f64;
                re[m * self.width + j] = (h * c) as f32;
                im[m * self.width + j] = (-h * s) as f32;
            }
        }
        self.pass_re = re;
        self.pass_im = im;
        self.pattern = pattern;
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
        let frac = self.frac;
        if frac < self.baud {
            // The symbol clock ticked since the previous sample.
            let a = next_symbol();
            self.head = if self.head == 0 {
                self.width - 1
            } else {
                self.head - 1
            };
            self.hist_re[self.head] = a.re;
            self.hist_re[self.head + self.width] = a.re;
            self.hist_im[self.head] = a.im;
            self.hist_im[self.head + self.width] = a.im;
        }
        self.n += 1;
        self.frac += self.baud;
        if self.frac >= crate::SAMPLE_RATE {
            self.frac -= crate::SAMPLE_RATE;
        }
        let re = &self.hist_re[self.head..self.head + self.width];
        let im = &self.hist_im[self.head..self.head + self.width];
        if self.pattern != 0 {
            let row = self.pattern_pos * FAST_WIDTH..(self.pattern_pos + 1) * FAST_WIDTH;
            self.pattern_pos += 1;
            if self.pattern_pos == self.pattern {
                self.pattern_pos = 0;
            }
            fn fixed(v: &[f32]) -> &[f32; FAST_WIDTH] {
                v.try_into().expect("fast width")
            }
            let y = dot2(
                fixed(&self.pass_re[row.clone()]),
                fixed(re),
                fixed(&self.pass_im[row]),
                fixed(im),
            );
            return y * self.gain;
        }
        let phase = (frac / self.phase_unit) as usize;
        let taps = &self.table[phase * self.span..(phase + 1) * self.span];
        let mut acc = Complex32::new(0.0, 0.0);
        for ((&w, &r), &i) in taps.iter().zip(re).zip(im) {
            acc += Complex32::new(r, i) * w;
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

/// Σ a·x + b·y with one partial sum per lane so the products vectorize.
#[inline]
fn dot2(
    a: &[f32; FAST_WIDTH],
    x: &[f32; FAST_WIDTH],
    b: &[f32; FAST_WIDTH],
    y: &[f32; FAST_WIDTH],
) -> f32 {
    let mut acc = [0f32; LANES];
    let chunks = a
        .chunks_exact(LANES)
        .zip(x.chunks_exact(LANES))
        .zip(b.chunks_exact(LANES).zip(y.chunks_exact(LANES)));
    for ((a4, x4), (b4, y4)) in chunks {
        for k in 0..LANES {
            acc[k] += a4[k] * x4[k] + b4[k] * y4[k];
        }
    }
    (acc[0] + acc[2]) + (acc[1] + acc[3])
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

    /// The tabulated passband path gives the reference path's samples (the reference's
    /// oscillator interpolates a sine table, hence the small tolerance).
    #[test]
    fn passband_tables_match_reference() {
        for (baud, carrier, rolloff, span) in [
            (2400, 1800.0, 0.25, 12),
            (2400, 1700.0, 0.25, 12),
            (1600, 1800.0, 0.5, 10),
            (1200, 1800.0, 0.5, 10),
        ] {
            let mut fast = PulseShaper::new(baud, carrier, rolloff, span);
            let mut reference = PulseShaper::new_reference(baud, carrier, rolloff, span);
            assert!(fast.pattern > 0, "{baud}/{carrier}: no tables");
            assert_eq!(reference.pattern, 0);
            fast.set_level(-10.0, 1.0);
            reference.set_level(-10.0, 1.0);
            let mut k = 7u32;
            let mut symbols = Vec::new();
            let mut next = || {
                k = k.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                let re = ((k >> 16) % 7) as f32 - 3.0;
                let im = ((k >> 20) % 5) as f32 - 2.0;
                Complex32::new(re, im)
            };
            for _ in 0..3000 {
                symbols.push(next());
            }
            let (mut i, mut j) = (0, 0);
            for n in 0..8000 {
                let a = fast.next_sample(&mut || {
                    i += 1;
                    symbols[i - 1]
                });
                let b = reference.next_sample(&mut || {
                    j += 1;
                    symbols[j - 1]
                });
                assert!(
                    (a - b).abs() < 0.5,
                    "{baud}/{carrier} sample {n}: {a} vs {b}"
                );
            }
            assert_eq!(i, j);
        }
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
