//! The scenario library: TOML files that each describe one call (or a few repetitions of
//! it) and what each side must report, parsed strictly and run in parallel.
//!
//! ```no_run
//! use sim::scenario::{load_scenario, run_scenario, RunOptions};
//! let s = load_scenario(std::path::Path::new("scenarios/errors/rx-dcnphd.toml")).unwrap();
//! let result = run_scenario(&s, std::path::Path::new("out"), &RunOptions::default());
//! println!("{} {:?}", result.id, result.status);
//! ```
//!
//! The schema is documented key by key in `scenarios/README.md`. Every error names the file,
//! the key and the line.

pub mod describe;
pub mod expect;
pub mod load;
pub mod runner;
pub mod spec;

use std::fmt;
use std::path::PathBuf;

use channel_models::chain::ChainSpec;
use t30::SampleTime;
use t30::engine::{Config, Role};
use t30::image::store::Document;

use crate::session::{SideKind, Transport};

pub use expect::Expectation;
pub use load::{load_dir, load_scenario};
pub use runner::{RunOptions, run_scenario};
pub use spec::Requirement;

/// A scenario file that cannot be used: where and why, on one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file.
    pub file: PathBuf,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// The key concerned, when known (dotted path such as `caller.expect.error`).
    pub key: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
        }
        if let Some(k) = &self.key {
            write!(f, ": key `{k}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ScenarioError {}

/// What a document given to a side turned into.
#[derive(Debug, Clone, PartialEq)]
pub enum DocumentProblem {
    /// The file is missing or unreadable ("Document loading error.").
    Loading(String),
    /// The file is not a usable image ("Document generation error").
    Generation(String),
}

/// One side of a scenario, resolved.
#[derive(Debug, Clone)]
pub struct ScenarioSide {
    /// The implementation.
    pub kind: SideKind,
    /// The engine configuration (role included).
    pub config: Config,
    /// The pages it sends, held coded.
    pub pages: Document,
    /// A document that could not be loaded, when the scenario expects exactly that.
    pub document_problem: Option<DocumentProblem>,
    /// Answerer: whether it answers the call.
    pub answers: bool,
    /// Receiving side: command turning the received TIFF into PDF.
    pub pdf_command: Option<String>,
    /// Answerer: answers as voice first.
    pub voice: Option<crate::endpoint::voice::VoiceAnswer>,
    /// The side's telephone number (the ident without spaces unless the scenario gives one).
    pub number: String,
    /// What this side must report.
    pub expect: Expectation,
    /// Whether fault injection is configured (such a side cannot be swapped for spandsp).
    pub has_faults: bool,
}

/// A scenario file, parsed and resolved: ready to run.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Path under `scenarios/` without `.toml` (e.g. `errors/rx-dcnphd`).
    pub id: String,
    /// The file.
    pub path: PathBuf,
    /// What it shows.
    pub description: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Master seed.
    pub seed: u64,
    /// Calls made.
    pub repetitions: u32,
    /// Repetitions that must meet every expectation.
    pub min_passing: u32,
    /// Audio or T.38.
    pub transport: Transport,
    /// Call time limit.
    pub limit: SampleTime,
    /// System parts needed (declared or implied by the sides and chains).
    pub requires: Vec<Requirement>,
    /// The call layer knows when the far end answered.
    pub answer_supervision: bool,
    /// Interrupt the run this far into the call.
    pub interrupt_at: Option<SampleTime>,
    /// The device under test, for `--peer spandsp` (None: no side can be swapped).
    pub dut: Option<Role>,
    /// What the caller's signal crosses.
    pub caller_to_answerer: ChainSpec,
    /// What the answerer's signal crosses.
    pub answerer_to_caller: ChainSpec,
    /// The calling side.
    pub caller: ScenarioSide,
    /// The answering side.
    pub answerer: ScenarioSide,
}

impl Scenario {
    /// The folder part of the id (`errors`, `tsb85`, …), empty at top level.
    pub fn folder(&self) -> &str {
        self.id.rsplit_once('/').map_or("", |(f, _)| f)
    }

    /// Whether the scenario carries this tag (exact match, or the part before `:` when the
    /// tag given has no `:`, so `--tag error` selects every `error:…`).
    pub fn has_tag(&self, tag: &str) -> bool {
        self.tags.iter().any(|t| {
            t == tag || (!tag.contains(':') && t.split_once(':').is_some_and(|(a, _)| a == tag))
        })
    }
}
