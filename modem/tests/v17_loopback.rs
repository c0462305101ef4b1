//! V.17 loopback through line impairments: every rate error-free at 40 dB SNR, with ±10 Hz
//! carrier offset and ±100 ppm clock offset; long and short trains; events and quality.

mod common;
use common::*;
use modem::ModemKind::V17;

/// Our V.17 signal for `data` (long train), with 800 samples of silence either side.
fn transmit(rate: u32, data: &[bool]) -> Vec<i16> {
    our_tx(V17, rate, false, data, 800, 800)
}

/// Clock drift, then carrier shift, then noise.
fn channel(sig: &[i16], snr: f64, hz: f64, ppm: f64, seed: u64) -> Vec<i16> {
    let noise = Stage::Noise { snr_db: snr, seed };
    line(sig, &[Stage::Drift(ppm), Stage::Shift(hz), noise])
}

fn run(rate: u32, nbits: usize, hz: f64, ppm: f64) {
    let data = prbs(nbits, rate ^ nbits as u32);
    let sig = channel(&transmit(rate, &data), 40.0, hz, ppm, rate as u64);
    let (sink, _) = our_rx(V17, rate, &sig, sig.len());
    assert_eq!(
        sink.trainings(),
        1,
        "{rate} {hz} Hz {ppm} ppm: {:?}",
        sink.events
    );
    assert_eq!(
        errors(&data, &sink.bits),
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

/// A guard on sensitivity: 3 dB above the lowest error-free SNR measured with
/// `faxsim modem ber --threshold` (14400: 22 dB, 7200: 12 dB), 10^6 bits must still be clean.
#[test]
fn low_snr_margin() {
    for (rate, snr) in [(14400, 25.0), (7200, 15.0)] {
        let data = prbs(1_000_000, 77);
        let sig = channel(&transmit(rate, &data), snr, 0.0, 0.0, 5);
        let (sink, _) = our_rx(V17, rate, &sig, sig.len());
        assert_eq!(errors(&data, &sink.bits), 0, "{rate} at {snr} dB");
    }
}

/// Three times the ±100 ppm the recommendation allows, for 21–42 s of data: the clock offset
/// measured over the training's second half stays on as the timing loop's standing
/// correction, where the narrow first-order loop alone lagged and lost the signal after
/// 4–7 s at ±200 ppm.
#[test]
fn clock_offset_300_ppm_both_ways() {
    for rate in [14400, 7200] {
        run(rate, 300_000, 0.0, 300.0);
        run(rate, 300_000, 0.0, -300.0);
    }
}
