//! One call between two configured sides, from setup to records and received documents.
//!
//! [`SessionSetup`] says who is at each end (kind, engine configuration, document), what
//! stands between them (one chain per direction, over audio or T.38) and for how long;
//! [`run_session`] builds the endpoints, runs the call with [`crate::call::run_call`] (audio)
//! or [`crate::t38::run_t38_call`] (T.38 terminals over the chains' UDPTL legs), optionally
//! records `call.wav` and `call.pcap` (what crossed a network: UDPTL, or the RTP of a VoIP
//! stage), and returns both sides' records, the pages each side received and, for T.38,
//! what each direction's packets went through. [`write_received`] turns received pages into
//! the files a fax server keeps. `faxsim call`, the scenario runner and sweeps all go
//! through here.
//!
//! ```no_run
//! use sim::session::{SessionSetup, SideSetup, run_session};
//! use t30::engine::Role;
//! let setup = SessionSetup::new(SideSetup::builtin(Role::Caller), SideSetup::builtin(Role::Answerer));
//! let out = run_session(&setup, std::path::Path::new("out"), true).unwrap();
//! println!("{}", out.caller.summary_line());
//! ```

use std::path::Path;

use channel_models::AudioStage;
use channel_models::chain::ChainSpec;
use channel_models::packet::NetPacket;
use channel_models::rng::derive_seed;
use channel_models::t38::{LinkStats, UdptlLink};
use t30::SampleTime;
use t30::engine::codec::{CodedDocument, DecodingSink, ReceivedPages};
use t30::engine::{Config, DocumentSource, Role};
use t30::image::pdf::{PdfPage, write_pdf};
use t30::image::store::{CodedPage, Document};
use t30::image::tiff::{PageDamage, TiffWriteOptions, write_tiff_document};

use crate::call::{CallEnd, Chain, ChannelPreset, run_call};
use crate::capture::{Endpoints, PcapWriter};
use crate::endpoint::builtin::Builtin;
use crate::endpoint::replay::ReplayEndpoint;
use crate::endpoint::script::{CheckResult, ScriptEndpoint, Step};
use crate::endpoint::spandsp::SpandspEndpoint;
use crate::endpoint::{Endpoint, EndpointOutcome, Record};
use crate::t38::builtin::T38Builtin;
use crate::t38::spandsp::SpandspT38;
use crate::t38::{PacketDir, T38Endpoint, run_t38_call};
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
    /// The document it sends (empty: none), held coded and shared: a call decodes one page
    /// at a time.
    pub pages: Document,
}

impl SideSetup {
    /// Our engine with its default configuration for `role` and nothing to send.
    pub fn builtin(role: Role) -> SideSetup {
        SideSetup {
            kind: SideKind::Builtin,
            config: Config::new(role),
            pages: Document::default(),
        }
    }

    /// The side's document as the engine takes it (none when it sends nothing).
    fn documents(&self) -> Vec<Box<dyn DocumentSource>> {
        if self.pages.is_empty() {
            Vec::new()
        } else {
            vec![Box::new(CodedDocument::new(self.pages.clone()))]
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
    /// The answerer's number answers as voice first (audio calls only; see
    /// [`crate::endpoint::voice`]).
    pub answerer_voice: Option<crate::endpoint::voice::VoiceAnswer>,
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
            answerer_voice: None,
        }
    }
}

/// Pages one side received, with their damage.
#[derive(Debug, Clone, Default)]
pub struct Received {
    /// The pages as decoded (bad rows concealed), held coded.
    pub pages: Vec<CodedPage>,
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
    /// What each direction's T.38 path did (T.38 calls only).
    pub t38: Option<T38PathStats>,
    /// What the packet stages of an audio call counted, one line each, prefixed with the
    /// direction ("caller->answerer rtp sent=… late=… jitter-buffer stretched=…").
    pub audio_network: Vec<String>,
}

/// What the two directions of a T.38 path did: packets sent, lost, late, recovered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct T38PathStats {
    /// The caller's packets, as the answerer's receiver saw them.
    pub caller_to_answerer: LinkStats,
    /// The answerer's packets, as the caller's receiver saw them.
    pub answerer_to_caller: LinkStats,
}

impl T38PathStats {
    /// One line per direction for the call summary.
    pub fn summary_lines(&self) -> Vec<String> {
        [
            ("caller->answerer", &self.caller_to_answerer),
            ("answerer->caller", &self.answerer_to_caller),
        ]
        .into_iter()
        .map(|(name, s)| {
            format!(
                "t38 {name}: sent={} lost={} late={} recovered={} unrecoverable={}",
                s.sent, s.lost_in_network, s.late, s.recovered, s.unrecoverable
            )
        })
        .collect()
    }
}

/// Which captures a call writes into its output folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Captures {
    /// `call.wav` (audio calls).
    pub wav: bool,
    /// `call.pcap`, when packets crossed a network (T.38, or an RTP stage in an audio chain).
    pub pcap: bool,
    /// Addresses and ports in the pcap.
    pub endpoints: Endpoints,
}

impl Captures {
    /// Every capture, or none, with the default addresses.
    pub fn all(on: bool) -> Captures {
        Captures {
            wav: on,
            pcap: on,
            endpoints: Endpoints::default(),
        }
    }
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
            Side::Builtin(_, kept) => received_of(kept),
            Side::Spandsp(s) => {
                let pages = s.received_pages();
                let damage = vec![PageDamage::default(); pages.len()];
                Received { pages, damage }
            }
            Side::Script(_) | Side::Replay(_) => Received::default(),
        }
    }
}

fn received_of(kept: &ReceivedPages) -> Received {
    kept.lock()
        .map(|v| {
            let (pages, damage) = v
                .iter()
                .map(|p| {
                    let d = PageDamage {
                        bad_rows: p.bad_rows,
                        longest_bad_run: p.longest_bad_run,
                    };
                    (p.page.clone(), d)
                })
                .unzip();
            Received { pages, damage }
        })
        .unwrap_or_default()
}

fn build_side(side: &SideSetup, seed: u64, work: &Path) -> Result<Side, SessionError> {
    match &side.kind {
        SideKind::Builtin => {
            let docs = side.documents();
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

/// Runs one call; work files (and, when `wav` is set, the captures: `call.wav` for audio,
/// `call.pcap` when packets crossed a network) go into `out`, which must exist.
pub fn run_session(
    setup: &SessionSetup,
    out: &Path,
    wav: bool,
) -> Result<SessionOutput, SessionError> {
    run_session_with(setup, out, &Captures::all(wav))
}

/// [`run_session`] with each capture chosen on its own.
pub fn run_session_with(
    setup: &SessionSetup,
    out: &Path,
    captures: &Captures,
) -> Result<SessionOutput, SessionError> {
    if setup.transport == Transport::T38 && setup.answerer_voice.is_some() {
        return Err(SessionError::Setup(
            "a voice answer (greeting, fax detection) needs an audio call, not transport t38"
                .into(),
        ));
    }
    if setup.transport == Transport::T38 {
        return run_t38_session(setup, out, captures);
    }
    for spec in [&setup.caller_to_answerer, &setup.answerer_to_caller] {
        if spec.t38.is_some() && spec.stages.is_empty() {
            let name = if spec.name.is_empty() {
                "the channel"
            } else {
                spec.name.as_str()
            };
            return Err(SessionError::Setup(format!(
                "'{name}' is a T.38 path: run it with transport t38 (--transport t38)"
            )));
        }
    }
    let wav = captures.wav;
    let mut a = build_side(&setup.caller, setup.seed, out)?;
    let mut b = build_side(&setup.answerer, setup.seed, out)?;
    // An RTP stage in either direction puts packets on a network: they go to call.pcap.
    let rtp = [&setup.caller_to_answerer, &setup.answerer_to_caller]
        .iter()
        .any(|spec| spec.stages.iter().any(|st| st.kind() == "voip"));
    let sent: PacketLog = Default::default();
    let chain = |spec: &ChainSpec, direction: &'static str| {
        let preset = ChannelPreset { spec: spec.clone() };
        let built = if captures.pcap && rtp && spec.t38.is_none() {
            channel_models::chain::Chain::build(spec, derive_seed(setup.seed, direction)).map(
                |mut inner| {
                    inner.capture_packets(true);
                    Chain::new(vec![Box::new(Capturing {
                        inner,
                        direction,
                        log: sent.clone(),
                    })])
                    .with_lead(crate::call::drift_lead(spec))
                },
            )
        } else {
            Chain::build(&preset, setup.seed, direction)
        };
        built.map_err(|e| SessionError::Setup(format!("channel: {e}")))
    };
    let mut ab = chain(&setup.caller_to_answerer, "caller-to-answerer")?;
    let mut ba = chain(&setup.answerer_to_caller, "answerer-to-caller")?;
    let pcap_path = out.join("call.pcap");
    let pcap_fail = |e: crate::capture::CaptureError| {
        SessionError::System(format!("{}: {e}", pcap_path.display()))
    };
    let mut pcap = if captures.pcap && rtp {
        Some(PcapWriter::create(&pcap_path).map_err(pcap_fail)?)
    } else {
        None
    };
    let mut pcap_err = None;
    let ends = captures.endpoints;
    let write_sent = |pcap: &mut Option<PcapWriter>, err: &mut Option<_>| {
        let Some(w) = pcap.as_mut() else { return };
        let mut batch = std::mem::take(&mut *sent.lock().unwrap_or_else(|p| p.into_inner()));
        // Both directions in send order (the caller's first on a tie).
        batch.sort_by_key(|(dir, p)| (p.sent_at, *dir != "caller-to-answerer"));
        for (dir, p) in batch {
            let (src, dst) = if dir == "caller-to-answerer" {
                (ends.caller, ends.answerer)
            } else {
                (ends.answerer, ends.caller)
            };
            if let Err(e) = w.write_udp(SampleTime(p.sent_at), src, dst, &p.bytes) {
                err.get_or_insert(e);
            }
        }
    };
    let wav_path = out.join("call.wav");
    let wav_fail =
        |e: crate::wav::WavError| SessionError::System(format!("{}: {e}", wav_path.display()));
    let mut writer = if wav {
        Some(StereoWavWriter::create(&wav_path).map_err(wav_fail)?)
    } else {
        None
    };
    let mut wav_err = None;
    let mut voice;
    let answerer_ep: &mut dyn crate::endpoint::Endpoint = match setup.answerer_voice {
        Some(v) => {
            voice = crate::endpoint::voice::VoiceLine::new(v, b.ep());
            &mut voice
        }
        None => b.ep(),
    };
    let end = run_call(
        a.ep(),
        answerer_ep,
        &mut ab,
        &mut ba,
        setup.limit,
        &mut |l, r| {
            if let Some(w) = writer.as_mut()
                && let Err(e) = w.write(l, r)
            {
                wav_err.get_or_insert(e);
            }
            // Packets the chains sent during the previous block.
            write_sent(&mut pcap, &mut pcap_err);
        },
    );
    if let Some(e) = wav_err {
        return Err(wav_fail(e));
    }
    if let Some(w) = writer {
        w.finish().map_err(wav_fail)?;
    }
    write_sent(&mut pcap, &mut pcap_err);
    if let Some(e) = pcap_err {
        return Err(pcap_fail(e));
    }
    let wrote_pcap = pcap.is_some();
    if let Some(w) = pcap {
        w.finish().map_err(pcap_fail)?;
    }
    let audio_network: Vec<String> = [("caller->answerer", &ab), ("answerer->caller", &ba)]
        .iter()
        .flat_map(|(dir, c)| c.report().into_iter().map(move |l| format!("{dir} {l}")))
        .collect();
    let mut caller = record_of(&mut a, setup, &setup.caller);
    let mut answerer = record_of(&mut b, setup, &setup.answerer);
    for r in [&mut caller, &mut answerer] {
        r.limit_reached = end.limit_reached;
        if wav {
            r.files.wav = Some("call.wav".into());
        }
        if wrote_pcap {
            r.files.pcap = Some("call.pcap".into());
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
        t38: None,
        audio_network,
    })
}

/// Packets the chains of an audio call sent, with their direction, waiting for the pcap.
type PacketLog = std::sync::Arc<std::sync::Mutex<Vec<(&'static str, NetPacket)>>>;

/// A chain that hands the packets its stages send to the call's packet log.
struct Capturing {
    inner: channel_models::chain::Chain,
    direction: &'static str,
    log: PacketLog,
}

impl AudioStage for Capturing {
    fn process(&mut self, input: &[i16], out: &mut Vec<i16>) {
        self.inner.process(input, out);
        let mut got = Vec::new();
        self.inner.take_packets(&mut got);
        if !got.is_empty() {
            let mut log = self.log.lock().unwrap_or_else(|p| p.into_inner());
            log.extend(got.into_iter().map(|p| (self.direction, p)));
        }
    }

    fn report(&self, out: &mut Vec<String>) {
        self.inner.report(out);
    }
}

enum T38Side {
    Builtin(Box<T38Builtin>, ReceivedPages),
    Spandsp(Box<SpandspT38>),
}

impl T38Side {
    fn ep(&mut self) -> &mut dyn T38Endpoint {
        match self {
            T38Side::Builtin(b, _) => b.as_mut(),
            T38Side::Spandsp(s) => s.as_mut(),
        }
    }

    fn record(&mut self, setup: &SessionSetup, s: &SideSetup) -> Record {
        let mut r = match self.ep().outcome() {
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

    fn received(&self) -> Received {
        match self {
            T38Side::Builtin(_, kept) => received_of(kept),
            T38Side::Spandsp(s) => {
                let pages = s.received_pages();
                let damage = vec![PageDamage::default(); pages.len()];
                Received { pages, damage }
            }
        }
    }
}

fn build_t38_side(side: &SideSetup, version: u8, work: &Path) -> Result<T38Side, SessionError> {
    match &side.kind {
        SideKind::Builtin => {
            let docs = side.documents();
            let (sink, kept) = DecodingSink::new();
            let b = T38Builtin::new(
                side.config.clone(),
                docs,
                Some(Box::new(sink)),
                Some(kept.clone()),
                version,
            )
            .map_err(|e| SessionError::Setup(format!("{}: {e}", side.role_name())))?;
            Ok(T38Side::Builtin(Box::new(b), kept))
        }
        SideKind::Spandsp => {
            let s = SpandspT38::new(&side.config, &side.pages, work, version)
                .map_err(SessionError::System)?;
            Ok(T38Side::Spandsp(Box::new(s)))
        }
        SideKind::Script(_) | SideKind::Replay { .. } => Err(SessionError::Setup(format!(
            "{}: a {} side speaks audio only; it cannot be a T.38 terminal",
            side.role_name(),
            side.kind.name()
        ))),
    }
}

fn t38_link(spec: &ChainSpec, seed: u64, direction: &str) -> Result<(UdptlLink, u8), SessionError> {
    let Some(t) = spec.t38 else {
        let name = if spec.name.is_empty() {
            "the channel"
        } else {
            spec.name.as_str()
        };
        return Err(SessionError::Setup(format!(
            "transport t38 needs a channel with a T.38 leg, and '{name}' has none (try preset t38-redundancy-3)"
        )));
    };
    if t.version > 3 {
        return Err(SessionError::Setup(format!(
            "T.38 version {} (0 to 3)",
            t.version
        )));
    }
    let net = t
        .network
        .config()
        .map_err(|e| SessionError::Setup(format!("channel: {e}")))?;
    let link = UdptlLink::new(
        t.version,
        t.error_recovery(),
        net,
        derive_seed(seed, direction),
        u64::from(t.playout_ms) * 8,
    );
    Ok((link, t.version))
}

fn run_t38_session(
    setup: &SessionSetup,
    out: &Path,
    captures: &Captures,
) -> Result<SessionOutput, SessionError> {
    let (mut ab, version) = t38_link(&setup.caller_to_answerer, setup.seed, "caller-to-answerer")?;
    let (mut ba, _) = t38_link(&setup.answerer_to_caller, setup.seed, "answerer-to-caller")?;
    let mut a = build_t38_side(&setup.caller, version, out)?;
    let mut b = build_t38_side(&setup.answerer, version, out)?;
    let pcap_path = out.join("call.pcap");
    let pcap_fail = |e: crate::capture::CaptureError| {
        SessionError::System(format!("{}: {e}", pcap_path.display()))
    };
    let mut writer = if captures.pcap {
        Some(PcapWriter::create(&pcap_path).map_err(pcap_fail)?)
    } else {
        None
    };
    let ends = captures.endpoints;
    let mut pcap_err = None;
    let end = run_t38_call(
        a.ep(),
        b.ep(),
        &mut ab,
        &mut ba,
        setup.limit,
        &mut |dir, at, wire| {
            let (src, dst) = match dir {
                PacketDir::CallerToAnswerer => (ends.caller, ends.answerer),
                PacketDir::AnswererToCaller => (ends.answerer, ends.caller),
            };
            if let Some(w) = writer.as_mut()
                && let Err(e) = w.write_udp(at, src, dst, wire)
            {
                pcap_err.get_or_insert(e);
            }
        },
    );
    if let Some(e) = pcap_err {
        return Err(pcap_fail(e));
    }
    if let Some(w) = writer {
        w.finish().map_err(pcap_fail)?;
    }
    let mut caller = a.record(setup, &setup.caller);
    let mut answerer = b.record(setup, &setup.answerer);
    for r in [&mut caller, &mut answerer] {
        r.limit_reached = end.limit_reached;
        if captures.pcap {
            r.files.pcap = Some("call.pcap".into());
        }
    }
    Ok(SessionOutput {
        caller,
        answerer,
        caller_received: a.received(),
        answerer_received: b.received(),
        caller_checks: Vec::new(),
        answerer_checks: Vec::new(),
        end,
        t38: Some(T38PathStats {
            caller_to_answerer: ab.stats(),
            answerer_to_caller: ba.stats(),
        }),
        audio_network: Vec::new(),
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
    let tiff_name = format!("{stem}.tif");
    let tiff_path = out.join(&tiff_name);
    let file = std::fs::File::create(&tiff_path).map_err(|e| fail(&tiff_path, e.to_string()))?;
    // The pages are MMR already: they go into the file as they are, one after another.
    write_tiff_document(
        std::io::BufWriter::new(file),
        &received.pages,
        Some(&received.damage),
        &opts,
    )
    .map_err(|e| fail(&tiff_path, e.to_string()))?;
    record.files.tiff = Some(tiff_name);
    let pdf_pages: Vec<PdfPage> = received.pages.iter().map(PdfPage::from_coded).collect();
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
