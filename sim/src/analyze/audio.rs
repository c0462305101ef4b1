//! Audio tracks to observations: the modems of the `modem` crate run over the recording.
//!
//! Two passes per track. The first runs what a T.30 station always listens with (the V.21
//! channel 2 receiver with its HDLC deframer, the CNG/CED detector) and measures the level
//! every 10 ms. The second cuts the track into bursts of energy, leaves out the V.21 and tone
//! bursts, and runs a fast-modem receiver over each remaining burst: the modem and rate the
//! DCS before it announced (trying the others only when no DCS was heard), the first burst
//! after a DCS as TCF, the later ones as page data (T.4 rows, or ECM frames when the DCS
//! asked for ECM).

use modem::hdlc::{HdlcDeframer, HdlcEvent, HdlcRxConfig};
use modem::tones::{Tone, ToneDetector, ToneEvent};
use modem::{ModemKind, Receiver, RxConfig, RxEvent, RxSink};
use t30::frame::dis::modem_name::Modem;
use t30::frame::{DisBits, Fcf, Frame};

use super::fastdata::{BurstDecoder, BurstKind, DcsInfo};
use super::{ObsKind, Observation, ToneKind};

/// One track of audio at 8000 Hz.
#[derive(Debug, Clone)]
pub struct Track {
    /// What it is ("mono", "channel 1", "rtp 0").
    pub name: String,
    /// The samples.
    pub samples: Vec<i16>,
}

const RATE: f64 = 8000.0;
/// Receiver block: 5 ms, so event times are known to 5 ms.
const BLOCK: usize = 40;
/// Level frame: 10 ms.
const FRAME: usize = 80;
/// A burst of energy starts above this level, dBm0 (receivers' carrier-on thresholds lie
/// near -43 dBm0).
const BURST_ON_DBM0: f32 = -43.0;
/// Shortest burst worth a fast receiver, s.
const MIN_BURST_S: f64 = 0.1;
/// A burst this much louder on another track belongs to that track, dB.
const CROSSTALK_DB: f32 = 10.0;
/// Quiet shorter than this does not end a burst, s.
const BRIDGE_S: f64 = 0.03;

/// The fast modems in the order a sender falls back through them, for bursts no DCS
/// announced.
const TRIALS: &[(Modem, u32)] = &[
    (Modem::V17, 14400),
    (Modem::V17, 12000),
    (Modem::V17, 9600),
    (Modem::V17, 7200),
    (Modem::V29, 9600),
    (Modem::V29, 7200),
    (Modem::V27ter, 4800),
    (Modem::V27ter, 2400),
];

fn kind_of(m: Modem) -> ModemKind {
    match m {
        Modem::V27ter => ModemKind::V27ter,
        Modem::V29 => ModemKind::V29,
        Modem::V17 => ModemKind::V17,
    }
}

/// A stretch of a track, in samples.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Span {
    start: usize,
    end: usize,
}

impl Span {
    fn overlap(&self, start: f64, end: f64) -> f64 {
        let s = (self.start as f64 / RATE).max(start);
        let e = (self.end as f64 / RATE).min(end);
        (e - s).max(0.0)
    }
    fn secs(&self) -> f64 {
        (self.end - self.start) as f64 / RATE
    }
}

/// Demodulates every track; times are shifted by `offset` seconds (the window start).
pub fn demodulate(tracks: &[Track], offset: f64) -> Vec<Observation> {
    let mut first: Vec<(Vec<Observation>, Vec<f32>)> = tracks
        .iter()
        .enumerate()
        .map(|(i, t)| control_pass(i, &t.samples))
        .collect();
    // Every DCS heard on any track, in time order: a mono tap or the other channel may hold
    // the command that announces this track's fast bursts.
    let mut dcs: Vec<(f64, Modem, u32, DcsInfo)> = Vec::new();
    let mut any_frame = false;
    for (obs, _) in &first {
        for o in obs {
            if let ObsKind::Frame {
                bytes,
                fcs_ok: true,
                ..
            } = &o.kind
            {
                any_frame = true;
                if let Ok(f) = Frame::parse(bytes)
                    && matches!(f.kind(), Some((Fcf::DCS, _)))
                    && let Some((m, r)) = DisBits::from_fif(&f.fif).dcs_rate()
                {
                    dcs.push((o.end, m, r, DcsInfo::from_fif(&f.fif)));
                }
            }
        }
    }
    dcs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out = Vec::new();
    let all_levels: Vec<Vec<f32>> = first.iter().map(|(_, l)| l.clone()).collect();
    for (i, t) in tracks.iter().enumerate() {
        let (mut obs, levels) = std::mem::take(&mut first[i]);
        let others: Vec<&[f32]> = all_levels
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, l)| l.as_slice())
            .collect();
        let fast = fast_pass(i, &t.samples, &levels, &others, &obs, &dcs, any_frame);
        obs.extend(fast);
        out.extend(obs);
    }
    for o in &mut out {
        o.start += offset;
        o.end += offset;
        if let ObsKind::Frame { burst_start, .. } = &mut o.kind {
            *burst_start += offset;
        }
    }
    out.sort_by(|a, b| a.start.total_cmp(&b.start));
    out
}

/// What the V.21 receiver's sink collects within one block.
#[derive(Default)]
struct ControlSink {
    deframer: Option<HdlcDeframer>,
    preamble: bool,
    frames: Vec<(Vec<u8>, bool)>,
    up: bool,
    down: bool,
}

impl RxSink for ControlSink {
    fn bit(&mut self, bit: bool) {
        let Some(d) = self.deframer.as_mut() else {
            return;
        };
        let (pre, frames) = (&mut self.preamble, &mut self.frames);
        d.push_bit(bit, &mut |e: HdlcEvent<'_>| match e {
            HdlcEvent::Preamble => *pre = true,
            HdlcEvent::Frame { data, crc_ok } => frames.push((data.to_vec(), crc_ok)),
            _ => {}
        });
    }
    fn event(&mut self, event: RxEvent) {
        match event {
            RxEvent::CarrierUp { .. } => {
                self.up = true;
                if let Some(d) = self.deframer.as_mut() {
                    d.reset();
                }
            }
            RxEvent::CarrierDown => {
                self.down = true;
                if let Some(d) = self.deframer.as_mut() {
                    d.reset();
                }
            }
            _ => {}
        }
    }
}

/// V.21 with HDLC, CNG/CED and the level of every 10 ms.
fn control_pass(track: usize, samples: &[i16]) -> (Vec<Observation>, Vec<f32>) {
    let mut obs = Vec::new();
    let mut levels = Vec::with_capacity(samples.len() / FRAME + 1);
    for f in samples.chunks(FRAME) {
        let p = f.iter().map(|&s| f32::from(s) * f32::from(s)).sum::<f32>() / FRAME as f32;
        levels.push(modem::level::power_to_dbm0(p));
    }
    let Ok(mut v21) = modem::new_receiver(
        ModemKind::V21Ch2,
        &RxConfig {
            rate: 300,
            short_train: false,
        },
    ) else {
        return (obs, levels);
    };
    let mut tones = ToneDetector::new();
    let mut sink = ControlSink {
        deframer: Some(HdlcDeframer::new(HdlcRxConfig::default())),
        ..Default::default()
    };
    // Carrier-up time of the current V.21 burst, and whether it carried HDLC.
    let mut burst_start: Option<f64> = None;
    let mut burst_frames: Vec<usize> = Vec::new();
    let mut burst_hdlc = false;
    let mut pending_preamble: Option<usize> = None;
    let mut tone_on: [Option<(f64, f32)>; 2] = [None, None];
    // Level, SNR and carrier offset at each frame of the current HDLC burst.
    let mut quality: Vec<(f32, f32, f32)> = Vec::new();
    for (b, block) in samples.chunks(BLOCK).enumerate() {
        let t_end = (b * BLOCK + block.len()) as f64 / RATE;
        v21.process(block, &mut sink);
        if sink.up && burst_start.is_none() {
            burst_start = Some(t_end - block.len() as f64 / RATE);
            burst_frames.clear();
            burst_hdlc = false;
        }
        if std::mem::take(&mut sink.preamble) && pending_preamble.is_none() {
            let start = burst_start.unwrap_or(t_end);
            burst_hdlc = true;
            pending_preamble = Some(obs.len());
            obs.push(Observation {
                start,
                end: t_end,
                track,
                kind: ObsKind::Preamble,
            });
        }
        if !sink.frames.is_empty() && (burst_hdlc || sink.frames.iter().any(|f| f.1)) {
            // Read while the carrier is certainly present: a frame of a burst that carried
            // HDLC (a flag preamble or a good frame). A frame a lossy codec damaged still
            // tells the signal's SNR, which is how such a codec is recognised.
            let q = v21.quality();
            quality.push((q.level_dbm0, q.snr_db, q.carrier_offset_hz));
        }
        for (bytes, crc_ok) in std::mem::take(&mut sink.frames) {
            let bits = (bytes.len() as f64 + 3.0) * 8.0;
            if crc_ok {
                burst_hdlc = true;
            }
            burst_frames.push(obs.len());
            obs.push(Observation {
                start: (t_end - bits / 300.0).max(0.0),
                end: t_end,
                track,
                kind: ObsKind::Frame {
                    bytes,
                    fcs_ok: crc_ok,
                    burst_start: burst_start.unwrap_or(t_end),
                    fast: false,
                },
            });
        }
        if let Some(p) = pending_preamble
            && burst_frames.iter().any(|&i| i > p)
        {
            // The preamble ends where the first frame of the burst begins.
            let first = burst_frames.iter().copied().find(|&i| i > p).unwrap_or(p);
            obs[p].end = obs[first].start.max(obs[p].start);
        }
        if std::mem::take(&mut sink.down) {
            if !burst_hdlc {
                // Energy the V.21 receiver took for a carrier but that held no HDLC: its
                // "frames" are noise.
                for &i in burst_frames.iter().rev() {
                    obs.remove(i);
                }
            } else if let Some(p) = pending_preamble
                && !burst_frames.iter().any(|&i| i > p)
            {
                obs[p].end = t_end;
            }
            if burst_hdlc && !quality.is_empty() {
                let n = quality.len() as f32;
                let mean = |f: fn(&(f32, f32, f32)) -> f32| quality.iter().map(f).sum::<f32>() / n;
                obs.push(Observation {
                    start: burst_start.unwrap_or(t_end),
                    end: t_end,
                    track,
                    kind: ObsKind::Carrier {
                        level_dbm0: mean(|q| q.0),
                        snr_db: mean(|q| q.1),
                        offset_hz: mean(|q| q.2),
                    },
                });
            }
            quality.clear();
            burst_start = None;
            burst_frames.clear();
            pending_preamble = None;
            burst_hdlc = false;
        }
        sink.up = false;
        tones.process(block, &mut |ev| match ev {
            ToneEvent::On {
                tone,
                level_dbm0,
                start_sample,
                ..
            } => {
                tone_on[tone_index(tone)] = Some((start_sample as f64 / RATE, level_dbm0));
            }
            ToneEvent::Off {
                tone, end_sample, ..
            } => {
                if let Some((start, level)) = tone_on[tone_index(tone)].take() {
                    obs.push(Observation {
                        start,
                        end: end_sample as f64 / RATE,
                        track,
                        kind: ObsKind::Tone {
                            tone: tone_kind(tone),
                            level_dbm0: level,
                        },
                    });
                }
            }
        });
    }
    let end = samples.len() as f64 / RATE;
    for (i, on) in tone_on.iter().enumerate() {
        if let Some((start, level)) = on {
            obs.push(Observation {
                start: *start,
                end,
                track,
                kind: ObsKind::Tone {
                    tone: if i == 0 { ToneKind::Cng } else { ToneKind::Ced },
                    level_dbm0: *level,
                },
            });
        }
    }
    if !burst_hdlc {
        for &i in burst_frames.iter().rev() {
            obs.remove(i);
        }
    }
    // Bad frames outside a burst that also had a good frame or a preamble are the V.21
    // receiver reading some other signal; those inside are worth reporting.
    (obs, levels)
}

fn tone_index(t: Tone) -> usize {
    match t {
        Tone::Cng => 0,
        Tone::Ced => 1,
    }
}

fn tone_kind(t: Tone) -> ToneKind {
    match t {
        Tone::Cng => ToneKind::Cng,
        Tone::Ced => ToneKind::Ced,
    }
}

/// Bursts of energy, from the 10 ms levels.
fn bursts(levels: &[f32], len: usize) -> Vec<Span> {
    let mut out: Vec<Span> = Vec::new();
    let bridge = (BRIDGE_S * RATE) as usize;
    let mut cur: Option<usize> = None;
    for (i, &l) in levels.iter().enumerate() {
        let at = i * FRAME;
        match (cur, l >= BURST_ON_DBM0) {
            (None, true) => cur = Some(at),
            (Some(s), false) => {
                let span = Span { start: s, end: at };
                match out.last_mut() {
                    Some(last) if span.start - last.end <= bridge => last.end = span.end,
                    _ => out.push(span),
                }
                cur = None;
            }
            _ => {}
        }
    }
    if let Some(s) = cur {
        let span = Span { start: s, end: len };
        match out.last_mut() {
            Some(last) if span.start - last.end <= bridge => last.end = span.end,
            _ => out.push(span),
        }
    }
    out.retain(|s| s.secs() >= MIN_BURST_S);
    out
}

/// Events and bits of one receiver run over a burst.
#[derive(Default)]
struct FastSink {
    trained: bool,
    failed: bool,
    down: bool,
    /// Sample (within the run) where training succeeded, and the SNR then.
    trained_at: Option<(usize, f32)>,
    bits: Vec<bool>,
    pos: usize,
}

impl RxSink for FastSink {
    fn bit(&mut self, bit: bool) {
        if self.trained && !self.down {
            self.bits.push(bit);
        }
    }
    fn event(&mut self, event: RxEvent) {
        match event {
            RxEvent::TrainingSucceeded { snr_db, .. } if !self.trained => {
                self.trained = true;
                self.trained_at = Some((self.pos, snr_db));
            }
            RxEvent::TrainingFailed => self.failed = true,
            RxEvent::CarrierDown if self.trained => self.down = true,
            _ => {}
        }
    }
}

/// Symbols kept per burst for the constellation snapshot.
const SNAPSHOT_SYMBOLS: usize = 500;

/// The result of running one receiver over one burst.
struct Run {
    sink: FastSink,
    snr_db: f32,
    /// Equalised symbols after training, one per receiver block.
    symbols: Vec<(f32, f32)>,
}

fn run_receiver(rx: &mut dyn Receiver, samples: &[i16]) -> Run {
    let mut sink = FastSink::default();
    let mut snr = f32::NAN;
    let mut symbols = Vec::new();
    for block in samples.chunks(BLOCK) {
        rx.process(block, &mut sink);
        sink.pos += block.len();
        if sink.trained && snr.is_nan() {
            snr = rx.quality().snr_db;
        }
        if sink.trained
            && !sink.down
            && symbols.len() < SNAPSHOT_SYMBOLS
            && let Some(s) = rx.last_symbol()
        {
            symbols.push(s);
        }
        if sink.down || (sink.failed && !sink.trained) {
            break;
        }
    }
    let snr_db = match sink.trained_at {
        Some((_, s)) if s.is_finite() => s,
        _ => snr,
    };
    Run {
        sink,
        snr_db,
        symbols,
    }
}

/// The fast receiver kept between the bursts that one DCS announced (a short training
/// reuses what the long one learnt).
struct Kept {
    dcs_index: usize,
    modem: Modem,
    rate: u32,
    rx: Box<dyn Receiver + Send>,
    long_ok: bool,
    bursts: usize,
}

/// Runs fast receivers over the bursts that are neither V.21 nor tones.
#[allow(clippy::too_many_arguments)]
fn fast_pass(
    track: usize,
    samples: &[i16],
    levels: &[f32],
    others: &[&[f32]],
    control: &[Observation],
    dcs: &[(f64, Modem, u32, DcsInfo)],
    fax_seen: bool,
) -> Vec<Observation> {
    let mut out = Vec::new();
    let mut kept: Option<Kept> = None;
    for span in bursts(levels, samples.len()) {
        let (s, e) = (span.start as f64 / RATE, span.end as f64 / RATE);
        // Covered by V.21 signalling or a tone on this track?
        let covered: f64 = control
            .iter()
            .filter(|o| {
                matches!(
                    o.kind,
                    ObsKind::Preamble | ObsKind::Tone { .. } | ObsKind::Frame { fcs_ok: true, .. }
                )
            })
            .map(|o| span.overlap(o.start, o.end))
            .sum();
        if covered > 0.3 * span.secs() || span_has_v21(control, s, e) {
            continue;
        }
        let level = mean_level(levels, span);
        // Much louder on another track: this is that side's signal leaking across
        // (crosstalk, echo), analysed there.
        if others
            .iter()
            .any(|l| mean_level(l, span) > level + CROSSTALK_DB)
        {
            continue;
        }
        // A little before the energy rises, so the receiver sees the onset.
        let lead = (0.03 * RATE) as usize;
        let from = span.start.saturating_sub(lead);
        let to = (span.end + lead).min(samples.len());
        let audio = &samples[from..to];
        let announced = dcs.iter().rposition(|d| d.0 <= s + 0.05);
        let result = match announced {
            Some(di) => {
                let (_, m, r, info) = dcs[di];
                let fresh_dcs = kept.as_ref().is_none_or(|k| k.dcs_index != di);
                if fresh_dcs || kept.as_ref().is_some_and(|k| k.modem != m || k.rate != r) {
                    kept = new_receiver(m, r).map(|rx| Kept {
                        dcs_index: di,
                        modem: m,
                        rate: r,
                        rx,
                        long_ok: false,
                        bursts: 0,
                    });
                }
                let Some(k) = kept.as_mut() else { continue };
                k.bursts += 1;
                let kind = if k.bursts == 1 {
                    BurstKind::Tcf
                } else {
                    BurstKind::Data(info)
                };
                let mut short = false;
                let mut run = None;
                if k.long_ok && m == Modem::V17 {
                    short = true;
                    let _ = k.rx.restart(&RxConfig {
                        rate: r,
                        short_train: true,
                    });
                    let r1 = run_receiver(k.rx.as_mut(), audio);
                    if r1.sink.trained {
                        run = Some(r1);
                    }
                }
                let run = match run {
                    Some(r) => r,
                    None => {
                        short = false;
                        match new_receiver(m, r) {
                            Some(rx) => {
                                k.rx = rx;
                                run_receiver(k.rx.as_mut(), audio)
                            }
                            None => continue,
                        }
                    }
                };
                if run.sink.trained && !short {
                    k.long_ok = true;
                }
                Some((m, r, short, kind, run))
            }
            None if fax_seen => trial(audio),
            None => None,
        };
        match result {
            Some((m, r, short, kind, run)) => {
                let t_train = match run.sink.trained_at {
                    Some((p, _)) => (from + p) as f64 / RATE,
                    None => e,
                };
                out.push(Observation {
                    start: s,
                    end: t_train.max(s),
                    track,
                    kind: ObsKind::Training {
                        modem: m,
                        rate: r,
                        ok: run.sink.trained,
                        short,
                        cut: !run.sink.trained && !run.sink.failed && span.end >= samples.len(),
                        snr_db: if run.sink.trained {
                            run.snr_db
                        } else {
                            f32::NAN
                        },
                        level_dbm0: level,
                        constellation: run.symbols.clone(),
                    },
                });
                if run.sink.trained {
                    let mut dec = BurstDecoder::new(kind, r);
                    for &b in &run.sink.bits {
                        dec.push_bit(b);
                    }
                    out.extend(dec.finish(track, s, t_train));
                }
            }
            None => out.push(Observation {
                start: s,
                end: e,
                track,
                kind: ObsKind::Signal { level_dbm0: level },
            }),
        }
    }
    out
}

/// Whether the V.21 receiver found HDLC between `s` and `e` (a preamble or a good frame
/// ending inside).
fn span_has_v21(control: &[Observation], s: f64, e: f64) -> bool {
    control.iter().any(|o| {
        matches!(
            o.kind,
            ObsKind::Preamble | ObsKind::Frame { fcs_ok: true, .. }
        ) && o.end > s
            && o.end <= e + 0.05
    })
}

fn mean_level(levels: &[f32], span: Span) -> f32 {
    let a = span.start / FRAME;
    let b = (span.end / FRAME).min(levels.len());
    if b <= a {
        return f32::NAN;
    }
    let p: f32 = levels[a..b]
        .iter()
        .map(|l| 10f32.powf(l / 10.0))
        .sum::<f32>()
        / (b - a) as f32;
    10.0 * p.log10()
}

fn new_receiver(m: Modem, rate: u32) -> Option<Box<dyn Receiver + Send>> {
    modem::new_receiver(
        kind_of(m),
        &RxConfig {
            rate,
            short_train: false,
        },
    )
    .ok()
}

type Trial = (Modem, u32, bool, BurstKind, Run);

/// A burst no DCS announced: the first modem that trains on it.
fn trial(audio: &[i16]) -> Option<Trial> {
    for &(m, r) in TRIALS {
        let mut rx = new_receiver(m, r)?;
        let run = run_receiver(rx.as_mut(), audio);
        if run.sink.trained {
            return Some((m, r, false, BurstKind::Tcf, run));
        }
    }
    None
}
