//! The script endpoint (the TSB-85 tester) against our engine, one step kind at a time,
//! through `run_session`: each check passes when the engine behaves as T.30 says, and the
//! same step with a wrong expectation fails.

use sim::endpoint::Record;
use sim::endpoint::script::{CheckResult, ScriptEndpoint, Step};
use sim::session::{SessionSetup, SideKind, SideSetup, run_session};
use t30::SampleTime;
use t30::engine::{Config, Role};
use t30::image::Bitmap;
use t30::image::testpage::{TestPageKind, TestPageOptions, make_test_page};

#[derive(serde::Deserialize)]
struct Steps {
    steps: Vec<Step>,
}

fn steps(toml_text: &str) -> Vec<Step> {
    toml::from_str::<Steps>(toml_text)
        .expect("steps parse")
        .steps
}

/// What one call left: the script's checks, the script's record and our engine's record.
struct Out {
    checks: Vec<CheckResult>,
    script: Record,
    dut: Record,
}

impl Out {
    fn show(&self) -> String {
        self.checks
            .iter()
            .map(|c| {
                let mark = if c.passed { "ok" } else { "FAIL" };
                format!("[{mark}] step {} {}: {}", c.step + 1, c.what, c.detail)
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Every check passed and the script's record says so.
    fn all_pass(&self) {
        assert!(!self.checks.is_empty());
        assert!(self.checks.iter().all(|c| c.passed), "{}", self.show());
        assert_eq!(self.script.status, "SUCCESS", "{}", self.show());
    }

    /// A check whose description contains `what` failed, and the script's record is FAILED.
    fn fails(&self, what: &str) {
        assert!(
            self.checks
                .iter()
                .any(|c| !c.passed && c.what.contains(what)),
            "no failed check on '{what}':\n{}",
            self.show()
        );
        assert_eq!(self.script.status, "FAILED");
    }

    /// The check on `what` passed, with this detail.
    fn detail(&self, what: &str) -> &str {
        let c = self
            .checks
            .iter()
            .find(|c| c.what.contains(what))
            .unwrap_or_else(|| panic!("no check on '{what}':\n{}", self.show()));
        assert!(c.passed, "{}", self.show());
        &c.detail
    }
}

fn white_page() -> Bitmap {
    make_test_page(TestPageKind::White, 0, &TestPageOptions::default())
        .unwrap()
        .bitmap
}

/// The script plays `role`; our engine (ident "+0123456789", as `tweak` leaves it) the other
/// side.
fn run(script: &str, role: Role, tweak: impl FnOnce(&mut Config, &mut Vec<Bitmap>)) -> Out {
    let dut_role = match role {
        Role::Caller => Role::Answerer,
        Role::Answerer => Role::Caller,
    };
    let mut tester = SideSetup::builtin(role);
    tester.kind = SideKind::Script(steps(script));
    let mut dut = SideSetup::builtin(dut_role);
    dut.config.ident = "+0123456789".into();
    let mut pages = Vec::new();
    tweak(&mut dut.config, &mut pages);
    dut.pages = pages.into();
    let (caller, answerer) = match role {
        Role::Caller => (tester, dut),
        Role::Answerer => (dut, tester),
    };
    let mut setup = SessionSetup::new(caller, answerer);
    setup.limit = SampleTime::from_ms(150_000);
    let dir = tempfile::tempdir().unwrap();
    let out = run_session(&setup, dir.path(), false).expect("session runs");
    match role {
        Role::Caller => Out {
            checks: out.caller_checks,
            script: out.caller,
            dut: out.answerer,
        },
        Role::Answerer => Out {
            checks: out.answerer_checks,
            script: out.answerer,
            dut: out.caller,
        },
    }
}

/// The tester calls; our engine receives.
fn call(script: &str) -> Out {
    run(script, Role::Caller, |_, _| {})
}

/// The tester answers; our engine sends one white page.
fn answer(script: &str) -> Out {
    run(script, Role::Answerer, |_, p| p.push(white_page()))
}

/// Up to the CFR: CED, DIS, TSI+DCS (V.27ter 4800), TCF.
const TRAINED: &str = r#"
[[steps]]
op = "expect-tone"
tone = "ced"
within_ms = 6000
[[steps]]
op = "expect-frame"
frame = "DIS"
[[steps]]
op = "send-frames"
frames = [{ name = "TSI", ident = "TESTER" }, { name = "DCS" }]
[[steps]]
op = "send-tcf"
[[steps]]
op = "expect-frame"
frame = "CFR"
within_ms = 3000
"#;

/// TSI+DCS, TCF, CFR.
const RETRAIN: &str = r#"
[[steps]]
op = "send-frames"
frames = [{ name = "TSI", ident = "TESTER" }, { name = "DCS" }]
[[steps]]
op = "send-tcf"
[[steps]]
op = "expect-frame"
frame = "CFR"
within_ms = 3000
"#;

/// One white page with EOP, MCF, DCN, clearing.
const PAGE_EOP: &str = r#"
[[steps]]
op = "send-page"
page = "white"
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
fn a_whole_receive_procedure_passes_with_timing_checks() {
    let script = r#"
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
strict = true
preamble_ms = [850, 1150]
gap_ms = [55, 95]
[[steps]]
op = "expect-frame"
frame = "DIS"
strict = true
bits_set = [10]
hex = "ff 13 80 *"
[[steps]]
op = "send-frames"
frames = [{ name = "TSI", ident = "TESTER" }, { name = "DCS" }]
[[steps]]
op = "send-tcf"
[[steps]]
op = "expect-frame"
frame = "CFR"
within_ms = 3000
delay_ms = [0, 1000]
"#
    .to_string()
        + PAGE_EOP;
    let out = call(&script);
    out.all_pass();
    assert_eq!(out.dut.status, "SUCCESS");
    assert_eq!(out.dut.pages, 1);
    assert_eq!(out.dut.remotestationid, "TESTER");
    // The measured figures are the engine's: CED 3000 ms, 38 flags (1013 ms) plus the
    // demodulator's delay, the 75 ms gap.
    assert_eq!(out.detail("CED lasts"), "3000 ms");
    let preamble: u64 = out
        .detail("preamble")
        .trim_end_matches(" ms")
        .parse()
        .unwrap();
    assert!((1000..1100).contains(&preamble), "{preamble}");
    // The script's record carries its frame trace.
    assert!(
        out.script
            .frames
            .iter()
            .any(|f| f.dir == "tx" && f.name == "DCS")
    );
    assert!(
        out.script
            .frames
            .iter()
            .any(|f| f.dir == "rx" && f.name == "DIS")
    );
}

#[test]
fn wrong_tone_expectations_fail() {
    let out = call(
        r#"
[[steps]]
op = "expect-tone"
tone = "ced"
duration_ms = [100, 200]
"#,
    );
    out.fails("CED lasts");
    // Our engine as caller sends CNG, never CED.
    let out = answer(
        r#"
[[steps]]
op = "expect-tone"
tone = "ced"
within_ms = 2000
"#,
    );
    out.fails("expect CED");
}

#[test]
fn cng_is_measured() {
    let out = answer(
        r#"
[[steps]]
op = "expect-tone"
tone = "cng"
within_ms = 3000
duration_ms = [425, 575]
[[steps]]
op = "hang-up"
"#,
    );
    out.all_pass();
    assert_eq!(out.detail("CNG lasts"), "500 ms");
}

#[test]
fn wrong_frame_expectations_fail() {
    for (step, what) in [
        ("frame = \"CSI\"\nident = \"+999\"", "expect CSI"),
        ("frame = \"DIS\"\nstrict = true", "expect DIS"),
        ("frame = \"DIS\"\nbits_clear = [10]", "expect DIS"),
        ("frame = \"DIS\"\nfif = \"00 00 *\"", "expect DIS"),
        (
            "hex = \"ff 13 80 01 *\"\nwithin_ms = 8000",
            "expect ff 13 80 01 *",
        ),
        (
            "frame = \"CFR\"\nwithin_ms = 8000",
            "expect CFR within 8000 ms",
        ),
        ("frame = \"CSI\"\npreamble_ms = [100, 200]", "preamble"),
        ("frame = \"CSI\"\ngap_ms = [500, 600]", "gap before"),
        ("frame = \"CSI\"\ndelay_ms = [0, 100]", "response delay"),
    ] {
        let out = call(&format!("[[steps]]\nop = \"expect-frame\"\n{step}\n"));
        out.fails(what);
    }
}

#[test]
fn bad_fcs_frames_are_ignored() {
    // After CFR the engine waits for the page: a DCS with a bad FCS (and its TCF) gets no
    // answer; the good one that follows gets CFR (TSB-85 MRGN14).
    let script = TRAINED.to_string()
        + r#"
[[steps]]
op = "send-frames"
frames = [{ name = "TSI", ident = "TESTER" }, { name = "DCS", bad_fcs = true }]
[[steps]]
op = "send-tcf"
[[steps]]
op = "expect-silence"
ms = 2000
"# + RETRAIN;
    call(&script).all_pass();
    // With a good DCS the engine answers CFR within the "silence".
    call(&script.replace(", bad_fcs = true", "")).fails("silence");
}

#[test]
fn hex_frames_garbage_and_preambles() {
    // A flags-only burst and a non-HDLC burst are not answered; DIS comes again after T4.
    let out = call(
        r#"
[[steps]]
op = "expect-frame"
frame = "DIS"
within_ms = 8000
[[steps]]
op = "send-preamble"
flags = 43
[[steps]]
op = "send-frames"
frames = [{ hex = "5a a5 3c" }]
[[steps]]
op = "expect-frame"
frame = "DIS"
within_ms = 6000
delay_ms = [1000, 4000]
"#,
    );
    out.all_pass();
    assert!(
        out.dut
            .frames
            .iter()
            .any(|f| f.name == "garbage" && f.fcs_ok)
    );
}

#[test]
fn tcf_faults_get_ftt() {
    for fault in ["pattern = 0x55", "rate = 2400", "ms = 300"] {
        let script = TRAINED.replace("op = \"send-tcf\"", &format!("op = \"send-tcf\"\n{fault}"));
        call(&script).fails("expect CFR");
        let script = script.replace("frame = \"CFR\"", "frame = \"FTT\"");
        call(&script).all_pass();
    }
    // 7 octets of 0x55 then zeros are still a good TCF.
    let script = TRAINED.replace(
        "op = \"send-tcf\"",
        "op = \"send-tcf\"\npattern = 0x55\npattern_bytes = 7",
    );
    call(&script).all_pass();
}

#[test]
fn pages_with_corrupt_rows_get_rtn() {
    let good = TRAINED.to_string() + PAGE_EOP;
    let out = call(&good);
    out.all_pass();
    assert_eq!(out.dut.pages, 1);
    let bad = good.replace(
        "page = \"white\"",
        "page = \"bad-rows-15.1\"\ncorrupt = true",
    );
    let out = call(&bad);
    out.fails("expect MCF");
    let bad_rtn = bad.replace("frame = \"MCF\"", "frame = \"RTN\"");
    let out = call(&bad_rtn);
    out.all_pass();
    assert_eq!(out.dut.completion_name(), "RX_DCNNORTN");
}

trait CompletionName {
    fn completion_name(&self) -> String;
}

impl CompletionName for Record {
    fn completion_name(&self) -> String {
        t30::completion::Completion::from_code(self.code as u8)
            .map(|c| c.name().to_string())
            .unwrap_or_default()
    }
}

#[test]
fn ecm_blocks_with_corrupt_frames_get_ppr_with_their_bitmap() {
    let script = TRAINED.replace(
        "{ name = \"DCS\" }",
        "{ name = \"DCS\", ecm = true, frame_size = 64 }",
    ) + r#"
[[steps]]
op = "send-ecm-page"
page = "stairstep"
bytes = 4096
post = "EOP"
corrupt_frames = [1, 9]
[[steps]]
op = "expect-frame"
frame = "PPR"
fif = "02 02 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
[[steps]]
op = "send-ecm-page"
page = "stairstep"
bytes = 4096
post = "EOP"
resend_ppr = true
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
    let out = call(&script);
    out.all_pass();
    assert_eq!(out.dut.status, "SUCCESS");
    assert_eq!(out.dut.ecm, "yes");
    assert_eq!(out.dut.ecm_retries, 1);
    // Asking for a different bitmap fails.
    call(&script.replace("fif = \"02 02", "fif = \"02 04")).fails("expect PPR");
}

/// The tester answers: CED, CSI+DIS (V.27ter only, no ECM).
const ANSWERED: &str = r#"
[[steps]]
op = "send-tone"
tone = "ced"
gap_ms = 200
[[steps]]
op = "send-frames"
frames = [{ name = "CSI", ident = "TESTER" }, { name = "DIS" }]
[[steps]]
op = "expect-frame"
frame = "DCS"
within_ms = 8000
fif = "00 0a 00"
modem = "v27ter"
rate = 4800
# TCF: V.27ter's long training and 1.5 s of zeros.
[[steps]]
op = "expect-signal"
within_ms = 3000
duration_ms = [2000, 2500]
[[steps]]
op = "send-frames"
frames = [{ name = "CFR" }]
[[steps]]
op = "expect-frame"
frame = "EOP"
within_ms = 60000
[[steps]]
op = "send-frames"
frames = [{ name = "MCF" }]
[[steps]]
op = "expect-frame"
frame = "DCN"
[[steps]]
op = "expect-clear"
within_ms = [0, 2000]
"#;

#[test]
fn the_engine_sends_to_the_tester() {
    let out = answer(ANSWERED);
    out.all_pass();
    assert_eq!(out.dut.status, "SUCCESS");
    assert_eq!(out.dut.pages, 1);
    assert_eq!((out.dut.rate, out.dut.modem.as_str()), (4800, "V.27ter"));
    assert_eq!(out.dut.remotestationid, "TESTER");
}

#[test]
fn wrong_expectations_of_a_sender_fail() {
    answer(&ANSWERED.replace("rate = 4800", "rate = 9600")).fails("expect DCS");
    answer(&ANSWERED.replace("duration_ms = [2000, 2500]", "duration_ms = [100, 200]"))
        .fails("signal lasts");
    answer(&ANSWERED.replace("within_ms = [0, 2000]", "within_ms = [1500, 2000]"))
        .fails("far end clears");
}

#[test]
fn the_dcs_follows_the_dis_we_offer() {
    // Fine and V.29 offered: a fine page goes at V.29 9600 with the fine bit.
    let script = ANSWERED
        .replace(
            "{ name = \"DIS\" }",
            "{ name = \"DIS\", modems = [\"v27ter\", \"v29\"], fine = true }",
        )
        .replace(
            "fif = \"00 0a 00\"\nmodem = \"v27ter\"\nrate = 4800",
            "modem = \"v29\"\nrate = 9600\nbits_set = [15]",
        )
        .replace("duration_ms = [2000, 2500]\n", "");
    let out = run(&script, Role::Answerer, |_, p| {
        let opts = TestPageOptions {
            resolution: t30::image::Resolution::Fine,
            ..Default::default()
        };
        p.push(
            make_test_page(TestPageKind::White, 0, &opts)
                .unwrap()
                .bitmap,
        );
    });
    out.all_pass();
    assert_eq!(out.dut.rate, 9600);
}

#[test]
fn hang_up_and_unfinished_scripts() {
    // The tester hangs up after CFR: our engine reports the dropped call.
    let out = call(&(TRAINED.to_string() + "[[steps]]\nop = \"hang-up\"\n"));
    out.all_pass();
    assert_eq!(out.dut.completion_name(), "CALLDROPPED");
    // A script cut short by the far end's clearing fails on the steps it did not run.
    let out = call(
        r#"
[[steps]]
op = "expect-frame"
frame = "DIS"
within_ms = 8000
[[steps]]
op = "send-frames"
frames = [{ name = "DCN" }]
[[steps]]
op = "wait"
ms = 5000
[[steps]]
op = "send-frames"
frames = [{ name = "DCN" }]
"#,
    );
    out.fails("script runs to its end");
    assert_eq!(out.dut.completion_name(), "RX_DCNWHY");
}

#[test]
fn echo_and_named_ecm_frames_are_built() {
    // The tester sends our engine's own EOP back, octet for octet, before its MCF.
    let script = ANSWERED.replace(
        "[[steps]]\nop = \"send-frames\"\nframes = [{ name = \"MCF\" }]",
        "[[steps]]\nop = \"send-frames\"\nframes = [{ echo = \"EOP\" }]\ngap_ms = 0\n[[steps]]\nop = \"send-frames\"\nframes = [{ name = \"MCF\" }]",
    );
    let out = answer(&script);
    let sent: Vec<&str> = out
        .script
        .frames
        .iter()
        .filter(|f| f.dir == "tx" && f.name == "EOP")
        .map(|f| f.hex.as_str())
        .collect();
    let theirs: Vec<&str> = out
        .dut
        .frames
        .iter()
        .filter(|f| f.dir == "tx" && f.name == "EOP")
        .map(|f| f.hex.as_str())
        .collect();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0], theirs[0]);
}

#[test]
fn bad_steps_are_refused_before_the_call() {
    for (text, want) in [
        (
            "op = \"send-frames\"\nframes = [{ name = \"NOPE\" }]",
            "unknown frame name",
        ),
        ("op = \"send-frames\"\nframes = []", "empty"),
        (
            "op = \"expect-frame\"\nhex = \"ff * 13\"",
            "'*' must come last",
        ),
        ("op = \"expect-frame\"", "needs 'frame' or 'hex'"),
        (
            "op = \"expect-tone\"\ntone = \"ced\"\nduration_ms = [4000, 2600]",
            "min is above max",
        ),
        ("op = \"send-page\"\npage = \"nope\"", "unknown test page"),
        (
            "op = \"send-ecm-page\"\npage = \"stairstep\"\nframe_size = 100",
            "64 or 256",
        ),
        ("op = \"send-tcf\"\nms = 100\nbytes = 10", "not both"),
    ] {
        let s = steps(&format!("[[steps]]\n{text}\n"));
        let err = ScriptEndpoint::new(&s, Role::Caller, 1).err().expect(text);
        assert!(err.contains(want), "{text}: {err}");
        assert!(err.starts_with("step 1 ("), "{err}");
    }
    // Unknown keys and ops are parse errors.
    for text in ["op = \"wait\"\nms = 1\nextra = 2", "op = \"dance\""] {
        assert!(
            toml::from_str::<Steps>(&format!("[[steps]]\n{text}\n")).is_err(),
            "{text}"
        );
    }
}

#[test]
fn the_tester_decodes_the_frames_of_an_ecm_block() {
    // Our engine sends one ECM page; the tester asks again for frame 2 and checks that the
    // retransmitted block carries exactly that frame.
    let script = r#"
[[steps]]
op = "send-tone"
tone = "ced"
gap_ms = 200
[[steps]]
op = "send-frames"
frames = [{ name = "CSI", ident = "TESTER" }, { name = "DIS", ecm = true }]
[[steps]]
op = "expect-frame"
frame = "DCS"
within_ms = 8000
bits_set = [27]
[[steps]]
op = "expect-signal"
[[steps]]
op = "send-frames"
frames = [{ name = "CFR" }]
[[steps]]
op = "expect-frame"
frame = "PPS-EOP"
within_ms = 60000
[[steps]]
op = "send-frames"
frames = [{ name = "PPR", frames = [2] }]
[[steps]]
op = "expect-signal"
fcd_frames = [2]
[[steps]]
op = "expect-frame"
frame = "PPS-EOP"
[[steps]]
op = "send-frames"
frames = [{ name = "MCF" }]
[[steps]]
op = "expect-frame"
frame = "DCN"
"#;
    let out = answer(script);
    out.all_pass();
    assert_eq!(out.detail("ECM frames 2"), "got 2");
    assert_eq!(
        (out.dut.status.as_str(), out.dut.ecm.as_str()),
        ("SUCCESS", "yes")
    );
    assert_eq!(out.dut.ecm_retries, 1);
    answer(&script.replace("fcd_frames = [2]", "fcd_frames = [3]")).fails("ECM frames 3");
    answer(&script.replace("fcd_frames = [2]", "fcd_as_ppr = true")).all_pass();
}
