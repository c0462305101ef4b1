//! One call between two configured sides, from setup to records and received documents.
//!
//! [`SessionSetup`] says who is at each end (kind, engine configuration, document), what
//! stands between them (one chain per direction, over audio or T.38) and for how long;
//! [`run_session`] builds the endpoints, runs the call with [`crate::call::run_call`],
//! optionally records `call.wav`, and returns both sides' records and the pages each side
//! received. [`write_received`] turns received pages into the files a fax server keeps.
//! `faxsim call`, the scenario runner and sweeps all go through here.
//!
//! ```no_run
//! use sim::session::{SessionSetup, SideSetup, run_session};
//! use t30::engine::Role;
//! let setup = SessionSetup::new(SideSetup::builtin(Role::Caller), SideSetup::builtin(Role::Answerer));
//! let out = run_session(&setup, std::path::Path::new("out"), true).unwrap();
//! println!("{}", out.caller.summary_line());
//! ```

use std::path::Path;

use channel_models::chain::ChainSpec;
use t30::SampleTime;
use t30::engine::codec::{BitmapDocument, DecodingSink, ReceivedPages};
use t30::engine::{Config, DocumentSource, Role};
use t30::image::Bitmap;
use t30::image::pdf::{PdfPage, write_pdf};
use t30::image::tiff::{PageDamage, TiffWriteOptions, write_tiff};

use crate::call::{CallEnd, Chain, ChannelPreset, run_call};
use crate::endpoint::builtin::Builtin;
use crate::endpoint::replay::ReplayEndpoint;
use crate::endpoint::script::{CheckResult, ScriptEndpoint, Step};
use crate::endpoint::spandsp::SpandspEndpoint;
use crate::endpoint::{Endpoint, EndpointOutcome, Record};
use crate::wav::StereoWavWriter;

/// How the two sides are connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Transport {
    /// Audio through the channel chains.
    #[default]
    Audio,
    /// T.38 (IFP over UDPTL) through the chains' T.38 legs.
    T38,
}

impl Transport {
    /// "audio" or "t38".
    pub fn name(self) -> &'static str {
        match self {
            Transport::Audio => "audio",
            Transport::T38 => "t38",
        }
    }
}

/// Which implementation sits at one end.
#[derive(Debug, Clone, PartialEq)]
pub enum SideKind {
    /// Our T.30 engine with our modems (or our IFP adapter over T.38).
    Builtin,
    /// spandsp's fax terminal, loaded at run time.
    Spandsp,
    /// A scripted tester (config.role gives its role; the rest of config is unused).
    Script(Vec<Step>),
    /// One channel of a recorded call played back; what it receives is ignored.
    Replay {
        /// The WAV file.
        path: std::path::PathBuf,
        /// Channel (0 = left, the caller in faxsim's captures).
        channel: u16,
    },
}

impl SideKind {
    /// The name records use.
    pub fn name(&self) -> &'static str {
        match self {
            SideKind::Builtin => "builtin",
            SideKind::Spandsp => "spandsp",
            SideKind::Script(_) => "script",
            SideKind::Replay { .. } => "replay",
        }
    }
}

/// One end of a call.
#[derive(Debug, Clone)]
pub struct SideSetup {
    /// The implementation.
    pub kind: SideKind,
    /// Its configuration. For spandsp: role, ident, ECM, modems and codings are used.
    pub config: Config,
    /// The document it sends (empty: none).
    pub pages: Vec<Bitmap>,
}

impl SideSetup {
    /// Our engine with its default configuration for `role` and nothing to send.
    pub fn builtin(role: Role) -> SideSetup {
        SideSetup {
            kind: SideKind::Builtin,
            config: Config::new(role),
            pages: Vec::new(),
        }
    }

    fn role_name(&self) -> &'static str {
        match self.config.role {
            Role::Caller => "caller",
            Role::Answerer => "answerer",
        }
    }
}

/// Everything one call needs.
#[derive(Debug, Clone)]
pub struct SessionSetup {
    /// The calling side.
    pub caller: SideSetup,
    /// The answering side.
    pub answerer: SideSetup,
    /// Audio or T.38.
    pub transport: Transport,
    /// What the caller's signal crosses.
    pub caller_to_answerer: ChainSpec,
    /// What the answerer's signal crosses.
    pub answerer_to_caller: ChainSpec,
    /// Master seed: every endpoint and stage derives its own from it.
    pub seed: u64,
    /// Call time limit.
    pub limit: SampleTime,
    /// The scenario name records carry.
    pub scenario: String,
}

impl SessionSetup {
    /// A call between `caller` and `answerer` over a clean audio line, seed 1, 600 s limit.
    pub fn new(caller: SideSetup, answerer: SideSetup) -> SessionSetup {
        SessionSetup {
            caller,
            answerer,
            transport: Transport::Audio,
            caller_to_answerer: ChainSpec::default(),
            answerer_to_caller: ChainSpec::default(),
            seed: 1,
            limit: SampleTime::from_ms(600_000),
            scenario: "call".into(),
        }
    }
}

/// Pages one side received, with their damage.
#[derive(Debug, Clone, Default)]
pub struct Received {
    /// The pages, decoded.
    pub pages: Vec<Bitmap>,
    /// Damage of each page, as far as the endpoint reports it.
    pub damage: Vec<PageDamage>,
}

/// What a call produced.
#[derive(Debug, Clone)]
pub struct SessionOutput {
    /// The caller's record.
    pub caller: Record,
    /// The answerer's record.
    pub answerer: Record,
    /// Pages the caller received (polling).
    pub caller_received: Received,
    /// Pages the answerer received.
    pub answerer_received: Received,
    /// The caller's script checks (a script side only).
    pub caller_checks: Vec<CheckResult>,
    /// The answerer's script checks (a script side only).
    pub answerer_checks: Vec<CheckResult>,
    /// How the runner ended the call.
    pub end: CallEnd,
}

/// Why a call could not be run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    /// The setup is impossible (bad chain, bad engine configuration).
    #[error("{0}")]
    Setup(String),
    /// A system part is missing or failed (spandsp, bcg729), or a file could not be written.
    #[error("{0}")]
    System(String),
}

enum Side {
    Builtin(Box<Builtin>, ReceivedPages),
    Spandsp(Box<SpandspEndpoint>),
    Script(Box<ScriptEndpoint>),
    Replay(Box<ReplayEndpoint>),
}

impl Side {
    fn ep(&mut self) -> &mut dyn Endpoint {
        match self {
            Side::Builtin(b, _) => b.as_mut(),
            Side::Spandsp(s) => s.as_mut(),
            Side::Script(s) => s.as_mut(),
            Side::Replay(s) => s.as_mut(),
        }
    }

    fn checks(&self) -> Vec<CheckResult> {
        match self {
            Side::Script(s) => s.checks().to_vec(),
            _ => Vec::new(),
        }
    }

    fn received(&self) -> Received {
        match self {
            Side::Builtin(_, kept) => kept
                .lock()
                .map(|v| {
                    let (pages, damage) = v
                        .iter()
                        .map(|p| {
                            let d = PageDamage {
                                bad_rows: p.bad_rows,
                                longest_bad_run: p.longest_bad_run,
                            };
                            (p.bitmap.clone(), d)
                        })
                        .unzip();
                    Received { pages, damage }
                })
                .unwrap_or_default(),
            Side::Spandsp(s) => {
                let pages = s.received_pages();
                let damage = vec![PageDamage::default(); pages.len()];
                Received { pages, damage }
            }
            Side::Script(_) | Side::Replay(_) => Received::default(),
        }
    }
}

fn build_side(side: &SideSetup, seed: u64, work: &Path) -> Result<Side, SessionError> {
    match &side.kind {
        SideKind::Builtin => {
            let docs: Vec<Box<dyn DocumentSource>> = if side.pages.is_empty() {
                Vec::new()
            } else {
                vec![Box::new(BitmapDocument::new(side.pages.clone()))]
            };
            let (sink, kept) = DecodingSink::new();
            let b = Builtin::new(
                side.config.clone(),
                docs,
                Some(Box::new(sink)),
                Some(kept.clone()),
            )
            .map_err(|e| SessionError::Setup(format!("{}: {e}", side.role_name())))?;
            Ok(Side::Builtin(Box::new(b), kept))
        }
        SideKind::Spandsp => {
            let s = SpandspEndpoint::new(&side.config, &side.pages, work)
                .map_err(SessionError::System)?;
            Ok(Side::Spandsp(Box::new(s)))
        }
        SideKind::Script(steps) => {
            let seed = channel_models::rng::derive_seed(seed, side.role_name());
            let s = ScriptEndpoint::new(steps, side.config.role, seed)
                .map_err(|e| SessionError::Setup(format!("{}: {e}", side.role_name())))?;
            Ok(Side::Script(Box::new(s)))
        }
        SideKind::Replay { path, channel } => {
            let r = ReplayEndpoint::new(path, *channel, side.config.role)
                .map_err(|e| SessionError::Setup(format!("{}: {e}", side.role_name())))?;
            Ok(Side::Replay(Box::new(r)))
        }
    }
}

fn record_of(side: &mut Side, setup: &SessionSetup, s: &SideSetup) -> Record {
    let mut r = match side.ep().outcome() {
        Some(EndpointOutcome::Builtin(o)) => Record::from_outcome(&o),
        Some(EndpointOutcome::Record(r)) => *r,
        None => unreachable!("the runner clears every endpoint before returning"),
    };
    r.scenario = setup.scenario.clone();
    r.seed = setup.seed;
    r.role = s.role_name().into();
    r.endpoint = s.kind.name().into();
    r
}

/// Runs one call; work files (and `call.wav` when `wav` is set) go into `out`, which must
/// exist.
pub fn run_session(
    setup: &SessionSetup,
    out: &Path,
    wav: bool,
) -> Result<SessionOutput, SessionError> {
    if setup.transport == Transport::T38 {
        return Err(SessionError::Setup(
            "T.38 transport is not available in the call runner yet".into(),
        ));
    }
    let mut a = build_side(&setup.caller, setup.seed, out)?;
    let mut b = build_side(&setup.answerer, setup.seed, out)?;
    let chain = |spec: &ChainSpec, direction| {
        let preset = ChannelPreset { spec: spec.clone() };
        Chain::build(&preset, setup.seed, direction)
            .map_err(|e| SessionError::Setup(format!("channel: {e}")))
    };
    let mut ab = chain(&setup.caller_to_answerer, "caller-to-answerer")?;
    let mut ba = chain(&setup.answerer_to_caller, "answerer-to-caller")?;
    let wav_path = out.join("call.wav");
    let wav_fail =
        |e: crate::wav::WavError| SessionError::System(format!("{}: {e}", wav_path.display()));
    let mut writer = if wav {
        Some(StereoWavWriter::create(&wav_path).map_err(wav_fail)?)
    } else {
        None
    };
    let mut wav_err = None;
    let end = run_call(
        a.ep(),
        b.ep(),
        &mut ab,
        &mut ba,
        setup.limit,
        &mut |l, r| {
            if let Some(w) = writer.as_mut()
                && let Err(e) = w.write(l, r)
            {
                wav_err.get_or_insert(e);
            }
        },
    );
    if let Some(e) = wav_err {
        return Err(wav_fail(e));
    }
    if let Some(w) = writer {
        w.finish().map_err(wav_fail)?;
    }
    let mut caller = record_of(&mut a, setup, &setup.caller);
    let mut answerer = record_of(&mut b, setup, &setup.answerer);
    for r in [&mut caller, &mut answerer] {
        r.limit_reached = end.limit_reached;
        if wav {
            r.files.wav = Some("call.wav".into());
        }
    }
    Ok(SessionOutput {
        caller,
        answerer,
        caller_received: a.received(),
        answerer_received: b.received(),
        caller_checks: a.checks(),
        answerer_checks: b.checks(),
        end,
    })
}

/// File-name-safe form of an error string.
pub fn file_safe(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect::<String>()
        .trim_matches('_')
        .to_string()
}

/// Writes `received` as `<stem>.tif` and a PDF into `out` and notes them in `record`. The
/// PDF is `<stem>.pdf` on success and `<stem>-<N>Pages-ERROR-<error>.pdf` otherwise, as fax
/// servers name partial documents; when the PDF cannot be made, the TIFF is kept alone and
/// the error becomes "PDF Conversion", as a receive pipeline reports it.
pub fn write_received(
    out: &Path,
    stem: &str,
    received: &Received,
    record: &mut Record,
) -> Result<(), SessionError> {
    if received.pages.is_empty() {
        return Ok(());
    }
    let fail = |p: &Path, e: String| SessionError::System(format!("{}: {e}", p.display()));
    let mut opts = TiffWriteOptions::new(t30::image::codec::Coding::Mmr);
    opts.description = Some(record.remotestationid.clone());
    let tiff = write_tiff(&received.pages, Some(&received.damage), &opts)
        .map_err(|e| fail(out, e.to_string()))?;
    let tiff_name = format!("{stem}.tif");
    let tiff_path = out.join(&tiff_name);
    std::fs::write(&tiff_path, tiff).map_err(|e| fail(&tiff_path, e.to_string()))?;
    record.files.tiff = Some(tiff_name);
    let pdf_pages: Vec<PdfPage> = received.pages.iter().map(PdfPage::from_bitmap).collect();
    let name = if record.status == "SUCCESS" {
        format!("{stem}.pdf")
    } else {
        format!(
            "{stem}-{}Pages-ERROR-{}.pdf",
            received.pages.len(),
            file_safe(&record.error)
        )
    };
    let pdf_path = out.join(&name);
    match write_pdf(&pdf_pages) {
        Ok(pdf) => {
            std::fs::write(&pdf_path, pdf).map_err(|e| fail(&pdf_path, e.to_string()))?;
            record.files.pdf = Some(name);
        }
        Err(_) => record.error = "PDF Conversion".into(),
    }
    Ok(())
}
