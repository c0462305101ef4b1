//! RTP G.711 streams found in a capture, decoded to audio as a receiver would play them.
//!
//! A stream is the packets of one SSRC from one address to another with payload type 0
//! (PCMU) or 8 (PCMA), found without SIP/SDP: RTP version 2, a static G.711 payload type,
//! and at least [`MIN_PACKETS`] packets whose sequence numbers mostly follow each other.
//! Decoding orders the packets by sequence number, places each by its timestamp, and
//! fills what is missing with silence, reporting every gap.

use std::collections::BTreeMap;

use channel_models::g711::{alaw_decode, ulaw_decode};

use super::pcap::{UdpPacket, endpoint};

/// Packets a stream needs to count as one.
pub const MIN_PACKETS: usize = 10;
/// Largest gap filled, samples (a longer jump is a new talk spurt start: 10 s).
const MAX_FILL: u64 = 80_000;

/// One packet of a stream.
#[derive(Debug, Clone, PartialEq)]
pub struct RtpPacket {
    /// Arrival time, seconds since the epoch.
    pub time: f64,
    /// Sequence number.
    pub seq: u16,
    /// Timestamp (samples).
    pub timestamp: u32,
    /// G.711 octets.
    pub payload: Vec<u8>,
}

/// One RTP stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Stream {
    /// Source address and port.
    pub src: (std::net::IpAddr, u16),
    /// Destination address and port.
    pub dst: (std::net::IpAddr, u16),
    /// SSRC.
    pub ssrc: u32,
    /// Payload type (0 PCMU, 8 PCMA).
    pub pt: u8,
    /// Packets in arrival order.
    pub packets: Vec<RtpPacket>,
}

impl Stream {
    /// One line for `--list` and the report.
    pub fn describe(&self) -> String {
        format!(
            "{} -> {} SSRC {:#010x} {} {} packets",
            endpoint(&self.src),
            endpoint(&self.dst),
            self.ssrc,
            if self.pt == 8 { "PCMA" } else { "PCMU" },
            self.packets.len()
        )
    }
}

/// Media missing from a stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Gap {
    /// Where, seconds from the stream's first sample.
    pub start_s: f64,
    /// How long, seconds.
    pub duration_s: f64,
    /// Packets missing by sequence number.
    pub packets: u32,
}

impl Gap {
    /// In words.
    pub fn describe(&self) -> String {
        format!(
            "RTP gap: {} packet(s) missing, {:.0} ms filled with silence",
            self.packets,
            self.duration_s * 1000.0
        )
    }
}

/// Parses an RTP header: (payload type, seq, timestamp, ssrc, payload).
pub fn parse(p: &[u8]) -> Option<(u8, u16, u32, u32, &[u8])> {
    if p.len() < 12 || p[0] >> 6 != 2 {
        return None;
    }
    let cc = usize::from(p[0] & 0x0f);
    let mut at = 12 + 4 * cc;
    if p[0] & 0x10 != 0 {
        let ext = p.get(at + 2..at + 4)?;
        at += 4 + 4 * usize::from(u16::from_be_bytes([ext[0], ext[1]]));
    }
    let mut end = p.len();
    if p[0] & 0x20 != 0 {
        let pad = usize::from(*p.last()?);
        end = end.checked_sub(pad)?;
    }
    if at > end {
        return None;
    }
    let pt = p[1] & 0x7f;
    let seq = u16::from_be_bytes([p[2], p[3]]);
    let ts = u32::from_be_bytes([p[4], p[5], p[6], p[7]]);
    let ssrc = u32::from_be_bytes([p[8], p[9], p[10], p[11]]);
    Some((pt, seq, ts, ssrc, &p[at..end]))
}

/// The G.711 streams of a capture, largest first.
pub fn find_streams(packets: &[UdpPacket]) -> Vec<Stream> {
    let mut map: BTreeMap<(String, String, u32, u8), Stream> = BTreeMap::new();
    for u in packets {
        let Some((pt, seq, timestamp, ssrc, payload)) = parse(&u.payload) else {
            continue;
        };
        if pt != 0 && pt != 8 || payload.is_empty() {
            continue;
        }
        let key = (endpoint(&u.src), endpoint(&u.dst), ssrc, pt);
        map.entry(key)
            .or_insert_with(|| Stream {
                src: u.src,
                dst: u.dst,
                ssrc,
                pt,
                packets: Vec::new(),
            })
            .packets
            .push(RtpPacket {
                time: u.time,
                seq,
                timestamp,
                payload: payload.to_vec(),
            });
    }
    let mut v: Vec<Stream> = map
        .into_values()
        .filter(|s| s.packets.len() >= MIN_PACKETS && plausible(s))
        .collect();
    v.sort_by_key(|s| std::cmp::Reverse(s.packets.len()));
    v
}

/// Most consecutive packets (in arrival order) step the sequence number by a little.
fn plausible(s: &Stream) -> bool {
    let steps = s
        .packets
        .windows(2)
        .filter(|w| {
            let d = w[1].seq.wrapping_sub(w[0].seq) as i16;
            (-8..=8).contains(&d) && d != 0
        })
        .count();
    steps * 10 >= (s.packets.len() - 1) * 7
}

/// Which streams to analyse: the one asked for (or the largest) and the stream going the
/// other way between the same two ends, if any.
pub fn choose(streams: &[Stream], wanted: Option<usize>) -> Result<Vec<usize>, String> {
    let first = match wanted {
        Some(i) if i < streams.len() => i,
        Some(i) => {
            return Err(format!(
                "no RTP stream {i}: the capture has {} (see --list)",
                streams.len()
            ));
        }
        None => 0,
    };
    let s = &streams[first];
    let back = streams
        .iter()
        .enumerate()
        .find(|(j, t)| *j != first && t.src == s.dst && t.dst == s.src)
        .map(|(j, _)| j);
    let mut v = vec![first];
    v.extend(back);
    // Keep the caller-to-answerer order stable: the stream that starts first goes first.
    v.sort_by(|&a, &b| {
        let ta = streams[a].packets.first().map(|p| p.time).unwrap_or(0.0);
        let tb = streams[b].packets.first().map(|p| p.time).unwrap_or(0.0);
        ta.total_cmp(&tb).then(a.cmp(&b))
    });
    Ok(v)
}

/// Decodes a stream to 8 kHz samples: (samples, gaps, start time in seconds after `t0`).
pub fn decode(s: &Stream, t0: f64) -> (Vec<i16>, Vec<Gap>, f64) {
    // Unwrap sequence numbers around the first one, in arrival order.
    let mut ext: Vec<(i64, &RtpPacket)> = Vec::with_capacity(s.packets.len());
    let mut last: Option<i64> = None;
    for p in &s.packets {
        let e = match last {
            None => i64::from(p.seq),
            Some(l) => l + i64::from(p.seq.wrapping_sub(l as u16) as i16),
        };
        if last.is_none_or(|l| e > l) {
            last = Some(e);
        }
        ext.push((e, p));
    }
    ext.sort_by_key(|(e, _)| *e);
    ext.dedup_by_key(|(e, _)| *e);
    let Some(&(first_seq, first)) = ext.first() else {
        return (Vec::new(), Vec::new(), 0.0);
    };
    let decode = |c: u8| {
        if s.pt == 8 {
            alaw_decode(c)
        } else {
            ulaw_decode(c)
        }
    };
    let mut out: Vec<i16> = Vec::new();
    let mut gaps = Vec::new();
    // Placement: each packet at its timestamp's offset from the first (wrapping).
    let mut prev_seq = first_seq;
    // The stream cannot play longer than it took to arrive (plus slack): timestamps that
    // say otherwise are not trusted to place audio, which also bounds the memory a hostile
    // capture can make us fill with silence.
    let (t_min, t_max) = s.packets.iter().fold((f64::MAX, f64::MIN), |(a, b), p| {
        (a.min(p.time), b.max(p.time))
    });
    let arrived = ((t_max - t_min).max(0.0) * 8000.0) as u64;
    let payload: u64 = s.packets.iter().map(|p| p.payload.len() as u64).sum();
    let cap = arrived.max(payload) + MAX_FILL;
    for &(e, p) in &ext {
        let offset = u64::from(p.timestamp.wrapping_sub(first.timestamp));
        if offset > cap
            || offset > out.len() as u64 + MAX_FILL
            || (offset as usize) < out.len().saturating_sub(MAX_FILL as usize)
        {
            // A timestamp that does not fit the stream: play it right after the last one.
            let missing = (e - prev_seq - 1).max(0) as u32;
            if missing > 0 {
                gaps.push(Gap {
                    start_s: out.len() as f64 / 8000.0,
                    duration_s: 0.0,
                    packets: missing,
                });
            }
        } else if offset as usize > out.len() {
            let fill = offset as usize - out.len();
            gaps.push(Gap {
                start_s: out.len() as f64 / 8000.0,
                duration_s: fill as f64 / 8000.0,
                packets: (e - prev_seq - 1).max(0) as u32,
            });
            out.resize(offset as usize, 0);
        } else if (offset as usize) < out.len() {
            // Overlap (a duplicate under another sequence number): later audio wins.
            out.truncate(offset as usize);
        }
        out.extend(p.payload.iter().map(|&c| decode(c)));
        prev_seq = e;
    }
    (out, gaps, (first.time - t0).max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_with_csrc_extension_and_padding() {
        let mut p = vec![0xb1, 8, 0, 5, 0, 0, 0, 160, 1, 2, 3, 4];
        p.extend_from_slice(&[9, 9, 9, 9]); // one CSRC
        p.extend_from_slice(&[0xbe, 0xde, 0, 1, 7, 7, 7, 7]); // extension of one word
        p.extend_from_slice(&[0xd5, 0xd5]);
        p.extend_from_slice(&[0, 2]); // padding of 2
        let (pt, seq, ts, ssrc, payload) = parse(&p).unwrap();
        assert_eq!((pt, seq, ts, ssrc), (8, 5, 160, 0x01020304));
        assert_eq!(payload, &[0xd5, 0xd5]);
        assert!(parse(&[0x80, 0]).is_none());
        assert!(parse(&[0x40; 20]).is_none());
    }
}
