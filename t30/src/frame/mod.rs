//! T.30 frames: address, control, FCF and information field, and the codecs of their fields.
//!
//! Every parser is a checked constructor over bytes that never panics; every field has an
//! emitter, and the two round-trip.

pub mod dis;
pub mod fcf;

pub use dis::{DisBits, FrameKind, MinScanTime, ModemSet, PageLength, PageWidth};
pub use fcf::Fcf;

use thiserror::Error;

/// The HDLC address octet of every T.30 frame (all stations).
pub const ADDRESS: u8 = 0xFF;
/// The control octet of a frame that is not the last of its sequence.
pub const CONTROL_NOT_FINAL: u8 = 0x03;
/// The control octet of the last frame of a sequence (poll/final bit set).
pub const CONTROL_FINAL: u8 = 0x13;
/// The length of an identity field (CSI, TSI, CIG, SUB, SID, PWD, SEP, PSA).
pub const IDENT_LEN: usize = 20;

/// Why bytes are not a T.30 frame.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// Fewer than the three octets of address, control and FCF.
    #[error("frame of {0} octets is too short (address, control and FCF need 3)")]
    TooShort(usize),
    /// The address octet is not 0xFF.
    #[error("address octet {0:#04x} is not 0xff")]
    BadAddress(u8),
    /// The control octet is neither 0x03 nor 0x13.
    #[error("control octet {0:#04x} is neither 0x03 nor 0x13")]
    BadControl(u8),
}

/// A T.30 frame as carried in HDLC (FCS excluded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The FCF octet as sent (X bit included).
    pub fcf: u8,
    /// The facsimile information field.
    pub fif: Vec<u8>,
    /// Whether the control octet marks the last frame of a sequence.
    pub last: bool,
}

impl Frame {
    /// A frame of type `fcf` with X bit `x` and information field `fif`.
    pub fn new(fcf: Fcf, x: bool, fif: Vec<u8>, last: bool) -> Self {
        Frame {
            fcf: fcf.to_octet(x),
            fif,
            last,
        }
    }

    /// Parses the octets of an HDLC frame (without FCS).
    pub fn parse(bytes: &[u8]) -> Result<Frame, FrameError> {
        if bytes.len() < 3 {
            return Err(FrameError::TooShort(bytes.len()));
        }
        if bytes[0] != ADDRESS {
            return Err(FrameError::BadAddress(bytes[0]));
        }
        let last = match bytes[1] {
            CONTROL_FINAL => true,
            CONTROL_NOT_FINAL => false,
            c => return Err(FrameError::BadControl(c)),
        };
        Ok(Frame {
            fcf: bytes[2],
            fif: bytes[3..].to_vec(),
            last,
        })
    }

    /// The octets of the frame (without FCS).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(3 + self.fif.len());
        v.push(ADDRESS);
        v.push(if self.last {
            CONTROL_FINAL
        } else {
            CONTROL_NOT_FINAL
        });
        v.push(self.fcf);
        v.extend_from_slice(&self.fif);
        v
    }

    /// The frame type and X bit, or `None` when the FCF is unknown.
    pub fn kind(&self) -> Option<(Fcf, bool)> {
        Fcf::from_octet(self.fcf)
    }

    /// The frame type's name, or `FCF 0xNN` when unknown.
    pub fn name(&self) -> String {
        match self.kind() {
            Some((f, _)) => f.name().to_string(),
            None => format!("FCF {:#04x}", self.fcf),
        }
    }
}

/// Encodes an identity (CSI, TSI, …): 20 octets, last character first, space filled.
/// Characters beyond 20 are dropped; non-printable ones become spaces.
pub fn encode_ident(ident: &str) -> Vec<u8> {
    let chars: Vec<u8> = ident
        .bytes()
        .map(|b| if (0x20..0x7F).contains(&b) { b } else { b' ' })
        .take(IDENT_LEN)
        .collect();
    let mut v: Vec<u8> = chars.iter().rev().copied().collect();
    v.resize(IDENT_LEN, b' ');
    v
}

/// Decodes an identity field: reversed back, surrounding spaces trimmed. Octets outside
/// printable ASCII are shown as `?` rather than rejected, as real stations send odd bytes.
pub fn decode_ident(fif: &[u8]) -> String {
    let s: String = fif
        .iter()
        .rev()
        .map(|&b| {
            if (0x20..0x7F).contains(&b) {
                b as char
            } else {
                '?'
            }
        })
        .collect();
    s.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_emit_a_dis_frame() {
        let bytes = [
            0xFF, 0x13, 0x80, 0x00, 0xCE, 0xF4, 0x80, 0x80, 0x81, 0x80, 0x80, 0x80, 0x18,
        ];
        let f = Frame::parse(&bytes).unwrap();
        assert!(f.last);
        assert_eq!(f.kind(), Some((Fcf::DIS, false)));
        assert_eq!(f.fif.len(), 10);
        assert_eq!(f.to_bytes(), bytes);
    }

    #[test]
    fn bad_frames_are_errors() {
        assert_eq!(Frame::parse(&[0xFF, 0x13]), Err(FrameError::TooShort(2)));
        assert_eq!(
            Frame::parse(&[0xFE, 0x13, 0x80]),
            Err(FrameError::BadAddress(0xFE))
        );
        assert_eq!(
            Frame::parse(&[0xFF, 0x11, 0x80]),
            Err(FrameError::BadControl(0x11))
        );
    }

    #[test]
    fn idents_are_reversed_and_padded() {
        let fif = encode_ident("+0123456789");
        assert_eq!(fif.len(), 20);
        assert_eq!(&fif[..11], b"9876543210+");
        assert!(fif[11..].iter().all(|&b| b == b' '));
        assert_eq!(decode_ident(&fif), "+0123456789");
        assert_eq!(decode_ident(&encode_ident("")), "");
        assert_eq!(decode_ident(&[0x01, b'1']), "1?");
    }
}
