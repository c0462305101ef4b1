//! What stands between two fax endpoints, as seeded streaming stages.
//!
//! # Model
//! A stage is a value that transforms a stream of 8000 Hz `i16` samples ([`AudioStage`]).
//! Stages are deterministic: each takes its own seed, and its output never depends on how
//! the input was cut into blocks. Stages compose into one chain per direction of a call.
//!
//! - Codecs: [`g726`] (ADPCM 16–40 kbit/s, bit-exact with the recommendation's arithmetic),
//!   [`g729`] (G.729A through the system's bcg729, loaded at run time).
//! - Line: [`line`](mod@line) (noise, FDM frequency shift, clock drift), [`filter`] (telephone-band
//!   and line filters with amplitude and envelope-delay distortion), [`impair`] (level, DC,
//!   hum, phase jitter, clock slips), [`echo`] (hybrid echo, NLMS canceller with the 2100 Hz
//!   phase-reversal disabler), [`vad`] (silence suppression with comfort noise).
//! - Packets: [`packet`] (RTP, network loss/jitter/reordering with G.1050-style presets,
//!   jitter buffers, PLC), [`t38`] (IFP and UDPTL with redundancy and FEC).
//! - [`chain`]: stages per direction from a builder or TOML, and the named presets.
//!
//! # Drive loop
//! ```
//! use channel_models::{AudioStage, line::Awgn};
//! let mut noise = Awgn::with_snr(30.0, -10.0, 42);
//! let input = [0i16; 160];
//! let mut out = Vec::new();
//! noise.process(&input, &mut out);
//! assert_eq!(out.len(), 160);
//! ```
#![warn(missing_docs)]

pub mod chain;
pub mod echo;
pub mod filter;
pub mod g711;
pub mod g726;
pub mod g729;
pub mod impair;
pub mod line;
pub mod packet;
pub mod rng;
pub mod t38;
pub mod vad;

/// An audio stage: samples in, samples out.
pub trait AudioStage: Send {
    /// Processes `input`, appending the output to `out`. Most stages append exactly
    /// `input.len()` samples; clock stages may append one more or one fewer now and then.
    fn process(&mut self, input: &[i16], out: &mut Vec<i16>);

    /// Starts (or stops) keeping the packets this stage puts on a network, for a capture.
    /// Stages that send no packets ignore it.
    fn capture_packets(&mut self, on: bool) {
        let _ = on;
    }

    /// Moves the packets kept since the last call into `out`, in send order.
    fn take_packets(&mut self, out: &mut Vec<packet::NetPacket>) {
        let _ = out;
    }

    /// Appends one line per thing this stage counted (packets, jitter buffer), for a call's
    /// summary. Stages that count nothing add nothing.
    fn report(&self, out: &mut Vec<String>) {
        let _ = out;
    }
}
