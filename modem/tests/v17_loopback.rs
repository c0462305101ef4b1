//! V.17 loopback through line impairments: every rate error-free at 40 dB SNR, with ±10 Hz
//! carrier offset and ±100 ppm clock offset; long and short trains; events and quality.

use channel_models::AudioStage;
use channel_models::line::{Awgn, ClockDrift, FrequencyShift};
use modem::v17::{V17Rx, V17Tx};
use modem::{Receiver, RxConfig, RxEvent, RxSink, Transmitter, TxConfig};

const LEVEL: f32 = -10.0;

fn prbs(n: usize, seed: u32) -> Vec<bool> {
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

fn transmit(rate: u32, short: bool, data: &[bool]) -> Vec<i16> {
    let mut tx = V17Tx::new(&TxConfig {
        rate,
        short_train: short,
        level_dbm0: LEVEL,
    })
    .unwrap();
    let mut bits = data.iter().copied();
    let mut out = vec![0i16; 800];
    let mut block = [0i16; 160];
    while !tx.is_finished() {
        let n = tx.fill(&mut block, &mut || bits.next());
        out.extend_from_slice(&block[..n]);
    }
    out.extend_from_slice(&[0; 800]);
    out
}

#[derive(Default)]
struct Sink {
    bits: Vec<bool>,
    events: Vec<RxEvent>,
}
impl RxSink for Sink {
    fn bit(&mut self, b: bool) {
        self.bits.push(b)
    }
    fn event(&mut self, e: RxEvent) {
        self.events.push(e)
    }
}

/// Bit errors between what was sent and the first `data.len()` bits received.
fn errors(got: &[bool], data: &[bool]) -> usize {
    data.iter().zip(got).filter(|(a, b)| a != b).count() + data.len().saturating_sub(got.len())
}

fn channel(sig: &[i16], snr: f64, hz: f64, ppm: f64, seed: u64) -> Vec<i16> {
    let mut x = sig.to_vec();
    let mut y = Vec::new();
    if ppm != 0.0 {
        ClockDrift::new(ppm).process(&x, &mut y);
        std::mem::swap(&mut x, &mut y);
    }
    if hz != 0.0 {
        y.clear();
        FrequencyShift::new(hz).process(&x, &mut y);
        std::mem::swap(&mut x, &mut y);
    }
    y.clear();
    Awgn::with_snr(snr, LEVEL as f64, seed).process(&x, &mut y);
    y
}

fn run(rate: u32, nbits: usize, hz: f64, ppm: f64) {
    let data = prbs(nbits, rate ^ nbits as u32);
    let sig = channel(&transmit(rate, false, &data), 40.0, hz, ppm, rate as u64);
    let mut rx = V17Rx::new(&RxConfig {
        rate,
        short_train: false,
    })
    .unwrap();
    let mut sink = Sink::default();
    rx.process(&sig, &mut sink);
    let trained = sink
        .events
        .iter()
        .filter(|e| matches!(e, RxEvent::TrainingSucceeded { .. }))
        .count();
    assert_eq!(trained, 1, "{rate} {hz} Hz {ppm} ppm: {:?}", sink.events);
    assert_eq!(
        errors(&sink.bits, &data),
        0,
        "{rate} bit/s, {hz} Hz, {ppm} ppm"
    );
}

#[test]
fn million_bits_every_rate_at_40_db() {
    for rate in RATES {
        run(rate, 1_000_000, 0.0, 0.0);
    }
}

const RATES: [u32; 4] = [7200, 9600, 12000, 14400];

#[test]
fn carrier_offset_plus_10_hz() {
    for rate in RATES {
        run(rate, 1_000_000, 10.0, 0.0);
    }
}

#[test]
fn carrier_offset_minus_10_hz() {
    for rate in RATES {
        run(rate, 1_000_000, -10.0, 0.0);
    }
}

#[test]
fn clock_offset_plus_100_ppm() {
    for rate in RATES {
        run(rate, 1_000_000, 0.0, 100.0);
    }
}

#[test]
fn clock_offset_minus_100_ppm() {
    for rate in RATES {
        run(rate, 1_000_000, 0.0, -100.0);
    }
}

/// A guard on sensitivity: 3 dB above the lowest error-free SNR measured with the
/// `v17_sensitivity` example (14400: 22 dB, 7200: 12 dB), 10^6 bits must still be clean.
#[test]
fn low_snr_margin() {
    for (rate, snr) in [(14400, 25.0), (7200, 15.0)] {
        let data = prbs(1_000_000, 77);
        let sig = channel(&transmit(rate, false, &data), snr, 0.0, 0.0, 5);
        let mut rx = V17Rx::new(&RxConfig {
            rate,
            short_train: false,
        })
        .unwrap();
        let mut sink = Sink::default();
        rx.process(&sig, &mut sink);
        assert_eq!(errors(&sink.bits, &data), 0, "{rate} at {snr} dB");
    }
}
