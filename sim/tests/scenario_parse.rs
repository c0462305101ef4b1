//! Strict scenario parsing: every bad file is refused with one line naming the file, the key
//! and the line, and `faxsim run` exits 2 without running anything.

use std::path::Path;
use std::process::Command;

use sim::scenario::load_scenario;

fn faxsim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_faxsim"))
}

/// Writes `text` as a scenario file and returns `faxsim run`'s exit code and stderr.
fn run_bad(dir: &Path, name: &str, text: &str) -> (Option<i32>, String) {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    let out = faxsim()
        .arg("run")
        .arg(&p)
        .arg("--out")
        .arg(dir.join("out"))
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn assert_one_line(stderr: &str, file: &str, line: usize, key: &str, what: &str) {
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {stderr}");
    let l = lines[0];
    assert!(
        l.contains(&format!("{file}:{line}:")),
        "file and line in: {l}"
    );
    assert!(l.contains(&format!("key `{key}`")), "key {key} in: {l}");
    assert!(l.contains(what), "{what:?} in: {l}");
}

#[test]
fn unknown_key() {
    let d = tempfile::tempdir().unwrap();
    let (code, err) = run_bad(
        d.path(),
        "unknown.toml",
        "description = \"x\"\n\n[caller]\npages = [ { test = \"white\" } ]\necm_mode = true\n",
    );
    assert_eq!(code, Some(2));
    assert_one_line(
        &err,
        "unknown.toml",
        5,
        "caller.ecm_mode",
        "unknown field `ecm_mode`",
    );
}

#[test]
fn unknown_key_in_a_channel_stage() {
    let d = tempfile::tempdir().unwrap();
    let (code, err) = run_bad(
        d.path(),
        "stage.toml",
        "[channel]\nstages = [ { type = \"noise\", dbm0 = -40.0, colour = \"pink\" } ]\n\n[caller]\npages = [ { test = \"white\" } ]\n",
    );
    assert_eq!(code, Some(2));
    assert_one_line(
        &err,
        "stage.toml",
        2,
        "channel.stages.colour",
        "unknown field `colour`",
    );
}

#[test]
fn bad_type() {
    let d = tempfile::tempdir().unwrap();
    let (code, err) = run_bad(
        d.path(),
        "type.toml",
        "[caller]\npages = [ { test = \"white\" } ]\n\n[caller.expect]\npages = \"two\"\n",
    );
    assert_eq!(code, Some(2));
    assert_one_line(&err, "type.toml", 5, "caller.expect.pages", "invalid type");
}

#[test]
fn impossible_values() {
    let d = tempfile::tempdir().unwrap();
    for (text, line, key, what) in [
        (
            "[caller]\npages = [ { test = \"white\" } ]\necm_frame_size = 100\n",
            3,
            "caller.ecm_frame_size",
            "64 or 256",
        ),
        (
            "[caller]\npages = [ { test = \"white\" } ]\nmax_rate = 19200\n",
            3,
            "caller.max_rate",
            "19200",
        ),
        (
            "[caller]\npages = [ { test = \"white\" } ]\n[caller.expect]\nerror = \"Everything fine\"\n",
            4,
            "caller.expect.error",
            "not an exact completion or pipeline string",
        ),
        (
            "[channel]\npreset = \"g711-klingon\"\n[caller]\npages = [ { test = \"white\" } ]\n",
            2,
            "channel.preset",
            "unknown channel preset",
        ),
        (
            "[caller]\npages = [ { test = \"white\" } ]\n[[caller.faults.frames]]\nfcf = \"XYZ\"\nfault = \"drop\"\n",
            4,
            "caller.faults.frames.fcf",
            "unknown T.30 frame name",
        ),
        (
            "[caller]\npages = [ { test = \"white\" } ]\n[caller.expect]\nframes_tx = [\"DIS\", \"DSC\"]\n",
            4,
            "caller.expect.frames_tx",
            "unknown frame name",
        ),
    ] {
        let (code, err) = run_bad(d.path(), "value.toml", text);
        assert_eq!(code, Some(2), "{text}");
        assert_one_line(&err, "value.toml", line, key, what);
    }
}

#[test]
fn missing_document() {
    let d = tempfile::tempdir().unwrap();
    let (code, err) = run_bad(
        d.path(),
        "doc.toml",
        "description = \"x\"\n[caller]\nsend = [\"no-such-file.tif\"]\n",
    );
    assert_eq!(code, Some(2));
    assert_one_line(&err, "doc.toml", 3, "caller.send", "no-such-file.tif");
}

#[test]
fn a_missing_document_is_a_run_outcome_when_the_scenario_expects_it() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("doc.toml");
    std::fs::write(
        &p,
        "[caller]\nsend = [\"no-such-file.tif\"]\n[caller.expect]\nerror = \"Document loading error.\"\n",
    )
    .unwrap();
    let s = load_scenario(&p).unwrap();
    assert!(s.caller.document_problem.is_some());
}

#[test]
fn every_bad_file_of_a_folder_is_reported() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("a.toml"), "bogus = 1\n").unwrap();
    std::fs::write(d.path().join("b.toml"), "seed = \"one\"\n").unwrap();
    let out = faxsim()
        .arg("run")
        .arg(d.path())
        .arg("--out")
        .arg(d.path().join("out"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 2, "{err}");
    assert!(err.contains("a.toml:1: key `bogus`"), "{err}");
    assert!(err.contains("b.toml:1: key `seed`"), "{err}");
}

#[test]
fn the_whole_library_parses() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let all = sim::scenario::load_dir(&[dir]).unwrap_or_else(|e| {
        panic!(
            "{}",
            e.iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        )
    });
    assert!(all.len() > 100, "{} scenarios", all.len());
    for s in &all {
        assert!(!s.description.is_empty(), "{}: no description", s.id);
        let scripted = |k: &sim::session::SideKind| matches!(k, sim::session::SideKind::Script(_));
        assert!(
            !s.caller.expect.is_empty()
                || !s.answerer.expect.is_empty()
                || scripted(&s.caller.kind)
                || scripted(&s.answerer.kind),
            "{}: no expectations",
            s.id
        );
    }
}
