//! Signal health per side from the audio itself: echo (delay and return loss), the
//! sender's symbol clock against the capture's (and so the clock drift between the two
//! sides), the codec the signal crossed (G.711 or a lossy speech codec), and VAD gaps.
//!
//! Everything is measured on the spans the ladder gave each side (its V.21 bursts, TCF,
//! page data), so a side's figures are taken while it alone was sending.

use serde::Serialize;

use super::Side;
use super::audio::Track;
use super::ladder::{Event, Report};

/// Sample rate of every track.
const FS: f64 = 8000.0;
/// Longest echo delay looked for, samples (600 ms: a satellite hop's round trip).
const MAX_LAG: usize = 4800;
/// Signal correlated per echo estimate, samples (at most 2 s).
const ECHO_WINDOW: usize = 16000;
/// Shortest lag taken for echo on a mono tap, samples (4 ms: shorter is the signal's own
/// correlation).
const MONO_MIN_LAG: usize = 32;
/// A VAD gap: the level falls this far under the span's median, dB…
const VAD_DROP_DB: f64 = 20.0;
/// …for at least this many 5 ms frames.
const VAD_MIN_FRAMES: usize = 6;
/// 0 dBm0 as an RMS sample value (3.14 dBm0 full-scale sine, G.711).
const DBM0_RMS: f64 = 22_786.0 * std::f64::consts::FRAC_1_SQRT_2;

/// Echo of one side's signal found on the capture.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EchoReading {
    /// Delay after the side's own signal, ms.
    pub delay_ms: f64,
    /// Echo return loss: how far under the side's signal the echo lies, dB.
    pub return_loss_db: f64,
    /// Where it was seen ("the answerer's channel", "the mono tap").
    pub seen_on: String,
}

/// Which codec the signal looks to have crossed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CodecReading {
    /// "G.711 (or linear)" or "lossy codec (G.729-like)".
    pub verdict: String,
    /// The best V.21 SNR estimate of the side, dB (the ceiling the codec leaves).
    pub snr_ceiling_db: f64,
}

/// A stretch of silence or comfort noise inside one transmission.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VadGap {
    /// When it began, seconds.
    pub time_s: f64,
    /// How long, seconds.
    pub duration_s: f64,
    /// How far under the transmission's level, dB.
    pub drop_db: f64,
}

/// A V.21 SNR ceiling under this says a lossy codec (or another strong impairment), dB.
const CODEC_SNR_DB: f64 = 12.0;
/// Symbol-clock offsets smaller than this are reported as none, ppm.
const DRIFT_NOTICE_PPM: f64 = 10.0;
/// Carrier offsets smaller than this are reported as none, Hz.
const OFFSET_NOTICE_HZ: f64 = 2.0;

/// The impairments read on one side's signal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Impairments {
    /// The side.
    pub side: Side,
    /// Echo of this side's signal.
    pub echo: Option<EchoReading>,
    /// Carrier frequency offset read on its call tone (CNG or CED), Hz.
    pub tone_offset_hz: Option<f64>,
    /// This side's fast-modem symbol clock against the capture's clock, ppm.
    pub symbol_clock_ppm: Option<f64>,
    /// The codec its signal crossed.
    pub codec: Option<CodecReading>,
    /// Gaps inside its transmissions.
    pub vad_gaps: Vec<VadGap>,
}

/// The impairments of the whole call.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SignalHealth {
    /// Per side.
    pub sides: Vec<Impairments>,
    /// Clock drift between the two sides, ppm (caller's symbol clock against the
    /// answerer's; against the capture's clock when only one side sent a fast modem).
    pub clock_drift_ppm: Option<f64>,
    /// How the drift was measured.
    pub clock_drift_basis: Option<String>,
}

impl SignalHealth {
    /// One line per finding, for the text report; empty when nothing was found.
    pub fn findings(&self) -> Vec<String> {
        let mut v = Vec::new();
        for s in &self.sides {
            let who = s.side.name();
            if let Some(e) = &s.echo {
                v.push(format!(
                    "{who}: echo {:.1} ms later, {:.1} dB down (on {})",
                    e.delay_ms, e.return_loss_db, e.seen_on
                ));
            }
            if let Some(c) = s.codec.as_ref().filter(|c| c.snr_ceiling_db < CODEC_SNR_DB) {
                v.push(format!(
                    "{who}: codec {} (best V.21 SNR {:.1} dB; noise or echo as strong reads \
                     the same)",
                    c.verdict, c.snr_ceiling_db
                ));
            }
            if let Some(o) = s.tone_offset_hz.filter(|o| o.abs() >= OFFSET_NOTICE_HZ) {
                v.push(format!(
                    "{who}: carrier frequency offset {o:+.1} Hz (on its call tone)"
                ));
            }
            if let Some(p) = s.symbol_clock_ppm.filter(|p| p.abs() >= DRIFT_NOTICE_PPM) {
                v.push(format!(
                    "{who}: fast-modem symbol clock {p:+.1} ppm against the capture"
                ));
            }
            if !s.vad_gaps.is_empty() {
                let total: f64 = s.vad_gaps.iter().map(|g| g.duration_s).sum();
                let list: Vec<String> = s
                    .vad_gaps
                    .iter()
                    .take(6)
                    .map(|g| format!("{:.2} s ({:.0} ms)", g.time_s, g.duration_s * 1000.0))
                    .collect();
                v.push(format!(
                    "{who}: {} VAD gap(s) inside its transmissions, {:.0} ms in all: {}{}",
                    s.vad_gaps.len(),
                    total * 1000.0,
                    list.join(", "),
                    if s.vad_gaps.len() > 6 { ", …" } else { "" }
                ));
            }
        }
        if let (Some(d), Some(b)) = (self.clock_drift_ppm, &self.clock_drift_basis)
            && d.abs() >= DRIFT_NOTICE_PPM
        {
            v.push(format!("clock drift between the sides {d:+.1} ppm ({b})"));
        }
        v
    }
}

/// Reads the impairments from the audio `tracks` (starting `offset_s` into the capture)
/// on the spans `report` gave each side.
pub fn measure(report: &Report, tracks: &[Track], offset_s: f64) -> SignalHealth {
    let mono = tracks.len() == 1;
    let track_of = |side: Side| -> Option<usize> {
        if mono {
            Some(0)
        } else {
            report
                .track_sides
                .iter()
                .position(|&s| s == side)
                .filter(|&k| k < tracks.len())
        }
    };
    let sec = |t: f64| -> usize { ((t - offset_s).max(0.0) * FS) as usize };
    let mut sides = Vec::new();
    for side in [Side::Caller, Side::Answerer] {
        let Some(k) = track_of(side) else {
            sides.push(Impairments {
                side,
                echo: None,
                tone_offset_hz: None,
                symbol_clock_ppm: None,
                codec: None,
                vad_gaps: Vec::new(),
            });
            continue;
        };
        let x = &tracks[k].samples;
        let spans: Vec<&Event> = report
            .events
            .iter()
            .filter(|e| e.side == side && e.end_s - e.time_s > 0.1)
            .filter(|e| !matches!(e.event.as_str(), "gap" | "signal"))
            .collect();
        // Fast-modem data (TCF, page data), the part of a burst with scrambled data:
        // the best signal for correlation and timing.
        let fast: Vec<(usize, usize)> = spans
            .iter()
            .filter(|e| matches!(e.event.as_str(), "TCF" | "page" | "ECM data"))
            .map(|e| (sec(e.time_s), sec(e.end_s).min(x.len())))
            .filter(|(a, b)| b > a)
            .collect();
        let echo = if mono {
            // Bursts the receivers could not decode (echo itself can defeat them) still
            // carry the echo: energy between the ladder's events, after this side's DCS,
            // counts too.
            let mut bursts = fast.clone();
            bursts.extend(undecoded_bursts(report, side, x, offset_s));
            mono_echo(x, &bursts)
        } else {
            track_of(side.other()).and_then(|o| stereo_echo(x, &tracks[o].samples, &fast, side))
        };
        let symbol_clock_ppm = symbol_clock(report, side, x, offset_s);
        let tone_offset_hz = tone_offset(x, &spans, offset_s);
        let vad_gaps = vad_gaps(x, &transmissions(report, &spans), offset_s);
        sides.push(Impairments {
            side,
            echo,
            tone_offset_hz,
            symbol_clock_ppm,
            codec: None,
            vad_gaps,
        });
    }
    let echo_seen = sides.iter().any(|s| s.echo.is_some());
    for s in &mut sides {
        s.codec = codec(report, s.side, echo_seen);
    }
    let (clock_drift_ppm, clock_drift_basis) =
        match (sides[0].symbol_clock_ppm, sides[1].symbol_clock_ppm) {
            (Some(c), Some(a)) => (
                Some(c - a),
                Some("the two sides' fast-modem symbol clocks".to_string()),
            ),
            (Some(c), None) => (
                Some(c),
                Some(
                    "the caller's fast-modem symbol clock against the capture's clock".to_string(),
                ),
            ),
            (None, Some(a)) => (
                Some(-a),
                Some(
                    "the answerer's fast-modem symbol clock against the capture's clock"
                        .to_string(),
                ),
            ),
            _ => (None, None),
        };
    SignalHealth {
        sides,
        clock_drift_ppm,
        clock_drift_basis,
    }
}

/// Stretches of energy of a second or more that no event of the ladder covers, after a
/// DCS from `side` (so fast-modem signal of that side the receivers could not decode),
/// as sample ranges.
fn undecoded_bursts(report: &Report, side: Side, x: &[i16], offset_s: f64) -> Vec<(usize, usize)> {
    let mut events: Vec<(f64, f64)> = report
        .events
        .iter()
        .map(|e| (e.time_s, e.end_s.max(e.time_s)))
        .collect();
    events.sort_by(|p, q| p.0.total_cmp(&q.0));
    let on = 10f64.powf(-40.0 / 10.0) * DBM0_RMS * DBM0_RMS * 80.0;
    let mut out = Vec::new();
    let mut covered = offset_s;
    for (i, &(start, end)) in events.iter().enumerate() {
        let gap = (covered, start);
        covered = covered.max(end);
        if gap.1 - gap.0 < 1.2 {
            continue;
        }
        let dcs_from = report
            .frames
            .iter()
            .rfind(|f| f.name == "DCS" && f.time_s < gap.0 + 0.01)
            .map(|f| f.side);
        if dcs_from != Some(side) || i == 0 {
            continue;
        }
        let a = ((gap.0 + 0.1 - offset_s) * FS) as usize;
        let b = (((gap.1 - 0.1 - offset_s) * FS) as usize).min(x.len());
        if b <= a {
            continue;
        }
        let active: Vec<usize> = (a..b)
            .step_by(80)
            .filter(|&n| n + 80 <= x.len() && energy(&x[n..n + 80]) > on)
            .collect();
        if let (Some(&first), Some(&last)) = (active.first(), active.last())
            && last + 80 - first >= 8000
        {
            out.push((first, last + 80));
        }
    }
    out
}

fn energy(x: &[i16]) -> f64 {
    x.iter().map(|&v| f64::from(v) * f64::from(v)).sum()
}

/// Up to [`ECHO_WINDOW`] samples of fast-modem data, past the training at the start of
/// each span (its patterns correlate with themselves and have their own spectrum),
/// longest spans first.
fn echo_windows(fast: &[(usize, usize)]) -> Vec<(usize, usize)> {
    let mut spans: Vec<(usize, usize)> = fast
        .iter()
        .map(|&(a, b)| (a + if b - a > 24000 { 16000 } else { 800 }, b))
        .filter(|(a, b)| b > a)
        .collect();
    spans.sort_by_key(|(a, b)| std::cmp::Reverse(b - a));
    let mut left = ECHO_WINDOW;
    let mut out = Vec::new();
    for (a, b) in spans {
        if left == 0 {
            break;
        }
        let n = (b - a).min(left);
        out.push((a, a + n));
        left -= n;
    }
    out
}

/// Correlation of `x` over `windows` with `y` at each lag in `lags`.
fn correlate(
    x: &[i16],
    y: &[i16],
    windows: &[(usize, usize)],
    lags: std::ops::Range<usize>,
) -> Vec<f64> {
    lags.map(|lag| {
        let mut c = 0.0f64;
        for &(a, b) in windows {
            let b = b.min(y.len().saturating_sub(lag));
            if b <= a {
                continue;
            }
            let xs = &x[a..b];
            let ys = &y[a + lag..b + lag];
            c += xs
                .iter()
                .zip(ys)
                .map(|(&p, &q)| f64::from(i32::from(p) * i32::from(q)))
                .sum::<f64>();
        }
        c
    })
    .collect()
}

/// The lag of the strongest correlation, if it stands well out of the others.
fn peak(c: &[f64]) -> Option<usize> {
    let (i, p) = c
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))?;
    let mut mags: Vec<f64> = c.iter().map(|v| v.abs()).collect();
    mags.sort_by(f64::total_cmp);
    let median = mags[mags.len() / 2];
    (p.abs() > 10.0 * median.max(1e-9)).then_some(i)
}

/// Stereo: the side's signal (`x`) correlated with the other channel (`y`); the echo
/// return loss is the energy ratio of the two windows, the other channel holding only
/// the echo while this side sends.
fn stereo_echo(x: &[i16], y: &[i16], fast: &[(usize, usize)], side: Side) -> Option<EchoReading> {
    let w = echo_windows(fast);
    if w.iter().map(|(a, b)| b - a).sum::<usize>() < 4000 {
        return None;
    }
    let c = correlate(x, y, &w, 0..MAX_LAG);
    let lag = peak(&c)?;
    let ex: f64 = w.iter().map(|&(a, b)| energy(&x[a..b])).sum();
    let ey: f64 = w
        .iter()
        .map(|&(a, b)| energy(&y[(a + lag).min(y.len())..(b + lag).min(y.len())]))
        .sum();
    // The echo must carry most of the other channel's energy there, else it is the
    // other side talking (double talk) or noise.
    let coherence = c[lag].abs() / (ex * ey).sqrt().max(1e-9);
    if coherence < 0.2 || ey <= 0.0 {
        return None;
    }
    Some(EchoReading {
        delay_ms: lag as f64 / 8.0,
        return_loss_db: 10.0 * (ex / ey).log10(),
        seen_on: format!("the {}'s channel", side.other().name()),
    })
}

/// Mono tap: the signal's correlation with its own delayed copy; the return loss from the
/// echo tail heard after the side's bursts end.
fn mono_echo(x: &[i16], fast: &[(usize, usize)]) -> Option<EchoReading> {
    let w = echo_windows(fast);
    if w.iter().map(|(a, b)| b - a).sum::<usize>() < 4000 {
        return None;
    }
    let c = correlate(x, x, &w, MONO_MIN_LAG..MAX_LAG);
    let r0 = correlate(x, x, &w, 0..1)[0];
    let i = peak(&c)?;
    let lag = i + MONO_MIN_LAG;
    if c[i].abs() / r0.max(1e-9) < 0.02 {
        return None;
    }
    // The tail: after a burst ends, for about the echo delay, only its echo is heard.
    let tail = (lag - 16).min(800);
    let mut ratios = Vec::new();
    for &(a, b) in fast {
        let Some(end) = burst_end(x, a, b) else {
            continue;
        };
        if end < a + tail + 24 || end + tail + 24 > x.len() {
            continue;
        }
        let before = energy(&x[end - tail - 16..end - 16]);
        let after = energy(&x[end + 12..end + 12 + tail]);
        if after > 0.0 {
            ratios.push(10.0 * (before / after).log10());
        }
    }
    if ratios.is_empty() {
        return None;
    }
    ratios.sort_by(f64::total_cmp);
    Some(EchoReading {
        delay_ms: lag as f64 / 8.0,
        return_loss_db: ratios[ratios.len() / 2],
        seen_on: "the mono tap".to_string(),
    })
}

/// Where the signal of a burst spanning about `a..b` drops, to half a millisecond: the
/// first point near `b` after which 4 ms stay more than 9 dB under the burst's level
/// (single milliseconds of a QAM signal dip that far on their own).
fn burst_end(x: &[i16], a: usize, b: usize) -> Option<usize> {
    let mid = (a + b) / 2;
    let probe = &x[mid.min(x.len())..(mid + 4000).min(b).min(x.len())];
    if probe.is_empty() {
        return None;
    }
    let level = energy(probe) / probe.len() as f64;
    let mut t = b.saturating_sub(400).max(mid);
    while t + 32 <= x.len() && t < b + 400 {
        if energy(&x[t..t + 32]) / 32.0 < level / 8.0 {
            return Some(t);
        }
        t += 4;
    }
    None
}

/// Carrier and symbol rate of a fast modem.
fn modem_clock(modem: &str, rate: u32) -> Option<(f64, f64)> {
    match (modem, rate) {
        ("V.17", _) => Some((1800.0, 2400.0)),
        ("V.29", _) => Some((1700.0, 2400.0)),
        ("V.27ter", 4800) => Some((1800.0, 1600.0)),
        ("V.27ter", _) => Some((1800.0, 1200.0)),
        _ => None,
    }
}

/// The side's fast-modem symbol clock against the capture's, ppm: the phase of the
/// symbol-rate line in the squared envelope, followed over each long data burst; its
/// slope is the clock's offset. Bursts are weighted by length.
fn symbol_clock(report: &Report, side: Side, x: &[i16], offset_s: f64) -> Option<f64> {
    let mut sum = 0.0;
    let mut weight = 0.0;
    for e in report
        .events
        .iter()
        .filter(|e| e.side == side && matches!(e.event.as_str(), "TCF" | "page" | "ECM data"))
    {
        let Some(t) = report
            .trainings
            .iter()
            .rfind(|t| t.side == side && t.ok && t.time_s <= e.time_s)
        else {
            continue;
        };
        let Some((fc, baud)) = modem_clock(&t.modem, t.rate) else {
            continue;
        };
        let a = ((e.time_s - offset_s).max(0.0) * FS) as usize + 800;
        let b = (((e.end_s - offset_s) * FS) as usize).min(x.len());
        if b < a + 8000 {
            continue;
        }
        if let Some(ppm) = baud_line_drift(&x[a..b], fc, baud) {
            let w = (b - a) as f64;
            sum += ppm * w;
            weight += w;
        }
    }
    (weight > 0.0).then(|| sum / weight)
}

/// The symbol-rate line of `x` (carrier `fc`, `baud` symbols/s): its frequency offset
/// from `baud`, in ppm, by a straight-line fit to its phase over 100 ms blocks.
fn baud_line_drift(x: &[i16], fc: f64, baud: f64) -> Option<f64> {
    // Complex baseband, low-passed (31-tap windowed sinc at 1600 Hz) to drop the
    // 2·fc product, then its squared magnitude.
    let taps: Vec<f64> = (0..31)
        .map(|i| {
            let n = i as f64 - 15.0;
            let cut = 1600.0 / FS;
            let sinc = if n == 0.0 {
                2.0 * cut
            } else {
                (std::f64::consts::TAU * cut * n).sin() / (std::f64::consts::PI * n)
            };
            let w = 0.54 - 0.46 * (std::f64::consts::TAU * i as f64 / 30.0).cos();
            sinc * w
        })
        .collect();
    let w0 = std::f64::consts::TAU * fc / FS;
    let bb: Vec<(f64, f64)> = x
        .iter()
        .enumerate()
        .map(|(n, &v)| {
            let p = w0 * n as f64;
            (f64::from(v) * p.cos(), -f64::from(v) * p.sin())
        })
        .collect();
    let wb = std::f64::consts::TAU * baud / FS;
    let block = 800;
    let mut phases = Vec::new();
    let mut n = 30;
    while n + block <= bb.len() {
        let (mut re, mut im) = (0.0, 0.0);
        for m in n..n + block {
            let (mut i_, mut q_) = (0.0, 0.0);
            for (k, h) in taps.iter().enumerate() {
                let (i2, q2) = bb[m - k];
                i_ += h * i2;
                q_ += h * q2;
            }
            let env = i_ * i_ + q_ * q_;
            let p = wb * m as f64;
            re += env * p.cos();
            im -= env * p.sin();
        }
        if re.hypot(im) <= 0.0 {
            return None;
        }
        phases.push(((n + block / 2) as f64, im.atan2(re)));
        n += block;
    }
    // Phase slope (rad/sample) → frequency offset of the line (Hz) → ppm of the baud.
    let df = phase_slope(&phases)? * FS / std::f64::consts::TAU;
    Some(df / baud * 1e6)
}

/// The codec signature of a side's signal: the SNR ceiling of its V.21 bursts. G.711
/// leaves an FSK signal well above 15 dB; a speech codec such as G.729 codes it with an
/// error that leaves it near 6 dB. Echo lowers the ceiling too, so with echo present the
/// verdict is left open.
fn codec(report: &Report, side: Side, echo_seen: bool) -> Option<CodecReading> {
    let snr = side_v21_snr(report, side)?;
    let verdict = if snr >= CODEC_SNR_DB {
        "G.711 (or linear)"
    } else if echo_seen {
        "unknown (echo lowers the SNR as much as a lossy codec would)"
    } else {
        "lossy codec (G.729-like)"
    };
    Some(CodecReading {
        verdict: verdict.into(),
        snr_ceiling_db: snr,
    })
}

/// The best V.21 SNR reading of a side.
fn side_v21_snr(report: &Report, side: Side) -> Option<f64> {
    report
        .health
        .iter()
        .find(|h| h.side == side)
        .and_then(|h| h.v21_best_snr_db)
        .map(f64::from)
}

/// The carrier frequency offset of a side from its call tone (CNG 1100 Hz, CED 2100 Hz),
/// Hz: the slope of the tone's phase against the nominal frequency over 10 ms blocks.
fn tone_offset(x: &[i16], spans: &[&Event], offset_s: f64) -> Option<f64> {
    for e in spans {
        let f0 = match e.event.as_str() {
            "CNG" => 1100.0,
            "CED" => 2100.0,
            _ => continue,
        };
        let a = ((e.time_s - offset_s).max(0.0) * FS) as usize + 400;
        let b = (((e.end_s - offset_s) * FS) as usize)
            .min(x.len())
            .saturating_sub(400);
        if b < a + 1600 {
            continue;
        }
        let w0 = std::f64::consts::TAU * f0 / FS;
        let mut pts = Vec::new();
        let mut n = a;
        while n + 80 <= b {
            let (mut re, mut im) = (0.0, 0.0);
            for (m, &v) in x.iter().enumerate().skip(n).take(80) {
                let p = w0 * m as f64;
                re += f64::from(v) * p.cos();
                im -= f64::from(v) * p.sin();
            }
            pts.push(((n + 40) as f64, im.atan2(re)));
            n += 80;
        }
        if let Some(slope) = phase_slope(&pts) {
            return Some(slope * FS / std::f64::consts::TAU);
        }
    }
    None
}

/// Unwraps a phase sequence and fits a straight line: its slope, rad per sample.
fn phase_slope(phases: &[(f64, f64)]) -> Option<f64> {
    if phases.len() < 8 {
        return None;
    }
    let mut un = Vec::with_capacity(phases.len());
    let mut prev = phases[0].1;
    let mut acc = prev;
    for &(t, p) in phases {
        let mut d = p - prev;
        while d > std::f64::consts::PI {
            d -= std::f64::consts::TAU;
        }
        while d < -std::f64::consts::PI {
            d += std::f64::consts::TAU;
        }
        acc += d;
        prev = p;
        un.push((t, acc));
    }
    let n = un.len() as f64;
    let mt = un.iter().map(|p| p.0).sum::<f64>() / n;
    let mp = un.iter().map(|p| p.1).sum::<f64>() / n;
    let sxy: f64 = un.iter().map(|p| (p.0 - mt) * (p.1 - mp)).sum();
    let sxx: f64 = un.iter().map(|p| (p.0 - mt).powi(2)).sum();
    (sxx > 0.0).then(|| sxy / sxx)
}

/// The stretches a side was transmitting: its events, a fast-modem burst reaching on to
/// the next V.21 preamble (a VAD cut can stop the receiver early, but the burst goes on),
/// merged where they overlap; seconds.
fn transmissions(report: &Report, spans: &[&Event]) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = spans
        .iter()
        .map(|e| {
            let fast = matches!(e.event.as_str(), "training" | "TCF" | "page" | "ECM data");
            let end = if fast {
                report
                    .events
                    .iter()
                    .filter(|n| n.event == "V.21 preamble" && n.time_s > e.time_s)
                    .map(|n| n.time_s - 0.02)
                    .fold(f64::INFINITY, f64::min)
                    .max(e.end_s)
            } else {
                e.end_s
            };
            (e.time_s, end)
        })
        .collect();
    out.sort_by(|p, q| p.0.total_cmp(&q.0));
    let mut merged: Vec<(f64, f64)> = Vec::new();
    for (a, b) in out {
        match merged.last_mut() {
            Some(m) if a <= m.1 => m.1 = m.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    merged
}

/// Level in 5 ms frames inside each transmission of a side; a run far under its median,
/// with the signal back at its level afterwards, is a VAD gap (silence suppression or
/// comfort noise cut into the transmission). A transmission's own end (the signal does
/// not come back) is not one.
fn vad_gaps(x: &[i16], windows: &[(f64, f64)], offset_s: f64) -> Vec<VadGap> {
    const F: usize = 40;
    // Signal at its level needed after a gap, frames (25 ms: a VAD reopens for as little
    // as its onset and hangover).
    const AFTER: usize = 5;
    let mut gaps = Vec::new();
    for &(start, end) in windows {
        // Skip the edges: a burst's own rise and fall.
        let a = ((start - offset_s).max(0.0) * FS) as usize + 2 * F;
        let b = ((((end - offset_s) * FS).max(0.0) as usize).min(x.len())).saturating_sub(2 * F);
        if b < a + 10 * F {
            continue;
        }
        let levels: Vec<f64> = x[a..b]
            .chunks_exact(F)
            .map(|c| 10.0 * ((energy(c) / F as f64).max(1.0) / (DBM0_RMS * DBM0_RMS)).log10())
            .collect();
        let mut sorted = levels.clone();
        sorted.sort_by(f64::total_cmp);
        let median = sorted[sorted.len() / 2];
        let mut i = 0;
        while i < levels.len() {
            if levels[i] < median - VAD_DROP_DB {
                let j = (i..levels.len())
                    .find(|&j| levels[j] >= median - VAD_DROP_DB)
                    .unwrap_or(levels.len());
                let back = levels
                    .get(j..j + AFTER)
                    .is_some_and(|w| w.iter().all(|&l| l >= median - 6.0));
                if j - i >= VAD_MIN_FRAMES && i > 0 && back {
                    let low = levels[i..j].iter().sum::<f64>() / (j - i) as f64;
                    gaps.push(VadGap {
                        time_s: offset_s + (a + i * F) as f64 / FS,
                        duration_s: ((j - i) * F) as f64 / FS,
                        drop_db: median - low,
                    });
                }
                i = j;
            } else {
                i += 1;
            }
        }
    }
    gaps.sort_by(|p, q| p.time_s.total_cmp(&q.time_s));
    gaps
}
