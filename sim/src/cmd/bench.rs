//! `faxsim bench`: CPU time of whole calls, our engine pair against spandsp's pair, measured
//! in one run on the same machine with the same document and channel.
//!
//! Each call runs in this process through [`crate::session::run_session`] (no WAV, no
//! output files beyond the endpoints' own work files), timed with the process CPU clock. The
//! first call of each pair is a warm-up and is not counted. The figure that matters is the
//! ratio: both pairs pay the same simulated channel, so it compares the two engines and
//! their modems.

use std::path::PathBuf;

use clap::Args;
use serde::Serialize;
use t30::SampleTime;
use t30::frame::dis::modem_name::Modem;
use t30::image::store::Document;

use super::CliError;
use super::call::{CallSetup, EndpointKind, session_setup};
use crate::call::ChannelPreset;
use crate::session::{SessionError, SessionSetup, SideKind, run_session};

/// Arguments of `faxsim bench`.
#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// Document to send (default: the fine sample page, repeated to --pages).
    #[arg(long, value_name = "FILE.tif")]
    pub send: Option<PathBuf>,
    /// Pages per call when the default document is used.
    #[arg(long, default_value_t = 3)]
    pub pages: usize,
    /// Timed calls per pair (after one warm-up call).
    #[arg(long, default_value_t = 5)]
    pub calls: u32,
    /// Channel preset (both directions).
    #[arg(long, default_value = "g711-alaw")]
    pub channel: String,
    /// ECM on or off.
    #[arg(long, default_value = "on", value_parser = ["on", "off"])]
    pub ecm: String,
    /// Fast modem: v17, v29 or v27ter.
    #[arg(long, default_value = "v17")]
    pub modem: String,
    /// Only our pair (no spandsp).
    #[arg(long)]
    pub builtin_only: bool,
    /// Write the figures as JSON here too.
    #[arg(long, value_name = "FILE.json")]
    pub json: Option<PathBuf>,
}

/// The figures of one endpoint pair.
#[derive(Debug, Clone, Serialize)]
pub struct PairFigures {
    /// "builtin-builtin" or "spandsp-spandsp".
    pub pair: String,
    /// Timed calls.
    pub calls: u32,
    /// Mean CPU seconds per call.
    pub cpu_s_per_call: f64,
    /// Simulated call length, seconds.
    pub call_s: f64,
    /// Simulated seconds per CPU second.
    pub realtime_factor: f64,
    /// Whether every timed call succeeded on both sides.
    pub all_succeeded: bool,
    /// Our modems' vector path ("baseline" or "avx2", see `modem::simd`); absent for
    /// spandsp's pair.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vector_path: Option<&'static str>,
}

/// The name of our modems' vector path in use.
fn vector_path_name() -> &'static str {
    match modem::simd::vector_path() {
        modem::simd::VectorPath::Baseline => "baseline",
        modem::simd::VectorPath::Avx2 => "avx2",
    }
}

/// The process's CPU time so far, seconds.
fn cpu_seconds() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec we own.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return 0.0;
    }
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

/// The fine sample page (docs/samples/impress-fine.tif), repeated to `pages` pages: the
/// default document of `faxsim bench` and of the whole-call criterion bench.
pub fn sample_document(pages: usize) -> Result<Document, CliError> {
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/samples/impress-fine.tif"
    ));
    load_repeated(&path, pages.max(1))
}

fn load_repeated(path: &std::path::Path, repeat: usize) -> Result<Document, CliError> {
    let pages = crate::docload::load_send_document(path).map_err(CliError::usage)?;
    if pages.is_empty() {
        return Err(CliError::usage(format!("{}: no pages", path.display())));
    }
    Ok(pages
        .pages()
        .iter()
        .cycle()
        .take(pages.len() * repeat)
        .cloned()
        .collect())
}

fn document(args: &BenchArgs) -> Result<Document, CliError> {
    match &args.send {
        Some(p) => load_repeated(p, 1),
        None => sample_document(args.pages),
    }
}

/// The call `faxsim bench` times: `kind` at both ends, `modem` offered alone, ECM as
/// given, MH/MR/MMR, the same `channel` both ways, seed 1.
pub fn bench_session(
    kind: EndpointKind,
    channel: &ChannelPreset,
    modem: Modem,
    ecm: bool,
    pages: &Document,
) -> SessionSetup {
    let setup = CallSetup {
        caller: kind,
        answerer: kind,
        channel: channel.clone(),
        ecm,
        modems: vec![modem],
        codings: super::call::parse_codings("mh,mr,mmr").expect("fixed coding list"),
        seed: 1,
        limit: SampleTime::from_ms(600_000),
    };
    session_setup(&setup, pages)
}

fn measure(
    kind: EndpointKind,
    base: &BenchArgs,
    channel: &ChannelPreset,
    modem: Modem,
    pages: &Document,
) -> Result<PairFigures, CliError> {
    let work = tempfile::tempdir().map_err(|e| CliError::failure(e.to_string()))?;
    let calls = base.calls;
    let session = bench_session(kind, channel, modem, base.ecm == "on", pages);
    let one = || {
        run_session(&session, work.path(), false).map_err(|e| match e {
            SessionError::Setup(m) => CliError::usage(m),
            SessionError::System(m) => CliError::failure(m),
        })
    };
    one()?;
    let mut all_succeeded = true;
    let mut call_s = 0.0;
    let start = cpu_seconds();
    for _ in 0..calls {
        let o = one()?;
        all_succeeded &= o.caller.status == "SUCCESS" && o.answerer.status == "SUCCESS";
        call_s = o.end.end.as_secs_f64();
    }
    let cpu = (cpu_seconds() - start) / calls.max(1) as f64;
    let pair = match session.caller.kind {
        SideKind::Spandsp => "spandsp-spandsp",
        _ => "builtin-builtin",
    };
    Ok(PairFigures {
        pair: pair.into(),
        calls,
        cpu_s_per_call: cpu,
        call_s,
        realtime_factor: if cpu > 0.0 { call_s / cpu } else { 0.0 },
        all_succeeded,
        vector_path: (!matches!(session.caller.kind, SideKind::Spandsp)).then(vector_path_name),
    })
}

/// Runs `faxsim bench`.
pub fn run(args: BenchArgs) -> Result<(), CliError> {
    let pages = document(&args)?;
    let channel = ChannelPreset::from_name(&args.channel)
        .ok_or_else(|| CliError::usage(format!("unknown channel '{}'", args.channel)))?;
    let modem = match args.modem.as_str() {
        "v17" => Modem::V17,
        "v29" => Modem::V29,
        "v27ter" => Modem::V27ter,
        m => {
            return Err(CliError::usage(format!(
                "unknown modem '{m}' (v17, v29, v27ter)"
            )));
        }
    };
    let mut figures = vec![measure(
        EndpointKind::Builtin,
        &args,
        &channel,
        modem,
        &pages,
    )?];
    if !args.builtin_only {
        match spandsp_peer::Spandsp::load() {
            Ok(_) => figures.push(measure(
                EndpointKind::Spandsp,
                &args,
                &channel,
                modem,
                &pages,
            )?),
            Err(e) => {
                if std::env::var("FAXSIM_REQUIRE_SYSTEM_LIBS").as_deref() == Ok("1") {
                    return Err(CliError::failure(e.to_string()));
                }
                println!("skipped spandsp pair: {e} (apt-get install libspandsp2)");
            }
        }
    }
    println!(
        "{} page(s), {} {}, ECM {}, {} timed call(s) per pair; our modems on the {} vector path",
        pages.len(),
        args.modem,
        args.channel,
        args.ecm,
        args.calls,
        vector_path_name()
    );
    println!(
        "{:<16} {:>12} {:>10} {:>12} {:>6}",
        "pair", "CPU s/call", "call s", "x real time", "ok"
    );
    for f in &figures {
        println!(
            "{:<16} {:>12.4} {:>10.1} {:>12.0} {:>6}",
            f.pair,
            f.cpu_s_per_call,
            f.call_s,
            f.realtime_factor,
            if f.all_succeeded { "yes" } else { "NO" }
        );
    }
    if let [ours, theirs] = figures.as_slice() {
        println!(
            "ours / spandsp CPU: {:.2}",
            ours.cpu_s_per_call / theirs.cpu_s_per_call
        );
    }
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&figures).expect("figures serialise");
        std::fs::write(path, text + "\n")
            .map_err(|e| CliError::failure(format!("{}: {e}", path.display())))?;
    }
    Ok(())
}
