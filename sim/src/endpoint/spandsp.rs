//! spandsp's fax terminal as an audio endpoint, with its outcome in our record format.
//!
//! The sender's document is written as a TIFF-F file for spandsp to read; the receiver's
//! file is read back after the call. Both live in the output folder under hidden names and
//! are removed when the endpoint is dropped.

use std::path::{Path, PathBuf};

use spandsp_peer::fax::{Fax, FaxConfig, FaxStats, PeerFrame, compressions, modems};
use t30::SampleTime;
use t30::engine::{Coding, Config, Role};
use t30::frame::Fcf;
use t30::frame::Frame;
use t30::frame::dis::DisBits;
use t30::image::store::{CodedPage, Document};
use t30::image::tiff::{TiffWriteOptions, read_tiff_each, write_tiff_document};

use super::record::{Files, FrameRecord, Record, TrainingRecord};
use super::{Endpoint, EndpointOutcome};

/// spandsp's fax terminal behind the endpoint interface.
pub struct SpandspEndpoint {
    fax: Fax,
    files: PeerFiles,
    end: Option<SampleTime>,
    now: SampleTime,
    /// Whether FCD frames keep their image data in the record (`Config::trace_ecm_data`).
    trace_ecm_data: bool,
}

impl SpandspEndpoint {
    /// An endpoint in `config`'s role (its ident, ECM, modems and codings) that sends
    /// `pages` when there are any and receives otherwise. Work files go into `work`.
    pub fn new(config: &Config, pages: &Document, work: &Path) -> Result<SpandspEndpoint, String> {
        let sp = spandsp_peer::Spandsp::load().map_err(|e| e.to_string())?;
        let (cfg, files) = peer_config(config, pages, work, "")?;
        let fax = Fax::new(&sp, &cfg).map_err(|e| e.to_string())?;
        Ok(SpandspEndpoint {
            fax,
            files,
            end: None,
            now: SampleTime::ZERO,
            trace_ecm_data: config.trace_ecm_data,
        })
    }

    /// The pages spandsp wrote to its receive file.
    pub fn received_pages(&self) -> Vec<CodedPage> {
        self.files.received_pages()
    }

    fn record(&self, code: i32) -> Record {
        peer_record(
            code,
            self.fax.completion_text(code),
            &self.fax.stats(),
            self.fax.frames(),
            (self.fax.local_ident(), self.fax.remote_ident()),
            self.end.unwrap_or(self.now),
            self.trace_ecm_data,
        )
    }
}

/// A spandsp terminal's work files: the TIFF-F it sends or the one it receives into. They
/// are removed when the terminal's endpoint goes.
pub(crate) struct PeerFiles {
    tx: Option<PathBuf>,
    rx: Option<PathBuf>,
}

impl PeerFiles {
    /// The pages spandsp wrote to its receive file.
    /// Read one page at a time and kept coded.
    pub(crate) fn received_pages(&self) -> Vec<CodedPage> {
        let Some(p) = &self.rx else {
            return Vec::new();
        };
        let Ok(bytes) = std::fs::read(p) else {
            return Vec::new();
        };
        let mut pages = Vec::new();
        let read = read_tiff_each(&bytes, |p| {
            pages.push(CodedPage::from_bitmap(&p.bitmap));
            Ok(())
        });
        if read.is_err() {
            pages.clear();
        }
        pages
    }
}

impl Drop for PeerFiles {
    fn drop(&mut self) {
        for p in [&self.tx, &self.rx].into_iter().flatten() {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// spandsp's configuration for a side set up as `config` (role, ident, ECM, modems,
/// codings) sending `pages` (written as a TIFF-F in `work`) or receiving into a file there;
/// `tag` keeps the audio and T.38 terminals' files apart.
pub(crate) fn peer_config(
    config: &Config,
    pages: &Document,
    work: &Path,
    tag: &str,
) -> Result<(FaxConfig, PeerFiles), String> {
    let role = config.role;
    let mut cfg = FaxConfig::new(role == Role::Caller);
    cfg.ident = config.ident.clone();
    cfg.ecm = config.ecm;
    cfg.modems = config
        .modems
        .iter()
        .map(|m| match m {
            t30::frame::dis::modem_name::Modem::V27ter => modems::V27TER,
            t30::frame::dis::modem_name::Modem::V29 => modems::V29,
            t30::frame::dis::modem_name::Modem::V17 => modems::V17,
        })
        .fold(0, |a, b| a | b);
    cfg.compressions = config
        .codings
        .iter()
        .map(|c| match c {
            Coding::Mh => compressions::T4_1D,
            Coding::Mr => compressions::T4_2D,
            Coding::Mmr => compressions::T6,
        })
        .fold(compressions::T4_1D, |a, b| a | b);
    let role = match role {
        Role::Caller => "caller",
        Role::Answerer => "answerer",
    };
    let (mut tx_file, mut rx_file) = (None, None);
    if !pages.is_empty() {
        let p = work.join(format!(".spandsp{tag}-{role}-send.tif"));
        let file = std::fs::File::create(&p).map_err(|e| format!("{}: {e}", p.display()))?;
        write_tiff_document(
            std::io::BufWriter::new(file),
            pages.pages(),
            None,
            &TiffWriteOptions::new(t30::image::codec::Coding::Mh),
        )
        .map_err(|e| format!("{}: {e}", p.display()))?;
        cfg.tx_file = Some(p.clone());
        tx_file = Some(p);
    } else {
        let p = work.join(format!(".spandsp{tag}-{role}-received.tif"));
        cfg.rx_file = Some(p.clone());
        rx_file = Some(p);
    }
    Ok((
        cfg,
        PeerFiles {
            tx: tx_file,
            rx: rx_file,
        },
    ))
}

/// Our record of a call as a spandsp terminal (audio or T.38) reports it: its completion
/// code and string, transfer statistics, the frames it logged (trainings read from the DCSs
/// and FTTs among them), the two idents and when it ended. FCD frames are traced by their
/// header unless `ecm_data`, as our engine traces them.
pub(crate) fn peer_record(
    code: i32,
    error: String,
    st: &FaxStats,
    logged: &[PeerFrame],
    (local, remote): (String, String),
    end: SampleTime,
    ecm_data: bool,
) -> Record {
    let mut modem = String::new();
    let mut coding = String::new();
    let mut trainings = Vec::new();
    let mut frames = Vec::new();
    for f in logged {
        let time_s = f.sample as f64 / 8000.0;
        let parsed = Frame::parse(&f.bytes).ok();
        let name = parsed
            .as_ref()
            .map(|p| p.name())
            .unwrap_or_else(|| "garbage".into());
        if let Some(p) = &parsed
            && let Some((Fcf::DCS, _)) = p.kind()
            && let Some((m, rate)) = DisBits::from_fif(&p.fif).dcs_rate()
        {
            let bits = DisBits::from_fif(&p.fif);
            coding = if bits.bit(31) {
                "MMR"
            } else if bits.bit(16) {
                "MR"
            } else {
                "MH"
            }
            .into();
            modem = m.name().to_string();
            trainings.push(TrainingRecord {
                time_s,
                modem: modem.clone(),
                rate,
                ok: true,
            });
        }
        if let Some(p) = &parsed
            && let Some((Fcf::FTT, _)) = p.kind()
            && let Some(t) = trainings.last_mut()
        {
            t.ok = false;
        }
        frames.push(FrameRecord {
            time_s,
            dir: if f.incoming { "rx" } else { "tx" }.into(),
            hex: t30::engine::trace_hex(&f.bytes, &name, ecm_data),
            name,
            fcs_ok: true,
        });
    }
    Record {
        status: if code == 0 { "SUCCESS" } else { "FAILED" }.into(),
        error,
        code: code.max(0) as u32,
        pages: st.pages_tx + st.pages_rx,
        rate: st.bit_rate,
        modem,
        ecm: if st.ecm { "yes" } else { "no" }.into(),
        resolution: if st.x_resolution > 0 {
            format!("{}x{}", st.x_resolution, st.y_resolution)
        } else {
            String::new()
        },
        coding,
        localstationid: local,
        remotestationid: remote,
        headerinfo: String::new(),
        scenario: String::new(),
        seed: 0,
        role: String::new(),
        endpoint: "spandsp".into(),
        duration_s: end.as_secs_f64(),
        limit_reached: false,
        bad_rows: st.bad_rows,
        ecm_retries: st.ecm_retries,
        trainings,
        frames,
        files: Files::default(),
        hook: None,
    }
}

impl Endpoint for SpandspEndpoint {
    fn start(&mut self, _now: SampleTime) {}

    fn transmit(&mut self, now: SampleTime, out: &mut [i16]) {
        self.fax.tx(out);
        self.now = now + SampleTime(out.len() as u64);
    }

    fn receive(&mut self, now: SampleTime, samples: &[i16]) {
        if self.end.is_none() {
            self.fax.rx(samples);
        }
        self.now = now + SampleTime(samples.len() as u64);
        if self.end.is_none() && self.fax.completion().is_some() {
            self.end = Some(self.now);
        }
    }

    fn line_cleared(&mut self, now: SampleTime) {
        if self.fax.completion().is_none() {
            self.fax.terminate();
        }
        self.end.get_or_insert(now);
    }

    fn hung_up(&self) -> bool {
        self.end.is_some()
    }

    fn finished(&self) -> bool {
        self.end.is_some()
    }

    fn outcome(&self) -> Option<EndpointOutcome> {
        let code = match (self.fax.completion(), self.end) {
            (Some(c), _) => c,
            // Terminated without phase E: the call dropped.
            (None, Some(_)) => t30::completion::Completion::Calldropped.code() as i32,
            (None, None) => return None,
        };
        Some(EndpointOutcome::Record(Box::new(self.record(code))))
    }
}
