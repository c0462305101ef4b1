//! Our endpoint: the T.30 engine driving our modems over audio.
//!
//! Transmit side: the engine's bursts become one transmitter each (a tone generator, V.21
//! channel 2 with HDLC, or the fast modem carrying TCF, image data or ECM frames); when a
//! transmitter has sent its closing sequence the engine hears `handle_tx_complete`. Receive
//! side: V.21 channel 2 listens whenever a control frame could arrive (a T.30 receiver must
//! notice a control preamble at any time; it rests while the far end's fast-modem data flows,
//! and while we send ours over a quiet line); the fast modem the engine asks for listens
//! beside it. A V.21 carrier counts as up once HDLC flags are seen, a fast carrier once its
//! training succeeded, so that neither modem's energy detector mistakes the other's signal
//! for its own.

use std::collections::VecDeque;

use modem::hdlc::{
    Deframing, HdlcDeframer, HdlcEvent, HdlcFramer, HdlcRxConfig, HdlcSink, HdlcTxConfig, TxFault,
};
use modem::tones::{ToneDetector, ToneEvent, ToneSegment, ToneTx};
use modem::{
    BitRegister, BitSource, ModemKind, Receiver, RxConfig, RxEvent, RxSink, Transmitter, TxConfig,
};
use t30::SampleTime;
use t30::engine::codec::ReceivedPages;
use t30::engine::{Action, Channel, Config, DocumentSource, Engine, RxMode, Tone, TxMode};
use t30::frame::dis::DisBits;
use t30::frame::dis::modem_name::Modem;
use t30::frame::{Fcf, Frame};

use super::{Endpoint, EndpointOutcome};

/// Transmit level of every signal we send, dBm0.
pub(crate) const TX_DBM0: f32 = modem::level::DEFAULT_TX_DBM0;
/// Zero fill after TCF or page data, ms.
pub(crate) const TAIL_MS: u32 = 30;
/// Flags before the first ECM frame on the fast modem (about 100 ms at 14 400 bit/s; at least
/// a few at the low rates).
pub(crate) fn fast_preamble_flags(rate: u32) -> u32 {
    (rate / 80).max(8)
}

/// The modem kind for a T.30 modem name.
pub fn modem_kind(m: Modem) -> ModemKind {
    match m {
        Modem::V27ter => ModemKind::V27ter,
        Modem::V29 => ModemKind::V29,
        Modem::V17 => ModemKind::V17,
    }
}

pub(crate) enum Item {
    /// A frame (without FCS) and whether its FCS is good.
    Frame(Vec<u8>, bool),
    /// This many flags.
    Flags(u32),
    /// Octets already in line order (least significant bit first).
    Raw(Vec<u8>),
}

/// The bits of one burst: queued frames, flags and raw octets, in the engine's order. After
/// the queue runs dry it idles (flags in HDLC, zeros otherwise) until the burst is stopped.
///
/// Bits wait in a register, least significant first, so that a transmitter takes a symbol's
/// worth in one [`BitSource::next_bits`] call. Only bits that are already decided go in it
/// (queued octets, frame bits, one idle flag or zero at a time), so items the engine queues
/// later follow exactly where they would one bit at a time.
pub(crate) struct BurstSource {
    pub(crate) items: VecDeque<Item>,
    framer: HdlcFramer,
    pub(crate) hdlc: bool,
    pub(crate) stopped: bool,
    raw: VecDeque<u8>,
    reg: BitRegister,
    /// Zero bits sent after the last octet of TCF or image data, before the carrier ends.
    pub(crate) tail_bits: u32,
}

impl BurstSource {
    pub(crate) fn new(hdlc: bool) -> Self {
        BurstSource {
            items: VecDeque::new(),
            framer: HdlcFramer::new(HdlcTxConfig {
                preamble_flags: 1,
                shared_flags: true,
                closing_flags: 1,
                idle_flags: true,
            }),
            hdlc,
            stopped: false,
            raw: VecDeque::new(),
            reg: BitRegister::default(),
            tail_bits: 0,
        }
    }

    /// Puts the next decided bits in the (empty) register; false once the burst has ended.
    fn refill(&mut self) -> bool {
        debug_assert!(self.reg.is_empty());
        loop {
            if !self.raw.is_empty() {
                // Up to eight queued octets, first octet in the low bits.
                let n = self.raw.len().min(8);
                let mut reg = 0u64;
                for (i, o) in self.raw.drain(..n).enumerate() {
                    reg |= (o as u64) << (8 * i);
                }
                self.reg.push(reg, 8 * n as u32);
                return true;
            }
            if let Some((bits, len)) = self.framer.next_pending_word() {
                self.reg.push(bits, len);
                return true;
            }
            match self.items.pop_front() {
                Some(Item::Frame(bytes, ok)) => {
                    let fault = if ok { TxFault::None } else { TxFault::BadFcs };
                    self.framer.push_with_fault(&bytes, fault);
                }
                Some(Item::Flags(n)) => self.raw.extend(std::iter::repeat_n(0x7E, n as usize)),
                Some(Item::Raw(bytes)) => self.raw.extend(bytes),
                None if self.stopped && !self.hdlc && self.tail_bits > 0 => {
                    self.tail_bits -= 1;
                    self.reg.push(0, 1);
                    return true;
                }
                None if self.stopped => return false,
                None if self.hdlc => {
                    self.reg.push(0x7E, 8);
                    return true;
                }
                None => {
                    self.reg.push(0, 1);
                    return true;
                }
            }
        }
    }
}

impl BitSource for BurstSource {
    fn next_bit(&mut self) -> Option<bool> {
        if self.reg.is_empty() && !self.refill() {
            return None;
        }
        self.reg.pop_bit()
    }

    fn next_bits(&mut self, n: u32) -> (u32, u32) {
        let mut bits = 0u32;
        let mut got = 0;
        while got < n {
            if self.reg.is_empty() && !self.refill() {
                break;
            }
            let (more, k) = self.reg.pop_bits(n - got);
            bits |= more << got;
            got += k;
        }
        (bits, got)
    }
}

enum Tx {
    Idle,
    Tone(ToneTx),
    Modem {
        tx: Box<dyn Transmitter + Send>,
        src: BurstSource,
        fast: Option<u32>,
    },
}

/// What the receivers reported in one block, in order.
#[derive(Debug)]
pub(crate) enum Heard {
    Preamble,
    Frame(Vec<u8>, bool),
    ControlDown,
    Fast(RxEvent),
    FastFrame(Vec<u8>, bool),
    Data(Vec<u8>),
}

#[derive(Default)]
pub(crate) struct V21Sink {
    pub(crate) heard: Vec<Heard>,
}

impl HdlcSink for V21Sink {
    fn hdlc_event(&mut self, event: HdlcEvent<'_>) {
        match event {
            HdlcEvent::Preamble => self.heard.push(Heard::Preamble),
            HdlcEvent::Frame { data, crc_ok } => {
                self.heard.push(Heard::Frame(data.to_vec(), crc_ok))
            }
            _ => {}
        }
    }
    fn rx_event(&mut self, event: RxEvent) {
        if event == RxEvent::CarrierDown {
            self.heard.push(Heard::ControlDown);
        }
    }
}

/// Fast-modem bits: HDLC frames (ECM) or octets, most significant bit first (TCF, image).
pub(crate) struct FastSink<'a> {
    pub(crate) heard: &'a mut Vec<Heard>,
    pub(crate) st: &'a mut FastState,
    pub(crate) hdlc: bool,
    pub(crate) bytes: Vec<u8>,
}

/// Receive state of the fast modem that outlives a block.
pub(crate) struct FastState {
    pub(crate) deframer: HdlcDeframer,
    pub(crate) trained: bool,
    pub(crate) octet: u8,
    pub(crate) nbits: u8,
}

/// In HDLC mode, `FastState::nbits` counts the bits waiting for the deframer from this
/// value up, so that a partial octet of the other mode is never taken for them.
const HDLC_PENDING: u8 = 16;

impl FastSink<'_> {
    /// Hands on what is waiting: HDLC bits short of an octet to the deframer, octets to
    /// `heard`. Called before every event and at the end of each block, so frames and
    /// events keep their order.
    pub(crate) fn flush(&mut self) {
        if self.hdlc && self.st.nbits > HDLC_PENDING {
            let mut frames = FastFrames(self.heard);
            for i in 0..self.st.nbits - HDLC_PENDING {
                self.st
                    .deframer
                    .push_bit(self.st.octet >> i & 1 != 0, &mut frames);
            }
            self.st.nbits = 0;
        }
        if !self.bytes.is_empty() {
            self.heard
                .push(Heard::Data(std::mem::take(&mut self.bytes)));
        }
    }
}

struct FastFrames<'a>(&'a mut Vec<Heard>);

impl HdlcSink for FastFrames<'_> {
    fn hdlc_event(&mut self, event: HdlcEvent<'_>) {
        if let HdlcEvent::Frame { data, crc_ok } = event {
            self.0.push(Heard::FastFrame(data.to_vec(), crc_ok));
        }
    }
}

impl RxSink for FastSink<'_> {
    fn bit(&mut self, bit: bool) {
        let st = &mut *self.st;
        if !st.trained {
            return;
        }
        if self.hdlc {
            // Eight bits at a time (least significant first) for the deframer's octet path.
            if st.nbits < HDLC_PENDING {
                st.octet = 0;
                st.nbits = HDLC_PENDING;
            }
            st.octet |= (bit as u8) << (st.nbits - HDLC_PENDING);
            st.nbits += 1;
            if st.nbits == HDLC_PENDING + 8 {
                st.nbits = HDLC_PENDING;
                let octet = std::mem::take(&mut st.octet);
                st.deframer.push_byte(octet, &mut FastFrames(self.heard));
            }
        } else {
            st.octet = st.octet << 1 | bit as u8;
            st.nbits += 1;
            if st.nbits == 8 {
                self.bytes.push(st.octet);
                st.nbits = 0;
            }
        }
    }

    /// A symbol's bits at once: on the HDLC path they go into the pending octet in runs
    /// (the same octets as bit by bit); elsewhere one by one.
    fn bits(&mut self, mut bits: u32, mut n: u32) {
        if !self.hdlc || !self.st.trained {
            for i in 0..n {
                self.bit((bits >> i) & 1 != 0);
            }
            return;
        }
        let st = &mut *self.st;
        if st.nbits < HDLC_PENDING {
            st.octet = 0;
            st.nbits = HDLC_PENDING;
        }
        while n > 0 {
            let filled = u32::from(st.nbits - HDLC_PENDING);
            let take = (8 - filled).min(n);
            st.octet |= ((bits & ((1u32 << take) - 1)) << filled) as u8;
            st.nbits += take as u8;
            bits = bits.checked_shr(take).unwrap_or(0);
            n -= take;
            if st.nbits == HDLC_PENDING + 8 {
                st.nbits = HDLC_PENDING;
                let octet = std::mem::take(&mut st.octet);
                st.deframer.push_byte(octet, &mut FastFrames(self.heard));
            }
        }
    }

    fn event(&mut self, event: RxEvent) {
        self.flush();
        match event {
            RxEvent::TrainingSucceeded { .. } => {
                self.st.trained = true;
                self.st.nbits = 0;
                self.st.deframer.reset();
            }
            RxEvent::CarrierDown => self.st.trained = false,
            _ => {}
        }
        self.heard.push(Heard::Fast(event));
    }
}

struct FastRx {
    modem: Modem,
    rate: u32,
    rx: Box<dyn Receiver + Send>,
    st: FastState,
}

/// The T.30 engine with our modems, as an audio endpoint.
pub struct Builtin {
    engine: Engine,
    tx: Tx,
    v21: Box<dyn Receiver + Send>,
    v21_deframer: HdlcDeframer,
    tones: ToneDetector,
    fast: Option<FastRx>,
    listen_fast: bool,
    control_up: bool,
    fast_up: bool,
    /// The next V.17 training is a long one (a DCS announced a new TCF).
    expect_long: bool,
    /// The last DCS asked for ECM: fast-modem data is HDLC frames.
    ecm: bool,
    /// The next fast burst is TCF (plain octets even in ECM).
    tcf_next: bool,
    hung_up: bool,
    /// The V.21 receiver and tone detector are resting while fast data flows in or out.
    resting: bool,
    /// Consecutive received blocks without energy.
    quiet_blocks: u32,

    received: Option<ReceivedPages>,
    heard: Vec<Heard>,
}

impl Builtin {
    /// An endpoint running `cfg` with these documents to send; `received` is the handle of
    /// the engine's page sink, if it has one, so the pages can be collected after the call.
    pub fn new(
        cfg: Config,
        docs: Vec<Box<dyn DocumentSource>>,
        sink: Option<Box<dyn t30::engine::PageSink>>,
        received: Option<ReceivedPages>,
    ) -> Result<Builtin, String> {
        let engine = Engine::new(cfg, docs, sink).map_err(|e| e.to_string())?;
        let v21 = modem::new_receiver(
            ModemKind::V21Ch2,
            &RxConfig {
                rate: 300,
                short_train: false,
            },
        )
        .map_err(|e| e.to_string())?;
        Ok(Builtin {
            engine,
            tx: Tx::Idle,
            v21,
            v21_deframer: HdlcDeframer::new(HdlcRxConfig::default()),
            tones: ToneDetector::new(),
            fast: None,
            listen_fast: false,
            control_up: false,
            fast_up: false,
            expect_long: true,
            ecm: false,
            tcf_next: false,
            hung_up: false,
            resting: false,
            quiet_blocks: 0,
            received,
            heard: Vec::new(),
        })
    }

    /// The engine (for its trace and outcome).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The received pages handle.
    pub fn received(&self) -> Option<&ReceivedPages> {
        self.received.as_ref()
    }

    fn note_frame(&mut self, bytes: &[u8]) {
        if let Ok(f) = Frame::parse(bytes)
            && let Some((Fcf::DCS, _)) = f.kind()
        {
            self.ecm = DisBits::from_fif(&f.fif).bit(27);
            self.expect_long = true;
            self.tcf_next = true;
        }
    }

    fn drain(&mut self, now: SampleTime) {
        while let Some(a) = self.engine.poll_action() {
            match a {
                Action::StartTx(mode) => {
                    let (kind, cfg, fast) = match mode {
                        TxMode::V21 => (
                            ModemKind::V21Ch2,
                            TxConfig {
                                rate: 300,
                                short_train: false,
                                level_dbm0: TX_DBM0,
                            },
                            None,
                        ),
                        TxMode::Fast {
                            modem,
                            rate,
                            short_train,
                        } => (
                            modem_kind(modem),
                            TxConfig {
                                rate,
                                short_train,
                                level_dbm0: TX_DBM0,
                            },
                            Some(rate),
                        ),
                    };
                    let tx =
                        modem::new_transmitter(kind, &cfg).expect("engine asks for valid modems");
                    let mut src = BurstSource::new(fast.is_none());
                    // Fill after the data so that the far receiver's filters and decoder
                    // have delivered the last data bits before the carrier drops.
                    src.tail_bits = fast.map_or(0, |rate| rate * TAIL_MS / 1000);
                    if fast.is_none() {
                        src.items
                            .push_back(Item::Flags(modem::hdlc::T30_PREAMBLE_FLAGS as u32));
                    }
                    self.tx = Tx::Modem { tx, src, fast };
                }
                Action::SendFrame { bytes, fcs_ok } => {
                    self.note_frame(&bytes);
                    if let Tx::Modem { src, fast, .. } = &mut self.tx {
                        if let Some(rate) = *fast
                            && !src.hdlc
                        {
                            src.hdlc = true;
                            src.items.push_back(Item::Flags(fast_preamble_flags(rate)));
                        }
                        src.items
                            .push_back(Item::Frame(ecm_line_order(bytes), fcs_ok));
                    }
                }
                Action::SendFlags { count } => {
                    if let Tx::Modem { src, .. } = &mut self.tx {
                        src.items.push_back(Item::Flags(count));
                    }
                }
                Action::SendTcf { bytes } => {
                    if let Tx::Modem { src, .. } = &mut self.tx {
                        src.items.push_back(Item::Raw(bytes));
                    }
                }
                Action::SendImage { bytes } => {
                    if let Tx::Modem { src, .. } = &mut self.tx {
                        // The codec's octets go most significant bit first.
                        src.items
                            .push_back(Item::Raw(bytes.iter().map(|b| b.reverse_bits()).collect()));
                    }
                }
                Action::StopTx => {
                    if let Tx::Modem { src, .. } = &mut self.tx {
                        src.stopped = true;
                    }
                }
                Action::SendTone { tone, ms } => {
                    let ms = ms.min(u32::MAX as u64) as u32;
                    self.tx = Tx::Tone(match tone {
                        Tone::Ced => ToneTx::ced(ms, false, TX_DBM0),
                        Tone::Cng => ToneTx::new(
                            &[ToneSegment {
                                freq_hz: 1100.0,
                                duration_ms: ms,
                            }],
                            false,
                            TX_DBM0,
                        ),
                    });
                }
                Action::Listen(mode) => self.listen(mode),
                Action::HangUp => self.hung_up = true,
            }
        }
        let _ = now;
    }

    fn listen(&mut self, mode: RxMode) {
        match mode {
            RxMode::V21 => self.listen_fast = false,
            RxMode::Fast { modem, rate } => {
                self.listen_fast = true;
                let short_train = modem == Modem::V17 && !self.expect_long;
                let cfg = RxConfig { rate, short_train };
                match &mut self.fast {
                    Some(f) if f.modem == modem && f.rate == rate => {
                        f.rx.restart(&cfg).expect("valid rate");
                    }
                    _ => {
                        let rx = modem::new_receiver(
                            modem_kind(modem),
                            &RxConfig {
                                rate,
                                short_train: false,
                            },
                        )
                        .expect("engine asks for valid modems");
                        self.fast = Some(FastRx {
                            modem,
                            rate,
                            rx,
                            st: FastState {
                                deframer: HdlcDeframer::new(HdlcRxConfig::default()),
                                trained: false,
                                octet: 0,
                                nbits: 0,
                            },
                        });
                    }
                }
                if let Some(f) = self.fast.as_mut() {
                    f.st.trained = false;
                }
            }
        }
    }

    fn deliver(&mut self, now: SampleTime) {
        let heard = std::mem::take(&mut self.heard);
        for h in heard {
            match h {
                Heard::Preamble => {
                    if !self.control_up {
                        self.control_up = true;
                        self.engine.handle_carrier(Channel::Control, true, now);
                    }
                }
                Heard::Frame(bytes, ok) => {
                    // A bad frame may be the V.21 demodulator's reading of a fast signal.
                    if ok && !self.control_up {
                        self.control_up = true;
                        self.engine.handle_carrier(Channel::Control, true, now);
                    }
                    if ok {
                        self.note_frame(&bytes);
                    }
                    self.engine.handle_frame(&bytes, ok, now);
                }
                Heard::ControlDown => {
                    if self.control_up {
                        self.control_up = false;
                        self.engine.handle_carrier(Channel::Control, false, now);
                    }
                }
                Heard::Fast(ev) => match ev {
                    RxEvent::TrainingSucceeded { .. } => {
                        self.expect_long = false;
                        self.fast_up = true;
                        self.engine.handle_training(true, now);
                        self.engine.handle_carrier(Channel::Fast, true, now);
                    }
                    RxEvent::TrainingFailed => self.engine.handle_training(false, now),
                    RxEvent::CarrierDown => {
                        self.engine.handle_fast_energy(false, now);
                        if std::mem::replace(&mut self.fast_up, false) {
                            self.tcf_next = false;
                            self.engine.handle_carrier(Channel::Fast, false, now);
                            // The next burst of this modem (ECM block, next page) is short-trained.
                            if let Some(f) = self.fast.as_mut() {
                                let short_train = f.modem == Modem::V17 && !self.expect_long;
                                let _ = f.rx.restart(&RxConfig {
                                    rate: f.rate,
                                    short_train,
                                });
                            }
                        }
                    }
                    RxEvent::CarrierUp { .. } => self.engine.handle_fast_energy(true, now),
                },
                Heard::FastFrame(bytes, ok) => {
                    self.engine.handle_frame(&ecm_line_order(bytes), ok, now)
                }
                Heard::Data(bytes) => self.engine.handle_data(&bytes, now),
            }
        }
    }
}

impl Endpoint for Builtin {
    fn start(&mut self, now: SampleTime) {
        self.engine.handle_start(now);
        self.drain(now);
    }

    fn transmit(&mut self, now: SampleTime, out: &mut [i16]) {
        out.fill(0);
        let mut pos = 0;
        loop {
            self.drain(now + SampleTime(pos as u64));
            let done = match &mut self.tx {
                Tx::Idle => break,
                Tx::Tone(t) => {
                    let n = t.fill(&mut out[pos..], &mut || None);
                    pos += n;
                    t.is_finished()
                }
                Tx::Modem { tx, src, .. } => {
                    let n = tx.fill(&mut out[pos..], src);
                    pos += n;
                    tx.is_finished()
                }
            };
            if !done {
                break;
            }
            self.tx = Tx::Idle;
            self.engine.handle_tx_complete(now + SampleTime(pos as u64));
            if pos >= out.len() {
                self.drain(now + SampleTime(pos as u64));
                break;
            }
        }
    }

    fn receive(&mut self, now: SampleTime, samples: &[i16]) {
        let end = now + SampleTime(samples.len() as u64);
        // Half duplex: while the far end's fast-modem data flows nothing else can arrive,
        // so the V.21 receiver and the tone detector rest, as fax terminals do, and start
        // afresh when the fast carrier drops. While we send fast-modem data ourselves they
        // rest too once the line has been quiet for a while (nothing there for them, and
        // nothing they were still holding), and start afresh on the first block with
        // energy: whatever the far end or an echo brings is still heard. Most of a call's
        // time is page data, one way or the other.
        self.quiet_blocks = if is_quiet(samples) {
            self.quiet_blocks.saturating_add(1)
        } else {
            0
        };
        let sending_fast = matches!(self.tx, Tx::Modem { fast: Some(_), .. });
        let resting = self.fast_up || (sending_fast && self.quiet_blocks >= QUIET_BLOCKS_TO_REST);
        if resting && !self.resting {
            let _ = self.v21.restart(&RxConfig {
                rate: 300,
                short_train: false,
            });
            self.v21_deframer = HdlcDeframer::new(HdlcRxConfig::default());
            self.tones = ToneDetector::new();
            self.heard.push(Heard::ControlDown);
        }
        self.resting = resting;
        if !resting {
            let mut sink = V21Sink {
                heard: std::mem::take(&mut self.heard),
            };
            self.v21.process(
                samples,
                &mut Deframing {
                    deframer: &mut self.v21_deframer,
                    sink: &mut sink,
                },
            );
            self.heard = sink.heard;
        }
        if self.listen_fast
            && let Some(f) = self.fast.as_mut()
        {
            let mut sink = FastSink {
                heard: &mut self.heard,
                st: &mut f.st,
                hdlc: self.ecm && !self.tcf_next,
                bytes: Vec::new(),
            };
            f.rx.process(samples, &mut sink);
            sink.flush();
        }
        let engine = &mut self.engine;
        if !resting {
            self.tones.process(samples, &mut |ev| match ev {
                ToneEvent::On { tone, .. } => engine.handle_tone(tone_of(tone), true, end),
                ToneEvent::Off { tone, .. } => engine.handle_tone(tone_of(tone), false, end),
            });
        }
        self.deliver(end);
        self.engine.handle_timeout(end);
        self.drain(end);
    }

    fn line_cleared(&mut self, now: SampleTime) {
        self.engine.handle_hangup(now);
        self.tx = Tx::Idle;
    }

    fn hung_up(&self) -> bool {
        self.hung_up
    }

    fn finished(&self) -> bool {
        self.engine.is_finished() && matches!(self.tx, Tx::Idle)
    }

    fn outcome(&self) -> Option<EndpointOutcome> {
        self.engine.outcome().map(EndpointOutcome::Builtin)
    }
}

/// A received block is quiet under this mean power, dBm0: well below the V.21 carrier's
/// off threshold (−48 dBm0 in band) and the tone detector's (−51 dBm0), so neither could
/// find anything in it; the A-law idle pattern and −60 dBm0 line noise are quiet.
const QUIET_DBM0: f32 = -55.0;
/// Quiet blocks (20 ms each) before the V.21 receiver and tone detector rest while we send
/// fast data: long enough for either to have let go of a signal that ended just before.
const QUIET_BLOCKS_TO_REST: u32 = 3;

/// True when `samples` hold less mean power than [`QUIET_DBM0`].
fn is_quiet(samples: &[i16]) -> bool {
    let energy: i64 = samples.iter().map(|&x| x as i64 * x as i64).sum();
    let limit = modem::level::dbm0_to_rms(QUIET_DBM0).powi(2) * samples.len() as f32;
    (energy as f32) < limit
}

/// FCD frames carry coded image octets, which the engine holds in the codec's order (most
/// significant bit first); on the line the coded bits go in their own order, first bit
/// first, so inside an LSB-first HDLC frame each data octet is bit-reversed. The reversal is
/// its own inverse, so the same function serves both directions.
pub(crate) fn ecm_line_order(mut frame: Vec<u8>) -> Vec<u8> {
    const FCD: u8 = 0x06;
    if frame.len() > 4 && frame[2] == FCD {
        for b in &mut frame[4..] {
            *b = b.reverse_bits();
        }
    }
    frame
}

fn tone_of(t: modem::tones::Tone) -> Tone {
    match t {
        modem::tones::Tone::Ced => Tone::Ced,
        modem::tones::Tone::Cng => Tone::Cng,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames_of(src: &mut BurstSource, max_bits: usize) -> Vec<(Vec<u8>, bool)> {
        let mut d = HdlcDeframer::new(HdlcRxConfig::default());
        let mut got = Vec::new();
        let mut sink = |e: HdlcEvent<'_>| {
            if let HdlcEvent::Frame { data, crc_ok } = e {
                got.push((data.to_vec(), crc_ok));
            }
        };
        let mut n = 0;
        while let Some(b) = src.next_bit() {
            d.push_bit(b, &mut sink);
            n += 1;
            if n > max_bits {
                break;
            }
        }
        got
    }

    #[test]
    fn burst_source_frames_in_order_then_ends() {
        let mut s = BurstSource::new(true);
        s.items.push_back(Item::Flags(10));
        s.items
            .push_back(Item::Frame(vec![0xFF, 0x03, 0x06, 0x01, 0x7E, 0xFF], true));
        s.items
            .push_back(Item::Frame(vec![0xFF, 0x13, 0x80], false));
        s.items.push_back(Item::Frame(vec![0xFF, 0x13, 0x86], true));
        s.stopped = true;
        let got = frames_of(&mut s, 100_000);
        assert_eq!(
            got,
            vec![
                (vec![0xFF, 0x03, 0x06, 0x01, 0x7E, 0xFF], true),
                (vec![0xFF, 0x13, 0x80], false),
                (vec![0xFF, 0x13, 0x86], true)
            ]
        );
        assert_eq!(s.next_bit(), None);
    }

    fn mixed_burst(hdlc: bool) -> BurstSource {
        let mut s = BurstSource::new(hdlc);
        s.items.push_back(Item::Flags(3));
        s.items
            .push_back(Item::Raw(vec![0x01, 0x80, 0xA5, 0x3C, 0xFF]));
        s.items.push_back(Item::Frame(
            vec![0xFF, 0x03, 0x06, 0x01, 0x7E, 0xFF, 0xFF],
            true,
        ));
        s.items
            .push_back(Item::Frame(vec![0xFF, 0x13, 0x80], false));
        s.items.push_back(Item::Flags(2));
        s.items.push_back(Item::Raw((0..=255).collect()));
        s.tail_bits = 37;
        s
    }

    #[test]
    fn next_bits_gives_the_bits_next_bit_gives() {
        for hdlc in [false, true] {
            let mut one = mixed_burst(hdlc);
            // Some idle bits before the stop, as while the engine is still queueing.
            let mut want: Vec<bool> = (0..3000).map(|_| one.next_bit().unwrap()).collect();
            one.stopped = true;
            want.extend(std::iter::from_fn(|| one.next_bit()));
            for step in [1, 2, 3, 4, 5, 7, 32] {
                let mut many = mixed_burst(hdlc);
                let mut got = Vec::new();
                while got.len() < 3000 {
                    let n = step.min(3000 - got.len()) as u32;
                    let (bits, k) = many.next_bits(n);
                    assert_eq!(k, n);
                    got.extend((0..k).map(|i| bits >> i & 1 != 0));
                }
                many.stopped = true;
                loop {
                    let (bits, k) = many.next_bits(step as u32);
                    got.extend((0..k).map(|i| bits >> i & 1 != 0));
                    if k < step as u32 {
                        break;
                    }
                }
                assert_eq!(got, want, "hdlc {hdlc}, {step} bits at a time");
            }
        }
    }

    #[test]
    fn items_queued_while_idling_follow_at_once() {
        for hdlc in [false, true] {
            let mut one = BurstSource::new(hdlc);
            let mut many = BurstSource::new(hdlc);
            let mut a: Vec<bool> = (0..13).map(|_| one.next_bit().unwrap()).collect();
            let (bits, k) = many.next_bits(13);
            let mut b: Vec<bool> = (0..k).map(|i| bits >> i & 1 != 0).collect();
            for s in [&mut one, &mut many] {
                s.items.push_back(Item::Raw(vec![0xFF, 0x00, 0xFF]));
                s.stopped = true;
            }
            a.extend(std::iter::from_fn(|| one.next_bit()));
            loop {
                let (bits, k) = many.next_bits(6);
                b.extend((0..k).map(|i| bits >> i & 1 != 0));
                if k < 6 {
                    break;
                }
            }
            assert_eq!(a, b, "hdlc {hdlc}");
        }
    }

    #[test]
    fn quiet_blocks_are_the_idle_line_and_noise_not_signals() {
        // A-law idle decodes to ±8; −60 dBm0 noise is about 16 rms; a −43 dBm0 tone is not.
        assert!(is_quiet(&[8i16; 160]));
        assert!(is_quiet(&[0i16; 160]));
        let amp = modem::level::dbm0_to_rms(-60.0) as i16;
        let noise: Vec<i16> = (0..160)
            .map(|i| if i % 2 == 0 { amp } else { -amp })
            .collect();
        assert!(is_quiet(&noise));
        let tone: Vec<i16> = (0..160)
            .map(|i| {
                let a = modem::level::dbm0_to_rms(-43.0) * std::f32::consts::SQRT_2;
                (a * (i as f32 * 0.3).sin()) as i16
            })
            .collect();
        assert!(!is_quiet(&tone));
    }

    /// The fast-modem sink gives the same frames and octets whether the receiver hands it
    /// bits one by one or a symbol's worth at once, across block ends (flushes) and with a
    /// partial octet pending.
    #[test]
    fn fast_sink_takes_bits_at_once_as_one_by_one() {
        let mut s = BurstSource::new(true);
        s.items.push_back(Item::Flags(7));
        for k in 0..12u8 {
            let frame: Vec<u8> = (0..3 + k as usize * 5)
                .map(|i| k ^ (i as u8).wrapping_mul(37))
                .collect();
            s.items.push_back(Item::Frame(frame, k % 3 != 1));
        }
        s.stopped = true;
        let mut stream = Vec::new();
        while let Some(b) = s.next_bit() {
            stream.push(b);
        }
        for hdlc in [true, false] {
            let state = || FastState {
                deframer: HdlcDeframer::new(HdlcRxConfig::default()),
                trained: true,
                octet: 0,
                nbits: 0,
            };
            let (mut one_st, mut group_st) = (state(), state());
            let (mut one_heard, mut group_heard) = (Vec::new(), Vec::new());
            let mut x = 7u32;
            let mut pos = 0;
            while pos < stream.len() {
                // A block of a few symbols, then a flush, as at the end of each audio block.
                let mut one = FastSink {
                    heard: &mut one_heard,
                    st: &mut one_st,
                    hdlc,
                    bytes: Vec::new(),
                };
                let mut group = FastSink {
                    heard: &mut group_heard,
                    st: &mut group_st,
                    hdlc,
                    bytes: Vec::new(),
                };
                for _ in 0..5 {
                    x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    let n = (1 + (x >> 16) % 7).min((stream.len() - pos) as u32);
                    let mut word = 0u32;
                    for i in 0..n as usize {
                        one.bit(stream[pos + i]);
                        word |= u32::from(stream[pos + i]) << i;
                    }
                    group.bits(word, n);
                    pos += n as usize;
                }
                one.flush();
                group.flush();
            }
            assert_eq!(
                format!("{one_heard:?}"),
                format!("{group_heard:?}"),
                "hdlc {hdlc}"
            );
            let frames = group_heard
                .iter()
                .filter(|h| matches!(h, Heard::FastFrame(..)))
                .count();
            assert!(!hdlc || frames == 12, "{frames} frames");
        }
    }

    #[test]
    fn raw_octets_go_least_significant_bit_first() {
        let mut s = BurstSource::new(false);
        s.items.push_back(Item::Raw(vec![0x01, 0x80]));
        s.stopped = true;
        let bits: Vec<bool> = std::iter::from_fn(|| s.next_bit()).collect();
        let mut want = vec![false; 16];
        want[0] = true;
        want[15] = true;
        assert_eq!(bits, want);
    }
}
