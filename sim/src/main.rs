//! `faxsim`: the command line.
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use sim::cmd::{self, CliError};

#[derive(Parser)]
#[command(
    name = "faxsim",
    version,
    about = "Offline fax protocol simulator and test harness"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// One simulated call between two endpoints over audio or T.38; records, received pages,
    /// call.wav and call.pcap in --out.
    Call(cmd::call::CallArgs),
    /// Our engine as a sample-stream endpoint: s16le 8 kHz mono on stdin/stdout, in lockstep.
    Endpoint(cmd::endpoint::EndpointArgs),
    /// Raw modem I/O for BER and interop checks: modulate to WAV, demodulate WAV, BER sweeps.
    Modem(cmd::modem::ModemArgs),
    /// Documents: convert to TIFF-F, write PDF, inspect, generate test pages.
    #[command(subcommand)]
    Doc(cmd::doc::DocCommand),
    /// Run a WAV file through one direction of a channel preset or chain file; list presets.
    Channel(cmd::channel::ChannelArgs),
    /// Decode and diagnose a captured fax call: WAV, RTP G.711 pcap or T.38 pcap.
    Analyze(cmd::analyze::AnalyzeArgs),
    /// The reference receive pipeline (spool, mail, FTP, printer, log) on existing call output.
    Deliver(cmd::deliver::DeliverArgs),
    /// Every completion code and pipeline outcome: number, name, exact string, when it happens.
    Errors(cmd::errors::ErrorsArgs),
    /// CPU time of whole calls: our engine pair against spandsp's, in one run.
    Bench(cmd::bench::BenchArgs),
    /// Run the scenario library (or some scenarios): one line each, a summary, JSON/JUnit/HTML.
    Run(cmd::run::RunArgs),
    /// Join the results files of shards or resumed runs into one set of reports.
    Merge(cmd::merge::MergeArgs),
    /// Many calls per point over a grid of channel parameters (or a preset): CSV, JSON,
    /// a resumable journal and an HTML report with charts.
    Sweep(cmd::sweep::SweepArgs),
}

fn main() -> ExitCode {
    // Like other Unix tools, end quietly when the reader of our output goes away
    // (`faxsim errors | head`) instead of failing on the closed pipe.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of one signal before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    match modem::simd::requested_vector_path() {
        Err(e) => {
            eprintln!("faxsim: {e}");
            return ExitCode::from(2);
        }
        Ok(Some(modem::simd::VectorPath::Avx2)) if !modem::simd::avx2_available() => {
            eprintln!(
                "faxsim: FAXSIM_VECTOR=avx2, but this processor has no AVX2: using the baseline path"
            );
        }
        _ => {}
    }
    let result: Result<(), CliError> = match cli.command {
        Command::Call(args) => match cmd::call::run(args) {
            Ok(true) => Ok(()),
            Ok(false) => return ExitCode::from(1),
            Err(e) => Err(e),
        },
        Command::Endpoint(args) => cmd::endpoint::run(args),
        Command::Modem(args) => cmd::modem::run(args),
        Command::Doc(args) => match cmd::doc::run(args) {
            Ok(0) => Ok(()),
            // The document command has already said what was wrong.
            Ok(code) => return ExitCode::from(u8::try_from(code).unwrap_or(1)),
            Err(e) => Err(CliError::failure(format!("{e:#}"))),
        },
        Command::Errors(args) => cmd::errors::run(args),
        // Exit 1 when the capture holds no fax signalling at all.
        Command::Analyze(args) => match cmd::analyze::run(args) {
            Ok(true) => Ok(()),
            Ok(false) => return ExitCode::from(1),
            Err(e) => Err(e),
        },
        Command::Deliver(args) => cmd::deliver::run(args),
        Command::Channel(args) => cmd::channel::run(args),
        Command::Bench(args) => cmd::bench::run(args),
        Command::Run(args) => match cmd::run::run(args) {
            Ok(true) => Ok(()),
            Ok(false) => return ExitCode::from(1),
            Err(e) => Err(e),
        },
        Command::Sweep(args) => cmd::sweep::run(args),
        Command::Merge(args) => match cmd::merge::run(args) {
            Ok(true) => Ok(()),
            Ok(false) => return ExitCode::from(1),
            Err(e) => Err(e),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("faxsim: {e}");
            ExitCode::from(e.code)
        }
    }
}
