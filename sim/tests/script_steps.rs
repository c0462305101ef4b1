//! The script endpoint (the TSB-85 tester) against our engine, one step kind at a time,
//! through `run_session`: each step's check passes when the engine behaves as T.30 says,
//! and a wrong expectation fails.

use sim::endpoint::script::{CheckResult, Step};
use sim::session::{SessionOutput, SessionSetup, SideKind, SideSetup, run_session};
use t30::SampleTime;
use t30::engine::Role;

#[derive(serde::Deserialize)]
struct Steps {
    steps: Vec<Step>,
}

fn steps(toml_text: &str) -> Vec<Step> {
    toml::from_str::<Steps>(toml_text)
        .expect("steps parse")
        .steps
}

/// The script calls our engine (answerer, default configuration plus `tweak`).
fn tester_calls(script: &str, tweak: impl FnOnce(&mut t30::engine::Config)) -> SessionOutput {
    let mut caller = SideSetup::builtin(Role::Caller);
    caller.kind = SideKind::Script(steps(script));
    let mut answerer = SideSetup::builtin(Role::Answerer);
    answerer.config.ident = "+0123456789".into();
    tweak(&mut answerer.config);
    run(caller, answerer)
}

fn run(caller: SideSetup, answerer: SideSetup) -> SessionOutput {
    let mut setup = SessionSetup::new(caller, answerer);
    setup.limit = SampleTime::from_ms(200_000);
    let dir = tempfile::tempdir().unwrap();
    run_session(&setup, dir.path(), false).expect("session runs")
}

fn show(c: &[CheckResult]) -> String {
    c.iter()
        .map(|c| {
            format!(
                "  [{}] step {} {}: {}",
                if c.passed { "ok" } else { "FAIL" },
                c.step + 1,
                c.what,
                c.detail
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

const MRGN01: &str = r#"
[[steps]]
op = "send-tone"
tone = "cng"
gap_ms = 0
[[steps]]
op = "expect-tone"
tone = "ced"
within_ms = 5000
duration_ms = [2600, 4000]
[[steps]]
op = "expect-frame"
frame = "CSI"
ident = "+0123456789"
preamble_ms = [850, 1150]
gap_ms = [55, 95]
[[steps]]
op = "expect-frame"
frame = "DIS"
bits_set = [10]
[[steps]]
op = "send-frames"
frames = [{ name = "TSI", ident = "TESTER" }, { name = "DCS" }]
[[steps]]
op = "send-tcf"
[[steps]]
op = "expect-frame"
frame = "CFR"
within_ms = 3000
[[steps]]
op = "send-page"
page = "white"
[[steps]]
op = "send-frames"
frames = [{ name = "MPS" }]
[[steps]]
op = "expect-frame"
frame = "MCF"
[[steps]]
op = "send-page"
page = "white"
index = 1
[[steps]]
op = "send-frames"
frames = [{ name = "EOP" }]
[[steps]]
op = "expect-frame"
frame = "MCF"
[[steps]]
op = "send-frames"
frames = [{ name = "DCN" }]
[[steps]]
op = "expect-clear"
within_ms = [0, 2000]
"#;

#[test]
fn two_white_pages_as_mrgn01() {
    let out = tester_calls(MRGN01, |_| {});
    eprintln!("{}", show(&out.caller_checks));
    eprintln!("{}", out.answerer.summary_line());
    assert!(
        out.caller_checks.iter().all(|c| c.passed),
        "{}",
        show(&out.caller_checks)
    );
    assert_eq!(out.caller.status, "SUCCESS");
    assert_eq!(out.answerer.status, "SUCCESS");
    assert_eq!(out.answerer.pages, 2);
}
