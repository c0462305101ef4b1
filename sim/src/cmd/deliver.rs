//! `faxsim deliver`: the reference receive pipeline run on existing call output folders.

use std::path::{Path, PathBuf};

use clap::Args;

use super::CliError;
use crate::deliver::{Delivery, DeliveryReport, Pipeline};
use crate::endpoint::Record;

/// Arguments of `faxsim deliver`.
#[derive(Debug, Clone, Args)]
pub struct DeliverArgs {
    /// The delivery configuration (spool, log, backends, routes).
    #[arg(long, value_name = "FILE.toml")]
    pub config: PathBuf,
    /// The receiving side's record of a call (`faxsim call` writes DIR/answerer.json); give it
    /// several times for several calls, delivered in order (the concurrency limit applies).
    #[arg(long, value_name = "DIR/answerer.json", required = true)]
    pub record: Vec<PathBuf>,
    /// The calling number (default: the record's remote station id without spaces).
    #[arg(long, value_name = "NUMBER")]
    pub from: Option<String>,
    /// The dialled number that selects the route (default: the record's local station id
    /// without spaces).
    #[arg(long, value_name = "NUMBER")]
    pub to: Option<String>,
    /// When the call started, seconds since 1970 (default: the record file's modification time
    /// less the call's duration).
    #[arg(long, value_name = "SECONDS")]
    pub epoch: Option<u64>,
}

/// Reads a record file.
pub fn read_record(path: &Path) -> Result<Record, CliError> {
    let bytes =
        std::fs::read(path).map_err(|e| CliError::usage(format!("{}: {e}", path.display())))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| CliError::usage(format!("{}: not an outcome record: {e}", path.display())))
}

/// The call's start: the record file's modification time less the call's duration.
pub fn epoch_of(record: &Record, record_path: &Path) -> u64 {
    let written = std::fs::metadata(record_path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs())
        .unwrap_or(0);
    written.saturating_sub(record.duration_s.ceil() as u64)
}

/// A station id as a number: without spaces.
fn number_of(ident: &str) -> String {
    ident.split_whitespace().collect()
}

/// Delivers one call whose record is `record` (files in `out_dir`) and prints what happened.
pub fn deliver_and_print(
    pipeline: &Pipeline,
    record: &Record,
    out_dir: &Path,
    from: Option<&str>,
    to: Option<&str>,
    epoch: u64,
) -> DeliveryReport {
    let from = from
        .map(str::to_string)
        .unwrap_or_else(|| number_of(&record.remotestationid));
    let to = to
        .map(str::to_string)
        .unwrap_or_else(|| number_of(&record.localstationid));
    let report = pipeline.deliver(&Delivery::new(record, out_dir, &from, &to, epoch));
    for s in &report.steps {
        if !s.ok {
            println!("  {} FAILED: {}", s.step, s.detail);
        }
    }
    println!("{}", report.summary_line());
    report
}

/// Runs `faxsim deliver`. Backend failures are reported, not errors: the exit status is
/// non-zero only for a bad configuration or record.
pub fn run(args: DeliverArgs) -> Result<(), CliError> {
    let pipeline = Pipeline::from_file(&args.config).map_err(|e| CliError::usage(e.0))?;
    let records = args
        .record
        .iter()
        .map(|p| read_record(p).map(|r| (p, r)))
        .collect::<Result<Vec<_>, _>>()?;
    for (path, record) in &records {
        let out_dir = path.parent().unwrap_or(Path::new("."));
        let epoch = args.epoch.unwrap_or_else(|| epoch_of(record, path));
        deliver_and_print(
            &pipeline,
            record,
            out_dir,
            args.from.as_deref(),
            args.to.as_deref(),
            epoch,
        );
    }
    Ok(())
}
