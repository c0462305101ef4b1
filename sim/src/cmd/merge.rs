//! `faxsim merge`: joins the results files of shards (or of a run and its resume) into one
//! set of reports.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Args;
use reports::{ScenarioResult, Status};

use super::CliError;
use super::run::{read_results, summary, write_reports};

/// Arguments of `faxsim merge`.
#[derive(Debug, Clone, Args)]
pub struct MergeArgs {
    /// Results files written by `faxsim run --json` (JSON lines).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The merged results as JSON lines.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// JUnit XML.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Self-contained HTML report.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// The runs' output folder (`faxsim run --out`): the HTML report links to the records,
    /// received pages and captures found there.
    #[arg(long, default_value = "faxsim-run")]
    pub out: PathBuf,
}

/// Joins results: one per (scenario, variant); where files disagree, a finished result wins
/// over a lost one, and a later file over an earlier one.
pub fn merge(sets: Vec<Vec<ScenarioResult>>) -> Vec<ScenarioResult> {
    let mut by: BTreeMap<(String, String), ScenarioResult> = BTreeMap::new();
    for set in sets {
        for r in set {
            let keep_old = by
                .get(&r.key())
                .is_some_and(|old| r.status == Status::Lost && old.status != Status::Lost);
            if !keep_old {
                by.insert(r.key(), r);
            }
        }
    }
    by.into_values().collect()
}

/// Runs `faxsim merge`; `Ok(true)` when no merged scenario failed.
pub fn run(args: MergeArgs) -> Result<bool, CliError> {
    let sets = args
        .files
        .iter()
        .map(|f| read_results(f))
        .collect::<Result<Vec<_>, _>>()?;
    let all = merge(sets);
    write_reports(
        &all,
        args.json.as_deref(),
        args.junit.as_deref(),
        args.html.as_deref(),
        Some(&args.out),
    )?;
    print!("{}", summary(&all));
    Ok(!all.iter().any(|r| r.status.is_failure()))
}
