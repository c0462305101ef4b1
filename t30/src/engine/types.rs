//! The engine's inputs and outputs: actions, modes, trace entries and the outcome.

use crate::completion::Completion;
use crate::frame::PageWidth;
use crate::frame::dis::modem_name::Modem;
use crate::time::SampleTime;

use super::page::{Coding, Resolution};

/// How to transmit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxMode {
    /// V.21 channel 2 at 300 bit/s, HDLC frames.
    V21,
    /// A fast modem.
    Fast {
        /// Which modem.
        modem: Modem,
        /// Bit rate.
        rate: u32,
        /// Short training (V.17 only: image data after TCF and ECM blocks).
        short_train: bool,
    },
}

/// What to listen for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RxMode {
    /// V.21 channel 2 (control frames).
    V21,
    /// A fast modem; a V.21 preamble should still be noticed (T.30 receivers look for both).
    Fast {
        /// Which modem.
        modem: Modem,
        /// Bit rate.
        rate: u32,
    },
}

/// Which carrier an event concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// The V.21 control channel.
    Control,
    /// The fast (image) modem.
    Fast,
}

/// Fax tones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Called terminal identification, 2100 Hz.
    Ced,
    /// Calling tone, 1100 Hz.
    Cng,
}

/// Something the engine asks its transport to do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Start a carrier (preamble/training as the mode says).
    StartTx(TxMode),
    /// Send one HDLC frame (address, control, FCF, FIF; the transport adds the FCS, a bad one
    /// when `fcs_ok` is false).
    SendFrame {
        /// Frame octets without FCS.
        bytes: Vec<u8>,
        /// Whether the FCS is to be correct.
        fcs_ok: bool,
    },
    /// Send HDLC flags with no frame.
    SendFlags {
        /// How many flags.
        count: u32,
    },
    /// Send TCF: these octets (zeros unless a fault says otherwise) at the current rate.
    SendTcf {
        /// The octets.
        bytes: Vec<u8>,
    },
    /// Send non-ECM image data.
    SendImage {
        /// Coded page data exactly as the [`super::DocumentSource`] produced it; with the
        /// image codec ([`super::codec`]) the most significant bit of each octet goes first.
        bytes: Vec<u8>,
    },
    /// End the carrier after what is queued.
    StopTx,
    /// Play a tone for `ms` milliseconds.
    SendTone {
        /// Which tone.
        tone: Tone,
        /// Duration.
        ms: u64,
    },
    /// Switch the receiver.
    Listen(RxMode),
    /// Clear the call.
    HangUp,
}

/// Direction of a traced frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Sent by this engine.
    Tx,
    /// Received.
    Rx,
}

/// One frame of the T.30 trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceEntry {
    /// When it was sent (burst start) or received (frame end).
    pub time: SampleTime,
    /// Sent or received.
    pub dir: Direction,
    /// Frame name ("DCS", "FCF 0x00", "garbage").
    pub name: String,
    /// Octets in hex, space separated, without FCS; for an FCD frame without
    /// [`Config::trace_ecm_data`](super::Config::trace_ecm_data), its first four octets
    /// (address, control, FCF and frame number) only.
    pub hex: String,
    /// Octets in the frame, without FCS (more than `hex` shows when it is abbreviated).
    pub octets: usize,
    /// Whether the FCS was good.
    pub fcs_ok: bool,
}

/// One training attempt (TCF) and its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Training {
    /// When the result was known.
    pub time: SampleTime,
    /// Modem.
    pub modem: Modem,
    /// Rate.
    pub rate: u32,
    /// Whether it succeeded (CFR) or not (FTT / no answer).
    pub ok: bool,
}

/// SUCCESS or FAILED, as FAXOPT(status) says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// The call did what it was meant to.
    Success,
    /// It did not.
    Failed,
}

impl Status {
    /// "SUCCESS" or "FAILED".
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Success => "SUCCESS",
            Status::Failed => "FAILED",
        }
    }
}

/// How a call ended for one endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// SUCCESS or FAILED.
    pub status: Status,
    /// The completion code (its exact string is `completion.text()`).
    pub completion: Completion,
    /// Pages sent and confirmed (MCF/RTP).
    pub pages_sent: u32,
    /// Pages received and kept.
    pub pages_received: u32,
    /// Last negotiated bit rate.
    pub rate: Option<u32>,
    /// Last negotiated modem.
    pub modem: Option<Modem>,
    /// Whether ECM was used.
    pub ecm: bool,
    /// ECM frame size in octets (when ECM).
    pub ecm_frame_size: Option<usize>,
    /// Negotiated coding.
    pub coding: Option<Coding>,
    /// Negotiated resolution.
    pub resolution: Option<Resolution>,
    /// Negotiated width.
    pub width: Option<PageWidth>,
    /// Our identity.
    pub local_ident: String,
    /// The far end's identity (CSI, TSI or CIG).
    pub remote_ident: String,
    /// Page header text.
    pub header_info: String,
    /// Bad rows in the pages kept.
    pub bad_rows: u32,
    /// ECM retransmission requests (PPR) sent or received.
    pub ecm_retries: u32,
    /// Every training attempt.
    pub trainings: Vec<Training>,
    /// Every frame sent and received.
    pub frames: Vec<TraceEntry>,
    /// When the engine finished.
    pub end_time: SampleTime,
}

impl Outcome {
    /// The exact completion string.
    pub fn error_text(&self) -> &'static str {
        self.completion.text()
    }
}
