//! The replay endpoint: one channel of a recorded call played back as that side's signal.
//! What the far end sends is ignored (a recording cannot react), so a replay shows how an
//! engine copes with what a real station once sent, not a conversation.

use std::path::Path;

use t30::SampleTime;
use t30::engine::Role;

use super::record::{Files, Record};
use super::{Endpoint, EndpointOutcome};
use crate::wav::WavAudio;

/// A recorded side.
pub struct ReplayEndpoint {
    samples: Vec<i16>,
    pos: usize,
    role: Role,
    source: String,
    end: Option<SampleTime>,
}

impl ReplayEndpoint {
    /// Channel `channel` (0 = left) of the WAV file at `path`, resampled to 8 kHz, for `role`.
    pub fn new(path: &Path, channel: u16, role: Role) -> Result<ReplayEndpoint, String> {
        let wav = WavAudio::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let samples = wav
            .to_8k(channel)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(ReplayEndpoint {
            samples,
            pos: 0,
            role,
            source: path.display().to_string(),
            end: None,
        })
    }
}

impl Endpoint for ReplayEndpoint {
    fn start(&mut self, _now: SampleTime) {}

    fn transmit(&mut self, now: SampleTime, out: &mut [i16]) {
        let n = out.len().min(self.samples.len().saturating_sub(self.pos));
        out[..n].copy_from_slice(&self.samples[self.pos..self.pos + n]);
        out[n..].fill(0);
        self.pos += n;
        if self.pos >= self.samples.len() {
            self.end.get_or_insert(now + SampleTime(n as u64));
        }
    }

    fn receive(&mut self, _now: SampleTime, _samples: &[i16]) {}

    fn line_cleared(&mut self, now: SampleTime) {
        self.end.get_or_insert(now);
    }

    fn hung_up(&self) -> bool {
        self.end.is_some()
    }

    fn finished(&self) -> bool {
        self.end.is_some()
    }

    fn outcome(&self) -> Option<EndpointOutcome> {
        let end = self.end?;
        Some(EndpointOutcome::Record(Box::new(Record {
            status: "SUCCESS".into(),
            error: "OK".into(),
            code: 0,
            pages: 0,
            rate: 0,
            modem: String::new(),
            ecm: "no".into(),
            resolution: String::new(),
            coding: String::new(),
            localstationid: String::new(),
            remotestationid: String::new(),
            headerinfo: self.source.clone(),
            scenario: String::new(),
            seed: 0,
            role: match self.role {
                Role::Caller => "caller",
                Role::Answerer => "answerer",
            }
            .into(),
            endpoint: "replay".into(),
            duration_s: end.as_secs_f64(),
            limit_reached: false,
            bad_rows: 0,
            ecm_retries: 0,
            trainings: Vec::new(),
            frames: Vec::new(),
            files: Files::default(),
            hook: None,
        })))
    }
}
