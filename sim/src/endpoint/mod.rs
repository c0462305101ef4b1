//! Call endpoints: what sits at each end of a simulated call, behind one interface.
//!
//! Every endpoint is driven by the runner ([`crate::call`]) in 20 ms blocks: it fills the
//! samples it sends, then consumes the samples the channel delivered to it. Time is the
//! virtual sample clock; nothing here reads a real clock.

pub mod builtin;
pub mod record;
pub mod replay;
pub mod script;
pub mod spandsp;
pub mod voice;

use t30::SampleTime;

pub use record::{FrameRecord, Record, TrainingRecord};

/// How a finished endpoint's call went, in the engine's own terms.
#[derive(Debug, Clone)]
pub enum EndpointOutcome {
    /// Our engine's outcome.
    Builtin(t30::engine::Outcome),
    /// A record built by an endpoint that is not our engine (spandsp).
    Record(Box<Record>),
}

/// One end of a call over audio.
pub trait Endpoint {
    /// The call starts (the caller has dialled, the answerer has answered) at `now`.
    fn start(&mut self, now: SampleTime);
    /// Fills `out` with what this endpoint sends from `now` on.
    fn transmit(&mut self, now: SampleTime, out: &mut [i16]);
    /// Takes what the line delivered from `now` on.
    fn receive(&mut self, now: SampleTime, samples: &[i16]);
    /// The far end or the network cleared the line.
    fn line_cleared(&mut self, now: SampleTime);
    /// Whether this endpoint has hung up (the runner then clears the far end's line).
    fn hung_up(&self) -> bool;
    /// Whether this endpoint has finished (its outcome is ready and it sends nothing more).
    fn finished(&self) -> bool;
    /// The outcome, once finished.
    fn outcome(&self) -> Option<EndpointOutcome>;
}
