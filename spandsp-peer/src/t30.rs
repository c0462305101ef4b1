//! What both spandsp terminals (audio `fax_state_t`, T.38 `t38_terminal_state_t`) report
//! through their shared `t30_state_t`.

use std::ffi::{CStr, c_int};

use crate::fax::FaxStats;
use crate::{Spandsp, ffi};

/// A live terminal's T.30 state.
pub(crate) struct T30View<'a> {
    pub(crate) sp: &'a Spandsp,
    pub(crate) t30: ffi::State,
}

fn text(p: *const std::ffi::c_char) -> String {
    if p.is_null() {
        String::new()
    } else {
        // SAFETY: spandsp returns NUL-terminated strings it owns.
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }
}

impl T30View<'_> {
    /// The transfer statistics.
    pub(crate) fn stats(&self) -> FaxStats {
        let mut s = ffi::T30Stats::default();
        // SAFETY: live state; `s` is at least as large as `t30_stats_t`.
        unsafe { (self.sp.api.t30_get_transfer_statistics)(self.t30, &mut s) };
        let u = |v: c_int| v.max(0) as u32;
        FaxStats {
            bit_rate: u(s.bit_rate),
            ecm: s.error_correcting_mode != 0,
            pages_tx: u(s.pages_tx),
            pages_rx: u(s.pages_rx),
            x_resolution: u(s.x_resolution),
            y_resolution: u(s.y_resolution),
            bad_rows: u(s.bad_rows),
            ecm_retries: u(s.error_correcting_mode_retries),
        }
    }

    /// Our identity as spandsp holds it.
    pub(crate) fn local_ident(&self) -> String {
        // SAFETY: live state.
        text(unsafe { (self.sp.api.t30_get_tx_ident)(self.t30) })
    }

    /// The far end's identity.
    pub(crate) fn remote_ident(&self) -> String {
        // SAFETY: live state.
        text(unsafe { (self.sp.api.t30_get_rx_ident)(self.t30) })
    }

    /// spandsp's string for a completion code.
    pub(crate) fn completion_text(&self, code: i32) -> String {
        // SAFETY: a pure lookup.
        text(unsafe { (self.sp.api.t30_completion_code_to_str)(code) })
    }

    /// Ends the call (spandsp runs phase E).
    pub(crate) fn terminate(&self) {
        // SAFETY: live state.
        unsafe { (self.sp.api.t30_terminate)(self.t30) };
    }
}
