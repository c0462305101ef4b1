//! Transmit pulse shaping and up-conversion for the QAM/PSK modems.
//!
//! Complex symbols at the baud rate are shaped by a root-raised-cosine pulse and mixed up to
//! the carrier. The baud rate need not divide 8000 (V.17/V.29 run 2400 baud, 10/3 samples a
//! symbol): the pulse is tabulated at every sampling phase that occurs, which is exact.
//!
//! [`BlockShaper`] is what the transmitters use: a block at a time, each symbol adding its
//! carrier-multiplied pulse into the samples to come. [`PulseShaper`] computes the same
//! signal sample by sample (a dot product over the symbol history); it stays as the
//! reference the block path is tested against, and for tests that want one sample at a time.

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
        // The taper and the truncation take a little of that energy (0.09 dB at a 12-symbol
        // span): what is left is the mean over the output samples (over the table's phases)
        // of the sum of their taps' squares, which is 1 for the whole pulse.
        let phases = self.table.len() / self.span;
        let energy =
            (self.table.iter().map(|&h| (h as f64).powi(2)).sum::<f64>() / phases as f64) as f32;
        let passband_ms = mean_symbol_power / 2.0 * energy;
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

/// What a symbol source hands [`BlockShaper::fill`] when a symbol is due.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pull {
    /// The next symbol; output goes on.
    Symbol(Complex32),
    /// The next symbol is the point of this index in the list given to
    /// [`BlockShaper::set_points`] (the same output as [`Pull::Symbol`] of that point,
    /// bit for bit, with half the work).
    Point(u8),
    /// The next symbol, and the transmission ends after the sample at which it was pulled.
    Last(Complex32),
    /// The transmission ends before the sample at which this pull was made.
    End,
}

/// Output samples computed per pass: the accumulator holds this many plus one pulse.
const CHUNK: usize = 256;
/// Lanes of the scatter loops (eight f32 fill one AVX register); pulse rows are padded to it.
const SCATTER_LANES: usize = 8;

/// Symbols in, passband i16 samples out, a block at a time: the fast transmit path.
///
/// The same signal as [`PulseShaper`] (same pulse, carrier phase and level), computed the
/// other way round: instead of a dot product over the symbol history per output sample, each
/// symbol adds its whole pulse, already multiplied by the carrier and the level, into an
/// accumulator of future samples (`acc[n..n + L] += re·row_re + im·row_im`). The carrier and
/// the symbol clock repeat together after a pattern of Q symbols (Q = 12 for 2400 baud on
/// 1800 Hz, 24 on 1700 Hz, 8 for 1600 baud, 6 for 1200 baud), so there is one row pair per
/// symbol of the pattern, computed once. The rows are contiguous, so the update vectorizes
/// across output samples; every lane does the same operations in the same order (symbols
/// oldest first, no fused multiply-add), so the output is the same bits whatever the vector
/// width, the block sizes or the machine. Symbols are pulled exactly when the reference
/// pulls them (at the first sample at or after their start), so bit sources see the same
/// calls at the same `fill` as before.
#[derive(Debug, Clone)]
pub struct BlockShaper {
    baud: u32,
    span: usize,
    /// Symbols per pattern and samples per pattern.
    q_len: usize,
    p_len: u64,
    /// Row length, samples, a multiple of [`SCATTER_LANES`].
    row_len: usize,
    /// First sample of the q-th symbol of a pattern, relative to the pattern's start.
    starts: Vec<u32>,
    /// `rows_re[q * row_len + i]`: what a unit real part of the q-th symbol of the pattern
    /// adds to its i-th sample (gain × pulse × cos); `rows_im` the same for the imaginary
    /// part (gain × pulse × −sin).
    rows_re: Vec<f32>,
    rows_im: Vec<f32>,
    /// Unit rows (gain 1), kept so the level can be changed.
    unit_re: Vec<f32>,
    unit_im: Vec<f32>,
    /// The constellation of [`Pull::Point`], and what each point adds:
    /// `point_rows[(q * points.len() + p) * row_len + i]` = re·rows_re + im·rows_im.
    points: Vec<Complex32>,
    point_rows: Vec<f32>,
    /// Future output, `acc[0]` being sample `n`.
    acc: Vec<f32>,
    /// Next output sample.
    n: u64,
    /// Next symbol: its position in the pattern and its first sample.
    q: usize,
    next_start: u64,
    finished: bool,
    avx: bool,
}

impl BlockShaper {
    /// A shaper for `baud` symbols/s on a whole-hertz `carrier_hz` carrier, root-raised-cosine
    /// `rolloff` with the Hann taper of [`PulseShaper`], `span` symbols (even), at unit gain
    /// (call [`BlockShaper::set_level`]).
    pub fn new(baud: u32, carrier_hz: u32, rolloff: f32, span: usize) -> Self {
        assert!(span >= 2 && span.is_multiple_of(2), "span must be even");
        let sr = crate::SAMPLE_RATE;
        assert!(
            carrier_hz < sr && baud > 0 && baud <= sr,
            "carrier or baud out of range"
        );
        // Samples per pattern: a whole number of symbols and of carrier cycles.
        let sym_pattern = (sr / gcd(baud, sr)) as u64;
        let carrier_period = (sr / gcd(carrier_hz, sr)) as u64;
        let p_len = sym_pattern / gcd_u64(sym_pattern, carrier_period) * carrier_period;
        let q_len = (p_len * baud as u64 / sr as u64) as usize;
        let starts: Vec<u32> = (0..q_len as u64)
            .map(|q| (q * sr as u64).div_ceil(baud as u64) as u32)
            .collect();
        // Samples of symbol q's pulse: n with n·baud/sr − q < span.
        let len_of = |q: u64| {
            ((q + span as u64) * sr as u64).div_ceil(baud as u64) - starts[q as usize] as u64
        };
        let longest = (0..q_len as u64).map(len_of).max().unwrap_or(0) as usize;
        let row_len = longest.div_ceil(SCATTER_LANES) * SCATTER_LANES;
        let half = span as f64 / 2.0;
        let mut unit_re = vec![0f32; q_len * row_len];
        let mut unit_im = vec![0f32; q_len * row_len];
        for q in 0..q_len {
            for i in 0..len_of(q as u64) as usize {
                let n = starts[q] as u64 + i as u64;
                // Symbol time of sample n since symbol q's start, minus the pulse centre.
                let t = (n * baud as u64) as f64 / sr as f64 - q as f64 - half;
                let w = 0.5 + 0.5 * (std::f64::consts::PI * t / half).cos();
                let h = (root_raised_cosine(t, rolloff as f64) * w) as f32 as f64;
                let cycles = (n * carrier_hz as u64) % sr as u64;
                let (s, c) = (std::f64::consts::TAU * cycles as f64 / sr as f64).sin_cos();
                unit_re[q * row_len + i] = (h * c) as f32;
                unit_im[q * row_len + i] = (-h * s) as f32;
            }
        }
        BlockShaper {
            baud,
            span,
            q_len,
            p_len,
            row_len,
            starts,
            rows_re: unit_re.clone(),
            rows_im: unit_im.clone(),
            unit_re,
            unit_im,
            points: Vec::new(),
            point_rows: Vec::new(),
            acc: vec![0.0; CHUNK + row_len],
            n: 0,
            q: 0,
            next_start: 0,
            finished: false,
            avx: avx_available(),
        }
    }

    /// Scales the output so that symbols of mean power `mean_symbol_power` (E|a|²) give a
    /// signal at `dbm0` (as [`PulseShaper::set_level`]).
    pub fn set_level(&mut self, dbm0: f32, mean_symbol_power: f32) {
        // Mean square per output sample of a unit-power symbol stream: the pulses' energy
        // over the pattern's samples (1 for the whole pulse; the taper and the truncation
        // take a little, as in `PulseShaper`).
        let energy = (self
            .unit_re
            .iter()
            .chain(&self.unit_im)
            .map(|&v| (v as f64).powi(2))
            .sum::<f64>()
            / self.p_len as f64) as f32;
        let gain = crate::level::dbm0_to_rms(dbm0) / (mean_symbol_power / 2.0 * energy).sqrt();
        for (r, &u) in self.rows_re.iter_mut().zip(&self.unit_re) {
            *r = u * gain;
        }
        for (r, &u) in self.rows_im.iter_mut().zip(&self.unit_im) {
            *r = u * gain;
        }
        self.tabulate_points();
    }

    /// Tabulates what each of `points` adds at each position of the pattern, for
    /// [`Pull::Point`]: worth it for small constellations (at most 256 points).
    pub fn set_points(&mut self, points: &[Complex32]) {
        assert!(points.len() <= 256, "too many points");
        self.points = points.to_vec();
        self.tabulate_points();
    }

    fn tabulate_points(&mut self) {
        let (l, np) = (self.row_len, self.points.len());
        self.point_rows = vec![0.0; self.q_len * np * l];
        for q in 0..self.q_len {
            for (p, a) in self.points.iter().enumerate() {
                let row = &mut self.point_rows[(q * np + p) * l..(q * np + p + 1) * l];
                let (re, im) = (
                    &self.rows_re[q * l..(q + 1) * l],
                    &self.rows_im[q * l..(q + 1) * l],
                );
                // The very operations of `scatter`, so the sums come out the same.
                for ((r, &x), &y) in row.iter_mut().zip(re).zip(im) {
                    *r = a.re * x + a.im * y;
                }
            }
        }
    }

    /// Pulse length in symbols.
    pub fn span(&self) -> usize {
        self.span
    }

    /// The symbol rate.
    pub fn baud(&self) -> u32 {
        self.baud
    }

    /// Output samples produced so far.
    pub fn samples(&self) -> u64 {
        self.n
    }

    /// True once a [`Pull::Last`] or [`Pull::End`] has ended the output.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Fills `out` with samples, calling `next_symbol` at each sample where a symbol is due,
    /// in order. Returns the samples written: fewer than `out.len()` once the source ended
    /// the transmission (see [`Pull`]), and none after that.
    #[inline]
    pub fn fill(&mut self, out: &mut [i16], next_symbol: impl FnMut() -> Pull) -> usize {
        #[cfg(target_arch = "x86_64")]
        if self.avx {
            // SAFETY: `avx` is set only when the CPU reports AVX.
            return unsafe { self.fill_avx(out, next_symbol) };
        }
        self.fill_with(out, next_symbol)
    }

    /// [`BlockShaper::fill`] compiled for AVX as a whole, so the pulse loops inside it run
    /// eight lanes wide (no FMA: the same bits as the portable code).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx")]
    unsafe fn fill_avx(&mut self, out: &mut [i16], next_symbol: impl FnMut() -> Pull) -> usize {
        self.fill_with(out, next_symbol)
    }

    #[inline(always)]
    fn fill_with(&mut self, out: &mut [i16], mut next_symbol: impl FnMut() -> Pull) -> usize {
        let mut done = 0;
        while done < out.len() && !self.finished {
            let len = (out.len() - done).min(CHUNK);
            let mut end = len;
            // Every symbol that starts within these `len` samples.
            while self.next_start < self.n + len as u64 {
                let off = (self.next_start - self.n) as usize;
                let a = match next_symbol() {
                    Pull::Symbol(a) => a,
                    Pull::Point(p) => {
                        self.add_point(off, p as usize);
                        continue;
                    }
                    Pull::Last(a) => {
                        self.add_symbol(off, a);
                        end = off + 1;
                        self.finished = true;
                        break;
                    }
                    Pull::End => {
                        end = off;
                        self.finished = true;
                        break;
                    }
                };
                self.add_symbol(off, a);
            }
            to_i16_block(&mut out[done..done + end], &self.acc[..end]);
            // Keep the pulses' tails, now starting at acc[0]; what lay beyond them is zero.
            let l = self.row_len;
            self.acc.copy_within(end..end + l, 0);
            self.acc[l..l + end].fill(0.0);
            self.n += end as u64;
            done += end;
        }
        done
    }

    /// Moves the symbol clock on by one symbol; returns the position in the pattern of the
    /// symbol that was due.
    #[inline(always)]
    fn advance(&mut self) -> usize {
        let q = self.q;
        self.q += 1;
        let pattern_start = self.next_start - self.starts[q] as u64;
        self.next_start = if self.q == self.q_len {
            self.q = 0;
            pattern_start + self.p_len
        } else {
            pattern_start + self.starts[self.q] as u64
        };
        q
    }

    /// Adds the pulse of the next symbol, `a`, starting `off` samples from now.
    #[inline(always)]
    fn add_symbol(&mut self, off: usize, a: Complex32) {
        let q = self.advance();
        if a.re == 0.0 && a.im == 0.0 {
            // Silence adds nothing (and −0 + 0 = +0, so skipping it is exact too).
            return;
        }
        let row = q * self.row_len..(q + 1) * self.row_len;
        let acc = &mut self.acc[off..off + self.row_len];
        let (re, im) = (&self.rows_re[row.clone()], &self.rows_im[row]);
        scatter(acc, a.re, a.im, re, im);
    }

    /// Adds the pulse of the next symbol, point `p` of [`BlockShaper::set_points`].
    #[inline(always)]
    fn add_point(&mut self, off: usize, p: usize) {
        let q = self.advance();
        let l = self.row_len;
        let at = (q * self.points.len() + p) * l;
        let row = &self.point_rows[at..at + l];
        let acc = &mut self.acc[off..off + l];
        add(acc, row);
    }
}

/// `acc += row`, lane by lane.
#[inline(always)]
fn add(acc: &mut [f32], row: &[f32]) {
    for (s, &r) in acc.iter_mut().zip(row) {
        *s += r;
    }
}

/// [`crate::level::to_i16`] of every sample; four at a time with SSE2 (part of every
/// x86-64), which gives the same values: the same rounding addition, then a clamp and a
/// truncation in place of the saturating cast.
#[inline(always)]
fn to_i16_block(out: &mut [i16], x: &[f32]) {
    let n = out.len().min(x.len());
    let mut i = 0;
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        // SAFETY: SSE2 is part of the x86-64 baseline; the unaligned loads and stores
        // touch x[i..i + 8] and out[i..i + 8], inside both slices since i + 8 <= n.
        unsafe {
            let sign = _mm_set1_ps(-0.0);
            let half = _mm_set1_ps(0.5);
            let lo = _mm_set1_ps(-32768.0);
            let hi = _mm_set1_ps(32767.0);
            let round = |v: __m128| {
                let r = _mm_add_ps(v, _mm_or_ps(_mm_and_ps(v, sign), half));
                _mm_cvttps_epi32(_mm_min_ps(_mm_max_ps(r, lo), hi))
            };
            while i + 8 <= n {
                let a = round(_mm_loadu_ps(x.as_ptr().add(i)));
                let b = round(_mm_loadu_ps(x.as_ptr().add(i + 4)));
                _mm_storeu_si128(
                    out.as_mut_ptr().add(i) as *mut __m128i,
                    _mm_packs_epi32(a, b),
                );
                i += 8;
            }
        }
    }
    for (o, &v) in out[i..n].iter_mut().zip(&x[i..n]) {
        *o = crate::level::to_i16(v);
    }
}

fn gcd_u64(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd_u64(b, a % b) }
}

/// Whether to use the AVX fill loop: the process-wide choice of [`crate::simd`] (AVX2
/// implies the AVX this loop needs), so `FAXSIM_VECTOR=baseline` covers it too.
fn avx_available() -> bool {
    crate::simd::use_avx2()
}

/// `acc += x·a + y·b`, lane by lane: the same operations in the same order in every lane,
/// so any vector width gives the same bits.
#[inline(always)]
fn scatter(acc: &mut [f32], x: f32, y: f32, a: &[f32], b: &[f32]) {
    for ((s, &p), &q) in acc.iter_mut().zip(a).zip(b) {
        *s += x * p + y * q;
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
        assert!((dbm0 + 10.0).abs() < 0.05, "{dbm0}");
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

    /// Pseudo-random symbols with small integer parts and some silence, as the modems send.
    fn test_symbols(count: usize, seed: u32) -> Vec<Complex32> {
        let mut k = seed;
        (0..count)
            .map(|i| {
                k = k.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                if i % 97 < 5 {
                    return Complex32::new(0.0, 0.0);
                }
                let re = ((k >> 16) % 11) as f32 - 5.0;
                let im = ((k >> 22) % 9) as f32 - 4.0;
                Complex32::new(re, im)
            })
            .collect()
    }

    const CASES: [(u32, u32, f32, usize); 6] = [
        (2400, 1800, 0.25, 12),
        (2400, 1700, 0.25, 12),
        (2400, 1700, 0.25, 24),
        (1600, 1800, 0.5, 10),
        (1200, 1800, 0.5, 10),
        (2400, 1800, 0.25, 2),
    ];

    /// The block path gives the reference path's i16 samples within one LSB (the two sum
    /// the same products in another order, and the reference's oscillator interpolates a
    /// sine table), and pulls every symbol at the same sample.
    #[test]
    fn block_shaper_matches_reference() {
        for (baud, carrier, rolloff, span) in CASES {
            let symbols = test_symbols(4000, baud + carrier);
            let mut reference = PulseShaper::new_reference(baud, carrier as f32, rolloff, span);
            reference.set_level(-3.0, 20.0);
            let mut pulled_at = Vec::new();
            let mut want = Vec::new();
            for n in 0..9000usize {
                let x = reference.next_sample(&mut || {
                    pulled_at.push(n);
                    symbols[pulled_at.len() - 1]
                });
                want.push(crate::level::to_i16(x));
            }
            let mut block = BlockShaper::new(baud, carrier, rolloff, span);
            block.set_level(-3.0, 20.0);
            let mut got = vec![0i16; 9000];
            let mut k = 0;
            let written = block.fill(&mut got, || {
                k += 1;
                Pull::Symbol(symbols[k - 1])
            });
            assert_eq!(written, 9000);
            assert_eq!(k, pulled_at.len(), "{baud}/{carrier}: symbols pulled");
            for (n, (&a, &b)) in got.iter().zip(&want).enumerate() {
                assert!(
                    (a as i32 - b as i32).abs() <= 1,
                    "{baud}/{carrier}/{span} sample {n}: {a} vs {b}"
                );
            }
        }
    }

    /// Block sizes do not change a bit of the output, nor when the symbols are pulled;
    /// `Last` and `End` cut the output at the sample of the pull.
    #[test]
    fn block_shaper_is_block_size_invariant() {
        for (baud, carrier, rolloff, span) in CASES {
            let symbols = test_symbols(3000, 99);
            let run = |sizes: &[usize], last: Option<(usize, bool)>| {
                let mut sh = BlockShaper::new(baud, carrier, rolloff, span);
                sh.set_level(-10.0, 10.0);
                let mut out = Vec::new();
                let mut pulls = Vec::new();
                let mut k = 0;
                let mut i = 0;
                while !sh.is_finished() && out.len() < 7000 {
                    let mut buf = vec![0i16; sizes[i % sizes.len()].min(7000 - out.len())];
                    i += 1;
                    let before = out.len() as u64;
                    let start = sh.samples();
                    assert_eq!(start, before);
                    let n = sh.fill(&mut buf, || {
                        k += 1;
                        pulls.push(k);
                        match last {
                            Some((at, true)) if k == at => Pull::Last(symbols[k - 1]),
                            Some((at, false)) if k == at => Pull::End,
                            _ => Pull::Symbol(symbols[k - 1]),
                        }
                    });
                    out.extend_from_slice(&buf[..n]);
                }
                (out, pulls)
            };
            let whole = run(&[7000], None);
            for sizes in [&[1usize][..], &[160], &[3, 500, 17, 1], &[CHUNK + 1, 2]] {
                assert!(run(sizes, None) == whole, "{baud}/{carrier} {sizes:?}");
            }
            for last in [Some((1000, true)), Some((1000, false))] {
                let a = run(&[7000], last);
                let b = run(&[1, 160, 13], last);
                assert!(a == b, "{baud}/{carrier} {last:?}");
                let first_sample = (999 * 8000usize).div_ceil(baud as usize);
                let expect = if last.unwrap().1 {
                    first_sample + 1
                } else {
                    first_sample
                };
                assert_eq!(a.0.len(), expect, "{baud}: {last:?}");
                assert!(a.0[..expect] == whole.0[..expect]);
            }
        }
    }

    /// The block conversion gives `to_i16`'s values, rounding ties and clipping included.
    #[test]
    fn block_conversion_matches_to_i16() {
        let mut xs = vec![
            0.0f32,
            -0.0,
            0.5,
            -0.5,
            1.5,
            -1.5,
            2.4999998,
            -2.5000002,
            32766.5,
            32767.4,
            32767.6,
            40000.0,
            -32767.5,
            -32768.4,
            -32768.6,
            -1e9,
            1e9,
            123.456,
            -0.49999997,
        ];
        let mut k = 1u32;
        for _ in 0..1000 {
            k = k.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            xs.push((k as i32) as f32 / 50_000.0);
        }
        for start in 0..8 {
            let x = &xs[start..];
            let mut out = vec![0i16; x.len()];
            to_i16_block(&mut out, x);
            for (o, &v) in out.iter().zip(x) {
                assert_eq!(*o, crate::level::to_i16(v), "{v}");
            }
        }
    }

    /// Tabulated points give exactly what the same symbols give as values.
    #[test]
    fn points_match_symbols() {
        let points: Vec<Complex32> = (0..8)
            .map(|k| Complex32::from_polar(1.0, k as f32 * std::f32::consts::FRAC_PI_4))
            .collect();
        for (baud, carrier, rolloff, span) in CASES {
            let mut k = 3u32;
            let idx: Vec<u8> = (0..2000)
                .map(|_| {
                    k = k.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    (k >> 20) as u8 % 8
                })
                .collect();
            let run = |as_points: bool| {
                let mut sh = BlockShaper::new(baud, carrier, rolloff, span);
                sh.set_points(&points);
                sh.set_level(-10.0, 1.0);
                let mut out = vec![0i16; 5000];
                let mut i = 0;
                sh.fill(&mut out, || {
                    i += 1;
                    let p = idx[(i - 1) % idx.len()];
                    if as_points {
                        Pull::Point(p)
                    } else {
                        Pull::Symbol(points[p as usize])
                    }
                });
                (out, sh.acc)
            };
            let (a, ta) = run(true);
            let (b, tb) = run(false);
            assert!(a == b, "{baud}/{carrier}");
            assert!(ta.iter().zip(&tb).all(|(x, y)| x.to_bits() == y.to_bits()));
        }
    }

    /// The AVX and the portable scatter give the same bits.
    #[test]
    fn scatter_paths_agree() {
        let symbols = test_symbols(2000, 5);
        let run = |avx: bool| {
            let mut sh = BlockShaper::new(2400, 1700, 0.25, 12);
            sh.set_level(-10.0, 13.5);
            sh.avx = avx && avx_available();
            let mut out = vec![0i16; 6000];
            let mut k = 0;
            sh.fill(&mut out, || {
                k += 1;
                Pull::Symbol(symbols[k - 1])
            });
            let tail = sh.acc.clone();
            (out, tail)
        };
        let (a, ta) = run(true);
        let (b, tb) = run(false);
        assert!(a == b);
        assert!(ta.iter().zip(&tb).all(|(x, y)| x.to_bits() == y.to_bits()));
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
