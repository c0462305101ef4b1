//! `faxsim sweep`: many calls per point over a grid of channel and engine parameters, with
//! per-point statistics (CSV, JSON), a resumable per-call journal and an HTML report with
//! charts; or one of the shipped presets.

use std::path::PathBuf;

use clap::Args;
use reports::sweep::SweepResults;

use super::CliError;
use super::call::TransportArg;
use super::run::Peer;
use crate::sweep::presets::{PRESETS, Preset, preset, with_spandsp};
use crate::sweep::run::{RunOptions, SweepError, run_sweep};
use crate::sweep::{Axis, Implementation, SeriesSpec, SweepSpec, TransportName};
use channel_models::chain::ChainSpec;

/// Arguments of `faxsim sweep`.
#[derive(Debug, Clone, Args)]
pub struct SweepArgs {
    /// A varied parameter, KEY=START..END:STEP or KEY=A,B,C (repeatable: a grid). Keys:
    /// loss, jitter_ms, snr_db, noise_dbm0, drift_ppm, redundancy, modem, jitter_buffer.
    #[arg(long, value_name = "KEY=RANGE", allow_hyphen_values = true)]
    pub vary: Vec<String>,
    /// A shipped sweep instead of --vary (`--preset list` lists them).
    #[arg(long, value_name = "NAME")]
    pub preset: Option<String>,
    /// Channel preset the parameters are applied on (both directions); default g711-alaw
    /// for audio, t38-redundancy-3 for T.38.
    #[arg(long)]
    pub channel: Option<String>,
    /// Audio through the channel, or T.38 over its UDPTL leg.
    #[arg(long, value_enum, default_value = "audio")]
    pub transport: TransportArg,
    /// Calls per point (a preset's default otherwise; for the ber preset: thousands of bits
    /// per point).
    #[arg(long)]
    pub calls: Option<u32>,
    /// Pages per call.
    #[arg(long, default_value_t = 1)]
    pub pages: u32,
    /// Calls at once (default: every core).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Master seed; call i of point k uses derive_seed(seed, "k#i").
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Fast modems both ends offer (unless `modem` is varied).
    #[arg(long, default_value = "v17,v29,v27ter")]
    pub modems: String,
    /// ECM offered by both ends.
    #[arg(long, default_value = "on", value_parser = ["on", "off"])]
    pub ecm: String,
    /// Also run every point with spandsp at both ends, side by side.
    #[arg(long, value_enum)]
    pub peer: Option<Peer>,
    /// Output folder: results.csv, results.json, calls.jsonl, report.html, PNG charts.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Continue the sweep in --out: calls already in its journal are not run again.
    #[arg(long)]
    pub resume: bool,
    /// Call time limit in seconds.
    #[arg(long, default_value_t = 300)]
    pub limit_s: u64,
}

fn cli_error(e: SweepError) -> CliError {
    match e {
        SweepError::Usage(m) => CliError::usage(m),
        SweepError::Failure(m) => CliError::failure(m),
    }
}

/// Whether spandsp can be loaded; when it cannot, says so once (and fails under
/// FAXSIM_REQUIRE_SYSTEM_LIBS=1).
fn spandsp_available() -> Result<bool, CliError> {
    match spandsp_peer::Spandsp::load() {
        Ok(_) => Ok(true),
        Err(e) => {
            if std::env::var("FAXSIM_REQUIRE_SYSTEM_LIBS").as_deref() == Ok("1") {
                return Err(CliError::failure(e.to_string()));
            }
            println!("spandsp series skipped: {e} (apt-get install libspandsp2)");
            Ok(false)
        }
    }
}

fn custom_spec(args: &SweepArgs) -> Result<SweepSpec, CliError> {
    if args.vary.is_empty() {
        return Err(CliError::usage(
            "give at least one --vary KEY=START..END:STEP, or --preset NAME (--preset list)",
        ));
    }
    let axes = args
        .vary
        .iter()
        .map(|v| Axis::parse(v))
        .collect::<Result<Vec<_>, _>>()
        .map_err(CliError::usage)?;
    for (i, a) in axes.iter().enumerate() {
        if axes[..i].iter().any(|b| b.key == a.key) {
            return Err(CliError::usage(format!(
                "--vary {}: given twice",
                a.key.name()
            )));
        }
    }
    let transport = match args.transport {
        TransportArg::Audio => TransportName::Audio,
        TransportArg::T38 => TransportName::T38,
    };
    let name = args.channel.as_deref().unwrap_or(match transport {
        TransportName::Audio => "g711-alaw",
        TransportName::T38 => "t38-redundancy-3",
    });
    let channel = ChainSpec::preset(name).ok_or_else(|| {
        CliError::usage(format!(
            "unknown channel '{name}' (one of: {})",
            channel_models::chain::PRESETS.join(", ")
        ))
    })?;
    super::call::parse_modems(&args.modems).map_err(CliError::usage)?;
    Ok(SweepSpec {
        name: "custom".into(),
        description: format!(
            "Calls over '{name}' ({}), varying {}.",
            match transport {
                TransportName::Audio => "audio",
                TransportName::T38 => "T.38",
            },
            args.vary.join(", ")
        ),
        series: vec![SeriesSpec {
            label: "builtin".into(),
            transport,
            channel,
            implementation: Implementation::Builtin,
            fixed: Vec::new(),
        }],
        axes,
        calls: args.calls.unwrap_or(20),
        pages: args.pages,
        seed: args.seed,
        ecm: args.ecm == "on",
        modems: args.modems.clone(),
        limit_s: args.limit_s,
    })
}

fn print_table(r: &SweepResults) {
    let mut head = format!("{:<24}", "series");
    for a in &r.axes {
        head.push_str(&format!(" {a:>12}"));
    }
    println!(
        "{head} {:>6} {:>8} {:>15} {:>8} {:>8}  most common failure",
        "calls", "success", "95 % CI", "s/page", "PPR"
    );
    for p in &r.points {
        let s = &p.summary;
        let mut line = format!("{:<24}", p.series);
        for v in &p.values {
            line.push_str(&format!(" {v:>12}"));
        }
        println!(
            "{line} {:>6} {:>7.1}% {:>6.1}%–{:>5.1}% {:>8} {:>8.2}  {}",
            s.calls,
            s.success_rate * 100.0,
            s.ci_low * 100.0,
            s.ci_high * 100.0,
            s.time_per_page_mean_s
                .map(|t| format!("{t:.1}"))
                .unwrap_or("-".into()),
            s.ppr_mean,
            s.top_failure
        );
    }
}

/// Runs `faxsim sweep`.
pub fn run(args: SweepArgs) -> Result<(), CliError> {
    if args.preset.as_deref() == Some("list") {
        for (name, what) in PRESETS {
            println!("{name:<8} {what}");
        }
        return Ok(());
    }
    if args.preset.is_some() && !args.vary.is_empty() {
        return Err(CliError::usage("give --preset or --vary, not both"));
    }
    let out = args
        .out
        .clone()
        .ok_or_else(|| CliError::usage("--out DIR is required"))?;
    let jobs = args.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let mut spec = match &args.preset {
        Some(name) => match preset(name, args.calls, args.seed) {
            Some(Preset::Calls(s)) => s,
            Some(Preset::Ber(mut b)) => {
                b.peer = spandsp_available()?;
                let lines = crate::sweep::ber::run_ber(&b, &out, jobs).map_err(cli_error)?;
                for l in lines {
                    println!("{l}");
                }
                println!("report: {}", out.join("report.html").display());
                return Ok(());
            }
            None => {
                return Err(CliError::usage(format!(
                    "unknown preset '{name}' (one of: {}, list)",
                    PRESETS.iter().map(|p| p.0).collect::<Vec<_>>().join(", ")
                )));
            }
        },
        None => custom_spec(&args)?,
    };
    if args.peer == Some(Peer::Spandsp) && spandsp_available()? {
        spec = with_spandsp(spec);
    }
    if spec.calls == 0 {
        return Err(CliError::usage("--calls must be at least 1"));
    }
    let summary = run_sweep(
        &spec,
        &RunOptions {
            out: out.clone(),
            jobs,
            resume: args.resume,
            progress: true,
        },
    )
    .map_err(cli_error)?;
    let r = &summary.results;
    let write = |name: &str, text: String| {
        let p = out.join(name);
        std::fs::write(&p, text).map_err(|e| CliError::failure(format!("{}: {e}", p.display())))
    };
    write("results.csv", r.csv())?;
    write(
        "results.json",
        serde_json::to_string_pretty(r).expect("results serialise") + "\n",
    )?;
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    crate::sweep::report::write_report(&out, &spec, r, &command).map_err(CliError::failure)?;
    print_table(r);
    for line in crate::sweep::report::field_comparison(&spec, r) {
        println!("{line}");
    }
    let minutes = summary.wall_s / 60.0;
    println!(
        "{} calls run ({} already in the journal) in {:.1} s with {jobs} jobs: {:.0} calls per minute; report: {}",
        summary.calls_run,
        summary.calls_resumed,
        summary.wall_s,
        if minutes > 0.0 {
            summary.calls_run as f64 / minutes
        } else {
            0.0
        },
        out.join("report.html").display()
    );
    Ok(())
}
