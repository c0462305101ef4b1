//! spandsp's `t38_terminal` behind the T.38 endpoint interface, with its outcome in our
//! record format (as [`crate::endpoint::spandsp`] does for its audio terminal).

use std::path::Path;

use channel_models::t38::Delivered;
use spandsp_peer::t38::T38Terminal;
use t30::SampleTime;
use t30::engine::Config;
use t30::image::store::{CodedPage, Document};

use super::{SentIfp, T38Endpoint};
use crate::call::BLOCK;
use crate::endpoint::EndpointOutcome;
use crate::endpoint::record::Record;
use crate::endpoint::spandsp::{PeerFiles, peer_config, peer_record};

/// spandsp's T.38 terminal.
pub struct SpandspT38 {
    term: T38Terminal,
    files: PeerFiles,
    end: Option<SampleTime>,
    now: SampleTime,
    /// Whether FCD frames keep their image data in the record (`Config::trace_ecm_data`).
    trace_ecm_data: bool,
}

impl SpandspT38 {
    /// A terminal in `config`'s role (its ident, ECM, modems and codings) that sends
    /// `pages` when there are any and receives otherwise, speaking T.38 `version`. Work
    /// files go into `work`.
    pub fn new(
        config: &Config,
        pages: &Document,
        work: &Path,
        version: u8,
    ) -> Result<SpandspT38, String> {
        let sp = spandsp_peer::Spandsp::load().map_err(|e| e.to_string())?;
        let (cfg, files) = peer_config(config, pages, work, "-t38")?;
        let term = T38Terminal::new(&sp, &cfg, version).map_err(|e| e.to_string())?;
        Ok(SpandspT38 {
            term,
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
            self.term.completion_text(code),
            &self.term.stats(),
            self.term.frames(),
            (self.term.local_ident(), self.term.remote_ident()),
            self.end.unwrap_or(self.now),
            self.trace_ecm_data,
        )
    }
}

impl T38Endpoint for SpandspT38 {
    fn start(&mut self, _now: SampleTime) {}

    fn transmit(&mut self, now: SampleTime, out: &mut Vec<SentIfp>) {
        if self.end.is_some() {
            return;
        }
        self.term.advance(BLOCK as u32);
        if self.term.completion().is_some() {
            self.end = Some(now + SampleTime(BLOCK as u64));
        }
        out.extend(
            self.term
                .take_sent()
                .into_iter()
                .map(|ifp| SentIfp { time: now, ifp }),
        );
    }

    fn receive(&mut self, now: SampleTime, delivered: &[Delivered]) {
        self.now = now;
        if self.end.is_some() {
            return;
        }
        for d in delivered {
            match d {
                Delivered::Primary(seq, ifp) | Delivered::Recovered(seq, ifp) => {
                    self.term.rx_ifp(ifp, *seq)
                }
                // spandsp notices the gap from the sequence numbers.
                Delivered::Lost(_) => {}
            }
        }
        if self.term.completion().is_some() {
            self.end = Some(now);
        }
    }

    fn line_cleared(&mut self, now: SampleTime) {
        if self.term.completion().is_none() {
            self.term.terminate();
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
        let code = match (self.term.completion(), self.end) {
            (Some(c), _) => c,
            (None, Some(_)) => t30::completion::Completion::Calldropped.code() as i32,
            (None, None) => return None,
        };
        Some(EndpointOutcome::Record(Box::new(self.record(code))))
    }
}
