//! The scenario file as data: every table and key of `scenarios/README.md`, parsed strictly.
//!
//! Every struct denies unknown keys, and every value with a restricted range is a small type
//! whose `TryFrom` rejects impossible values while the TOML parser still knows where the value
//! was, so each error carries the file's line.

use std::collections::BTreeMap;

use serde::Deserialize;
use t30::completion::{Completion, PipelineError};
use t30::frame::Fcf;
use toml::Spanned;

use crate::endpoint::script::Step;
use channel_models::chain::{ChainSpec, StageSpec, T38Spec};

fn one_u64() -> u64 {
    1
}

fn default_limit() -> PositiveSeconds {
    PositiveSeconds(300.0)
}

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioSpec {
    /// What the scenario shows.
    #[serde(default)]
    pub description: String,
    /// Free strings for `--tag`.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Master seed.
    #[serde(default = "one_u64")]
    pub seed: u64,
    /// How many calls (each with its own derived seed).
    #[serde(default)]
    pub repetitions: Option<Repetitions>,
    /// audio or t38.
    #[serde(default)]
    pub transport: TransportName,
    /// Call time limit.
    #[serde(default = "default_limit")]
    pub time_limit_s: PositiveSeconds,
    /// System parts the scenario needs.
    #[serde(default)]
    pub requires: Vec<Requirement>,
    /// The call layer knows when the far end answered (SIP/ISDN answer supervision).
    #[serde(default)]
    pub answer_supervision: bool,
    /// Stop the run this far into the call, as a killed worker would.
    #[serde(default)]
    pub interrupt_at_s: Option<PositiveSeconds>,
    /// How many repetitions must meet every expectation (default: all).
    #[serde(default)]
    pub min_passing: Option<u32>,
    /// Which side is the device under test (for `--peer spandsp`).
    #[serde(default)]
    pub dut: Option<RoleName>,
    /// The channel.
    #[serde(default)]
    pub channel: Option<ChannelTable>,
    /// The calling side.
    #[serde(default)]
    pub caller: Option<SideSpec>,
    /// The answering side.
    #[serde(default)]
    pub answerer: Option<SideSpec>,
}

/// Repetitions, at least 1.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(try_from = "i64")]
pub struct Repetitions(pub u32);

impl TryFrom<i64> for Repetitions {
    type Error = String;
    fn try_from(v: i64) -> Result<Self, String> {
        if (1..=10_000).contains(&v) {
            Ok(Repetitions(v as u32))
        } else {
            Err(format!("repetitions must be 1..10000, not {v}"))
        }
    }
}

/// A positive number of seconds (integer or float in the file).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(try_from = "Number")]
pub struct PositiveSeconds(pub f64);

/// An integer or a float.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(untagged)]
pub enum Number {
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
}

impl Number {
    fn value(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Float(f) => f,
        }
    }
}

impl TryFrom<Number> for PositiveSeconds {
    type Error = String;
    fn try_from(v: Number) -> Result<Self, String> {
        let v = v.value();
        if v.is_finite() && v > 0.0 && v <= 86_400.0 {
            Ok(PositiveSeconds(v))
        } else {
            Err(format!("a time in seconds must be in (0, 86400], not {v}"))
        }
    }
}

/// The transport.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TransportName {
    /// Audio through the chains.
    #[default]
    Audio,
    /// T.38.
    T38,
}

/// A system part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Requirement {
    /// libspandsp.so.2.
    Spandsp,
    /// libbcg729.so.0.
    Bcg729,
}

impl Requirement {
    /// The name in files.
    pub fn name(self) -> &'static str {
        match self {
            Requirement::Spandsp => "spandsp",
            Requirement::Bcg729 => "bcg729",
        }
    }

    /// What to install, for the skip reason.
    pub fn install_hint(self) -> &'static str {
        match self {
            Requirement::Spandsp => "needs libspandsp (apt-get install libspandsp2)",
            Requirement::Bcg729 => "G.729 needs libbcg729 (apt-get install libbcg729-0)",
        }
    }
}

/// caller or answerer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RoleName {
    /// The caller.
    Caller,
    /// The answerer.
    Answerer,
}

/// `[channel]`: one chain for both directions, or one per direction.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelTable {
    /// A chain preset.
    #[serde(default)]
    pub preset: Option<PresetName>,
    /// A chain file, relative to the scenario.
    #[serde(default)]
    pub file: Option<Spanned<String>>,
    /// A name for reports.
    #[serde(default)]
    pub name: Option<String>,
    /// What it stands for.
    #[serde(default)]
    pub description: Option<String>,
    /// Stages (after the preset's or file's own).
    #[serde(default)]
    pub stages: Option<Vec<StageSpec>>,
    /// A T.38 leg.
    #[serde(default)]
    pub t38: Option<T38Spec>,
    /// The caller's direction, replacing the shared keys for it.
    #[serde(default)]
    pub caller_to_answerer: Option<ChannelDir>,
    /// The answerer's direction, replacing the shared keys for it.
    #[serde(default)]
    pub answerer_to_caller: Option<ChannelDir>,
}

/// One direction's chain.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelDir {
    /// A chain preset.
    #[serde(default)]
    pub preset: Option<PresetName>,
    /// A chain file, relative to the scenario.
    #[serde(default)]
    pub file: Option<Spanned<String>>,
    /// A name for reports.
    #[serde(default)]
    pub name: Option<String>,
    /// What it stands for.
    #[serde(default)]
    pub description: Option<String>,
    /// Stages (after the preset's or file's own).
    #[serde(default)]
    pub stages: Option<Vec<StageSpec>>,
    /// A T.38 leg.
    #[serde(default)]
    pub t38: Option<T38Spec>,
}

impl ChannelTable {
    /// The shared keys as one direction's.
    pub fn shared(&self) -> ChannelDir {
        ChannelDir {
            preset: self.preset.clone(),
            file: self.file.clone(),
            name: self.name.clone(),
            description: self.description.clone(),
            stages: self.stages.clone(),
            t38: self.t38,
        }
    }
}

/// A known chain preset.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "String")]
pub struct PresetName(pub String, pub ChainSpec);

impl TryFrom<String> for PresetName {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        match ChainSpec::preset(&s) {
            Some(spec) => Ok(PresetName(s, spec)),
            None => Err(format!(
                "unknown channel preset '{s}' (one of: {})",
                channel_models::chain::PRESETS.join(", ")
            )),
        }
    }
}

/// The implementation at one end.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KindName {
    /// Our engine.
    #[default]
    Builtin,
    /// spandsp.
    Spandsp,
    /// A script of steps.
    Script,
    /// One channel of a recorded call played back.
    Replay,
}

/// A telephone number: `+` and digits (spaces, dashes, dots allowed and dropped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberValue(pub String);

impl<'de> Deserialize<'de> for NumberValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let n: String = s.chars().filter(|c| !" -.".contains(*c)).collect();
        let digits = n.strip_prefix('+').unwrap_or(&n);
        if digits.is_empty() || digits.len() > 20 || !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(serde::de::Error::custom(format!(
                "number {s:?}: expected an optional + and 1 to 20 digits"
            )));
        }
        Ok(NumberValue(n))
    }
}

/// `[caller]` / `[answerer]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SideSpec {
    /// The implementation.
    #[serde(default)]
    pub kind: KindName,
    /// Documents to send, relative to the scenario file.
    #[serde(default)]
    pub send: Vec<Spanned<String>>,
    /// Generated test pages to send (after `send`).
    #[serde(default)]
    pub pages: Vec<PageSpec>,
    /// Answerer: whether it answers at all (false: the line rings out).
    #[serde(default)]
    pub answer: Option<bool>,
    /// Receiving side: the command that turns the received TIFF into PDF (`{tiff}`, `{pdf}`).
    #[serde(default)]
    pub pdf_command: Option<String>,
    /// Answerer: the number answers as voice first (greeting, optional fax detection).
    #[serde(default)]
    pub voice: Option<crate::endpoint::voice::VoiceAnswer>,
    /// The side's telephone number (delivery: the dialled and calling numbers; default: the
    /// ident without spaces).
    #[serde(default)]
    pub number: Option<NumberValue>,
    /// Replay: the WAV file.
    #[serde(default)]
    pub capture: Option<Spanned<String>>,
    /// Replay: which channel of the capture (left = caller, right = answerer).
    #[serde(default)]
    pub capture_channel: Option<RoleName>,
    /// Willing to receive.
    #[serde(default)]
    pub receive: Option<bool>,
    /// Caller: poll the far end.
    #[serde(default)]
    pub poll: Option<bool>,
    /// How a caller that sent turns around to poll.
    #[serde(default)]
    pub turnaround: Option<TurnaroundName>,
    /// May be polled.
    #[serde(default)]
    pub allow_polled: Option<bool>,
    /// ECM.
    #[serde(default)]
    pub ecm: Option<bool>,
    /// ECM frame size.
    #[serde(default)]
    pub ecm_frame_size: Option<EcmFrameSizeValue>,
    /// Fast modems.
    #[serde(default)]
    pub modems: Option<Vec<ModemName>>,
    /// Highest bit rate.
    #[serde(default)]
    pub max_rate: Option<RateValue>,
    /// Codings.
    #[serde(default)]
    pub codings: Option<Vec<CodingName>>,
    /// Resolutions accepted.
    #[serde(default)]
    pub resolutions: Option<Vec<ResolutionName>>,
    /// Minimum scan-line time as a receiver.
    #[serde(default)]
    pub min_scan_ms: Option<ScanTime>,
    /// Send at a lower resolution when the far end lacks the page's.
    #[serde(default)]
    pub reduce_resolution: Option<bool>,
    /// Local identity.
    #[serde(default)]
    pub ident: Option<Ident>,
    /// Page header.
    #[serde(default)]
    pub header_info: Option<String>,
    /// NSF/NSS/NSC information field.
    #[serde(default)]
    pub nsf: Option<Hex>,
    /// Identity-like frames to send.
    #[serde(default)]
    pub send_frames: Option<BTreeMap<FcfName, String>>,
    /// What to accept in identity-like frames.
    #[serde(default)]
    pub accept: Option<BTreeMap<FcfName, AcceptValue>>,
    /// Command retries.
    #[serde(default)]
    pub retries: Option<Count>,
    /// Page retries after RTN.
    #[serde(default)]
    pub page_retries: Option<Count>,
    /// PPRs per block before CTC/EOR.
    #[serde(default)]
    pub ppr_limit: Option<Count>,
    /// Answerer behaviour when DIS is not answered.
    #[serde(default)]
    pub dis_repeat: Option<DisRepeatName>,
    /// Caller sends CNG.
    #[serde(default)]
    pub send_cng: Option<bool>,
    /// Answerer's CED length.
    #[serde(default)]
    pub ced_ms: Option<u64>,
    /// Report unknown frames as UNEXPECTED.
    #[serde(default)]
    pub report_unknown_frames: Option<bool>,
    /// Timer values.
    #[serde(default)]
    pub timers: Option<TimersSpec>,
    /// The local operator.
    #[serde(default)]
    pub operator: Option<OperatorSpec>,
    /// Fault injection.
    #[serde(default)]
    pub faults: Option<FaultsSpec>,
    /// A script side's steps.
    #[serde(default)]
    pub steps: Option<Vec<Step>>,
    /// What this side must report.
    #[serde(default)]
    pub expect: Option<ExpectSpec>,
}

/// One run of generated test pages.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageSpec {
    /// The test page kind.
    pub test: TestName,
    /// How many.
    #[serde(default)]
    pub count: Option<Count>,
    /// Resolution.
    #[serde(default)]
    pub resolution: Option<ResolutionName>,
}

/// A test page kind name.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(try_from = "String")]
pub struct TestName(pub t30::image::testpage::TestPageKind);

impl TryFrom<String> for TestName {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        // The short spellings of the scenario contract, beside the test page names.
        let name = match s.as_str() {
            "duration49" => "duration-4.9",
            "duration51" => "duration-5.1",
            "badrows49" => "bad-rows-4.9",
            "badrows151" => "bad-rows-15.1",
            other => other,
        };
        t30::image::testpage::TestPageKind::from_name(name)
            .map(TestName)
            .ok_or_else(|| {
                format!(
                    "unknown test page '{s}' (one of: {})",
                    t30::image::testpage::TestPageKind::ALL
                        .iter()
                        .map(|k| k.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
    }
}

/// A count of 0..=1000.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(try_from = "i64")]
pub struct Count(pub u32);

impl TryFrom<i64> for Count {
    type Error = String;
    fn try_from(v: i64) -> Result<Self, String> {
        if (0..=1000).contains(&v) {
            Ok(Count(v as u32))
        } else {
            Err(format!("must be 0..1000, not {v}"))
        }
    }
}

/// standard | fine | superfine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResolutionName {
    /// 3.85 lines/mm.
    Standard,
    /// 7.7 lines/mm.
    Fine,
    /// 15.4 lines/mm.
    Superfine,
}

/// await-dis | immediate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TurnaroundName {
    /// Wait for the far end's DIS.
    AwaitDis,
    /// DTC straight after MCF.
    Immediate,
}

/// until-t1 | then-dcn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DisRepeatName {
    /// Repeat DIS until T1.
    UntilT1,
    /// `retries` DIS, then DCN.
    ThenDcn,
}

/// 64 or 256.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(try_from = "i64")]
pub struct EcmFrameSizeValue(pub t30::engine::EcmFrameSize);

impl TryFrom<i64> for EcmFrameSizeValue {
    type Error = String;
    fn try_from(v: i64) -> Result<Self, String> {
        match v {
            64 => Ok(EcmFrameSizeValue(t30::engine::EcmFrameSize::Octets64)),
            256 => Ok(EcmFrameSizeValue(t30::engine::EcmFrameSize::Octets256)),
            _ => Err(format!("ECM frames are 64 or 256 octets, not {v}")),
        }
    }
}

/// A fax bit rate.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(try_from = "i64")]
pub struct RateValue(pub u32);

impl TryFrom<i64> for RateValue {
    type Error = String;
    fn try_from(v: i64) -> Result<Self, String> {
        if [2400, 4800, 7200, 9600, 12000, 14400].contains(&v) {
            Ok(RateValue(v as u32))
        } else {
            Err(format!(
                "no fax modem runs at {v} bit/s (2400, 4800, 7200, 9600, 12000, 14400)"
            ))
        }
    }
}

/// 0, 5, 10, 20 or 40 ms.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(try_from = "i64")]
pub struct ScanTime(pub u8);

impl TryFrom<i64> for ScanTime {
    type Error = String;
    fn try_from(v: i64) -> Result<Self, String> {
        if [0, 5, 10, 20, 40].contains(&v) {
            Ok(ScanTime(v as u8))
        } else {
            Err(format!("scan-line time is 0, 5, 10, 20 or 40 ms, not {v}"))
        }
    }
}

/// v17 | v29 | v27ter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModemName {
    /// V.17.
    V17,
    /// V.29.
    V29,
    /// V.27ter.
    V27ter,
}

/// mh | mr | mmr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CodingName {
    /// T.4 1-D.
    Mh,
    /// T.4 2-D.
    Mr,
    /// T.6.
    Mmr,
}

/// A station identity: at most 20 printable characters.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "String")]
pub struct Ident(pub String);

impl TryFrom<String> for Ident {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        if s.chars().count() > 20 || !s.chars().all(|c| (' '..='~').contains(&c)) {
            Err(format!(
                "an identity is at most 20 printable ASCII characters, not {s:?}"
            ))
        } else {
            Ok(Ident(s))
        }
    }
}

/// Octets in hex ("b5 00 51", spaces allowed).
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "String")]
pub struct Hex(pub Vec<u8>);

impl TryFrom<String> for Hex {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        let digits: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        if digits.is_empty() || !digits.len().is_multiple_of(2) {
            return Err(format!("hex needs pairs of digits, not {s:?}"));
        }
        (0..digits.len())
            .step_by(2)
            .map(|i| {
                u8::from_str_radix(&digits[i..i + 2], 16).map_err(|_| format!("not hex: {s:?}"))
            })
            .collect::<Result<Vec<u8>, String>>()
            .map(Hex)
    }
}

/// A T.30 frame name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct FcfName(pub Fcf);

impl PartialOrd for FcfName {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

// Map keys are ordered by name so that a map of frames iterates the same way every run.
impl Ord for FcfName {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.name().cmp(other.0.name())
    }
}

impl TryFrom<String> for FcfName {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Fcf::from_name(&s)
            .map(FcfName)
            .ok_or_else(|| format!("unknown T.30 frame name '{s}'"))
    }
}

/// `accept` value: "any", "reject", or a list of accepted values.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "AcceptRaw")]
pub struct AcceptValue(pub t30::engine::Accept);

/// The raw forms of an accept value.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum AcceptRaw {
    /// "any" or "reject".
    Word(String),
    /// The accepted values.
    List(Vec<String>),
}

impl TryFrom<AcceptRaw> for AcceptValue {
    type Error = String;
    fn try_from(v: AcceptRaw) -> Result<Self, String> {
        use t30::engine::Accept;
        match v {
            AcceptRaw::Word(w) if w == "any" => Ok(AcceptValue(Accept::Any)),
            AcceptRaw::Word(w) if w == "reject" => Ok(AcceptValue(Accept::Reject)),
            AcceptRaw::Word(w) => Err(format!(
                "accept is \"any\", \"reject\" or a list of values, not {w:?}"
            )),
            AcceptRaw::List(l) => Ok(AcceptValue(Accept::OneOf(l))),
        }
    }
}

/// `[side.timers]`, milliseconds.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimersSpec {
    /// T0.
    pub t0_ms: Option<u64>,
    /// T1.
    pub t1_ms: Option<u64>,
    /// T2.
    pub t2_ms: Option<u64>,
    /// T3.
    pub t3_ms: Option<u64>,
    /// T4.
    pub t4_ms: Option<u64>,
    /// T5.
    pub t5_ms: Option<u64>,
    /// Wait for TCF after DCS.
    pub tcf_wait_ms: Option<u64>,
    /// Longest V.21 carrier accepted.
    pub max_control_carrier_ms: Option<u64>,
    /// Silence between signals.
    pub gap_ms: Option<u64>,
}

/// `[side.operator]`.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorSpec {
    /// Ask for a procedure interrupt after this page.
    pub interrupt_after_page: Option<u32>,
    /// The operator comes this many ms after being alerted.
    pub answers_after_ms: Option<u64>,
    /// Whether the operator agrees to talk.
    #[serde(default)]
    pub accept: bool,
}

/// `[side.faults]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultsSpec {
    /// Faults on frames sent.
    #[serde(default)]
    pub frames: Vec<FrameRuleSpec>,
    /// Faults on the first TCFs.
    #[serde(default)]
    pub tcf: Vec<TcfFaultSpec>,
    /// Non-ECM rows corrupted on a page's first transmission.
    #[serde(default)]
    pub corrupt_rows: Vec<CorruptRowsSpec>,
    /// Non-ECM pages cut short.
    #[serde(default)]
    pub cut_page: Vec<CutPageSpec>,
    /// ECM frames sent with a bad FCS.
    #[serde(default)]
    pub corrupt_ecm_frames: Vec<CorruptEcmSpec>,
    /// Wrong responses forced.
    #[serde(default)]
    pub force_response: Vec<ForceSpec>,
    /// Go silent after receiving a frame.
    #[serde(default)]
    pub silence_after_rx: Option<AfterRxSpec>,
    /// Hang up after receiving a frame.
    #[serde(default)]
    pub hang_up_after_rx: Option<AfterRxSpec>,
    /// Never hang up at the end.
    #[serde(default)]
    pub no_hang_up: bool,
}

fn one_u32() -> u32 {
    1
}

/// `[[side.faults.frames]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrameRuleSpec {
    /// Frame type.
    pub fcf: FcfName,
    /// Which one (1-based, 0 = every).
    #[serde(default = "one_u32")]
    pub occurrence: u32,
    /// The fault.
    pub fault: FrameFaultSpec,
}

/// A frame fault, as a word or a one-key table.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FrameFaultSpec {
    /// Not sent.
    Drop,
    /// Bad FCS.
    CorruptFcs,
    /// Silent after it.
    SilenceAfter,
    /// Hang up after it.
    HangUpAfter,
    /// Other octets instead.
    Replace(Hex),
    /// Octets before it.
    InsertBefore(Hex),
    /// Sent late.
    DelayMs(u64),
    /// Only flags.
    FlagsOnly(u32),
    /// Carrier held after it.
    HoldCarrierMs(u64),
}

/// A TCF fault.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TcfFaultSpec {
    /// No TCF.
    Missing,
    /// At the lowest rate.
    WrongRate,
    /// This octet instead of zeros.
    Pattern(u8),
    /// Too short.
    ShortMs(u64),
}

/// `{ page, rows }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorruptRowsSpec {
    /// Page, 1-based.
    pub page: u32,
    /// Rows, 0-based.
    pub rows: Vec<u32>,
}

/// `{ page, percent }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CutPageSpec {
    /// Page, 1-based.
    pub page: u32,
    /// Percentage of the page's data sent.
    pub percent: Percent,
}

/// 0..=100.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(try_from = "i64")]
pub struct Percent(pub u32);

impl TryFrom<i64> for Percent {
    type Error = String;
    fn try_from(v: i64) -> Result<Self, String> {
        if (0..=100).contains(&v) {
            Ok(Percent(v as u32))
        } else {
            Err(format!("a percentage is 0..100, not {v}"))
        }
    }
}

/// `{ page, frames, times }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorruptEcmSpec {
    /// Page, 1-based.
    pub page: u32,
    /// Frame numbers in the first block.
    pub frames: Vec<u8>,
    /// Transmissions affected.
    #[serde(default = "one_u32")]
    pub times: u32,
}

/// `{ fcf, times }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForceSpec {
    /// The response to send instead (FTT, RTN, RTP, PPR, RNR, CRP).
    pub fcf: FcfName,
    /// How many times.
    #[serde(default = "one_u32")]
    pub times: u32,
}

/// `{ fcf, occurrence }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AfterRxSpec {
    /// Frame type received.
    pub fcf: FcfName,
    /// Which one (1-based).
    #[serde(default = "one_u32")]
    pub occurrence: u32,
}

/// `[side.expect]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectSpec {
    /// SUCCESS or FAILED.
    #[serde(default)]
    pub status: Option<StatusName>,
    /// Exact error string (table A or B).
    #[serde(default)]
    pub error: Option<KnownError>,
    /// Completion code.
    #[serde(default)]
    pub code: Option<CodeValue>,
    /// Symbolic completion name.
    #[serde(default)]
    pub completion: Option<CompletionName>,
    /// Pages, exactly.
    #[serde(default)]
    pub pages: Option<u32>,
    /// Last bit rate.
    #[serde(default)]
    pub rate: Option<u32>,
    /// Last modem ("V.17", "V.29", "V.27ter").
    #[serde(default)]
    pub modem: Option<ModemText>,
    /// "yes" or "no".
    #[serde(default)]
    pub ecm: Option<YesNo>,
    /// "MH", "MR", "MMR".
    #[serde(default)]
    pub coding: Option<String>,
    /// FAXOPT(resolution) text, e.g. "8040x7700".
    #[serde(default)]
    pub resolution: Option<String>,
    /// The far end's identity.
    #[serde(default)]
    pub remote_ident: Option<String>,
    /// Pattern over the frames this side sent.
    #[serde(default)]
    pub frames_tx: Option<Vec<PatternToken>>,
    /// Pattern over the frames this side received.
    #[serde(default)]
    pub frames_rx: Option<Vec<PatternToken>>,
    /// When this side finished, seconds of call time: [min, max].
    #[serde(default)]
    pub duration_s: Option<Window>,
    /// Bad rows kept: [min, max].
    #[serde(default)]
    pub bad_rows: Option<[u32; 2]>,
    /// ECM retransmission requests: [min, max].
    #[serde(default)]
    pub ecm_retries: Option<[u32; 2]>,
    /// Training attempts: [min, max].
    #[serde(default)]
    pub trainings: Option<[u32; 2]>,
    /// Whether the call hit its time limit.
    #[serde(default)]
    pub limit_reached: Option<bool>,
    /// The pages this side received are pixel-identical to the pages the far end sent.
    #[serde(default)]
    pub pages_identical: Option<bool>,
}

/// SUCCESS | FAILED.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum StatusName {
    /// Success.
    #[serde(rename = "SUCCESS")]
    Success,
    /// Failure.
    #[serde(rename = "FAILED")]
    Failed,
}

impl StatusName {
    /// As records spell it.
    pub fn text(self) -> &'static str {
        match self {
            StatusName::Success => "SUCCESS",
            StatusName::Failed => "FAILED",
        }
    }
}

/// An exact string of error-strings.md (table A or B).
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "String")]
pub struct KnownError(pub String);

impl TryFrom<String> for KnownError {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        if Completion::from_text(&s).is_some() || PipelineError::all().any(|p| p.text() == s) {
            Ok(KnownError(s))
        } else {
            Err(format!(
                "{s:?} is not an exact completion or pipeline string (see `faxsim errors`)"
            ))
        }
    }
}

/// A completion code 0..=61.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(try_from = "i64")]
pub struct CodeValue(pub u32);

impl TryFrom<i64> for CodeValue {
    type Error = String;
    fn try_from(v: i64) -> Result<Self, String> {
        u8::try_from(v)
            .ok()
            .and_then(Completion::from_code)
            .map(|c| CodeValue(c.code() as u32))
            .ok_or_else(|| format!("no completion code {v} (see `faxsim errors`)"))
    }
}

/// A symbolic completion name.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(try_from = "String")]
pub struct CompletionName(pub Completion);

impl TryFrom<String> for CompletionName {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Completion::from_name(&s)
            .map(CompletionName)
            .ok_or_else(|| format!("unknown completion name '{s}' (see `faxsim errors`)"))
    }
}

/// "V.17" | "V.29" | "V.27ter".
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "String")]
pub struct ModemText(pub String);

impl TryFrom<String> for ModemText {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        if ["V.17", "V.29", "V.27ter"].contains(&s.as_str()) {
            Ok(ModemText(s))
        } else {
            Err(format!(
                "modem is \"V.17\", \"V.29\" or \"V.27ter\", not {s:?}"
            ))
        }
    }
}

/// "yes" | "no".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum YesNo {
    /// yes.
    Yes,
    /// no.
    No,
}

/// [min, max] with min <= max.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(try_from = "[Number; 2]")]
pub struct Window(pub f64, pub f64);

impl TryFrom<[Number; 2]> for Window {
    type Error = String;
    fn try_from(v: [Number; 2]) -> Result<Self, String> {
        let (a, b) = (v[0].value(), v[1].value());
        if a.is_finite() && b.is_finite() && a >= 0.0 && a <= b {
            Ok(Window(a, b))
        } else {
            Err(format!(
                "a window is [min, max] with 0 <= min <= max, not [{a}, {b}]"
            ))
        }
    }
}

/// One element of a frame pattern: a frame name with an optional `?`, `*` or `+`, or `...`
/// (any frames).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct PatternToken {
    /// The frame name; empty for `...`.
    pub name: String,
    /// Fewest repeats.
    pub min: u32,
    /// Most repeats (`u32::MAX`: unbounded).
    pub max: u32,
}

impl TryFrom<String> for PatternToken {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        if s == "..." || s == "…" {
            return Ok(PatternToken {
                name: String::new(),
                min: 0,
                max: u32::MAX,
            });
        }
        let (name, min, max) = match s.chars().last() {
            Some('?') => (&s[..s.len() - 1], 0, 1),
            Some('*') => (&s[..s.len() - 1], 0, u32::MAX),
            Some('+') => (&s[..s.len() - 1], 1, u32::MAX),
            _ => (s.as_str(), 1, 1),
        };
        // TCF, CED and CNG are signals rather than frames: the trace never lists them, so
        // they only make sense as optional elements, but they are spelled as users expect.
        let signal = ["TCF", "CED", "CNG"].contains(&name);
        if Fcf::from_name(name).is_none() && !name.starts_with("FCF 0x") && !signal {
            return Err(format!(
                "frame pattern element {s:?}: unknown frame name (a T.30 frame name, \
                 optionally followed by ?, * or +, or \"...\")"
            ));
        }
        Ok(PatternToken {
            name: Fcf::from_name(name).map_or(name.to_string(), |f| f.name().to_string()),
            min,
            max,
        })
    }
}
