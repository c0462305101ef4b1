//! V.27ter loopback through our own transmitter and receiver.

mod v27ter_common;
use v27ter_common::*;

#[test]
fn clean_4800_and_2400() {
    for rate in [4800, 2400] {
        let (errs, c, q) = loopback(rate, 20_000, 0.0, 0.0, None, 1);
        eprintln!("{rate}: errors {errs}, events {:?}, quality {q:?}", c.events);
        assert_eq!(errs, 0, "{rate}");
        assert!(c.trained());
    }
}
