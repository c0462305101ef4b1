//! spandsp's G.711 codec (`g711_init`, `g711_encode`, `g711_decode`, `g711_free`), as a
//! reference for the bit-exactness tests of our own.

use std::ffi::{c_int, c_void};

use crate::Error;
use crate::codec::{CodecState, sym};

type InitFn = unsafe extern "C" fn(*mut c_void, c_int) -> *mut c_void;

/// Which law (spandsp's `G711_ALAW` = 0, `G711_ULAW` = 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum G711Law {
    /// A-law.
    ALaw,
    /// µ-law.
    MuLaw,
}

/// One spandsp G.711 state.
pub struct G711(CodecState);

impl G711 {
    /// A spandsp G.711 state for `law`.
    pub fn new(law: G711Law) -> Result<G711, Error> {
        let mode = match law {
            G711Law::ALaw => 0,
            G711Law::MuLaw => 1,
        };
        CodecState::open(
            ["g711_encode", "g711_decode", "g711_free"],
            "G.711",
            |lib| {
                let init: InitFn = sym(lib, "g711_init")?;
                // SAFETY: a null state asks spandsp to allocate one.
                Ok(unsafe { init(std::ptr::null_mut(), mode) })
            },
        )
        .map(G711)
    }

    /// Encodes `samples`, one code per sample.
    pub fn encode(&mut self, samples: &[i16]) -> Vec<u8> {
        self.0.encode(samples)
    }

    /// Decodes `codes`, one sample per code.
    pub fn decode(&mut self, codes: &[u8]) -> Vec<i16> {
        self.0.decode(codes)
    }
}
