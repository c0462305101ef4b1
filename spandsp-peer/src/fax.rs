//! spandsp's fax terminal (`fax_state_t` with its T.30 engine) over audio.
//!
//! [`Fax`] sends a TIFF file or receives into one, exchanging 8000 Hz samples through
//! [`Fax::rx`] and [`Fax::tx`]. The T.30 frames it sends and receives are kept (from
//! spandsp's real-time frame handler) with the sample count at which they were seen, and
//! its phase E completion code is kept once the call ends.
//!
//! ```no_run
//! use spandsp_peer::fax::{Fax, FaxConfig};
//! let sp = spandsp_peer::Spandsp::load()?;
//! let mut cfg = FaxConfig::new(false);
//! cfg.rx_file = Some("received.tif".into());
//! let mut fax = Fax::new(&sp, &cfg)?;
//! let mut block = [0i16; 160];
//! fax.tx(&mut block);
//! fax.rx(&block);
//! # Ok::<(), spandsp_peer::Error>(())
//! ```

use std::ffi::{CString, c_int, c_void};
use std::path::PathBuf;
use std::sync::Arc;

use crate::t30::T30View;
use crate::{Error, Spandsp, ffi};

/// Modem bits of `t30_set_supported_modems` (t30.h).
pub mod modems {
    /// V.27ter.
    pub const V27TER: i32 = 0x01;
    /// V.29.
    pub const V29: i32 = 0x02;
    /// V.17.
    pub const V17: i32 = 0x04;
}

/// Compression bits of `t30_set_supported_compressions` (t30.h).
pub mod compressions {
    /// T.4 1-D (MH).
    pub const T4_1D: i32 = 0x02;
    /// T.4 2-D (MR).
    pub const T4_2D: i32 = 0x04;
    /// T.6 (MMR).
    pub const T6: i32 = 0x08;
}

/// How to set up the terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaxConfig {
    /// The calling party (sends CNG, waits for DIS) or the answering one.
    pub calling: bool,
    /// Local identity (TSI/CSI).
    pub ident: String,
    /// [`modems`] bits.
    pub modems: i32,
    /// Error correction mode offered.
    pub ecm: bool,
    /// [`compressions`] bits.
    pub compressions: i32,
    /// File to send.
    pub tx_file: Option<PathBuf>,
    /// File to receive into.
    pub rx_file: Option<PathBuf>,
}

impl FaxConfig {
    /// Every modem and compression, ECM on, no files.
    pub fn new(calling: bool) -> Self {
        FaxConfig {
            calling,
            ident: String::new(),
            modems: modems::V27TER | modems::V29 | modems::V17,
            ecm: true,
            compressions: compressions::T4_1D | compressions::T4_2D | compressions::T6,
            tx_file: None,
            rx_file: None,
        }
    }
}

/// A T.30 frame as spandsp's real-time handler reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerFrame {
    /// Samples into the call (received frames: samples given to `rx`; sent: to `tx`).
    pub sample: u64,
    /// Whether it was received.
    pub incoming: bool,
    /// The octets as spandsp gives them (address, control, FCF, FIF).
    pub bytes: Vec<u8>,
}

/// The transfer statistics of `t30_get_transfer_statistics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FaxStats {
    /// Image bit rate.
    pub bit_rate: u32,
    /// ECM used.
    pub ecm: bool,
    /// Pages sent.
    pub pages_tx: u32,
    /// Pages received.
    pub pages_rx: u32,
    /// Horizontal resolution, pixels per metre.
    pub x_resolution: u32,
    /// Vertical resolution, pixels per metre.
    pub y_resolution: u32,
    /// Bad rows of the last page.
    pub bad_rows: u32,
    /// ECM retries.
    pub ecm_retries: u32,
}

struct Ctx {
    now: u64,
    completion: Option<i32>,
    frames: Vec<PeerFrame>,
}

unsafe extern "C" fn on_phase_e(_t30: ffi::State, user: *mut c_void, code: c_int) {
    // SAFETY: `user` is the `Ctx` boxed in `Fax`, alive while the state is.
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

/// spandsp's fax terminal.
pub struct Fax {
    sp: Arc<Spandsp>,
    state: ffi::State,
    t30: ffi::State,
    ctx: Box<Ctx>,
    rx_count: u64,
    tx_count: u64,
    scratch: Vec<i16>,
}

// SAFETY: the spandsp state is owned exclusively by this value and only touched through
// `&mut self`; spandsp keeps no thread-local state for it.
unsafe impl Send for Fax {}

fn cstring(s: &str) -> Result<CString, Error> {
    CString::new(s).map_err(|_| Error::Init("fax (a string holds a NUL)"))
}

impl Fax {
    /// A terminal set up as `cfg` says.
    pub fn new(sp: &Arc<Spandsp>, cfg: &FaxConfig) -> Result<Fax, Error> {
        let api = &sp.api;
        // SAFETY: a null state asks spandsp to allocate one.
        let state = unsafe { (api.fax_init)(std::ptr::null_mut(), cfg.calling as c_int) };
        if state.is_null() {
            return Err(Error::Init("fax"));
        }
        let mut fax = Fax {
            sp: Arc::clone(sp),
            state,
            // SAFETY: `state` is a live fax state.
            t30: unsafe { (api.fax_get_t30_state)(state) },
            ctx: Box::new(Ctx {
                now: 0,
                completion: None,
                frames: Vec::new(),
            }),
            rx_count: 0,
            tx_count: 0,
            scratch: Vec::new(),
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
        let user = fax.ctx.as_mut() as *mut Ctx as *mut c_void;
        // SAFETY: live states; strings are copied by spandsp; `user` outlives the state
        // (both are dropped together, the state first).
        unsafe {
            (api.fax_set_transmit_on_idle)(fax.state, 1);
            (api.t30_set_tx_ident)(fax.t30, ident.as_ptr());
            (api.t30_set_supported_modems)(fax.t30, cfg.modems);
            (api.t30_set_ecm_capability)(fax.t30, cfg.ecm as c_int);
            (api.t30_set_supported_compressions)(fax.t30, cfg.compressions);
            if let Some(f) = &tx_file {
                (api.t30_set_tx_file)(fax.t30, f.as_ptr(), -1, -1);
            }
            if let Some(f) = &rx_file {
                (api.t30_set_rx_file)(fax.t30, f.as_ptr(), -1);
            }
            (api.t30_set_phase_e_handler)(fax.t30, Some(on_phase_e), user);
            (api.t30_set_real_time_frame_handler)(fax.t30, Some(on_frame), user);
        }
        Ok(fax)
    }

    /// Hands received samples to the terminal.
    pub fn rx(&mut self, samples: &[i16]) {
        self.scratch.clear();
        self.scratch.extend_from_slice(samples);
        self.ctx.now = self.rx_count;
        // SAFETY: live state; the buffer holds `len` samples.
        unsafe {
            (self.sp.api.fax_rx)(
                self.state,
                self.scratch.as_mut_ptr(),
                self.scratch.len() as c_int,
            )
        };
        self.rx_count += samples.len() as u64;
    }

    /// Fills `out` with what the terminal sends (silence when idle); returns the samples
    /// spandsp produced.
    pub fn tx(&mut self, out: &mut [i16]) -> usize {
        self.ctx.now = self.tx_count;
        // SAFETY: live state; `out` has room for `len` samples.
        let n = unsafe { (self.sp.api.fax_tx)(self.state, out.as_mut_ptr(), out.len() as c_int) };
        let n = (n.max(0) as usize).min(out.len());
        out[n..].fill(0);
        self.tx_count += out.len() as u64;
        n
    }

    /// The phase E completion code, once the call has ended.
    pub fn completion(&self) -> Option<i32> {
        self.ctx.completion
    }

    /// The line went away: spandsp ends the call (and runs phase E).
    pub fn terminate(&mut self) {
        self.view().terminate();
    }

    /// The frames seen so far.
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

impl Drop for Fax {
    fn drop(&mut self) {
        // SAFETY: the state was allocated by fax_init and is freed once.
        unsafe { (self.sp.api.fax_free)(self.state) };
    }
}
