//! spandsp's T.38 terminal (`t38_terminal_state_t` with its T.30 engine): a fax terminal
//! that speaks IFP packets instead of audio.
//!
//! [`T38Terminal`] sends a TIFF file or receives into one. Time runs through
//! [`T38Terminal::advance`] (spandsp paces its own packets by the samples it is told have
//! passed); each IFP it sends is collected and handed out by [`T38Terminal::take_sent`];
//! received IFPs go in with their sequence numbers through [`T38Terminal::rx_ifp`]. The T.30
//! frames and the phase E completion code are kept as [`crate::fax::Fax`] keeps them.
//!
//! ```no_run
//! use spandsp_peer::fax::FaxConfig;
//! use spandsp_peer::t38::T38Terminal;
//! let sp = spandsp_peer::Spandsp::load()?;
//! let mut cfg = FaxConfig::new(true);
//! cfg.tx_file = Some("doc.tif".into());
//! let mut t = T38Terminal::new(&sp, &cfg, 0)?;
//! t.advance(160);
//! for ifp in t.take_sent() { let _ = ifp; }
//! # Ok::<(), spandsp_peer::Error>(())
//! ```

use std::ffi::{CString, c_int, c_void};
use std::sync::Arc;

use crate::fax::{FaxConfig, FaxStats, PeerFrame};
use crate::t30::T30View;
use crate::{Error, Spandsp, ffi};

struct Ctx {
    now: u64,
    completion: Option<i32>,
    frames: Vec<PeerFrame>,
    sent: Vec<Vec<u8>>,
}

unsafe extern "C" fn on_phase_e(_t30: ffi::State, user: *mut c_void, code: c_int) {
    // SAFETY: `user` is the `Ctx` boxed in `T38Terminal`, alive while the state is.
    let ctx = unsafe { &mut *(user as *mut Ctx) };
    ctx.completion = Some(code);
}

unsafe extern "C" fn on_frame(
    _t30: ffi::State,
    user: *mut c_void,
    incoming: c_int,
    msg: *const u8,
    len: c_int,
) {
    // SAFETY: as in `on_phase_e`; spandsp passes `len` valid octets at `msg`.
    let ctx = unsafe { &mut *(user as *mut Ctx) };
    let bytes = if msg.is_null() || len <= 0 {
        Vec::new()
    } else {
        unsafe { std::slice::from_raw_parts(msg, len as usize) }.to_vec()
    };
    ctx.frames.push(PeerFrame {
        sample: ctx.now,
        incoming: incoming != 0,
        bytes,
    });
}

unsafe extern "C" fn on_tx(
    _s: ffi::State,
    user: *mut c_void,
    buf: *const u8,
    len: c_int,
    _count: c_int,
) -> c_int {
    // SAFETY: as in `on_phase_e`; spandsp passes `len` valid octets at `buf`. The repeat
    // count is ignored: the UDPTL layer below protects every packet with its own
    // redundancy, so one copy is sent.
    let ctx = unsafe { &mut *(user as *mut Ctx) };
    if !buf.is_null() && len > 0 {
        ctx.sent
            .push(unsafe { std::slice::from_raw_parts(buf, len as usize) }.to_vec());
    }
    0
}

/// spandsp's T.38 terminal.
pub struct T38Terminal {
    sp: Arc<Spandsp>,
    state: ffi::State,
    t30: ffi::State,
    core: ffi::State,
    ctx: Box<Ctx>,
}

// SAFETY: the spandsp state is owned exclusively by this value and only touched through
// `&mut self`; spandsp keeps no thread-local state for it.
unsafe impl Send for T38Terminal {}

fn cstring(s: &str) -> Result<CString, Error> {
    CString::new(s).map_err(|_| Error::Init("t38 terminal (a string holds a NUL)"))
}

impl T38Terminal {
    /// A terminal set up as `cfg` says, speaking T.38 `version` (0–3).
    pub fn new(sp: &Arc<Spandsp>, cfg: &FaxConfig, version: u8) -> Result<T38Terminal, Error> {
        let api = &sp.api;
        let mut ctx = Box::new(Ctx {
            now: 0,
            completion: None,
            frames: Vec::new(),
            sent: Vec::new(),
        });
        let user = ctx.as_mut() as *mut Ctx as *mut c_void;
        // SAFETY: a null state asks spandsp to allocate one; `user` outlives the state.
        let state = unsafe {
            (api.t38_terminal_init)(
                std::ptr::null_mut(),
                cfg.calling as c_int,
                Some(on_tx),
                user,
            )
        };
        if state.is_null() {
            return Err(Error::Init("t38 terminal"));
        }
        let term = T38Terminal {
            sp: Arc::clone(sp),
            state,
            // SAFETY: `state` is a live terminal.
            t30: unsafe { (api.t38_terminal_get_t30_state)(state) },
            // SAFETY: as above.
            core: unsafe { (api.t38_terminal_get_t38_core_state)(state) },
            ctx,
        };
        let ident = cstring(&cfg.ident)?;
        let tx_file = cfg
            .tx_file
            .as_ref()
            .map(|p| cstring(&p.to_string_lossy()))
            .transpose()?;
        let rx_file = cfg
            .rx_file
            .as_ref()
            .map(|p| cstring(&p.to_string_lossy()))
            .transpose()?;
        // SAFETY: live states; strings are copied by spandsp.
        unsafe {
            (api.t38_set_t38_version)(term.core, version as c_int);
            (api.t30_set_tx_ident)(term.t30, ident.as_ptr());
            (api.t30_set_supported_modems)(term.t30, cfg.modems);
            (api.t30_set_ecm_capability)(term.t30, cfg.ecm as c_int);
            (api.t30_set_supported_compressions)(term.t30, cfg.compressions);
            if let Some(f) = &tx_file {
                (api.t30_set_tx_file)(term.t30, f.as_ptr(), -1, -1);
            }
            if let Some(f) = &rx_file {
                (api.t30_set_rx_file)(term.t30, f.as_ptr(), -1);
            }
            (api.t30_set_phase_e_handler)(term.t30, Some(on_phase_e), user);
            (api.t30_set_real_time_frame_handler)(term.t30, Some(on_frame), user);
        }
        Ok(term)
    }

    /// Lets `samples` of time pass (spandsp sends what is due meanwhile); returns whether
    /// spandsp considers the call over.
    pub fn advance(&mut self, samples: u32) -> bool {
        // SAFETY: live state.
        let done = unsafe { (self.sp.api.t38_terminal_send_timeout)(self.state, samples as c_int) };
        self.ctx.now += samples as u64;
        done != 0
    }

    /// The IFPs sent since the last call, in order.
    pub fn take_sent(&mut self) -> Vec<Vec<u8>> {
        std::mem::take(&mut self.ctx.sent)
    }

    /// Hands one received IFP with its sequence number to the terminal.
    pub fn rx_ifp(&mut self, ifp: &[u8], seq: u16) {
        // SAFETY: live state; the buffer holds `len` octets.
        unsafe {
            (self.sp.api.t38_core_rx_ifp_packet)(self.core, ifp.as_ptr(), ifp.len() as c_int, seq)
        };
    }

    /// The phase E completion code, once the call has ended.
    pub fn completion(&self) -> Option<i32> {
        self.ctx.completion
    }

    /// The call went away: spandsp ends it (and runs phase E).
    pub fn terminate(&mut self) {
        self.view().terminate();
    }

    /// The frames seen so far (sample = time passed when seen).
    pub fn frames(&self) -> &[PeerFrame] {
        &self.ctx.frames
    }

    fn view(&self) -> T30View<'_> {
        T30View {
            sp: &self.sp,
            t30: self.t30,
        }
    }

    /// The transfer statistics.
    pub fn stats(&self) -> FaxStats {
        self.view().stats()
    }

    /// Our identity as spandsp holds it.
    pub fn local_ident(&self) -> String {
        self.view().local_ident()
    }

    /// The far end's identity.
    pub fn remote_ident(&self) -> String {
        self.view().remote_ident()
    }

    /// spandsp's string for a completion code.
    pub fn completion_text(&self, code: i32) -> String {
        self.view().completion_text(code)
    }
}

impl Drop for T38Terminal {
    fn drop(&mut self) {
        // SAFETY: the state was allocated by t38_terminal_init and is freed once.
        unsafe { (self.sp.api.t38_terminal_free)(self.state) };
    }
}
