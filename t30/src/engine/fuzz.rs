//! A driver that feeds arbitrary bytes to an engine as a sequence of inputs, for the
//! cargo-fuzz target and its stable smoke test. Whatever the bytes, the engine must not
//! panic and its outcome, when it ends, must carry a valid code.

use crate::time::SampleTime;

use super::page::{DocumentSource, EncodedPage, PageInfo, PageParams, PageQuality, PageSink};
use super::{Channel, Config, Engine, Role, Tone};
use crate::completion::Completion;
use crate::frame::PageWidth;

struct OnePage;

impl DocumentSource for OnePage {
    fn pages(&self) -> usize {
        2
    }
    fn page_info(&self, _: usize) -> PageInfo {
        PageInfo {
            resolution: super::Resolution::Fine,
            width: PageWidth::A4,
        }
    }
    fn encode_page(&mut self, _: usize, _: &PageParams) -> Result<EncodedPage, Completion> {
        Ok(EncodedPage {
            data: vec![0x55; 700],
            row_data: (0..10).map(|r| r * 70..r * 70 + 60).collect(),
        })
    }
}

struct Discard;

impl PageSink for Discard {
    fn start_page(&mut self, _: &PageParams) {}
    fn data(&mut self, _: &[u8]) {}
    fn end_page(&mut self) -> PageQuality {
        PageQuality {
            rows: 10,
            bad_rows: 0,
            longest_bad_run: 0,
            complete: true,
            longest_line_bits: 0,
        }
    }
    fn commit_page(&mut self, _: bool) {}
}

/// Runs `data` as inputs into an engine (role, ECM and polling chosen by the first byte).
/// Returns the number of actions the engine produced.
pub fn drive(data: &[u8]) -> usize {
    let Some((&first, mut rest)) = data.split_first() else {
        return 0;
    };
    let mut cfg = Config::new(if first & 1 == 0 {
        Role::Caller
    } else {
        Role::Answerer
    });
    cfg.ecm = first & 2 != 0;
    cfg.ecm_frame_size = if first & 4 != 0 {
        super::EcmFrameSize::Octets64
    } else {
        super::EcmFrameSize::Octets256
    };
    let docs: Vec<Box<dyn DocumentSource>> = if first & 8 != 0 && cfg.role == Role::Caller {
        cfg.poll = true;
        vec![]
    } else {
        vec![Box::new(OnePage)]
    };
    let Ok(mut e) = Engine::new(cfg, docs, Some(Box::new(Discard))) else {
        return 0;
    };
    let mut now = SampleTime::ZERO;
    let mut actions = 0;
    e.handle_start(now);
    while let Some((&op, tail)) = rest.split_first() {
        rest = tail;
        let arg = rest.first().copied().unwrap_or(0);
        match op % 10 {
            0 | 1 => {
                // A frame: length, octets, FCS flag from the op's high bit.
                let len = (arg as usize).min(rest.len().saturating_sub(1));
                let bytes = &rest[1.min(rest.len())..1.min(rest.len()) + len];
                e.handle_frame(bytes, op & 0x80 == 0, now);
                rest = &rest[(1 + len).min(rest.len())..];
            }
            2 => e.handle_carrier(Channel::Control, arg & 1 != 0, now),
            3 => e.handle_carrier(Channel::Fast, arg & 1 != 0, now),
            4 => e.handle_training(arg & 1 != 0, now),
            5 => {
                let len = (arg as usize).min(rest.len().saturating_sub(1));
                e.handle_data(&rest[1.min(rest.len())..1.min(rest.len()) + len], now);
                rest = &rest[(1 + len).min(rest.len())..];
            }
            6 => e.handle_tx_complete(now),
            7 => {
                now += SampleTime::from_ms(arg as u64 * 100);
                e.handle_timeout(now);
            }
            8 => {
                if let Some(t) = e.poll_timeout() {
                    now = now.max(t);
                    e.handle_timeout(now);
                }
            }
            _ => {
                if arg == 0xFF {
                    e.handle_hangup(now);
                } else {
                    e.handle_tone(
                        if arg & 1 == 0 { Tone::Ced } else { Tone::Cng },
                        arg & 2 != 0,
                        now,
                    );
                }
            }
        }
        if op % 10 != 0 && op % 10 != 1 && op % 10 != 5 {
            rest = rest.get(1..).unwrap_or_default();
        }
        while e.poll_action().is_some() {
            actions += 1;
        }
        if e.is_finished() {
            let o = e.outcome().expect("finished engines have an outcome");
            assert!(Completion::from_code(o.completion.code()).is_some());
            break;
        }
    }
    actions
}
