//! `faxsim analyze` on calls that `faxsim call` recorded: every frame either side sent is
//! found on `call.wav` (bytes identical, time within 50 ms), pages, rate and modem are right,
//! and the predicted completion strings equal the ones both endpoints recorded. The same on a
//! mono mix of the two channels (sides told apart by T.30 alone), and on calls between two
//! spandsp endpoints, so the analyzer does not lean on our own modulator.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;
use t30::image::testpage::draw_text;
use t30::image::tiff::{TiffWriteOptions, write_tiff};
use t30::image::{Bitmap, Coding, Resolution};

fn faxsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_faxsim"))
        .args(args)
        .output()
        .unwrap()
}

fn write_doc(dir: &Path, n: u32) -> String {
    let pages: Vec<Bitmap> = (0..n)
        .map(|i| {
            let mut b = Bitmap::new(1728, 400, Resolution::Fine).unwrap();
            draw_text(&mut b, 40, 20, 3, 2, &format!("ANALYZE PAGE {i}"), true);
            b.fill_rect(100 + 300 * i, 200, 500 + 300 * i, 230, true);
            b
        })
        .collect();
    let p = dir.join("doc.tif");
    std::fs::write(
        &p,
        write_tiff(&pages, None, &TiffWriteOptions::new(Coding::Mh)).unwrap(),
    )
    .unwrap();
    p.display().to_string()
}

fn json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Runs a call into `out` with extra arguments; returns the two records.
fn call(dir: &Path, pages: u32, extra: &[&str]) -> (Value, Value) {
    let doc = write_doc(dir, pages);
    call_doc(dir, &doc, extra)
}

/// The sample document of the repository: one full fine A4 page.
const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../docs/samples/impress-fine.tif"
);

/// Runs a call sending `doc` into `dir/out`; returns the two records.
fn call_doc(dir: &Path, doc: &str, extra: &[&str]) -> (Value, Value) {
    let out = dir.join("out");
    // The records keep the FCD image data, for the check of every decoded frame.
    let mut args = vec![
        "call",
        "--send",
        doc,
        "--out",
        out.to_str().unwrap(),
        "--trace-ecm-data",
    ];
    args.extend_from_slice(extra);
    let o = faxsim(&args);
    assert!(
        o.status.code().is_some_and(|c| c <= 1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    (
        json(&out.join("caller.json")),
        json(&out.join("answerer.json")),
    )
}

fn analyze(wav: &Path) -> Value {
    let o = faxsim(&["analyze", "--json", wav.to_str().unwrap()]);
    assert!(
        o.status.success(),
        "exit {:?}: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).expect("stdout is one JSON document")
}

/// Averages the two channels of `call.wav` into a mono tap.
fn mono_mix(dir: &Path) -> std::path::PathBuf {
    let mut r = hound::WavReader::open(dir.join("out/call.wav")).unwrap();
    let s: Vec<i16> = r.samples::<i16>().map(|x| x.unwrap()).collect();
    let mono: Vec<i16> = s
        .chunks(2)
        .map(|c| ((i32::from(c[0]) + i32::from(c[1])) / 2) as i16)
        .collect();
    let p = dir.join("mono.wav");
    sim::wav::write_8k_mono(&p, &mono).unwrap();
    p
}

fn frames_of(v: &Value) -> Vec<&Value> {
    v["frames"].as_array().unwrap().iter().collect()
}

/// How a recorder writes FCD octets: our engine in the codec's order (as the analyzer
/// reports them), spandsp as they stood on the line (each data octet bit-reversed).
fn recorded_hex(f: &Value, fcd_line_order: bool) -> String {
    let hex = f["hex"].as_str().unwrap().to_string();
    if !fcd_line_order || f["name"] != "FCD" {
        return hex;
    }
    hex.split(' ')
        .enumerate()
        .map(|(i, h)| {
            let b = u8::from_str_radix(h, 16).unwrap();
            format!("{:02x}", if i >= 4 { b.reverse_bits() } else { b })
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every frame `role` sent (per its record) is in the report, from that side, in order,
/// bytes identical; its time within 50 ms. `cut_at`: the call was stopped then, so frames
/// queued but not yet on the line when the recording ended are not required.
fn check_frames(report: &Value, records: [&Value; 2], spandsp: bool, cut_at: Option<f64>) {
    let found = frames_of(report);
    for (k, role) in ["caller", "answerer"].iter().enumerate() {
        let rec = records[k];
        let other = records[1 - k];
        let mine: Vec<&&Value> = found
            .iter()
            .filter(|f| f["side"] == *role && f["fcs_ok"] == true)
            .collect();
        let sent: Vec<&Value> = rec["frames"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["dir"] == "tx")
            .collect();
        let received: Vec<&Value> = other["frames"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["dir"] == "rx")
            .collect();
        let mut at = 0;
        let mut rx_at = 0;
        for (n, f) in sent.iter().enumerate() {
            let want = recorded_hex(f, spandsp);
            let hit = mine[at..].iter().position(|m| m["hex"] == want.as_str());
            let Some(i) = hit else {
                if let Some(cut) = cut_at {
                    // Queued in the last burst but cut off with the recording: everything
                    // after it must be cut too, and the burst must have begun.
                    assert!(
                        sent[n..]
                            .iter()
                            .all(|g| g["time_s"].as_f64().unwrap() <= cut),
                        "{role}: frame {} missing",
                        f["name"]
                    );
                    break;
                }
                panic!(
                    "{role}: sent frame {} at {} not found ({want})",
                    f["name"], f["time_s"]
                );
            };
            let m = mine[at + i];
            at += i + 1;
            let t = f["time_s"].as_f64().unwrap();
            let dt = if spandsp {
                // spandsp stamps a frame when it queues it; the receiving end stamps it when
                // decoded, which is what the analyzer measures as the frame's end.
                let Some(j) = received[rx_at..]
                    .iter()
                    .position(|r| recorded_hex(r, true) == want)
                else {
                    continue;
                };
                let r = received[rx_at + j];
                rx_at += j + 1;
                (m["end_s"].as_f64().unwrap() - r["time_s"].as_f64().unwrap()).abs()
            } else {
                // Our engine stamps every frame of a burst with the burst's start.
                (m["burst_start_s"].as_f64().unwrap() - t).abs()
            };
            assert!(
                dt <= 0.05,
                "{role}: {} at {t}: time off by {dt:.3} s",
                f["name"]
            );
        }
    }
}

fn check_outcome(report: &Value, caller: &Value, answerer: &Value) {
    let d = &report["diagnosis"];
    assert_eq!(d["fax_found"], true);
    assert_eq!(d["caller"], caller["error"], "{d}");
    assert_eq!(d["answerer"], answerer["error"], "{d}");
}

fn check_pages_and_rate(report: &Value, answerer: &Value) {
    let pages = report["pages"].as_array().unwrap();
    let complete = pages.iter().filter(|p| p["complete"] == true).count();
    assert_eq!(
        complete as u64,
        answerer["pages"].as_u64().unwrap(),
        "{pages:?}"
    );
    for p in pages {
        assert_eq!(p["bad_rows"], 0);
        assert_eq!(p["rows"], 400, "{p}");
        assert_eq!(p["ecm"] == true, answerer["ecm"] == "yes");
    }
    let t = report["trainings"].as_array().unwrap();
    let last_ok = t
        .iter()
        .rev()
        .find(|t| t["ok"] == true)
        .expect("a training");
    assert_eq!(last_ok["rate"], answerer["rate"]);
    assert_eq!(last_ok["modem"], answerer["modem"]);
    assert!(
        report["tcf"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["good"] == true)
    );
}

fn full_check(dir: &Path, caller: &Value, answerer: &Value, spandsp: bool) {
    let report = analyze(&dir.join("out/call.wav"));
    check_frames(&report, [caller, answerer], spandsp, None);
    check_outcome(&report, caller, answerer);
    check_pages_and_rate(&report, answerer);
    // The same call heard on a mono tap.
    let mono = analyze(&mono_mix(dir));
    assert_eq!(mono["input"]["mono"], true);
    check_frames(&mono, [caller, answerer], spandsp, None);
    check_outcome(&mono, caller, answerer);
    check_pages_and_rate(&mono, answerer);
}

#[test]
fn ecm_v17_two_pages() {
    let dir = tempfile::tempdir().unwrap();
    let (c, a) = call(dir.path(), 2, &["--ecm", "on", "--modems", "v17"]);
    assert_eq!(c["status"], "SUCCESS");
    full_check(dir.path(), &c, &a, false);
    let r = analyze(&dir.path().join("out/call.wav"));
    assert_eq!(r["ecm"]["blocks"], 2);
    assert_eq!(r["track_sides"], serde_json::json!(["caller", "answerer"]));
}

#[test]
fn non_ecm_v17_two_pages() {
    let dir = tempfile::tempdir().unwrap();
    let (c, a) = call(dir.path(), 2, &["--ecm", "off", "--modems", "v17"]);
    assert_eq!(c["status"], "SUCCESS");
    full_check(dir.path(), &c, &a, false);
}

#[test]
fn v29_and_v27ter() {
    for (modem, ecm) in [("v29", "on"), ("v27ter", "off")] {
        let dir = tempfile::tempdir().unwrap();
        let (c, a) = call(dir.path(), 1, &["--ecm", ecm, "--modems", modem]);
        assert_eq!(c["status"], "SUCCESS", "{modem}");
        full_check(dir.path(), &c, &a, false);
    }
}

#[test]
fn a_call_cut_in_the_middle_of_a_page() {
    for (ecm, limit) in [("on", "14"), ("off", "14")] {
        let dir = tempfile::tempdir().unwrap();
        let (c, a) = call(
            dir.path(),
            2,
            &["--ecm", ecm, "--modems", "v17", "--limit-s", limit],
        );
        assert_eq!(c["status"], "FAILED");
        let report = analyze(&dir.path().join("out/call.wav"));
        check_frames(&report, [&c, &a], false, Some(limit.parse().unwrap()));
        check_outcome(&report, &c, &a);
        assert_eq!(
            report["diagnosis"]["caller"],
            "The call dropped prematurely"
        );
        let pages = report["pages"].as_array().unwrap();
        assert!(
            pages.iter().all(|p| p["response"].is_null()),
            "no page was confirmed: {pages:?}"
        );
        assert!(!pages.is_empty(), "the first page was under way");
    }
}

#[test]
fn spandsp_to_spandsp() {
    if spandsp_peer::require().is_none() {
        return;
    }
    for (ecm, modem) in [("on", "v17"), ("off", "v29"), ("off", "v27ter")] {
        let dir = tempfile::tempdir().unwrap();
        let (c, a) = call(
            dir.path(),
            2,
            &[
                "--caller",
                "spandsp",
                "--answerer",
                "spandsp",
                "--ecm",
                ecm,
                "--modems",
                modem,
            ],
        );
        assert_eq!(c["status"], "SUCCESS", "{ecm} {modem}");
        full_check(dir.path(), &c, &a, true);
    }
}

#[test]
fn text_report_and_verbose_fields() {
    let dir = tempfile::tempdir().unwrap();
    let (_c, _a) = call(dir.path(), 1, &["--ecm", "on", "--modems", "v17"]);
    let wav = dir.path().join("out/call.wav");
    let o = faxsim(&["analyze", "--verbose", wav.to_str().unwrap()]);
    assert!(o.status.success());
    let text = String::from_utf8(o.stdout).unwrap();
    for want in [
        "CED",
        "DIS",
        "DCS           V.17 14400 bit/s, ECM, MMR, fine",
        "Error correction mode",
        "TCF",
        "caller reports:   OK",
        "\"+1 555 0100\"",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
    // A window that holds only phase B: DIS and DCS but no page.
    let o = faxsim(&[
        "analyze",
        "--json",
        "--from",
        "3",
        "--to",
        "9",
        wav.to_str().unwrap(),
    ]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let names: Vec<&str> = frames_of(&v)
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"DIS") && names.contains(&"DCS"),
        "{names:?}"
    );
    assert!(!names.contains(&"MCF"), "{names:?}");
    assert!(v["pages"].as_array().unwrap().is_empty());
    assert!(
        frames_of(&v)
            .iter()
            .all(|f| f["time_s"].as_f64().unwrap() >= 3.0)
    );
    // --pages writes the received page.
    let pages = dir.path().join("pages");
    let o = faxsim(&[
        "analyze",
        "--pages",
        pages.to_str().unwrap(),
        wav.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    // --html writes one page with the ladder and a spectrogram per channel.
    let html = dir.path().join("report.html");
    let o = faxsim(&[
        "analyze",
        "--html",
        html.to_str().unwrap(),
        wav.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert_eq!(page.matches("data:image/png;base64,").count(), 2);
    assert!(page.contains("<svg") && page.contains("DCS V.17 14400 bit/s"));
    assert!(page.contains("caller reports</th><td class=\"ok\">OK"));
    let tif = std::fs::read(pages.join("page-001.tif")).unwrap();
    let back = t30::image::tiff::read_tiff(&tif).unwrap();
    assert_eq!(back[0].bitmap.height(), 400);
    assert!(
        std::fs::read(pages.join("page-001.pdf"))
            .unwrap()
            .starts_with(b"%PDF")
    );
}

#[test]
fn a_channel_so_noisy_that_the_caller_never_hears_dis() {
    let dir = tempfile::tempdir().unwrap();
    let chain = dir.path().join("noisy.toml");
    std::fs::write(
        &chain,
        // Noise 4 dB louder than the signals: the fall each of the answerer's bursts leaves
        // behind (under 2 dB) is too small to end the caller's carrier, so it never answers
        // the DIS.
        "name = \"noisy\"\ndescription = \"loud noise\"\n[[stages]]\ntype = \"noise\"\ndbm0 = -6.0\n",
    )
    .unwrap();
    let (c, a) = call(
        dir.path(),
        1,
        &[
            "--channel-file",
            chain.to_str().unwrap(),
            "--limit-s",
            "120",
        ],
    );
    assert_eq!(c["status"], "FAILED");
    let report = analyze(&dir.path().join("out/call.wav"));
    // The caller gives up and clears the line while the answerer's next DIS is queued.
    let cut = a["duration_s"].as_f64().unwrap();
    check_frames(&report, [&c, &a], false, Some(cut));
    // The caller's V.21 carrier is held by the noise until the engine gives up on it
    // ("The HDLC carrier did not stop in a timely manner"); the analyzer, which reads no
    // noise into the caller's receiver, predicts the answerer's outcome only.
    assert_eq!(
        c["error"],
        "The HDLC carrier did not stop in a timely manner"
    );
    assert_eq!(report["diagnosis"]["answerer"], a["error"]);
    let cause = report["diagnosis"]["cause"].as_str().unwrap();
    assert!(cause.contains("the caller does not hear"), "{cause}");
}

/// Channels that break the call after the tap: the analyzer sees only what each side sent,
/// and must still tell from the T.30 exchange what each side concluded.
#[test]
fn calls_broken_by_the_network() {
    for (channel, cause, records_match) in [
        // Bursty loss: the receiver loses the page, waits T2 and hangs up mid-page.
        ("voip-g711-lossy", "hung up", true),
        // G.729 with VAD: V.21 frames get through only now and then, the trainings fail and
        // the answerer gives up with DCN. The recording holds what each side sent, not what
        // reached the other, so the completion strings the analyzer derives follow the
        // frames as sent; the records of sides that lost some of them in the codec differ.
        ("voip-g729", "disconnected", false),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (c, a) = call_doc(
            dir.path(),
            SAMPLE,
            &["--channel", channel, "--limit-s", "200"],
        );
        assert_eq!(c["status"], "FAILED", "{channel}");
        let report = analyze(&dir.path().join("out/call.wav"));
        let end = c["duration_s"].as_f64().unwrap();
        check_frames(&report, [&c, &a], false, Some(end));
        if records_match {
            check_outcome(&report, &c, &a);
        } else {
            assert_eq!(report["diagnosis"]["fax_found"], true);
            assert_eq!(a["status"], "FAILED", "{channel}");
        }
        let why = report["diagnosis"]["cause"].as_str().unwrap();
        assert!(why.contains(cause), "{channel}: {why}");
    }
}

/// A stereo recording with the answerer on the left and each side 20 dB down on the other
/// channel (hybrid echo, crosstalk): sides, frames and outcome as on the clean recording.
#[test]
fn swapped_channels_with_crosstalk() {
    let dir = tempfile::tempdir().unwrap();
    let (c, a) = call(dir.path(), 1, &["--ecm", "off", "--modems", "v29"]);
    let mut r = hound::WavReader::open(dir.path().join("out/call.wav")).unwrap();
    let s: Vec<i16> = r.samples::<i16>().map(|x| x.unwrap()).collect();
    let p = dir.path().join("crosstalk.wav");
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&p, spec).unwrap();
    for f in s.chunks(2) {
        let (caller, answerer) = (f32::from(f[0]), f32::from(f[1]));
        w.write_sample((answerer + 0.1 * caller) as i16).unwrap();
        w.write_sample((caller + 0.1 * answerer) as i16).unwrap();
    }
    w.finalize().unwrap();
    let report = analyze(&p);
    assert_eq!(
        report["track_sides"],
        serde_json::json!(["answerer", "caller"])
    );
    check_frames(&report, [&c, &a], false, None);
    check_outcome(&report, &c, &a);
    // No frame twice: crosstalk copies are dropped.
    let sent: usize = [&c, &a]
        .iter()
        .map(|r| {
            r["frames"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| f["dir"] == "tx")
                .count()
        })
        .sum();
    assert_eq!(frames_of(&report).len(), sent);
    assert_eq!(report["pages"].as_array().unwrap().len(), 1);
    for t in report["trainings"].as_array().unwrap() {
        assert_eq!(t["side"], "caller", "{t}");
    }
}

/// ECM over a lossy network: the receiver asks for frames again (PPR); the analyzer lists
/// the frames each PPR asks for, and they are the ones the sender then sends again.
#[test]
fn ecm_partial_page_requests() {
    let dir = tempfile::tempdir().unwrap();
    let (c, a) = call_doc(dir.path(), SAMPLE, &["--channel", "g1050-D"]);
    let pprs = c["frames"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["name"] == "PPR")
        .count();
    assert!(pprs > 0, "this channel and seed give a PPR");
    for wav in [dir.path().join("out/call.wav"), mono_mix(dir.path())] {
        let report = analyze(&wav);
        check_frames(&report, [&c, &a], false, None);
        check_outcome(&report, &c, &a);
        assert_eq!(report["ecm"]["pprs"], pprs);
        // The FCD frames sent after the first PPR, up to the next PPS.
        let frames = frames_of(&report);
        let at = frames.iter().position(|f| f["name"] == "PPR").unwrap();
        let again: Vec<u64> = frames[at..]
            .iter()
            .skip(1)
            .take_while(|f| f["name"] != "PPS")
            .filter(|f| f["name"] == "FCD")
            .map(|f| {
                u64::from_str_radix(f["hex"].as_str().unwrap().split(' ').nth(3).unwrap(), 16)
                    .unwrap()
            })
            .collect();
        let asked: Vec<u64> = report["ecm"]["ppr_requests"][0]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_u64().unwrap())
            .collect();
        assert_eq!(asked, again);
        assert_eq!(
            report["ecm"]["retransmitted_frames"].as_u64().unwrap() as usize,
            again.len()
        );
    }
}
