//! A reference receive pipeline, as fax servers run it after each received fax: the TIFF is
//! spooled (`new/`), converted (the call's PDF, into `tmp/`), handed to the backends routed
//! from the dialled number (mail, FTP, printer, log), and only when every backend succeeded
//! moved on (`new/` → `old/`, `tmp/` → `pdf/`). A backend that fails leaves the fax in the
//! spool and is reported; nothing is lost. Every step is logged with a per-call id.
//!
//! ```no_run
//! use sim::deliver::{Delivery, Pipeline};
//! let pipeline = Pipeline::from_file("deliver.toml".as_ref()).unwrap();
//! let out = std::path::Path::new("faxsim-out");
//! let record = serde_json::from_slice(&std::fs::read(out.join("answerer.json")).unwrap()).unwrap();
//! let report = pipeline.deliver(&Delivery::new(&record, out, "+15550100", "+15550199", 0));
//! println!("{}", report.summary_line());
//! ```

pub mod backends;
pub mod config;
pub mod scenario;
pub mod template;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use t30::completion::{Completion, PipelineError};

use crate::endpoint::Record;
pub use config::{Backend, Config, ConfigError};
pub use scenario::{RunClock, deliver_scenario};

/// One call to deliver: its receiving side's record and where its files are.
#[derive(Debug, Clone)]
pub struct Delivery<'a> {
    /// The receiving side's outcome record.
    pub record: &'a Record,
    /// The folder the record's files are named relative to.
    pub out_dir: &'a Path,
    /// The calling number.
    pub source_number: &'a str,
    /// The dialled number (it selects the route).
    pub destination_number: &'a str,
    /// When the call started, seconds since 1970 (simulated or taken from the record).
    pub start_epoch: u64,
}

impl<'a> Delivery<'a> {
    /// A delivery of `record` (files in `out_dir`) from `source` to `destination`.
    pub fn new(
        record: &'a Record,
        out_dir: &'a Path,
        source: &'a str,
        destination: &'a str,
        start_epoch: u64,
    ) -> Delivery<'a> {
        Delivery {
            record,
            out_dir,
            source_number: source,
            destination_number: destination,
            start_epoch,
        }
    }
}

/// What happened to a call, as a pipeline classifies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryOutcome {
    /// SUCCESS: the PDF was delivered.
    Delivered,
    /// FAILED with pages: the PDF (named `-ERROR-…`) was delivered, marked as maybe incomplete.
    Incomplete,
    /// No pages: logged only.
    LoggedOnly,
    /// The PDF conversion failed: the raw TIFF was delivered, error "PDF Conversion".
    TiffDelivered,
    /// Above the concurrency limit: the call was refused.
    Refused,
}

/// One step of the pipeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// What was done ("spool", "convert", "mail:office", "move", …).
    pub step: String,
    /// Whether it worked.
    pub ok: bool,
    /// What it did or why it failed.
    pub detail: String,
}

/// What the pipeline did with one call.
#[derive(Debug, Clone, Serialize)]
pub struct DeliveryReport {
    /// The per-call id used in the log.
    pub call_id: String,
    /// The classification.
    pub outcome: DeliveryOutcome,
    /// The error string the pipeline reported ("OK", a completion string, "PDF Conversion").
    pub error: String,
    /// Every step, in order.
    pub steps: Vec<Step>,
    /// Where the delivered file ended: `pdf/…` or `old/…` after full success, or still
    /// `tmp/…`/`new/…` when a backend failed.
    pub file: Option<PathBuf>,
    /// Files left in the spool (`new/`, `tmp/`) because a backend failed.
    pub kept_in_spool: Vec<PathBuf>,
}

impl DeliveryReport {
    /// Steps that failed.
    pub fn failures(&self) -> impl Iterator<Item = &Step> {
        self.steps.iter().filter(|s| !s.ok)
    }

    /// Whether every step worked.
    pub fn all_ok(&self) -> bool {
        self.failures().next().is_none()
    }

    /// One line: id, outcome, error, failures.
    pub fn summary_line(&self) -> String {
        let failed: Vec<&str> = self.failures().map(|s| s.step.as_str()).collect();
        format!(
            "delivery {} {:?} \"{}\"{}{}",
            self.call_id,
            self.outcome,
            self.error,
            if failed.is_empty() {
                String::new()
            } else {
                format!(" FAILED: {}", failed.join(", "))
            },
            if self.kept_in_spool.is_empty() {
                String::new()
            } else {
                format!(" (kept in spool: {})", self.kept_in_spool.len())
            }
        )
    }
}

/// Our explanation of an error string of error-strings.md ("" for an unknown string).
pub fn explanation(error: &str) -> &'static str {
    if let Some(c) = Completion::from_text(error) {
        return c.explanation();
    }
    PipelineError::all()
        .find(|p| p.text() == error)
        .map(|p| p.explanation())
        .unwrap_or("")
}

/// Calendar date and time (UTC) of `epoch`: (year, month, day, hour, minute, second).
pub fn civil(epoch: u64) -> (i64, u32, u32, u32, u32, u32) {
    let days = (epoch / 86400) as i64;
    let secs = epoch % 86400;
    // Days to civil date, the proleptic Gregorian calendar in 400-year eras.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year,
        month,
        day,
        (secs / 3600) as u32,
        (secs / 60 % 60) as u32,
        (secs % 60) as u32,
    )
}

/// `YYYY-MM-DD HH:MM:SS` (UTC).
pub fn time_text(epoch: u64) -> String {
    let (y, mo, d, h, mi, s) = civil(epoch);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
}

/// `YYYYMMDD_HH.MM.SS` (UTC), the spool's stamp.
fn stamp(epoch: u64) -> String {
    let (y, mo, d, h, mi, s) = civil(epoch);
    format!("{y:04}{mo:02}{d:02}_{h:02}.{mi:02}.{s:02}")
}

/// A number or error string made safe for a file name.
fn file_safe(s: &str) -> String {
    let t: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "+-.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if t.is_empty() { "unknown".into() } else { t }
}

#[derive(Default)]
struct State {
    /// Calls seen so far (the per-call id's counter).
    seq: u64,
    /// Accepted receptions: (start, end) in seconds since 1970.
    active: Vec<(f64, f64)>,
    /// Receptions in progress now ([`Reception`]s held).
    live: usize,
}

/// The state every pipeline of one configuration shares in a process: a fax server has one
/// limit for all its lines, however many calls run at once.
type Shared = Arc<Mutex<State>>;

fn lock(s: &Shared) -> std::sync::MutexGuard<'_, State> {
    s.lock().unwrap_or_else(|p| p.into_inner())
}

/// The shared state of the configuration `key` (created on first use).
fn shared_state(key: String) -> Shared {
    static ALL: Mutex<BTreeMap<String, Shared>> = Mutex::new(BTreeMap::new());
    let mut all = ALL.lock().unwrap_or_else(|p| p.into_inner());
    all.entry(key).or_default().clone()
}

/// A reception in progress: it holds one place of the configuration's concurrency limit
/// until it is delivered or dropped.
pub struct Reception {
    shared: Shared,
}

impl Drop for Reception {
    fn drop(&mut self) {
        let mut st = lock(&self.shared);
        st.live = st.live.saturating_sub(1);
    }
}

/// A call that found every place taken: how many receptions were in progress, and the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy {
    /// Receptions in progress.
    pub in_progress: usize,
    /// The configuration's `max_sessions`.
    pub limit: u32,
}

/// A configured pipeline. `deliver` may be called from several threads; every pipeline built
/// from the same configuration (spool, log and limit) in a process shares one concurrency
/// count and one call-id counter.
pub struct Pipeline {
    config: Config,
    state: Shared,
}

impl Pipeline {
    /// The pipeline of a configuration file.
    pub fn from_file(path: &Path) -> Result<Pipeline, ConfigError> {
        Ok(Pipeline::new(Config::from_file(path)?))
    }

    /// The pipeline of a checked configuration.
    pub fn new(config: Config) -> Pipeline {
        let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
        let key = format!(
            "{}\n{}\n{:?}",
            abs(&config.spool).display(),
            abs(&config.log).display(),
            config.max_sessions
        );
        Pipeline {
            config,
            state: shared_state(key),
        }
    }

    /// A call comes in: it takes a place of the concurrency limit for as long as the returned
    /// [`Reception`] lives, or is refused when every place is taken (by receptions in
    /// progress anywhere in the process with this configuration).
    pub fn answer(&self) -> Result<Reception, Busy> {
        let mut st = lock(&self.state);
        if let Some(limit) = self.config.max_sessions
            && st.live >= limit as usize
        {
            return Err(Busy {
                in_progress: st.live,
                limit,
            });
        }
        st.live += 1;
        Ok(Reception {
            shared: self.state.clone(),
        })
    }

    /// Runs the pipeline for a call answered with `reception` (its place is given back when
    /// the delivery ends).
    pub fn deliver_received(&self, reception: Reception, d: &Delivery) -> DeliveryReport {
        let report = self.run(d, None);
        drop(reception);
        report
    }

    /// Runs the pipeline for a call whose [`Reception`] the caller holds.
    fn deliver_held(&self, d: &Delivery) -> DeliveryReport {
        self.run(d, None)
    }

    /// Logs a call that [`Pipeline::answer`] refused. The fax is not lost: what the call
    /// received is kept in the spool's `new/` (a real server would not have answered, and
    /// the sender would still hold it).
    pub fn refuse(&self, d: &Delivery, busy: Busy) -> DeliveryReport {
        self.run(d, Some((busy.in_progress, busy.limit)))
    }

    /// Its configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Runs the pipeline for one recorded call: refused when the receptions recorded as
    /// overlapping its start (and those in progress now) fill the concurrency limit.
    pub fn deliver(&self, d: &Delivery) -> DeliveryReport {
        let start = d.start_epoch as f64;
        let end = start + d.record.duration_s;
        let refused_by = {
            let mut st = lock(&self.state);
            let busy = st.live
                + st.active
                    .iter()
                    .filter(|(s, e)| *s <= start && start < *e)
                    .count();
            match self.config.max_sessions {
                Some(max) if busy >= max as usize => Some((busy, max)),
                _ => {
                    st.active.push((start, end));
                    None
                }
            }
        };
        self.run(d, refused_by)
    }

    /// The pipeline proper; `refused_by` (in progress, limit) refuses the call.
    fn run(&self, d: &Delivery, refused_by: Option<(usize, u32)>) -> DeliveryReport {
        let r = d.record;
        let call_id = {
            let mut st = lock(&self.state);
            st.seq += 1;
            format!("{}.{}", d.start_epoch, st.seq)
        };
        let mut run = Run {
            pipeline: self,
            d,
            call_id: call_id.clone(),
            steps: Vec::new(),
        };
        run.log(
            "receive",
            true,
            format!("start from={} to={}", d.source_number, d.destination_number),
        );
        if let Some((busy, max)) = refused_by {
            run.log(
                "refused",
                true,
                format!("{busy} reception(s) in progress, limit {max}: call not answered"),
            );
            let kept = run.keep_refused();
            return run.report(DeliveryOutcome::Refused, r.error.clone(), None, kept);
        }
        run.log(
            "receive",
            true,
            format!(
                "{} pages={} error=\"{}\"",
                if r.status == "SUCCESS" {
                    "success"
                } else {
                    "failure"
                },
                r.pages,
                r.error
            ),
        );
        run.go()
    }
}

struct Run<'p, 'd> {
    pipeline: &'p Pipeline,
    d: &'d Delivery<'d>,
    call_id: String,
    steps: Vec<Step>,
}

impl Run<'_, '_> {
    /// A refused call's received TIFF, copied into the spool's `new/` so that it is not lost.
    fn keep_refused(&mut self) -> Vec<PathBuf> {
        let r = self.d.record;
        let Some(src) = r.files.tiff.as_ref().map(|n| self.d.out_dir.join(n)) else {
            return Vec::new();
        };
        if r.pages == 0 || !src.is_file() {
            return Vec::new();
        }
        let new = self.pipeline.config.spool.join("new");
        let name = self.spool_name(&new);
        let dest = new.join(name);
        let res = std::fs::create_dir_all(&new)
            .and_then(|()| std::fs::copy(&src, &dest))
            .map(|_| format!("kept in spool {}", dest.display()))
            .map_err(|e| format!("{} -> {}: {e}", src.display(), dest.display()));
        let ok = res.is_ok();
        self.result("keep", res);
        if ok { vec![dest] } else { Vec::new() }
    }

    /// The spool name of this call's TIFF (`<source>_<stamp>.tif`), with the call id added
    /// when another call of the same second already holds that name in `new/` or `old/`.
    fn spool_name(&self, new: &Path) -> String {
        let source = file_safe(self.d.source_number);
        let stamp = stamp(self.d.start_epoch);
        let plain = format!("{source}_{stamp}.tif");
        let old = new.with_file_name("old");
        if new.join(&plain).exists() || old.join(&plain).exists() {
            format!("{source}_{stamp}-{}.tif", self.call_id)
        } else {
            plain
        }
    }

    fn log(&mut self, step: &str, ok: bool, detail: String) {
        let line = format!(
            "{} [{}] {step}: {}{detail}",
            time_text(self.d.start_epoch),
            self.call_id,
            if ok { "" } else { "FAILED " }
        );
        self.steps.push(Step {
            step: step.into(),
            ok,
            detail,
        });
        if let Err(e) = backends::append(&self.pipeline.config.log, &line) {
            // The pipeline log itself is not writable: the report carries it.
            self.steps.push(Step {
                step: "log".into(),
                ok: false,
                detail: e,
            });
        }
    }

    fn report(
        self,
        outcome: DeliveryOutcome,
        error: String,
        file: Option<PathBuf>,
        kept: Vec<PathBuf>,
    ) -> DeliveryReport {
        DeliveryReport {
            call_id: self.call_id,
            outcome,
            error,
            steps: self.steps,
            file,
            kept_in_spool: kept,
        }
    }

    fn field(&self, name: &str, error: &str, file: &str) -> String {
        let r = self.d.record;
        match name {
            "destination" => self.d.destination_number.into(),
            "source" => self.d.source_number.into(),
            "pages" => r.pages.to_string(),
            "status" => r.status.clone(),
            "error" => error.into(),
            "explanation" => explanation(error).into(),
            "remote_station" => r.remotestationid.clone(),
            "local_station" => r.localstationid.clone(),
            "time" => time_text(self.d.start_epoch),
            "epoch" => self.d.start_epoch.to_string(),
            "call_id" => self.call_id.clone(),
            "file" => file.into(),
            "rate" => r.rate.to_string(),
            "modem" => r.modem.clone(),
            _ => String::new(),
        }
    }

    fn go(mut self) -> DeliveryReport {
        let cfg = &self.pipeline.config;
        let r = self.d.record;
        let route = cfg.route(self.d.destination_number).to_vec();
        self.log(
            "route",
            true,
            format!("{} -> [{}]", self.d.destination_number, route.join(", ")),
        );
        let tiff_src = r.files.tiff.as_ref().map(|n| self.d.out_dir.join(n));
        let Some(tiff_src) = tiff_src.filter(|_| r.pages > 0) else {
            // No pages: nothing to deliver, the log backends record the call.
            for name in &route {
                let b = &cfg.backends[name];
                if let Backend::Log(l) = b {
                    let line = l.line.render(|f| self.field(f, &r.error, ""));
                    let res = backends::append_line(l, &line);
                    self.result(&format!("log:{name}"), res);
                } else {
                    self.log(
                        &format!("{}:{name}", b.kind()),
                        true,
                        "skipped: no pages received".into(),
                    );
                }
            }
            return self.report(
                DeliveryOutcome::LoggedOnly,
                r.error.clone(),
                None,
                Vec::new(),
            );
        };

        // Spool the TIFF in new/.
        let spool = &cfg.spool;
        let start = self.d.start_epoch;
        let finish = start + r.duration_s.ceil() as u64;
        let source = file_safe(self.d.source_number);
        let tiff_name = self.spool_name(&spool.join("new"));
        let new_tiff = spool.join("new").join(&tiff_name);
        let spooled = ["new", "old", "tmp", "pdf"]
            .iter()
            .try_for_each(|d| {
                std::fs::create_dir_all(spool.join(d))
                    .map_err(|e| format!("{}: {e}", spool.join(d).display()))
            })
            .and_then(|()| {
                std::fs::copy(&tiff_src, &new_tiff)
                    .map(|_| ())
                    .map_err(|e| format!("{} -> {}: {e}", tiff_src.display(), new_tiff.display()))
            });
        let failed = spooled.is_err();
        self.result("spool", spooled.map(|()| format!("{}", new_tiff.display())));
        if failed {
            // Without a spool copy the fax stays only where the call wrote it: deliver nothing.
            return self.report(
                DeliveryOutcome::LoggedOnly,
                r.error.clone(),
                None,
                Vec::new(),
            );
        }

        // Conversion: the call's PDF (its name carries -ERROR-<error> on failure).
        self.log("convert", true, "start".into());
        let pdf_src = r.files.pdf.as_ref().map(|n| self.d.out_dir.join(n));
        let mut error = r.error.clone();
        let (file, outcome, mime) = match pdf_src.filter(|p| p.is_file()) {
            Some(src) => {
                let mut name = format!(
                    "fax-{source}_{}_{}-({})-{}Pages",
                    stamp(start),
                    stamp(finish),
                    self.call_id,
                    r.pages
                );
                if r.status != "SUCCESS" {
                    name += &format!("-ERROR-{}", file_safe(&r.error));
                }
                name += ".pdf";
                let tmp = spool.join("tmp").join(&name);
                match std::fs::copy(&src, &tmp) {
                    Ok(_) => {
                        self.log("convert", true, format!("success {}", tmp.display()));
                        let outcome = if r.status == "SUCCESS" {
                            DeliveryOutcome::Delivered
                        } else {
                            DeliveryOutcome::Incomplete
                        };
                        (tmp, outcome, "application/pdf")
                    }
                    Err(e) => {
                        self.log("convert", false, format!("{}: {e}", tmp.display()));
                        error = PipelineError::PdfConversion.text().into();
                        (
                            new_tiff.clone(),
                            DeliveryOutcome::TiffDelivered,
                            "image/tiff",
                        )
                    }
                }
            }
            None => {
                self.log(
                    "convert",
                    false,
                    "no PDF: the raw TIFF is delivered instead".into(),
                );
                error = PipelineError::PdfConversion.text().into();
                (
                    new_tiff.clone(),
                    DeliveryOutcome::TiffDelivered,
                    "image/tiff",
                )
            }
        };
        let file_name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let ext = if mime == "image/tiff" { "tif" } else { "pdf" };

        for name in &route {
            match &cfg.backends[name] {
                Backend::Mail(m) => {
                    self.log(
                        &format!("mail:{name}"),
                        true,
                        format!("start to {}", m.to.join(", ")),
                    );
                    let res = std::fs::read(&file)
                        .map_err(|e| format!("{}: {e}", file.display()))
                        .and_then(|bytes| {
                            let (plain, html) = self.mail_bodies(m, &error, &file_name, outcome);
                            backends::send_mail(
                                m,
                                backends::MailContent {
                                    subject: m
                                        .subject
                                        .render(|f| self.field(f, &error, &file_name)),
                                    plain,
                                    html,
                                    attachment_name: file_name.clone(),
                                    attachment_type: mime,
                                    attachment: bytes,
                                    epoch: start,
                                },
                            )
                        });
                    self.result(&format!("mail:{name}"), res);
                }
                Backend::Ftp(f) => {
                    let remote = format!("{source}-{start}.{ext}");
                    self.log(&format!("ftp:{name}"), true, format!("start {remote}"));
                    let res = backends::upload(f, &file, &remote);
                    self.result(&format!("ftp:{name}"), res);
                }
                Backend::Printer(p) => {
                    let what = if p.pdf {
                        file.clone()
                    } else {
                        new_tiff.clone()
                    };
                    self.log(
                        &format!("printer:{name}"),
                        true,
                        format!("start {}", what.display()),
                    );
                    let title = format!(
                        "fax {} to {} ({})",
                        self.d.source_number, self.d.destination_number, self.call_id
                    );
                    let res = backends::print(p, &what, &title);
                    self.result(&format!("printer:{name}"), res);
                }
                Backend::Log(l) => {
                    let line = l.line.render(|f| self.field(f, &error, &file_name));
                    let res = backends::append_line(l, &line);
                    self.result(&format!("log:{name}"), res);
                }
            }
        }

        let backend_failed = self
            .steps
            .iter()
            .any(|s| !s.ok && route.iter().any(|n| s.step.ends_with(&format!(":{n}"))));
        if backend_failed {
            let mut kept = vec![new_tiff.clone()];
            if file != new_tiff {
                kept.push(file.clone());
            }
            self.log(
                "keep",
                true,
                format!(
                    "a backend failed: kept in spool {}",
                    kept.iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
            return self.report(outcome, error, Some(file), kept);
        }
        // Every backend worked: file the fax away.
        let old_tiff = spool.join("old").join(&tiff_name);
        let moved = std::fs::rename(&new_tiff, &old_tiff)
            .map(|()| format!("{} -> {}", new_tiff.display(), old_tiff.display()))
            .map_err(|e| format!("{} -> {}: {e}", new_tiff.display(), old_tiff.display()));
        self.result("move", moved);
        let final_file = if file == new_tiff {
            old_tiff
        } else {
            let done = spool.join("pdf").join(&file_name);
            let moved = std::fs::rename(&file, &done)
                .map(|()| format!("{} -> {}", file.display(), done.display()))
                .map_err(|e| format!("{} -> {}: {e}", file.display(), done.display()));
            self.result("move", moved);
            done
        };
        self.report(outcome, error, Some(final_file), Vec::new())
    }

    fn result(&mut self, step: &str, res: Result<String, String>) {
        match res {
            Ok(d) => self.log(step, true, format!("success {d}")),
            Err(e) => self.log(step, false, e),
        }
    }

    /// The plain and HTML bodies: a notice first when the fax may be incomplete or is a raw
    /// TIFF, then the backend's template, then the details.
    fn mail_bodies(
        &self,
        m: &config::MailBackend,
        error: &str,
        file: &str,
        outcome: DeliveryOutcome,
    ) -> (String, String) {
        let r = self.d.record;
        let notice = match outcome {
            DeliveryOutcome::Incomplete => Some(format!(
                "This fax may be incomplete: the call ended with the error \"{error}\". {}",
                explanation(error)
            )),
            DeliveryOutcome::TiffDelivered => Some(format!(
                "The received fax could not be converted to PDF (error \"{error}\"); the raw TIFF is attached. {}",
                explanation(error)
            )),
            _ => None,
        };
        let body = m.body.render(|f| self.field(f, error, file));
        let details = [
            ("From", self.d.source_number.to_string()),
            ("To", self.d.destination_number.to_string()),
            ("Remote station", r.remotestationid.clone()),
            ("Time", format!("{} UTC", time_text(self.d.start_epoch))),
            ("Pages", r.pages.to_string()),
            ("Status", r.status.clone()),
            ("Error", error.to_string()),
            ("Call id", self.call_id.clone()),
            ("File", file.to_string()),
        ];
        let mut plain = String::new();
        if let Some(n) = &notice {
            plain += &format!("{n}\n\n");
        }
        plain += &format!("{body}\n\n");
        for (k, v) in &details {
            plain += &format!("{k}: {v}\n");
        }
        let esc = |s: &str| {
            s.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
        };
        let mut html = String::from("<html><body>\n");
        if let Some(n) = &notice {
            html += &format!("<p><strong>{}</strong></p>\n", esc(n));
        }
        for para in body.split("\n\n") {
            html += &format!("<p>{}</p>\n", esc(para).replace('\n', "<br>\n"));
        }
        html += "<table>\n";
        for (k, v) in &details {
            html += &format!(
                "<tr><th align=\"left\">{}</th><td>{}</td></tr>\n",
                esc(k),
                esc(v)
            );
        }
        html += "</table>\n</body></html>\n";
        (plain, html)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar() {
        assert_eq!(time_text(0), "1970-01-01 00:00:00");
        assert_eq!(time_text(1_502_541_922), "2017-08-12 12:45:22");
        assert_eq!(stamp(951_782_400), "20000229_00.00.00");
    }

    #[test]
    fn every_error_string_has_an_explanation() {
        for c in Completion::all() {
            assert!(!explanation(c.text()).is_empty(), "{}", c.text());
        }
        for p in PipelineError::all() {
            assert!(!explanation(p.text()).is_empty(), "{}", p.text());
        }
        assert_eq!(explanation("no such string"), "");
    }
}
