//! T.38 calls: terminals that speak IFP instead of audio, and the runner that carries their
//! packets across UDPTL and a network.
//!
//! A T.38 terminal ([`T38Endpoint`]) is driven in 20 ms blocks like an audio endpoint, but
//! what it sends is a list of IFP packets, each stamped with the virtual time at which a
//! real terminal would send it (paced by how long each signal takes at its rate), and
//! what it receives is the receiver's in-order output: IFPs, recovered IFPs, and holes.
//! [`builtin::T38Builtin`] is our engine behind an IFP adapter; [`spandsp::SpandspT38`]
//! is spandsp's `t38_terminal`. [`run_t38_call`] runs a call between two of them through
//! one [`UdptlLink`] per direction.
//!
//! ```no_run
//! use channel_models::packet::NetworkConfig;
//! use channel_models::t38::{ErrorRecovery, UdptlLink};
//! # fn demo(a: &mut dyn sim::t38::T38Endpoint, b: &mut dyn sim::t38::T38Endpoint) {
//! let mut ab = UdptlLink::new(0, ErrorRecovery::Redundancy(3), NetworkConfig::clean(20.0), 1, 480);
//! let mut ba = UdptlLink::new(0, ErrorRecovery::Redundancy(3), NetworkConfig::clean(20.0), 2, 480);
//! let end = sim::t38::run_t38_call(a, b, &mut ab, &mut ba, t30::SampleTime::from_ms(300_000), &mut |_, _, _| {});
//! # let _ = end;
//! # }
//! ```

pub mod builtin;
pub mod spandsp;

use channel_models::t38::{Delivered, UdptlLink};
use t30::SampleTime;

use crate::call::{BLOCK, CallEnd};
use crate::endpoint::EndpointOutcome;

/// How long after one side hangs up the network clears the other's line.
const CLEAR_DELAY: SampleTime = SampleTime(4000);


/// One IFP a terminal sends, with its send time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentIfp {
    /// When it leaves the terminal.
    pub time: SampleTime,
    /// The encoded IFP.
    pub ifp: Vec<u8>,
}

/// One end of a T.38 call.
pub trait T38Endpoint {
    /// The call starts at `now`.
    fn start(&mut self, now: SampleTime);
    /// Appends the IFPs this endpoint sends during the block starting at `now`, in time
    /// order, each stamped within the block.
    fn transmit(&mut self, now: SampleTime, out: &mut Vec<SentIfp>);
    /// Takes what the UDPTL receiver handed on by `now` (the end of the block), in
    /// sequence order, and lets time run up to `now`.
    fn receive(&mut self, now: SampleTime, delivered: &[Delivered]);
    /// The far end or the network cleared the call.
    fn line_cleared(&mut self, now: SampleTime);
    /// Whether this endpoint has hung up.
    fn hung_up(&self) -> bool;
    /// Whether this endpoint has finished.
    fn finished(&self) -> bool;
    /// The outcome, once finished.
    fn outcome(&self) -> Option<EndpointOutcome>;
}

/// Which way a packet went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketDir {
    /// Caller to answerer.
    CallerToAnswerer,
    /// Answerer to caller.
    AnswererToCaller,
}

/// Runs a T.38 call between caller `a` and answerer `b` until both finish or `limit`.
/// `tap` sees every UDPTL packet as it leaves its sender, in time order.
pub fn run_t38_call(
    a: &mut dyn T38Endpoint,
    b: &mut dyn T38Endpoint,
    ab: &mut UdptlLink,
    ba: &mut UdptlLink,
    limit: SampleTime,
    tap: &mut dyn FnMut(PacketDir, SampleTime, &[u8]),
) -> CallEnd {
    let block = SampleTime(BLOCK as u64);
    let mut now = SampleTime::ZERO;
    a.start(now);
    b.start(now);
    let (mut out_a, mut out_b) = (Vec::new(), Vec::new());
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
        out_a.clear();
        out_b.clear();
        a.transmit(now, &mut out_a);
        b.transmit(now, &mut out_b);
        // Both directions' packets in send-time order (the caller's first on a tie).
        let (mut i, mut j) = (0, 0);
        while i < out_a.len() || j < out_b.len() {
            let take_a = j >= out_b.len() || (i < out_a.len() && out_a[i].time <= out_b[j].time);
            if take_a {
                let p: &SentIfp = &out_a[i];
                let wire = ab.send(p.time.0, &p.ifp);
                tap(PacketDir::CallerToAnswerer, p.time, &wire);
                i += 1;
            } else {
                let p: &SentIfp = &out_b[j];
                let wire = ba.send(p.time.0, &p.ifp);
                tap(PacketDir::AnswererToCaller, p.time, &wire);
                j += 1;
            }
        }
        now += block;
        let to_b = ab.poll(now.0);
        let to_a = ba.poll(now.0);
        a.receive(now, &to_a);
        b.receive(now, &to_b);
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
