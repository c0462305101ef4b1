//! What the modem benches share, included by path by the `modems` bench and the
//! `rx_instructions` and `modem_ratio` examples: the cases, the receive input (a whole
//! transmission of our modulator with AWGN at 30 dB), the demodulation that is timed and
//! the modulator past its training. Not every includer uses every item.

use channel_models::AudioStage;
use channel_models::line::Awgn;
use modem::prbs::PrbsSource;
use modem::{ModemKind, Receiver, RxConfig, RxEvent, RxSink, Transmitter, TxConfig};
use sim::modems::{Implementation, make_rx, make_tx};

/// Samples per block handed to a modem.
pub const BLOCK: usize = 160;
/// Transmit level, dBm0; the SNR is relative to it.
pub const LEVEL_DBM0: f32 = -10.0;
const NOISE_SEED: u64 = 0x5eed;

/// Every modem and rate measured.
#[allow(dead_code)]
pub const CASES: &[(ModemKind, u32)] = &[
    (ModemKind::V17, 14400),
    (ModemKind::V17, 12000),
    (ModemKind::V17, 9600),
    (ModemKind::V17, 7200),
    (ModemKind::V29, 9600),
    (ModemKind::V29, 7200),
    (ModemKind::V27ter, 4800),
    (ModemKind::V27ter, 2400),
    (ModemKind::V21Ch2, 300),
];

/// A receiver's sink that only counts the bits.
pub struct CountBits(pub u64);

impl RxSink for CountBits {
    fn bit(&mut self, _bit: bool) {
        self.0 += 1;
    }
    fn event(&mut self, _event: RxEvent) {}
}

/// A fresh receiver for `kind` at `rate`.
pub fn receiver(imp: Implementation, kind: ModemKind, rate: u32) -> Box<dyn Receiver> {
    let cfg = RxConfig {
        rate,
        ..Default::default()
    };
    make_rx(imp, kind, &cfg).expect("demodulator")
}

/// Demodulates `signal` in blocks of [`BLOCK`]: the bits delivered.
pub fn demodulate(rx: &mut dyn Receiver, signal: &[i16]) -> u64 {
    let mut sink = CountBits(0);
    for block in signal.chunks(BLOCK) {
        rx.process(std::hint::black_box(block), &mut sink);
    }
    sink.0
}

/// A modulator for `kind` at `rate` past its training (V.17's long training is about
/// 1.4 s), with its endless PRBS source.
#[allow(dead_code)]
pub fn modulator(
    imp: Implementation,
    kind: ModemKind,
    rate: u32,
) -> (Box<dyn Transmitter>, PrbsSource) {
    let mut tx = make_tx(imp, kind, &tx_cfg(rate)).expect("modulator");
    let mut src = PrbsSource::endless();
    let mut block = [0i16; BLOCK];
    for _ in 0..100 {
        tx.fill(&mut block, &mut src);
    }
    (tx, src)
}

/// Our modulator's settings at `rate` and the bench level.
pub fn tx_cfg(rate: u32) -> TxConfig {
    TxConfig {
        rate,
        level_dbm0: LEVEL_DBM0,
        ..Default::default()
    }
}

/// A whole transmission of two seconds of PRBS data by our modulator, with AWGN at 30 dB.
pub fn noisy_signal(kind: ModemKind, rate: u32) -> Vec<i16> {
    let mut tx = make_tx(Implementation::Ours, kind, &tx_cfg(rate)).expect("modulator");
    let mut src = PrbsSource::bounded(u64::from(rate) * 2);
    let mut clean = Vec::new();
    let mut block = [0i16; BLOCK];
    while !tx.is_finished() {
        let n = tx.fill(&mut block, &mut src);
        clean.extend_from_slice(&block[..n]);
    }
    // Start at the first symbol: a receiver that fails training on noise before the signal
    // would otherwise be timed idling.
    let start = clean.iter().position(|&x| x != 0).unwrap_or(0);
    let mut noisy = Vec::with_capacity(clean.len());
    Awgn::with_snr(30.0, f64::from(LEVEL_DBM0), NOISE_SEED).process(&clean[start..], &mut noisy);
    noisy
}
