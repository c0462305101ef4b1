//! The pipeline behind `faxsim run --deliver`: every receiving side of every call of a
//! scenario is delivered, with the scenario's numbers (the receiving side's number is the
//! dialled one, the other side's the calling one).

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use reports::ScenarioResult;

use super::{Busy, Delivery, DeliveryReport, Pipeline, Reception};
use crate::endpoint::Record;
use crate::scenario::Scenario;

/// The simulated wall clock of a run: each delivered call starts one second after the
/// previous one, from the moment the run began, so that spool names and FTP names
/// (`<source>-<epoch>.pdf`) never collide.
#[derive(Debug)]
pub struct RunClock(AtomicU64);

impl RunClock {
    /// A clock starting at `epoch` (seconds since 1970).
    pub fn starting_at(epoch: u64) -> RunClock {
        RunClock(AtomicU64::new(epoch))
    }

    /// A clock starting now.
    pub fn now() -> RunClock {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        RunClock::starting_at(now)
    }

    fn tick(&self) -> u64 {
        self.0.fetch_add(1, Ordering::Relaxed)
    }
}

/// Delivers every receiving side of `result` (a run of `s` whose files are under `out`).
/// `reception` is what [`Pipeline::answer`] said when the scenario started: its place is
/// held until every call is delivered; a refused scenario has each of its faxes refused,
/// logged and kept in the spool. Each report is also written as
/// `<call dir>/delivery-<role>.json`.
pub fn deliver_scenario(
    pipeline: &Pipeline,
    s: &Scenario,
    result: &ScenarioResult,
    out: &Path,
    reception: Result<Reception, Busy>,
    clock: &RunClock,
) -> Vec<DeliveryReport> {
    let mut reports = Vec::new();
    for call in &result.calls {
        let dir = out.join(&call.dir);
        for side in &call.sides {
            let caller = side.role == "caller";
            // The caller receives only when it polls; the answerer when the caller sends.
            let receives = if caller {
                s.caller.config.poll
            } else {
                !s.caller.pages.is_empty()
            };
            let Some(record) = side
                .record
                .clone()
                .and_then(|v| serde_json::from_value::<Record>(v).ok())
            else {
                continue;
            };
            if !receives {
                continue;
            }
            let (own, other) = if caller {
                (&s.caller, &s.answerer)
            } else {
                (&s.answerer, &s.caller)
            };
            let d = Delivery::new(&record, &dir, &other.number, &own.number, clock.tick());
            let report = match &reception {
                Ok(_) => pipeline.deliver_held(&d),
                Err(busy) => pipeline.refuse(&d, *busy),
            };
            let text = serde_json::to_string_pretty(&report).expect("reports serialise");
            let _ = std::fs::write(
                dir.join(format!("delivery-{}.json", side.role)),
                text + "\n",
            );
            reports.push(report);
        }
    }
    drop(reception);
    reports
}
