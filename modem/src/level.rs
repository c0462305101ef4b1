//! Signal levels in dBm0.
//!
//! 0 dBm0 is taken as a sine of peak amplitude [`DBM0_PEAK`] in 16-bit samples: the A-law
//! full-scale sine is +3.14 dBm0 (G.711), and 16-bit full scale stands for it.

/// Peak amplitude of a 0 dBm0 sine, in 16-bit sample units.
pub const DBM0_PEAK: f32 = 22_786.0;

/// RMS of a 0 dBm0 signal, in 16-bit sample units.
pub const DBM0_RMS: f32 = DBM0_PEAK * std::f32::consts::FRAC_1_SQRT_2;

/// Default transmit level of every modem and tone generator.
pub const DEFAULT_TX_DBM0: f32 = -10.0;

/// The RMS, in 16-bit sample units, of a signal at `dbm0`.
pub fn dbm0_to_rms(dbm0: f32) -> f32 {
    DBM0_RMS * 10f32.powf(dbm0 / 20.0)
}

/// The level in dBm0 of a signal whose mean square (16-bit units) is `power`.
pub fn power_to_dbm0(power: f32) -> f32 {
    10.0 * (power.max(1e-10) / (DBM0_RMS * DBM0_RMS)).log10()
}

/// Rounds and saturates a sample to 16 bits.
#[inline]
pub fn to_i16(x: f32) -> i16 {
    // Half away from zero, as `round`, without its library call; `as` saturates.
    (x + 0.5f32.copysign(x)) as i16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_level_round_trips() {
        let rms = dbm0_to_rms(-10.0);
        assert!((power_to_dbm0(rms * rms) + 10.0).abs() < 1e-4);
        assert!((dbm0_to_rms(0.0) - 16_112.0).abs() < 1.0);
    }
}
