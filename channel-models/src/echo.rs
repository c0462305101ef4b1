//! Hybrid echo and an NLMS echo canceller with the 2100 Hz phase-reversal disabler.
//!
//! A 2-wire/4-wire hybrid returns part of the transmitted signal into the receive path,
//! delayed by the round trip and weakened by the echo return loss (ERL). Network echo
//! cancellers (G.168) remove it adaptively; modems that need the echo path untouched send
//! a 2100 Hz answer tone with phase reversals every 450 ms, which disables the canceller
//! until the line falls silent (G.165/G.168 tone disabler). Fax's plain CED has no phase
//! reversals and does *not* disable a canceller, only an echo suppressor.

use crate::AudioStage;
use crate::line::DBM0_RMS;
use std::f64::consts::TAU;

#[inline]
fn to_i16(x: f32) -> i16 {
    x.round().clamp(-32768.0, 32767.0) as i16
}

/// Dispersion of a hybrid's echo path (a short decaying ringing), normalised in `new`.
const HYBRID_SHAPE: [f32; 8] = [0.2, 1.0, 0.55, -0.25, -0.3, 0.1, 0.08, -0.03];

/// Hybrid echo: a delayed, dispersed copy of the transmitted signal, `erl_db` below it,
/// added to the received signal.
#[derive(Debug, Clone)]
pub struct HybridEcho {
    h: [f32; 8],
    ring: Vec<f32>,
    pos: usize,
    delay: usize,
}

impl HybridEcho {
    /// Echo after `delay_ms` with echo return loss `erl_db` (power, for a white signal).
    pub fn new(delay_ms: f64, erl_db: f64) -> Self {
        let energy: f32 = HYBRID_SHAPE.iter().map(|h| h * h).sum();
        let g = 10f32.powf(-erl_db as f32 / 20.0) / energy.sqrt();
        let delay = (delay_ms * 8.0).round() as usize;
        HybridEcho {
            h: HYBRID_SHAPE.map(|h| h * g),
            ring: vec![0.0; delay + HYBRID_SHAPE.len()],
            pos: 0,
            delay,
        }
    }

    /// The echo of the next transmitted sample.
    fn step(&mut self, tx: i16) -> f32 {
        let n = self.ring.len();
        self.ring[self.pos] = tx as f32;
        let mut e = 0.0;
        for (j, h) in self.h.iter().enumerate() {
            e += h * self.ring[(self.pos + n * 2 - self.delay - j) % n];
        }
        self.pos = (self.pos + 1) % n;
        e
    }

    /// Adds the echo of `tx` (this end's transmitted signal) to `rx` (what it receives).
    pub fn process_pair(&mut self, tx: &[i16], rx: &[i16], out: &mut Vec<i16>) {
        for (&t, &r) in tx.iter().zip(rx) {
            let e = self.step(t);
            out.push(to_i16(r as f32 + e));
        }
    }
}

impl AudioStage for HybridEcho {
    /// One direction alone: the signal plus its own echo (listener echo).
    fn process(&mut self, input: &[i16], out: &mut Vec<i16>) {
        for &x in input {
            let e = self.step(x);
            out.push(to_i16(x as f32 + e));
        }
    }
}

/// The G.165/G.168 tone disabler: 2100 Hz ± 21 Hz with phase reversals disables the
/// canceller; it stays disabled until both directions fall below -36 dBm0 for 250 ms.
#[derive(Debug, Clone)]
pub struct ToneDisabler {
    rot: (f64, f64),
    osc: (f64, f64),
    z: (f64, f64),
    power: f64,
    history: Vec<(f64, f64)>,
    hpos: usize,
    tone_samples: u32,
    reversals: u32,
    holdoff: u32,
    quiet: u32,
    disabled: bool,
    n: u64,
    /// Sample index at which the disabler tripped.
    pub tripped_at: Option<u64>,
}

const REVERSAL_SPAN: usize = 80;

impl Default for ToneDisabler {
    fn default() -> Self {
        Self::new()
    }
}

impl ToneDisabler {
    /// A detector in the enabled (not tripped) state.
    pub fn new() -> Self {
        let w = TAU * 2100.0 / 8000.0;
        ToneDisabler {
            rot: (w.cos(), -w.sin()),
            osc: (1.0, 0.0),
            z: (0.0, 0.0),
            power: 0.0,
            history: vec![(0.0, 0.0); REVERSAL_SPAN],
            hpos: 0,
            tone_samples: 0,
            reversals: 0,
            holdoff: 0,
            quiet: 0,
            disabled: false,
            n: 0,
            tripped_at: None,
        }
    }

    /// Whether the canceller is disabled now.
    pub fn is_disabled(&self) -> bool {
        self.disabled
    }

    /// Feeds one sample of the monitored signal and the other direction's sample (for the
    /// release rule).
    pub fn step(&mut self, x: i16, other: i16) {
        let x = x as f64;
        let a = 1.0 / 40.0;
        // Complex down-conversion of 2100 Hz to DC, then a 5 ms one-pole low-pass.
        let (c, s) = self.osc;
        self.z.0 += a * (x * c - self.z.0);
        self.z.1 += a * (x * s - self.z.1);
        self.osc = (
            c * self.rot.0 - s * self.rot.1,
            c * self.rot.1 + s * self.rot.0,
        );
        if self.n.is_multiple_of(1024) {
            // Keep the oscillator on the unit circle.
            let m = (self.osc.0.powi(2) + self.osc.1.powi(2)).sqrt();
            self.osc = (self.osc.0 / m, self.osc.1 / m);
        }
        self.power += a * (x * x - self.power);
        let tone_power = self.z.0.powi(2) + self.z.1.powi(2);
        // A pure tone gives |z|^2 / power = 1/2; -31 dBm0 is the lowest level to act on.
        let min_power = (DBM0_RMS * 10f64.powf(-31.0 / 20.0)).powi(2);
        let tone = self.power > min_power && tone_power > 0.35 * self.power;
        let old = self.history[self.hpos];
        self.history[self.hpos] = self.z;
        self.hpos = (self.hpos + 1) % REVERSAL_SPAN;
        if tone {
            self.tone_samples += 1;
        } else if self.tone_samples > 0 && self.power < 0.3 * min_power {
            self.tone_samples = 0;
            self.reversals = 0;
        }
        self.holdoff = self.holdoff.saturating_sub(1);
        let old_mag2 = old.0 * old.0 + old.1 * old.1;
        if self.holdoff == 0 && old_mag2 > 0.25 * self.power.max(min_power) * 0.5 {
            let dot = old.0 * self.z.0 + old.1 * self.z.1;
            let mags = (old_mag2 * tone_power).sqrt();
            if tone_power > 0.125 * self.power && dot < -0.85 * mags {
                self.reversals += 1;
                self.holdoff = 1600;
            }
        }
        if !self.disabled && self.tone_samples >= 2400 && self.reversals >= 1 {
            self.disabled = true;
            self.tripped_at = Some(self.n);
        }
        if self.disabled {
            let quiet_level = (DBM0_RMS * 10f64.powf(-36.0 / 20.0)) as i32;
            if (x.abs() as i32) < quiet_level && (other as i32).abs() < quiet_level {
                self.quiet += 1;
            } else {
                self.quiet = 0;
            }
            if self.quiet >= 2000 {
                self.disabled = false;
                self.tone_samples = 0;
                self.reversals = 0;
                self.quiet = 0;
            }
        }
        self.n += 1;
    }
}

/// An NLMS line echo canceller (G.168-like): adapts a `tail_ms` FIR model of the echo path
/// from the reference (the signal sent towards the hybrid) and subtracts its estimate from
/// the returning signal; adaptation freezes during double talk (Geigel detector).
#[derive(Debug, Clone)]
pub struct EchoCanceller {
    w: Vec<f32>,
    /// The reference, stored twice so that the newest `n` samples are always contiguous.
    x: Vec<f32>,
    pos: usize,
    energy: f32,
    mu: f32,
    honour_disable: bool,
    disabler: ToneDisabler,
    hangover: u32,
}

impl EchoCanceller {
    /// A canceller with a tail of `tail_ms`; `honour_disable = false` keeps it running
    /// through a 2100 Hz phase-reversal tone (a misconfigured gateway).
    pub fn new(tail_ms: f64, honour_disable: bool) -> Self {
        let n = ((tail_ms * 8.0).round() as usize).max(8);
        EchoCanceller {
            w: vec![0.0; n],
            x: vec![0.0; 2 * n],
            pos: 0,
            energy: 0.0,
            mu: 0.5,
            honour_disable,
            disabler: ToneDisabler::new(),
            hangover: 0,
        }
    }

    /// Whether the tone disabler has tripped (and the canceller honours it).
    pub fn is_disabled(&self) -> bool {
        self.honour_disable && self.disabler.is_disabled()
    }

    /// The tone disabler's state.
    pub fn disabler(&self) -> &ToneDisabler {
        &self.disabler
    }

    /// Cancels the echo of `reference` in `with_echo`, appending the result to `out`.
    pub fn process(&mut self, reference: &[i16], with_echo: &[i16], out: &mut Vec<i16>) {
        let n = self.w.len();
        for (&r, &d) in reference.iter().zip(with_echo) {
            self.disabler.step(r, d);
            let rf = r as f32;
            // Slide the window: drop the oldest sample's energy, add the new one.
            let oldest = self.x[self.pos + n - 1];
            self.energy = (self.energy + rf * rf - oldest * oldest).max(0.0);
            self.pos = if self.pos == 0 { n - 1 } else { self.pos - 1 };
            self.x[self.pos] = rf;
            self.x[self.pos + n] = rf;
            if self.is_disabled() {
                out.push(d);
                continue;
            }
            let xs = &self.x[self.pos..self.pos + n];
            let est: f32 = self.w.iter().zip(xs).map(|(w, x)| w * x).sum();
            let e = d as f32 - est;
            // Geigel double-talk detector: near-end louder than half the recent reference peak.
            let peak = xs.iter().fold(0f32, |m, v| m.max(v.abs()));
            if (d as f32).abs() > 0.5 * peak {
                self.hangover = 240;
            } else {
                self.hangover = self.hangover.saturating_sub(1);
            }
            if self.hangover == 0 && self.energy > 1e3 * n as f32 {
                let g = self.mu * e / (self.energy + 1.0);
                for (w, x) in self.w.iter_mut().zip(xs) {
                    *w += g * x;
                }
            }
            out.push(to_i16(e));
        }
    }
}
