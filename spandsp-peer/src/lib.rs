//! spandsp's fax modems as a reference peer.
//!
//! faxsim judges its own modems against spandsp, the open-source telephony DSP library most
//! fax software is built on. This crate loads `libspandsp.so.2` (Debian package `libspandsp2`)
//! at run time, so nothing in the workspace links against it: when the library is absent,
//! [`Spandsp::load`] fails with a one-line error and tests can skip with [`require`].
//!
//! The modems are wrapped: [`ModemTx`] (modulator) and [`ModemRx`] (demodulator) for
//! V.17, V.29, V.27ter and both V.21 channels ([`PeerModem`]). Both drive spandsp through
//! `extern "C"` trampolines into a boxed context, so bits and events reach ordinary Rust
//! closures, panics in those closures are carried across the C frames, and `Drop` frees the
//! spandsp state. [`fax::Fax`] wraps spandsp's whole fax terminal (`fax_*`/`t30_*`) as an
//! audio endpoint.
//!
//! ```no_run
//! use spandsp_peer::{ModemRx, ModemTx, PeerModem, PeerRxEvent};
//! let sp = spandsp_peer::Spandsp::load()?;
//! let mut tx = ModemTx::new(&sp, PeerModem::V29, 9600, false, -10.0)?;
//! let mut rx = ModemRx::new(&sp, PeerModem::V29, 9600)?;
//! let mut n = 0;
//! let mut next_bit = || { n += 1; if n <= 9600 { Some(n % 3 == 0) } else { None } };
//! let mut block = [0i16; 160];
//! let mut got = Vec::new();
//! while !tx.is_finished() {
//!     let written = tx.fill(&mut block, &mut next_bit);
//!     block[written..].fill(0);
//!     rx.process(&block, &mut |ev| if let PeerRxEvent::Bit(b) = ev { got.push(b) });
//! }
//! # Ok::<(), spandsp_peer::Error>(())
//! ```
#![warn(missing_docs)]

mod codec;
pub mod fax;
mod ffi;
pub mod g711;
pub mod g726;
mod rx;
mod t30;
pub mod t38;
mod tx;

use std::sync::{Arc, Mutex};

use thiserror::Error;

pub use rx::{ModemRx, PeerRxEvent};
pub use tx::ModemTx;

/// The file name loaded by [`Spandsp::load`].
pub const LIBRARY_NAME: &str = "libspandsp.so.2";

/// Errors of this crate.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum Error {
    /// The shared library could not be opened.
    #[error("cannot load {LIBRARY_NAME} (install the Debian package libspandsp2): {0}")]
    Load(String),
    /// The library was opened but lacks a function this crate needs (wrong version).
    #[error("{LIBRARY_NAME} lacks symbol {symbol} (libspandsp2 0.0.6 expected): {detail}")]
    Symbol {
        /// The missing symbol.
        symbol: &'static str,
        /// The loader's message.
        detail: String,
    },
    /// spandsp's modem does not run at this rate.
    #[error("spandsp {modem} does not support {rate} bit/s")]
    UnsupportedRate {
        /// The modem's name.
        modem: &'static str,
        /// The rate asked for.
        rate: u32,
    },
    /// spandsp refused to create or restart the modem.
    #[error("spandsp failed to initialise {0}")]
    Init(&'static str),
}

/// A loaded libspandsp. Shared by every modem made from it through an `Arc`, which keeps the
/// library mapped while any modem lives.
pub struct Spandsp {
    api: ffi::Api,
    /// Address of spandsp's `preset_fsk_specs[]` (read-only library data).
    fsk_specs: *const ffi::FskSpec,
    // Declared last so it is dropped after everything resolved from it.
    _lib: libloading::Library,
}

// SAFETY: `Spandsp` holds function pointers and the address of immutable library data; the
// functions it exposes operate only on the state object passed to them, so sharing the table
// between threads is sound.
unsafe impl Send for Spandsp {}
// SAFETY: see `Send`: nothing in `Spandsp` is mutated after loading.
unsafe impl Sync for Spandsp {}

impl std::fmt::Debug for Spandsp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Spandsp(")?;
        f.write_str(LIBRARY_NAME)?;
        f.write_str(")")
    }
}

static LOADED: Mutex<Option<Arc<Spandsp>>> = Mutex::new(None);

impl Spandsp {
    /// Loads `libspandsp.so.2` and resolves every function this crate uses. The first
    /// successful load is cached and shared.
    pub fn load() -> Result<Arc<Spandsp>, Error> {
        let mut cached = LOADED.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(sp) = cached.as_ref() {
            return Ok(Arc::clone(sp));
        }
        // SAFETY: loading spandsp runs only its (trivial) ELF initialisers.
        let lib = unsafe { libloading::Library::new(LIBRARY_NAME) }
            .map_err(|e| Error::Load(one_line(&e.to_string())))?;
        // SAFETY: the declarations in `ffi` follow the installed spandsp 0.0.6 headers.
        let api = unsafe { ffi::Api::load(&lib) }.map_err(|(symbol, e)| Error::Symbol {
            symbol,
            detail: one_line(&e.to_string()),
        })?;
        // SAFETY: `preset_fsk_specs` is an array of `fsk_spec_t`; the symbol's address is the
        // address of its first element.
        let fsk_specs = unsafe { lib.get::<*const ffi::FskSpec>(b"preset_fsk_specs\0") }
            .map(|sym| *sym)
            .map_err(|e| Error::Symbol {
                symbol: "preset_fsk_specs",
                detail: one_line(&e.to_string()),
            })?;
        let sp = Arc::new(Spandsp {
            api,
            fsk_specs,
            _lib: lib,
        });
        *cached = Some(Arc::clone(&sp));
        Ok(sp)
    }

    /// spandsp's preset specification for an FSK channel.
    fn fsk_spec(&self, index: usize) -> *const ffi::FskSpec {
        // SAFETY: `index` is one of the FSK_* enum values, all within the preset array.
        unsafe { self.fsk_specs.add(index) }
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// For tests that need spandsp: the loaded library, or `None` after printing
/// `skipped: needs libspandsp (apt-get install libspandsp2)`. When the environment sets
/// `FAXSIM_REQUIRE_SYSTEM_LIBS=1` (CI), a missing library panics instead, so the test fails.
pub fn require() -> Option<Arc<Spandsp>> {
    match Spandsp::load() {
        Ok(sp) => Some(sp),
        Err(e) => {
            if std::env::var("FAXSIM_REQUIRE_SYSTEM_LIBS").as_deref() == Ok("1") {
                panic!("FAXSIM_REQUIRE_SYSTEM_LIBS=1 but {e}");
            }
            println!("skipped: needs libspandsp (apt-get install libspandsp2)");
            None
        }
    }
}

/// The spandsp modems this crate drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PeerModem {
    /// V.17 trellis-coded QAM: 7200, 9600, 12000, 14400 bit/s.
    V17,
    /// V.29 QAM: 4800, 7200, 9600 bit/s.
    V29,
    /// V.27ter DPSK: 2400, 4800 bit/s.
    V27ter,
    /// V.21 channel 1 FSK (1180/980 Hz for 0/1), 300 bit/s.
    V21Ch1,
    /// V.21 channel 2 FSK (1850/1650 Hz for 0/1), 300 bit/s: the T.30 control channel.
    V21Ch2,
}

impl PeerModem {
    /// The bit rates spandsp supports for this modem, lowest first.
    pub fn rates(self) -> &'static [u32] {
        match self {
            PeerModem::V17 => &[7200, 9600, 12000, 14400],
            PeerModem::V29 => &[4800, 7200, 9600],
            PeerModem::V27ter => &[2400, 4800],
            PeerModem::V21Ch1 | PeerModem::V21Ch2 => &[300],
        }
    }

    /// A short name for messages.
    pub fn name(self) -> &'static str {
        match self {
            PeerModem::V17 => "V.17",
            PeerModem::V29 => "V.29",
            PeerModem::V27ter => "V.27ter",
            PeerModem::V21Ch1 => "V.21 channel 1",
            PeerModem::V21Ch2 => "V.21 channel 2",
        }
    }

    /// Whether this is one of the FSK (V.21) channels.
    pub fn is_fsk(self) -> bool {
        matches!(self, PeerModem::V21Ch1 | PeerModem::V21Ch2)
    }

    fn check_rate(self, rate: u32) -> Result<(), Error> {
        if self.rates().contains(&rate) {
            Ok(())
        } else {
            Err(Error::UnsupportedRate {
                modem: self.name(),
                rate,
            })
        }
    }

    fn fsk_index(self) -> usize {
        match self {
            PeerModem::V21Ch1 => ffi::FSK_V21CH1,
            _ => ffi::FSK_V21CH2,
        }
    }
}

/// Carries a panic out of an `extern "C"` callback: the callback stores it, the Rust caller
/// of the C function re-raises it once C has returned.
type PanicPayload = Box<dyn std::any::Any + Send + 'static>;
