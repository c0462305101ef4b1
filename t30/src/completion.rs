//! Completion codes: how a fax call ended, with the exact strings fax servers report.
//!
//! The numbering and strings follow the engine inside Asterisk's res_fax_spandsp and
//! FreeSWITCH, because receive pipelines match them byte for byte (`FAXOPT(error)`). The
//! explanations are our own, for people reading a report.

use std::fmt;

/// A T.30 completion code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Completion {
    /// 0: "OK".
    Ok,
    /// 1: "The CED tone exceeded 5s".
    Cedtone,
    /// 2: "Timed out waiting for initial communication".
    T0Expired,
    /// 3: "Timed out waiting for the first message".
    T1Expired,
    /// 4: "Timed out waiting for procedural interrupt".
    T3Expired,
    /// 5: "The HDLC carrier did not stop in a timely manner".
    HdlcCarrier,
    /// 6: "Failed to train with any of the compatible modems".
    CannotTrain,
    /// 7: "Operator intervention failed".
    OperIntFail,
    /// 8: "Far end is not compatible".
    Incompatible,
    /// 9: "Far end is not able to receive".
    RxIncapable,
    /// 10: "Far end is not able to transmit".
    TxIncapable,
    /// 11: "Far end cannot receive at the resolution of the image".
    Noressupport,
    /// 12: "Far end cannot receive at the size of image".
    Nosizesupport,
    /// 13: "Unexpected message received".
    Unexpected,
    /// 14: "Received bad response to DCS or training".
    TxBaddcs,
    /// 15: "Received a DCN from remote after sending a page".
    TxBadpg,
    /// 16: "Invalid ECM response received from receiver".
    TxEcmphd,
    /// 17: "Received a DCN while waiting for a DIS".
    TxGotdcn,
    /// 18: "Invalid response after sending a page".
    TxInvalrsp,
    /// 19: "Received other than DIS while waiting for DIS".
    TxNodis,
    /// 20: "Received no response to DCS or TCF".
    TxPhbdead,
    /// 21: "No response after sending a page".
    TxPhddead,
    /// 22: "Timed out waiting for receiver ready (ECM mode)".
    TxT5exp,
    /// 23: "Invalid ECM response received from transmitter".
    RxEcmphd,
    /// 24: "DCS received while waiting for DTC".
    RxGotdcs,
    /// 25: "Unexpected command after page received".
    RxInvalcmd,
    /// 26: "Carrier lost during fax receive".
    RxNocarrier,
    /// 27: "Timed out while waiting for EOL (end Of line)".
    RxNoeol,
    /// 28: "Timed out while waiting for first line".
    RxNofax,
    /// 29: "Timer T2 expired while waiting for DCN".
    RxT2expdcn,
    /// 30: "Timer T2 expired while waiting for phase D".
    RxT2expd,
    /// 31: "Timer T2 expired while waiting for fax page".
    RxT2expfax,
    /// 32: "Timer T2 expired while waiting for next fax page".
    RxT2expmps,
    /// 33: "Timer T2 expired while waiting for RR command".
    RxT2exprr,
    /// 34: "Timer T2 expired while waiting for NSS, DCS or MCF".
    RxT2exp,
    /// 35: "Unexpected DCN while waiting for DCS or DIS".
    RxDcnwhy,
    /// 36: "Unexpected DCN while waiting for image data".
    RxDcndata,
    /// 37: "Unexpected DCN while waiting for EOM, EOP or MPS".
    RxDcnfax,
    /// 38: "Unexpected DCN after EOM or MPS sequence".
    RxDcnphd,
    /// 39: "Unexpected DCN after RR/RNR sequence".
    RxDcnrrd,
    /// 40: "Unexpected DCN after requested retransmission".
    RxDcnnortn,
    /// 41: "TIFF/F file cannot be opened".
    Fileerror,
    /// 42: "TIFF/F page not found".
    Nopage,
    /// 43: "TIFF/F format is not compatible".
    Badtiff,
    /// 44: "TIFF/F page number tag missing".
    Badpage,
    /// 45: "Incorrect values for TIFF/F tags".
    Badtag,
    /// 46: "Bad TIFF/F header - incorrect values in fields".
    Badtiffhdr,
    /// 47: "Cannot allocate memory for more pages".
    Nomem,
    /// 48: "Disconnected after permitted retries".
    Retrydcn,
    /// 49: "The call dropped prematurely".
    Calldropped,
    /// 50: "Poll not accepted".
    Nopoll,
    /// 51: "Ident not accepted".
    IdentUnacceptable,
    /// 52: "Sub-address not accepted".
    SubUnacceptable,
    /// 53: "Selective polling address not accepted".
    SepUnacceptable,
    /// 54: "Polled sub-address not accepted".
    PsaUnacceptable,
    /// 55: "Sender identification not accepted".
    SidUnacceptable,
    /// 56: "Password not accepted".
    PwdUnacceptable,
    /// 57: "Transmitting subscriber internet address not accepted".
    TsaUnacceptable,
    /// 58: "Internet routing address not accepted".
    IraUnacceptable,
    /// 59: "Calling subscriber internet address not accepted".
    CiaUnacceptable,
    /// 60: "Internet selective polling address not accepted".
    IspUnacceptable,
    /// 61: "Called subscriber internet address not accepted".
    CsaUnacceptable,
}

/// Every completion code, in numeric order: `(code, variant, name, string, explanation)`.
const TABLE: &[(u8, Completion, &str, &str, &str)] = &[
    (
        0,
        Completion::Ok,
        "OK",
        "OK",
        "Every page was sent or received and the call was cleared normally.",
    ),
    (
        1,
        Completion::Cedtone,
        "CEDTONE",
        "The CED tone exceeded 5s",
        "The answering tone lasted longer than five seconds, so the far end is probably not a fax machine in answer mode.",
    ),
    (
        2,
        Completion::T0Expired,
        "T0_EXPIRED",
        "Timed out waiting for initial communication",
        "The calling side heard no fax answer (no DIS) within T0, about a minute after dialling.",
    ),
    (
        3,
        Completion::T1Expired,
        "T1_EXPIRED",
        "Timed out waiting for the first message",
        "After the line was answered, no valid T.30 message arrived within T1 (35 s).",
    ),
    (
        4,
        Completion::T3Expired,
        "T3_EXPIRED",
        "Timed out waiting for procedural interrupt",
        "A procedure interrupt (PIP/PIN) was signalled, and no operator answered within T3.",
    ),
    (
        5,
        Completion::HdlcCarrier,
        "HDLC_CARRIER",
        "The HDLC carrier did not stop in a timely manner",
        "A V.21 control carrier stayed on far longer than any frame sequence needs, so the far end's transmitter seems stuck.",
    ),
    (
        6,
        Completion::CannotTrain,
        "CANNOT_TRAIN",
        "Failed to train with any of the compatible modems",
        "Every training attempt (TCF) failed at each modem and rate both sides share, down to the slowest: the line is too noisy or distorted, or a lossy codec is in the path.",
    ),
    (
        7,
        Completion::OperIntFail,
        "OPER_INT_FAIL",
        "Operator intervention failed",
        "The operator did not take over after a procedure interrupt was accepted.",
    ),
    (
        8,
        Completion::Incompatible,
        "INCOMPATIBLE",
        "Far end is not compatible",
        "The capabilities exchanged in DIS and DCS have no common mode for this document.",
    ),
    (
        9,
        Completion::RxIncapable,
        "RX_INCAPABLE",
        "Far end is not able to receive",
        "The far end's DIS says it cannot receive documents.",
    ),
    (
        10,
        Completion::TxIncapable,
        "TX_INCAPABLE",
        "Far end is not able to transmit",
        "Polling was requested, but the far end has nothing to send or cannot transmit.",
    ),
    (
        11,
        Completion::Noressupport,
        "NORESSUPPORT",
        "Far end cannot receive at the resolution of the image",
        "The document's vertical or horizontal resolution is one the far end's DIS does not offer, and it cannot be converted.",
    ),
    (
        12,
        Completion::Nosizesupport,
        "NOSIZESUPPORT",
        "Far end cannot receive at the size of image",
        "The page is wider or longer than the far end's DIS allows, and it cannot be reduced to fit.",
    ),
    (
        13,
        Completion::Unexpected,
        "UNEXPECTED",
        "Unexpected message received",
        "A frame arrived that makes no sense at this point of the procedure.",
    ),
    (
        14,
        Completion::TxBaddcs,
        "TX_BADDCS",
        "Received bad response to DCS or training",
        "After DCS and the training check, the far end answered with something other than CFR or FTT.",
    ),
    (
        15,
        Completion::TxBadpg,
        "TX_BADPG",
        "Received a DCN from remote after sending a page",
        "The far end disconnected (DCN) instead of confirming a page it had just received.",
    ),
    (
        16,
        Completion::TxEcmphd,
        "TX_ECMPHD",
        "Invalid ECM response received from receiver",
        "In error-correction mode the receiver answered a partial page with something other than MCF, PPR, RNR or another valid ECM response.",
    ),
    (
        17,
        Completion::TxGotdcn,
        "TX_GOTDCN",
        "Received a DCN while waiting for a DIS",
        "The far end sent DCN while this side was still waiting for its capabilities (DIS).",
    ),
    (
        18,
        Completion::TxInvalrsp,
        "TX_INVALRSP",
        "Invalid response after sending a page",
        "After a page the far end answered with a frame that is not a valid post-page response.",
    ),
    (
        19,
        Completion::TxNodis,
        "TX_NODIS",
        "Received other than DIS while waiting for DIS",
        "While waiting for the far end's capabilities (DIS) a different frame arrived.",
    ),
    (
        20,
        Completion::TxPhbdead,
        "TX_PHBDEAD",
        "Received no response to DCS or TCF",
        "DCS and the training check were sent three times with no answer at all from the far end.",
    ),
    (
        21,
        Completion::TxPhddead,
        "TX_PHDDEAD",
        "No response after sending a page",
        "A page was sent and the post-page command was repeated three times, with no answer from the far end.",
    ),
    (
        22,
        Completion::TxT5exp,
        "TX_T5EXP",
        "Timed out waiting for receiver ready (ECM mode)",
        "The receiver kept answering RNR (not ready) in error-correction mode until T5 (60 s) ran out.",
    ),
    (
        23,
        Completion::RxEcmphd,
        "RX_ECMPHD",
        "Invalid ECM response received from transmitter",
        "In error-correction mode the transmitter sent something other than a valid partial-page command.",
    ),
    (
        24,
        Completion::RxGotdcs,
        "RX_GOTDCS",
        "DCS received while waiting for DTC",
        "The far end sent DCS where a polling command (DTC) was expected.",
    ),
    (
        25,
        Completion::RxInvalcmd,
        "RX_INVALCMD",
        "Unexpected command after page received",
        "After a page the transmitter sent a command that is not EOM, MPS, EOP or their variants.",
    ),
    (
        26,
        Completion::RxNocarrier,
        "RX_NOCARRIER",
        "Carrier lost during fax receive",
        "The high-speed carrier vanished in the middle of a page and did not come back.",
    ),
    (
        27,
        Completion::RxNoeol,
        "RX_NOEOL",
        "Timed out while waiting for EOL (end Of line)",
        "Image data stopped containing valid end-of-line codes for too long.",
    ),
    (
        28,
        Completion::RxNofax,
        "RX_NOFAX",
        "Timed out while waiting for first line",
        "The high-speed carrier came, but no first image line followed.",
    ),
    (
        29,
        Completion::RxT2expdcn,
        "RX_T2EXPDCN",
        "Timer T2 expired while waiting for DCN",
        "After the last page was confirmed, the far end neither disconnected nor sent anything within T2.",
    ),
    (
        30,
        Completion::RxT2expd,
        "RX_T2EXPD",
        "Timer T2 expired while waiting for phase D",
        "After image data the transmitter sent no post-page command within T2.",
    ),
    (
        31,
        Completion::RxT2expfax,
        "RX_T2EXPFAX",
        "Timer T2 expired while waiting for fax page",
        "After confirming training (CFR), no page arrived within T2.",
    ),
    (
        32,
        Completion::RxT2expmps,
        "RX_T2EXPMPS",
        "Timer T2 expired while waiting for next fax page",
        "After confirming a page with more to follow (MPS), the next page did not arrive within T2.",
    ),
    (
        33,
        Completion::RxT2exprr,
        "RX_T2EXPRR",
        "Timer T2 expired while waiting for RR command",
        "In error-correction mode, after answering RNR, no RR followed within T2.",
    ),
    (
        34,
        Completion::RxT2exp,
        "RX_T2EXP",
        "Timer T2 expired while waiting for NSS, DCS or MCF",
        "After sending capabilities or confirming a page, no DCS, NSS or post-page response arrived within T2.",
    ),
    (
        35,
        Completion::RxDcnwhy,
        "RX_DCNWHY",
        "Unexpected DCN while waiting for DCS or DIS",
        "The far end disconnected during capability exchange, before sending DCS.",
    ),
    (
        36,
        Completion::RxDcndata,
        "RX_DCNDATA",
        "Unexpected DCN while waiting for image data",
        "The far end disconnected while this side waited for the page's image data.",
    ),
    (
        37,
        Completion::RxDcnfax,
        "RX_DCNFAX",
        "Unexpected DCN while waiting for EOM, EOP or MPS",
        "The far end disconnected after a page but before saying whether more pages follow.",
    ),
    (
        38,
        Completion::RxDcnphd,
        "RX_DCNPHD",
        "Unexpected DCN after EOM or MPS sequence",
        "The far end disconnected after announcing another page or document (MPS or EOM).",
    ),
    (
        39,
        Completion::RxDcnrrd,
        "RX_DCNRRD",
        "Unexpected DCN after RR/RNR sequence",
        "The far end disconnected during receive-ready flow control in error-correction mode.",
    ),
    (
        40,
        Completion::RxDcnnortn,
        "RX_DCNNORTN",
        "Unexpected DCN after requested retransmission",
        "The far end disconnected after being asked to retransmit (RTN or PPR) instead of retrying.",
    ),
    (
        41,
        Completion::Fileerror,
        "FILEERROR",
        "TIFF/F file cannot be opened",
        "The TIFF file could not be opened.",
    ),
    (
        42,
        Completion::Nopage,
        "NOPAGE",
        "TIFF/F page not found",
        "The requested page is not in the TIFF file.",
    ),
    (
        43,
        Completion::Badtiff,
        "BADTIFF",
        "TIFF/F format is not compatible",
        "The TIFF file's format cannot be used for fax.",
    ),
    (
        44,
        Completion::Badpage,
        "BADPAGE",
        "TIFF/F page number tag missing",
        "A TIFF page lacks its page number tag.",
    ),
    (
        45,
        Completion::Badtag,
        "BADTAG",
        "Incorrect values for TIFF/F tags",
        "A TIFF tag has a value that fax pages cannot have.",
    ),
    (
        46,
        Completion::Badtiffhdr,
        "BADTIFFHDR",
        "Bad TIFF/F header - incorrect values in fields",
        "The TIFF header holds values that are not valid.",
    ),
    (
        47,
        Completion::Nomem,
        "NOMEM",
        "Cannot allocate memory for more pages",
        "There was not enough memory to hold more pages.",
    ),
    (
        48,
        Completion::Retrydcn,
        "RETRYDCN",
        "Disconnected after permitted retries",
        "A command was repeated as many times as allowed without a usable answer, so the call was given up.",
    ),
    (
        49,
        Completion::Calldropped,
        "CALLDROPPED",
        "The call dropped prematurely",
        "The line went dead (hang-up or loss of signal) before the fax procedure completed.",
    ),
    (
        50,
        Completion::Nopoll,
        "NOPOLL",
        "Poll not accepted",
        "The polling request (DTC) was refused.",
    ),
    (
        51,
        Completion::IdentUnacceptable,
        "IDENT_UNACCEPTABLE",
        "Ident not accepted",
        "The far end's station identity was not accepted.",
    ),
    (
        52,
        Completion::SubUnacceptable,
        "SUB_UNACCEPTABLE",
        "Sub-address not accepted",
        "The sub-address (SUB) was not accepted.",
    ),
    (
        53,
        Completion::SepUnacceptable,
        "SEP_UNACCEPTABLE",
        "Selective polling address not accepted",
        "The selective polling address (SEP) was not accepted.",
    ),
    (
        54,
        Completion::PsaUnacceptable,
        "PSA_UNACCEPTABLE",
        "Polled sub-address not accepted",
        "The polled sub-address (PSA) was not accepted.",
    ),
    (
        55,
        Completion::SidUnacceptable,
        "SID_UNACCEPTABLE",
        "Sender identification not accepted",
        "The sender identification (SID) was not accepted.",
    ),
    (
        56,
        Completion::PwdUnacceptable,
        "PWD_UNACCEPTABLE",
        "Password not accepted",
        "The password (PWD) was not accepted.",
    ),
    (
        57,
        Completion::TsaUnacceptable,
        "TSA_UNACCEPTABLE",
        "Transmitting subscriber internet address not accepted",
        "The transmitting subscriber internet address (TSA) was not accepted.",
    ),
    (
        58,
        Completion::IraUnacceptable,
        "IRA_UNACCEPTABLE",
        "Internet routing address not accepted",
        "The internet routing address (IRA) was not accepted.",
    ),
    (
        59,
        Completion::CiaUnacceptable,
        "CIA_UNACCEPTABLE",
        "Calling subscriber internet address not accepted",
        "The calling subscriber internet address (CIA) was not accepted.",
    ),
    (
        60,
        Completion::IspUnacceptable,
        "ISP_UNACCEPTABLE",
        "Internet selective polling address not accepted",
        "The internet selective polling address (ISP) was not accepted.",
    ),
    (
        61,
        Completion::CsaUnacceptable,
        "CSA_UNACCEPTABLE",
        "Called subscriber internet address not accepted",
        "The called subscriber internet address (CSA) was not accepted.",
    ),
];

impl Completion {
    /// Every code in numeric order.
    pub fn all() -> impl Iterator<Item = Completion> {
        TABLE.iter().map(|row| row.1)
    }

    fn row(self) -> &'static (u8, Completion, &'static str, &'static str, &'static str) {
        // The table is in variant order, so the discriminant indexes it.
        &TABLE[self as usize]
    }

    /// The numeric code (0 = OK).
    pub fn code(self) -> u8 {
        self.row().0
    }

    /// The symbolic name (`RX_DCNPHD`).
    pub fn name(self) -> &'static str {
        self.row().2
    }

    /// The exact completion string.
    pub fn text(self) -> &'static str {
        self.row().3
    }

    /// One sentence on when it happens.
    pub fn explanation(self) -> &'static str {
        self.row().4
    }

    /// The code with this number.
    pub fn from_code(code: u8) -> Option<Completion> {
        TABLE.get(code as usize).map(|row| row.1)
    }

    /// The code with this symbolic name (case-insensitive).
    pub fn from_name(name: &str) -> Option<Completion> {
        TABLE
            .iter()
            .find(|row| row.2.eq_ignore_ascii_case(name))
            .map(|row| row.1)
    }

    /// The code whose string is exactly `text`.
    pub fn from_text(text: &str) -> Option<Completion> {
        TABLE.iter().find(|row| row.3 == text).map(|row| row.1)
    }

    /// Whether this code means success.
    pub fn is_ok(self) -> bool {
        self == Completion::Ok
    }
}

impl fmt::Display for Completion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text())
    }
}

/// Outcomes reported by the layers around the engine (call, document, report,
/// post-processing), with the strings deployed fax-to-mail pipelines key on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PipelineError {
    /// The call was never answered (no answer, busy, rejected).
    ConnectionFailed,
    /// The far end answered but no fax signalling was ever detected.
    TransmissionNotEstablished,
    /// The document file is missing or unreadable.
    DocumentLoading,
    /// The document could not be turned into fax pages.
    DocumentGeneration,
    /// A call's outcome record never completed (worker killed, run interrupted).
    LogEntryLost,
    /// The received image could not be turned into PDF; the TIFF is delivered instead.
    PdfConversion,
}

const PIPELINE: &[(PipelineError, &str, &str)] = &[
    (
        PipelineError::ConnectionFailed,
        "Connection failed",
        "The call was never answered: no answer, busy or rejected, before any fax signal.",
    ),
    (
        PipelineError::TransmissionNotEstablished,
        "Fax transmission not established",
        "The far end answered, but no fax tone or signalling was ever heard: a voice line, silence or a modem of another kind.",
    ),
    (
        PipelineError::DocumentLoading,
        "Document loading error.",
        "The document to send is missing or cannot be read.",
    ),
    (
        PipelineError::DocumentGeneration,
        "Document generation error",
        "The document exists but could not be turned into fax pages (not a usable bilevel image, or conversion failed).",
    ),
    (
        PipelineError::LogEntryLost,
        "Log entry lost",
        "The call's outcome record never completed (the worker was killed or the run interrupted), so its result is unknown.",
    ),
    (
        PipelineError::PdfConversion,
        "PDF Conversion",
        "The received image could not be converted to PDF, so the raw TIFF was delivered instead.",
    ),
];

impl PipelineError {
    /// Every pipeline outcome.
    pub fn all() -> impl Iterator<Item = PipelineError> {
        PIPELINE.iter().map(|row| row.0)
    }

    /// The exact string.
    pub fn text(self) -> &'static str {
        PIPELINE[self as usize].1
    }

    /// One sentence on when it happens.
    pub fn explanation(self) -> &'static str {
        PIPELINE[self as usize].2
    }
}

impl fmt::Display for PipelineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_in_code_order() {
        for (i, row) in TABLE.iter().enumerate() {
            assert_eq!(row.0 as usize, i);
            assert_eq!(row.1 as usize, i);
        }
        for (i, row) in PIPELINE.iter().enumerate() {
            assert_eq!(row.0 as usize, i);
        }
    }

    #[test]
    fn lookups_round_trip() {
        for c in Completion::all() {
            assert_eq!(Completion::from_code(c.code()), Some(c));
            assert_eq!(Completion::from_name(c.name()), Some(c));
            assert_eq!(Completion::from_text(c.text()), Some(c));
        }
        assert_eq!(
            Completion::RxDcnphd.text(),
            "Unexpected DCN after EOM or MPS sequence"
        );
        assert_eq!(Completion::from_code(62), None);
    }
}
