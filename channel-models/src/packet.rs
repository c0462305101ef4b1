//! What an IP path does to audio: RTP packetization, the network (delay, jitter, loss,
//! reordering, duplication), and the receiver's jitter buffer and packet loss concealment.
//!
//! [`VoipPath`] is the whole path as one [`AudioStage`]: G.711 samples are cut into RTP
//! packets every ptime, each packet crosses a [`Network`], arrives (or not, or twice, or out
//! of order) at a [`JitterBuffer`] that plays it out at a fixed or adaptive delay, and
//! frames that are missing or late at their playout time are concealed ([`Plc`]). Time is
//! the sample clock: one input sample is 125 µs (a packet leaves with its last sample, so
//! the end-to-end delay is ptime - 1 sample + network + buffer); the stage emits one sample per input
//! sample, silence before playout starts. [`VoipStats`] counts what happened.

use crate::AudioStage;
use crate::rng::Rng;

/// Largest ptime supported (ms).
pub const MAX_PTIME_MS: u32 = 30;
const MAX_FRAME: usize = (MAX_PTIME_MS * 8) as usize;

/// The G.711 payload of the RTP stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Payload {
    /// PCMU (payload type 0).
    Pcmu,
    /// PCMA (payload type 8).
    Pcma,
}

impl Payload {
    /// The RTP payload type number (RFC 3551).
    pub fn payload_type(self) -> u8 {
        match self {
            Payload::Pcmu => 0,
            Payload::Pcma => 8,
        }
    }
}

// The RTP payload is companded by the crate's bit-exact G.711.
pub(crate) use crate::g711::{alaw_decode, alaw_encode, ulaw_decode, ulaw_encode};

/// An RTP packet of G.711 audio (header fields that matter here, and the payload).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpPacket {
    /// Sequence number.
    pub seq: u16,
    /// Timestamp in samples.
    pub timestamp: u32,
    /// Payload bytes in use (= samples per packet).
    pub len: u16,
    /// The G.711 bytes.
    pub data: [u8; MAX_FRAME],
}

impl RtpPacket {
    /// The 12-byte RTP header plus payload, as it goes on the wire (SSRC `ssrc`).
    pub fn to_bytes(&self, pt: Payload, ssrc: u32, out: &mut Vec<u8>) {
        out.push(0x80);
        out.push(pt.payload_type());
        out.extend_from_slice(&self.seq.to_be_bytes());
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        out.extend_from_slice(&ssrc.to_be_bytes());
        out.extend_from_slice(&self.data[..self.len as usize]);
    }
}

/// A packet as it left its sender, for a capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetPacket {
    /// Sample time (the stage's own clock, which starts with the stream) at which it left.
    pub sent_at: u64,
    /// The UDP payload (an RTP header and its payload).
    pub bytes: Vec<u8>,
}

/// Packet loss models.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LossModel {
    /// No loss.
    None,
    /// Independent loss with probability `p`.
    Bernoulli {
        /// Loss probability per packet.
        p: f64,
    },
    /// Two-state Gilbert-Elliott bursts: state good→bad with `p`, bad→good with `r`; a
    /// packet is lost with `loss_good` in the good state and `loss_bad` in the bad one.
    /// Mean loss p/(p+r)·loss_bad (+ the good part); mean burst length 1/r when
    /// loss_bad = 1 and loss_good = 0.
    GilbertElliott {
        /// P(good → bad) per packet.
        p: f64,
        /// P(bad → good) per packet.
        r: f64,
        /// Loss probability in the good state.
        loss_good: f64,
        /// Loss probability in the bad state.
        loss_bad: f64,
    },
}

/// Jitter (extra one-way delay per packet) distributions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum JitterModel {
    /// Constant delay.
    None,
    /// Uniform in [0, max_ms].
    Uniform {
        /// Largest extra delay.
        max_ms: f64,
    },
    /// |N(0, sigma)|: mostly small, sometimes large.
    HalfNormal {
        /// Standard deviation of the underlying normal.
        sigma_ms: f64,
    },
    /// Exponential with mean `mean_ms`: the queueing-delay shape of a busy router.
    Exponential {
        /// Mean extra delay.
        mean_ms: f64,
    },
}

/// The network between the two gateways.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NetworkConfig {
    /// Fixed one-way delay (ms).
    pub delay_ms: f64,
    /// Jitter on top of it.
    pub jitter: JitterModel,
    /// Packet loss.
    pub loss: LossModel,
    /// Probability that a packet is held back an extra `reorder_ms` (overtaken by others).
    pub reorder: f64,
    /// Extra delay of a reordered packet (ms).
    pub reorder_ms: f64,
    /// Probability that a packet is delivered twice (second copy 1 ms later).
    pub duplicate: f64,
}

impl NetworkConfig {
    /// A loss-free, jitter-free network with a fixed delay.
    pub fn clean(delay_ms: f64) -> Self {
        NetworkConfig {
            delay_ms,
            jitter: JitterModel::None,
            loss: LossModel::None,
            reorder: 0.0,
            reorder_ms: 0.0,
            duplicate: 0.0,
        }
    }

    /// Impairment levels A (best) to H (worst), after the ranges of ITU-T G.1050 /
    /// TIA-921 network models: one-way delay, exponential jitter, Gilbert-Elliott bursty
    /// loss, and a little reordering at the worse levels. The figures are representative
    /// values of those ranges, not the recommendation's full multi-segment model.
    pub fn g1050(level: char) -> Option<Self> {
        // (delay ms, mean jitter ms, mean loss %, mean burst length, reorder %)
        let (delay, jitter, loss, burst, reorder) = match level.to_ascii_uppercase() {
            'A' => (20.0, 0.5, 0.0, 1.0, 0.0),
            'B' => (40.0, 1.0, 0.05, 1.0, 0.0),
            'C' => (60.0, 3.0, 0.2, 1.5, 0.0),
            'D' => (90.0, 5.0, 0.5, 2.0, 0.01),
            'E' => (120.0, 10.0, 1.0, 2.0, 0.05),
            'F' => (160.0, 20.0, 2.0, 3.0, 0.1),
            'G' => (220.0, 35.0, 3.0, 3.0, 0.5),
            'H' => (300.0, 50.0, 5.0, 4.0, 1.0),
            _ => return None,
        };
        let loss = if loss == 0.0 {
            LossModel::None
        } else {
            // Mean loss m with burst length b: r = 1/b, p = m r / (1 - m).
            let m = loss / 100.0;
            let r = 1.0 / burst;
            LossModel::GilbertElliott {
                p: m * r / (1.0 - m),
                r,
                loss_good: 0.0,
                loss_bad: 1.0,
            }
        };
        Some(NetworkConfig {
            delay_ms: delay,
            jitter: JitterModel::Exponential { mean_ms: jitter },
            loss,
            reorder: reorder / 100.0,
            reorder_ms: 25.0,
            duplicate: 0.0,
        })
    }
}

/// A seeded network: decides each packet's fate.
#[derive(Debug, Clone)]
pub struct Network {
    cfg: NetworkConfig,
    rng: Rng,
    bad: bool,
    last_arrival: f64,
}

impl Network {
    /// A network with `cfg` and its own `seed`.
    pub fn new(cfg: NetworkConfig, seed: u64) -> Self {
        Network {
            cfg,
            rng: Rng::new(seed),
            bad: false,
            last_arrival: f64::MIN,
        }
    }

    /// Whether the next packet is lost (advances the loss model one packet).
    pub fn lose(&mut self) -> bool {
        match self.cfg.loss {
            LossModel::None => false,
            LossModel::Bernoulli { p } => self.rng.chance(p),
            LossModel::GilbertElliott {
                p,
                r,
                loss_good,
                loss_bad,
            } => {
                self.bad = if self.bad {
                    !self.rng.chance(r)
                } else {
                    self.rng.chance(p)
                };
                self.rng.chance(if self.bad { loss_bad } else { loss_good })
            }
        }
    }

    /// The jitter of the next packet (ms, ≥ 0).
    pub fn jitter_ms(&mut self) -> f64 {
        match self.cfg.jitter {
            JitterModel::None => 0.0,
            JitterModel::Uniform { max_ms } => max_ms * self.rng.uniform(),
            JitterModel::HalfNormal { sigma_ms } => (sigma_ms * self.rng.gaussian()).abs(),
            JitterModel::Exponential { mean_ms } => -mean_ms * (1.0 - self.rng.uniform()).ln(),
        }
    }

    /// The fate of a packet sent at `sent_ms`: arrival times of up to two copies.
    ///
    /// Jitter is queueing delay, and queues are first in, first out: a packet never
    /// arrives before one sent earlier, except when the reordering draw holds it back
    /// (a packet taking another route), which lets later packets overtake it.
    pub fn send(&mut self, sent_ms: f64) -> [Option<f64>; 2] {
        let lost = self.lose();
        let mut t = sent_ms + self.cfg.delay_ms + self.jitter_ms();
        if self.rng.chance(self.cfg.reorder) {
            t += self.cfg.reorder_ms;
        } else {
            t = t.max(self.last_arrival);
            if !lost {
                self.last_arrival = t;
            }
        }
        let dup = self.rng.chance(self.cfg.duplicate);
        if lost {
            [None, None]
        } else {
            [Some(t), dup.then_some(t + 1.0)]
        }
    }
}

/// Jitter buffer policy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum JitterMode {
    /// Playout a fixed delay after the first packet's arrival.
    Fixed {
        /// Buffer delay (ms).
        delay_ms: f64,
    },
    /// Starts at `min_ms`; grows by one frame at each late packet (up to `max_ms`) and
    /// shrinks by one frame after 10 s in which the buffer always held a frame to spare.
    Adaptive {
        /// Lowest and starting delay (ms).
        min_ms: f64,
        /// Highest delay (ms).
        max_ms: f64,
    },
    /// A voice gateway's adaptive buffer driven by a jitter estimate: the RFC 3550
    /// interarrival jitter and the 95th percentile of the transit delays of the last second
    /// of packets set a target delay between `min_ms` and `max_ms`. A late packet grows the
    /// buffer at once (fast attack); a higher target grows it at the next silent or missing
    /// frame; a target one frame lower for two seconds shrinks it by one frame at the next
    /// silent frame (slow decay). Voice buffers re-size in silences, between talkspurts; a
    /// fax page has none, so every late packet mid-page re-sizes the buffer there and slips
    /// the modem signal by a frame.
    Tracking {
        /// Lowest and starting delay (ms).
        min_ms: f64,
        /// Highest delay (ms).
        max_ms: f64,
    },
}

/// Packet loss concealment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Plc {
    /// Silence in place of a missing frame.
    Silence,
    /// The last good frame again.
    Repeat,
    /// Waveform substitution: the last pitch period repeated, fading out after 10 ms
    /// (in the manner of G.711 Appendix I).
    WaveformSubstitution,
}

/// Counts kept by the receive side.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VoipStats {
    /// Packets sent.
    pub sent: u64,
    /// Packets the network dropped.
    pub lost_in_network: u64,
    /// Extra copies the network delivered.
    pub duplicated: u64,
    /// Packets that arrived after their playout time (discarded: the late-packet rule).
    pub late: u64,
    /// Duplicate arrivals discarded by the buffer.
    pub discarded_duplicates: u64,
    /// Frames played from packets.
    pub played: u64,
    /// Frames concealed (missing at playout time).
    pub concealed: u64,
    /// Frames inserted by the adaptive buffer to grow its delay.
    pub stretched: u64,
    /// Frames dropped by the adaptive buffer to shrink its delay.
    pub shrunk: u64,
}

const RING: usize = 256;

/// What the buffer gives at a frame's playout time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Playout {
    /// Playout has not started (no packet yet).
    NotStarted,
    /// The frame of this packet.
    Frame(u16),
    /// The frame is missing: conceal.
    Missing,
    /// The adaptive buffer inserts a frame to grow its delay: conceal.
    Stretch,
}

/// A jitter buffer indexed by sequence number, with the late-packet rule: a packet that
/// arrives after its frame was played (or concealed) is discarded and counted late.
#[derive(Debug, Clone)]
pub struct JitterBuffer {
    mode: JitterMode,
    frame_samples: u64,
    slots: Vec<Option<RtpPacket>>,
    /// Next sequence number to play.
    next: Option<u16>,
    /// Sample time of the first arrival.
    started: Option<u64>,
    delay_frames: u64,
    min_frames: u64,
    max_frames: u64,
    spare_run: u64,
    grow_pending: bool,
    /// The estimator of [`JitterMode::Tracking`].
    est: Estimator,
    /// The payload law, to tell silent frames (where a tracking buffer re-sizes).
    payload: Option<Payload>,
    /// What happened so far.
    pub stats: VoipStats,
}

/// Transit delays seen by a tracking buffer.
#[derive(Debug, Clone, Default)]
struct Estimator {
    /// RFC 3550 interarrival jitter (samples).
    jitter: f64,
    last_transit: Option<i64>,
    /// Transit delays (arrival less RTP timestamp, samples) of the last second of packets.
    window: std::collections::VecDeque<i64>,
    /// Pull calls since playout started (the playout clock, in frames).
    pulls: u64,
    /// Frames to grow at the next silent or missing frame.
    grow_soft: u64,
    /// Frames to grow at the next pull (a late packet).
    grow_hard: u64,
    /// A frame to drop at the next silent frame.
    shrink: bool,
    /// Consecutive arrivals with the buffer a frame deeper than its target.
    above_run: u64,
    /// The current target delay (samples above the fastest recent transit).
    target: f64,
}

/// Quantile `q` (0..1) of `v` (nearest rank).
fn quantile(v: &std::collections::VecDeque<i64>, q: f64) -> i64 {
    let mut s: Vec<i64> = v.iter().copied().collect();
    s.sort_unstable();
    let k = ((q * s.len() as f64).ceil() as usize).clamp(1, s.len());
    s[k - 1]
}

fn seq_diff(a: u16, b: u16) -> i32 {
    a.wrapping_sub(b) as i16 as i32
}

impl JitterBuffer {
    /// A buffer for frames of `frame_samples` samples.
    pub fn new(mode: JitterMode, frame_samples: usize) -> Self {
        let frame_ms = frame_samples as f64 / 8.0;
        let (min, max) = match mode {
            JitterMode::Fixed { delay_ms } => (delay_ms, delay_ms),
            JitterMode::Adaptive { min_ms, max_ms } | JitterMode::Tracking { min_ms, max_ms } => {
                (min_ms, max_ms)
            }
        };
        let to_frames = |ms: f64| (ms / frame_ms).ceil().max(0.0) as u64;
        JitterBuffer {
            mode,
            frame_samples: frame_samples as u64,
            slots: vec![None; RING],
            next: None,
            started: None,
            delay_frames: to_frames(min),
            min_frames: to_frames(min),
            max_frames: to_frames(max).max(to_frames(min)),
            spare_run: 0,
            grow_pending: false,
            est: Estimator::default(),
            payload: None,
            stats: VoipStats::default(),
        }
    }

    /// The same buffer told its payload law, so that a tracking buffer can find the silent
    /// frames where it re-sizes (without it, only missing frames count as silent).
    pub fn with_payload(mut self, payload: Payload) -> Self {
        self.payload = Some(payload);
        self
    }

    /// The RFC 3550 interarrival jitter estimate (ms; tracking buffers only, else 0).
    pub fn jitter_estimate_ms(&self) -> f64 {
        self.est.jitter / 8.0
    }

    /// The tracking buffer's current target delay (ms above the fastest recent packet).
    pub fn target_delay_ms(&self) -> f64 {
        self.est.target / 8.0
    }

    /// The current buffer delay in ms.
    pub fn delay_ms(&self) -> f64 {
        (self.delay_frames * self.frame_samples) as f64 / 8.0
    }

    /// Tracking: updates the estimate with a packet arriving at `now` and decides whether
    /// the buffer must grow or may shrink. `late` says the packet missed its playout.
    fn track(&mut self, pkt: &RtpPacket, now: u64, late: bool) {
        let Some(start) = self.playout_start() else {
            return;
        };
        let f = self.frame_samples as f64;
        let transit = now as i64 - i64::from(pkt.timestamp);
        let e = &mut self.est;
        // RFC 3550 section 6.4.1: J += (|D(i-1, i)| - J) / 16.
        if let Some(prev) = e.last_transit {
            e.jitter += ((transit - prev).abs() as f64 - e.jitter) / 16.0;
        }
        e.last_transit = Some(transit);
        e.window.push_back(transit);
        let second = (8000 / self.frame_samples).max(1) as usize;
        while e.window.len() > second {
            e.window.pop_front();
        }
        let base = *e.window.iter().min().unwrap_or(&transit);
        // Target: the spread of the slow tail over the fastest packet, plus a margin of
        // twice the running jitter (at least 1 ms).
        let spread = (quantile(&e.window, 0.95) - base) as f64;
        let target = (spread + (2.0 * e.jitter).max(8.0))
            .clamp(self.min_frames as f64 * f, self.max_frames as f64 * f);
        e.target = target;
        // The buffer's delay over the fastest packet: its playout time less its timestamp,
        // less the fastest transit.
        let next = self.next.unwrap_or(pkt.seq);
        let playout = start as i64
            + (e.pulls as i64 + seq_diff(pkt.seq, next) as i64) * self.frame_samples as i64;
        let current = (playout - i64::from(pkt.timestamp) - base) as f64
            + (e.grow_soft + e.grow_hard) as f64 * f;
        let room = self
            .max_frames
            .saturating_sub(self.delay_frames + e.grow_soft + e.grow_hard);
        if late && room > 0 {
            e.grow_hard += 1;
            e.above_run = 0;
        } else if target > current && room > 0 {
            e.grow_soft = (e.grow_soft + ((target - current) / f).ceil() as u64)
                .min(self.max_frames - self.delay_frames - e.grow_hard);
            e.above_run = 0;
        } else if current - target >= f && self.delay_frames > self.min_frames {
            e.above_run += 1;
            if e.above_run >= 2 * second as u64 {
                e.shrink = true;
                e.above_run = 0;
            }
        } else {
            e.above_run = 0;
        }
    }

    /// Whether the frame of `seq` is held and silent (below about -50 dBm0).
    fn silent(&self, seq: u16) -> Option<bool> {
        let p = self.slots[seq as usize % RING].filter(|p| p.seq == seq)?;
        let law = self.payload?;
        Some(p.data[..p.len as usize].iter().all(|&b| {
            let x = match law {
                Payload::Pcmu => ulaw_decode(b),
                Payload::Pcma => alaw_decode(b),
            };
            x.unsigned_abs() < 100
        }))
    }

    /// Tracking: the next pull's re-sizing, if any.
    fn tracking_pull(&mut self, next: u16) -> Option<(Playout, Option<RtpPacket>)> {
        let silent = self.silent(next);
        let e = &mut self.est;
        if e.grow_hard > 0 || (e.grow_soft > 0 && silent != Some(false)) {
            if e.grow_hard > 0 {
                e.grow_hard -= 1;
            } else {
                e.grow_soft -= 1;
            }
            self.delay_frames += 1;
            self.stats.stretched += 1;
            return Some((Playout::Stretch, None));
        }
        if e.shrink && silent == Some(true) && self.delay_frames > self.min_frames {
            e.shrink = false;
            self.delay_frames -= 1;
            self.stats.shrunk += 1;
            self.slots[next as usize % RING] = None;
            self.next = Some(next.wrapping_add(1));
            return Some(self.pull_frame(next.wrapping_add(1)));
        }
        None
    }

    /// The current buffer delay in frames.
    pub fn delay_frames(&self) -> u64 {
        self.delay_frames
    }

    /// A packet arrives at sample time `now`.
    pub fn push(&mut self, pkt: &RtpPacket, now: u64) {
        if self.started.is_none() {
            self.started = Some(now);
            self.next = Some(pkt.seq);
        }
        let next = self.next.unwrap_or(pkt.seq);
        let d = seq_diff(pkt.seq, next);
        if matches!(self.mode, JitterMode::Tracking { .. }) {
            self.track(pkt, now, d < 0);
        }
        if d < 0 {
            self.stats.late += 1;
            if matches!(self.mode, JitterMode::Adaptive { .. })
                && self.delay_frames < self.max_frames
            {
                self.grow_pending = true;
            }
            return;
        }
        if d as usize >= RING {
            // Far ahead of playout: the buffer cannot hold it.
            self.stats.late += 1;
            return;
        }
        let slot = &mut self.slots[pkt.seq as usize % RING];
        if slot.is_some_and(|p| p.seq == pkt.seq) {
            self.stats.discarded_duplicates += 1;
        } else {
            *slot = Some(*pkt);
        }
    }

    /// The sample time at which playout of the first frame begins.
    pub fn playout_start(&self) -> Option<u64> {
        self.started
            .map(|t| t + self.min_frames * self.frame_samples)
    }

    /// The next frame to play, asked at a frame boundary of the playout clock.
    pub fn pull(&mut self) -> (Playout, Option<RtpPacket>) {
        let Some(next) = self.next else {
            return (Playout::NotStarted, None);
        };
        if let JitterMode::Tracking { .. } = self.mode {
            self.est.pulls += 1;
            if let Some(r) = self.tracking_pull(next) {
                return r;
            }
            return self.pull_frame(next);
        }
        if self.grow_pending {
            self.grow_pending = false;
            self.delay_frames += 1;
            self.stats.stretched += 1;
            return (Playout::Stretch, None);
        }
        if let JitterMode::Adaptive { .. } = self.mode {
            let spare = self.slots[next.wrapping_add(1) as usize % RING]
                .is_some_and(|p| p.seq == next.wrapping_add(1));
            self.spare_run = if spare { self.spare_run + 1 } else { 0 };
            let ten_seconds = 80_000 / self.frame_samples;
            if self.spare_run >= ten_seconds && self.delay_frames > self.min_frames {
                // Shrink: drop this frame, play the next.
                self.spare_run = 0;
                self.delay_frames -= 1;
                self.stats.shrunk += 1;
                self.slots[next as usize % RING] = None;
                self.next = Some(next.wrapping_add(1));
                return self.pull();
            }
        }
        self.pull_frame(next)
    }

    /// Plays the frame of `next` (or says it is missing).
    fn pull_frame(&mut self, next: u16) -> (Playout, Option<RtpPacket>) {
        self.next = Some(next.wrapping_add(1));
        let slot = self.slots[next as usize % RING].take();
        match slot {
            Some(p) if p.seq == next => {
                self.stats.played += 1;
                (Playout::Frame(next), Some(p))
            }
            _ => {
                self.stats.concealed += 1;
                (Playout::Missing, None)
            }
        }
    }
}

/// The whole VoIP path as an audio stage.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VoipConfig {
    /// G.711 law of the payload.
    pub payload: Payload,
    /// Packet time: 10, 20 or 30 ms.
    pub ptime_ms: u32,
    /// The network.
    pub network: NetworkConfig,
    /// The receiver's jitter buffer.
    pub jitter_buffer: JitterMode,
    /// The receiver's concealment.
    pub plc: Plc,
}

/// G.711 over RTP over a lossy, jittery network, to a jitter buffer with PLC.
#[derive(Debug, Clone)]
pub struct VoipPath {
    cfg: VoipConfig,
    frame: usize,
    network: Network,
    jb: JitterBuffer,
    now: u64,
    seq: u16,
    tx_buf: [i16; MAX_FRAME],
    tx_fill: usize,
    in_flight: Vec<(u64, RtpPacket)>,
    play_buf: [i16; MAX_FRAME],
    play_pos: usize,
    playing: bool,
    next_frame_at: u64,
    history: [i16; MAX_FRAME * 2],
    lost_run: u32,
    pitch: usize,
    sent: u64,
    lost: u64,
    duplicated: u64,
    ssrc: u32,
    capture: bool,
    captured: Vec<NetPacket>,
}

impl VoipPath {
    /// A path with `cfg`; `seed` drives the network.
    pub fn new(cfg: VoipConfig, seed: u64) -> Self {
        let ptime = cfg.ptime_ms.clamp(10, MAX_PTIME_MS) / 10 * 10;
        let frame = (ptime * 8) as usize;
        VoipPath {
            frame,
            network: Network::new(cfg.network, seed),
            jb: JitterBuffer::new(cfg.jitter_buffer, frame).with_payload(cfg.payload),
            cfg,
            now: 0,
            seq: 0,
            tx_buf: [0; MAX_FRAME],
            tx_fill: 0,
            in_flight: Vec::with_capacity(512),
            play_buf: [0; MAX_FRAME],
            play_pos: 0,
            playing: false,
            next_frame_at: 0,
            history: [0; MAX_FRAME * 2],
            lost_run: 0,
            pitch: 80,
            sent: 0,
            lost: 0,
            duplicated: 0,
            // A stream's SSRC is random (RFC 3550); here it comes from the seed.
            ssrc: (seed ^ (seed >> 32)) as u32,
            capture: false,
            captured: Vec::new(),
        }
    }

    /// The receiver's jitter buffer.
    pub fn jitter_buffer(&self) -> &JitterBuffer {
        &self.jb
    }

    /// Counts so far.
    pub fn stats(&self) -> VoipStats {
        VoipStats {
            sent: self.sent,
            lost_in_network: self.lost,
            duplicated: self.duplicated,
            ..self.jb.stats
        }
    }

    fn send_packet(&mut self) {
        let mut pkt = RtpPacket {
            seq: self.seq,
            timestamp: (self.sent * self.frame as u64) as u32,
            len: self.frame as u16,
            data: [0; MAX_FRAME],
        };
        for (d, &s) in pkt.data.iter_mut().zip(&self.tx_buf[..self.frame]) {
            *d = match self.cfg.payload {
                Payload::Pcmu => ulaw_encode(s),
                Payload::Pcma => alaw_encode(s),
            };
        }
        self.seq = self.seq.wrapping_add(1);
        self.sent += 1;
        if self.capture {
            let mut bytes = Vec::with_capacity(12 + self.frame);
            pkt.to_bytes(self.cfg.payload, self.ssrc, &mut bytes);
            self.captured.push(NetPacket {
                sent_at: self.now + 1,
                bytes,
            });
        }
        let sent_ms = self.now as f64 / 8.0;
        let fate = self.network.send(sent_ms);
        if fate[0].is_none() {
            self.lost += 1;
        }
        if fate[1].is_some() {
            self.duplicated += 1;
        }
        for t in fate.into_iter().flatten() {
            let at = (t * 8.0).round() as u64;
            // Keep in-flight packets ordered by arrival (stable for equal times).
            let idx = self.in_flight.partition_point(|(a, _)| *a <= at);
            self.in_flight.insert(idx, (at, pkt));
        }
    }

    fn decode_into_play(&mut self, pkt: &RtpPacket) {
        for (o, &b) in self.play_buf.iter_mut().zip(&pkt.data[..self.frame]) {
            *o = match self.cfg.payload {
                Payload::Pcmu => ulaw_decode(b),
                Payload::Pcma => alaw_decode(b),
            };
        }
    }

    fn conceal(&mut self) {
        let f = self.frame;
        let hist_len = self.history.len();
        match self.cfg.plc {
            Plc::Silence => self.play_buf[..f].fill(0),
            Plc::Repeat => {
                let (_, last) = self.history.split_at(hist_len - f);
                self.play_buf[..f].copy_from_slice(last);
            }
            Plc::WaveformSubstitution => {
                if self.lost_run == 0 {
                    self.pitch = estimate_pitch(&self.history);
                }
                let p = self.pitch;
                let start = hist_len - p;
                for i in 0..f {
                    let k = self.lost_run as usize * f + i;
                    // Full level for the first 10 ms, then 20 % less per 10 ms, silent at 60 ms.
                    let fade = if k < 80 {
                        1.0
                    } else {
                        (1.0 - 0.2 * ((k - 80) / 80 + 1) as f64).max(0.0)
                    };
                    let v = self.history[start + (k % p)] as f64 * fade;
                    self.play_buf[i] = v.round() as i16;
                }
            }
        }
        self.lost_run += 1;
    }

    fn next_frame(&mut self) {
        let (what, pkt) = self.jb.pull();
        match (what, pkt) {
            (Playout::Frame(_), Some(p)) => {
                self.decode_into_play(&p);
                self.lost_run = 0;
            }
            (Playout::NotStarted, _) => self.play_buf[..self.frame].fill(0),
            _ => self.conceal(),
        }
        // Keep the last played samples for concealment (waveform substitution keeps
        // the history of the real signal, so concealed frames are not fed back).
        if self.lost_run == 0 {
            let f = self.frame;
            self.history.copy_within(f.., 0);
            let n = self.history.len();
            self.history[n - f..].copy_from_slice(&self.play_buf[..f]);
        }
    }
}

/// The pitch period (40–200 samples) of the history's last 20 ms by autocorrelation.
fn estimate_pitch(h: &[i16]) -> usize {
    let n = h.len();
    let win = 160.min(n / 2);
    let tail = &h[n - win..];
    let mut best = (f64::MIN, 80usize);
    for lag in 40..=200.min(n - win) {
        let past = &h[n - win - lag..n - lag];
        let c: f64 = tail
            .iter()
            .zip(past)
            .map(|(&a, &b)| a as f64 * b as f64)
            .sum();
        let e: f64 = past
            .iter()
            .map(|&b| (b as f64).powi(2))
            .sum::<f64>()
            .max(1.0);
        let score = c / e.sqrt();
        if score > best.0 {
            best = (score, lag);
        }
    }
    best.1
}

impl AudioStage for VoipPath {
    fn process(&mut self, input: &[i16], out: &mut Vec<i16>) {
        for &x in input {
            // Transmit side.
            self.tx_buf[self.tx_fill] = x;
            self.tx_fill += 1;
            if self.tx_fill == self.frame {
                self.tx_fill = 0;
                self.send_packet();
            }
            // Arrivals due by now.
            let due = self.in_flight.partition_point(|(a, _)| *a <= self.now);
            for i in 0..due {
                let (_, p) = self.in_flight[i];
                self.jb.push(&p, self.now);
            }
            self.in_flight.drain(..due);
            // Playout clock.
            if !self.playing
                && let Some(start) = self.jb.playout_start()
                && self.now >= start
            {
                self.playing = true;
                self.next_frame_at = self.now;
            }
            if self.playing {
                if self.now == self.next_frame_at {
                    self.next_frame();
                    self.play_pos = 0;
                    self.next_frame_at += self.frame as u64;
                }
                out.push(self.play_buf[self.play_pos]);
                self.play_pos += 1;
            } else {
                out.push(0);
            }
            self.now += 1;
        }
    }

    fn capture_packets(&mut self, on: bool) {
        self.capture = on;
        if !on {
            self.captured.clear();
        }
    }

    fn take_packets(&mut self, out: &mut Vec<NetPacket>) {
        out.append(&mut self.captured);
    }

    fn report(&self, out: &mut Vec<String>) {
        let s = self.stats();
        // Only the tracking buffer estimates jitter.
        let jitter = match self.cfg.jitter_buffer {
            JitterMode::Tracking { .. } => {
                format!(" jitter={:.1}ms", self.jb.jitter_estimate_ms())
            }
            _ => String::new(),
        };
        out.push(format!(
            "rtp sent={} lost={} late={} concealed={} jitter-buffer stretched={} shrunk={} delay={:.0}ms{jitter}",
            s.sent,
            s.lost_in_network,
            s.late,
            s.concealed,
            s.stretched,
            s.shrunk,
            self.jb.delay_ms(),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_capturing_path_keeps_each_rtp_packet_as_sent() {
        let cfg = VoipConfig {
            payload: Payload::Pcma,
            ptime_ms: 20,
            network: NetworkConfig::clean(30.0),
            jitter_buffer: JitterMode::Fixed { delay_ms: 40.0 },
            plc: Plc::Silence,
        };
        let input: Vec<i16> = (0..1600).map(|i| ((i % 50) * 300 - 7500) as i16).collect();
        let mut quiet = VoipPath::new(cfg, 9);
        let mut out = Vec::new();
        quiet.process(&input, &mut out);
        let mut got = Vec::new();
        quiet.take_packets(&mut got);
        assert!(got.is_empty(), "nothing is kept unless asked");

        let mut path = VoipPath::new(cfg, 9);
        path.capture_packets(true);
        let mut out2 = Vec::new();
        path.process(&input, &mut out2);
        assert_eq!(out, out2, "capturing does not change the audio");
        path.take_packets(&mut got);
        assert_eq!(got.len(), 10);
        for (k, p) in got.iter().enumerate() {
            assert_eq!(p.sent_at, 160 * (k as u64 + 1));
            assert_eq!(p.bytes.len(), 12 + 160);
            assert_eq!(p.bytes[..2], [0x80, 8]);
            assert_eq!(u16::from_be_bytes([p.bytes[2], p.bytes[3]]), k as u16);
            let ts = u32::from_be_bytes([p.bytes[4], p.bytes[5], p.bytes[6], p.bytes[7]]);
            assert_eq!(ts, 160 * k as u32);
            assert_eq!(p.bytes[12], alaw_encode(input[160 * k]));
        }
        assert_eq!(got[0].bytes[8..12], got[9].bytes[8..12], "one SSRC");
        let mut again = Vec::new();
        path.take_packets(&mut again);
        assert!(again.is_empty(), "taken packets are gone");
    }

    #[test]
    fn g711_helpers_round_trip_within_a_step() {
        for x in (-32768i32..32768).step_by(7) {
            let x = x as i16;
            let u = ulaw_decode(ulaw_encode(x)) as i32;
            let a = alaw_decode(alaw_encode(x)) as i32;
            let tol = (x as i32).abs() / 16 + 16;
            assert!((u - x as i32).abs() <= tol, "µ {x} -> {u}");
            assert!((a - x as i32).abs() <= tol.max(33), "A {x} -> {a}");
        }
        assert_eq!(ulaw_encode(0), 0xFF);
        assert_eq!(alaw_encode(0), 0xD5);
    }
}
