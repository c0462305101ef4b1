//! The T.30 fax protocol engine, sans-IO.
//!
//! This crate will own the protocol engine (phases A–E, ECM, polling, timers, fault
//! injection), the frame codecs (DIS/DTC/DCS and the rest), and the document side of a fax:
//! T.4 MH/MR and T.6 MMR coding, TIFF-F reading and writing, and PDF output. It never reads
//! a clock or touches audio: inputs are frames, carrier and training events, image data and
//! `handle_timeout(now)`; outputs are polled actions and a final outcome.
#![warn(missing_docs)]

pub mod image;
