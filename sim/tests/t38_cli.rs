//! `faxsim call --transport t38` as a user runs it: the received document (tiffcmp against
//! the source), call.pcap read back by tshark (every packet decodes, no malformed packet or
//! expert error, and its T.30 frames are the frames the records say were sent), loss with
//! and without redundancy, and byte-identical reruns.

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

fn write_doc(dir: &Path, n: u32) -> String {
    let pages: Vec<Bitmap> = (0..n)
        .map(|i| {
            let mut b = Bitmap::new(1728, 400, Resolution::Fine).unwrap();
            draw_text(&mut b, 40, 20, 3, 2, &format!("T38 CLI PAGE {i}"), true);
            b.fill_rect(100 + 300 * i, 300, 500 + 300 * i, 330, true);
            b
        })
        .collect();
    let p = dir.join("doc.tif");
    let tiff = write_tiff(&pages, None, &TiffWriteOptions::new(Coding::Mh)).unwrap();
    std::fs::write(&p, tiff).unwrap();
    p.display().to_string()
}

/// Whether `name` runs; when it does not, says so, and fails under
/// FAXSIM_REQUIRE_SYSTEM_LIBS=1.
fn tool(name: &str, package: &str) -> bool {
    if Command::new(name).arg("-h").output().is_ok() {
        return true;
    }
    if std::env::var("FAXSIM_REQUIRE_SYSTEM_LIBS").as_deref() == Ok("1") {
        panic!("FAXSIM_REQUIRE_SYSTEM_LIBS=1 but {name} is missing ({package})");
    }
    println!("skipped: this check needs {name} (apt-get install {package})");
    false
}

fn call(dir: &Path, name: &str, doc: &str, extra: &[&str]) -> (Output, std::path::PathBuf) {
    let out = dir.join(name);
    let mut args = vec!["call", "--send", doc, "--transport", "t38", "--out"];
    let out_s = out.to_str().unwrap().to_string();
    args.push(&out_s);
    args.extend_from_slice(extra);
    (faxsim(&args), out)
}

fn record(out: &Path, side: &str) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(out.join(format!("{side}.json"))).unwrap()).unwrap()
}

fn tshark(pcap: &Path, extra: &[&str]) -> String {
    let o = Command::new("tshark")
        .arg("-r")
        .arg(pcap)
        .args(["-d", "udp.port==5000,t38"])
        .args(extra)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The FCF values (X bit masked, as tshark shows them) of the frames `side` sent.
fn sent_fcfs(r: &serde_json::Value) -> Vec<u8> {
    r["frames"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["dir"] == "tx")
        .map(|f| {
            let hex = f["hex"].as_str().unwrap();
            let fcf = u8::from_str_radix(hex.split(' ').nth(2).unwrap(), 16).unwrap();
            fcf.reverse_bits() & 0x7F
        })
        .collect()
}

fn check_pcap(out: &Path, what: &str) {
    let pcap = out.join("call.pcap");
    assert_eq!(
        record(out, "caller")["files"]["pcap"],
        "call.pcap",
        "{what}"
    );
    let all = tshark(&pcap, &["-T", "fields", "-e", "frame.protocols"]);
    let n = all.lines().count();
    assert!(n > 20, "{what}: {n} packets");
    assert!(
        all.lines().all(|l| l.contains(":udp:t38")),
        "{what}: a packet that is not T.38: {all}"
    );
    let bad = tshark(
        &pcap,
        &["-Y", "_ws.malformed || _ws.expert.severity >= error"],
    );
    assert!(bad.is_empty(), "{what}: {bad}");
    let frames = tshark(
        &pcap,
        &[
            "-Y",
            "t30",
            "-T",
            "fields",
            "-E",
            "separator=|",
            "-e",
            "ip.src",
            "-e",
            "t30.FacsimileControl",
        ],
    );
    for (side, ip) in [("caller", "192.0.2.1"), ("answerer", "192.0.2.2")] {
        let seen: Vec<u8> = frames
            .lines()
            .filter_map(|l| l.split_once('|'))
            .filter(|(src, _)| *src == ip)
            .map(|(_, fcf)| fcf.parse().unwrap())
            .collect();
        assert_eq!(
            seen,
            sent_fcfs(&record(out, side)),
            "{what}: {side}'s frames"
        );
    }
}

#[test]
fn t38_calls_deliver_the_document_and_a_pcap_tshark_reads() {
    let dir = tempfile::tempdir().unwrap();
    let doc = write_doc(dir.path(), 3);
    let mut pairs = vec![("builtin", "builtin")];
    if spandsp_peer::require().is_some() {
        pairs.extend([
            ("builtin", "spandsp"),
            ("spandsp", "builtin"),
            ("spandsp", "spandsp"),
        ]);
    }
    let have_tshark = tool("tshark", "tshark");
    let have_tiffcmp = tool("tiffcmp", "libtiff-tools");
    for (caller, answerer) in pairs {
        for ecm in ["on", "off"] {
            let what = format!("{caller} -> {answerer} ecm {ecm}");
            let name = format!("{caller}-{answerer}-{ecm}");
            let (o, out) = call(
                dir.path(),
                &name,
                &doc,
                &["--caller", caller, "--answerer", answerer, "--ecm", ecm],
            );
            let stdout = String::from_utf8_lossy(&o.stdout);
            assert_eq!(
                o.status.code(),
                Some(0),
                "{what}: {stdout}{}",
                String::from_utf8_lossy(&o.stderr)
            );
            assert!(
                stdout.contains("t38 caller->answerer: sent="),
                "{what}: {stdout}"
            );
            for side in ["caller", "answerer"] {
                let r = record(&out, side);
                assert_eq!(r["status"], "SUCCESS", "{what}: {side}");
                assert_eq!(r["pages"], 3, "{what}: {side}");
            }
            if have_tiffcmp {
                let t = Command::new("tiffcmp")
                    .arg("-t")
                    .arg(out.join("received.tif"))
                    .arg(&doc)
                    .output()
                    .unwrap();
                assert!(
                    t.status.success(),
                    "{what}: {}{}",
                    String::from_utf8_lossy(&t.stdout),
                    String::from_utf8_lossy(&t.stderr)
                );
            }
            if have_tshark {
                check_pcap(&out, &what);
            }
        }
    }
}

#[test]
fn redundancy_carries_a_call_through_loss_and_its_absence_fails_it() {
    let dir = tempfile::tempdir().unwrap();
    let doc = write_doc(dir.path(), 1);
    let chain = |name: &str, redundancy: u32, loss: f64| {
        let p = dir.path().join(name);
        std::fs::write(
            &p,
            format!(
                "name = \"{name}\"\n[t38]\nversion = 0\nredundancy = {redundancy}\n\
                 network = {{ delay_ms = 60.0, jitter_ms = 2.0, loss = {loss} }}\n"
            ),
        )
        .unwrap();
        p.display().to_string()
    };
    let lossy = chain("red3.toml", 3, 0.02);
    for seed in ["1", "2", "3"] {
        let (o, out) = call(
            dir.path(),
            &format!("red3-{seed}"),
            &doc,
            &["--channel-file", &lossy, "--seed", seed],
        );
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert_eq!(o.status.code(), Some(0), "seed {seed}: {stdout}");
        let count = |key: &str| -> u64 {
            stdout
                .split_whitespace()
                .filter_map(|w| w.strip_prefix(key))
                .map(|v| v.parse::<u64>().unwrap())
                .sum()
        };
        assert!(
            count("lost=") > 0,
            "seed {seed}: no loss happened: {stdout}"
        );
        assert_eq!(count("recovered="), count("lost="), "{stdout}");
        assert_eq!(count("unrecoverable="), 0, "{stdout}");
        assert_eq!(record(&out, "answerer")["pages"], 1);
    }
    let heavy = chain("red0.toml", 0, 0.3);
    let (o, out) = call(dir.path(), "red0", &doc, &["--channel-file", &heavy]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{stdout}");
    let errors: Vec<String> = ["caller", "answerer"]
        .iter()
        .map(|s| record(&out, s)["error"].as_str().unwrap().to_string())
        .collect();
    // The exact strings of the completion table: the caller never hears its DCS answered,
    // the answerer gives up on the page.
    assert_eq!(
        errors,
        [
            "Received no response to DCS or TCF",
            "Unexpected DCN while waiting for image data"
        ],
        "{stdout}"
    );
    for e in &errors {
        assert!(t30::completion::Completion::from_text(e).is_some(), "{e}");
    }
}

#[test]
fn the_same_t38_call_twice_gives_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let doc = write_doc(dir.path(), 1);
    let mut pairs = vec!["builtin"];
    if spandsp_peer::require().is_some() {
        pairs.push("spandsp");
    }
    for caller in pairs {
        let mut runs = Vec::new();
        for run in ["a", "b"] {
            let (o, out) = call(
                dir.path(),
                &format!("{caller}-{run}"),
                &doc,
                &["--seed", "11", "--caller", caller],
            );
            assert_eq!(o.status.code(), Some(0));
            runs.push(out);
        }
        for f in ["caller.json", "answerer.json", "call.pcap", "received.tif"] {
            let a = std::fs::read(runs[0].join(f)).unwrap();
            let b = std::fs::read(runs[1].join(f)).unwrap();
            assert!(a == b, "{caller}: {f} differs between runs");
        }
    }
}

#[test]
fn an_audio_channel_with_transport_t38_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let doc = write_doc(dir.path(), 1);
    let (o, _) = call(dir.path(), "x", &doc, &["--channel", "g711-alaw"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("needs a channel with a T.38 leg"), "{err}");
}

#[test]
fn capture_addresses_come_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let doc = write_doc(dir.path(), 1);
    let (o, out) = call(
        dir.path(),
        "addr",
        &doc,
        &[
            "--caller-addr",
            "10.1.1.1:6000",
            "--answerer-addr",
            "10.1.1.2:7000",
        ],
    );
    assert_eq!(o.status.code(), Some(0));
    if tool("tshark", "tshark") {
        let o = Command::new("tshark")
            .arg("-r")
            .arg(out.join("call.pcap"))
            .args(["-d", "udp.port==7000,t38", "-Y", "t38", "-T", "fields"])
            .args(["-e", "ip.src", "-e", "udp.srcport"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(text.lines().any(|l| l == "10.1.1.1\t6000"), "{text}");
        assert!(text.lines().any(|l| l == "10.1.1.2\t7000"), "{text}");
        assert!(
            text.lines()
                .all(|l| l == "10.1.1.1\t6000" || l == "10.1.1.2\t7000"),
            "{text}"
        );
    }
    let (o, _) = call(
        dir.path(),
        "same",
        &doc,
        &[
            "--caller-addr",
            "10.1.1.1:6000",
            "--answerer-addr",
            "10.1.1.1:6000",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
}
