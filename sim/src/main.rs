//! `faxsim`: the command line.
use clap::Parser;

#[derive(Parser)]
#[command(
    name = "faxsim",
    version,
    about = "Offline fax protocol simulator and test harness"
)]
struct Cli {}

fn main() {
    let _cli = Cli::parse();
}
