//! The `faxsim` subcommands. Each module holds one command's clap arguments and its `run`.

pub mod analyze;
pub mod bench;
pub mod call;
pub mod channel;
pub mod deliver;
pub mod doc;
pub mod endpoint;
pub mod errors;
pub mod merge;
pub mod modem;
pub mod run;
pub mod sweep;

use std::fmt;

/// A command's failure: a one-line message and the process exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError {
    /// Exit status: [`CliError::USAGE`] for bad usage or input, [`CliError::FAILURE`] for
    /// anything else.
    pub code: u8,
    /// What went wrong, on one line, naming the file concerned.
    pub message: String,
}

impl CliError {
    /// Exit status for bad usage or bad input files.
    pub const USAGE: u8 = 2;
    /// Exit status for other failures (something unavailable, an output that cannot be written).
    pub const FAILURE: u8 = 1;

    /// A bad-usage or bad-input error.
    pub fn usage(message: impl Into<String>) -> CliError {
        CliError {
            code: Self::USAGE,
            message: one_line(message.into()),
        }
    }

    /// Any other failure.
    pub fn failure(message: impl Into<String>) -> CliError {
        CliError {
            code: Self::FAILURE,
            message: one_line(message.into()),
        }
    }
}

fn one_line(s: String) -> String {
    if s.contains('\n') {
        s.split_whitespace().collect::<Vec<_>>().join(" ")
    } else {
        s
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}
