//! Which vector instructions the QAM receivers' hot paths use, chosen at run time.
//!
//! The V.17, V.29 and V.27ter receivers' per-symbol work (matched filter, equalizer, LMS
//! update, trellis search) exists in two compilations: one for the x86-64 baseline (SSE2,
//! which every x86-64 has) and one for machines with AVX2, where the same code gets the
//! three-operand VEX encoding and the matched filter, the LMS update and the trellis search
//! handle eight lanes per instruction. The transmitters' block shaper
//! ([`crate::dsp::BlockShaper`]) follows the same choice for its fill loop. Both perform the same floating-point operations per
//! lane in the same order, and neither fuses a multiply with an add, so they give the same
//! bits: a call's records, pages and audio do not depend on the machine (the tests run both
//! and compare).
//!
//! The choice is made once per process: AVX2 when the processor has it, unless the
//! environment variable `FAXSIM_VECTOR=baseline` asks for the baseline path (for comparing
//! the two; `avx2` and `auto` take the default). [`set_vector_path`] changes it for
//! benchmarks and tests.

use std::sync::atomic::{AtomicU8, Ordering};

/// A compilation of the receivers' hot paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VectorPath {
    /// SSE2 (the x86-64 baseline), or plain scalar code on other processors.
    Baseline,
    /// AVX2 with VEX encoding (x86-64 only).
    Avx2,
}

/// 0: not chosen yet; otherwise 1 + the path's index.
static CHOSEN: AtomicU8 = AtomicU8::new(0);

fn encode(p: VectorPath) -> u8 {
    match p {
        VectorPath::Baseline => 1,
        VectorPath::Avx2 => 2,
    }
}

/// Whether this processor can run [`VectorPath::Avx2`].
pub fn avx2_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The path the receivers use (chosen on first use, see the module documentation).
#[inline]
pub fn vector_path() -> VectorPath {
    match CHOSEN.load(Ordering::Relaxed) {
        1 => VectorPath::Baseline,
        2 => VectorPath::Avx2,
        _ => choose(),
    }
}

/// The path the environment variable `FAXSIM_VECTOR` asks for: `Ok(None)` when it is unset
/// or `auto` (the best the processor has), an error naming the value when it is none of
/// `baseline`, `avx2` and `auto`. (The receivers treat an unknown value as `auto`; a
/// program can refuse it with this.)
pub fn requested_vector_path() -> Result<Option<VectorPath>, String> {
    let Ok(value) = std::env::var("FAXSIM_VECTOR") else {
        return Ok(None);
    };
    match value.to_ascii_lowercase().as_str() {
        "baseline" => Ok(Some(VectorPath::Baseline)),
        "avx2" => Ok(Some(VectorPath::Avx2)),
        "auto" | "" => Ok(None),
        _ => Err(format!(
            "FAXSIM_VECTOR={value:?}: expected baseline, avx2 or auto"
        )),
    }
}

#[cold]
fn choose() -> VectorPath {
    let forced = requested_vector_path() == Ok(Some(VectorPath::Baseline));
    let p = if !forced && avx2_available() {
        VectorPath::Avx2
    } else {
        VectorPath::Baseline
    };
    CHOSEN.store(encode(p), Ordering::Relaxed);
    p
}

/// Makes every receiver use `path` from its next block on (AVX2 only where the processor
/// has it); returns the path now in use.
pub fn set_vector_path(path: VectorPath) -> VectorPath {
    let p = if path == VectorPath::Avx2 && !avx2_available() {
        VectorPath::Baseline
    } else {
        path
    };
    CHOSEN.store(encode(p), Ordering::Relaxed);
    p
}

/// Whether the AVX2 compilation is in use: what the receivers branch on per block.
#[inline]
pub(crate) fn use_avx2() -> bool {
    vector_path() == VectorPath::Avx2
}

/// A receiver whose `process` exists in both compilations: `process_v::<true>` may only run
/// inside a function compiled for AVX2, which [`process`] provides.
pub(crate) trait VectorRx {
    /// [`crate::Receiver::process`] in the baseline (`AVX` false) or AVX2 compilation.
    fn process_v<const AVX: bool>(&mut self, samples: &[i16], sink: &mut dyn crate::RxSink);
}

/// Runs `rx` over `samples` in the compilation chosen for this process.
#[inline]
pub(crate) fn process<R: VectorRx>(rx: &mut R, samples: &[i16], sink: &mut dyn crate::RxSink) {
    #[cfg(target_arch = "x86_64")]
    if use_avx2() {
        // SAFETY: use_avx2 holds only where the processor has AVX2.
        unsafe { process_avx2(rx, samples, sink) };
        return;
    }
    rx.process_v::<false>(samples, sink);
}

/// [`VectorRx::process_v`] compiled for AVX2: everything it inlines (the whole hot path is
/// `#[inline(always)]`) gets VEX code, and the `AVX` kernels become callable.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn process_avx2<R: VectorRx>(rx: &mut R, samples: &[i16], sink: &mut dyn crate::RxSink) {
    rx.process_v::<true>(samples, sink);
}
