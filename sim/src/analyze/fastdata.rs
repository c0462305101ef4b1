//! What a fast-modem burst carries, decoded from its bits: TCF (zeros), a non-ECM page
//! (T.4 rows) or ECM frames (HDLC). Audio and T.38 captures both feed bits here.

use modem::hdlc::{HdlcDeframer, HdlcEvent, HdlcRxConfig};
use t30::frame::DisBits;
use t30::frame::dis::FrameKind;
use t30::image::Resolution;
use t30::image::codec::G3Decoder;

use super::{ObsKind, Observation};

/// What the last DCS said the fast modem will carry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DcsInfo {
    /// ECM frames rather than plain T.4 data.
    pub ecm: bool,
    /// MR (T.4 two-dimensional) coding.
    pub two_d: bool,
    /// MMR coding (ECM only).
    pub mmr: bool,
    /// Page width in pels.
    pub width: u32,
    /// Vertical resolution.
    pub resolution: Resolution,
}

impl DcsInfo {
    /// Reads the settings out of a DCS information field.
    pub fn from_fif(fif: &[u8]) -> DcsInfo {
        let d = DisBits::from_fif(fif);
        let ecm = d.bit(27);
        let width = match d.width(FrameKind::Dcs) {
            Some(t30::frame::PageWidth::B4) => 2048,
            Some(t30::frame::PageWidth::A3) => 2432,
            _ => 1728,
        };
        let resolution = if d.bit(41) {
            Resolution::Superfine
        } else if d.bit(15) {
            Resolution::Fine
        } else {
            Resolution::Standard
        };
        DcsInfo {
            ecm,
            two_d: d.bit(16),
            mmr: ecm && d.bit(31),
            width,
            resolution,
        }
    }

    /// "MH", "MR" or "MMR".
    pub fn coding(&self) -> &'static str {
        if self.mmr {
            "MMR"
        } else if self.two_d {
            "MR"
        } else {
            "MH"
        }
    }
}

/// Which kind of burst is being decoded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BurstKind {
    /// The training check: zeros.
    Tcf,
    /// Page data as the DCS described it.
    Data(DcsInfo),
}

/// Rows kept per decoded page at most (a long A4 page at superfine is about 4600).
const MAX_ROWS: u32 = 20_000;

/// Decodes one burst's bits, in line order.
pub struct BurstDecoder {
    kind: BurstKind,
    rate: u32,
    bits: u64,
    zero_run: u64,
    longest_zero_run: u64,
    g3: Option<G3Decoder>,
    deframer: Option<HdlcDeframer>,
    /// ECM frames: octets, FCS ok, bit index at the end.
    frames: Vec<(Vec<u8>, bool, u64)>,
    /// The page's bits packed most significant first (codec order).
    data: Vec<u8>,
    acc: u8,
    acc_bits: u8,
}

impl BurstDecoder {
    /// A decoder for a burst at `rate` bit/s.
    pub fn new(kind: BurstKind, rate: u32) -> BurstDecoder {
        let (g3, deframer) = match kind {
            BurstKind::Data(d) if d.ecm => (None, Some(HdlcDeframer::new(HdlcRxConfig::default()))),
            BurstKind::Data(d) => (
                G3Decoder::new(d.width, d.two_d, d.resolution, MAX_ROWS).ok(),
                None,
            ),
            BurstKind::Tcf => (None, None),
        };
        BurstDecoder {
            kind,
            rate,
            bits: 0,
            zero_run: 0,
            longest_zero_run: 0,
            g3,
            deframer,
            frames: Vec::new(),
            data: Vec::new(),
            acc: 0,
            acc_bits: 0,
        }
    }

    /// Bits taken so far.
    pub fn bits(&self) -> u64 {
        self.bits
    }

    /// One bit, in line order.
    pub fn push_bit(&mut self, bit: bool) {
        self.bits += 1;
        if bit {
            self.zero_run = 0;
        } else {
            self.zero_run += 1;
            self.longest_zero_run = self.longest_zero_run.max(self.zero_run);
        }
        match self.kind {
            BurstKind::Tcf => {}
            BurstKind::Data(_) => {
                if let Some(d) = self.deframer.as_mut() {
                    let frames = &mut self.frames;
                    let at = self.bits;
                    d.push_bit(bit, &mut |e: HdlcEvent<'_>| {
                        if let HdlcEvent::Frame { data, crc_ok } = e {
                            frames.push((ecm_codec_order(data.to_vec()), crc_ok, at));
                        }
                    });
                } else {
                    if let Some(g) = self.g3.as_mut() {
                        g.push_bit(bit);
                    }
                    if self.data.len() < 16 << 20 {
                        self.acc = self.acc << 1 | bit as u8;
                        self.acc_bits += 1;
                        if self.acc_bits == 8 {
                            self.data.push(self.acc);
                            self.acc_bits = 0;
                        }
                    }
                }
            }
        }
    }

    /// Octets whose first bit in line order is the least significant (HDLC order).
    pub fn push_octets_lsb_first(&mut self, octets: &[u8]) {
        for &o in octets {
            for i in 0..8 {
                self.push_bit(o >> i & 1 != 0);
            }
        }
    }

    /// Octets whose first bit in line order is the most significant (codec order).
    pub fn push_octets_msb_first(&mut self, octets: &[u8]) {
        for &o in octets {
            for i in (0..8).rev() {
                self.push_bit(o >> i & 1 != 0);
            }
        }
    }

    /// The observations of the burst: `start` is when its data began and `burst_start`
    /// when its carrier began, in seconds.
    pub fn finish(self, track: usize, burst_start: f64, start: f64) -> Vec<Observation> {
        let secs = |bits: u64| start + bits as f64 / self.rate.max(1) as f64;
        let end = secs(self.bits);
        match self.kind {
            BurstKind::Tcf => vec![Observation {
                start,
                end,
                track,
                kind: ObsKind::Tcf {
                    rate: self.rate,
                    bits: self.bits,
                    longest_zero_run: self.longest_zero_run,
                },
            }],
            BurstKind::Data(d) if d.ecm => self
                .frames
                .into_iter()
                .map(|(bytes, fcs_ok, at)| {
                    let len_bits = (bytes.len() as u64 + 3) * 8;
                    Observation {
                        start: secs(at.saturating_sub(len_bits)),
                        end: secs(at),
                        track,
                        kind: ObsKind::Frame {
                            bytes,
                            fcs_ok,
                            burst_start,
                            fast: true,
                        },
                    }
                })
                .collect(),
            BurstKind::Data(d) => {
                if self.bits < 64 {
                    return Vec::new();
                }
                let mut data = self.data;
                if self.acc_bits > 0 {
                    data.push(self.acc << (8 - self.acc_bits));
                }
                let (rows, bad_rows, complete) = match self.g3 {
                    Some(g) => {
                        let p = g.finish();
                        (p.bitmap.height(), p.bad_rows, p.end_of_page_seen)
                    }
                    None => (0, 0, false),
                };
                vec![Observation {
                    start,
                    end,
                    track,
                    kind: ObsKind::Page {
                        coding: d.coding().to_string(),
                        rows,
                        bad_rows,
                        complete,
                        data,
                        width: d.width,
                    },
                }]
            }
        }
    }
}

/// FCD frames carry image octets; on the line each goes first coded bit first inside an
/// LSB-first HDLC frame, so in the codec's order each data octet is bit-reversed.
pub fn ecm_codec_order(mut frame: Vec<u8>) -> Vec<u8> {
    const FCD: u8 = 0x06;
    if frame.len() > 4 && frame[2] == FCD {
        for b in &mut frame[4..] {
            *b = b.reverse_bits();
        }
    }
    frame
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcf_counts_the_longest_zero_run() {
        let mut d = BurstDecoder::new(BurstKind::Tcf, 9600);
        for i in 0..1000 {
            d.push_bit(i == 100 || i == 900);
        }
        let obs = d.finish(0, 0.0, 1.0);
        assert_eq!(
            obs[0].kind,
            ObsKind::Tcf {
                rate: 9600,
                bits: 1000,
                longest_zero_run: 799
            }
        );
    }

    #[test]
    fn dcs_fields_are_read() {
        // DCS of a V.17 14400 ECM MMR fine call.
        let fif = [0x00, 0x62, 0xf8, 0x44];
        let i = DcsInfo::from_fif(&fif);
        assert!(i.ecm);
        assert_eq!(i.width, 1728);
        assert_eq!(i.resolution, Resolution::Fine);
        assert_eq!(i.coding(), "MMR");
    }
}
