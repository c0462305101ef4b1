//! HDLC frames through V.21 over a noisy line: every frame must arrive with a good FCS.

use channel_models::AudioStage;
use channel_models::line::Awgn;
use channel_models::rng::Rng;
use modem::hdlc::{Deframing, HdlcDeframer, HdlcFramer, HdlcRxConfig, HdlcTxConfig};
use modem::v21::{V21Channel, V21Rx, V21Tx};
use modem::{Receiver, RxConfig, Transmitter, TxConfig};

mod common;
use common::hdlc::{Frames, stressful_frame};

struct Line {
    rx: V21Rx,
    noise: Awgn,
    deframer: HdlcDeframer,
    frames: Frames,
    noisy: Vec<i16>,
}

impl Line {
    fn feed(&mut self, block: &[i16]) {
        self.noisy.clear();
        self.noise.process(block, &mut self.noisy);
        let mut sink = Deframing {
            deframer: &mut self.deframer,
            sink: &mut self.frames,
        };
        self.rx.process(&self.noisy, &mut sink);
    }
}

fn frames_over_v21(
    channel: V21Channel,
    snr_db: f64,
    bursts: usize,
    per_burst: usize,
    seed: u64,
) -> Frames {
    let level = -10.0;
    let cfg = TxConfig {
        rate: 300,
        level_dbm0: level,
        ..Default::default()
    };
    let mut rng = Rng::new(seed);
    let mut line = Line {
        rx: V21Rx::new(channel, &RxConfig::default()).unwrap(),
        noise: Awgn::with_snr(snr_db, level as f64, seed ^ 0xA5A5),
        deframer: HdlcDeframer::new(HdlcRxConfig::default()),
        frames: Frames::default(),
        noisy: Vec::with_capacity(160),
    };
    let mut sent = Vec::new();
    let mut block = [0i16; 160];
    for burst in 0..bursts {
        let mut framer = HdlcFramer::new(HdlcTxConfig {
            shared_flags: burst % 2 == 0,
            ..Default::default()
        });
        for _ in 0..per_burst {
            let f = stressful_frame(&mut rng);
            framer.push(&f);
            sent.push(f);
        }
        // 80 ms of silence between carriers (T.30 asks for 75 ± 20 ms).
        for _ in 0..4 {
            line.feed(&[0; 160]);
        }
        let mut tx = V21Tx::new(channel, &cfg).unwrap();
        while !tx.is_finished() {
            let n = tx.fill(&mut block, &mut framer);
            block[n..].fill(0);
            line.feed(&block);
        }
    }
    for _ in 0..10 {
        line.feed(&[0; 160]);
    }
    let frames = line.frames;
    eprintln!(
        "{channel:?} {snr_db} dB: {} frames sent, {} good, {} bad-FCS (noise between bursts), {} preambles, {} carrier-ups, {:?}",
        sent.len(),
        frames.good.len(),
        frames.bad,
        frames.preambles,
        frames.carrier_ups,
        line.rx.quality()
    );
    assert_eq!(frames.good.len(), sent.len());
    assert!(frames.good == sent, "frames differ");
    assert!(frames.preambles >= bursts);
    frames
}

#[test]
fn ch2_frames_at_20_db() {
    frames_over_v21(V21Channel::Ch2, 20.0, 12, 12, 1);
}

#[test]
fn ch1_frames_at_20_db() {
    frames_over_v21(V21Channel::Ch1, 20.0, 12, 12, 2);
}

#[test]
fn ch2_frames_through_clean_line_carrier_events() {
    // At 40 dB the line is quiet between bursts: one carrier per burst.
    let frames = frames_over_v21(V21Channel::Ch2, 40.0, 4, 3, 3);
    assert_eq!(frames.carrier_ups, 4);
    assert_eq!(frames.preambles, 4);
    assert_eq!(frames.bad, 0);
}

#[test]
fn ch2_frames_at_8_db() {
    frames_over_v21(V21Channel::Ch2, 8.0, 6, 12, 4);
}
