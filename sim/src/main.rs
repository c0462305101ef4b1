//! `faxsim`: the command line.
use clap::{Parser, Subcommand};

mod doc_cmd;

#[derive(Parser)]
#[command(
    name = "faxsim",
    version,
    about = "Offline fax protocol simulator and test harness"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Documents: convert to TIFF-F, write PDF, inspect, generate test pages.
    #[command(subcommand)]
    Doc(doc_cmd::DocCommand),
}

fn main() {
    let cli = Cli::parse();
    if let Some(Command::Doc(cmd)) = cli.command {
        match doc_cmd::run(cmd) {
            Ok(code) => std::process::exit(code),
            Err(e) => {
                eprintln!("error: {e:#}");
                std::process::exit(1);
            }
        }
    }
}
