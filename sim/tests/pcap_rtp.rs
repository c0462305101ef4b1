//! call.pcap of an audio call whose channel carries RTP: tshark sees both directions'
//! G.711 streams with the right payload type, no malformed packet, the same bytes on a
//! rerun; a channel without a network writes no pcap.

use std::path::Path;
use std::process::{Command, Output};

use t30::image::testpage::draw_text;
use t30::image::tiff::{TiffWriteOptions, write_tiff};
use t30::image::{Bitmap, Coding, Resolution};

fn faxsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_faxsim"))
        .args(args)
        .output()
        .unwrap()
}

fn write_doc(dir: &Path) -> String {
    let mut b = Bitmap::new(1728, 200, Resolution::Standard).unwrap();
    draw_text(&mut b, 40, 20, 3, 1, "RTP CAPTURE PAGE", true);
    let p = dir.join("doc.tif");
    let tiff = write_tiff(&[b], None, &TiffWriteOptions::new(Coding::Mh)).unwrap();
    std::fs::write(&p, tiff).unwrap();
    p.display().to_string()
}

fn call(dir: &Path, name: &str, doc: &str, channel: &str) -> std::path::PathBuf {
    let out = dir.join(name);
    let o = faxsim(&[
        "call",
        "--send",
        doc,
        "--channel",
        channel,
        "--modems",
        "v29",
        "--seed",
        "3",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

fn have_tshark() -> bool {
    if Command::new("tshark").arg("-v").output().is_ok() {
        return true;
    }
    if std::env::var("FAXSIM_REQUIRE_SYSTEM_LIBS").as_deref() == Ok("1") {
        panic!("FAXSIM_REQUIRE_SYSTEM_LIBS=1 but tshark is missing");
    }
    println!("skipped: needs tshark (apt-get install tshark)");
    false
}

#[test]
fn a_voip_call_writes_both_rtp_streams() {
    let dir = tempfile::tempdir().unwrap();
    let doc = write_doc(dir.path());
    let out = call(dir.path(), "good", &doc, "voip-g711-good");
    let rec: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("caller.json")).unwrap()).unwrap();
    assert_eq!(rec["files"]["pcap"], "call.pcap");
    let duration = rec["duration_s"].as_f64().unwrap();
    if !have_tshark() {
        return;
    }
    let o = Command::new("tshark")
        .arg("-r")
        .arg(out.join("call.pcap"))
        .args(["-d", "udp.port==5000,rtp", "-Y", "rtp", "-T", "fields"])
        .args([
            "-E",
            "separator=|",
            "-e",
            "ip.src",
            "-e",
            "rtp.p_type",
            "-e",
            "rtp.ssrc",
        ])
        .output()
        .unwrap();
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    for src in ["192.0.2.1", "192.0.2.2"] {
        let rows: Vec<&str> = text.lines().filter(|l| l.starts_with(src)).collect();
        // One 20 ms packet per ptime for the whole call, PCMA (payload type 8), one SSRC.
        let expected = duration / 0.020;
        assert!(
            (rows.len() as f64 - expected).abs() < 0.02 * expected + 5.0,
            "{src}: {} packets for {duration} s",
            rows.len()
        );
        assert!(
            rows.iter().all(|r| r.split('|').nth(1) == Some("8")),
            "{src}"
        );
        let ssrc = rows[0].split('|').nth(2).unwrap();
        assert!(rows.iter().all(|r| r.ends_with(ssrc)), "{src}");
    }
    let bad = Command::new("tshark")
        .arg("-r")
        .arg(out.join("call.pcap"))
        .args(["-d", "udp.port==5000,rtp"])
        .args(["-Y", "_ws.malformed || _ws.expert.severity >= error"])
        .output()
        .unwrap();
    assert!(
        bad.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&bad.stdout)
    );
}

#[test]
fn rtp_captures_repeat_byte_for_byte_and_plain_lines_have_none() {
    let dir = tempfile::tempdir().unwrap();
    let doc = write_doc(dir.path());
    let a = call(dir.path(), "a", &doc, "voip-g711-lossy");
    let b = call(dir.path(), "b", &doc, "voip-g711-lossy");
    let pa = std::fs::read(a.join("call.pcap")).unwrap();
    assert!(pa.len() > 1000);
    assert!(pa == std::fs::read(b.join("call.pcap")).unwrap());
    let plain = call(dir.path(), "plain", &doc, "g711-alaw");
    assert!(!plain.join("call.pcap").exists());
    let rec: serde_json::Value =
        serde_json::from_slice(&std::fs::read(plain.join("caller.json")).unwrap()).unwrap();
    assert!(rec["files"].get("pcap").is_none());
}
