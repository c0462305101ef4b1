//! The T.30 fax protocol engine, sans-IO.
#![warn(missing_docs)]

pub mod completion;
pub mod engine;
pub mod frame;
pub mod image;
pub mod time;

pub use engine::Engine;
pub use time::SampleTime;
