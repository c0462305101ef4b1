//! HDLC framing for the T.30 control channel and ECM (T.30 §5.3, ISO/IEC 3309).
//!
//! A frame travels as: flag `0x7E`, the data octets and a 16-bit FCS (see [`crate::crc`]),
//! all least significant bit first with a zero inserted after every five consecutive ones,
//! then a closing flag, which may also open the next frame. Seven or more consecutive ones
//! abort a frame. T.30 sends about one second of flags before the first frame of a V.21
//! transmission (≈ 38 flags at 300 bit/s).
//!
//! [`HdlcFramer`] is a [`BitSource`] that turns queued frames into that bit stream (also a
//! word of up to 64 bits at a time). [`HdlcDeframer`] takes bits one at a time (or eight at
//! a time) and reports [`HdlcEvent`]s through an
//! [`HdlcSink`]; it never allocates after construction and re-synchronises on the next flag
//! whatever came before.

use crate::crc;
use crate::{BitRegister, BitSource, RxEvent, RxSink};
use std::collections::VecDeque;

/// The HDLC flag octet.
pub const FLAG: u8 = 0x7E;

/// Flags in one second at 300 bit/s: the T.30 preamble before the first V.21 frame.
pub const T30_PREAMBLE_FLAGS: usize = 38;

/// Transmit-side framing options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HdlcTxConfig {
    /// Flags sent before the first frame (T.30: one second's worth).
    pub preamble_flags: usize,
    /// One flag both closes a frame and opens the next (`true`), or two separate flags.
    pub shared_flags: bool,
    /// Flags after the last queued frame (at least one is always sent).
    pub closing_flags: usize,
    /// Keep sending flags when the queue is empty instead of ending the bit stream.
    pub idle_flags: bool,
}

impl Default for HdlcTxConfig {
    fn default() -> Self {
        HdlcTxConfig {
            preamble_flags: T30_PREAMBLE_FLAGS,
            shared_flags: true,
            closing_flags: 2,
            idle_flags: false,
        }
    }
}

/// A deliberate defect on one transmitted frame, for fault injection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TxFault {
    /// Send the frame as it is.
    #[default]
    None,
    /// Send the frame with a corrupted FCS.
    BadFcs,
    /// Send this many data octets, then an abort sequence instead of the rest.
    AbortAfter(usize),
}

#[derive(Debug, Clone)]
struct QueuedFrame {
    /// Data followed by the two FCS octets.
    octets: Vec<u8>,
    /// Octet index at which to abort, if any.
    abort_at: Option<usize>,
}

/// One octet zero-stuffed after `ones` consecutive ones: the line bits (least significant
/// first), how many, and the run of ones after it.
#[derive(Debug, Clone, Copy)]
struct Stuffed {
    bits: u16,
    len: u8,
    ones: u8,
}

/// [`Stuffed`] for every run (0–4) and octet: stuffing an octet at a time.
const fn build_stuff_table() -> [[Stuffed; 256]; 5] {
    let mut table = [[Stuffed {
        bits: 0,
        len: 0,
        ones: 0,
    }; 256]; 5];
    let mut ones = 0;
    while ones < 5 {
        let mut byte = 0;
        while byte < 256 {
            let mut run = ones as u8;
            let mut bits = 0u16;
            let mut len = 0u8;
            let mut i = 0;
            while i < 8 {
                if byte >> i & 1 != 0 {
                    bits |= 1 << len;
                    len += 1;
                    run += 1;
                    if run == 5 {
                        // The inserted zero.
                        len += 1;
                        run = 0;
                    }
                } else {
                    len += 1;
                    run = 0;
                }
                i += 1;
            }
            table[ones][byte] = Stuffed {
                bits,
                len,
                ones: run,
            };
            byte += 1;
        }
        ones += 1;
    }
    table
}

static STUFF: [[Stuffed; 256]; 5] = build_stuff_table();

/// Turns queued frames into an HDLC bit stream: preamble flags, stuffed frames with their
/// FCS, closing flags, then `None` (or idle flags).
///
/// Frames queued after the framer has returned `None` start a new transmission with a new
/// preamble. Octets are stuffed a whole octet at a time (table-driven) into a bit register
/// that [`BitSource::next_bit`] drains a bit at a time and [`HdlcFramer::next_word`] up to
/// 64 bits at a time.
#[derive(Debug, Clone)]
pub struct HdlcFramer {
    cfg: HdlcTxConfig,
    queue: VecDeque<QueuedFrame>,
    current: Option<QueuedFrame>,
    /// Next octet of `current` to send.
    pos: usize,
    /// Consecutive data ones sent, for zero insertion.
    ones: u8,
    /// Line bits ready to go out.
    reg: BitRegister,
    flags_pending: usize,
    running: bool,
}

impl HdlcFramer {
    /// A framer with the given options and an empty queue.
    pub fn new(cfg: HdlcTxConfig) -> Self {
        HdlcFramer {
            cfg,
            queue: VecDeque::new(),
            current: None,
            pos: 0,
            ones: 0,
            reg: BitRegister::default(),
            flags_pending: 0,
            running: false,
        }
    }

    /// Queues a frame (address, control and information octets; the FCS is added here).
    pub fn push(&mut self, data: &[u8]) {
        self.push_with_fault(data, TxFault::None);
    }

    /// Queues a frame with a deliberate defect.
    pub fn push_with_fault(&mut self, data: &[u8], fault: TxFault) {
        let mut octets = Vec::with_capacity(data.len() + 2);
        octets.extend_from_slice(data);
        let mut fcs = crc::fcs(data);
        if fault == TxFault::BadFcs {
            fcs ^= 0xFFFF;
        }
        octets.extend_from_slice(&fcs.to_le_bytes());
        let abort_at = match fault {
            TxFault::AbortAfter(n) => Some(n.min(data.len())),
            _ => None,
        };
        self.queue.push_back(QueuedFrame { octets, abort_at });
    }

    /// Frames queued and not yet started.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// True when nothing is queued or being sent (the next pull ends the stream or idles).
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
            && self.current.is_none()
            && self.flags_pending == 0
            && self.reg.is_empty()
    }

    #[inline]
    fn load(&mut self, bits: u64, len: u32) {
        self.reg.push(bits, len);
    }

    /// Appends the next piece of the stream (a flag, an abort, one stuffed octet) to the
    /// register; false at the end of the stream.
    fn refill(&mut self) -> bool {
        loop {
            if self.flags_pending > 0 {
                self.flags_pending -= 1;
                self.load(FLAG as u64, 8);
                return true;
            }
            if let Some(frame) = &self.current {
                if frame.abort_at == Some(self.pos) {
                    // Eight ones: an abort by any receiver's count (seven or more).
                    self.current = None;
                    self.ones = 0;
                    self.load(0xFF, 8);
                    self.flags_pending = 1;
                    return true;
                }
                if let Some(&octet) = frame.octets.get(self.pos) {
                    self.pos += 1;
                    let s = STUFF[self.ones as usize][octet as usize];
                    self.ones = s.ones;
                    self.load(s.bits as u64, s.len as u32);
                    return true;
                }
                self.current = None;
                self.ones = 0;
                self.flags_pending = if self.queue.is_empty() {
                    self.cfg.closing_flags.max(1)
                } else if self.cfg.shared_flags {
                    1
                } else {
                    2
                };
                continue;
            }
            if let Some(next) = self.queue.pop_front() {
                if !self.running {
                    self.running = true;
                    self.flags_pending = self.cfg.preamble_flags.max(1);
                }
                self.current = Some(next);
                self.pos = 0;
                self.ones = 0;
                continue;
            }
            if self.cfg.idle_flags && self.running {
                self.load(FLAG as u64, 8);
                return true;
            }
            self.running = false;
            return false;
        }
    }

    /// The next bits of the stream at once, least significant first: `(bits, count)` with
    /// 1 ≤ count ≤ 64, exactly the bits [`BitSource::next_bit`] would give one by one, or
    /// `None` at the end of the stream. With idle flags it never ends.
    pub fn next_word(&mut self) -> Option<(u64, u32)> {
        // A refill adds at most 10 bits.
        while self.reg.len() <= 54 && self.refill() {}
        self.reg.take()
    }

    /// As [`HdlcFramer::next_word`], but only the bits of what is queued or being sent
    /// (preamble, frames, closing flags): no idle flag is ever taken, so the caller can
    /// follow the frames with its own bits once [`HdlcFramer::is_empty`] says so. `None`
    /// when nothing is pending.
    pub fn next_pending_word(&mut self) -> Option<(u64, u32)> {
        while self.reg.len() <= 54
            && (self.flags_pending > 0 || self.current.is_some() || !self.queue.is_empty())
            && self.refill()
        {}
        self.reg.take()
    }
}

impl BitSource for HdlcFramer {
    #[inline]
    fn next_bit(&mut self) -> Option<bool> {
        if self.reg.is_empty() && !self.refill() {
            return None;
        }
        self.reg.pop_bit()
    }
}

/// Receive-side framing options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HdlcRxConfig {
    /// Longest frame accepted, in data octets (without FCS). ECM frames carry up to 256
    /// octets of image data plus four of header, so at least 260.
    pub max_frame_len: usize,
    /// Shortest frame accepted, in data octets (ISO/IEC 3309: 32 bits between flags
    /// including the FCS, so 2).
    pub min_frame_len: usize,
    /// Consecutive flags that count as a preamble.
    pub preamble_flags: usize,
}

impl Default for HdlcRxConfig {
    fn default() -> Self {
        HdlcRxConfig {
            max_frame_len: 260,
            min_frame_len: 2,
            preamble_flags: 4,
        }
    }
}

/// What the deframer reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HdlcEvent<'a> {
    /// [`HdlcRxConfig::preamble_flags`] consecutive flags were seen, not counting a flag
    /// that closed a frame (reported once per run of flags).
    Preamble,
    /// A frame between two flags, octet-aligned and of acceptable length.
    Frame {
        /// The frame's octets without the FCS.
        data: &'a [u8],
        /// Whether the FCS checked good.
        crc_ok: bool,
    },
    /// Seven or more ones ended a frame in progress.
    Abort,
    /// The frame grew past [`HdlcRxConfig::max_frame_len`]; it is dropped up to the next flag.
    TooLong,
    /// An octet-aligned frame shorter than [`HdlcRxConfig::min_frame_len`] plus the FCS.
    TooShort {
        /// Octets received between the flags, FCS included.
        octets: usize,
    },
    /// Bits between flags that are not a whole number of octets.
    Garbage {
        /// Bits received between the flags, after zero deletion.
        bits: usize,
    },
}

/// Receives [`HdlcEvent`]s (and, through [`Deframing`], the modem's own events).
pub trait HdlcSink {
    /// One deframer event.
    fn hdlc_event(&mut self, event: HdlcEvent<'_>);
    /// A modem event passed along by [`Deframing`]; ignored unless overridden.
    fn rx_event(&mut self, _event: RxEvent) {}
}

impl<F: FnMut(HdlcEvent<'_>)> HdlcSink for F {
    fn hdlc_event(&mut self, event: HdlcEvent<'_>) {
        self(event)
    }
}

/// Whether an octet (least significant bit first) after a run of `ones` ones (0–4) holds no
/// run of five ones: then all its bits are plain data, with no stuffed zero, flag or abort
/// among them, and the deframer can take it whole.
const fn build_plain_table() -> [[bool; 256]; 5] {
    let mut table = [[false; 256]; 5];
    let mut ones = 0;
    while ones < 5 {
        let mut byte = 0;
        while byte < 256 {
            let mut run = ones;
            let mut plain = true;
            let mut i = 0;
            while i < 8 {
                if byte >> i & 1 != 0 {
                    run += 1;
                    if run >= 5 {
                        plain = false;
                    }
                } else {
                    run = 0;
                }
                i += 1;
            }
            table[ones][byte] = plain;
            byte += 1;
        }
        ones += 1;
    }
    table
}

static PLAIN: [[bool; 256]; 5] = build_plain_table();

/// Recovers frames from a bit stream, one bit at a time, with a fixed buffer.
#[derive(Debug, Clone)]
pub struct HdlcDeframer {
    cfg: HdlcRxConfig,
    buf: Vec<u8>,
    /// Bits stored since the last flag (after zero deletion), flag bits included.
    nbits: usize,
    max_bits: usize,
    ones: u32,
    /// A flag has been seen and no abort or overflow since.
    synced: bool,
    flag_run: usize,
}

impl HdlcDeframer {
    /// A deframer with the given limits.
    pub fn new(cfg: HdlcRxConfig) -> Self {
        let cfg = HdlcRxConfig {
            max_frame_len: cfg.max_frame_len.max(cfg.min_frame_len).max(1),
            min_frame_len: cfg.min_frame_len,
            preamble_flags: cfg.preamble_flags.max(1),
        };
        // The closing flag's first seven bits land in the buffer before the flag is known.
        let max_bits = (cfg.max_frame_len + 2) * 8 + 7;
        HdlcDeframer {
            cfg,
            buf: vec![0; max_bits / 8 + 1],
            nbits: 0,
            max_bits,
            ones: 0,
            synced: false,
            flag_run: 0,
        }
    }

    /// The limits in force.
    pub fn config(&self) -> &HdlcRxConfig {
        &self.cfg
    }

    /// Forgets any partial frame and waits for a flag (e.g. after carrier loss).
    pub fn reset(&mut self) {
        self.nbits = 0;
        self.ones = 0;
        self.synced = false;
        self.flag_run = 0;
    }

    /// Whether a flag has been seen and the deframer is collecting frames.
    pub fn is_synced(&self) -> bool {
        self.synced
    }

    /// Feeds bytes, each least significant bit first (see [`HdlcDeframer::push_byte`]).
    pub fn push_bytes<S: HdlcSink + ?Sized>(&mut self, bytes: &[u8], sink: &mut S) {
        for &b in bytes {
            self.push_byte(b, sink);
        }
    }

    /// Feeds eight received bits, least significant (earliest) first: the same as eight
    /// [`HdlcDeframer::push_bit`] calls, but an octet of plain data (no run of five ones)
    /// is stored whole.
    #[inline]
    pub fn push_byte<S: HdlcSink + ?Sized>(&mut self, byte: u8, sink: &mut S) {
        let ones = self.ones as usize;
        if ones < 5 && PLAIN[ones][byte as usize] {
            // A run of ones ends inside a plain octet, so the run after it is the octet's
            // top ones.
            self.ones = byte.leading_ones();
            if !self.synced {
                return;
            }
            if self.nbits + 8 <= self.max_bits {
                let idx = self.nbits / 8;
                let shift = self.nbits % 8;
                if shift == 0 {
                    self.buf[idx] = byte;
                } else {
                    self.buf[idx] = self.buf[idx] & ((1u8 << shift) - 1) | byte << shift;
                    self.buf[idx + 1] = byte >> (8 - shift);
                }
                self.nbits += 8;
                return;
            }
            // Near the length limit: bit by bit, so the overflow is found where it happens.
            self.ones = ones as u32;
        }
        for i in 0..8 {
            self.push_bit(byte >> i & 1 != 0, sink);
        }
    }

    /// Feeds one received bit.
    pub fn push_bit<S: HdlcSink + ?Sized>(&mut self, bit: bool, sink: &mut S) {
        if bit {
            self.ones = self.ones.saturating_add(1);
            match self.ones {
                7 => {
                    // More than the six data ones a flag begins with: an abort if a frame
                    // was under way, otherwise the line idling in the mark state.
                    if self.synced && self.nbits > 6 {
                        sink.hdlc_event(HdlcEvent::Abort);
                    }
                    self.synced = false;
                    self.flag_run = 0;
                }
                n if n < 7 => self.store(true, sink),
                _ => {}
            }
        } else {
            let ones = self.ones;
            self.ones = 0;
            match ones {
                6 => self.flag(sink),
                // Five ones then a zero: an inserted zero, dropped.
                5 => {}
                n if n > 6 => {}
                _ => self.store(false, sink),
            }
        }
    }

    #[inline]
    fn store<S: HdlcSink + ?Sized>(&mut self, bit: bool, sink: &mut S) {
        if !self.synced {
            return;
        }
        if self.nbits >= self.max_bits {
            sink.hdlc_event(HdlcEvent::TooLong);
            self.synced = false;
            self.flag_run = 0;
            return;
        }
        let idx = self.nbits / 8;
        let shift = self.nbits % 8;
        if shift == 0 {
            self.buf[idx] = 0;
        }
        self.buf[idx] |= (bit as u8) << shift;
        self.nbits += 1;
    }

    fn flag<S: HdlcSink + ?Sized>(&mut self, sink: &mut S) {
        // The flag's leading zero and six ones were stored before it was recognised.
        let bits = self.nbits.saturating_sub(7);
        self.nbits = 0;
        if !self.synced {
            // Whatever preceded this flag was not inside a frame.
            self.synced = true;
            self.flag_run = 1;
            if self.cfg.preamble_flags == 1 {
                sink.hdlc_event(HdlcEvent::Preamble);
            }
            return;
        }
        if bits == 0 {
            self.flag_run += 1;
            if self.flag_run == self.cfg.preamble_flags {
                sink.hdlc_event(HdlcEvent::Preamble);
            }
            return;
        }
        // A closing flag does not count towards a preamble: only flags after it do.
        self.flag_run = 0;
        if !bits.is_multiple_of(8) {
            sink.hdlc_event(HdlcEvent::Garbage { bits });
            return;
        }
        let octets = bits / 8;
        if octets < self.cfg.min_frame_len + 2 {
            sink.hdlc_event(HdlcEvent::TooShort { octets });
            return;
        }
        let frame = &self.buf[..octets];
        let crc_ok = crc::check(frame);
        sink.hdlc_event(HdlcEvent::Frame {
            data: &frame[..octets - 2],
            crc_ok,
        });
    }
}

/// An [`RxSink`] that deframes a receiver's bits: bits go to the deframer, whose events and
/// the receiver's own events go to `sink`. Carrier changes reset the deframer.
pub struct Deframing<'a, S: HdlcSink + ?Sized> {
    /// The deframer fed with the bits.
    pub deframer: &'a mut HdlcDeframer,
    /// Where frame and modem events go.
    pub sink: &'a mut S,
}

impl<S: HdlcSink + ?Sized> RxSink for Deframing<'_, S> {
    fn bit(&mut self, bit: bool) {
        self.deframer.push_bit(bit, self.sink);
    }

    fn event(&mut self, event: RxEvent) {
        if matches!(event, RxEvent::CarrierUp { .. } | RxEvent::CarrierDown) {
            self.deframer.reset();
        }
        self.sink.rx_event(event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The DIS frame of a typical G3 terminal (address, control, FCF and FIF).
    const DIS: [u8; 13] = [
        0xFF, 0x13, 0x80, 0x00, 0xCE, 0xF4, 0x80, 0x80, 0x81, 0x80, 0x80, 0x80, 0x18,
    ];

    fn bits_of(framer: &mut HdlcFramer) -> Vec<bool> {
        std::iter::from_fn(|| framer.next_bit()).collect()
    }

    #[derive(Default)]
    struct Log(Vec<String>);
    impl HdlcSink for Log {
        fn hdlc_event(&mut self, e: HdlcEvent<'_>) {
            self.0.push(match e {
                HdlcEvent::Frame { data, crc_ok } => format!("frame {data:02X?} {crc_ok}"),
                other => format!("{other:?}"),
            });
        }
    }

    #[test]
    fn pending_words_stop_where_the_frames_end() {
        let cfg = HdlcTxConfig {
            preamble_flags: 3,
            shared_flags: true,
            closing_flags: 1,
            idle_flags: true,
        };
        let (mut one, mut many) = (HdlcFramer::new(cfg), HdlcFramer::new(cfg));
        for f in [&mut one, &mut many] {
            f.push(&DIS);
            f.push_with_fault(&[0xFF, 0x13, 0x84], TxFault::BadFcs);
            f.push_with_fault(&DIS, TxFault::AbortAfter(5));
        }
        let mut want = Vec::new();
        while !one.is_empty() {
            want.push(one.next_bit().unwrap());
        }
        let mut got = Vec::new();
        while let Some((w, n)) = many.next_pending_word() {
            got.extend((0..n).map(|i| w >> i & 1 != 0));
        }
        assert_eq!(got, want);
        assert!(many.is_empty());
        // Only idle flags would follow, and those are the caller's to send.
        assert_eq!(many.next_pending_word(), None);
    }

    #[test]
    fn dis_fcs_and_residue() {
        let fcs = crc::fcs(&DIS);
        let mut frame = DIS.to_vec();
        frame.extend_from_slice(&fcs.to_le_bytes());
        assert_eq!(crc::update(crc::INIT, &frame), crc::GOOD_RESIDUE);
        // Recomputed independently bit by bit.
        let mut reg = 0xFFFFu16;
        for &b in &DIS {
            for i in 0..8 {
                let fb = (reg ^ (b as u16 >> i)) & 1;
                reg >>= 1;
                if fb != 0 {
                    reg ^= 0x8408;
                }
            }
        }
        assert_eq!(!reg, fcs);
    }

    #[test]
    fn preamble_frames_and_closing() {
        let mut f = HdlcFramer::new(HdlcTxConfig {
            preamble_flags: 5,
            ..Default::default()
        });
        f.push(&DIS);
        f.push(&[0xFF, 0x13, 0x20]);
        let bits = bits_of(&mut f);
        assert_eq!(f.next_bit(), None);
        let mut d = HdlcDeframer::new(HdlcRxConfig::default());
        let mut log = Log::default();
        for b in bits {
            d.push_bit(b, &mut log);
        }
        assert_eq!(
            log.0,
            vec![
                "Preamble".to_string(),
                format!("frame {:02X?} true", DIS),
                "frame [FF, 13, 20] true".to_string(),
            ]
        );
    }

    #[test]
    fn stuffing_bounds_runs_of_ones() {
        let mut f = HdlcFramer::new(HdlcTxConfig {
            preamble_flags: 1,
            closing_flags: 1,
            ..Default::default()
        });
        f.push(&[0xFF; 20]);
        let bits = bits_of(&mut f);
        let body = &bits[8..bits.len() - 8];
        let mut run = 0;
        for &b in body {
            run = if b { run + 1 } else { 0 };
            assert!(run <= 5);
        }
        // 160 data ones and 16 FCS bits, a zero after every five ones.
        assert!(body.len() >= 160 + 32);
    }

    #[test]
    fn faults_are_reported() {
        let mut f = HdlcFramer::new(HdlcTxConfig {
            preamble_flags: 4,
            shared_flags: false,
            ..Default::default()
        });
        f.push_with_fault(&[1, 2, 3, 4], TxFault::BadFcs);
        f.push_with_fault(&[5, 6, 7, 8], TxFault::AbortAfter(2));
        f.push(&[9, 10, 11]);
        let bits = bits_of(&mut f);
        let mut d = HdlcDeframer::new(HdlcRxConfig::default());
        let mut log = Log::default();
        for b in bits {
            d.push_bit(b, &mut log);
        }
        assert_eq!(
            log.0,
            vec![
                "Preamble",
                "frame [01, 02, 03, 04] false",
                "Abort",
                "frame [09, 0A, 0B] true"
            ]
        );
    }

    #[test]
    fn length_limits() {
        let mut f = HdlcFramer::new(HdlcTxConfig {
            preamble_flags: 1,
            closing_flags: 1,
            ..Default::default()
        });
        f.push(&[0x55; 11]);
        f.push(&[0x55; 10]);
        f.push(&[0x42]);
        let bits = bits_of(&mut f);
        let mut d = HdlcDeframer::new(HdlcRxConfig {
            max_frame_len: 10,
            min_frame_len: 2,
            preamble_flags: 1,
        });
        let mut log = Log::default();
        for b in bits {
            d.push_bit(b, &mut log);
        }
        assert_eq!(log.0.len(), 5, "{:?}", log.0);
        assert_eq!(log.0[0], "Preamble");
        assert_eq!(log.0[1], "TooLong");
        // The flag after the overlong frame re-synchronises.
        assert_eq!(log.0[2], "Preamble");
        assert_eq!(log.0[3], format!("frame {:02X?} true", [0x55; 10]));
        assert_eq!(log.0[4], "TooShort { octets: 3 }");
    }

    #[test]
    fn frames_queued_after_the_end_start_a_new_preamble() {
        let mut f = HdlcFramer::new(HdlcTxConfig {
            preamble_flags: 3,
            closing_flags: 1,
            ..Default::default()
        });
        f.push(&[1, 2, 3]);
        let first = bits_of(&mut f);
        assert!(f.is_empty());
        f.push(&[1, 2, 3]);
        let second = bits_of(&mut f);
        assert_eq!(first, second);
        // Three preamble flags, the frame (5 octets, no stuffing needed), one closing flag.
        assert_eq!(first.len(), 8 * 3 + 5 * 8 + 8);
    }

    #[test]
    fn idle_flags_never_end() {
        let mut f = HdlcFramer::new(HdlcTxConfig {
            preamble_flags: 1,
            idle_flags: true,
            ..Default::default()
        });
        f.push(&[1, 2, 3]);
        for _ in 0..10_000 {
            assert!(f.next_bit().is_some());
        }
    }
}
