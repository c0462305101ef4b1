//! spandsp transmitter → spandsp receiver loopbacks through this crate's wrappers.

use std::sync::Arc;

use spandsp_peer::{Error, ModemRx, ModemTx, PeerModem, PeerRxEvent, Spandsp, require};

/// A 2^15−1 Fibonacci LFSR: a deterministic, balanced bit pattern.
fn pattern(len: usize) -> Vec<bool> {
    let mut reg = 0x4a5du16;
    (0..len)
        .map(|_| {
            let bit = ((reg >> 14) ^ (reg >> 13)) & 1;
            reg = ((reg << 1) | bit) & 0x7fff;
            bit == 1
        })
        .collect()
}

struct Run {
    samples: Vec<i16>,
    bits: Vec<bool>,
    events: Vec<PeerRxEvent>,
    snr_db: Option<f32>,
}

/// Sends `data` through a spandsp modulator and demodulator in blocks of `block` samples,
/// followed by 100 ms of silence.
fn loopback(sp: &Arc<Spandsp>, kind: PeerModem, rate: u32, data: &[bool], block: usize) -> Run {
    let mut tx = ModemTx::new(sp, kind, rate, false, -10.0).unwrap();
    let mut rx = ModemRx::new(sp, kind, rate).unwrap();
    let mut next = data.iter().copied();
    let mut source = move || next.next();
    let mut buf = vec![0i16; block];
    let mut run = Run {
        samples: Vec::new(),
        bits: Vec::new(),
        events: Vec::new(),
        snr_db: None,
    };
    let limit = 8000 * 60;
    while !tx.is_finished() && run.samples.len() < limit {
        let n = tx.fill(&mut buf, &mut source);
        buf[n..].fill(0);
        run.samples.extend_from_slice(&buf[..n]);
        rx.process(&buf, &mut |ev| match ev {
            PeerRxEvent::Bit(b) => run.bits.push(b),
            other => run.events.push(other),
        });
    }
    assert!(tx.is_finished(), "{kind:?} transmitter never finished");
    rx.process(&[0i16; 800], &mut |ev| match ev {
        PeerRxEvent::Bit(b) => run.bits.push(b),
        other => run.events.push(other),
    });
    run.snr_db = rx.snr_db();
    run
}

/// Where `data` starts in `bits` (searching the first `slack` positions), then the number of
/// differing bits over the whole of `data`.
fn align_errors(bits: &[bool], data: &[bool], slack: usize) -> (usize, usize) {
    let head = &data[..64];
    let start = (0..=slack)
        .find(|&p| bits.len() >= p + 64 && &bits[p..p + 64] == head)
        .unwrap_or_else(|| panic!("sent pattern not found in the first {slack} received bits"));
    assert!(
        bits.len() >= start + data.len(),
        "received {} bits, fewer than sent",
        bits.len()
    );
    let errors = bits[start..start + data.len()]
        .iter()
        .zip(data)
        .filter(|(a, b)| a != b)
        .count();
    (start, errors)
}

fn check_qam(kind: PeerModem, rate: u32) {
    let Some(sp) = require() else { return };
    let data = pattern(6000);
    let run = loopback(&sp, kind, rate, &data, 160);
    let (start, errors) = align_errors(&run.bits, &data, 0);
    assert_eq!((start, errors), (0, 0), "{kind:?} {rate}");
    assert_eq!(
        run.events.first(),
        Some(&PeerRxEvent::CarrierUp),
        "{:?}",
        run.events
    );
    assert!(
        run.events.contains(&PeerRxEvent::TrainingSucceeded),
        "{:?}",
        run.events
    );
    assert!(
        !run.events.contains(&PeerRxEvent::TrainingFailed),
        "{:?}",
        run.events
    );
    assert_eq!(
        run.events.last(),
        Some(&PeerRxEvent::CarrierDown),
        "{:?}",
        run.events
    );
    let snr = run.snr_db.expect("no SNR estimate after training");
    assert!(
        snr > 25.0,
        "{kind:?} {rate}: clean-channel SNR estimate {snr} dB"
    );
}

#[test]
fn v29_9600_loopback() {
    check_qam(PeerModem::V29, 9600);
}

#[test]
fn v29_7200_loopback() {
    check_qam(PeerModem::V29, 7200);
}

#[test]
fn v17_14400_loopback() {
    check_qam(PeerModem::V17, 14400);
}

#[test]
fn v17_7200_loopback() {
    check_qam(PeerModem::V17, 7200);
}

#[test]
fn v27ter_4800_loopback() {
    check_qam(PeerModem::V27ter, 4800);
}

#[test]
fn v27ter_2400_loopback() {
    check_qam(PeerModem::V27ter, 2400);
}

#[test]
fn v21_both_channels_loopback() {
    let Some(sp) = require() else { return };
    let data = pattern(1500);
    for kind in [PeerModem::V21Ch1, PeerModem::V21Ch2] {
        let run = loopback(&sp, kind, 300, &data, 160);
        // FSK has no training: the receiver outputs bits from carrier detection on, so the
        // data may be preceded by a few bits decided while the carrier was rising.
        let (start, errors) = align_errors(&run.bits, &data, 8);
        assert_eq!(errors, 0, "{kind:?} from bit {start}");
        // 300 bit/s: 1500 bits last 5 s.
        assert!(
            (run.samples.len() as i64 - 40_000).abs() < 400,
            "{}",
            run.samples.len()
        );
        assert_eq!(
            run.events,
            [PeerRxEvent::CarrierUp, PeerRxEvent::CarrierDown]
        );
    }
}

#[test]
fn output_does_not_depend_on_block_size() {
    let Some(sp) = require() else { return };
    let data = pattern(2000);
    for kind in [
        PeerModem::V17,
        PeerModem::V29,
        PeerModem::V27ter,
        PeerModem::V21Ch2,
    ] {
        let rate = *kind.rates().last().unwrap();
        let a = loopback(&sp, kind, rate, &data, 160);
        let b = loopback(&sp, kind, rate, &data, 7);
        let first = a.samples.iter().zip(&b.samples).position(|(x, y)| x != y);
        assert_eq!(
            (a.samples.len(), first),
            (b.samples.len(), None),
            "{kind:?} samples"
        );
        assert_eq!(a.bits, b.bits, "{kind:?} bits");
    }
}

#[test]
fn transmit_level_is_in_dbm0() {
    let Some(sp) = require() else { return };
    for (kind, rate) in [
        (PeerModem::V29, 9600),
        (PeerModem::V17, 14400),
        (PeerModem::V21Ch2, 300),
    ] {
        for level in [-10.0f32, -20.0] {
            let mut tx = ModemTx::new(&sp, kind, rate, false, level).unwrap();
            let mut buf = vec![0i16; 8000];
            let mut src = || Some(true);
            let n = tx.fill(&mut buf, &mut src);
            assert_eq!(n, buf.len());
            // Measure the last half second: data, past the training.
            let tail = &buf[4000..];
            let mean_square =
                tail.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / tail.len() as f64;
            // 0 dBm0: a sine of peak 22786, mean square 22786²/2.
            let dbm0 = 10.0 * (mean_square / (22786.0f64.powi(2) / 2.0)).log10();
            assert!(
                (dbm0 - f64::from(level)).abs() < 1.0,
                "{kind:?} asked {level} got {dbm0:.2} dBm0"
            );
        }
    }
}

#[test]
fn v17_short_train_is_shorter() {
    let Some(sp) = require() else { return };
    let samples_until_data = |short: bool| {
        let mut tx = ModemTx::new(&sp, PeerModem::V17, 14400, short, -10.0).unwrap();
        let mut asked = false;
        let mut count = 0;
        let mut one = [0i16; 1];
        while !asked {
            tx.fill(&mut one, &mut || {
                asked = true;
                Some(true)
            });
            count += 1;
        }
        count
    };
    let long = samples_until_data(false);
    let short = samples_until_data(true);
    // V.17 long training is about 1.4 s, the short one about 0.14 s.
    assert!(
        long > 8000 && short < 2400 && short > 500,
        "long {long}, short {short}"
    );
}

#[test]
fn unsupported_rate_is_an_error() {
    let Some(sp) = require() else { return };
    let err = ModemTx::new(&sp, PeerModem::V29, 14400, false, -10.0).err();
    assert_eq!(
        err,
        Some(Error::UnsupportedRate {
            modem: "V.29",
            rate: 14400
        })
    );
    assert!(ModemRx::new(&sp, PeerModem::V27ter, 9600).is_err());
}

#[test]
#[should_panic(expected = "source exploded")]
fn panic_in_bit_source_propagates() {
    let Some(sp) = require() else {
        panic!("source exploded (spandsp missing)")
    };
    let mut tx = ModemTx::new(&sp, PeerModem::V21Ch2, 300, false, -10.0).unwrap();
    let mut buf = [0i16; 800];
    tx.fill(&mut buf, &mut || panic!("source exploded"));
}

#[test]
fn modems_are_send() {
    fn assert_send<T: Send>() {}
    assert_send::<ModemTx>();
    assert_send::<ModemRx>();
    assert_send::<Arc<Spandsp>>();
}

#[test]
fn v17_short_train_after_long_train_decodes() {
    let Some(sp) = require() else { return };
    let data = pattern(3000);
    let mut tx = ModemTx::new(&sp, PeerModem::V17, 14400, false, -10.0).unwrap();
    let mut rx = ModemRx::new(&sp, PeerModem::V17, 14400).unwrap();
    for round in 0..2 {
        if round == 1 {
            tx.restart(14400, true).unwrap();
            rx.restart(14400, true).unwrap();
        }
        let mut next = data.iter().copied();
        let mut bits = Vec::new();
        let mut trained = false;
        let mut buf = [0i16; 160];
        while !tx.is_finished() {
            let n = tx.fill(&mut buf, &mut || next.next());
            buf[n..].fill(0);
            rx.process(&buf, &mut |ev| match ev {
                PeerRxEvent::Bit(b) => bits.push(b),
                PeerRxEvent::TrainingSucceeded => trained = true,
                _ => {}
            });
        }
        rx.process(&[0; 800], &mut |ev| {
            if let PeerRxEvent::Bit(b) = ev {
                bits.push(b)
            }
        });
        assert!(trained, "round {round}");
        assert_eq!(align_errors(&bits, &data, 0), (0, 0), "round {round}");
    }
}
