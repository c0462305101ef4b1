//! `faxsim call`: one simulated call between two endpoints over an audio channel.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use t30::SampleTime;
use t30::engine::codec::{BitmapDocument, DecodingSink};
use t30::engine::{Coding, Config, DocumentSource, Role};
use t30::frame::dis::modem_name::Modem;
use t30::image::Bitmap;
use t30::image::load::load_document;
use t30::image::pdf::{PdfPage, write_pdf};
use t30::image::tiff::{PageDamage, TiffWriteOptions, write_tiff};

use super::CliError;
use crate::call::{Chain, ChannelPreset, run_call};
use crate::endpoint::builtin::Builtin;
use crate::endpoint::record::HookRecord;
use crate::endpoint::spandsp::SpandspEndpoint;
use crate::endpoint::{Endpoint, EndpointOutcome, Record};
use crate::wav::StereoWavWriter;
use channel_models::chain::{ChainSpec, PRESETS};

/// Which implementation sits at one end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EndpointKind {
    /// Our T.30 engine and modems.
    Builtin,
    /// spandsp's fax engine, loaded at run time.
    Spandsp,
}

impl EndpointKind {
    fn name(self) -> &'static str {
        match self {
            EndpointKind::Builtin => "builtin",
            EndpointKind::Spandsp => "spandsp",
        }
    }
}

/// Arguments of `faxsim call`.
#[derive(Debug, Clone, Args)]
pub struct CallArgs {
    /// Document the caller sends (TIFF, PBM or PNG).
    #[arg(long, value_name = "FILE.tif")]
    pub send: PathBuf,
    /// The calling endpoint (it sends the document).
    #[arg(long, value_enum, default_value = "builtin")]
    pub caller: EndpointKind,
    /// The answering endpoint (it receives).
    #[arg(long, value_enum, default_value = "builtin")]
    pub answerer: EndpointKind,
    /// Channel preset, the same in both directions (`faxsim channel --list` shows them).
    #[arg(long, default_value = "g711-alaw")]
    pub channel: String,
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
    /// Pages the receiving side kept, decoded.
    pub received: Vec<Bitmap>,
    /// Damage of each received page, as far as the receiving endpoint reports it.
    pub damage: Vec<PageDamage>,
}

enum Side {
    Builtin(Box<Builtin>),
    Spandsp(Box<SpandspEndpoint>),
}

impl Side {
    fn ep(&mut self) -> &mut dyn Endpoint {
        match self {
            Side::Builtin(b) => b.as_mut(),
            Side::Spandsp(s) => s.as_mut(),
        }
    }
}

fn build_side(
    kind: EndpointKind,
    setup: &CallSetup,
    role: Role,
    pages: &[Bitmap],
    work: &Path,
) -> Result<(Side, Option<t30::engine::codec::ReceivedPages>), CliError> {
    match kind {
        EndpointKind::Builtin => {
            let cfg = engine_config(setup, role);
            let docs: Vec<Box<dyn DocumentSource>> = if role == Role::Caller {
                vec![Box::new(BitmapDocument::new(pages.to_vec()))]
            } else {
                Vec::new()
            };
            let (sink, kept) = DecodingSink::new();
            let b = Builtin::new(cfg, docs, Some(Box::new(sink)), Some(kept.clone()))
                .map_err(CliError::usage)?;
            Ok((Side::Builtin(Box::new(b)), Some(kept)))
        }
        EndpointKind::Spandsp => {
            let s = SpandspEndpoint::new(setup, role, pages, work).map_err(CliError::failure)?;
            Ok((Side::Spandsp(Box::new(s)), None))
        }
    }
}

fn record_of(side: &mut Side, role: Role, setup: &CallSetup) -> Record {
    let kind = match side {
        Side::Builtin(_) => EndpointKind::Builtin,
        Side::Spandsp(_) => EndpointKind::Spandsp,
    };
    let mut r = match side.ep().outcome() {
        Some(EndpointOutcome::Builtin(o)) => Record::from_outcome(&o),
        Some(EndpointOutcome::Record(r)) => *r,
        None => unreachable!("the runner clears every endpoint before returning"),
    };
    r.scenario = "call".into();
    r.seed = setup.seed;
    r.role = match role {
        Role::Caller => "caller",
        Role::Answerer => "answerer",
    }
    .into();
    r.endpoint = kind.name().into();
    r
}

/// Runs one call, writing `call.wav` into `out`; returns the records and received pages.
pub fn simulate(setup: &CallSetup, pages: &[Bitmap], out: &Path) -> Result<CallOutput, CliError> {
    let (mut a, _) = build_side(setup.caller, setup, Role::Caller, pages, out)?;
    let (mut b, kept) = build_side(setup.answerer, setup, Role::Answerer, pages, out)?;
    let wav_path = out.join("call.wav");
    let mut wav = StereoWavWriter::create(&wav_path)
        .map_err(|e| CliError::failure(format!("{}: {e}", wav_path.display())))?;
    let mut wav_err = None;
    let chain = |direction| {
        Chain::build(&setup.channel, setup.seed, direction)
            .map_err(|e| CliError::usage(format!("channel: {e}")))
    };
    let mut ab = chain("caller-to-answerer")?;
    let mut ba = chain("answerer-to-caller")?;
    let end = run_call(
        a.ep(),
        b.ep(),
        &mut ab,
        &mut ba,
        setup.limit,
        &mut |l, r| {
            if let Err(e) = wav.write(l, r) {
                wav_err.get_or_insert(e);
            }
        },
    );
    if let Some(e) = wav_err {
        return Err(CliError::failure(format!("{}: {e}", wav_path.display())));
    }
    wav.finish()
        .map_err(|e| CliError::failure(format!("{}: {e}", wav_path.display())))?;
    let mut caller = record_of(&mut a, Role::Caller, setup);
    let mut answerer = record_of(&mut b, Role::Answerer, setup);
    for r in [&mut caller, &mut answerer] {
        r.limit_reached = end.limit_reached;
        r.files.wav = Some("call.wav".into());
    }
    let (received, damage): (Vec<Bitmap>, Vec<PageDamage>) = match (kept, &mut b) {
        (Some(k), _) => k
            .lock()
            .map(|v| {
                v.iter()
                    .map(|p| {
                        let d = PageDamage {
                            bad_rows: p.bad_rows,
                            longest_bad_run: p.longest_bad_run,
                        };
                        (p.bitmap.clone(), d)
                    })
                    .unzip()
            })
            .unwrap_or_default(),
        (None, Side::Spandsp(s)) => {
            let pages = s.received_pages();
            let d = vec![PageDamage::default(); pages.len()];
            (pages, d)
        }
        (None, _) => (Vec::new(), Vec::new()),
    };
    Ok(CallOutput {
        caller,
        answerer,
        received,
        damage,
    })
}

/// File-name-safe form of an error string.
fn file_safe(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect::<String>()
        .trim_matches('_')
        .to_string()
}

fn write_received(
    out: &Path,
    pages: &[Bitmap],
    damage: &[PageDamage],
    answerer: &mut Record,
) -> Result<(), CliError> {
    if pages.is_empty() {
        return Ok(());
    }
    let fail = |p: &Path, e: String| CliError::failure(format!("{}: {e}", p.display()));
    let mut opts = TiffWriteOptions::new(t30::image::codec::Coding::Mmr);
    opts.description = Some(answerer.remotestationid.clone());
    let tiff = write_tiff(pages, Some(damage), &opts).map_err(|e| fail(out, e.to_string()))?;
    let tiff_path = out.join("received.tif");
    std::fs::write(&tiff_path, tiff).map_err(|e| fail(&tiff_path, e.to_string()))?;
    answerer.files.tiff = Some("received.tif".into());
    let pdf_pages: Vec<PdfPage> = pages.iter().map(PdfPage::from_bitmap).collect();
    let name = if answerer.status == "SUCCESS" {
        "received.pdf".to_string()
    } else {
        format!(
            "received-{}Pages-ERROR-{}.pdf",
            pages.len(),
            file_safe(&answerer.error)
        )
    };
    let pdf_path = out.join(&name);
    match write_pdf(&pdf_pages) {
        Ok(pdf) => {
            std::fs::write(&pdf_path, pdf).map_err(|e| fail(&pdf_path, e.to_string()))?;
            answerer.files.pdf = Some(name);
        }
        // The TIFF is delivered alone, as a receive pipeline does.
        Err(_) => answerer.error = "PDF Conversion".into(),
    }
    Ok(())
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
        None => ChannelPreset::from_name(&args.channel).ok_or_else(|| {
            CliError::usage(format!(
                "unknown channel '{}' (one of: {})",
                args.channel,
                PRESETS.join(", ")
            ))
        })?,
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
    let pages: Vec<Bitmap> = load_document(&args.send)
        .map_err(|e| CliError::usage(e.to_string()))?
        .into_iter()
        .map(|p| p.bitmap)
        .collect();
    if pages.is_empty() {
        return Err(CliError::usage(format!(
            "{}: no pages",
            args.send.display()
        )));
    }
    std::fs::create_dir_all(&args.out)
        .map_err(|e| CliError::failure(format!("{}: {e}", args.out.display())))?;
    let mut o = simulate(&setup, &pages, &args.out)?;
    write_received(&args.out, &o.received, &o.damage, &mut o.answerer)?;
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
    Ok(o.caller.status == "SUCCESS" && o.answerer.status == "SUCCESS")
}
