//! The simulator: endpoints, the call runner, captures, and the `faxsim` command line.
#![warn(missing_docs)]

pub mod analyze;
pub mod call;
pub mod capture;
pub mod cmd;
pub mod deliver;
pub mod docload;
pub mod endpoint;
pub mod modem_run;
pub mod modems;
pub mod resample;
pub mod scenario;
pub mod session;
pub mod sweep;
pub mod t38;
pub mod wav;
