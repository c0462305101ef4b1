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
    /// Raw modem I/O for BER and interop checks: modulate to WAV, demodulate WAV, BER sweeps.
    Modem(cmd::modem::ModemArgs),
    /// Every completion code and pipeline outcome: number, name, exact string, when it happens.
    Errors(cmd::errors::ErrorsArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result: Result<(), CliError> = match cli.command {
        Command::Modem(args) => cmd::modem::run(args),
        Command::Errors(args) => cmd::errors::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("faxsim: {e}");
            ExitCode::from(e.code)
        }
    }
}
