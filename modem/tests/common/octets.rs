//! Octets for the HDLC property tests, biased towards flags, runs of ones and
//! stuffing-heavy patterns (included by path: it needs only proptest).

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
