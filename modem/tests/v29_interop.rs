//! V.29 against spandsp in both directions, at every rate, at 35 dB SNR.

mod common;

use common::*;
use modem::ModemKind::V29;

const BITS: usize = 50_000;

fn ours_to_spandsp(rate: u32) {
    let Some(sp) = spandsp_peer::require() else {
        return;
    };
    let bits = random_bits(BITS, rate as u64);
    let sig = impair(
        &our_tx(V29, rate, false, &bits, 400, 800),
        0.0,
        0.0,
        Some(35.0),
        1,
    );
    let peer = spandsp_rx(&sp, V29, rate, &sig);
    let (got, trained) = (&peer.bits, peer.trained());
    let (errors, off) = best_aligned_errors(&bits, got);
    eprintln!(
        "ours -> spandsp {rate}: trained {trained}, {errors} errors (offset {off}, {} bits)",
        got.len()
    );
    assert!(trained);
    assert_eq!(errors, 0);
}

fn spandsp_to_ours(rate: u32) {
    let Some(sp) = spandsp_peer::require() else {
        return;
    };
    let bits = random_bits(BITS, rate as u64 + 1);
    let sig = impair(
        &spandsp_tx(&sp, V29, rate, false, &bits, 400, 800),
        0.0,
        0.0,
        Some(35.0),
        2,
    );
    let (c, rx) = our_rx(V29, rate, &sig, 160);
    let (errors, off) = best_aligned_errors(&bits, &c.bits);
    eprintln!(
        "spandsp -> ours {rate}: {errors} errors (offset {off}, {} bits), events {:?}, quality {:?}",
        c.bits.len(),
        c.events,
        rx.quality()
    );
    assert!(c.trained());
    assert_eq!(errors, 0);
}

#[test]
fn ours_to_spandsp_9600() {
    ours_to_spandsp(9600);
}

#[test]
fn ours_to_spandsp_7200() {
    ours_to_spandsp(7200);
}

#[test]
fn ours_to_spandsp_4800() {
    ours_to_spandsp(4800);
}

#[test]
fn spandsp_to_ours_9600() {
    spandsp_to_ours(9600);
}

#[test]
fn spandsp_to_ours_7200() {
    spandsp_to_ours(7200);
}

#[test]
fn spandsp_to_ours_4800() {
    spandsp_to_ours(4800);
}

#[test]
fn spandsp_to_ours_9600_with_offsets() {
    let Some(sp) = spandsp_peer::require() else {
        return;
    };
    for (hz, ppm) in [(10.0, 100.0), (-10.0, -100.0)] {
        let bits = random_bits(BITS, 77);
        let sig = impair(
            &spandsp_tx(&sp, V29, 9600, false, &bits, 400, 800),
            hz,
            ppm,
            Some(35.0),
            3,
        );
        let (c, rx) = our_rx(V29, 9600, &sig, 160);
        let (errors, _) = best_aligned_errors(&bits, &c.bits);
        let q = rx.quality();
        eprintln!("spandsp -> ours {hz:+} Hz {ppm:+} ppm: {errors} errors, {q:?}");
        assert_eq!(errors, 0);
        assert!((q.carrier_offset_hz as f64 - hz).abs() < 0.5, "{q:?}");
        assert!((q.timing_offset_ppm as f64 - ppm).abs() < 25.0, "{q:?}");
    }
}

#[test]
fn ours_to_spandsp_9600_with_offsets() {
    let Some(sp) = spandsp_peer::require() else {
        return;
    };
    for (hz, ppm) in [(10.0, -100.0), (-10.0, 100.0)] {
        let bits = random_bits(BITS, 78);
        let sig = impair(
            &our_tx(V29, 9600, false, &bits, 400, 800),
            hz,
            ppm,
            Some(35.0),
            4,
        );
        let peer = spandsp_rx(&sp, V29, 9600, &sig);
        let (got, trained) = (&peer.bits, peer.trained());
        let (errors, _) = best_aligned_errors(&bits, got);
        eprintln!("ours -> spandsp {hz:+} Hz {ppm:+} ppm: trained {trained}, {errors} errors");
        assert!(trained);
        assert_eq!(errors, 0);
    }
}
