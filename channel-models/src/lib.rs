//! What stands between two fax endpoints, as seeded streaming stages.
//!
//! # Model
//! A stage is a value that transforms a stream of 8000 Hz `i16` samples ([`AudioStage`]).
//! Stages are deterministic: each takes its own seed, and its output never depends on how
//! the input was cut into blocks. Stages compose into one chain per direction of a call.
//!
//! This crate will grow to hold the codecs (G.711, G.726, G.729 through bcg729), the line
//! (filters, echo, hum, VAD), the packet path (RTP, jitter, loss, jitter buffers and PLC) and
//! T.38 UDPTL. For now it has the impairments the modem tests and BER sweeps need.
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
}
