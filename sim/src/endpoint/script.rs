//! The script endpoint: a side that runs a list of steps instead of an engine (the TSB-85
//! tester). Each step either sends something, waits, or checks what the far end does; every
//! check leaves a [`CheckResult`], and the endpoint's record is SUCCESS when all passed.

use serde::{Deserialize, Serialize};
use t30::SampleTime;
use t30::engine::Role;

use super::record::{Files, Record};
use super::{Endpoint, EndpointOutcome};

/// One step of a script.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Step {
    /// Send nothing for this long.
    Wait {
        /// Milliseconds.
        ms: u64,
    },
}

/// The result of one check of a script.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    /// Index of the step (0-based) that made the check.
    pub step: usize,
    /// What was checked, in words.
    pub what: String,
    /// Whether it held.
    pub passed: bool,
    /// What was seen.
    pub detail: String,
}

/// A scripted side of a call.
pub struct ScriptEndpoint {
    steps: Vec<Step>,
    role: Role,
    step: usize,
    step_end: Option<SampleTime>,
    checks: Vec<CheckResult>,
    end: Option<SampleTime>,
}

impl ScriptEndpoint {
    /// A script for `role`; `seed` feeds anything random the steps do.
    pub fn new(steps: &[Step], role: Role, _seed: u64) -> Result<ScriptEndpoint, String> {
        Ok(ScriptEndpoint {
            steps: steps.to_vec(),
            role,
            step: 0,
            step_end: None,
            checks: Vec::new(),
            end: None,
        })
    }

    /// The checks made so far.
    pub fn checks(&self) -> &[CheckResult] {
        &self.checks
    }

    fn advance(&mut self, now: SampleTime) {
        while self.end.is_none() {
            let Some(step) = self.steps.get(self.step) else {
                self.end = Some(now);
                return;
            };
            match step {
                Step::Wait { ms } => {
                    let until = *self.step_end.get_or_insert(now + SampleTime::from_ms(*ms));
                    if now < until {
                        return;
                    }
                }
            }
            self.step += 1;
            self.step_end = None;
        }
    }
}

impl Endpoint for ScriptEndpoint {
    fn start(&mut self, now: SampleTime) {
        self.advance(now);
    }

    fn transmit(&mut self, _now: SampleTime, out: &mut [i16]) {
        out.fill(0);
    }

    fn receive(&mut self, now: SampleTime, samples: &[i16]) {
        self.advance(now + SampleTime(samples.len() as u64));
    }

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
        let failed = self.checks.iter().find(|c| !c.passed);
        Some(EndpointOutcome::Record(Box::new(Record {
            status: if failed.is_none() {
                "SUCCESS"
            } else {
                "FAILED"
            }
            .into(),
            error: failed.map_or("OK".into(), |c| format!("{}: {}", c.what, c.detail)),
            code: 0,
            pages: 0,
            rate: 0,
            modem: String::new(),
            ecm: "no".into(),
            resolution: String::new(),
            coding: String::new(),
            localstationid: String::new(),
            remotestationid: String::new(),
            headerinfo: String::new(),
            scenario: String::new(),
            seed: 0,
            role: match self.role {
                Role::Caller => "caller",
                Role::Answerer => "answerer",
            }
            .into(),
            endpoint: "script".into(),
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
