//! spandsp's G.726 codec (`g726_init`, `g726_encode`, `g726_decode`, `g726_free`) with a
//! 16-bit linear interface and one code word per byte, as a reference for bit-exactness tests.

use std::ffi::{c_int, c_void};

use crate::{Error, LIBRARY_NAME, one_line};

const G726_ENCODING_LINEAR: c_int = 0;
const G726_PACKING_NONE: c_int = 0;

type InitFn = unsafe extern "C" fn(*mut c_void, c_int, c_int, c_int) -> *mut c_void;
type EncodeFn = unsafe extern "C" fn(*mut c_void, *mut u8, *const i16, c_int) -> c_int;
type DecodeFn = unsafe extern "C" fn(*mut c_void, *mut i16, *const u8, c_int) -> c_int;
type FreeFn = unsafe extern "C" fn(*mut c_void) -> c_int;

/// One spandsp G.726 encoder or decoder state (each direction needs its own).
pub struct G726 {
    state: *mut c_void,
    encode: EncodeFn,
    decode: DecodeFn,
    free: FreeFn,
    // Dropped last: keeps the functions above mapped.
    _lib: libloading::Library,
}

fn sym<T: Copy>(lib: &libloading::Library, name: &'static str) -> Result<T, Error> {
    // SAFETY: the caller names the symbol with the type declared in spandsp/g726.h.
    unsafe { lib.get::<T>(name.as_bytes()) }
        .map(|s| *s)
        .map_err(|e| Error::Symbol {
            symbol: name,
            detail: one_line(&e.to_string()),
        })
}

impl G726 {
    /// A spandsp G.726 state at `bit_rate` (16000, 24000, 32000 or 40000) with 16-bit
    /// linear samples and unpacked code words.
    pub fn new(bit_rate: u32) -> Result<G726, Error> {
        if ![16_000, 24_000, 32_000, 40_000].contains(&bit_rate) {
            return Err(Error::UnsupportedRate {
                modem: "G.726",
                rate: bit_rate,
            });
        }
        // SAFETY: loading spandsp runs only its ELF initialisers.
        let lib = unsafe { libloading::Library::new(LIBRARY_NAME) }
            .map_err(|e| Error::Load(one_line(&e.to_string())))?;
        let init: InitFn = sym(&lib, "g726_init")?;
        let encode: EncodeFn = sym(&lib, "g726_encode")?;
        let decode: DecodeFn = sym(&lib, "g726_decode")?;
        let free: FreeFn = sym(&lib, "g726_free")?;
        // SAFETY: a null state asks spandsp to allocate one.
        let state = unsafe {
            init(
                std::ptr::null_mut(),
                bit_rate as c_int,
                G726_ENCODING_LINEAR,
                G726_PACKING_NONE,
            )
        };
        if state.is_null() {
            return Err(Error::Init("G.726"));
        }
        Ok(G726 {
            state,
            encode,
            decode,
            free,
            _lib: lib,
        })
    }

    /// Encodes `samples`, one code word per output byte.
    pub fn encode(&mut self, samples: &[i16]) -> Vec<u8> {
        let mut out = vec![0u8; samples.len()];
        // SAFETY: unpacked output needs one byte per sample; `state` is live.
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

    /// Decodes code words (one per byte) into samples.
    pub fn decode(&mut self, codes: &[u8]) -> Vec<i16> {
        let mut out = vec![0i16; codes.len()];
        // SAFETY: unpacked input gives one sample per byte; `state` is live.
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

impl Drop for G726 {
    fn drop(&mut self) {
        // SAFETY: `state` came from g726_init and is freed once.
        unsafe { (self.free)(self.state) };
    }
}
