//! `faxsim run`: the scenario library, in parallel, with results a CI system and a person
//! both read (one line per scenario, a summary, JSON lines, JUnit XML, HTML).

use std::collections::{BTreeMap, HashSet};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use clap::{Args, ValueEnum};
use reports::{Counts, JournalLine, ScenarioResult, Status};

use super::CliError;
use crate::scenario::runner::{RunOptions, run_scenario, variant_name};
use crate::scenario::{Scenario, load_dir};

/// Which engine `--peer` adds as device under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Peer {
    /// spandsp (the engine inside Asterisk and FreeSWITCH).
    Spandsp,
}

/// Arguments of `faxsim run`.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Scenario files or folders (searched recursively for *.toml).
    #[arg(default_value = "scenarios")]
    pub paths: Vec<PathBuf>,
    /// Only scenarios whose id matches this glob (`*` any run, `?` one character), e.g.
    /// `errors/*`.
    #[arg(long, value_name = "GLOB")]
    pub filter: Option<String>,
    /// Only scenarios with this tag (repeatable: any of them). A tag without `:` also
    /// selects its `tag:…` forms (`--tag error` selects `error:RX_DCNPHD`).
    #[arg(long, value_name = "TAG")]
    pub tag: Vec<String>,
    /// Scenarios run at once (default: every core).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Run only slice K of N (1-based), a stable split by scenario id for CI matrices.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// Also run each scenario with this engine as the device under test, side by side.
    #[arg(long, value_enum)]
    pub peer: Option<Peer>,
    /// Results as JSON lines, appended as each scenario ends, sorted when the run ends.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// JUnit XML.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Self-contained HTML report.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Skip scenarios already finished in this results file (from --json) and append to it
    /// (`--json`, if also given, gets a copy of the final results).
    #[arg(long, value_name = "FILE")]
    pub resume: Option<PathBuf>,
    /// Run this shell command after each call for each side that received (FAXOPT_* and
    /// FAXSIM_* variables, as with `faxsim call --on-complete`).
    #[arg(long, value_name = "CMD")]
    pub on_complete: Option<String>,
    /// Run the reference receive pipeline of this configuration for every receiving side
    /// (see `faxsim deliver`); its concurrency limit counts the scenarios running at once.
    #[arg(long, value_name = "FILE.toml")]
    pub deliver: Option<PathBuf>,
    /// Folder for records, received documents and captures (`<out>/<id>/rep<N>/`).
    #[arg(long, default_value = "faxsim-run")]
    pub out: PathBuf,
    /// Record `call.wav` for every call.
    #[arg(long)]
    pub wav: bool,
    /// Print the selected scenario ids (with their variants) and exit.
    #[arg(long)]
    pub list: bool,
    /// Run every scenario with this master seed instead of its own: whether a pin measured on
    /// one seed holds when only the noise changes (a run per seed shows it).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
}

/// Whether `text` matches `glob` (`*`: any run of characters, `?`: one character).
pub fn glob_match(glob: &str, text: &str) -> bool {
    let g: Vec<char> = glob.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Classic two-pointer match with backtracking to the last `*`.
    let (mut gi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if gi < g.len() && (g[gi] == '?' || g[gi] == t[ti]) {
            gi += 1;
            ti += 1;
        } else if gi < g.len() && g[gi] == '*' {
            star = Some((gi, ti));
            gi += 1;
        } else if let Some((sg, st)) = star {
            gi = sg + 1;
            ti = st + 1;
            star = Some((sg, st + 1));
        } else {
            return false;
        }
    }
    g[gi..].iter().all(|c| *c == '*')
}

/// Parses `K/N` (1 <= K <= N).
pub fn parse_shard(s: &str) -> Result<(u64, u64), String> {
    let bad = || format!("--shard {s}: expected K/N with 1 <= K <= N, e.g. 2/3");
    let (k, n) = s.split_once('/').ok_or_else(bad)?;
    let k: u64 = k.trim().parse().map_err(|_| bad())?;
    let n: u64 = n.trim().parse().map_err(|_| bad())?;
    if n == 0 || k == 0 || k > n {
        return Err(bad());
    }
    Ok((k, n))
}

/// The shard (0-based) a scenario id belongs to among `n`: a hash of the id, so adding a
/// scenario never moves the others.
pub fn shard_of(id: &str, n: u64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        h = (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3);
    }
    h % n
}

/// The scenarios `args` select.
pub fn select(args: &RunArgs) -> Result<Vec<Scenario>, CliError> {
    let all = load_dir(&args.paths).map_err(|errors| {
        // Every bad file on its own line; the last one carries the exit status.
        let n = errors.len();
        for e in &errors[..n - 1] {
            eprintln!("faxsim: {e}");
        }
        CliError::usage(errors[n - 1].to_string())
    })?;
    let shard = args
        .shard
        .as_deref()
        .map(parse_shard)
        .transpose()
        .map_err(CliError::usage)?;
    let chosen: Vec<Scenario> = all
        .into_iter()
        .filter(|s| args.filter.as_ref().is_none_or(|g| glob_match(g, &s.id)))
        .filter(|s| args.tag.is_empty() || args.tag.iter().any(|t| s.has_tag(t)))
        .collect();
    // A filter that matches nothing is a mistake (a typo would pass CI silently); an empty
    // shard of a small selection is not.
    if chosen.is_empty() {
        return Err(CliError::usage(format!(
            "no scenario under {} matches{}{}",
            args.paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            args.filter
                .as_ref()
                .map_or(String::new(), |g| format!(" --filter {g}")),
            args.tag
                .iter()
                .map(|t| format!(" --tag {t}"))
                .collect::<String>()
        )));
    }
    Ok(chosen
        .into_iter()
        .filter(|s| shard.is_none_or(|(k, n)| shard_of(&s.id, n) == k - 1))
        .map(|mut s| {
            if let Some(seed) = args.seed {
                s.seed = seed;
            }
            s
        })
        .collect())
}

/// One line per finished scenario.
pub fn result_line(r: &ScenarioResult) -> String {
    let variant = if r.variant == "builtin" {
        String::new()
    } else {
        format!(" [{} as device under test]", r.variant)
    };
    let calls = if r.calls.len() > 1 {
        let met = r
            .calls
            .iter()
            .filter(|c| c.sides.iter().all(|s| s.failures.is_empty()))
            .count();
        format!(", {met}/{} calls met the expectations", r.calls.len())
    } else {
        String::new()
    };
    match r.status {
        Status::Passed => format!("PASS {}{variant} ({:.1} s{calls})", r.id, r.wall_s),
        Status::Skipped => format!(
            "SKIP {}{variant}: {}",
            r.id,
            r.reason.as_deref().unwrap_or("")
        ),
        Status::Failed if !calls.is_empty() => format!(
            "FAIL {}{variant} ({}): {}",
            r.id,
            calls.trim_start_matches(", "),
            r.message()
        ),
        Status::Failed => format!("FAIL {}{variant}: {}", r.id, r.message()),
        Status::Lost => format!("LOST {}{variant}: {}", r.id, reports::LOG_ENTRY_LOST),
    }
}

/// The summary printed at the end of a run or merge.
pub fn summary(results: &[ScenarioResult]) -> String {
    let mut s = String::new();
    let mut by_variant: BTreeMap<&str, Vec<&ScenarioResult>> = BTreeMap::new();
    for r in results {
        by_variant.entry(&r.variant).or_default().push(r);
    }
    s.push_str("device under test   passed  failed  skipped\n");
    for (v, list) in &by_variant {
        let c = Counts::of(list.iter().copied());
        s.push_str(&format!(
            "{v:<18} {:>7} {:>7} {:>8}\n",
            c.passed, c.failed, c.skipped
        ));
    }
    let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
    for r in results.iter().filter(|r| r.status == Status::Skipped) {
        *reasons
            .entry(r.reason.as_deref().unwrap_or(""))
            .or_default() += 1;
    }
    for (why, n) in reasons {
        s.push_str(&format!("skipped {n}: {why}\n"));
    }
    if by_variant.len() > 1 {
        // Side by side: where the devices under test disagree.
        let mut by_id: BTreeMap<&str, Vec<&ScenarioResult>> = BTreeMap::new();
        for r in results {
            by_id.entry(&r.id).or_default().push(r);
        }
        let mut differ = Vec::new();
        for (id, list) in &by_id {
            let pass: Vec<String> = list
                .iter()
                .filter(|r| r.status != Status::Skipped)
                .map(|r| format!("{} {}", r.variant, r.status.word()))
                .collect();
            let statuses: std::collections::BTreeSet<Status> = list
                .iter()
                .filter(|r| r.status != Status::Skipped)
                .map(|r| r.status)
                .collect();
            if statuses.len() > 1 {
                differ.push(format!("  {id}: {}", pass.join(", ")));
            }
        }
        s.push_str(&format!(
            "devices under test disagree on {} scenarios:\n",
            differ.len()
        ));
        for d in differ {
            s.push_str(&d);
            s.push('\n');
        }
    }
    let failed: Vec<&ScenarioResult> = results.iter().filter(|r| r.status.is_failure()).collect();
    if !failed.is_empty() {
        s.push_str("failed:\n");
        for r in failed {
            s.push_str(&format!("  {}\n", result_line(r)));
        }
    }
    let c = Counts::of(results);
    s.push_str(&format!(
        "{} passed, {} failed, {} skipped\n",
        c.passed, c.failed, c.skipped
    ));
    s
}

fn write_file(path: &Path, text: &str) -> Result<(), CliError> {
    if let Some(d) = path.parent()
        && !d.as_os_str().is_empty()
    {
        std::fs::create_dir_all(d)
            .map_err(|e| CliError::failure(format!("{}: {e}", d.display())))?;
    }
    // Written beside and renamed, so a reader never sees half a report.
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| CliError::failure(format!("{}: {e}", path.display())))
}

/// Writes the reports asked for; the HTML report links to the files under `out` (the run's
/// output folder) that exist.
pub fn write_reports(
    results: &[ScenarioResult],
    json: Option<&Path>,
    junit: Option<&Path>,
    html: Option<&Path>,
    out: Option<&Path>,
) -> Result<(), CliError> {
    if let Some(p) = json {
        write_file(p, &reports::write_journal(results))?;
    }
    if let Some(p) = junit {
        write_file(p, &reports::junit::junit_xml(results))?;
    }
    if let Some(p) = html {
        let opts = reports::html::HtmlOptions {
            title: "faxsim conformance report".into(),
            out_dir: out.map(Path::to_path_buf),
            link_base: out.map_or(String::new(), |o| reports::html::link_base(p, o)),
            thumbnail: Some(page_thumbnail),
        };
        write_file(p, &reports::html::html_report_with(results, &opts))?;
    }
    Ok(())
}

/// Width of a received page's thumbnail in the HTML report, px.
const THUMBNAIL_WIDTH: u32 = 80;

/// The first page of a received TIFF as a small grayscale PNG (each pixel the share of
/// white in the pels it covers, the page's proportions kept); `None` when the file cannot
/// be read.
pub fn page_thumbnail(tiff: &Path) -> Option<Vec<u8>> {
    let bytes = std::fs::read(tiff).ok()?;
    let page = t30::image::tiff::read_tiff(&bytes)
        .ok()?
        .into_iter()
        .next()?;
    let b = &page.bitmap;
    let (w_mm, h_mm) = b.size_mm();
    if b.width() == 0 || b.height() == 0 || w_mm <= 0.0 {
        return None;
    }
    let tw = THUMBNAIL_WIDTH.min(b.width());
    let th = ((tw as f64 * h_mm / w_mm).round() as u32).clamp(1, 4 * tw);
    let mut pixels = Vec::with_capacity((tw.div_ceil(2) * th) as usize);
    for ty in 0..th {
        let y0 = ty * b.height() / th;
        let y1 = ((ty + 1) * b.height() / th).max(y0 + 1);
        for tx in 0..tw {
            let x0 = tx * b.width() / tw;
            let x1 = ((tx + 1) * b.width() / tw).max(x0 + 1);
            let mut black = 0u32;
            for y in y0..y1 {
                for x in x0..x1 {
                    black += u32::from(b.get(x, y));
                }
            }
            let n = (y1 - y0) * (x1 - x0);
            // Darkened so thin strokes still show at this scale; 16 levels (4 bits).
            let ink = (black * 3).min(n);
            let level = (15 - ink * 15 / n) as u8;
            if tx % 2 == 0 {
                pixels.push(level << 4);
            } else if let Some(last) = pixels.last_mut() {
                *last |= level;
            }
        }
    }
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, tw, th);
    enc.set_color(png::ColorType::Grayscale);
    enc.set_depth(png::BitDepth::Four);
    enc.write_header().ok()?.write_image_data(&pixels).ok()?;
    Some(out)
}

/// Reads a results file; a missing file is an error naming it.
pub fn read_results(path: &Path) -> Result<Vec<ScenarioResult>, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::usage(format!("{}: {e}", path.display())))?;
    reports::read_journal(&text).map_err(|e| CliError::usage(format!("{}: {e}", path.display())))
}

struct Journal {
    file: Option<std::fs::File>,
    path: PathBuf,
    error: Option<String>,
}

impl Journal {
    fn append(&mut self, line: &JournalLine) {
        if let Some(f) = self.file.as_mut()
            && let Err(e) = writeln!(f, "{}", line.to_line()).and_then(|()| f.flush())
        {
            self.error
                .get_or_insert(format!("{}: {e}", self.path.display()));
        }
    }
}

/// Runs `faxsim run`; `Ok(true)` when no scenario failed.
pub fn run(args: RunArgs) -> Result<bool, CliError> {
    let scenarios = select(&args)?;
    let pipeline = match &args.deliver {
        Some(p) => Some(crate::deliver::Pipeline::from_file(p).map_err(|e| CliError::usage(e.0))?),
        None => None,
    };
    let clock = crate::deliver::RunClock::now();
    let mut variants = vec![false];
    if args.peer == Some(Peer::Spandsp) {
        variants.push(true);
    }
    let mut work: Vec<(&Scenario, bool)> = scenarios
        .iter()
        .flat_map(|s| variants.iter().map(move |v| (s, *v)))
        .collect();
    if args.list {
        for (s, v) in &work {
            println!("{} {}", s.id, variant_name(*v));
        }
        return Ok(true);
    }
    // Earlier results, when resuming.
    let mut previous: Vec<ScenarioResult> = Vec::new();
    if let Some(p) = &args.resume
        && p.exists()
    {
        let old = read_results(p)?;
        let wanted: HashSet<(String, String)> = work
            .iter()
            .map(|(s, v)| (s.id.clone(), variant_name(*v).to_string()))
            .collect();
        for r in old {
            if !wanted.contains(&r.key()) {
                continue;
            }
            if r.status == Status::Lost {
                println!(
                    "{} (it was running when the previous run stopped); running it again",
                    result_line(&r)
                );
            } else {
                previous.push(r);
            }
        }
        let done: HashSet<(String, String)> = previous.iter().map(|r| r.key()).collect();
        work.retain(|(s, v)| !done.contains(&(s.id.clone(), variant_name(*v).to_string())));
        println!(
            "resuming: {} scenario runs already finished, {} to run",
            done.len(),
            work.len()
        );
    }
    // A resumed run keeps appending to the file it resumes, so a second kill loses nothing
    // either; `--json` then gets a copy at the end.
    let journal_path = args
        .resume
        .clone()
        .or_else(|| args.json.clone())
        .unwrap_or_else(|| args.out.join("results.jsonl"));
    std::fs::create_dir_all(&args.out)
        .map_err(|e| CliError::failure(format!("{}: {e}", args.out.display())))?;
    if let Some(d) = journal_path.parent()
        && !d.as_os_str().is_empty()
    {
        std::fs::create_dir_all(d)
            .map_err(|e| CliError::failure(format!("{}: {e}", d.display())))?;
    }
    let append = args.resume.as_ref() == Some(&journal_path);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(append)
        .write(true)
        .truncate(!append)
        .open(&journal_path)
        .map_err(|e| CliError::failure(format!("{}: {e}", journal_path.display())))?;
    let journal = Mutex::new(Journal {
        file: Some(file),
        path: journal_path.clone(),
        error: None,
    });
    let jobs = args.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.max(1))
        .build()
        .map_err(|e| CliError::failure(format!("cannot start {jobs} workers: {e}")))?;
    let bar = if std::io::stderr().is_terminal() {
        let b = indicatif::ProgressBar::new(work.len() as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} scenarios, {elapsed} elapsed, {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Some(b)
    } else {
        None
    };
    let started = Instant::now();
    let opts_for = |v: bool| RunOptions {
        wav: args.wav,
        spandsp_dut: v,
        on_complete: args.on_complete.clone(),
    };
    let failed = std::sync::atomic::AtomicUsize::new(0);
    // The scenarios that make many calls first, each taken by the next free worker: started
    // last, one of them held the run's wall time to its own (the results are sorted at the end
    // whatever the order).
    work.sort_by_key(|(s, _)| std::cmp::Reverse(s.repetitions));
    let new_results: Vec<ScenarioResult> = pool.install(|| {
        use rayon::prelude::*;
        work.par_iter()
            .with_max_len(1)
            .map(|(s, v)| {
                let variant = variant_name(*v);
                journal
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .append(&JournalLine::start(&s.id, variant));
                let reception = pipeline.as_ref().map(|p| p.answer());
                let r = run_scenario(s, &args.out, &opts_for(*v));
                let deliveries = match (&pipeline, reception) {
                    (Some(p), Some(rx)) => {
                        crate::deliver::deliver_scenario(p, s, &r, &args.out, rx, &clock)
                    }
                    _ => Vec::new(),
                };
                journal
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .append(&JournalLine::Result(Box::new(r.clone())));
                if r.status.is_failure() {
                    failed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                let mut line = result_line(&r);
                for d in &deliveries {
                    line.push_str(&format!("\n  {}", d.summary_line()));
                }
                match &bar {
                    Some(b) => {
                        if r.status != Status::Passed {
                            b.println(&line);
                        }
                        b.set_message(format!(
                            "{} failed",
                            failed.load(std::sync::atomic::Ordering::Relaxed)
                        ));
                        b.inc(1);
                    }
                    None => println!("{line}"),
                }
                r
            })
            .collect()
    });
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let wall = started.elapsed().as_secs_f64();
    let mut journal = journal.into_inner().unwrap_or_else(|p| p.into_inner());
    journal.file = None;
    if let Some(e) = journal.error {
        return Err(CliError::failure(e));
    }
    let mut all = previous;
    all.extend(new_results);
    all.sort_by_key(|r| r.key());
    // The journal becomes the sorted results file; the other reports follow.
    write_reports(
        &all,
        Some(&journal_path),
        args.junit.as_deref(),
        args.html.as_deref(),
        Some(&args.out),
    )?;
    if let Some(j) = &args.json
        && j != &journal_path
    {
        write_reports(&all, Some(j), None, None, None)?;
    }
    print!("{}", summary(&all));
    println!(
        "wall time {wall:.1} s with {jobs} jobs; results in {}",
        journal_path.display()
    );
    Ok(!all.iter().any(|r| r.status.is_failure()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("errors/*", "errors/rx-dcnphd"));
        assert!(glob_match("*dcn*", "errors/rx-dcnphd"));
        assert!(glob_match("errors/rx-dcn??d", "errors/rx-dcnphd"));
        assert!(!glob_match("errors/*", "tsb85/MRGN07"));
        assert!(glob_match("*", ""));
    }

    #[test]
    fn shards() {
        assert_eq!(parse_shard("2/3"), Ok((2, 3)));
        assert!(parse_shard("0/3").is_err());
        assert!(parse_shard("4/3").is_err());
        assert!(parse_shard("x").is_err());
        assert!(shard_of("errors/a", 3) < 3);
    }
}
