//! Parameter sweeps: many calls per point over a grid of channel and engine parameters,
//! with per-point statistics, a streamed per-call journal (resumable) and a report.
//!
//! A sweep is one or more [`SeriesSpec`]s (the base path: transport, channel chain,
//! implementation, fixed parameters) crossed with a grid of [`Axis`] values. Every point
//! runs `calls` calls through [`crate::session::run_session`], call `i` of point `k` with
//! the seed `derive_seed(seed, "k#i")`, so any call can be rerun alone and a resumed sweep
//! gives the same bytes as an uninterrupted one.
//!
//! ```
//! use sim::sweep::{Axis, Key};
//! let axis = Axis::parse("loss=0..0.03:0.01").unwrap();
//! assert_eq!(axis.key, Key::Loss);
//! assert_eq!(axis.values.len(), 4);
//! assert!(Axis::parse("lose=0..1").unwrap_err().contains("unknown parameter"));
//! ```

pub mod ber;
pub mod presets;
pub mod report;
pub mod run;

use channel_models::chain::{ChainSpec, JitterSpec, Law, NetworkSpec, PlcSpec, StageSpec, T38Spec};
use channel_models::packet::{JitterModel, LossModel};
use serde::{Deserialize, Serialize};
use t30::frame::dis::modem_name::Modem;

use crate::session::Transport;

/// A parameter a sweep can vary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Key {
    /// Packet loss probability on the RTP (audio) or UDPTL (T.38) path, 0..1.
    Loss,
    /// Mean of the exponential network jitter, ms.
    JitterMs,
    /// Signal-to-noise ratio at the noise stage, dB, against the −10 dBm0 transmit level.
    SnrDb,
    /// White noise level, dBm0.
    NoiseDbm0,
    /// Sample-clock drift of the line, ppm.
    DriftPpm,
    /// T.38 UDPTL redundancy depth (secondary IFPs per packet).
    Redundancy,
    /// The one fast modem both ends offer (categorical: v17, v29, v27ter).
    Modem,
    /// The RTP jitter buffer (categorical: fixed, adaptive).
    JitterBuffer,
}

/// Every key with what it means, for errors and `--help`.
pub const KEYS: &[(&str, &str)] = &[
    (
        "loss",
        "packet loss probability on the RTP or UDPTL path (0..1)",
    ),
    ("jitter_ms", "mean exponential network jitter (ms)"),
    (
        "snr_db",
        "SNR at the noise stage against the -10 dBm0 transmit level (dB)",
    ),
    ("noise_dbm0", "white noise level (dBm0)"),
    ("drift_ppm", "sample-clock drift of the line (ppm)"),
    ("redundancy", "T.38 UDPTL redundancy depth (t38 only)"),
    ("modem", "the fast modem both ends offer: v17, v29, v27ter"),
    (
        "jitter_buffer",
        "RTP jitter buffer: fixed (60 ms), adaptive (40-300 ms)",
    ),
];

/// The fixed jitter buffer's delay, ms.
pub const FIXED_BUFFER_MS: f64 = 60.0;
/// The adaptive jitter buffer's range, ms.
pub const ADAPTIVE_BUFFER_MS: (f64, f64) = (40.0, 300.0);
/// Transmit level SNRs are measured against, dBm0 (the modems' default).
pub const TX_LEVEL_DBM0: f64 = modem::level::DEFAULT_TX_DBM0 as f64;

impl Key {
    /// The key as written on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Key::Loss => "loss",
            Key::JitterMs => "jitter_ms",
            Key::SnrDb => "snr_db",
            Key::NoiseDbm0 => "noise_dbm0",
            Key::DriftPpm => "drift_ppm",
            Key::Redundancy => "redundancy",
            Key::Modem => "modem",
            Key::JitterBuffer => "jitter_buffer",
        }
    }

    /// The key of a command-line name.
    pub fn from_name(s: &str) -> Option<Key> {
        Some(match s {
            "loss" => Key::Loss,
            "jitter_ms" => Key::JitterMs,
            "snr_db" => Key::SnrDb,
            "noise_dbm0" => Key::NoiseDbm0,
            "drift_ppm" => Key::DriftPpm,
            "redundancy" => Key::Redundancy,
            "modem" => Key::Modem,
            "jitter_buffer" => Key::JitterBuffer,
            _ => return None,
        })
    }

    /// Whether the values are names rather than numbers.
    pub fn categorical(self) -> bool {
        matches!(self, Key::Modem | Key::JitterBuffer)
    }

    /// Axis caption for charts.
    pub fn caption(self) -> &'static str {
        match self {
            Key::Loss => "packet loss probability",
            Key::JitterMs => "mean network jitter (ms)",
            Key::SnrDb => "SNR (dB, against -10 dBm0)",
            Key::NoiseDbm0 => "noise level (dBm0)",
            Key::DriftPpm => "clock drift (ppm)",
            Key::Redundancy => "T.38 redundancy depth",
            Key::Modem => "modem",
            Key::JitterBuffer => "jitter buffer",
        }
    }

    fn check(self, v: &Value) -> Result<(), String> {
        let bad = |why: &str| Err(format!("{}={}: {why}", self.name(), v.text()));
        match (self, v) {
            (Key::Modem, Value::Cat(c))
                if crate::cmd::call::parse_modems(c).map(|m| m.len()) != Ok(1) =>
            {
                return bad("expected v17, v29 or v27ter");
            }
            (Key::JitterBuffer, Value::Cat(c)) if c != "fixed" && c != "adaptive" => {
                return bad("expected fixed or adaptive");
            }
            (k, Value::Cat(_)) if !k.categorical() => return bad("not a number"),
            (Key::Loss, Value::Num(x)) if !(0.0..1.0).contains(x) => {
                return bad("loss must be in [0, 1)");
            }
            (Key::JitterMs, Value::Num(x)) if !(0.0..=1000.0).contains(x) => {
                return bad("jitter must be 0 to 1000 ms");
            }
            (Key::SnrDb, Value::Num(x)) if !(-20.0..=80.0).contains(x) => {
                return bad("SNR must be -20 to 80 dB");
            }
            (Key::NoiseDbm0, Value::Num(x)) if !(-120.0..=0.0).contains(x) => {
                return bad("noise must be -120 to 0 dBm0");
            }
            (Key::DriftPpm, Value::Num(x)) if x.abs() > 5000.0 => {
                return bad("drift must be -5000 to 5000 ppm");
            }
            (Key::Redundancy, Value::Num(x)) if !(x.fract() == 0.0 && (0.0..=7.0).contains(x)) => {
                return bad("redundancy must be a whole number 0 to 7");
            }
            _ => {}
        }
        Ok(())
    }
}

/// One value of a parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    /// A number.
    Num(f64),
    /// A name.
    Cat(String),
}

impl Value {
    /// The value as text ("0.0025", "v17").
    pub fn text(&self) -> String {
        match self {
            Value::Num(x) => reports::chart::trim_number(*x),
            Value::Cat(c) => c.clone(),
        }
    }

    /// The number, if it is one.
    pub fn num(&self) -> Option<f64> {
        match self {
            Value::Num(x) => Some(*x),
            Value::Cat(_) => None,
        }
    }
}

/// One varied parameter and its values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Axis {
    /// The parameter.
    pub key: Key,
    /// Its values, in order.
    pub values: Vec<Value>,
}

fn unknown_key(k: &str) -> String {
    format!(
        "--vary {k}: unknown parameter (one of: {})",
        KEYS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
    )
}

impl Axis {
    /// Parses `KEY=START..END:STEP`, `KEY=START..END` (step 1) or `KEY=A,B,C`.
    pub fn parse(text: &str) -> Result<Axis, String> {
        let (k, v) = text
            .split_once('=')
            .ok_or_else(|| format!("--vary {text}: expected KEY=START..END:STEP or KEY=A,B,C"))?;
        let key = Key::from_name(k.trim()).ok_or_else(|| unknown_key(k.trim()))?;
        let v = v.trim();
        let values = if key.categorical() {
            v.split(',')
                .map(|c| Value::Cat(c.trim().to_ascii_lowercase()))
                .collect()
        } else if let Some((from, rest)) = v.split_once("..") {
            let num = |s: &str| {
                s.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| format!("--vary {text}: {s:?} is not a number"))
            };
            let (to, step) = match rest.split_once(':') {
                Some((to, step)) => (num(to)?, num(step)?),
                None => (num(rest)?, 1.0),
            };
            let from = num(from)?;
            if step <= 0.0 || to < from {
                return Err(format!(
                    "--vary {text}: the step must be positive and END at least START"
                ));
            }
            let count = ((to - from) / step + 1e-9).floor() as u64 + 1;
            if count > 200 {
                return Err(format!("--vary {text}: more than 200 values"));
            }
            (0..count)
                .map(|i| Value::Num(((from + i as f64 * step) * 1e9).round() / 1e9))
                .collect()
        } else {
            v.split(',')
                .map(|s| {
                    s.trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|x| x.is_finite())
                        .map(Value::Num)
                        .ok_or_else(|| format!("--vary {text}: {s:?} is not a number"))
                })
                .collect::<Result<_, _>>()?
        };
        for value in &values {
            key.check(value).map_err(|e| format!("--vary {e}"))?;
        }
        Ok(Axis { key, values })
    }
}

/// Which implementation runs both ends of a series' calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Implementation {
    /// Our engine on both sides.
    Builtin,
    /// spandsp on both sides.
    Spandsp,
}

/// One base path a sweep runs its grid over.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesSpec {
    /// Label in charts and results.
    pub label: String,
    /// Audio or T.38.
    pub transport: TransportName,
    /// The channel, both directions.
    pub channel: ChainSpec,
    /// Who is at both ends.
    pub implementation: Implementation,
    /// Parameters fixed for the whole series (applied before the grid's).
    pub fixed: Vec<(Key, Value)>,
}

/// [`Transport`] as data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TransportName {
    /// Audio through the chain's stages.
    Audio,
    /// T.38 through the chain's T.38 leg.
    T38,
}

impl TransportName {
    /// The session transport.
    pub fn transport(self) -> Transport {
        match self {
            TransportName::Audio => Transport::Audio,
            TransportName::T38 => Transport::T38,
        }
    }
}

/// A whole sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepSpec {
    /// Preset name or "custom".
    pub name: String,
    /// What it measures.
    pub description: String,
    /// The base paths.
    pub series: Vec<SeriesSpec>,
    /// The grid.
    pub axes: Vec<Axis>,
    /// Calls per point.
    pub calls: u32,
    /// Pages per call.
    pub pages: u32,
    /// Master seed.
    pub seed: u64,
    /// ECM offered by both ends.
    pub ecm: bool,
    /// Fast modems offered when no `modem` parameter says otherwise.
    pub modems: String,
    /// Call time limit, seconds.
    pub limit_s: u64,
}

/// One point of the grid of one series.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// Index of the series.
    pub series: usize,
    /// One value per axis.
    pub values: Vec<Value>,
    /// Stable name: `series|key=value|…`.
    pub key: String,
}

impl SweepSpec {
    /// Every point, series by series, the last axis varying fastest.
    pub fn points(&self) -> Vec<Point> {
        let mut grid: Vec<Vec<Value>> = vec![Vec::new()];
        for axis in &self.axes {
            grid = grid
                .into_iter()
                .flat_map(|prefix| {
                    axis.values.iter().map(move |v| {
                        let mut p = prefix.clone();
                        p.push(v.clone());
                        p
                    })
                })
                .collect();
        }
        self.series
            .iter()
            .enumerate()
            .flat_map(|(s, series)| {
                grid.iter().map(move |values| {
                    let mut key = series.label.clone();
                    for (a, v) in self.axes.iter().zip(values) {
                        key.push_str(&format!("|{}={}", a.key.name(), v.text()));
                    }
                    Point {
                        series: s,
                        values: values.clone(),
                        key,
                    }
                })
            })
            .collect()
    }
}

/// The network of a packet path as explicit parameters (a G.1050 preset written out).
fn custom_network(n: &NetworkSpec) -> NetworkSpec {
    match *n {
        NetworkSpec::Custom { .. } => *n,
        NetworkSpec::Preset { .. } => {
            let Ok(cfg) = n.config() else { return *n };
            let jitter_ms = match cfg.jitter {
                JitterModel::None => 0.0,
                JitterModel::Exponential { mean_ms } => mean_ms,
                JitterModel::Uniform { max_ms } => max_ms / 2.0,
                JitterModel::HalfNormal { sigma_ms } => sigma_ms * 0.8,
            };
            let (loss, burst) = match cfg.loss {
                LossModel::GilbertElliott { p, r, .. } => (p / (p + r), 1.0 / r),
                LossModel::Bernoulli { p } => (p, 1.0),
                _ => (0.0, 1.0),
            };
            NetworkSpec::Custom {
                delay_ms: cfg.delay_ms,
                jitter_ms,
                loss,
                burst,
                reorder: cfg.reorder,
                duplicate: cfg.duplicate,
            }
        }
    }
}

fn set_network(n: &mut NetworkSpec, key: Key, x: f64) {
    *n = custom_network(n);
    if let NetworkSpec::Custom {
        loss, jitter_ms, ..
    } = n
    {
        match key {
            Key::Loss => *loss = x,
            _ => *jitter_ms = x,
        }
    }
}

/// The RTP stage a packet parameter is applied to in an audio chain: the chain's own, or
/// one put in place of its G.711 stage (or at its end): A-law, 20 ms, 40 ms delay, fixed
/// buffer, waveform-substitution PLC.
fn voip_stages(chain: &mut ChainSpec) -> impl Iterator<Item = &mut StageSpec> {
    if !chain
        .stages
        .iter()
        .any(|s| matches!(s, StageSpec::Voip { .. }))
    {
        let voip = |law| StageSpec::Voip {
            law,
            ptime_ms: 20,
            network: NetworkSpec::Custom {
                delay_ms: 40.0,
                jitter_ms: 0.0,
                loss: 0.0,
                burst: 1.0,
                reorder: 0.0,
                duplicate: 0.0,
            },
            jitter_buffer: JitterSpec::Fixed {
                delay_ms: FIXED_BUFFER_MS,
            },
            plc: PlcSpec::WaveformSubstitution,
        };
        match chain
            .stages
            .iter()
            .position(|s| matches!(s, StageSpec::G711 { .. }))
        {
            Some(i) => {
                let law = match chain.stages[i] {
                    StageSpec::G711 { law } => law,
                    _ => Law::Alaw,
                };
                chain.stages[i] = voip(law);
            }
            None => chain.stages.push(voip(Law::Alaw)),
        }
    }
    chain
        .stages
        .iter_mut()
        .filter(|s| matches!(s, StageSpec::Voip { .. }))
}

/// A T.38 leg over a clean 40 ms network with redundancy 3, for chains that have none.
pub fn default_t38() -> T38Spec {
    T38Spec {
        version: 0,
        redundancy: 3,
        fec_entries: 0,
        fec_span: 0,
        network: NetworkSpec::Custom {
            delay_ms: 40.0,
            jitter_ms: 0.0,
            loss: 0.0,
            burst: 1.0,
            reorder: 0.0,
            duplicate: 0.0,
        },
        playout_ms: 0,
    }
}

/// Puts `stage` in place of the chain's first stage of the same kind, or inserts it at
/// `at` (clamped).
fn replace_or_insert(chain: &mut ChainSpec, stage: StageSpec, at: usize) {
    match chain.stages.iter().position(|s| s.kind() == stage.kind()) {
        Some(i) => chain.stages[i] = stage,
        None => chain.stages.insert(at.min(chain.stages.len()), stage),
    }
}

/// Where noise goes: before the first codec or packet stage (noise is on the line, before
/// it is coded), else at the end.
fn noise_position(chain: &ChainSpec) -> usize {
    chain
        .stages
        .iter()
        .position(|s| {
            matches!(
                s,
                StageSpec::G711 { .. }
                    | StageSpec::UlawRobbedBit
                    | StageSpec::G726 { .. }
                    | StageSpec::G729
                    | StageSpec::Vad { .. }
                    | StageSpec::Voip { .. }
            )
        })
        .unwrap_or(chain.stages.len())
}

/// What one point's parameters make of a series' chain, transport and modems.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    /// The channel (both directions).
    pub channel: ChainSpec,
    /// Fast modems offered (None: the sweep's default).
    pub modem: Option<Modem>,
}

/// Applies `params` to `series`' channel. Errors are one line (a T.38 parameter on an
/// audio series, say).
pub fn apply(series: &SeriesSpec, params: &[(Key, Value)]) -> Result<Applied, String> {
    let mut chain = series.channel.clone();
    let mut modem = None;
    let t38 = series.transport == TransportName::T38;
    for (key, value) in params {
        let x = value.num().unwrap_or(0.0);
        match key {
            Key::Loss | Key::JitterMs => {
                if t38 {
                    let leg = chain.t38.get_or_insert_with(default_t38);
                    set_network(&mut leg.network, *key, x);
                } else {
                    for s in voip_stages(&mut chain) {
                        if let StageSpec::Voip { network, .. } = s {
                            set_network(network, *key, x);
                        }
                    }
                }
            }
            Key::JitterBuffer => {
                if t38 {
                    return Err(format!(
                        "{}: jitter_buffer applies to audio (RTP) paths only",
                        series.label
                    ));
                }
                let jb = if value.text() == "fixed" {
                    JitterSpec::Fixed {
                        delay_ms: FIXED_BUFFER_MS,
                    }
                } else {
                    JitterSpec::Adaptive {
                        min_ms: ADAPTIVE_BUFFER_MS.0,
                        max_ms: ADAPTIVE_BUFFER_MS.1,
                    }
                };
                for s in voip_stages(&mut chain) {
                    if let StageSpec::Voip { jitter_buffer, .. } = s {
                        *jitter_buffer = jb;
                    }
                }
            }
            Key::Redundancy => {
                if !t38 {
                    return Err(format!(
                        "{}: redundancy applies to T.38 paths only (--transport t38)",
                        series.label
                    ));
                }
                let leg = chain.t38.get_or_insert_with(default_t38);
                leg.redundancy = x as usize;
                leg.fec_entries = 0;
            }
            Key::SnrDb | Key::NoiseDbm0 => {
                if t38 {
                    return Err(format!(
                        "{}: {} applies to audio paths only",
                        series.label,
                        key.name()
                    ));
                }
                let at = noise_position(&chain);
                // Gain stages before the noise change the signal level it is measured against.
                let gain: f64 = chain.stages[..at]
                    .iter()
                    .map(|s| match s {
                        StageSpec::Gain { db } => *db,
                        _ => 0.0,
                    })
                    .sum();
                let dbm0 = if *key == Key::SnrDb {
                    TX_LEVEL_DBM0 + gain - x
                } else {
                    x
                };
                replace_or_insert(&mut chain, StageSpec::Noise { dbm0 }, at);
            }
            Key::DriftPpm => {
                if t38 {
                    return Err(format!(
                        "{}: drift_ppm applies to audio paths only",
                        series.label
                    ));
                }
                replace_or_insert(&mut chain, StageSpec::ClockDrift { ppm: x }, 0);
            }
            Key::Modem => {
                modem = crate::cmd::call::parse_modems(&value.text())?
                    .first()
                    .copied();
            }
        }
    }
    Ok(Applied {
        channel: chain,
        modem,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(channel: &str, transport: TransportName) -> SeriesSpec {
        SeriesSpec {
            label: "s".into(),
            transport,
            channel: ChainSpec::preset(channel).unwrap(),
            implementation: Implementation::Builtin,
            fixed: Vec::new(),
        }
    }

    #[test]
    fn parses_ranges_lists_and_names() {
        let a = Axis::parse("loss=0..0.03:0.0025").unwrap();
        assert_eq!(a.values.len(), 13);
        assert_eq!(a.values[12], Value::Num(0.03));
        let m = Axis::parse("modem=v17,V29,v27ter").unwrap();
        assert_eq!(m.values[1], Value::Cat("v29".into()));
        assert!(Axis::parse("modem=v34").is_err());
        assert!(Axis::parse("loss=0..2:1").is_err());
        assert!(Axis::parse("loss").is_err());
        assert!(Axis::parse("jitter_buffer=fixed,elastic").is_err());
        assert_eq!(Axis::parse("redundancy=0,1,3").unwrap().values.len(), 3);
    }

    #[test]
    fn loss_on_audio_puts_rtp_in_place_of_g711() {
        let s = series("g711-ulaw", TransportName::Audio);
        let a = apply(&s, &[(Key::Loss, Value::Num(0.01))]).unwrap();
        assert_eq!(a.channel.stages.len(), 1);
        match &a.channel.stages[0] {
            StageSpec::Voip { law, network, .. } => {
                assert_eq!(*law, Law::Ulaw);
                assert!(matches!(network, NetworkSpec::Custom { loss, .. } if *loss == 0.01));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn g1050_preset_network_keeps_its_delay() {
        let s = series("t38-redundancy-3", TransportName::T38);
        let a = apply(
            &s,
            &[
                (Key::Loss, Value::Num(0.1)),
                (Key::Redundancy, Value::Num(1.0)),
            ],
        )
        .unwrap();
        let leg = a.channel.t38.unwrap();
        assert_eq!(leg.redundancy, 1);
        match leg.network {
            NetworkSpec::Custom { delay_ms, loss, .. } => {
                assert_eq!(delay_ms, 90.0);
                assert_eq!(loss, 0.1);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn snr_accounts_for_gain_before_the_noise() {
        let s = series("pstn-typical", TransportName::Audio);
        let a = apply(&s, &[(Key::SnrDb, Value::Num(20.0))]).unwrap();
        // -10 dBm0 sent, -6 dB of loss, 20 dB below that.
        assert!(
            a.channel.stages.contains(&StageSpec::Noise { dbm0: -36.0 }),
            "{:?}",
            a.channel.stages
        );
        assert!(apply(&s, &[(Key::Redundancy, Value::Num(1.0))]).is_err());
    }

    #[test]
    fn grid_and_keys() {
        let spec = SweepSpec {
            name: "t".into(),
            description: String::new(),
            series: vec![series("clean", TransportName::Audio)],
            axes: vec![
                Axis::parse("loss=0,0.1").unwrap(),
                Axis::parse("modem=v17,v29").unwrap(),
            ],
            calls: 1,
            pages: 1,
            seed: 1,
            ecm: true,
            modems: "v17,v29,v27ter".into(),
            limit_s: 300,
        };
        let p = spec.points();
        assert_eq!(p.len(), 4);
        assert_eq!(p[1].key, "s|loss=0|modem=v29");
        assert_eq!(p[2].key, "s|loss=0.1|modem=v17");
    }
}
