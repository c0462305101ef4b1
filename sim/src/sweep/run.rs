//! Running a sweep: the calls in parallel, one journal line per call as it ends, and the
//! per-point statistics read back from the journal.
//!
//! `DIR/sweep.json` holds the sweep's definition; `DIR/calls.jsonl` the calls. Resuming
//! checks the definition is the same, skips every call already in the journal and appends
//! the rest, so a sweep killed at any moment loses at most the calls that were running.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use channel_models::rng::derive_seed;
use reports::sweep::{CallLine, PointResult, PointStats, SweepResults};
use t30::SampleTime;
use t30::image::store::{CodedPage, Document};
use t30::image::testpage::{TestPageKind, TestPageOptions, make_test_page};

use super::{Implementation, Point, SweepSpec, apply};
use crate::call::ChannelPreset;
use crate::cmd::call::{CallSetup, EndpointKind, parse_codings, parse_modems, session_setup};
use crate::session::{SessionError, SessionOutput, run_session};

/// The journal's file name in the output folder.
pub const JOURNAL: &str = "calls.jsonl";
/// The definition's file name in the output folder.
pub const DEFINITION: &str = "sweep.json";

/// Why a sweep stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SweepError {
    /// Bad definition or a resume that does not match (exit 2).
    #[error("{0}")]
    Usage(String),
    /// Something unavailable or unwritable (exit 1).
    #[error("{0}")]
    Failure(String),
}

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Output folder.
    pub out: PathBuf,
    /// Calls at once.
    pub jobs: usize,
    /// Continue the journal in `out` instead of starting over.
    pub resume: bool,
    /// Print progress (a bar on a terminal).
    pub progress: bool,
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct RunSummary {
    /// The statistics.
    pub results: SweepResults,
    /// Calls run now.
    pub calls_run: u64,
    /// Calls found finished in the journal.
    pub calls_resumed: u64,
    /// Wall seconds.
    pub wall_s: f64,
}

/// The document each call sends: `pages` ITU-style text test pages (standard resolution).
pub fn document(pages: u32) -> Result<Document, SweepError> {
    (0..pages.max(1))
        .map(|i| {
            make_test_page(TestPageKind::Impress, i, &TestPageOptions::default())
                .map(|p| CodedPage::from_bitmap(&p.bitmap))
                .map_err(|e| SweepError::Failure(format!("test page: {e}")))
        })
        .collect()
}

/// One call's line from its session output.
pub fn call_line(point: &str, call: u32, seed: u64, o: &SessionOutput, pages: u32) -> CallLine {
    let (c, a) = (&o.caller, &o.answerer);
    let success = c.status == "SUCCESS" && a.status == "SUCCESS";
    let error = if c.status != "SUCCESS" || a.status == "SUCCESS" {
        c.error.clone()
    } else {
        a.error.clone()
    };
    let duration_s = c.duration_s.max(a.duration_s);
    CallLine {
        point: point.into(),
        call,
        seed,
        success,
        error,
        pages: a.pages,
        duration_s,
        time_per_page_s: success.then(|| duration_s / f64::from(pages.max(1))),
        retrains: c.trainings.len().saturating_sub(1) as u32,
        ppr: c.ecm_retries,
        rate: c.rate,
        modem: c.modem.clone(),
    }
}

/// The seed of call `call` of point number `point`.
pub fn call_seed(master: u64, point: usize, call: u32) -> u64 {
    derive_seed(master, &format!("{point}#{call}"))
}

fn fail(p: &Path, e: impl std::fmt::Display) -> SweepError {
    SweepError::Failure(format!("{}: {e}", p.display()))
}

/// Calls already in the journal, by (point key, call). Unreadable lines (the half-written
/// last line of a killed run) are skipped.
fn finished(journal: &Path) -> Result<HashSet<(String, u32)>, SweepError> {
    let mut done = HashSet::new();
    let Ok(f) = std::fs::File::open(journal) else {
        return Ok(done);
    };
    for line in std::io::BufReader::new(f).lines() {
        let line = line.map_err(|e| fail(journal, e))?;
        if let Ok(c) = serde_json::from_str::<CallLine>(&line) {
            done.insert((c.point, c.call));
        }
    }
    Ok(done)
}

/// Checks or writes the definition file.
fn definition(spec: &SweepSpec, out: &Path, resume: bool) -> Result<(), SweepError> {
    let path = out.join(DEFINITION);
    let text = serde_json::to_string_pretty(spec).expect("specs serialise") + "\n";
    if resume && path.exists() {
        let old = std::fs::read_to_string(&path).map_err(|e| fail(&path, e))?;
        let old: SweepSpec = serde_json::from_str(&old)
            .map_err(|e| SweepError::Usage(format!("{}: {e}", path.display())))?;
        // The number of calls may grow on resume; everything else must match.
        let mut same = old.clone();
        same.calls = spec.calls;
        if &same != spec {
            return Err(SweepError::Usage(format!(
                "{}: a different sweep is there (parameters, series or seed differ); use another --out or leave out --resume",
                path.display()
            )));
        }
    }
    std::fs::write(&path, text).map_err(|e| fail(&path, e))
}

struct Journal {
    file: std::io::BufWriter<std::fs::File>,
    error: Option<String>,
}

/// Runs `spec` into `opts.out`.
pub fn run_sweep(spec: &SweepSpec, opts: &RunOptions) -> Result<RunSummary, SweepError> {
    let started = std::time::Instant::now();
    let points = spec.points();
    // Every point's setup first, so a bad parameter stops the sweep before any call.
    let mut setups = Vec::with_capacity(points.len());
    let pages = document(spec.pages)?;
    for p in &points {
        setups.push(point_setup(spec, p, &pages)?);
    }
    std::fs::create_dir_all(&opts.out).map_err(|e| fail(&opts.out, e))?;
    definition(spec, &opts.out, opts.resume)?;
    let journal_path = opts.out.join(JOURNAL);
    let done = if opts.resume {
        finished(&journal_path)?
    } else {
        HashSet::new()
    };
    // A killed run can leave half a line: start on a fresh one.
    let needs_newline = opts.resume
        && std::fs::read(&journal_path)
            .ok()
            .is_some_and(|b| b.last().is_some_and(|&c| c != b'\n'));
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(opts.resume)
        .write(true)
        .truncate(!opts.resume)
        .open(&journal_path)
        .map_err(|e| fail(&journal_path, e))?;
    let mut writer = std::io::BufWriter::new(file);
    if needs_newline {
        writeln!(writer).map_err(|e| fail(&journal_path, e))?;
    }
    let journal = Mutex::new(Journal {
        file: writer,
        error: None,
    });
    let work: Vec<(usize, u32)> = points
        .iter()
        .enumerate()
        .flat_map(|(i, p)| {
            let done = &done;
            (0..spec.calls)
                .filter(move |c| !done.contains(&(p.key.clone(), *c)))
                .map(move |c| (i, c))
        })
        .collect();
    let resumed = points.len() as u64 * u64::from(spec.calls) - work.len() as u64;
    if opts.progress && opts.resume {
        eprintln!(
            "resuming: {resumed} calls already in {}, {} to run",
            journal_path.display(),
            work.len()
        );
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.jobs.max(1))
        .build()
        .map_err(|e| SweepError::Failure(format!("cannot start {} workers: {e}", opts.jobs)))?;
    let bar = (opts.progress && std::io::stderr().is_terminal()).then(|| {
        let b = indicatif::ProgressBar::new(work.len() as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} calls, {elapsed} elapsed, eta {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });
    let work_dir = tempfile::tempdir().map_err(|e| SweepError::Failure(e.to_string()))?;
    let ran = AtomicU64::new(0);
    pool.install(|| {
        use rayon::prelude::*;
        work.par_iter().try_for_each(|&(i, call)| {
            let point = &points[i];
            let mut session = setups[i].clone();
            session.seed = call_seed(spec.seed, i, call);
            // Each worker thread its own folder for the endpoints' work files.
            let dir = work_dir
                .path()
                .join(rayon::current_thread_index().unwrap_or(0).to_string());
            std::fs::create_dir_all(&dir).map_err(|e| fail(&dir, e))?;
            let o = run_session(&session, &dir, false).map_err(|e| match e {
                SessionError::Setup(m) => SweepError::Usage(format!("{}: {m}", point.key)),
                SessionError::System(m) => SweepError::Failure(format!("{}: {m}", point.key)),
            })?;
            let line = call_line(&point.key, call, session.seed, &o, spec.pages);
            let mut j = journal.lock().unwrap_or_else(|p| p.into_inner());
            if let Err(e) = writeln!(j.file, "{}", line.to_line()).and_then(|()| j.file.flush()) {
                j.error
                    .get_or_insert(format!("{}: {e}", journal_path.display()));
            }
            drop(j);
            ran.fetch_add(1, Ordering::Relaxed);
            if let Some(b) = &bar {
                b.inc(1);
            }
            Ok::<(), SweepError>(())
        })
    })?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let j = journal.into_inner().unwrap_or_else(|p| p.into_inner());
    if let Some(e) = j.error {
        return Err(SweepError::Failure(e));
    }
    drop(j);
    let results = collect(spec, &points, &journal_path)?;
    Ok(RunSummary {
        results,
        calls_run: ran.load(Ordering::Relaxed),
        calls_resumed: resumed,
        wall_s: started.elapsed().as_secs_f64(),
    })
}

/// The session of one point (seed set per call).
fn point_setup(
    spec: &SweepSpec,
    p: &Point,
    pages: &Document,
) -> Result<crate::session::SessionSetup, SweepError> {
    let series = &spec.series[p.series];
    let mut params = series.fixed.clone();
    params.extend(
        spec.axes
            .iter()
            .zip(&p.values)
            .map(|(a, v)| (a.key, v.clone())),
    );
    let applied = apply(series, &params).map_err(SweepError::Usage)?;
    let kind = match series.implementation {
        Implementation::Builtin => EndpointKind::Builtin,
        Implementation::Spandsp => EndpointKind::Spandsp,
    };
    let modems = match applied.modem {
        Some(m) => vec![m],
        None => parse_modems(&spec.modems).map_err(SweepError::Usage)?,
    };
    let setup = CallSetup {
        caller: kind,
        answerer: kind,
        channel: ChannelPreset {
            spec: applied.channel,
        },
        ecm: spec.ecm,
        modems,
        codings: parse_codings("mh,mr,mmr").map_err(SweepError::Usage)?,
        seed: spec.seed,
        limit: SampleTime::from_ms(spec.limit_s.saturating_mul(1000)),
    };
    let mut s = session_setup(&setup, pages);
    s.transport = series.transport.transport();
    s.scenario = format!("sweep/{}", p.key);
    Ok(s)
}

/// Reads the journal once, line by line, into each point's statistics.
pub fn collect(
    spec: &SweepSpec,
    points: &[Point],
    journal: &Path,
) -> Result<SweepResults, SweepError> {
    let index: HashMap<&str, usize> = points
        .iter()
        .enumerate()
        .map(|(i, p)| (p.key.as_str(), i))
        .collect();
    let mut stats = vec![PointStats::default(); points.len()];
    let mut seen: HashSet<(usize, u32)> = HashSet::new();
    let f = std::fs::File::open(journal).map_err(|e| fail(journal, e))?;
    for line in std::io::BufReader::new(f).lines() {
        let line = line.map_err(|e| fail(journal, e))?;
        let Ok(c) = serde_json::from_str::<CallLine>(&line) else {
            continue;
        };
        if let Some(&i) = index.get(c.point.as_str())
            && c.call < spec.calls
            && seen.insert((i, c.call))
        {
            stats[i].add(&c);
        }
    }
    Ok(SweepResults {
        name: spec.name.clone(),
        description: spec.description.clone(),
        axes: spec.axes.iter().map(|a| a.key.name().to_string()).collect(),
        calls_per_point: spec.calls,
        pages: spec.pages,
        seed: spec.seed,
        points: points
            .iter()
            .zip(stats)
            .map(|(p, s)| PointResult {
                key: p.key.clone(),
                series: spec.series[p.series].label.clone(),
                values: p.values.iter().map(|v| v.text()).collect(),
                summary: s.summary(),
            })
            .collect(),
    })
}
