//! The outcome record of one endpoint of one call, with Asterisk's FAXOPT field names.

use serde::{Deserialize, Serialize};
use t30::engine::{Direction, Outcome, Resolution, Status};

/// One training attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingRecord {
    /// Seconds from the start of the call.
    pub time_s: f64,
    /// "V.17", "V.29" or "V.27ter".
    pub modem: String,
    /// Bit rate.
    pub rate: u32,
    /// Whether it succeeded.
    pub ok: bool,
}

/// One T.30 frame of the trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameRecord {
    /// Seconds from the start of the call.
    pub time_s: f64,
    /// "tx" or "rx".
    pub dir: String,
    /// Frame name.
    pub name: String,
    /// Octets in hex without FCS.
    pub hex: String,
    /// Whether the FCS was good.
    pub fcs_ok: bool,
}

/// Files the call produced for this endpoint.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Files {
    /// Received TIFF-F, if pages arrived.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tiff: Option<String>,
    /// Received PDF, if pages arrived.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pdf: Option<String>,
    /// The call's audio capture.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wav: Option<String>,
    /// The call's network capture (UDPTL or RTP packets), when something crossed a network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pcap: Option<String>,
}

/// The outcome record (DESIGN.md): FAXOPT fields, then faxsim's own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// SUCCESS or FAILED.
    pub status: String,
    /// The exact completion string ("OK" on success).
    pub error: String,
    /// The completion code.
    pub code: u32,
    /// Pages sent (sender) or received (receiver).
    pub pages: u32,
    /// Last bit rate, bit/s (0 when no modem was agreed).
    pub rate: u32,
    /// Last modem ("V.17", …), empty when none.
    pub modem: String,
    /// "yes" or "no", as FAXOPT(ecm).
    pub ecm: String,
    /// Pixels per metre, horizontal x vertical, as FAXOPT(resolution) ("8040x7700").
    pub resolution: String,
    /// Negotiated image coding ("MH", "MR", "MMR"), empty when none.
    pub coding: String,
    /// Our identity.
    pub localstationid: String,
    /// The far end's identity.
    pub remotestationid: String,
    /// Page header text.
    pub headerinfo: String,
    /// Scenario name.
    pub scenario: String,
    /// Master seed of the call.
    pub seed: u64,
    /// "caller" or "answerer".
    pub role: String,
    /// "builtin" or "spandsp".
    pub endpoint: String,
    /// When this endpoint finished, seconds of call time.
    pub duration_s: f64,
    /// Whether the runner stopped the call at its time limit.
    pub limit_reached: bool,
    /// Bad rows in the pages kept.
    pub bad_rows: u32,
    /// ECM retransmission requests.
    pub ecm_retries: u32,
    /// Every training attempt.
    pub trainings: Vec<TrainingRecord>,
    /// The T.30 trace.
    pub frames: Vec<FrameRecord>,
    /// Files written.
    pub files: Files,
    /// The receiver hook (`--on-complete`), when one ran for this side.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hook: Option<HookRecord>,
}

/// What the receiver hook did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HookRecord {
    /// The command as given.
    pub command: String,
    /// Its exit status (`None` when it could not be started or was killed by a signal).
    pub exit_code: Option<i32>,
    /// Why it could not run, if so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// FAXOPT(resolution) for a T.30 resolution: pixels per metre across x along.
pub fn resolution_text(r: Resolution) -> String {
    let along = match r {
        Resolution::Standard => 3850,
        Resolution::Fine => 7700,
        Resolution::Superfine => 15400,
    };
    format!("8040x{along}")
}

impl Record {
    /// A record from our engine's outcome; the call-level fields are left empty for the
    /// runner to fill.
    pub fn from_outcome(o: &Outcome) -> Record {
        Record {
            status: match o.status {
                Status::Success => "SUCCESS",
                Status::Failed => "FAILED",
            }
            .into(),
            error: o.error_text().into(),
            code: o.completion.code() as u32,
            pages: o.pages_sent + o.pages_received,
            rate: o.rate.unwrap_or(0),
            modem: o.modem.map(|m| m.name().to_string()).unwrap_or_default(),
            ecm: if o.ecm { "yes" } else { "no" }.into(),
            resolution: o.resolution.map(resolution_text).unwrap_or_default(),
            coding: o.coding.map(|c| c.name().to_string()).unwrap_or_default(),
            localstationid: o.local_ident.clone(),
            remotestationid: o.remote_ident.clone(),
            headerinfo: o.header_info.clone(),
            scenario: String::new(),
            seed: 0,
            role: String::new(),
            endpoint: "builtin".into(),
            duration_s: o.end_time.as_secs_f64(),
            limit_reached: false,
            bad_rows: o.bad_rows,
            ecm_retries: o.ecm_retries,
            trainings: o
                .trainings
                .iter()
                .map(|t| TrainingRecord {
                    time_s: t.time.as_secs_f64(),
                    modem: t.modem.name().into(),
                    rate: t.rate,
                    ok: t.ok,
                })
                .collect(),
            frames: o
                .frames
                .iter()
                .map(|f| FrameRecord {
                    time_s: f.time.as_secs_f64(),
                    dir: match f.dir {
                        Direction::Tx => "tx",
                        Direction::Rx => "rx",
                    }
                    .into(),
                    name: f.name.clone(),
                    hex: f.hex.clone(),
                    fcs_ok: f.fcs_ok,
                })
                .collect(),
            files: Files::default(),
            hook: None,
        }
    }

    /// One line for stdout: role, endpoint, status, error, pages, rate, duration.
    pub fn summary_line(&self) -> String {
        format!(
            "{:<8} {:<7} {} \"{}\" pages={} rate={} modem={} ecm={} coding={} duration={:.1}s{}",
            self.role,
            self.endpoint,
            self.status,
            self.error,
            self.pages,
            self.rate,
            if self.modem.is_empty() {
                "-"
            } else {
                &self.modem
            },
            self.ecm,
            if self.coding.is_empty() {
                "-"
            } else {
                &self.coding
            },
            self.duration_s,
            if self.limit_reached {
                " (call time limit reached)"
            } else {
                ""
            }
        )
    }
}
