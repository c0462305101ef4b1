//! CRC-16/ITU-T, the HDLC frame check sequence (ISO/IEC 3309, T.30 §5.3.7).
//!
//! Generator x^16 + x^12 + x^5 + 1, register preset to all ones, bits processed least
//! significant first (the order HDLC sends them), and the ones complement of the remainder
//! sent as the FCS, low octet first. Running the receiver's CRC over data *and* FCS leaves the
//! fixed residue [`GOOD_RESIDUE`] when the frame is intact.

/// Initial register value.
pub const INIT: u16 = 0xFFFF;

/// Register value after a whole intact frame (data followed by its FCS) has been processed.
pub const GOOD_RESIDUE: u16 = 0xF0B8;

/// The generator polynomial bit-reversed, for least-significant-bit-first processing.
const POLY_REFLECTED: u16 = 0x8408;

const fn build_table() -> [u16; 256] {
    let mut table = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u16;
        let mut b = 0;
        while b < 8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ POLY_REFLECTED
            } else {
                crc >> 1
            };
            b += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
}

static TABLE: [u16; 256] = build_table();

/// Advances the register over `data`, octet by octet.
#[inline]
pub fn update(mut crc: u16, data: &[u8]) -> u16 {
    for &byte in data {
        crc = (crc >> 8) ^ TABLE[((crc ^ byte as u16) & 0xFF) as usize];
    }
    crc
}

/// Advances the register by one bit.
#[inline]
pub fn update_bit(crc: u16, bit: bool) -> u16 {
    if (crc & 1 != 0) ^ bit {
        (crc >> 1) ^ POLY_REFLECTED
    } else {
        crc >> 1
    }
}

/// The FCS of `data`: the ones complement of the register, to be sent low octet first.
pub fn fcs(data: &[u8]) -> u16 {
    !update(INIT, data)
}

/// True when `frame` (data followed by its two FCS octets) checks good.
pub fn check(frame: &[u8]) -> bool {
    update(INIT, frame) == GOOD_RESIDUE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_value() {
        // The catalogued check value of CRC-16/IBM-SDLC (X.25) for "123456789".
        assert_eq!(fcs(b"123456789"), 0x906E);
    }

    #[test]
    fn bitwise_matches_table() {
        let data = b"\x00\xFF\x7E\x3F\x12\x34";
        let mut crc = INIT;
        for &byte in data {
            for i in 0..8 {
                crc = update_bit(crc, byte >> i & 1 != 0);
            }
        }
        assert_eq!(crc, update(INIT, data));
    }

    #[test]
    fn residue_after_fcs() {
        let mut frame = b"123456789".to_vec();
        let f = fcs(&frame);
        frame.extend_from_slice(&f.to_le_bytes());
        assert_eq!(update(INIT, &frame), GOOD_RESIDUE);
        frame[3] ^= 0x10;
        assert!(!check(&frame));
    }
}
