//! `faxsim analyze` on T.38 captures built here from the UDPTL/IFP encoders of
//! `channel_models::t38`: a complete non-ECM call (indicators, V.21 HDLC frames, TCF, one
//! page of T.4 data), on a port nobody announced. The T.30 frames found must be the ones
//! tshark finds in the same file; with 2 % of the packets lost and three redundant IFPs in
//! each packet, every frame must still be found.

use std::path::Path;
use std::process::Command;

use channel_models::rng::Rng;
use channel_models::t38::{
    DataField, DataType, ErrorRecovery, FieldType, Ifp, Indicator, UdptlSender,
};
use etherparse::PacketBuilder;
use pcap_file::pcap::{PcapPacket, PcapWriter};
use serde_json::Value;
use t30::frame::encode_ident;
use t30::image::codec::{Coding, EncodeOptions, encode_page};
use t30::image::testpage::draw_text;
use t30::image::{Bitmap, Resolution};

const CALLER_PORT: u16 = 15000;
const ANSWERER_PORT: u16 = 27002;

/// One IFP to send: time, from the caller?, the packet.
struct Send {
    t: f64,
    caller: bool,
    ifp: Ifp,
}

fn field(t: FieldType, data: Option<&[u8]>) -> DataField {
    DataField {
        field_type: t,
        data: data.map(|d| d.to_vec()),
    }
}

fn frame(address_control: u8, fcf: u8, fif: &[u8]) -> Vec<u8> {
    let mut v = vec![0xFF, address_control, fcf];
    v.extend_from_slice(fif);
    v
}

/// A V.21 burst: preamble indicator, then each frame as data fields of a few octets and an
/// FCS-OK field, the last with sig-end. Returns the time after the burst.
fn v21_burst(out: &mut Vec<Send>, mut t: f64, caller: bool, frames: &[Vec<u8>]) -> f64 {
    out.push(Send {
        t,
        caller,
        ifp: Ifp::indicator(Indicator::V21Preamble),
    });
    t += 1.0;
    for (i, f) in frames.iter().enumerate() {
        for chunk in f.chunks(4) {
            out.push(Send {
                t,
                caller,
                ifp: Ifp::data(DataType::V21, vec![field(FieldType::HdlcData, Some(chunk))]),
            });
            t += 4.0 * 8.0 / 300.0;
        }
        let end = if i + 1 == frames.len() {
            FieldType::HdlcFcsOkSigEnd
        } else {
            FieldType::HdlcFcsOk
        };
        out.push(Send {
            t,
            caller,
            ifp: Ifp::data(DataType::V21, vec![field(end, None)]),
        });
        t += 0.06;
    }
    t + 0.1
}

/// A fast burst: training indicator, then the octets in 100 ms IFPs, then sig-end.
fn fast_burst(out: &mut Vec<Send>, mut t: f64, training: Indicator, data: &[u8]) -> f64 {
    out.push(Send {
        t,
        caller: true,
        ifp: Ifp::indicator(training),
    });
    t += 0.25;
    let per = 180; // 100 ms at 14 400 bit/s
    let chunks: Vec<&[u8]> = data.chunks(per).collect();
    for (i, c) in chunks.iter().enumerate() {
        let ty = if i + 1 == chunks.len() {
            FieldType::T4NonEcmSigEnd
        } else {
            FieldType::T4NonEcmData
        };
        out.push(Send {
            t,
            caller: true,
            ifp: Ifp::data(DataType::V17_14400, vec![field(ty, Some(c))]),
        });
        t += 0.1;
    }
    t + 0.1
}

fn page() -> Bitmap {
    let mut b = Bitmap::new(1728, 200, Resolution::Fine).unwrap();
    draw_text(&mut b, 40, 20, 3, 2, "T.38 PAGE", true);
    b.fill_rect(200, 150, 900, 170, true);
    b
}

/// ECM frames on the fast modem: training indicator, each frame as data fields and an
/// FCS-OK field, the last with sig-end.
fn fast_hdlc_burst(out: &mut Vec<Send>, mut t: f64, frames: &[Vec<u8>]) -> f64 {
    out.push(Send {
        t,
        caller: true,
        ifp: Ifp::indicator(Indicator::V17_14400ShortTraining),
    });
    t += 0.25;
    for (i, f) in frames.iter().enumerate() {
        let end = if i + 1 == frames.len() {
            FieldType::HdlcFcsOkSigEnd
        } else {
            FieldType::HdlcFcsOk
        };
        out.push(Send {
            t,
            caller: true,
            ifp: Ifp::data(
                DataType::V17_14400,
                vec![field(FieldType::HdlcData, Some(f)), field(end, None)],
            ),
        });
        t += (f.len() as f64 + 4.0) * 8.0 / 14400.0;
    }
    t + 0.1
}

/// The T.30 frames of the call, in order: (name, from the caller?).
fn call_ifps() -> (Vec<Send>, Vec<(&'static str, bool)>) {
    ifps_of(false)
}

/// The call's IFPs and its T.30 frames in order (name, from the caller?); `ecm` sends the
/// page as ECM frames (MMR) instead of non-ECM MH data.
fn ifps_of(ecm: bool) -> (Vec<Send>, Vec<(&'static str, bool)>) {
    let mut s = Vec::new();
    s.push(Send {
        t: 0.0,
        caller: true,
        ifp: Ifp::indicator(Indicator::Cng),
    });
    s.push(Send {
        t: 0.4,
        caller: false,
        ifp: Ifp::indicator(Indicator::Ced),
    });
    let csi = frame(0x03, 0x40, &encode_ident("+1 555 0199"));
    let dis = frame(0x13, 0x80, &[0x00, 0xee, 0xf8, 0x80, 0x84, 0xc1, 0x03]);
    let t = v21_burst(&mut s, 3.6, false, &[csi, dis]);
    let tsi = frame(0x03, 0x43, &encode_ident("+1 555 0100"));
    // V.17 14400, fine, A4; MH without ECM, or MMR with ECM.
    let dcs = if ecm {
        frame(0x13, 0x83, &[0x00, 0x62, 0xf8, 0x44])
    } else {
        frame(0x13, 0x83, &[0x00, 0x62, 0x78])
    };
    let t = v21_burst(&mut s, t + 0.2, true, &[tsi, dcs]);
    let t = fast_burst(
        &mut s,
        t + 0.075,
        Indicator::V17_14400LongTraining,
        &[0u8; 2700],
    );
    let t = v21_burst(&mut s, t + 0.1, false, &[frame(0x13, 0x84, &[])]);
    let mut names = vec![
        ("CSI", false),
        ("DIS", false),
        ("TSI", true),
        ("DCS", true),
        ("CFR", false),
    ];
    let t = if ecm {
        let coded = encode_page(&page(), &EncodeOptions::line(Coding::Mmr));
        let mut frames = Vec::new();
        for (n, chunk) in coded.data.chunks(256).enumerate() {
            // FCD: frame number, then the image octets in line order (each reversed).
            let mut fif = vec![n as u8];
            fif.extend(chunk.iter().map(|b| b.reverse_bits()));
            frames.push(frame(0x03, 0x06, &fif));
            names.push(("FCD", true));
        }
        for _ in 0..3 {
            frames.push(frame(0x03, 0x86, &[]));
            names.push(("RCP", true));
        }
        let last = (frames.len() - 4) as u8;
        let t = fast_hdlc_burst(&mut s, t + 0.075, &frames);
        names.push(("PPS", true));
        v21_burst(
            &mut s,
            t + 0.075,
            true,
            &[frame(0x13, 0xbf, &[0x2f, 0, 0, last])],
        )
    } else {
        let coded = encode_page(&page(), &EncodeOptions::line(Coding::Mh));
        let t = fast_burst(
            &mut s,
            t + 0.075,
            Indicator::V17_14400ShortTraining,
            &coded.data,
        );
        names.push(("EOP", true));
        v21_burst(&mut s, t + 0.075, true, &[frame(0x13, 0x2f, &[])])
    };
    let t = v21_burst(&mut s, t + 0.1, false, &[frame(0x13, 0x8c, &[])]);
    v21_burst(&mut s, t + 0.1, true, &[frame(0x13, 0xfb, &[])]);
    names.push(("MCF", false));
    names.push(("DCN", true));
    (s, names)
}

/// Writes the call as an Ethernet/IPv4 pcap; `loss` drops that share of packets (seeded).
fn write_pcap(path: &Path, redundancy: usize, loss: f64, seed: u64) -> usize {
    write_pcap_with(path, redundancy, loss, seed, false)
}

/// The tones as G.711 audio: RTP PCMA from each side for the first 3.5 s, CNG from the
/// caller and CED from the answerer.
fn audio_prelude() -> Vec<(f64, bool, Vec<u8>)> {
    let mut out = Vec::new();
    for caller in [true, false] {
        let ssrc: u32 = if caller { 0xaaaa_0001 } else { 0xbbbb_0002 };
        for k in 0..175u32 {
            let mut p = vec![0x80, 8];
            p.extend_from_slice(&(k as u16).to_be_bytes());
            p.extend_from_slice(&(160 * k).to_be_bytes());
            p.extend_from_slice(&ssrc.to_be_bytes());
            for n in 0..160 {
                let t = f64::from(160 * k + n) / 8000.0;
                let x = if caller && t < 0.5 {
                    (std::f64::consts::TAU * 1100.0 * t).sin()
                } else if !caller && (0.3..3.3).contains(&t) {
                    (std::f64::consts::TAU * 2100.0 * t).sin()
                } else {
                    0.0
                };
                p.push(channel_models::g711::alaw_encode((x * 7000.0) as i16));
            }
            out.push((0.02 * f64::from(k + 1), caller, p));
        }
    }
    out
}

fn write_pcap_with(path: &Path, redundancy: usize, loss: f64, seed: u64, prelude: bool) -> usize {
    write_call(path, redundancy, loss, seed, prelude, false, true)
}

fn write_call(
    path: &Path,
    redundancy: usize,
    loss: f64,
    seed: u64,
    prelude: bool,
    ecm: bool,
    msb_first: bool,
) -> usize {
    let (mut sends, _) = ifps_of(ecm);
    if msb_first {
        // As most gateways send them, and Wireshark reads them: the first bit sent in the
        // most significant position of each HDLC octet.
        for s in &mut sends {
            for f in &mut s.ifp.fields {
                if f.field_type != FieldType::T4NonEcmData
                    && f.field_type != FieldType::T4NonEcmSigEnd
                    && let Some(d) = f.data.as_mut()
                {
                    for b in d.iter_mut() {
                        *b = b.reverse_bits();
                    }
                }
            }
        }
    }
    if prelude {
        // The tones went as audio before the switch to T.38.
        sends.retain(|s| s.t > 1.0);
    }
    let mut tx_caller = UdptlSender::new(ErrorRecovery::Redundancy(redundancy));
    let mut tx_answerer = UdptlSender::new(ErrorRecovery::Redundancy(redundancy));
    let mut w = PcapWriter::new(Vec::new()).unwrap();
    let mut rng = Rng::new(seed);
    let mut dropped = 0;
    let mut wire: Vec<(f64, bool, Vec<u8>, bool)> = Vec::new();
    if prelude {
        for (t, caller, p) in audio_prelude() {
            wire.push((t, caller, p, false));
        }
    }
    for s in &sends {
        let ifp = s.ifp.to_bytes(0).unwrap();
        let tx = if s.caller {
            &mut tx_caller
        } else {
            &mut tx_answerer
        };
        let payload = tx.send(&ifp).to_bytes().unwrap();
        if rng.chance(loss) {
            dropped += 1;
            continue;
        }
        wire.push((s.t, s.caller, payload, true));
    }
    wire.sort_by(|a, b| a.0.total_cmp(&b.0));
    for (t, caller, payload, t38) in wire {
        let (src, dst) = if caller {
            ([10, 0, 0, 1], [10, 0, 0, 2])
        } else {
            ([10, 0, 0, 2], [10, 0, 0, 1])
        };
        // RTP and UDPTL on ports of their own, as after a re-INVITE.
        let (sp, dp) = match (t38, caller) {
            (true, true) => (CALLER_PORT, ANSWERER_PORT),
            (true, false) => (ANSWERER_PORT, CALLER_PORT),
            (false, true) => (30000, 40000),
            (false, false) => (40000, 30000),
        };
        let b = PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
            .ipv4(src, dst, 64)
            .udp(sp, dp);
        let mut pkt = Vec::new();
        b.write(&mut pkt, &payload).unwrap();
        let ts = std::time::Duration::from_secs_f64(1_700_000_000.0 + t);
        w.write_packet(&PcapPacket::new(ts, pkt.len() as u32, &pkt))
            .unwrap();
    }
    std::fs::write(path, w.into_writer()).unwrap();
    dropped
}

fn analyze(path: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["analyze", "--json", path.to_str().unwrap()];
    args.extend_from_slice(extra);
    let o = Command::new(env!("CARGO_BIN_EXE_faxsim"))
        .args(&args)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn frame_names(v: &Value) -> Vec<(String, String)> {
    v["frames"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["fcs_ok"] == true)
        .map(|f| {
            (
                f["name"].as_str().unwrap().to_string(),
                f["side"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The T.30 frames tshark finds in the file, by name, in order (from its Info column:
/// "HDLC Reassembled: DIS - Digital Identification Signal …"). `None` when tshark is missing.
fn tshark_frames(path: &Path) -> Option<Vec<String>> {
    let have = Command::new("tshark")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        if std::env::var("FAXSIM_REQUIRE_SYSTEM_LIBS").as_deref() == Ok("1") {
            panic!("FAXSIM_REQUIRE_SYSTEM_LIBS=1 but tshark is not installed");
        }
        println!("skipped: needs tshark (apt-get install tshark)");
        return None;
    }
    let o = Command::new("tshark")
        .args(["-r", path.to_str().unwrap()])
        .args(["-d", &format!("udp.port=={CALLER_PORT},t38")])
        .args(["-d", &format!("udp.port=={ANSWERER_PORT},t38")])
        .args(["-Y", "t30", "-T", "fields"])
        .args(["-e", "t30.FacsimileControl", "-e", "_ws.col.Info"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    let mut names = Vec::new();
    for line in text.lines() {
        let fcfs = line.split('\t').next().unwrap_or("").split(',').count();
        let found: Vec<String> = line
            .split("Reassembled: ")
            .skip(1)
            .map(|r| r.split(" - ").next().unwrap_or("").to_string())
            .collect();
        assert_eq!(found.len(), fcfs, "{line}");
        names.extend(found);
    }
    Some(names)
}

fn our_names(v: &Value) -> Vec<String> {
    v["frames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn t38_call_frames_equal_tsharks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t38.pcap");
    write_pcap(&path, 0, 0.0, 1);
    let v = analyze(&path, &[]);
    let (_, want) = call_ifps();
    let got = frame_names(&v);
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(n, c)| {
            (
                n.to_string(),
                if *c { "caller" } else { "answerer" }.to_string(),
            )
        })
        .collect();
    assert_eq!(got, want);
    // The page: one non-ECM page of 200 rows, confirmed; TCF all zeros.
    let pages = v["pages"].as_array().unwrap();
    assert_eq!(pages.len(), 1, "{pages:?}");
    assert_eq!(pages[0]["rows"], 200);
    assert_eq!(pages[0]["bad_rows"], 0);
    assert_eq!(pages[0]["complete"], true);
    assert_eq!(pages[0]["response"], "MCF");
    assert_eq!(v["tcf"][0]["good"], true);
    assert_eq!(v["diagnosis"]["caller"], "OK");
    assert_eq!(v["diagnosis"]["answerer"], "OK");
    let trainings: Vec<u64> = v["trainings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["rate"].as_u64().unwrap())
        .collect();
    assert_eq!(trainings, [14400, 14400]);
    // tshark, told the ports, finds the same frames in the same order.
    if let Some(theirs) = tshark_frames(&path) {
        assert_eq!(our_names(&v), theirs, "ours, then tshark's");
    }
}

#[test]
fn two_percent_loss_with_redundancy_three_still_gives_every_frame() {
    let dir = tempfile::tempdir().unwrap();
    let (_, want) = call_ifps();
    let mut any_dropped = 0;
    for seed in 1..=4 {
        let path = dir.path().join(format!("lossy-{seed}.pcap"));
        any_dropped += write_pcap(&path, 3, 0.02, seed);
        let v = analyze(&path, &[]);
        let got: Vec<String> = frame_names(&v).into_iter().map(|(n, _)| n).collect();
        let want: Vec<String> = want.iter().map(|(n, _)| n.to_string()).collect();
        assert_eq!(got, want, "seed {seed}");
        assert_eq!(v["pages"][0]["bad_rows"], 0, "seed {seed}");
        assert!(
            v["input"]["notes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n.as_str().unwrap().contains("recovered")),
        );
    }
    assert!(any_dropped > 0, "the seeds drop some packets");
}

#[test]
fn forced_port_and_list() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t38.pcap");
    write_pcap(&path, 1, 0.0, 1);
    let v = analyze(&path, &["--t38-port", &CALLER_PORT.to_string()]);
    assert_eq!(frame_names(&v).len(), 8);
    let o = Command::new(env!("CARGO_BIN_EXE_faxsim"))
        .args(["analyze", "--list", path.to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(text.matches("T.38 UDPTL").count(), 2, "{text}");
}

#[test]
fn a_call_that_switches_from_audio_to_t38() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("switch.pcap");
    write_pcap_with(&path, 2, 0.0, 1, true);
    let v = analyze(&path, &[]);
    assert!(
        v["input"]["format"]
            .as_str()
            .unwrap()
            .contains("RTP G.711, 2 stream(s), then T.38"),
        "{}",
        v["input"]["format"]
    );
    let (_, want) = call_ifps();
    let got = frame_names(&v);
    assert_eq!(got.len(), want.len(), "{got:?}");
    for ((n, side), (wn, wc)) in got.iter().zip(&want) {
        assert_eq!(n, wn);
        assert_eq!(side, if *wc { "caller" } else { "answerer" });
    }
    // The tones, heard in the audio before the switch, on the right sides.
    let events = v["events"].as_array().unwrap();
    let tone = |name: &str| {
        events
            .iter()
            .find(|e| e["event"] == name)
            .map(|e| e["side"].clone())
    };
    assert_eq!(tone("CNG"), Some(Value::from("caller")));
    assert_eq!(tone("CED"), Some(Value::from("answerer")));
    assert_eq!(v["diagnosis"]["caller"], "OK");
}

#[test]
fn t38_ecm_call_frames_and_page() {
    let dir = tempfile::tempdir().unwrap();
    for (loss, seed) in [(0.0, 1), (0.02, 7)] {
        let path = dir.path().join(format!("ecm-{seed}.pcap"));
        write_call(&path, 3, loss, seed, false, true, true);
        let v = analyze(&path, &[]);
        let (_, want) = ifps_of(true);
        let got = frame_names(&v);
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(n, c)| {
                (
                    n.to_string(),
                    if *c { "caller" } else { "answerer" }.to_string(),
                )
            })
            .collect();
        assert_eq!(got, want, "loss {loss}");
        let pages = v["pages"].as_array().unwrap();
        assert_eq!(pages.len(), 1, "{pages:?}");
        assert_eq!(pages[0]["ecm"], true);
        assert_eq!(pages[0]["coding"], "MMR");
        assert_eq!(pages[0]["rows"], 200);
        assert_eq!(pages[0]["complete"], true);
        assert_eq!(v["ecm"]["blocks"], 1);
        assert_eq!(v["diagnosis"]["caller"], "OK");
        if loss == 0.0
            && let Some(theirs) = tshark_frames(&path)
        {
            assert_eq!(our_names(&v), theirs, "ours, then tshark's");
        }
    }
}

#[test]
fn hdlc_octets_in_either_bit_order() {
    // Our IFP encoders' own order (first bit sent as the least significant, as T.30 writes
    // the octets) and the other one give the same frames.
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("lsb.pcap");
    let b = dir.path().join("msb.pcap");
    write_call(&a, 1, 0.0, 1, false, true, false);
    write_call(&b, 1, 0.0, 1, false, true, true);
    let (va, vb) = (analyze(&a, &[]), analyze(&b, &[]));
    assert_eq!(va["frames"], vb["frames"]);
    assert_eq!(va["pages"], vb["pages"]);
    assert!(
        vb["input"]["notes"]
            .to_string()
            .contains("most significant")
    );
    assert!(
        !va["input"]["notes"]
            .to_string()
            .contains("most significant")
    );
}

/// The same T.38 call in other containers: pcapng (nanosecond timestamps), Linux cooked
/// capture, raw IP, and over IPv6. Every one gives the same frames at the same times.
#[test]
fn link_types_and_pcapng() {
    use pcap_file::DataLink;
    use pcap_file::pcap::{PcapHeader, PcapReader};
    use pcap_file::pcapng::PcapNgWriter;
    use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
    use pcap_file::pcapng::blocks::interface_description::{
        InterfaceDescriptionBlock, InterfaceDescriptionOption,
    };

    let dir = tempfile::tempdir().unwrap();
    let eth = dir.path().join("eth.pcap");
    write_pcap(&eth, 1, 0.0, 1);
    let bytes = std::fs::read(&eth).unwrap();
    let mut r = PcapReader::new(&bytes[..]).unwrap();
    let mut packets: Vec<(std::time::Duration, Vec<u8>)> = Vec::new();
    while let Some(p) = r.next_packet() {
        let p = p.unwrap();
        packets.push((p.timestamp, p.data.to_vec()));
    }
    let reference = analyze(&eth, &[]);
    let times = |v: &Value| -> Vec<(String, String)> {
        v["frames"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["name"].as_str().unwrap().to_string(),
                    format!("{:.3}", f["end_s"].as_f64().unwrap()),
                )
            })
            .collect()
    };
    let want = times(&reference);
    assert_eq!(want.len(), 8);

    let pcap_with = |link: DataLink, frame: &dyn Fn(&[u8]) -> Vec<u8>| -> Vec<u8> {
        let header = PcapHeader {
            datalink: link,
            ..PcapHeader::default()
        };
        let mut w = PcapWriter::with_header(Vec::new(), header).unwrap();
        for (ts, data) in &packets {
            let f = frame(data);
            w.write_packet(&PcapPacket::new(*ts, f.len() as u32, &f))
                .unwrap();
        }
        w.into_writer()
    };
    // Linux cooked: packet type, ARPHRD, address length, 8 address octets, protocol.
    let sll = pcap_with(DataLink::LINUX_SLL, &|d: &[u8]| {
        let mut v = vec![0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00];
        v.extend_from_slice(&d[14..]);
        v
    });
    let raw = pcap_with(DataLink::RAW, &|d: &[u8]| d[14..].to_vec());
    // IPv6: the same UDP payloads between two IPv6 addresses.
    let v6 = pcap_with(DataLink::ETHERNET, &|d: &[u8]| {
        let ihl = usize::from(d[14] & 0x0f) * 4;
        let udp = &d[14 + ihl..];
        let (sp, dp) = (
            u16::from_be_bytes([udp[0], udp[1]]),
            u16::from_be_bytes([udp[2], udp[3]]),
        );
        let a = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        let mut b = a;
        b[15] = 2;
        let (src, dst) = if sp == CALLER_PORT { (a, b) } else { (b, a) };
        let builder = PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
            .ipv6(src, dst, 64)
            .udp(sp, dp);
        let mut out = Vec::new();
        builder.write(&mut out, &udp[8..]).unwrap();
        out
    });
    // pcapng with nanosecond timestamps.
    let mut ng = PcapNgWriter::new(Vec::new()).unwrap();
    ng.write_pcapng_block(InterfaceDescriptionBlock {
        linktype: DataLink::ETHERNET,
        snaplen: 65535,
        options: vec![InterfaceDescriptionOption::IfTsResol(9)],
    })
    .unwrap();
    for (ts, data) in &packets {
        ng.write_pcapng_block(EnhancedPacketBlock {
            interface_id: 0,
            timestamp: *ts,
            original_len: data.len() as u32,
            data: std::borrow::Cow::Borrowed(&data[..]),
            options: Vec::new(),
        })
        .unwrap();
    }
    let ng = ng.into_inner();
    for (name, file) in [("sll", sll), ("raw", raw), ("v6", v6), ("ng", ng)] {
        let p = dir.path().join(format!("{name}.pcap"));
        std::fs::write(&p, file).unwrap();
        let v = analyze(&p, &[]);
        assert_eq!(times(&v), want, "{name}");
    }
}

/// Two T.38 calls in one capture: `--list` shows four flows, `--stream` picks a call.
#[test]
fn two_calls_and_stream_selection() {
    use pcap_file::pcap::PcapReader;
    let dir = tempfile::tempdir().unwrap();
    let one = dir.path().join("one.pcap");
    write_call(&one, 1, 0.0, 1, false, false, true);
    let bytes = std::fs::read(&one).unwrap();
    let mut r = PcapReader::new(&bytes[..]).unwrap();
    let mut packets = Vec::new();
    while let Some(p) = r.next_packet() {
        let p = p.unwrap();
        packets.push((p.timestamp, p.data.to_vec()));
    }
    // The second call: other addresses (10.0.0.11 and 10.0.0.12), 100 s later, ECM-less
    // but identical otherwise.
    let second: Vec<_> = packets
        .iter()
        .map(|(ts, d)| {
            let mut d = d.clone();
            d[14 + 15] += 10;
            d[14 + 19] += 10;
            (*ts + std::time::Duration::from_secs(100), d)
        })
        .collect();
    packets.extend(second);
    let mut w = PcapWriter::new(Vec::new()).unwrap();
    for (ts, d) in &packets {
        w.write_packet(&PcapPacket::new(*ts, d.len() as u32, d))
            .unwrap();
    }
    let both = dir.path().join("both.pcap");
    std::fs::write(&both, w.into_writer()).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_faxsim"))
        .args(["analyze", "--list", both.to_str().unwrap()])
        .output()
        .unwrap();
    let list = String::from_utf8_lossy(&o.stdout);
    assert_eq!(list.lines().count(), 4, "{list}");
    let third = list
        .lines()
        .position(|l| l.contains("10.0.0.11:"))
        .expect("a flow of the second call");
    let v = analyze(&both, &["--stream", &third.to_string()]);
    let frames = v["frames"].as_array().unwrap();
    assert_eq!(frames.len(), 8);
    assert!(frames.iter().all(|f| f["time_s"].as_f64().unwrap() > 100.0));
    let v = analyze(&both, &[]);
    assert!(
        v["frames"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["time_s"].as_f64().unwrap() < 100.0)
    );
}
