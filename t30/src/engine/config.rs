//! Engine configuration: role, capabilities, identities, timers, retries and faults.

use crate::frame::dis::modem_name::Modem;
use crate::frame::{Fcf, PageLength, PageWidth};

use super::page::{Coding, Resolution};

/// Which side of the call the engine is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The calling station (sends CNG, waits for DIS).
    Caller,
    /// The called station (sends CED and DIS).
    Answerer,
}

/// What the answerer does when nobody answers its DIS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisRepeat {
    /// Repeat DIS every T4 until T1 expires, then DCN with T1_EXPIRED (the default, as
    /// current engines do).
    UntilT1,
    /// Send DIS `retries` times, then DCN with RETRYDCN (older practice, TSB-85 MRGX01).
    ThenDcn,
}

/// ECM frame size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EcmFrameSize {
    /// 64-octet frames.
    Octets64,
    /// 256-octet frames.
    Octets256,
}

impl EcmFrameSize {
    /// Octets per frame.
    pub fn octets(self) -> usize {
        match self {
            EcmFrameSize::Octets64 => 64,
            EcmFrameSize::Octets256 => 256,
        }
    }
}

/// What to accept in an identity-like frame from the far end.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Accept {
    /// Anything, or nothing (the default).
    #[default]
    Any,
    /// The frame must not be sent at all.
    Reject,
    /// The frame must be sent with one of these values.
    OneOf(Vec<String>),
}

/// Timer values in milliseconds (defaults from T.30).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timers {
    /// T0: the caller waits this long for any answer (60 s).
    pub t0: u64,
    /// T1: waiting to identify the far end (35 s).
    pub t1: u64,
    /// T2: waiting for a command or page (6 s).
    pub t2: u64,
    /// T4: waiting for a response before repeating a command (3 s).
    pub t4: u64,
    /// T3: how long a station alerts its operator after a procedure interrupt (T.30:
    /// 10 ± 5 s).
    pub t3: u64,
    /// T5: ECM receiver-not-ready limit (60 s).
    pub t5: u64,
    /// How long the receiver waits for TCF after DCS before answering FTT.
    pub tcf_wait: u64,
    /// The longest V.21 carrier accepted before HDLC_CARRIER.
    pub max_control_carrier: u64,
    /// Silence between the end of one signal and the next transmission (75 ms).
    pub gap: u64,
}

impl Default for Timers {
    fn default() -> Self {
        Timers {
            t0: 60_000,
            t1: 35_000,
            t2: 6_000,
            t3: 10_000,
            t4: 3_000,
            t5: 60_000,
            tcf_wait: 2_000,
            max_control_carrier: 10_000,
            gap: 75,
        }
    }
}

/// The local operator, as far as procedure interrupts (PRI-Q, PIP/PIN) go.
///
/// A transmitter whose operator asks for an interrupt after page N sends PRI-EOM/PRI-MPS/
/// PRI-EOP in place of EOM/MPS/EOP for that page; a receiver whose operator asks answers that
/// page's command with PIP (page good) or PIN (page bad) instead of MCF/RTP or RTN. A receiver
/// given PRI-Q answers PIP/PIN at once when its operator is there (`answers_after_ms` set) and
/// `accept`s, otherwise it answers as to a plain command and the call goes on.
///
/// Once PIP/PIN has been sent, the receiver waits for the voice contact. The transmitter that
/// received PIP/PIN alerts its operator for T3: if the operator comes in time and accepts,
/// the fax session ends and the line goes to the operator (both sides: OK); if the operator
/// comes and declines, the transmitter sends DCN (OPER_INT_FAIL on both sides); if nobody
/// comes within T3, it sends DCN with T3_EXPIRED (the receiver: OPER_INT_FAIL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Operator {
    /// Ask for a procedure interrupt after this page (1-based, over the whole call; a page
    /// sent again after RTN keeps its number).
    pub interrupt_after_page: Option<u32>,
    /// The operator comes to the terminal this many ms after being alerted; `None`: never.
    pub answers_after_ms: Option<u64>,
    /// Whether the operator agrees to talk (takes the far end's interrupt or the voice
    /// contact after PIP/PIN).
    pub accept: bool,
}

/// What a caller that sent documents and then polls does after the MCF to its last EOM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Turnaround {
    /// Wait for the far end's DIS (it comes after T2), then send DTC (TSB-85 ORGP09).
    #[default]
    AwaitDis,
    /// Send DTC straight after the MCF (TSB-85 ORGP10).
    Immediate,
}

/// What happens to a frame a fault rule matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameFault {
    /// Not sent at all.
    Drop,
    /// Sent with a bad FCS.
    CorruptFcs,
    /// These raw octets (address, control, FCF, FIF) are sent instead, with a good FCS.
    Replace(Vec<u8>),
    /// These raw octets are sent before the frame, with a good FCS.
    InsertBefore(Vec<u8>),
    /// The frame's burst is sent this many ms late.
    Delay(u64),
    /// Only flags (this many) are sent where the frame would be.
    FlagsOnly(u32),
    /// The carrier stays on (flags) this many ms after the frame.
    HoldCarrier(u64),
    /// After sending this frame the engine goes silent (no more output, no timeouts).
    SilenceAfter,
    /// After sending this frame the engine hangs up.
    HangUpAfter,
}

/// A fault on the `occurrence`-th (1-based; 0 = every) frame of type `fcf` this engine sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameRule {
    /// The frame type.
    pub fcf: Fcf,
    /// Which one (1 = first); 0 matches every one.
    pub occurrence: u32,
    /// What happens to it.
    pub fault: FrameFault,
}

/// A bad TCF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcfFault {
    /// The whole TCF is this octet instead of zeros (0x55: TSB-85 MRGN07).
    Pattern(u8),
    /// No TCF at all after DCS.
    Missing,
    /// TCF sent at the modem's lowest rate instead of the one in DCS.
    WrongRate,
    /// Only this many ms of zeros (too short to be accepted).
    Short(u64),
}

/// Deliberate misbehaviour, so every error path can be provoked deterministically.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Faults {
    /// Faults on frames this engine sends.
    pub frames: Vec<FrameRule>,
    /// Faults on the first TCFs sent (index 0 = first TCF).
    pub tcf: Vec<TcfFault>,
    /// Non-ECM: rows corrupted on the first transmission of a page: (page 1-based, rows 0-based).
    pub corrupt_rows: Vec<(u32, Vec<u32>)>,
    /// Non-ECM: the first transmission of a page stops after this percentage of its data
    /// (the carrier drops mid-page): (page 1-based, percent).
    pub cut_page: Vec<(u32, u32)>,
    /// ECM: frames sent with a bad FCS: (page 1-based, frame numbers in the first block,
    /// number of transmissions affected).
    pub corrupt_ecm_frames: Vec<(u32, Vec<u8>, u32)>,
    /// Receiver: answer with this frame instead of the right response, N times each.
    /// FTT (to TCF), RTN/RTP (to a non-ECM page), PPR/RNR (to PPS), CRP (to any command).
    pub force_response: Vec<(Fcf, u32)>,
    /// Go silent right after receiving the n-th frame of this type.
    pub silence_after_rx: Option<(Fcf, u32)>,
    /// Hang up right after receiving the n-th frame of this type.
    pub hang_up_after_rx: Option<(Fcf, u32)>,
    /// Never hang up at the end (the line stays open; the far end must time out).
    pub no_hang_up: bool,
}

/// How the engine behaves on a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Caller or answerer.
    pub role: Role,
    /// Willing to receive documents (DIS bit 10).
    pub receive: bool,
    /// Caller: ask the far end to send (polling with DTC). A caller that also has documents
    /// sends them first, ends the last one with EOM instead of EOP and then polls.
    pub poll: bool,
    /// How a caller that sent documents turns the call around to poll.
    pub turnaround: Turnaround,
    /// May be polled when holding documents (DIS bit 9).
    pub allow_polled: bool,
    /// Fast modems supported.
    pub modems: Vec<Modem>,
    /// Highest rate to use (bit/s).
    pub max_rate: u32,
    /// Error correction mode.
    pub ecm: bool,
    /// ECM frame size this side prefers when sending.
    pub ecm_frame_size: EcmFrameSize,
    /// Codings supported (MH always).
    pub codings: Vec<Coding>,
    /// Resolutions supported for receiving (standard always).
    pub resolutions: Vec<Resolution>,
    /// Widest page accepted.
    pub width: PageWidth,
    /// Longest page accepted.
    pub length: PageLength,
    /// Minimum scan-line time asked for as a receiver (ms: 0, 5, 10, 20, 40).
    pub min_scan_ms: u8,
    /// Send a page at a lower resolution when the far end lacks the page's own.
    pub reduce_resolution: bool,
    /// Local identity (CSI/TSI/CIG).
    pub ident: String,
    /// NSF/NSS/NSC information field (T.35 country code, vendor, data), if any.
    pub nsf: Option<Vec<u8>>,
    /// Identity-like frames to send: SUB, SID, PWD, SEP, PSA, TSA, IRA, CIA, ISP, CSA.
    pub send: Vec<(Fcf, String)>,
    /// What to accept from the far end in TSI/CIG/CSI, SUB, SID, PWD, SEP, PSA, TSA, IRA,
    /// CIA, ISP and CSA. Frames not listed are accepted.
    pub accept: Vec<(Fcf, Accept)>,
    /// Page header text (for the document layer; carried into the outcome).
    pub header_info: String,
    /// Timer values.
    pub timers: Timers,
    /// How often a command is sent before giving up (3).
    pub retries: u32,
    /// How often a page answered with RTN is sent again before giving up (3).
    pub page_retries: u32,
    /// ECM: PPRs for one block before CTC or EOR (4).
    pub ppr_limit: u32,
    /// The operator, for procedure interrupts (none asked for by default).
    pub operator: Operator,
    /// Report UNEXPECTED at the end of an otherwise successful call when a non-final frame
    /// of unknown type (good FCS) arrived, as TSB-85 MRGX10/MTGX18 expect. Off by default:
    /// such a frame is ignored and the pages were delivered.
    pub report_unknown_frames: bool,
    /// Answerer behaviour when DIS gets no answer.
    pub dis_repeat: DisRepeat,
    /// Caller sends CNG.
    pub send_cng: bool,
    /// Answerer's CED length in ms (0 = none).
    pub ced_ms: u64,
    /// Faults to inject.
    pub faults: Faults,
    /// Keep the image data of ECM frames (FCD) in the trace. Off, an FCD frame's trace entry
    /// holds its header and frame number only (and its full length), so that a long call's
    /// trace does not grow with its pages.
    pub trace_ecm_data: bool,
}

impl Config {
    /// A capable default for `role`: all modems to 14400, ECM with 256-octet frames, MH/MR/MMR,
    /// every resolution, A4 width, unlimited length, 0 ms scan time, receives.
    pub fn new(role: Role) -> Self {
        Config {
            role,
            receive: true,
            poll: false,
            turnaround: Turnaround::AwaitDis,
            allow_polled: true,
            modems: vec![Modem::V27ter, Modem::V29, Modem::V17],
            max_rate: 14400,
            ecm: true,
            ecm_frame_size: EcmFrameSize::Octets256,
            codings: vec![Coding::Mh, Coding::Mr, Coding::Mmr],
            resolutions: vec![
                Resolution::Standard,
                Resolution::Fine,
                Resolution::Superfine,
            ],
            width: PageWidth::A4,
            length: PageLength::Unlimited,
            min_scan_ms: 0,
            reduce_resolution: true,
            ident: String::new(),
            nsf: None,
            send: Vec::new(),
            accept: Vec::new(),
            header_info: String::new(),
            timers: Timers::default(),
            retries: 3,
            page_retries: 3,
            ppr_limit: 4,
            operator: Operator::default(),
            report_unknown_frames: false,
            dis_repeat: DisRepeat::UntilT1,
            send_cng: true,
            ced_ms: 3000,
            faults: Faults::default(),
            trace_ecm_data: false,
        }
    }
}
