//! Fax detection on a voice line: a number that answers with a spoken greeting instead of
//! CED diverts the call to its fax receiver when it detects the caller's CNG; without
//! detection the caller times out (T1).

use std::path::PathBuf;

use reports::Status;
use sim::scenario::load_dir;
use sim::scenario::runner::{RunOptions, run_scenario};

fn field(name: &str) -> sim::scenario::Scenario {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios/field");
    load_dir(&[dir])
        .unwrap_or_else(|e| panic!("{e:?}"))
        .into_iter()
        .find(|s| s.id.ends_with(name))
        .unwrap_or_else(|| panic!("no scenario {name}"))
}

fn side(r: &reports::ScenarioResult, role: &str) -> serde_json::Value {
    r.calls[0]
        .sides
        .iter()
        .find(|s| s.role == role)
        .and_then(|s| s.record.clone())
        .unwrap()
}

#[test]
fn cng_detection_diverts_a_voice_answer_to_the_fax_receiver() {
    let out = tempfile::tempdir().unwrap();
    let with = run_scenario(
        &field("voice-line-fax-detect"),
        out.path(),
        &RunOptions::default(),
    );
    assert_eq!(with.status, Status::Passed, "{:?}", with.failures);
    let caller = side(&with, "caller");
    assert_eq!(caller["error"], "OK");
    assert_eq!(side(&with, "answerer")["pages"], 1);

    let without = run_scenario(
        &field("voice-line-no-detect"),
        out.path(),
        &RunOptions::default(),
    );
    assert_eq!(without.status, Status::Passed, "{:?}", without.failures);
    let caller = side(&without, "caller");
    assert_eq!(
        caller["error"],
        "Timed out waiting for initial communication"
    );
    assert_eq!(
        side(&without, "answerer")["error"],
        "The call dropped prematurely"
    );
    assert_eq!(side(&without, "answerer")["pages"], 0);
}

#[test]
fn a_voice_answer_on_the_caller_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.toml");
    std::fs::write(
        &p,
        "description = \"x\"\n[caller]\npages = [ { test = \"white\" } ]\nvoice = { fax_detect = true }\n",
    )
    .unwrap();
    let e = load_dir(&[p]).expect_err("refused");
    let msg = e[0].to_string();
    assert!(msg.contains("voice") && msg.contains("bad.toml"), "{msg}");
}
