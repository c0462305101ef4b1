//! `kind = "replay"`: the caller's channel of a recorded call, played back against our engine,
//! delivers the same page the live caller did (the line is clean and our engine
//! deterministic, so the recorded caller's timing still fits).

use std::process::Command;

use reports::read_journal;

fn faxsim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_faxsim"))
}

#[test]
fn a_recorded_caller_replays_its_page() {
    let d = tempfile::tempdir().unwrap();
    let live = d.path().join("live.toml");
    std::fs::write(
        &live,
        "description = \"a live call, recorded\"\n[caller]\npages = [ { test = \"impress\" } ]\n[answerer.expect]\nstatus = \"SUCCESS\"\npages = 1\n",
    )
    .unwrap();
    let out = d.path().join("out");
    let o = faxsim()
        .arg("run")
        .arg(&live)
        .arg("--wav")
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let wav = out.join("live/rep1/call.wav");
    assert!(wav.is_file());

    let replay = d.path().join("replay.toml");
    std::fs::write(
        &replay,
        format!(
            "description = \"the recorded caller against our engine\"\n[caller]\nkind = \"replay\"\ncapture = \"{}\"\ncapture_channel = \"caller\"\n[answerer.expect]\nstatus = \"SUCCESS\"\npages = 1\n",
            wav.display()
        ),
    )
    .unwrap();
    let json = d.path().join("r.jsonl");
    let o = faxsim()
        .arg("run")
        .arg(&replay)
        .arg("--out")
        .arg(&out)
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let r = read_journal(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let sides = &r[0].calls[0].sides;
    assert_eq!(sides[0].endpoint, "replay");
    let answerer = sides[1].record.as_ref().unwrap();
    assert_eq!(answerer["error"], "OK");
    assert!(out.join("replay/rep1/answerer-received.tif").is_file());
}

#[test]
fn a_missing_capture_is_a_bad_file() {
    let d = tempfile::tempdir().unwrap();
    let s = d.path().join("replay.toml");
    std::fs::write(&s, "[caller]\nkind = \"replay\"\ncapture = \"nope.wav\"\n").unwrap();
    let o = faxsim()
        .arg("run")
        .arg(&s)
        .arg("--out")
        .arg(d.path().join("o"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("replay.toml:3: key `caller.capture`"), "{err}");
}
