//! Reports: scenario results as a journal of JSON lines, JUnit XML, and a self-contained HTML
//! page.
//!
//! A run appends one [`JournalLine::Start`] when a scenario starts and one
//! [`JournalLine::Result`] when it ends, so a run killed half-way loses nothing finished, and
//! a scenario that was running is read back as "Log entry lost" instead of vanishing:
//!
//! ```
//! use reports::{JournalLine, ScenarioResult, Status, read_journal};
//! let mut r = ScenarioResult::new("errors/x", "builtin");
//! r.status = Status::Passed;
//! let text = format!(
//!     "{}\n{}\n{}\n",
//!     JournalLine::start("errors/x", "builtin").to_line(),
//!     JournalLine::Result(Box::new(r)).to_line(),
//!     JournalLine::start("errors/y", "builtin").to_line(),
//! );
//! let results = read_journal(&text).unwrap();
//! assert_eq!(results[1].status, Status::Lost);
//! assert_eq!(results[1].failures[0], "Log entry lost");
//! ```
#![warn(missing_docs)]

pub mod chart;
pub mod html;
pub mod junit;
pub mod ladder;
pub mod sweep;

use serde::{Deserialize, Serialize};

/// The exact string reported for a scenario whose record never completed.
pub const LOG_ENTRY_LOST: &str = "Log entry lost";

/// How a scenario ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Every expectation held.
    Passed,
    /// At least one expectation failed, or the scenario could not run.
    Failed,
    /// Not run (a system part is missing), with a reason.
    Skipped,
    /// Started but its result never arrived (run killed): "Log entry lost".
    Lost,
}

impl Status {
    /// Lower-case word.
    pub fn word(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
            Status::Lost => "lost",
        }
    }

    /// Whether this counts against the run (exit status 1).
    pub fn is_failure(self) -> bool {
        matches!(self, Status::Failed | Status::Lost)
    }
}

/// One script check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// Step index.
    pub step: usize,
    /// What was checked.
    pub what: String,
    /// Whether it held.
    pub passed: bool,
    /// What was seen.
    pub detail: String,
}

/// One side of one call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SideResult {
    /// "caller" or "answerer".
    pub role: String,
    /// "builtin", "spandsp", "script", "replay".
    pub endpoint: String,
    /// The outcome record (FAXOPT fields and faxsim's own); absent when the side was never
    /// called.
    pub record: Option<serde_json::Value>,
    /// Script checks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<Check>,
    /// Expectations that did not hold, as "key: expected X, got Y".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<String>,
    /// Every expectation of this side with what came (the report's table).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expected: Vec<Expected>,
}

/// One expectation of one side and what the record said.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Expected {
    /// The expectation key (`status`, `error`, `frames_tx`, …).
    pub key: String,
    /// What was expected, as written.
    pub expected: String,
    /// What came.
    pub actual: String,
    /// Whether it held.
    pub passed: bool,
}

/// A scenario's channel in words: what each direction's signal crosses.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChannelWords {
    /// "audio" or "t38".
    pub transport: String,
    /// The caller's signal on its way to the answerer, stage by stage.
    #[serde(default)]
    pub caller_to_answerer: Vec<String>,
    /// The answerer's signal on its way to the caller, stage by stage.
    #[serde(default)]
    pub answerer_to_caller: Vec<String>,
}

/// One call (one repetition) of a scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallResult {
    /// Repetition number (1-based).
    pub repetition: u32,
    /// The call's seed.
    pub seed: u64,
    /// Caller, then answerer.
    pub sides: Vec<SideResult>,
    /// Where the call's files are, relative to the output folder.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub dir: String,
}

/// The result of one scenario in one variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioResult {
    /// Scenario id (path under `scenarios/` without `.toml`).
    pub id: String,
    /// "builtin" for the scenario as written, "spandsp" when spandsp was the device under
    /// test (`--peer spandsp`).
    pub variant: String,
    /// What the scenario shows.
    #[serde(default)]
    pub description: String,
    /// Its tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The outcome.
    pub status: Status,
    /// Why it was skipped, or why it failed without a call (setup error).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Every failed expectation, prefixed with the repetition and side.
    #[serde(default)]
    pub failures: Vec<String>,
    /// The calls.
    #[serde(default)]
    pub calls: Vec<CallResult>,
    /// Wall-clock seconds the scenario took (a timing field, not compared).
    #[serde(default)]
    pub wall_s: f64,
    /// The channel in words (absent in results written before it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<ChannelWords>,
}

impl ScenarioResult {
    /// An empty (failed, no calls) result for `id` in `variant`.
    pub fn new(id: &str, variant: &str) -> ScenarioResult {
        ScenarioResult {
            id: id.into(),
            variant: variant.into(),
            description: String::new(),
            tags: Vec::new(),
            status: Status::Failed,
            reason: None,
            failures: Vec::new(),
            calls: Vec::new(),
            wall_s: 0.0,
            channel: None,
        }
    }

    /// The folder part of the id.
    pub fn folder(&self) -> &str {
        self.id.rsplit_once('/').map_or("", |(f, _)| f)
    }

    /// The key results are merged on: id and variant.
    pub fn key(&self) -> (String, String) {
        (self.id.clone(), self.variant.clone())
    }

    /// "expected vs got" in one paragraph (JUnit failure message).
    pub fn message(&self) -> String {
        if !self.failures.is_empty() {
            self.failures.join("; ")
        } else {
            self.reason.clone().unwrap_or_default()
        }
    }
}

/// One line of a results journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "lowercase")]
pub enum JournalLine {
    /// A scenario started.
    Start {
        /// Its id.
        id: String,
        /// Its variant.
        variant: String,
    },
    /// A scenario ended.
    Result(Box<ScenarioResult>),
}

impl JournalLine {
    /// A start line.
    pub fn start(id: &str, variant: &str) -> JournalLine {
        JournalLine::Start {
            id: id.into(),
            variant: variant.into(),
        }
    }

    /// The line as JSON, without the newline.
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).expect("results serialise")
    }
}

/// Why a journal cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct JournalError {
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Reads a journal: the last result of every (id, variant), and a "Log entry lost" result
/// for every scenario started without a result after it. A final line cut short by a kill
/// (no newline, not JSON) is treated as never written. Sorted by id, then variant.
pub fn read_journal(text: &str) -> Result<Vec<ScenarioResult>, JournalError> {
    use std::collections::BTreeMap;
    let mut results: BTreeMap<(String, String), ScenarioResult> = BTreeMap::new();
    let mut started: BTreeMap<(String, String), bool> = BTreeMap::new();
    let complete = text.ends_with('\n');
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let parsed: JournalLine = match serde_json::from_str(line) {
            Ok(p) => p,
            Err(_) if i + 1 == lines.len() && !complete => break,
            Err(e) => {
                return Err(JournalError {
                    line: i + 1,
                    message: e.to_string(),
                });
            }
        };
        match parsed {
            JournalLine::Start { id, variant } => {
                started.insert((id, variant), true);
            }
            JournalLine::Result(r) => {
                started.insert(r.key(), false);
                results.insert(r.key(), *r);
            }
        }
    }
    for (key, open) in started {
        if open && !results.contains_key(&key) {
            let mut r = ScenarioResult::new(&key.0, &key.1);
            r.status = Status::Lost;
            r.reason = Some("the run stopped while this scenario was running".into());
            r.failures = vec![LOG_ENTRY_LOST.into()];
            results.insert(key, r);
        }
    }
    Ok(results.into_values().collect())
}

/// The results as a finished journal: result lines only, in order.
pub fn write_journal(results: &[ScenarioResult]) -> String {
    let mut s = String::new();
    for r in results {
        s.push_str(&JournalLine::Result(Box::new(r.clone())).to_line());
        s.push('\n');
    }
    s
}

/// Counts by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Passed.
    pub passed: usize,
    /// Failed (lost included).
    pub failed: usize,
    /// Skipped.
    pub skipped: usize,
}

impl Counts {
    /// Counts of `results`.
    pub fn of<'a>(results: impl IntoIterator<Item = &'a ScenarioResult>) -> Counts {
        let mut c = Counts::default();
        for r in results {
            match r.status {
                Status::Passed => c.passed += 1,
                Status::Failed | Status::Lost => c.failed += 1,
                Status::Skipped => c.skipped += 1,
            }
        }
        c
    }
}
