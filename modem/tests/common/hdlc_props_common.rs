//! Shared by the HDLC property tests (included by path: it needs only proptest): octets
//! biased towards flags, runs of ones and stuffing-heavy patterns, and the deframer's events
//! as comparable values.

use modem::hdlc::HdlcEvent;
use proptest::prelude::*;

/// Any octet, with flags, all-ones, runs of five or more ones and zero made likely.
pub fn octet() -> impl Strategy<Value = u8> {
    prop_oneof![
        any::<u8>(),
        Just(0x7E),
        Just(0xFF),
        Just(0x3F),
        Just(0xFC),
        Just(0x7F),
        Just(0x1F),
        Just(0xF8),
        Just(0x00),
    ]
}

/// A deframer event, owned and comparable.
#[derive(Debug, Clone, PartialEq)]
pub enum Seen {
    Preamble,
    Frame(Vec<u8>, bool),
    Abort,
    TooLong,
    TooShort(usize),
    Garbage(usize),
}

/// A deframer sink that appends each event to `seen`.
pub fn record(seen: &mut Vec<Seen>) -> impl FnMut(HdlcEvent<'_>) + '_ {
    |e| {
        seen.push(match e {
            HdlcEvent::Preamble => Seen::Preamble,
            HdlcEvent::Frame { data, crc_ok } => Seen::Frame(data.to_vec(), crc_ok),
            HdlcEvent::Abort => Seen::Abort,
            HdlcEvent::TooLong => Seen::TooLong,
            HdlcEvent::TooShort { octets } => Seen::TooShort(octets),
            HdlcEvent::Garbage { bits } => Seen::Garbage(bits),
        })
    }
}
