//! Every transmitter gives the same samples, to the last one, whatever the block sizes it is
//! asked to fill, and asks its bit source for the same bits.

mod common;

use common::*;
use modem::ModemKind::{self, V17, V27ter, V29};

const CASES: [(ModemKind, u32, bool); 9] = [
    (V17, 14400, false),
    (V17, 9600, true),
    (V17, 7200, false),
    (V29, 9600, false),
    (V29, 7200, false),
    (V29, 4800, false),
    (V27ter, 4800, false),
    (V27ter, 2400, true),
    (V27ter, 2400, false),
];

#[test]
fn transmitters_are_block_size_invariant() {
    for (kind, rate, short) in CASES {
        let bits = random_bits(20_000 + rate as usize / 7, rate as u64);
        let reference = drain(&mut our_transmitter(kind, rate, short), &bits, |_| 160);
        assert!(reference.len() > bits.len() * 8000 / rate as usize);
        for sizes in [&[1usize][..], &[7, 1, 333], &[4000], &[159, 161, 2]] {
            let got = drain(&mut our_transmitter(kind, rate, short), &bits, |i| {
                sizes[i % sizes.len()]
            });
            assert!(
                got == reference,
                "{kind:?} {rate} short {short} blocks {sizes:?}: {} vs {} samples",
                got.len(),
                reference.len()
            );
        }
    }
}
