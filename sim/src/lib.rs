//! The simulator: endpoints, the call runner, captures, and the `faxsim` command line.
#![warn(missing_docs)]

pub mod resample;
pub mod wav;
