//! The T.30 protocol engine, sans-IO.
//!
//! Feed it what happened (`handle_*`, each with the time), then drain [`Engine::poll_action`]
//! until it returns `None`, and call [`Engine::handle_timeout`] when [`Engine::poll_timeout`]
//! says. Transmissions come as bursts: `StartTx … StopTx` (or one `SendTone`); once the
//! transport has sent a burst it calls [`Engine::handle_tx_complete`]. Every protocol result,
//! failure included, ends in an [`Outcome`] with a [`Completion`] code; `Err` is only for a
//! configuration that cannot work.

pub mod codec;
pub mod config;
#[doc(hidden)]
pub mod fuzz;
pub mod page;
mod timers;
pub mod types;

use std::collections::{HashMap, VecDeque};

use thiserror::Error;

use crate::completion::Completion;
use crate::frame::dis::modem_name::Modem;
use crate::frame::{
    DisBits, Fcf, Frame, FrameKind, MinScanTime, ModemSet, PageLength, PageWidth, decode_ident,
    encode_ident,
};
use crate::time::SampleTime;

pub use config::{
    Accept, Config, DisRepeat, EcmFrameSize, Faults, FrameFault, FrameRule, Operator, Role,
    TcfFault, Timers, Turnaround,
};
pub use page::{
    Coding, DocumentSource, EncodedPage, PageInfo, PageParams, PageQuality, PageSink, Resolution,
};
use timers::{Timer, TimerTable};
pub use types::{
    Action, Channel, Direction, Outcome, RxMode, Status, Tone, TraceEntry, Training, TxMode,
};

/// The fallback order after FTT (and for RTN/RTP/CTC), fastest first.
pub const FALLBACK: &[(Modem, u32)] = &[
    (Modem::V17, 14400),
    (Modem::V17, 12000),
    (Modem::V17, 9600),
    (Modem::V29, 9600),
    (Modem::V17, 7200),
    (Modem::V29, 7200),
    (Modem::V27ter, 4800),
    (Modem::V27ter, 2400),
];

/// ECM frames per block at most.
const MAX_BLOCK_FRAMES: usize = 256;
/// TCF length.
const TCF_MS: u64 = 1500;
/// A flags-only burst of TSB-85's "43 flags".
const FLAGS_ONLY: u32 = 43;
/// Bad rows below this fraction: MCF.
const MCF_LIMIT: f64 = 0.05;
/// Bad rows below this fraction: RTP; at or above: RTN.
const RTP_LIMIT: f64 = 0.15;
/// The longest a non-ECM coded scan line may last (T.4: 5 s), in ms.
const MAX_LINE_MS: u64 = 5000;

/// A configuration the engine cannot run.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// A caller with nothing to send that does not poll has no reason to call.
    #[error("a caller needs documents to send or `poll` set")]
    NothingToDo,
    /// No fast modem configured.
    #[error("no fast modem configured")]
    NoModem,
    /// Polling needs a page sink to receive into.
    #[error("receiving or polling needs a page sink")]
    NoSink,
}

/// What the receiver waits for in a command phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ctx {
    /// After our DIS: DCS (or DTC when we hold documents).
    Initial,
    /// After our DTC (we poll): DCS.
    AfterDtc,
    /// After FTT, RTN or RTP: a new DCS.
    Retrain,
    /// After the response to EOM: DCS, or we send DIS again when T2 expires.
    AfterEom,
    /// After a non-ECM page: MPS, EOM or EOP.
    PostPage,
    /// After an ECM block: PPS, EOR or CTC.
    Ecm,
    /// After RNR: RR.
    Rnr,
}

/// What a transmitter's command waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resp {
    /// DCS + TCF: CFR/FTT.
    Dcs,
    /// Non-ECM MPS/EOM/EOP: MCF/RTP/RTN.
    PostPage,
    /// PPS or RR: MCF/PPR/RNR.
    Pps,
    /// CTC: CTR.
    Ctc,
    /// EOR: ERR.
    Eor,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum St {
    /// Not started.
    Idle,
    /// Transmitter (or poller) waiting for DIS/DTC.
    WaitDis,
    /// Receiver waiting for a command.
    Cmd(Ctx),
    /// Receiver waiting for TCF.
    WaitTcf,
    /// Receiver: TCF carrier on.
    RxTcf,
    /// Receiver waiting for image carrier (`after_mps`: a further page of a sequence).
    WaitPage { after_mps: bool },
    /// Receiver: non-ECM page carrier on.
    RxPage,
    /// Receiver: ECM block carrier on.
    RxEcm,
    /// Receiver after confirming EOP: waiting for DCN.
    WaitDcn,
    /// Transmitter waiting for a response.
    Resp(Resp),
    /// Transmitter after PIP/PIN: alerting its operator (T3).
    OperatorAlert,
    /// Receiver after sending PIP/PIN: waiting for the voice contact (the line handed over)
    /// or a DCN.
    Interrupted,
    /// Ended.
    Done,
}

/// What to do once a burst has gone out.
#[derive(Debug, Clone, PartialEq)]
enum After {
    Nothing,
    Arm(Timer, u64),
    Next(Box<Burst>, Box<After>),
    HangUp,
}

/// A transmission: actions from `StartTx` to `StopTx` (or a tone).
#[derive(Debug, Clone, PartialEq, Default)]
struct Burst {
    actions: Vec<Action>,
    delay_ms: u64,
    then_silent: bool,
    then_hang_up: bool,
}

/// The negotiated page parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Neg {
    modem: Modem,
    rate: u32,
    ecm: bool,
    frame_size: usize,
    coding: Coding,
    resolution: Resolution,
    width: PageWidth,
    length: PageLength,
    scan_ms: u8,
    min_row_bits: u32,
}

/// ECM transmit state of the current page.
#[derive(Debug, Clone, Default)]
struct EcmTx {
    frames: Vec<Vec<u8>>,
    block: usize,
    to_send: Vec<usize>,
    pprs: u32,
    ctcs: u32,
    sends: HashMap<usize, u32>,
    last_cmd: Vec<Frame>,
}

/// How long after our last control burst a copy of one of its frames counts as its echo
/// (a satellite round trip is about 0.6 s).
const ECHO_WINDOW_MS: u64 = 1500;
/// Longest a fast carrier we did not train on holds back our next burst, ms.
const FAST_HOLD_MS: u64 = 2500;
/// The FCF octet of FCD and RCP (fast-modem ECM data), never echo-checked.
const FCD_OCTET: u8 = 0x06;

/// The T.30 engine of one endpoint.
pub struct Engine {
    cfg: Config,
    docs: Vec<Box<dyn DocumentSource>>,
    sink: Option<Box<dyn PageSink>>,
    /// (document, page) in sending order.
    pages: Vec<(usize, usize)>,
    next_page: usize,
    actions: VecDeque<Action>,
    timers: TimerTable,
    st: St,
    tx_busy: bool,
    /// The control frames of our last burst, and until when one of them arriving is taken
    /// for their echo (a long route's hybrid returns what we send).
    echo_of: Vec<Vec<u8>>,
    echo_until: Option<SampleTime>,
    /// Whether a negotiation of ours (as the sending side) has happened on this call.
    negotiated_as_sender: bool,
    /// Since when the fast receiver has heard a carrier it may not have trained on.
    fast_energy_since: Option<SampleTime>,
    after_tx: After,
    pending: Option<(Burst, After)>,
    control_carrier: bool,
    fast_carrier: bool,
    paused: Vec<Timer>,
    listen: Option<RxMode>,
    x_bit: bool,
    heard: bool,
    remote_caps: Option<DisBits>,
    rx_pending: Vec<Frame>,
    remote_ident: String,
    neg: Option<Neg>,
    fallback: Vec<(Modem, u32)>,
    fb_idx: usize,
    tries: u32,
    dis_sent: u32,
    tx_counts: HashMap<Fcf, u32>,
    rx_counts: HashMap<Fcf, u32>,
    tcf_sent: usize,
    force_left: HashMap<Fcf, u32>,
    silent: bool,
    finished: bool,
    completion: Option<Completion>,
    // receiver state
    tcf_trained: bool,
    tcf_run: usize,
    tcf_best: usize,
    tcf_bytes: usize,
    page_bytes: usize,
    page_quality: Option<PageQuality>,
    last_response: Option<(Fcf, Vec<Frame>)>,
    last_rtn: bool,
    ecm_rx: Vec<Option<Vec<u8>>>,
    ecm_page: Vec<u8>,
    ecm_page_no: u8,
    ecm_block_no: u8,
    ecm_incomplete: bool,
    last_page_incomplete: bool,
    rx_page_started: bool,
    /// The last non-ECM page had a scan line over [`MAX_LINE_MS`].
    line_too_long: bool,
    /// A non-final frame of unknown type arrived.
    unknown_seen: bool,
    pending_pps: Vec<u8>,
    ecm_burst: Vec<(usize, Vec<u8>)>,
    ecm_cur: Option<(u8, u8)>,
    // transmitter state
    post_cmd: Fcf,
    page_attempts: u32,
    encoded: Option<(PageParams, EncodedPage)>,
    ecm_tx: EcmTx,
    tx_page_no: u8,
    tx_block_no: u8,
    long_train_next: bool,
    dcs_frames: Vec<Frame>,
    // outcome
    pages_sent: u32,
    pages_received: u32,
    bad_rows: u32,
    ecm_retries: u32,
    trainings: Vec<Training>,
    trace: Vec<TraceEntry>,
    end_time: SampleTime,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("role", &self.cfg.role)
            .field("state", &self.st)
            .field("finished", &self.finished)
            .finish()
    }
}

/// Octets in hex, space separated.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// Octets of an FCD frame that the trace keeps without `trace_ecm_data`: address, control,
/// FCF and frame number.
const FCD_TRACE_OCTETS: usize = 4;

/// The trace's hex of a frame: all of it, or only the header of an FCD frame when image
/// data is not traced (it would make the trace as large as the pages). Records of other
/// engines (spandsp's) use it too, so every record traces frames alike.
pub fn trace_hex(bytes: &[u8], name: &str, ecm_data: bool) -> String {
    if !ecm_data && name == "FCD" {
        hex(&bytes[..bytes.len().min(FCD_TRACE_OCTETS)])
    } else {
        hex(bytes)
    }
}

fn is_ident_frame(f: Fcf) -> bool {
    matches!(
        f,
        Fcf::TSI | Fcf::CSI | Fcf::CIG | Fcf::SUB | Fcf::SID | Fcf::PWD | Fcf::SEP | Fcf::PSA
    )
}

/// Encodes an identity-like frame's FIF: 20-octet idents, or an internet address as a type
/// octet (1: e-mail style) followed by the characters.
fn encode_field(f: Fcf, value: &str) -> Vec<u8> {
    if is_ident_frame(f) {
        encode_ident(value)
    } else {
        let mut v = vec![0x01];
        v.extend(value.bytes());
        v
    }
}

fn decode_field(f: Fcf, fif: &[u8]) -> String {
    if is_ident_frame(f) {
        decode_ident(fif)
    } else {
        String::from_utf8_lossy(fif.get(1..).unwrap_or_default()).into_owned()
    }
}

/// The plain post-page command a PRI-Q stands for.
fn base_cmd(f: Fcf) -> Fcf {
    match f {
        Fcf::PRI_MPS => Fcf::MPS,
        Fcf::PRI_EOM => Fcf::EOM,
        Fcf::PRI_EOP => Fcf::EOP,
        c => c,
    }
}

fn unacceptable_code(f: Fcf) -> Completion {
    match f {
        Fcf::SUB => Completion::SubUnacceptable,
        Fcf::SEP => Completion::SepUnacceptable,
        Fcf::PSA => Completion::PsaUnacceptable,
        Fcf::SID => Completion::SidUnacceptable,
        Fcf::PWD => Completion::PwdUnacceptable,
        Fcf::TSA => Completion::TsaUnacceptable,
        Fcf::IRA => Completion::IraUnacceptable,
        Fcf::CIA => Completion::CiaUnacceptable,
        Fcf::ISP => Completion::IspUnacceptable,
        Fcf::CSA => Completion::CsaUnacceptable,
        _ => Completion::IdentUnacceptable,
    }
}

fn modem_ok(set: ModemSet, m: Modem, rate: u32) -> bool {
    match m {
        // Fall-back mode (no V.27ter/V.29 bits) still means V.27ter at 2400.
        Modem::V27ter => set.v27ter || rate == 2400,
        Modem::V29 => set.v29,
        Modem::V17 => set.v17,
    }
}

fn res_rank(r: Resolution) -> u8 {
    match r {
        Resolution::Standard => 0,
        Resolution::Fine => 1,
        Resolution::Superfine => 2,
    }
}

fn width_rank(w: PageWidth) -> u8 {
    match w {
        PageWidth::A4 => 0,
        PageWidth::B4 => 1,
        PageWidth::A3 => 2,
    }
}

impl Engine {
    /// An engine for one call. `documents` are sent in order (EOM between them); received
    /// pages go to `sink`.
    pub fn new(
        cfg: Config,
        documents: Vec<Box<dyn DocumentSource>>,
        sink: Option<Box<dyn PageSink>>,
    ) -> Result<Engine, ConfigError> {
        if cfg.modems.is_empty() {
            return Err(ConfigError::NoModem);
        }
        let pages: Vec<(usize, usize)> = documents
            .iter()
            .enumerate()
            .flat_map(|(d, doc)| (0..doc.pages()).map(move |p| (d, p)))
            .collect();
        if cfg.role == Role::Caller && pages.is_empty() && !cfg.poll {
            return Err(ConfigError::NothingToDo);
        }
        if (cfg.poll || cfg.receive) && sink.is_none() {
            return Err(ConfigError::NoSink);
        }
        let force_left = cfg.faults.force_response.iter().copied().collect();
        Ok(Engine {
            docs: documents,
            sink,
            pages,
            next_page: 0,
            actions: VecDeque::new(),
            timers: TimerTable::default(),
            st: St::Idle,
            tx_busy: false,
            echo_of: Vec::new(),
            echo_until: None,
            negotiated_as_sender: false,
            fast_energy_since: None,
            after_tx: After::Nothing,
            pending: None,
            control_carrier: false,
            fast_carrier: false,
            paused: Vec::new(),
            listen: None,
            x_bit: false,
            heard: false,
            remote_caps: None,
            rx_pending: Vec::new(),
            remote_ident: String::new(),
            neg: None,
            fallback: Vec::new(),
            fb_idx: 0,
            tries: 0,
            dis_sent: 0,
            tx_counts: HashMap::new(),
            rx_counts: HashMap::new(),
            tcf_sent: 0,
            force_left,
            silent: false,
            finished: false,
            completion: None,
            tcf_trained: false,
            tcf_run: 0,
            tcf_best: 0,
            tcf_bytes: 0,
            page_bytes: 0,
            page_quality: None,
            last_response: None,
            last_rtn: false,
            ecm_rx: Vec::new(),
            ecm_page: Vec::new(),
            ecm_page_no: 0,
            ecm_block_no: 0,
            ecm_incomplete: false,
            last_page_incomplete: false,
            rx_page_started: false,
            line_too_long: false,
            unknown_seen: false,
            pending_pps: Vec::new(),
            ecm_burst: Vec::new(),
            ecm_cur: None,
            post_cmd: Fcf::EOP,
            page_attempts: 0,
            encoded: None,
            ecm_tx: EcmTx::default(),
            tx_page_no: 0,
            tx_block_no: 0,
            long_train_next: false,
            dcs_frames: Vec::new(),
            pages_sent: 0,
            pages_received: 0,
            bad_rows: 0,
            ecm_retries: 0,
            trainings: Vec::new(),
            trace: Vec::new(),
            end_time: SampleTime::ZERO,
            cfg,
        })
    }

    // ------------------------------------------------------------------ public interface

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Starts the call: the caller has dialled (CNG, T0), the answerer has answered (CED, DIS).
    pub fn handle_start(&mut self, now: SampleTime) {
        if self.st != St::Idle {
            return;
        }
        match self.cfg.role {
            Role::Caller => {
                self.st = St::WaitDis;
                self.arm(Timer::T0, now, self.cfg.timers.t0);
                if self.cfg.send_cng {
                    self.send_cng(now);
                }
            }
            Role::Answerer => {
                self.arm(Timer::T1, now, self.cfg.timers.t1);
                self.st = St::Cmd(Ctx::Initial);
                let dis = self.capabilities_burst(Fcf::DIS);
                if self.cfg.ced_ms > 0 {
                    let ced = Burst {
                        actions: vec![Action::SendTone {
                            tone: Tone::Ced,
                            ms: self.cfg.ced_ms,
                        }],
                        ..Default::default()
                    };
                    let after = After::Next(
                        Box::new(dis),
                        Box::new(After::Arm(Timer::T4, self.cfg.timers.t4)),
                    );
                    self.transmit(now, ced, after);
                } else {
                    self.transmit(now, dis, After::Arm(Timer::T4, self.cfg.timers.t4));
                }
            }
        }
        self.sync_listen();
    }

    /// The far end answered (caller). Informational only: T0 keeps running until the first
    /// valid frame, since an answer is not yet a fax answer.
    pub fn handle_call_answered(&mut self, _now: SampleTime) {}

    /// The line was cleared by the far end or the network.
    pub fn handle_hangup(&mut self, now: SampleTime) {
        if self.finished {
            return;
        }
        let code = match self.st {
            St::WaitDcn if !self.last_page_incomplete => Completion::Ok,
            // The far end's operator took the line after our PIP/PIN: voice contact.
            St::Interrupted => Completion::Ok,
            _ => Completion::Calldropped,
        };
        self.set_completion(code);
        self.end(now, false);
    }

    /// A tone started (`on`) or stopped.
    pub fn handle_tone(&mut self, tone: Tone, on: bool, now: SampleTime) {
        if self.finished || self.silent {
            return;
        }
        self.heard = true;
        if tone == Tone::Ced && self.cfg.role == Role::Caller {
            if on {
                self.arm(Timer::Ced, now, 5000);
            } else {
                self.clear_timer(Timer::Ced);
            }
        }
    }

    /// A carrier came up or went down.
    pub fn handle_carrier(&mut self, channel: Channel, up: bool, now: SampleTime) {
        if self.finished || self.silent {
            return;
        }
        self.heard = true;
        match channel {
            Channel::Control => {
                self.control_carrier = up;
                if up {
                    self.arm(Timer::Carrier, now, self.cfg.timers.max_control_carrier);
                    // A response timer does not run while the far end is still talking.
                    for t in [Timer::T2, Timer::T4] {
                        if self.timers.get(t).is_some() {
                            self.timers.clear(t);
                            self.paused.push(t);
                        }
                    }
                } else {
                    self.clear_timer(Timer::Carrier);
                    let paused = std::mem::take(&mut self.paused);
                    for t in paused {
                        let ms = if t == Timer::T2 {
                            self.cfg.timers.t2
                        } else {
                            self.cfg.timers.t4
                        };
                        self.arm(t, now, ms);
                    }
                    if self.pending.is_some() && self.timers.get(Timer::Gap).is_none() {
                        self.arm(Timer::Gap, now, self.cfg.timers.gap);
                    }
                }
            }
            Channel::Fast => {
                self.fast_carrier = up;
                if up {
                    self.fast_up(now);
                } else {
                    self.fast_down(now);
                    if self.pending.is_some() && self.timers.get(Timer::Gap).is_none() {
                        self.arm(Timer::Gap, now, self.cfg.timers.gap);
                    }
                }
            }
        }
        self.sync_listen();
    }

    /// The fast modem's training result.
    pub fn handle_training(&mut self, ok: bool, now: SampleTime) {
        if self.finished || self.silent {
            return;
        }
        if matches!(self.st, St::RxTcf | St::WaitTcf) {
            self.tcf_trained = ok;
        }
        let _ = now;
    }

    /// Octets received on the fast modem during TCF.
    pub fn handle_tcf_data(&mut self, bytes: &[u8], now: SampleTime) {
        self.handle_data(bytes, now);
    }

    /// Non-ECM image octets received on the fast modem.
    pub fn handle_image_data(&mut self, bytes: &[u8], now: SampleTime) {
        self.handle_data(bytes, now);
    }

    /// Octets received on the fast modem (TCF or image data, as the state says).
    pub fn handle_data(&mut self, bytes: &[u8], _now: SampleTime) {
        if self.finished || self.silent {
            return;
        }
        match self.st {
            St::RxTcf | St::WaitTcf => {
                for &b in bytes {
                    self.tcf_bytes += 1;
                    if b == 0 {
                        self.tcf_run += 1;
                        self.tcf_best = self.tcf_best.max(self.tcf_run);
                    } else {
                        self.tcf_run = 0;
                    }
                }
            }
            St::RxPage => {
                self.page_bytes += bytes.len();
                if let Some(s) = self.sink.as_mut() {
                    s.data(bytes);
                }
            }
            _ => {}
        }
    }

    /// An HDLC frame (without FCS) and whether its FCS was good.
    pub fn handle_frame(&mut self, bytes: &[u8], fcs_ok: bool, now: SampleTime) {
        if self.finished {
            return;
        }
        let parsed = Frame::parse(bytes).ok();
        let name = match &parsed {
            Some(f) => f.name(),
            None => "garbage".to_string(),
        };
        self.trace.push(TraceEntry {
            time: now,
            dir: Direction::Rx,
            hex: trace_hex(bytes, &name, self.cfg.trace_ecm_data),
            octets: bytes.len(),
            name,
            fcs_ok,
        });
        if self.silent || !fcs_ok {
            // A frame with a bad FCS is ignored: the sender will repeat it.
            return;
        }
        self.heard = true;
        let Some(frame) = parsed else { return };
        let kind = frame.kind().map(|k| k.0);
        if let Some(k) = kind {
            let n = self.rx_counts.entry(k).or_insert(0);
            *n += 1;
            let n = *n;
            if self.cfg.faults.silence_after_rx == Some((k, n)) {
                self.go_silent();
                return;
            }
            if self.cfg.faults.hang_up_after_rx == Some((k, n)) {
                self.set_completion(Completion::Calldropped);
                self.end(now, false);
                return;
            }
        }
        if self.tx_busy {
            // Half duplex: what arrives while we talk is an echo or a collision.
            return;
        }
        if self.echo_until.is_some_and(|t| now <= t) && self.echo_of.iter().any(|f| f == bytes) {
            // Our own frame come back over a long route (TSB-85 Tx-EOP-echo, Tx-PPS-echo):
            // the far end never sends exactly what we sent, so it is not an answer.
            return;
        }
        match kind {
            Some(Fcf::FCD) | Some(Fcf::RCP) => self.ecm_frame(kind.unwrap_or(Fcf::FCD), &frame),
            _ if !frame.last => {
                if kind.is_some() {
                    self.rx_pending.push(frame);
                } else {
                    self.unknown_seen = true;
                }
            }
            _ => {
                self.clear_timer(Timer::T0);
                self.on_final(frame, kind, now);
                self.rx_pending.clear();
            }
        }
        self.sync_listen();
    }

    /// The fast-modem receiver hears (or stops hearing) a carrier, trained on or not. Our
    /// answer waits while it lasts (up to a bound), as it waits for the carriers of
    /// `handle_carrier`.
    pub fn handle_fast_energy(&mut self, present: bool, now: SampleTime) {
        if self.finished || self.silent {
            return;
        }
        if present {
            self.fast_energy_since.get_or_insert(now);
        } else {
            self.fast_energy_since = None;
            if self.pending.is_some() && !self.control_carrier && !self.fast_carrier {
                self.arm(Timer::Gap, now, self.cfg.timers.gap);
            }
        }
    }

    /// The transport finished the last burst (after `StopTx` or `SendTone`).
    pub fn handle_tx_complete(&mut self, now: SampleTime) {
        if self.finished || !self.tx_busy {
            return;
        }
        self.tx_busy = false;
        self.echo_until = Some(now + SampleTime::from_ms(ECHO_WINDOW_MS));
        let after = std::mem::replace(&mut self.after_tx, After::Nothing);
        self.run_after(now, after);
        self.sync_listen();
    }

    /// Time passed; fires every timer due at `now`. Early or repeated calls do nothing.
    pub fn handle_timeout(&mut self, now: SampleTime) {
        if self.finished || self.silent {
            return;
        }
        while let Some(t) = self.timers.due(now) {
            self.timers.clear(t);
            self.fire(t, now);
            if self.finished {
                break;
            }
        }
        self.sync_listen();
    }

    /// The next action for the transport, in order; `None` when there is nothing to do.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// When [`Engine::handle_timeout`] next has work.
    pub fn poll_timeout(&self) -> Option<SampleTime> {
        if self.finished || self.silent {
            None
        } else {
            self.timers.min()
        }
    }

    /// Whether a fault made the engine go silent (it then only waits for the line to clear).
    pub fn is_silent(&self) -> bool {
        self.silent
    }

    /// Whether the engine has ended (its outcome is ready).
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// The frame trace so far.
    pub fn trace(&self) -> &[TraceEntry] {
        &self.trace
    }

    /// The final outcome, once finished.
    pub fn outcome(&self) -> Option<Outcome> {
        if !self.finished {
            return None;
        }
        let completion = self.completion.unwrap_or(Completion::Calldropped);
        let neg = self.neg;
        Some(Outcome {
            status: if completion.is_ok() {
                Status::Success
            } else {
                Status::Failed
            },
            completion,
            pages_sent: self.pages_sent,
            pages_received: self.pages_received,
            rate: neg.map(|n| n.rate),
            modem: neg.map(|n| n.modem),
            ecm: neg.is_some_and(|n| n.ecm),
            ecm_frame_size: neg.filter(|n| n.ecm).map(|n| n.frame_size),
            coding: neg.map(|n| n.coding),
            resolution: neg.map(|n| n.resolution),
            width: neg.map(|n| n.width),
            local_ident: self.cfg.ident.clone(),
            remote_ident: self.remote_ident.clone(),
            header_info: self.cfg.header_info.clone(),
            bad_rows: self.bad_rows,
            ecm_retries: self.ecm_retries,
            trainings: self.trainings.clone(),
            frames: self.trace.clone(),
            end_time: self.end_time,
        })
    }

    // ------------------------------------------------------------------ plumbing

    fn arm(&mut self, t: Timer, now: SampleTime, ms: u64) {
        self.paused.retain(|&p| p != t);
        self.timers.set(t, now + SampleTime::from_ms(ms));
    }

    fn clear_timer(&mut self, t: Timer) {
        self.paused.retain(|&p| p != t);
        self.timers.clear(t);
    }

    fn clear_all_timers(&mut self) {
        self.paused.clear();
        self.timers.clear_all();
    }

    fn set_completion(&mut self, c: Completion) {
        let c = if c == Completion::Ok && self.unknown_seen && self.cfg.report_unknown_frames {
            Completion::Unexpected
        } else {
            c
        };
        if self.completion.is_none() {
            self.completion = Some(c);
        }
    }

    fn go_silent(&mut self) {
        self.silent = true;
        self.clear_all_timers();
        self.pending = None;
    }

    /// Ends the call: optionally with DCN first, then hang up.
    fn end(&mut self, now: SampleTime, dcn: bool) {
        self.clear_all_timers();
        self.pending = None;
        self.st = St::Done;
        if dcn && !self.silent {
            let b = self.frames_burst(vec![self.frame(Fcf::DCN, vec![], true)]);
            if self.tx_busy {
                // Finish what is on the line first, then DCN.
                self.after_tx = After::Next(Box::new(b), Box::new(After::HangUp));
            } else {
                self.transmit(now, b, After::HangUp);
            }
        } else {
            self.hang_up(now);
        }
    }

    fn fail(&mut self, now: SampleTime, code: Completion, dcn: bool) {
        self.set_completion(code);
        self.end(now, dcn);
    }

    fn hang_up(&mut self, now: SampleTime) {
        if self.finished {
            return;
        }
        self.clear_all_timers();
        if !self.cfg.faults.no_hang_up {
            self.actions.push_back(Action::HangUp);
        }
        self.finished = true;
        self.st = St::Done;
        self.end_time = now;
    }

    fn frame(&self, fcf: Fcf, fif: Vec<u8>, last: bool) -> Frame {
        Frame::new(fcf, self.x_bit, fif, last)
    }

    /// Builds a V.21 burst of frames, applying the frame faults.
    fn frames_burst(&mut self, frames: Vec<Frame>) -> Burst {
        let mut b = Burst {
            actions: vec![Action::StartTx(TxMode::V21)],
            ..Default::default()
        };
        self.push_frames(&mut b, frames);
        b.actions.push(Action::StopTx);
        b
    }

    fn push_frames(&mut self, b: &mut Burst, frames: Vec<Frame>) {
        for f in frames {
            let Some((fcf, _)) = f.kind() else {
                b.actions.push(Action::SendFrame {
                    bytes: f.to_bytes(),
                    fcs_ok: true,
                });
                continue;
            };
            let n = self.tx_counts.entry(fcf).or_insert(0);
            *n += 1;
            let n = *n;
            let faults: Vec<FrameFault> = self
                .cfg
                .faults
                .frames
                .iter()
                .filter(|r| r.fcf == fcf && (r.occurrence == 0 || r.occurrence == n))
                .map(|r| r.fault.clone())
                .collect();
            let mut bytes = f.to_bytes();
            let mut fcs_ok = true;
            let mut send = true;
            let mut hold = 0;
            for fault in faults {
                match fault {
                    FrameFault::Drop => send = false,
                    FrameFault::CorruptFcs => fcs_ok = false,
                    FrameFault::Replace(raw) => bytes = raw,
                    FrameFault::InsertBefore(raw) => b.actions.push(Action::SendFrame {
                        bytes: raw,
                        fcs_ok: true,
                    }),
                    FrameFault::Delay(ms) => b.delay_ms += ms,
                    FrameFault::FlagsOnly(count) => {
                        send = false;
                        b.actions.push(Action::SendFlags {
                            count: if count == 0 { FLAGS_ONLY } else { count },
                        });
                    }
                    FrameFault::HoldCarrier(ms) => hold = ms,
                    FrameFault::SilenceAfter => b.then_silent = true,
                    FrameFault::HangUpAfter => b.then_hang_up = true,
                }
            }
            if send {
                b.actions.push(Action::SendFrame { bytes, fcs_ok });
            }
            if hold > 0 {
                // Flags at 300 bit/s: 37.5 per second.
                b.actions.push(Action::SendFlags {
                    count: (hold * 300 / 8 / 1000) as u32,
                });
            }
        }
    }

    /// Queues a burst after the inter-signal gap (and after the far carrier drops).
    fn transmit(&mut self, now: SampleTime, burst: Burst, after: After) {
        if self.silent {
            return;
        }
        let delay = self.cfg.timers.gap + burst.delay_ms;
        self.pending = Some((burst, after));
        self.arm(Timer::Gap, now, delay);
    }

    fn start_pending(&mut self, now: SampleTime) {
        if self.control_carrier || self.fast_carrier {
            // Wait for the far end to finish; the carrier-down handler re-arms the gap.
            return;
        }
        if let Some(t) = self.fast_energy_since {
            // A fast signal we could not train on (a TCF at another rate, TSB-85 MRGN08) is
            // still the far end talking. A TCF is never much longer than 1.5 s, so after
            // FAST_HOLD_MS we go ahead (noise must not hold us for ever).
            let until = t + SampleTime::from_ms(FAST_HOLD_MS);
            if now < until && self.pending.is_some() {
                self.arm(Timer::Gap, now, (until.0 - now.0).div_ceil(8));
                return;
            }
        }
        let Some((burst, after)) = self.pending.take() else {
            return;
        };
        let control: Vec<Vec<u8>> = burst
            .actions
            .iter()
            .filter_map(|a| match a {
                Action::SendFrame {
                    bytes,
                    fcs_ok: true,
                } if bytes.get(2) != Some(&FCD_OCTET) => Some(bytes.clone()),
                _ => None,
            })
            .collect();
        if !control.is_empty() {
            self.echo_of = control;
            self.echo_until = None;
        }
        for a in &burst.actions {
            if let Action::SendFrame { bytes, fcs_ok } = a {
                let name = Frame::parse(bytes)
                    .map(|f| f.name())
                    .unwrap_or_else(|_| "garbage".into());
                self.trace.push(TraceEntry {
                    time: now,
                    dir: Direction::Tx,
                    hex: trace_hex(bytes, &name, self.cfg.trace_ecm_data),
                    octets: bytes.len(),
                    name,
                    fcs_ok: *fcs_ok,
                });
            }
        }
        self.actions.extend(burst.actions);
        self.tx_busy = true;
        self.after_tx = if burst.then_hang_up {
            self.set_completion(Completion::Calldropped);
            After::HangUp
        } else {
            after
        };
        if burst.then_silent {
            self.silent = true;
            self.clear_all_timers();
        }
    }

    fn run_after(&mut self, now: SampleTime, after: After) {
        match after {
            After::Nothing => {}
            After::Arm(t, ms) => self.arm(t, now, ms),
            After::Next(b, a) => self.transmit(now, *b, *a),
            After::HangUp => self.hang_up(now),
        }
    }

    fn sync_listen(&mut self) {
        if self.finished || self.tx_busy || self.silent {
            return;
        }
        let want = match (self.st, self.neg) {
            (St::WaitTcf | St::RxTcf | St::WaitPage { .. } | St::RxPage | St::RxEcm, Some(n)) => {
                RxMode::Fast {
                    modem: n.modem,
                    rate: n.rate,
                }
            }
            _ => RxMode::V21,
        };
        if self.listen != Some(want) {
            self.listen = Some(want);
            self.actions.push_back(Action::Listen(want));
        }
    }

    fn take_force(&mut self, f: Fcf) -> bool {
        match self.force_left.get_mut(&f) {
            Some(n) if *n > 0 => {
                *n -= 1;
                true
            }
            _ => false,
        }
    }

    fn send_cng(&mut self, now: SampleTime) {
        let b = Burst {
            actions: vec![Action::SendTone {
                tone: Tone::Cng,
                ms: 500,
            }],
            ..Default::default()
        };
        self.transmit(now, b, After::Arm(Timer::Cng, 3000));
    }

    // ------------------------------------------------------------------ timers

    fn fire(&mut self, t: Timer, now: SampleTime) {
        match t {
            Timer::Gap => self.start_pending(now),
            Timer::Cng => {
                if self.st == St::WaitDis && !self.heard && self.cfg.send_cng {
                    self.send_cng(now);
                }
            }
            Timer::Ced => self.fail(now, Completion::Cedtone, false),
            Timer::Carrier => self.fail(now, Completion::HdlcCarrier, false),
            Timer::T0 => self.fail(now, Completion::T0Expired, true),
            Timer::T1 => match self.st {
                St::WaitDis | St::Cmd(Ctx::Initial) | St::Cmd(Ctx::AfterDtc) => {
                    self.fail(now, Completion::T1Expired, true)
                }
                _ => {}
            },
            Timer::T5 => {
                if self.st == St::Resp(Resp::Pps) {
                    self.fail(now, Completion::TxT5exp, true);
                }
            }
            Timer::Tcf => {
                if self.st == St::WaitTcf {
                    self.tcf_verdict(now);
                }
            }
            Timer::T4 => self.t4_expired(now),
            Timer::T2 => self.t2_expired(now),
            Timer::T3 => match self.st {
                St::OperatorAlert => self.fail(now, Completion::T3Expired, true),
                St::Interrupted => self.fail(now, Completion::OperIntFail, true),
                _ => {}
            },
            Timer::Operator => {
                if self.st == St::OperatorAlert {
                    if self.cfg.operator.accept {
                        // Voice contact: the fax session ends and the line goes to the
                        // operator.
                        self.set_completion(Completion::Ok);
                        self.end(now, false);
                    } else {
                        self.fail(now, Completion::OperIntFail, true);
                    }
                }
            }
        }
    }

    fn t4_expired(&mut self, now: SampleTime) {
        match self.st {
            St::Cmd(Ctx::Initial) => {
                self.dis_sent += 1;
                if self.cfg.dis_repeat == DisRepeat::ThenDcn && self.dis_sent >= self.cfg.retries {
                    self.fail(now, Completion::Retrydcn, true);
                } else {
                    let b = self.capabilities_burst(Fcf::DIS);
                    self.transmit(now, b, After::Arm(Timer::T4, self.cfg.timers.t4));
                }
            }
            St::Cmd(Ctx::AfterDtc) => {
                self.tries += 1;
                if self.tries >= self.cfg.retries {
                    self.fail(now, Completion::Retrydcn, true);
                } else {
                    self.send_dtc(now);
                }
            }
            St::Resp(r) => {
                self.tries += 1;
                if self.tries >= self.cfg.retries {
                    let code = match r {
                        Resp::Dcs => {
                            self.note_training(now, false);
                            Completion::TxPhbdead
                        }
                        _ => Completion::TxPhddead,
                    };
                    self.fail(now, code, true);
                } else {
                    self.resend_command(now, r);
                }
            }
            _ => {}
        }
    }

    fn t2_expired(&mut self, now: SampleTime) {
        let code = match self.st {
            St::Cmd(Ctx::AfterEom) => {
                self.restart_phase_b_as_receiver(now);
                return;
            }
            St::Cmd(Ctx::PostPage) => match self.page_quality {
                Some(q) if q.rows == 0 && self.page_bytes == 0 => Completion::RxNofax,
                Some(q) if q.rows == 0 => Completion::RxNoeol,
                Some(q) if !q.complete => Completion::RxNocarrier,
                _ => Completion::RxT2expd,
            },
            St::Cmd(Ctx::Ecm) => Completion::RxT2expd,
            St::Cmd(Ctx::Rnr) => Completion::RxT2exprr,
            St::Cmd(_) => Completion::RxT2exp,
            St::WaitPage { after_mps: true } => Completion::RxT2expmps,
            St::WaitPage { after_mps: false } => Completion::RxT2expfax,
            St::WaitDcn => Completion::RxT2expdcn,
            _ => return,
        };
        self.fail(now, code, true);
    }

    // ------------------------------------------------------------------ capabilities

    fn dis_bits(&self, fcf: Fcf) -> DisBits {
        let c = &self.cfg;
        let mut d = DisBits::new();
        let has_docs = self.next_page < self.pages.len();
        d.set_bit(9, has_docs && c.allow_polled && fcf == Fcf::DIS);
        d.set_bit(10, c.receive);
        let has = |m| c.modems.contains(&m);
        d.set_modems(ModemSet {
            v27ter: has(Modem::V27ter),
            v29: has(Modem::V29) && c.max_rate >= 7200,
            v17: has(Modem::V17) && c.max_rate >= 7200,
        });
        d.set_bit(15, c.resolutions.contains(&Resolution::Fine));
        d.set_bit(41, c.resolutions.contains(&Resolution::Superfine));
        d.set_bit(16, c.codings.contains(&Coding::Mr));
        d.set_bit(27, c.ecm);
        d.set_bit(31, c.ecm && c.codings.contains(&Coding::Mmr));
        d.set_width(c.width);
        d.set_length(c.length);
        d.set_min_scan_time(MinScanTime {
            ms: c.min_scan_ms,
            half_at_fine: false,
        });
        let accepts = |f: Fcf| {
            !matches!(
                c.accept.iter().find(|(g, _)| *g == f),
                Some((_, Accept::Reject))
            )
        };
        d.set_bit(49, accepts(Fcf::SUB));
        d.set_bit(50, accepts(Fcf::PWD));
        d.set_bit(47, fcf == Fcf::DIS && accepts(Fcf::SEP));
        d.set_bit(35, fcf == Fcf::DIS && accepts(Fcf::PSA));
        d
    }

    /// NSF/CSI/DIS (answerer) or NSC/CIG/PWD/…/DTC (poller).
    fn capabilities_burst(&mut self, fcf: Fcf) -> Burst {
        let mut frames = Vec::new();
        let (nsx, idf, extra): (Fcf, Fcf, &[Fcf]) = if fcf == Fcf::DIS {
            (Fcf::NSF, Fcf::CSI, &[Fcf::CSA])
        } else {
            (
                Fcf::NSC,
                Fcf::CIG,
                &[Fcf::PWD, Fcf::SEP, Fcf::PSA, Fcf::CIA, Fcf::ISP],
            )
        };
        if let Some(nsf) = self.cfg.nsf.clone() {
            frames.push(self.frame(nsx, nsf, false));
        }
        frames.push(self.frame(idf, encode_ident(&self.cfg.ident), false));
        for (f, v) in self.cfg.send.clone() {
            if extra.contains(&f) {
                frames.push(self.frame(f, encode_field(f, &v), false));
            }
        }
        let fif = self.dis_bits(fcf).to_fif();
        frames.push(self.frame(fcf, fif, true));
        self.frames_burst(frames)
    }

    /// Checks identity-like frames received with the last command against `accept`.
    fn check_accept(&self, kinds: &[Fcf]) -> Option<Completion> {
        for (f, rule) in &self.cfg.accept {
            if !kinds.contains(f) {
                continue;
            }
            let got = self
                .rx_pending
                .iter()
                .find(|fr| fr.kind().map(|k| k.0) == Some(*f))
                .map(|fr| decode_field(*f, &fr.fif));
            let ok = match (rule, &got) {
                (Accept::Any, _) => true,
                (Accept::Reject, g) => g.is_none(),
                (Accept::OneOf(list), Some(v)) => list.iter().any(|x| x == v),
                (Accept::OneOf(_), None) => false,
            };
            if !ok {
                return Some(unacceptable_code(*f));
            }
        }
        None
    }

    fn take_remote_ident(&mut self, kinds: &[Fcf]) {
        if let Some(fr) = self
            .rx_pending
            .iter()
            .find(|fr| fr.kind().is_some_and(|k| kinds.contains(&k.0)))
        {
            self.remote_ident = decode_ident(&fr.fif);
        }
    }

    // ------------------------------------------------------------------ frame dispatch

    fn on_final(&mut self, frame: Frame, kind: Option<Fcf>, now: SampleTime) {
        let receiver_cmd = matches!(
            kind,
            Some(
                Fcf::DCS
                    | Fcf::MPS
                    | Fcf::EOM
                    | Fcf::EOP
                    | Fcf::PRI_MPS
                    | Fcf::PRI_EOM
                    | Fcf::PRI_EOP
                    | Fcf::PPS
                    | Fcf::EOR
                    | Fcf::CTC
                    | Fcf::RR
            )
        );
        let receiving = matches!(
            self.st,
            St::Cmd(_) | St::WaitTcf | St::RxTcf | St::WaitPage { .. } | St::WaitDcn
        );
        if receiver_cmd && receiving && self.take_force(Fcf::CRP) {
            let b = self.frames_burst(vec![self.frame(Fcf::CRP, vec![], true)]);
            let after = self.rearm_after_response();
            self.transmit(now, b, after);
            return;
        }
        match self.st {
            St::Idle | St::Done => {}
            St::WaitDis => self.tx_wait_dis(frame, kind, now),
            St::Resp(r) => self.tx_response(r, frame, kind, now),
            St::Cmd(ctx) => self.rx_command(ctx, frame, kind, now),
            St::WaitTcf | St::RxTcf => match kind {
                Some(Fcf::DCS) => self.on_dcs(frame, now),
                Some(Fcf::DCN) => self.fail(now, Completion::RxDcnwhy, false),
                _ => {}
            },
            St::WaitPage { after_mps } => self.rx_in_page(after_mps, frame, kind, now),
            St::OperatorAlert | St::Interrupted => match kind {
                Some(Fcf::DCN) => self.fail(now, Completion::OperIntFail, false),
                // Our PIP/PIN was lost: the command comes again.
                Some(k) if self.st == St::Interrupted => self.repeat_response(k, now),
                _ => {}
            },
            St::RxPage | St::RxEcm => self.rx_in_page(false, frame, kind, now),
            St::WaitDcn => match kind {
                Some(Fcf::DCN) => {
                    let code = if self.last_page_incomplete {
                        Completion::RxDcndata
                    } else {
                        Completion::Ok
                    };
                    self.fail(now, code, false)
                }
                Some(k) => self.repeat_response(k, now),
                None => {}
            },
        }
    }

    /// Where a receiver's response leaves the timers: it waits again.
    fn rearm_after_response(&self) -> After {
        match self.st {
            St::Cmd(Ctx::Initial) | St::Cmd(Ctx::AfterDtc) => {
                After::Arm(Timer::T4, self.cfg.timers.t4)
            }
            _ => After::Arm(Timer::T2, self.cfg.timers.t2),
        }
    }

    /// A repeated command whose response was lost: send the same response again.
    fn repeat_response(&mut self, k: Fcf, now: SampleTime) {
        if let Some((cmd, frames)) = self.last_response.clone()
            && cmd == k
        {
            let b = self.frames_burst(frames);
            let after = self.rearm_after_response();
            self.clear_timer(Timer::T2);
            self.transmit(now, b, after);
        }
    }

    // ------------------------------------------------------------------ transmitter side

    fn tx_wait_dis(&mut self, frame: Frame, kind: Option<Fcf>, now: SampleTime) {
        match kind {
            Some(Fcf::DIS) | Some(Fcf::DTC) => self.on_dis(frame, kind == Some(Fcf::DTC), now),
            Some(Fcf::DCN) => self.fail(now, Completion::TxGotdcn, false),
            Some(Fcf::CRP) => {}
            _ => self.fail(now, Completion::TxNodis, true),
        }
    }

    /// DIS (or DTC when polled) received by a station that may send.
    fn on_dis(&mut self, frame: Frame, is_dtc: bool, now: SampleTime) {
        self.clear_timer(Timer::T1);
        self.clear_timer(Timer::T4);
        self.clear_timer(Timer::Cng);
        if !is_dtc {
            // The station that received a valid DIS sets the X bit in what it sends.
            self.x_bit = true;
        }
        let caps = DisBits::from_fif(&frame.fif);
        self.take_remote_ident(&[Fcf::CSI, Fcf::CIG]);
        let kinds: &[Fcf] = if is_dtc || self.cfg.role == Role::Answerer {
            &[Fcf::CIG, Fcf::PWD, Fcf::SEP, Fcf::PSA, Fcf::CIA, Fcf::ISP]
        } else {
            &[Fcf::CSI, Fcf::CSA]
        };
        if let Some(code) = self.check_accept(kinds) {
            self.fail(now, code, true);
            return;
        }
        self.remote_caps = Some(caps.clone());
        let polled = is_dtc || self.cfg.role == Role::Answerer;
        if self.next_page < self.pages.len() {
            if polled && !self.cfg.allow_polled {
                self.fail(now, Completion::Nopoll, true);
                return;
            }
            if !caps.bit(10) {
                self.fail(now, Completion::RxIncapable, true);
                return;
            }
            self.tries = 0;
            match self.negotiate() {
                Ok(()) => self.send_dcs(now),
                Err(code) => self.fail(now, code, true),
            }
        } else if self.cfg.poll && !polled {
            if !caps.bit(9) {
                self.fail(now, Completion::TxIncapable, true);
                return;
            }
            self.tries = 0;
            self.send_dtc(now);
        } else {
            self.fail(now, Completion::TxIncapable, true);
        }
    }

    fn send_dtc(&mut self, now: SampleTime) {
        self.st = St::Cmd(Ctx::AfterDtc);
        let b = self.capabilities_burst(Fcf::DTC);
        self.transmit(now, b, After::Arm(Timer::T4, self.cfg.timers.t4));
    }

    /// Chooses modem list, ECM, coding, resolution and width for the current page.
    fn negotiate(&mut self) -> Result<(), Completion> {
        let caps = self.remote_caps.clone().unwrap_or_default();
        let far = caps.modems();
        let list: Vec<(Modem, u32)> = FALLBACK
            .iter()
            .copied()
            .filter(|&(m, r)| {
                self.cfg.modems.contains(&m) && r <= self.cfg.max_rate && modem_ok(far, m, r)
            })
            .collect();
        if list.is_empty() {
            return Err(Completion::Incompatible);
        }
        // Keep the current position when re-negotiating (EOM): never go back up. Only our
        // own sending position counts: a terminal that received and is now polled starts
        // from the top of what the DTC offers (TSB-85 ORGP09/ORGP10).
        let keep = if self.negotiated_as_sender {
            self.neg.map(|n| (n.modem, n.rate))
        } else {
            None
        };
        self.negotiated_as_sender = true;
        self.fallback = list;
        self.fb_idx = keep
            .and_then(|k| self.fallback.iter().position(|&x| x == k))
            .unwrap_or(0);
        let ecm = self.cfg.ecm && caps.bit(27);
        let coding = if ecm && self.cfg.codings.contains(&Coding::Mmr) && caps.bit(31) {
            Coding::Mmr
        } else if self.cfg.codings.contains(&Coding::Mr) && caps.bit(16) {
            Coding::Mr
        } else {
            Coding::Mh
        };
        let (doc, pg) = self.pages[self.next_page];
        let info = self.docs[doc].page_info(pg);
        let far_has = |r: Resolution| match r {
            Resolution::Standard => true,
            Resolution::Fine => caps.bit(15),
            Resolution::Superfine => caps.bit(41),
        };
        let resolution = if far_has(info.resolution) {
            info.resolution
        } else if self.cfg.reduce_resolution {
            [Resolution::Fine, Resolution::Standard]
                .into_iter()
                .find(|&r| res_rank(r) < res_rank(info.resolution) && far_has(r))
                .unwrap_or(Resolution::Standard)
        } else {
            return Err(Completion::Noressupport);
        };
        let far_width = caps.width(FrameKind::Dis).unwrap_or(PageWidth::A4);
        if width_rank(info.width) > width_rank(far_width) {
            return Err(Completion::Nosizesupport);
        }
        let scan = caps.min_scan_time(FrameKind::Dis).unwrap_or(MinScanTime {
            ms: 20,
            half_at_fine: false,
        });
        let scan_ms = if ecm { 0 } else { scan.ms };
        let (modem, rate) = self.fallback[self.fb_idx];
        self.neg = Some(Neg {
            modem,
            rate,
            ecm,
            frame_size: self.cfg.ecm_frame_size.octets(),
            coding,
            resolution,
            width: info.width,
            length: caps.length().unwrap_or(PageLength::A4),
            scan_ms,
            min_row_bits: 0,
        });
        self.update_row_bits();
        Ok(())
    }

    fn update_row_bits(&mut self) {
        let half = self
            .remote_caps
            .as_ref()
            .and_then(|c| c.min_scan_time(FrameKind::Dis))
            .is_some_and(|s| s.half_at_fine);
        if let Some(n) = self.neg.as_mut() {
            let ms = if n.resolution != Resolution::Standard && half {
                n.scan_ms as u32 / 2
            } else {
                n.scan_ms as u32
            };
            n.min_row_bits = if n.ecm { 0 } else { n.rate * ms / 1000 };
        }
    }

    fn dcs_bits(&self) -> DisBits {
        let n = self.neg.expect("negotiated");
        let mut d = DisBits::new();
        d.set_bit(10, true);
        d.set_dcs_rate(n.modem, n.rate);
        d.set_bit(15, n.resolution == Resolution::Fine);
        d.set_bit(41, n.resolution == Resolution::Superfine);
        d.set_bit(16, n.coding == Coding::Mr);
        d.set_bit(31, n.coding == Coding::Mmr);
        d.set_bit(27, n.ecm);
        d.set_bit(28, n.ecm && n.frame_size == 64);
        d.set_width(n.width);
        d.set_length(n.length);
        d.set_min_scan_time(MinScanTime {
            ms: n.scan_ms,
            half_at_fine: false,
        });
        d
    }

    /// TSI (+SUB/SID/PWD/TSA/IRA, NSS) + DCS, then TCF.
    fn send_dcs(&mut self, now: SampleTime) {
        let (modem, rate) = self.fallback[self.fb_idx];
        if let Some(n) = self.neg.as_mut() {
            n.modem = modem;
            n.rate = rate;
        }
        self.update_row_bits();
        let mut frames = Vec::new();
        if let Some(nsf) = self.cfg.nsf.clone() {
            frames.push(self.frame(Fcf::NSS, nsf, false));
        }
        frames.push(self.frame(Fcf::TSI, encode_ident(&self.cfg.ident), false));
        for (f, v) in self.cfg.send.clone() {
            if matches!(f, Fcf::SUB | Fcf::SID | Fcf::PWD | Fcf::TSA | Fcf::IRA) {
                frames.push(self.frame(f, encode_field(f, &v), false));
            }
        }
        let fif = self.dcs_bits().to_fif();
        frames.push(self.frame(Fcf::DCS, fif, true));
        self.dcs_frames = frames.clone();
        self.st = St::Resp(Resp::Dcs);
        self.send_dcs_frames(now, frames);
    }

    fn send_dcs_frames(&mut self, now: SampleTime, frames: Vec<Frame>) {
        let dcs = self.frames_burst(frames);
        let tcf = self.tcf_burst();
        let after = match tcf {
            Some(t) => After::Next(
                Box::new(t),
                Box::new(After::Arm(Timer::T4, self.cfg.timers.t4)),
            ),
            None => After::Arm(Timer::T4, self.cfg.timers.t4),
        };
        self.transmit(now, dcs, after);
    }

    fn tcf_burst(&mut self) -> Option<Burst> {
        let n = self.neg?;
        let fault = self.cfg.faults.tcf.get(self.tcf_sent).copied();
        self.tcf_sent += 1;
        let mut rate = n.rate;
        let mut ms = TCF_MS;
        let mut fill = 0u8;
        match fault {
            Some(TcfFault::Missing) => return None,
            Some(TcfFault::Pattern(p)) => fill = p,
            Some(TcfFault::Short(s)) => ms = s,
            Some(TcfFault::WrongRate) => {
                rate = match n.modem {
                    Modem::V27ter => {
                        if n.rate == 2400 {
                            4800
                        } else {
                            2400
                        }
                    }
                    _ => 7200.min(n.rate - 2400).max(2400),
                }
            }
            None => {}
        }
        let len = (rate as u64 * ms / 8000) as usize;
        Some(Burst {
            actions: vec![
                Action::StartTx(TxMode::Fast {
                    modem: n.modem,
                    rate,
                    short_train: false,
                }),
                Action::SendTcf {
                    bytes: vec![fill; len],
                },
                Action::StopTx,
            ],
            ..Default::default()
        })
    }

    fn resend_command(&mut self, now: SampleTime, r: Resp) {
        match r {
            Resp::Dcs => {
                let frames = self.dcs_frames.clone();
                self.send_dcs_frames(now, frames);
            }
            Resp::PostPage => {
                let f = self.frame(self.post_cmd, vec![], true);
                let b = self.frames_burst(vec![f]);
                self.transmit(now, b, After::Arm(Timer::T4, self.cfg.timers.t4));
            }
            Resp::Pps | Resp::Ctc | Resp::Eor => {
                let frames = self.ecm_tx.last_cmd.clone();
                let b = self.frames_burst(frames);
                self.transmit(now, b, After::Arm(Timer::T4, self.cfg.timers.t4));
            }
        }
    }

    fn note_training(&mut self, now: SampleTime, ok: bool) {
        if let Some(n) = self.neg {
            self.trainings.push(Training {
                time: now,
                modem: n.modem,
                rate: n.rate,
                ok,
            });
        }
    }

    /// The next lower rate in the fallback list, if any.
    fn step_down(&mut self) -> bool {
        if self.fb_idx + 1 < self.fallback.len() {
            self.fb_idx += 1;
            let (modem, rate) = self.fallback[self.fb_idx];
            if let Some(n) = self.neg.as_mut() {
                n.modem = modem;
                n.rate = rate;
            }
            self.update_row_bits();
            true
        } else {
            false
        }
    }

    fn tx_response(&mut self, r: Resp, frame: Frame, kind: Option<Fcf>, now: SampleTime) {
        self.clear_timer(Timer::T4);
        match r {
            Resp::Dcs => match kind {
                Some(Fcf::CFR) => {
                    self.note_training(now, true);
                    self.tries = 0;
                    self.send_page(now);
                }
                Some(Fcf::FTT) => {
                    self.note_training(now, false);
                    self.tries = 0;
                    if self.step_down() {
                        self.send_dcs(now);
                    } else {
                        self.fail(now, Completion::CannotTrain, true);
                    }
                }
                Some(Fcf::DIS) | Some(Fcf::CRP) => {
                    self.tries += 1;
                    if self.tries >= self.cfg.retries {
                        let code = if kind == Some(Fcf::DIS) {
                            Completion::Retrydcn
                        } else {
                            Completion::TxPhbdead
                        };
                        self.fail(now, code, true);
                    } else {
                        self.resend_command(now, r);
                    }
                }
                Some(Fcf::DCN) => self.fail(now, Completion::TxBaddcs, false),
                _ => self.fail(now, Completion::TxBaddcs, true),
            },
            Resp::PostPage => self.tx_post_page_response(kind, now),
            Resp::Pps => self.tx_pps_response(&frame, kind, now),
            Resp::Ctc => match kind {
                Some(Fcf::CTR) => {
                    self.tries = 0;
                    self.ecm_tx.pprs = 0;
                    self.long_train_next = true;
                    self.send_ecm_block(now);
                }
                Some(Fcf::CRP) => self.crp_retry(now, r),
                Some(Fcf::DCN) => self.fail(now, self.dcn_after_page_code(), false),
                _ => self.fail(now, Completion::TxEcmphd, true),
            },
            Resp::Eor => match kind {
                Some(Fcf::ERR) => {
                    // The block is given up: the page cannot be delivered intact.
                    self.fail(now, Completion::Retrydcn, true);
                }
                Some(Fcf::CRP) => self.crp_retry(now, r),
                Some(Fcf::DCN) => self.fail(now, self.dcn_after_page_code(), false),
                _ => self.fail(now, Completion::TxEcmphd, true),
            },
        }
    }

    fn crp_retry(&mut self, now: SampleTime, r: Resp) {
        self.tries += 1;
        if self.tries >= self.cfg.retries {
            self.fail(now, Completion::TxPhddead, true);
        } else {
            self.resend_command(now, r);
        }
    }

    fn dcn_after_page_code(&self) -> Completion {
        if base_cmd(self.post_cmd) == Fcf::EOP {
            Completion::TxBadpg
        } else {
            Completion::RxDcnphd
        }
    }

    /// The post-page command for the current page.
    fn post_cmd_for_current(&self) -> Fcf {
        let (doc, _) = self.pages[self.next_page];
        let cmd = match self.pages.get(self.next_page + 1) {
            // A caller that polls after sending goes back to phase B with EOM.
            None if self.cfg.poll && self.cfg.role == Role::Caller => Fcf::EOM,
            None => Fcf::EOP,
            Some(&(d, _)) if d == doc => Fcf::MPS,
            Some(_) => Fcf::EOM,
        };
        if self.cfg.operator.interrupt_after_page == Some(self.next_page as u32 + 1) {
            match cmd {
                Fcf::MPS => Fcf::PRI_MPS,
                Fcf::EOM => Fcf::PRI_EOM,
                _ => Fcf::PRI_EOP,
            }
        } else {
            cmd
        }
    }

    fn current_params(&self) -> PageParams {
        let n = self.neg.expect("negotiated");
        PageParams {
            coding: n.coding,
            resolution: n.resolution,
            width: n.width,
            min_row_bits: n.min_row_bits,
            ecm: n.ecm,
        }
    }

    fn encode_current(&mut self) -> Result<EncodedPage, Completion> {
        let params = self.current_params();
        if let Some((p, e)) = &self.encoded
            && *p == params
        {
            return Ok(e.clone());
        }
        let (doc, pg) = self.pages[self.next_page];
        let e = self.docs[doc].encode_page(pg, &params)?;
        self.encoded = Some((params, e.clone()));
        Ok(e)
    }

    fn send_page(&mut self, now: SampleTime) {
        self.post_cmd = self.post_cmd_for_current();
        let page = match self.encode_current() {
            Ok(p) => p,
            Err(code) => {
                self.fail(now, code, true);
                return;
            }
        };
        let n = self.neg.expect("negotiated");
        if n.ecm {
            let size = n.frame_size;
            self.ecm_tx = EcmTx {
                frames: page.data.chunks(size).map(|c| c.to_vec()).collect(),
                ..Default::default()
            };
            if self.ecm_tx.frames.is_empty() {
                self.ecm_tx.frames.push(Vec::new());
            }
            self.tx_block_no = 0;
            self.start_block(now);
            return;
        }
        let mut data = page.data.clone();
        let page_no = self.next_page as u32 + 1;
        if self.page_attempts == 0 {
            for (p, rows) in &self.cfg.faults.corrupt_rows {
                if *p != page_no {
                    continue;
                }
                for &r in rows {
                    if let Some(range) = page.row_data.get(r as usize) {
                        for b in data.iter_mut().take(range.end).skip(range.start) {
                            *b ^= 0xA5;
                        }
                    }
                }
            }
        }
        if self.page_attempts == 0
            && let Some(&(_, pct)) = self.cfg.faults.cut_page.iter().find(|(p, _)| *p == page_no)
        {
            data.truncate(data.len() * pct.min(100) as usize / 100);
        }
        self.page_attempts += 1;
        let image = Burst {
            actions: vec![
                Action::StartTx(TxMode::Fast {
                    modem: n.modem,
                    rate: n.rate,
                    short_train: n.modem == Modem::V17,
                }),
                Action::SendImage { bytes: data },
                Action::StopTx,
            ],
            ..Default::default()
        };
        self.st = St::Resp(Resp::PostPage);
        let f = self.frame(self.post_cmd, vec![], true);
        let cmd = self.frames_burst(vec![f]);
        self.tries = 0;
        self.transmit(
            now,
            image,
            After::Next(
                Box::new(cmd),
                Box::new(After::Arm(Timer::T4, self.cfg.timers.t4)),
            ),
        );
    }

    fn tx_post_page_response(&mut self, kind: Option<Fcf>, now: SampleTime) {
        match kind {
            Some(Fcf::MCF) => self.page_done(now, false),
            Some(Fcf::RTP) => self.page_done(now, true),
            Some(Fcf::PIP) => {
                self.confirm_page();
                self.operator_alert(now);
            }
            Some(Fcf::PIN) => self.operator_alert(now),
            Some(Fcf::RTN) => {
                if base_cmd(self.post_cmd) == Fcf::EOP {
                    // TSB-85 MTGN28: RTN after EOP ends the call; the page is not counted.
                    self.set_completion(Completion::Ok);
                    self.end(now, true);
                    return;
                }
                if self.page_attempts > self.cfg.page_retries {
                    self.fail(now, Completion::Retrydcn, true);
                    return;
                }
                self.step_down();
                self.after_page_cmd(now, false);
            }
            Some(Fcf::CRP) => self.crp_retry(now, Resp::PostPage),
            Some(Fcf::DCN) => self.fail(now, self.dcn_after_page_code(), false),
            _ => self.fail(now, Completion::TxInvalrsp, true),
        }
    }

    /// Counts the current page as delivered and moves to the next.
    fn confirm_page(&mut self) {
        self.pages_sent += 1;
        self.next_page += 1;
        self.page_attempts = 0;
        self.encoded = None;
        self.tx_page_no = self.tx_page_no.wrapping_add(1);
    }

    /// PIP/PIN received: alert the local operator for T3 (see [`Operator`]).
    fn operator_alert(&mut self, now: SampleTime) {
        self.clear_timer(Timer::T4);
        self.clear_timer(Timer::T5);
        self.tries = 0;
        self.st = St::OperatorAlert;
        self.arm(Timer::T3, now, self.cfg.timers.t3);
        if let Some(ms) = self.cfg.operator.answers_after_ms {
            self.arm(Timer::Operator, now, ms);
        }
    }

    /// The current page was confirmed; `retrain` after RTP.
    fn page_done(&mut self, now: SampleTime, retrain: bool) {
        self.confirm_page();
        if base_cmd(self.post_cmd) == Fcf::EOP {
            self.set_completion(Completion::Ok);
            self.end(now, true);
            return;
        }
        if retrain {
            self.step_down();
        }
        self.after_page_cmd(now, !retrain);
    }

    /// Goes on after MPS/EOM: straight to the next page, or back to phase B.
    fn after_page_cmd(&mut self, now: SampleTime, direct: bool) {
        self.tries = 0;
        if base_cmd(self.post_cmd) == Fcf::EOM {
            if self.next_page >= self.pages.len()
                && self.cfg.poll
                && self.cfg.turnaround == Turnaround::Immediate
            {
                // TSB-85 ORGP10: DTC straight after the MCF to EOM.
                self.send_dtc(now);
                return;
            }
            self.st = St::WaitDis;
            self.arm(Timer::T1, now, self.cfg.timers.t1);
            return;
        }
        if let Err(code) = self.renegotiate_page() {
            self.fail(now, code, true);
            return;
        }
        let changed = self.encoded.is_none()
            && self
                .neg
                .is_some_and(|n| self.dcs_frames.is_empty() || n.rate == 0);
        if direct && !changed && !self.page_params_changed() {
            self.send_page(now);
        } else {
            self.send_dcs(now);
        }
    }

    /// Whether the next page needs a DCS with different parameters.
    fn page_params_changed(&self) -> bool {
        let fif = self.dcs_bits().to_fif();
        self.dcs_frames.last().map(|f| &f.fif) != Some(&fif)
    }

    fn renegotiate_page(&mut self) -> Result<(), Completion> {
        if self.next_page >= self.pages.len() {
            return Ok(());
        }
        let keep = self.fb_idx;
        self.negotiate()?;
        self.fb_idx = keep.min(self.fallback.len() - 1);
        let (m, r) = self.fallback[self.fb_idx];
        if let Some(n) = self.neg.as_mut() {
            n.modem = m;
            n.rate = r;
        }
        self.update_row_bits();
        Ok(())
    }

    // ------------------------------------------------------------------ ECM transmit

    fn block_range(&self) -> std::ops::Range<usize> {
        let start = self.ecm_tx.block * MAX_BLOCK_FRAMES;
        let end = (start + MAX_BLOCK_FRAMES).min(self.ecm_tx.frames.len());
        start..end
    }

    fn start_block(&mut self, now: SampleTime) {
        let r = self.block_range();
        self.ecm_tx.to_send = (0..r.len()).collect();
        self.ecm_tx.pprs = 0;
        self.ecm_tx.ctcs = 0;
        self.send_ecm_block(now);
    }

    fn send_ecm_block(&mut self, now: SampleTime) {
        let n = self.neg.expect("negotiated");
        let r = self.block_range();
        let page_no = self.next_page as u32 + 1;
        let mut b = Burst {
            actions: vec![Action::StartTx(TxMode::Fast {
                modem: n.modem,
                rate: n.rate,
                short_train: n.modem == Modem::V17 && !self.long_train_next,
            })],
            ..Default::default()
        };
        self.long_train_next = false;
        for &i in &self.ecm_tx.to_send.clone() {
            let data = &self.ecm_tx.frames[r.start + i];
            let mut fif = Vec::with_capacity(data.len() + 1);
            fif.push(i as u8);
            fif.extend_from_slice(data);
            let sends = self.ecm_tx.sends.entry(r.start + i).or_insert(0);
            *sends += 1;
            let sends = *sends;
            let bad = self.ecm_tx.block == 0
                && self
                    .cfg
                    .faults
                    .corrupt_ecm_frames
                    .iter()
                    .any(|(p, frames, times)| {
                        *p == page_no && frames.contains(&(i as u8)) && sends <= *times
                    });
            b.actions.push(Action::SendFrame {
                bytes: Frame::new(Fcf::FCD, false, fif, false).to_bytes(),
                fcs_ok: !bad,
            });
        }
        for _ in 0..3 {
            b.actions.push(Action::SendFrame {
                bytes: Frame::new(Fcf::RCP, false, vec![], false).to_bytes(),
                fcs_ok: true,
            });
        }
        b.actions.push(Action::StopTx);
        let last_block = r.end == self.ecm_tx.frames.len();
        let cmd = if last_block {
            self.post_cmd.to_octet(self.x_bit)
        } else {
            0
        };
        let pps = self.frame(
            Fcf::PPS,
            vec![cmd, self.tx_page_no, self.tx_block_no, (r.len() - 1) as u8],
            true,
        );
        self.ecm_tx.last_cmd = vec![pps.clone()];
        let pps_burst = self.frames_burst(vec![pps]);
        self.st = St::Resp(Resp::Pps);
        self.tries = 0;
        self.transmit(
            now,
            b,
            After::Next(
                Box::new(pps_burst),
                Box::new(After::Arm(Timer::T4, self.cfg.timers.t4)),
            ),
        );
    }

    fn send_ecm_cmd(&mut self, now: SampleTime, frames: Vec<Frame>, r: Resp) {
        self.ecm_tx.last_cmd = frames.clone();
        let b = self.frames_burst(frames);
        self.st = St::Resp(r);
        self.transmit(now, b, After::Arm(Timer::T4, self.cfg.timers.t4));
    }

    fn tx_pps_response(&mut self, frame: &Frame, kind: Option<Fcf>, now: SampleTime) {
        match kind {
            Some(Fcf::MCF) => {
                self.clear_timer(Timer::T5);
                self.tries = 0;
                let r = self.block_range();
                if r.end < self.ecm_tx.frames.len() {
                    self.ecm_tx.block += 1;
                    self.tx_block_no = self.tx_block_no.wrapping_add(1);
                    self.start_block(now);
                } else {
                    self.page_done(now, false);
                }
            }
            Some(Fcf::PPR) => {
                self.clear_timer(Timer::T5);
                self.tries = 0;
                let len = self.block_range().len();
                let missing: Vec<usize> = (0..len)
                    .filter(|&i| frame.fif.get(i / 8).is_some_and(|o| o >> (i % 8) & 1 != 0))
                    .collect();
                if missing.is_empty() {
                    self.fail(now, Completion::TxEcmphd, true);
                    return;
                }
                self.ecm_retries += 1;
                self.ecm_tx.pprs += 1;
                self.ecm_tx.to_send = missing;
                if self.ecm_tx.pprs >= self.cfg.ppr_limit {
                    if self.ecm_tx.ctcs == 0 {
                        self.ecm_tx.ctcs += 1;
                        self.step_down();
                        let n = self.neg.expect("negotiated");
                        let mut d = DisBits::new();
                        d.set_dcs_rate(n.modem, n.rate);
                        let fif = d.to_fif()[..2].to_vec();
                        let ctc = self.frame(Fcf::CTC, fif, true);
                        self.send_ecm_cmd(now, vec![ctc], Resp::Ctc);
                    } else {
                        let last = self.block_range().end == self.ecm_tx.frames.len();
                        let cmd = if last {
                            self.post_cmd.to_octet(self.x_bit)
                        } else {
                            0
                        };
                        let eor = self.frame(Fcf::EOR, vec![cmd], true);
                        self.send_ecm_cmd(now, vec![eor], Resp::Eor);
                    }
                } else {
                    self.send_ecm_block(now);
                }
            }
            Some(Fcf::PIP | Fcf::PIN) if self.block_range().end == self.ecm_tx.frames.len() => {
                if kind == Some(Fcf::PIP) {
                    self.confirm_page();
                }
                self.operator_alert(now);
            }
            Some(Fcf::RNR) => {
                if self.timers.get(Timer::T5).is_none() {
                    self.arm(Timer::T5, now, self.cfg.timers.t5);
                }
                self.tries = 0;
                let rr = self.frame(Fcf::RR, vec![], true);
                self.send_ecm_cmd(now, vec![rr], Resp::Pps);
            }
            Some(Fcf::CRP) => self.crp_retry(now, Resp::Pps),
            Some(Fcf::DCN) => self.fail(now, self.dcn_after_page_code(), false),
            _ => self.fail(now, Completion::TxEcmphd, true),
        }
    }

    // ------------------------------------------------------------------ receiver side

    fn rx_command(&mut self, ctx: Ctx, frame: Frame, kind: Option<Fcf>, now: SampleTime) {
        self.clear_timer(Timer::T2);
        self.clear_timer(Timer::T4);
        match kind {
            Some(Fcf::DCS) => self.on_dcs(frame, now),
            Some(Fcf::DTC) | Some(Fcf::DIS)
                if self.cfg.role == Role::Answerer && ctx == Ctx::Initial =>
            {
                let has_docs = self.next_page < self.pages.len();
                if !has_docs {
                    self.fail(now, Completion::TxIncapable, true);
                } else {
                    self.on_dis(frame, true, now);
                }
            }
            Some(Fcf::DIS) | Some(Fcf::DTC) if ctx == Ctx::AfterEom => {
                // The far end re-opened phase B: a station holding documents may send.
                if self.next_page < self.pages.len() {
                    self.on_dis(frame, kind == Some(Fcf::DTC), now);
                } else {
                    self.fail(now, Completion::Unexpected, true);
                }
            }
            Some(Fcf::MPS | Fcf::EOM | Fcf::EOP | Fcf::PRI_MPS | Fcf::PRI_EOM | Fcf::PRI_EOP) => {
                let k = kind.unwrap_or(Fcf::EOP);
                if ctx == Ctx::PostPage {
                    self.on_post_page(k, now);
                } else if self.last_response.as_ref().is_some_and(|(c, _)| *c == k) {
                    self.repeat_response(k, now);
                } else if ctx == Ctx::Ecm || ctx == Ctx::Rnr {
                    self.fail(now, Completion::RxEcmphd, true);
                } else {
                    self.fail(now, Completion::Unexpected, true);
                }
            }
            Some(Fcf::PPS) => match ctx {
                Ctx::Ecm | Ctx::Rnr => self.on_pps(&frame, now),
                _ => self.fail(now, Completion::RxEcmphd, true),
            },
            Some(Fcf::RR) if ctx == Ctx::Rnr => self.evaluate_block(now, None),
            Some(Fcf::EOR) if matches!(ctx, Ctx::Ecm | Ctx::Rnr) => self.on_eor(&frame, now),
            Some(Fcf::CTC) if matches!(ctx, Ctx::Ecm | Ctx::Rnr) => self.on_ctc(&frame, now),
            Some(Fcf::CRP) => self.repeat_last_any(now),
            Some(Fcf::DCN) => {
                let code = match ctx {
                    Ctx::Initial => Completion::RxDcnwhy,
                    Ctx::AfterDtc => Completion::Nopoll,
                    Ctx::Retrain if self.last_rtn => Completion::RxDcnnortn,
                    Ctx::Retrain => Completion::RxDcnwhy,
                    Ctx::AfterEom => Completion::RxDcnphd,
                    Ctx::PostPage | Ctx::Ecm => Completion::RxDcnfax,
                    Ctx::Rnr => Completion::RxDcnrrd,
                };
                self.fail(now, code, false);
            }
            _ => {
                let code = match ctx {
                    Ctx::PostPage => Completion::RxInvalcmd,
                    Ctx::Ecm | Ctx::Rnr => Completion::RxEcmphd,
                    _ => Completion::Unexpected,
                };
                self.fail(now, code, true);
            }
        }
    }

    fn repeat_last_any(&mut self, now: SampleTime) {
        if let Some((k, _)) = self.last_response.clone() {
            self.repeat_response(k, now);
        } else if self.st == St::Cmd(Ctx::Initial) {
            let b = self.capabilities_burst(Fcf::DIS);
            self.transmit(now, b, After::Arm(Timer::T4, self.cfg.timers.t4));
        }
    }

    fn respond(&mut self, now: SampleTime, cmd: Fcf, resp: Fcf, fif: Vec<u8>, after: After) {
        let f = vec![self.frame(resp, fif, true)];
        self.last_response = Some((cmd, f.clone()));
        let b = self.frames_burst(f);
        self.transmit(now, b, after);
    }

    fn on_dcs(&mut self, frame: Frame, now: SampleTime) {
        self.clear_timer(Timer::T1);
        self.clear_timer(Timer::T2);
        self.clear_timer(Timer::T4);
        if !self.cfg.receive {
            self.fail(now, Completion::RxGotdcs, true);
            return;
        }
        self.take_remote_ident(&[Fcf::TSI]);
        if let Some(code) =
            self.check_accept(&[Fcf::TSI, Fcf::SUB, Fcf::SID, Fcf::PWD, Fcf::TSA, Fcf::IRA])
        {
            self.fail(now, code, true);
            return;
        }
        let d = DisBits::from_fif(&frame.fif);
        let Some((modem, rate)) = d.dcs_rate() else {
            self.fail(now, Completion::Incompatible, true);
            return;
        };
        let ecm = d.bit(27);
        let coding = if d.bit(31) {
            Coding::Mmr
        } else if d.bit(16) {
            Coding::Mr
        } else {
            Coding::Mh
        };
        let resolution = if d.bit(41) {
            Resolution::Superfine
        } else if d.bit(15) {
            Resolution::Fine
        } else {
            Resolution::Standard
        };
        let width = d.width(FrameKind::Dcs).unwrap_or(PageWidth::A4);
        let ok = self.cfg.modems.contains(&modem)
            && rate <= self.cfg.max_rate
            && (!ecm || self.cfg.ecm)
            && (coding != Coding::Mmr || ecm)
            && self.cfg.codings.contains(&coding)
            && (resolution == Resolution::Standard || self.cfg.resolutions.contains(&resolution))
            && width_rank(width) <= width_rank(self.cfg.width);
        if !ok {
            self.fail(now, Completion::Incompatible, true);
            return;
        }
        let scan_ms = d.min_scan_time(FrameKind::Dcs).map(|s| s.ms).unwrap_or(0);
        self.neg = Some(Neg {
            modem,
            rate,
            ecm,
            frame_size: if d.bit(28) { 64 } else { 256 },
            coding,
            resolution,
            width,
            length: d.length().unwrap_or(PageLength::A4),
            scan_ms,
            min_row_bits: 0,
        });
        self.tcf_trained = false;
        self.tcf_run = 0;
        self.tcf_best = 0;
        self.tcf_bytes = 0;
        self.st = St::WaitTcf;
        self.arm(Timer::Tcf, now, self.cfg.timers.tcf_wait);
    }

    fn fast_up(&mut self, now: SampleTime) {
        if !matches!(self.st, St::WaitTcf | St::WaitPage { .. }) {
            // Image or TCF we were not waiting for: whatever command follows is not a
            // repeat of the last one, so its old response must not be replayed.
            self.last_response = None;
        }
        match self.st {
            St::WaitTcf => {
                self.clear_timer(Timer::Tcf);
                self.st = St::RxTcf;
                self.tcf_trained = true;
            }
            St::WaitPage { .. } => {
                self.clear_timer(Timer::T2);
                let n = self.neg.expect("negotiated");
                if n.ecm {
                    self.st = St::RxEcm;
                    self.ecm_burst.clear();
                } else {
                    self.st = St::RxPage;
                    self.page_bytes = 0;
                    let params = PageParams {
                        coding: n.coding,
                        resolution: n.resolution,
                        width: n.width,
                        min_row_bits: 0,
                        ecm: false,
                    };
                    if let Some(s) = self.sink.as_mut() {
                        s.start_page(&params);
                    }
                    self.rx_page_started = true;
                }
            }
            _ => {}
        }
        let _ = now;
    }

    fn fast_down(&mut self, now: SampleTime) {
        match self.st {
            St::RxTcf => self.tcf_verdict(now),
            St::RxPage => {
                let q = self.sink.as_mut().map(|s| s.end_page()).unwrap_or_default();
                // T.4's 5 s limit on one coded scan line, at the negotiated rate.
                self.line_too_long = self
                    .neg
                    .is_some_and(|n| q.longest_line_bits > n.rate as u64 * MAX_LINE_MS / 1000);
                self.page_quality = Some(q);
                self.st = St::Cmd(Ctx::PostPage);
                self.arm(Timer::T2, now, self.cfg.timers.t2);
            }
            St::RxEcm => {
                self.st = St::Cmd(Ctx::Ecm);
                self.arm(Timer::T2, now, self.cfg.timers.t2);
            }
            _ => {}
        }
    }

    fn tcf_verdict(&mut self, now: SampleTime) {
        self.clear_timer(Timer::Tcf);
        let n = self.neg.expect("negotiated");
        // About one second of continuous zeros at the announced rate.
        let needed = (n.rate as usize / 8) * 9 / 10;
        let ok = self.tcf_trained && self.tcf_best >= needed && !self.take_force(Fcf::FTT);
        self.trainings.push(Training {
            time: now,
            modem: n.modem,
            rate: n.rate,
            ok,
        });
        if ok {
            self.last_rtn = false;
            self.st = St::WaitPage { after_mps: false };
            self.ecm_rx.clear();
            self.ecm_burst.clear();
            self.ecm_cur = None;
            self.respond(
                now,
                Fcf::DCS,
                Fcf::CFR,
                vec![],
                After::Arm(Timer::T2, self.cfg.timers.t2),
            );
        } else {
            self.st = St::Cmd(Ctx::Retrain);
            self.respond(
                now,
                Fcf::DCS,
                Fcf::FTT,
                vec![],
                After::Arm(Timer::T2, self.cfg.timers.t2),
            );
        }
    }

    fn rx_in_page(&mut self, after_mps: bool, frame: Frame, kind: Option<Fcf>, now: SampleTime) {
        match kind {
            Some(Fcf::DCS) => self.on_dcs(frame, now),
            Some(Fcf::DCN) => {
                // After MCF to a non-ECM MPS the receiver is still in the post-page
                // exchange; after MCF to PPS-MPS it waits for the next page's ECM data
                // (TSB-85 OREN01/02/09: RX_DCNDATA).
                let ecm = self.neg.is_some_and(|n| n.ecm);
                let code = if after_mps && !ecm {
                    Completion::RxDcnphd
                } else {
                    Completion::RxDcndata
                };
                self.fail(now, code, false);
            }
            Some(Fcf::MPS | Fcf::EOM | Fcf::EOP | Fcf::PRI_MPS | Fcf::PRI_EOM | Fcf::PRI_EOP) => {
                let k = kind.unwrap_or(Fcf::EOP);
                let n = self.neg.expect("negotiated");
                if after_mps && self.last_response.as_ref().is_some_and(|(c, _)| *c == k) {
                    self.repeat_response(k, now);
                } else if n.ecm {
                    self.fail(now, Completion::RxEcmphd, true);
                } else {
                    // A page command with no page: nothing decodable arrived.
                    self.page_quality = Some(PageQuality::default());
                    self.on_post_page(k, now);
                }
            }
            Some(Fcf::PPS) => {
                self.clear_timer(Timer::T2);
                if self.neg.is_some_and(|n| n.ecm) {
                    self.on_pps(&frame, now);
                } else {
                    self.fail(now, Completion::RxEcmphd, true);
                }
            }
            Some(Fcf::CTC) => self.on_ctc(&frame, now),
            Some(Fcf::EOR) => self.on_eor(&frame, now),
            Some(Fcf::CRP) => self.repeat_last_any(now),
            _ => self.fail(now, Completion::Unexpected, true),
        }
    }

    fn on_post_page(&mut self, cmd: Fcf, now: SampleTime) {
        self.clear_timer(Timer::T2);
        let q = self.page_quality.take().unwrap_or_default();
        if std::mem::take(&mut self.line_too_long) {
            // A scan line over 5 s: the page is rejected and the receiver disconnects
            // (TSB-85 MRGN03 expects RETRYDCN).
            if self.rx_page_started {
                if let Some(s) = self.sink.as_mut() {
                    s.commit_page(false);
                }
                self.rx_page_started = false;
            }
            self.fail(now, Completion::Retrydcn, true);
            return;
        }
        let ratio = q.bad_ratio();
        let resp = if self.take_force(Fcf::RTN) {
            Fcf::RTN
        } else if self.take_force(Fcf::RTP) {
            Fcf::RTP
        } else if ratio < MCF_LIMIT {
            Fcf::MCF
        } else if ratio < RTP_LIMIT {
            Fcf::RTP
        } else {
            Fcf::RTN
        };
        let keep = resp != Fcf::RTN;
        let interrupt = self.interrupt_wanted(cmd);
        let resp = match (interrupt, keep) {
            (false, _) => resp,
            (true, true) => Fcf::PIP,
            (true, false) => Fcf::PIN,
        };
        if self.rx_page_started {
            if let Some(s) = self.sink.as_mut() {
                s.commit_page(keep);
            }
            self.rx_page_started = false;
        }
        if keep {
            self.pages_received += 1;
            self.bad_rows += q.bad_rows;
        }
        self.last_rtn = resp == Fcf::RTN;
        let base = base_cmd(cmd);
        let after = if interrupt {
            self.interrupt_wait()
        } else {
            After::Arm(Timer::T2, self.cfg.timers.t2)
        };
        self.st = match (base, resp) {
            _ if interrupt => St::Interrupted,
            (Fcf::EOM, _) => St::Cmd(Ctx::AfterEom),
            (_, Fcf::RTN) | (Fcf::MPS, Fcf::RTP) => St::Cmd(Ctx::Retrain),
            (Fcf::MPS, _) => St::WaitPage { after_mps: true },
            _ => St::WaitDcn,
        };
        self.respond(now, cmd, resp, vec![], after);
    }

    /// Whether to answer this page's command with PIP/PIN: our operator asked for it after
    /// this page (numbered by the pages kept so far, so a page sent again after RTN keeps its
    /// number), or the far end's PRI-Q finds our operator there and willing.
    fn interrupt_wanted(&self, cmd: Fcf) -> bool {
        let op = self.cfg.operator;
        op.interrupt_after_page == Some(self.pages_received + 1)
            || (cmd != base_cmd(cmd) && op.accept && op.answers_after_ms.is_some())
    }

    /// After PIP/PIN: wait for the far end's operator (its T3) and a little more.
    fn interrupt_wait(&self) -> After {
        After::Arm(Timer::T3, self.cfg.timers.t3 + self.cfg.timers.t2)
    }

    /// After EOM: the receiving station opens phase B again.
    fn restart_phase_b_as_receiver(&mut self, now: SampleTime) {
        self.last_response = None;
        if self.cfg.role == Role::Answerer {
            self.st = St::Cmd(Ctx::Initial);
            self.arm(Timer::T1, now, self.cfg.timers.t1);
            let b = self.capabilities_burst(Fcf::DIS);
            self.transmit(now, b, After::Arm(Timer::T4, self.cfg.timers.t4));
        } else {
            self.tries = 0;
            self.send_dtc(now);
        }
    }

    // ------------------------------------------------------------------ ECM receive

    fn ecm_frame(&mut self, kind: Fcf, frame: &Frame) {
        if !matches!(self.st, St::RxEcm | St::WaitPage { .. }) {
            return;
        }
        if kind == Fcf::FCD
            && let Some((&num, data)) = frame.fif.split_first()
        {
            // Kept per burst until the PPS says which block the burst belongs to.
            self.ecm_burst.push((num as usize, data.to_vec()));
        }
    }

    /// Files the frames of the last burst under the block the PPS names.
    fn merge_burst(&mut self, page: u8, block: u8) {
        let key = (page, block);
        if self.ecm_cur != Some(key) {
            if let Some((old_page, _)) = self.ecm_cur {
                // The sender moved on from a block we had not confirmed.
                if old_page != page {
                    self.ecm_page.clear();
                    self.ecm_incomplete = block != 0;
                } else {
                    self.ecm_incomplete = true;
                }
            } else if block != self.ecm_block_no || page != self.ecm_page_no {
                self.ecm_incomplete |= block != 0 && page == self.ecm_page_no;
            }
            self.ecm_rx.clear();
            self.ecm_cur = Some(key);
        }
        for (i, data) in std::mem::take(&mut self.ecm_burst) {
            if self.ecm_rx.len() <= i {
                self.ecm_rx.resize(i + 1, None);
            }
            if self.ecm_rx[i].is_none() {
                self.ecm_rx[i] = Some(data);
            }
        }
    }

    fn on_pps(&mut self, frame: &Frame, now: SampleTime) {
        if frame.fif.len() < 4 {
            self.fail(now, Completion::RxEcmphd, true);
            return;
        }
        let (page, block) = (frame.fif[1], frame.fif[2]);
        // A PPS for the block we already confirmed: our MCF was lost.
        if let Some((Fcf::PPS, _)) = &self.last_response
            && (page, block) != (self.ecm_page_no, self.ecm_block_no)
            && self.last_response.as_ref().is_some_and(|(_, f)| {
                f.first().and_then(|f| f.kind()).map(|k| k.0) == Some(Fcf::MCF)
            })
        {
            self.repeat_response(Fcf::PPS, now);
            return;
        }
        self.merge_burst(page, block);
        self.evaluate_block(now, Some(frame.fif.clone()));
    }

    /// Answers a PPS (or RR after RNR): MCF, PPR or RNR.
    fn evaluate_block(&mut self, now: SampleTime, pps: Option<Vec<u8>>) {
        if let Some(p) = pps {
            self.pending_pps = p;
        }
        let p = self.pending_pps.clone();
        if p.len() < 4 {
            self.fail(now, Completion::RxEcmphd, true);
            return;
        }
        let count = p[3] as usize + 1;
        if self.take_force(Fcf::RNR) {
            self.st = St::Cmd(Ctx::Rnr);
            self.respond(
                now,
                Fcf::RR,
                Fcf::RNR,
                vec![],
                After::Arm(Timer::T2, self.cfg.timers.t2),
            );
            return;
        }
        let forced = self.take_force(Fcf::PPR);
        let missing: Vec<usize> = (0..count)
            .filter(|&i| forced || self.ecm_rx.get(i).is_none_or(|f| f.is_none()))
            .collect();
        if !missing.is_empty() {
            self.ecm_retries += 1;
            let mut map = vec![0u8; 32];
            for i in missing {
                map[i / 8] |= 1 << (i % 8);
            }
            self.st = St::WaitPage { after_mps: false };
            self.respond(
                now,
                Fcf::PPS,
                Fcf::PPR,
                map,
                After::Arm(Timer::T2, self.cfg.timers.t2),
            );
            return;
        }
        self.accept_block(now, &p, false);
    }

    /// Takes the block into the page; at the end of a page passes it to the sink.
    fn accept_block(&mut self, now: SampleTime, p: &[u8], via_eor: bool) {
        let count = p[3] as usize + 1;
        for i in 0..count {
            if let Some(Some(f)) = self.ecm_rx.get(i) {
                self.ecm_page.extend_from_slice(f);
            } else {
                self.ecm_incomplete = true;
            }
        }
        self.ecm_rx.clear();
        self.ecm_cur = None;
        self.ecm_block_no = p[2].wrapping_add(1);
        self.ecm_page_no = p[1];
        let pri_cmd = Fcf::from_octet(p[0]).map(|k| k.0);
        let cmd = pri_cmd.map(base_cmd);
        let cmd_for_repeat = if via_eor { Fcf::EOR } else { Fcf::PPS };
        let page_end = matches!(cmd, Some(Fcf::MPS | Fcf::EOM | Fcf::EOP));
        let interrupt = page_end && !via_eor && self.interrupt_wanted(pri_cmd.unwrap_or(Fcf::EOP));
        if page_end {
            let n = self.neg.expect("negotiated");
            let params = PageParams {
                coding: n.coding,
                resolution: n.resolution,
                width: n.width,
                min_row_bits: 0,
                ecm: true,
            };
            let data = std::mem::take(&mut self.ecm_page);
            // A page whose blocks were given up with EOR is kept, damaged, when its last
            // block was confirmed (TSB-85 OREN04: ERR to EOR-NULL, then MCF to the next
            // block's PPS-EOP: OK). Only a page that ends on EOR itself is unconfirmed.
            let keep = !self.ecm_incomplete || !via_eor;
            if let Some(s) = self.sink.as_mut() {
                s.start_page(&params);
                s.data(&data);
                let q = s.end_page();
                s.commit_page(keep);
                if keep {
                    self.bad_rows += q.bad_rows;
                }
            }
            if keep {
                self.pages_received += 1;
            }
            self.ecm_page_no = p[1].wrapping_add(1);
            self.ecm_block_no = 0;
        }
        let resp = match (via_eor, interrupt) {
            (true, _) => Fcf::ERR,
            (false, true) if self.ecm_incomplete => Fcf::PIN,
            (false, true) => Fcf::PIP,
            (false, false) => Fcf::MCF,
        };
        let after = if interrupt {
            self.interrupt_wait()
        } else {
            After::Arm(Timer::T2, self.cfg.timers.t2)
        };
        self.st = match cmd {
            _ if interrupt => St::Interrupted,
            Some(Fcf::MPS) => St::WaitPage { after_mps: true },
            Some(Fcf::EOM) => St::Cmd(Ctx::AfterEom),
            Some(Fcf::EOP) => St::WaitDcn,
            _ => St::WaitPage { after_mps: false },
        };
        if page_end {
            self.last_page_incomplete = self.ecm_incomplete && via_eor;
            self.ecm_incomplete = false;
        }
        self.respond(now, cmd_for_repeat, resp, vec![], after);
    }

    fn on_eor(&mut self, frame: &Frame, now: SampleTime) {
        let mut p = self.pending_pps.clone();
        if p.len() < 4 {
            self.fail(now, Completion::RxEcmphd, true);
            return;
        }
        if let Some(&c) = frame.fif.first() {
            p[0] = c;
        }
        self.accept_block(now, &p, true);
    }

    fn on_ctc(&mut self, frame: &Frame, now: SampleTime) {
        let mut fif = frame.fif.clone();
        fif.resize(3, 0);
        let d = DisBits::from_fif(&fif);
        if let (Some((m, r)), Some(n)) = (d.dcs_rate(), self.neg.as_mut())
            && self.cfg.modems.contains(&m)
        {
            n.modem = m;
            n.rate = r;
        }
        self.st = St::WaitPage { after_mps: false };
        self.respond(
            now,
            Fcf::CTC,
            Fcf::CTR,
            vec![],
            After::Arm(Timer::T2, self.cfg.timers.t2),
        );
    }
}

#[cfg(test)]
mod send_tests {
    /// Engines can move to worker threads (the simulator runs calls in parallel).
    #[test]
    fn engine_is_send() {
        fn is_send<T: Send>() {}
        is_send::<super::Engine>();
    }
}
