//! Capture analysis: decode a recorded fax call and say what happened and why it failed.
//!
//! Captures come as audio (a WAV line tap, mono with both sides mixed or one side per
//! channel; RTP G.711 streams in a pcap) or as T.38 (UDPTL in a pcap). Each reader turns its
//! input into a list of [`Observation`]s on numbered tracks (a channel, an RTP stream, a
//! UDPTL flow): tones, V.21 preambles, HDLC frames, modem trainings, TCF, page data, gaps.
//! [`ladder::build_report`] then orders them in time, decides which side sent what (from the
//! track, or for a mono tap from T.30 itself: DIS, CFR and MCF come from the answerer, DCS
//! and EOP from the caller, and the X bit of every command and response says the same),
//! decodes each frame, and ends with a diagnosis: the completion string each side would
//! report, the likely cause and the evidence.
//!
//! ```no_run
//! use sim::analyze::{Options, analyze_file};
//! let report = analyze_file(std::path::Path::new("call.wav"), &Options::default()).unwrap();
//! println!("{}", sim::analyze::render::text(&report, false));
//! ```

pub mod audio;
pub mod fastdata;
pub mod health;
pub mod html;
pub mod ladder;
pub mod nsf;
pub mod pages;
pub mod pcap;
pub mod render;
pub mod replay;
pub mod rtp;
pub mod t38;

use std::fmt;
use std::path::Path;

use serde::Serialize;
use t30::frame::dis::modem_name::Modem;

pub use ladder::Report;

/// Which end of the call a signal came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// The calling station (normally the sender of the document).
    Caller,
    /// The called station (normally the receiver).
    Answerer,
    /// Not known.
    Unknown,
}

impl Side {
    /// "caller", "answerer" or "?".
    pub fn name(self) -> &'static str {
        match self {
            Side::Caller => "caller",
            Side::Answerer => "answerer",
            Side::Unknown => "?",
        }
    }

    /// The other side.
    pub fn other(self) -> Side {
        match self {
            Side::Caller => Side::Answerer,
            Side::Answerer => Side::Caller,
            Side::Unknown => Side::Unknown,
        }
    }
}

/// A call tone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ToneKind {
    /// Calling tone, 1100 Hz.
    #[serde(rename = "CNG")]
    Cng,
    /// Answer tone, 2100 Hz.
    #[serde(rename = "CED")]
    Ced,
}

/// What was seen or heard at one moment on one track.
#[derive(Debug, Clone, PartialEq)]
pub enum ObsKind {
    /// CNG or CED.
    Tone {
        /// Which tone.
        tone: ToneKind,
        /// Level, dBm0 (NaN when not measured, e.g. a T.38 indicator).
        level_dbm0: f32,
    },
    /// V.21 flags (the preamble before control frames).
    Preamble,
    /// An HDLC frame (control frame on V.21, or an ECM frame on the fast modem).
    Frame {
        /// Octets without FCS; FCD/RCP image octets in the codec's order (first coded bit
        /// as the most significant), as T.30 engines record them.
        bytes: Vec<u8>,
        /// Whether the FCS checked good.
        fcs_ok: bool,
        /// Start of the carrier (or T.38 burst) that carried it, seconds.
        burst_start: f64,
        /// Carried by the fast modem (ECM) rather than V.21.
        fast: bool,
    },
    /// A fast-modem training.
    Training {
        /// The modem.
        modem: Modem,
        /// The bit rate.
        rate: u32,
        /// Whether the training was recognised.
        ok: bool,
        /// Short (resynchronising) training.
        short: bool,
        /// The capture ended before the training could be judged.
        cut: bool,
        /// SNR estimate at the end of training, dB (NaN when not known).
        snr_db: f32,
        /// Signal level, dBm0 (NaN when not known).
        level_dbm0: f32,
        /// Equalised symbols after training (a sample of the burst), for the
        /// constellation snapshot; empty when not known.
        constellation: Vec<(f32, f32)>,
    },
    /// The training check after DCS.
    Tcf {
        /// Bit rate.
        rate: u32,
        /// Bits received.
        bits: u64,
        /// Longest run of zero bits.
        longest_zero_run: u64,
    },
    /// Non-ECM page data (one fast-modem burst), decoded.
    Page {
        /// Coding ("MH", "MR").
        coding: String,
        /// Rows decoded.
        rows: u32,
        /// Rows that were corrupt.
        bad_rows: u32,
        /// Whether RTC ended the page.
        complete: bool,
        /// Coded octets received (in the codec's order), for `--pages`.
        data: Vec<u8>,
        /// Page width in pels.
        width: u32,
    },
    /// Energy that no receiver recognised.
    Signal {
        /// Mean level, dBm0.
        level_dbm0: f32,
    },
    /// How a V.21 burst with frames was received: its level, SNR and carrier offset.
    Carrier {
        /// Level, dBm0.
        level_dbm0: f32,
        /// SNR estimate, dB.
        snr_db: f32,
        /// Carrier frequency offset, Hz.
        offset_hz: f32,
    },
    /// Media missing from the capture (RTP packets lost, T.38 IFPs unrecoverable).
    Gap {
        /// What is missing.
        what: String,
    },
}

/// One observation on one track, times in seconds from the start of the capture.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    /// When it started.
    pub start: f64,
    /// When it ended.
    pub end: f64,
    /// The track it was seen on (channel, stream or flow number).
    pub track: usize,
    /// What it was.
    pub kind: ObsKind,
}

/// How the analysis was asked for.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Analyse from this time on (seconds).
    pub from_s: Option<f64>,
    /// Analyse up to this time (seconds).
    pub to_s: Option<f64>,
    /// Treat UDP to or from this port as T.38 UDPTL.
    pub t38_port: Option<u16>,
    /// The stream or call to analyse, as `--list` numbers them.
    pub stream: Option<usize>,
    /// Compute a spectrogram of every audio track (for `--html`).
    pub spectrograms: bool,
}

/// A capture that cannot be read; its `Display` is one line naming the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnalyzeError(pub String);

impl fmt::Display for AnalyzeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for AnalyzeError {}

/// The kinds of capture file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// RIFF/WAVE audio.
    Wav,
    /// pcap or pcapng.
    Pcap,
}

/// Recognises a capture by its first octets.
pub fn sniff(bytes: &[u8]) -> Option<FileKind> {
    if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WAVE" {
        return Some(FileKind::Wav);
    }
    if bytes.len() >= 4 {
        let m = [bytes[0], bytes[1], bytes[2], bytes[3]];
        let pcap = [
            [0xd4, 0xc3, 0xb2, 0xa1],
            [0xa1, 0xb2, 0xc3, 0xd4],
            [0x4d, 0x3c, 0xb2, 0xa1],
            [0xa1, 0xb2, 0x3c, 0x4d],
            [0x0a, 0x0d, 0x0d, 0x0a],
        ];
        if pcap.contains(&m) {
            return Some(FileKind::Pcap);
        }
    }
    None
}

/// Reads and analyses a capture file.
pub fn analyze_file(path: &Path, opts: &Options) -> Result<Report, AnalyzeError> {
    let name = path.display().to_string();
    let bytes =
        std::fs::read(path).map_err(|e| AnalyzeError(format!("{name}: cannot read: {e}")))?;
    analyze_bytes(&name, &bytes, opts).map_err(|e| AnalyzeError(format!("{name}: {e}")))
}

/// Analyses a capture held in memory; `name` is used in the report only. Errors are one
/// line, without the file name.
pub fn analyze_bytes(name: &str, bytes: &[u8], opts: &Options) -> Result<Report, String> {
    analyze_with_audio(name, bytes, opts).map(|(r, _)| r)
}

/// [`analyze_bytes`], also giving the audio tracks analysed (8 kHz, cut to the
/// `--from/--to` window; none for T.38), in the report's track order, for `--replay`.
pub fn analyze_with_audio(
    name: &str,
    bytes: &[u8],
    opts: &Options,
) -> Result<(Report, Vec<audio::Track>), String> {
    let (mut r, tracks) = analyze_inner(name, bytes, opts)?;
    if !tracks.is_empty() && r.diagnosis.fax_found {
        r.signal = Some(health::measure(&r, &tracks, offset_of(opts)));
    }
    Ok((r, tracks))
}

fn analyze_inner(
    name: &str,
    bytes: &[u8],
    opts: &Options,
) -> Result<(Report, Vec<audio::Track>), String> {
    match sniff(bytes) {
        Some(FileKind::Wav) => {
            let (wav, truncated) = read_wav(bytes)?;
            let mut tracks = Vec::new();
            for ch in 0..wav.channels.min(2) {
                tracks.push(audio::Track {
                    name: if wav.channels == 1 {
                        "mono".to_string()
                    } else {
                        format!("channel {}", ch + 1)
                    },
                    samples: wav.to_8k(ch).map_err(|e| e.to_string())?,
                });
            }
            let input = ladder::InputInfo {
                file: name.to_string(),
                format: format!(
                    "WAV, {} channel{}, {} Hz, {}",
                    wav.channels,
                    if wav.channels == 1 { "" } else { "s" },
                    wav.sample_rate,
                    wav.encoding
                ),
                duration_s: wav.duration_s(),
                tracks: tracks.iter().map(|t| t.name.clone()).collect(),
                mono: wav.channels == 1,
                notes: truncated
                    .then(|| {
                        format!(
                            "the file is cut short: analysed the {:.2} s present",
                            wav.duration_s()
                        )
                    })
                    .into_iter()
                    .chain(
                        (wav.channels > 2)
                            .then(|| format!("{} channels: the first two analysed", wav.channels)),
                    )
                    .collect(),
            };
            let tracks = window_tracks(tracks, opts);
            let obs = audio::demodulate(&tracks, offset_of(opts));
            let mut r = ladder::build_report(input, obs);
            r.spectrograms = spectrograms(&tracks, opts);
            Ok((r, tracks))
        }
        Some(FileKind::Pcap) => {
            let (packets, truncated) = pcap::read_udp(bytes)?;
            let (mut r, tracks) = pcap_report(name, &packets, opts)?;
            if truncated {
                r.input.notes.push(
                    "the capture is cut short or damaged: analysed the packets before the break"
                        .into(),
                );
            }
            Ok((r, tracks))
        }
        None => Err("not a WAV, pcap or pcapng file".to_string()),
    }
}

/// Reads a WAV file; one whose data chunk is cut short (a recording that was still being
/// written, a partial download) is read as far as it goes: `true` says so.
fn read_wav(bytes: &[u8]) -> Result<(crate::wav::WavAudio, bool), String> {
    match crate::wav::WavAudio::parse(bytes) {
        Ok(w) => Ok((w, false)),
        Err(e) if e.to_string().starts_with("truncated: data chunk") => {
            // Mark the data size unknown, as streaming writers leave it, and read again.
            let mut fixed = bytes.to_vec();
            let mut at = 12;
            while at + 8 <= fixed.len() {
                let size = u32::from_le_bytes([
                    fixed[at + 4],
                    fixed[at + 5],
                    fixed[at + 6],
                    fixed[at + 7],
                ]);
                if &fixed[at..at + 4] == b"data" {
                    fixed[at + 4..at + 8].copy_from_slice(&u32::MAX.to_le_bytes());
                    break;
                }
                at = at
                    .saturating_add(8)
                    .saturating_add(size as usize + (size as usize & 1));
            }
            let w = crate::wav::WavAudio::parse(&fixed).map_err(|_| e.to_string())?;
            Ok((w, true))
        }
        Err(e) => Err(e.to_string()),
    }
}

/// Longest silence put before a stream that starts after the others, samples (10 min).
const MAX_LEAD: usize = 600 * 8000;

fn offset_of(opts: &Options) -> f64 {
    opts.from_s.unwrap_or(0.0).max(0.0)
}

/// Cuts each track to the `--from/--to` window.
fn window_tracks(tracks: Vec<audio::Track>, opts: &Options) -> Vec<audio::Track> {
    let from = (offset_of(opts) * 8000.0) as usize;
    let to = opts.to_s.map(|t| (t.max(0.0) * 8000.0) as usize);
    tracks
        .into_iter()
        .map(|mut t| {
            let end = to.unwrap_or(t.samples.len()).min(t.samples.len());
            let start = from.min(end);
            t.samples = t.samples[start..end].to_vec();
            t
        })
        .collect()
}

/// Keeps the observations inside the window (T.38 captures are not cut as audio).
fn window_obs(obs: Vec<Observation>, opts: &Options) -> Vec<Observation> {
    obs.into_iter()
        .filter(|o| {
            opts.from_s.is_none_or(|f| o.end >= f) && opts.to_s.is_none_or(|t| o.start <= t)
        })
        .collect()
}

/// Everything `--list` shows about a pcap: its UDP media streams.
pub fn list_streams(bytes: &[u8]) -> Result<Vec<String>, String> {
    let (packets, _) = pcap::read_udp(bytes)?;
    let mut lines = Vec::new();
    for (i, s) in rtp::find_streams(&packets).iter().enumerate() {
        lines.push(format!("rtp {i}: {}", s.describe()));
    }
    for (i, f) in t38::find_flows(&packets, None).iter().enumerate() {
        lines.push(format!("t38 {i}: {}", f.describe()));
    }
    Ok(lines)
}

fn pcap_report(
    name: &str,
    packets: &[pcap::UdpPacket],
    opts: &Options,
) -> Result<(Report, Vec<audio::Track>), String> {
    // A port forced on the command line, else one that SIP's SDP announced for T.38, else
    // the flows that look like UDPTL.
    let sdp_ports = pcap::sdp_t38_ports(packets);
    let port = opts.t38_port.or(sdp_ports.first().copied());
    let mut flows = t38::find_flows(packets, port);
    if flows.is_empty() && port.is_some() && opts.t38_port.is_none() {
        flows = t38::find_flows(packets, None);
    }
    let streams = rtp::find_streams(packets);
    let duration = packets
        .last()
        .map(|p| p.time - packets[0].time)
        .unwrap_or(0.0);
    // Time zero: the first media packet (RTP or T.38), not whatever UDP came first.
    let t0 = streams
        .iter()
        .flat_map(|s| s.packets.iter().map(|p| p.time))
        .chain(
            flows
                .iter()
                .flat_map(|f| f.packets.iter().map(|&i| packets[i].time)),
        )
        .fold(f64::INFINITY, f64::min);
    let t0 = if t0.is_finite() {
        t0
    } else {
        packets.first().map(|p| p.time).unwrap_or(0.0)
    };
    if flows.is_empty() && streams.is_empty() {
        let input = ladder::InputInfo {
            file: name.to_string(),
            format: format!(
                "pcap, {} UDP packet(s), no RTP or T.38 found",
                packets.len()
            ),
            duration_s: duration,
            tracks: Vec::new(),
            mono: false,
            notes: vec![format!(
                "{} UDP packet(s) in the capture; none looked like RTP G.711 or T.38 UDPTL",
                packets.len()
            )],
        };
        return Ok((ladder::build_report(input, Vec::new()), Vec::new()));
    }
    let mut track_names = Vec::new();
    let mut notes = Vec::new();
    let mut spectra = Vec::new();
    if opts.t38_port.is_none() && !sdp_ports.is_empty() {
        notes.push(format!(
            "SDP in the capture announces T.38 on port(s) {:?}",
            sdp_ports
        ));
    }
    let mut obs = Vec::new();
    let mut formats = Vec::new();
    let mut audio_tracks = Vec::new();
    // Audio first: a call that starts on G.711 and switches to T.38 (re-INVITE) is followed
    // across the switch, both parts on one time line.
    if !streams.is_empty() {
        let chosen = rtp::choose(&streams, opts.stream)?;
        let mut tracks = Vec::new();
        let mut gaps = Vec::new();
        for (k, &i) in chosen.iter().enumerate() {
            let s = &streams[i];
            let (samples, stream_gaps, start) = rtp::decode(s, t0);
            // A stream that starts implausibly late (a broken timestamp) starts at zero.
            let lead = (start * 8000.0).round().max(0.0) as usize;
            let lead = if lead > MAX_LEAD {
                notes.push(format!(
                    "RTP stream {i} starts {start:.0} s after the first media packet: placed at 0"
                ));
                0
            } else {
                lead
            };
            let mut padded = vec![0i16; lead];
            padded.extend_from_slice(&samples);
            notes.push(format!("track {k}: RTP stream {i}: {}", s.describe()));
            for g in stream_gaps {
                gaps.push(Observation {
                    start: start + g.start_s,
                    end: start + g.start_s + g.duration_s,
                    track: k,
                    kind: ObsKind::Gap { what: g.describe() },
                });
            }
            tracks.push(audio::Track {
                name: format!("rtp {i}"),
                samples: padded,
            });
        }
        track_names.extend(tracks.iter().map(|t| t.name.clone()));
        let tracks = window_tracks(tracks, opts);
        obs.extend(audio::demodulate(&tracks, offset_of(opts)));
        spectra = spectrograms(&tracks, opts);
        audio_tracks = tracks;
        obs.extend(window_obs(gaps, opts));
        formats.push(format!("RTP G.711, {} stream(s)", streams.len()));
    }
    if !flows.is_empty() {
        // --stream numbers the RTP streams when there are any, else the T.38 flows.
        let flows = t38::choose(
            &flows,
            if streams.is_empty() {
                opts.stream
            } else {
                None
            },
        )?;
        let first = track_names.len();
        let t38::Observed {
            obs: t38_obs,
            notes: t38_notes,
            tracks,
        } = t38::observe(packets, &flows, t0);
        notes.extend(t38_notes);
        track_names.extend(tracks);
        obs.extend(window_obs(t38_obs, opts).into_iter().map(|mut o| {
            o.track += first;
            o
        }));
        formats.push(format!("T.38 UDPTL, {} flow(s)", flows.len()));
    }
    let input = ladder::InputInfo {
        file: name.to_string(),
        format: format!("pcap, {}", formats.join(", then ")),
        duration_s: duration,
        mono: track_names.len() == 1,
        tracks: track_names,
        notes,
    };
    let mut r = ladder::build_report(input, obs);
    r.spectrograms = spectra;
    Ok((r, audio_tracks))
}

fn spectrograms(tracks: &[audio::Track], opts: &Options) -> Vec<html::Spectrogram> {
    if !opts.spectrograms {
        return Vec::new();
    }
    tracks
        .iter()
        .map(|t| html::spectrogram(&t.name, &t.samples))
        .collect()
}
