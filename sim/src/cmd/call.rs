//! `faxsim call`: one simulated call between two endpoints, over an audio channel or T.38.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use t30::SampleTime;
use t30::engine::{Coding, Config, Role};
use t30::frame::dis::modem_name::Modem;
use t30::image::Bitmap;
use t30::image::store::{CodedPage, Document};
use t30::image::tiff::PageDamage;

use super::CliError;
use crate::call::ChannelPreset;
use crate::capture::Endpoints;
use crate::endpoint::Record;
use crate::endpoint::record::HookRecord;
use crate::session::{
    Captures, Received, SessionError, SessionSetup, SideKind, SideSetup, Transport,
    run_session_with, write_received,
};
use channel_models::chain::{ChainSpec, PRESETS};

/// Which implementation sits at one end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EndpointKind {
    /// Our T.30 engine and modems.
    Builtin,
    /// spandsp's fax engine, loaded at run time.
    Spandsp,
}

/// How the two ends are connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TransportArg {
    /// Audio samples through the channel's stages.
    Audio,
    /// T.38 IFP packets over UDPTL through the channel's T.38 leg.
    T38,
}

impl TransportArg {
    /// The session's transport.
    pub fn transport(self) -> Transport {
        match self {
            TransportArg::Audio => Transport::Audio,
            TransportArg::T38 => Transport::T38,
        }
    }
}

/// Arguments of `faxsim call`.
#[derive(Debug, Clone, Args)]
pub struct CallArgs {
    /// Document the caller sends (TIFF, PBM, PNG, or PDF rasterised with poppler's pdftoppm).
    #[arg(long, value_name = "FILE.tif")]
    pub send: PathBuf,
    /// The calling endpoint (it sends the document).
    #[arg(long, value_enum, default_value = "builtin")]
    pub caller: EndpointKind,
    /// The answering endpoint (it receives).
    #[arg(long, value_enum, default_value = "builtin")]
    pub answerer: EndpointKind,
    /// How the two ends are connected: audio through the channel, or T.38 (IFP over
    /// UDPTL) through the channel's T.38 leg.
    #[arg(long, value_enum, default_value = "audio")]
    pub transport: TransportArg,
    /// Channel preset, the same in both directions (`faxsim channel --list` shows them);
    /// default g711-alaw for audio, t38-redundancy-3 for T.38.
    #[arg(long)]
    pub channel: Option<String>,
    /// The caller's IPv4 address and UDP port in call.pcap.
    #[arg(long, value_name = "ADDR:PORT", default_value = "192.0.2.1:4000")]
    pub caller_addr: std::net::SocketAddrV4,
    /// The answerer's IPv4 address and UDP port in call.pcap.
    #[arg(long, value_name = "ADDR:PORT", default_value = "192.0.2.2:5000")]
    pub answerer_addr: std::net::SocketAddrV4,
    /// A channel chain in TOML instead of a preset (see `faxsim channel --list` for examples).
    #[arg(long, value_name = "FILE.toml")]
    pub channel_file: Option<PathBuf>,
    /// Error correction mode offered by both ends.
    #[arg(long, default_value = "on", value_parser = ["on", "off"])]
    pub ecm: String,
    /// Fast modems offered by both ends, comma separated: v17, v29, v27ter.
    #[arg(long, default_value = "v17,v29,v27ter")]
    pub modems: String,
    /// Codings offered by both ends, comma separated: mh, mr, mmr.
    #[arg(long, default_value = "mh,mr,mmr")]
    pub codings: String,
    /// Master seed of the call.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output folder.
    #[arg(long, default_value = "faxsim-out")]
    pub out: PathBuf,
    /// Call time limit in seconds; a call still running then is cleared and reported so.
    #[arg(long, default_value_t = 600)]
    pub limit_s: u64,
    /// Run this shell command after the call for the receiving side, with the outcome in
    /// FAXOPT_* environment variables (as Asterisk's dialplan sees them) and FAXSIM_TIFF,
    /// FAXSIM_PDF, FAXSIM_RECORD; its exit status goes into the record.
    #[arg(long, value_name = "CMD")]
    pub on_complete: Option<String>,
    /// Run the reference receive pipeline of this configuration for the receiving side
    /// (`faxsim deliver` describes it); delivery.json records what it did.
    #[arg(long, value_name = "FILE.toml")]
    pub deliver: Option<PathBuf>,
    /// The calling number the pipeline sees (default: the caller's station id).
    #[arg(long, value_name = "NUMBER")]
    pub from_number: Option<String>,
    /// The dialled number that selects the pipeline's route (default: the answerer's
    /// station id).
    #[arg(long, value_name = "NUMBER")]
    pub to_number: Option<String>,
    /// Keep the image data of every ECM frame (FCD) in the records' frame trace; without
    /// it an FCD frame is traced by its header and frame number, so that records do not
    /// grow with the pages.
    #[arg(long)]
    pub trace_ecm_data: bool,
}

/// Runs the receiver hook for `r`, whose record file is `record_path`, in `out`.
pub fn run_hook(cmd: &str, r: &Record, out: &Path, record_path: &Path) -> HookRecord {
    // The hook runs in the output folder: every path it is given is absolute.
    let out = &out.canonicalize().unwrap_or_else(|_| out.to_path_buf());
    let record_path = &record_path
        .canonicalize()
        .unwrap_or_else(|_| record_path.to_path_buf());
    let path_of = |f: &Option<String>| {
        f.as_ref()
            .map(|n| out.join(n).display().to_string())
            .unwrap_or_default()
    };
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .current_dir(out)
        .env("FAXOPT_STATUS", &r.status)
        .env("FAXOPT_ERROR", &r.error)
        .env("FAXOPT_PAGES", r.pages.to_string())
        .env("FAXOPT_RATE", r.rate.to_string())
        .env("FAXOPT_ECM", &r.ecm)
        .env("FAXOPT_RESOLUTION", &r.resolution)
        .env("FAXOPT_REMOTESTATIONID", &r.remotestationid)
        .env("FAXOPT_LOCALSTATIONID", &r.localstationid)
        .env("FAXOPT_HEADERINFO", &r.headerinfo)
        .env("FAXSIM_TIFF", path_of(&r.files.tiff))
        .env("FAXSIM_PDF", path_of(&r.files.pdf))
        .env("FAXSIM_RECORD", record_path.display().to_string())
        .status();
    match status {
        Ok(s) => HookRecord {
            command: cmd.into(),
            exit_code: s.code(),
            error: None,
        },
        Err(e) => HookRecord {
            command: cmd.into(),
            exit_code: None,
            error: Some(e.to_string()),
        },
    }
}

/// Everything a call needs, checked.
#[derive(Debug, Clone)]
pub struct CallSetup {
    /// Caller's implementation.
    pub caller: EndpointKind,
    /// Answerer's implementation.
    pub answerer: EndpointKind,
    /// The channel (both directions).
    pub channel: ChannelPreset,
    /// ECM offered.
    pub ecm: bool,
    /// Fast modems offered.
    pub modems: Vec<Modem>,
    /// Codings offered.
    pub codings: Vec<Coding>,
    /// Master seed.
    pub seed: u64,
    /// Time limit.
    pub limit: SampleTime,
}

/// Parses a comma-separated modem list.
pub fn parse_modems(s: &str) -> Result<Vec<Modem>, String> {
    s.split(',')
        .map(|m| match m.trim().to_ascii_lowercase().as_str() {
            "v17" => Ok(Modem::V17),
            "v29" => Ok(Modem::V29),
            "v27ter" => Ok(Modem::V27ter),
            other => Err(format!("unknown modem '{other}' (v17, v29, v27ter)")),
        })
        .collect()
}

/// Parses a comma-separated coding list.
pub fn parse_codings(s: &str) -> Result<Vec<Coding>, String> {
    s.split(',')
        .map(|m| match m.trim().to_ascii_lowercase().as_str() {
            "mh" => Ok(Coding::Mh),
            "mr" => Ok(Coding::Mr),
            "mmr" => Ok(Coding::Mmr),
            other => Err(format!("unknown coding '{other}' (mh, mr, mmr)")),
        })
        .collect()
}

/// Identities the two ends present.
pub const CALLER_IDENT: &str = "+1 555 0100";
/// The answerer's identity.
pub const ANSWERER_IDENT: &str = "+1 555 0199";

/// Our engine's configuration for `role` in this call.
pub fn engine_config(setup: &CallSetup, role: Role) -> Config {
    let mut c = Config::new(role);
    c.ident = match role {
        Role::Caller => CALLER_IDENT,
        Role::Answerer => ANSWERER_IDENT,
    }
    .into();
    c.ecm = setup.ecm;
    c.modems = setup.modems.clone();
    c.max_rate = 14400;
    let mut codings = setup.codings.clone();
    if !codings.contains(&Coding::Mh) {
        codings.push(Coding::Mh);
    }
    c.codings = codings;
    c
}

/// What a call produced.
pub struct CallOutput {
    /// The caller's record.
    pub caller: Record,
    /// The answerer's record.
    pub answerer: Record,
    /// Pages the receiving side kept, held coded.
    pub received: Vec<CodedPage>,
    /// Damage of each received page, as far as the receiving endpoint reports it.
    pub damage: Vec<PageDamage>,
    /// Summary lines of what the network did (T.38 calls: per direction).
    pub network: Vec<String>,
}

impl CallOutput {
    /// The received pages decoded, one bitmap each (for checks on short calls).
    pub fn received_bitmaps(&self) -> Vec<Bitmap> {
        self.received
            .iter()
            .map(|p| {
                p.bitmap()
                    .expect("received pages are coded by our own encoder")
            })
            .collect()
    }
}

impl EndpointKind {
    fn side_kind(self) -> SideKind {
        match self {
            EndpointKind::Builtin => SideKind::Builtin,
            EndpointKind::Spandsp => SideKind::Spandsp,
        }
    }
}

/// The session `setup` describes: the caller sends `pages` to the answerer.
pub fn session_setup(setup: &CallSetup, pages: &Document) -> SessionSetup {
    let side = |kind: EndpointKind, role: Role, pages: Document| SideSetup {
        kind: kind.side_kind(),
        config: engine_config(setup, role),
        pages,
    };
    let mut s = SessionSetup::new(
        side(setup.caller, Role::Caller, pages.clone()),
        side(setup.answerer, Role::Answerer, Document::default()),
    );
    s.caller_to_answerer = setup.channel.spec.clone();
    s.answerer_to_caller = setup.channel.spec.clone();
    s.seed = setup.seed;
    s.limit = setup.limit;
    s
}

/// Runs one call over audio, writing `call.wav` (and `call.pcap` when the channel carries
/// RTP) into `out`; returns the records and received pages.
pub fn simulate(setup: &CallSetup, pages: &Document, out: &Path) -> Result<CallOutput, CliError> {
    simulate_with(setup, Transport::Audio, Endpoints::default(), pages, out)
}

/// [`simulate`] over `transport`, with these addresses in the pcap.
pub fn simulate_with(
    setup: &CallSetup,
    transport: Transport,
    endpoints: Endpoints,
    pages: &Document,
    out: &Path,
) -> Result<CallOutput, CliError> {
    simulate_session(session_setup(setup, pages), transport, endpoints, out)
}

/// Runs `session` over `transport` (its own transport is replaced), with these addresses
/// in the pcap.
fn simulate_session(
    mut session: SessionSetup,
    transport: Transport,
    endpoints: Endpoints,
    out: &Path,
) -> Result<CallOutput, CliError> {
    session.transport = transport;
    let captures = Captures {
        wav: transport == Transport::Audio,
        pcap: true,
        endpoints,
    };
    let o = run_session_with(&session, out, &captures).map_err(|e| match e {
        SessionError::Setup(m) => CliError::usage(m),
        SessionError::System(m) => CliError::failure(m),
    })?;
    Ok(CallOutput {
        caller: o.caller,
        answerer: o.answerer,
        received: o.answerer_received.pages,
        damage: o.answerer_received.damage,
        network: o.t38.map(|t| t.summary_lines()).unwrap_or(o.audio_network),
    })
}

/// Checks the arguments into a [`CallSetup`].
pub fn setup_from(args: &CallArgs) -> Result<CallSetup, CliError> {
    let channel = match &args.channel_file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| CliError::usage(format!("{}: {e}", path.display())))?;
            let spec = ChainSpec::from_toml(&text)
                .map_err(|e| CliError::usage(format!("{}: {e}", path.display())))?;
            ChannelPreset { spec }
        }
        None => {
            let name = args.channel.as_deref().unwrap_or(match args.transport {
                TransportArg::Audio => "g711-alaw",
                TransportArg::T38 => "t38-redundancy-3",
            });
            ChannelPreset::from_name(name).ok_or_else(|| {
                CliError::usage(format!(
                    "unknown channel '{name}' (one of: {})",
                    PRESETS.join(", ")
                ))
            })?
        }
    };
    setup_from_parts(
        args.caller,
        args.answerer,
        channel,
        &args.ecm,
        &args.modems,
        &args.codings,
        args.seed,
        args.limit_s,
    )
}

/// A [`CallSetup`] from command-line values (`ecm` "on"/"off", comma-separated lists).
#[allow(clippy::too_many_arguments)]
pub fn setup_from_parts(
    caller: EndpointKind,
    answerer: EndpointKind,
    channel: ChannelPreset,
    ecm: &str,
    modems: &str,
    codings: &str,
    seed: u64,
    limit_s: u64,
) -> Result<CallSetup, CliError> {
    Ok(CallSetup {
        caller,
        answerer,
        channel,
        ecm: ecm == "on",
        modems: parse_modems(modems).map_err(CliError::usage)?,
        codings: parse_codings(codings).map_err(CliError::usage)?,
        seed,
        limit: SampleTime::from_ms(limit_s.saturating_mul(1000)),
    })
}

/// Runs `faxsim call`; `Ok(true)` when both sides report SUCCESS.
pub fn run(args: CallArgs) -> Result<bool, CliError> {
    let setup = setup_from(&args)?;
    // A bad pipeline configuration is a usage error before any call is made.
    let pipeline = match &args.deliver {
        Some(path) => {
            Some(crate::deliver::Pipeline::from_file(path).map_err(|e| CliError::usage(e.0))?)
        }
        None => None,
    };
    let pages = crate::docload::load_send_document(&args.send).map_err(CliError::usage)?;
    if pages.is_empty() {
        return Err(CliError::usage(format!(
            "{}: no pages",
            args.send.display()
        )));
    }
    std::fs::create_dir_all(&args.out)
        .map_err(|e| CliError::failure(format!("{}: {e}", args.out.display())))?;
    let endpoints = Endpoints {
        caller: args.caller_addr,
        answerer: args.answerer_addr,
    };
    if endpoints.caller == endpoints.answerer {
        return Err(CliError::usage(
            "--caller-addr and --answerer-addr must differ".to_string(),
        ));
    }
    let mut session = session_setup(&setup, &pages);
    for side in [&mut session.caller, &mut session.answerer] {
        side.config.trace_ecm_data = args.trace_ecm_data;
    }
    let mut o = simulate_session(session, args.transport.transport(), endpoints, &args.out)?;
    let received = Received {
        pages: std::mem::take(&mut o.received),
        damage: std::mem::take(&mut o.damage),
    };
    write_received(&args.out, "received", &received, &mut o.answerer)
        .map_err(|e| CliError::failure(e.to_string()))?;
    let write = |name: &str, r: &Record| -> Result<PathBuf, CliError> {
        let p = args.out.join(name);
        let text = serde_json::to_string_pretty(r).expect("records serialise");
        std::fs::write(&p, text + "\n")
            .map_err(|e| CliError::failure(format!("{}: {e}", p.display())))?;
        Ok(p)
    };
    write("caller.json", &o.caller)?;
    let answerer_path = write("answerer.json", &o.answerer)?;
    println!("{}", o.caller.summary_line());
    println!("{}", o.answerer.summary_line());
    for line in &o.network {
        println!("{line}");
    }
    // The answerer is the receiving side of every call this command makes.
    if let Some(cmd) = &args.on_complete {
        let h = run_hook(cmd, &o.answerer, &args.out, &answerer_path);
        match (&h.exit_code, &h.error) {
            (Some(0), _) => {}
            (Some(c), _) => println!("answerer hook exited with status {c}: {cmd}"),
            (None, Some(e)) => println!("answerer hook could not run ({e}): {cmd}"),
            (None, None) => println!("answerer hook was killed by a signal: {cmd}"),
        }
        o.answerer.hook = Some(h);
        write("answerer.json", &o.answerer)?;
    }
    if let Some(pipeline) = &pipeline {
        let epoch = super::deliver::epoch_of(&o.answerer, &answerer_path);
        let report = super::deliver::deliver_and_print(
            pipeline,
            &o.answerer,
            &args.out,
            args.from_number.as_deref(),
            args.to_number.as_deref(),
            epoch,
        );
        let p = args.out.join("delivery.json");
        let text = serde_json::to_string_pretty(&report).expect("reports serialise");
        std::fs::write(&p, text + "\n")
            .map_err(|e| CliError::failure(format!("{}: {e}", p.display())))?;
    }
    Ok(o.caller.status == "SUCCESS" && o.answerer.status == "SUCCESS")
}
