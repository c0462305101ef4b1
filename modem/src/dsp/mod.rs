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

/// `x as i32` for `x` in i32's range (truncation toward zero), in one instruction on
/// x86-64, where `as` also tests for NaN and saturates. Outside the range (NaN included)
/// x86-64 gives `i32::MIN` instead of saturating: callers use it only where `x` is in range
/// or where either result is harmless.
#[inline(always)]
pub(crate) fn trunc_i32(x: f32) -> i32 {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_cvttss_si32, _mm_set_ss};
        // SAFETY: SSE is part of every x86-64 processor.
        unsafe { _mm_cvttss_si32(_mm_set_ss(x)) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        x as i32
    }
}

/// `x as i64` in one instruction on x86-64, as [`trunc_i32`] (out of range: `i64::MIN`).
#[inline(always)]
pub(crate) fn trunc_i64(x: f64) -> i64 {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_cvttsd_si64, _mm_set_sd};
        // SAFETY: SSE2 is part of every x86-64 processor.
        unsafe { _mm_cvttsd_si64(_mm_set_sd(x)) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        x as i64
    }
}

/// `x as i64` for an `f32`, as [`trunc_i64`].
#[inline(always)]
pub(crate) fn trunc_f32_i64(x: f32) -> i64 {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_cvttss_si64, _mm_set_ss};
        // SAFETY: SSE is part of every x86-64 processor.
        unsafe { _mm_cvttss_si64(_mm_set_ss(x)) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        x as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// In range the one-instruction conversions are `as`; NaN and out-of-range values do not
    /// panic.
    #[test]
    fn truncations_match_as_in_range() {
        for x in [
            0.0f32,
            0.4,
            0.999_999,
            1.0,
            2.5,
            3.999,
            -0.5,
            -2.7,
            4_194_303.5,
            1e9,
            -1e9,
        ] {
            assert_eq!(trunc_i32(x), x as i32, "{x}");
            assert_eq!(trunc_f32_i64(x), x as i64, "{x}");
            assert_eq!(trunc_i64(x as f64 * 3.0), (x as f64 * 3.0) as i64, "{x}");
        }
        for x in [f32::NAN, f32::INFINITY, -f32::INFINITY, 3e9] {
            let _ = (trunc_i32(x), trunc_f32_i64(x), trunc_i64(x as f64));
        }
    }
}
