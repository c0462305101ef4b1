//! On a real line noise is there before the far end starts transmitting, often loud enough to
//! hold the carrier detector on. Every receiver must still find the training when it comes
//! and then deliver the data error-free.

use channel_models::AudioStage;
use channel_models::line::Awgn;
use modem::prbs::{PrbsChecker, PrbsSource};
use modem::{ModemKind, RxEvent, RxSink};

mod common;
use common::{LEVEL, our_receiver, our_transmitter};

struct Sink {
    checker: PrbsChecker,
    trained: usize,
    failed: usize,
}

impl RxSink for Sink {
    fn bit(&mut self, bit: bool) {
        self.checker.push(bit);
    }
    fn event(&mut self, event: RxEvent) {
        match event {
            RxEvent::TrainingSucceeded { .. } => self.trained += 1,
            RxEvent::TrainingFailed => self.failed += 1,
            _ => {}
        }
    }
}

/// `lead_ms` of noise alone, then the transmission, all with noise `snr_db` below the signal.
fn run(kind: ModemKind, rate: u32, snr_db: f64, lead_ms: usize, bits: u64) {
    let mut tx = our_transmitter(kind, rate, false);
    let mut rx = our_receiver(kind, rate, false);
    let mut noise = Awgn::with_snr(snr_db, f64::from(LEVEL), 77);
    let mut src = PrbsSource::bounded(bits);
    let mut sink = Sink {
        checker: PrbsChecker::new(),
        trained: 0,
        failed: 0,
    };
    let mut noisy = Vec::with_capacity(160);
    let mut block = [0i16; 160];
    for _ in 0..lead_ms / 20 {
        noisy.clear();
        noise.process(&[0; 160], &mut noisy);
        rx.process(&noisy, &mut sink);
    }
    while !tx.is_finished() {
        let n = tx.fill(&mut block, &mut src);
        block[n..].fill(0);
        noisy.clear();
        noise.process(&block, &mut noisy);
        rx.process(&noisy, &mut sink);
    }
    let stats = sink.checker.stats_to_last_clean_run();
    // V.21 has no training: its data simply starts with the carrier.
    let has_training = !matches!(kind, ModemKind::V21Ch1 | ModemKind::V21Ch2);
    assert!(
        !has_training || sink.trained >= 1,
        "{kind:?} {rate} at {snr_db} dB: never trained"
    );
    assert_eq!(stats.errors, 0, "{kind:?} {rate} at {snr_db} dB: {stats:?}");
    assert!(
        stats.bits + 200 >= bits,
        "{kind:?} {rate} at {snr_db} dB: only {} of {bits} bits checked",
        stats.bits
    );
}

#[test]
fn v17_trains_after_noise() {
    for rate in [14400, 7200] {
        run(ModemKind::V17, rate, 25.0, 600, 100_000);
    }
}

#[test]
fn v29_trains_after_noise() {
    run(ModemKind::V29, 9600, 24.0, 600, 100_000);
}

#[test]
fn v27ter_trains_after_noise() {
    run(ModemKind::V27ter, 4800, 20.0, 600, 50_000);
}

#[test]
fn v21_after_noise() {
    run(ModemKind::V21Ch2, 300, 10.0, 600, 5_000);
}
