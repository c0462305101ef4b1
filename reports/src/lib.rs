//! Reports: outcome records with Asterisk FAXOPT field names, JUnit XML, HTML with plots.
//!
//! This crate will own everything a person or a CI system reads after a run: per-call
//! outcome records (JSON), JUnit XML, the single-file HTML conformance report with ladder
//! diagrams and sweep charts, and the receiver hook environment.
#![warn(missing_docs)]
