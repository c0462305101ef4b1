//! `faxsim analyze`: decode a captured fax call (WAV, RTP G.711 pcap, T.38 pcap) and
//! diagnose it.

use std::path::PathBuf;

use clap::Args;

use super::CliError;
use crate::analyze::{self, Options};

/// Arguments of `faxsim analyze`.
#[derive(Debug, Clone, Args)]
pub struct AnalyzeArgs {
    /// The capture: WAV (mono tap or one side per channel), pcap or pcapng (RTP G.711 or
    /// T.38 UDPTL).
    #[arg(value_name = "CAPTURE")]
    pub capture: PathBuf,
    /// One JSON document on stdout instead of the text report.
    #[arg(long)]
    pub json: bool,
    /// DIS/DTC/DCS bit by bit and every frame's octets in the text report.
    #[arg(long, short)]
    pub verbose: bool,
    /// Analyse from this time on, seconds.
    #[arg(long, value_name = "SECONDS")]
    pub from: Option<f64>,
    /// Analyse up to this time, seconds.
    #[arg(long, value_name = "SECONDS")]
    pub to: Option<f64>,
    /// Treat UDP to or from this port as T.38 UDPTL.
    #[arg(long, value_name = "PORT")]
    pub t38_port: Option<u16>,
    /// List the RTP streams and T.38 flows of a pcap, then stop.
    #[arg(long)]
    pub list: bool,
    /// Analyse this RTP stream (or, in a capture without RTP, this T.38 flow), as `--list`
    /// numbers them, with the one going back.
    #[arg(long, value_name = "N")]
    pub stream: Option<usize>,
    /// Write the received pages here as TIFF-F and PDF.
    #[arg(long, value_name = "DIR")]
    pub pages: Option<PathBuf>,
    /// Also write the report as one HTML page: ladder diagram (SVG), spectrogram per track.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Run our engine in place of this side (caller or answerer) against the other side
    /// as recorded (audio captures), and show where it would have done differently.
    #[arg(long, value_name = "SIDE")]
    pub replay: Option<String>,
}

/// Runs `faxsim analyze`: `Ok(true)` when the capture holds fax signalling.
pub fn run(args: AnalyzeArgs) -> Result<bool, CliError> {
    let name = args.capture.display().to_string();
    for (flag, v) in [("--from", args.from), ("--to", args.to)] {
        if v.is_some_and(|x| !x.is_finite() || x < 0.0) {
            return Err(CliError::usage(format!(
                "{flag} must be a time in seconds, 0 or more"
            )));
        }
    }
    if let (Some(f), Some(t)) = (args.from, args.to)
        && t <= f
    {
        return Err(CliError::usage("--to must be later than --from"));
    }
    let replay_side = match args.replay.as_deref() {
        None => None,
        Some(s) => Some(analyze::replay::parse_side(s).ok_or_else(|| {
            CliError::usage(format!("--replay must be caller or answerer, not '{s}'"))
        })?),
    };
    let bytes = std::fs::read(&args.capture)
        .map_err(|e| CliError::usage(format!("{name}: cannot read: {e}")))?;
    if args.list {
        if analyze::sniff(&bytes) != Some(analyze::FileKind::Pcap) {
            return Err(CliError::usage(format!(
                "{name}: --list needs a pcap or pcapng capture"
            )));
        }
        let lines =
            analyze::list_streams(&bytes).map_err(|e| CliError::usage(format!("{name}: {e}")))?;
        if lines.is_empty() {
            println!("{name}: no RTP G.711 stream or T.38 flow found");
        }
        for l in lines {
            println!("{l}");
        }
        return Ok(true);
    }
    let opts = Options {
        from_s: args.from,
        to_s: args.to,
        t38_port: args.t38_port,
        stream: args.stream,
        spectrograms: args.html.is_some(),
    };
    let (mut report, tracks) = analyze::analyze_with_audio(&name, &bytes, &opts)
        .map_err(|e| CliError::usage(format!("{name}: {e}")))?;
    if let Some(side) = replay_side {
        let rp = analyze::replay::replay(&report, &tracks, args.from.unwrap_or(0.0), side)
            .map_err(|e| CliError::usage(format!("{name}: {e}")))?;
        report.replay = Some(rp);
    }
    if let Some(dir) = &args.pages {
        let written = analyze::pages::write_pages(&report, dir)
            .map_err(|e| CliError::failure(format!("{}: {e}", dir.display())))?;
        if !args.json {
            for w in &written {
                eprintln!("wrote {w}");
            }
        }
    }
    if let Some(path) = &args.html {
        std::fs::write(path, analyze::html::render(&report, &report.spectrograms))
            .map_err(|e| CliError::failure(format!("{}: {e}", path.display())))?;
    }
    if args.json {
        let text = serde_json::to_string_pretty(&report).expect("reports serialise");
        println!("{text}");
    } else {
        print!("{}", analyze::render::text(&report, args.verbose));
    }
    Ok(report.diagnosis.fax_found)
}
