//! Our T.30 engine as a T.38 terminal: the IFP adapter between engine actions and T.38
//! indicators and data fields.
//!
//! Sending: a tone becomes its indicator (CNG, CED); a V.21 burst becomes the V.21 preamble
//! indicator followed, once the preamble flags would have gone out, by one `v21` data IFP
//! per frame (`hdlc-data` + `hdlc-fcs-OK`/`BAD`, the last with `-sig-end`), each leaving when
//! the frame's last bit would; a fast burst becomes its training indicator (modem, rate,
//! short/long) and, after the training time, ECM frames as HDLC fields or TCF and non-ECM
//! image octets as `t4-non-ecm-data` chunks of one 20 ms block each, ending with
//! `t4-non-ecm-sig-end`. Over UDPTL, T.38 transfers TCF end to end (data rate management
//! method 2), so the TCF octets go as data like image octets. Everything is paced by the
//! virtual clock: a signal takes as long as it would on a line, so the engine's timers run
//! as on a real call. Each burst ends with three no-signal indicators, whose UDPTL packets
//! carry the burst's last IFP as redundancy. Octets go first transmitted bit in the most
//! significant position, as T.38 (and Wireshark's T.30 dissector) read them.
//!
//! Receiving: indicators raise the matching tone or carrier (a training indicator for the
//! modem and rate the engine listens for counts as a successful training); data fields
//! become frames with their FCS verdict, TCF and image octets. A frame that spans an IFP the
//! UDPTL receiver could not recover is handed over with a bad FCS. A TCF announced by its
//! training indicator but carried without data (a peer managing the rate locally) is taken
//! as zeros for the time the signal lasted, when no packet went missing meanwhile. Lost
//! packets the redundancy could not bring back are survived where a signal's own data can
//! stand in: V.21 or fast data whose indicator went missing brings its signal up by its
//! data type, and a V.21 signal or TCF whose end went missing ends when its IFPs stop.

use std::collections::VecDeque;

use channel_models::t38::{DataField, DataType, Delivered, FieldType, Ifp, Indicator, MsgType};
use t30::SampleTime;
use t30::engine::codec::ReceivedPages;
use t30::engine::{Action, Channel, Config, DocumentSource, Engine, RxMode, Tone, TxMode};
use t30::frame::dis::modem_name::Modem;
use t30::frame::{Fcf, Frame};

use super::{SentIfp, T38Endpoint};
use crate::call::BLOCK;
use crate::endpoint::EndpointOutcome;

/// No-signal indicators sent after each burst.
const END_INDICATORS: usize = 3;
/// Bits of the longest ECM frame on the line (256 octets of data, 4 of header, the FCS,
/// a flag and some stuffing): no sender leaves longer between a fast signal's IFPs.
const ECM_FRAME_BITS: u64 = 2200;
/// Longest gap between a V.21 signal's IFPs, ms: see `end_silent_signal`.
const CONTROL_GAP_MS: u64 = 2000;
/// Longest TCF (1.5 s + 10 %), ms.
const TCF_MAX_MS: u64 = 1650;
/// Allowance for network jitter on top of the longest gap a sender leaves, ms.
const SILENCE_MARGIN_MS: u64 = 1000;

/// Training time of a fast modem, ms (the time from the training indicator to the first
/// data bit on a real line).
pub fn training_ms(modem: Modem, rate: u32, short: bool) -> u64 {
    match modem {
        Modem::V27ter if rate <= 2400 => 943,
        Modem::V27ter => 708,
        Modem::V29 => 253,
        Modem::V17 if short => 142,
        Modem::V17 => 1393,
    }
}

/// The training indicator for a fast modem.
pub fn training_indicator(modem: Modem, rate: u32, short: bool) -> Indicator {
    use Indicator::*;
    match (modem, rate, short) {
        (Modem::V27ter, r, _) if r <= 2400 => V27_2400Training,
        (Modem::V27ter, _, _) => V27_4800Training,
        (Modem::V29, r, _) if r <= 7200 => V29_7200Training,
        (Modem::V29, _, _) => V29_9600Training,
        (Modem::V17, 7200, true) => V17_7200ShortTraining,
        (Modem::V17, 7200, false) => V17_7200LongTraining,
        (Modem::V17, 9600, true) => V17_9600ShortTraining,
        (Modem::V17, 9600, false) => V17_9600LongTraining,
        (Modem::V17, 12000, true) => V17_12000ShortTraining,
        (Modem::V17, 12000, false) => V17_12000LongTraining,
        (Modem::V17, _, true) => V17_14400ShortTraining,
        (Modem::V17, _, false) => V17_14400LongTraining,
    }
}

/// The modem and rate a training indicator announces.
pub fn indicator_modem(i: Indicator) -> Option<(Modem, u32)> {
    use Indicator::*;
    Some(match i {
        V27_2400Training => (Modem::V27ter, 2400),
        V27_4800Training => (Modem::V27ter, 4800),
        V29_7200Training => (Modem::V29, 7200),
        V29_9600Training => (Modem::V29, 9600),
        V17_7200ShortTraining | V17_7200LongTraining => (Modem::V17, 7200),
        V17_9600ShortTraining | V17_9600LongTraining => (Modem::V17, 9600),
        V17_12000ShortTraining | V17_12000LongTraining => (Modem::V17, 12000),
        V17_14400ShortTraining | V17_14400LongTraining => (Modem::V17, 14400),
        _ => return None,
    })
}

/// The data type of a fast modem at a rate.
pub fn data_type(modem: Modem, rate: u32) -> DataType {
    match (modem, rate) {
        (Modem::V27ter, r) if r <= 2400 => DataType::V27_2400,
        (Modem::V27ter, _) => DataType::V27_4800,
        (Modem::V29, r) if r <= 7200 => DataType::V29_7200,
        (Modem::V29, _) => DataType::V29_9600,
        (Modem::V17, 7200) => DataType::V17_7200,
        (Modem::V17, 9600) => DataType::V17_9600,
        (Modem::V17, 12000) => DataType::V17_12000,
        (Modem::V17, _) => DataType::V17_14400,
    }
}

fn data_type_modem(d: DataType) -> Option<(Modem, u32)> {
    Some(match d {
        DataType::V27_2400 => (Modem::V27ter, 2400),
        DataType::V27_4800 => (Modem::V27ter, 4800),
        DataType::V29_7200 => (Modem::V29, 7200),
        DataType::V29_9600 => (Modem::V29, 9600),
        DataType::V17_7200 => (Modem::V17, 7200),
        DataType::V17_9600 => (Modem::V17, 9600),
        DataType::V17_12000 => (Modem::V17, 12000),
        DataType::V17_14400 => (Modem::V17, 14400),
        _ => return None,
    })
}

/// T.38 carries every octet with its first transmitted bit in the most significant position.
/// Our frames hold octets as HDLC sends them, first bit in the least significant position,
/// so each is reversed; FCD frames carry coded image octets, which the engine already holds
/// first bit first (most significant), so their data octets stay as they are. Non-ECM image
/// octets need nothing either. `fcf` reads the FCF octet in the order `frame` is in.
fn hdlc_t38_order(mut frame: Vec<u8>, fcf: fn(u8) -> u8) -> Vec<u8> {
    const FCD: u8 = 0x06;
    let fcd = frame.len() > 4 && fcf(frame[2]) == FCD;
    let n = if fcd { 4 } else { frame.len() };
    for b in &mut frame[..n] {
        *b = b.reverse_bits();
    }
    frame
}

#[derive(Debug)]
enum Item {
    Frame(Vec<u8>, bool),
    Flags(u32),
    Raw(VecDeque<u8>),
    Stop,
}

#[derive(Debug, Clone, Copy)]
enum Burst {
    Tone { end: SampleTime },
    V21,
    Fast { data: DataType, rate: u32 },
}

/// What the far end is sending, as the indicators and data told us.
#[derive(Debug, Clone, Copy, PartialEq)]
enum RxSig {
    None,
    Tone(Tone),
    Control,
    Fast {
        modem: Modem,
        rate: u32,
        since: SampleTime,
        bytes: usize,
        holes: bool,
        /// A data IFP of this signal has arrived.
        data: bool,
    },
    /// A fast signal we are not listening for (or at another rate).
    Ignored,
}

/// Our engine over IFP.
pub struct T38Builtin {
    engine: Engine,
    version: u8,
    burst: Option<Burst>,
    items: VecDeque<Item>,
    /// Line time: when the signal being sent reaches the point the queue starts at.
    cursor: SampleTime,
    listen: RxMode,
    rx: RxSig,
    hdlc: Vec<u8>,
    hdlc_holes: bool,
    /// An IFP went missing while no signal we listen to was up: it may have been the next
    /// signal's indicator.
    lost_between: bool,
    /// When the UDPTL receiver last handed on an IFP (or reported one lost).
    last_ifp: SampleTime,
    /// The burst being sent carries HDLC frames.
    burst_hdlc: bool,
    /// A DCS arrived: the next fast signal is TCF.
    tcf_next: bool,
    hung_up: bool,
    received: Option<ReceivedPages>,
    /// IFPs of bursts started outside `transmit`, sent with the next block.
    pending_start: Vec<SentIfp>,
}

impl T38Builtin {
    /// A terminal running `cfg`, sending IFPs of T.38 `version`.
    pub fn new(
        cfg: Config,
        docs: Vec<Box<dyn DocumentSource>>,
        sink: Option<Box<dyn t30::engine::PageSink>>,
        received: Option<ReceivedPages>,
        version: u8,
    ) -> Result<T38Builtin, String> {
        let engine = Engine::new(cfg, docs, sink).map_err(|e| e.to_string())?;
        Ok(T38Builtin {
            engine,
            version,
            burst: None,
            items: VecDeque::new(),
            cursor: SampleTime::ZERO,
            listen: RxMode::V21,
            rx: RxSig::None,
            hdlc: Vec::new(),
            hdlc_holes: false,
            lost_between: false,
            last_ifp: SampleTime::ZERO,
            burst_hdlc: false,
            tcf_next: false,
            hung_up: false,
            received,
            pending_start: Vec::new(),
        })
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The received pages handle.
    pub fn received(&self) -> Option<&ReceivedPages> {
        self.received.as_ref()
    }

    fn emit(&self, out: &mut Vec<SentIfp>, time: SampleTime, ifp: Ifp) {
        // Every IFP we build is valid for the version: indicators and data of the root set.
        if let Ok(bytes) = ifp.to_bytes(self.version) {
            out.push(SentIfp { time, ifp: bytes });
        }
    }

    /// Takes the engine's actions at `now`; starting a burst emits its indicator.
    fn drain(&mut self, now: SampleTime, out: &mut Vec<SentIfp>) {
        while let Some(a) = self.engine.poll_action() {
            match a {
                Action::StartTx(mode) => {
                    if self.burst.is_none() {
                        self.cursor = self.cursor.max(now);
                    }
                    let (ind, burst, lead) = match mode {
                        TxMode::V21 => (
                            Indicator::V21Preamble,
                            Burst::V21,
                            SampleTime::for_bits(8 * modem::hdlc::T30_PREAMBLE_FLAGS as u64, 300),
                        ),
                        TxMode::Fast {
                            modem,
                            rate,
                            short_train,
                        } => (
                            training_indicator(modem, rate, short_train),
                            Burst::Fast {
                                data: data_type(modem, rate),
                                rate,
                            },
                            SampleTime::from_ms(training_ms(modem, rate, short_train)),
                        ),
                    };
                    self.emit(out, self.cursor, Ifp::indicator(ind));
                    self.cursor += lead;
                    self.burst = Some(burst);
                    self.burst_hdlc = matches!(burst, Burst::V21);
                }
                Action::SendFrame { bytes, fcs_ok } => {
                    let bytes = hdlc_t38_order(bytes, |b| b);
                    self.burst_hdlc = true;
                    self.items.push_back(Item::Frame(bytes, fcs_ok));
                }
                Action::SendFlags { count } => self.items.push_back(Item::Flags(count)),
                Action::SendTcf { bytes } => {
                    self.items.push_back(Item::Raw(bytes.into_iter().collect()))
                }
                Action::SendImage { bytes } => {
                    self.items.push_back(Item::Raw(bytes.into_iter().collect()))
                }
                Action::StopTx => self.items.push_back(Item::Stop),
                Action::SendTone { tone, ms } => {
                    self.cursor = self.cursor.max(now);
                    let ind = match tone {
                        Tone::Ced => Indicator::Ced,
                        Tone::Cng => Indicator::Cng,
                    };
                    self.emit(out, self.cursor, Ifp::indicator(ind));
                    self.burst = Some(Burst::Tone {
                        end: self.cursor + SampleTime::from_ms(ms),
                    });
                }
                Action::Listen(mode) => self.listen = mode,
                Action::HangUp => self.hung_up = true,
            }
        }
    }

    /// Sends what the line carries up to `end`; returns whether the burst finished (at
    /// `self.cursor`).
    fn advance(&mut self, end: SampleTime, out: &mut Vec<SentIfp>) -> bool {
        let Some(burst) = self.burst else {
            return false;
        };
        let (rate, data) = match burst {
            Burst::Tone { end: t } => {
                if t <= end {
                    self.cursor = t;
                    self.burst = None;
                    return true;
                }
                return false;
            }
            Burst::V21 => (300, DataType::V21),
            Burst::Fast { data, rate } => (rate, data),
        };
        loop {
            if self.cursor >= end && !self.items.is_empty() {
                // What is left starts in a later block.
                return false;
            }
            let Some(item) = self.items.front_mut() else {
                // Nothing queued: the line idles (flags or fill) until the engine says more.
                self.cursor = self.cursor.max(end);
                return false;
            };
            match item {
                Item::Flags(n) => {
                    let t = self.cursor + SampleTime::for_bits(8 * *n as u64, rate);
                    if t > end {
                        return false;
                    }
                    self.cursor = t;
                    self.items.pop_front();
                }
                Item::Frame(bytes, ok) => {
                    // Frame, FCS and one flag.
                    let bits = 8 * (bytes.len() as u64 + 3);
                    let t = self.cursor + SampleTime::for_bits(bits, rate);
                    if t > end {
                        return false;
                    }
                    let ok = *ok;
                    let bytes = std::mem::take(bytes);
                    self.items.pop_front();
                    let last = matches!(self.items.front(), Some(Item::Stop));
                    let fcs = match (ok, last) {
                        (true, false) => FieldType::HdlcFcsOk,
                        (false, false) => FieldType::HdlcFcsBad,
                        (true, true) => FieldType::HdlcFcsOkSigEnd,
                        (false, true) => FieldType::HdlcFcsBadSigEnd,
                    };
                    let mut fields = Vec::new();
                    if !bytes.is_empty() {
                        fields.push(DataField {
                            field_type: FieldType::HdlcData,
                            data: Some(bytes),
                        });
                    }
                    fields.push(DataField {
                        field_type: fcs,
                        data: None,
                    });
                    self.cursor = t;
                    self.emit(out, t, Ifp::data(data, fields));
                    if last {
                        self.items.pop_front();
                        self.burst = None;
                        return true;
                    }
                }
                Item::Raw(bytes) => {
                    // One chunk per block: what the modem sends until `end`.
                    let room = (end.0.saturating_sub(self.cursor.0) * rate as u64 / 8 / 8000).max(1)
                        as usize;
                    let n = room.min(bytes.len());
                    let chunk: Vec<u8> = bytes.drain(..n).collect();
                    let t = self.cursor + SampleTime::for_bits(8 * n as u64, rate);
                    let emptied = bytes.is_empty();
                    if emptied {
                        self.items.pop_front();
                    }
                    let last = emptied && matches!(self.items.front(), Some(Item::Stop));
                    self.cursor = t;
                    let field_type = if last {
                        FieldType::T4NonEcmSigEnd
                    } else {
                        FieldType::T4NonEcmData
                    };
                    let octets = (!chunk.is_empty()).then_some(chunk);
                    self.emit(
                        out,
                        t.min(end),
                        Ifp::data(
                            data,
                            vec![DataField {
                                field_type,
                                data: octets,
                            }],
                        ),
                    );
                    if last {
                        self.items.pop_front();
                        self.burst = None;
                        return true;
                    }
                    if !emptied {
                        return false;
                    }
                }
                Item::Stop => {
                    self.items.pop_front();
                    let field_type = if matches!(burst, Burst::Fast { .. }) && !self.burst_hdlc {
                        FieldType::T4NonEcmSigEnd
                    } else {
                        FieldType::HdlcSigEnd
                    };
                    self.emit(
                        out,
                        self.cursor,
                        Ifp::data(
                            data,
                            vec![DataField {
                                field_type,
                                data: None,
                            }],
                        ),
                    );
                    self.burst = None;
                    return true;
                }
            }
        }
    }
}

impl T38Builtin {
    fn note_frame(&mut self, bytes: &[u8]) {
        if let Ok(f) = Frame::parse(bytes)
            && let Some((Fcf::DCS, _)) = f.kind()
        {
            self.tcf_next = true;
        }
    }

    /// The signal being received ends at `now`.
    fn end_signal(&mut self, now: SampleTime) {
        match std::mem::replace(&mut self.rx, RxSig::None) {
            RxSig::Tone(t) => self.engine.handle_tone(t, false, now),
            RxSig::Control => {
                if !self.hdlc.is_empty() {
                    // A frame cut off without its FCS.
                    let bytes = std::mem::take(&mut self.hdlc);
                    self.engine.handle_frame(&bytes, false, now);
                }
                self.engine.handle_carrier(Channel::Control, false, now);
            }
            RxSig::Fast {
                rate,
                since,
                bytes,
                holes,
                ..
            } => {
                if self.tcf_next && bytes == 0 && !holes {
                    // TCF without data: a peer that manages the rate locally. The signal
                    // lasted from the training indicator to now; zeros throughout.
                    let n = (now.0.saturating_sub(since.0) * rate as u64 / 8 / 8000) as usize;
                    self.engine.handle_data(&vec![0u8; n], now);
                }
                self.tcf_next = false;
                self.hdlc.clear();
                self.engine.handle_carrier(Channel::Fast, false, now);
            }
            RxSig::Ignored | RxSig::None => {}
        }
        self.hdlc_holes = false;
    }

    fn on_ifp(&mut self, ifp: Ifp, now: SampleTime) {
        match ifp.msg {
            MsgType::Indicator(i) => {
                self.lost_between = false;
                self.end_signal(now);
                match i {
                    Indicator::Cng => {
                        self.rx = RxSig::Tone(Tone::Cng);
                        self.engine.handle_tone(Tone::Cng, true, now);
                    }
                    Indicator::Ced => {
                        self.rx = RxSig::Tone(Tone::Ced);
                        self.engine.handle_tone(Tone::Ced, true, now);
                    }
                    Indicator::V21Preamble => {
                        self.rx = RxSig::Control;
                        self.engine.handle_carrier(Channel::Control, true, now);
                    }
                    other => {
                        if let Some((modem, rate)) = indicator_modem(other) {
                            self.fast_up(modem, rate, now);
                        }
                    }
                }
            }
            MsgType::Data(DataType::V21) => {
                // What was lost before it was this signal's, or is past mattering.
                self.lost_between = false;
                if self.rx != RxSig::Control {
                    // The preamble indicator was lost: the data says the carrier is up.
                    self.end_signal(now);
                    self.rx = RxSig::Control;
                    self.engine.handle_carrier(Channel::Control, true, now);
                }
                for f in ifp.fields {
                    self.hdlc_field(f, false, now);
                }
            }
            MsgType::Data(d) => {
                let Some(m) = data_type_modem(d) else { return };
                if self.lost_between && !matches!(self.rx, RxSig::Fast { .. }) {
                    self.lost_between = false;
                    if matches!(self.listen, RxMode::Fast { modem, rate } if (modem, rate) == m) {
                        // The training indicator was lost (more packets in a row than the
                        // redundancy covers), but the data type names the modem and rate
                        // the engine listens for: the data says the training is over. Data
                        // of this signal may have been lost with it.
                        self.end_signal(now);
                        self.fast_up(m.0, m.1, now);
                        self.on_lost();
                    }
                }
                if let RxSig::Fast {
                    modem, rate, data, ..
                } = &mut self.rx
                    && (*modem, *rate) == m
                {
                    *data = true;
                    for f in ifp.fields {
                        match f.field_type {
                            FieldType::T4NonEcmData | FieldType::T4NonEcmSigEnd => {
                                if let Some(d) = &f.data {
                                    if let RxSig::Fast { bytes, .. } = &mut self.rx {
                                        *bytes += d.len();
                                    }
                                    self.engine.handle_data(d, now);
                                }
                                if f.field_type == FieldType::T4NonEcmSigEnd {
                                    self.end_signal(now);
                                }
                            }
                            _ => self.hdlc_field(f, true, now),
                        }
                    }
                }
            }
        }
    }

    fn fast_up(&mut self, modem: Modem, rate: u32, now: SampleTime) {
        match self.listen {
            RxMode::Fast { modem: m, rate: r } if (m, r) == (modem, rate) => {
                self.rx = RxSig::Fast {
                    modem,
                    rate,
                    since: now,
                    bytes: 0,
                    holes: false,
                    data: false,
                };
                self.engine.handle_training(true, now);
                self.engine.handle_carrier(Channel::Fast, true, now);
            }
            RxMode::Fast { .. } => {
                // Another modem or rate: a real receiver would fail to train.
                self.rx = RxSig::Ignored;
                self.engine.handle_training(false, now);
            }
            RxMode::V21 => self.rx = RxSig::Ignored,
        }
    }

    fn hdlc_field(&mut self, f: DataField, fast: bool, now: SampleTime) {
        if let Some(d) = &f.data {
            self.hdlc.extend_from_slice(d);
        }
        let (fcs, end) = match f.field_type {
            FieldType::HdlcData => (None, false),
            FieldType::HdlcSigEnd => (None, true),
            FieldType::HdlcFcsOk => (Some(true), false),
            FieldType::HdlcFcsBad => (Some(false), false),
            FieldType::HdlcFcsOkSigEnd => (Some(true), true),
            FieldType::HdlcFcsBadSigEnd => (Some(false), true),
            _ => (None, false),
        };
        if let Some(ok) = fcs {
            let bytes = std::mem::take(&mut self.hdlc);
            let ok = ok && !self.hdlc_holes;
            self.hdlc_holes = false;
            if !bytes.is_empty() {
                let bytes = hdlc_t38_order(bytes, u8::reverse_bits);
                if ok && !fast {
                    self.note_frame(&bytes);
                }
                self.engine.handle_frame(&bytes, ok, now);
            }
        }
        if end {
            self.end_signal(now);
        }
    }

    /// Ends a V.21 signal or TCF when its IFPs have stopped for longer than any sender leaves
    /// between them: its end went missing (the last packets were lost, and no later one has
    /// come to carry them as redundancy). Otherwise the engine would hear the carrier on
    /// until the far end's next signal, seconds later: its response timer would not run
    /// meanwhile (T4 waits while the far end talks), and it would answer TCF only after the
    /// far end had given up waiting. Not a page, whose length is unknown: its IFPs also stop
    /// while the network drops everything for a second or two, and it goes on after that
    /// (its lost frames asked for again), where ending it would split it in two.
    fn end_silent_signal(&mut self, now: SampleTime) {
        let gap_ms = match self.rx {
            // The preamble's second of flags, then a frame of up to about 37 octets sent
            // as one IFP when its last bit would leave (other senders send pieces).
            RxSig::Control => CONTROL_GAP_MS,
            RxSig::Fast {
                modem, rate, data, ..
            } if self.tcf_next => {
                // One ECM frame's time at the data rate (TCF may come in chunks that long).
                // Before the first data, the training and a TCF sent without data (1.5 s
                // + 10 %) come first.
                let frame_ms = ECM_FRAME_BITS * 1000 / u64::from(rate);
                if data {
                    frame_ms
                } else {
                    training_ms(modem, rate, false) + TCF_MAX_MS + frame_ms
                }
            }
            _ => return,
        };
        if now.0.saturating_sub(self.last_ifp.0) > (gap_ms + SILENCE_MARGIN_MS) * 8 {
            // A frame being assembled lost its end.
            self.on_lost();
            self.end_signal(now);
        }
    }

    fn on_lost(&mut self) {
        // Whatever frame is being assembled has a hole; image data just misses octets.
        match &mut self.rx {
            RxSig::None | RxSig::Tone(_) | RxSig::Ignored => self.lost_between = true,
            RxSig::Control => self.hdlc_holes = true,
            RxSig::Fast { holes, .. } => {
                *holes = true;
                self.hdlc_holes = true;
            }
        }
    }
}

impl T38Endpoint for T38Builtin {
    fn start(&mut self, now: SampleTime) {
        self.engine.handle_start(now);
        let mut out = Vec::new();
        self.drain(now, &mut out);
        // Indicators of the first burst go out with the first block.
        self.pending_start = out;
    }

    fn transmit(&mut self, now: SampleTime, out: &mut Vec<SentIfp>) {
        out.append(&mut self.pending_start);
        let end = now + SampleTime(BLOCK as u64);
        loop {
            self.drain(self.cursor.max(now), out);
            if !self.advance(end, out) {
                break;
            }
            // The burst ended at the cursor. The last IFP of a burst has no later packet to
            // carry it as redundancy until the next burst, seconds away; so, as gateways do,
            // the end of the signal is announced with repeated no-signal indicators, whose
            // UDPTL packets protect it.
            for _ in 0..END_INDICATORS {
                self.emit(out, self.cursor, Ifp::indicator(Indicator::NoSignal));
            }
            // The engine hears the burst ended and may start the next.
            self.engine.handle_tx_complete(self.cursor);
            self.engine.handle_timeout(self.cursor);
        }
    }

    fn receive(&mut self, now: SampleTime, delivered: &[Delivered]) {
        for d in delivered {
            match d {
                Delivered::Primary(_, bytes) | Delivered::Recovered(_, bytes) => {
                    match Ifp::decode(bytes, self.version) {
                        Ok((ifp, _)) => self.on_ifp(ifp, now),
                        Err(_) => self.on_lost(),
                    }
                }
                Delivered::Lost(_) => self.on_lost(),
            }
        }
        if delivered.is_empty() {
            self.end_silent_signal(now);
        } else {
            self.last_ifp = now;
        }
        self.engine.handle_timeout(now);
        let mut out = Vec::new();
        self.drain(self.cursor.max(now), &mut out);
        self.pending_start.append(&mut out);
    }

    fn line_cleared(&mut self, now: SampleTime) {
        self.engine.handle_hangup(now);
        self.burst = None;
        self.items.clear();
    }

    fn hung_up(&self) -> bool {
        self.hung_up
    }

    fn finished(&self) -> bool {
        self.engine.is_finished() && self.burst.is_none()
    }

    fn outcome(&self) -> Option<EndpointOutcome> {
        self.engine.outcome().map(EndpointOutcome::Builtin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_training_indicator_names_its_modem_and_rate() {
        for (m, rates) in [
            (Modem::V27ter, &[2400, 4800][..]),
            (Modem::V29, &[7200, 9600][..]),
            (Modem::V17, &[7200, 9600, 12000, 14400][..]),
        ] {
            for &r in rates {
                for short in [false, true] {
                    let i = training_indicator(m, r, short);
                    assert_eq!(indicator_modem(i), Some((m, r)), "{i:?}");
                    assert_eq!(data_type_modem(data_type(m, r)), Some((m, r)));
                }
            }
        }
        assert_eq!(indicator_modem(Indicator::Ced), None);
    }

    #[test]
    fn hdlc_octets_go_first_bit_most_significant_and_fcd_data_as_coded() {
        // DIS as our frames hold it (ff 13 80 …) is ff c8 01 … on the wire.
        let dis = vec![0xFF, 0x13, 0x80, 0x00, 0xEE];
        let wire = hdlc_t38_order(dis.clone(), |b| b);
        assert_eq!(wire, vec![0xFF, 0xC8, 0x01, 0x00, 0x77]);
        assert_eq!(hdlc_t38_order(wire, u8::reverse_bits), dis);
        // FCD: address, control, FCF and frame number reversed; coded data kept.
        let fcd = vec![0xFF, 0x03, 0x06, 0x01, 0x12, 0x34];
        let wire = hdlc_t38_order(fcd.clone(), |b| b);
        assert_eq!(wire, vec![0xFF, 0xC0, 0x60, 0x80, 0x12, 0x34]);
        assert_eq!(hdlc_t38_order(wire, u8::reverse_bits), fcd);
    }

    /// Runs a sender's IFPs straight into a receiver, block by block; `keep` decides which
    /// IFPs are sent at all (its flag: the caller's), and `lose` which of the caller's the
    /// answerer's UDPTL receiver reports lost (beyond what redundancy recovers).
    fn pump(
        a: &mut T38Builtin,
        b: &mut T38Builtin,
        blocks: u64,
        mut keep: impl FnMut(bool, &[u8]) -> bool,
        mut lose: impl FnMut(&[u8]) -> bool,
    ) {
        let mut seq = [0u16; 2];
        for k in 0..blocks {
            let now = SampleTime(k * BLOCK as u64);
            let end = now + SampleTime(BLOCK as u64);
            let (mut oa, mut ob) = (Vec::new(), Vec::new());
            a.transmit(now, &mut oa);
            b.transmit(now, &mut ob);
            oa.retain(|p| keep(true, &p.ifp));
            ob.retain(|p| keep(false, &p.ifp));
            let wrap = |v: Vec<SentIfp>, s: &mut u16, lose: &mut dyn FnMut(&[u8]) -> bool| {
                v.into_iter()
                    .map(|p| {
                        *s += 1;
                        if lose(&p.ifp) {
                            Delivered::Lost(*s)
                        } else {
                            Delivered::Primary(*s, p.ifp)
                        }
                    })
                    .collect::<Vec<Delivered>>()
            };
            let (da, db) = (
                wrap(ob, &mut seq[1], &mut |_| false),
                wrap(oa, &mut seq[0], &mut lose),
            );
            a.receive(end, &da);
            b.receive(end, &db);
            if a.finished() && b.finished() {
                return;
            }
        }
        panic!("call did not end in {blocks} blocks");
    }

    fn pair(ecm: bool) -> (T38Builtin, T38Builtin, ReceivedPages, t30::image::Bitmap) {
        use t30::engine::Role;
        use t30::engine::codec::{BitmapDocument, DecodingSink};
        let mut page = t30::image::Bitmap::new(1728, 64, t30::image::Resolution::Standard).unwrap();
        page.fill_rect(100, 10, 900, 40, true);
        let mut cfg = Config::new(Role::Caller);
        cfg.receive = false;
        cfg.ecm = ecm;
        let a = T38Builtin::new(
            cfg,
            vec![Box::new(BitmapDocument::new(vec![page.clone()]))],
            None,
            None,
            0,
        )
        .unwrap();
        let (sink, kept) = DecodingSink::new();
        let mut cfg = Config::new(Role::Answerer);
        cfg.ecm = ecm;
        let b = T38Builtin::new(cfg, vec![], Some(Box::new(sink)), None, 0).unwrap();
        (a, b, kept, page)
    }

    /// A one-page call between two terminals through `pump`, checked to end "OK" on both
    /// sides with the page received as sent; returns the caller's and answerer's outcomes.
    fn call_completes(
        ecm: bool,
        keep: impl FnMut(bool, &[u8]) -> bool,
        lose: impl FnMut(&[u8]) -> bool,
    ) -> (t30::engine::Outcome, t30::engine::Outcome) {
        let (mut a, mut b, kept, page) = pair(ecm);
        a.start(SampleTime::ZERO);
        b.start(SampleTime::ZERO);
        pump(&mut a, &mut b, 10_000, keep, lose);
        let o = a.engine().outcome().unwrap();
        assert_eq!(o.error_text(), "OK", "ECM {ecm}: {:?}", o.frames);
        let r = b.engine().outcome().unwrap();
        assert_eq!(r.error_text(), "OK", "ECM {ecm}");
        assert_eq!(r.pages_received, 1);
        assert!(kept.lock().unwrap()[0].bitmap().data() == page.data());
        (o, r)
    }

    fn complete(ecm: bool, keep: fn(&[u8]) -> bool) {
        let (_, r) = call_completes(ecm, |caller, ifp| !caller || keep(ifp), |_| false);
        assert!(
            r.trainings.len() == 1 && r.trainings[0].ok,
            "{:?}",
            r.trainings
        );
    }

    #[test]
    fn two_terminals_back_to_back_complete_a_call() {
        complete(true, |_| true);
        complete(false, |_| true);
    }

    #[test]
    fn tcf_announced_without_data_counts_as_zeros() {
        // With ECM every t4-non-ecm field is TCF: a peer that sends the training
        // indicator and no TCF octets still gets CFR.
        complete(true, |ifp| {
            let (p, _) = Ifp::decode(ifp, 0).unwrap();
            !p.fields.iter().any(|f| {
                matches!(
                    f.field_type,
                    FieldType::T4NonEcmData | FieldType::T4NonEcmSigEnd
                )
            })
        });
    }

    /// The caller's first two fast training indicators lost (with the packets that would
    /// have carried them as redundancy), TCF's and the page's: the data that follows names
    /// the modem and rate, so the answerer takes TCF and the page from it. With ECM the
    /// first frame after the loss counts as bad (it may have lost its start with the
    /// indicator) and comes again after PPR.
    #[test]
    fn data_after_a_lost_training_indicator_brings_the_signal_up() {
        for ecm in [true, false] {
            let mut lost = 0;
            call_completes(
                ecm,
                |_, _| true,
                |ifp| {
                    let (p, _) = Ifp::decode(ifp, 0).unwrap();
                    let training =
                        matches!(p.msg, MsgType::Indicator(i) if indicator_modem(i).is_some());
                    if training {
                        lost += 1;
                    }
                    training && lost <= 2
                },
            );
            // With ECM the page's frame came again under a third training.
            assert_eq!(lost, if ecm { 3 } else { 2 }, "ECM {ecm}");
        }
    }

    /// TCF's end never arrives (its sig-end and the no-signal indicators after it lost, and
    /// no later packet until the caller's next signal): the answerer ends TCF when its data
    /// stops and answers CFR before the caller's T4 runs out, so DCS goes once.
    #[test]
    fn tcf_whose_end_is_lost_ends_when_its_data_stops() {
        let (o, _) = call_completes(
            true,
            |caller, ifp| {
                // With ECM only TCF travels as t4-non-ecm data; every other signal ends
                // with its own HDLC sig-end.
                let (p, _) = Ifp::decode(ifp, 0).unwrap();
                !caller
                    || !(matches!(p.msg, MsgType::Indicator(Indicator::NoSignal))
                        || p.fields
                            .iter()
                            .any(|f| f.field_type == FieldType::T4NonEcmSigEnd))
            },
            |_| false,
        );
        let dcs = o.frames.iter().filter(|f| f.name == "DCS").count();
        assert_eq!(dcs, 1, "{:?}", o.frames);
    }

    /// The answerer's MCF lost after its preamble indicator (the frame and the no-signal
    /// indicators after it, and no later packet until the answerer's next signal): the
    /// caller ends the V.21 signal when its IFPs stop, its T4 runs again, and the repeated
    /// post-page command gets the MCF that completes the call.
    #[test]
    fn v21_signal_whose_end_is_lost_ends_when_its_ifps_stop() {
        let mut dropped = 0;
        let (o, _) = call_completes(
            false,
            |caller, ifp| {
                let (p, _) = Ifp::decode(ifp, 0).unwrap();
                let mcf = p.fields.iter().any(|f| {
                    f.data
                        .as_deref()
                        .map(|d| hdlc_t38_order(d.to_vec(), u8::reverse_bits))
                        == Some(vec![0xFF, 0x13, 0x8C])
                });
                let no_signal = matches!(p.msg, MsgType::Indicator(Indicator::NoSignal));
                if !caller && dropped == 0 && mcf {
                    dropped = 1;
                    return false;
                }
                if !caller && dropped == 1 && no_signal {
                    return false;
                }
                if !caller && dropped == 1 {
                    // The answerer's next signal: from here on nothing is dropped.
                    dropped = 2;
                }
                true
            },
            |_| false,
        );
        assert_eq!(dropped, 2);
        let commands = o.frames.iter().filter(|f| f.name == "EOP").count();
        assert_eq!(commands, 2, "{:?}", o.frames);
    }
}
