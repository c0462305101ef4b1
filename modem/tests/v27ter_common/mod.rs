//! Shared drivers for the V.27ter tests: transmit, impair, receive, count errors.
#![allow(dead_code)]

use channel_models::AudioStage;
use channel_models::line::{Awgn, ClockDrift, FrequencyShift};
use channel_models::rng::Rng;
use modem::v27ter::{V27terRx, V27terTx};
use modem::{Quality, Receiver, RxConfig, RxEvent, RxSink, Transmitter, TxConfig};

/// Pseudo-random data bits from a seeded generator.
pub fn data(n: usize, seed: u64) -> Vec<bool> {
    let mut rng = Rng::new(seed);
    (0..n).map(|_| rng.chance(0.5)).collect()
}

/// Our transmitter's samples for `bits`, with `lead` samples of silence before.
pub fn transmit(rate: u32, short: bool, bits: &[bool], lead: usize) -> Vec<i16> {
    let mut tx = V27terTx::new(&TxConfig {
        rate,
        short_train: short,
        ..Default::default()
    })
    .unwrap();
    let mut out = vec![0i16; lead];
    let mut it = bits.iter().copied();
    let mut src = move || it.next();
    let mut block = [0i16; 160];
    while !tx.is_finished() {
        let n = tx.fill(&mut block, &mut src);
        out.extend_from_slice(&block[..n]);
    }
    // Trailing silence so that the receiver sees the carrier go.
    out.extend(std::iter::repeat_n(0, 800));
    out
}

/// Line impairments in order: frequency shift, clock drift, noise (SNR over the band
/// relative to −10 dBm0).
pub fn impair(x: &[i16], hz: f64, ppm: f64, snr_db: Option<f64>, seed: u64) -> Vec<i16> {
    let mut cur = x.to_vec();
    if hz != 0.0 {
        let mut o = Vec::new();
        FrequencyShift::new(hz).process(&cur, &mut o);
        cur = o;
    }
    if ppm != 0.0 {
        let mut o = Vec::new();
        ClockDrift::new(ppm).process(&cur, &mut o);
        cur = o;
    }
    if let Some(snr) = snr_db {
        let mut o = Vec::new();
        Awgn::with_snr(snr, -10.0, seed).process(&cur, &mut o);
        cur = o;
    }
    cur
}

/// Everything a receiver reported.
#[derive(Default, Debug, Clone, PartialEq)]
pub struct Collect {
    pub bits: Vec<bool>,
    pub events: Vec<RxEvent>,
    /// Bit count at each event, to check ordering.
    pub at: Vec<usize>,
}

impl RxSink for Collect {
    fn bit(&mut self, bit: bool) {
        self.bits.push(bit);
    }
    fn event(&mut self, event: RxEvent) {
        self.events.push(event);
        self.at.push(self.bits.len());
    }
}

impl Collect {
    pub fn trained(&self) -> bool {
        self.events
            .iter()
            .any(|e| matches!(e, RxEvent::TrainingSucceeded { .. }))
    }
}

/// Runs our receiver over `samples` in blocks of `block`.
pub fn receive(rx: &mut V27terRx, samples: &[i16], block: usize) -> Collect {
    let mut c = Collect::default();
    for chunk in samples.chunks(block) {
        rx.process(chunk, &mut c);
    }
    c
}

/// Bit errors of `got` against `sent` (missing bits count as errors).
pub fn errors(sent: &[bool], got: &[bool]) -> usize {
    let n = sent.len().min(got.len());
    sent[..n]
        .iter()
        .zip(&got[..n])
        .filter(|(a, b)| a != b)
        .count()
        + (sent.len() - n)
}

/// One loopback of our modem pair: (bit errors, events, quality at the end of data).
pub fn loopback(
    rate: u32,
    nbits: usize,
    hz: f64,
    ppm: f64,
    snr: Option<f64>,
    seed: u64,
) -> (usize, Collect, Quality) {
    let sent = data(nbits, seed);
    let line = impair(
        &transmit(rate, false, &sent, 400),
        hz,
        ppm,
        snr,
        seed ^ 0x5eed,
    );
    let mut rx = V27terRx::new(&RxConfig {
        rate,
        short_train: false,
    })
    .unwrap();
    // Quality is read just before the signal ends.
    let cut = line.len() - 1600;
    let mut c = receive(&mut rx, &line[..cut], 160);
    let q = rx.quality();
    rx.process(&line[cut..], &mut c);
    (errors(&sent, &c.bits), c, q)
}

/// Where `sent` starts in `got` (searching the first `window` bits), by the first 64 bits.
pub fn find_start(sent: &[bool], got: &[bool], window: usize) -> Option<usize> {
    let probe = 64.min(sent.len());
    (0..window.min(got.len().saturating_sub(probe))).find(|&i| got[i..i + probe] == sent[..probe])
}

/// spandsp's transmitter's samples for `bits` (long training), `lead` samples of silence
/// before and 800 after.
pub fn spandsp_transmit(
    sp: &std::sync::Arc<spandsp_peer::Spandsp>,
    rate: u32,
    bits: &[bool],
    lead: usize,
) -> Vec<i16> {
    let mut tx =
        spandsp_peer::ModemTx::new(sp, spandsp_peer::PeerModem::V27ter, rate, false, -10.0)
            .unwrap();
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

/// spandsp's receiver over `samples`: (data bits after training, trained).
pub fn spandsp_receive(
    sp: &std::sync::Arc<spandsp_peer::Spandsp>,
    rate: u32,
    samples: &[i16],
) -> (Vec<bool>, bool) {
    let mut rx = spandsp_peer::ModemRx::new(sp, spandsp_peer::PeerModem::V27ter, rate).unwrap();
    let mut bits = Vec::new();
    let mut trained = false;
    for chunk in samples.chunks(160) {
        rx.process(chunk, &mut |ev| match ev {
            spandsp_peer::PeerRxEvent::Bit(b) if trained => bits.push(b),
            spandsp_peer::PeerRxEvent::TrainingSucceeded => trained = true,
            _ => {}
        });
    }
    (bits, trained)
}

/// Errors of `got` against `sent` once aligned by [`find_start`]; all bits if never found.
pub fn aligned_errors(sent: &[bool], got: &[bool]) -> usize {
    match find_start(sent, got, 200) {
        Some(i) => errors(sent, &got[i..]),
        None => sent.len(),
    }
}
