//! What stands between two fax endpoints, as seeded streaming stages.
//!
//! This crate will own the audio stages (G.711, G.726, G.729 through bcg729, noise, line
//! filters, echo and echo cancellers, clock drift, VAD) and the packet stages (RTP, network
//! jitter and loss, jitter buffers and PLC, T.38 IFP over UDPTL with redundancy and FEC),
//! composed into one chain per direction.
#![warn(missing_docs)]
