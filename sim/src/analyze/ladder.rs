//! Observations to a report: sides, decoded frames, trainings, pages, ECM blocks, and the
//! diagnosis.

use std::collections::BTreeMap;

use serde::Serialize;
use t30::completion::Completion;
use t30::frame::dis::FrameKind;
use t30::frame::{DisBits, Fcf, Frame, decode_ident};
use t30::image::Resolution;
use t30::image::codec::{decode_g3, decode_mmr};

use super::fastdata::DcsInfo;
use super::{ObsKind, Observation, Side, ToneKind, nsf};

/// What was read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InputInfo {
    /// The file as named on the command line.
    pub file: String,
    /// Its format, in words.
    pub format: String,
    /// Its length, seconds.
    pub duration_s: f64,
    /// The tracks analysed (channels, streams, flows).
    pub tracks: Vec<String>,
    /// One track with both sides mixed.
    pub mono: bool,
    /// Remarks of the reader (streams chosen, packets lost…).
    pub notes: Vec<String>,
}

/// One line of the ladder diagram.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    /// When it started, seconds.
    pub time_s: f64,
    /// When it ended, seconds.
    pub end_s: f64,
    /// Who sent it.
    pub side: Side,
    /// The signal ("CNG", "V.21 preamble", a frame name, "training", "TCF", "page", …).
    pub event: String,
    /// Decoded content.
    pub detail: String,
}

/// One decoded field of a DIS, DTC or DCS.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Field {
    /// The first T.30 bit of the field.
    pub bit: u32,
    /// Its name.
    pub name: String,
    /// Its value.
    pub value: String,
}

/// One HDLC frame.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FrameInfo {
    /// Start of the frame (after its opening flag), seconds.
    pub time_s: f64,
    /// End of the frame (its closing flag), seconds.
    pub end_s: f64,
    /// Start of the carrier that carried it, seconds.
    pub burst_start_s: f64,
    /// Who sent it.
    pub side: Side,
    /// Frame name ("DIS", "FCD", "FCF 0x00" when unknown).
    pub name: String,
    /// Octets without FCS, hex, space separated.
    pub hex: String,
    /// Whether the FCS was good.
    pub fcs_ok: bool,
    /// Carried by the fast modem (ECM) rather than V.21.
    pub fast: bool,
    /// Decoded content in words.
    pub summary: String,
    /// DIS/DTC/DCS bit by bit.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<Field>,
}

/// One fast-modem training.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainingInfo {
    /// When the training signal began, seconds.
    pub time_s: f64,
    /// Who sent it.
    pub side: Side,
    /// "V.17", "V.29", "V.27ter".
    pub modem: String,
    /// Bit rate.
    pub rate: u32,
    /// Whether a receiver trained on it.
    pub ok: bool,
    /// Short training.
    pub short: bool,
    /// The capture ended inside the training.
    pub cut: bool,
    /// SNR after training, dB.
    pub snr_db: Option<f32>,
    /// Equalised symbols after training, for the constellation snapshot (not in the JSON).
    #[serde(skip)]
    pub constellation: Vec<(f32, f32)>,
    /// Level, dBm0.
    pub level_dbm0: Option<f32>,
}

/// One TCF.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TcfInfo {
    /// When its data began, seconds.
    pub time_s: f64,
    /// Who sent it.
    pub side: Side,
    /// Bit rate.
    pub rate: u32,
    /// Length, seconds.
    pub duration_s: f64,
    /// Longest run of zeros, ms.
    pub longest_zero_run_ms: f64,
    /// Whether a receiver would accept it (a zero run of about a second).
    pub good: bool,
}

/// One page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PageInfo {
    /// Page number from 1.
    pub number: u32,
    /// When its data began, seconds.
    pub time_s: f64,
    /// Who sent it.
    pub side: Side,
    /// Sent in ECM.
    pub ecm: bool,
    /// "MH", "MR", "MMR".
    pub coding: String,
    /// Rows decoded.
    pub rows: u32,
    /// Rows corrupt.
    pub bad_rows: u32,
    /// Whether the page ended properly (RTC/EOFB, or every ECM block confirmed).
    pub complete: bool,
    /// ECM blocks.
    pub blocks: u32,
    /// ECM frames sent, retransmissions included.
    pub frames: u32,
    /// The receiver's answer to the page (MCF, RTP, RTN, PPR…), if any.
    pub response: Option<String>,
    /// Coded octets of the page, codec order (not in the JSON).
    #[serde(skip)]
    pub data: Vec<u8>,
    /// Page width in pels.
    #[serde(skip)]
    pub width: u32,
    /// Vertical resolution.
    #[serde(skip)]
    pub resolution: Option<Resolution>,
}

/// ECM totals.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EcmStats {
    /// Blocks sent.
    pub blocks: u32,
    /// FCD frames sent, retransmissions included.
    pub frames: u32,
    /// FCD frames with a bad FCS.
    pub bad_frames: u32,
    /// FCD frames sent again after a PPR.
    pub retransmitted_frames: u32,
    /// PPRs (partial page requests).
    pub pprs: u32,
    /// Frames each PPR asked for, in order.
    pub ppr_requests: Vec<Vec<u32>>,
}

/// Signal figures per side.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SideHealth {
    /// The side.
    pub side: Side,
    /// Mean level of its fast-modem trainings, dBm0.
    pub level_dbm0: Option<f32>,
    /// Mean SNR after its fast-modem trainings, dB.
    pub snr_db: Option<f32>,
    /// Level of its CNG or CED, dBm0.
    pub tone_level_dbm0: Option<f32>,
    /// Mean level of its V.21 bursts, dBm0.
    pub v21_level_dbm0: Option<f32>,
    /// Mean carrier frequency offset of its V.21 bursts, Hz.
    pub v21_offset_hz: Option<f32>,
    /// Best SNR estimate of its V.21 bursts, dB.
    pub v21_best_snr_db: Option<f32>,
}

/// Missing media.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GapInfo {
    /// When, seconds.
    pub time_s: f64,
    /// How long, seconds.
    pub duration_s: f64,
    /// Whose media.
    pub side: Side,
    /// What is missing.
    pub what: String,
}

/// The verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnosis {
    /// Whether any fax signalling was found.
    pub fax_found: bool,
    /// The completion string the caller would report (exact), if a fax call was found.
    pub caller: Option<String>,
    /// The completion string the answerer would report.
    pub answerer: Option<String>,
    /// The likely cause, one sentence.
    pub cause: String,
    /// The lines of the capture that show it.
    pub evidence: Vec<String>,
}

/// The whole analysis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// What was read.
    pub input: InputInfo,
    /// Which side each track holds.
    pub track_sides: Vec<Side>,
    /// The ladder diagram.
    pub events: Vec<Event>,
    /// Every HDLC frame.
    pub frames: Vec<FrameInfo>,
    /// Every fast-modem training.
    pub trainings: Vec<TrainingInfo>,
    /// Every TCF.
    pub tcf: Vec<TcfInfo>,
    /// Every page.
    pub pages: Vec<PageInfo>,
    /// ECM totals.
    pub ecm: EcmStats,
    /// Levels and SNR per side.
    pub health: Vec<SideHealth>,
    /// Media missing from the capture.
    pub gaps: Vec<GapInfo>,
    /// The verdict.
    pub diagnosis: Diagnosis,
    /// Echo, clock drift, codec and VAD gaps read from the audio (audio captures only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signal: Option<super::health::SignalHealth>,
    /// Our engine in place of one side (`--replay`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replay: Option<super::replay::ReplayReport>,
    /// Spectrograms of the audio tracks, when asked for (not in the JSON).
    #[serde(skip)]
    pub spectrograms: Vec<super::html::Spectrogram>,
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Which side sends a frame, by T.30: the identification frames without an X bit come from
/// the station that sends DIS (the answerer); the X bit of every other command and response
/// is set by the station that received DIS (the caller).
pub fn frame_side(bytes: &[u8]) -> Option<Side> {
    let f = Frame::parse(bytes).ok()?;
    let (kind, x) = f.kind()?;
    Some(match kind {
        Fcf::DIS | Fcf::CSI | Fcf::NSF => Side::Answerer,
        Fcf::DTC
        | Fcf::CIG
        | Fcf::NSC
        | Fcf::PWD
        | Fcf::SEP
        | Fcf::PSA
        | Fcf::CIA
        | Fcf::ISP
        | Fcf::FCD
        | Fcf::RCP => Side::Caller,
        _ if x => Side::Caller,
        _ => Side::Answerer,
    })
}

fn fcf_of(bytes: &[u8]) -> Option<Fcf> {
    Frame::parse(bytes).ok()?.kind().map(|k| k.0)
}

/// Which side each track holds: by the frames and tones on it.
fn track_sides(obs: &[Observation], tracks: usize) -> Vec<Side> {
    // Each frame or tone votes for the side that sends it, weighted by its amplitude, so
    // that a side's faint copy on the other channel (crosstalk, echo) counts for little.
    let weight = |o: &Observation| -> f64 {
        let level = match &o.kind {
            ObsKind::Tone { level_dbm0, .. } => Some(*level_dbm0),
            ObsKind::Frame { fast: false, .. } => obs.iter().find_map(|c| match c.kind {
                ObsKind::Carrier { level_dbm0, .. }
                    if c.track == o.track && c.start <= o.end && o.end <= c.end + 0.01 =>
                {
                    Some(level_dbm0)
                }
                _ => None,
            }),
            _ => None,
        };
        match level {
            Some(l) if l.is_finite() => 10f64.powf(f64::from(l) / 20.0),
            _ => 1.0,
        }
    };
    let mut votes = vec![(0f64, 0f64); tracks];
    for o in obs {
        let Some(v) = votes.get_mut(o.track) else {
            continue;
        };
        let side = match &o.kind {
            ObsKind::Frame {
                bytes,
                fcs_ok: true,
                fast: false,
                ..
            } => frame_side(bytes),
            ObsKind::Tone { tone, .. } => Some(match tone {
                ToneKind::Cng => Side::Caller,
                ToneKind::Ced => Side::Answerer,
            }),
            _ => None,
        };
        match side {
            Some(Side::Caller) => v.0 += weight(o),
            Some(Side::Answerer) => v.1 += weight(o),
            _ => {}
        }
    }
    let mut sides: Vec<Side> = votes
        .iter()
        .map(|&(c, a)| match c.partial_cmp(&a) {
            Some(std::cmp::Ordering::Greater) => Side::Caller,
            Some(std::cmp::Ordering::Less) => Side::Answerer,
            _ => Side::Unknown,
        })
        .collect();
    if tracks == 2 {
        match (sides[0], sides[1]) {
            (Side::Unknown, Side::Unknown) => {
                sides = vec![Side::Caller, Side::Answerer];
            }
            (Side::Unknown, s) => sides[0] = s.other(),
            (s, Side::Unknown) => sides[1] = s.other(),
            (a, b) if a == b => {
                // Both lean the same way: the track that leans less is the other side.
                let lean = |v: (f64, f64)| v.0 - v.1;
                sides = if lean(votes[0]) >= lean(votes[1]) {
                    vec![Side::Caller, Side::Answerer]
                } else {
                    vec![Side::Answerer, Side::Caller]
                };
            }
            _ => {}
        }
    }
    sides
}

/// Builds the report from the observations of every track.
pub fn build_report(input: InputInfo, mut obs: Vec<Observation>) -> Report {
    obs.sort_by(|a, b| a.start.total_cmp(&b.start));
    let ntracks = input.tracks.len().max(1);
    let sides = track_sides(&obs, ntracks);
    let mono = ntracks == 1;
    if !mono {
        obs = drop_crosstalk(obs, &sides);
    }
    // In a mono tap each observation's side comes from its content.
    let mut dcs_side = Side::Caller;
    let mut assigned: Vec<Side> = Vec::with_capacity(obs.len());
    for o in &obs {
        let side = if !mono {
            sides.get(o.track).copied().unwrap_or(Side::Unknown)
        } else {
            match &o.kind {
                ObsKind::Frame { bytes, fast, .. } => {
                    if *fast {
                        dcs_side
                    } else {
                        let s = frame_side(bytes).unwrap_or(Side::Unknown);
                        if fcf_of(bytes) == Some(Fcf::DCS) {
                            dcs_side = s;
                        }
                        s
                    }
                }
                ObsKind::Tone { tone, .. } => match tone {
                    ToneKind::Cng => Side::Caller,
                    ToneKind::Ced => Side::Answerer,
                },
                ObsKind::Training { .. } | ObsKind::Tcf { .. } | ObsKind::Page { .. } => dcs_side,
                _ => Side::Unknown,
            }
        };
        assigned.push(side);
    }
    if mono {
        // A preamble belongs to the frames it precedes.
        for i in 0..obs.len() {
            if obs[i].kind == ObsKind::Preamble {
                let next = (i + 1..obs.len()).find(|&j| {
                    matches!(obs[j].kind, ObsKind::Frame { fast: false, .. })
                        && obs[j].start - obs[i].end < 2.0
                });
                if let Some(j) = next {
                    assigned[i] = assigned[j];
                }
            }
        }
    }
    let mut b = Builder::default();
    for (o, side) in obs.iter().zip(assigned) {
        b.add(o, side);
    }
    b.finish_ecm_page(false);
    let health = health(&b.trainings, &obs, &sides, mono);
    let diagnosis = diagnose(&b, &input);
    Report {
        track_sides: if mono { vec![Side::Unknown] } else { sides },
        input,
        events: b.events,
        frames: b.frames,
        trainings: b.trainings,
        tcf: b.tcf,
        pages: b.pages,
        ecm: b.ecm,
        health,
        gaps: b.gaps,
        diagnosis,
        signal: None,
        replay: None,
        spectrograms: Vec::new(),
    }
}

/// A stereo recording often holds each side faintly on the other's channel too (hybrid
/// echo, crosstalk): a frame or tone heard on both tracks is kept only on the track of the
/// side that sends it.
fn drop_crosstalk(obs: Vec<Observation>, sides: &[Side]) -> Vec<Observation> {
    let origin = |o: &Observation| match &o.kind {
        ObsKind::Frame {
            bytes,
            fcs_ok: true,
            ..
        } => frame_side(bytes),
        ObsKind::Tone { tone, .. } => Some(match tone {
            ToneKind::Cng => Side::Caller,
            ToneKind::Ced => Side::Answerer,
        }),
        _ => None,
    };
    let same = |a: &Observation, b: &Observation| match (&a.kind, &b.kind) {
        (ObsKind::Frame { bytes: x, .. }, ObsKind::Frame { bytes: y, .. }) => x == y,
        (ObsKind::Tone { tone: x, .. }, ObsKind::Tone { tone: y, .. }) => x == y,
        _ => false,
    };
    let keep: Vec<bool> = obs
        .iter()
        .map(|o| {
            let Some(from) = origin(o) else { return true };
            let here = sides.get(o.track).copied().unwrap_or(Side::Unknown);
            if here == from || here == Side::Unknown {
                return true;
            }
            // Dropped only when the sender's own track has it too.
            !obs.iter().any(|p| {
                p.track != o.track
                    && sides.get(p.track) == Some(&from)
                    && (p.end - o.end).abs() < 0.3
                    && same(o, p)
            })
        })
        .collect();
    obs.into_iter()
        .zip(keep)
        .filter_map(|(o, k)| k.then_some(o))
        .collect()
}

fn health(
    trainings: &[TrainingInfo],
    obs: &[Observation],
    sides: &[Side],
    mono: bool,
) -> Vec<SideHealth> {
    // Whose V.21 burst a carrier reading is: the track's side, or on a mono tap the side
    // of the good frames the burst carried.
    let carrier_side = |c: &Observation| -> Side {
        if !mono {
            return sides.get(c.track).copied().unwrap_or(Side::Unknown);
        }
        obs.iter()
            .find_map(|o| match &o.kind {
                ObsKind::Frame {
                    bytes,
                    fcs_ok: true,
                    fast: false,
                    ..
                } if o.end >= c.start && o.end <= c.end + 0.01 => frame_side(bytes),
                _ => None,
            })
            .unwrap_or(Side::Unknown)
    };
    [Side::Caller, Side::Answerer]
        .iter()
        .map(|&side| {
            let t: Vec<&TrainingInfo> = trainings
                .iter()
                .filter(|t| t.side == side && t.ok)
                .collect();
            let mean = |v: Vec<f32>| {
                let v: Vec<f32> = v.into_iter().filter(|x| x.is_finite()).collect();
                (!v.is_empty()).then(|| v.iter().sum::<f32>() / v.len() as f32)
            };
            let tone = obs.iter().find_map(|o| match &o.kind {
                ObsKind::Tone { tone, level_dbm0 } if level_dbm0.is_finite() => {
                    let s = if mono {
                        match tone {
                            ToneKind::Cng => Side::Caller,
                            ToneKind::Ced => Side::Answerer,
                        }
                    } else {
                        sides.get(o.track).copied().unwrap_or(Side::Unknown)
                    };
                    (s == side).then_some(*level_dbm0)
                }
                _ => None,
            });
            let carriers: Vec<(f32, f32, f32)> = obs
                .iter()
                .filter_map(|o| match o.kind {
                    ObsKind::Carrier {
                        level_dbm0,
                        snr_db,
                        offset_hz,
                    } if carrier_side(o) == side => Some((level_dbm0, snr_db, offset_hz)),
                    _ => None,
                })
                .collect();
            SideHealth {
                side,
                level_dbm0: mean(t.iter().filter_map(|t| t.level_dbm0).collect()),
                snr_db: mean(t.iter().filter_map(|t| t.snr_db).collect()),
                tone_level_dbm0: tone,
                v21_level_dbm0: mean(carriers.iter().map(|c| c.0).collect()),
                v21_offset_hz: mean(carriers.iter().map(|c| c.2).collect()),
                v21_best_snr_db: carriers
                    .iter()
                    .map(|c| c.1)
                    .filter(|x| x.is_finite())
                    .reduce(f32::max),
            }
        })
        .collect()
}

/// The ECM block being received.
#[derive(Default)]
struct Block {
    frames: BTreeMap<u8, Vec<u8>>,
    sent: u32,
    seen_numbers: std::collections::BTreeSet<u8>,
    start: Option<f64>,
}

/// Counts of the ECM burst being read.
#[derive(Debug, Clone, Copy, Default)]
struct BurstStats {
    fcd: u32,
    bad: u32,
    rcp: u32,
    lo: u32,
    hi: u32,
}

#[derive(Default)]
struct Builder {
    events: Vec<Event>,
    frames: Vec<FrameInfo>,
    trainings: Vec<TrainingInfo>,
    tcf: Vec<TcfInfo>,
    pages: Vec<PageInfo>,
    ecm: EcmStats,
    gaps: Vec<GapInfo>,
    dcs: Option<DcsInfo>,
    block: Block,
    /// The page being assembled in ECM: data of the confirmed blocks.
    ecm_page: Vec<u8>,
    ecm_page_blocks: u32,
    ecm_page_frames: u32,
    ecm_page_start: Option<f64>,
    ecm_page_side: Option<Side>,
    /// The last PPS seen (post-page FCF, frames in block), waiting for its answer.
    pending_pps: Option<(u8, u32)>,
    /// Index of the event summarising the current FCD burst.
    fcd_event: Option<usize>,
    burst_stats: BurstStats,
    fcd_burst: Option<f64>,
    /// A page (non-ECM) waiting for the receiver's answer.
    page_awaiting_answer: Option<usize>,
}

impl Builder {
    fn event(&mut self, o: &Observation, side: Side, event: &str, detail: String) {
        self.events.push(Event {
            time_s: o.start,
            end_s: o.end,
            side,
            event: event.to_string(),
            detail,
        });
    }

    fn add(&mut self, o: &Observation, side: Side) {
        match &o.kind {
            ObsKind::Tone { tone, level_dbm0 } => {
                let (name, hz) = match tone {
                    ToneKind::Cng => ("CNG", 1100),
                    ToneKind::Ced => ("CED", 2100),
                };
                let level = if level_dbm0.is_finite() {
                    format!(", {level_dbm0:.1} dBm0")
                } else {
                    String::new()
                };
                let detail = if o.end - o.start < 0.001 {
                    "T.38 indicator".to_string()
                } else {
                    format!("{hz} Hz, {:.2} s{level}", o.end - o.start)
                };
                self.event(o, side, name, detail);
            }
            ObsKind::Preamble => {
                let detail = if o.end - o.start < 0.001 {
                    "T.38 indicator".to_string()
                } else {
                    format!("flags, {:.2} s", o.end - o.start)
                };
                self.event(o, side, "V.21 preamble", detail);
            }
            ObsKind::Frame {
                bytes,
                fcs_ok,
                burst_start,
                fast,
            } => self.frame(o, side, bytes, *fcs_ok, *burst_start, *fast),
            ObsKind::Training {
                modem,
                rate,
                ok,
                short,
                cut,
                snr_db,
                level_dbm0,
                constellation,
            } => {
                let fin = |x: f32| x.is_finite().then_some(x);
                self.trainings.push(TrainingInfo {
                    constellation: constellation.clone(),
                    time_s: o.start,
                    side,
                    modem: modem.name().to_string(),
                    rate: *rate,
                    ok: *ok,
                    short: *short,
                    cut: *cut,
                    snr_db: fin(*snr_db),
                    level_dbm0: fin(*level_dbm0),
                });
                let mut d = format!(
                    "{} {} bit/s{}, {}",
                    modem.name(),
                    rate,
                    if *short { " (short)" } else { "" },
                    if *ok && !level_dbm0.is_finite() {
                        // T.38: the gateway announced it; there is no signal to judge.
                        "T.38 indicator"
                    } else if *ok {
                        "trained"
                    } else if *cut {
                        "cut off by the end of the capture"
                    } else {
                        "NOT recognised"
                    }
                );
                if let Some(s) = fin(*snr_db) {
                    d += &format!(", SNR {s:.1} dB");
                }
                if let Some(l) = fin(*level_dbm0) {
                    d += &format!(", {l:.1} dBm0");
                }
                self.event(o, side, "training", d);
            }
            ObsKind::Tcf {
                rate,
                bits,
                longest_zero_run,
            } => {
                let run_ms = *longest_zero_run as f64 * 1000.0 / f64::from((*rate).max(1));
                let duration = *bits as f64 / f64::from((*rate).max(1));
                // A receiver accepts about a second of zeros out of the 1.5 s.
                let good = run_ms >= 900.0;
                self.tcf.push(TcfInfo {
                    time_s: o.start,
                    side,
                    rate: *rate,
                    duration_s: duration,
                    longest_zero_run_ms: run_ms,
                    good,
                });
                self.event(
                    o,
                    side,
                    "TCF",
                    format!(
                        "{duration:.2} s at {rate} bit/s, longest zero run {run_ms:.0} ms ({})",
                        if good { "good" } else { "bad" }
                    ),
                );
            }
            ObsKind::Page {
                coding,
                rows,
                bad_rows,
                complete,
                data,
                width,
            } => {
                let number = self.pages.len() as u32 + 1;
                self.pages.push(PageInfo {
                    number,
                    time_s: o.start,
                    side,
                    ecm: false,
                    coding: coding.clone(),
                    rows: *rows,
                    bad_rows: *bad_rows,
                    complete: *complete,
                    blocks: 0,
                    frames: 0,
                    response: None,
                    data: data.clone(),
                    width: *width,
                    resolution: self.dcs.map(|d| d.resolution),
                });
                self.page_awaiting_answer = Some(self.pages.len() - 1);
                self.event(
                    o,
                    side,
                    "page",
                    format!(
                        "page {number}: {coding}, {rows} rows, {bad_rows} bad, {:.1} s{}",
                        o.end - o.start,
                        if *complete {
                            ""
                        } else {
                            ", no RTC (cut short)"
                        }
                    ),
                );
            }
            ObsKind::Signal { level_dbm0 } => {
                self.event(
                    o,
                    side,
                    "signal",
                    format!(
                        "{:.2} s of unrecognised signal at {level_dbm0:.1} dBm0",
                        o.end - o.start
                    ),
                );
            }
            ObsKind::Carrier { .. } => {}
            ObsKind::Gap { what } => {
                self.gaps.push(GapInfo {
                    time_s: o.start,
                    duration_s: o.end - o.start,
                    side,
                    what: what.clone(),
                });
                self.event(o, side, "gap", what.clone());
            }
        }
    }

    fn frame(
        &mut self,
        o: &Observation,
        side: Side,
        bytes: &[u8],
        fcs_ok: bool,
        burst_start: f64,
        fast: bool,
    ) {
        let parsed = Frame::parse(bytes).ok();
        let kind = parsed.as_ref().and_then(|f| f.kind()).map(|k| k.0);
        let name = match &parsed {
            Some(f) => f.name(),
            None => "garbage".to_string(),
        };
        let (summary, fields) = match (&parsed, fcs_ok) {
            (Some(f), true) => describe(f),
            _ => (String::new(), Vec::new()),
        };
        self.frames.push(FrameInfo {
            time_s: o.start,
            end_s: o.end,
            burst_start_s: burst_start,
            side,
            name: name.clone(),
            hex: hex(bytes),
            fcs_ok,
            fast,
            summary: summary.clone(),
            fields,
        });
        if fast && matches!(kind, Some(Fcf::FCD) | Some(Fcf::RCP)) {
            self.ecm_frame(o, side, kind, parsed.as_ref(), fcs_ok, burst_start);
            return;
        }
        let detail = if fcs_ok {
            summary
        } else {
            format!("BAD FCS: {}", hex(bytes))
        };
        self.event(o, side, &name, detail);
        if !fcs_ok {
            return;
        }
        let Some(f) = parsed else { return };
        match kind {
            Some(Fcf::DCS) => self.dcs = Some(DcsInfo::from_fif(&f.fif)),
            Some(Fcf::PPS) if f.fif.len() >= 4 => {
                self.pending_pps = Some((f.fif[0], u32::from(f.fif[3]) + 1));
            }
            Some(Fcf::MCF) | Some(Fcf::RTP) | Some(Fcf::RTN) | Some(Fcf::PIP) | Some(Fcf::PIN)
                if self.pending_pps.is_none() =>
            {
                if let Some(i) = self.page_awaiting_answer.take() {
                    self.pages[i].response = Some(name.clone());
                }
            }
            _ => {}
        }
        match kind {
            Some(Fcf::MCF) | Some(Fcf::PIP) if self.pending_pps.is_some() => {
                // The block is confirmed.
                let (post, n) = self.pending_pps.take().unwrap_or((0, 0));
                self.confirm_block(n);
                if post & 0xFE != 0 {
                    self.finish_ecm_page(true);
                    if let Some(p) = self.pages.last_mut() {
                        p.response = Some(name);
                    }
                }
            }
            Some(Fcf::PPR) => {
                self.ecm.pprs += 1;
                let requested = ppr_frames(&f.fif);
                self.ecm.ppr_requests.push(requested);
                self.pending_pps = None;
            }
            _ => {}
        }
    }

    fn ecm_frame(
        &mut self,
        o: &Observation,
        side: Side,
        kind: Option<Fcf>,
        parsed: Option<&Frame>,
        fcs_ok: bool,
        burst_start: f64,
    ) {
        if self.fcd_burst != Some(burst_start) {
            self.fcd_burst = Some(burst_start);
            self.events.push(Event {
                time_s: o.start,
                end_s: o.end,
                side,
                event: "ECM data".into(),
                detail: String::new(),
            });
            self.fcd_event = Some(self.events.len() - 1);
            self.burst_stats = BurstStats {
                lo: u32::MAX,
                ..BurstStats::default()
            };
            self.block.start.get_or_insert(o.start);
            self.ecm_page_start.get_or_insert(o.start);
            self.ecm_page_side.get_or_insert(side);
        }
        if kind == Some(Fcf::FCD)
            && let Some(f) = parsed
            && !f.fif.is_empty()
        {
            let n = f.fif[0];
            self.ecm.frames += 1;
            self.block.sent += 1;
            if !self.block.seen_numbers.insert(n) {
                self.ecm.retransmitted_frames += 1;
            }
            if fcs_ok {
                self.block.frames.insert(n, f.fif[1..].to_vec());
            } else {
                self.ecm.bad_frames += 1;
            }
        }
        let st = &mut self.burst_stats;
        match kind {
            Some(Fcf::FCD) => {
                st.fcd += 1;
                st.bad += u32::from(!fcs_ok);
                if let Some(n) = parsed.and_then(|f| f.fif.first()) {
                    st.lo = st.lo.min(u32::from(*n));
                    st.hi = st.hi.max(u32::from(*n));
                }
            }
            _ => st.rcp += 1,
        }
        let st = self.burst_stats;
        if let Some(i) = self.fcd_event {
            let e = &mut self.events[i];
            e.end_s = o.end;
            e.detail = if st.fcd > 0 {
                format!(
                    "{} FCD frames ({}–{}), {} bad FCS, {} RCP",
                    st.fcd, st.lo, st.hi, st.bad, st.rcp
                )
            } else {
                format!("{} RCP", st.rcp)
            };
        }
    }

    fn confirm_block(&mut self, n: u32) {
        let block = std::mem::take(&mut self.block);
        if block.sent == 0 && n == 0 {
            return;
        }
        self.ecm.blocks += 1;
        self.ecm_page_blocks += 1;
        self.ecm_page_frames += block.sent;
        for i in 0..n.min(256) {
            if let Some(d) = block.frames.get(&(i as u8)) {
                self.ecm_page.extend_from_slice(d);
            }
        }
    }

    /// Ends the ECM page in progress (`complete` when its last block was confirmed).
    fn finish_ecm_page(&mut self, complete: bool) {
        let pending_frames = self.block.sent;
        if !complete && pending_frames > 0 {
            // An unconfirmed block: keep what arrived, as a partial page.
            let block = std::mem::take(&mut self.block);
            self.ecm_page_frames += block.sent;
            self.ecm_page_blocks += 1;
            for d in block.frames.values() {
                self.ecm_page.extend_from_slice(d);
            }
        }
        if self.ecm_page_blocks == 0 {
            return;
        }
        let Some(dcs) = self.dcs else { return };
        let data = std::mem::take(&mut self.ecm_page);
        let (rows, bad_rows, end_seen) = decode_page(&data, &dcs);
        let number = self.pages.len() as u32 + 1;
        self.pages.push(PageInfo {
            number,
            time_s: self.ecm_page_start.take().unwrap_or(0.0),
            side: self.ecm_page_side.take().unwrap_or(Side::Unknown),
            ecm: true,
            coding: dcs.coding().to_string(),
            rows,
            bad_rows,
            complete: complete && (end_seen || rows > 0),
            blocks: std::mem::take(&mut self.ecm_page_blocks),
            frames: std::mem::take(&mut self.ecm_page_frames),
            response: None,
            data,
            width: dcs.width,
            resolution: Some(dcs.resolution),
        });
    }
}

/// Rows, bad rows and whether the end-of-page code was seen.
fn decode_page(data: &[u8], dcs: &DcsInfo) -> (u32, u32, bool) {
    let res = dcs.resolution;
    let p = if dcs.mmr {
        decode_mmr(data, dcs.width, None, res)
    } else {
        decode_g3(data, dcs.width, dcs.two_d, res, 20_000)
    };
    match p {
        Ok(p) => (p.bitmap.height(), p.bad_rows, p.end_of_page_seen),
        Err(_) => (0, 0, false),
    }
}

/// The frame numbers a PPR asks for: its information field is a 256-bit map, frame 0 in
/// the least significant bit of the first octet.
pub fn ppr_frames(fif: &[u8]) -> Vec<u32> {
    let mut v = Vec::new();
    for (i, &o) in fif.iter().take(32).enumerate() {
        for b in 0..8 {
            if o >> b & 1 != 0 {
                v.push((i * 8 + b) as u32);
            }
        }
    }
    v
}

fn post_page_name(fcf: u8) -> String {
    if fcf & 0xFE == 0 {
        return "NULL (block ends inside the page)".into();
    }
    Fcf::from_octet(fcf)
        .map(|(f, _)| f.name().to_string())
        .unwrap_or_else(|| format!("{fcf:#04x}"))
}

/// A frame's content in words, and (for DIS/DTC/DCS) bit by bit.
pub fn describe(f: &Frame) -> (String, Vec<Field>) {
    let Some((kind, _)) = f.kind() else {
        return (format!("unknown FCF {:#04x}", f.fcf), Vec::new());
    };
    match kind {
        Fcf::DIS | Fcf::DTC | Fcf::DCS => {
            let fk = if kind == Fcf::DCS {
                FrameKind::Dcs
            } else {
                FrameKind::Dis
            };
            let d = DisBits::from_fif(&f.fif);
            let fields: Vec<Field> = d
                .describe(fk)
                .into_iter()
                .map(|(bit, name, value)| Field { bit, name, value })
                .collect();
            (dis_summary(&d, fk), fields)
        }
        Fcf::CSI | Fcf::TSI | Fcf::CIG => (format!("\"{}\"", decode_ident(&f.fif)), Vec::new()),
        Fcf::SUB | Fcf::SID | Fcf::PWD | Fcf::SEP | Fcf::PSA => {
            (format!("\"{}\"", decode_ident(&f.fif)), Vec::new())
        }
        Fcf::NSF | Fcf::NSS | Fcf::NSC => (nsf::describe(&f.fif), Vec::new()),
        Fcf::PPS if f.fif.len() >= 4 => (
            format!(
                "{}, page {}, block {}, {} frames",
                post_page_name(f.fif[0]),
                f.fif[1],
                f.fif[2],
                u32::from(f.fif[3]) + 1
            ),
            Vec::new(),
        ),
        Fcf::PPR => {
            let v = ppr_frames(&f.fif);
            let list: Vec<String> = v.iter().take(24).map(|n| n.to_string()).collect();
            (
                format!(
                    "{} frame(s) to send again: {}{}",
                    v.len(),
                    list.join(", "),
                    if v.len() > 24 { ", …" } else { "" }
                ),
                Vec::new(),
            )
        }
        Fcf::FCD if !f.fif.is_empty() => (
            format!("frame {}, {} octets", f.fif[0], f.fif.len() - 1),
            Vec::new(),
        ),
        Fcf::CTC if f.fif.len() >= 2 => {
            let d = DisBits::from_fif(&[0, f.fif[1]]);
            (
                match d.dcs_rate() {
                    Some((m, r)) => format!("continue at {} {r} bit/s", m.name()),
                    None => String::new(),
                },
                Vec::new(),
            )
        }
        _ => (String::new(), Vec::new()),
    }
}

fn dis_summary(d: &DisBits, kind: FrameKind) -> String {
    let mut parts = Vec::new();
    match kind {
        FrameKind::Dis => {
            let m = d.modems();
            let mut s = vec!["V.27ter"];
            if m.v29 {
                s.push("V.29");
            }
            if m.v17 {
                s.push("V.17");
            }
            parts.push(s.join(" "));
        }
        FrameKind::Dcs => match d.dcs_rate() {
            Some((m, r)) => parts.push(format!("{} {r} bit/s", m.name())),
            None => parts.push("reserved rate code".into()),
        },
    }
    if d.bit(27) {
        parts.push(match kind {
            FrameKind::Dcs if d.bit(28) => "ECM (64-octet frames)".into(),
            _ => "ECM".to_string(),
        });
    }
    let mut codings = vec!["MH"];
    if d.bit(16) {
        codings.push("MR");
    }
    if d.bit(31) {
        codings.push("MMR");
    }
    parts.push(match kind {
        FrameKind::Dcs => codings.last().copied().unwrap_or("MH").to_string(),
        FrameKind::Dis => codings.join("/"),
    });
    let mut res = vec!["standard"];
    if d.bit(15) {
        res.push("fine");
    }
    if d.bit(41) {
        res.push("superfine");
    }
    parts.push(match kind {
        FrameKind::Dcs => res.last().copied().unwrap_or("standard").to_string(),
        FrameKind::Dis => res.join("/"),
    });
    if let Some(w) = d.width(kind) {
        parts.push(format!("width {w:?}"));
    }
    if kind == FrameKind::Dis && d.bit(10) {
        parts.push("ready to receive".into());
    }
    if kind == FrameKind::Dis && d.bit(9) {
        parts.push("document to poll".into());
    }
    parts.join(", ")
}

fn text(c: Completion) -> String {
    c.text().to_string()
}

/// Predicts each side's completion from the T.30 exchange, as a T.30 engine would have
/// ended the call.
fn diagnose(b: &Builder, input: &InputInfo) -> Diagnosis {
    let good: Vec<&FrameInfo> = b.frames.iter().filter(|f| f.fcs_ok && !f.fast).collect();
    let fax_found = !good.is_empty()
        || !b.trainings.is_empty()
        || b.events
            .iter()
            .any(|e| e.event == "CED" || e.event == "CNG" || e.event == "V.21 preamble");
    if good.is_empty() {
        let found: Vec<String> = b
            .events
            .iter()
            .take(12)
            .map(|e| {
                format!(
                    "{:.2} s {} {} {}",
                    e.time_s,
                    e.side.name(),
                    e.event,
                    e.detail
                )
            })
            .collect();
        let what = if b.events.is_empty() {
            if input.notes.is_empty() {
                "only silence".to_string()
            } else {
                input.notes.join("; ")
            }
        } else {
            let mut kinds: Vec<String> = b.events.iter().map(|e| e.event.clone()).collect();
            kinds.dedup();
            kinds.truncate(6);
            kinds.join(", ")
        };
        let has = |name: &str| b.events.iter().any(|e| e.event == name);
        let cause = if has("CED") || has("V.21 preamble") {
            format!(
                "the answerer sent fax signals ({what}) but no T.30 frame could be decoded: DIS never came through (level, noise or a codec that breaks V.21)"
            )
        } else if has("CNG") {
            format!(
                "only the caller's calling tone ({what}): the far end never answered as a fax machine (no CED, no DIS)"
            )
        } else if fax_found {
            format!("fax signals but no T.30 frame found ({what}): the fax procedure never started")
        } else {
            format!("no fax signalling found ({what})")
        };
        return Diagnosis {
            fax_found: false,
            caller: fax_found.then(|| "Fax transmission not established".to_string()),
            answerer: fax_found.then(|| "Fax transmission not established".to_string()),
            cause,
            evidence: found,
        };
    }
    let name_of = |f: &FrameInfo| f.name.clone();
    let line = |f: &FrameInfo| {
        format!(
            "{:.2} s {} {} {}",
            f.time_s,
            f.side.name(),
            f.name,
            f.summary
        )
        .trim_end()
        .to_string()
    };
    let mut evidence = Vec::new();
    let sender = good
        .iter()
        .find(|f| f.name == "DCS")
        .map(|f| f.side)
        .unwrap_or(Side::Caller);
    let receiver = sender.other();
    let last = good.last().copied();
    let dcn = good.iter().rposition(|f| f.name == "DCN");
    let count = |n: &str| good.iter().filter(|f| f.name == n).count();
    let mut caller: Completion;
    let mut answerer: Completion;
    let cause: String;
    let set = |side: Side, c: Completion, caller: &mut Completion, answerer: &mut Completion| {
        if side == Side::Answerer {
            *answerer = c;
        } else {
            *caller = c;
        }
    };
    // The last post-page command and what answered it.
    let post_cmds = [
        "MPS", "EOP", "EOM", "PPS", "EOR", "CTC", "PRI-EOP", "PRI-MPS", "PRI-EOM",
    ];
    let last_post = good
        .iter()
        .rposition(|f| post_cmds.contains(&f.name.as_str()));
    let eop_confirmed = good.windows(2).any(|w| {
        (w[0].name == "EOP" || (w[0].name == "PPS" && w[0].summary.starts_with("EOP")))
            && w[1].name == "MCF"
    });
    let ftts = count("FTT");
    let cfrs = count("CFR");
    let dcss = count("DCS");
    // DIS again after a DCS: the receiver did not take the DCS.
    let dis_after_dcs = good
        .iter()
        .skip_while(|f| f.name != "DCS")
        .any(|f| f.name == "DIS");
    let tcf_bad = b.tcf.iter().filter(|t| !t.good).count();
    for t in b.trainings.iter().filter(|t| !t.ok && !t.cut).take(3) {
        evidence.push(format!(
            "{:.2} s {} training at {} {} not recognised",
            t.time_s,
            t.side.name(),
            t.modem,
            t.rate
        ));
    }
    for t in b.tcf.iter().filter(|t| !t.good).take(3) {
        evidence.push(format!(
            "{:.2} s TCF at {} bit/s: longest zero run {:.0} ms",
            t.time_s, t.rate, t.longest_zero_run_ms
        ));
    }
    if eop_confirmed {
        caller = Completion::Ok;
        answerer = Completion::Ok;
        let pages = b.pages.len();
        let bad: u32 = b.pages.iter().map(|p| p.bad_rows).sum();
        cause = format!(
            "the call completed: {pages} page(s) confirmed{}{}",
            if bad > 0 {
                format!(", {bad} bad row(s)")
            } else {
                String::new()
            },
            if dcn.is_none() {
                "; the final DCN is not in the capture"
            } else {
                ""
            }
        );
        if let Some(i) = good.iter().rposition(|f| f.name == "MCF") {
            evidence.push(line(good[i]));
        }
        if let Some(i) = dcn {
            evidence.push(line(good[i]));
        }
        // A page the receiver rejected still ends in MCF for a later one; report RTN.
        if b.pages.iter().any(|p| p.response.as_deref() == Some("RTN")) {
            evidence.push("a page was answered with RTN (bad copy quality)".into());
        }
    } else if let Some(di) = dcn {
        let d = good[di];
        let before: Vec<&FrameInfo> = good[..di].to_vec();
        let prev_other = before.iter().rev().find(|f| f.side != d.side).copied();
        let prev_own = before.iter().rev().find(|f| f.side == d.side).copied();
        caller = Completion::Calldropped;
        answerer = Completion::Calldropped;
        evidence.push(line(d));
        if prev_other.is_none() && d.side != Side::Unknown {
            // The other side never sent a frame: the side that hung up waited for it until
            // T1 ran out, and the other never heard anything (it would have answered).
            set(d.side, Completion::T1Expired, &mut caller, &mut answerer);
            let first = before.first().copied().unwrap_or(d);
            let cmd = before
                .iter()
                .rev()
                .find(|f| f.name != "CSI" && f.name != "TSI" && f.name != "NSF")
                .map(|f| f.name.clone())
                .unwrap_or_else(|| "its signals".into());
            let times = before.iter().filter(|f| f.name == cmd).count();
            if let Some(f) = before.first() {
                evidence.push(line(f));
            }
            cause = format!(
                "the {} sent {cmd} {times} time(s) over {:.1} s and never heard the {}: the {} does not hear the {} (one-way audio, noise, level) or is not a fax machine",
                d.side.name(),
                d.time_s - first.time_s,
                d.side.other().name(),
                d.side.other().name(),
                d.side.name()
            );
        } else if d.side == sender
            && sender != Side::Unknown
            && let Some((cmd, n)) = unanswered_command(&before, d.side)
            && n >= 3
        {
            // The sender repeated its command without an answer and gave up; the receiver
            // evidently stopped hearing it, so it does not hear the DCN either.
            let c = if matches!(cmd.as_str(), "DCS" | "TSI" | "NSS") {
                Completion::TxPhbdead
            } else if post_cmds.contains(&cmd.as_str()) {
                Completion::TxPhddead
            } else {
                Completion::Retrydcn
            };
            set(sender, c, &mut caller, &mut answerer);
            if let Some(p) = prev_other {
                evidence.push(line(p));
            }
            cause = format!(
                "{cmd} sent {n} times without an answer the sender heard, then DCN: the two sides no longer hear each other (one-way audio, a codec or network that breaks V.21, level)"
            );
        } else if d.side == sender && sender != Side::Unknown {
            // The sender gave up.
            let c_sender = match (
                prev_own.map(name_of).as_deref(),
                prev_other.map(name_of).as_deref(),
            ) {
                (_, Some("FTT")) => Completion::CannotTrain,
                (Some("DCS"), Some("DIS")) if dcss >= 3 && dis_after_dcs => Completion::Retrydcn,
                (Some("DCS"), _) if dcss >= 3 && cfrs == 0 => Completion::TxPhbdead,
                (Some(p), _) if post_cmds.contains(&p) => Completion::TxPhddead,
                (_, Some("RTN")) => Completion::Retrydcn,
                (_, Some("PPR")) => Completion::Retrydcn,
                (_, Some("ERR")) => Completion::Retrydcn,
                (_, Some("DIS")) if dcss == 0 => Completion::TxIncapable,
                _ => Completion::Unexpected,
            };
            let heard_post = last_post.is_some_and(|i| i < di);
            let c_receiver = match prev_other.map(name_of).as_deref() {
                Some("FTT") => Completion::RxDcnwhy,
                Some("RTN") => Completion::RxDcnnortn,
                Some("MCF") | Some("RTP") if heard_post => Completion::RxDcnphd,
                Some("PPR") => Completion::RxDcnfax,
                Some("CFR") => Completion::RxDcndata,
                _ if heard_post => Completion::RxDcnfax,
                _ => Completion::RxDcnwhy,
            };
            set(sender, c_sender, &mut caller, &mut answerer);
            set(receiver, c_receiver, &mut caller, &mut answerer);
            if let Some(p) = prev_other {
                evidence.push(line(p));
            }
            cause = match c_sender {
                Completion::CannotTrain => format!(
                    "training failed at every rate tried ({ftts} FTT{}): the line is too poor for the fast modems",
                    if tcf_bad > 0 {
                        format!(", {tcf_bad} TCF with short zero runs")
                    } else {
                        String::new()
                    }
                ),
                Completion::TxPhbdead => format!(
                    "DCS sent {dcss} times without an answer: the receiver does not hear the sender's commands (one-way audio?)"
                ),
                Completion::TxPhddead => "the post-page command was never answered: the receiver stopped hearing the sender".into(),
                Completion::Retrydcn => "the sender gave up after the permitted retries".into(),
                _ => "the sender disconnected early".into(),
            };
        } else {
            // The receiver disconnected.
            let last_sender = before.iter().rev().find(|f| f.side == sender).copied();
            let after = last_sender.map(|f| f.end_s).unwrap_or(0.0);
            let data_under_way = b
                .trainings
                .iter()
                .any(|t| t.side == sender && t.time_s > after && t.time_s < d.time_s)
                && prev_own.is_some_and(|f| f.name == "CFR" || f.name == "MCF");
            if data_under_way {
                // It hung up while the sender was still sending the page: it had lost the
                // page and waited T2 for what comes after it; the sender, still talking,
                // only notices the line go.
                set(sender, Completion::Calldropped, &mut caller, &mut answerer);
                set(receiver, Completion::RxT2expd, &mut caller, &mut answerer);
                if let Some(p) = prev_own {
                    evidence.push(line(p));
                }
                cause = format!(
                    "the receiver hung up {:.1} s into the sender's page data: the page did not reach it (its carrier or training was lost on the way) and it gave up waiting",
                    d.time_s - prev_own.map(|f| f.end_s).unwrap_or(d.time_s)
                );
                return Diagnosis {
                    fax_found: true,
                    caller: Some(text(caller)),
                    answerer: Some(text(answerer)),
                    cause,
                    evidence: with_gaps(evidence, b),
                };
            }
            let c_sender = match last_sender.map(name_of).as_deref() {
                None => Completion::TxGotdcn,
                Some("DCS") | Some("TSI") | Some("NSS") => Completion::TxBaddcs,
                Some("EOP") => Completion::TxBadpg,
                Some("PPS") if last_sender.is_some_and(|f| f.summary.starts_with("EOP")) => {
                    Completion::TxBadpg
                }
                Some(_) => Completion::RxDcnphd,
            };
            set(sender, c_sender, &mut caller, &mut answerer);
            let c_receiver = match prev_own.map(name_of).as_deref() {
                Some("RTN") => Completion::Retrydcn,
                _ => Completion::Unexpected,
            };
            set(receiver, c_receiver, &mut caller, &mut answerer);
            if let Some(p) = last_sender {
                evidence.push(line(p));
            }
            cause = format!(
                "the receiver disconnected after the sender's {}",
                last_sender.map(name_of).unwrap_or_else(|| "call".into())
            );
        }
    } else {
        // No DCN: the capture ends inside the call.
        caller = Completion::Calldropped;
        answerer = Completion::Calldropped;
        if let Some(l) = last {
            evidence.push(line(l));
        }
        let last_name = last.map(name_of).unwrap_or_default();
        // The same frame sent again and again by one side, with nothing from the other.
        let repeats = last
            .map(|l| {
                good.iter()
                    .rev()
                    .take_while(|f| f.side == l.side)
                    .filter(|f| f.name == l.name)
                    .count()
            })
            .unwrap_or(0);
        let side = last.map(|l| l.side).unwrap_or(Side::Unknown);
        let unanswered = side == sender;
        cause = if repeats >= 2 {
            format!(
                "{last_name} sent {repeats} times by the {} with no answer from the {}: the {} does not hear it (one-way audio, level, noise) or is not a fax machine",
                side.name(),
                side.other().name(),
                side.other().name()
            )
        } else {
            let tail = b
                .events
                .iter()
                .rev()
                .find(|e| e.event != "gap")
                .map(|e| format!("{} at {:.2} s", e.event, e.end_s))
                .unwrap_or_default();
            format!(
                "the capture ends during {tail} with no DCN: the call was cut (line dropped or capture stopped)"
            )
        };
        if unanswered && repeats >= 3 {
            let c = if matches!(last_name.as_str(), "DCS" | "TSI") {
                Completion::TxPhbdead
            } else {
                Completion::TxPhddead
            };
            set(sender, c, &mut caller, &mut answerer);
        }
    }
    Diagnosis {
        fax_found: true,
        caller: Some(text(caller)),
        answerer: Some(text(answerer)),
        cause,
        evidence: with_gaps(evidence, b),
    }
}

/// Adds a line about missing media to the evidence.
fn with_gaps(mut evidence: Vec<String>, b: &Builder) -> Vec<String> {
    if !b.gaps.is_empty() {
        let lost: f64 = b.gaps.iter().map(|g| g.duration_s).sum();
        evidence.push(format!(
            "{} gap(s) in the media, {:.2} s missing in all",
            b.gaps.len(),
            lost
        ));
    }
    evidence
}

/// The command `side` sent last, and how many times in a row it sent that same frame
/// (identification frames sent along with it not counted). Answers from the other side in
/// between do not break the run: a sender that heard them would have moved on (a lower rate
/// after FTT, the next page after MCF) rather than send the identical frame again.
fn unanswered_command(before: &[&FrameInfo], side: Side) -> Option<(String, usize)> {
    let ident = |f: &FrameInfo| {
        matches!(
            f.name.as_str(),
            "TSI" | "NSS" | "SUB" | "SID" | "PWD" | "CSI" | "NSF" | "CIG" | "NSC"
        )
    };
    let mut cmds = before.iter().rev().filter(|f| f.side == side && !ident(f));
    let last = cmds.next()?;
    let n = 1 + cmds.take_while(|f| f.hex == last.hex).count();
    Some((last.name.clone(), n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(tracks: usize) -> InputInfo {
        InputInfo {
            file: "test".into(),
            format: "test".into(),
            duration_s: 60.0,
            tracks: (0..tracks).map(|i| format!("t{i}")).collect(),
            mono: tracks == 1,
            notes: Vec::new(),
        }
    }

    /// A frame observation on a mono track at `t` seconds.
    fn fr(t: f64, bytes: &[u8]) -> Observation {
        Observation {
            start: t,
            end: t + 0.1,
            track: 0,
            kind: ObsKind::Frame {
                bytes: bytes.to_vec(),
                fcs_ok: true,
                burst_start: t - 1.0,
                fast: false,
            },
        }
    }

    const DIS: &[u8] = &[0xff, 0x13, 0x80, 0x00, 0xee, 0xf8, 0x80];
    const DCS: &[u8] = &[0xff, 0x13, 0x83, 0x00, 0x62, 0x78];
    const CFR: &[u8] = &[0xff, 0x13, 0x84];
    const FTT: &[u8] = &[0xff, 0x13, 0x44];
    const EOP: &[u8] = &[0xff, 0x13, 0x2f];
    const MCF: &[u8] = &[0xff, 0x13, 0x8c];
    const DCN_CALLER: &[u8] = &[0xff, 0x13, 0xfb];
    const DCN_ANSWERER: &[u8] = &[0xff, 0x13, 0xfa];

    fn verdict(obs: Vec<Observation>) -> (String, String, String) {
        let r = build_report(input(1), obs);
        let d = r.diagnosis;
        (d.caller.unwrap(), d.answerer.unwrap(), d.cause)
    }

    #[test]
    fn sides_from_t30_alone() {
        assert_eq!(frame_side(DIS), Some(Side::Answerer));
        assert_eq!(frame_side(DCS), Some(Side::Caller));
        assert_eq!(frame_side(CFR), Some(Side::Answerer));
        assert_eq!(frame_side(DCN_CALLER), Some(Side::Caller));
        assert_eq!(frame_side(DCN_ANSWERER), Some(Side::Answerer));
        assert_eq!(
            frame_side(&[0xff, 0x03, 0x06, 0x00, 0x12]),
            Some(Side::Caller)
        );
        assert_eq!(frame_side(&[0x12, 0x34]), None);
    }

    #[test]
    fn ppr_bitmap_lists_frames() {
        let mut map = [0u8; 32];
        map[0] = 0b0000_0101;
        map[31] = 0x80;
        assert_eq!(ppr_frames(&map), vec![0, 2, 255]);
        // As a receiver sent it (frames 35, 70, 102, 103 and 114 were then sent again).
        let fif = [
            0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0xc0, 0x00,
            0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        assert_eq!(ppr_frames(&fif), vec![35, 70, 102, 103, 114]);
    }

    #[test]
    fn a_complete_call_is_ok_for_both() {
        let (c, a, _) = verdict(vec![
            fr(4.0, DIS),
            fr(7.0, DCS),
            fr(11.0, CFR),
            fr(30.0, EOP),
            fr(32.0, MCF),
            fr(34.0, DCN_CALLER),
        ]);
        assert_eq!((c.as_str(), a.as_str()), ("OK", "OK"));
    }

    #[test]
    fn dcs_never_answered() {
        let (c, _, cause) = verdict(vec![
            fr(4.0, DIS),
            fr(7.0, DCS),
            fr(12.0, DCS),
            fr(17.0, DCS),
            fr(22.0, DCN_CALLER),
        ]);
        assert_eq!(c, "Received no response to DCS or TCF");
        assert!(cause.contains("DCS sent 3 times"), "{cause}");
    }

    #[test]
    fn training_fails_at_every_rate() {
        let (c, a, _) = verdict(vec![
            fr(4.0, DIS),
            fr(7.0, DCS),
            fr(11.0, FTT),
            fr(14.0, DCS),
            fr(18.0, FTT),
            fr(20.0, DCN_CALLER),
        ]);
        assert_eq!(c, "Failed to train with any of the compatible modems");
        assert_eq!(a, "Unexpected DCN while waiting for DCS or DIS");
    }

    #[test]
    fn receiver_hangs_up_after_the_last_page() {
        let (c, _, _) = verdict(vec![
            fr(4.0, DIS),
            fr(7.0, DCS),
            fr(11.0, CFR),
            fr(30.0, EOP),
            fr(32.0, DCN_ANSWERER),
        ]);
        assert_eq!(c, "Received a DCN from remote after sending a page");
    }

    #[test]
    fn the_caller_never_answers_dis() {
        let csi = [0xff, 0x03, 0x40, 0x20];
        let mut obs = Vec::new();
        for k in 0..6 {
            obs.push(fr(3.0 + 5.0 * k as f64, &csi));
            obs.push(fr(3.5 + 5.0 * k as f64, DIS));
        }
        obs.push(fr(37.5, DCN_ANSWERER));
        let (c, a, cause) = verdict(obs);
        assert_eq!(a, "Timed out waiting for the first message");
        assert_eq!(c, "The call dropped prematurely");
        assert!(cause.contains("sent DIS 6 time(s)"), "{cause}");
    }

    #[test]
    fn crosstalk_on_the_other_channel_is_dropped() {
        let mut obs = Vec::new();
        for (t, bytes) in [(4.0, DIS), (7.0, DCS), (11.0, CFR)] {
            let side = frame_side(bytes).unwrap();
            let home = if side == Side::Caller { 0 } else { 1 };
            for track in [home, 1 - home] {
                let mut o = fr(t, bytes);
                o.track = track;
                obs.push(o);
            }
        }
        let r = build_report(input(2), obs);
        let names: Vec<(&str, Side)> = r.frames.iter().map(|f| (f.name.as_str(), f.side)).collect();
        assert_eq!(
            names,
            [
                ("DIS", Side::Answerer),
                ("DCS", Side::Caller),
                ("CFR", Side::Answerer)
            ]
        );
    }

    #[test]
    fn faint_crosstalk_does_not_swap_the_channels() {
        // The answerer on the left channel, each side 20 dB down on the other channel.
        let mut obs = Vec::new();
        for (t, bytes) in [
            (4.0, DIS),
            (7.0, DCS),
            (11.0, CFR),
            (30.0, EOP),
            (32.0, MCF),
        ] {
            let side = frame_side(bytes).unwrap();
            let home = if side == Side::Answerer { 0 } else { 1 };
            for (track, level) in [(home, -10.0), (1 - home, -30.0)] {
                let mut o = fr(t, bytes);
                o.track = track;
                obs.push(o);
                obs.push(Observation {
                    start: t - 1.0,
                    end: t + 0.2,
                    track,
                    kind: ObsKind::Carrier {
                        level_dbm0: level,
                        snr_db: 20.0,
                        offset_hz: 0.0,
                    },
                });
            }
        }
        let r = build_report(input(2), obs);
        assert_eq!(r.track_sides, [Side::Answerer, Side::Caller]);
        assert_eq!(r.frames.len(), 5);
    }

    #[test]
    fn cut_mid_call() {
        let (c, a, cause) = verdict(vec![fr(4.0, DIS), fr(7.0, DCS), fr(11.0, CFR)]);
        assert_eq!(c, "The call dropped prematurely");
        assert_eq!(a, "The call dropped prematurely");
        assert!(cause.contains("no DCN"), "{cause}");
    }

    #[test]
    fn nothing_at_all() {
        let r = build_report(input(1), Vec::new());
        assert!(!r.diagnosis.fax_found);
        assert!(r.diagnosis.caller.is_none());
        assert!(r.diagnosis.cause.starts_with("no fax signalling found"));
    }
}
