//! T.30 facsimile control fields (FCF): every frame type by name.
//!
//! T.30 writes each FCF as the bits in transmission order, first bit on the left ("X100 0001"
//! for DCS). On the wire an octet goes least significant bit first, so the octet value is
//! that string reversed: DCS is `0x82`, or `0x83` with the X bit set. The X bit (first bit sent)
//! is set by the station that received a valid DIS, and cleared by the other one. The initial
//! identification frames (DIS, CSI, NSF) and the ECM data frames (FCD, RCP) have no X bit; the
//! polling commands (DTC, CIG, NSC, PWD, SEP, PSA, CIA, ISP) are only ever sent by the station
//! that received DIS, so their first bit is always 1 and is part of the code.

/// The T.30 frame types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[allow(clippy::upper_case_acronyms, non_camel_case_types)]
pub enum Fcf {
    /// Digital identification signal.
    DIS,
    /// Called subscriber identification.
    CSI,
    /// Non-standard facilities.
    NSF,
    /// Digital transmit command (polling).
    DTC,
    /// Calling subscriber identification.
    CIG,
    /// Non-standard facilities command.
    NSC,
    /// Password (for polling).
    PWD,
    /// Selective polling.
    SEP,
    /// Polled subaddress.
    PSA,
    /// Calling subscriber internet address.
    CIA,
    /// Internet selective polling address.
    ISP,
    /// Digital command signal.
    DCS,
    /// Transmitting subscriber identification.
    TSI,
    /// Non-standard facilities set-up.
    NSS,
    /// Subaddress.
    SUB,
    /// Sender identification.
    SID,
    /// Transmitting subscriber internet address.
    TSA,
    /// Internet routing address.
    IRA,
    /// Confirmation to receive.
    CFR,
    /// Failure to train.
    FTT,
    /// Called subscriber internet address.
    CSA,
    /// End of message.
    EOM,
    /// Multi-page signal.
    MPS,
    /// End of procedure.
    EOP,
    /// Procedure interrupt, end of message.
    PRI_EOM,
    /// Procedure interrupt, multi-page signal.
    PRI_MPS,
    /// Procedure interrupt, end of procedure.
    PRI_EOP,
    /// End of selection.
    EOS,
    /// Partial page signal (ECM).
    PPS,
    /// End of retransmission (ECM).
    EOR,
    /// Receive ready (ECM).
    RR,
    /// Message confirmation.
    MCF,
    /// Retrain positive.
    RTP,
    /// Retrain negative.
    RTN,
    /// Procedure interrupt positive.
    PIP,
    /// Procedure interrupt negative.
    PIN,
    /// Partial page request (ECM).
    PPR,
    /// Receive not ready (ECM).
    RNR,
    /// Response for end of retransmission (ECM).
    ERR,
    /// File diagnostics message.
    FDM,
    /// Disconnect.
    DCN,
    /// Command repeat.
    CRP,
    /// Field not valid.
    FNV,
    /// Transmit not ready.
    TNR,
    /// Transmit ready.
    TR,
    /// Continue to correct (ECM).
    CTC,
    /// Response for continue to correct (ECM).
    CTR,
    /// Facsimile coded data (ECM image frame).
    FCD,
    /// Return to control for partial page (ECM).
    RCP,
}

/// Every frame type with its FCF octet (X bit clear), as sent on the wire.
pub const ALL: &[(Fcf, u8)] = &[
    (Fcf::DIS, 0x80),
    (Fcf::CSI, 0x40),
    (Fcf::NSF, 0x20),
    (Fcf::DTC, 0x80 | 0x01),
    (Fcf::CIG, 0x40 | 0x01),
    (Fcf::NSC, 0x20 | 0x01),
    (Fcf::PWD, 0xC1),
    (Fcf::SEP, 0xA1),
    (Fcf::PSA, 0x61),
    (Fcf::CIA, 0xE1),
    (Fcf::ISP, 0x11),
    (Fcf::DCS, 0x82),
    (Fcf::TSI, 0x42),
    (Fcf::NSS, 0x22),
    (Fcf::SUB, 0xC2),
    (Fcf::SID, 0xA2),
    (Fcf::TSA, 0x62),
    (Fcf::IRA, 0xE2),
    (Fcf::CFR, 0x84),
    (Fcf::FTT, 0x44),
    (Fcf::CSA, 0x24),
    (Fcf::EOM, 0x8E),
    (Fcf::MPS, 0x4E),
    (Fcf::EOP, 0x2E),
    (Fcf::PRI_EOM, 0x9E),
    (Fcf::PRI_MPS, 0x5E),
    (Fcf::PRI_EOP, 0x3E),
    (Fcf::EOS, 0x1E),
    (Fcf::PPS, 0xBE),
    (Fcf::EOR, 0xCE),
    (Fcf::RR, 0x6E),
    (Fcf::MCF, 0x8C),
    (Fcf::RTP, 0xCC),
    (Fcf::RTN, 0x4C),
    (Fcf::PIP, 0xAC),
    (Fcf::PIN, 0x2C),
    (Fcf::PPR, 0xBC),
    (Fcf::RNR, 0xEC),
    (Fcf::ERR, 0x1C),
    (Fcf::FDM, 0xFC),
    (Fcf::DCN, 0xFA),
    (Fcf::CRP, 0x1A),
    (Fcf::FNV, 0xCA),
    (Fcf::TNR, 0xEA),
    (Fcf::TR, 0x6A),
    (Fcf::CTC, 0x12),
    (Fcf::CTR, 0xC4),
    (Fcf::FCD, 0x06),
    (Fcf::RCP, 0x86),
];

impl Fcf {
    /// The FCF octet with the X bit clear.
    pub fn octet(self) -> u8 {
        ALL.iter()
            .find(|(f, _)| *f == self)
            .map(|(_, o)| *o)
            .unwrap_or(0)
    }

    /// The octet with the X bit set as given; `x` is ignored for frames without an X bit.
    pub fn to_octet(self, x: bool) -> u8 {
        if self.has_x_bit() {
            self.octet() | x as u8
        } else {
            self.octet()
        }
    }

    /// Whether this frame type carries the X bit.
    pub fn has_x_bit(self) -> bool {
        !matches!(
            self,
            Fcf::DIS
                | Fcf::CSI
                | Fcf::NSF
                | Fcf::DTC
                | Fcf::CIG
                | Fcf::NSC
                | Fcf::PWD
                | Fcf::SEP
                | Fcf::PSA
                | Fcf::CIA
                | Fcf::ISP
                | Fcf::FCD
                | Fcf::RCP
        )
    }

    /// The frame type of an FCF octet and its X bit, or `None` for an unknown octet.
    pub fn from_octet(octet: u8) -> Option<(Fcf, bool)> {
        // Exact match first: DIS/CSI/NSF differ from DTC/CIG/NSC only in the first bit.
        if let Some((f, _)) = ALL.iter().find(|(f, o)| *o == octet && !f.has_x_bit()) {
            return Some((*f, false));
        }
        ALL.iter()
            .find(|(f, o)| f.has_x_bit() && *o == octet & 0xFE)
            .map(|(f, _)| (*f, octet & 1 != 0))
    }

    /// The conventional name ("DIS", "PRI-EOM", …).
    pub fn name(self) -> &'static str {
        match self {
            Fcf::PRI_EOM => "PRI-EOM",
            Fcf::PRI_MPS => "PRI-MPS",
            Fcf::PRI_EOP => "PRI-EOP",
            other => {
                // Debug of a fieldless variant is its identifier.
                NAMES
                    .iter()
                    .find(|(f, _)| *f == other)
                    .map(|(_, n)| *n)
                    .unwrap_or("?")
            }
        }
    }

    /// The frame type of a name as [`Fcf::name`] spells it (case-insensitive).
    pub fn from_name(name: &str) -> Option<Fcf> {
        let upper = name.to_ascii_uppercase().replace('_', "-");
        ALL.iter().map(|(f, _)| *f).find(|f| f.name() == upper)
    }
}

const NAMES: &[(Fcf, &str)] = &[
    (Fcf::DIS, "DIS"),
    (Fcf::CSI, "CSI"),
    (Fcf::NSF, "NSF"),
    (Fcf::DTC, "DTC"),
    (Fcf::CIG, "CIG"),
    (Fcf::NSC, "NSC"),
    (Fcf::PWD, "PWD"),
    (Fcf::SEP, "SEP"),
    (Fcf::PSA, "PSA"),
    (Fcf::CIA, "CIA"),
    (Fcf::ISP, "ISP"),
    (Fcf::DCS, "DCS"),
    (Fcf::TSI, "TSI"),
    (Fcf::NSS, "NSS"),
    (Fcf::SUB, "SUB"),
    (Fcf::SID, "SID"),
    (Fcf::TSA, "TSA"),
    (Fcf::IRA, "IRA"),
    (Fcf::CFR, "CFR"),
    (Fcf::FTT, "FTT"),
    (Fcf::CSA, "CSA"),
    (Fcf::EOM, "EOM"),
    (Fcf::MPS, "MPS"),
    (Fcf::EOP, "EOP"),
    (Fcf::EOS, "EOS"),
    (Fcf::PPS, "PPS"),
    (Fcf::EOR, "EOR"),
    (Fcf::RR, "RR"),
    (Fcf::MCF, "MCF"),
    (Fcf::RTP, "RTP"),
    (Fcf::RTN, "RTN"),
    (Fcf::PIP, "PIP"),
    (Fcf::PIN, "PIN"),
    (Fcf::PPR, "PPR"),
    (Fcf::RNR, "RNR"),
    (Fcf::ERR, "ERR"),
    (Fcf::FDM, "FDM"),
    (Fcf::DCN, "DCN"),
    (Fcf::CRP, "CRP"),
    (Fcf::FNV, "FNV"),
    (Fcf::TNR, "TNR"),
    (Fcf::TR, "TR"),
    (Fcf::CTC, "CTC"),
    (Fcf::CTR, "CTR"),
    (Fcf::FCD, "FCD"),
    (Fcf::RCP, "RCP"),
];

/// Reverses a T.30 bit string ("X100 0001", first bit sent on the left) into the octet.
#[cfg(test)]
fn octet_of(bits: &str) -> u8 {
    let bits: Vec<char> = bits.chars().filter(|c| !c.is_whitespace()).collect();
    assert_eq!(bits.len(), 8);
    bits.iter()
        .enumerate()
        .map(|(i, c)| if *c == '1' { 1u8 << i } else { 0 })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The FCF bit strings as T.30 §5.3.6 lists them, first bit sent on the left, X as 0.
    const T30_TABLE: &[(&str, &str)] = &[
        ("DIS", "0000 0001"),
        ("CSI", "0000 0010"),
        ("NSF", "0000 0100"),
        ("DTC", "1000 0001"),
        ("CIG", "1000 0010"),
        ("NSC", "1000 0100"),
        ("PWD", "1000 0011"),
        ("SEP", "1000 0101"),
        ("PSA", "1000 0110"),
        ("CIA", "1000 0111"),
        ("ISP", "1000 1000"),
        ("DCS", "0100 0001"),
        ("TSI", "0100 0010"),
        ("NSS", "0100 0100"),
        ("SUB", "0100 0011"),
        ("SID", "0100 0101"),
        ("TSA", "0100 0110"),
        ("IRA", "0100 0111"),
        ("CFR", "0010 0001"),
        ("FTT", "0010 0010"),
        ("CSA", "0010 0100"),
        ("EOM", "0111 0001"),
        ("MPS", "0111 0010"),
        ("EOP", "0111 0100"),
        ("PRI-EOM", "0111 1001"),
        ("PRI-MPS", "0111 1010"),
        ("PRI-EOP", "0111 1100"),
        ("EOS", "0111 1000"),
        ("PPS", "0111 1101"),
        ("EOR", "0111 0011"),
        ("RR", "0111 0110"),
        ("MCF", "0011 0001"),
        ("RTP", "0011 0011"),
        ("RTN", "0011 0010"),
        ("PIP", "0011 0101"),
        ("PIN", "0011 0100"),
        ("PPR", "0011 1101"),
        ("RNR", "0011 0111"),
        ("ERR", "0011 1000"),
        ("FDM", "0011 1111"),
        ("DCN", "0101 1111"),
        ("CRP", "0101 1000"),
        ("FNV", "0101 0011"),
        ("TNR", "0101 0111"),
        ("TR", "0101 0110"),
        ("CTC", "0100 1000"),
        ("CTR", "0010 0011"),
        ("FCD", "0110 0000"),
        ("RCP", "0110 0001"),
    ];

    #[test]
    fn octets_follow_the_t30_bit_strings() {
        assert_eq!(T30_TABLE.len(), ALL.len());
        for (name, bits) in T30_TABLE {
            let f = Fcf::from_name(name).unwrap_or_else(|| panic!("{name}"));
            assert_eq!(f.octet(), octet_of(bits), "{name}");
            assert_eq!(f.name(), *name);
        }
    }

    #[test]
    fn parse_with_x_bit() {
        assert_eq!(Fcf::from_octet(0x80), Some((Fcf::DIS, false)));
        assert_eq!(Fcf::from_octet(0x81), Some((Fcf::DTC, false)));
        assert_eq!(Fcf::from_octet(0x83), Some((Fcf::DCS, true)));
        assert_eq!(Fcf::from_octet(0x82), Some((Fcf::DCS, false)));
        assert_eq!(Fcf::from_octet(0xFB), Some((Fcf::DCN, true)));
        assert_eq!(Fcf::from_octet(0x06), Some((Fcf::FCD, false)));
        assert_eq!(Fcf::from_octet(0x00), None);
        for (f, _) in ALL {
            for x in [false, true] {
                let o = f.to_octet(x);
                let (g, gx) = Fcf::from_octet(o).unwrap();
                assert_eq!(g, *f);
                assert_eq!(gx, x && f.has_x_bit());
            }
        }
    }
}
