//! The script endpoint: a side that runs a list of steps instead of an engine (the TSB-85
//! tester). Each step sends something, waits, or checks what the far end does; every check
//! leaves a [`CheckResult`], and the endpoint's record is SUCCESS when all passed and every
//! step ran.
//!
//! Sending uses our modems exactly as the builtin endpoint does (V.21 channel 2 with HDLC
//! for control frames, the fast modems for TCF, pages and ECM blocks, the tone generator for
//! CNG/CED). Receiving runs V.21 channel 2 with HDLC, the CNG/CED detector and a signal
//! detector that notes where every burst of the far end starts and ends (5 ms resolution),
//! so that timing checks (CED length, preamble length, gaps, response delays) measure the
//! signal itself. Once the far end has sent a DCS, the fast modem it chose listens as well, so
//! the frames of its ECM blocks can be checked; its TCF and non-ECM pages are seen as bursts.
//!
//! Steps that expect something look at what arrived since the last send step started (a
//! response to something older is stale) and after what earlier expect steps consumed.

pub mod frames;

use modem::hdlc::{Deframing, HdlcDeframer, HdlcRxConfig, T30_PREAMBLE_FLAGS};
use modem::tones::{ToneDetector, ToneEvent, ToneSegment, ToneTx};
use modem::{ModemKind, Receiver, RxConfig, Transmitter, TxConfig};
use serde::{Deserialize, Serialize};
use t30::SampleTime;
use t30::engine::Role;
use t30::frame::dis::modem_name::Modem;
use t30::frame::{DisBits, Fcf, Frame, FrameKind, decode_ident};
use t30::image::codec::{Coding, EncodeOptions, encode_page, min_row_bits};
use t30::image::testpage::{TestPageKind, TestPageOptions, make_test_page};

use self::frames::{
    CodingName, FrameContext, FrameSpec, HexPattern, ModemName, build_frame, describe, hex,
    name_matches, parse_name,
};
use super::builtin::{
    BurstSource, FastSink, FastState, Heard, Item, TAIL_MS, TX_DBM0, V21Sink, ecm_line_order,
    fast_preamble_flags, modem_kind,
};
use super::record::{Files, FrameRecord, Record};
use super::{Endpoint, EndpointOutcome};

/// A time window in milliseconds, `[min, max]`, both inclusive.
pub type Window = [u64; 2];

/// The tones a script sends or expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ToneKind {
    /// The calling tone, 1100 Hz.
    Cng,
    /// The answer tone, 2100 Hz.
    Ced,
}

/// One step of a script. See `scenarios/script-steps.md` for every key with examples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Step {
    /// Send nothing for this long.
    Wait {
        /// Milliseconds.
        ms: u64,
    },
    /// Send CNG or CED.
    SendTone {
        /// Which tone.
        tone: ToneKind,
        /// Length of the tone (default: CED 3000 ms, CNG 500 ms); with `cadence`, of the
        /// whole CNG cadence.
        #[serde(default)]
        ms: Option<u64>,
        /// CNG as T.30 cadences it: 0.5 s on, 3 s off, repeated for `ms`.
        #[serde(default)]
        cadence: bool,
        /// Silence before sending, ms (default 75).
        #[serde(default)]
        gap_ms: Option<u64>,
    },
    /// Send a V.21 burst of flags only (no frame).
    SendPreamble {
        /// Number of flags.
        flags: u32,
        /// Silence before sending, ms (default 75).
        #[serde(default)]
        gap_ms: Option<u64>,
    },
    /// Send HDLC frames in one V.21 burst.
    SendFrames {
        /// The frames, in order.
        frames: Vec<FrameSpec>,
        /// Flags before the first frame (default 38, about 1 s).
        #[serde(default)]
        preamble_flags: Option<u32>,
        /// Silence before sending, ms (default 75).
        #[serde(default)]
        gap_ms: Option<u64>,
    },
    /// Send TCF on the fast modem.
    SendTcf {
        /// Length in ms (default 1500).
        #[serde(default)]
        ms: Option<u64>,
        /// Length in octets (instead of `ms`).
        #[serde(default)]
        bytes: Option<u32>,
        /// Modem (default: the one of the last DCS sent).
        #[serde(default)]
        modem: Option<ModemName>,
        /// Rate (default: the one of the last DCS sent).
        #[serde(default)]
        rate: Option<u32>,
        /// Octet to send instead of zeros (a bad TCF; default 0).
        #[serde(default)]
        pattern: Option<u8>,
        /// Only this many octets of `pattern` first, zeros after.
        #[serde(default)]
        pattern_bytes: Option<u32>,
        /// Silence before sending, ms (default 75).
        #[serde(default)]
        gap_ms: Option<u64>,
    },
    /// Send a non-ECM page (a generated test page) on the fast modem.
    SendPage {
        /// Test page kind (`t30::image::testpage` names: white, diag, duration-4.9, …).
        page: String,
        /// Page index within its document (DIAG_1 = 0, DIAG_2 = 1).
        #[serde(default)]
        index: u32,
        /// Rows (0-based) to corrupt.
        #[serde(default)]
        corrupt_rows: Vec<u32>,
        /// Corrupt the rows the test page itself names (bad-rows pages).
        #[serde(default)]
        corrupt: bool,
        /// Coding (default: the one of the last DCS sent).
        #[serde(default)]
        coding: Option<CodingName>,
        /// Modem (default: the one of the last DCS sent).
        #[serde(default)]
        modem: Option<ModemName>,
        /// Rate (default: the one of the last DCS sent).
        #[serde(default)]
        rate: Option<u32>,
        /// Silence before sending, ms (default 75).
        #[serde(default)]
        gap_ms: Option<u64>,
    },
    /// Send one ECM block of a test page (FCD frames and RCP on the fast modem), then PPS.
    SendEcmPage {
        /// Test page kind (`stairstep` fills exact blocks).
        page: String,
        /// Page index within its document.
        #[serde(default)]
        index: u32,
        /// Stairstep pages: coded size in octets (default 16384).
        #[serde(default)]
        bytes: Option<u32>,
        /// Frame size, 64 or 256 (default: that of the last DCS sent).
        #[serde(default)]
        frame_size: Option<u32>,
        /// Which block of the page (0-based; 256 frames per block).
        #[serde(default)]
        block: u32,
        /// PPS page counter (default 0).
        #[serde(default)]
        page_no: u8,
        /// Post-page command carried in PPS: NULL, MPS, EOP or EOM (default: NULL unless
        /// this is the page's last block, where it must be given).
        #[serde(default)]
        post: Option<String>,
        /// Frames (numbers within the block) sent with a bad FCS.
        #[serde(default)]
        corrupt_frames: Vec<u32>,
        /// Send only these frames of the block (a retransmission).
        #[serde(default)]
        frames: Option<Vec<u32>>,
        /// Send only the frames the far end's last PPR asked for.
        #[serde(default)]
        resend_ppr: bool,
        /// Coding (default: the one of the last DCS sent).
        #[serde(default)]
        coding: Option<CodingName>,
        /// Modem (default: the one of the last DCS sent).
        #[serde(default)]
        modem: Option<ModemName>,
        /// Rate (default: the one of the last DCS sent).
        #[serde(default)]
        rate: Option<u32>,
        /// Send the block but not the PPS.
        #[serde(default)]
        no_pps: bool,
        /// Silence before sending, ms (default 75).
        #[serde(default)]
        gap_ms: Option<u64>,
    },
    /// Expect a frame from the far end within a time.
    ExpectFrame {
        /// Frame name ("DIS", "MCF", "PPS-EOP", …); the first frame of that type counts.
        #[serde(default)]
        frame: Option<String>,
        /// Hex pattern of the whole frame (`??` any octet, `a0/f0` masked, `*` rest); with
        /// `frame` a check on that frame, alone the first frame that matches counts.
        #[serde(default)]
        hex: Option<String>,
        /// Hex pattern of the information field.
        #[serde(default)]
        fif: Option<String>,
        /// The identity text the frame must carry (CSI, TSI, …).
        #[serde(default)]
        ident: Option<String>,
        /// DIS/DTC/DCS bits that must be set.
        #[serde(default)]
        bits_set: Vec<u32>,
        /// DIS/DTC/DCS bits that must be clear.
        #[serde(default)]
        bits_clear: Vec<u32>,
        /// DCS: the modem it must choose.
        #[serde(default)]
        modem: Option<ModemName>,
        /// DCS: the rate it must choose.
        #[serde(default)]
        rate: Option<u32>,
        /// Give up after this long, ms (default 10000).
        #[serde(default)]
        within_ms: Option<u64>,
        /// The first frame received must be this one (others in between fail the check).
        #[serde(default)]
        strict: bool,
        /// Window for the delay from this step's start to the start of the burst carrying
        /// the frame.
        #[serde(default)]
        delay_ms: Option<Window>,
        /// Window for the flags before the first frame of the burst carrying the frame.
        #[serde(default)]
        preamble_ms: Option<Window>,
        /// Window for the silence between the far end's previous signal and this burst.
        #[serde(default)]
        gap_ms: Option<Window>,
    },
    /// Expect CNG or CED, optionally with its length in a window.
    ExpectTone {
        /// Which tone.
        tone: ToneKind,
        /// Give up after this long, ms (default 10000).
        #[serde(default)]
        within_ms: Option<u64>,
        /// Window for the tone's length.
        #[serde(default)]
        duration_ms: Option<Window>,
    },
    /// Expect that no signal starts for this long.
    ExpectSilence {
        /// Milliseconds.
        ms: u64,
    },
    /// Expect a burst of any signal (e.g. TCF or a page on a fast modem) and wait for its end.
    ExpectSignal {
        /// Give up after this long, ms (default 10000).
        #[serde(default)]
        within_ms: Option<u64>,
        /// Window for the burst's length.
        #[serde(default)]
        duration_ms: Option<Window>,
        /// ECM: the burst must carry exactly these FCD frame numbers (good FCS), on the modem
        /// the far end's last DCS (or CTC) set.
        #[serde(default)]
        fcd_frames: Option<Vec<u32>>,
        /// ECM: the burst must carry exactly the frames the tester's last PPR asked for.
        #[serde(default)]
        fcd_as_ppr: bool,
    },
    /// Expect the far end to clear the line (its hang-up reaches us through the network)
    /// within a window from this step's start.
    ExpectClear {
        /// Window, ms.
        within_ms: Window,
    },
    /// Hang up: the script ends here.
    HangUp,
}

/// The result of one check of a script.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    /// Index of the step (0-based) that made the check.
    pub step: usize,
    /// What was checked, in words.
    pub what: String,
    /// Whether it held.
    pub passed: bool,
    /// What was seen.
    pub detail: String,
}

/// Default time an expect step waits.
const DEFAULT_WITHIN_MS: u64 = 10_000;
/// Default silence before a send step.
const DEFAULT_GAP_MS: u64 = 75;
/// Resolution of the signal detector, samples (5 ms).
const CHUNK: usize = 40;
/// Signal detector threshold, dBm0: well under any fax signal, well over our channels'
/// idle noise.
const SIGNAL_DBM0: f32 = -45.0;

/// A burst of signal from the far end.
#[derive(Debug, Clone, Copy)]
struct Burst {
    start: SampleTime,
    end: Option<SampleTime>,
    /// End of the burst before it.
    prev_end: Option<SampleTime>,
    /// Estimated start of its first HDLC frame.
    first_frame_start: Option<SampleTime>,
}

/// Something the far end sent.
#[derive(Debug, Clone)]
enum Event {
    Frame {
        bytes: Vec<u8>,
        ok: bool,
        time: SampleTime,
        burst: usize,
    },
    /// An FCD frame number received on the fast modem in this burst.
    Fcd {
        frame: u32,
        time: SampleTime,
        burst: usize,
    },
    ToneOn(ToneKind, SampleTime),
    ToneOff(ToneKind, SampleTime, f32),
}

impl Event {
    fn time(&self) -> SampleTime {
        match self {
            Event::Frame { time, .. }
            | Event::Fcd { time, .. }
            | Event::ToneOn(_, time)
            | Event::ToneOff(_, time, _) => *time,
        }
    }
}

enum TxJob {
    Tone(ToneTx),
    Modem {
        kind: ModemKind,
        cfg: TxConfig,
        src: BurstSource,
    },
}

enum Tx {
    Idle,
    Tone(ToneTx),
    Modem(Box<dyn Transmitter + Send>, BurstSource),
}

/// What the current step is doing.
enum Run {
    /// Not started.
    Fresh,
    /// A send step: jobs left, each with its gap; when the next one starts (`None` while
    /// one is on the line).
    Sending {
        jobs: Vec<(u64, TxJob)>,
        next_at: Option<SampleTime>,
    },
    /// A wait or expect step in progress.
    Waiting {
        /// ExpectTone: the tone has come on at this time.
        tone_on: Option<SampleTime>,
    },
}

/// The fast-modem receiver, set up for the far end's last DCS.
struct FastListen {
    modem: Modem,
    rate: u32,
    ecm: bool,
    rx: Box<dyn Receiver + Send>,
    st: FastState,
    /// The next burst is TCF (plain octets, long training).
    tcf_next: bool,
    /// The next V.17 training is a long one.
    long_next: bool,
}

/// A scripted side of a call.
pub struct ScriptEndpoint {
    steps: Vec<Step>,
    role: Role,
    pc: usize,
    step_start: SampleTime,
    run: Run,
    tx: Tx,
    v21: Box<dyn Receiver + Send>,
    v21_deframer: HdlcDeframer,
    tones: ToneDetector,
    heard: Vec<Heard>,
    events: Vec<Event>,
    /// Events before this index are consumed or stale.
    cursor: usize,
    /// Start of the last send step: older events are stale.
    since: SampleTime,
    bursts: Vec<Burst>,
    ctx: FrameContext,
    last_dcs: Option<DisBits>,
    last_ppr: Option<Vec<u8>>,
    /// Frame numbers the tester's last PPR asked for.
    sent_ppr: Option<Vec<u32>>,
    fast: Option<FastListen>,
    long_train_next: bool,
    checks: Vec<CheckResult>,
    trace: Vec<FrameRecord>,
    cleared: Option<SampleTime>,
    end: Option<SampleTime>,
    hung_up: bool,
}

impl ScriptEndpoint {
    /// A script for `role`; `seed` feeds anything random the steps do (none so far: every
    /// step is explicit).
    pub fn new(steps: &[Step], role: Role, _seed: u64) -> Result<ScriptEndpoint, String> {
        for (i, s) in steps.iter().enumerate() {
            validate(s).map_err(|e| format!("step {} ({}): {e}", i + 1, op_name(s)))?;
        }
        let v21 = modem::new_receiver(
            ModemKind::V21Ch2,
            &RxConfig {
                rate: 300,
                short_train: false,
            },
        )
        .map_err(|e| e.to_string())?;
        Ok(ScriptEndpoint {
            steps: steps.to_vec(),
            role,
            pc: 0,
            step_start: SampleTime::ZERO,
            run: Run::Fresh,
            tx: Tx::Idle,
            v21,
            v21_deframer: HdlcDeframer::new(HdlcRxConfig::default()),
            tones: ToneDetector::new(),
            heard: Vec::new(),
            events: Vec::new(),
            cursor: 0,
            since: SampleTime::ZERO,
            bursts: Vec::new(),
            ctx: FrameContext::default(),
            last_dcs: None,
            last_ppr: None,
            sent_ppr: None,
            fast: None,
            long_train_next: true,
            checks: Vec::new(),
            trace: Vec::new(),
            cleared: None,
            end: None,
            hung_up: false,
        })
    }

    /// The checks made so far.
    pub fn checks(&self) -> &[CheckResult] {
        &self.checks
    }

    fn check(&mut self, what: impl Into<String>, passed: bool, detail: impl Into<String>) {
        self.checks.push(CheckResult {
            step: self.pc,
            what: what.into(),
            passed,
            detail: detail.into(),
        });
    }

    fn next_step(&mut self, now: SampleTime) {
        self.pc += 1;
        self.step_start = now;
        self.run = Run::Fresh;
    }

    fn finish(&mut self, now: SampleTime) {
        if self.end.is_none() {
            self.end = Some(now);
            self.hung_up = true;
            self.tx = Tx::Idle;
        }
    }

    /// Runs steps as far as they can go at `now` (a send step's transmissions start in
    /// `transmit`, when their gap is over).
    fn advance(&mut self, now: SampleTime) {
        while self.end.is_none() {
            let Some(step) = self.steps.get(self.pc).cloned() else {
                self.finish(now);
                return;
            };
            if matches!(self.run, Run::Fresh) {
                self.begin(&step, now);
                if self.end.is_some() {
                    return;
                }
            }
            if !self.poll_step(&step, now) {
                return;
            }
        }
    }

    /// Starts `step` at `now`.
    fn begin(&mut self, step: &Step, now: SampleTime) {
        self.step_start = now;
        let jobs = match self.jobs(step) {
            Ok(j) => j,
            Err(e) => {
                self.check(format!("{} can be sent", op_name(step)), false, e);
                Some(Vec::new())
            }
        };
        self.run = match jobs {
            Some(jobs) => {
                self.since = now;
                self.cursor = self.events.len();
                let next_at = jobs.first().map(|j| now + SampleTime::from_ms(j.0));
                Run::Sending { jobs, next_at }
            }
            None => Run::Waiting { tone_on: None },
        };
        if matches!(step, Step::HangUp) {
            self.finish(now);
        }
    }

    /// Whether `step` is complete at `now` (then the next step has been entered).
    fn poll_step(&mut self, step: &Step, now: SampleTime) -> bool {
        let elapsed = now.0.saturating_sub(self.step_start.0) / 8;
        match step {
            Step::Wait { ms } => {
                if elapsed < *ms {
                    return false;
                }
            }
            Step::SendTone { .. }
            | Step::SendPreamble { .. }
            | Step::SendFrames { .. }
            | Step::SendTcf { .. }
            | Step::SendPage { .. }
            | Step::SendEcmPage { .. } => {
                let Run::Sending { jobs, .. } = &self.run else {
                    return false;
                };
                if !jobs.is_empty() || !matches!(self.tx, Tx::Idle) {
                    return false;
                }
            }
            Step::ExpectFrame { .. } => {
                if !self.poll_expect_frame(step, now, elapsed) {
                    return false;
                }
            }
            Step::ExpectTone {
                tone,
                within_ms,
                duration_ms,
            } => {
                if !self.poll_expect_tone(
                    *tone,
                    within_ms.unwrap_or(DEFAULT_WITHIN_MS),
                    *duration_ms,
                    elapsed,
                ) {
                    return false;
                }
            }
            Step::ExpectSilence { ms } => {
                let started = self
                    .bursts
                    .iter()
                    .find(|b| b.start >= self.step_start)
                    .map(|b| b.start);
                if let Some(t) = started {
                    let at = (t.0 - self.step_start.0) / 8;
                    self.check(
                        format!("silence for {ms} ms"),
                        false,
                        format!("a signal started after {at} ms"),
                    );
                } else if elapsed < *ms {
                    return false;
                } else {
                    self.check(format!("silence for {ms} ms"), true, "no signal");
                }
            }
            Step::ExpectSignal {
                within_ms,
                duration_ms,
                fcd_frames,
                fcd_as_ppr,
            } => {
                let want = if *fcd_as_ppr {
                    Some(self.sent_ppr.clone().unwrap_or_default())
                } else {
                    fcd_frames.clone()
                };
                let within = within_ms.unwrap_or(DEFAULT_WITHIN_MS);
                if !self.poll_expect_signal(within, *duration_ms, want, elapsed) {
                    return false;
                }
            }
            Step::ExpectClear { within_ms } => {
                let [lo, hi] = *within_ms;
                match self.cleared {
                    Some(t) => {
                        let at = t.0.saturating_sub(self.step_start.0) / 8;
                        self.check(
                            format!("far end clears within {lo}..{hi} ms"),
                            (lo..=hi).contains(&at),
                            format!("cleared after {at} ms"),
                        );
                        self.next_step(now);
                        self.finish(now);
                        return false;
                    }
                    None if elapsed > hi => {
                        self.check(
                            format!("far end clears within {lo}..{hi} ms"),
                            false,
                            format!("still connected after {hi} ms"),
                        );
                    }
                    None => return false,
                }
            }
            Step::HangUp => {
                self.next_step(now);
                return false;
            }
        }
        self.next_step(now);
        true
    }

    fn pending(&self) -> impl Iterator<Item = (usize, &Event)> {
        let since = self.since;
        self.events
            .iter()
            .enumerate()
            .skip(self.cursor)
            .filter(move |(_, e)| e.time() >= since)
    }

    fn poll_expect_frame(&mut self, step: &Step, now: SampleTime, elapsed: u64) -> bool {
        let Step::ExpectFrame {
            frame,
            hex: hex_pat,
            fif,
            ident,
            bits_set,
            bits_clear,
            modem,
            rate,
            within_ms,
            strict,
            delay_ms,
            preamble_ms,
            gap_ms,
        } = step
        else {
            return false;
        };
        let within = within_ms.unwrap_or(DEFAULT_WITHIN_MS);
        let name = frame.as_deref().map(|n| parse_name(n).expect("validated"));
        let pat = hex_pat
            .as_deref()
            .map(|h| HexPattern::parse(h).expect("validated"));
        let label = frame.clone().or(hex_pat.clone()).unwrap_or_default();
        let mut found = None;
        let mut others = Vec::new();
        for (i, e) in self.pending() {
            let Event::Frame {
                bytes,
                ok: true,
                burst,
                ..
            } = e
            else {
                continue;
            };
            let hit = match (&name, &pat) {
                (Some((fcf, cmd)), _) => name_matches(bytes, *fcf, *cmd),
                (None, Some(p)) => p.matches(bytes),
                (None, None) => false,
            };
            if hit {
                found = Some((i, bytes.clone(), *burst));
                break;
            }
            others.push(describe(bytes));
        }
        let Some((i, bytes, burst)) = found else {
            if *strict && !others.is_empty() {
                self.cursor = self.events.len();
                self.check(
                    format!("expect {label}"),
                    false,
                    format!("got {} first", others.join(", ")),
                );
                return true;
            }
            if elapsed >= within || self.cleared.is_some() {
                let why = if self.cleared.is_some() && elapsed < within {
                    "the line was cleared"
                } else {
                    "nothing matching"
                };
                let seen = if others.is_empty() {
                    String::new()
                } else {
                    format!("; got {}", others.join(", "))
                };
                self.check(
                    format!("expect {label} within {within} ms"),
                    false,
                    format!("{why} after {elapsed} ms{seen}"),
                );
                return true;
            }
            return false;
        };
        let _ = now;
        self.cursor = i + 1;
        let mut problems = Vec::new();
        if *strict && !others.is_empty() {
            problems.push(format!("{} came first", others.join(", ")));
        }
        if let (Some(_), Some(p)) = (&name, &pat)
            && !p.matches(&bytes)
        {
            problems.push(format!(
                "frame is {}, pattern {}",
                hex(&bytes),
                hex_pat.as_deref().unwrap_or("")
            ));
        }
        let parsed = Frame::parse(&bytes).ok();
        let field = parsed.as_ref().map(|f| f.fif.clone()).unwrap_or_default();
        if let Some(fp) = fif
            && !HexPattern::parse(fp).expect("validated").matches(&field)
        {
            problems.push(format!("FIF is {}, pattern {fp}", hex(&field)));
        }
        if let Some(id) = ident {
            let got = decode_ident(&field);
            if &got != id {
                problems.push(format!("ident is '{got}', not '{id}'"));
            }
        }
        let bits = DisBits::from_fif(&field);
        for &b in bits_set {
            if !bits.bit(b) {
                problems.push(format!("bit {b} is clear"));
            }
        }
        for &b in bits_clear {
            if bits.bit(b) {
                problems.push(format!("bit {b} is set"));
            }
        }
        if modem.is_some() || rate.is_some() {
            let got = bits.dcs_rate();
            let ok = got.is_some_and(|(m, r)| {
                modem.is_none_or(|w| w.modem() == m) && rate.is_none_or(|w| w == r)
            });
            if !ok {
                problems.push(format!(
                    "modem/rate is {}",
                    got.map_or("reserved".into(), |(m, r)| format!("{} {r}", m.name()))
                ));
            }
        }
        let detail = if problems.is_empty() {
            format!("{} after {elapsed} ms", hex(&bytes))
        } else {
            problems.join("; ")
        };
        self.check(format!("expect {label}"), problems.is_empty(), detail);
        let b = self.bursts[burst];
        if let Some([lo, hi]) = *delay_ms {
            let d = b.start.0 as i64 - self.step_start.0 as i64;
            let d = d / 8;
            self.check(
                format!("{label}: response delay {lo}..{hi} ms"),
                d >= lo as i64 && d <= hi as i64,
                format!("{d} ms"),
            );
        }
        if let Some([lo, hi]) = *preamble_ms {
            let p = b
                .first_frame_start
                .map(|s| s.0.saturating_sub(b.start.0) / 8);
            self.check(
                format!("{label}: preamble {lo}..{hi} ms"),
                p.is_some_and(|p| (lo..=hi).contains(&p)),
                p.map_or("no frame start".into(), |p| format!("{p} ms")),
            );
        }
        if let Some([lo, hi]) = *gap_ms {
            let g = b.prev_end.map(|e| b.start.0.saturating_sub(e.0) / 8);
            self.check(
                format!("{label}: gap before the burst {lo}..{hi} ms"),
                g.is_some_and(|g| (lo..=hi).contains(&g)),
                g.map_or("no earlier signal".into(), |g| format!("{g} ms")),
            );
        }
        true
    }

    fn poll_expect_tone(
        &mut self,
        tone: ToneKind,
        within: u64,
        duration: Option<Window>,
        elapsed: u64,
    ) -> bool {
        let Run::Waiting { tone_on, .. } = self.run else {
            return false;
        };
        let name = match tone {
            ToneKind::Ced => "CED",
            ToneKind::Cng => "CNG",
        };
        let mut on = tone_on;
        let mut off = None;
        let mut consumed = self.cursor;
        for (i, e) in self.pending() {
            match e {
                Event::ToneOn(t, at) if *t == tone && on.is_none() => {
                    on = Some(*at);
                    consumed = i + 1;
                }
                Event::ToneOff(t, _, ms) if *t == tone && on.is_some() => {
                    off = Some(*ms);
                    consumed = i + 1;
                    break;
                }
                _ => {}
            }
        }
        self.cursor = consumed;
        self.run = Run::Waiting { tone_on: on };
        match (on, off) {
            (None, _) if elapsed >= within || self.cleared.is_some() => {
                self.check(
                    format!("expect {name} within {within} ms"),
                    false,
                    format!("no {name} after {elapsed} ms"),
                );
                true
            }
            (None, _) => false,
            (Some(_), None) if duration.is_some() && self.cleared.is_none() => false,
            (Some(at), off) => {
                let at = at.0.saturating_sub(self.step_start.0) / 8;
                self.check(format!("expect {name}"), true, format!("on after {at} ms"));
                if let Some([lo, hi]) = duration {
                    let ms = off.map(|m| m.round() as u64);
                    self.check(
                        format!("{name} lasts {lo}..{hi} ms"),
                        ms.is_some_and(|m| (lo..=hi).contains(&m)),
                        ms.map_or("still on when the line cleared".into(), |m| {
                            format!("{m} ms")
                        }),
                    );
                }
                true
            }
        }
    }

    fn poll_expect_signal(
        &mut self,
        within: u64,
        duration: Option<Window>,
        fcd: Option<Vec<u32>>,
        elapsed: u64,
    ) -> bool {
        let start = self.step_start;
        let idx = self.bursts.iter().position(|b| b.start >= start);
        let Some(idx) = idx else {
            if elapsed >= within || self.cleared.is_some() {
                self.check(
                    format!("expect a signal within {within} ms"),
                    false,
                    format!("none after {elapsed} ms"),
                );
                return true;
            }
            return false;
        };
        let b = self.bursts[idx];
        let Some(end) = b.end else {
            if self.cleared.is_some() {
                self.check("expect a signal", false, "the line cleared during it");
                return true;
            }
            return false;
        };
        let ms = (end.0 - b.start.0) / 8;
        let at = (b.start.0 - start.0) / 8;
        self.check(
            "expect a signal",
            true,
            format!("after {at} ms, {ms} ms long"),
        );
        if let Some([lo, hi]) = duration {
            self.check(
                format!("signal lasts {lo}..{hi} ms"),
                (lo..=hi).contains(&ms),
                format!("{ms} ms"),
            );
        }
        if let Some(want) = fcd {
            let mut got: Vec<u32> = self
                .events
                .iter()
                .filter_map(|e| match e {
                    Event::Fcd { frame, burst, .. } if *burst == idx => Some(*frame),
                    _ => None,
                })
                .collect();
            got.dedup();
            self.check(
                format!("ECM frames {}", list(&want)),
                got == want,
                format!("got {}", list(&got)),
            );
        }
        true
    }

    /// The transmissions of a send step (`None` for other steps).
    fn jobs(&mut self, step: &Step) -> Result<Option<Vec<(u64, TxJob)>>, String> {
        let gap = |g: &Option<u64>| g.unwrap_or(DEFAULT_GAP_MS);
        Ok(Some(match step {
            Step::SendTone {
                tone,
                ms,
                cadence,
                gap_ms,
            } => {
                let t = match tone {
                    ToneKind::Ced => ToneTx::ced(ms.unwrap_or(3000) as u32, false, TX_DBM0),
                    ToneKind::Cng if *cadence => {
                        let total = ms.unwrap_or(3500);
                        let mut segs = Vec::new();
                        let mut left = total;
                        while left > 0 {
                            let on = left.min(500);
                            segs.push(ToneSegment {
                                freq_hz: modem::tones::CNG_HZ,
                                duration_ms: on as u32,
                            });
                            left -= on;
                            let off = left.min(3000);
                            if off > 0 {
                                segs.push(ToneSegment {
                                    freq_hz: 0.0,
                                    duration_ms: off as u32,
                                });
                            }
                            left -= off;
                        }
                        ToneTx::new(&segs, false, TX_DBM0)
                    }
                    ToneKind::Cng => ToneTx::new(
                        &[ToneSegment {
                            freq_hz: modem::tones::CNG_HZ,
                            duration_ms: ms.unwrap_or(500) as u32,
                        }],
                        false,
                        TX_DBM0,
                    ),
                };
                vec![(gap(gap_ms), TxJob::Tone(t))]
            }
            Step::SendPreamble { flags, gap_ms } => {
                let mut src = BurstSource::new(true);
                src.items.push_back(Item::Flags(*flags));
                vec![(gap(gap_ms), v21_job(src))]
            }
            Step::SendFrames {
                frames,
                preamble_flags,
                gap_ms,
            } => {
                let mut src = BurstSource::new(true);
                src.items.push_back(Item::Flags(
                    preamble_flags.unwrap_or(T30_PREAMBLE_FLAGS as u32),
                ));
                for (i, f) in frames.iter().enumerate() {
                    let bytes = build_frame(f, &self.ctx, i + 1 == frames.len())?;
                    self.note_sent(&bytes, !f.bad_fcs);
                    src.items.push_back(Item::Frame(bytes, !f.bad_fcs));
                }
                vec![(gap(gap_ms), v21_job(src))]
            }
            Step::SendTcf {
                ms,
                bytes,
                modem,
                rate,
                pattern,
                pattern_bytes,
                gap_ms,
            } => {
                let (m, r) = self.rate_for(*modem, *rate)?;
                let n = match (bytes, ms) {
                    (Some(b), _) => *b as u64,
                    (None, ms) => r as u64 * ms.unwrap_or(1500) / 8000,
                } as usize;
                let mut data = vec![0u8; n];
                if let Some(p) = pattern {
                    let k = pattern_bytes.map_or(n, |k| (k as usize).min(n));
                    data[..k].fill(*p);
                }
                let long = std::mem::replace(&mut self.long_train_next, false) || m != Modem::V17;
                let mut src = BurstSource::new(false);
                src.tail_bits = r * TAIL_MS / 1000;
                src.items.push_back(Item::Raw(data));
                vec![(gap(gap_ms), fast_job(m, r, !long, src))]
            }
            Step::SendPage {
                page,
                index,
                corrupt_rows,
                corrupt,
                coding,
                modem,
                rate,
                gap_ms,
            } => {
                let (m, r) = self.rate_for(*modem, *rate)?;
                let data = self.page_data(page, *index, corrupt_rows, *corrupt, *coding, r)?;
                let short = m == Modem::V17 && !std::mem::replace(&mut self.long_train_next, false);
                let mut src = BurstSource::new(false);
                src.tail_bits = r * TAIL_MS / 1000;
                src.items
                    .push_back(Item::Raw(data.iter().map(|b| b.reverse_bits()).collect()));
                vec![(gap(gap_ms), fast_job(m, r, short, src))]
            }
            Step::SendEcmPage { .. } => self.ecm_jobs(step)?,
            _ => return Ok(None),
        }))
    }

    fn ecm_jobs(&mut self, step: &Step) -> Result<Vec<(u64, TxJob)>, String> {
        let Step::SendEcmPage {
            page,
            index,
            bytes,
            frame_size,
            block,
            page_no,
            post,
            corrupt_frames,
            frames,
            resend_ppr,
            coding,
            modem,
            rate,
            no_pps,
            gap_ms,
        } = step
        else {
            return Ok(Vec::new());
        };
        let (m, r) = self.rate_for(*modem, *rate)?;
        let kind =
            TestPageKind::from_name(page).ok_or_else(|| format!("unknown test page '{page}'"))?;
        let size = frame_size
            .or(self
                .last_dcs
                .as_ref()
                .map(|d| if d.bit(28) { 64 } else { 256 }))
            .unwrap_or(256) as usize;
        let coding = self.coding_for(*coding);
        let opts = TestPageOptions {
            resolution: self.resolution(),
            coding,
            bit_rate: r,
            ecm_bytes: bytes.unwrap_or(16_384),
        };
        let tp = make_test_page(kind, *index, &opts).map_err(|e| e.to_string())?;
        let data = match tp.coded {
            Some(d) => d,
            None => encode_page(&tp.bitmap, &EncodeOptions::line(coding)).data,
        };
        let all: Vec<&[u8]> = data.chunks(size).collect();
        let blocks = all.len().div_ceil(256).max(1);
        let b = *block as usize;
        if b >= blocks {
            return Err(format!(
                "the page has {blocks} block(s); there is no block {b}"
            ));
        }
        let in_block: Vec<&[u8]> = all.iter().skip(b * 256).take(256).copied().collect();
        let last_block = b + 1 == blocks;
        let post = match (post.as_deref(), last_block) {
            (Some(p), _) => p.to_ascii_uppercase(),
            (None, false) => "NULL".into(),
            (None, true) => {
                return Err("the page's last block needs 'post' (MPS, EOP or EOM)".into());
            }
        };
        let sel: Vec<u32> = if *resend_ppr {
            let map = self.last_ppr.clone().unwrap_or_default();
            (0..in_block.len() as u32)
                .filter(|&i| {
                    map.get(i as usize / 8)
                        .is_some_and(|o| o >> (i % 8) & 1 != 0)
                })
                .collect()
        } else {
            frames
                .clone()
                .unwrap_or_else(|| (0..in_block.len() as u32).collect())
        };
        let mut src = BurstSource::new(false);
        src.tail_bits = r * TAIL_MS / 1000;
        src.hdlc = true;
        src.items.push_back(Item::Flags(fast_preamble_flags(r)));
        for &i in &sel {
            let Some(chunk) = in_block.get(i as usize) else {
                return Err(format!("block {b} has no frame {i}"));
            };
            let mut fif = vec![i as u8];
            fif.extend_from_slice(chunk);
            let f = Frame::new(Fcf::FCD, false, fif, false).to_bytes();
            src.items
                .push_back(Item::Frame(ecm_line_order(f), !corrupt_frames.contains(&i)));
        }
        for _ in 0..3 {
            src.items.push_back(Item::Frame(
                Frame::new(Fcf::RCP, false, vec![], false).to_bytes(),
                true,
            ));
        }
        let short = m == Modem::V17 && !std::mem::replace(&mut self.long_train_next, false);
        let mut jobs = vec![(gap_ms.unwrap_or(DEFAULT_GAP_MS), fast_job(m, r, short, src))];
        self.ctx.last_block = Some((*page_no, *block as u8, in_block.len() as u32));
        if !*no_pps {
            let spec = FrameSpec {
                name: Some(format!("PPS-{post}")),
                ..Default::default()
            };
            let pps = build_frame(&spec, &self.ctx, true)?;
            self.note_sent(&pps, true);
            let mut v = BurstSource::new(true);
            v.items.push_back(Item::Flags(T30_PREAMBLE_FLAGS as u32));
            v.items.push_back(Item::Frame(pps, true));
            jobs.push((DEFAULT_GAP_MS, v21_job(v)));
        }
        Ok(jobs)
    }

    fn rate_for(
        &self,
        modem: Option<ModemName>,
        rate: Option<u32>,
    ) -> Result<(Modem, u32), String> {
        let from_dcs = self.last_dcs.as_ref().and_then(|d| d.dcs_rate());
        let (m, r) = match (modem, rate, from_dcs) {
            (Some(m), Some(r), _) => (m.modem(), r),
            (Some(m), None, _) => (m.modem(), m.default_rate()),
            (None, Some(r), Some((m, _))) => (m, r),
            (None, None, Some(mr)) => mr,
            (None, r, None) => (Modem::V27ter, r.unwrap_or(4800)),
        };
        let ok = match m {
            Modem::V27ter => matches!(r, 2400 | 4800),
            Modem::V29 => matches!(r, 7200 | 9600),
            Modem::V17 => matches!(r, 7200 | 9600 | 12000 | 14400),
        };
        if !ok {
            return Err(format!("{} has no rate {r}", m.name()));
        }
        Ok((m, r))
    }

    fn resolution(&self) -> t30::image::Resolution {
        match &self.last_dcs {
            Some(d) if d.bit(41) => t30::image::Resolution::Superfine,
            Some(d) if d.bit(15) => t30::image::Resolution::Fine,
            _ => t30::image::Resolution::Standard,
        }
    }

    fn coding_for(&self, coding: Option<CodingName>) -> Coding {
        let c = coding.unwrap_or(match &self.last_dcs {
            Some(d) if d.bit(31) => CodingName::Mmr,
            Some(d) if d.bit(16) => CodingName::Mr,
            _ => CodingName::Mh,
        });
        match c {
            CodingName::Mh => Coding::Mh,
            CodingName::Mr => Coding::mr_for(self.resolution()),
            CodingName::Mmr => Coding::Mmr,
        }
    }

    fn page_data(
        &self,
        page: &str,
        index: u32,
        corrupt_rows: &[u32],
        corrupt: bool,
        coding: Option<CodingName>,
        rate: u32,
    ) -> Result<Vec<u8>, String> {
        let kind =
            TestPageKind::from_name(page).ok_or_else(|| format!("unknown test page '{page}'"))?;
        let coding = self.coding_for(coding);
        let opts = TestPageOptions {
            resolution: self.resolution(),
            coding,
            bit_rate: rate,
            ..Default::default()
        };
        let tp = make_test_page(kind, index, &opts).map_err(|e| e.to_string())?;
        if let Some(d) = tp.coded {
            return Ok(d);
        }
        let scan = self
            .last_dcs
            .as_ref()
            .and_then(|d| d.min_scan_time(FrameKind::Dcs))
            .map_or(0, |s| s.ms as u32);
        let mut o = EncodeOptions::line(coding);
        o.min_row_bits = min_row_bits(rate, scan);
        let enc = encode_page(&tp.bitmap, &o);
        let mut data = enc.data;
        let mut rows: Vec<u32> = corrupt_rows.to_vec();
        if corrupt {
            rows.extend(&tp.corrupt_rows);
        }
        for r in rows {
            let Some(span) = enc.rows.get(r as usize) else {
                return Err(format!("the page has no row {r}"));
            };
            // Whole octets inside the row's data: the row's EOLs stay intact, so the
            // receiver loses this row only.
            for b in data
                .iter_mut()
                .take(span.data_end / 8)
                .skip(span.data_start.div_ceil(8))
            {
                *b ^= 0xA5;
            }
        }
        Ok(data)
    }

    /// Notes a frame we send: the DCS sets the rate of what follows.
    fn note_sent(&mut self, bytes: &[u8], ok: bool) {
        if ok
            && let Ok(f) = Frame::parse(bytes)
            && let Some((Fcf::PPR, _)) = f.kind()
        {
            self.sent_ppr = Some(
                (0..f.fif.len() as u32 * 8)
                    .filter(|&i| f.fif[i as usize / 8] >> (i % 8) & 1 != 0)
                    .collect(),
            );
        }
        self.trace.push(FrameRecord {
            time_s: self.step_start.as_secs_f64(),
            dir: "tx".into(),
            name: describe(bytes),
            hex: hex(bytes),
            fcs_ok: ok,
        });
        if ok
            && let Ok(f) = Frame::parse(bytes)
            && let Some((Fcf::DCS, _)) = f.kind()
        {
            self.last_dcs = Some(DisBits::from_fif(&f.fif));
            self.long_train_next = true;
        }
    }

    fn note_received(&mut self, bytes: &[u8], ok: bool, now: SampleTime) {
        self.trace.push(FrameRecord {
            time_s: now.as_secs_f64(),
            dir: "rx".into(),
            name: describe(bytes),
            hex: hex(bytes),
            fcs_ok: ok,
        });
        if !ok {
            return;
        }
        self.ctx.far_frames.push(bytes.to_vec());
        if let Ok(f) = Frame::parse(bytes) {
            match f.kind() {
                Some((Fcf::DIS, _)) => {
                    self.ctx.far_dis = Some(DisBits::from_fif(&f.fif));
                    self.ctx.x_bit = true;
                }
                Some((Fcf::DTC, _)) => self.ctx.far_dis = Some(DisBits::from_fif(&f.fif)),
                Some((Fcf::PPR, _)) => self.last_ppr = Some(f.fif.clone()),
                Some((Fcf::DCS, _)) => self.listen_fast(&DisBits::from_fif(&f.fif)),
                Some((Fcf::CTC, _)) => {
                    let mut fif = f.fif.clone();
                    fif.resize(3, 0);
                    if let (Some((m, r)), Some(ecm)) = (
                        DisBits::from_fif(&fif).dcs_rate(),
                        self.fast.as_ref().map(|l| l.ecm),
                    ) {
                        let mut d = DisBits::new();
                        d.set_dcs_rate(m, r);
                        d.set_bit(27, ecm);
                        self.listen_fast(&d);
                        if let Some(l) = self.fast.as_mut() {
                            l.tcf_next = false;
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// Listens on the fast modem the far end's DCS chose; its next burst is TCF.
    fn listen_fast(&mut self, d: &DisBits) {
        let Some((modem, rate)) = d.dcs_rate() else {
            return;
        };
        let Ok(rx) = modem::new_receiver(
            modem_kind(modem),
            &RxConfig {
                rate,
                short_train: false,
            },
        ) else {
            return;
        };
        self.fast = Some(FastListen {
            modem,
            rate,
            ecm: d.bit(27),
            rx,
            st: FastState {
                deframer: HdlcDeframer::new(HdlcRxConfig::default()),
                trained: false,
                octet: 0,
                nbits: 0,
            },
            tcf_next: true,
            long_next: true,
        });
    }

    /// Runs the fast receiver over a chunk; FCD frame numbers become events.
    fn hear_fast(&mut self, end: SampleTime, samples: &[i16]) {
        let Some(l) = self.fast.as_mut() else { return };
        let mut heard = Vec::new();
        let mut sink = FastSink {
            heard: &mut heard,
            st: &mut l.st,
            hdlc: l.ecm && !l.tcf_next,
            bytes: Vec::new(),
        };
        l.rx.process(samples, &mut sink);
        sink.flush();
        let burst = self.bursts.len().saturating_sub(1);
        for h in heard {
            match h {
                Heard::FastFrame(bytes, true) => {
                    let f = ecm_line_order(bytes);
                    if let Ok(fr) = Frame::parse(&f)
                        && fr.kind().map(|k| k.0) == Some(Fcf::FCD)
                        && let Some(&n) = fr.fif.first()
                    {
                        self.events.push(Event::Fcd {
                            frame: n as u32,
                            time: end,
                            burst,
                        });
                    }
                }
                Heard::Fast(modem::RxEvent::TrainingSucceeded { .. }) => l.long_next = false,
                Heard::Fast(modem::RxEvent::CarrierDown) => {
                    l.tcf_next = false;
                    // The next burst of this modem (ECM block, page) is short-trained (V.17).
                    let short_train = l.modem == Modem::V17 && !l.long_next;
                    let _ = l.rx.restart(&RxConfig {
                        rate: l.rate,
                        short_train,
                    });
                    l.st.trained = false;
                }
                _ => {}
            }
        }
    }

    /// Feeds one chunk (at most [`CHUNK`] samples) starting at `t` to the receivers.
    fn hear(&mut self, t: SampleTime, samples: &[i16]) {
        let end = t + SampleTime(samples.len() as u64);
        // Signal detector.
        let power = samples
            .iter()
            .map(|&s| (s as f32) * (s as f32))
            .sum::<f32>()
            / samples.len().max(1) as f32;
        let on = modem::level::power_to_dbm0(power) > SIGNAL_DBM0;
        let open = self.bursts.last().is_some_and(|b| b.end.is_none());
        if on && !open {
            let prev_end = self.bursts.last().and_then(|b| b.end);
            self.bursts.push(Burst {
                start: t,
                end: None,
                prev_end,
                first_frame_start: None,
            });
        } else if !on
            && open
            && let Some(b) = self.bursts.last_mut()
        {
            b.end = Some(t);
        }
        // V.21 and HDLC.
        let mut sink = V21Sink {
            heard: std::mem::take(&mut self.heard),
        };
        self.v21.process(
            samples,
            &mut Deframing {
                deframer: &mut self.v21_deframer,
                sink: &mut sink,
            },
        );
        for h in std::mem::take(&mut sink.heard) {
            if let Heard::Frame(bytes, ok) = h {
                self.note_received(&bytes, ok, end);
                let burst = self.bursts.len().saturating_sub(1);
                if let Some(b) = self.bursts.get_mut(burst)
                    && ok
                    && b.first_frame_start.is_none()
                {
                    // Address to closing flag, FCS included, at 300 bit/s.
                    let bits = (bytes.len() as u64 + 3) * 8;
                    b.first_frame_start = Some(SampleTime(end.0.saturating_sub(bits * 8000 / 300)));
                }
                if self.bursts.is_empty() {
                    continue;
                }
                self.events.push(Event::Frame {
                    bytes,
                    ok,
                    time: end,
                    burst,
                });
            }
        }
        self.heard = sink.heard;
        self.hear_fast(end, samples);
        // Tones.
        let events = &mut self.events;
        self.tones.process(samples, &mut |ev| match ev {
            ToneEvent::On {
                tone, start_sample, ..
            } => events.push(Event::ToneOn(kind_of(tone), SampleTime(start_sample))),
            ToneEvent::Off {
                tone,
                duration_ms,
                end_sample,
                ..
            } => events.push(Event::ToneOff(
                kind_of(tone),
                SampleTime(end_sample),
                duration_ms,
            )),
        });
    }

    fn start_job(&mut self, job: TxJob) {
        self.tx = match job {
            TxJob::Tone(t) => Tx::Tone(t),
            TxJob::Modem { kind, cfg, mut src } => {
                src.stopped = true;
                match modem::new_transmitter(kind, &cfg) {
                    Ok(tx) => Tx::Modem(tx, src),
                    Err(e) => {
                        self.check("transmitter can be built", false, e.to_string());
                        Tx::Idle
                    }
                }
            }
        };
    }
}

fn v21_job(src: BurstSource) -> TxJob {
    TxJob::Modem {
        kind: ModemKind::V21Ch2,
        cfg: TxConfig {
            rate: 300,
            short_train: false,
            level_dbm0: TX_DBM0,
        },
        src,
    }
}

fn fast_job(m: Modem, rate: u32, short_train: bool, src: BurstSource) -> TxJob {
    TxJob::Modem {
        kind: modem_kind(m),
        cfg: TxConfig {
            rate,
            short_train,
            level_dbm0: TX_DBM0,
        },
        src,
    }
}

fn list(v: &[u32]) -> String {
    if v.is_empty() {
        return "none".into();
    }
    v.iter()
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn kind_of(t: modem::tones::Tone) -> ToneKind {
    match t {
        modem::tones::Tone::Ced => ToneKind::Ced,
        modem::tones::Tone::Cng => ToneKind::Cng,
    }
}

/// The `op` name of a step.
pub fn op_name(s: &Step) -> &'static str {
    match s {
        Step::Wait { .. } => "wait",
        Step::SendTone { .. } => "send-tone",
        Step::SendPreamble { .. } => "send-preamble",
        Step::SendFrames { .. } => "send-frames",
        Step::SendTcf { .. } => "send-tcf",
        Step::SendPage { .. } => "send-page",
        Step::SendEcmPage { .. } => "send-ecm-page",
        Step::ExpectFrame { .. } => "expect-frame",
        Step::ExpectTone { .. } => "expect-tone",
        Step::ExpectSilence { .. } => "expect-silence",
        Step::ExpectSignal { .. } => "expect-signal",
        Step::ExpectClear { .. } => "expect-clear",
        Step::HangUp => "hang-up",
    }
}

fn check_window(name: &str, w: &Option<Window>) -> Result<(), String> {
    match w {
        Some([lo, hi]) if lo > hi => Err(format!("{name} = [{lo}, {hi}]: min is above max")),
        _ => Ok(()),
    }
}

/// Checks what can be checked before the call: names, patterns, windows, page kinds.
pub fn validate(s: &Step) -> Result<(), String> {
    let page_kind = |p: &str| {
        TestPageKind::from_name(p)
            .map(|_| ())
            .ok_or_else(|| format!("unknown test page '{p}'"))
    };
    match s {
        Step::SendFrames { frames, .. } => {
            if frames.is_empty() {
                return Err("'frames' is empty".into());
            }
            let ctx = FrameContext::default();
            for f in frames {
                build_frame(f, &ctx, true)?;
            }
        }
        Step::SendPage { page, .. } => page_kind(page)?,
        Step::SendEcmPage {
            page,
            frame_size,
            post,
            ..
        } => {
            page_kind(page)?;
            if let Some(n) = frame_size
                && !matches!(n, 64 | 256)
            {
                return Err(format!("frame_size {n}: ECM frames are 64 or 256 octets"));
            }
            if let Some(p) = post {
                parse_name(&format!("PPS-{p}"))?;
            }
        }
        Step::SendTcf {
            ms, bytes, rate, ..
        } => {
            if ms.is_some() && bytes.is_some() {
                return Err("TCF length is 'ms' or 'bytes', not both".into());
            }
            if let Some(r) = rate
                && !matches!(r, 2400 | 4800 | 7200 | 9600 | 12000 | 14400)
            {
                return Err(format!("rate {r} is not a fax modem rate"));
            }
        }
        Step::ExpectFrame {
            frame,
            hex,
            fif,
            delay_ms,
            preamble_ms,
            gap_ms,
            ..
        } => {
            if frame.is_none() && hex.is_none() {
                return Err("expect-frame needs 'frame' or 'hex'".into());
            }
            if let Some(n) = frame {
                parse_name(n)?;
            }
            if let Some(h) = hex {
                HexPattern::parse(h)?;
            }
            if let Some(h) = fif {
                HexPattern::parse(h)?;
            }
            check_window("delay_ms", delay_ms)?;
            check_window("preamble_ms", preamble_ms)?;
            check_window("gap_ms", gap_ms)?;
        }
        Step::ExpectTone { duration_ms, .. } | Step::ExpectSignal { duration_ms, .. } => {
            check_window("duration_ms", duration_ms)?
        }
        Step::ExpectClear { within_ms } => check_window("within_ms", &Some(*within_ms))?,
        _ => {}
    }
    Ok(())
}

impl Endpoint for ScriptEndpoint {
    fn start(&mut self, now: SampleTime) {
        self.step_start = now;
        self.advance(now);
    }

    fn transmit(&mut self, now: SampleTime, out: &mut [i16]) {
        out.fill(0);
        let mut pos = 0usize;
        while pos < out.len() && self.end.is_none() {
            let t = now + SampleTime(pos as u64);
            self.advance(t);
            if matches!(self.tx, Tx::Idle) {
                // Start the next job of a send step when its gap is over.
                let Run::Sending { jobs, next_at } = &mut self.run else {
                    break;
                };
                let Some(at) = *next_at else { break };
                let end = now + SampleTime(out.len() as u64);
                if jobs.is_empty() || at >= end {
                    break;
                }
                pos = (at.0.max(t.0) - now.0) as usize;
                let (_, job) = jobs.remove(0);
                *next_at = None;
                self.start_job(job);
                continue;
            }
            let (n, done) = match &mut self.tx {
                Tx::Idle => (0, true),
                Tx::Tone(tone) => {
                    let n = tone.fill(&mut out[pos..], &mut || None);
                    (n, tone.is_finished())
                }
                Tx::Modem(tx, src) => {
                    let n = tx.fill(&mut out[pos..], src);
                    (n, tx.is_finished())
                }
            };
            pos += n;
            if !done {
                break;
            }
            self.tx = Tx::Idle;
            // The next job (or step) starts timing from the end of this transmission.
            let t = now + SampleTime(pos as u64);
            if let Run::Sending { jobs, next_at } = &mut self.run {
                *next_at = jobs.first().map(|j| t + SampleTime::from_ms(j.0));
            }
        }
    }

    fn receive(&mut self, now: SampleTime, samples: &[i16]) {
        if self.end.is_some() {
            return;
        }
        for (i, chunk) in samples.chunks(CHUNK).enumerate() {
            let t = now + SampleTime((i * CHUNK) as u64);
            self.hear(t, chunk);
            self.advance(t + SampleTime(chunk.len() as u64));
            if self.end.is_some() {
                return;
            }
        }
    }

    fn line_cleared(&mut self, now: SampleTime) {
        if self.end.is_some() {
            return;
        }
        self.cleared = Some(now);
        self.tx = Tx::Idle;
        if let Run::Sending { jobs, .. } = &mut self.run {
            jobs.clear();
        }
        // Let the current step see the clearing (expect-clear passes, others fail).
        self.advance(now);
        // Steps that were to send or check something did not run; waits cut short did no
        // harm (a silent line is a script of one long wait).
        let lost = self.steps[self.pc.min(self.steps.len())..]
            .iter()
            .any(|s| !matches!(s, Step::Wait { .. } | Step::HangUp));
        if self.end.is_none() && !lost {
            self.finish(now);
        }
        if self.end.is_none() {
            let left = self.steps.len() - self.pc;
            self.check(
                "script runs to its end",
                false,
                format!(
                    "the line was cleared at step {} ({}); {left} step(s) not run",
                    self.pc + 1,
                    op_name(&self.steps[self.pc])
                ),
            );
            self.finish(now);
        }
    }

    fn hung_up(&self) -> bool {
        self.hung_up
    }

    fn finished(&self) -> bool {
        self.end.is_some()
    }

    fn outcome(&self) -> Option<EndpointOutcome> {
        let end = self.end?;
        let failed = self.checks.iter().find(|c| !c.passed);
        Some(EndpointOutcome::Record(Box::new(Record {
            status: if failed.is_none() {
                "SUCCESS"
            } else {
                "FAILED"
            }
            .into(),
            error: failed.map_or("OK".into(), |c| format!("{}: {}", c.what, c.detail)),
            code: 0,
            pages: 0,
            rate: 0,
            modem: String::new(),
            ecm: "no".into(),
            resolution: String::new(),
            coding: String::new(),
            localstationid: String::new(),
            remotestationid: String::new(),
            headerinfo: String::new(),
            scenario: String::new(),
            seed: 0,
            role: match self.role {
                Role::Caller => "caller",
                Role::Answerer => "answerer",
            }
            .into(),
            endpoint: "script".into(),
            duration_s: end.as_secs_f64(),
            limit_reached: false,
            bad_rows: 0,
            ecm_retries: 0,
            trainings: Vec::new(),
            frames: self.trace.clone(),
            files: Files::default(),
            hook: None,
        })))
    }
}
