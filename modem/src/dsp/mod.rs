//! Shared DSP building blocks: oscillators, power meters, carrier detection, filters.
//!
//! Each block precomputes in `new()` and then runs per sample with no allocation.

mod carrier;
mod nco;
mod shaper;

pub(crate) use carrier::CarrierFall;
#[cfg(test)]
pub(crate) use carrier::TestUniform;
pub use carrier::{CarrierDetect, PowerMeter};
pub use nco::{Nco, phase_step};
pub use num_complex::Complex32;
pub use shaper::{BlockShaper, Pull, PulseShaper, root_raised_cosine};
