//! Tones.
