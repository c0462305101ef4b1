//! The shape spandsp's sample codecs share (`*_init` returning a state, `*_encode`/`*_decode`
//! over 16-bit samples and one code per byte, `*_free`): loaded once here for G.711 and G.726.

use std::ffi::{c_int, c_void};

use crate::{Error, LIBRARY_NAME, one_line};

type EncodeFn = unsafe extern "C" fn(*mut c_void, *mut u8, *const i16, c_int) -> c_int;
type DecodeFn = unsafe extern "C" fn(*mut c_void, *mut i16, *const u8, c_int) -> c_int;
type FreeFn = unsafe extern "C" fn(*mut c_void) -> c_int;

/// A live spandsp codec state with its encode, decode and free functions.
pub(crate) struct CodecState {
    state: *mut c_void,
    encode: EncodeFn,
    decode: DecodeFn,
    free: FreeFn,
    // Dropped last: keeps the functions above mapped.
    _lib: libloading::Library,
}

pub(crate) fn sym<T: Copy>(lib: &libloading::Library, name: &'static str) -> Result<T, Error> {
    // SAFETY: the caller names the symbol with the type its spandsp header declares.
    unsafe { lib.get::<T>(name.as_bytes()) }
        .map(|s| *s)
        .map_err(|e| Error::Symbol {
            symbol: name,
            detail: one_line(&e.to_string()),
        })
}

impl CodecState {
    /// Loads spandsp, resolves `<prefix>_encode`/`_decode`/`_free`, and makes the state with
    /// `init`, which gets the library to resolve its own `<prefix>_init`.
    pub(crate) fn open(
        names: [&'static str; 3],
        what: &'static str,
        init: impl FnOnce(&libloading::Library) -> Result<*mut c_void, Error>,
    ) -> Result<CodecState, Error> {
        // SAFETY: loading spandsp runs only its ELF initialisers.
        let lib = unsafe { libloading::Library::new(LIBRARY_NAME) }
            .map_err(|e| Error::Load(one_line(&e.to_string())))?;
        let encode: EncodeFn = sym(&lib, names[0])?;
        let decode: DecodeFn = sym(&lib, names[1])?;
        let free: FreeFn = sym(&lib, names[2])?;
        let state = init(&lib)?;
        if state.is_null() {
            return Err(Error::Init(what));
        }
        Ok(CodecState {
            state,
            encode,
            decode,
            free,
            _lib: lib,
        })
    }

    /// Encodes `samples`, one code per output byte.
    pub(crate) fn encode(&mut self, samples: &[i16]) -> Vec<u8> {
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

    /// Decodes codes (one per byte) into samples.
    pub(crate) fn decode(&mut self, codes: &[u8]) -> Vec<i16> {
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

impl Drop for CodecState {
    fn drop(&mut self) {
        // SAFETY: `state` came from the codec's init and is freed once.
        unsafe {
            (self.free)(self.state);
        }
    }
}
