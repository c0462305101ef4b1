//! Shared by the HDLC-over-modem tests: a frame collector and a generator of frames that
//! stress bit stuffing.
#![allow(dead_code)]

use channel_models::rng::Rng;
use modem::RxEvent;
use modem::hdlc::{HdlcEvent, HdlcSink};

#[derive(Default)]
pub struct Frames {
    pub good: Vec<Vec<u8>>,
    pub bad: usize,
    pub preambles: usize,
    pub carrier_ups: usize,
}

impl HdlcSink for Frames {
    fn hdlc_event(&mut self, event: HdlcEvent<'_>) {
        match event {
            HdlcEvent::Frame { data, crc_ok: true } => self.good.push(data.to_vec()),
            HdlcEvent::Frame { crc_ok: false, .. } => self.bad += 1,
            HdlcEvent::Preamble => self.preambles += 1,
            _ => {}
        }
    }
    fn rx_event(&mut self, event: RxEvent) {
        if matches!(event, RxEvent::CarrierUp { .. }) {
            self.carrier_ups += 1;
        }
    }
}

/// A frame of random length whose content leans towards what stresses HDLC: flags,
/// runs of ones, and patterns that need a zero inserted at every octet.
pub fn stressful_frame(rng: &mut Rng) -> Vec<u8> {
    let len = 2 + rng.below(259) as usize;
    let style = rng.below(4);
    (0..len)
        .map(|_| match style {
            0 => rng.below(256) as u8,
            1 => [0x7E, 0xFF, 0x3F, 0xFC, 0x7F, 0xFE][rng.below(6) as usize],
            2 => {
                if rng.chance(0.8) {
                    0xFF
                } else {
                    0x7E
                }
            }
            _ => {
                if rng.chance(0.5) {
                    0x3F
                } else {
                    rng.below(256) as u8
                }
            }
        })
        .collect()
}
