//! The call runner: two endpoints, one channel chain per direction, a virtual sample clock.
//!
//! ```
//! use sim::call::{Chain, ChannelPreset, run_call};
//! # fn demo(a: &mut dyn sim::endpoint::Endpoint, b: &mut dyn sim::endpoint::Endpoint) {
//! let mut ab = Chain::build(&ChannelPreset::g711_alaw(), 1, "caller-to-answerer").unwrap();
//! let mut ba = Chain::build(&ChannelPreset::g711_alaw(), 1, "answerer-to-caller").unwrap();
//! let end = run_call(a, b, &mut ab, &mut ba, t30::SampleTime::from_ms(300_000), &mut |_, _| {});
//! # let _ = end;
//! # }
//! ```
//!
//! Each 20 ms block: both endpoints transmit, the tap sees both signals (left = caller,
//! right = answerer, as a line tap records them), each direction's chain processes its
//! signal, both endpoints receive. The call ends when both endpoints have finished or at
//! the time limit, where every endpoint still running has its line cleared (and says so).
//! When one endpoint hangs up, the network clears the other's line half a second later.
//! A direction whose chain has a far-end hybrid (`far_end_echo`) returns part of what
//! reached its receiving end into the opposite direction one block later, through that
//! end's echo canceller if it has one: the talker echo of long routes.

use std::collections::VecDeque;

use channel_models::AudioStage;
use channel_models::chain::{CancellerMode, ChainError, ChainSpec, FarEndEcho, StageSpec};
use channel_models::echo::{EchoCanceller, HybridEcho};
use channel_models::rng::derive_seed;
use t30::SampleTime;

use crate::endpoint::Endpoint;

/// Samples per block (20 ms).
pub const BLOCK: usize = 160;

/// How long after one side hangs up the network clears the other's line.
const CLEAR_DELAY: SampleTime = SampleTime(4000);

/// What stands between the two endpoints: the same chain of stages in both directions, each
/// direction seeded on its own.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelPreset {
    /// The stages (see `channel_models::chain`).
    pub spec: ChainSpec,
}

impl ChannelPreset {
    /// A named preset of `channel_models::chain::PRESETS`.
    pub fn from_name(name: &str) -> Option<ChannelPreset> {
        ChainSpec::preset(name).map(|spec| ChannelPreset { spec })
    }

    /// Nothing between the endpoints.
    pub fn clean() -> ChannelPreset {
        ChannelPreset {
            spec: ChainSpec::default(),
        }
    }

    /// One G.711 A-law hop.
    pub fn g711_alaw() -> ChannelPreset {
        Self::from_name("g711-alaw").expect("preset exists")
    }
}

/// Call length, in samples, that a fast sender's lead of silence covers (ten minutes).
const DRIFT_LEAD_CALL: f64 = 4_800_000.0;
/// The most lead of silence, samples (one second).
const DRIFT_LEAD_MAX: f64 = 8000.0;

/// Samples of silence a direction starts with so that its clock drift never leaves the
/// receiver short. Both ends run in step, but a sender whose clock is fast (positive ppm)
/// delivers fewer samples than it was given; padded with silence, the receiver would see a
/// sample slip every 1/ppm samples (every 1.25 s at 100 ppm), which is another impairment
/// than drift. A lead covering ten minutes of call (at most a second) puts the slips past
/// any call's end: the one-way delay starts that much longer and shrinks as the clocks
/// slide apart, as it would between two free-running clocks.
pub fn drift_lead(spec: &ChainSpec) -> usize {
    let ratio: f64 = spec
        .stages
        .iter()
        .map(|st| match st {
            StageSpec::ClockDrift { ppm } => 1.0 + ppm * 1e-6,
            _ => 1.0,
        })
        .product();
    if ratio > 1.0 {
        // Plus the resampler's look-ahead (8 samples), with margin.
        ((ratio - 1.0) * DRIFT_LEAD_CALL + 16.0)
            .ceil()
            .min(DRIFT_LEAD_MAX) as usize
    } else {
        0
    }
}

/// One direction's stages, with a FIFO so that stages which add or drop a sample now and
/// then still hand the receiver whole blocks.
pub struct Chain {
    stages: Vec<Box<dyn AudioStage>>,
    fifo: VecDeque<i16>,
    a: Vec<i16>,
    b: Vec<i16>,
    far_end: Option<FarEnd>,
}

/// The hybrid at a direction's receiving end and the echo canceller in front of it.
struct FarEnd {
    hybrid: HybridEcho,
    canceller: Option<EchoCanceller>,
    mixed: Vec<i16>,
    cleaned: Vec<i16>,
}

impl Chain {
    /// A chain of these stages, in order.
    pub fn new(stages: Vec<Box<dyn AudioStage>>) -> Chain {
        Chain {
            stages,
            fifo: VecDeque::new(),
            a: Vec::with_capacity(2 * BLOCK),
            b: Vec::with_capacity(2 * BLOCK),
            far_end: None,
        }
    }

    /// Starts the direction with `samples` of silence (see [`drift_lead`]).
    pub fn with_lead(mut self, samples: usize) -> Chain {
        self.fifo.extend(std::iter::repeat_n(0, samples));
        self
    }

    /// Puts a hybrid (and echo control) at this direction's receiving end.
    pub fn with_far_end_echo(mut self, echo: &FarEndEcho) -> Chain {
        let canceller = match echo.canceller {
            CancellerMode::None => None,
            CancellerMode::On => Some(EchoCanceller::new(echo.tail_ms, true)),
            CancellerMode::AlwaysOn => Some(EchoCanceller::new(echo.tail_ms, false)),
        };
        self.far_end = Some(FarEnd {
            hybrid: HybridEcho::new(echo.delay_ms, echo.erl_db),
            canceller,
            mixed: Vec::with_capacity(BLOCK),
            cleaned: Vec::with_capacity(BLOCK),
        });
        self
    }

    /// What the receiving end's line sends back: `outgoing` (what that end transmits) plus
    /// the hybrid's echo of `arrived` (what reached that end), less what an echo canceller
    /// removes. Without a hybrid, `outgoing` unchanged.
    pub fn reflect(&mut self, arrived: &[i16], outgoing: &[i16], out: &mut [i16]) {
        let Some(f) = self.far_end.as_mut() else {
            out.copy_from_slice(outgoing);
            return;
        };
        f.mixed.clear();
        f.hybrid.process_pair(arrived, outgoing, &mut f.mixed);
        let line = match f.canceller.as_mut() {
            Some(ec) => {
                f.cleaned.clear();
                ec.process(arrived, &f.mixed, &mut f.cleaned);
                &f.cleaned
            }
            None => &f.mixed,
        };
        out.copy_from_slice(line);
    }

    /// One direction of `channel`; `direction` names it so that each direction draws its
    /// own random stream from the call's master seed.
    pub fn build(channel: &ChannelPreset, seed: u64, direction: &str) -> Result<Chain, ChainError> {
        if channel.spec.t38.is_some() {
            return Err(ChainError::Invalid(format!(
                "'{}' is a T.38 path; the audio runner cannot carry it: run it with --transport t38",
                channel.spec.name
            )));
        }
        let stages =
            channel_models::chain::Chain::build(&channel.spec, derive_seed(seed, direction))?;
        let chain = Chain::new(vec![Box::new(stages)]).with_lead(drift_lead(&channel.spec));
        Ok(match &channel.spec.far_end_echo {
            Some(echo) => chain.with_far_end_echo(echo),
            None => chain,
        })
    }

    /// One line per thing the stages counted (RTP packets, jitter buffer).
    pub fn report(&self) -> Vec<String> {
        let mut out = Vec::new();
        for s in &self.stages {
            s.report(&mut out);
        }
        out
    }

    /// Passes `input` through and fills `out` (same length) with what comes out, padding
    /// with silence while a stage holds samples back.
    pub fn process(&mut self, input: &[i16], out: &mut [i16]) {
        self.a.clear();
        self.a.extend_from_slice(input);
        for s in self.stages.iter_mut() {
            self.b.clear();
            s.process(&self.a, &mut self.b);
            std::mem::swap(&mut self.a, &mut self.b);
        }
        if self.fifo.is_empty() && self.a.len() == out.len() {
            // The usual case: every stage gave back a whole block.
            out.copy_from_slice(&self.a);
            return;
        }
        self.fifo.extend(self.a.iter().copied());
        let n = self.fifo.len().min(out.len());
        let (front, back) = self.fifo.as_slices();
        let k = front.len().min(n);
        out[..k].copy_from_slice(&front[..k]);
        out[k..n].copy_from_slice(&back[..n - k]);
        out[n..].fill(0);
        self.fifo.drain(..n);
    }
}

/// How the runner ended a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallEnd {
    /// Call time when the runner stopped.
    pub end: SampleTime,
    /// Whether the time limit stopped it.
    pub limit_reached: bool,
}

/// Runs a call between caller `a` and answerer `b` until both finish or `limit`; `tap` sees
/// each block as sent (caller, answerer).
pub fn run_call(
    a: &mut dyn Endpoint,
    b: &mut dyn Endpoint,
    ab: &mut Chain,
    ba: &mut Chain,
    limit: SampleTime,
    tap: &mut dyn FnMut(&[i16], &[i16]),
) -> CallEnd {
    let mut now = SampleTime::ZERO;
    a.start(now);
    b.start(now);
    let (mut ta, mut tb) = ([0i16; BLOCK], [0i16; BLOCK]);
    let (mut ra, mut rb) = ([0i16; BLOCK], [0i16; BLOCK]);
    let (mut la, mut lb) = ([0i16; BLOCK], [0i16; BLOCK]);
    let mut clear_a: Option<SampleTime> = None;
    let mut clear_b: Option<SampleTime> = None;
    while !(a.finished() && b.finished()) {
        if now >= limit {
            if !a.finished() {
                a.line_cleared(now);
            }
            if !b.finished() {
                b.line_cleared(now);
            }
            return CallEnd {
                end: now,
                limit_reached: true,
            };
        }
        a.transmit(now, &mut ta);
        b.transmit(now, &mut tb);
        tap(&ta, &tb);
        // Talker echo: each end's hybrid returns what reached it in the previous block.
        ab.reflect(&rb, &tb, &mut lb);
        ba.reflect(&ra, &ta, &mut la);
        ab.process(&la, &mut rb);
        ba.process(&lb, &mut ra);
        a.receive(now, &ra);
        b.receive(now, &rb);
        now += SampleTime(BLOCK as u64);
        if a.hung_up() && clear_b.is_none() {
            clear_b = Some(now + CLEAR_DELAY);
        }
        if b.hung_up() && clear_a.is_none() {
            clear_a = Some(now + CLEAR_DELAY);
        }
        if clear_a.is_some_and(|t| now >= t) && !a.finished() {
            a.line_cleared(now);
        }
        if clear_b.is_some_and(|t| now >= t) && !b.finished() {
            b.line_cleared(now);
        }
    }
    CallEnd {
        end: now,
        limit_reached: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drifting(ppm: f64) -> ChannelPreset {
        let mut spec = ChainSpec::default();
        spec.stages.push(StageSpec::ClockDrift { ppm });
        ChannelPreset { spec }
    }

    /// A fast sender's direction never runs dry within ten minutes, so the receiver gets
    /// the drifted signal without slips; a slow sender's needs no lead.
    #[test]
    fn drift_never_pads_within_ten_minutes() {
        assert_eq!(drift_lead(&drifting(100.0).spec), 496);
        assert_eq!(drift_lead(&drifting(-100.0).spec), 0);
        assert_eq!(drift_lead(&drifting(5000.0).spec), 8000);
        let mut chain = Chain::build(&drifting(300.0), 1, "caller-to-answerer").unwrap();
        let input: Vec<i16> = (0..BLOCK)
            .map(|i| ((i as f32 * 0.7).sin() * 8000.0) as i16)
            .collect();
        let mut out = vec![0i16; BLOCK];
        for block in 0..4_790_000 / BLOCK {
            chain.process(&input, &mut out);
            assert!(!chain.fifo.is_empty(), "ran dry at block {block}");
        }
    }
}
