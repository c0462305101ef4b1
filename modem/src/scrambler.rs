//! Self-synchronising scramblers, as the V-series modems use them.
//!
//! V.17 and V.29 use the generating polynomial 1 + x⁻¹⁸ + x⁻²³; V.27ter uses 1 + x⁻⁶ + x⁻⁷.
//! The scrambler feeds back its own output; the descrambler feeds forward what it received,
//! so it locks to any scrambler after the register length, whatever the starting states.

/// The V.17/V.29 polynomial taps.
pub const TAPS_V17_V29: (u32, u32) = (18, 23);
/// The V.27ter polynomial taps.
pub const TAPS_V27TER: (u32, u32) = (6, 7);

/// A scrambler with feedback taps at `x^-a` and `x^-b`.
#[derive(Debug, Clone)]
pub struct Scrambler {
    reg: u32,
    a: u32,
    b: u32,
}

impl Scrambler {
    /// A scrambler for the polynomial `1 + x^-a + x^-b` (a < b ≤ 32), register cleared.
    pub fn new((a, b): (u32, u32)) -> Self {
        assert!(0 < a && a < b && b <= 32, "scrambler taps out of range");
        Scrambler { reg: 0, a, b }
    }

    /// Scrambles one bit.
    #[inline]
    pub fn scramble(&mut self, bit: bool) -> bool {
        let fb = ((self.reg >> (self.a - 1)) ^ (self.reg >> (self.b - 1))) & 1;
        let out = bit as u32 ^ fb;
        self.reg = (self.reg << 1) | out;
        out != 0
    }

    /// The register (most recent output bit in bit 0).
    pub fn state(&self) -> u32 {
        self.reg
    }

    /// Sets the register.
    pub fn set_state(&mut self, reg: u32) {
        self.reg = reg;
    }
}

/// The transmit scrambler taking a group of bits at a time: the same output as
/// [`Scrambler`], bit for bit, with no per-bit dependency chain. Each line bit depends on
/// line bits at least `a` places back, so up to `a` bits are scrambled at once.
#[derive(Debug, Clone)]
pub struct GroupScrambler {
    /// The register of [`Scrambler`] bit-reversed: the most recent line bit in bit 31, so a
    /// group's feedback, first bit in bit 0, is two shifts.
    rev: u32,
    a: u32,
    b: u32,
}

impl GroupScrambler {
    /// A scrambler for `1 + x^-a + x^-b` (a < b ≤ 32), register cleared.
    pub fn new((a, b): (u32, u32)) -> Self {
        assert!(0 < a && a < b && b <= 32, "scrambler taps out of range");
        GroupScrambler { rev: 0, a, b }
    }

    /// Scrambles `n` bits (1 ≤ n ≤ a), the first in time in bit 0; the line bits come back
    /// in the same order.
    #[inline]
    pub fn scramble_group(&mut self, bits: u32, n: u32) -> u32 {
        debug_assert!(n >= 1 && n <= self.a, "group of {n} bits");
        let mask = (1u32 << n) - 1;
        let fb = (self.rev >> (32 - self.a)) ^ (self.rev >> (32 - self.b));
        let out = (bits ^ fb) & mask;
        self.rev = (self.rev >> n) | (out << (32 - n));
        out
    }

    /// Scrambles one bit.
    #[inline]
    pub fn scramble(&mut self, bit: bool) -> bool {
        self.scramble_group(bit as u32, 1) != 0
    }

    /// The register as [`Scrambler::state`] gives it (most recent line bit in bit 0).
    pub fn state(&self) -> u32 {
        self.rev.reverse_bits()
    }

    /// Sets the register ([`Scrambler::set_state`]'s layout).
    pub fn set_state(&mut self, reg: u32) {
        self.rev = reg.reverse_bits();
    }
}

/// The matching descrambler.
#[derive(Debug, Clone)]
pub struct Descrambler {
    reg: u32,
    a: u32,
    b: u32,
}

impl Descrambler {
    /// A descrambler for `1 + x^-a + x^-b`, register cleared.
    pub fn new((a, b): (u32, u32)) -> Self {
        assert!(0 < a && a < b && b <= 32, "scrambler taps out of range");
        Descrambler { reg: 0, a, b }
    }

    /// Descrambles one received bit.
    #[inline]
    pub fn descramble(&mut self, bit: bool) -> bool {
        let fb = ((self.reg >> (self.a - 1)) ^ (self.reg >> (self.b - 1))) & 1;
        self.reg = (self.reg << 1) | bit as u32;
        (bit as u32 ^ fb) != 0
    }

    /// The register (most recent received bit in bit 0).
    pub fn state(&self) -> u32 {
        self.reg
    }

    /// Sets the register.
    pub fn set_state(&mut self, reg: u32) {
        self.reg = reg;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn round_trip_after_sync(bits in proptest::collection::vec(any::<bool>(), 0..2000),
                                 tx_state in any::<u32>(), rx_state in any::<u32>(),
                                 v27 in any::<bool>()) {
            let taps = if v27 { TAPS_V27TER } else { TAPS_V17_V29 };
            let mut s = Scrambler::new(taps);
            let mut d = Descrambler::new(taps);
            s.set_state(tx_state);
            d.set_state(rx_state);
            for (i, &b) in bits.iter().enumerate() {
                let out = d.descramble(s.scramble(b));
                // Any starting states agree once the register has filled.
                if i >= taps.1 as usize {
                    prop_assert_eq!(out, b);
                }
            }
        }
    }

    proptest! {
        #[test]
        fn group_scrambler_matches_bitwise(bits in proptest::collection::vec(any::<bool>(), 0..600),
                                           groups in proptest::collection::vec(1u32..7, 1..20),
                                           state in any::<u32>(), v27 in any::<bool>()) {
            let taps = if v27 { TAPS_V27TER } else { TAPS_V17_V29 };
            let mut s = Scrambler::new(taps);
            let mut g = GroupScrambler::new(taps);
            s.set_state(state);
            g.set_state(state);
            prop_assert_eq!(g.state(), state);
            let mut i = 0;
            let mut k = 0;
            while i < bits.len() {
                let n = (groups[k % groups.len()]).min(taps.0).min((bits.len() - i) as u32);
                k += 1;
                let word = (0..n).fold(0u32, |w, j| w | (bits[i + j as usize] as u32) << j);
                let out = g.scramble_group(word, n);
                for j in 0..n {
                    prop_assert_eq!(out >> j & 1 != 0, s.scramble(bits[i + j as usize]));
                }
                i += n as usize;
                prop_assert_eq!(g.state(), s.state());
            }
        }
    }

    #[test]
    fn scrambled_ones_are_balanced() {
        let mut s = Scrambler::new(TAPS_V17_V29);
        s.set_state(1);
        let n = 100_000;
        let ones = (0..n).filter(|_| s.scramble(true)).count();
        assert!((ones as f64 / n as f64 - 0.5).abs() < 0.01);
    }
}
