//! `faxsim call` as a user runs it: outputs, independent readers, exit codes, determinism.

use std::path::Path;
use std::process::{Command, Output};

use t30::image::testpage::draw_text;
use t30::image::tiff::{TiffWriteOptions, read_tiff, write_tiff};
use t30::image::{Bitmap, Coding, Resolution};

fn faxsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_faxsim"))
        .args(args)
        .output()
        .unwrap()
}

fn pages(n: u32) -> Vec<Bitmap> {
    (0..n)
        .map(|i| {
            let mut b = Bitmap::new(1728, 240, Resolution::Fine).unwrap();
            draw_text(&mut b, 40, 20, 3, 2, &format!("CLI PAGE {i}"), true);
            b.fill_rect(100 + 300 * i, 200, 500 + 300 * i, 230, true);
            b
        })
        .collect()
}

fn write_doc(dir: &Path, n: u32) -> String {
    let p = dir.join("doc.tif");
    let tiff = write_tiff(&pages(n), None, &TiffWriteOptions::new(Coding::Mh)).unwrap();
    std::fs::write(&p, tiff).unwrap();
    p.display().to_string()
}

fn tool(name: &str) -> bool {
    Command::new(name).arg("--help").output().is_ok()
}

#[test]
fn a_call_writes_records_pages_and_audio() {
    let dir = tempfile::tempdir().unwrap();
    let doc = write_doc(dir.path(), 3);
    let out = dir.path().join("out");
    let o = faxsim(&[
        "call",
        "--send",
        &doc,
        "--modems",
        "v17",
        "--ecm",
        "on",
        "--out",
        out.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(lines[0].starts_with("caller") && lines[0].contains("SUCCESS \"OK\" pages=3"));
    assert!(lines[1].starts_with("answerer") && lines[1].contains("rate=14400 modem=V.17"));

    for name in ["caller.json", "answerer.json"] {
        let v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join(name)).unwrap()).unwrap();
        for field in [
            "status",
            "error",
            "code",
            "pages",
            "rate",
            "modem",
            "ecm",
            "resolution",
            "localstationid",
            "remotestationid",
            "headerinfo",
            "seed",
            "role",
            "duration_s",
            "trainings",
            "frames",
            "files",
        ] {
            assert!(v.get(field).is_some(), "{name} lacks {field}");
        }
        assert_eq!(v["status"], "SUCCESS");
        assert_eq!(v["ecm"], "yes");
        assert_eq!(v["resolution"], "8040x7700");
        assert!(v["frames"].as_array().unwrap().len() > 5);
    }
    let answerer: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("answerer.json")).unwrap()).unwrap();
    assert_eq!(answerer["remotestationid"], "+1 555 0100");
    assert_eq!(answerer["files"]["tiff"], "received.tif");
    assert_eq!(answerer["files"]["pdf"], "received.pdf");

    let received = read_tiff(&std::fs::read(out.join("received.tif")).unwrap()).unwrap();
    let sent = pages(3);
    assert_eq!(received.len(), 3);
    for (r, s) in received.iter().zip(&sent) {
        assert!(r.bitmap.data() == s.data(), "pixels differ");
    }
    assert!(
        std::fs::read(out.join("received.pdf"))
            .unwrap()
            .starts_with(b"%PDF")
    );

    let rt = out.join("received.tif");
    if tool("tiffinfo") {
        let t = Command::new("tiffinfo").arg(&rt).output().unwrap();
        assert!(t.status.success(), "{}", String::from_utf8_lossy(&t.stderr));
        assert_eq!(
            String::from_utf8_lossy(&t.stdout)
                .matches("Image Width: 1728")
                .count(),
            3
        );
    } else {
        println!("skipped: tiffinfo check needs libtiff-tools");
    }
    if tool("sox") {
        let s = Command::new("sox")
            .arg("--i")
            .arg(out.join("call.wav"))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&s.stdout);
        assert!(text.contains("Channels       : 2"), "{text}");
        assert!(text.contains("Sample Rate    : 8000"), "{text}");
    } else {
        println!("skipped: call.wav check needs sox");
    }
}

fn run_twice(extra: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let doc = write_doc(dir.path(), 1);
    let mut files = Vec::new();
    for run in ["a", "b"] {
        let out = dir.path().join(run);
        let mut args = vec!["call", "--send", &doc, "--seed", "7", "--out"];
        let out_s = out.to_str().unwrap().to_string();
        args.push(&out_s);
        args.extend_from_slice(extra);
        let o = faxsim(&args);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stdout)
        );
        files.push(
            ["caller.json", "answerer.json", "call.wav", "received.tif"]
                .map(|f| std::fs::read(out.join(f)).unwrap()),
        );
    }
    assert!(
        files[0] == files[1],
        "outputs differ between runs {extra:?}"
    );
}

#[test]
fn the_same_command_gives_identical_outputs() {
    run_twice(&["--ecm", "off", "--modems", "v29"]);
    if spandsp_peer::require().is_some() {
        run_twice(&["--caller", "spandsp", "--modems", "v27ter"]);
    }
}

#[test]
fn bad_usage_exits_2_and_failed_calls_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let doc = write_doc(dir.path(), 1);
    let out = dir.path().join("o");
    let out = out.to_str().unwrap();
    let o = faxsim(&["call", "--send", &doc, "--channel", "tin-can", "--out", out]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown channel 'tin-can'"));
    let o = faxsim(&["call", "--send", &doc, "--modems", "v34", "--out", out]);
    assert_eq!(o.status.code(), Some(2));
    let missing = dir.path().join("missing.tif");
    let o = faxsim(&["call", "--send", missing.to_str().unwrap(), "--out", out]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("Document loading error."));

    let o = faxsim(&["call", "--send", &doc, "--limit-s", "6", "--out", out]);
    assert_eq!(o.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        stdout.matches("(call time limit reached)").count(),
        2,
        "{stdout}"
    );
    assert!(stdout.contains("FAILED \"The call dropped prematurely\""));
}

#[test]
fn the_receiver_hook_sees_the_outcome_and_its_failure_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let doc = write_doc(dir.path(), 1);
    let out = dir.path().join("o");
    let hook = "env | grep -E '^FAX(OPT|SIM)_' | sort > hook.env; test -s \"$FAXSIM_TIFF\" || exit 9; exit 3";
    let o = faxsim(&[
        "call",
        "--send",
        &doc,
        "--out",
        out.to_str().unwrap(),
        "--on-complete",
        hook,
    ]);
    // A failing hook is reported, never fatal.
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).contains("answerer hook exited with status 3"));
    let env = std::fs::read_to_string(out.join("hook.env")).unwrap();
    for line in [
        "FAXOPT_STATUS=SUCCESS",
        "FAXOPT_ERROR=OK",
        "FAXOPT_PAGES=1",
        "FAXOPT_RATE=14400",
        "FAXOPT_ECM=yes",
        "FAXOPT_RESOLUTION=8040x7700",
        "FAXOPT_REMOTESTATIONID=+1 555 0100",
        "FAXOPT_LOCALSTATIONID=+1 555 0199",
        "FAXOPT_HEADERINFO=",
    ] {
        assert!(env.lines().any(|l| l == line), "{line} missing in {env}");
    }
    assert!(env.contains("FAXSIM_RECORD=/") && env.contains("answerer.json"));
    assert!(env.contains("FAXSIM_PDF=/") && env.contains("received.pdf"));
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("answerer.json")).unwrap()).unwrap();
    assert_eq!(v["hook"]["exit_code"], 3);
}
