//! The receiver core's inner loops: the matched filter's dot product, the equalizer's
//! complex convolution and its LMS update.
//!
//! Each has a plain scalar reference and, on x86-64, an SSE2 version (SSE2 is part of the
//! x86-64 baseline, so no run-time detection is needed) that performs the same operations
//! per lane in the same order and therefore gives the same bits; the tests check that.
//! The equalizer keeps real and imaginary parts in separate arrays so four taps fill an SSE
//! register and eight an AVX one. Every dot product keeps eight partial sums (two SSE
//! registers or one AVX register, the same sums in the same order), so the AVX versions
//! give the baseline's bits too.

use crate::dsp::Complex32;

/// Lanes of the matched filter's dot products (two SSE registers per sum).
pub(super) const LANES: usize = 8;

/// (Σ re·x, Σ im·x) over slices whose length is a multiple of [`LANES`], with eight
/// partial sums each. The reference for the SSE2 version.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
pub(super) fn dot2_scalar(re: &[f32], im: &[f32], x: &[f32]) -> Complex32 {
    let mut acc_re = [0f32; LANES];
    let mut acc_im = [0f32; LANES];
    let chunks = re
        .chunks_exact(LANES)
        .zip(im.chunks_exact(LANES))
        .zip(x.chunks_exact(LANES));
    for ((r8, i8), x8) in chunks {
        for k in 0..LANES {
            acc_re[k] += r8[k] * x8[k];
            acc_im[k] += i8[k] * x8[k];
        }
    }
    Complex32::new(sum8(&acc_re), sum8(&acc_im))
}

/// The equalizer's output, [`cdot`] or (`AVX`) [`cdot_avx`]: `AVX` may be true only in a
/// function compiled for AVX2, entered after checking the processor (crate::simd).
#[inline(always)]
pub(super) fn cdot_v<const AVX: bool>(tr: &[f32], ti: &[f32], xr: &[f32], xi: &[f32]) -> Complex32 {
    #[cfg(target_arch = "x86_64")]
    if AVX {
        // SAFETY: `AVX` is true only in the AVX2 compilation (above).
        unsafe { cdot_avx(tr, ti, xr, xi) }
    } else {
        cdot(tr, ti, xr, xi)
    }
    #[cfg(not(target_arch = "x86_64"))]
    cdot(tr, ti, xr, xi)
}

/// The LMS update, [`lms`] or (`AVX`) [`lms_avx`], under the rule of [`cdot_v`].
#[inline(always)]
pub(super) fn lms_v<const AVX: bool>(
    tr: &mut [f32],
    ti: &mut [f32],
    xr: &[f32],
    xi: &[f32],
    e: Complex32,
) {
    #[cfg(target_arch = "x86_64")]
    if AVX {
        // SAFETY: `AVX` is true only in the AVX2 compilation (see cdot_v).
        unsafe { lms_avx(tr, ti, xr, xi, e) };
    } else {
        lms(tr, ti, xr, xi, e);
    }
    #[cfg(not(target_arch = "x86_64"))]
    lms(tr, ti, xr, xi, e);
}

/// The fixed order in which eight partial sums are added.
#[inline]
fn sum8(a: &[f32; LANES]) -> f32 {
    ((a[0] + a[4]) + (a[1] + a[5])) + ((a[2] + a[6]) + (a[3] + a[7]))
}

/// [`dot2_scalar`], four lanes per instruction.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(super) fn dot2(re: &[f32], im: &[f32], x: &[f32]) -> Complex32 {
    use std::arch::x86_64::*;
    let n = x.len().min(re.len()).min(im.len()) / LANES * LANES;
    // SAFETY: SSE2 is part of the x86-64 baseline; every unaligned load reads
    // [i, i + 8) with i + 8 <= n, within all three slices.
    unsafe {
        let (mut r0, mut r1) = (_mm_setzero_ps(), _mm_setzero_ps());
        let (mut i0, mut i1) = (_mm_setzero_ps(), _mm_setzero_ps());
        let mut i = 0;
        while i < n {
            let x0 = _mm_loadu_ps(x.as_ptr().add(i));
            let x1 = _mm_loadu_ps(x.as_ptr().add(i + 4));
            r0 = _mm_add_ps(r0, _mm_mul_ps(_mm_loadu_ps(re.as_ptr().add(i)), x0));
            r1 = _mm_add_ps(r1, _mm_mul_ps(_mm_loadu_ps(re.as_ptr().add(i + 4)), x1));
            i0 = _mm_add_ps(i0, _mm_mul_ps(_mm_loadu_ps(im.as_ptr().add(i)), x0));
            i1 = _mm_add_ps(i1, _mm_mul_ps(_mm_loadu_ps(im.as_ptr().add(i + 4)), x1));
            i += LANES;
        }
        // sum8 in registers: s_k = a_k + a_{k+4}, then (s0 + s1) + (s2 + s3), the real
        // and imaginary sums side by side in lanes 0 and 1.
        let sr = _mm_add_ps(r0, r1);
        let si = _mm_add_ps(i0, i1);
        let v = pair_sums(sr, si);
        let mut out = [0f32; 4];
        _mm_storeu_ps(out.as_mut_ptr(), v);
        Complex32::new(out[0], out[1])
    }
}

/// For two vectors x and y: lane 0 is (x0 + x1) + (x2 + x3), lane 1 the same of y (lanes
/// 2 and 3 are left over). The fixed order of [`sum8`] and of the complex dot's sums.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn pair_sums(
    x: std::arch::x86_64::__m128,
    y: std::arch::x86_64::__m128,
) -> std::arch::x86_64::__m128 {
    use std::arch::x86_64::*;
    // SAFETY: SSE is part of the x86-64 baseline; register operations only.
    unsafe {
        // [x0 y0 x1 y1] and [x2 y2 x3 y3]; each plus its own upper half gives
        // [x0+x1, y0+y1] and [x2+x3, y2+y3].
        let lo = _mm_unpacklo_ps(x, y);
        let hi = _mm_unpackhi_ps(x, y);
        let lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
        let hi = _mm_add_ps(hi, _mm_movehl_ps(hi, hi));
        _mm_add_ps(lo, hi)
    }
}

#[cfg(not(target_arch = "x86_64"))]
pub(super) use dot2_scalar as dot2;

/// [`dot2`] with the eight lanes in one AVX register: the same sums in the same order.
///
/// # Safety
/// The processor must have AVX (the caller runs in the AVX2 compilation, see
/// [`crate::simd`]).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(super) unsafe fn dot2_avx(re: &[f32], im: &[f32], x: &[f32]) -> Complex32 {
    use std::arch::x86_64::*;
    let n = x.len().min(re.len()).min(im.len()) / LANES * LANES;
    // SAFETY: AVX is present (the caller's contract); every unaligned load reads
    // [i, i + 8) with i + 8 <= n, within all three slices.
    unsafe {
        let mut r = _mm256_setzero_ps();
        let mut m = _mm256_setzero_ps();
        let mut i = 0;
        while i < n {
            let xv = _mm256_loadu_ps(x.as_ptr().add(i));
            r = _mm256_add_ps(r, _mm256_mul_ps(_mm256_loadu_ps(re.as_ptr().add(i)), xv));
            m = _mm256_add_ps(m, _mm256_mul_ps(_mm256_loadu_ps(im.as_ptr().add(i)), xv));
            i += LANES;
        }
        // Lanes k and k + 4 added, as `dot2` adds its two registers.
        let sr = _mm_add_ps(_mm256_castps256_ps128(r), _mm256_extractf128_ps::<1>(r));
        let si = _mm_add_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps::<1>(m));
        let v = pair_sums(sr, si);
        let mut out = [0f32; 4];
        _mm_storeu_ps(out.as_mut_ptr(), v);
        Complex32::new(out[0], out[1])
    }
}

/// Σ t·x over complex vectors held as separate real and imaginary parts, with eight partial
/// sums of each of the four real products (added in [`sum8`]'s order); a tail shorter than
/// eight goes into lane 0. The reference for the SSE2 and AVX versions.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
pub(super) fn cdot_scalar(tr: &[f32], ti: &[f32], xr: &[f32], xi: &[f32]) -> Complex32 {
    let n = tr.len();
    let body = n / LANES * LANES;
    let mut rr = [0f32; LANES];
    let mut ii = [0f32; LANES];
    let mut ri = [0f32; LANES];
    let mut ir = [0f32; LANES];
    for c in (0..body).step_by(LANES) {
        for k in 0..LANES {
            rr[k] += tr[c + k] * xr[c + k];
            ii[k] += ti[c + k] * xi[c + k];
            ri[k] += tr[c + k] * xi[c + k];
            ir[k] += ti[c + k] * xr[c + k];
        }
    }
    finish_cdot(
        rr,
        ii,
        ri,
        ir,
        (&tr[body..], &ti[body..], &xr[body..], &xi[body..]),
    )
}

/// Adds the tail into lane 0 of the partial sums and sums them.
#[inline(always)]
fn finish_cdot(
    mut rr: [f32; LANES],
    mut ii: [f32; LANES],
    mut ri: [f32; LANES],
    mut ir: [f32; LANES],
    (tr, ti, xr, xi): (&[f32], &[f32], &[f32], &[f32]),
) -> Complex32 {
    for j in 0..tr.len() {
        rr[0] += tr[j] * xr[j];
        ii[0] += ti[j] * xi[j];
        ri[0] += tr[j] * xi[j];
        ir[0] += ti[j] * xr[j];
    }
    Complex32::new(sum8(&rr) - sum8(&ii), sum8(&ri) + sum8(&ir))
}

/// The complex dot's four sums in registers, each as lanes k and k + 4 added (`lo` and
/// `hi` halves): [Σrr, Σri] plus [−Σii, Σir], since adding a negated value is the same
/// operation as subtracting it.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn cdot_sums(
    rr: std::arch::x86_64::__m128,
    ii: std::arch::x86_64::__m128,
    ri: std::arch::x86_64::__m128,
    ir: std::arch::x86_64::__m128,
) -> Complex32 {
    use std::arch::x86_64::*;
    // SAFETY: SSE is part of the x86-64 baseline; register operations only.
    unsafe {
        let x = pair_sums(rr, ri);
        let y = pair_sums(ii, ir);
        let y = _mm_xor_ps(y, _mm_setr_ps(-0.0, 0.0, 0.0, 0.0));
        let mut out = [0f32; 4];
        _mm_storeu_ps(out.as_mut_ptr(), _mm_add_ps(x, y));
        Complex32::new(out[0], out[1])
    }
}

/// Eight lanes held as two SSE registers, as an array.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn lanes8(lo: std::arch::x86_64::__m128, hi: std::arch::x86_64::__m128) -> [f32; LANES] {
    use std::arch::x86_64::*;
    let mut a = [0f32; LANES];
    // SAFETY: SSE is part of the x86-64 baseline; the stores write a[0..4] and a[4..8].
    unsafe {
        _mm_storeu_ps(a.as_mut_ptr(), lo);
        _mm_storeu_ps(a.as_mut_ptr().add(4), hi);
    }
    a
}

/// The four partial sums of a complex dot product (Σ tr·xr, Σ ti·xi, Σ tr·xi, Σ ti·xr),
/// each in eight lanes held as two SSE registers (lanes 0–3, 4–7): what [`cdot`] and
/// [`cdot_newest`] accumulate, chunk by chunk, in the order of [`cdot_scalar`].
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
struct SseSums {
    rr: [std::arch::x86_64::__m128; 2],
    ii: [std::arch::x86_64::__m128; 2],
    ri: [std::arch::x86_64::__m128; 2],
    ir: [std::arch::x86_64::__m128; 2],
}

#[cfg(target_arch = "x86_64")]
impl SseSums {
    #[inline(always)]
    fn new() -> Self {
        use std::arch::x86_64::*;
        // SAFETY: SSE is part of the x86-64 baseline; register operations only.
        let z = unsafe { _mm_setzero_ps() };
        SseSums {
            rr: [z; 2],
            ii: [z; 2],
            ri: [z; 2],
            ir: [z; 2],
        }
    }

    /// Adds one chunk: taps `a` + j`b` against samples `x` + j`y`, each as two halves.
    #[inline(always)]
    fn add(
        &mut self,
        a: [std::arch::x86_64::__m128; 2],
        b: [std::arch::x86_64::__m128; 2],
        x: [std::arch::x86_64::__m128; 2],
        y: [std::arch::x86_64::__m128; 2],
    ) {
        use std::arch::x86_64::*;
        // SAFETY: SSE is part of the x86-64 baseline; register operations only.
        unsafe {
            for h in 0..2 {
                self.rr[h] = _mm_add_ps(self.rr[h], _mm_mul_ps(a[h], x[h]));
                self.ii[h] = _mm_add_ps(self.ii[h], _mm_mul_ps(b[h], y[h]));
                self.ri[h] = _mm_add_ps(self.ri[h], _mm_mul_ps(a[h], y[h]));
                self.ir[h] = _mm_add_ps(self.ir[h], _mm_mul_ps(b[h], x[h]));
            }
        }
    }

    /// Adds the slices' chunks up to `end` (a multiple of [`LANES`], at most each slice's
    /// length).
    #[inline(always)]
    fn add_chunks(&mut self, (tr, ti, xr, xi): (&[f32], &[f32], &[f32], &[f32]), end: usize) {
        use std::arch::x86_64::*;
        assert!(end <= tr.len() && end <= ti.len() && end <= xr.len() && end <= xi.len());
        let load = |v: &[f32], c: usize| {
            // SAFETY: SSE2 is part of the x86-64 baseline; the loads read [c, c + 8) with
            // c + 8 <= end, within the slice (asserted above).
            unsafe {
                [
                    _mm_loadu_ps(v.as_ptr().add(c)),
                    _mm_loadu_ps(v.as_ptr().add(c + 4)),
                ]
            }
        };
        let mut c = 0;
        while c + LANES <= end {
            self.add(load(tr, c), load(ti, c), load(xr, c), load(xi, c));
            c += LANES;
        }
    }

    /// The dot product, lanes k and k + 4 added first.
    #[inline(always)]
    fn finish(self) -> Complex32 {
        use std::arch::x86_64::*;
        // SAFETY: SSE is part of the x86-64 baseline; register operations only.
        unsafe {
            cdot_sums(
                _mm_add_ps(self.rr[0], self.rr[1]),
                _mm_add_ps(self.ii[0], self.ii[1]),
                _mm_add_ps(self.ri[0], self.ri[1]),
                _mm_add_ps(self.ir[0], self.ir[1]),
            )
        }
    }

    /// The dot product with a tail shorter than a chunk, added into lane 0.
    #[inline(always)]
    fn finish_with(self, tail: (&[f32], &[f32], &[f32], &[f32])) -> Complex32 {
        finish_cdot(
            lanes8(self.rr[0], self.rr[1]),
            lanes8(self.ii[0], self.ii[1]),
            lanes8(self.ri[0], self.ri[1]),
            lanes8(self.ir[0], self.ir[1]),
            tail,
        )
    }
}

/// [`SseSums`] with the eight lanes of each sum in one AVX register: the same sums in the
/// same order.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
struct AvxSums {
    rr: std::arch::x86_64::__m256,
    ii: std::arch::x86_64::__m256,
    ri: std::arch::x86_64::__m256,
    ir: std::arch::x86_64::__m256,
}

#[cfg(target_arch = "x86_64")]
impl AvxSums {
    /// # Safety
    /// The processor must have AVX (as for all of this type's functions: they run inlined
    /// in the AVX2 compilation, see [`crate::simd`]).
    #[inline(always)]
    unsafe fn new() -> Self {
        use std::arch::x86_64::*;
        // SAFETY: AVX is present (the caller's contract); register operations only.
        let z = unsafe { _mm256_setzero_ps() };
        AvxSums {
            rr: z,
            ii: z,
            ri: z,
            ir: z,
        }
    }

    /// Adds one chunk: taps `a` + j`b` against samples `x` + j`y`.
    ///
    /// # Safety
    /// As [`AvxSums::new`].
    #[inline(always)]
    unsafe fn add(
        &mut self,
        a: std::arch::x86_64::__m256,
        b: std::arch::x86_64::__m256,
        x: std::arch::x86_64::__m256,
        y: std::arch::x86_64::__m256,
    ) {
        use std::arch::x86_64::*;
        // SAFETY: AVX is present (the caller's contract); register operations only.
        unsafe {
            self.rr = _mm256_add_ps(self.rr, _mm256_mul_ps(a, x));
            self.ii = _mm256_add_ps(self.ii, _mm256_mul_ps(b, y));
            self.ri = _mm256_add_ps(self.ri, _mm256_mul_ps(a, y));
            self.ir = _mm256_add_ps(self.ir, _mm256_mul_ps(b, x));
        }
    }

    /// Adds the slices' chunks up to `end`, as [`SseSums::add_chunks`].
    ///
    /// # Safety
    /// As [`AvxSums::new`].
    #[inline(always)]
    unsafe fn add_chunks(
        &mut self,
        (tr, ti, xr, xi): (&[f32], &[f32], &[f32], &[f32]),
        end: usize,
    ) {
        use std::arch::x86_64::*;
        assert!(end <= tr.len() && end <= ti.len() && end <= xr.len() && end <= xi.len());
        // SAFETY: AVX is present (the caller's contract); the loads read [c, c + 8) with
        // c + 8 <= end, within the slice (asserted above).
        let load = |v: &[f32], c: usize| unsafe { _mm256_loadu_ps(v.as_ptr().add(c)) };
        let mut c = 0;
        while c + LANES <= end {
            // SAFETY: as above.
            unsafe { self.add(load(tr, c), load(ti, c), load(xr, c), load(xi, c)) };
            c += LANES;
        }
    }

    /// The two SSE halves of each sum, for [`SseSums`]'s finishing.
    ///
    /// # Safety
    /// As [`AvxSums::new`].
    #[inline(always)]
    unsafe fn halves(self) -> SseSums {
        use std::arch::x86_64::*;
        // SAFETY: AVX is present (the caller's contract); register operations only.
        let split =
            |v: __m256| unsafe { [_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v)] };
        SseSums {
            rr: split(self.rr),
            ii: split(self.ii),
            ri: split(self.ri),
            ir: split(self.ir),
        }
    }
}

/// [`cdot_scalar`], the eight lanes in two SSE registers per sum.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(super) fn cdot(tr: &[f32], ti: &[f32], xr: &[f32], xi: &[f32]) -> Complex32 {
    let n = tr.len();
    assert!(ti.len() == n && xr.len() == n && xi.len() == n);
    let body = n / LANES * LANES;
    let mut sums = SseSums::new();
    sums.add_chunks((tr, ti, xr, xi), body);
    if body == n {
        // No tail (the usual lengths): finish in registers.
        return sums.finish();
    }
    sums.finish_with((&tr[body..], &ti[body..], &xr[body..], &xi[body..]))
}

#[cfg(not(target_arch = "x86_64"))]
pub(super) use cdot_scalar as cdot;

/// [`cdot`] with the eight lanes in one AVX register: the same sums in the same order.
///
/// # Safety
/// The processor must have AVX (the caller runs in the AVX2 compilation, see
/// [`crate::simd`]).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(super) unsafe fn cdot_avx(tr: &[f32], ti: &[f32], xr: &[f32], xi: &[f32]) -> Complex32 {
    let n = tr.len();
    assert!(ti.len() == n && xr.len() == n && xi.len() == n);
    let body = n / LANES * LANES;
    // SAFETY: AVX is present (the caller's contract).
    let sums = unsafe {
        let mut sums = AvxSums::new();
        sums.add_chunks((tr, ti, xr, xi), body);
        sums.halves()
    };
    if body == n {
        return sums.finish();
    }
    sums.finish_with((&tr[body..], &ti[body..], &xr[body..], &xi[body..]))
}

/// The equalizer's output as [`cdot_v`], with the window's two newest samples given as
/// `newest` (older, newer) instead of read from the last two elements of `xr`, `xi`.
///
/// Those two were stored just before, one value at a time, and a vector load that spans a
/// store still on its way to the cache waits for it: reading them from registers lets the
/// equalizer start at once. The same operations in the same order as [`cdot_v`], so the
/// same bits. For lengths that are not a multiple of [`LANES`] (at least two chunks), it is
/// [`cdot_v`] itself.
#[inline(always)]
pub(super) fn cdot_newest_v<const AVX: bool>(
    tr: &[f32],
    ti: &[f32],
    xr: &[f32],
    xi: &[f32],
    newest: (Complex32, Complex32),
) -> Complex32 {
    let n = tr.len();
    if !n.is_multiple_of(LANES) || n < 2 * LANES {
        return cdot_v::<AVX>(tr, ti, xr, xi);
    }
    #[cfg(target_arch = "x86_64")]
    if AVX {
        // SAFETY: `AVX` is true only in the AVX2 compilation (see cdot_v).
        unsafe { cdot_newest_avx(tr, ti, xr, xi, newest) }
    } else {
        cdot_newest(tr, ti, xr, xi, newest)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let mut xr8 = [0f32; LANES];
        let mut xi8 = [0f32; LANES];
        let body = n - LANES;
        xr8[..LANES - 2].copy_from_slice(&xr[body..n - 2]);
        xi8[..LANES - 2].copy_from_slice(&xi[body..n - 2]);
        (xr8[LANES - 2], xr8[LANES - 1]) = (newest.0.re, newest.1.re);
        (xi8[LANES - 2], xi8[LANES - 1]) = (newest.0.im, newest.1.im);
        cdot_scalar_last(tr, ti, xr, xi, (&xr8, &xi8))
    }
}

/// [`cdot_scalar`] over a length that is a multiple of [`LANES`], the last chunk of `xr`,
/// `xi` given apart.
#[cfg(any(test, not(target_arch = "x86_64")))]
fn cdot_scalar_last(
    tr: &[f32],
    ti: &[f32],
    xr: &[f32],
    xi: &[f32],
    (lr, li): (&[f32; LANES], &[f32; LANES]),
) -> Complex32 {
    let body = tr.len() - LANES;
    let mut xr = xr.to_vec();
    let mut xi = xi.to_vec();
    xr[body..].copy_from_slice(lr);
    xi[body..].copy_from_slice(li);
    cdot_scalar(tr, ti, &xr, &xi)
}

/// [`cdot`] with the two newest samples given, for [`cdot_newest_v`]: the length is a
/// multiple of [`LANES`], at least two chunks.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn cdot_newest(
    tr: &[f32],
    ti: &[f32],
    xr: &[f32],
    xi: &[f32],
    (older, newer): (Complex32, Complex32),
) -> Complex32 {
    use std::arch::x86_64::*;
    let n = tr.len();
    assert!(ti.len() == n && xr.len() == n && xi.len() == n && n >= 2 * LANES);
    let body = n - LANES;
    let mut sums = SseSums::new();
    sums.add_chunks((tr, ti, xr, xi), body);
    // SAFETY: SSE2 is part of the x86-64 baseline; the loads read [c, c + 4) with
    // c + 4 <= n (taps, first half) or c + 4 = n - 2 (the second half's older samples).
    unsafe {
        let load = |v: &[f32], c: usize| _mm_loadu_ps(v.as_ptr().add(c));
        // [n-4, n-3] from memory, then the given two: lanes 2 and 3 of the four samples
        // from n - 6, then lanes 0 and 1 of (older, newer).
        let last = |v: &[f32], a: f32, b: f32| {
            _mm_shuffle_ps::<0b01_00_11_10>(
                load(v, n - 6),
                _mm_unpacklo_ps(_mm_set_ss(a), _mm_set_ss(b)),
            )
        };
        sums.add(
            [load(tr, body), load(tr, body + 4)],
            [load(ti, body), load(ti, body + 4)],
            [load(xr, body), last(xr, older.re, newer.re)],
            [load(xi, body), last(xi, older.im, newer.im)],
        );
    }
    sums.finish()
}

/// [`cdot_avx`] with the two newest samples given, for [`cdot_newest_v`]: the length is a
/// multiple of [`LANES`], at least two chunks.
///
/// # Safety
/// The processor must have AVX2 (the caller runs in the AVX2 compilation, see
/// [`crate::simd`]).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn cdot_newest_avx(
    tr: &[f32],
    ti: &[f32],
    xr: &[f32],
    xi: &[f32],
    (older, newer): (Complex32, Complex32),
) -> Complex32 {
    use std::arch::x86_64::*;
    let n = tr.len();
    assert!(ti.len() == n && xr.len() == n && xi.len() == n && n >= 2 * LANES);
    let body = n - LANES;
    // SAFETY: AVX2 is present (the caller's contract); the loads read [c, c + 8) with
    // c + 8 <= n (taps) or c + 8 = n - 2 (the last chunk's older samples, from body - 2).
    let sums = unsafe {
        let mut sums = AvxSums::new();
        sums.add_chunks((tr, ti, xr, xi), body);
        let load = |v: &[f32], c: usize| _mm256_loadu_ps(v.as_ptr().add(c));
        // The last chunk: the six samples from body - 2 moved down two lanes, then the
        // given two in lanes 6 and 7.
        let down2 = _mm256_setr_epi32(2, 3, 4, 5, 6, 7, 0, 1);
        let last = |v: &[f32], a: f32, b: f32| {
            let m = _mm256_permutevar8x32_ps(load(v, body - 2), down2);
            _mm256_blend_ps::<0b1100_0000>(m, _mm256_setr_ps(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, a, b))
        };
        sums.add(
            load(tr, body),
            load(ti, body),
            last(xr, older.re, newer.re),
            last(xi, older.im, newer.im),
        );
        sums.halves()
    };
    sums.finish()
}

/// The LMS update t += e·conj(x) over split complex vectors. The reference for the SSE2
/// version.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
#[inline]
pub(super) fn lms_scalar(tr: &mut [f32], ti: &mut [f32], xr: &[f32], xi: &[f32], e: Complex32) {
    for (((a, b), &x), &y) in tr.iter_mut().zip(ti.iter_mut()).zip(xr).zip(xi) {
        *a += e.re * x + e.im * y;
        *b += e.im * x - e.re * y;
    }
}

/// [`lms_scalar`], four taps per instruction.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(super) fn lms(tr: &mut [f32], ti: &mut [f32], xr: &[f32], xi: &[f32], e: Complex32) {
    use std::arch::x86_64::*;
    let n = tr.len();
    assert!(ti.len() == n && xr.len() == n && xi.len() == n);
    let body = n / 4 * 4;
    // SAFETY: SSE2 is part of the x86-64 baseline; every load and store touches
    // [c, c + 4) with c + 4 <= body <= n, the length of all four slices.
    unsafe {
        let er = _mm_set1_ps(e.re);
        let ei = _mm_set1_ps(e.im);
        let mut c = 0;
        while c < body {
            let x = _mm_loadu_ps(xr.as_ptr().add(c));
            let y = _mm_loadu_ps(xi.as_ptr().add(c));
            let a = _mm_loadu_ps(tr.as_ptr().add(c));
            let b = _mm_loadu_ps(ti.as_ptr().add(c));
            let da = _mm_add_ps(_mm_mul_ps(er, x), _mm_mul_ps(ei, y));
            let db = _mm_sub_ps(_mm_mul_ps(ei, x), _mm_mul_ps(er, y));
            _mm_storeu_ps(tr.as_mut_ptr().add(c), _mm_add_ps(a, da));
            _mm_storeu_ps(ti.as_mut_ptr().add(c), _mm_add_ps(b, db));
            c += 4;
        }
    }
    lms_scalar(
        &mut tr[body..],
        &mut ti[body..],
        &xr[body..],
        &xi[body..],
        e,
    );
}

#[cfg(not(target_arch = "x86_64"))]
pub(super) use lms_scalar as lms;

/// [`lms`] eight taps per instruction (each tap on its own, so the same bits).
///
/// # Safety
/// The processor must have AVX (the caller runs in the AVX2 compilation, see
/// [`crate::simd`]).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(super) unsafe fn lms_avx(tr: &mut [f32], ti: &mut [f32], xr: &[f32], xi: &[f32], e: Complex32) {
    use std::arch::x86_64::*;
    let n = tr.len();
    assert!(ti.len() == n && xr.len() == n && xi.len() == n);
    let body = n / 8 * 8;
    // SAFETY: AVX is present (the caller's contract); every load and store touches
    // [c, c + 8) with c + 8 <= body <= n, the length of all four slices.
    unsafe {
        let er = _mm256_set1_ps(e.re);
        let ei = _mm256_set1_ps(e.im);
        let mut c = 0;
        while c < body {
            let x = _mm256_loadu_ps(xr.as_ptr().add(c));
            let y = _mm256_loadu_ps(xi.as_ptr().add(c));
            let a = _mm256_loadu_ps(tr.as_ptr().add(c));
            let b = _mm256_loadu_ps(ti.as_ptr().add(c));
            let da = _mm256_add_ps(_mm256_mul_ps(er, x), _mm256_mul_ps(ei, y));
            let db = _mm256_sub_ps(_mm256_mul_ps(ei, x), _mm256_mul_ps(er, y));
            _mm256_storeu_ps(tr.as_mut_ptr().add(c), _mm256_add_ps(a, da));
            _mm256_storeu_ps(ti.as_mut_ptr().add(c), _mm256_add_ps(b, db));
            c += 8;
        }
    }
    lms(
        &mut tr[body..],
        &mut ti[body..],
        &xr[body..],
        &xi[body..],
        e,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wave(n: usize, m: f32, scale: f32) -> Vec<f32> {
        (0..n).map(|k| (k as f32 * m + 0.3).sin() * scale).collect()
    }

    /// The plain sum of products, for checking the partial-sum order is only a reordering.
    #[test]
    fn matched_filter_dot_is_a_dot_product() {
        let re = wave(48, 0.37, 1.0);
        let im = wave(48, 1.91, 1.0);
        let x = wave(48, 2.3, 100.0);
        let got = dot2_scalar(&re, &im, &x);
        let plain_re: f32 = re.iter().zip(&x).map(|(a, b)| a * b).sum();
        let plain_im: f32 = im.iter().zip(&x).map(|(a, b)| a * b).sum();
        assert!((got.re - plain_re).abs() < 1e-3);
        assert!((got.im - plain_im).abs() < 1e-3);
    }

    #[test]
    fn complex_dot_is_a_dot_product() {
        for n in [4, 24, 27, 32] {
            let (tr, ti) = (wave(n, 0.7, 1.0), wave(n, 1.3, 1.0));
            let (xr, xi) = (wave(n, 2.1, 1.0), wave(n, 0.4, 1.0));
            let plain: Complex32 = (0..n)
                .map(|k| Complex32::new(tr[k], ti[k]) * Complex32::new(xr[k], xi[k]))
                .sum();
            assert!(
                (cdot_scalar(&tr, &ti, &xr, &xi) - plain).norm() < 1e-4,
                "{n}"
            );
        }
    }

    /// With the window's two newest samples given, the equalizer gives the bits it gives
    /// reading them, and does not read the window's last two places.
    #[test]
    fn newest_samples_given_apart_give_the_same_bits() {
        let bits = |c: Complex32| (c.re.to_bits(), c.im.to_bits());
        for n in [16, 24, 32, 48] {
            let (tr, ti) = (wave(n, 0.7, 1.0), wave(n, 1.3, 0.2));
            let (xr, xi) = (wave(n, 2.1, 3.0), wave(n, 0.4, 7.0));
            let newest = (
                Complex32::new(xr[n - 2], xi[n - 2]),
                Complex32::new(xr[n - 1], xi[n - 1]),
            );
            let (mut gr, mut gi) = (xr.clone(), xi.clone());
            gr[n - 2..].fill(f32::NAN);
            gi[n - 2..].fill(1e30);
            let want = bits(cdot(&tr, &ti, &xr, &xi));
            assert_eq!(
                bits(cdot_newest_v::<false>(&tr, &ti, &gr, &gi, newest)),
                want,
                "{n}"
            );
            let mut lr: [f32; LANES] = xr[n - LANES..].try_into().unwrap();
            let mut li: [f32; LANES] = xi[n - LANES..].try_into().unwrap();
            assert_eq!(
                bits(cdot_scalar_last(&tr, &ti, &gr, &gi, (&lr, &li))),
                want,
                "{n}"
            );
            lr[LANES - 1] += 1.0;
            li[LANES - 1] += 1.0;
            assert_ne!(bits(cdot_scalar_last(&tr, &ti, &gr, &gi, (&lr, &li))), want);
            #[cfg(target_arch = "x86_64")]
            if crate::simd::avx2_available() {
                assert_eq!(
                    bits(cdot_newest_v::<true>(&tr, &ti, &gr, &gi, newest)),
                    want,
                    "{n}"
                );
            }
        }
        // Other lengths read the window as it is.
        let n = 20;
        let (tr, ti) = (wave(n, 0.7, 1.0), wave(n, 1.3, 0.2));
        let (xr, xi) = (wave(n, 2.1, 3.0), wave(n, 0.4, 7.0));
        let newest = (Complex32::new(9.0, 9.0), Complex32::new(9.0, 9.0));
        assert_eq!(
            bits(cdot_newest_v::<false>(&tr, &ti, &xr, &xi, newest)),
            bits(cdot(&tr, &ti, &xr, &xi))
        );
    }

    /// The AVX kernels give the same bits as the baseline ones.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx_kernels_match_the_baseline() {
        if !crate::simd::avx2_available() {
            eprintln!("no AVX2 on this processor: only the baseline kernels run");
            return;
        }
        for n in [8, 24, 32, 48, 56] {
            let re = wave(n, 0.37, 1.0);
            let im = wave(n, 1.91, 0.5);
            let x = wave(n, 2.3, 1000.0);
            // SAFETY: AVX2 (and so AVX) is present, checked above.
            let a = unsafe { dot2_avx(&re, &im, &x) };
            let b = dot2(&re, &im, &x);
            assert_eq!(
                (a.re.to_bits(), a.im.to_bits()),
                (b.re.to_bits(), b.im.to_bits())
            );
        }
        for n in [4, 5, 13, 24, 27, 32, 35] {
            let (tr, ti) = (wave(n, 0.7, 1.0), wave(n, 1.3, 0.2));
            let (xr, xi) = (wave(n, 2.1, 3.0), wave(n, 0.4, 7.0));
            let e = Complex32::new(0.013, -0.007);
            let (mut ar, mut ai) = (tr.clone(), ti.clone());
            let (mut br, mut bi) = (tr.clone(), ti.clone());
            // SAFETY: as above.
            let (a, b) = (
                unsafe { cdot_avx(&tr, &ti, &xr, &xi) },
                cdot(&tr, &ti, &xr, &xi),
            );
            assert_eq!(
                (a.re.to_bits(), a.im.to_bits()),
                (b.re.to_bits(), b.im.to_bits()),
                "{n}"
            );
            // SAFETY: as above.
            unsafe { lms_avx(&mut ar, &mut ai, &xr, &xi, e) };
            lms_scalar(&mut br, &mut bi, &xr, &xi, e);
            assert_eq!(
                ar.iter()
                    .chain(&ai)
                    .map(|v| v.to_bits())
                    .collect::<Vec<_>>(),
                br.iter()
                    .chain(&bi)
                    .map(|v| v.to_bits())
                    .collect::<Vec<_>>()
            );
        }
    }

    /// The vector kernels give the scalar references' bits, tails included.
    #[test]
    fn kernels_match_their_references() {
        for n in [8, 24, 32, 48, 56] {
            let re = wave(n, 0.37, 1.0);
            let im = wave(n, 1.91, 0.5);
            let x = wave(n, 2.3, 1000.0);
            let (a, b) = (dot2(&re, &im, &x), dot2_scalar(&re, &im, &x));
            assert_eq!(
                (a.re.to_bits(), a.im.to_bits()),
                (b.re.to_bits(), b.im.to_bits())
            );
        }
        for n in [4, 5, 13, 24, 27, 32, 35] {
            let (tr, ti) = (wave(n, 0.7, 1.0), wave(n, 1.3, 0.2));
            let (xr, xi) = (wave(n, 2.1, 3.0), wave(n, 0.4, 7.0));
            let (a, b) = (cdot(&tr, &ti, &xr, &xi), cdot_scalar(&tr, &ti, &xr, &xi));
            assert_eq!(
                (a.re.to_bits(), a.im.to_bits()),
                (b.re.to_bits(), b.im.to_bits())
            );
            let e = Complex32::new(0.013, -0.007);
            let (mut ar, mut ai) = (tr.clone(), ti.clone());
            let (mut br, mut bi) = (tr.clone(), ti.clone());
            lms(&mut ar, &mut ai, &xr, &xi, e);
            lms_scalar(&mut br, &mut bi, &xr, &xi, e);
            assert_eq!(
                ar.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                br.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            );
            assert_eq!(
                ai.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                bi.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            );
        }
    }
}
