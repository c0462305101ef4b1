//! The T.30 fax protocol engine, sans-IO, with its frame codecs and the document side of a
//! fax.
//!
//! [`Engine`] runs phases A–E of T.30 (non-ECM and ECM, polling, passwords and addresses,
//! timers T0–T5, command repetition, CRP, fault injection) and ends every call with an
//! [`engine::Outcome`] carrying a [`completion::Completion`] code and its exact string. It
//! never reads a clock or touches audio: each `handle_*` input carries the time as a
//! [`SampleTime`] (samples at 8000 Hz), and the caller drains
//! [`Engine::poll_action`] until it returns `None`, calling [`Engine::handle_timeout`] when
//! [`Engine::poll_timeout`] is due. Transmissions come as bursts (`StartTx … StopTx`, or one
//! `SendTone`); the transport reports the end of each with [`Engine::handle_tx_complete`].
//!
//! The drive loop, here with two engines joined back to back (every signal delivered at
//! once; a real transport adds modem timing or T.38):
//!
//! ```
//! use t30::engine::codec::{BitmapDocument, DecodingSink};
//! use t30::engine::{Action, Channel, Config, DocumentSource, Role, TxMode};
//! use t30::completion::Completion;
//! use t30::image::{Bitmap, Resolution};
//! use t30::{Engine, SampleTime};
//!
//! let mut page = Bitmap::new(1728, 200, Resolution::Fine).unwrap();
//! page.fill_rect(100, 20, 900, 60, true);
//! let doc: Box<dyn DocumentSource> = Box::new(BitmapDocument::new(vec![page.clone()]));
//! let (sink_a, _) = DecodingSink::new();
//! let (sink_b, received) = DecodingSink::new();
//! let caller = Engine::new(Config::new(Role::Caller), vec![doc], Some(Box::new(sink_a))).unwrap();
//! let answerer = Engine::new(Config::new(Role::Answerer), vec![], Some(Box::new(sink_b))).unwrap();
//! let mut ends = [caller, answerer];
//!
//! let mut now = SampleTime::ZERO;
//! ends[0].handle_start(now);
//! ends[1].handle_start(now);
//! while !ends.iter().all(|e| e.is_finished()) {
//!     // Hand each engine's actions to the other side.
//!     let mut busy = true;
//!     while busy {
//!         busy = false;
//!         for i in 0..2 {
//!             let (me, peer) = if i == 0 {
//!                 let (a, b) = ends.split_at_mut(1);
//!                 (&mut a[0], &mut b[0])
//!             } else {
//!                 let (a, b) = ends.split_at_mut(1);
//!                 (&mut b[0], &mut a[0])
//!             };
//!             while let Some(action) = me.poll_action() {
//!                 busy = true;
//!                 match action {
//!                     Action::StartTx(TxMode::V21) => peer.handle_carrier(Channel::Control, true, now),
//!                     Action::StartTx(_) => peer.handle_carrier(Channel::Fast, true, now),
//!                     Action::SendFrame { bytes, fcs_ok } => peer.handle_frame(&bytes, fcs_ok, now),
//!                     Action::SendTcf { bytes } | Action::SendImage { bytes } => {
//!                         peer.handle_data(&bytes, now)
//!                     }
//!                     Action::StopTx => {
//!                         peer.handle_carrier(Channel::Control, false, now);
//!                         peer.handle_carrier(Channel::Fast, false, now);
//!                         me.handle_tx_complete(now);
//!                     }
//!                     Action::SendTone { .. } => me.handle_tx_complete(now),
//!                     Action::HangUp => peer.handle_hangup(now),
//!                     Action::SendFlags { .. } | Action::Listen(_) => {}
//!                 }
//!             }
//!         }
//!     }
//!     // Advance simulated time to the next timer.
//!     match ends.iter().filter_map(|e| e.poll_timeout()).min() {
//!         Some(t) => now = now.max(t),
//!         None => break,
//!     }
//!     for e in ends.iter_mut() {
//!         e.handle_timeout(now);
//!     }
//! }
//! let (a, b) = (ends[0].outcome().unwrap(), ends[1].outcome().unwrap());
//! assert_eq!(a.completion, Completion::Ok);
//! assert_eq!(b.completion.text(), "OK");
//! assert_eq!(b.pages_received, 1);
//! assert!(received.lock().unwrap()[0].bitmap().data() == page.data());
//! ```
//!
//! The [`image`] module is the document side, usable on its own: the bilevel page type
//! ([`image::Bitmap`]), T.4 MH/MR and T.6 MMR encoding and decoding with the row-level
//! damage handling of a non-ECM receiver ([`image::G3Decoder`]), TIFF reading and TIFF-F
//! writing ([`image::tiff`]), PDF output ([`image::pdf`]), the TSB-85 test pages
//! ([`image::testpage`]) and resolution/size conversion ([`image::convert`]).
//! [`engine::codec`] adapts it to the engine's page traits.
#![warn(missing_docs)]

pub mod completion;
pub mod engine;
pub mod frame;
pub mod image;
pub mod time;

pub use engine::Engine;
pub use time::SampleTime;
