//! spandsp's fax engine as an audio endpoint.
use std::path::Path;

use t30::SampleTime;
use t30::engine::Role;
use t30::image::Bitmap;

use super::{Endpoint, EndpointOutcome};
use crate::cmd::call::CallSetup;

/// spandsp's `fax_state_t` behind the endpoint interface.
pub struct SpandspEndpoint {}

impl SpandspEndpoint {
    /// An endpoint for `role`.
    pub fn new(
        _setup: &CallSetup,
        _role: Role,
        _pages: &[Bitmap],
        _work: &Path,
    ) -> Result<Self, String> {
        Err("spandsp endpoint".into())
    }
    /// Pages received.
    pub fn received_pages(&self) -> Vec<Bitmap> {
        Vec::new()
    }
}

impl Endpoint for SpandspEndpoint {
    fn start(&mut self, _now: SampleTime) {}
    fn transmit(&mut self, _now: SampleTime, _out: &mut [i16]) {}
    fn receive(&mut self, _now: SampleTime, _samples: &[i16]) {}
    fn line_cleared(&mut self, _now: SampleTime) {}
    fn hung_up(&self) -> bool {
        true
    }
    fn finished(&self) -> bool {
        true
    }
    fn outcome(&self) -> Option<EndpointOutcome> {
        None
    }
}
