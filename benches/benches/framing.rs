//! HDLC framing and deframing (bits per second through our framer and deframer, a bit at a
//! time and a word or octet at a time) and UDPTL
//! packet build and parse (packets per second), on the traffic of an ECM page: 256-octet
//! frames of pseudo-random data, with flag- and stuffing-heavy frames mixed in.

use std::hint::black_box;
use std::time::Duration;

use channel_models::rng::Rng;
use channel_models::t38::{ErrorRecovery, UdptlPacket, UdptlSender};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use modem::BitSource;
use modem::hdlc::{HdlcDeframer, HdlcEvent, HdlcFramer, HdlcRxConfig, HdlcTxConfig};

/// Frames per measured iteration: one ECM partial page.
const FRAMES: usize = 256;
const FRAME_LEN: usize = 260;

fn frames() -> Vec<Vec<u8>> {
    let mut rng = Rng::new(7);
    (0..FRAMES)
        .map(|i| match i % 8 {
            // All ones (a zero inserted after every five) and flag octets in the data.
            0 => vec![0xFF; FRAME_LEN],
            1 => vec![0x7E; FRAME_LEN],
            _ => (0..FRAME_LEN)
                .map(|_| (rng.next_u64() >> 56) as u8)
                .collect(),
        })
        .collect()
}

fn framed_bits(frames: &[Vec<u8>]) -> Vec<bool> {
    let mut framer = HdlcFramer::new(HdlcTxConfig::default());
    for f in frames {
        framer.push(f);
    }
    std::iter::from_fn(|| framer.next_bit()).collect()
}

fn hdlc(c: &mut Criterion) {
    let frames = frames();
    let bits = framed_bits(&frames);
    let mut group = c.benchmark_group("hdlc");
    group.throughput(Throughput::Elements(bits.len() as u64));
    group.bench_function("frame", |b| {
        let mut framer = HdlcFramer::new(HdlcTxConfig::default());
        b.iter(|| {
            for f in &frames {
                framer.push(f);
            }
            let mut n = 0usize;
            while let Some(bit) = framer.next_bit() {
                n += bit as usize;
            }
            black_box(n)
        })
    });
    group.bench_function("frame-words", |b| {
        let mut framer = HdlcFramer::new(HdlcTxConfig::default());
        b.iter(|| {
            for f in &frames {
                framer.push(f);
            }
            let mut n = 0u32;
            while let Some((word, _)) = framer.next_word() {
                n += word.count_ones();
            }
            black_box(n)
        })
    });
    let bytes: Vec<u8> = bits
        .chunks(8)
        .map(|c| {
            c.iter()
                .enumerate()
                .fold(0u8, |b, (i, &x)| b | (x as u8) << i)
        })
        .collect();
    group.bench_function("deframe-bytes", |b| {
        let mut deframer = HdlcDeframer::new(HdlcRxConfig::default());
        b.iter(|| {
            let mut good = 0usize;
            let mut sink = |e: HdlcEvent<'_>| {
                if let HdlcEvent::Frame { crc_ok: true, .. } = e {
                    good += 1;
                }
            };
            deframer.push_bytes(&bytes, &mut sink);
            assert_eq!(good, FRAMES);
            black_box(good)
        })
    });
    group.bench_function("deframe", |b| {
        let mut deframer = HdlcDeframer::new(HdlcRxConfig::default());
        b.iter(|| {
            let mut good = 0usize;
            let mut sink = |e: HdlcEvent<'_>| {
                if let HdlcEvent::Frame { crc_ok: true, .. } = e {
                    good += 1;
                }
            };
            for &bit in &bits {
                deframer.push_bit(bit, &mut sink);
            }
            assert_eq!(good, FRAMES);
            black_box(good)
        })
    });
    group.finish();
}

fn udptl(c: &mut Criterion) {
    // IFP-sized primaries as an ECM page over T.38 sends them (HDLC data fields).
    let mut rng = Rng::new(9);
    let ifps: Vec<Vec<u8>> = (0..FRAMES)
        .map(|_| (0..40).map(|_| (rng.next_u64() >> 56) as u8).collect())
        .collect();
    let mut group = c.benchmark_group("udptl");
    group.throughput(Throughput::Elements(ifps.len() as u64));
    for (name, mode) in [
        ("redundancy-3", ErrorRecovery::Redundancy(3)),
        (
            "fec-3x3",
            ErrorRecovery::Fec {
                entries: 3,
                span: 3,
            },
        ),
    ] {
        group.bench_function(format!("build/{name}"), |b| {
            b.iter(|| {
                let mut sender = UdptlSender::new(mode);
                let mut total = 0usize;
                for ifp in &ifps {
                    total += sender.send(ifp).to_bytes().expect("packet").len();
                }
                black_box(total)
            })
        });
        let mut sender = UdptlSender::new(mode);
        let wire: Vec<Vec<u8>> = ifps
            .iter()
            .map(|ifp| sender.send(ifp).to_bytes().expect("packet"))
            .collect();
        group.bench_function(format!("parse/{name}"), |b| {
            b.iter(|| {
                let mut total = 0usize;
                for p in &wire {
                    total += UdptlPacket::parse(black_box(p))
                        .expect("parses")
                        .primary
                        .len();
                }
                black_box(total)
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = framing;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2));
    targets = hdlc, udptl
}
criterion_main!(framing);
