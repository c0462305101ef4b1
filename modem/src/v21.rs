//! V.21 300 bit/s FSK, and the generic binary FSK modem it is built from.
//!
//! V.21 has two channels: channel 1 (mark 980 Hz, space 1180 Hz) and channel 2 (mark 1650 Hz,
//! space 1850 Hz). T.30 sends its control frames over channel 2 as HDLC (see
//! [`crate::hdlc`]). Mark is binary 1.
//!
//! The transmitter is phase-continuous FSK. The receiver works non-coherently, at a quarter
//! of the sample rate (2000 outputs per second, 6⅔ per bit):
//! 1. two complex band-pass filters around the channel's centre frequency, applied straight
//!    to the real input (the same as mixing down and low-passing, without the mixer) and
//!    evaluated every 4th sample: a narrow one (cut-off 170 Hz) for the data, which rejects
//!    as much noise as the discriminator can live with, and a wide one (360 Hz) that passes
//!    the whole FSK spectrum for carrier detection and for the level, SNR and offset
//!    readings. Both are symmetric low-passes turned into band-passes, so they fold into
//!    half-length real dot products, computed together four taps at a time;
//! 2. a delay-and-multiply discriminator over one output period gives the frequency,
//!    weighted by the signal's energy so that noise-dominated moments count less;
//! 3. a one-bit moving sum (the matched filter for rectangular frequency pulses) is sampled
//!    at instants set by a transition-tracking clock loop (proportional and integral, so it
//!    holds a sample-clock offset);
//! 4. the decision threshold follows the mean of the mark and space levels, measured in runs
//!    of equal bits, which removes a carrier frequency offset.
//!
//! Carrier detection uses the in-band energy with the V.21 thresholds (on at −44 dBm0, off
//! at −48 dBm0, each held for 5 ms), and the fall rule shared with the fast modems; it reads
//! the power once per output and keeps its times in input samples. Bits are delivered only
//! while the carrier is present. While no carrier is present and the input is too quiet to
//! raise one, only the input history is kept.

use crate::dsp::{CarrierFall, Complex32, Nco, phase_step};
use crate::level::{dbm0_to_rms, power_to_dbm0};
use crate::{
    BitSource, Error, ModemKind, Quality, Receiver, RxConfig, RxEvent, RxSink, SAMPLE_RATE,
    Transmitter, TxConfig,
};
use std::f32::consts::TAU;

/// A binary FSK signal: the mark (binary 1) and space (binary 0) frequencies and the rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FskSpec {
    /// Frequency for binary 1, Hz.
    pub mark_hz: f32,
    /// Frequency for binary 0, Hz.
    pub space_hz: f32,
    /// Symbol rate, bit/s.
    pub baud: f32,
}

impl FskSpec {
    /// The mid frequency between mark and space.
    pub fn centre_hz(&self) -> f32 {
        (self.mark_hz + self.space_hz) / 2.0
    }

    /// Half the mark–space spacing.
    pub fn deviation_hz(&self) -> f32 {
        (self.space_hz - self.mark_hz).abs() / 2.0
    }
}

/// The two V.21 channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum V21Channel {
    /// Channel 1: mark 980 Hz, space 1180 Hz.
    Ch1,
    /// Channel 2: mark 1650 Hz, space 1850 Hz (the T.30 control channel).
    Ch2,
}

impl V21Channel {
    /// This channel's FSK parameters.
    pub fn spec(self) -> FskSpec {
        match self {
            V21Channel::Ch1 => FskSpec {
                mark_hz: 980.0,
                space_hz: 1180.0,
                baud: 300.0,
            },
            V21Channel::Ch2 => FskSpec {
                mark_hz: 1650.0,
                space_hz: 1850.0,
                baud: 300.0,
            },
        }
    }

    /// The matching [`ModemKind`].
    pub fn kind(self) -> ModemKind {
        match self {
            V21Channel::Ch1 => ModemKind::V21Ch1,
            V21Channel::Ch2 => ModemKind::V21Ch2,
        }
    }
}

fn check_v21_rate(channel: V21Channel, rate: u32) -> Result<(), Error> {
    // Rate 0 means "the modem's only rate".
    if rate == 0 {
        Ok(())
    } else {
        channel.kind().check_rate(rate)
    }
}

/// A phase-continuous binary FSK modulator. It pulls one bit per symbol period from the
/// source and ends (after the current symbol) when the source returns `None`.
///
/// Each bit is a run of samples `A·sin(φ₀ + kΔ)` from the phase φ₀ at its start: with
/// `A·cos kΔ` and `A·sin kΔ` tabulated per tone, a sample is `sin φ₀·C[k] + cos φ₀·S[k]`,
/// two multiplies and no table lookup in the inner loop. The phase itself advances in a
/// wrapping 32-bit accumulator, so long runs do not drift.
#[derive(Debug, Clone)]
pub struct FskTx {
    /// Sine table lookups for the phase at each bit start.
    lut: Nco,
    /// Phase at the start of the current bit (2^32 = one cycle).
    phase: u32,
    mark_step: u32,
    space_step: u32,
    amplitude: f32,
    /// `A·cos kΔ` and `A·sin kΔ` for k within one bit, mark then space.
    tables: [Vec<f32>; 4],
    /// sin φ₀ and cos φ₀ of the current bit, and which tone it is.
    sin0: f32,
    cos0: f32,
    mark: bool,
    /// Samples of the current bit sent and still to send.
    sent: usize,
    left: usize,
    bit_clock: u32,
    bit_step: u32,
    finished: bool,
}

/// Samples in the bit that starts at `clock`: the bit ends with the sample at which the
/// 32-bit clock advancing by `step` wraps.
fn bit_samples(clock: u32, step: u32) -> usize {
    ((1u64 << 32) - u64::from(clock)).div_ceil(u64::from(step.max(1))) as usize
}

impl FskTx {
    /// A modulator for `spec` at `level_dbm0` (constant envelope: the level of the sine).
    pub fn new(spec: FskSpec, level_dbm0: f32) -> Self {
        let bit_step = (spec.baud as f64 / SAMPLE_RATE as f64 * 4_294_967_296.0)
            .round()
            .clamp(1.0, u32::MAX as f64) as u32;
        let mut tx = FskTx {
            lut: Nco::new(0.0),
            phase: 0,
            mark_step: phase_step(spec.mark_hz) as u32,
            space_step: phase_step(spec.space_hz) as u32,
            amplitude: 0.0,
            tables: Default::default(),
            sin0: 0.0,
            cos0: 1.0,
            mark: true,
            sent: 0,
            left: 0,
            bit_clock: 0,
            bit_step,
            finished: false,
        };
        tx.set_level(level_dbm0);
        tx
    }

    /// Changes the transmit level.
    pub fn set_level(&mut self, level_dbm0: f32) {
        self.amplitude = sine_amplitude(level_dbm0);
        let len = bit_samples(0, self.bit_step) + 1;
        let a = f64::from(self.amplitude);
        for (i, step) in [self.mark_step, self.space_step].into_iter().enumerate() {
            let delta = f64::from(step) * std::f64::consts::TAU / 4_294_967_296.0;
            self.tables[2 * i] = (0..len)
                .map(|k| (a * (delta * k as f64).cos()) as f32)
                .collect();
            self.tables[2 * i + 1] = (0..len)
                .map(|k| (a * (delta * k as f64).sin()) as f32)
                .collect();
        }
    }
}

fn sine_amplitude(level_dbm0: f32) -> f32 {
    dbm0_to_rms(level_dbm0) * std::f32::consts::SQRT_2
}

impl Transmitter for FskTx {
    fn fill(&mut self, out: &mut [i16], src: &mut dyn BitSource) -> usize {
        let mut n = 0;
        while n < out.len() {
            if self.finished {
                return n;
            }
            if self.left == 0 {
                let Some(bit) = src.next_bit() else {
                    self.finished = true;
                    return n;
                };
                // The previous bit's run ended at the phase this one starts from.
                if self.sent > 0 {
                    let step = if self.mark {
                        self.mark_step
                    } else {
                        self.space_step
                    };
                    self.phase = self.phase.wrapping_add(step.wrapping_mul(self.sent as u32));
                }
                self.mark = bit;
                let (c, s) = self.lut.cos_sin_at(self.phase);
                self.sin0 = s;
                self.cos0 = c;
                self.left = bit_samples(self.bit_clock, self.bit_step);
                self.bit_clock = self
                    .bit_clock
                    .wrapping_add(self.bit_step.wrapping_mul(self.left as u32));
                self.sent = 0;
            }
            let m = self.left.min(out.len() - n);
            let t = if self.mark { 0 } else { 2 };
            let cos_k = &self.tables[t][self.sent..self.sent + m];
            let sin_k = &self.tables[t + 1][self.sent..self.sent + m];
            let (s0, c0) = (self.sin0, self.cos0);
            for ((slot, &ck), &sk) in out[n..n + m].iter_mut().zip(cos_k).zip(sin_k) {
                *slot = crate::level::to_i16(s0 * ck + c0 * sk);
            }
            self.sent += m;
            self.left -= m;
            n += m;
        }
        out.len()
    }

    fn is_finished(&self) -> bool {
        self.finished
    }
}

/// V.21 carrier detection: on above −44 dBm0, off below −48 dBm0 (in-band power). V.21 asks
/// for "on" by −43 dBm0 and "off" by −48 dBm0; the in-band reading of a short burst runs a
/// little low, so switching on at −44 dBm0 keeps a −43 dBm0 signal heard (TSB-85
/// MRGN05 runs the whole call at that level) with 4 dB of hysteresis left.
pub const CARRIER_ON_DBM0: f32 = -44.0;
/// See [`CARRIER_ON_DBM0`].
pub const CARRIER_OFF_DBM0: f32 = -48.0;

/// In-band energy detection with hysteresis and persistence: the level must stay past a
/// threshold for a few milliseconds before the state changes, so that noise near a
/// threshold does not make the carrier chatter.
///
/// It takes one power reading per `step` input samples (the receiver's output instants) and
/// keeps its times in input samples: the mean moves as `step` per-sample updates with the
/// same reading would move it, and the hold counts `step` samples per reading.
#[derive(Debug, Clone)]
struct SignalDetect {
    /// One-pole mean of the power fed in (the power itself, so no square root per sample):
    /// the weight of a reading held for `step` samples.
    alpha: f32,
    power: f32,
    on_power: f32,
    off_power: f32,
    /// Samples the power must stay past a threshold, samples counted so far, and samples
    /// per reading.
    hold: u32,
    count: u32,
    step: u32,
    present: bool,
    /// Noise louder than the on threshold raises the carrier by itself, so the carrier also
    /// goes when its power falls well under its own level, as the fast modems' detector does.
    fall: CarrierFall,
}

impl SignalDetect {
    /// A detector with a time constant and a hold in samples, read every `step` samples.
    fn new(time_constant: f32, hold: u32, step: u32) -> Self {
        let power = |dbm0: f32| {
            let r = dbm0_to_rms(dbm0);
            r * r
        };
        let step = step.max(1);
        let per_sample = 1.0 / time_constant.max(1.0);
        SignalDetect {
            alpha: 1.0 - (1.0 - per_sample).powi(step as i32),
            power: 0.0,
            on_power: power(CARRIER_ON_DBM0),
            off_power: power(CARRIER_OFF_DBM0),
            hold,
            count: 0,
            step,
            present: false,
            fall: CarrierFall::with_step(step),
        }
    }

    /// Feeds one power reading (standing for `step` samples); returns the new state when it
    /// changes.
    #[inline]
    fn update(&mut self, power: f32) -> Option<bool> {
        self.power += (power - self.power) * self.alpha;
        let p = self.power;
        let past = if self.present {
            if p < self.off_power {
                self.fall.clear_hold();
                true
            } else if self.fall.present(p) {
                self.count = 0;
                self.present = false;
                return Some(false);
            } else {
                false
            }
        } else {
            p > self.fall.on_threshold(p, self.on_power)
        };
        if !past {
            self.count = 0;
            return None;
        }
        self.count += self.step;
        if self.count < self.hold {
            return None;
        }
        self.count = 0;
        self.present = !self.present;
        if self.present {
            self.fall.start(p);
        } else {
            self.fall.clear_hold();
        }
        Some(self.present)
    }

    fn dbm0(&self) -> f32 {
        power_to_dbm0(self.power)
    }
}

/// Channel filter length (taps) of the receiver.
const CHANNEL_TAPS: usize = 47;
/// The filter's middle tap.
const MID: usize = CHANNEL_TAPS / 2;
/// Taps of the folded filter: the low-pass is symmetric, so the history is folded about its
/// middle (sums and differences of the samples `m` either side) and each dot product is
/// half as long.
const FOLDED_TAPS: usize = MID + 1;
// The combined filter works in fours.
const _: () = assert!(FOLDED_TAPS.is_multiple_of(4));
/// [`FOLDED_TAPS`] padded to a multiple of [`LANES`].
const PADDED_FOLDED: usize = FOLDED_TAPS.div_ceil(LANES) * LANES;
/// Independent accumulators in the filter dot products (lets the compiler vectorise).
const LANES: usize = 8;
/// Decimation: the filters are evaluated, and everything after them runs, once every
/// `DECIM` input samples (2000 per second). The complex channel filters cut off far below
/// the new Nyquist frequency (±1000 Hz), so nothing folds into the band.
const DECIM: usize = 4;
/// Input history buffer length: the newest [`CHANNEL_TAPS`] samples are always contiguous;
/// when the buffer fills, the last `CHANNEL_TAPS − 1` move to the front.
const HIST: usize = 512;
/// Cut-off of the data path's channel filter around the centre frequency, Hz: narrow, for
/// the best noise rejection (the discriminator tolerates the intersymbol interference).
const NARROW_CUTOFF_HZ: f32 = 170.0;
/// Cut-off of the measurement path, Hz: wide enough to pass the whole FSK spectrum, so that
/// level, SNR and frequency-offset readings are unbiased.
const WIDE_CUTOFF_HZ: f32 = 360.0;
/// Longest moving-sum window (decimated samples per bit, rounded).
const MAX_WINDOW: usize = 32;
/// Broadband level below which the input cannot hold a carrier (8 dB under the on
/// threshold): while no carrier is present and the input stays this quiet, the filters and
/// discriminator are skipped. Half-duplex T.30 leaves each receiver listening to silence
/// most of a call, so this is where a call's V.21 time goes.
const QUIET_DBM0: f32 = -52.0;
/// Samples whose mean power the quiet gate measures.
const QUIET_SPAN: usize = 16;

/// A dot product in [`LANES`] independent partial sums (the tests' reference filter).
#[cfg(test)]
fn dot<const N: usize>(taps: &[f32; N], x: &[f32; N]) -> f32 {
    let mut acc = [0f32; LANES];
    for (t, v) in taps.chunks_exact(LANES).zip(x.chunks_exact(LANES)) {
        for j in 0..LANES {
            acc[j] += t[j] * v[j];
        }
    }
    acc.iter().sum()
}

/// The window of the newest [`CHANNEL_TAPS`] input samples (oldest first) folded about its
/// middle: sums `x[MID − m] + x[MID + m]` (the middle sample alone at `m = 0`) and
/// differences `x[MID − m] − x[MID + m]` (older minus newer), zeros after.
#[cfg(test)]
fn fold(x: &[f32]) -> ([f32; PADDED_FOLDED], [f32; PADDED_FOLDED]) {
    let x = &x[..CHANNEL_TAPS];
    let mut sum = [0f32; PADDED_FOLDED];
    let mut diff = [0f32; PADDED_FOLDED];
    sum[0] = x[MID];
    for m in 1..FOLDED_TAPS {
        let (a, b) = (x[MID - m], x[MID + m]);
        sum[m] = a + b;
        diff[m] = a - b;
    }
    (sum, diff)
}

/// Both paths' folded taps laid out for the combined filter: wide real, wide imaginary,
/// narrow real, narrow imaginary. The combined filter adds `x[MID] + x[MID]` at `m = 0`, so
/// the real taps there are halved.
#[derive(Debug, Clone)]
struct FilterBank {
    taps: [[f32; FOLDED_TAPS]; 4],
}

impl FilterBank {
    fn new(wide: &Path, narrow: &Path) -> Self {
        let mut taps = [[0f32; FOLDED_TAPS]; 4];
        for (t, src) in taps.iter_mut().zip([
            &wide.cos_taps,
            &wide.sin_taps,
            &narrow.cos_taps,
            &narrow.sin_taps,
        ]) {
            t.copy_from_slice(&src[..FOLDED_TAPS]);
        }
        taps[0][0] *= 0.5;
        taps[2][0] *= 0.5;
        FilterBank { taps }
    }

    /// The wide and narrow outputs for the newest [`CHANNEL_TAPS`] samples `x` (oldest
    /// first), folding and filtering in one pass with four partial sums per output part.
    /// The reference for the SSE2 version.
    #[cfg_attr(all(target_arch = "x86_64", not(test)), allow(dead_code))]
    fn outputs_scalar(&self, x: &[f32]) -> (Complex32, Complex32) {
        let x = &x[..CHANNEL_TAPS];
        let mut acc = [[0f32; 4]; 4];
        for m in 0..FOLDED_TAPS {
            let (a, b) = (x[MID - m], x[MID + m]);
            let (sum, diff) = (a + b, a - b);
            let lane = m % 4;
            acc[0][lane] += self.taps[0][m] * sum;
            acc[1][lane] += self.taps[1][m] * diff;
            acc[2][lane] += self.taps[2][m] * sum;
            acc[3][lane] += self.taps[3][m] * diff;
        }
        let total = |a: [f32; 4]| (a[0] + a[2]) + (a[1] + a[3]);
        (
            Complex32::new(total(acc[0]), total(acc[1])),
            Complex32::new(total(acc[2]), total(acc[3])),
        )
    }

    /// [`FilterBank::outputs_scalar`], four taps per instruction (the same operations per
    /// lane in the same order, so the same bits).
    #[cfg(target_arch = "x86_64")]
    #[inline]
    fn outputs(&self, x: &[f32]) -> (Complex32, Complex32) {
        use std::arch::x86_64::*;
        let x = &x[..CHANNEL_TAPS];
        // SAFETY: SSE2 is part of the x86-64 baseline. For m0 = 0, 4, …, 20 the loads read
        // x[MID − m0 − 3 .. MID − m0 + 1] and x[MID + m0 .. MID + m0 + 4], within
        // 0..CHANNEL_TAPS (MID − 23 = 0, MID + 23 = 46), and taps[k][m0 .. m0 + 4].
        unsafe {
            let mut acc = [_mm_setzero_ps(); 4];
            let mut m0 = 0;
            while m0 < FOLDED_TAPS {
                let older = _mm_loadu_ps(x.as_ptr().add(MID - m0 - 3));
                // Lane l holds x[MID − m0 − l].
                let a = _mm_shuffle_ps::<0b00_01_10_11>(older, older);
                let b = _mm_loadu_ps(x.as_ptr().add(MID + m0));
                let sum = _mm_add_ps(a, b);
                let diff = _mm_sub_ps(a, b);
                let t = |k: usize| _mm_loadu_ps(self.taps[k].as_ptr().add(m0));
                acc[0] = _mm_add_ps(acc[0], _mm_mul_ps(t(0), sum));
                acc[1] = _mm_add_ps(acc[1], _mm_mul_ps(t(1), diff));
                acc[2] = _mm_add_ps(acc[2], _mm_mul_ps(t(2), sum));
                acc[3] = _mm_add_ps(acc[3], _mm_mul_ps(t(3), diff));
                m0 += 4;
            }
            let mut out = [[0f32; 4]; 4];
            for (o, a) in out.iter_mut().zip(acc) {
                _mm_storeu_ps(o.as_mut_ptr(), a);
            }
            let total = |a: [f32; 4]| (a[0] + a[2]) + (a[1] + a[3]);
            (
                Complex32::new(total(out[0]), total(out[1])),
                Complex32::new(total(out[2]), total(out[3])),
            )
        }
    }

    /// Without SSE2: the scalar reference.
    #[cfg(not(target_arch = "x86_64"))]
    #[inline]
    fn outputs(&self, x: &[f32]) -> (Complex32, Complex32) {
        self.outputs_scalar(x)
    }
}

/// The Hamming-windowed sinc low-pass (unity gain at DC) behind both channel filters, exactly
/// symmetric.
fn low_pass(cutoff_hz: f32) -> [f32; CHANNEL_TAPS] {
    let mut taps = [0f32; CHANNEL_TAPS];
    let mid = MID as f32;
    let wc = cutoff_hz / SAMPLE_RATE as f32;
    for (i, t) in taps.iter_mut().enumerate() {
        let x = i as f32 - mid;
        let sinc = if x == 0.0 {
            2.0 * wc
        } else {
            (TAU * wc * x).sin() / (std::f32::consts::PI * x)
        };
        let w = 0.54 - 0.46 * (TAU * i as f32 / (CHANNEL_TAPS - 1) as f32).cos();
        *t = sinc * w;
    }
    for i in 0..MID {
        taps[CHANNEL_TAPS - 1 - i] = taps[i];
    }
    let gain: f32 = taps.iter().sum();
    taps.iter_mut().for_each(|t| *t /= gain);
    taps
}

/// One filter-discriminator-moving-sum chain.
///
/// Mixing the input down by the centre frequency ω and low-passing it with taps `h` equals
/// filtering the real input with the complex band-pass `h[k]·e^{jωk}` and rotating the
/// result by `e^{−jωn}`. The band-pass needs no mixer, and its symmetry folds it into a
/// real dot product (`h[m]·cos ωm` over the sums) and an imaginary one (`h[m]·sin ωm` over
/// the differences). The rotation is left out: power ignores it, and between two outputs
/// it is the constant `e^{−jω·DECIM}` that the discriminator applies.
#[derive(Debug, Clone)]
struct Path {
    cos_taps: [f32; PADDED_FOLDED],
    sin_taps: [f32; PADDED_FOLDED],
    /// The rotation between consecutive outputs, `e^{−jω·DECIM}`.
    turn: Complex32,
    noise_gain: f32,
    prev: Complex32,
    power: f32,
    window: [f32; MAX_WINDOW],
    sum_prev: f32,
    sum: f32,
    /// The sum over exactly one bit (the oldest output weighted by the bit's fraction of
    /// it), now and one output before.
    value: f32,
    value_prev: f32,
}

impl Path {
    fn new(cutoff_hz: f32, centre_hz: f32) -> Self {
        let taps = low_pass(cutoff_hz);
        let w = TAU * centre_hz / SAMPLE_RATE as f32;
        let mut cos_taps = [0f32; PADDED_FOLDED];
        let mut sin_taps = [0f32; PADDED_FOLDED];
        for m in 0..FOLDED_TAPS {
            let h = taps[MID + m];
            let (s, c) = (w * m as f32).sin_cos();
            cos_taps[m] = h * c;
            sin_taps[m] = h * s;
        }
        sin_taps[0] = 0.0;
        let (s, c) = (w * DECIM as f32).sin_cos();
        Path {
            cos_taps,
            sin_taps,
            turn: Complex32::new(c, -s),
            noise_gain: taps.iter().map(|t| t * t).sum(),
            prev: Complex32::new(0.0, 0.0),
            power: 0.0,
            window: [0.0; MAX_WINDOW],
            sum_prev: 0.0,
            sum: 0.0,
            value: 0.0,
            value_prev: 0.0,
        }
    }

    /// The filter output from the folded history (see [`fold`]), up to a rotation: the
    /// reference for [`FilterBank`].
    #[cfg(test)]
    fn filter(&self, sum: &[f32; PADDED_FOLDED], diff: &[f32; PADDED_FOLDED]) -> Complex32 {
        Complex32::new(dot(&self.cos_taps, sum), dot(&self.sin_taps, diff))
    }

    /// Delay-and-multiply discriminator over one output period, normalised by the mean
    /// power so that its output is sin(phase step) for a clean tone but weaker samples count
    /// less; then the one-bit moving sum.
    #[inline]
    fn discriminate(&mut self, y: Complex32, pos: usize, len: usize, cut: f32) {
        self.power += (y.norm_sqr() - self.power) * (DECIM as f32 / 32.0);
        let prod = y * self.prev.conj() * self.turn;
        self.prev = y;
        let d = if self.power > 1e-3 {
            prod.im / self.power
        } else {
            0.0
        };
        let leaving = self.window[pos];
        self.window[pos] = d;
        self.sum_prev = self.sum;
        if pos + 1 == len {
            // Once per window, a fresh sum, so rounding cannot accumulate.
            self.sum = self.window[..len].iter().sum();
        } else {
            self.sum += d - leaving;
        }
        // The oldest output in the window counts only in part, so the sum spans one bit.
        let oldest = if pos + 1 == len { 0 } else { pos + 1 };
        self.value_prev = self.value;
        self.value = self.sum - cut * self.window[oldest];
    }

    /// The one-bit sum `back` outputs (0..1) before the latest.
    #[inline]
    fn sum_at(&self, back: f32) -> f32 {
        self.value - back * (self.value - self.value_prev)
    }
}

/// A non-coherent binary FSK demodulator (see the module page for the method).
///
/// Two chains share the input history: a narrow one makes the bit decisions and drives the
/// clock loop; a wide one measures level, SNR and frequency offset and runs carrier
/// detection. Both run once every `DECIM` (4) samples.
#[derive(Debug, Clone)]
pub struct FskRx {
    spec: FskSpec,
    /// Input history; the newest sample is at `hist_len − 1`, and the newest
    /// [`CHANNEL_TAPS`] are always there (after a reset, zeros).
    hist: Box<[f32; HIST]>,
    hist_len: usize,
    /// Input samples since the last filter output.
    sub: usize,
    narrow: Path,
    /// Both paths' filters in one (the paths keep their own state).
    bank: FilterBank,
    wide: Path,
    carrier: SignalDetect,
    window_len: usize,
    window_pos: usize,
    /// How much of the oldest output in the window lies outside one bit.
    window_cut: f32,
    /// Outputs since the last decision, and the current bit period estimate (in outputs).
    phase: f32,
    period: f32,
    nominal_period: f32,
    period_integral: f32,
    /// Nominal discriminator output for the deviation (per output).
    d_nominal: f32,
    /// Mean narrow-path sums in runs of marks and of spaces (the decision threshold).
    mark_level: f32,
    space_level: f32,
    /// The same on the wide path (the frequency-offset reading).
    wide_mark: f32,
    wide_space: f32,
    last_bits: [bool; 2],
    last_sums: [f32; 2],
    last_wide: [f32; 2],
    decisions: u32,
    env_mean: f32,
    env_sq: f32,
    env_count: u32,
    /// Broadband mean power below which the input counts as quiet.
    quiet_power: f32,
}

/// Outputs the envelope statistics average over once settled (about 0.5 s).
const ENV_OUTPUTS: u32 = (1024 / DECIM) as u32;

impl FskRx {
    /// A demodulator for `spec`.
    pub fn new(spec: FskSpec) -> Self {
        let fs = SAMPLE_RATE as f32;
        let bit_samples = fs / spec.baud;
        let nominal_period = bit_samples / DECIM as f32;
        let window_len = (nominal_period.ceil() as usize).clamp(2, MAX_WINDOW);
        let d_nominal = (TAU * spec.deviation_hz() * DECIM as f32 / fs).sin();
        let narrow = Path::new(NARROW_CUTOFF_HZ, spec.centre_hz());
        let wide = Path::new(WIDE_CUTOFF_HZ, spec.centre_hz());
        let mut rx = FskRx {
            spec,
            hist: Box::new([0.0; HIST]),
            hist_len: CHANNEL_TAPS,
            sub: 0,
            bank: FilterBank::new(&wide, &narrow),
            narrow,
            wide,
            // About a bit of averaging and 5 ms persistence: the carrier is declared within
            // about 8 ms and dropped within about 35 ms.
            carrier: SignalDetect::new(bit_samples, SAMPLE_RATE / 200, DECIM as u32),
            window_len,
            window_pos: 0,
            window_cut: (window_len as f32 - nominal_period).clamp(0.0, 1.0),
            phase: 0.0,
            period: nominal_period,
            nominal_period,
            period_integral: 0.0,
            d_nominal,
            mark_level: 0.0,
            space_level: 0.0,
            wide_mark: 0.0,
            wide_space: 0.0,
            last_bits: [false; 2],
            last_sums: [0.0; 2],
            last_wide: [0.0; 2],
            decisions: 0,
            env_mean: 0.0,
            env_sq: 0.0,
            env_count: 0,
            quiet_power: {
                let r = dbm0_to_rms(QUIET_DBM0);
                r * r
            },
        };
        rx.reset_demod();
        rx
    }

    /// The FSK parameters this demodulator expects.
    pub fn spec(&self) -> FskSpec {
        self.spec
    }

    /// Whether a carrier is present.
    pub fn carrier_present(&self) -> bool {
        self.carrier.present
    }

    /// The one-bit sum's length in outputs.
    fn bit_outputs(&self) -> f32 {
        self.window_len as f32 - self.window_cut
    }

    fn reset_demod(&mut self) {
        let full = self.bit_outputs() * self.d_nominal;
        // Mark is the lower frequency in V.21, so it gives the negative discriminator output;
        // the sign follows the spec so that other FSK plans fit too.
        let mark_sign = if self.spec.mark_hz < self.spec.space_hz {
            -1.0
        } else {
            1.0
        };
        self.mark_level = mark_sign * full;
        self.space_level = -mark_sign * full;
        self.wide_mark = self.mark_level;
        self.wide_space = self.space_level;
        self.phase = 0.0;
        self.period = self.nominal_period;
        self.period_integral = 0.0;
        self.last_bits = [false; 2];
        self.last_sums = [0.0; 2];
        self.last_wide = [0.0; 2];
        self.decisions = 0;
        self.env_mean = 0.0;
        self.env_sq = 0.0;
        self.env_count = 0;
    }

    /// Forgets everything (filters, carrier, timing).
    pub fn reset(&mut self) {
        *self = FskRx::new(self.spec);
    }

    /// Processes samples, pushing bits and carrier events into `sink`.
    pub fn process(&mut self, samples: &[i16], sink: &mut dyn RxSink) {
        let mut rest = samples;
        while !rest.is_empty() {
            if self.hist_len == HIST {
                self.hist.copy_within(HIST - (CHANNEL_TAPS - 1).., 0);
                self.hist_len = CHANNEL_TAPS - 1;
            }
            let n = rest.len().min(HIST - self.hist_len);
            let (chunk, tail) = rest.split_at(n);
            rest = tail;
            let start = self.hist_len;
            for (h, &s) in self.hist[start..start + n].iter_mut().zip(chunk) {
                *h = s as f32;
            }
            self.hist_len += n;
            // Outputs fall every DECIM samples; `end` is the history length at each.
            let mut end = start + (DECIM - self.sub);
            while end <= self.hist_len {
                // While no carrier is present and the input is too quiet to raise one,
                // nothing after the history needs to run.
                if self.carrier.present || !self.quiet(end) {
                    self.output(end, sink);
                }
                end += DECIM;
            }
            self.sub = (self.sub + n) % DECIM;
        }
    }

    /// Whether the mean power of the [`QUIET_SPAN`] samples before `end` is under the quiet
    /// level.
    #[inline]
    fn quiet(&self, end: usize) -> bool {
        let recent = &self.hist[end - QUIET_SPAN..end];
        let energy: f32 = recent.iter().map(|x| x * x).sum();
        energy < self.quiet_power * QUIET_SPAN as f32
    }

    /// One filter output (every [`DECIM`] samples): carrier detection, discriminators, the
    /// clock loop and, when due, a decision.
    #[inline]
    fn output(&mut self, end: usize, sink: &mut dyn RxSink) {
        let (yw, yn) = self.bank.outputs(&self.hist[end - CHANNEL_TAPS..end]);
        let mag2 = yw.norm_sqr();
        // A real sine of power P gives |y|² = P/2 after mixing to baseband. The detector
        // keeps its times in input samples: one reading stands for the DECIM samples.
        match self.carrier.update(2.0 * mag2) {
            Some(true) => {
                self.reset_demod();
                sink.event(RxEvent::CarrierUp {
                    level_dbm0: self.carrier.dbm0(),
                });
            }
            Some(false) => sink.event(RxEvent::CarrierDown),
            None => {}
        }
        let cut = self.window_cut;
        self.wide
            .discriminate(yw, self.window_pos, self.window_len, cut);
        self.narrow
            .discriminate(yn, self.window_pos, self.window_len, cut);
        self.window_pos += 1;
        if self.window_pos == self.window_len {
            self.window_pos = 0;
        }
        if !self.carrier.present {
            return;
        }
        self.track_envelope(mag2.sqrt());
        let threshold = 0.5 * (self.mark_level + self.space_level);
        let a = self.narrow.value_prev - threshold;
        let b = self.narrow.value - threshold;
        self.phase += 1.0;
        if (a < 0.0) != (b < 0.0) && a != b {
            // A transition: the moving sum crosses the threshold half a bit after it, so
            // the crossing should fall midway between decisions.
            let frac = b / (b - a);
            let at = self.phase - frac;
            let err = (at - 0.5 * self.period).clamp(-0.5 * self.period, 0.5 * self.period);
            self.phase -= 0.12 * err;
            self.period_integral = (self.period_integral + 0.0008 * err)
                .clamp(-0.01 * self.nominal_period, 0.01 * self.nominal_period);
            self.period = self.nominal_period + self.period_integral;
        }
        if self.phase >= self.period {
            self.phase -= self.period;
            // The decision instant lay `phase` outputs back.
            let back = self.phase.min(1.0);
            let value = self.narrow.sum_at(back);
            let wide = self.wide.sum_at(back);
            self.decide(value, wide, sink);
        }
    }

    fn decide(&mut self, value: f32, wide: f32, sink: &mut dyn RxSink) {
        let threshold = 0.5 * (self.mark_level + self.space_level);
        let mark_low = self.mark_level < self.space_level;
        let bit = (value < threshold) == mark_low;
        // Levels are learnt from the middle bit of three equal ones, where the moving sum
        // is least disturbed by the neighbours.
        if self.decisions >= 2 && self.last_bits[0] == self.last_bits[1] && self.last_bits[1] == bit
        {
            let (narrow, wide) = if bit {
                (&mut self.mark_level, &mut self.wide_mark)
            } else {
                (&mut self.space_level, &mut self.wide_space)
            };
            *narrow += (self.last_sums[1] - *narrow) * (1.0 / 16.0);
            *wide += (self.last_wide[1] - *wide) * (1.0 / 16.0);
        }
        self.last_bits = [self.last_bits[1], bit];
        self.last_sums = [self.last_sums[1], value];
        self.last_wide = [self.last_wide[1], wide];
        self.decisions = self.decisions.saturating_add(1);
        sink.bit(bit);
    }

    fn track_envelope(&mut self, env: f32) {
        let a = if self.env_count < ENV_OUTPUTS {
            self.env_count += 1;
            1.0 / self.env_count as f32
        } else {
            1.0 / ENV_OUTPUTS as f32
        };
        self.env_mean += (env - self.env_mean) * a;
        self.env_sq += (env * env - self.env_sq) * a;
    }

    /// Signal level, SNR (over 0–4000 Hz, the convention of the noise generators), carrier
    /// offset and clock offset estimates. The SNR reading comes from the envelope's
    /// fluctuation and saturates near 26 dB, where the filter's own ripple dominates.
    pub fn quality(&self) -> Quality {
        let var = (self.env_sq - self.env_mean * self.env_mean).max(1e-9);
        // A constant-envelope signal: envelope variance is half the in-band noise power.
        let snr = self.env_mean * self.env_mean * self.wide.noise_gain / var;
        let mid = 0.5 * (self.wide_mark + self.wide_space) / self.bit_outputs();
        let offset_hz = mid.clamp(-1.0, 1.0).asin() * SAMPLE_RATE as f32 / (TAU * DECIM as f32);
        Quality {
            level_dbm0: self.carrier.dbm0(),
            snr_db: if self.env_count > 0 {
                10.0 * snr.log10()
            } else {
                0.0
            },
            carrier_offset_hz: offset_hz,
            timing_offset_ppm: (self.nominal_period / self.period - 1.0) * 1e6,
            trained: self.carrier.present,
        }
    }
}

/// V.21 modulator for one channel.
#[derive(Debug, Clone)]
pub struct V21Tx {
    fsk: FskTx,
    channel: V21Channel,
}

impl V21Tx {
    /// A transmitter on `channel` at `cfg.level_dbm0`; `cfg.rate` must be 300 (or 0).
    pub fn new(channel: V21Channel, cfg: &TxConfig) -> Result<Self, Error> {
        check_v21_rate(channel, cfg.rate)?;
        if !(cfg.level_dbm0 <= 3.2 && cfg.level_dbm0 > -80.0) {
            return Err(Error::InvalidConfig(format!(
                "V.21 level {} dBm0 outside −80…+3.2",
                cfg.level_dbm0
            )));
        }
        Ok(V21Tx {
            fsk: FskTx::new(channel.spec(), cfg.level_dbm0),
            channel,
        })
    }

    /// The channel in use.
    pub fn channel(&self) -> V21Channel {
        self.channel
    }
}

impl Transmitter for V21Tx {
    fn fill(&mut self, out: &mut [i16], src: &mut dyn BitSource) -> usize {
        self.fsk.fill(out, src)
    }

    fn is_finished(&self) -> bool {
        self.fsk.is_finished()
    }
}

/// V.21 demodulator for one channel.
#[derive(Debug, Clone)]
pub struct V21Rx {
    fsk: FskRx,
    channel: V21Channel,
}

impl V21Rx {
    /// A receiver on `channel`; `cfg.rate` must be 300 (or 0).
    pub fn new(channel: V21Channel, cfg: &RxConfig) -> Result<Self, Error> {
        check_v21_rate(channel, cfg.rate)?;
        Ok(V21Rx {
            fsk: FskRx::new(channel.spec()),
            channel,
        })
    }

    /// The channel in use.
    pub fn channel(&self) -> V21Channel {
        self.channel
    }

    /// Whether a carrier is present.
    pub fn carrier_present(&self) -> bool {
        self.fsk.carrier_present()
    }
}

impl Receiver for V21Rx {
    fn process(&mut self, samples: &[i16], sink: &mut dyn RxSink) {
        self.fsk.process(samples, sink);
    }

    fn quality(&self) -> Quality {
        self.fsk.quality()
    }

    fn restart(&mut self, cfg: &RxConfig) -> Result<(), Error> {
        check_v21_rate(self.channel, cfg.rate)?;
        self.fsk.reset();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// In-band noise at −40 dBm0, above the −44 dBm0 on threshold, raises the carrier by
    /// itself; a −10 dBm0 burst over it must still be seen to end, the noise alone must not
    /// raise the carrier again, and the next burst must.
    #[test]
    fn carrier_ends_over_noise_above_the_on_threshold() {
        let power = |dbm0: f32| {
            let r = dbm0_to_rms(dbm0);
            r * r
        };
        // Per sample, and read once per DECIM samples as the receiver does: the same
        // changes, at nearly the same times.
        for step in [1, DECIM as u32] {
            let mut det = SignalDetect::new(26.7, 40, step);
            let mut uniform = crate::dsp::TestUniform::new(99);
            let mut changes = vec![];
            let segments = [
                (false, 8000),
                (true, 8000),
                (false, 16000),
                (true, 8000),
                (false, 8000),
            ];
            for (seg, (burst, n)) in segments.into_iter().enumerate() {
                for i in (0..n).step_by(step as usize) {
                    // Exponentially distributed power samples, as a narrow-band noise's
                    // are (a new one per reading).
                    let mut p = -uniform.next().ln() * power(-40.0);
                    if burst {
                        p += power(-10.0);
                    }
                    if let Some(c) = det.update(p) {
                        changes.push((seg, c, i));
                    }
                }
            }
            let kinds: Vec<(usize, bool)> = changes.iter().map(|&(seg, c, _)| (seg, c)).collect();
            assert_eq!(
                kinds,
                vec![(0, true), (2, false), (3, true), (4, false)],
                "step {step}: {changes:?}"
            );
            assert!(
                changes[1..].iter().all(|&(_, _, i)| i < 480),
                "step {step}: {changes:?}"
            );
        }
    }

    /// The folded band-pass gives exactly what mixing down by the centre frequency and
    /// low-passing gives (the scalar reference), up to the rotation it leaves out.
    #[test]
    fn folded_band_pass_matches_mix_and_filter() {
        let mut k = 1u32;
        let mut next = || {
            k = k.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            ((k >> 8) % 20_001) as f32 - 10_000.0
        };
        for centre in [
            V21Channel::Ch1.spec().centre_hz(),
            V21Channel::Ch2.spec().centre_hz(),
        ] {
            for cutoff in [NARROW_CUTOFF_HZ, WIDE_CUTOFF_HZ] {
                let path = Path::new(cutoff, centre);
                let taps = low_pass(cutoff);
                let w = std::f64::consts::TAU * f64::from(centre) / f64::from(SAMPLE_RATE);
                for _ in 0..100 {
                    let x: Vec<f32> = (0..CHANNEL_TAPS).map(|_| next()).collect();
                    // Mix sample i (oldest first) at phase ωi, then the direct FIR.
                    let (mut re, mut im) = (0f64, 0f64);
                    for (i, &v) in x.iter().enumerate() {
                        let h = f64::from(taps[CHANNEL_TAPS - 1 - i]) * f64::from(v);
                        re += h * (w * i as f64).cos();
                        im -= h * (w * i as f64).sin();
                    }
                    // Undo the rotation e^{−jω(n − MID)} for the newest index n.
                    let turn = w * (CHANNEL_TAPS - 1 - MID) as f64;
                    let (c, s) = (turn.cos(), turn.sin());
                    let expected =
                        Complex32::new((re * c - im * s) as f32, (re * s + im * c) as f32);
                    let (sum, diff) = fold(&x);
                    let got = path.filter(&sum, &diff);
                    assert!((expected - got).norm() < 0.05, "{expected} vs {got}");
                }
            }
        }
    }

    /// The combined filter (SSE2 on x86-64) gives the scalar reference's bits, and both
    /// give each path's own folded filter.
    #[test]
    fn filter_bank_matches_its_reference_and_the_paths() {
        let mut k = 7u32;
        let mut next = || {
            k = k.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            ((k >> 8) % 65_536) as f32 - 32_768.0
        };
        for channel in [V21Channel::Ch1, V21Channel::Ch2] {
            let centre = channel.spec().centre_hz();
            let wide = Path::new(WIDE_CUTOFF_HZ, centre);
            let narrow = Path::new(NARROW_CUTOFF_HZ, centre);
            let bank = FilterBank::new(&wide, &narrow);
            for _ in 0..200 {
                let x: Vec<f32> = (0..CHANNEL_TAPS).map(|_| next()).collect();
                let (yw, yn) = bank.outputs(&x);
                let (rw, rn) = bank.outputs_scalar(&x);
                for (a, b) in [(yw, rw), (yn, rn)] {
                    assert_eq!(a.re.to_bits(), b.re.to_bits());
                    assert_eq!(a.im.to_bits(), b.im.to_bits());
                }
                let (sum, diff) = fold(&x);
                for (got, path) in [(yw, &wide), (yn, &narrow)] {
                    let want = path.filter(&sum, &diff);
                    assert!((got - want).norm() < 0.05, "{got} vs {want}");
                }
            }
        }
    }

    /// Between two outputs the discriminator sees the tone's offset from the centre:
    /// sin(2π·offset·DECIM/8000) for a clean tone.
    #[test]
    fn discriminator_reads_the_tone_offset() {
        let spec = V21Channel::Ch2.spec();
        for (freq, sign) in [(spec.mark_hz, -1.0f32), (spec.space_hz, 1.0)] {
            let mut path = Path::new(WIDE_CUTOFF_HZ, spec.centre_hz());
            let x: Vec<f32> = (0..400)
                .map(|n| 10_000.0 * (TAU * freq * n as f32 / SAMPLE_RATE as f32).sin())
                .collect();
            let mut end = CHANNEL_TAPS;
            let mut d = 0.0;
            while end <= x.len() {
                let (sum, diff) = fold(&x[end - CHANNEL_TAPS..end]);
                let y = path.filter(&sum, &diff);
                path.discriminate(y, 0, 1, 0.0);
                d = path.sum;
                end += DECIM;
            }
            let expected =
                sign * (TAU * spec.deviation_hz() * DECIM as f32 / SAMPLE_RATE as f32).sin();
            assert!((d - expected).abs() < 0.02, "{freq} Hz: {d} vs {expected}");
        }
    }
}
