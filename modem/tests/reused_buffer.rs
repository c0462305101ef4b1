//! Receivers fed through one buffer reused for every block, as a sound card's or a socket's
//! reader feeds them, report what they report when fed the signal in place: no receiver
//! keeps anything of a block past the call by its address (the QAM core writes a block's
//! samples into its history ahead of the symbol instants that take them in, and must not
//! take a new block at the same address for the rest of the old one).

mod common;
use common::*;
use modem::ModemKind::{V17, V27ter, V29};

#[test]
fn a_reused_input_buffer_gives_what_the_signal_in_place_gives() {
    for (kind, rate) in [(V17, 14400), (V29, 9600), (V27ter, 4800), (V27ter, 2400)] {
        // Two bursts with silence between, so that carriers come and go inside blocks.
        let data = prbs(3000, 5);
        let burst = our_tx(kind, rate, false, &data, 400, 0);
        let mut sig = burst.clone();
        sig.extend(std::iter::repeat_n(0, 1237));
        sig.extend(&burst);
        let sig = noisy(&sig, 30.0, 3);
        let cuts = [160, 7, 333, 1, 80, 1021];
        let want = receive_cuts(&mut *our_receiver(kind, rate, false), &sig, &cuts);
        assert_eq!(want.trainings(), 2, "{kind:?} {rate}");
        let mut rx = our_receiver(kind, rate, false);
        let mut got = Collect::default();
        let mut buf = vec![0i16; 2048];
        let (mut pos, mut i) = (0, 0);
        while pos < sig.len() {
            let n = cuts[i % cuts.len()].min(sig.len() - pos);
            buf[..n].copy_from_slice(&sig[pos..pos + n]);
            rx.process(&buf[..n], &mut got);
            pos += n;
            i += 1;
        }
        assert_eq!(got, want, "{kind:?} {rate}");
    }
}
