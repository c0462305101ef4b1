//! Chains: the stages of one direction of a call, built in code or from TOML, with named
//! presets.
//!
//! A [`ChainSpec`] is data (serde, TOML): a list of [`StageSpec`]s and, for T.38 paths, a
//! [`T38Spec`]. [`Chain::build`] turns it into running stages, each with its own seed
//! derived from the master seed and the stage's position and kind, so adding a stage does
//! not change the random streams of the others.
//!
//! ```
//! use channel_models::{AudioStage, chain::{Chain, ChainSpec}};
//! let spec = ChainSpec::preset("pstn-typical").unwrap();
//! let mut chain = Chain::build(&spec, 42).unwrap();
//! let mut out = Vec::new();
//! chain.process(&[0i16; 160], &mut out);
//! assert_eq!(out.len(), 160);
//! ```

use serde::{Deserialize, Serialize};

use crate::AudioStage;
use crate::echo::HybridEcho;
use crate::filter::{LineFilter, LinePreset};
use crate::g726::{G726, G726Rate};
use crate::g729::{G729, G729Error};
use crate::impair::{ClockSlip, DcOffset, Delay, Gain, Hum, PhaseJitter, SlipKind};
use crate::line::{Awgn, ClockDrift, FrequencyShift};
use crate::packet::{
    JitterMode, JitterModel, LossModel, NetworkConfig, Payload, Plc, VoipConfig, VoipPath,
};
use crate::rng::derive_seed;
use crate::t38::ErrorRecovery;
use crate::vad::{Vad, VadConfig};

/// Companding law.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Law {
    /// A-law.
    Alaw,
    /// µ-law.
    Ulaw,
}

impl From<Law> for crate::g711::Law {
    fn from(law: Law) -> Self {
        match law {
            Law::Alaw => crate::g711::Law::ALaw,
            Law::Ulaw => crate::g711::Law::MuLaw,
        }
    }
}

/// A network, by G.1050-style preset letter or in full.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum NetworkSpec {
    /// A preset "A".."H".
    Preset {
        /// The impairment level letter.
        g1050: char,
    },
    /// Every parameter.
    Custom {
        /// One-way delay (ms).
        delay_ms: f64,
        /// Mean of exponential jitter (ms).
        #[serde(default)]
        jitter_ms: f64,
        /// Mean loss (0..1).
        #[serde(default)]
        loss: f64,
        /// Mean loss burst length in packets (1 = independent losses).
        #[serde(default = "one")]
        burst: f64,
        /// Probability of reordering.
        #[serde(default)]
        reorder: f64,
        /// Probability of duplication.
        #[serde(default)]
        duplicate: f64,
    },
}

fn one() -> f64 {
    1.0
}

impl NetworkSpec {
    /// The network configuration.
    pub fn config(&self) -> Result<NetworkConfig, ChainError> {
        match *self {
            NetworkSpec::Preset { g1050 } => NetworkConfig::g1050(g1050).ok_or(
                ChainError::Invalid(format!("unknown G.1050 level {g1050:?} (A..H)")),
            ),
            NetworkSpec::Custom {
                delay_ms,
                jitter_ms,
                loss,
                burst,
                reorder,
                duplicate,
            } => {
                if !(0.0..1.0).contains(&loss) || burst < 1.0 {
                    return Err(ChainError::Invalid(format!(
                        "network loss {loss} must be in [0, 1) and burst {burst} >= 1"
                    )));
                }
                let loss = if loss == 0.0 {
                    LossModel::None
                } else if burst == 1.0 {
                    LossModel::Bernoulli { p: loss }
                } else {
                    let r = 1.0 / burst;
                    LossModel::GilbertElliott {
                        p: loss * r / (1.0 - loss),
                        r,
                        loss_good: 0.0,
                        loss_bad: 1.0,
                    }
                };
                Ok(NetworkConfig {
                    delay_ms,
                    jitter: if jitter_ms > 0.0 {
                        JitterModel::Exponential { mean_ms: jitter_ms }
                    } else {
                        JitterModel::None
                    },
                    loss,
                    reorder,
                    reorder_ms: 25.0,
                    duplicate,
                })
            }
        }
    }
}

/// Jitter buffer in a chain.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "kebab-case", deny_unknown_fields)]
pub enum JitterSpec {
    /// Fixed delay.
    Fixed {
        /// Delay (ms).
        delay_ms: f64,
    },
    /// Adaptive between two delays, growing on late packets only.
    Adaptive {
        /// Lowest delay (ms).
        min_ms: f64,
        /// Highest delay (ms).
        max_ms: f64,
    },
    /// Adaptive with a jitter estimator (RFC 3550 jitter and a delay percentile), re-sizing
    /// in silences as voice gateways do (see [`JitterMode::Tracking`]).
    Tracking {
        /// Lowest and starting delay (ms).
        min_ms: f64,
        /// Highest delay (ms).
        max_ms: f64,
    },
}

/// Concealment in a chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlcSpec {
    /// Silence.
    Silence,
    /// Repeat the last frame.
    Repeat,
    /// Pitch-period waveform substitution.
    WaveformSubstitution,
}

/// One stage of a chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum StageSpec {
    /// Level change (dB; negative is loss).
    Gain {
        /// Gain in dB.
        db: f64,
    },
    /// White noise at a level.
    Noise {
        /// Noise level (dBm0).
        dbm0: f64,
    },
    /// Frequency offset of an FDM carrier system.
    FrequencyShift {
        /// Offset (Hz).
        hz: f64,
    },
    /// Sample-clock drift.
    ClockDrift {
        /// Drift (ppm).
        ppm: f64,
    },
    /// A sample dropped (or repeated when `insert`) every `every` samples.
    ClockSlip {
        /// Interval in samples.
        every: u64,
        /// Repeat instead of drop.
        #[serde(default)]
        insert: bool,
    },
    /// A line filter preset (`telephone-band`, `m1020-limit`, `long-haul`).
    LineFilter {
        /// Preset name.
        preset: String,
    },
    /// Mains hum.
    Hum {
        /// Mains frequency (50 or 60 Hz).
        hz: f64,
        /// Fundamental level (dBm0).
        dbm0: f64,
        /// Number of harmonics.
        #[serde(default)]
        harmonics: usize,
    },
    /// DC offset (sample units).
    Dc {
        /// Offset.
        offset: f64,
    },
    /// Phase jitter.
    PhaseJitter {
        /// Degrees peak-to-peak.
        degrees_pp: f64,
        /// Jitter frequency (Hz).
        hz: f64,
    },
    /// A pure transmission delay.
    Delay {
        /// Delay (ms).
        ms: f64,
    },
    /// Listener echo from a hybrid.
    Echo {
        /// Echo delay (ms).
        delay_ms: f64,
        /// Echo return loss (dB).
        erl_db: f64,
    },
    /// G.711 encode/decode.
    G711 {
        /// Law.
        law: Law,
    },
    /// µ-law with robbed-bit signalling: a T1 trunk steals the least significant bit of
    /// every sixth sample for A/B signalling.
    UlawRobbedBit,
    /// G.726 ADPCM.
    G726 {
        /// 16, 24, 32 or 40.
        kbps: u32,
    },
    /// G.729A through bcg729.
    G729,
    /// VAD with comfort noise.
    Vad {
        /// Threshold (dBm0).
        threshold_dbm0: f64,
        /// Hangover (ms).
        hangover_ms: u32,
    },
    /// G.711 over RTP across a network to a jitter buffer with PLC.
    Voip {
        /// Payload law.
        law: Law,
        /// Packet time (10, 20, 30 ms).
        ptime_ms: u32,
        /// The network.
        network: NetworkSpec,
        /// The jitter buffer.
        jitter_buffer: JitterSpec,
        /// Concealment.
        plc: PlcSpec,
    },
}

impl StageSpec {
    /// The stage's kind, as in TOML (`type`).
    pub fn kind(&self) -> &'static str {
        match self {
            StageSpec::Gain { .. } => "gain",
            StageSpec::Noise { .. } => "noise",
            StageSpec::FrequencyShift { .. } => "frequency-shift",
            StageSpec::ClockDrift { .. } => "clock-drift",
            StageSpec::ClockSlip { .. } => "clock-slip",
            StageSpec::LineFilter { .. } => "line-filter",
            StageSpec::Hum { .. } => "hum",
            StageSpec::Dc { .. } => "dc",
            StageSpec::PhaseJitter { .. } => "phase-jitter",
            StageSpec::Delay { .. } => "delay",
            StageSpec::Echo { .. } => "echo",
            StageSpec::G711 { .. } => "g711",
            StageSpec::UlawRobbedBit => "ulaw-robbed-bit",
            StageSpec::G726 { .. } => "g726",
            StageSpec::G729 => "g729",
            StageSpec::Vad { .. } => "vad",
            StageSpec::Voip { .. } => "voip",
        }
    }

    fn build(&self, seed: u64) -> Result<Box<dyn AudioStage>, ChainError> {
        Ok(match self {
            StageSpec::Gain { db } => Box::new(Gain::new(*db)),
            StageSpec::Noise { dbm0 } => Box::new(Awgn::with_noise_dbm0(*dbm0, seed)),
            StageSpec::FrequencyShift { hz } => Box::new(FrequencyShift::new(*hz)),
            StageSpec::ClockDrift { ppm } => Box::new(ClockDrift::new(*ppm)),
            StageSpec::ClockSlip { every, insert } => Box::new(ClockSlip::new(
                *every,
                if *insert {
                    SlipKind::Insert
                } else {
                    SlipKind::Drop
                },
            )),
            StageSpec::LineFilter { preset } => Box::new(LineFilter::preset(
                LinePreset::from_name(preset).ok_or_else(|| {
                    ChainError::Invalid(format!("unknown line filter preset {preset:?}"))
                })?,
            )),
            StageSpec::Hum {
                hz,
                dbm0,
                harmonics,
            } => Box::new(Hum::new(*hz, *dbm0, *harmonics)),
            StageSpec::Dc { offset } => Box::new(DcOffset::new(*offset)),
            StageSpec::PhaseJitter { degrees_pp, hz } => {
                Box::new(PhaseJitter::new(*degrees_pp, *hz))
            }
            StageSpec::Delay { ms } => {
                if !(0.0..=2000.0).contains(ms) {
                    return Err(ChainError::Invalid(format!("delay {ms} ms (0 to 2000)")));
                }
                Box::new(Delay::new(*ms))
            }
            StageSpec::Echo { delay_ms, erl_db } => Box::new(HybridEcho::new(*delay_ms, *erl_db)),
            StageSpec::G711 { law } => Box::new(crate::g711::G711::new((*law).into())),
            StageSpec::UlawRobbedBit => Box::new(crate::g711::UlawRobbedBit::new()),
            StageSpec::G726 { kbps } => {
                Box::new(G726::new(G726Rate::from_bit_rate(kbps * 1000).ok_or_else(
                    || ChainError::Invalid(format!("G.726 has no {kbps} kbit/s rate")),
                )?))
            }
            StageSpec::G729 => Box::new(G729::new().map_err(ChainError::Unavailable)?),
            StageSpec::Vad {
                threshold_dbm0,
                hangover_ms,
            } => Box::new(Vad::new(
                VadConfig {
                    threshold_dbm0: *threshold_dbm0,
                    hangover_frames: hangover_ms / 10,
                    ..VadConfig::default()
                },
                seed,
            )),
            StageSpec::Voip {
                law,
                ptime_ms,
                network,
                jitter_buffer,
                plc,
            } => {
                if ![10, 20, 30].contains(ptime_ms) {
                    return Err(ChainError::Invalid(format!(
                        "ptime {ptime_ms} ms (10, 20 or 30)"
                    )));
                }
                Box::new(VoipPath::new(
                    VoipConfig {
                        payload: match law {
                            Law::Alaw => Payload::Pcma,
                            Law::Ulaw => Payload::Pcmu,
                        },
                        ptime_ms: *ptime_ms,
                        network: network.config()?,
                        jitter_buffer: match *jitter_buffer {
                            JitterSpec::Fixed { delay_ms } => JitterMode::Fixed { delay_ms },
                            JitterSpec::Adaptive { min_ms, max_ms } => {
                                JitterMode::Adaptive { min_ms, max_ms }
                            }
                            JitterSpec::Tracking { min_ms, max_ms } => {
                                JitterMode::Tracking { min_ms, max_ms }
                            }
                        },
                        plc: match plc {
                            PlcSpec::Silence => Plc::Silence,
                            PlcSpec::Repeat => Plc::Repeat,
                            PlcSpec::WaveformSubstitution => Plc::WaveformSubstitution,
                        },
                    },
                    seed,
                ))
            }
        })
    }
}

/// G.711 companding there and back (a private helper until the crate's G.711 stage lands).
/// A T.38 leg instead of audio: how UDPTL is protected and the network it crosses.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct T38Spec {
    /// T.38 version (0–3).
    pub version: u8,
    /// Secondary IFPs per packet (0 with `fec_entries` > 0 means FEC instead).
    pub redundancy: usize,
    /// FEC entries per packet (0: redundancy).
    #[serde(default)]
    pub fec_entries: usize,
    /// FEC span.
    #[serde(default)]
    pub fec_span: usize,
    /// The network the UDPTL packets cross.
    pub network: NetworkSpec,
    /// How long the receiving gateway waits for a missing packet before playing on (ms);
    /// a packet arriving after that is late, counted and dropped. 0: never waits.
    #[serde(default)]
    pub playout_ms: u32,
}

impl T38Spec {
    /// The sender's error recovery.
    pub fn error_recovery(&self) -> ErrorRecovery {
        if self.fec_entries > 0 {
            ErrorRecovery::Fec {
                entries: self.fec_entries,
                span: self.fec_span.max(1),
            }
        } else {
            ErrorRecovery::Redundancy(self.redundancy)
        }
    }
}

/// One direction of a path, as data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ChainSpec {
    /// A name for reports.
    #[serde(default)]
    pub name: String,
    /// What it stands for.
    #[serde(default)]
    pub description: String,
    /// Audio stages, in signal order.
    #[serde(default)]
    pub stages: Vec<StageSpec>,
    /// For a T.38 path: the UDPTL leg (the simulator runs the T.38 terminals over it).
    #[serde(default)]
    pub t38: Option<T38Spec>,
    /// The hybrid at this direction's receiving end: it reflects what arrives there back into
    /// the opposite direction, so this direction's sender hears its own signal (talker
    /// echo) after both directions' delays. Built by the call runner, which sees both
    /// directions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub far_end_echo: Option<FarEndEcho>,
}

/// A hybrid's echo and the echo control in front of it (see [`ChainSpec::far_end_echo`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FarEndEcho {
    /// Echo path delay at the hybrid (ms; the long part of the echo delay is the route's
    /// own `delay` stages).
    #[serde(default)]
    pub delay_ms: f64,
    /// Echo return loss (dB).
    pub erl_db: f64,
    /// The echo canceller at that end.
    #[serde(default)]
    pub canceller: CancellerMode,
    /// The canceller's tail (ms).
    #[serde(default = "default_tail_ms")]
    pub tail_ms: f64,
}

fn default_tail_ms() -> f64 {
    32.0
}

/// Echo control at a hybrid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CancellerMode {
    /// No canceller: the echo goes back to the talker.
    #[default]
    None,
    /// A G.168 canceller that a 2100 Hz tone with phase reversals disables.
    On,
    /// A canceller that stays enabled whatever it hears (a misconfigured gateway).
    AlwaysOn,
}

/// Errors building a chain.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ChainError {
    /// A parameter out of range or an unknown name.
    #[error("invalid chain: {0}")]
    Invalid(String),
    /// A stage needs a system library that is missing.
    #[error("{0}")]
    Unavailable(G729Error),
    /// The TOML does not parse.
    #[error("chain TOML: {0}")]
    Toml(String),
}

/// Every preset name.
pub const PRESETS: &[&str] = &[
    "clean",
    "g711-alaw",
    "g711-ulaw",
    "pstn-typical",
    "pstn-long-haul",
    "voip-g711-good",
    "voip-g711-lossy",
    "voip-g729",
    "t38-redundancy-3",
    "pstn-echo-satellite",
    "pstn-echo-cancelled",
    "pstn-echo-canceller-always-on",
    "ata-fax-t38",
    "ata-fax-g711",
    "ata-voice-default",
    "sip-trunk-alaw",
    "sip-trunk-g729",
    "g1050-A",
    "g1050-B",
    "g1050-C",
    "g1050-D",
    "g1050-E",
    "g1050-F",
    "g1050-G",
    "g1050-H",
];

impl ChainSpec {
    /// Reads a chain from TOML.
    pub fn from_toml(text: &str) -> Result<Self, ChainError> {
        toml::from_str(text).map_err(|e| ChainError::Toml(e.to_string()))
    }

    /// The chain as TOML.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_default()
    }

    /// A named preset (see [`PRESETS`]).
    pub fn preset(name: &str) -> Option<Self> {
        use StageSpec::*;
        let voip = |network: NetworkSpec, jb: JitterSpec| Voip {
            law: Law::Alaw,
            ptime_ms: 20,
            network,
            jitter_buffer: jb,
            plc: PlcSpec::WaveformSubstitution,
        };
        let (description, stages, t38) = match name {
            "clean" => ("nothing between the endpoints", vec![], None),
            "g711-alaw" => ("the A-law codec alone", vec![G711 { law: Law::Alaw }], None),
            "g711-ulaw" => ("the µ-law codec alone", vec![G711 { law: Law::Ulaw }], None),
            "pstn-typical" => (
                "a good PSTN call: 6 dB loss, telephone band, -60 dBm0 noise, A-law",
                vec![
                    Gain { db: -6.0 },
                    LineFilter {
                        preset: "telephone-band".into(),
                    },
                    Noise { dbm0: -60.0 },
                    G711 { law: Law::Alaw },
                ],
                None,
            ),
            "pstn-long-haul" => (
                "an analogue long-haul call: M.1020-limit line, 12 dB loss, FDM shift, phase jitter, hum, echo, -48 dBm0 noise",
                vec![
                    LineFilter {
                        preset: "m1020-limit".into(),
                    },
                    Gain { db: -12.0 },
                    FrequencyShift { hz: 2.0 },
                    PhaseJitter {
                        degrees_pp: 5.0,
                        hz: 120.0,
                    },
                    Hum {
                        hz: 50.0,
                        dbm0: -55.0,
                        harmonics: 2,
                    },
                    Echo {
                        delay_ms: 30.0,
                        erl_db: 15.0,
                    },
                    Noise { dbm0: -48.0 },
                    G711 { law: Law::Alaw },
                ],
                None,
            ),
            "voip-g711-good" => (
                "G.711 A-law over a managed network (G.1050 level B), fixed 40 ms jitter buffer",
                vec![voip(
                    NetworkSpec::Preset { g1050: 'B' },
                    JitterSpec::Fixed { delay_ms: 40.0 },
                )],
                None,
            ),
            "voip-g711-lossy" => (
                "G.711 A-law over the internet: 2 % loss in bursts of 2, 10 ms mean jitter, adaptive buffer",
                vec![voip(
                    NetworkSpec::Custom {
                        delay_ms: 80.0,
                        jitter_ms: 10.0,
                        loss: 0.02,
                        burst: 2.0,
                        reorder: 0.002,
                        duplicate: 0.001,
                    },
                    JitterSpec::Adaptive {
                        min_ms: 40.0,
                        max_ms: 200.0,
                    },
                )],
                None,
            ),
            "voip-g729" => (
                "a G.729A call with VAD left on: what fax cannot survive",
                vec![
                    Vad {
                        threshold_dbm0: -40.0,
                        hangover_ms: 200,
                    },
                    G729,
                ],
                None,
            ),
            "t38-redundancy-3" => (
                "T.38 UDPTL with 3 redundant IFPs per packet over a G.1050 level D network",
                vec![],
                Some(T38Spec {
                    version: 0,
                    redundancy: 3,
                    fec_entries: 0,
                    fec_span: 0,
                    network: NetworkSpec::Preset { g1050: 'D' },
                    playout_ms: 0,
                }),
            ),
            "ata-fax-g711" | "ata-voice-default" => {
                let tuned = name == "ata-fax-g711";
                let mut stages = Vec::new();
                if !tuned {
                    stages.push(Vad {
                        threshold_dbm0: -45.0,
                        hangover_ms: 100,
                    });
                }
                stages.push(Voip {
                    law: Law::Alaw,
                    ptime_ms: 20,
                    network: ata_network(),
                    jitter_buffer: if tuned {
                        JitterSpec::Fixed { delay_ms: 160.0 }
                    } else {
                        JitterSpec::Tracking {
                            min_ms: 20.0,
                            max_ms: 60.0,
                        }
                    },
                    plc: PlcSpec::WaveformSubstitution,
                });
                return Some(ChainSpec {
                    name: name.into(),
                    description: if tuned {
                        "an ATA tuned for fax, G.711 A-law passthrough over a busy residential broadband link (25 ms, 20 ms mean jitter): echo canceller off (and no hybrid echo: a short FXS line to the fax machine), silence suppression off, fixed 160 ms jitter buffer".into()
                    } else {
                        "the same ATA with its voice defaults: VAD with comfort noise on, echo canceller on (G.168, not disabled by a plain CED, over a 14 dB hybrid echo), a low-latency adaptive jitter buffer (20-60 ms) that re-sizes on late packets mid-page".into()
                    },
                    stages,
                    t38: None,
                    far_end_echo: (!tuned).then_some(FarEndEcho {
                        delay_ms: 2.0,
                        erl_db: 14.0,
                        canceller: CancellerMode::On,
                        tail_ms: 32.0,
                    }),
                });
            }
            "ata-fax-t38" => (
                "an ATA tuned for fax with T.38 on: UDPTL with 3 redundant IFPs over a residential broadband link (25 ms, 8 ms mean jitter, 1 % loss in bursts of 2)",
                vec![],
                Some(T38Spec {
                    version: 0,
                    redundancy: 3,
                    fec_entries: 0,
                    fec_span: 0,
                    network: NetworkSpec::Custom {
                        delay_ms: 25.0,
                        jitter_ms: 8.0,
                        loss: 0.01,
                        burst: 2.0,
                        reorder: 0.0,
                        duplicate: 0.0,
                    },
                    playout_ms: 0,
                }),
            ),
            "sip-trunk-alaw" => (
                "a SIP trunk forced to G.711 A-law on fax numbers: RTP over a carrier network (G.1050 level B), fixed 60 ms buffer, then the PSTN tail (6 dB loss, telephone band)",
                vec![
                    voip(
                        NetworkSpec::Preset { g1050: 'B' },
                        JitterSpec::Fixed { delay_ms: 60.0 },
                    ),
                    Gain { db: -6.0 },
                    LineFilter {
                        preset: "telephone-band".into(),
                    },
                    G711 { law: Law::Alaw },
                ],
                None,
            ),
            "sip-trunk-g729" => (
                "a SIP trunk that negotiated G.729A (bcg729) for the fax call, transcoded to A-law at the PSTN gateway: the same network and tail as sip-trunk-alaw",
                vec![
                    G729,
                    voip(
                        NetworkSpec::Preset { g1050: 'B' },
                        JitterSpec::Fixed { delay_ms: 60.0 },
                    ),
                    Gain { db: -6.0 },
                    LineFilter {
                        preset: "telephone-band".into(),
                    },
                    G711 { law: Law::Alaw },
                ],
                None,
            ),
            "pstn-echo-satellite" | "pstn-echo-cancelled" | "pstn-echo-canceller-always-on" => {
                let (canceller, what) = match name {
                    "pstn-echo-satellite" => (CancellerMode::None, "no echo canceller"),
                    "pstn-echo-cancelled" => (
                        CancellerMode::On,
                        "a G.168 canceller at each hybrid (disabled only by 2100 Hz with phase reversals)",
                    ),
                    _ => (
                        CancellerMode::AlwaysOn,
                        "a canceller at each hybrid that nothing disables",
                    ),
                };
                return Some(ChainSpec {
                    name: name.into(),
                    description: format!(
                        "a satellite hop (270 ms each way) with talker echo from the far hybrid (ERL 12 dB), {what}"
                    ),
                    stages: vec![Delay { ms: 270.0 }, G711 { law: Law::Alaw }],
                    t38: None,
                    far_end_echo: Some(FarEndEcho {
                        delay_ms: 4.0,
                        erl_db: 12.0,
                        canceller,
                        tail_ms: 32.0,
                    }),
                });
            }
            _ => {
                let level = name.strip_prefix("g1050-")?;
                let mut chars = level.chars();
                let letter = chars.next()?;
                if chars.next().is_some() || !('A'..='H').contains(&letter) {
                    return None;
                }
                return Some(ChainSpec {
                    name: name.into(),
                    description: format!(
                        "G.711 A-law over a G.1050-style level {letter} network, adaptive buffer"
                    ),
                    stages: vec![voip(
                        NetworkSpec::Preset { g1050: letter },
                        JitterSpec::Adaptive {
                            min_ms: 40.0,
                            max_ms: 300.0,
                        },
                    )],
                    t38: None,
                    far_end_echo: None,
                });
            }
        };
        Some(ChainSpec {
            name: name.into(),
            description: description.into(),
            stages,
            t38,
            far_end_echo: None,
        })
    }
}

/// The busy residential broadband link behind an ATA: 25 ms, 20 ms mean exponential jitter,
/// no loss.
fn ata_network() -> NetworkSpec {
    NetworkSpec::Custom {
        delay_ms: 25.0,
        jitter_ms: 20.0,
        loss: 0.0,
        burst: 1.0,
        reorder: 0.0,
        duplicate: 0.0,
    }
}

/// Running stages of one direction.
pub struct Chain {
    stages: Vec<(String, Box<dyn AudioStage>)>,
    a: Vec<i16>,
    b: Vec<i16>,
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.stages.iter().map(|(n, _)| n))
            .finish()
    }
}

impl Chain {
    /// Builds `spec`'s audio stages; stage i of kind k gets the seed
    /// `derive_seed(master_seed, "i:k")`.
    pub fn build(spec: &ChainSpec, master_seed: u64) -> Result<Self, ChainError> {
        let stages = spec
            .stages
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let label = format!("{i}:{}", s.kind());
                let seed = derive_seed(master_seed, &label);
                Ok((label, s.build(seed)?))
            })
            .collect::<Result<_, ChainError>>()?;
        Ok(Chain {
            stages,
            a: Vec::with_capacity(4096),
            b: Vec::with_capacity(4096),
        })
    }

    /// The stage labels ("position:kind").
    pub fn labels(&self) -> Vec<&str> {
        self.stages.iter().map(|(n, _)| n.as_str()).collect()
    }
}

impl AudioStage for Chain {
    fn process(&mut self, input: &[i16], out: &mut Vec<i16>) {
        let Some(((_, last), rest)) = self.stages.split_last_mut() else {
            out.extend_from_slice(input);
            return;
        };
        self.a.clear();
        self.a.extend_from_slice(input);
        for (_, s) in rest {
            self.b.clear();
            s.process(&self.a, &mut self.b);
            std::mem::swap(&mut self.a, &mut self.b);
        }
        last.process(&self.a, out);
    }

    fn capture_packets(&mut self, on: bool) {
        for (_, s) in self.stages.iter_mut() {
            s.capture_packets(on);
        }
    }

    fn take_packets(&mut self, out: &mut Vec<crate::packet::NetPacket>) {
        for (_, s) in self.stages.iter_mut() {
            s.take_packets(out);
        }
    }

    fn report(&self, out: &mut Vec<String>) {
        for (_, s) in &self.stages {
            s.report(out);
        }
    }
}
