//! T.38 IFP packets (ASN.1 aligned PER, T.38 versions 0–3) and UDPTL transport with
//! redundancy or parity FEC, and a receiver that recovers lost primaries.
//!
//! The IFP encoding follows the T.38 ASN.1 module: `IFPPacket ::= SEQUENCE { type-of-msg
//! CHOICE { t30-indicator, data }, data-field SEQUENCE OF SEQUENCE { field-type, field-data
//! OCTET STRING (SIZE (1..65535)) OPTIONAL } OPTIONAL }`, with the enumerations' extension
//! markers. Version 0 is the 1998 ASN.1, whose field-type has no extension marker (the
//! "pre-corrigendum" encoding Wireshark decodes by default: three bits, no extension bit);
//! versions 1–3 follow the corrected ASN.1 with the marker. Values after the markers (V.8,
//! V.34, V.33 indicators and data types; CM, JM, CI and V.34 rate fields) exist from T.38
//! version 2 on; encoding them for an earlier version is refused. UDPTL: `seq-number INTEGER (0..65535)`, the primary IFP as an open
//! type, and `error-recovery CHOICE { secondary-ifp-packets, fec-info }`.

use thiserror::Error;

/// Parsing or encoding errors.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum T38Error {
    /// The packet ended before a field was complete.
    #[error("T.38 packet truncated at byte {0}")]
    Truncated(usize),
    /// An enumeration value or choice index outside the ASN.1 definition.
    #[error("T.38 {what}: value {value} undefined")]
    BadValue {
        /// Which field.
        what: &'static str,
        /// The value read.
        value: u32,
    },
    /// A value that does not exist in the T.38 version asked for.
    #[error("{what} needs T.38 version {needs} (encoding for version {version})")]
    Version {
        /// What was to be encoded.
        what: &'static str,
        /// The lowest version that has it.
        needs: u8,
        /// The version asked for.
        version: u8,
    },
    /// A field too long for its length determinant.
    #[error("T.38 {0} too long")]
    TooLong(&'static str),
    /// Empty field-data (its size is 1..65535).
    #[error("T.38 field-data must not be empty")]
    EmptyFieldData,
}

macro_rules! asn1_enum {
    ($(#[$m:meta])* $name:ident, $what:literal, root: [$($r:ident = $rs:literal),* $(,)?], ext: [$($e:ident = $es:literal),* $(,)?]) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $(#[doc = $rs] $r,)*
            $(#[doc = $es] $e,)*
        }
        impl $name {
            const ROOT: &'static [$name] = &[$($name::$r),*];
            const EXT: &'static [$name] = &[$($name::$e),*];
            /// Every value, root first.
            pub const ALL: &'static [$name] = &[$($name::$r,)* $($name::$e,)*];
            /// The ASN.1 identifier.
            pub fn asn1_name(self) -> &'static str {
                match self { $($name::$r => $rs,)* $($name::$e => $es,)* }
            }
            /// (is extension, index).
            fn code(self) -> (bool, u32) {
                if let Some(i) = Self::ROOT.iter().position(|&v| v == self) {
                    (false, i as u32)
                } else {
                    (true, Self::EXT.iter().position(|&v| v == self).unwrap_or(0) as u32)
                }
            }
            fn from_code(ext: bool, i: u32) -> Result<Self, T38Error> {
                let t = if ext { Self::EXT } else { Self::ROOT };
                t.get(i as usize).copied().ok_or(T38Error::BadValue { what: $what, value: i })
            }
        }
    };
}

asn1_enum!(
    /// T30-indicator: the signals a gateway reports without data.
    Indicator, "t30-indicator",
    root: [NoSignal = "no-signal", Cng = "cng", Ced = "ced", V21Preamble = "v21-preamble",
        V27_2400Training = "v27-2400-training", V27_4800Training = "v27-4800-training",
        V29_7200Training = "v29-7200-training", V29_9600Training = "v29-9600-training",
        V17_7200ShortTraining = "v17-7200-short-training", V17_7200LongTraining = "v17-7200-long-training",
        V17_9600ShortTraining = "v17-9600-short-training", V17_9600LongTraining = "v17-9600-long-training",
        V17_12000ShortTraining = "v17-12000-short-training", V17_12000LongTraining = "v17-12000-long-training",
        V17_14400ShortTraining = "v17-14400-short-training", V17_14400LongTraining = "v17-14400-long-training"],
    ext: [V8Ansam = "v8-ansam", V8Signal = "v8-signal", V34CntlChannel1200 = "v34-cntl-channel-1200",
        V34PriChannel = "v34-pri-channel", V34CcRetrain = "v34-CC-retrain",
        V33_12000Training = "v33-12000-training", V33_14400Training = "v33-14400-training"]
);

asn1_enum!(
    /// Data: the modulation carrying a data IFP.
    DataType, "data",
    root: [V21 = "v21", V27_2400 = "v27-2400", V27_4800 = "v27-4800", V29_7200 = "v29-7200",
        V29_9600 = "v29-9600", V17_7200 = "v17-7200", V17_9600 = "v17-9600",
        V17_12000 = "v17-12000", V17_14400 = "v17-14400"],
    ext: [V8 = "v8", V34PriRate = "v34-pri-rate", V34Cc1200 = "v34-CC-1200",
        V34PriCh = "v34-pri-ch", V33_12000 = "v33-12000", V33_14400 = "v33-14400"]
);

asn1_enum!(
    /// field-type of a data field.
    FieldType, "field-type",
    root: [HdlcData = "hdlc-data", HdlcSigEnd = "hdlc-sig-end", HdlcFcsOk = "hdlc-fcs-OK",
        HdlcFcsBad = "hdlc-fcs-BAD", HdlcFcsOkSigEnd = "hdlc-fcs-OK-sig-end",
        HdlcFcsBadSigEnd = "hdlc-fcs-BAD-sig-end", T4NonEcmData = "t4-non-ecm-data",
        T4NonEcmSigEnd = "t4-non-ecm-sig-end"],
    ext: [CmMessage = "cm-message", JmMessage = "jm-message", CiMessage = "ci-message",
        V34Rate = "v34rate"]
);

/// The type-of-msg of an IFP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MsgType {
    /// A T.30 indicator.
    Indicator(Indicator),
    /// Data of a modulation.
    Data(DataType),
}

/// One data field.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DataField {
    /// What the field is.
    pub field_type: FieldType,
    /// Its octets, if any (1..65535 of them).
    pub data: Option<Vec<u8>>,
}

/// An IFP packet.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ifp {
    /// Indicator or data.
    pub msg: MsgType,
    /// Data fields (empty: the data-field is absent).
    pub fields: Vec<DataField>,
}

struct BitWriter<'a> {
    out: &'a mut Vec<u8>,
    bit: u8,
}

impl<'a> BitWriter<'a> {
    fn new(out: &'a mut Vec<u8>) -> Self {
        BitWriter { out, bit: 8 }
    }
    fn put(&mut self, value: u32, bits: u8) {
        for i in (0..bits).rev() {
            if self.bit == 8 {
                self.out.push(0);
                self.bit = 0;
            }
            if (value >> i) & 1 == 1 {
                *self.out.last_mut().unwrap() |= 0x80 >> self.bit;
            }
            self.bit += 1;
        }
    }
    fn align(&mut self) {
        self.bit = 8;
    }
    fn bytes(&mut self, b: &[u8]) {
        self.align();
        self.out.extend_from_slice(b);
    }
    /// Unconstrained length determinant (aligned), up to 16383.
    fn length(&mut self, n: usize, what: &'static str) -> Result<(), T38Error> {
        self.align();
        if n < 128 {
            self.out.push(n as u8);
        } else if n < 16384 {
            self.out.push(0x80 | (n >> 8) as u8);
            self.out.push(n as u8);
        } else {
            return Err(T38Error::TooLong(what));
        }
        Ok(())
    }
}

struct BitReader<'a> {
    data: &'a [u8],
    pos: usize,
    bit: u8,
}

impl<'a> BitReader<'a> {
    fn new(data: &'a [u8]) -> Self {
        BitReader {
            data,
            pos: 0,
            bit: 0,
        }
    }
    fn get(&mut self, bits: u8) -> Result<u32, T38Error> {
        let mut v = 0;
        for _ in 0..bits {
            let byte = *self
                .data
                .get(self.pos)
                .ok_or(T38Error::Truncated(self.pos))?;
            v = (v << 1) | ((byte >> (7 - self.bit)) & 1) as u32;
            self.bit += 1;
            if self.bit == 8 {
                self.bit = 0;
                self.pos += 1;
            }
        }
        Ok(v)
    }
    fn align(&mut self) {
        if self.bit != 0 {
            self.bit = 0;
            self.pos += 1;
        }
    }
    fn byte(&mut self) -> Result<u8, T38Error> {
        self.align();
        let b = *self
            .data
            .get(self.pos)
            .ok_or(T38Error::Truncated(self.pos))?;
        self.pos += 1;
        Ok(b)
    }
    fn bytes(&mut self, n: usize) -> Result<&'a [u8], T38Error> {
        self.align();
        let end = self
            .pos
            .checked_add(n)
            .ok_or(T38Error::Truncated(self.pos))?;
        let s = self
            .data
            .get(self.pos..end)
            .ok_or(T38Error::Truncated(self.data.len()))?;
        self.pos = end;
        Ok(s)
    }
    fn length(&mut self) -> Result<usize, T38Error> {
        let b = self.byte()?;
        if b & 0x80 == 0 {
            Ok(b as usize)
        } else if b & 0x40 == 0 {
            Ok((((b & 0x3F) as usize) << 8) | self.byte()? as usize)
        } else {
            // Fragmented lengths (≥ 16K) never occur in T.38.
            Err(T38Error::BadValue {
                what: "length determinant",
                value: b as u32,
            })
        }
    }
    fn consumed(&self) -> usize {
        self.pos + usize::from(self.bit != 0)
    }
}

fn put_enum(w: &mut BitWriter, (ext, i): (bool, u32), root_bits: u8) {
    w.put(ext as u32, 1);
    if ext {
        // Normally small non-negative whole number.
        w.put(0, 1);
        w.put(i, 6);
    } else {
        w.put(i, root_bits);
    }
}

fn get_enum(r: &mut BitReader, root_bits: u8) -> Result<(bool, u32), T38Error> {
    let ext = r.get(1)? == 1;
    if ext {
        if r.get(1)? != 0 {
            return Err(T38Error::BadValue {
                what: "enumeration extension",
                value: 64,
            });
        }
        Ok((true, r.get(6)?))
    } else {
        Ok((false, r.get(root_bits)?))
    }
}

impl Ifp {
    /// An indicator packet.
    pub fn indicator(i: Indicator) -> Self {
        Ifp {
            msg: MsgType::Indicator(i),
            fields: Vec::new(),
        }
    }

    /// A data packet.
    pub fn data(t: DataType, fields: Vec<DataField>) -> Self {
        Ifp {
            msg: MsgType::Data(t),
            fields,
        }
    }

    /// Encodes for T.38 `version` (0–3), appending to `out`.
    pub fn encode(&self, version: u8, out: &mut Vec<u8>) -> Result<(), T38Error> {
        let need = |ext: bool, what: &'static str| {
            if ext && version < 2 {
                Err(T38Error::Version {
                    what,
                    needs: 2,
                    version,
                })
            } else {
                Ok(())
            }
        };
        let mut w = BitWriter::new(out);
        w.put(!self.fields.is_empty() as u32, 1);
        match self.msg {
            MsgType::Indicator(i) => {
                need(i.code().0, i.asn1_name())?;
                w.put(0, 1);
                put_enum(&mut w, i.code(), 4);
            }
            MsgType::Data(d) => {
                need(d.code().0, d.asn1_name())?;
                w.put(1, 1);
                put_enum(&mut w, d.code(), 4);
            }
        }
        if !self.fields.is_empty() {
            w.length(self.fields.len(), "data-field")?;
            for f in &self.fields {
                need(f.field_type.code().0, f.field_type.asn1_name())?;
                w.put(f.data.is_some() as u32, 1);
                if version == 0 {
                    w.put(f.field_type.code().1, 3);
                } else {
                    put_enum(&mut w, f.field_type.code(), 3);
                }
                if let Some(d) = &f.data {
                    if d.is_empty() {
                        return Err(T38Error::EmptyFieldData);
                    }
                    if d.len() > 65535 {
                        return Err(T38Error::TooLong("field-data"));
                    }
                    w.align();
                    w.put((d.len() - 1) as u32, 16);
                    w.bytes(d);
                }
            }
        }
        Ok(())
    }

    /// The encoding as a new vector.
    pub fn to_bytes(&self, version: u8) -> Result<Vec<u8>, T38Error> {
        let mut v = Vec::new();
        self.encode(version, &mut v)?;
        Ok(v)
    }

    /// Decodes an IFP of T.38 `version` from the start of `data`; returns it and the
    /// octets it used (any further octets are ignored, as after parity recovery).
    pub fn decode(data: &[u8], version: u8) -> Result<(Ifp, usize), T38Error> {
        let mut r = BitReader::new(data);
        let has_fields = r.get(1)? == 1;
        let msg = if r.get(1)? == 0 {
            let (e, i) = get_enum(&mut r, 4)?;
            MsgType::Indicator(Indicator::from_code(e, i)?)
        } else {
            let (e, i) = get_enum(&mut r, 4)?;
            MsgType::Data(DataType::from_code(e, i)?)
        };
        let ext_msg = match msg {
            MsgType::Indicator(i) => i.code().0,
            MsgType::Data(d) => d.code().0,
        };
        if ext_msg && version < 2 {
            return Err(T38Error::Version {
                what: "extension value",
                needs: 2,
                version,
            });
        }
        let mut fields = Vec::new();
        if has_fields {
            let n = r.length()?;
            for _ in 0..n {
                let has_data = r.get(1)? == 1;
                let (e, i) = if version == 0 {
                    (false, r.get(3)?)
                } else {
                    get_enum(&mut r, 3)?
                };
                if e && version < 2 {
                    return Err(T38Error::Version {
                        what: "extension value",
                        needs: 2,
                        version,
                    });
                }
                let field_type = FieldType::from_code(e, i)?;
                let data = if has_data {
                    r.align();
                    let len = r.get(16)? as usize + 1;
                    Some(r.bytes(len)?.to_vec())
                } else {
                    None
                };
                fields.push(DataField { field_type, data });
            }
        }
        Ok((Ifp { msg, fields }, r.consumed()))
    }
}

/// How a UDPTL sender protects its primaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorRecovery {
    /// Each packet repeats the `n` previous IFPs (0: none).
    Redundancy(usize),
    /// Parity FEC: `entries` FEC octet strings per packet, each the XOR of `span`
    /// earlier IFPs, entry j covering packets seq-1-j, seq-1-j-entries, …
    Fec {
        /// FEC entries per packet.
        entries: usize,
        /// IFPs covered per entry (fec-npackets).
        span: usize,
    },
}

/// A parsed UDPTL packet.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UdptlPacket {
    /// seq-number.
    pub seq: u16,
    /// The primary IFP's octets.
    pub primary: Vec<u8>,
    /// The error-recovery part.
    pub recovery: Recovery,
}

/// The error-recovery choice.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Recovery {
    /// Secondary IFPs, newest first (seq-1, seq-2, …).
    Secondary(Vec<Vec<u8>>),
    /// FEC: fec-npackets and the parity octet strings.
    Fec {
        /// fec-npackets (the span).
        npackets: u32,
        /// Parity strings, entry 0 first.
        data: Vec<Vec<u8>>,
    },
}

impl UdptlPacket {
    /// The packet's octets.
    pub fn to_bytes(&self) -> Result<Vec<u8>, T38Error> {
        let mut out = Vec::new();
        out.extend_from_slice(&self.seq.to_be_bytes());
        let mut w = BitWriter::new(&mut out);
        w.length(self.primary.len(), "primary-ifp-packet")?;
        w.bytes(&self.primary);
        match &self.recovery {
            Recovery::Secondary(s) => {
                w.put(0, 1);
                w.length(s.len(), "secondary-ifp-packets")?;
                for p in s {
                    w.length(p.len(), "secondary-ifp-packet")?;
                    w.bytes(p);
                }
            }
            Recovery::Fec { npackets, data } => {
                w.put(1, 1);
                // fec-npackets: unconstrained INTEGER, length-prefixed two's complement.
                let v = npackets.to_be_bytes();
                let skip = v.iter().take(3).take_while(|&&b| b == 0).count();
                let mut body = &v[skip..];
                let pad;
                if body[0] & 0x80 != 0 {
                    pad = [&[0u8][..], body].concat();
                    body = &pad;
                }
                w.length(body.len(), "fec-npackets")?;
                w.bytes(body);
                w.length(data.len(), "fec-data")?;
                for d in data {
                    w.length(d.len(), "fec-data item")?;
                    w.bytes(d);
                }
            }
        }
        Ok(out)
    }

    /// Parses a UDPTL packet (trailing octets are an error).
    pub fn parse(data: &[u8]) -> Result<Self, T38Error> {
        if data.len() < 2 {
            return Err(T38Error::Truncated(data.len()));
        }
        let seq = u16::from_be_bytes([data[0], data[1]]);
        let mut r = BitReader::new(&data[2..]);
        let n = r.length()?;
        let primary = r.bytes(n)?.to_vec();
        let recovery = if r.get(1)? == 0 {
            let count = r.length()?;
            let mut s = Vec::with_capacity(count.min(16));
            for _ in 0..count {
                let n = r.length()?;
                s.push(r.bytes(n)?.to_vec());
            }
            Recovery::Secondary(s)
        } else {
            let n = r.length()?;
            if n == 0 || n > 4 {
                return Err(T38Error::BadValue {
                    what: "fec-npackets length",
                    value: n as u32,
                });
            }
            let mut v: i64 = if r.bytes(1)?[0] & 0x80 != 0 { -1 } else { 0 };
            r.pos -= 1;
            for &b in r.bytes(n)? {
                v = (v << 8) | b as i64;
            }
            let npackets = u32::try_from(v).map_err(|_| T38Error::BadValue {
                what: "fec-npackets",
                value: v as u32,
            })?;
            let count = r.length()?;
            let mut d = Vec::with_capacity(count.min(16));
            for _ in 0..count {
                let n = r.length()?;
                d.push(r.bytes(n)?.to_vec());
            }
            Recovery::Fec { npackets, data: d }
        };
        if r.consumed() + 2 != data.len() {
            return Err(T38Error::BadValue {
                what: "trailing octets",
                value: (data.len() - 2 - r.consumed()) as u32,
            });
        }
        Ok(UdptlPacket {
            seq,
            primary,
            recovery,
        })
    }
}

fn xor_into(acc: &mut Vec<u8>, p: &[u8]) {
    if acc.len() < p.len() {
        acc.resize(p.len(), 0);
    }
    for (a, b) in acc.iter_mut().zip(p) {
        *a ^= b;
    }
}

/// A UDPTL sender: numbers IFPs and adds redundancy or FEC.
#[derive(Debug, Clone)]
pub struct UdptlSender {
    mode: ErrorRecovery,
    seq: u16,
    history: std::collections::VecDeque<Vec<u8>>,
}

impl UdptlSender {
    /// A sender starting at sequence number 0.
    pub fn new(mode: ErrorRecovery) -> Self {
        UdptlSender {
            mode,
            seq: 0,
            history: Default::default(),
        }
    }

    /// Wraps the next IFP (already encoded) in a UDPTL packet.
    pub fn send(&mut self, ifp: &[u8]) -> UdptlPacket {
        let recovery = match self.mode {
            ErrorRecovery::Redundancy(n) => {
                Recovery::Secondary(self.history.iter().take(n).cloned().collect())
            }
            ErrorRecovery::Fec { entries, span } => {
                let mut data = Vec::new();
                for j in 0..entries {
                    let mut acc = Vec::new();
                    let mut covered = 0;
                    for k in 0..span {
                        if let Some(p) = self.history.get(j + k * entries) {
                            xor_into(&mut acc, p);
                            covered += 1;
                        }
                    }
                    // Only complete equations: a receiver cannot know what came before
                    // the first packet. Complete entries form a prefix (low j first).
                    if covered < span {
                        break;
                    }
                    data.push(acc);
                }
                Recovery::Fec {
                    npackets: span as u32,
                    data,
                }
            }
        };
        let keep = match self.mode {
            ErrorRecovery::Redundancy(n) => n,
            ErrorRecovery::Fec { entries, span } => entries * span,
        };
        let pkt = UdptlPacket {
            seq: self.seq,
            primary: ifp.to_vec(),
            recovery,
        };
        self.history.push_front(ifp.to_vec());
        self.history.truncate(keep);
        self.seq = self.seq.wrapping_add(1);
        pkt
    }
}

/// What the receiver hands on, in sequence order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivered {
    /// An IFP received as a primary.
    Primary(u16, Vec<u8>),
    /// An IFP whose primary was lost, recovered from redundancy or FEC.
    Recovered(u16, Vec<u8>),
    /// An IFP lost for good.
    Lost(u16),
}

/// Receiver counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UdptlStats {
    /// Packets parsed.
    pub received: u64,
    /// Packets that failed to parse.
    pub malformed: u64,
    /// Packets older than what was already delivered (duplicates, late).
    pub stale: u64,
    /// IFPs delivered from primaries.
    pub primaries: u64,
    /// IFPs recovered.
    pub recovered: u64,
    /// IFPs that could not be recovered.
    pub unrecoverable: u64,
}

/// A UDPTL receiver delivering IFPs in order and recovering lost primaries.
///
/// It does not wait for stragglers: when a packet arrives, every earlier IFP not yet
/// delivered is recovered from the redundancy/FEC received so far or reported lost, and a
/// packet arriving after that is counted stale (as most gateways do; T.38 carries its
/// protection forward, in later packets, precisely so that a receiver need not wait).
#[derive(Debug, Clone)]
pub struct UdptlReceiver {
    /// T.38 version of the IFPs (to find the length of a recovered one).
    version: u8,
    /// Next sequence number to deliver, unwrapped.
    next: Option<u32>,
    /// IFPs known by unwrapped sequence number.
    known: std::collections::BTreeMap<u32, Vec<u8>>,
    /// FEC equations: (covered sequence numbers, parity).
    parity: Vec<(Vec<u32>, Vec<u8>)>,
    /// IFPs already delivered (recent window), for parity equations that cover them.
    history: std::collections::BTreeMap<u32, Vec<u8>>,
    last_ext: Option<u32>,
    /// Counts.
    pub stats: UdptlStats,
}

/// Gaps longer than this are a resynchronisation, not individual losses to report.
const MAX_GAP: u32 = 1024;

impl UdptlReceiver {
    /// A receiver of IFPs of T.38 `version`, expecting any first sequence number.
    pub fn new(version: u8) -> Self {
        UdptlReceiver {
            version,
            next: None,
            known: Default::default(),
            parity: Vec::new(),
            history: Default::default(),
            last_ext: None,
            stats: UdptlStats::default(),
        }
    }

    fn unwrap_seq(&mut self, seq: u16) -> u32 {
        let ext = match self.last_ext {
            None => seq as u32 + 65536,
            Some(last) => {
                let d = seq.wrapping_sub(last as u16) as i16 as i64;
                (last as i64 + d).max(0) as u32
            }
        };
        if self.last_ext.is_none_or(|l| ext > l) {
            self.last_ext = Some(ext);
        }
        ext
    }

    /// Takes one UDPTL packet's octets; returns what can be delivered now, in order.
    pub fn receive(&mut self, data: &[u8]) -> Vec<Delivered> {
        let pkt = match UdptlPacket::parse(data) {
            Ok(p) => p,
            Err(_) => {
                self.stats.malformed += 1;
                return Vec::new();
            }
        };
        self.stats.received += 1;
        let s = self.unwrap_seq(pkt.seq);
        let mut next = *self.next.get_or_insert(s);
        if s < next {
            self.stats.stale += 1;
            return Vec::new();
        }
        let mut out = Vec::new();
        if s - next > MAX_GAP {
            self.stats.unrecoverable += (s - next) as u64;
            self.known.clear();
            self.parity.clear();
            self.history.clear();
            next = s;
            self.next = Some(s);
        }
        match pkt.recovery {
            Recovery::Secondary(sec) => {
                for (i, p) in sec.into_iter().enumerate() {
                    if let Some(q) = s.checked_sub(1 + i as u32)
                        && q >= next
                    {
                        self.known.entry(q).or_insert(p);
                    }
                }
            }
            Recovery::Fec { npackets, data } => {
                let entries = data.len() as u32;
                for (j, p) in data.into_iter().enumerate() {
                    let covered: Vec<u32> = (0..npackets.min(64))
                        .filter_map(|k| s.checked_sub(1 + j as u32 + k * entries))
                        .collect();
                    if covered.iter().any(|&q| q >= next) {
                        self.parity.push((covered, p));
                    }
                }
            }
        }
        self.known.insert(s, pkt.primary.clone());
        self.solve_parity();
        self.known.remove(&s);
        for q in next..s {
            match self.known.remove(&q) {
                Some(p) => {
                    self.stats.recovered += 1;
                    self.history.insert(q, p.clone());
                    out.push(Delivered::Recovered(q as u16, p));
                }
                None => {
                    self.stats.unrecoverable += 1;
                    out.push(Delivered::Lost(q as u16));
                }
            }
        }
        self.stats.primaries += 1;
        self.history.insert(s, pkt.primary.clone());
        out.push(Delivered::Primary(pkt.seq, pkt.primary));
        self.next = Some(s + 1);
        // Keep the IFPs delivered recently: later parity equations may still use them.
        self.known.retain(|&k, _| k > s);
        self.history.retain(|&k, _| k + 256 > s);
        self.parity.retain(|(c, _)| c.iter().any(|&q| q > s));
        out
    }

    fn solve_parity(&mut self) {
        loop {
            let mut progress = false;
            for (covered, parity) in &self.parity {
                let missing: Vec<u32> = covered
                    .iter()
                    .copied()
                    .filter(|q| !self.known.contains_key(q) && !self.history.contains_key(q))
                    .collect();
                if missing.len() == 1 && self.next.is_some_and(|n| missing[0] >= n) {
                    let mut acc = parity.clone();
                    for q in covered {
                        if let Some(p) = self.known.get(q).or_else(|| self.history.get(q)) {
                            xor_into(&mut acc, p);
                        }
                    }
                    // Zero padding from the longer packets: the IFP says how long it is.
                    if let Ok((_, used)) = Ifp::decode(&acc, self.version) {
                        acc.truncate(used);
                        self.known.insert(missing[0], acc);
                        progress = true;
                    }
                }
            }
            if !progress {
                break;
            }
        }
    }
}

/// Counts of one direction of a T.38 path, sender to receiver.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// UDPTL packets sent.
    pub sent: u64,
    /// Packets the network dropped.
    pub lost_in_network: u64,
    /// Extra copies the network delivered (discarded by the receiver).
    pub duplicated: u64,
    /// Packets that arrived after the receiver had moved past their sequence number
    /// (the late-packet rule: counted and dropped).
    pub late: u64,
    /// IFPs delivered from primaries.
    pub primaries: u64,
    /// IFPs recovered from redundancy or FEC.
    pub recovered: u64,
    /// IFPs lost for good.
    pub unrecoverable: u64,
}

/// One direction of a T.38 path: a UDPTL sender, a seeded network (delay, jitter, loss,
/// reordering, duplication) and a receiver that plays IFPs out in sequence order.
///
/// The receiver waits up to `hold` samples for a missing packet (a packet overtaken by
/// others may still come); after that it moves on, recovering the gap from the redundancy
/// or FEC of later packets or reporting it lost, and a packet that arrives once the
/// receiver has moved past it is late: counted and dropped.
///
/// ```
/// use channel_models::packet::NetworkConfig;
/// use channel_models::t38::{ErrorRecovery, Ifp, Indicator, UdptlLink, Delivered};
/// let mut link = UdptlLink::new(0, ErrorRecovery::Redundancy(2), NetworkConfig::clean(20.0), 7, 480);
/// let ifp = Ifp::indicator(Indicator::Cng).to_bytes(0).unwrap();
/// let wire = link.send(0, &ifp);
/// assert_eq!(wire[..2], [0, 0]);
/// assert!(link.poll(100).is_empty());
/// assert_eq!(link.poll(160), vec![Delivered::Primary(0, ifp)]);
/// ```
#[derive(Debug, Clone)]
pub struct UdptlLink {
    sender: UdptlSender,
    network: crate::packet::Network,
    receiver: UdptlReceiver,
    /// Packets in flight: (arrival sample, send order, UDPTL octets), by arrival.
    in_flight: std::collections::VecDeque<(u64, u64, Vec<u8>)>,
    /// Arrived packets waiting for their turn: unwrapped seq → (arrival, octets).
    waiting: std::collections::BTreeMap<u32, (u64, Vec<u8>)>,
    /// Next unwrapped sequence number to hand to the receiver.
    next: Option<u32>,
    hold: u64,
    order: u64,
    stats: LinkStats,
}

impl UdptlLink {
    /// A link carrying IFPs of T.38 `version`, protected by `recovery`, across `network`
    /// (seeded with `seed`); the receiver waits `hold` samples for a missing packet.
    pub fn new(
        version: u8,
        recovery: ErrorRecovery,
        network: crate::packet::NetworkConfig,
        seed: u64,
        hold: u64,
    ) -> Self {
        UdptlLink {
            sender: UdptlSender::new(recovery),
            network: crate::packet::Network::new(network, seed),
            receiver: UdptlReceiver::new(version),
            in_flight: Default::default(),
            waiting: Default::default(),
            next: None,
            hold,
            order: 0,
            stats: LinkStats::default(),
        }
    }

    /// Sends one IFP (encoded) at sample time `at`; returns the UDPTL packet's octets as
    /// they left the sender (for a capture).
    pub fn send(&mut self, at: u64, ifp: &[u8]) -> Vec<u8> {
        let pkt = self.sender.send(ifp);
        let bytes = pkt.to_bytes().unwrap_or_default();
        self.stats.sent += 1;
        let fate = self.network.send(at as f64 / 8.0);
        if fate[0].is_none() {
            self.stats.lost_in_network += 1;
        }
        for t in fate.into_iter().flatten() {
            let arrival = ((t * 8.0).round() as u64).max(at);
            let idx = self
                .in_flight
                .partition_point(|(a, o, _)| (*a, *o) <= (arrival, self.order));
            self.in_flight
                .insert(idx, (arrival, self.order, bytes.clone()));
            self.order += 1;
        }
        bytes
    }

    fn unwrap_seq(&self, seq: u16) -> u32 {
        let base = self.next.unwrap_or(seq as u32 + 65536);
        let d = seq.wrapping_sub(base as u16) as i16 as i64;
        (base as i64 + d).max(0) as u32
    }

    fn feed(&mut self, octets: &[u8], out: &mut Vec<Delivered>) {
        let got = self.receiver.receive(octets);
        out.extend(got);
    }

    /// Everything the receiver hands on by sample time `now`, in sequence order.
    pub fn poll(&mut self, now: u64) -> Vec<Delivered> {
        let mut out = Vec::new();
        while self.in_flight.front().is_some_and(|(a, _, _)| *a <= now) {
            let (arrival, _, bytes) = self.in_flight.pop_front().expect("checked");
            if bytes.len() < 2 {
                continue;
            }
            let s = self.unwrap_seq(u16::from_be_bytes([bytes[0], bytes[1]]));
            if self.next.is_none() {
                self.next = Some(s);
            }
            if self.next.is_some_and(|n| s < n) {
                self.stats.late += 1;
                continue;
            }
            if self.waiting.contains_key(&s) {
                self.stats.duplicated += 1;
                continue;
            }
            self.waiting.insert(s, (arrival, bytes));
        }
        while let Some(next) = self.next {
            let Some((&s, &(arrival, _))) = self.waiting.iter().next() else {
                break;
            };
            // In order, or the gap before it has been waited for long enough.
            if s == next || arrival + self.hold <= now {
                let (_, bytes) = self.waiting.remove(&s).expect("present");
                self.feed(&bytes, &mut out);
                self.next = Some(s + 1);
            } else {
                break;
            }
        }
        let r = self.receiver.stats;
        self.stats.primaries = r.primaries;
        self.stats.recovered = r.recovered;
        self.stats.unrecoverable = r.unrecoverable;
        out
    }

    /// Counts so far.
    pub fn stats(&self) -> LinkStats {
        self.stats
    }
}

#[cfg(test)]
mod link_tests {
    use super::*;
    use crate::packet::{JitterModel, LossModel, NetworkConfig};

    fn ifp(i: u8) -> Vec<u8> {
        Ifp::data(
            DataType::V21,
            vec![DataField {
                field_type: FieldType::HdlcData,
                data: Some(vec![i; 3]),
            }],
        )
        .to_bytes(0)
        .unwrap()
    }

    fn run(link: &mut UdptlLink, n: u8) -> Vec<Delivered> {
        let mut got = Vec::new();
        for i in 0..n {
            link.send(i as u64 * 160, &ifp(i));
            got.extend(link.poll(i as u64 * 160 + 159));
        }
        got.extend(link.poll(1_000_000));
        got
    }

    #[test]
    fn clean_link_delivers_every_primary_in_order() {
        let mut link = UdptlLink::new(
            0,
            ErrorRecovery::Redundancy(0),
            NetworkConfig::clean(30.0),
            1,
            400,
        );
        let got = run(&mut link, 50);
        assert_eq!(got.len(), 50);
        for (i, d) in got.iter().enumerate() {
            assert_eq!(*d, Delivered::Primary(i as u16, ifp(i as u8)));
        }
        assert_eq!(link.stats().late, 0);
    }

    #[test]
    fn redundancy_recovers_losses_and_counts_them() {
        let mut net = NetworkConfig::clean(30.0);
        net.loss = LossModel::Bernoulli { p: 0.1 };
        let mut link = UdptlLink::new(0, ErrorRecovery::Redundancy(3), net, 5, 400);
        let got = run(&mut link, 200);
        let s = link.stats();
        assert!(s.lost_in_network > 5, "{s:?}");
        assert_eq!(s.recovered + s.unrecoverable, s.lost_in_network, "{s:?}");
        assert!(s.recovered > s.unrecoverable, "{s:?}");
        let payloads = got
            .iter()
            .filter(|d| !matches!(d, Delivered::Lost(_)))
            .count() as u64;
        assert_eq!(payloads, s.primaries + s.recovered);
    }

    #[test]
    fn reordered_packets_past_the_hold_time_are_late() {
        let mut net = NetworkConfig::clean(20.0);
        net.jitter = JitterModel::None;
        net.reorder = 0.2;
        net.reorder_ms = 100.0;
        // The receiver waits 10 ms: a packet held back 100 ms comes after its turn.
        let mut link = UdptlLink::new(0, ErrorRecovery::Redundancy(2), net, 9, 80);
        run(&mut link, 200);
        let late = link.stats().late;
        assert!(late > 10, "{:?}", link.stats());
        // Waiting 150 ms lets every straggler in.
        let mut link = UdptlLink::new(0, ErrorRecovery::Redundancy(2), net, 9, 1200);
        let got = run(&mut link, 200);
        assert_eq!(link.stats().late, 0);
        assert!(got.iter().all(|d| matches!(d, Delivered::Primary(..))));
    }
}
