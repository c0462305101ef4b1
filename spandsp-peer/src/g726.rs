//! spandsp's G.726 codec (`g726_init`, `g726_encode`, `g726_decode`, `g726_free`) with a
//! 16-bit linear interface and one code word per byte, as a reference for bit-exactness tests.

use std::ffi::{c_int, c_void};

use crate::Error;
use crate::codec::{CodecState, sym};

const G726_ENCODING_LINEAR: c_int = 0;
const G726_PACKING_NONE: c_int = 0;

type InitFn = unsafe extern "C" fn(*mut c_void, c_int, c_int, c_int) -> *mut c_void;

/// One spandsp G.726 encoder or decoder state (each direction needs its own).
pub struct G726(CodecState);

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
        CodecState::open(
            ["g726_encode", "g726_decode", "g726_free"],
            "G.726",
            |lib| {
                let init: InitFn = sym(lib, "g726_init")?;
                // SAFETY: a null state asks spandsp to allocate one.
                Ok(unsafe {
                    init(
                        std::ptr::null_mut(),
                        bit_rate as c_int,
                        G726_ENCODING_LINEAR,
                        G726_PACKING_NONE,
                    )
                })
            },
        )
        .map(G726)
    }

    /// Encodes `samples`, one code word per output byte.
    pub fn encode(&mut self, samples: &[i16]) -> Vec<u8> {
        self.0.encode(samples)
    }

    /// Decodes code words (one per byte) into samples.
    pub fn decode(&mut self, codes: &[u8]) -> Vec<i16> {
        self.0.decode(codes)
    }
}
