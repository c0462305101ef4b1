//! spandsp modulators.

use std::ffi::{c_int, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::Arc;

use crate::ffi::{self, State};
use crate::{Error, PanicPayload, PeerModem, Spandsp};

/// Samples asked of spandsp per call while data flows: short enough that the end of the data
/// is noticed long before spandsp's closing sequence (several symbols) completes.
const CHUNK: usize = 32;

/// The bit source of the `fill` call in progress.
type Source<'a> = &'a mut dyn FnMut() -> Option<bool>;

/// What spandsp's callbacks see through `user_data`.
struct TxCtx {
    /// Points at a `Source` on the stack of `fill`; null outside `fill`.
    source: *mut c_void,
    /// The source has returned `None`; spandsp is sent end-of-data from then on.
    ended: bool,
    /// spandsp reported `SIG_STATUS_SHUTDOWN_COMPLETE`.
    shutdown: bool,
    panic: Option<PanicPayload>,
}

/// A spandsp modulator producing 8000 Hz 16-bit samples.
///
/// Bits are pulled from the closure given to [`ModemTx::fill`]; when it returns `None` spandsp
/// ends the transmission the way it does for a real call, and the modem finishes.
pub struct ModemTx {
    sp: Arc<Spandsp>,
    kind: PeerModem,
    state: State,
    ctx: *mut TxCtx,
    finished: bool,
}

// SAFETY: the spandsp state and the context are owned exclusively by this value and are only
// touched through `&mut self`; spandsp keeps no thread-local or global state for a modem.
unsafe impl Send for ModemTx {}

unsafe extern "C" fn get_bit(user_data: *mut c_void) -> c_int {
    // SAFETY: `user_data` is the `TxCtx` registered at init, alive until `Drop`.
    let ctx = unsafe { &mut *(user_data as *mut TxCtx) };
    if ctx.ended || ctx.panic.is_some() || ctx.source.is_null() {
        return ffi::SIG_STATUS_END_OF_DATA;
    }
    // SAFETY: non-null `source` points at a live `Source` for the duration of `fill`.
    let source = unsafe { &mut *(ctx.source as *mut Source<'_>) };
    match catch_unwind(AssertUnwindSafe(source)) {
        Ok(Some(bit)) => c_int::from(bit),
        Ok(None) => {
            ctx.ended = true;
            ffi::SIG_STATUS_END_OF_DATA
        }
        Err(payload) => {
            ctx.panic = Some(payload);
            ctx.ended = true;
            ffi::SIG_STATUS_END_OF_DATA
        }
    }
}

unsafe extern "C" fn tx_status(user_data: *mut c_void, status: c_int) {
    // SAFETY: as in `get_bit`.
    let ctx = unsafe { &mut *(user_data as *mut TxCtx) };
    if status == ffi::SIG_STATUS_SHUTDOWN_COMPLETE {
        ctx.shutdown = true;
    }
}

impl ModemTx {
    /// Creates a spandsp modulator for `kind` at `rate` bit/s, sending at `level_dbm0` (mean
    /// power). `short_train` selects V.17's short (resynchronising) training; spandsp's
    /// V.29, V.27ter and V.21 transmitters have no short training and ignore it.
    pub fn new(
        sp: &Arc<Spandsp>,
        kind: PeerModem,
        rate: u32,
        short_train: bool,
        level_dbm0: f32,
    ) -> Result<ModemTx, Error> {
        kind.check_rate(rate)?;
        let ctx = Box::into_raw(Box::new(TxCtx {
            source: std::ptr::null_mut(),
            ended: false,
            shutdown: false,
            panic: None,
        }));
        let ud = ctx as *mut c_void;
        let api = &sp.api;
        let r = rate as c_int;
        let null = std::ptr::null_mut();
        // SAFETY: passing NULL makes spandsp allocate the state; `ud` outlives it (freed in
        // Drop after the state).
        let state = unsafe {
            match kind {
                PeerModem::V17 => (api.v17_tx_init)(null, r, 0, Some(get_bit), ud),
                PeerModem::V29 => (api.v29_tx_init)(null, r, 0, Some(get_bit), ud),
                PeerModem::V27ter => (api.v27ter_tx_init)(null, r, 0, Some(get_bit), ud),
                PeerModem::V21Ch1 | PeerModem::V21Ch2 => {
                    (api.fsk_tx_init)(null, sp.fsk_spec(kind.fsk_index()), Some(get_bit), ud)
                }
            }
        };
        if state.is_null() {
            // SAFETY: `ctx` came from `Box::into_raw` and nothing else refers to it.
            drop(unsafe { Box::from_raw(ctx) });
            return Err(Error::Init(kind.name()));
        }
        let mut tx = ModemTx {
            sp: Arc::clone(sp),
            kind,
            state,
            ctx,
            finished: false,
        };
        // SAFETY: `state` is a live state of the matching type.
        unsafe {
            match kind {
                PeerModem::V17 => {
                    (api.v17_tx_set_modem_status_handler)(state, Some(tx_status), ud);
                    (api.v17_tx_power)(state, level_dbm0);
                }
                PeerModem::V29 => {
                    (api.v29_tx_set_modem_status_handler)(state, Some(tx_status), ud);
                    (api.v29_tx_power)(state, level_dbm0);
                }
                PeerModem::V27ter => {
                    (api.v27ter_tx_set_modem_status_handler)(state, Some(tx_status), ud);
                    (api.v27ter_tx_power)(state, level_dbm0);
                }
                PeerModem::V21Ch1 | PeerModem::V21Ch2 => {
                    (api.fsk_tx_set_modem_status_handler)(state, Some(tx_status), ud);
                    (api.fsk_tx_power)(state, level_dbm0);
                }
            }
        }
        if short_train {
            tx.restart(rate, true)?;
        }
        Ok(tx)
    }

    /// The modem this transmitter runs.
    pub fn kind(&self) -> PeerModem {
        self.kind
    }

    /// Starts a new transmission (training first) at `rate`, keeping the level. As in
    /// [`ModemTx::new`], `short_train` matters only for V.17.
    pub fn restart(&mut self, rate: u32, short_train: bool) -> Result<(), Error> {
        self.kind.check_rate(rate)?;
        let api = &self.sp.api;
        let r = rate as c_int;
        // SAFETY: `state` is a live state of the matching type.
        let rc = unsafe {
            match self.kind {
                PeerModem::V17 => (api.v17_tx_restart)(self.state, r, 0, c_int::from(short_train)),
                PeerModem::V29 => (api.v29_tx_restart)(self.state, r, 0),
                PeerModem::V27ter => (api.v27ter_tx_restart)(self.state, r, 0),
                PeerModem::V21Ch1 | PeerModem::V21Ch2 => {
                    (api.fsk_tx_restart)(self.state, self.sp.fsk_spec(self.kind.fsk_index()))
                }
            }
        };
        if rc != 0 {
            return Err(Error::Init(self.kind.name()));
        }
        // SAFETY: `ctx` is live and not otherwise borrowed outside spandsp calls.
        let ctx = unsafe { &mut *self.ctx };
        ctx.ended = false;
        ctx.shutdown = false;
        self.finished = false;
        Ok(())
    }

    /// Fills `out` with samples, pulling data bits from `next_bit` (`None` ends the data).
    /// Returns how many samples were written; fewer than `out.len()` means the transmission
    /// ended, after which [`ModemTx::is_finished`] is true and nothing more is written.
    /// A panic inside `next_bit` propagates out of this call.
    pub fn fill(&mut self, out: &mut [i16], next_bit: &mut dyn FnMut() -> Option<bool>) -> usize {
        if self.finished {
            return 0;
        }
        let mut source: Source<'_> = next_bit;
        // SAFETY: `ctx` is live; its `source` is reset before `source` goes out of scope.
        unsafe { (*self.ctx).source = &mut source as *mut Source<'_> as *mut c_void };
        let api = &self.sp.api;
        let mut written = 0;
        while written < out.len() {
            // SAFETY: `ctx` is live; no reference to it is held across the C call.
            let (ended, shutdown) = unsafe { ((*self.ctx).ended, (*self.ctx).shutdown) };
            if shutdown {
                self.finished = true;
                break;
            }
            // spandsp reports the end of its closing sequence only per call: once the data
            // has ended, ask for one sample at a time so the end falls on the exact sample
            // whatever the caller's block size. Before that, small chunks make sure the end
            // of data is seen well before the closing sequence completes.
            let len = if ended {
                1
            } else {
                (out.len() - written).min(CHUNK)
            };
            let chunk = &mut out[written..written + len];
            // SAFETY: `chunk` is valid for `len` writes; the state is of the matching type.
            let n = unsafe {
                match self.kind {
                    PeerModem::V17 => (api.v17_tx)(self.state, chunk.as_mut_ptr(), len as c_int),
                    PeerModem::V29 => (api.v29_tx)(self.state, chunk.as_mut_ptr(), len as c_int),
                    PeerModem::V27ter => {
                        (api.v27ter_tx)(self.state, chunk.as_mut_ptr(), len as c_int)
                    }
                    PeerModem::V21Ch1 | PeerModem::V21Ch2 => {
                        (api.fsk_tx)(self.state, chunk.as_mut_ptr(), len as c_int)
                    }
                }
            };
            let n = n.clamp(0, len as c_int) as usize;
            written += n;
            if n < len {
                self.finished = true;
                break;
            }
        }
        // SAFETY: as above.
        let ctx = unsafe { &mut *self.ctx };
        ctx.source = std::ptr::null_mut();
        if ctx.shutdown {
            self.finished = true;
        }
        if let Some(payload) = ctx.panic.take() {
            self.finished = true;
            resume_unwind(payload);
        }
        written
    }

    /// True once the transmission has ended.
    pub fn is_finished(&self) -> bool {
        self.finished
    }
}

impl Drop for ModemTx {
    fn drop(&mut self) {
        let api = &self.sp.api;
        // SAFETY: `state` is live and of the matching type; it is freed exactly once, before
        // the context it refers to.
        unsafe {
            match self.kind {
                PeerModem::V17 => (api.v17_tx_free)(self.state),
                PeerModem::V29 => (api.v29_tx_free)(self.state),
                PeerModem::V27ter => (api.v27ter_tx_free)(self.state),
                PeerModem::V21Ch1 | PeerModem::V21Ch2 => (api.fsk_tx_free)(self.state),
            };
            drop(Box::from_raw(self.ctx));
        }
    }
}
