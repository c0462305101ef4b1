//! Bit packing helpers: MSB-first writer and reader (TIFF FillOrder 1 order).

/// Appends codes most significant bit first into bytes.
///
/// Bits gather in a 64-bit register and go to the bytes four octets at a time.
#[derive(Debug, Default, Clone)]
pub struct BitWriter {
    bytes: Vec<u8>,
    acc: u64,
    nacc: u32,
    len: usize,
}

impl BitWriter {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Append the low `len` bits of `code` (`len` ≤ 24), most significant first.
    #[inline]
    pub fn put(&mut self, code: u32, len: u32) {
        debug_assert!(len <= 24);
        // nacc < 32 between calls, so the register never holds more than 56 bits.
        self.acc = (self.acc << len) | (code & ((1u32 << len) - 1)) as u64;
        self.nacc += len;
        self.len += len as usize;
        if self.nacc >= 32 {
            self.nacc -= 32;
            self.bytes
                .extend_from_slice(&((self.acc >> self.nacc) as u32).to_be_bytes());
            self.acc &= (1u64 << self.nacc) - 1;
        }
    }

    /// Append `n` zero bits.
    pub fn zeros(&mut self, mut n: usize) {
        while n > 0 {
            let k = n.min(16);
            self.put(0, k as u32);
            n -= k;
        }
    }

    /// Pad with zero bits to the next byte boundary.
    pub fn align(&mut self) {
        let r = self.len % 8;
        if r != 0 {
            self.put(0, (8 - r) as u32);
        }
    }

    /// Number of bits written so far.
    pub fn bit_len(&self) -> usize {
        self.len
    }

    /// Finish, padding the last byte with zeros.
    pub fn into_bytes(mut self) -> Vec<u8> {
        self.align();
        // Whole octets are left in the register (fewer than four).
        while self.nacc > 0 {
            self.nacc -= 8;
            self.bytes.push((self.acc >> self.nacc) as u8);
        }
        self.bytes
    }
}

/// Reads bits most significant first from a byte slice, up to a bit limit; reads past the
/// limit return zero bits, which is what the fax decoders want (fill is zeros).
#[derive(Debug, Clone)]
pub struct BitReader<'a> {
    data: &'a [u8],
    pos: usize,
    end: usize,
}

impl<'a> BitReader<'a> {
    /// A reader over all bits of `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Self::with_len(data, data.len() * 8)
    }

    /// A reader over the first `bits` bits of `data`.
    pub fn with_len(data: &'a [u8], bits: usize) -> Self {
        Self {
            data,
            pos: 0,
            end: bits.min(data.len() * 8),
        }
    }

    /// The next `n` bits (`n` ≤ 25) without consuming them, zero-padded past the end.
    #[inline]
    pub fn peek(&self, n: u32) -> u32 {
        let byte = self.pos / 8;
        let shift = self.pos % 8;
        let w = match self.data.get(byte..byte + 4) {
            Some(four) => u32::from_be_bytes([four[0], four[1], four[2], four[3]]),
            None => {
                let mut w: u32 = 0;
                for i in 0..4 {
                    w = (w << 8) | self.data.get(byte + i).copied().unwrap_or(0) as u32;
                }
                w
            }
        };
        let mut v = (w << shift) >> (32 - n);
        // Mask bits that lie beyond `end` (they may be real bytes of a longer slice).
        if self.pos + n as usize > self.end {
            let valid = self.end.saturating_sub(self.pos) as u32;
            if valid == 0 {
                v = 0;
            } else {
                v &= !((1u32 << (n - valid)) - 1);
            }
        }
        v
    }

    /// Consume `n` bits.
    #[inline]
    pub fn skip(&mut self, n: u32) {
        self.pos += n as usize;
    }

    /// Read one bit (zero past the end).
    #[inline]
    pub fn bit(&mut self) -> bool {
        let b = self.peek(1) != 0;
        self.pos += 1;
        b
    }

    /// Current bit position.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Bit limit.
    pub fn end(&self) -> usize {
        self.end
    }

    /// Move to the next byte boundary.
    pub fn align(&mut self) {
        self.pos = self.pos.div_ceil(8) * 8;
    }

    /// True when every bit from the current position to the limit is zero.
    pub fn rest_is_zero(&self) -> bool {
        let mut r = self.clone();
        while r.pos < r.end {
            let n = (r.end - r.pos).min(16) as u32;
            if r.peek(n) != 0 {
                return false;
            }
            r.pos += n as usize;
        }
        true
    }
}

/// Reverse the bit order of every byte (FillOrder 1 ↔ 2; line order of T.4 ↔ MSB-first).
pub fn reverse_bits(data: &mut [u8]) {
    for b in data {
        *b = b.reverse_bits();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn the_writer_packs_codes_as_bit_by_bit(
            codes in proptest::collection::vec((proptest::prelude::any::<u32>(), 0u32..=24), 0..200),
        ) {
            let mut w = BitWriter::new();
            let mut bits = Vec::new();
            for &(code, len) in &codes {
                w.put(code, len);
                bits.extend((0..len).rev().map(|i| code >> i & 1 != 0));
                proptest::prop_assert_eq!(w.bit_len(), bits.len());
            }
            let mut want = vec![0u8; bits.len().div_ceil(8)];
            for (i, &b) in bits.iter().enumerate() {
                want[i / 8] |= (b as u8) << (7 - i % 8);
            }
            proptest::prop_assert_eq!(w.into_bytes(), want);
        }
    }
}
