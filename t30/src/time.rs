//! Simulated time: an integer count of samples at 8000 Hz.
//!
//! Every engine input carries the time it happened; nothing in this crate reads a clock.

use std::ops::{Add, AddAssign, Sub};

/// A point in simulated time, or a duration, in samples at 8000 Hz.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SampleTime(pub u64);

impl SampleTime {
    /// The start of a call.
    pub const ZERO: SampleTime = SampleTime(0);
    /// Samples per second.
    pub const RATE: u64 = 8000;

    /// A duration of `ms` milliseconds.
    pub const fn from_ms(ms: u64) -> SampleTime {
        SampleTime(ms * 8)
    }

    /// Whole milliseconds (rounded down).
    pub const fn as_ms(self) -> u64 {
        self.0 / 8
    }

    /// Seconds as a float, for reports.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / Self::RATE as f64
    }

    /// The time `bits` take at `rate` bit/s, rounded up to a whole sample.
    pub fn for_bits(bits: u64, rate: u32) -> SampleTime {
        SampleTime((bits * Self::RATE).div_ceil(rate.max(1) as u64))
    }

    /// `self - other`, or zero when `other` is later.
    pub fn saturating_sub(self, other: SampleTime) -> SampleTime {
        SampleTime(self.0.saturating_sub(other.0))
    }
}

impl Add for SampleTime {
    type Output = SampleTime;
    fn add(self, rhs: SampleTime) -> SampleTime {
        SampleTime(self.0.saturating_add(rhs.0))
    }
}

impl AddAssign for SampleTime {
    fn add_assign(&mut self, rhs: SampleTime) {
        self.0 = self.0.saturating_add(rhs.0);
    }
}

impl Sub for SampleTime {
    type Output = SampleTime;
    fn sub(self, rhs: SampleTime) -> SampleTime {
        self.saturating_sub(rhs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        assert_eq!(SampleTime::from_ms(75), SampleTime(600));
        assert_eq!(SampleTime(8000).as_ms(), 1000);
        assert_eq!(SampleTime::for_bits(300, 300), SampleTime(8000));
        assert_eq!(SampleTime::for_bits(1, 14400), SampleTime(1));
        assert_eq!(SampleTime(5) - SampleTime(9), SampleTime::ZERO);
    }
}
