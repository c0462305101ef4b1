//! G.711 A-law and µ-law companding (ITU-T G.711, with the 16-bit interface of the G.191
//! software tools): 16-bit linear samples in, 8-bit codes out, and back.
//!
//! [`G711`] is the audio stage of a G.711 hop: every sample is encoded and decoded, so the
//! far end hears exactly what a G.711 line delivers.
//!
//! Checked against spandsp 0.0.6 on every input (channel-models/tests/g711_spandsp.rs): A-law
//! agrees on all 65 536 encodes and 256 decodes; µ-law decodes agree, and spandsp's µ-law
//! encoder departs from the reference on 127 negative inputs, each at the edge of a
//! quantisation step (−4, −12, −20, … −31612), where it picks the neighbouring code. We follow
//! the reference, not spandsp.

use crate::AudioStage;

/// Which companding law.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Law {
    /// A-law (Europe, most of the world).
    ALaw,
    /// µ-law (North America, Japan).
    MuLaw,
}

/// Encodes a 16-bit linear sample to an A-law code (even bits inverted, as sent).
pub fn alaw_encode(x: i16) -> u8 {
    // One's complement magnitude of the 12-bit value, as G.191 does (so -1 maps to 0x55).
    let positive = x >= 0;
    let mut ix = if positive { x >> 4 } else { !x >> 4 } as i32;
    if ix > 15 {
        let mut exp = 1;
        while ix > 16 + 15 {
            ix >>= 1;
            exp += 1;
        }
        ix -= 16;
        ix += exp << 4;
    }
    if positive {
        ix |= 0x80;
    }
    (ix ^ 0x55) as u8
}

/// Decodes an A-law code to a 16-bit linear sample (the middle of the code's interval).
pub fn alaw_decode(code: u8) -> i16 {
    let ix = (code ^ 0x55) & 0x7F;
    let exp = ix >> 4;
    let mut mant = (ix & 0x0F) as i32;
    if exp > 0 {
        mant += 16;
    }
    mant = (mant << 4) + 8;
    if exp > 1 {
        mant <<= exp - 1;
    }
    if (code ^ 0x55) & 0x80 != 0 {
        mant as i16
    } else {
        -mant as i16
    }
}

/// Encodes a 16-bit linear sample to a µ-law code (all bits inverted, as sent).
pub fn ulaw_encode(x: i16) -> u8 {
    // 14-bit magnitude plus the bias of 33, limited to 13 bits.
    let abs = if x < 0 {
        (!x >> 2) as i32
    } else {
        (x >> 2) as i32
    } + 33;
    let abs = abs.min(0x1FFF);
    let mut i = abs >> 6;
    let mut seg = 1;
    while i != 0 {
        seg += 1;
        i >>= 1;
    }
    let high = 8 - seg;
    let low = 0x0F - ((abs >> seg) & 0x0F);
    let mut out = (high << 4) | low;
    if x >= 0 {
        out |= 0x80;
    }
    out as u8
}

/// Decodes a µ-law code to a 16-bit linear sample.
pub fn ulaw_decode(code: u8) -> i16 {
    let m = !code;
    let exp = ((m >> 4) & 7) as i32;
    let seg = exp + 1;
    let mant = (m & 0x0F) as i32;
    let step = 4 << seg;
    let v = (0x80 << exp) + step * mant + step / 2 - 4 * 33;
    if code < 0x80 { -v as i16 } else { v as i16 }
}

/// A G.711 hop: each sample encoded with the law and decoded again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct G711 {
    law: Law,
}

impl G711 {
    /// A hop with this law.
    pub fn new(law: Law) -> Self {
        G711 { law }
    }

    /// One sample through the hop.
    pub fn tandem(&self, x: i16) -> i16 {
        match self.law {
            Law::ALaw => alaw_decode(alaw_encode(x)),
            Law::MuLaw => ulaw_decode(ulaw_encode(x)),
        }
    }
}

/// Every input's trip through a hop, per law, built on first use: a call runs a G.711 hop
/// per direction over every sample, and one lookup beats encoding and decoding.
fn tandem_table(law: Law) -> &'static [i16] {
    static ALAW: std::sync::OnceLock<Vec<i16>> = std::sync::OnceLock::new();
    static ULAW: std::sync::OnceLock<Vec<i16>> = std::sync::OnceLock::new();
    let build = |law: Law| -> Vec<i16> {
        let hop = G711 { law };
        (0..=u16::MAX).map(|i| hop.tandem(i as i16)).collect()
    };
    match law {
        Law::ALaw => ALAW.get_or_init(|| build(Law::ALaw)),
        Law::MuLaw => ULAW.get_or_init(|| build(Law::MuLaw)),
    }
}

impl AudioStage for G711 {
    fn process(&mut self, input: &[i16], out: &mut Vec<i16>) {
        let table = tandem_table(self.law);
        out.extend(input.iter().map(|&x| table[x as u16 as usize]));
    }
}

/// A µ-law hop over a T1 trunk with robbed-bit signalling: every sixth sample's code has
/// its least significant bit replaced by the signalling bit (held at 1, on-hook idle
/// pattern aside), which costs about 1.8 dB of SNR and is one reason fax modems see worse
/// lines in North America.
#[derive(Debug, Clone, Default)]
pub struct UlawRobbedBit {
    n: u64,
}

impl UlawRobbedBit {
    /// A hop starting at the first sample of a six-frame cycle.
    pub fn new() -> Self {
        UlawRobbedBit { n: 0 }
    }
}

impl AudioStage for UlawRobbedBit {
    fn process(&mut self, input: &[i16], out: &mut Vec<i16>) {
        for &x in input {
            let mut code = ulaw_encode(x);
            if self.n % 6 == 5 {
                code |= 1;
            }
            self.n += 1;
            out.push(ulaw_decode(code));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alaw_known_values() {
        // G.711 table 1: zero sits in the smallest positive interval, code 0xD5 (0x80 ^ 0x55).
        assert_eq!(alaw_encode(0), 0xD5);
        assert_eq!(alaw_encode(-1), 0x55);
        assert_eq!(alaw_encode(i16::MAX), 0xAA);
        assert_eq!(alaw_encode(i16::MIN), 0x2A);
        assert_eq!(alaw_decode(0xD5), 8);
        assert_eq!(alaw_decode(0x55), -8);
        assert_eq!(alaw_decode(0xAA), 32256);
        assert_eq!(alaw_decode(0x2A), -32256);
        // First interval boundary of segment 1: 16-bit 256 (12-bit 32).
        assert_eq!(alaw_encode(255), 0x8F ^ 0x55);
        assert_eq!(alaw_encode(256), 0x90 ^ 0x55);
        assert_eq!(alaw_decode(0x90 ^ 0x55), 264);
    }

    #[test]
    fn ulaw_known_values() {
        assert_eq!(ulaw_encode(0), 0xFF);
        assert_eq!(ulaw_encode(-1), 0x7F);
        assert_eq!(ulaw_encode(i16::MAX), 0x80);
        assert_eq!(ulaw_encode(i16::MIN), 0x00);
        assert_eq!(ulaw_decode(0xFF), 0);
        assert_eq!(ulaw_decode(0x7F), 0);
        assert_eq!(ulaw_decode(0x80), 32124);
        assert_eq!(ulaw_decode(0x00), -32124);
        assert_eq!(ulaw_decode(0xFE), 8);
    }

    #[test]
    fn every_code_is_a_fixed_point() {
        // Decoding then encoding gives the code back, for all 256 codes except µ-law's
        // negative zero (0x7F), which encodes as positive zero's neighbour.
        for c in 0..=255u8 {
            assert_eq!(alaw_encode(alaw_decode(c)), c, "A-law {c:#04x}");
            if c != 0x7F {
                assert_eq!(ulaw_encode(ulaw_decode(c)), c, "µ-law {c:#04x}");
            }
        }
    }

    #[test]
    fn tandem_error_is_within_half_a_step() {
        let a = G711::new(Law::ALaw);
        let u = G711::new(Law::MuLaw);
        for x in (-32000i32..32000).step_by(7) {
            let x = x as i16;
            let ea = (a.tandem(x) as i32 - x as i32).abs();
            let eu = (u.tandem(x) as i32 - x as i32).abs();
            // Largest step: 1024 (A-law segment 7), 1024 (µ-law segment 8).
            assert!(
                ea <= 512 && ea <= (x as i32).abs() / 32 + 16,
                "A-law {x}: {ea}"
            );
            assert!(
                eu <= 512 && eu <= (x as i32).abs() / 16 + 8,
                "µ-law {x}: {eu}"
            );
        }
    }

    #[test]
    fn stage_table_equals_encode_then_decode() {
        for law in [Law::ALaw, Law::MuLaw] {
            let mut s = G711::new(law);
            let input: Vec<i16> = (i16::MIN..=i16::MAX).collect();
            let mut out = Vec::new();
            s.process(&input, &mut out);
            for (&x, &y) in input.iter().zip(&out) {
                assert_eq!(y, s.tandem(x), "{law:?} {x}");
            }
        }
    }

    #[test]
    fn stage_keeps_length() {
        let mut s = G711::new(Law::ALaw);
        let mut out = Vec::new();
        s.process(&[0, 1000, -1000], &mut out);
        assert_eq!(out, vec![8, 1008, -1008]);
    }

    #[test]
    fn robbed_bit_touches_only_every_sixth_sample() {
        let input: Vec<i16> = (0..600).map(|i| ((i * 37) % 4000 - 2000) as i16).collect();
        let mut plain = Vec::new();
        G711::new(Law::MuLaw).process(&input, &mut plain);
        let mut robbed = Vec::new();
        let mut stage = UlawRobbedBit::new();
        for chunk in input.chunks(7) {
            stage.process(chunk, &mut robbed);
        }
        let mut changed = 0;
        for (i, (a, b)) in plain.iter().zip(&robbed).enumerate() {
            if i % 6 != 5 {
                assert_eq!(a, b, "sample {i}");
            } else {
                assert_eq!(
                    ulaw_encode(*b) & 1,
                    1,
                    "sample {i} carries the signalling bit"
                );
                changed += (a != b) as usize;
            }
        }
        assert!(changed > 20, "only {changed} robbed samples changed");
    }
}
