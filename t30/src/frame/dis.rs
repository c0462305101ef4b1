//! The DIS/DTC/DCS information field: every bit of T.30 Table 2 by number and name.
//!
//! Bit `n` (1-based, T.30 numbering) is bit `(n-1) % 8` of octet `(n-1) / 8`, since each
//! octet goes least significant bit first. Bits 24, 32, 40, … say that another octet follows.
//! The field is kept as octets, so bits this code has no name for survive a round trip and
//! are shown by number.

/// Which frame an information field belongs to: some bits mean different things in DCS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    /// DIS or DTC: capabilities.
    Dis,
    /// DCS: the chosen settings.
    Dcs,
}

/// The modems a DIS/DTC offers (bits 11–14).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ModemSet {
    /// V.27ter at 4800 (and 2400).
    pub v27ter: bool,
    /// V.29.
    pub v29: bool,
    /// V.17.
    pub v17: bool,
}

/// Scan-line width (bits 17–18).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageWidth {
    /// 215 mm (A4: 1728 pels at R8).
    A4,
    /// 255 mm (B4: 2048 pels at R8).
    B4,
    /// 303 mm (A3: 2432 pels at R8).
    A3,
}

/// Recording length (bits 19–20).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageLength {
    /// A4, 297 mm.
    A4,
    /// B4, 364 mm.
    B4,
    /// Unlimited.
    Unlimited,
}

/// Minimum scan-line time (bits 21–23), in ms, at standard resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinScanTime {
    /// Milliseconds per row at 3.85 lines/mm.
    pub ms: u8,
    /// Whether fine rows may take half that time (DIS only).
    pub half_at_fine: bool,
}

/// A DIS, DTC or DCS information field.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DisBits {
    octets: Vec<u8>,
}

/// Names of the single bits of T.30 Table 2 (DIS/DTC meaning); multi-bit fields are
/// decoded separately.
const BIT_NAMES: &[(u32, &str)] = &[
    (1, "Store and forward Internet fax, simple mode (T.37)"),
    (3, "Real-time Internet fax (T.38)"),
    (4, "3rd generation mobile network"),
    (6, "V.8 capabilities"),
    (7, "Octets preferred: 64 (else 256)"),
    (9, "Ready to transmit a facsimile document (polling)"),
    (10, "Ready to receive facsimile documents"),
    (15, "R8 x 7.7 lines/mm and/or 200 x 200 pels/25.4 mm (fine)"),
    (16, "Two-dimensional coding (T.4 MR)"),
    (26, "Uncompressed mode"),
    (27, "Error correction mode"),
    (31, "T.6 coding (MMR)"),
    (33, "Field not valid"),
    (34, "Multiple selective polling"),
    (35, "Polled subaddress"),
    (36, "T.43 coding"),
    (37, "Plane interleave"),
    (38, "Voice coding with 32k ADPCM (G.726)"),
    (39, "Extended voice coding"),
    (41, "R8 x 15.4 lines/mm (superfine)"),
    (42, "300 x 300 pels/25.4 mm"),
    (43, "R16 x 15.4 lines/mm and/or 400 x 400 pels/25.4 mm"),
    (44, "Inch-based resolution preferred"),
    (45, "Metric-based resolution preferred"),
    (
        46,
        "Minimum scan line time for higher resolutions: T15.4 = 1/2 T7.7",
    ),
    (47, "Selective polling"),
    (49, "Subaddressing"),
    (50, "Password"),
    (51, "Ready to transmit a data file (polling)"),
    (53, "Binary file transfer (BFT)"),
    (54, "Document transfer mode (DTM)"),
    (55, "Electronic data interchange (EDI)"),
    (57, "Basic transfer mode (BTM)"),
    (
        59,
        "Ready to transmit a character or mixed mode document (polling)",
    ),
    (60, "Character mode"),
    (62, "Mixed mode (T.4 Annex E)"),
    (65, "Processable mode 26 (T.505)"),
    (66, "Digital network capability"),
    (67, "Duplex and half duplex"),
    (68, "JPEG coding"),
    (69, "Full colour mode"),
    (70, "Preferred Huffman tables"),
    (71, "12 bits/pel component"),
    (73, "No subsampling (1:1:1)"),
    (74, "Custom illuminant"),
    (75, "Custom gamut range"),
    (76, "North American Letter (215.9 x 279.4 mm)"),
    (77, "North American Legal (215.9 x 355.6 mm)"),
    (78, "Single-progression sequential coding (T.85), basic"),
    (
        79,
        "Single-progression sequential coding (T.85), optional L0",
    ),
    (81, "HKM key management"),
    (82, "RSA key management"),
    (83, "Override"),
    (84, "HFX40 cipher"),
    (85, "Alternative cipher number 2"),
    (86, "Alternative cipher number 3"),
    (87, "HFX40-I hashing"),
    (89, "Alternative hashing system number 2"),
    (90, "Alternative hashing system number 3"),
    (95, "Page length maximum strip size for T.44 (MRC)"),
    (97, "Colour/gray-scale 300 x 300 or 400 x 400 pels/25.4 mm"),
    (98, "Colour/gray-scale 100 x 100 pels/25.4 mm"),
    (99, "Simple phase C BFT negotiations"),
    (100, "Extended BFT negotiations"),
    (101, "Internet selective polling address (ISP)"),
    (102, "Internet routing address (IRA)"),
    (105, "600 x 600 pels/25.4 mm"),
    (106, "1200 x 1200 pels/25.4 mm"),
    (107, "300 x 600 pels/25.4 mm"),
    (108, "400 x 800 pels/25.4 mm"),
    (109, "600 x 1200 pels/25.4 mm"),
    (110, "Colour/gray-scale 600 x 600 pels/25.4 mm"),
    (111, "Colour/gray-scale 1200 x 1200 pels/25.4 mm"),
    (113, "Double-sided printing (alternate mode)"),
    (114, "Double-sided printing (continuous mode)"),
    (115, "Black and white mixed raster content profile (MRCbw)"),
    (116, "T.45 (run-length colour encoding)"),
];

/// Where DCS gives a bit another meaning than DIS.
const DCS_BIT_NAMES: &[(u32, &str)] = &[
    (10, "Receiver fax operation"),
    (28, "Frame size 64 octets (else 256)"),
    (44, "Resolution type: inch-based (else metric)"),
    (67, "Duplex operation (else half duplex)"),
];

/// Bits that belong to a multi-bit field, decoded by [`DisBits::describe`] as a whole.
const FIELD_BITS: &[u32] = &[11, 12, 13, 14, 17, 18, 19, 20, 21, 22, 23, 92, 93, 94];

impl DisBits {
    /// An empty field of the minimum three octets.
    pub fn new() -> Self {
        DisBits { octets: vec![0; 3] }
    }

    /// A field from the octets of a frame's FIF, kept exactly (unknown bits included).
    pub fn from_fif(fif: &[u8]) -> Self {
        DisBits {
            octets: fif.to_vec(),
        }
    }

    /// The octets to send: trailing all-zero extension octets dropped and the extend bits
    /// set exactly up to the last octet kept.
    pub fn to_fif(&self) -> Vec<u8> {
        let mut v = self.octets.clone();
        v.resize(v.len().max(3), 0);
        // Find the last octet carrying any bit other than its own extend bit.
        let mut last = 2;
        for (i, &o) in v.iter().enumerate().skip(3) {
            if o & 0x7F != 0 {
                last = i;
            }
        }
        v.truncate(last + 1);
        for (i, o) in v.iter_mut().enumerate().skip(2) {
            if i < last {
                *o |= 0x80;
            } else {
                *o &= 0x7F;
            }
        }
        v
    }

    /// The raw octets as held.
    pub fn octets(&self) -> &[u8] {
        &self.octets
    }

    /// Bit `n` (1-based). Bits beyond the field read as 0.
    pub fn bit(&self, n: u32) -> bool {
        debug_assert!(n >= 1);
        let idx = ((n - 1) / 8) as usize;
        self.octets
            .get(idx)
            .is_some_and(|o| o >> ((n - 1) % 8) & 1 != 0)
    }

    /// Sets bit `n` (1-based), growing the field as needed.
    pub fn set_bit(&mut self, n: u32, value: bool) {
        let idx = ((n - 1) / 8) as usize;
        if self.octets.len() <= idx {
            self.octets.resize(idx + 1, 0);
        }
        let mask = 1u8 << ((n - 1) % 8);
        if value {
            self.octets[idx] |= mask;
        } else {
            self.octets[idx] &= !mask;
        }
    }

    fn bits(&self, first: u32, count: u32) -> u8 {
        (0..count).fold(0, |acc, i| (acc << 1) | self.bit(first + i) as u8)
    }

    fn set_bits(&mut self, first: u32, pattern: &[bool]) {
        for (i, &b) in pattern.iter().enumerate() {
            self.set_bit(first + i as u32, b);
        }
    }

    /// DIS/DTC: the modems offered (bits 11–14).
    pub fn modems(&self) -> ModemSet {
        match self.bits(11, 4) {
            0b0100 => ModemSet {
                v27ter: true,
                ..Default::default()
            },
            0b1000 => ModemSet {
                v29: true,
                ..Default::default()
            },
            0b1100 => ModemSet {
                v27ter: true,
                v29: true,
                v17: false,
            },
            0b1101 => ModemSet {
                v27ter: true,
                v29: true,
                v17: true,
            },
            // Fall-back mode (and the unused codes): V.27ter at 2400 only.
            _ => ModemSet::default(),
        }
    }

    /// DIS/DTC: offers a set of modems. T.30 has codes only for the nested sets
    /// {V.27ter}, {V.29}, {V.27ter, V.29} and {V.27ter, V.29, V.17}; V.17 implies the others.
    pub fn set_modems(&mut self, m: ModemSet) {
        let pattern = match (m.v27ter, m.v29, m.v17) {
            (_, _, true) => [true, true, false, true],
            (true, true, false) => [true, true, false, false],
            (false, true, false) => [true, false, false, false],
            (true, false, false) => [false, true, false, false],
            (false, false, false) => [false, false, false, false],
        };
        self.set_bits(11, &pattern);
    }

    /// DCS: the chosen modem and bit rate (bits 11–14), or `None` for a reserved code.
    pub fn dcs_rate(&self) -> Option<(modem_name::Modem, u32)> {
        use modem_name::Modem::*;
        Some(match self.bits(11, 4) {
            0b0000 => (V27ter, 2400),
            0b0100 => (V27ter, 4800),
            0b1000 => (V29, 9600),
            0b1100 => (V29, 7200),
            0b0001 => (V17, 14400),
            0b0101 => (V17, 12000),
            0b1001 => (V17, 9600),
            0b1101 => (V17, 7200),
            _ => return None,
        })
    }

    /// DCS: sets the modem and rate. Returns false (and changes nothing) for a pair T.30
    /// has no code for.
    pub fn set_dcs_rate(&mut self, modem: modem_name::Modem, rate: u32) -> bool {
        use modem_name::Modem::*;
        let p = match (modem, rate) {
            (V27ter, 2400) => [false, false, false, false],
            (V27ter, 4800) => [false, true, false, false],
            (V29, 9600) => [true, false, false, false],
            (V29, 7200) => [true, true, false, false],
            (V17, 14400) => [false, false, false, true],
            (V17, 12000) => [false, true, false, true],
            (V17, 9600) => [true, false, false, true],
            (V17, 7200) => [true, true, false, true],
            _ => return false,
        };
        self.set_bits(11, &p);
        true
    }

    /// The scan-line width field (bits 17–18). In DIS the value is the widest offered.
    pub fn width(&self, kind: FrameKind) -> Option<PageWidth> {
        match (kind, self.bits(17, 2)) {
            (_, 0b00) => Some(PageWidth::A4),
            (FrameKind::Dis, 0b01) => Some(PageWidth::A3),
            (FrameKind::Dis, 0b10) => Some(PageWidth::B4),
            (FrameKind::Dcs, 0b01) => Some(PageWidth::A3),
            (FrameKind::Dcs, 0b10) => Some(PageWidth::B4),
            _ => None,
        }
    }

    /// Sets the width field (DIS: the widest offered; DCS: the width used).
    pub fn set_width(&mut self, w: PageWidth) {
        let p = match w {
            PageWidth::A4 => [false, false],
            PageWidth::B4 => [true, false],
            PageWidth::A3 => [false, true],
        };
        self.set_bits(17, &p);
    }

    /// The recording length field (bits 19–20).
    pub fn length(&self) -> Option<PageLength> {
        match self.bits(19, 2) {
            0b00 => Some(PageLength::A4),
            0b01 => Some(PageLength::Unlimited),
            0b10 => Some(PageLength::B4),
            _ => None,
        }
    }

    /// Sets the recording length field.
    pub fn set_length(&mut self, l: PageLength) {
        let p = match l {
            PageLength::A4 => [false, false],
            PageLength::B4 => [true, false],
            PageLength::Unlimited => [false, true],
        };
        self.set_bits(19, &p);
    }

    /// The minimum scan-line time field (bits 21–23).
    pub fn min_scan_time(&self, kind: FrameKind) -> Option<MinScanTime> {
        let (ms, half) = match self.bits(21, 3) {
            0b000 => (20, false),
            0b001 => (40, false),
            0b010 => (10, false),
            0b100 => (5, false),
            0b111 => (0, false),
            0b011 if kind == FrameKind::Dis => (10, true),
            0b110 if kind == FrameKind::Dis => (20, true),
            0b101 if kind == FrameKind::Dis => (40, true),
            _ => return None,
        };
        Some(MinScanTime {
            ms,
            half_at_fine: half,
        })
    }

    /// Sets the minimum scan-line time. Returns false for a combination T.30 has no code for.
    pub fn set_min_scan_time(&mut self, t: MinScanTime) -> bool {
        let p = match (t.ms, t.half_at_fine) {
            (20, false) => [false, false, false],
            (40, false) => [false, false, true],
            (10, false) => [false, true, false],
            (5, false) => [true, false, false],
            (0, _) => [true, true, true],
            (10, true) => [false, true, true],
            (20, true) => [true, true, false],
            (40, true) => [true, false, true],
            _ => return false,
        };
        self.set_bits(21, &p);
        true
    }

    /// Every set bit and decoded field, in bit order: `(first bit, name, value)`. Bits with no
    /// name here are listed as "bit N" so nothing a far end sends is hidden.
    pub fn describe(&self, kind: FrameKind) -> Vec<(u32, String, String)> {
        let mut out = Vec::new();
        let total = self.octets.len() as u32 * 8;
        for n in 1..=total {
            if n % 8 == 0 && n >= 24 {
                continue; // extend bits
            }
            match n {
                11 => {
                    let v = match kind {
                        FrameKind::Dis => {
                            let m = self.modems();
                            let mut s = vec!["V.27ter"];
                            if m.v29 {
                                s.push("V.29");
                            }
                            if m.v17 {
                                s.push("V.17");
                            }
                            if !m.v27ter && !m.v29 {
                                "V.27ter fall-back (2400 only)".to_string()
                            } else {
                                s.join(", ")
                            }
                        }
                        FrameKind::Dcs => match self.dcs_rate() {
                            Some((m, r)) => format!("{} {r} bit/s", m.name()),
                            None => format!("reserved code {:04b}", self.bits(11, 4)),
                        },
                    };
                    out.push((11, "Data signalling rate".into(), v));
                }
                17 => out.push((
                    17,
                    "Recording width".into(),
                    match self.width(kind) {
                        Some(w) => format!("{w:?}"),
                        None => "invalid".into(),
                    },
                )),
                19 => out.push((
                    19,
                    "Recording length".into(),
                    match self.length() {
                        Some(l) => format!("{l:?}"),
                        None => "invalid".into(),
                    },
                )),
                21 => out.push((
                    21,
                    "Minimum scan line time".into(),
                    match self.min_scan_time(kind) {
                        Some(t) if t.half_at_fine => format!("{} ms, half at fine", t.ms),
                        Some(t) => format!("{} ms", t.ms),
                        None => "invalid".into(),
                    },
                )),
                92 if self.bits(92, 3) != 0 => out.push((
                    92,
                    "T.44 (MRC) mode".into(),
                    format!("{}", self.bits(92, 3)),
                )),
                _ if FIELD_BITS.contains(&n) => {}
                _ if self.bit(n) => {
                    let dcs_name = (kind == FrameKind::Dcs)
                        .then(|| DCS_BIT_NAMES.iter().find(|(b, _)| *b == n))
                        .flatten();
                    let name = dcs_name
                        .or_else(|| BIT_NAMES.iter().find(|(b, _)| *b == n))
                        .map(|(_, s)| s.to_string())
                        .unwrap_or_else(|| format!("bit {n}"));
                    out.push((n, name, "yes".into()));
                }
                _ => {}
            }
        }
        out
    }
}

/// Modem names as DCS uses them (kept here so the frame codec needs no DSP crate).
pub mod modem_name {
    /// A fast modem DCS can select.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum Modem {
        /// V.27ter.
        V27ter,
        /// V.29.
        V29,
        /// V.17.
        V17,
    }

    impl Modem {
        /// "V.27ter", "V.29" or "V.17".
        pub fn name(self) -> &'static str {
            match self {
                Modem::V27ter => "V.27ter",
                Modem::V29 => "V.29",
                Modem::V17 => "V.17",
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::modem_name::Modem;
    use super::*;

    /// A DIS as sent by a common fax engine: V.27ter and V.29, fine, MR, A4 width, B4
    /// length, 0 ms scan time, superfine, North American Letter and Legal.
    const DIS_FIF: [u8; 10] = [0x00, 0xCE, 0xF4, 0x80, 0x80, 0x81, 0x80, 0x80, 0x80, 0x18];

    #[test]
    fn decode_a_real_dis() {
        let d = DisBits::from_fif(&DIS_FIF);
        assert!(d.bit(10), "ready to receive");
        assert_eq!(
            d.modems(),
            ModemSet {
                v27ter: true,
                v29: true,
                v17: false
            }
        );
        assert!(d.bit(15) && d.bit(16));
        assert_eq!(d.width(FrameKind::Dis), Some(PageWidth::A4));
        assert_eq!(d.length(), Some(PageLength::B4));
        assert_eq!(
            d.min_scan_time(FrameKind::Dis),
            Some(MinScanTime {
                ms: 0,
                half_at_fine: false
            })
        );
        assert!(!d.bit(27), "no ECM");
        assert!(d.bit(41), "superfine");
        assert!(d.bit(76) && d.bit(77));
        let names: Vec<String> = d
            .describe(FrameKind::Dis)
            .into_iter()
            .map(|x| x.1)
            .collect();
        assert!(names.iter().any(|n| n.contains("superfine")));
        assert!(names.iter().any(|n| n.contains("Letter")));
        assert_eq!(d.to_fif(), DIS_FIF);
    }

    #[test]
    fn dcs_rates_round_trip() {
        for (m, r) in [
            (Modem::V27ter, 2400),
            (Modem::V27ter, 4800),
            (Modem::V29, 7200),
            (Modem::V29, 9600),
            (Modem::V17, 7200),
            (Modem::V17, 9600),
            (Modem::V17, 12000),
            (Modem::V17, 14400),
        ] {
            let mut d = DisBits::new();
            assert!(d.set_dcs_rate(m, r));
            assert_eq!(d.dcs_rate(), Some((m, r)));
        }
        assert!(!DisBits::new().set_dcs_rate(Modem::V29, 4800));
    }

    #[test]
    fn extension_bits_follow_the_content() {
        let mut d = DisBits::new();
        d.set_bit(10, true);
        assert_eq!(d.to_fif().len(), 3);
        d.set_bit(41, true); // superfine lives in octet 6
        let fif = d.to_fif();
        assert_eq!(fif.len(), 6);
        for o in &fif[2..5] {
            assert_eq!(o & 0x80, 0x80, "extend bit set on {fif:02x?}");
        }
        assert_eq!(fif[5] & 0x80, 0);
        let back = DisBits::from_fif(&fif);
        assert!(back.bit(41) && back.bit(10));
    }

    #[test]
    fn unknown_bits_survive_and_show() {
        let mut fif = vec![0u8; 16];
        for o in fif.iter_mut().skip(2).take(13) {
            *o = 0x80;
        }
        fif[15] = 0x40; // bit 127: no name
        let d = DisBits::from_fif(&fif);
        assert_eq!(d.to_fif(), fif);
        assert!(
            d.describe(FrameKind::Dis)
                .iter()
                .any(|(b, n, _)| *b == 127 && n == "bit 127")
        );
    }

    #[test]
    fn fields_round_trip() {
        let mut d = DisBits::new();
        d.set_modems(ModemSet {
            v27ter: true,
            v29: true,
            v17: false,
        });
        assert_eq!(
            d.modems(),
            ModemSet {
                v27ter: true,
                v29: true,
                v17: false
            }
        );
        for w in [PageWidth::A4, PageWidth::B4, PageWidth::A3] {
            d.set_width(w);
            assert_eq!(d.width(FrameKind::Dcs), Some(w));
        }
        for l in [PageLength::A4, PageLength::B4, PageLength::Unlimited] {
            d.set_length(l);
            assert_eq!(d.length(), Some(l));
        }
        for (ms, half) in [(0, false), (5, false), (10, true), (20, true), (40, false)] {
            let t = MinScanTime {
                ms,
                half_at_fine: half,
            };
            assert!(d.set_min_scan_time(t));
            assert_eq!(d.min_scan_time(FrameKind::Dis), Some(t));
        }
    }
}
