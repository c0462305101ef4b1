//! Shared helpers of the V.29 tests: signal generation, channel, bit comparison.
#![allow(dead_code)]

use channel_models::AudioStage;
use channel_models::line::{Awgn, ClockDrift, FrequencyShift};
use channel_models::rng::Rng;
use modem::v29::{V29Rx, V29Tx};
use modem::{Receiver, RxConfig, RxEvent, RxSink, Transmitter, TxConfig};

/// Collects what a receiver reports.
#[derive(Default, Debug)]
pub struct Collect {
    pub bits: Vec<bool>,
    pub events: Vec<RxEvent>,
}

impl RxSink for Collect {
    fn bit(&mut self, bit: bool) {
        self.bits.push(bit);
    }
    fn event(&mut self, event: RxEvent) {
        self.events.push(event);
    }
}

/// `n` seeded random bits.
pub fn random_bits(n: usize, seed: u64) -> Vec<bool> {
    let mut rng = Rng::new(seed);
    (0..n).map(|_| rng.chance(0.5)).collect()
}

/// Our transmitter's signal for `bits`, with `lead` samples of silence before and 800 after.
pub fn our_tx(rate: u32, bits: &[bool], lead: usize) -> Vec<i16> {
    let mut tx = V29Tx::new(&TxConfig {
        rate,
        ..Default::default()
    })
    .unwrap();
    let mut out = vec![0i16; lead];
    let mut it = bits.iter().copied();
    let mut src = || it.next();
    let mut block = [0i16; 160];
    while !tx.is_finished() {
        let n = tx.fill(&mut block, &mut src);
        out.extend_from_slice(&block[..n]);
    }
    out.extend(std::iter::repeat_n(0, 800));
    out
}

/// Applies a carrier shift, clock drift and noise at `snr` dB (None: no noise).
pub fn channel(sig: &[i16], hz: f64, ppm: f64, snr: Option<f64>, seed: u64) -> Vec<i16> {
    let mut s = sig.to_vec();
    if hz != 0.0 {
        let mut o = Vec::with_capacity(s.len());
        FrequencyShift::new(hz).process(&s, &mut o);
        s = o;
    }
    if ppm != 0.0 {
        let mut o = Vec::with_capacity(s.len());
        ClockDrift::new(ppm).process(&s, &mut o);
        s = o;
    }
    if let Some(snr) = snr {
        let mut o = Vec::with_capacity(s.len());
        Awgn::with_snr(snr, -10.0, seed).process(&s, &mut o);
        s = o;
    }
    s
}

/// Runs our receiver over `sig` in blocks of `block` samples.
pub fn our_rx(rate: u32, sig: &[i16], block: usize) -> (Collect, V29Rx) {
    let mut rx = V29Rx::new(&RxConfig {
        rate,
        short_train: false,
    })
    .unwrap();
    let mut c = Collect::default();
    for chunk in sig.chunks(block) {
        rx.process(chunk, &mut c);
    }
    (c, rx)
}

/// Bit errors of `got` against `sent`, after finding where `sent` starts in `got` (the
/// receiver may deliver a few extra bits first). Missing bits count as errors.
pub fn bit_errors(sent: &[bool], got: &[bool]) -> (usize, usize) {
    let probe = sent.len().min(64);
    let mut best = (usize::MAX, 0);
    for off in 0..got.len().min(400) {
        let e = (0..probe)
            .filter(|&i| got.get(off + i) != Some(&sent[i]))
            .count();
        if e < best.0 {
            best = (e, off);
        }
        if e == 0 {
            break;
        }
    }
    let off = best.1;
    let errors = sent
        .iter()
        .enumerate()
        .filter(|&(i, b)| got.get(off + i) != Some(b))
        .count();
    (errors, off)
}

/// spandsp's transmitter's signal for `bits`, with `lead` samples of silence before and 800
/// after.
pub fn spandsp_tx(
    sp: &std::sync::Arc<spandsp_peer::Spandsp>,
    rate: u32,
    bits: &[bool],
    lead: usize,
) -> Vec<i16> {
    let mut tx =
        spandsp_peer::ModemTx::new(sp, spandsp_peer::PeerModem::V29, rate, false, -10.0).unwrap();
    let mut out = vec![0i16; lead];
    let mut it = bits.iter().copied();
    let mut block = [0i16; 160];
    while !tx.is_finished() {
        let n = tx.fill(&mut block, &mut || it.next());
        out.extend_from_slice(&block[..n]);
    }
    out.extend(std::iter::repeat_n(0, 800));
    out
}

/// spandsp's receiver over `sig`: the bits and whether it trained.
pub fn spandsp_rx(
    sp: &std::sync::Arc<spandsp_peer::Spandsp>,
    rate: u32,
    sig: &[i16],
) -> (Vec<bool>, bool) {
    let mut rx = spandsp_peer::ModemRx::new(sp, spandsp_peer::PeerModem::V29, rate).unwrap();
    let mut bits = vec![];
    let mut trained = false;
    for chunk in sig.chunks(160) {
        rx.process(chunk, &mut |ev| match ev {
            spandsp_peer::PeerRxEvent::Bit(b) => bits.push(b),
            spandsp_peer::PeerRxEvent::TrainingSucceeded => trained = true,
            _ => {}
        });
    }
    (bits, trained)
}
