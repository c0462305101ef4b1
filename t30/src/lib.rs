//! The T.30 fax protocol engine, sans-IO.
//!
//! This crate will own the protocol engine (phases A–E, ECM, polling, timers, fault
//! injection), the frame codecs (DIS/DTC/DCS and the rest), and the document side of a fax:
//! T.4 MH/MR and T.6 MMR coding, TIFF-F reading and writing, and PDF output. It never reads
//! a clock or touches audio: inputs are frames, carrier and training events, image data and
//! `handle_timeout(now)`; outputs are polled actions and a final outcome.
//!
//! The [`image`] module is the document side, usable on its own: the bilevel page type
//! ([`image::Bitmap`]), T.4 MH/MR and T.6 MMR encoding and decoding with the row-level
//! damage handling of a non-ECM receiver ([`image::G3Decoder`]), TIFF reading and TIFF-F
//! writing ([`image::tiff`]), PDF output ([`image::pdf`]), the TSB-85 test pages
//! ([`image::testpage`]) and resolution/size conversion ([`image::convert`]).
#![warn(missing_docs)]

pub mod completion;
pub mod frame;
pub mod image;
