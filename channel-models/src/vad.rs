//! Voice activity detection with silence suppression and comfort noise, as VoIP gateways
//! do it when nobody has told them a fax is on the line.
//!
//! Each 10 ms frame is classed active when its level exceeds a threshold; active frames
//! pass untouched, inactive ones are replaced by comfort noise at the level of the last
//! inactive frames (what a SID frame would carry). Like real detectors it needs a couple
//! of active frames before it opens (front-end clipping) and holds open for a hangover
//! time after the signal drops. Output lags input by one frame.

use crate::AudioStage;
use crate::line::DBM0_RMS;
use crate::rng::Rng;

/// Samples per VAD frame (10 ms).
pub const VAD_FRAME: usize = 80;

/// VAD parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VadConfig {
    /// Frames above this level (dBm0) are active.
    pub threshold_dbm0: f64,
    /// Consecutive active frames needed before the detector opens.
    pub onset_frames: u32,
    /// Frames the detector stays open after activity ends.
    pub hangover_frames: u32,
    /// Highest comfort-noise level (dBm0).
    pub max_noise_dbm0: f64,
}

impl Default for VadConfig {
    fn default() -> Self {
        VadConfig {
            threshold_dbm0: -40.0,
            onset_frames: 2,
            hangover_frames: 20,
            max_noise_dbm0: -50.0,
        }
    }
}

/// Silence suppression with comfort noise.
#[derive(Debug, Clone)]
pub struct Vad {
    cfg: VadConfig,
    threshold_power: f64,
    max_noise_power: f64,
    rng: Rng,
    frame: [i16; VAD_FRAME],
    filled: usize,
    ready: [i16; VAD_FRAME],
    noise_power: f64,
    active_run: u32,
    hang: u32,
    open: bool,
    suppressed: u64,
    frames: u64,
}

fn dbm0_power(dbm0: f64) -> f64 {
    (DBM0_RMS * 10f64.powf(dbm0 / 20.0)).powi(2)
}

impl Vad {
    /// A detector with `cfg`, comfort noise from `seed`.
    pub fn new(cfg: VadConfig, seed: u64) -> Self {
        Vad {
            threshold_power: dbm0_power(cfg.threshold_dbm0),
            max_noise_power: dbm0_power(cfg.max_noise_dbm0),
            cfg,
            rng: Rng::new(seed),
            frame: [0; VAD_FRAME],
            filled: 0,
            ready: [0; VAD_FRAME],
            noise_power: 0.0,
            active_run: 0,
            hang: 0,
            open: false,
            suppressed: 0,
            frames: 0,
        }
    }

    /// Frames replaced by comfort noise so far.
    pub fn suppressed_frames(&self) -> u64 {
        self.suppressed
    }

    /// Frames seen so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    fn decide(&mut self) {
        let p = self.frame.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / VAD_FRAME as f64;
        self.frames += 1;
        if p > self.threshold_power {
            self.active_run += 1;
            if self.active_run >= self.cfg.onset_frames {
                self.open = true;
                self.hang = self.cfg.hangover_frames;
            }
        } else {
            self.active_run = 0;
            if self.hang > 0 {
                self.hang -= 1;
            } else {
                self.open = false;
            }
            // The SID level follows the background.
            self.noise_power = 0.7 * self.noise_power + 0.3 * p;
        }
        if self.open {
            self.ready = self.frame;
        } else {
            self.suppressed += 1;
            let rms = self.noise_power.min(self.max_noise_power).sqrt();
            for v in self.ready.iter_mut() {
                *v = (rms * self.rng.gaussian()).round().clamp(-32768.0, 32767.0) as i16;
            }
        }
    }
}

impl AudioStage for Vad {
    fn process(&mut self, input: &[i16], out: &mut Vec<i16>) {
        for &x in input {
            out.push(self.ready[self.filled]);
            self.frame[self.filled] = x;
            self.filled += 1;
            if self.filled == VAD_FRAME {
                self.decide();
                self.filled = 0;
            }
        }
    }
}
