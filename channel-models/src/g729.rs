//! G.729 Annex A through the system's bcg729 (`libbcg729.so.0`, Debian `libbcg729-0`),
//! loaded at run time so that nothing links against it.
//!
//! G.729 is a CELP speech coder: it transmits a model of a vocal tract and its excitation,
//! not the waveform. Speech survives it; the waveform of a fax modem does not, which is why
//! fax over a G.729 call fails. When the library is missing, [`G729::new`] returns
//! [`G729Error::Unavailable`] with one line saying what to install; [`require`] turns that
//! into a skip for tests, or a failure under `FAXSIM_REQUIRE_SYSTEM_LIBS=1`.

use std::ffi::c_void;
use std::sync::{Arc, Mutex};

use crate::AudioStage;

/// The file name loaded.
pub const LIBRARY_NAME: &str = "libbcg729.so.0";
/// Samples per G.729 frame (10 ms).
pub const FRAME: usize = 80;
/// Bytes per G.729 speech frame.
pub const FRAME_BYTES: usize = 10;

/// Why the G.729 stage cannot run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum G729Error {
    /// The library or one of its functions is missing.
    #[error("G.729 unavailable: {0}")]
    Unavailable(String),
    /// bcg729 returned no channel context.
    #[error("bcg729 failed to create a channel")]
    Init,
}

type InitEncFn = unsafe extern "C" fn(u8) -> *mut c_void;
type EncodeFn = unsafe extern "C" fn(*mut c_void, *const i16, *mut u8, *mut u8);
type InitDecFn = unsafe extern "C" fn() -> *mut c_void;
type DecodeFn = unsafe extern "C" fn(*mut c_void, *const u8, u8, u8, u8, u8, *mut i16);
type CloseFn = unsafe extern "C" fn(*mut c_void);

/// The bcg729 functions (declarations from bcg729 1.1's `encoder.h` and `decoder.h`).
struct Api {
    init_enc: InitEncFn,
    encode: EncodeFn,
    close_enc: CloseFn,
    init_dec: InitDecFn,
    decode: DecodeFn,
    close_dec: CloseFn,
    _lib: libloading::Library,
}

static LOADED: Mutex<Option<Arc<Api>>> = Mutex::new(None);

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn load() -> Result<Arc<Api>, G729Error> {
    let mut cached = LOADED.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(api) = cached.as_ref() {
        return Ok(Arc::clone(api));
    }
    // SAFETY: loading bcg729 runs only its ELF initialisers.
    let lib = unsafe { libloading::Library::new(LIBRARY_NAME) }.map_err(|e| {
        G729Error::Unavailable(format!(
            "cannot load {LIBRARY_NAME} (install the Debian package libbcg729-0): {}",
            one_line(&e.to_string())
        ))
    })?;
    fn sym<T: Copy>(lib: &libloading::Library, name: &str) -> Result<T, G729Error> {
        // SAFETY: each name is looked up with the type its bcg729 header declares.
        unsafe { lib.get::<T>(name.as_bytes()) }
            .map(|s| *s)
            .map_err(|e| {
                G729Error::Unavailable(format!(
                    "{LIBRARY_NAME} lacks {name} (bcg729 1.1 expected): {}",
                    one_line(&e.to_string())
                ))
            })
    }
    let api = Arc::new(Api {
        init_enc: sym(&lib, "initBcg729EncoderChannel")?,
        encode: sym(&lib, "bcg729Encoder")?,
        close_enc: sym(&lib, "closeBcg729EncoderChannel")?,
        init_dec: sym(&lib, "initBcg729DecoderChannel")?,
        decode: sym(&lib, "bcg729Decoder")?,
        close_dec: sym(&lib, "closeBcg729DecoderChannel")?,
        _lib: lib,
    });
    *cached = Some(Arc::clone(&api));
    Ok(api)
}

/// Whether bcg729 can be loaded here.
pub fn is_available() -> bool {
    load().is_ok()
}

/// For tests: `true` when bcg729 is loaded; otherwise prints
/// `skipped: needs libbcg729 (apt-get install libbcg729-0)` and returns `false`, or panics
/// when `FAXSIM_REQUIRE_SYSTEM_LIBS=1`.
pub fn require() -> bool {
    match load() {
        Ok(_) => true,
        Err(e) => {
            if std::env::var("FAXSIM_REQUIRE_SYSTEM_LIBS").as_deref() == Ok("1") {
                panic!("FAXSIM_REQUIRE_SYSTEM_LIBS=1 but {e}");
            }
            println!("skipped: needs libbcg729 (apt-get install libbcg729-0)");
            false
        }
    }
}

/// A G.729A encoder channel (VAD off: every frame is a 10-byte speech frame).
pub struct G729Encoder {
    api: Arc<Api>,
    ctx: *mut c_void,
}

// SAFETY: the context is owned by this value alone and bcg729 keeps no global state.
unsafe impl Send for G729Encoder {}

impl G729Encoder {
    /// A new encoder channel.
    pub fn new() -> Result<Self, G729Error> {
        let api = load()?;
        // SAFETY: plain constructor; 0 disables VAD/DTX.
        let ctx = unsafe { (api.init_enc)(0) };
        if ctx.is_null() {
            return Err(G729Error::Init);
        }
        Ok(G729Encoder { api, ctx })
    }

    /// Encodes one 10 ms frame.
    pub fn encode(&mut self, frame: &[i16; FRAME]) -> [u8; FRAME_BYTES] {
        let mut bits = [0u8; FRAME_BYTES];
        let mut len = 0u8;
        // SAFETY: 80 input samples, 10 output bytes (the maximum bcg729 writes), live ctx.
        unsafe { (self.api.encode)(self.ctx, frame.as_ptr(), bits.as_mut_ptr(), &mut len) };
        bits
    }
}

impl Drop for G729Encoder {
    fn drop(&mut self) {
        // SAFETY: ctx came from initBcg729EncoderChannel and is closed once.
        unsafe { (self.api.close_enc)(self.ctx) };
    }
}

/// A G.729A decoder channel.
pub struct G729Decoder {
    api: Arc<Api>,
    ctx: *mut c_void,
}

// SAFETY: as for the encoder.
unsafe impl Send for G729Decoder {}

impl G729Decoder {
    /// A new decoder channel.
    pub fn new() -> Result<Self, G729Error> {
        let api = load()?;
        // SAFETY: plain constructor.
        let ctx = unsafe { (api.init_dec)() };
        if ctx.is_null() {
            return Err(G729Error::Init);
        }
        Ok(G729Decoder { api, ctx })
    }

    /// Decodes one frame, or conceals a lost one (`None`: G.729's own frame erasure).
    pub fn decode(&mut self, frame: Option<&[u8; FRAME_BYTES]>) -> [i16; FRAME] {
        let mut out = [0i16; FRAME];
        let zeros = [0u8; FRAME_BYTES];
        let (bits, erased) = match frame {
            Some(f) => (f, 0),
            None => (&zeros, 1),
        };
        // SAFETY: 10 input bytes, 80 output samples, live ctx.
        unsafe {
            (self.api.decode)(
                self.ctx,
                bits.as_ptr(),
                FRAME_BYTES as u8,
                erased,
                0,
                0,
                out.as_mut_ptr(),
            )
        };
        out
    }
}

impl Drop for G729Decoder {
    fn drop(&mut self) {
        // SAFETY: ctx came from initBcg729DecoderChannel and is closed once.
        unsafe { (self.api.close_dec)(self.ctx) };
    }
}

/// G.729A encode and decode back to back. Output lags input by one frame (80 samples, the
/// frame buffering) on top of the codec's own look-ahead; the stage emits exactly one
/// sample per input sample, starting with 80 zeros.
pub struct G729 {
    enc: G729Encoder,
    dec: G729Decoder,
    frame: [i16; FRAME],
    filled: usize,
    decoded: [i16; FRAME],
}

impl std::fmt::Debug for G729 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("G729")
    }
}

impl G729 {
    /// A tandem G.729A encoder and decoder, or why it is unavailable.
    pub fn new() -> Result<Self, G729Error> {
        Ok(G729 {
            enc: G729Encoder::new()?,
            dec: G729Decoder::new()?,
            frame: [0; FRAME],
            filled: 0,
            decoded: [0; FRAME],
        })
    }
}

impl AudioStage for G729 {
    fn process(&mut self, input: &[i16], out: &mut Vec<i16>) {
        for &x in input {
            // The sample leaving now is the one decoded a frame ago at this position.
            out.push(self.decoded[self.filled]);
            self.frame[self.filled] = x;
            self.filled += 1;
            if self.filled == FRAME {
                let bits = self.enc.encode(&self.frame);
                self.decoded = self.dec.decode(Some(&bits));
                self.filled = 0;
            }
        }
    }
}
