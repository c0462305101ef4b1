//! Plumbing shared by the modem tests, whatever the modem: data bits, our transmitter or
//! spandsp's, a chain of line impairments, our receiver or spandsp's, and bit comparison.
//! Each test file uses what it needs.
#![allow(dead_code)]

pub mod hdlc;

use std::sync::Arc;

use channel_models::AudioStage;
use channel_models::line::{Awgn, ClockDrift, FrequencyShift};
use channel_models::rng::Rng;
use modem::{
    BitSource, ModemKind, Receiver, RxConfig, RxEvent, RxSink, Transmitter, TxConfig, new_receiver,
    new_transmitter,
};
use spandsp_peer::{ModemRx, ModemTx, PeerModem, PeerRxEvent, Spandsp};

/// Transmit level of every test signal, dBm0; noise SNRs are relative to it.
pub const LEVEL: f32 = -10.0;

/// spandsp's name for the same modem.
pub fn peer_kind(kind: ModemKind) -> PeerModem {
    match kind {
        ModemKind::V21Ch1 => PeerModem::V21Ch1,
        ModemKind::V21Ch2 => PeerModem::V21Ch2,
        ModemKind::V27ter => PeerModem::V27ter,
        ModemKind::V29 => PeerModem::V29,
        ModemKind::V17 => PeerModem::V17,
    }
}

/// `n` seeded random bits from the channel models' generator.
pub fn random_bits(n: usize, seed: u64) -> Vec<bool> {
    let mut rng = Rng::new(seed);
    (0..n).map(|_| rng.chance(0.5)).collect()
}

/// `n` bits of a 32-bit xorshift sequence started from `seed`.
pub fn prbs(n: usize, seed: u32) -> Vec<bool> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x & 1 != 0
        })
        .collect()
}

/// A transmitter of ours or of spandsp's, seen the same way.
pub trait Fill {
    /// Fills `out` from `src`; returns how many samples were written.
    fn fill_block(&mut self, out: &mut [i16], src: &mut dyn BitSource) -> usize;
    /// True once the closing sequence has been sent.
    fn finished(&self) -> bool;
}

impl Fill for Box<dyn Transmitter + Send> {
    fn fill_block(&mut self, out: &mut [i16], src: &mut dyn BitSource) -> usize {
        self.fill(out, src)
    }
    fn finished(&self) -> bool {
        self.is_finished()
    }
}

impl Fill for ModemTx {
    fn fill_block(&mut self, out: &mut [i16], src: &mut dyn BitSource) -> usize {
        self.fill(out, &mut || src.next_bit())
    }
    fn finished(&self) -> bool {
        self.is_finished()
    }
}

/// Our transmitter for `kind` at `rate`, at [`LEVEL`].
pub fn our_transmitter(kind: ModemKind, rate: u32, short: bool) -> Box<dyn Transmitter + Send> {
    new_transmitter(
        kind,
        &TxConfig {
            rate,
            short_train: short,
            level_dbm0: LEVEL,
        },
    )
    .unwrap()
}

/// Everything `tx` sends for `bits`, asking `block_len(i)` samples on the `i`-th call.
pub fn drain(tx: &mut dyn Fill, bits: &[bool], block_len: impl FnMut(usize) -> usize) -> Vec<i16> {
    let mut it = bits.iter().copied();
    drain_source(tx, &mut move || it.next(), block_len)
}

/// Everything `tx` sends for what `src` gives, asking `block_len(i)` samples on the `i`-th
/// call.
pub fn drain_source(
    tx: &mut dyn Fill,
    src: &mut dyn BitSource,
    mut block_len: impl FnMut(usize) -> usize,
) -> Vec<i16> {
    let mut out = vec![];
    let mut block = vec![];
    let mut i = 0;
    while !tx.finished() {
        block.resize(block_len(i), 0);
        let n = tx.fill_block(&mut block, src);
        out.extend_from_slice(&block[..n]);
        i += 1;
    }
    out
}

/// `sig` with `lead` samples of silence before and `tail` after.
pub fn pad(lead: usize, sig: &[i16], tail: usize) -> Vec<i16> {
    let mut out = vec![0i16; lead];
    out.extend_from_slice(sig);
    out.extend(std::iter::repeat_n(0, tail));
    out
}

/// Our transmitter's signal for `bits`, between `lead` and `tail` samples of silence.
pub fn our_tx(
    kind: ModemKind,
    rate: u32,
    short: bool,
    bits: &[bool],
    lead: usize,
    tail: usize,
) -> Vec<i16> {
    let sig = drain(&mut our_transmitter(kind, rate, short), bits, |_| 160);
    pad(lead, &sig, tail)
}

/// spandsp's transmitter's signal for `bits` at [`LEVEL`], between `lead` and `tail`
/// samples of silence.
pub fn spandsp_tx(
    sp: &Arc<Spandsp>,
    kind: ModemKind,
    rate: u32,
    short: bool,
    bits: &[bool],
    lead: usize,
    tail: usize,
) -> Vec<i16> {
    let mut tx = ModemTx::new(sp, peer_kind(kind), rate, short, LEVEL).unwrap();
    pad(lead, &drain(&mut tx, bits, |_| 160), tail)
}

/// One stage of the simulated line.
#[derive(Clone, Copy, Debug)]
pub enum Stage {
    /// Carrier frequency offset, Hz (skipped when zero).
    Shift(f64),
    /// Sampling clock offset, ppm (skipped when zero).
    Drift(f64),
    /// White noise at `snr_db` over the band relative to [`LEVEL`].
    Noise {
        /// Signal-to-noise ratio, dB.
        snr_db: f64,
        /// Noise generator seed.
        seed: u64,
    },
}

/// `sig` through `stages`, in order.
pub fn line(sig: &[i16], stages: &[Stage]) -> Vec<i16> {
    let mut cur = sig.to_vec();
    for stage in stages {
        let mut out = Vec::with_capacity(cur.len());
        match *stage {
            Stage::Shift(hz) if hz != 0.0 => FrequencyShift::new(hz).process(&cur, &mut out),
            Stage::Drift(ppm) if ppm != 0.0 => ClockDrift::new(ppm).process(&cur, &mut out),
            Stage::Noise { snr_db, seed } => {
                Awgn::with_snr(snr_db, LEVEL as f64, seed).process(&cur, &mut out)
            }
            _ => continue,
        }
        cur = out;
    }
    cur
}

/// Carrier shift, then clock drift, then noise at `snr` dB (None: no noise).
pub fn impair(sig: &[i16], hz: f64, ppm: f64, snr: Option<f64>, seed: u64) -> Vec<i16> {
    let noise = snr.map(|snr_db| Stage::Noise { snr_db, seed });
    let stages: Vec<Stage> = [Some(Stage::Shift(hz)), Some(Stage::Drift(ppm)), noise]
        .into_iter()
        .flatten()
        .collect();
    line(sig, &stages)
}

/// Noise alone at `snr` dB.
pub fn noisy(sig: &[i16], snr: f64, seed: u64) -> Vec<i16> {
    line(sig, &[Stage::Noise { snr_db: snr, seed }])
}

/// Everything our receiver reported.
#[derive(Default, Debug, Clone, PartialEq)]
pub struct Collect {
    /// Data bits.
    pub bits: Vec<bool>,
    /// Events, in order.
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
    /// How many times training succeeded.
    pub fn trainings(&self) -> usize {
        self.events
            .iter()
            .filter(|e| matches!(e, RxEvent::TrainingSucceeded { .. }))
            .count()
    }

    /// Whether training succeeded at least once.
    pub fn trained(&self) -> bool {
        self.trainings() > 0
    }
}

/// Our receiver for `kind` at `rate`.
pub fn our_receiver(kind: ModemKind, rate: u32, short: bool) -> Box<dyn Receiver + Send> {
    new_receiver(
        kind,
        &RxConfig {
            rate,
            short_train: short,
        },
    )
    .unwrap()
}

/// Runs `rx` over `sig` in blocks of `block` samples.
pub fn receive(rx: &mut dyn Receiver, sig: &[i16], block: usize) -> Collect {
    let mut c = Collect::default();
    for chunk in sig.chunks(block) {
        rx.process(chunk, &mut c);
    }
    c
}

/// Runs `rx` over `sig` in blocks whose sizes cycle through `cuts`.
pub fn receive_cuts(rx: &mut dyn Receiver, sig: &[i16], cuts: &[usize]) -> Collect {
    let mut c = Collect::default();
    let mut pos = 0;
    let mut i = 0;
    while pos < sig.len() {
        let n = cuts[i % cuts.len()].min(sig.len() - pos);
        rx.process(&sig[pos..pos + n], &mut c);
        pos += n;
        i += 1;
    }
    c
}

/// A fresh receiver of ours over `sig` in blocks of `block`: what it reported, and itself.
pub fn our_rx(
    kind: ModemKind,
    rate: u32,
    sig: &[i16],
    block: usize,
) -> (Collect, Box<dyn Receiver + Send>) {
    let mut rx = our_receiver(kind, rate, false);
    let c = receive(&mut *rx, sig, block);
    (c, rx)
}

/// What spandsp's receiver reported.
#[derive(Default, Debug)]
pub struct PeerCollect {
    /// Every bit it delivered.
    pub bits: Vec<bool>,
    /// Bit count when it first reported training success.
    pub trained_at: Option<usize>,
}

impl PeerCollect {
    /// Whether it trained.
    pub fn trained(&self) -> bool {
        self.trained_at.is_some()
    }

    /// The bits delivered from its first training on (none if it never trained).
    pub fn bits_after_training(&self) -> &[bool] {
        &self.bits[self.trained_at.unwrap_or(self.bits.len())..]
    }
}

/// Runs spandsp's receiver `rx` over `sig` in blocks of 160 samples.
pub fn spandsp_receive(rx: &mut ModemRx, sig: &[i16]) -> PeerCollect {
    let mut c = PeerCollect::default();
    for chunk in sig.chunks(160) {
        rx.process(chunk, &mut |ev| match ev {
            PeerRxEvent::Bit(b) => c.bits.push(b),
            PeerRxEvent::TrainingSucceeded if c.trained_at.is_none() => {
                c.trained_at = Some(c.bits.len())
            }
            _ => {}
        });
    }
    c
}

/// A fresh spandsp receiver for `kind` at `rate` over `sig`.
pub fn spandsp_rx(sp: &Arc<Spandsp>, kind: ModemKind, rate: u32, sig: &[i16]) -> PeerCollect {
    let mut rx = ModemRx::new(sp, peer_kind(kind), rate).unwrap();
    spandsp_receive(&mut rx, sig)
}

/// Bit errors of `got` against `sent`, position by position (missing bits count as errors).
pub fn errors(sent: &[bool], got: &[bool]) -> usize {
    let n = sent.len().min(got.len());
    sent[..n]
        .iter()
        .zip(&got[..n])
        .filter(|(a, b)| a != b)
        .count()
        + (sent.len() - n)
}

/// Where `sent` starts in `got` (searching the first `window` bits), by its first 64 bits.
pub fn find_start(sent: &[bool], got: &[bool], window: usize) -> Option<usize> {
    let probe = 64.min(sent.len());
    (0..window.min(got.len().saturating_sub(probe))).find(|&i| got[i..i + probe] == sent[..probe])
}

/// Errors of `got` against `sent` once aligned by [`find_start`]; all bits if never found.
pub fn aligned_errors(sent: &[bool], got: &[bool], window: usize) -> usize {
    match find_start(sent, got, window) {
        Some(i) => errors(sent, &got[i..]),
        None => sent.len(),
    }
}

/// Bit errors of `got` against `sent` at the offset (of the first 400) where the first 64
/// bits match best, so that errors at the start do not hide the alignment: (errors, offset).
pub fn best_aligned_errors(sent: &[bool], got: &[bool]) -> (usize, usize) {
    best_aligned_errors_at(sent, got, 0)
}

/// [`best_aligned_errors`] with the 64 bits matched from `probe_at` on (e.g. mid-way, so
/// that a run of errors at the start cannot misalign it either).
pub fn best_aligned_errors_at(sent: &[bool], got: &[bool], probe_at: usize) -> (usize, usize) {
    let probe = probe_at..sent.len().min(probe_at + 64);
    let mut best = (usize::MAX, 0);
    for off in 0..got.len().min(400) {
        let e = probe
            .clone()
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
