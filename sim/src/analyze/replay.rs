//! `--replay caller|answerer`: our engine in place of one side of a recorded call, against
//! the other side as recorded, and where it would have done differently.
//!
//! The recorded side cannot react: it plays in its own sample time through the replay
//! endpoint ([`crate::endpoint::replay`]), and our engine hears it as it was sent. Its
//! signal comes from its own track (a stereo WAV channel, an RTP stream), or on a mono tap
//! from the whole tap with the replaced side's own signals muted. Our engine runs through
//! [`crate::session::run_session`] over a clean line; its control frames are then set
//! side by side with the frames the replaced side sent in the capture, and the first
//! difference in the frame sequence (with its time and both frames) is the divergence.

use std::collections::BTreeMap;

use serde::Serialize;
use t30::SampleTime;
use t30::engine::{Config, Role};
use t30::image::{Bitmap, Resolution};

use super::Side;
use super::audio::Track;
use super::ladder::Report;
use crate::session::{SessionSetup, SideKind, SideSetup, run_session};

/// Muting margin around a replaced side's signal on a mono tap, seconds.
const MUTE_MARGIN_S: f64 = 0.05;
/// Time our engine is given after the recording ends, seconds.
const AFTER_END_S: f64 = 30.0;

/// One control frame in the side-by-side.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplayFrame {
    /// When it was sent, seconds on the capture's time line.
    pub time_s: f64,
    /// Frame name.
    pub name: String,
    /// Octets without FCS, hex.
    pub hex: String,
}

/// The first place where our engine's frame sequence leaves the recorded side's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Divergence {
    /// Position in the side's control-frame sequence, from 1.
    pub index: usize,
    /// The recorded side's frame there (none: it sent nothing more).
    pub recorded: Option<ReplayFrame>,
    /// Our engine's frame there (none: it sent nothing more).
    pub ours: Option<ReplayFrame>,
    /// One sentence, e.g. "recorded answerer sent CRP at 12.30 s; ours sent MCF at 12.35 s".
    pub summary: String,
}

/// What `--replay` found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplayReport {
    /// The side our engine played.
    pub replaced: Side,
    /// Where the other side's recorded signal came from.
    pub recorded_source: String,
    /// Control frames the replaced side sent in the capture (good FCS, V.21).
    pub recorded_frames: Vec<ReplayFrame>,
    /// Control frames our engine sent in its place.
    pub our_frames: Vec<ReplayFrame>,
    /// The first difference in the frame sequence, if any.
    pub divergence: Option<Divergence>,
    /// Frames at the same position with the same name but other octets (idents,
    /// capabilities), as "DIS #2" lines.
    pub content_differences: Vec<String>,
    /// The completion string the analysis predicts for the replaced side.
    pub recorded_outcome: Option<String>,
    /// The completion string our engine reported.
    pub our_outcome: String,
    /// Pages our engine sent or received.
    pub our_pages: u32,
    /// Whether the two completion strings are equal.
    pub same_outcome: bool,
    /// How the replay was set up (document used, muting, limits).
    pub notes: Vec<String>,
}

/// Parses `caller` or `answerer`.
pub fn parse_side(s: &str) -> Option<Side> {
    match s {
        "caller" => Some(Side::Caller),
        "answerer" => Some(Side::Answerer),
        _ => None,
    }
}

/// Replays `report`'s capture (its audio `tracks`, starting `offset_s` into the capture)
/// with our engine as `replaced`. Errors are one line.
pub fn replay(
    report: &Report,
    tracks: &[Track],
    offset_s: f64,
    replaced: Side,
) -> Result<ReplayReport, String> {
    if tracks.is_empty() {
        return Err(
            "--replay needs audio (a WAV or an RTP G.711 pcap); this capture has none".to_string(),
        );
    }
    if !report.diagnosis.fax_found {
        return Err("--replay: no fax signalling found to replay against".to_string());
    }
    let other = replaced.other();
    let mut notes = Vec::new();
    let (samples, source) = if tracks.len() == 1 {
        // A mono tap: the replaced side's own signals are muted so that our engine hears
        // only the other side.
        let mut s = tracks[0].samples.clone();
        let mut muted = 0.0;
        for e in report.events.iter().filter(|e| e.side == replaced) {
            let a = ((e.time_s - offset_s - MUTE_MARGIN_S).max(0.0) * 8000.0) as usize;
            let b = ((e.end_s.max(e.time_s) - offset_s + MUTE_MARGIN_S) * 8000.0) as usize;
            let b = b.min(s.len());
            if a < b {
                s[a..b].fill(0);
                muted += (b - a) as f64 / 8000.0;
            }
        }
        notes.push(format!(
            "mono tap: the {}'s signals muted ({muted:.2} s), the rest played to our engine",
            replaced.name()
        ));
        (
            s,
            format!("{} with the {} muted", tracks[0].name, replaced.name()),
        )
    } else {
        let k = report
            .track_sides
            .iter()
            .position(|&s| s == other)
            .filter(|&k| k < tracks.len())
            .ok_or_else(|| {
                format!(
                    "--replay: no track of the capture holds the {}",
                    other.name()
                )
            })?;
        (tracks[k].samples.clone(), tracks[k].name.clone())
    };

    let role = |s: Side| {
        if s == Side::Caller {
            Role::Caller
        } else {
            Role::Answerer
        }
    };
    let work = tempfile::tempdir().map_err(|e| format!("--replay: work folder: {e}"))?;
    let wav = work.path().join("recorded.wav");
    crate::wav::write_8k_mono(&wav, &samples).map_err(|e| format!("--replay: {e}"))?;
    let mut ours = SideSetup::builtin(role(replaced));
    if replaced == Side::Caller {
        let (pages, note) = document_of(report);
        notes.push(note);
        ours.pages = t30::image::store::Document::from_bitmaps(&pages);
    }
    let recorded = SideSetup {
        kind: SideKind::Replay {
            path: wav.clone(),
            channel: 0,
        },
        config: Config::new(role(other)),
        pages: Default::default(),
    };
    let (caller, answerer) = if replaced == Side::Caller {
        (ours, recorded)
    } else {
        (recorded, ours)
    };
    let mut setup = SessionSetup::new(caller, answerer);
    setup.scenario = "replay".into();
    setup.limit = SampleTime((samples.len() as f64 + AFTER_END_S * 8000.0) as u64);
    let out = run_session(&setup, work.path(), true).map_err(|e| format!("--replay: {e}"))?;
    let rec = if replaced == Side::Caller {
        &out.caller
    } else {
        &out.answerer
    };

    let recorded_frames: Vec<ReplayFrame> = report
        .frames
        .iter()
        .filter(|f| f.side == replaced && !f.fast && f.fcs_ok)
        .map(|f| ReplayFrame {
            time_s: f.time_s,
            name: f.name.clone(),
            hex: f.hex.clone(),
        })
        .collect();
    // Our frames as the analyzer reads them off the replayed call's own capture, so that
    // both columns are timed and decoded alike (the engine's record times a frame from
    // the start of its preamble).
    let replayed = super::analyze_file(&work.path().join("call.wav"), &super::Options::default())
        .map_err(|e| format!("--replay: {e}"))?;
    let our_frames: Vec<ReplayFrame> = replayed
        .frames
        .iter()
        .filter(|f| f.side == replaced && !f.fast && f.fcs_ok)
        .map(|f| ReplayFrame {
            time_s: f.time_s + offset_s,
            name: f.name.clone(),
            hex: f.hex.clone(),
        })
        .collect();
    let divergence = first_divergence(replaced, &recorded_frames, &our_frames);
    let upto = divergence
        .as_ref()
        .map(|d| d.index - 1)
        .unwrap_or(recorded_frames.len());
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    let mut content_differences = Vec::new();
    for (r, o) in recorded_frames.iter().zip(&our_frames).take(upto) {
        let n = seen.entry(r.name.as_str()).or_default();
        *n += 1;
        if r.hex != o.hex {
            content_differences.push(format!(
                "{} #{n} at {:.2} s: recorded {}; ours {}",
                r.name, r.time_s, r.hex, o.hex
            ));
        }
    }
    let recorded_outcome = match replaced {
        Side::Caller => report.diagnosis.caller.clone(),
        _ => report.diagnosis.answerer.clone(),
    };
    let our_outcome = rec.error.clone();
    Ok(ReplayReport {
        replaced,
        recorded_source: source,
        same_outcome: recorded_outcome.as_deref() == Some(our_outcome.as_str()),
        recorded_frames,
        our_frames,
        divergence,
        content_differences,
        recorded_outcome,
        our_outcome,
        our_pages: rec.pages,
        notes,
    })
}

/// The first position where the two frame sequences differ by frame name.
pub fn first_divergence(
    side: Side,
    recorded: &[ReplayFrame],
    ours: &[ReplayFrame],
) -> Option<Divergence> {
    let n = recorded.len().max(ours.len());
    (0..n).find_map(|i| {
        let r = recorded.get(i);
        let o = ours.get(i);
        if let (Some(r), Some(o)) = (r, o)
            && r.name == o.name
        {
            return None;
        }
        let rec = match r {
            Some(r) => format!(
                "recorded {} sent {} at {:.2} s",
                side.name(),
                r.name,
                r.time_s
            ),
            None => format!("recorded {} sent nothing more", side.name()),
        };
        let our = match o {
            Some(o) => format!("ours sent {} at {:.2} s", o.name, o.time_s),
            None => "ours sent nothing more".to_string(),
        };
        Some(Divergence {
            index: i + 1,
            recorded: r.cloned(),
            ours: o.cloned(),
            summary: format!("{rec}; {our}"),
        })
    })
}

/// The document our engine sends as the caller: the pages the capture holds (decoded), or
/// one blank A4 page when none could be decoded.
fn document_of(report: &Report) -> (Vec<Bitmap>, String) {
    let mut by_number: BTreeMap<u32, Bitmap> = BTreeMap::new();
    for p in &report.pages {
        if let Some((b, _)) = super::pages::decode(p)
            && (p.complete || !by_number.contains_key(&p.number))
        {
            by_number.insert(p.number, b);
        }
    }
    let pages: Vec<Bitmap> = by_number.into_values().collect();
    if pages.is_empty() {
        let page = Bitmap::new(1728, 1143, Resolution::Standard).expect("an A4 page fits");
        (
            vec![page],
            "our engine sent one blank A4 page (no page in the capture could be decoded)".into(),
        )
    } else {
        let n = pages.len();
        (
            pages,
            format!("our engine sent the {n} page(s) decoded from the capture"),
        )
    }
}
