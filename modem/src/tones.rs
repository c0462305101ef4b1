//! Call tones: generators for CNG, CED/ANS and arbitrary tone/silence cadences, and a
//! detector for CNG and CED.
//!
//! - CNG, the calling tone (T.30 §4.2): 1100 Hz, 0.5 s on, 3 s off, repeating.
//! - CED, the called station's answer tone (T.30 §4.3, V.25 ANS): 2100 Hz for 2.6–4 s
//!   (3.3 s by default). V.25's /ANS variant reverses the phase every 450 ms to disable
//!   network echo cancellers as well as suppressors.
//!
//! The [`ToneDetector`] mixes each tone's nominal frequency to zero, low-passes it narrowly,
//! and every 10 ms compares the narrowband power with the total power. A frame counts as
//! tone when the narrowband part dominates, its frequency lies within the recommendation's
//! tolerance (CNG 1100 ± 38 Hz, CED 2100 ± 15 Hz) and, before the tone is declared, the
//! frequency holds steady from frame to frame (speech and vibrato do not). Declaring a tone
//! takes [`ToneDetectorConfig::min_on_ms`] of such frames.

use crate::dsp::{Complex32, Nco, phase_step};
use crate::level::{dbm0_to_rms, power_to_dbm0, to_i16};
use crate::{BitSource, SAMPLE_RATE, Transmitter};
use std::f32::consts::TAU;

/// CNG frequency, Hz.
pub const CNG_HZ: f32 = 1100.0;
/// CED/ANS frequency, Hz.
pub const CED_HZ: f32 = 2100.0;
/// Default CED duration, ms.
pub const CED_DEFAULT_MS: u32 = 3300;
/// Interval between /ANS phase reversals, ms (V.25).
pub const ANS_REVERSAL_MS: u32 = 450;

/// One piece of a cadence: a tone or (frequency 0) silence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ToneSegment {
    /// Frequency in Hz; 0 for silence.
    pub freq_hz: f32,
    /// Duration in milliseconds.
    pub duration_ms: u32,
}

#[derive(Debug, Clone, Copy)]
struct Segment {
    step: i32,
    silent: bool,
    samples: u64,
}

/// A tone/silence cadence generator. It ignores the bit source.
#[derive(Debug, Clone)]
pub struct ToneTx {
    segments: Vec<Segment>,
    repeat: bool,
    index: usize,
    /// Samples already sent of the current segment.
    pos: u64,
    nco: Nco,
    amplitude: f32,
    reversal_samples: Option<u64>,
    finished: bool,
}

fn ms_to_samples(ms: u32) -> u64 {
    ms as u64 * SAMPLE_RATE as u64 / 1000
}

impl ToneTx {
    /// A generator playing `segments` once, or forever if `repeat`, at `level_dbm0`.
    pub fn new(segments: &[ToneSegment], repeat: bool, level_dbm0: f32) -> Self {
        let segments: Vec<Segment> = segments
            .iter()
            .map(|s| Segment {
                step: phase_step(s.freq_hz),
                silent: s.freq_hz <= 0.0,
                samples: ms_to_samples(s.duration_ms),
            })
            .collect();
        // A repeating cadence of zero length would never produce a sample.
        let repeat = repeat && segments.iter().any(|s| s.samples > 0);
        let mut tx = ToneTx {
            segments,
            repeat,
            index: 0,
            pos: 0,
            nco: Nco::new(0.0),
            amplitude: 0.0,
            reversal_samples: None,
            finished: false,
        };
        tx.set_level(level_dbm0);
        tx.start_segment(0);
        tx
    }

    /// CNG: 1100 Hz, 0.5 s on, 3 s off, repeating until the caller stops.
    pub fn cng(level_dbm0: f32) -> Self {
        Self::new(
            &[
                ToneSegment {
                    freq_hz: CNG_HZ,
                    duration_ms: 500,
                },
                ToneSegment {
                    freq_hz: 0.0,
                    duration_ms: 3000,
                },
            ],
            true,
            level_dbm0,
        )
    }

    /// CED: 2100 Hz for `duration_ms`; with `phase_reversals`, V.25 /ANS (a 180° reversal
    /// every 450 ms).
    pub fn ced(duration_ms: u32, phase_reversals: bool, level_dbm0: f32) -> Self {
        let mut tx = Self::new(
            &[ToneSegment {
                freq_hz: CED_HZ,
                duration_ms,
            }],
            false,
            level_dbm0,
        );
        if phase_reversals {
            tx.reversal_samples = Some(ms_to_samples(ANS_REVERSAL_MS));
        }
        tx
    }

    /// Silence for `duration_ms`.
    pub fn silence(duration_ms: u32) -> Self {
        Self::new(
            &[ToneSegment {
                freq_hz: 0.0,
                duration_ms,
            }],
            false,
            -100.0,
        )
    }

    /// Sets the level of the tones, dBm0.
    pub fn set_level(&mut self, level_dbm0: f32) {
        self.amplitude = dbm0_to_rms(level_dbm0) * std::f32::consts::SQRT_2;
    }

    fn start_segment(&mut self, index: usize) {
        self.index = index;
        self.pos = 0;
        match self.segments.get(index) {
            Some(seg) => {
                // Each tone starts at phase zero, as a tone burst from a generator would.
                self.nco.set_phase(0);
                self.nco.set_step(seg.step);
            }
            None => self.finished = true,
        }
    }
}

impl Transmitter for ToneTx {
    fn fill(&mut self, out: &mut [i16], _src: &mut dyn BitSource) -> usize {
        for (n, slot) in out.iter_mut().enumerate() {
            loop {
                if self.finished {
                    return n;
                }
                if self.pos < self.segments[self.index].samples {
                    break;
                }
                let next = self.index + 1;
                if next == self.segments.len() && self.repeat {
                    self.start_segment(0);
                } else {
                    self.start_segment(next);
                }
            }
            let seg = self.segments[self.index];
            if let Some(every) = self.reversal_samples
                && self.pos > 0
                && self.pos.is_multiple_of(every)
            {
                self.nco.set_phase(self.nco.phase().wrapping_add(1 << 31));
            }
            *slot = if seg.silent {
                0
            } else {
                to_i16(self.amplitude * self.nco.next_sin())
            };
            self.pos += 1;
        }
        out.len()
    }

    fn is_finished(&self) -> bool {
        self.finished
    }
}

/// The tones the detector knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tone {
    /// The calling tone, 1100 Hz.
    Cng,
    /// The answer tone, 2100 Hz (plain or with phase reversals).
    Ced,
}

/// What the tone detector reports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ToneEvent {
    /// A tone has been present for the minimum time.
    On {
        /// Which tone.
        tone: Tone,
        /// Measured frequency, Hz.
        freq_hz: f32,
        /// Measured level, dBm0.
        level_dbm0: f32,
        /// Sample index (from the detector's start) where the tone began.
        start_sample: u64,
    },
    /// A tone that was reported on has gone.
    Off {
        /// Which tone.
        tone: Tone,
        /// How long it lasted, ms.
        duration_ms: f32,
        /// 180° phase reversals seen during the tone (V.25 /ANS).
        phase_reversals: u32,
        /// Sample index where the tone ended.
        end_sample: u64,
    },
}

/// Detector thresholds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ToneDetectorConfig {
    /// Time a tone must hold before it is reported, ms.
    pub min_on_ms: u32,
    /// Minimum level to declare a tone, dBm0.
    pub on_dbm0: f32,
    /// Level below which a present tone counts as gone, dBm0.
    pub off_dbm0: f32,
}

impl Default for ToneDetectorConfig {
    fn default() -> Self {
        ToneDetectorConfig {
            min_on_ms: 200,
            on_dbm0: -46.0,
            off_dbm0: -51.0,
        }
    }
}

/// How far under the on threshold the broadband input must be for the band filters to be
/// skipped, dB.
const QUIET_MARGIN_DB: f32 = 9.0;
/// The quiet gate: a frame counts as quiet when its energy is under this many samples'
/// worth at the quiet level.
const QUIET_SPAN: f32 = 16.0;
/// Analysis frame, samples (10 ms).
const FRAME: u32 = 80;
/// Pole frequency of each of the two one-pole narrowband low-pass stages, Hz.
const POLE_HZ: f32 = 90.0;
/// Share of the total power the tone must carry to start (and to stay).
const PURITY_ON: f32 = 0.5;
const PURITY_HOLD: f32 = 0.25;
/// Largest frame-to-frame frequency change while a tone is being confirmed, Hz.
const STEADY_HZ: f32 = 4.0;
/// Bad frames tolerated inside a tone (a phase reversal costs one or two).
const HANGOVER_FRAMES: u32 = 3;

#[derive(Debug, Clone)]
struct Band {
    tone: Tone,
    nominal_hz: f32,
    tolerance_hz: f32,
    /// The mixer's phasor over one frame: both tones are whole multiples of 100 Hz, so it
    /// repeats exactly every [`FRAME`] samples and is indexed by the position in the frame.
    mix_cos: [f32; FRAME as usize],
    mix_sin: [f32; FRAME as usize],
    s1: Complex32,
    s2: Complex32,
    prev: Complex32,
    power_acc: f32,
    rot_acc: Complex32,
    /// Consecutive good frames while off; average frequency and level over them.
    run: u32,
    run_start: u64,
    /// Start of the current stretch of good frames, steady or not.
    good_since: u64,
    run_freq: f32,
    run_power: f32,
    last_freq: Option<f32>,
    on: bool,
    bad: u32,
    last_good_end: u64,
    /// Phase of the filtered tone at the previous frame end, for reversal detection.
    last_phase: Option<f32>,
    reversals: u32,
}

/// The mixer's phase for `freq_hz` at sample `n`, radians.
fn mix_phase(freq_hz: f32, n: usize) -> f64 {
    std::f64::consts::TAU * f64::from(freq_hz) * n as f64 / f64::from(SAMPLE_RATE)
}

impl Band {
    fn new(tone: Tone, nominal_hz: f32, tolerance_hz: f32) -> Self {
        Band {
            tone,
            nominal_hz,
            tolerance_hz,
            mix_cos: std::array::from_fn(|n| mix_phase(nominal_hz, n).cos() as f32),
            mix_sin: std::array::from_fn(|n| mix_phase(nominal_hz, n).sin() as f32),
            s1: Complex32::new(0.0, 0.0),
            s2: Complex32::new(0.0, 0.0),
            prev: Complex32::new(0.0, 0.0),
            power_acc: 0.0,
            rot_acc: Complex32::new(0.0, 0.0),
            run: 0,
            run_start: 0,
            good_since: 0,
            run_freq: 0.0,
            run_power: 0.0,
            last_freq: None,
            on: false,
            bad: 0,
            last_good_end: 0,
            last_phase: None,
            reversals: 0,
        }
    }
}

/// Mixes and filters one frame `x` in both bands, accumulating each frame's power and rotation. The two bands' filters
/// are recursive, so they run side by side in one loop, each hiding the other's latency.
#[inline]
fn filter_bands(bands: &mut [Band; 2], x: &[f32; FRAME as usize], g: f32) {
    let [a, b] = bands;
    let (mut a1, mut a2, mut ap) = (a.s1, a.s2, a.prev);
    let (mut b1, mut b2, mut bp) = (b.s1, b.s2, b.prev);
    let (mut apow, mut arot) = (a.power_acc, a.rot_acc);
    let (mut bpow, mut brot) = (b.power_acc, b.rot_acc);
    let (ac, as_) = (&a.mix_cos, &a.mix_sin);
    let (bc, bs) = (&b.mix_cos, &b.mix_sin);
    let mixers = ac.iter().zip(as_).zip(bc.iter().zip(bs));
    for (&v, ((&ac, &as_), (&bc, &bs))) in x.iter().zip(mixers) {
        let ma = Complex32::new(v * ac, -v * as_);
        let mb = Complex32::new(v * bc, -v * bs);
        a1 += (ma - a1) * g;
        b1 += (mb - b1) * g;
        a2 += (a1 - a2) * g;
        b2 += (b1 - b2) * g;
        apow += a2.norm_sqr();
        bpow += b2.norm_sqr();
        arot += a2 * ap.conj();
        brot += b2 * bp.conj();
        ap = a2;
        bp = b2;
    }
    (a.s1, a.s2, a.prev, a.power_acc, a.rot_acc) = (a1, a2, ap, apow, arot);
    (b.s1, b.s2, b.prev, b.power_acc, b.rot_acc) = (b1, b2, bp, bpow, brot);
}

/// Detects CNG and CED in a sample stream. Output does not depend on block sizes.
#[derive(Debug, Clone)]
pub struct ToneDetector {
    cfg: ToneDetectorConfig,
    bands: [Band; 2],
    /// Pole coefficient of the narrowband stages.
    pole: f32,
    /// The current frame's samples so far.
    frame: [f32; FRAME as usize],
    frame_pos: u32,
    samples: u64,
    /// Mean power below which the input counts as quiet.
    quiet_power: f32,
    min_frames: u32,
    on_power: f32,
    off_power: f32,
}

fn dbm0_to_power(dbm0: f32) -> f32 {
    let r = dbm0_to_rms(dbm0);
    r * r
}

impl ToneDetector {
    /// A detector for CNG and CED with default thresholds.
    pub fn new() -> Self {
        Self::with_config(ToneDetectorConfig::default())
    }

    /// A detector with explicit thresholds.
    pub fn with_config(cfg: ToneDetectorConfig) -> Self {
        ToneDetector {
            cfg,
            bands: [
                Band::new(Tone::Cng, CNG_HZ, 38.0),
                Band::new(Tone::Ced, CED_HZ, 15.0),
            ],
            pole: (-TAU * POLE_HZ / SAMPLE_RATE as f32).exp(),
            frame: [0.0; FRAME as usize],
            frame_pos: 0,
            samples: 0,
            quiet_power: dbm0_to_power(cfg.on_dbm0 - QUIET_MARGIN_DB),
            min_frames: (cfg.min_on_ms / 10).max(1),
            on_power: dbm0_to_power(cfg.on_dbm0),
            off_power: dbm0_to_power(cfg.off_dbm0),
        }
    }

    /// The thresholds in force.
    pub fn config(&self) -> &ToneDetectorConfig {
        &self.cfg
    }

    /// Whether `tone` is currently reported on.
    pub fn is_on(&self, tone: Tone) -> bool {
        self.bands.iter().any(|b| b.tone == tone && b.on)
    }

    /// Consumes samples, reporting tone changes through `events`.
    pub fn process(&mut self, samples: &[i16], events: &mut dyn FnMut(ToneEvent)) {
        let g = 1.0 - self.pole;
        let mut rest = samples;
        while !rest.is_empty() {
            // Up to the end of the current frame: tones turn on and off only at frame ends,
            // so whether any is on is fixed for the chunk.
            let n = rest.len().min((FRAME - self.frame_pos) as usize);
            let (chunk, tail) = rest.split_at(n);
            rest = tail;
            let at = self.frame_pos as usize;
            for (slot, &x) in self.frame[at..at + n].iter_mut().zip(chunk) {
                *slot = x as f32;
            }
            self.samples += n as u64;
            self.frame_pos += n as u32;
            if self.frame_pos == FRAME {
                self.frame_pos = 0;
                self.run_frame(g, events);
            }
        }
    }

    /// Filters a complete frame and decides on it. Tones turn on and off only at frame
    /// ends, so the frame's samples wait for it to complete and run through the filters
    /// together.
    fn run_frame(&mut self, g: f32, events: &mut dyn FnMut(ToneEvent)) {
        // The frame's energy in a fixed order of partial sums (vectorised, and the same
        // whatever the block sizes were).
        let mut acc = [0f32; 8];
        for part in self.frame.chunks_exact(8) {
            for (a, &x) in acc.iter_mut().zip(part) {
                *a += x * x;
            }
        }
        let energy: f32 = acc.iter().sum();
        // While no tone is on and the frame holds less energy than QUIET_SPAN samples at the
        // quiet level, the band filters have nothing to find (most of a call is silence).
        let any_on = self.bands.iter().any(|b| b.on);
        if any_on || energy >= self.quiet_power * QUIET_SPAN {
            filter_bands(&mut self.bands, &self.frame, g);
        }
        self.end_frame(energy / FRAME as f32, events);
    }

    /// Squared magnitude of the two-stage low-pass at `offset_hz`.
    fn filter_gain(&self, offset_hz: f32) -> f32 {
        let w = TAU * offset_hz / SAMPLE_RATE as f32;
        let a = self.pole;
        let one = (1.0 - a) * (1.0 - a) / (1.0 - 2.0 * a * w.cos() + a * a);
        one * one
    }

    fn end_frame(&mut self, total: f32, events: &mut dyn FnMut(ToneEvent)) {
        let frame_end = self.samples;
        for i in 0..self.bands.len() {
            let (power_acc, rot) = {
                let b = &mut self.bands[i];
                let r = (b.power_acc, b.rot_acc);
                b.power_acc = 0.0;
                b.rot_acc = Complex32::new(0.0, 0.0);
                r
            };
            let offset = rot.im.atan2(rot.re) * SAMPLE_RATE as f32 / TAU;
            // A real sine of power P gives |z|² = P/2·|H|² after mixing and filtering.
            let power = 2.0 * power_acc / FRAME as f32 / self.filter_gain(offset).max(0.05);
            let purity = if total > 0.0 { power / total } else { 0.0 };
            let min_on_frames = self.min_frames;
            let (on_power, off_power) = (self.on_power, self.off_power);
            let phase_now = self.bands[i].prev.im.atan2(self.bands[i].prev.re);
            let b = &mut self.bands[i];
            let freq = b.nominal_hz + offset;
            let in_tolerance = offset.abs() <= b.tolerance_hz;
            if b.on {
                // Reversal check: the phase advance over the frame, less what the frequency
                // explains, is near π at a 180° reversal.
                if let Some(last) = b.last_phase {
                    let expected =
                        TAU * (b.run_freq - b.nominal_hz) * FRAME as f32 / SAMPLE_RATE as f32;
                    let mut r = phase_now - last - expected;
                    r -= TAU * (r / TAU).round();
                    if r.abs() > 0.5 * std::f32::consts::PI && power > off_power {
                        b.reversals += 1;
                        // The next frame still carries the transient.
                        b.last_phase = None;
                    } else {
                        b.last_phase = Some(phase_now);
                    }
                } else {
                    b.last_phase = Some(phase_now);
                }
                let good = power >= off_power
                    && purity >= PURITY_HOLD
                    && offset.abs() <= b.tolerance_hz + 10.0;
                if good {
                    b.bad = 0;
                    b.last_good_end = frame_end;
                } else {
                    b.bad += 1;
                    if b.bad >= HANGOVER_FRAMES {
                        b.on = false;
                        b.run = 0;
                        b.last_freq = None;
                        events(ToneEvent::Off {
                            tone: b.tone,
                            duration_ms: (b.last_good_end - b.run_start) as f32 * 1000.0
                                / SAMPLE_RATE as f32,
                            phase_reversals: b.reversals,
                            end_sample: b.last_good_end,
                        });
                    }
                }
                continue;
            }
            let steady = b.last_freq.is_some_and(|f| (f - freq).abs() <= STEADY_HZ);
            let good = power >= on_power && purity >= PURITY_ON && in_tolerance;
            if good && b.last_freq.is_none() {
                b.good_since = frame_end - FRAME as u64;
            }
            b.last_freq = if good { Some(freq) } else { None };
            if !good {
                b.run = 0;
                continue;
            }
            if b.run > 0 && !steady {
                // Still a candidate, but the count starts again from this frame.
                b.run = 0;
            }
            if b.run == 0 {
                // The tone began with the first good frame, even if unsteady at first.
                b.run_start = b.good_since;
                b.run_freq = 0.0;
                b.run_power = 0.0;
            }
            b.run += 1;
            b.run_freq += (freq - b.run_freq) / b.run as f32;
            b.run_power += (power - b.run_power) / b.run as f32;
            if b.run >= min_on_frames {
                b.on = true;
                b.bad = 0;
                b.reversals = 0;
                b.last_good_end = frame_end;
                b.last_phase = Some(phase_now);
                events(ToneEvent::On {
                    tone: b.tone,
                    freq_hz: b.run_freq,
                    level_dbm0: power_to_dbm0(b.run_power),
                    start_sample: b.run_start,
                });
            }
        }
    }
}

impl Default for ToneDetector {
    fn default() -> Self {
        Self::new()
    }
}
