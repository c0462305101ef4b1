//! spandsp demodulators.

use std::ffi::{c_int, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::Arc;

use crate::ffi::{self, ComplexF, State};
use crate::{Error, PanicPayload, PeerModem, Spandsp};

/// What a spandsp demodulator reports: data bits and its `SIG_STATUS_*` codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerRxEvent {
    /// One received data bit, in transmission order.
    Bit(bool),
    /// Carrier energy appeared (`SIG_STATUS_CARRIER_UP`).
    CarrierUp,
    /// Carrier energy went away (`SIG_STATUS_CARRIER_DOWN`).
    CarrierDown,
    /// A signal of the right kind is training (`SIG_STATUS_TRAINING_IN_PROGRESS`).
    TrainingInProgress,
    /// Training completed; data bits follow (`SIG_STATUS_TRAINING_SUCCEEDED`).
    TrainingSucceeded,
    /// Training did not complete (`SIG_STATUS_TRAINING_FAILED`).
    TrainingFailed,
    /// Framing looks right (`SIG_STATUS_FRAMING_OK`).
    FramingOk,
    /// The data stream ended (`SIG_STATUS_END_OF_DATA`).
    EndOfData,
    /// Any other `SIG_STATUS_*` code, as spandsp's negative number.
    Status(i32),
}

impl PeerRxEvent {
    fn from_code(code: c_int) -> PeerRxEvent {
        match code {
            0 => PeerRxEvent::Bit(false),
            c if c > 0 => PeerRxEvent::Bit(true),
            ffi::SIG_STATUS_CARRIER_UP => PeerRxEvent::CarrierUp,
            ffi::SIG_STATUS_CARRIER_DOWN => PeerRxEvent::CarrierDown,
            ffi::SIG_STATUS_TRAINING_IN_PROGRESS => PeerRxEvent::TrainingInProgress,
            ffi::SIG_STATUS_TRAINING_SUCCEEDED => PeerRxEvent::TrainingSucceeded,
            ffi::SIG_STATUS_TRAINING_FAILED => PeerRxEvent::TrainingFailed,
            ffi::SIG_STATUS_FRAMING_OK => PeerRxEvent::FramingOk,
            ffi::SIG_STATUS_END_OF_DATA => PeerRxEvent::EndOfData,
            other => PeerRxEvent::Status(other),
        }
    }
}

/// The event callback of the `process` call in progress.
type Sink<'a> = &'a mut dyn FnMut(PeerRxEvent);

/// Averaging constant of the decision-error SNR estimate (about 100 symbols).
const SNR_ALPHA: f32 = 0.01;

/// Symbols between SNR snapshots.
const SNAPSHOT_EVERY: u32 = 32;
/// Snapshots kept: the fallback is 96 to 128 symbols old.
const SNAPSHOTS: usize = 4;

/// What spandsp's callbacks see through `user_data`.
struct RxCtx {
    /// Points at a `Sink` on the stack of `process`; null outside `process`.
    sink: *mut c_void,
    /// Between training success and carrier loss: decision errors count toward the SNR.
    trained: bool,
    /// Smoothed power of the ideal constellation points.
    target_power: f32,
    /// Smoothed power of the decision error.
    error_power: f32,
    /// Whether any symbol has been measured since training.
    measured: bool,
    /// Symbols measured since training.
    symbols: u32,
    /// (target, error) power snapshots every `SNAPSHOT_EVERY` symbols, oldest overwritten:
    /// when the carrier drops, the estimate falls back to the oldest, from before the
    /// signal's decaying tail reached the decisions.
    snapshots: [(f32, f32); SNAPSHOTS],
    panic: Option<PanicPayload>,
}

impl RxCtx {
    fn deliver(&mut self, event: PeerRxEvent) {
        match event {
            PeerRxEvent::TrainingSucceeded => {
                self.trained = true;
                self.measured = false;
                self.symbols = 0;
            }
            PeerRxEvent::CarrierDown | PeerRxEvent::TrainingFailed => {
                if self.trained && self.symbols >= SNAPSHOT_EVERY * SNAPSHOTS as u32 {
                    let oldest = (self.symbols / SNAPSHOT_EVERY + 1) as usize % SNAPSHOTS;
                    (self.target_power, self.error_power) = self.snapshots[oldest];
                }
                self.trained = false;
            }
            _ => {}
        }
        if self.sink.is_null() || self.panic.is_some() {
            return;
        }
        // SAFETY: non-null `sink` points at a live `Sink` for the duration of `process`.
        let sink = unsafe { &mut *(self.sink as *mut Sink<'_>) };
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| sink(event))) {
            self.panic = Some(payload);
        }
    }
}

unsafe extern "C" fn put_bit(user_data: *mut c_void, bit: c_int) {
    // SAFETY: `user_data` is the `RxCtx` registered at init, alive until `Drop`.
    let ctx = unsafe { &mut *(user_data as *mut RxCtx) };
    ctx.deliver(PeerRxEvent::from_code(bit));
}

unsafe extern "C" fn rx_status(user_data: *mut c_void, status: c_int) {
    // SAFETY: as in `put_bit`.
    let ctx = unsafe { &mut *(user_data as *mut RxCtx) };
    ctx.deliver(PeerRxEvent::from_code(status));
}

unsafe extern "C" fn qam_report(
    user_data: *mut c_void,
    constel: *const ComplexF,
    target: *const ComplexF,
    _symbol: c_int,
) {
    // SAFETY: as in `put_bit`.
    let ctx = unsafe { &mut *(user_data as *mut RxCtx) };
    if !ctx.trained || constel.is_null() || target.is_null() {
        return;
    }
    // SAFETY: non-null pointers from spandsp point at one `complexf_t` each for this call.
    let (c, t) = unsafe { (*constel, *target) };
    let (er, ei) = (c.re - t.re, c.im - t.im);
    let e = er * er + ei * ei;
    let p = t.re * t.re + t.im * t.im;
    if ctx.measured {
        ctx.error_power += SNR_ALPHA * (e - ctx.error_power);
        ctx.target_power += SNR_ALPHA * (p - ctx.target_power);
    } else {
        ctx.error_power = e;
        ctx.target_power = p;
        ctx.measured = true;
    }
    ctx.symbols += 1;
    if ctx.symbols % SNAPSHOT_EVERY == 0 {
        let slot = (ctx.symbols / SNAPSHOT_EVERY) as usize % SNAPSHOTS;
        ctx.snapshots[slot] = (ctx.target_power, ctx.error_power);
    }
}

/// A spandsp demodulator consuming 8000 Hz 16-bit samples.
pub struct ModemRx {
    sp: Arc<Spandsp>,
    kind: PeerModem,
    state: State,
    ctx: *mut RxCtx,
}

// SAFETY: the spandsp state and the context are owned exclusively by this value and are only
// mutated through `&mut self`; spandsp keeps no thread-local or global state for a modem.
unsafe impl Send for ModemRx {}

impl ModemRx {
    /// Creates a spandsp demodulator for `kind` at `rate` bit/s, waiting for a long training.
    /// V.21 runs in synchronous (HDLC) framing mode, as fax uses it.
    pub fn new(sp: &Arc<Spandsp>, kind: PeerModem, rate: u32) -> Result<ModemRx, Error> {
        kind.check_rate(rate)?;
        let ctx = Box::into_raw(Box::new(RxCtx {
            sink: std::ptr::null_mut(),
            trained: false,
            target_power: 0.0,
            error_power: 0.0,
            measured: false,
            symbols: 0,
            snapshots: [(0.0, 0.0); SNAPSHOTS],
            panic: None,
        }));
        let ud = ctx as *mut c_void;
        let api = &sp.api;
        let r = rate as c_int;
        let null = std::ptr::null_mut();
        // SAFETY: NULL makes spandsp allocate the state; `ud` outlives it (freed in Drop).
        let state = unsafe {
            match kind {
                PeerModem::V17 => (api.v17_rx_init)(null, r, Some(put_bit), ud),
                PeerModem::V29 => (api.v29_rx_init)(null, r, Some(put_bit), ud),
                PeerModem::V27ter => (api.v27ter_rx_init)(null, r, Some(put_bit), ud),
                PeerModem::V21Ch1 | PeerModem::V21Ch2 => (api.fsk_rx_init)(
                    null,
                    sp.fsk_spec(kind.fsk_index()),
                    ffi::FSK_FRAME_MODE_SYNC,
                    Some(put_bit),
                    ud,
                ),
            }
        };
        if state.is_null() {
            // SAFETY: `ctx` came from `Box::into_raw` and nothing else refers to it.
            drop(unsafe { Box::from_raw(ctx) });
            return Err(Error::Init(kind.name()));
        }
        // SAFETY: `state` is a live state of the matching type.
        unsafe {
            match kind {
                PeerModem::V17 => {
                    (api.v17_rx_set_modem_status_handler)(state, Some(rx_status), ud);
                    (api.v17_rx_set_qam_report_handler)(state, Some(qam_report), ud);
                }
                PeerModem::V29 => {
                    (api.v29_rx_set_modem_status_handler)(state, Some(rx_status), ud);
                    (api.v29_rx_set_qam_report_handler)(state, Some(qam_report), ud);
                }
                PeerModem::V27ter => {
                    (api.v27ter_rx_set_modem_status_handler)(state, Some(rx_status), ud);
                    (api.v27ter_rx_set_qam_report_handler)(state, Some(qam_report), ud);
                }
                PeerModem::V21Ch1 | PeerModem::V21Ch2 => {
                    (api.fsk_rx_set_modem_status_handler)(state, Some(rx_status), ud);
                }
            }
        }
        Ok(ModemRx {
            sp: Arc::clone(sp),
            kind,
            state,
            ctx,
        })
    }

    /// The modem this receiver runs.
    pub fn kind(&self) -> PeerModem {
        self.kind
    }

    /// Consumes samples, passing bits and status events to `on` as spandsp produces them.
    /// A panic inside `on` propagates out of this call.
    pub fn process(&mut self, samples: &[i16], on: &mut dyn FnMut(PeerRxEvent)) {
        let mut sink: Sink<'_> = on;
        // SAFETY: `ctx` is live; its `sink` is reset before `sink` goes out of scope.
        unsafe { (*self.ctx).sink = &mut sink as *mut Sink<'_> as *mut c_void };
        let api = &self.sp.api;
        // C takes an `int` length: hand over bounded chunks.
        for chunk in samples.chunks(1 << 16) {
            let len = chunk.len() as c_int;
            // SAFETY: `chunk` is valid for `len` reads; the state is of the matching type.
            unsafe {
                match self.kind {
                    PeerModem::V17 => (api.v17_rx)(self.state, chunk.as_ptr(), len),
                    PeerModem::V29 => (api.v29_rx)(self.state, chunk.as_ptr(), len),
                    PeerModem::V27ter => (api.v27ter_rx)(self.state, chunk.as_ptr(), len),
                    PeerModem::V21Ch1 | PeerModem::V21Ch2 => {
                        (api.fsk_rx)(self.state, chunk.as_ptr(), len)
                    }
                };
            }
            // SAFETY: as above.
            if unsafe { (*self.ctx).panic.is_some() } {
                break;
            }
        }
        // SAFETY: as above.
        let ctx = unsafe { &mut *self.ctx };
        ctx.sink = std::ptr::null_mut();
        if let Some(payload) = ctx.panic.take() {
            resume_unwind(payload);
        }
    }

    /// Prepares for a new signal at `rate`. With `short_train`, V.17 expects the short
    /// training and V.29 / V.27ter reuse the previous training's equalizer ("old train");
    /// V.21 ignores it.
    pub fn restart(&mut self, rate: u32, short_train: bool) -> Result<(), Error> {
        self.kind.check_rate(rate)?;
        let api = &self.sp.api;
        let r = rate as c_int;
        let s = c_int::from(short_train);
        // SAFETY: `state` is a live state of the matching type. Restarting may report status,
        // which is dropped because no sink is installed.
        let rc = unsafe {
            match self.kind {
                PeerModem::V17 => (api.v17_rx_restart)(self.state, r, s),
                PeerModem::V29 => (api.v29_rx_restart)(self.state, r, s),
                PeerModem::V27ter => (api.v27ter_rx_restart)(self.state, r, s),
                PeerModem::V21Ch1 | PeerModem::V21Ch2 => (api.fsk_rx_restart)(
                    self.state,
                    self.sp.fsk_spec(self.kind.fsk_index()),
                    ffi::FSK_FRAME_MODE_SYNC,
                ),
            }
        };
        // SAFETY: `ctx` is live and not borrowed elsewhere.
        let ctx = unsafe { &mut *self.ctx };
        ctx.trained = false;
        ctx.measured = false;
        ctx.symbols = 0;
        if rc != 0 {
            return Err(Error::Init(self.kind.name()));
        }
        Ok(())
    }

    /// spandsp's received signal power estimate, dBm0.
    pub fn signal_power_dbm0(&self) -> f32 {
        let api = &self.sp.api;
        // SAFETY: `state` is a live state of the matching type; the getter only reads it.
        unsafe {
            match self.kind {
                PeerModem::V17 => (api.v17_rx_signal_power)(self.state),
                PeerModem::V29 => (api.v29_rx_signal_power)(self.state),
                PeerModem::V27ter => (api.v27ter_rx_signal_power)(self.state),
                PeerModem::V21Ch1 | PeerModem::V21Ch2 => (api.fsk_rx_signal_power)(self.state),
            }
        }
    }

    /// Sets spandsp's carrier-detect threshold, dBm0.
    pub fn set_signal_cutoff(&mut self, dbm0: f32) {
        let api = &self.sp.api;
        // SAFETY: `state` is a live state of the matching type.
        unsafe {
            match self.kind {
                PeerModem::V17 => (api.v17_rx_signal_cutoff)(self.state, dbm0),
                PeerModem::V29 => (api.v29_rx_signal_cutoff)(self.state, dbm0),
                PeerModem::V27ter => (api.v27ter_rx_signal_cutoff)(self.state, dbm0),
                PeerModem::V21Ch1 | PeerModem::V21Ch2 => {
                    (api.fsk_rx_signal_cutoff)(self.state, dbm0)
                }
            }
        }
    }

    /// The carrier frequency spandsp's carrier recovery has settled on, Hz (QAM/PSK modems
    /// only: V.29 nominally 1700 Hz, V.17 and V.27ter 1800 Hz).
    pub fn carrier_frequency_hz(&self) -> Option<f32> {
        let api = &self.sp.api;
        // SAFETY: as in `signal_power_dbm0`.
        unsafe {
            match self.kind {
                PeerModem::V17 => Some((api.v17_rx_carrier_frequency)(self.state)),
                PeerModem::V29 => Some((api.v29_rx_carrier_frequency)(self.state)),
                PeerModem::V27ter => Some((api.v27ter_rx_carrier_frequency)(self.state)),
                PeerModem::V21Ch1 | PeerModem::V21Ch2 => None,
            }
        }
    }

    /// The nominal carrier frequency of this modem, Hz (QAM/PSK modems only).
    pub fn nominal_carrier_hz(&self) -> Option<f32> {
        match self.kind {
            PeerModem::V29 => Some(1700.0),
            PeerModem::V17 | PeerModem::V27ter => Some(1800.0),
            PeerModem::V21Ch1 | PeerModem::V21Ch2 => None,
        }
    }

    /// spandsp's accumulated symbol-timing correction, in its own units (fractions of a
    /// sample step of its interpolator); QAM/PSK modems only.
    pub fn symbol_timing_correction(&self) -> Option<f32> {
        let api = &self.sp.api;
        // SAFETY: as in `signal_power_dbm0`.
        unsafe {
            match self.kind {
                PeerModem::V17 => Some((api.v17_rx_symbol_timing_correction)(self.state)),
                PeerModem::V29 => Some((api.v29_rx_symbol_timing_correction)(self.state)),
                PeerModem::V27ter => Some((api.v27ter_rx_symbol_timing_correction)(self.state)),
                PeerModem::V21Ch1 | PeerModem::V21Ch2 => None,
            }
        }
    }

    /// Whether spandsp has reported training success and no carrier loss since.
    pub fn is_trained(&self) -> bool {
        // SAFETY: `ctx` is live and not mutably borrowed outside `process`/`restart`.
        unsafe { (*self.ctx).trained }
    }

    /// SNR estimate from spandsp's decision error (received point versus the ideal point it
    /// decided on), smoothed over about 100 symbols since training; `None` for V.21 or before
    /// any trained symbol.
    pub fn snr_db(&self) -> Option<f32> {
        // SAFETY: as in `is_trained`.
        let ctx = unsafe { &*self.ctx };
        if !ctx.measured {
            return None;
        }
        Some(10.0 * (ctx.target_power / ctx.error_power.max(1e-12)).log10())
    }
}

impl Drop for ModemRx {
    fn drop(&mut self) {
        let api = &self.sp.api;
        // SAFETY: `state` is live and of the matching type; it is freed exactly once, before
        // the context it refers to.
        unsafe {
            match self.kind {
                PeerModem::V17 => (api.v17_rx_free)(self.state),
                PeerModem::V29 => (api.v29_rx_free)(self.state),
                PeerModem::V27ter => (api.v27ter_rx_free)(self.state),
                PeerModem::V21Ch1 | PeerModem::V21Ch2 => (api.fsk_rx_free)(self.state),
            };
            drop(Box::from_raw(self.ctx));
        }
    }
}
