//! spandsp's G.711 codec (`g711_init`, `g711_encode`, `g711_decode`, `g711_free`), as a
//! reference for the bit-exactness tests of our own.

use std::ffi::{c_int, c_void};

use crate::{Error, LIBRARY_NAME, one_line};

type InitFn = unsafe extern "C" fn(*mut c_void, c_int) -> *mut c_void;
type EncodeFn = unsafe extern "C" fn(*mut c_void, *mut u8, *const i16, c_int) -> c_int;
type DecodeFn = unsafe extern "C" fn(*mut c_void, *mut i16, *const u8, c_int) -> c_int;
type FreeFn = unsafe extern "C" fn(*mut c_void) -> c_int;

/// Which law (spandsp's `G711_ALAW` = 0, `G711_ULAW` = 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum G711Law {
    /// A-law.
    ALaw,
    /// µ-law.
    MuLaw,
}

/// One spandsp G.711 state.
pub struct G711 {
    state: *mut c_void,
    encode: EncodeFn,
    decode: DecodeFn,
    free: FreeFn,
    // Dropped last: keeps the functions above mapped.
    _lib: libloading::Library,
}

fn sym<T: Copy>(lib: &libloading::Library, name: &'static str) -> Result<T, Error> {
    // SAFETY: the caller names the symbol with the type declared in spandsp/g711.h.
    unsafe { lib.get::<T>(name.as_bytes()) }
        .map(|s| *s)
        .map_err(|e| Error::Symbol {
            symbol: name,
            detail: one_line(&e.to_string()),
        })
}

impl G711 {
    /// A spandsp G.711 state for `law`.
    pub fn new(law: G711Law) -> Result<G711, Error> {
        // SAFETY: loading spandsp runs only its ELF initialisers.
        let lib = unsafe { libloading::Library::new(LIBRARY_NAME) }
            .map_err(|e| Error::Load(one_line(&e.to_string())))?;
        let init: InitFn = sym(&lib, "g711_init")?;
        let encode: EncodeFn = sym(&lib, "g711_encode")?;
        let decode: DecodeFn = sym(&lib, "g711_decode")?;
        let free: FreeFn = sym(&lib, "g711_free")?;
        let mode = match law {
            G711Law::ALaw => 0,
            G711Law::MuLaw => 1,
        };
        // SAFETY: a null state asks spandsp to allocate one.
        let state = unsafe { init(std::ptr::null_mut(), mode) };
        if state.is_null() {
            return Err(Error::Init("G.711"));
        }
        Ok(G711 {
            state,
            encode,
            decode,
            free,
            _lib: lib,
        })
    }

    /// Encodes `samples`, one code per sample.
    pub fn encode(&mut self, samples: &[i16]) -> Vec<u8> {
        let mut out = vec![0u8; samples.len()];
        // SAFETY: one output byte per input sample; `state` is live.
        let n = unsafe {
            (self.encode)(
                self.state,
                out.as_mut_ptr(),
                samples.as_ptr(),
                samples.len() as c_int,
            )
        };
        out.truncate(n.max(0) as usize);
        out
    }

    /// Decodes `codes`, one sample per code.
    pub fn decode(&mut self, codes: &[u8]) -> Vec<i16> {
        let mut out = vec![0i16; codes.len()];
        // SAFETY: one output sample per input code; `state` is live.
        let n = unsafe {
            (self.decode)(
                self.state,
                out.as_mut_ptr(),
                codes.as_ptr(),
                codes.len() as c_int,
            )
        };
        out.truncate(n.max(0) as usize);
        out
    }
}

impl Drop for G711 {
    fn drop(&mut self) {
        // SAFETY: `state` came from g711_init and is freed once.
        unsafe {
            (self.free)(self.state);
        }
    }
}
