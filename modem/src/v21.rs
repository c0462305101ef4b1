//! V.21 300 bit/s FSK, and the generic binary FSK modem it is built from.
//!
//! V.21 has two channels: channel 1 (mark 980 Hz, space 1180 Hz) and channel 2 (mark 1650 Hz,
//! space 1850 Hz). T.30 sends its control frames over channel 2 as HDLC (see
//! [`crate::hdlc`]). Mark is binary 1.
//!
//! The transmitter is phase-continuous FSK. The receiver works non-coherently:
//! 1. mix the signal down around the channel's centre frequency and low-pass it twice: a
//!    narrow channel filter (cut-off 170 Hz) for the data, which rejects as much noise as
//!    the discriminator can live with, and a wide one (360 Hz) that passes the whole FSK
//!    spectrum for carrier detection and for the level, SNR and offset readings;
//! 2. a delay-and-multiply discriminator gives the instantaneous frequency, weighted by the
//!    signal's energy so that noise-dominated moments count less;
//! 3. a one-bit moving sum (the matched filter for rectangular frequency pulses) is sampled
//!    at instants set by a transition-tracking clock loop (proportional and integral, so it
//!    holds a sample-clock offset);
//! 4. the decision threshold follows the mean of the mark and space levels, measured in runs
//!    of equal bits, which removes a carrier frequency offset.
//!
//! Carrier detection uses the in-band energy with the V.21 thresholds (on at −43 dBm0, off
//! at −48 dBm0, each held for 5 ms). Bits are delivered only while the carrier is
//! present.

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
#[derive(Debug, Clone)]
struct SignalDetect {
    /// One-pole mean of the power fed in (the power itself, so no square root per sample).
    alpha: f32,
    power: f32,
    on_power: f32,
    off_power: f32,
    hold: u32,
    count: u32,
    present: bool,
    /// Noise louder than the on threshold raises the carrier by itself, so the carrier also
    /// goes when its power falls well under its own level, as the fast modems' detector does.
    fall: CarrierFall,
}

impl SignalDetect {
    fn new(time_constant: f32, hold: u32) -> Self {
        let power = |dbm0: f32| {
            let r = dbm0_to_rms(dbm0);
            r * r
        };
        SignalDetect {
            alpha: 1.0 / time_constant.max(1.0),
            power: 0.0,
            on_power: power(CARRIER_ON_DBM0),
            off_power: power(CARRIER_OFF_DBM0),
            hold,
            count: 0,
            present: false,
            fall: CarrierFall::default(),
        }
    }

    /// Feeds one power sample; returns the new state when it changes.
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
        self.count += 1;
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
/// The filter length padded with zero taps to a multiple of [`LANES`].
const PADDED_TAPS: usize = 48;
/// Taps of the folded filter: the filters are symmetric, so the history is folded about its
/// middle (`x[i] + x[46 − i]`) once for both paths and each dot product is half as long.
const FOLDED_TAPS: usize = CHANNEL_TAPS.div_ceil(2);
/// [`FOLDED_TAPS`] padded to a multiple of [`LANES`].
const PADDED_FOLDED: usize = FOLDED_TAPS.div_ceil(LANES) * LANES;
/// Independent accumulators in the filter dot products (lets the compiler vectorise).
const LANES: usize = 8;
/// Cut-off of the data path's channel filter around the centre frequency, Hz: narrow, for
/// the best noise rejection (the discriminator tolerates the intersymbol interference).
const NARROW_CUTOFF_HZ: f32 = 170.0;
/// Cut-off of the measurement path, Hz: wide enough to pass the whole FSK spectrum, so that
/// level, SNR and frequency-offset readings are unbiased.
const WIDE_CUTOFF_HZ: f32 = 360.0;
/// Longest moving-sum window (samples per bit, rounded, for rates down to 250 bit/s).
const MAX_WINDOW: usize = 32;
/// Broadband level below which the input cannot hold a carrier (9 dB under the on
/// threshold): while no carrier is present and the input stays this quiet, the filters and
/// discriminator are skipped. Half-duplex T.30 leaves each receiver listening to silence
/// most of a call, so this is where a call's V.21 time goes.
const QUIET_DBM0: f32 = -52.0;
/// Time constant of the broadband power mean behind the quiet gate, samples.
const QUIET_TC: f32 = 16.0;

/// A dot product in [`LANES`] independent partial sums.
#[inline]
fn dot<const N: usize>(taps: &[f32; N], x: &[f32; N]) -> f32 {
    let mut acc = [0f32; LANES];
    for (t, v) in taps.chunks_exact(LANES).zip(x.chunks_exact(LANES)) {
        for j in 0..LANES {
            acc[j] += t[j] * v[j];
        }
    }
    acc.iter().sum()
}

/// The history window (oldest first, the filter's taps in order) folded about the middle of
/// the [`CHANNEL_TAPS`]-long filter: `x[i] + x[CHANNEL_TAPS − 1 − i]`, the middle sample
/// alone, zeros after.
#[inline]
fn fold(x: &[f32]) -> [f32; PADDED_FOLDED] {
    const HALF: usize = CHANNEL_TAPS / 2;
    let mut f = [0f32; PADDED_FOLDED];
    let older = &x[..HALF];
    let newer = &x[HALF + 1..CHANNEL_TAPS];
    for ((f, a), b) in f[..HALF].iter_mut().zip(older).zip(newer.iter().rev()) {
        *f = a + b;
    }
    f[HALF] = x[HALF];
    f
}

/// One filter-discriminator-moving-sum chain.
#[derive(Debug, Clone)]
struct Path {
    taps: [f32; PADDED_TAPS],
    /// The first half of `taps` (with the middle one), zero-padded: the folded filter.
    folded: [f32; PADDED_FOLDED],
    prev: Complex32,
    power: f32,
    window: [f32; MAX_WINDOW],
    sum_prev: f32,
    sum: f32,
}

impl Path {
    /// A windowed-sinc (Hamming) low-pass with unity gain at DC.
    fn new(cutoff_hz: f32) -> Self {
        let mut taps = [0f32; PADDED_TAPS];
        let mid = (CHANNEL_TAPS - 1) as f32 / 2.0;
        let wc = cutoff_hz / SAMPLE_RATE as f32;
        for (i, t) in taps[..CHANNEL_TAPS].iter_mut().enumerate() {
            let x = i as f32 - mid;
            let sinc = if x == 0.0 {
                2.0 * wc
            } else {
                (TAU * wc * x).sin() / (std::f32::consts::PI * x)
            };
            let w = 0.54 - 0.46 * (TAU * i as f32 / (CHANNEL_TAPS - 1) as f32).cos();
            *t = sinc * w;
        }
        // Exactly symmetric, as the folded filter assumes.
        for i in 0..CHANNEL_TAPS / 2 {
            taps[CHANNEL_TAPS - 1 - i] = taps[i];
        }
        let gain: f32 = taps.iter().sum();
        taps.iter_mut().for_each(|t| *t /= gain);
        let mut folded = [0f32; PADDED_FOLDED];
        folded[..FOLDED_TAPS].copy_from_slice(&taps[..FOLDED_TAPS]);
        Path {
            taps,
            folded,
            prev: Complex32::new(0.0, 0.0),
            power: 0.0,
            window: [0.0; MAX_WINDOW],
            sum_prev: 0.0,
            sum: 0.0,
        }
    }

    fn noise_gain(&self) -> f32 {
        self.taps.iter().map(|t| t * t).sum()
    }

    /// The filter output from the folded history (see [`fold`]).
    #[inline]
    fn filter(&self, re: &[f32; PADDED_FOLDED], im: &[f32; PADDED_FOLDED]) -> Complex32 {
        Complex32::new(dot(&self.folded, re), dot(&self.folded, im))
    }

    /// The filter output straight from the history, the reference for the folded form.
    #[cfg(test)]
    fn filter_direct(&self, re: &[f32; PADDED_TAPS], im: &[f32; PADDED_TAPS]) -> Complex32 {
        Complex32::new(dot(&self.taps, re), dot(&self.taps, im))
    }

    /// Delay-and-multiply discriminator, normalised by the mean power so that its output
    /// is sin(phase step) for a clean tone but weaker samples count less; then the one-bit
    /// moving sum.
    #[inline]
    fn discriminate(&mut self, y: Complex32, pos: usize, len: usize) {
        self.power += (y.norm_sqr() - self.power) * (1.0 / 32.0);
        let cross = y.im * self.prev.re - y.re * self.prev.im;
        self.prev = y;
        let d = if self.power > 1e-3 {
            cross / self.power
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
    }

    /// The moving sum `back` samples (0..1) before the latest.
    #[inline]
    fn sum_at(&self, back: f32) -> f32 {
        self.sum - back * (self.sum - self.sum_prev)
    }
}

/// A non-coherent binary FSK demodulator (see the module page for the method).
///
/// Two chains share the mixer: a narrow one makes the bit decisions and drives the clock
/// loop; a wide one measures level, SNR and frequency offset and runs carrier detection.
#[derive(Debug, Clone)]
pub struct FskRx {
    spec: FskSpec,
    nco: Nco,
    /// Mixer output history, real and imaginary parts apart, each stored twice so that the
    /// newest [`PADDED_TAPS`] are contiguous.
    hist_re: [f32; 2 * PADDED_TAPS],
    hist_im: [f32; 2 * PADDED_TAPS],
    hist_pos: usize,
    /// The raw input at the same positions (once), so the mixer history can be rebuilt
    /// after quiet stretches in which mixing was skipped.
    raw: [f32; PADDED_TAPS],
    /// Whether `hist_re`/`hist_im` miss samples skipped while quiet.
    hist_stale: bool,
    narrow: Path,
    wide: Path,
    /// Noise gain of the wide filter (sum of squared taps), for the SNR estimate.
    wide_noise_gain: f32,
    carrier: SignalDetect,
    window_len: usize,
    window_pos: usize,
    /// Samples since the last decision, and the current bit period estimate.
    phase: f32,
    period: f32,
    nominal_period: f32,
    period_integral: f32,
    /// Nominal discriminator output for the deviation (per sample).
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
    /// Broadband mean power of the input, and the power below which it counts as quiet.
    input_power: f32,
    quiet_power: f32,
}

impl FskRx {
    /// A demodulator for `spec`.
    pub fn new(spec: FskSpec) -> Self {
        let fs = SAMPLE_RATE as f32;
        let nominal_period = fs / spec.baud;
        let window_len = (nominal_period.round() as usize).clamp(2, MAX_WINDOW);
        let d_nominal = (TAU * spec.deviation_hz() / fs).sin();
        let wide = Path::new(WIDE_CUTOFF_HZ);
        let mut rx = FskRx {
            spec,
            nco: Nco::new(spec.centre_hz()),
            hist_re: [0.0; 2 * PADDED_TAPS],
            hist_im: [0.0; 2 * PADDED_TAPS],
            hist_pos: 0,
            raw: [0.0; PADDED_TAPS],
            hist_stale: false,
            narrow: Path::new(NARROW_CUTOFF_HZ),
            wide_noise_gain: wide.noise_gain(),
            wide,
            // About a bit of averaging and 5 ms persistence: the carrier is declared within
            // about 8 ms and dropped within about 35 ms.
            carrier: SignalDetect::new(nominal_period, SAMPLE_RATE / 200),
            window_len,
            window_pos: 0,
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
            input_power: 0.0,
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

    fn reset_demod(&mut self) {
        let full = self.window_len as f32 * self.d_nominal;
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
        let mut i = 0;
        while i < samples.len() {
            if !self.carrier.present {
                i += self.skip_quiet(&samples[i..]);
                if i == samples.len() {
                    break;
                }
            }
            self.step(samples[i] as f32, sink);
            i += 1;
        }
    }

    /// Consumes the leading samples that [`FskRx::step`] would find quiet (no carrier is
    /// present), with its arithmetic but in a tight loop; returns how many. The first loud
    /// sample is left for `step`.
    #[inline]
    fn skip_quiet(&mut self, samples: &[i16]) -> usize {
        let mut power = self.input_power;
        let mut pos = self.hist_pos;
        let mut n = 0;
        for &s in samples {
            let x = s as f32;
            let next = power + (x * x - power) * (1.0 / QUIET_TC);
            // `step`'s own test, so a value it would not call quiet stops here too.
            let quiet = next < self.quiet_power;
            if !quiet {
                break;
            }
            self.raw[pos] = x;
            pos = if pos + 1 == PADDED_TAPS { 0 } else { pos + 1 };
            power = next;
            n += 1;
        }
        if n > 0 {
            self.input_power = power;
            self.hist_pos = pos;
            self.nco.skip(n as u32);
            self.hist_stale = true;
        }
        n
    }

    /// Mixes the stored raw input again (after quiet stretches), giving exactly the values
    /// mixing each sample as it came would have given.
    fn rebuild_history(&mut self) {
        let step = self.nco.step() as u32;
        // The newest sample (at hist_pos - 1) was mixed at the phase before the current one.
        let mut phase = self.nco.phase().wrapping_sub(step);
        for age in 0..PADDED_TAPS {
            let pos = (self.hist_pos + PADDED_TAPS - 1 - age) % PADDED_TAPS;
            let (c, s) = self.nco.cos_sin_at(phase);
            let x = self.raw[pos];
            let (re, im) = (x * c, -x * s);
            self.hist_re[pos] = re;
            self.hist_re[pos + PADDED_TAPS] = re;
            self.hist_im[pos] = im;
            self.hist_im[pos + PADDED_TAPS] = im;
            phase = phase.wrapping_sub(step);
        }
        self.hist_stale = false;
    }

    #[inline]
    fn step(&mut self, x: f32, sink: &mut dyn RxSink) {
        let pos = self.hist_pos;
        self.raw[pos] = x;
        self.hist_pos += 1;
        if self.hist_pos == PADDED_TAPS {
            self.hist_pos = 0;
        }
        self.input_power += (x * x - self.input_power) * (1.0 / QUIET_TC);
        if !self.carrier.present && self.input_power < self.quiet_power {
            // Nothing here can raise a carrier: keep only the raw input and the mixer's
            // phase (the history is rebuilt exactly at the first loud sample); skip the rest.
            self.nco.skip(1);
            self.hist_stale = true;
            return;
        }
        let (c, s) = self.nco.next_cos_sin();
        let (re, im) = (x * c, -x * s);
        self.hist_re[pos] = re;
        self.hist_re[pos + PADDED_TAPS] = re;
        self.hist_im[pos] = im;
        self.hist_im[pos + PADDED_TAPS] = im;
        if self.hist_stale {
            self.rebuild_history();
        }
        let recent_re = fold(&self.hist_re[self.hist_pos..self.hist_pos + PADDED_TAPS]);
        let recent_im = fold(&self.hist_im[self.hist_pos..self.hist_pos + PADDED_TAPS]);
        let yw = self.wide.filter(&recent_re, &recent_im);
        let yn = self.narrow.filter(&recent_re, &recent_im);
        let mag2 = yw.norm_sqr();
        // A real sine of power P gives |y|² = P/2 after mixing to baseband.
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
        self.wide.discriminate(yw, self.window_pos, self.window_len);
        self.narrow
            .discriminate(yn, self.window_pos, self.window_len);
        self.window_pos += 1;
        if self.window_pos == self.window_len {
            self.window_pos = 0;
        }
        if !self.carrier.present {
            return;
        }
        self.track_envelope(mag2.sqrt());
        let threshold = 0.5 * (self.mark_level + self.space_level);
        let a = self.narrow.sum_prev - threshold;
        let b = self.narrow.sum - threshold;
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
            // The decision instant lay `phase` samples back.
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
        let a = if self.env_count < 1024 {
            self.env_count += 1;
            1.0 / self.env_count as f32
        } else {
            1.0 / 1024.0
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
        let snr = self.env_mean * self.env_mean * self.wide_noise_gain / var;
        let mid = 0.5 * (self.wide_mark + self.wide_space) / self.window_len as f32;
        let offset_hz = mid.clamp(-1.0, 1.0).asin() * SAMPLE_RATE as f32 / TAU;
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
        let mut det = SignalDetect::new(26.7, 40);
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
            for i in 0..n {
                // Exponentially distributed power samples, as a narrow-band noise's are.
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
            "{changes:?}"
        );
        assert!(changes[1..].iter().all(|&(_, _, i)| i < 480), "{changes:?}");
    }

    /// The folded filters give the direct filters' output on any history.
    #[test]
    fn folded_filter_matches_direct() {
        let mut k = 1u32;
        let mut next = || {
            k = k.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            ((k >> 8) % 20_001) as f32 - 10_000.0
        };
        for path in [Path::new(NARROW_CUTOFF_HZ), Path::new(WIDE_CUTOFF_HZ)] {
            for _ in 0..100 {
                let mut re = [0f32; PADDED_TAPS];
                let mut im = [0f32; PADDED_TAPS];
                re.iter_mut().for_each(|v| *v = next());
                im.iter_mut().for_each(|v| *v = next());
                let direct = path.filter_direct(&re, &im);
                let folded = path.filter(&fold(&re), &fold(&im));
                assert!((direct - folded).norm() < 0.05, "{direct} vs {folded}");
            }
        }
    }

    struct Discard;
    impl RxSink for Discard {
        fn bit(&mut self, _bit: bool) {}
        fn event(&mut self, _event: RxEvent) {}
    }

    /// After a quiet stretch (mixing skipped) the mixer history holds exactly what mixing
    /// every sample would have given, at every offset of the ring.
    #[test]
    fn history_rebuilt_after_quiet_is_exact() {
        let spec = V21Channel::Ch2.spec();
        for quiet_len in [0usize, 1, 47, 48, 49, 100, 333] {
            let mut rx = FskRx::new(spec);
            let mut reference = Nco::new(spec.centre_hz());
            let mut mixed = Vec::new();
            let mut events = Discard;
            // Quiet (below the gate), then a loud tone.
            let input: Vec<f32> = (0..quiet_len + 60)
                .map(|n| {
                    if n < quiet_len {
                        (n % 5) as f32 - 2.0
                    } else {
                        8000.0 * (n as f32 * 1.3).sin()
                    }
                })
                .collect();
            for &x in &input {
                rx.step(x, &mut events);
                let (c, s) = reference.next_cos_sin();
                mixed.push((x * c, -x * s));
            }
            assert!(!rx.hist_stale, "{quiet_len}");
            let window = &rx.hist_re[rx.hist_pos..rx.hist_pos + PADDED_TAPS];
            let window_im = &rx.hist_im[rx.hist_pos..rx.hist_pos + PADDED_TAPS];
            let expected = &mixed[mixed.len() - PADDED_TAPS..];
            for ((re, im), (ere, eim)) in window.iter().zip(window_im).zip(expected) {
                assert_eq!(re.to_bits(), ere.to_bits(), "{quiet_len}");
                assert_eq!(im.to_bits(), eim.to_bits(), "{quiet_len}");
            }
        }
    }
}
