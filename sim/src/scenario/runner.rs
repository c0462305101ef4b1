//! Running a scenario: its calls through [`crate::session`], the call layer around them
//! (no answer, answer supervision, documents that cannot be loaded, the receiver's PDF
//! conversion, an interrupted run), and each side's record checked against its expectation.

use std::path::Path;
use std::time::Instant;

use reports::{CallResult, Check, ScenarioResult, SideResult, Status};
use t30::completion::{Completion, PipelineError};
use t30::engine::Role;

use super::{DocumentProblem, Requirement, Scenario, ScenarioSide};
use crate::endpoint::Record;
use crate::endpoint::record::Files;
use crate::endpoint::script::CheckResult;
use crate::session::{
    Received, SessionError, SessionSetup, SideKind, SideSetup, run_session, write_received,
};

/// How to run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Record `call.wav` for every call.
    pub wav: bool,
    /// Run with spandsp as the device under test instead of our engine.
    pub spandsp_dut: bool,
    /// The receiver hook run after each call for each side that received pages.
    pub on_complete: Option<String>,
}

/// The variant name of a run: "builtin", or "spandsp" with spandsp as device under test.
pub fn variant_name(spandsp_dut: bool) -> &'static str {
    if spandsp_dut { "spandsp" } else { "builtin" }
}

/// Whether a system part can be loaded here.
pub fn available(r: Requirement) -> bool {
    match r {
        Requirement::Spandsp => spandsp_peer::Spandsp::load().is_ok(),
        Requirement::Bcg729 => channel_models::g729::is_available(),
    }
}

/// Whether missing system parts must fail rather than skip (`FAXSIM_REQUIRE_SYSTEM_LIBS=1`).
pub fn system_libs_required() -> bool {
    std::env::var("FAXSIM_REQUIRE_SYSTEM_LIBS").as_deref() == Ok("1")
}

/// The scenario with spandsp in place of its device under test, or why that is not possible.
pub fn with_spandsp_dut(s: &Scenario) -> Result<Scenario, String> {
    let Some(dut) = s.dut else {
        let why = |side: &ScenarioSide, other: &ScenarioSide| -> String {
            let role = role_name(side.config.role);
            if side.kind != SideKind::Builtin {
                format!("the {role} is a {} side", side.kind.name())
            } else if side.has_faults {
                format!("the {role} has faults injected")
            } else if side.document_problem.is_some() || !side.answers {
                format!("the {role} never reaches a call")
            } else {
                super::load::spandsp_can_play(side, other)
                    .err()
                    .unwrap_or_default()
            }
        };
        return Err(format!(
            "spandsp cannot stand in for either side: {}; {}",
            why(&s.caller, &s.answerer),
            why(&s.answerer, &s.caller)
        ));
    };
    let mut s = s.clone();
    match dut {
        Role::Caller => super::load::spandsp_can_play(&s.caller, &s.answerer)?,
        Role::Answerer => super::load::spandsp_can_play(&s.answerer, &s.caller)?,
    }
    let side = match dut {
        Role::Caller => &mut s.caller,
        Role::Answerer => &mut s.answerer,
    };
    side.kind = SideKind::Spandsp;
    if !s.requires.contains(&Requirement::Spandsp) {
        s.requires.push(Requirement::Spandsp);
    }
    Ok(s)
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Caller => "caller",
        Role::Answerer => "answerer",
    }
}

/// A record made by the call layer around the engine (no call, or no result).
fn pipeline_record(s: &Scenario, side: &ScenarioSide, seed: u64, error: &str) -> Record {
    Record {
        status: "FAILED".into(),
        error: error.into(),
        code: 0,
        pages: 0,
        rate: 0,
        modem: String::new(),
        ecm: "no".into(),
        resolution: String::new(),
        coding: String::new(),
        localstationid: side.config.ident.clone(),
        remotestationid: String::new(),
        headerinfo: side.config.header_info.clone(),
        scenario: s.id.clone(),
        seed,
        role: role_name(side.config.role).into(),
        endpoint: side.kind.name().into(),
        duration_s: 0.0,
        limit_reached: false,
        bad_rows: 0,
        ecm_retries: 0,
        trainings: Vec::new(),
        frames: Vec::new(),
        files: Files::default(),
        hook: None,
    }
}

fn side_setup(side: &ScenarioSide) -> SideSetup {
    SideSetup {
        kind: side.kind.clone(),
        config: side.config.clone(),
        pages: side.pages.clone(),
    }
}

/// What one call gave each side: its record (None: never called) and script checks.
struct CallSides {
    /// Whether the pages each side received equal those the other sent (caller, answerer).
    identical: (Option<bool>, Option<bool>),
    caller: Option<Record>,
    answerer: Option<Record>,
    caller_checks: Vec<CheckResult>,
    answerer_checks: Vec<CheckResult>,
}

/// The receiving side's post-processing: its own converter when it has one, which turns
/// the TIFF into the PDF; when the converter fails the record says "PDF Conversion" and the
/// TIFF is what is delivered.
fn post_process(
    dir: &Path,
    stem: &str,
    received: &Received,
    record: &mut Record,
    side: &ScenarioSide,
) -> Result<(), String> {
    write_received(dir, stem, received, record).map_err(|e| e.to_string())?;
    let (Some(cmd), Some(tiff)) = (&side.pdf_command, record.files.tiff.clone()) else {
        return Ok(());
    };
    // The pipeline's own converter replaces ours.
    if let Some(p) = record.files.pdf.take() {
        let _ = std::fs::remove_file(dir.join(p));
    }
    let pdf = format!("{stem}.pdf");
    let cmd = cmd.replace("{tiff}", &tiff).replace("{pdf}", &pdf);
    let ok = std::process::Command::new("sh")
        .arg("-c")
        .arg(&cmd)
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if ok && dir.join(&pdf).is_file() {
        record.files.pdf = Some(pdf);
    } else {
        record.error = PipelineError::PdfConversion.text().into();
    }
    Ok(())
}

fn run_call(s: &Scenario, seed: u64, dir: &Path, opts: &RunOptions) -> Result<CallSides, String> {
    // Document layer: a document that cannot be loaded means no call is placed.
    for side in [&s.caller, &s.answerer] {
        if let Some(p) = &side.document_problem {
            let text = match p {
                DocumentProblem::Loading(_) => PipelineError::DocumentLoading.text(),
                DocumentProblem::Generation(_) => PipelineError::DocumentGeneration.text(),
            };
            let r = pipeline_record(s, side, seed, text);
            return Ok(if side.config.role == Role::Caller {
                CallSides {
                    identical: (None, None),
                    caller: Some(r),
                    answerer: None,
                    caller_checks: Vec::new(),
                    answerer_checks: Vec::new(),
                }
            } else {
                // The answerer cannot prepare its document for polling: it does not take
                // the call; the caller sees a call that is never answered.
                CallSides {
                    identical: (None, None),
                    caller: Some(pipeline_record(
                        s,
                        &s.caller,
                        seed,
                        PipelineError::ConnectionFailed.text(),
                    )),
                    answerer: Some(r),
                    caller_checks: Vec::new(),
                    answerer_checks: Vec::new(),
                }
            });
        }
    }
    // Call layer: the line rings out.
    if !s.answerer.answers {
        return Ok(CallSides {
            identical: (None, None),
            caller: Some(pipeline_record(
                s,
                &s.caller,
                seed,
                PipelineError::ConnectionFailed.text(),
            )),
            answerer: None,
            caller_checks: Vec::new(),
            answerer_checks: Vec::new(),
        });
    }
    let mut setup = SessionSetup::new(side_setup(&s.caller), side_setup(&s.answerer));
    setup.transport = s.transport;
    setup.caller_to_answerer = s.caller_to_answerer.clone();
    setup.answerer_to_caller = s.answerer_to_caller.clone();
    setup.seed = seed;
    setup.limit = match s.interrupt_at {
        Some(t) if t < s.limit => t,
        _ => s.limit,
    };
    setup.scenario = s.id.clone();
    setup.answerer_voice = s.answerer.voice;
    let out = run_session(&setup, dir, opts.wav).map_err(|e| match e {
        SessionError::Setup(m) | SessionError::System(m) => m,
    })?;
    if s.interrupt_at.is_some_and(|t| t < s.limit) {
        // The run was interrupted mid-call: neither record ever completed.
        let lost = PipelineError::LogEntryLost.text();
        return Ok(CallSides {
            identical: (None, None),
            caller: Some(pipeline_record(s, &s.caller, seed, lost)),
            answerer: Some(pipeline_record(s, &s.answerer, seed, lost)),
            caller_checks: Vec::new(),
            answerer_checks: Vec::new(),
        });
    }
    let mut caller = out.caller;
    let mut answerer = out.answerer;
    // With answer supervision the caller knows the far end answered: T0 then means no fax
    // signalling was ever heard on an answered call.
    if s.answer_supervision && caller.code == Completion::T0Expired.code() as u32 {
        caller.error = PipelineError::TransmissionNotEstablished.text().into();
    }
    post_process(
        dir,
        "caller-received",
        &out.caller_received,
        &mut caller,
        &s.caller,
    )?;
    post_process(
        dir,
        "answerer-received",
        &out.answerer_received,
        &mut answerer,
        &s.answerer,
    )?;
    // Coded pages are equal exactly when their pels, size and resolution are.
    let same = |got: &Received, sent: &t30::image::store::Document| {
        Some(!sent.is_empty() && got.pages.as_slice() == sent.pages())
    };
    Ok(CallSides {
        identical: (
            same(&out.caller_received, &s.answerer.pages),
            same(&out.answerer_received, &s.caller.pages),
        ),
        caller: Some(caller),
        answerer: Some(answerer),
        caller_checks: out.caller_checks,
        answerer_checks: out.answerer_checks,
    })
}

fn side_result(
    side: &ScenarioSide,
    record: Option<Record>,
    identical: Option<bool>,
    checks: Vec<CheckResult>,
    dir: &Path,
    on_complete: Option<&String>,
) -> SideResult {
    let role = role_name(side.config.role);
    let mut failures = Vec::new();
    let mut expected = Vec::new();
    match &record {
        Some(r) => {
            failures.extend(side.expect.check(r, identical));
            expected = super::describe::expected_rows(&side.expect, r, identical, &failures);
        }
        None if !side.expect.is_empty() => {
            failures.push("the side was never called, so there is no record to check".into())
        }
        None => {}
    }
    for c in checks.iter().filter(|c| !c.passed) {
        failures.push(format!("step {}: {}: {}", c.step + 1, c.what, c.detail));
    }
    let mut record = record;
    if let Some(r) = record.as_mut() {
        let path = dir.join(format!("{role}.json"));
        let text = serde_json::to_string_pretty(r).expect("records serialise");
        let _ = std::fs::write(&path, text + "\n");
        // The receiver hook runs for a side that received a document, as a fax server's
        // pipeline would for each incoming fax.
        if let Some(cmd) = on_complete
            && r.files.tiff.is_some()
        {
            r.hook = Some(crate::cmd::call::run_hook(cmd, r, dir, &path));
            let text = serde_json::to_string_pretty(r).expect("records serialise");
            let _ = std::fs::write(&path, text + "\n");
        }
    }
    SideResult {
        role: role.into(),
        endpoint: side.kind.name().into(),
        record: record.map(|r| serde_json::to_value(r).expect("records serialise")),
        checks: checks
            .into_iter()
            .map(|c| Check {
                step: c.step,
                what: c.what,
                passed: c.passed,
                detail: c.detail,
            })
            .collect(),
        failures,
        expected,
    }
}

/// Runs every repetition of `s`, with files under `out/<id>/rep<N>/`, and checks every
/// expectation. Never panics on a bad call: a call that cannot run is a failed scenario
/// with the reason.
pub fn run_scenario(s: &Scenario, out: &Path, opts: &RunOptions) -> ScenarioResult {
    let started = Instant::now();
    let variant = variant_name(opts.spandsp_dut);
    let mut result = ScenarioResult::new(&s.id, variant);
    result.description = s.description.clone();
    result.tags = s.tags.clone();
    result.channel = Some(super::describe::channel_words(s));
    let swapped;
    let s = if opts.spandsp_dut {
        match with_spandsp_dut(s) {
            Ok(x) => {
                swapped = x;
                &swapped
            }
            Err(why) => {
                result.status = Status::Skipped;
                result.reason = Some(why);
                return result;
            }
        }
    } else {
        s
    };
    for r in &s.requires {
        if !available(*r) {
            let why = format!("skipped: {}", r.install_hint());
            if system_libs_required() {
                result.status = Status::Failed;
                result.reason = Some(format!("FAXSIM_REQUIRE_SYSTEM_LIBS=1 but {why}"));
                result
                    .failures
                    .push(result.reason.clone().unwrap_or_default());
            } else {
                result.status = Status::Skipped;
                result.reason = Some(why);
            }
            result.wall_s = started.elapsed().as_secs_f64();
            return result;
        }
    }
    let mut passing = 0;
    for rep in 1..=s.repetitions {
        let seed = channel_models::rng::derive_seed(s.seed, &format!("rep{rep}"));
        let rel = if opts.spandsp_dut {
            format!("{}/spandsp/rep{rep}", s.id)
        } else {
            format!("{}/rep{rep}", s.id)
        };
        let dir = out.join(&rel);
        if let Err(e) = std::fs::create_dir_all(&dir) {
            result.reason = Some(format!("{}: {e}", dir.display()));
            result
                .failures
                .push(result.reason.clone().unwrap_or_default());
            break;
        }
        let sides = match run_call(s, seed, &dir, opts) {
            Ok(x) => x,
            Err(m) => {
                result
                    .failures
                    .push(format!("rep {rep}: the call could not run: {m}"));
                result.reason = Some(m);
                continue;
            }
        };
        let call = CallResult {
            repetition: rep,
            seed,
            sides: vec![
                side_result(
                    &s.caller,
                    sides.caller,
                    sides.identical.0,
                    sides.caller_checks,
                    &dir,
                    opts.on_complete.as_ref(),
                ),
                side_result(
                    &s.answerer,
                    sides.answerer,
                    sides.identical.1,
                    sides.answerer_checks,
                    &dir,
                    opts.on_complete.as_ref(),
                ),
            ],
            dir: rel,
        };
        let mut ok = true;
        for side in &call.sides {
            for f in &side.failures {
                ok = false;
                result.failures.push(if s.repetitions > 1 {
                    format!("rep {rep} {}: {f}", side.role)
                } else {
                    format!("{}: {f}", side.role)
                });
            }
        }
        passing += u32::from(ok);
        result.calls.push(call);
    }
    result.status = if passing >= s.min_passing && result.reason.is_none() {
        Status::Passed
    } else {
        Status::Failed
    };
    if result.status == Status::Passed && s.min_passing < s.repetitions {
        // Expected spread: the failures of the other repetitions are noted, not counted.
        result
            .failures
            .iter_mut()
            .for_each(|f| f.insert_str(0, "(tolerated) "));
    }
    result.wall_s = started.elapsed().as_secs_f64();
    result
}
