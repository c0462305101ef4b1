//! ECM carries HDLC frames over the fast modems: random frames, heavy in flags and stuffing,
//! must come through V.17, V.29 and V.27ter at every rate with good FCS and intact content.

mod common;

use channel_models::AudioStage;
use channel_models::line::Awgn;
use channel_models::rng::Rng;
use common::hdlc::{Frames, stressful_frame};
use common::{LEVEL, our_receiver, our_transmitter};
use modem::hdlc::{Deframing, HdlcDeframer, HdlcFramer, HdlcRxConfig, HdlcTxConfig};
use modem::{ModemKind, RxEvent};

fn frames_over(kind: ModemKind, rate: u32, snr_db: f64, count: usize, seed: u64) {
    let mut rng = Rng::new(seed);
    // ECM image data: a short run of flags after training, then back-to-back frames.
    let mut framer = HdlcFramer::new(HdlcTxConfig {
        preamble_flags: 8,
        ..Default::default()
    });
    let sent: Vec<Vec<u8>> = (0..count).map(|_| stressful_frame(&mut rng)).collect();
    for f in &sent {
        framer.push(f);
    }
    let mut tx = our_transmitter(kind, rate, false);
    let mut rx = our_receiver(kind, rate, false);
    let mut noise = Awgn::with_snr(snr_db, f64::from(LEVEL), seed ^ 0x5A5A);
    let mut deframer = HdlcDeframer::new(HdlcRxConfig::default());
    let mut frames = Frames::default();
    let mut trained = false;
    let mut block = [0i16; 160];
    let mut noisy = Vec::with_capacity(160);
    // After the carrier the line falls silent, so the receiver's end-of-signal noise cannot
    // form junk frames and every bad FCS counted comes from inside the transmission.
    let mut run = |block: &[i16], frames: &mut Frames, noisy_line: bool| {
        noisy.clear();
        if noisy_line {
            noise.process(block, &mut noisy);
        } else {
            noisy.extend_from_slice(block);
        }
        rx.process(
            &noisy,
            &mut Deframing {
                deframer: &mut deframer,
                sink: frames,
            },
        );
    };
    while !tx.is_finished() {
        let n = tx.fill(&mut block, &mut framer);
        block[n..].fill(0);
        run(&block, &mut frames, true);
    }
    for _ in 0..10 {
        run(&[0; 160], &mut frames, false);
    }
    trained |= frames.carrier_ups > 0;
    assert!(trained, "{kind:?} {rate}: no carrier");
    assert_eq!(
        frames.good.len(),
        sent.len(),
        "{kind:?} {rate}: {} of {} frames good, {} bad",
        frames.good.len(),
        sent.len(),
        frames.bad
    );
    assert!(
        frames.good == sent,
        "{kind:?} {rate}: frame content differs"
    );
    assert_eq!(frames.bad, 0, "{kind:?} {rate}: bad-FCS frames");
}

#[test]
fn v17_every_rate() {
    for (i, rate) in [7200, 9600, 12000, 14400].into_iter().enumerate() {
        frames_over(ModemKind::V17, rate, 30.0, 40, 10 + i as u64);
    }
}

#[test]
fn v29_every_rate() {
    for (i, rate) in [7200, 9600].into_iter().enumerate() {
        frames_over(ModemKind::V29, rate, 30.0, 40, 20 + i as u64);
    }
}

#[test]
fn v27ter_every_rate() {
    for (i, rate) in [2400, 4800].into_iter().enumerate() {
        frames_over(ModemKind::V27ter, rate, 25.0, 20, 30 + i as u64);
    }
}

#[test]
fn training_events_precede_frames() {
    // The receiver must announce training before any frame can be delivered.
    let mut rx = our_receiver(ModemKind::V17, 14400, false);
    let mut tx = our_transmitter(ModemKind::V17, 14400, false);
    let mut framer = HdlcFramer::new(HdlcTxConfig::default());
    framer.push(&[0xFF, 0x03, 0x06, 0x00, 0x7E, 0x7E]);
    struct Order(Vec<&'static str>);
    impl modem::hdlc::HdlcSink for Order {
        fn hdlc_event(&mut self, event: modem::hdlc::HdlcEvent<'_>) {
            if let modem::hdlc::HdlcEvent::Frame { crc_ok: true, .. } = event {
                self.0.push("frame");
            }
        }
        fn rx_event(&mut self, event: RxEvent) {
            if let RxEvent::TrainingSucceeded { .. } = event {
                self.0.push("trained");
            }
        }
    }
    let mut order = Order(vec![]);
    let mut deframer = HdlcDeframer::new(HdlcRxConfig::default());
    let mut block = [0i16; 160];
    while !tx.is_finished() {
        let n = tx.fill(&mut block, &mut framer);
        block[n..].fill(0);
        rx.process(
            &block,
            &mut Deframing {
                deframer: &mut deframer,
                sink: &mut order,
            },
        );
    }
    assert_eq!(order.0, vec!["trained", "frame"]);
}
