//! T.38 UDPTL flows in a capture, to observations.
//!
//! A flow is the UDP packets from one address and port to another. It counts as T.38 when
//! most of its packets parse as UDPTL whose primary is a decodable IFP (any port: no SIP
//! needed), or when `--t38-port` names one of its ports. Each flow goes through the UDPTL
//! receiver of `channel_models::t38`, which recovers lost primaries from redundancy or FEC;
//! the IFPs then become observations: indicators (CNG, CED, V.21 preamble, trainings), HDLC
//! frames reassembled from their data fields, and fast-modem data (TCF, T.4 page data, ECM
//! frames). Non-ECM data octets are read with the first line bit as the most significant;
//! HDLC octets are taken in either bit order (see [`t30_octet_order`]).

use std::collections::BTreeMap;

use channel_models::t38::{
    DataType, Delivered, FieldType, Ifp, Indicator, MsgType, UdptlPacket, UdptlReceiver,
};
use t30::frame::dis::modem_name::Modem;
use t30::frame::{Fcf, Frame};

use super::fastdata::{BurstDecoder, BurstKind, DcsInfo, ecm_codec_order};
use super::pcap::{UdpPacket, endpoint};
use super::{ObsKind, Observation, ToneKind};

/// Packets a flow needs to count as T.38.
const MIN_PACKETS: usize = 4;

/// One UDPTL flow.
#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    /// Source address and port.
    pub src: (std::net::IpAddr, u16),
    /// Destination address and port.
    pub dst: (std::net::IpAddr, u16),
    /// T.38 version whose IFP encoding decodes the flow best.
    pub version: u8,
    /// Indices of its packets in the capture.
    pub packets: Vec<usize>,
}

impl Flow {
    /// One line for `--list` and the report.
    pub fn describe(&self) -> String {
        format!(
            "{} -> {} T.38 UDPTL, {} packets",
            endpoint(&self.src),
            endpoint(&self.dst),
            self.packets.len()
        )
    }
}

fn ifp_ok(payload: &[u8], version: u8) -> bool {
    UdptlPacket::parse(payload).is_ok_and(|u| Ifp::decode(&u.primary, version).is_ok())
}

/// The T.38 flows of a capture (`port`: every UDP flow to or from it counts).
pub fn find_flows(packets: &[UdpPacket], port: Option<u16>) -> Vec<Flow> {
    let mut map: BTreeMap<(String, String), Flow> = BTreeMap::new();
    for (i, u) in packets.iter().enumerate() {
        map.entry((endpoint(&u.src), endpoint(&u.dst)))
            .or_insert_with(|| Flow {
                src: u.src,
                dst: u.dst,
                version: 0,
                packets: Vec::new(),
            })
            .packets
            .push(i);
    }
    let mut out = Vec::new();
    for mut f in map.into_values() {
        if let Some(p) = port {
            if f.src.1 == p || f.dst.1 == p {
                f.version = best_version(packets, &f);
                out.push(f);
            }
            continue;
        }
        if f.packets.len() < MIN_PACKETS {
            continue;
        }
        let v = best_version(packets, &f);
        let ok = f
            .packets
            .iter()
            .filter(|&&i| ifp_ok(&packets[i].payload, v))
            .count();
        if ok * 10 >= f.packets.len() * 8 && rising_seq(packets, &f) {
            f.version = v;
            out.push(f);
        }
    }
    out.sort_by(|a, b| {
        let ta = a.packets.first().map(|&i| packets[i].time).unwrap_or(0.0);
        let tb = b.packets.first().map(|&i| packets[i].time).unwrap_or(0.0);
        ta.total_cmp(&tb)
    });
    out
}

/// Version 0 (pre-corrigendum) and 3 differ in the field-type encoding: take the one that
/// decodes more primaries.
fn best_version(packets: &[UdpPacket], f: &Flow) -> u8 {
    let score = |v: u8| {
        f.packets
            .iter()
            .take(400)
            .filter(|&&i| ifp_ok(&packets[i].payload, v))
            .count()
    };
    if score(3) > score(0) { 3 } else { 0 }
}

fn rising_seq(packets: &[UdpPacket], f: &Flow) -> bool {
    let seqs: Vec<u16> = f
        .packets
        .iter()
        .filter_map(|&i| {
            packets[i]
                .payload
                .get(0..2)
                .map(|b| u16::from_be_bytes([b[0], b[1]]))
        })
        .collect();
    let good = seqs
        .windows(2)
        .filter(|w| {
            let d = w[1].wrapping_sub(w[0]) as i16;
            (1..=16).contains(&d)
        })
        .count();
    good * 10 >= seqs.len().saturating_sub(1) * 7
}

/// The flows of one call: the one asked for (`--stream`, or the first) and the flow going
/// the other way between the same two ends, if any.
pub fn choose(flows: &[Flow], wanted: Option<usize>) -> Result<Vec<Flow>, String> {
    let first = match wanted {
        Some(i) if i < flows.len() => i,
        Some(i) => {
            return Err(format!(
                "no T.38 flow {i}: the capture has {} (see --list)",
                flows.len()
            ));
        }
        None => 0,
    };
    let f = &flows[first];
    let mut v = vec![f.clone()];
    if let Some(back) = flows
        .iter()
        .enumerate()
        .find(|(j, g)| *j != first && g.src == f.dst && g.dst == f.src)
    {
        v.push(back.1.clone());
    }
    Ok(v)
}

fn training_of(i: Indicator) -> Option<(Modem, u32, bool)> {
    use Indicator::*;
    Some(match i {
        V27_2400Training => (Modem::V27ter, 2400, false),
        V27_4800Training => (Modem::V27ter, 4800, false),
        V29_7200Training => (Modem::V29, 7200, false),
        V29_9600Training => (Modem::V29, 9600, false),
        V17_7200ShortTraining => (Modem::V17, 7200, true),
        V17_7200LongTraining => (Modem::V17, 7200, false),
        V17_9600ShortTraining => (Modem::V17, 9600, true),
        V17_9600LongTraining => (Modem::V17, 9600, false),
        V17_12000ShortTraining => (Modem::V17, 12000, true),
        V17_12000LongTraining => (Modem::V17, 12000, false),
        V17_14400ShortTraining => (Modem::V17, 14400, true),
        V17_14400LongTraining => (Modem::V17, 14400, false),
        _ => return None,
    })
}

fn rate_of(d: DataType) -> u32 {
    use DataType::*;
    match d {
        V21 => 300,
        V27_2400 => 2400,
        V27_4800 => 4800,
        V29_7200 | V17_7200 => 7200,
        V29_9600 | V17_9600 => 9600,
        V17_12000 | V33_12000 => 12000,
        V17_14400 | V33_14400 => 14400,
        _ => 2400,
    }
}

/// Per-flow state while reading IFPs.
struct FlowState {
    track: usize,
    hdlc: Vec<u8>,
    burst_start: f64,
    /// Fast data in progress (decoder, data start) for TCF and non-ECM pages.
    fast: Option<(BurstDecoder, f64)>,
    /// The fast carrier in progress carries ECM frames.
    fast_hdlc: bool,
    /// A fast burst has been seen since the last DCS.
    after_dcs_bursts: u32,
    /// Frames whose octets came first bit as the most significant.
    reversed_frames: u32,
}

/// HDLC octets in T.30's order (first bit sent as the least significant), and whether they
/// came the other way round. T.38 gateways differ: many (and Wireshark's T.30 dissector)
/// put the first bit sent in the most significant position. The control octet (0x03 or
/// 0x13, reversed 0xC0 or 0xC8) tells which.
pub fn t30_octet_order(mut bytes: Vec<u8>) -> (Vec<u8>, bool) {
    let reversed = bytes.len() >= 2 && bytes[0] == 0xFF && matches!(bytes[1], 0xC0 | 0xC8);
    if reversed {
        for b in &mut bytes {
            *b = b.reverse_bits();
        }
    }
    (bytes, reversed)
}

/// What the T.38 flows of a capture showed.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    /// The observations, times in seconds after the capture's start.
    pub obs: Vec<Observation>,
    /// Per flow: packets, IFPs recovered and lost.
    pub notes: Vec<String>,
    /// Track names, one per flow.
    pub tracks: Vec<String>,
}

/// Observations of these T.38 flows (one call: a flow and the one coming back); times are
/// seconds after `t0`.
pub fn observe(packets: &[UdpPacket], flows: &[Flow], t0: f64) -> Observed {
    let flows: Vec<&Flow> = flows.iter().collect();
    let mut notes = Vec::new();
    let mut names = Vec::new();
    // Deliveries of every flow, merged by arrival time, so a DCS on one flow is known
    // before the other flow's fast data.
    let mut deliveries: Vec<(f64, usize, Delivered)> = Vec::new();
    for (k, f) in flows.iter().enumerate() {
        names.push(format!("t38 {}", endpoint(&f.src)));
        let mut rx = UdptlReceiver::new(f.version);
        for &i in &f.packets {
            let u = &packets[i];
            for d in rx.receive(&u.payload) {
                deliveries.push((u.time - t0, k, d));
            }
        }
        let s = rx.stats;
        notes.push(format!(
            "T.38 flow {k}: {}; {} IFPs as primaries, {} recovered from redundancy/FEC, {} lost, {} malformed, {} late or repeated",
            f.describe(),
            s.primaries,
            s.recovered,
            s.unrecoverable,
            s.malformed,
            s.stale
        ));
    }
    deliveries.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut obs = Vec::new();
    let mut states: Vec<FlowState> = (0..flows.len())
        .map(|track| FlowState {
            track,
            hdlc: Vec::new(),
            burst_start: 0.0,
            fast: None,
            fast_hdlc: false,
            after_dcs_bursts: 0,
            reversed_frames: 0,
        })
        .collect();
    let mut dcs: Option<DcsInfo> = None;
    for (t, k, d) in deliveries {
        let ifp = match d {
            Delivered::Primary(_, b) | Delivered::Recovered(_, b) => b,
            Delivered::Lost(seq) => {
                obs.push(Observation {
                    start: t,
                    end: t,
                    track: k,
                    kind: ObsKind::Gap {
                        what: format!("T.38 IFP {seq} lost (not recoverable)"),
                    },
                });
                continue;
            }
        };
        let Ok((ifp, _)) = Ifp::decode(&ifp, flows[k].version) else {
            continue;
        };
        let st = &mut states[k];
        handle_ifp(st, &ifp, t, &mut dcs, &mut obs);
    }
    for st in &mut states {
        end_fast(st, &mut obs);
        if st.reversed_frames > 0 {
            notes.push(format!(
                "T.38 flow {}: HDLC octets sent first bit as the most significant ({} frames)",
                st.track, st.reversed_frames
            ));
        }
    }
    obs.sort_by(|a, b| a.start.total_cmp(&b.start));
    Observed {
        obs,
        notes,
        tracks: names,
    }
}

/// Ends the fast-modem data in progress on a flow (TCF or a non-ECM page).
fn end_fast(st: &mut FlowState, obs: &mut Vec<Observation>) {
    if let Some((dec, start)) = st.fast.take() {
        obs.extend(dec.finish(st.track, st.burst_start, start));
    }
}

fn handle_ifp(
    st: &mut FlowState,
    ifp: &Ifp,
    t: f64,
    dcs: &mut Option<DcsInfo>,
    obs: &mut Vec<Observation>,
) {
    let track = st.track;
    match ifp.msg {
        MsgType::Indicator(i) => {
            end_fast(st, obs);
            match i {
                Indicator::Cng | Indicator::Ced => obs.push(Observation {
                    start: t,
                    end: t,
                    track,
                    kind: ObsKind::Tone {
                        tone: if i == Indicator::Cng {
                            ToneKind::Cng
                        } else {
                            ToneKind::Ced
                        },
                        level_dbm0: f32::NAN,
                    },
                }),
                Indicator::V21Preamble => {
                    st.burst_start = t;
                    st.hdlc.clear();
                    obs.push(Observation {
                        start: t,
                        end: t,
                        track,
                        kind: ObsKind::Preamble,
                    });
                }
                other => {
                    if let Some((modem, rate, short)) = training_of(other) {
                        st.burst_start = t;
                        st.hdlc.clear();
                        st.after_dcs_bursts += 1;
                        st.fast_hdlc = dcs.is_some_and(|d| d.ecm) && st.after_dcs_bursts > 1;
                        obs.push(Observation {
                            start: t,
                            end: t,
                            track,
                            kind: ObsKind::Training {
                                modem,
                                rate,
                                ok: true,
                                short,
                                cut: false,
                                snr_db: f32::NAN,
                                level_dbm0: f32::NAN,
                                constellation: Vec::new(),
                            },
                        });
                    }
                }
            }
        }
        MsgType::Data(dt) => {
            let fast = dt != DataType::V21;
            for f in &ifp.fields {
                let data = f.data.as_deref().unwrap_or(&[]);
                match f.field_type {
                    FieldType::HdlcData => st.hdlc.extend_from_slice(data),
                    FieldType::HdlcFcsOk
                    | FieldType::HdlcFcsBad
                    | FieldType::HdlcFcsOkSigEnd
                    | FieldType::HdlcFcsBadSigEnd => {
                        st.hdlc.extend_from_slice(data);
                        let ok = matches!(
                            f.field_type,
                            FieldType::HdlcFcsOk | FieldType::HdlcFcsOkSigEnd
                        );
                        let bytes = std::mem::take(&mut st.hdlc);
                        let (bytes, reversed) = t30_octet_order(bytes);
                        st.reversed_frames += u32::from(reversed);
                        if !bytes.is_empty() {
                            let bits = (bytes.len() as f64 + 3.0) * 8.0;
                            let rate = f64::from(rate_of(dt));
                            if !fast
                                && ok
                                && let Ok(fr) = Frame::parse(&bytes)
                                && matches!(fr.kind(), Some((Fcf::DCS, _)))
                            {
                                *dcs = Some(DcsInfo::from_fif(&fr.fif));
                                st.after_dcs_bursts = 0;
                            }
                            let bytes = if fast { ecm_codec_order(bytes) } else { bytes };
                            obs.push(Observation {
                                start: (t - bits / rate).max(st.burst_start),
                                end: t,
                                track,
                                kind: ObsKind::Frame {
                                    bytes,
                                    fcs_ok: ok,
                                    burst_start: st.burst_start,
                                    fast,
                                },
                            });
                        }
                    }
                    FieldType::HdlcSigEnd => st.hdlc.clear(),
                    FieldType::T4NonEcmData | FieldType::T4NonEcmSigEnd => {
                        if fast && !st.fast_hdlc {
                            let (dec, _) = st.fast.get_or_insert_with(|| {
                                let kind = match dcs {
                                    Some(d) if st.after_dcs_bursts > 1 => BurstKind::Data(*d),
                                    _ => BurstKind::Tcf,
                                };
                                (BurstDecoder::new(kind, rate_of(dt)), t)
                            });
                            dec.push_octets_msb_first(data);
                        }
                        if f.field_type == FieldType::T4NonEcmSigEnd {
                            end_fast(st, obs);
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}
