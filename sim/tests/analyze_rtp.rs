//! `faxsim analyze` on an RTP G.711 capture: a `faxsim call` recording, each side sent as
//! PCMA RTP at 20 ms from its own address, with jitter (so packets arrive out of order), and
//! 0.2 % of the packets lost. The control frames must be found as on the WAV (those that no
//! lost packet touched), and every lost packet must be reported as a gap.

use std::path::Path;
use std::process::Command;

use channel_models::g711::alaw_encode;
use channel_models::rng::Rng;
use etherparse::PacketBuilder;
use pcap_file::pcap::{PcapPacket, PcapWriter};
use serde_json::Value;
use t30::image::testpage::draw_text;
use t30::image::tiff::{TiffWriteOptions, write_tiff};
use t30::image::{Bitmap, Coding, Resolution};

fn faxsim(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_faxsim"))
        .args(args)
        .output()
        .unwrap()
}

fn record_call(dir: &Path, ecm: &str) -> (Vec<i16>, Vec<i16>, Value, Value) {
    let mut b = Bitmap::new(1728, 300, Resolution::Fine).unwrap();
    draw_text(&mut b, 40, 20, 3, 2, "RTP PAGE", true);
    let doc = dir.join("doc.tif");
    std::fs::write(
        &doc,
        write_tiff(&[b], None, &TiffWriteOptions::new(Coding::Mh)).unwrap(),
    )
    .unwrap();
    let out = dir.join("out");
    let o = faxsim(&[
        "call",
        "--send",
        doc.to_str().unwrap(),
        "--ecm",
        ecm,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut r = hound::WavReader::open(out.join("call.wav")).unwrap();
    let s: Vec<i16> = r.samples::<i16>().map(|x| x.unwrap()).collect();
    let left = s.iter().step_by(2).copied().collect();
    let right = s.iter().skip(1).step_by(2).copied().collect();
    let json = |n: &str| -> Value {
        serde_json::from_slice(&std::fs::read(out.join(n)).unwrap()).unwrap()
    };
    (left, right, json("caller.json"), json("answerer.json"))
}

/// One packet on the wire: arrival time, which side, sequence number, the UDP datagram.
struct Wire {
    arrival: f64,
    caller: bool,
    seq: u16,
    payload: Vec<u8>,
}

/// Lost packets: (caller side?, first sample of the packet).
type Lost = Vec<(bool, usize)>;

fn rtp_pcap(path: &Path, left: &[i16], right: &[i16], seed: u64) -> Lost {
    let mut rng = Rng::new(seed);
    let mut wire = Vec::new();
    let mut lost = Vec::new();
    for (caller, samples) in [(true, left), (false, right)] {
        let ssrc: u32 = if caller { 0x1111_2222 } else { 0x3333_4444 };
        for (k, chunk) in samples.chunks(160).enumerate() {
            let seq = (1000 + k) as u16;
            let ts = (5000 + 160 * k) as u32;
            // Exponential-ish jitter up to 60 ms: neighbours overtake each other.
            let jitter = 0.06 * rng.uniform() * rng.uniform();
            let arrival = 0.02 * k as f64 + 0.02 + jitter;
            if rng.chance(0.002) {
                lost.push((caller, k * 160));
                continue;
            }
            let mut p = vec![0x80, 8];
            p.extend_from_slice(&seq.to_be_bytes());
            p.extend_from_slice(&ts.to_be_bytes());
            p.extend_from_slice(&ssrc.to_be_bytes());
            p.extend(chunk.iter().map(|&x| alaw_encode(x)));
            wire.push(Wire {
                arrival,
                caller,
                seq,
                payload: p,
            });
        }
    }
    wire.sort_by(|a, b| a.arrival.total_cmp(&b.arrival));
    let reordered = wire
        .windows(2)
        .filter(|w| w[0].caller == w[1].caller && w[1].seq < w[0].seq)
        .count();
    assert!(reordered > 0, "the jitter reorders some packets");
    let mut w = PcapWriter::new(Vec::new()).unwrap();
    for p in &wire {
        let (src, dst, sp, dp) = if p.caller {
            ([192, 168, 1, 10], [192, 168, 1, 20], 40000, 50000)
        } else {
            ([192, 168, 1, 20], [192, 168, 1, 10], 50000, 40000)
        };
        let b = PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
            .ipv4(src, dst, 64)
            .udp(sp, dp);
        let mut pkt = Vec::new();
        b.write(&mut pkt, &p.payload).unwrap();
        let ts = std::time::Duration::from_secs_f64(1_700_000_000.0 + p.arrival);
        w.write_packet(&PcapPacket::new(ts, pkt.len() as u32, &pkt))
            .unwrap();
    }
    std::fs::write(path, w.into_writer()).unwrap();
    lost
}

#[test]
fn rtp_g711_with_jitter_reordering_and_loss() {
    for (ecm, seed) in [("on", 3), ("off", 5)] {
        let dir = tempfile::tempdir().unwrap();
        let (left, right, caller, answerer) = record_call(dir.path(), ecm);
        let path = dir.path().join("rtp.pcap");
        let lost = rtp_pcap(&path, &left, &right, seed);
        assert!(!lost.is_empty(), "seed {seed} loses some packets");
        let o = faxsim(&["analyze", "--json", path.to_str().unwrap()]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["track_sides"], serde_json::json!(["caller", "answerer"]));
        // Every lost packet is reported, on its side.
        let gaps = v["gaps"].as_array().unwrap();
        for side in ["caller", "answerer"] {
            let want = lost.iter().filter(|l| l.0 == (side == "caller")).count();
            let got: u64 = gaps
                .iter()
                .filter(|g| g["side"] == side)
                .map(|g| {
                    let w = g["what"].as_str().unwrap();
                    w.split_whitespace()
                        .nth(2)
                        .and_then(|n| n.parse::<u64>().ok())
                        .unwrap()
                })
                .sum();
            assert_eq!(got as usize, want, "{side}: {gaps:?}");
        }
        // Control frames untouched by a loss are all found, bytes identical.
        let found = v["frames"].as_array().unwrap();
        for (rec, side) in [(&caller, "caller"), (&answerer, "answerer")] {
            let caller_side = side == "caller";
            for f in rec["frames"].as_array().unwrap() {
                if f["dir"] != "tx" || f["name"] == "FCD" || f["name"] == "RCP" {
                    continue;
                }
                let t = f["time_s"].as_f64().unwrap();
                // Any loss within the frame's burst (preamble and frames last < 3 s)?
                let hit = lost.iter().any(|&(c, s)| {
                    let ls = s as f64 / 8000.0;
                    c == caller_side && ls + 0.02 >= t && ls <= t + 3.0
                });
                if hit {
                    continue;
                }
                assert!(
                    found
                        .iter()
                        .any(|m| m["hex"] == f["hex"] && m["side"] == side),
                    "{side}: {} at {t} not found",
                    f["name"]
                );
            }
        }
        assert_eq!(v["diagnosis"]["fax_found"], true);
    }
}
