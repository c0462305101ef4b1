//! The code tables of ITU-T T.4 (Tables 1 to 4 and the 2-D mode codes), and lookup tables
//! for decoding built from them once.

use std::sync::OnceLock;

/// White terminating codes, runs 0..=63, as bit strings.
const WHITE_TERM: [&str; 64] = [
    "00110101", "000111", "0111", "1000", "1011", "1100", "1110", "1111", "10011", "10100",
    "00111", "01000", "001000", "000011", "110100", "110101", "101010", "101011", "0100111",
    "0001100", "0001000", "0010111", "0000011", "0000100", "0101000", "0101011", "0010011",
    "0100100", "0011000", "00000010", "00000011", "00011010", "00011011", "00010010", "00010011",
    "00010100", "00010101", "00010110", "00010111", "00101000", "00101001", "00101010", "00101011",
    "00101100", "00101101", "00000100", "00000101", "00001010", "00001011", "01010010", "01010011",
    "01010100", "01010101", "00100100", "00100101", "01011000", "01011001", "01011010", "01011011",
    "01001010", "01001011", "00110010", "00110011", "00110100",
];

/// White make-up codes, runs 64..=1728 in steps of 64.
const WHITE_MAKEUP: [&str; 27] = [
    "11011",
    "10010",
    "010111",
    "0110111",
    "00110110",
    "00110111",
    "01100100",
    "01100101",
    "01101000",
    "01100111",
    "011001100",
    "011001101",
    "011010010",
    "011010011",
    "011010100",
    "011010101",
    "011010110",
    "011010111",
    "011011000",
    "011011001",
    "011011010",
    "011011011",
    "010011000",
    "010011001",
    "010011010",
    "011000",
    "010011011",
];

/// Black terminating codes, runs 0..=63.
const BLACK_TERM: [&str; 64] = [
    "0000110111",
    "010",
    "11",
    "10",
    "011",
    "0011",
    "0010",
    "00011",
    "000101",
    "000100",
    "0000100",
    "0000101",
    "0000111",
    "00000100",
    "00000111",
    "000011000",
    "0000010111",
    "0000011000",
    "0000001000",
    "00001100111",
    "00001101000",
    "00001101100",
    "00000110111",
    "00000101000",
    "00000010111",
    "00000011000",
    "000011001010",
    "000011001011",
    "000011001100",
    "000011001101",
    "000001101000",
    "000001101001",
    "000001101010",
    "000001101011",
    "000011010010",
    "000011010011",
    "000011010100",
    "000011010101",
    "000011010110",
    "000011010111",
    "000001101100",
    "000001101101",
    "000011011010",
    "000011011011",
    "000001010100",
    "000001010101",
    "000001010110",
    "000001010111",
    "000001100100",
    "000001100101",
    "000001010010",
    "000001010011",
    "000000100100",
    "000000110111",
    "000000111000",
    "000000100111",
    "000000101000",
    "000001011000",
    "000001011001",
    "000000101011",
    "000000101100",
    "000001011010",
    "000001100110",
    "000001100111",
];

/// Black make-up codes, runs 64..=1728 in steps of 64.
const BLACK_MAKEUP: [&str; 27] = [
    "0000001111",
    "000011001000",
    "000011001001",
    "000001011011",
    "000000110011",
    "000000110100",
    "000000110101",
    "0000001101100",
    "0000001101101",
    "0000001001010",
    "0000001001011",
    "0000001001100",
    "0000001001101",
    "0000001110010",
    "0000001110011",
    "0000001110100",
    "0000001110101",
    "0000001110110",
    "0000001110111",
    "0000001010010",
    "0000001010011",
    "0000001010100",
    "0000001010101",
    "0000001011010",
    "0000001011011",
    "0000001100100",
    "0000001100101",
];

/// Extended make-up codes shared by both colours, runs 1792..=2560 in steps of 64.
const EXT_MAKEUP: [&str; 13] = [
    "00000001000",
    "00000001100",
    "00000001101",
    "000000010010",
    "000000010011",
    "000000010100",
    "000000010101",
    "000000010110",
    "000000010111",
    "000000011100",
    "000000011101",
    "000000011110",
    "000000011111",
];

/// A code word: value (right-aligned) and length in bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code {
    /// The code bits, right-aligned.
    pub bits: u16,
    /// Length in bits.
    pub len: u8,
}

const fn parse(s: &str) -> Code {
    let b = s.as_bytes();
    let mut v = 0u16;
    let mut i = 0;
    while i < b.len() {
        v = (v << 1) | (b[i] - b'0') as u16;
        i += 1;
    }
    Code {
        bits: v,
        len: b.len() as u8,
    }
}

/// The EOL code: eleven zeros and a one.
pub const EOL: Code = Code { bits: 1, len: 12 };

/// Longest run code (black make-up) in bits: the decode lookup width.
pub const LOOKUP_BITS: u32 = 13;

/// Code tables of one colour, for encoding.
pub struct RunCodes {
    /// Terminating codes 0..=63.
    pub term: [Code; 64],
    /// Make-up codes for 64..=2560 (index = run / 64 - 1).
    pub makeup: [Code; 40],
}

fn build_codes(term: &[&str; 64], makeup: &[&str; 27]) -> RunCodes {
    let mut t = [Code { bits: 0, len: 0 }; 64];
    for (i, s) in term.iter().enumerate() {
        t[i] = parse(s);
    }
    let mut m = [Code { bits: 0, len: 0 }; 40];
    for (i, s) in makeup.iter().chain(EXT_MAKEUP.iter()).enumerate() {
        m[i] = parse(s);
    }
    RunCodes { term: t, makeup: m }
}

/// Encoding tables: index 0 white, 1 black.
pub fn run_codes() -> &'static [RunCodes; 2] {
    static C: OnceLock<[RunCodes; 2]> = OnceLock::new();
    C.get_or_init(|| {
        [
            build_codes(&WHITE_TERM, &WHITE_MAKEUP),
            build_codes(&BLACK_TERM, &BLACK_MAKEUP),
        ]
    })
}

/// A decode table entry: run length and code length; `len == 0` marks an invalid prefix.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunEntry {
    /// Run length this code adds.
    pub run: u16,
    /// Code length in bits (0 = no valid code starts with these bits).
    pub len: u8,
}

/// Decode lookup, indexed by the next [`LOOKUP_BITS`] bits: index 0 white, 1 black.
pub fn run_lookup() -> &'static [Vec<RunEntry>; 2] {
    static L: OnceLock<[Vec<RunEntry>; 2]> = OnceLock::new();
    L.get_or_init(|| {
        let codes = run_codes();
        let mut out = [
            vec![RunEntry::default(); 1 << LOOKUP_BITS],
            vec![RunEntry::default(); 1 << LOOKUP_BITS],
        ];
        for (colour, table) in out.iter_mut().enumerate() {
            let c = &codes[colour];
            let all = c
                .term
                .iter()
                .enumerate()
                .map(|(r, code)| (r as u16, *code))
                .chain(
                    c.makeup
                        .iter()
                        .enumerate()
                        .map(|(i, code)| ((i as u16 + 1) * 64, *code)),
                );
            for (run, code) in all {
                let free = LOOKUP_BITS - code.len as u32;
                let base = (code.bits as usize) << free;
                for e in &mut table[base..base + (1 << free)] {
                    *e = RunEntry { run, len: code.len };
                }
            }
        }
        out
    })
}

/// The 2-D coding modes of T.4 §4.2.1.3 / T.6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Pass mode (0001).
    Pass,
    /// Horizontal mode (001).
    Horizontal,
    /// Vertical mode with offset a1 − b1 in −3..=3.
    Vertical(i8),
    /// Extension code (0000001xxx): uncompressed mode and others, which we do not accept.
    Extension,
}

/// Mode code for encoding.
pub fn mode_code(mode: Mode) -> Code {
    match mode {
        Mode::Pass => parse("0001"),
        Mode::Horizontal => parse("001"),
        Mode::Vertical(0) => parse("1"),
        Mode::Vertical(1) => parse("011"),
        Mode::Vertical(2) => parse("000011"),
        Mode::Vertical(3) => parse("0000011"),
        Mode::Vertical(-1) => parse("010"),
        Mode::Vertical(-2) => parse("000010"),
        Mode::Vertical(-3) => parse("0000010"),
        Mode::Vertical(_) | Mode::Extension => parse("0000001"),
    }
}

/// Decode a mode from the next 7 bits (MSB first). Returns the mode and its length, or
/// `None` when the bits start no mode code (e.g. seven zeros: an EOL or garbage).
#[inline]
pub fn decode_mode(next7: u32) -> Option<(Mode, u32)> {
    if next7 & 0x40 != 0 {
        Some((Mode::Vertical(0), 1))
    } else if next7 & 0x20 != 0 {
        Some((Mode::Vertical(if next7 & 0x10 != 0 { 1 } else { -1 }), 3))
    } else if next7 & 0x10 != 0 {
        Some((Mode::Horizontal, 3))
    } else if next7 & 0x08 != 0 {
        Some((Mode::Pass, 4))
    } else if next7 & 0x04 != 0 {
        Some((Mode::Vertical(if next7 & 0x02 != 0 { 2 } else { -2 }), 6))
    } else if next7 & 0x02 != 0 {
        Some((Mode::Vertical(if next7 & 0x01 != 0 { 3 } else { -3 }), 7))
    } else if next7 & 0x01 != 0 {
        Some((Mode::Extension, 7))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_codes(colour: usize) -> Vec<Code> {
        let c = &run_codes()[colour];
        c.term.iter().chain(c.makeup.iter()).copied().collect()
    }

    #[test]
    fn run_codes_are_prefix_free_and_never_hold_eleven_zeros() {
        for colour in 0..2 {
            let codes = all_codes(colour);
            for (i, a) in codes.iter().enumerate() {
                assert!(a.len as u32 <= LOOKUP_BITS);
                for (j, b) in codes.iter().enumerate() {
                    if i == j {
                        continue;
                    }
                    let (s, l) = if a.len <= b.len { (a, b) } else { (b, a) };
                    let prefix = l.bits >> (l.len - s.len);
                    assert!(
                        prefix != s.bits,
                        "colour {colour}: codes {i} and {j} collide"
                    );
                }
            }
        }
    }

    #[test]
    fn mode_codes_decode_to_themselves() {
        let modes = [
            Mode::Pass,
            Mode::Horizontal,
            Mode::Vertical(-3),
            Mode::Vertical(-2),
            Mode::Vertical(-1),
            Mode::Vertical(0),
            Mode::Vertical(1),
            Mode::Vertical(2),
            Mode::Vertical(3),
        ];
        for m in modes {
            let c = mode_code(m);
            let next7 = (c.bits as u32) << (7 - c.len as u32);
            assert_eq!(decode_mode(next7), Some((m, c.len as u32)));
        }
        assert_eq!(decode_mode(0), None);
    }
}
