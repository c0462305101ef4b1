//! V.17: trellis-coded QAM at 7200, 9600, 12 000 and 14 400 bit/s, 2400 baud on an 1800 Hz
//! carrier, the high-speed fax modem.
//!
//! # Transmitter
//! Data bits are scrambled (1 + x⁻¹⁸ + x⁻²³) and taken 3–6 at a time (Q1 first). Q1, Q2 are
//! differentially encoded into Y1, Y2 (a modulo-4 sum, so a 90° rotation of the whole signal
//! does not matter), the 8-state convolutional encoder of [`crate::trellis`] adds the redundant
//! bit Y0, and the label Q6…Q3 Y2 Y1 Y0 picks one of 16/32/64/128 points.
//!
//! Every transmission starts with a training sequence (counts in symbols):
//!
//! | segment | long train | short train | content |
//! |---|---|---|---|
//! | 1 | 256 | 256 | alternations A B A B … |
//! | 2 | 2976 | 38 | equalizer conditioning: scrambled ones, a dibit per symbol on A/B/C/D |
//! | 3 | 64 | — | bridge (A/B/C/D) |
//! | 4 | 48 | 48 | scrambled ones, trellis-coded at the data rate |
//!
//! then the data, and after the data 32 symbols of trellis-coded scrambled ones that let the
//! far receiver's Viterbi decoder release the last data bits, then silence. The long train
//! lasts 1393 ms, the short (resynchronising) train 142.5 ms. The point labels, the
//! segment 2 pattern and the bridge agree with spandsp's V.17 modem in both directions
//! (`tests/v17_interop.rs`).
//!
//! # Receiver
//! Built on the shared [`crate::qam::QamDemod`] core. It detects the A/B alternations and the
//! phase reversal that starts segment 2, trains the equalizer on the known segment 2 (and
//! bridge) symbols, then switches to decisions: a soft-decision Viterbi decoder (squared
//! Euclidean branch metrics over the eight subsets, traceback [`TRACEBACK`] symbols) makes
//! the decisions, which are differentially decoded and descrambled, and the core adapts on
//! the best survivor's newest symbol (a tentative decision that already weighs the code).
//! A short train keeps the equalizer, gain, carrier and clock offsets of the last long
//! train, and goes back to the sampling phase that equalizer was trained at: first by the
//! offset the long train measured between its first segment's phase and its own (a
//! distorted line moves them apart), then through segment 2 by a data-aided timing loop
//! that follows the gradient of the error against the known symbols (Gardner's loop rests
//! meanwhile). Until then the kept equalizer fits poorly, and the reversal into segment 2
//! can smear over several symbols: segment 2's start is placed from its opening run of
//! C D C D, at A's parity, and the reversal only turns the equalizer to the new carrier
//! phase. Carrier detection uses the V.17 thresholds (on at −43 dBm0, off at −48 dBm0).
//!
//! ```
//! use modem::v17::{V17Rx, V17Tx};
//! use modem::{Receiver, RxConfig, RxEvent, RxSink, Transmitter, TxConfig};
//! struct Bits(Vec<bool>);
//! impl RxSink for Bits {
//!     fn bit(&mut self, b: bool) { self.0.push(b) }
//!     fn event(&mut self, _e: RxEvent) {}
//! }
//! let mut tx = V17Tx::new(&TxConfig { rate: 14400, ..Default::default() })?;
//! let mut rx = V17Rx::new(&RxConfig { rate: 14400, short_train: false })?;
//! let data: Vec<bool> = (0..2000).map(|i| i % 3 == 0).collect();
//! let mut src = data.iter().copied();
//! let mut got = Bits(vec![]);
//! let mut block = [0i16; 160];
//! while !tx.is_finished() {
//!     let n = tx.fill(&mut block, &mut || src.next());
//!     block[n..].fill(0);
//!     rx.process(&block, &mut got);
//! }
//! assert_eq!(&got.0[..data.len()], &data[..]);
//! # Ok::<(), modem::Error>(())
//! ```

use crate::dsp::{BlockShaper, CarrierDetect, Complex32, Pull};
use crate::qam::{DemodConfig, GroupDescrambler, QamDemod};
use crate::scrambler::{GroupScrambler, Scrambler, TAPS_V17_V29};
use crate::trellis::{TrellisEncoder, Viterbi};
use crate::{
    BitSource, Error, ModemKind, Quality, Receiver, RxConfig, RxEvent, RxSink, Transmitter,
    TxConfig,
};

/// Symbol rate, symbols/s.
pub const BAUD: u32 = 2400;
/// Carrier frequency, Hz.
pub const CARRIER_HZ: f32 = 1800.0;
/// Segment 1 length (A B alternations), symbols.
pub const SEG1: usize = 256;
/// Segment 2 length in the long train, symbols.
pub const SEG2_LONG: usize = 2976;
/// Segment 2 length in the short train, symbols.
pub const SEG2_SHORT: usize = 38;
/// Bridge (segment 3) length, long train only, symbols.
pub const SEG3: usize = 64;
/// Segment 4 length (trellis-coded scrambled ones), symbols.
pub const SEG4: usize = 48;
/// Trellis-coded scrambled ones sent after the data, symbols.
pub const TAIL: usize = 32;
/// Viterbi traceback depth of the receiver, symbols. Decisions come out 16 to 23 symbols
/// late (see [`crate::trellis::BATCH`]), well inside the [`TAIL`] that follows the data.
pub const TRACEBACK: usize = 16;

/// The four training points (A, B, C, D: each a quarter turn anticlockwise of the last).
pub const TRAIN_POINTS: [[i8; 2]; 4] = [[-6, -2], [2, -6], [6, 2], [-2, 6]];

/// Scrambler register at the start of segment 2 (bit 0 = newest output); its output with
/// binary ones at the input gives the equalizer conditioning pattern.
const SEG2_SCRAMBLER: u32 = 0x2ecdd5;
/// Segment 2: the dibit (first bit × 2 + second bit) picks C, D, B or A.
const SEG2_DIBIT: [u8; 4] = [2, 3, 1, 0];
/// The bridge (segment 3) as indices into [`TRAIN_POINTS`].
const BRIDGE: &[u8; SEG3] = b"1123303102030231200230321212110213220321233202220320322120003300";
/// Scrambler register at the start of segment 4.
const SEG4_SCRAMBLER: u32 = 0x7725d1;

/// Signal points by label (Q… Y2 Y1 Y0) at 7200 bit/s.
const MAP_7200: [[i8; 2]; 16] = [
    [6, -6],
    [-2, 6],
    [6, 2],
    [-6, -6],
    [-6, 6],
    [2, -6],
    [-6, -2],
    [6, 6],
    [-2, 2],
    [6, -2],
    [-2, -6],
    [2, 2],
    [2, -2],
    [-6, 2],
    [2, 6],
    [-2, -2],
];
/// Signal points by label (Q… Y2 Y1 Y0) at 9600 bit/s.
const MAP_9600: [[i8; 2]; 32] = [
    [2, 8],
    [-4, 6],
    [6, 4],
    [8, -2],
    [-2, -8],
    [4, -6],
    [-6, -4],
    [-8, 2],
    [2, 0],
    [4, 6],
    [6, -4],
    [0, -2],
    [-2, 0],
    [-4, -6],
    [-6, 4],
    [0, 2],
    [-6, 0],
    [-4, -2],
    [-2, 4],
    [0, 6],
    [6, 0],
    [4, 2],
    [2, -4],
    [0, -6],
    [2, -8],
    [4, -2],
    [-2, -4],
    [-8, -2],
    [-2, 8],
    [-4, 2],
    [2, 4],
    [8, 2],
];
/// Signal points by label (Q… Y2 Y1 Y0) at 12000 bit/s.
const MAP_12000: [[i8; 2]; 64] = [
    [-1, 7],
    [1, -5],
    [-5, -1],
    [7, 1],
    [1, -7],
    [-1, 5],
    [5, 1],
    [-7, -1],
    [3, 3],
    [-3, -1],
    [-1, 3],
    [3, -3],
    [-3, -3],
    [3, 1],
    [1, -3],
    [-3, 3],
    [7, 7],
    [-7, -5],
    [-5, 7],
    [7, -7],
    [-7, -7],
    [7, 5],
    [5, -7],
    [-7, 7],
    [7, -1],
    [-7, 3],
    [3, 7],
    [-1, -7],
    [-7, 1],
    [7, -3],
    [-3, -7],
    [1, 7],
    [-5, 3],
    [5, -1],
    [-1, -5],
    [3, 5],
    [5, -3],
    [-5, 1],
    [1, 5],
    [-3, -5],
    [-1, -1],
    [1, 3],
    [3, -1],
    [-1, 1],
    [1, 1],
    [-1, -3],
    [-3, 1],
    [1, -1],
    [-5, -5],
    [5, 7],
    [7, -5],
    [-5, 5],
    [5, 5],
    [-5, -7],
    [-7, 5],
    [5, -5],
    [3, -5],
    [-3, 7],
    [7, 3],
    [-5, -3],
    [-3, 5],
    [3, -7],
    [-7, -3],
    [5, 3],
];
/// Signal points by label (Q… Y2 Y1 Y0) at 14400 bit/s.
const MAP_14400: [[i8; 2]; 128] = [
    [-8, -3],
    [9, 2],
    [2, -9],
    [-3, 8],
    [8, 3],
    [-9, -2],
    [-2, 9],
    [3, -8],
    [-8, 1],
    [9, -2],
    [-2, -9],
    [1, 8],
    [8, -1],
    [-9, 2],
    [2, 9],
    [-1, -8],
    [-4, -3],
    [5, 2],
    [2, -5],
    [-3, 4],
    [4, 3],
    [-5, -2],
    [-2, 5],
    [3, -4],
    [-4, 1],
    [5, -2],
    [-2, -5],
    [1, 4],
    [4, -1],
    [-5, 2],
    [2, 5],
    [-1, -4],
    [4, -3],
    [-3, 2],
    [2, 3],
    [-3, -4],
    [-4, 3],
    [3, -2],
    [-2, -3],
    [3, 4],
    [4, 1],
    [-3, -2],
    [-2, 3],
    [1, -4],
    [-4, -1],
    [3, 2],
    [2, -3],
    [-1, 4],
    [0, -3],
    [1, 2],
    [2, -1],
    [-3, 0],
    [0, 3],
    [-1, -2],
    [-2, 1],
    [3, 0],
    [0, 1],
    [1, -2],
    [-2, -1],
    [1, 0],
    [0, -1],
    [-1, 2],
    [2, 1],
    [-1, 0],
    [8, -3],
    [-7, 2],
    [2, 7],
    [-3, -8],
    [-8, 3],
    [7, -2],
    [-2, -7],
    [3, 8],
    [8, 1],
    [-7, -2],
    [-2, 7],
    [1, -8],
    [-8, -1],
    [7, 2],
    [2, -7],
    [-1, 8],
    [-4, -7],
    [5, 6],
    [6, -5],
    [-7, 4],
    [4, 7],
    [-5, -6],
    [-6, 5],
    [7, -4],
    [-4, 5],
    [5, -6],
    [-6, -5],
    [5, 4],
    [4, -5],
    [-5, 6],
    [6, 5],
    [-5, -4],
    [4, -7],
    [-3, 6],
    [6, 3],
    [-7, -4],
    [-4, 7],
    [3, -6],
    [-6, -3],
    [7, 4],
    [4, 5],
    [-3, -6],
    [-6, 3],
    [5, -4],
    [-4, -5],
    [3, 6],
    [6, -3],
    [-5, 4],
    [0, -7],
    [1, 6],
    [6, -1],
    [-7, 0],
    [0, 7],
    [-1, -6],
    [-6, 1],
    [7, 0],
    [0, 5],
    [1, -6],
    [-6, -1],
    [5, 0],
    [0, -5],
    [-1, 6],
    [6, 1],
    [-5, 0],
];

#[inline]
fn point(p: [i8; 2]) -> Complex32 {
    Complex32::new(p[0] as f32, p[1] as f32)
}

/// The signal points of `rate` (7200, 9600, 12 000 or 14 400), indexed by label
/// (Y0 in bit 0, Y1 in bit 1, Y2 in bit 2, Q3 … above).
pub fn constellation(rate: u32) -> Result<Vec<Complex32>, Error> {
    ModemKind::V17.check_rate(rate)?;
    let map: &[[i8; 2]] = match rate {
        7200 => &MAP_7200,
        9600 => &MAP_9600,
        12000 => &MAP_12000,
        _ => &MAP_14400,
    };
    Ok(map.iter().map(|&p| point(p)).collect())
}

/// Mean |a|² of a set of points.
fn mean_power(points: &[Complex32]) -> f32 {
    points.iter().map(|p| p.norm_sqr()).sum::<f32>() / points.len() as f32
}

/// The training symbols segment 2 (long) and the bridge, in order. The short train's
/// segment 2 is the first [`SEG2_SHORT`] of them.
pub fn training_symbols() -> Vec<Complex32> {
    let mut scr = Scrambler::new(TAPS_V17_V29);
    scr.set_state(SEG2_SCRAMBLER);
    let mut out = Vec::with_capacity(SEG2_LONG + SEG3);
    for _ in 0..SEG2_LONG {
        let b0 = scr.scramble(true) as usize;
        let b1 = scr.scramble(true) as usize;
        out.push(point(TRAIN_POINTS[SEG2_DIBIT[b0 * 2 + b1] as usize]));
    }
    out.extend(
        BRIDGE
            .iter()
            .map(|&c| point(TRAIN_POINTS[(c - b'0') as usize])),
    );
    out
}

/// Segment 2's first [`CORR_WINDOW`] symbols with the mean of the even and of the odd ones
/// removed (so the alternations of segment 1, period two, correlate to nothing), and their
/// energy: the reference the receiver looks for segment 2 with.
fn correlation_reference() -> &'static ([Complex32; CORR_WINDOW], f32) {
    static REFERENCE: std::sync::OnceLock<([Complex32; CORR_WINDOW], f32)> =
        std::sync::OnceLock::new();
    REFERENCE.get_or_init(|| {
        let train = training_symbols();
        let zero = Complex32::new(0.0, 0.0);
        let mut means = [zero; 2];
        for (i, t) in train[..CORR_WINDOW].iter().enumerate() {
            means[i & 1] += *t;
        }
        let half = (CORR_WINDOW / 2) as f32;
        let means = [means[0] / half, means[1] / half];
        let mut refs = [zero; CORR_WINDOW];
        let mut energy = 0.0;
        for (i, (r, t)) in refs.iter_mut().zip(&train[..CORR_WINDOW]).enumerate() {
            *r = *t - means[i & 1];
            energy += r.norm_sqr();
        }
        (refs, energy)
    })
}

/// The sums of [`V17Rx::correlate`] over the window of `ring` that starts at `first`
/// (modulo its length): the even and the odd symbols' sums, the energy, and the correlation
/// with `refs`. Symbols two at a time (even, odd) in the window's order. The reference for
/// [`window_sums_sse2`].
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn window_sums_scalar(
    ring: &[Complex32; CORR_WINDOW],
    first: usize,
    refs: &[Complex32; CORR_WINDOW],
) -> ([Complex32; 2], f32, Complex32) {
    let zero = Complex32::new(0.0, 0.0);
    let mut sums = [zero; 2];
    let mut energy = 0.0;
    let mut r = zero;
    for (k, t) in refs.chunks_exact(2).enumerate() {
        let at = (first + 2 * k) % CORR_WINDOW;
        let (y0, y1) = (ring[at], ring[(at + 1) % CORR_WINDOW]);
        sums[0] += y0;
        energy += y0.norm_sqr();
        r += y0 * t[0].conj();
        sums[1] += y1;
        energy += y1.norm_sqr();
        r += y1 * t[1].conj();
    }
    (sums, energy, r)
}

/// The reference of [`window_sums_sse2`] laid out for it: per pair of symbols,
/// [t0.re, −t0.im, t1.re, −t1.im] and [−t0.im, t0.re, −t1.im, t1.re].
#[cfg(target_arch = "x86_64")]
fn sse_reference() -> &'static [[[f32; 4]; 2]; CORR_WINDOW / 2] {
    static TABLE: std::sync::OnceLock<[[[f32; 4]; 2]; CORR_WINDOW / 2]> =
        std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let (refs, _) = correlation_reference();
        let mut table = [[[0f32; 4]; 2]; CORR_WINDOW / 2];
        for (row, t) in table.iter_mut().zip(refs.chunks_exact(2)) {
            row[0] = [t[0].re, -t[0].im, t[1].re, -t[1].im];
            row[1] = [-t[0].im, t[0].re, -t[1].im, t[1].re];
        }
        table
    })
}

/// [`window_sums_scalar`] with a pair of symbols per instruction where the sums allow it
/// (SSE2, part of every x86-64): both parities' sums in one register, both products of a
/// pair at once, and the energy and correlation added in the same order, so the same bits.
/// `refs` must be [`correlation_reference`]'s (its layout for this is precomputed).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn window_sums_sse2(
    ring: &[Complex32; CORR_WINDOW],
    first: usize,
    refs: &[Complex32; CORR_WINDOW],
) -> ([Complex32; 2], f32, Complex32) {
    use std::arch::x86_64::*;
    debug_assert!(std::ptr::eq(refs, &correlation_reference().0));
    let table = sse_reference();
    // SAFETY: SSE2 is part of the x86-64 baseline; loads read the fixed-size table rows
    // they name, everything else is in registers.
    unsafe {
        let mut sums = _mm_setzero_ps();
        let mut energy = _mm_setzero_ps();
        let mut r = _mm_setzero_ps();
        // Negates lanes 0 and 2: a + (−b) is the same operation as a − b.
        let neg_even = _mm_setr_ps(-0.0, 0.0, -0.0, 0.0);
        for (k, row) in table.iter().enumerate() {
            let at = (first + 2 * k) % CORR_WINDOW;
            let (y0, y1) = (ring[at], ring[(at + 1) % CORR_WINDOW]);
            let y = _mm_setr_ps(y0.re, y0.im, y1.re, y1.im);
            sums = _mm_add_ps(sums, y);
            // |y0|² in lane 0, |y1|² in lane 2 (re·re + im·im), added one after the other.
            let sq = _mm_mul_ps(y, y);
            let norms = _mm_add_ps(sq, _mm_shuffle_ps::<0b10_11_00_01>(sq, sq));
            energy = _mm_add_ss(energy, norms);
            energy = _mm_add_ss(energy, _mm_movehl_ps(norms, norms));
            // y·conj(t) for both: (re·t.re − im·(−t.im), re·(−t.im) + im·t.re).
            let re = _mm_shuffle_ps::<0b10_10_00_00>(y, y);
            let im = _mm_shuffle_ps::<0b11_11_01_01>(y, y);
            let p = _mm_mul_ps(re, _mm_loadu_ps(row[0].as_ptr()));
            let q = _mm_mul_ps(im, _mm_loadu_ps(row[1].as_ptr()));
            let prod = _mm_add_ps(p, _mm_xor_ps(q, neg_even));
            r = _mm_add_ps(r, prod);
            r = _mm_add_ps(r, _mm_movehl_ps(prod, prod));
        }
        let mut s = [0f32; 4];
        _mm_storeu_ps(s.as_mut_ptr(), sums);
        let mut rr = [0f32; 4];
        _mm_storeu_ps(rr.as_mut_ptr(), r);
        (
            [Complex32::new(s[0], s[1]), Complex32::new(s[2], s[3])],
            _mm_cvtss_f32(energy),
            Complex32::new(rr[0], rr[1]),
        )
    }
}

#[cfg(not(target_arch = "x86_64"))]
use window_sums_scalar as window_sums;
#[cfg(target_arch = "x86_64")]
use window_sums_sse2 as window_sums;

/// Bits to symbols: scrambler, differential encoder, trellis encoder, mapping.
#[derive(Debug, Clone)]
struct Coder {
    bps: usize,
    points: Vec<Complex32>,
    scr: GroupScrambler,
    diff: u8,
    enc: TrellisEncoder,
}

impl Coder {
    /// Codes one symbol's worth of raw (unscrambled) bits, Q1 in bit 0.
    #[inline]
    fn symbol(&mut self, raw: u32) -> Complex32 {
        let q = self.scr.scramble_group(raw, self.bps as u32);
        self.diff = (self.diff + (q & 3) as u8) & 3;
        let subset = self.enc.encode(self.diff);
        self.points[subset as usize | (((q >> 2) as usize) << 3)]
    }

    /// A symbol of scrambled ones.
    fn ones(&mut self) -> Complex32 {
        self.symbol(u32::MAX)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TxPhase {
    Seg1,
    Seg2,
    Bridge,
    Seg4,
    Data,
    Tail,
    Silence,
    Done,
}

/// The transmitter's symbol sequence.
#[derive(Debug, Clone)]
struct SymbolGen {
    phase: TxPhase,
    count: usize,
    seg2_len: usize,
    short: bool,
    seg2: Scrambler,
    coder: Coder,
    span: usize,
}

impl SymbolGen {
    fn enter(&mut self, phase: TxPhase) {
        self.phase = phase;
        self.count = 0;
        if phase == TxPhase::Seg4 {
            self.coder.scr.set_state(SEG4_SCRAMBLER);
        }
    }

    #[inline]
    fn next(&mut self, src: &mut dyn BitSource) -> Complex32 {
        loop {
            let k = self.count;
            match self.phase {
                TxPhase::Seg1 if k < SEG1 => {
                    self.count += 1;
                    return point(TRAIN_POINTS[k % 2]);
                }
                TxPhase::Seg1 => self.enter(TxPhase::Seg2),
                TxPhase::Seg2 if k < self.seg2_len => {
                    self.count += 1;
                    let b0 = self.seg2.scramble(true) as usize;
                    let b1 = self.seg2.scramble(true) as usize;
                    return point(TRAIN_POINTS[SEG2_DIBIT[b0 * 2 + b1] as usize]);
                }
                TxPhase::Seg2 => self.enter(if self.short {
                    TxPhase::Seg4
                } else {
                    TxPhase::Bridge
                }),
                TxPhase::Bridge if k < SEG3 => {
                    self.count += 1;
                    return point(TRAIN_POINTS[(BRIDGE[k] - b'0') as usize]);
                }
                TxPhase::Bridge => self.enter(TxPhase::Seg4),
                TxPhase::Seg4 if k < SEG4 => {
                    self.count += 1;
                    return self.coder.ones();
                }
                TxPhase::Seg4 => self.enter(TxPhase::Data),
                TxPhase::Data => {
                    let bps = self.coder.bps as u32;
                    let (bits, got) = src.next_bits(bps);
                    if got == 0 {
                        self.enter(TxPhase::Tail);
                        continue;
                    }
                    // Once the data has ended, the rest of the symbol is ones.
                    let raw = bits | !((1u32 << got) - 1);
                    if got < bps {
                        self.enter(TxPhase::Tail);
                    }
                    return self.coder.symbol(raw);
                }
                TxPhase::Tail if k < TAIL => {
                    self.count += 1;
                    return self.coder.ones();
                }
                TxPhase::Tail => self.enter(TxPhase::Silence),
                TxPhase::Silence if k < self.span => {
                    self.count += 1;
                    return Complex32::new(0.0, 0.0);
                }
                TxPhase::Silence => self.enter(TxPhase::Done),
                TxPhase::Done => return Complex32::new(0.0, 0.0),
            }
        }
    }
}

/// The V.17 modulator: training, trellis-coded data, closing sequence.
#[derive(Debug, Clone)]
pub struct V17Tx {
    symbols: SymbolGen,
    shaper: BlockShaper,
}

impl V17Tx {
    /// A transmitter for `cfg.rate` with the long or short training, at `cfg.level_dbm0`.
    pub fn new(cfg: &TxConfig) -> Result<Self, Error> {
        let points = constellation(cfg.rate)?;
        let mut shaper = BlockShaper::new(BAUD, CARRIER_HZ as u32, 0.25, 12);
        shaper.set_level(cfg.level_dbm0, mean_power(&points));
        let mut seg2 = Scrambler::new(TAPS_V17_V29);
        seg2.set_state(SEG2_SCRAMBLER);
        let span = shaper.span();
        Ok(V17Tx {
            symbols: SymbolGen {
                phase: TxPhase::Seg1,
                count: 0,
                seg2_len: if cfg.short_train {
                    SEG2_SHORT
                } else {
                    SEG2_LONG
                },
                short: cfg.short_train,
                seg2,
                coder: Coder {
                    bps: (cfg.rate / BAUD) as usize,
                    points,
                    scr: GroupScrambler::new(TAPS_V17_V29),
                    diff: 0,
                    enc: TrellisEncoder::new(),
                },
                span,
            },
            shaper,
        })
    }
}

impl Transmitter for V17Tx {
    fn fill(&mut self, out: &mut [i16], src: &mut dyn BitSource) -> usize {
        if self.symbols.phase == TxPhase::Done {
            return 0;
        }
        let symbols = &mut self.symbols;
        self.shaper.fill(out, || {
            let a = symbols.next(src);
            // The sample of the last pull is still sent.
            if symbols.phase == TxPhase::Done {
                Pull::Last(a)
            } else {
                Pull::Symbol(a)
            }
        })
    }

    fn is_finished(&self) -> bool {
        self.symbols.phase == TxPhase::Done
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RxState {
    /// No carrier.
    Idle,
    /// Carrier present: looking for the alternations and the reversal into segment 2.
    Search,
    /// Training the equalizer on segment 2 (and the bridge).
    Train,
    /// Decision-directed: segment 4, then data.
    Data,
}

/// Alternations needed before the reversal into segment 2 is accepted.
const MIN_ALTERNATIONS: usize = 24;
/// Reversed symbols in a row that place segment 2's start when the reversal did not follow
/// segment 1 cleanly.
const REVERSED_RUN: usize = 3;
/// Symbols between segment 1 and segment 2's C D C D that may be neither: through a
/// distorted line, at a sampling phase other than the one the kept equalizer of a short
/// training was trained at, the reversal smears over a few symbols.
const MAX_SMEARED: usize = 5;
/// Recent symbols whose projections are kept (at least [`MAX_SMEARED`] + [`REVERSED_RUN`]).
const SMEAR_RING: usize = 8;
/// Gain of the short training's data-aided timing loop (the share of the phase error
/// measured on a symbol that it corrects), on segment 2's known symbols and then, on the
/// decoder's decisions, for the first [`DA_DATA_SYMBOLS`] of segment 4 and data; then
/// Gardner's loop takes over again. Segment 2 is short and mostly periodic (C D C D …), and
/// any periodic interference biases the detector there: through `m1020-limit` with a 30 ms
/// listener echo 15 dB down, only 28 of 50 pages at 7200 bit/s came out clean with 0.05 on
/// segment 2 and nothing on the data. The random data carries no such bias, and most of the
/// correction is made there: through `m1020-limit` with the far end 100 ppm fast, 26 of 50
/// pages at 14 400 bit/s come out clean (29–36 after a long training), none with segment 2
/// alone at 0.02. With the data part, 0.05 on segment 2 took the scenario
/// `channels/pstn-long-haul-echo` from 28 to 43 partial page requests in 136 calls.
const DA_GAIN: f32 = 0.02;
/// The data-aided loop's gain on segment 4 and data (see [`DA_GAIN`]).
const DA_GAIN_DATA: f32 = 0.05;
/// Symbols of segment 4 and data with the data-aided loop (0.2 s).
const DA_DATA_SYMBOLS: usize = 480;
/// Largest data-aided step, samples.
const DA_MAX_STEP: f32 = 0.1;
/// Symbols after carrier-up within which segment 2 must start.
const SEARCH_LIMIT: usize = SEG1 + 160;
/// Timing loop bandwidth (fraction of the baud rate) during training.
const TIMING_BW_ACQUIRE: f32 = 0.004;
/// Timing loop bandwidth on the alternations: a fast pull-in of the phase (the core's loop
/// is first order there, so it does not overshoot).
const TIMING_BW_PULL_IN: f32 = 0.01;
/// Equalizer step (fraction of the error corrected per update) for the first 64 symbols of
/// a long training.
const EQ_STEP_TRAIN_FAST: f32 = 0.3;
/// Equalizer step for the rest of a long training.
const EQ_STEP_TRAIN: f32 = 0.15;
/// Equalizer step for a short training (the equalizer only needs a touch-up).
const EQ_STEP_SHORT: f32 = 0.15;
/// Equalizer step on data.
const EQ_STEP_DATA: f32 = 0.03;
/// Carrier loop bandwidth for the first [`SETTLE_SYMBOLS`] decisions after training: during
/// training the fast equalizer shares the phase tracking with the loop, so the loop's
/// frequency may be a little off when the equalizer slows down.
const CARRIER_BW_SETTLE: f32 = 0.008;
/// Decisions after which the carrier loop narrows to [`CARRIER_BW_DATA`].
const SETTLE_SYMBOLS: usize = 100;
/// Carrier loop bandwidth on data (fraction of the baud rate).
const CARRIER_BW_DATA: f32 = 0.003;
/// Timing loop bandwidth on data.
const TIMING_BW_DATA: f32 = 0.001;
/// Data symbols between checks of the clock offset the data measures (one second).
const DRIFT_CHECK_SYMBOLS: u32 = 2400;
/// How far (ppm) the measured clock offset may move from the standing correction before
/// it replaces it. Through `m1020-limit` the training's second half measures a +100 ppm
/// drift as 70 ppm (−100 ppm as −94): Gardner's detector on what that line leaves of the
/// band edges answers a late sampling phase more weakly than an early one. The first-order
/// loop then carried the rest with a phase error that grew until the signal was lost
/// after 8–11 s (+80 ppm at 9600 bit/s: 33 errors from 15 s). The drift the data itself
/// measures (over each second since the last step), past this margin, now moves the
/// correction a share of the way (`qam::FOLLOW_GAIN`), which brings it to the drift within
/// a few seconds; the margin keeps lines whose training measured the drift right on the
/// bits they had (of the scenario library's calls, three changed).
const DRIFT_FOLLOW_PPM: f32 = 10.0;
/// Timing loop bandwidth while nothing recognisable is received.
const TIMING_BW_IDLE: f32 = 0.001;
/// Leaky mismatch count (decay 0.9 a symbol) above which the expected segment 2 pattern is
/// abandoned for decisions: about three mismatches within a few symbols.
const MISMATCH_LIMIT: f32 = 2.5;
/// Symbols of segment 2's known start correlated to find it when line distortion hides the
/// reversal.
const CORR_WINDOW: usize = 128;
/// Normalised correlation above which segment 2's start is taken as found. Measured through
/// `long-haul` and `m1020-limit` at 30 dB SNR: segment 1 and noise stay below 0.36, segment
/// 2's start peaks above 0.7.
const CORR_THRESHOLD: f32 = 0.5;
/// Training is accepted when the SNR on the known symbols reaches this, dB.
const TRAIN_SNR_DB: f32 = 10.0;

/// The V.17 demodulator.
#[derive(Debug, Clone)]
pub struct V17Rx {
    rate: u32,
    short: bool,
    points: Vec<Complex32>,
    /// The known training symbols ([`training_symbols`], shared by every receiver).
    train: &'static [Complex32],
    core: QamDemod,
    detect: CarrierDetect,
    vit: Viterbi,
    desc: GroupDescrambler,
    state: RxState,
    /// Running averages of the even and the odd symbols while searching.
    avg: [Complex32; 2],
    /// Segment 1 has been seen in this search.
    seg1: bool,
    /// Leaky count of training decisions that differ from the expected pattern.
    mismatch: f32,
    /// Training on decisions: the far end's segment 2 is not the expected pattern.
    decision_directed: bool,
    alternations: usize,
    /// Enough alternations were seen in this search to expect segment 2.
    seen_alt: bool,
    /// `searched` index of the last symbol that matched segment 1, and the alternations
    /// counted then.
    last_periodic: usize,
    seg1_alternations: usize,
    /// Reversed symbols (segment 2's C D C D) in a row up to the last one.
    reversed_run: usize,
    /// Each recent search symbol's projection on its parity's point of segment 1, by
    /// `searched` modulo [`SMEAR_RING`].
    projection: [f32; SMEAR_RING],
    /// The last [`CORR_WINDOW`] search symbols, by `searched` modulo the window.
    ring: [Complex32; CORR_WINDOW],
    /// Symbols searched since the signal started.
    searched: usize,
    /// Best correlation with segment 2's start so far: (normalised magnitude, `searched` at
    /// the window's end, value).
    best: (f32, usize, Complex32),
    /// The reversal into segment 2 of a long training, seen at `searched` on this symbol,
    /// while the correlation has the chance to confirm segment 2.
    reversal: Option<(usize, Complex32)>,
    /// Training started on a correlation with our own segment 2, so the pattern needs no
    /// checking against decisions (an unconverged equalizer would fail that check).
    known_start: bool,
    /// Symbols in the current state.
    count: usize,
    err_acc: f32,
    sig_acc: f32,
    /// Labels released by the Viterbi decoder since segment 4 began.
    released: usize,
    /// Data symbols to the next check of the drift the data measures.
    drift_check_in: u32,
    prev_y: u8,
    /// A long training has succeeded since the last full reset (the short train needs it).
    have_long: bool,
    /// Mean |slope|² of the data-aided timing detector (zero: none yet).
    slope_power: f32,
    /// Data symbols the data-aided timing loop still has to run after a short training.
    da_data_left: usize,
}

impl V17Rx {
    /// A receiver for `cfg.rate`, expecting the long or the short training.
    pub fn new(cfg: &RxConfig) -> Result<Self, Error> {
        let points = constellation(cfg.rate)?;
        let mut dcfg = DemodConfig::new(BAUD, CARRIER_HZ, 40.0);
        dcfg.eq_taps = 32;
        Ok(V17Rx {
            rate: cfg.rate,
            short: cfg.short_train,
            vit: Viterbi::new(&points, TRACEBACK),
            points,
            train: {
                static TRAIN: std::sync::OnceLock<Vec<Complex32>> = std::sync::OnceLock::new();
                TRAIN.get_or_init(training_symbols)
            },
            core: QamDemod::new(&dcfg),
            detect: CarrierDetect::new(40.0),
            desc: GroupDescrambler::new(),
            state: RxState::Idle,
            avg: [Complex32::new(0.0, 0.0); 2],
            seg1: false,
            mismatch: 0.0,
            decision_directed: false,
            alternations: 0,
            seen_alt: false,
            last_periodic: 0,
            seg1_alternations: 0,
            reversed_run: 0,
            projection: [0.0; SMEAR_RING],
            known_start: false,
            reversal: None,
            ring: [Complex32::new(0.0, 0.0); CORR_WINDOW],
            searched: 0,
            best: (0.0, 0, Complex32::new(0.0, 0.0)),
            count: 0,
            err_acc: 0.0,
            sig_acc: 0.0,
            released: 0,
            drift_check_in: DRIFT_CHECK_SYMBOLS,
            prev_y: 0,
            have_long: false,
            slope_power: 0.0,
            da_data_left: 0,
        })
    }

    fn train_len(&self) -> usize {
        if self.short {
            SEG2_SHORT
        } else {
            SEG2_LONG + SEG3
        }
    }

    fn start_signal(&mut self) {
        if self.short && self.have_long {
            self.core.restart_signal();
            self.core.restore();
            // The kept equalizer needs only a touch-up, but the carrier and timing phases of a
            // new burst must be acquired again.
            self.core.set_eq_step(EQ_STEP_SHORT);
            self.core.set_carrier_bandwidth(0.02);
        } else {
            self.core.reset();
        }
        self.core.set_timing_bandwidth(TIMING_BW_IDLE);
        self.state = RxState::Search;
        self.avg = [Complex32::new(0.0, 0.0); 2];
        self.seg1 = false;
        self.alternations = 0;
        self.seen_alt = false;
        self.last_periodic = 0;
        self.seg1_alternations = 0;
        self.reversed_run = 0;
        self.da_data_left = 0;
        self.reversal = None;
        self.searched = 0;
        self.best = (0.0, 0, Complex32::new(0.0, 0.0));
        self.count = 0;
    }

    /// Normalised correlation of the last [`CORR_WINDOW`] symbols with segment 2's first
    /// ones, each with its even and its odd symbols' means removed so that the alternations
    /// (period two) add nothing: (magnitude, 1 for a perfect match; value).
    #[inline(always)]
    fn correlate(&self) -> (f32, Complex32) {
        let (refs, ref_energy) = correlation_reference();
        let first = self.searched - CORR_WINDOW;
        // One pass: with the reference's parity means removed, the window's own means drop
        // out of the correlation, and they come off the energy as |sum|²/count per parity.
        let (sums, mut energy, r) = window_sums(&self.ring, first, refs);
        let half = (CORR_WINDOW / 2) as f32;
        energy -= (sums[0].norm_sqr() + sums[1].norm_sqr()) / half;
        if energy <= 1e-9 {
            return (0.0, r / ref_energy);
        }
        (r.norm() / (energy * ref_energy).sqrt(), r / ref_energy)
    }

    /// Which parity of the search holds segment 1's A (B is A a quarter turn anticlockwise).
    fn a_parity(&self) -> usize {
        ((self.avg[1] * self.avg[0].conj()).im <= 0.0) as usize
    }

    /// Where segment 2 began (its `searched` index), judged on the symbol at `at`, the last
    /// of `reversed_run` reversed ones: the first of them if it follows segment 1 directly
    /// at A's parity (a clean reversal); otherwise, once [`REVERSED_RUN`] have come, the
    /// index at A's parity nearest to the boundary the smeared symbols between suggest
    /// (each counts as segment 1 by its projection on its parity's point: 1 for the point,
    /// −1 for its reverse), or the run's first if no index there has A's parity.
    fn seg2_start(&self, at: usize, quarter: bool) -> Option<usize> {
        let first = at + 1 - self.reversed_run;
        let last = self.last_periodic;
        let a = self.a_parity();
        if first == last + 1 && first & 1 == a && quarter {
            return Some(first);
        }
        if self.reversed_run < REVERSED_RUN {
            return None;
        }
        let smeared = first - last - 1;
        let ones: f32 = (last + 1..first)
            .map(|k| self.projection[k % SMEAR_RING])
            .sum();
        let boundary = (last + 1) as f32
            + (smeared as f32 + ones.clamp(-(smeared as f32), smeared as f32)) / 2.0;
        (last + 1..=first)
            .filter(|k| k & 1 == a)
            .min_by(|&x, &y| {
                (x as f32 - boundary)
                    .abs()
                    .total_cmp(&(y as f32 - boundary).abs())
            })
            .or(Some(first))
    }

    /// The carrier phase of segment 2 starting at `start`, from the reversed symbols up to
    /// `at` and segment 1's averaged points: the turn that takes what was received to the
    /// points sent.
    fn seg2_phase(&self, start: usize, at: usize) -> Complex32 {
        let a = self.a_parity();
        let mut turn = point(TRAIN_POINTS[0]) * self.avg[a].conj()
            + point(TRAIN_POINTS[1]) * self.avg[a ^ 1].conj();
        for k in at + 1 - self.reversed_run..=at {
            turn += self.train[k - start] * self.ring[k % CORR_WINDOW].conj();
        }
        turn
    }

    /// One step of the short training's timing loop, data-aided: the sampling phase moves
    /// along the gradient of the error between the equalized symbol `y` and the `target`
    /// sent, so it settles where the kept equalizer fits, whatever the line's delay
    /// distortion and the clock drift did to the phase the first segment gave.
    fn data_aided_timing(&mut self, y: Complex32, target: Complex32) {
        let slope = self.core.symbol_slope();
        let p = slope.norm_sqr();
        self.slope_power = if self.slope_power == 0.0 {
            p
        } else {
            self.slope_power + 0.2 * (p - self.slope_power)
        };
        let gain = if self.state == RxState::Data {
            DA_GAIN_DATA
        } else {
            DA_GAIN
        };
        // A Gauss-Newton step: the error's projection on the slope, per slope power.
        let e = ((y - target) * slope.conj()).re / self.slope_power.max(1e-9);
        self.core
            .nudge_timing((-gain * e).clamp(-DA_MAX_STEP, DA_MAX_STEP));
    }

    /// Enters training (the caller sets `count` to the next symbol's index in segment 2 and
    /// starts the equalizer with `align`).
    fn start_training(&mut self) {
        if self.short && self.have_long {
            // The clock offset learnt by the long train is a better estimate than anything
            // a few hundred symbols give: put it back. The carrier phase stays as acquired;
            // the sampling phase goes to where the kept equalizer was trained.
            self.core.restore();
            self.core.restore_timing_phase();
            // The data-aided detector below takes over from Gardner's, which on segment 2's
            // patterns would pull back to the alternations' phase.
            self.core.freeze_timing(true);
        } else {
            self.core.mark_timing_phase();
        }
        self.core.set_timing_bandwidth(TIMING_BW_ACQUIRE);
        if !self.short {
            self.core.set_eq_step(EQ_STEP_TRAIN_FAST);
        }
        // The pull-in is over: measure the clock offset from here on.
        self.core.restart_clock_estimate();
        self.state = RxState::Train;
        self.reversal = None;
        self.slope_power = 0.0;
        self.known_start = false;
        self.err_acc = 0.0;
        self.sig_acc = 0.0;
        self.mismatch = 0.0;
        self.decision_directed = false;
    }

    fn end_signal(&mut self, sink: &mut dyn RxSink) {
        if matches!(self.state, RxState::Search | RxState::Train) {
            sink.event(RxEvent::TrainingFailed);
        }
        self.state = RxState::Idle;
        sink.event(RxEvent::CarrierDown);
    }

    #[inline(always)]
    fn on_symbol<const AVX: bool>(&mut self, y: Complex32, sink: &mut dyn RxSink) {
        match self.state {
            RxState::Idle => self.core.advance(),
            RxState::Search => {
                self.core.advance();
                self.count += 1;
                self.ring[self.searched % CORR_WINDOW] = y;
                self.searched += 1;
                // A short segment 2 is shorter than the window: only a long one is correlated.
                if !self.short && self.seen_alt && self.searched >= CORR_WINDOW {
                    let (rho, r) = self.correlate();
                    if rho > self.best.0 {
                        self.best = (rho, self.searched, r);
                    }
                }
                if self.best.0 > CORR_THRESHOLD && self.searched >= self.best.1 + 8 {
                    // Segment 2's known start stands out in the correlation even when line
                    // distortion smears the reversal beyond recognition, and the peak gives
                    // the line's gain and phase. The equalizer starts from those and trains
                    // on the rest of segment 2, which is then known to be ours.
                    let gain = self.best.2;
                    self.start_training();
                    self.core.align(gain, Complex32::new(1.0, 0.0));
                    // The peak's window ended on segment 2's symbol CORR_WINDOW − 1.
                    self.count = CORR_WINDOW + self.searched - self.best.1;
                    self.known_start = true;
                    return;
                }
                if let Some((at, first)) = self.reversal
                    && self.searched >= at + CORR_WINDOW + 16
                {
                    // A reversal but no correlation, well after the correlation would have
                    // peaked (noise may put its peak a few symbols late): the far end's
                    // segment 2 differs from ours. Train from the reversal's symbol (taken
                    // as C, the start every pattern shares) and let the mismatch count
                    // switch to decisions.
                    self.start_training();
                    self.core.align(first, self.train[0]);
                    self.count = self.searched - at + 1;
                    return;
                }
                // Segment 1 alternates between two points a quarter turn apart. Keep a
                // running average of the even and of the odd symbols: each symbol should
                // match the average of its parity. Averages make the test hold at low SNR.
                let at = self.searched - 1;
                let par = at & 1;
                let r = self.avg[par];
                let o = self.avg[par ^ 1];
                let pr = r.norm_sqr();
                let periodic = pr > 0.2 * y.norm_sqr() && (y - r).norm_sqr() < 0.3 * pr;
                // At a poor timing phase the two points close in on each other until the
                // timing loop pulls them apart, so only the reversal needs the quarter turn.
                let quarter = (r * o.conj()).re.abs() < 0.4 * r.norm() * o.norm();
                // Segment 2 opens with 12 symbols C D C D …, each the reverse of its
                // parity's point in segment 1.
                let reversed = self.seg1_alternations >= MIN_ALTERNATIONS
                    && at - self.last_periodic <= MAX_SMEARED + 1 + self.reversed_run
                    && (y + r).norm_sqr() < 0.15 * (pr + o.norm_sqr());
                self.projection[at % SMEAR_RING] = if pr > 0.0 {
                    (y * r.conj()).re / pr
                } else {
                    0.0
                };
                if periodic {
                    self.alternations += 1;
                    self.seen_alt |= self.alternations >= MIN_ALTERNATIONS;
                    if self.alternations == 8 && !self.seg1 {
                        // Segment 1 has begun: whatever came before (noise) does not count.
                        self.seg1 = true;
                        self.count = 8;
                    }
                    self.last_periodic = at;
                    self.seg1_alternations = self.alternations;
                    self.reversed_run = 0;
                } else if reversed {
                    self.reversed_run += 1;
                    if let Some(start) = self.seg2_start(at, quarter) {
                        if self.short {
                            // Turn the kept equalizer to the new burst's carrier phase. Its
                            // gain stays: a few symbols' magnitude is too noisy a measure of
                            // it, and through a distorted line (where the reversal takes
                            // interference from segment 1) scaling by it cost up to 10 dB of
                            // the short training's SNR.
                            let turn = self.seg2_phase(start, at);
                            self.start_training();
                            self.core.turn(Complex32::new(1.0, 0.0), turn);
                            self.count = at - start + 1;
                            return;
                        }
                        // A long training waits for the correlation above, which line
                        // distortion does not fool; this reversal is only the fallback for a
                        // far end whose segment 2 is not the expected pattern.
                        if self.reversal.is_none() {
                            self.reversal = Some((start + 1, self.ring[start % CORR_WINDOW]));
                        }
                    }
                } else {
                    // Noise may spoil a symbol of segment 1 now and then: forgive it.
                    self.alternations /= 2;
                    self.reversed_run = 0;
                }
                if periodic || !self.seen_alt {
                    // Once segment 1 is established only its own symbols feed the averages,
                    // which the reversal is then judged against.
                    self.avg[par] = r + (y - r) * 0.25;
                }
                // Until alternations show, keep the timing loop slow: on noise it would only
                // wind its clock-offset term up.
                self.core.set_timing_bandwidth(if self.alternations < 2 {
                    TIMING_BW_IDLE
                } else {
                    TIMING_BW_PULL_IN
                });
                if self.count > SEARCH_LIMIT && self.reversal.is_none() {
                    if self.seg1 {
                        // Segment 1 came but segment 2 did not follow: this training is lost.
                        // Keep looking, since line noise can hold the carrier detector on
                        // until the next training.
                        sink.event(RxEvent::TrainingFailed);
                        self.start_signal();
                    } else {
                        // Only noise so far (loud enough to look like a carrier): go on
                        // waiting for segment 1 without disturbing the loops.
                        self.count = 0;
                        self.alternations = 0;
                    }
                }
            }
            RxState::Train => {
                self.core.slew_step();
                let known = self.train[self.count];
                // The nearest of A, B, C, D: if the far end's pattern turns out not to be the
                // one expected, training goes on with these decisions instead.
                // (The first of equals, as `min_by` would pick.)
                let mut decided = point(TRAIN_POINTS[0]);
                let mut nearest = (y - decided).norm_sqr();
                for &p in &TRAIN_POINTS[1..] {
                    let c = point(p);
                    let d = (y - c).norm_sqr();
                    if d.total_cmp(&nearest).is_lt() {
                        (decided, nearest) = (c, d);
                    }
                }
                // A leaky count of disagreements: a few in a row mean the pattern is not ours
                // (noise alone makes them rare, the four points being far apart).
                self.mismatch = self.mismatch * 0.9 + (decided != known) as u8 as f32;
                if self.mismatch > MISMATCH_LIMIT && !self.known_start {
                    self.decision_directed = true;
                }
                let target = if self.decision_directed {
                    decided
                } else {
                    known
                };
                let len = self.train_len();
                // Judge the training on its second half: the first half of a short one still
                // moves to the kept equalizer's sampling phase.
                if self.count >= len / 2 {
                    self.err_acc += (y - target).norm_sqr();
                    self.sig_acc += target.norm_sqr();
                }
                if self.short && self.have_long {
                    self.data_aided_timing(y, target);
                }
                self.core.adapt_v::<AVX>(target);
                self.count += 1;
                if self.count == 64 && !self.short {
                    self.core.set_eq_step(EQ_STEP_TRAIN);
                }
                if !self.short && self.count == len / 2 {
                    // Measure the clock offset from here: through band-edge loss the timing
                    // phase is still settling in the first half, which biased the estimate
                    // by up to 50 ppm.
                    self.core.restart_clock_estimate();
                }
                if self.count == len {
                    let snr = 10.0 * (self.sig_acc / self.err_acc.max(1e-9)).log10();
                    if snr >= TRAIN_SNR_DB {
                        if !self.short {
                            // The clock offset measured over the training's second half
                            // stays on as a standing correction (a short training keeps
                            // the long one's, which `start_training` restored).
                            self.core.hold_measured_drift();
                            self.core.save();
                            self.have_long = true;
                        }
                        self.core.freeze_agc(true);
                        // A short training's data-aided loop goes on into the data (see
                        // DA_DATA_SYMBOLS); a long one hands over to Gardner's now.
                        let kept = self.short && self.have_long;
                        self.core.freeze_timing(kept);
                        self.da_data_left = if kept { DA_DATA_SYMBOLS } else { 0 };
                        // Slow tracking: at low SNR the decision noise, not the drift of the
                        // line, limits the loops.
                        self.core.set_eq_step(EQ_STEP_DATA);
                        self.core.set_carrier_bandwidth(CARRIER_BW_SETTLE);
                        self.core.set_timing_bandwidth(TIMING_BW_DATA);
                        self.core.restart_drift_follow();
                        self.core.restart_snr_estimate();
                        self.vit.reset();
                        self.desc = GroupDescrambler::new();
                        self.released = 0;
                        self.drift_check_in = DRIFT_CHECK_SYMBOLS;
                        self.prev_y = 0;
                        self.state = RxState::Data;
                        sink.event(RxEvent::TrainingSucceeded {
                            rate: self.rate,
                            snr_db: snr,
                        });
                    } else {
                        sink.event(RxEvent::TrainingFailed);
                        // Search again: the carrier may never drop if the line is noisy.
                        self.start_signal();
                    }
                }
            }
            RxState::Data => self.data_symbol::<AVX>(y, sink),
        }
    }

    /// A symbol in data mode, in the baseline or (`AVX`) the AVX2 compilation.
    #[inline(always)]
    fn data_symbol<const AVX: bool>(&mut self, y: Complex32, sink: &mut dyn RxSink) {
        let released = self.vit.push_v::<AVX>(y);
        if self.released == SETTLE_SYMBOLS {
            self.core.set_carrier_bandwidth(CARRIER_BW_DATA);
        }
        self.drift_check_in -= 1;
        if self.drift_check_in == 0 {
            self.drift_check_in = DRIFT_CHECK_SYMBOLS;
            self.core.follow_measured_drift(DRIFT_FOLLOW_PPM);
        }
        // Adapt on the best survivor's newest decision: it already weighs the code, so it
        // is wrong less often than the nearest point.
        let d = self.points[self.vit.newest() as usize];
        if self.da_data_left > 0 {
            self.data_aided_timing(y, d);
            self.da_data_left -= 1;
            if self.da_data_left == 0 {
                self.core.freeze_timing(false);
            }
        }
        self.core.adapt_v::<AVX>(d);
        if let Some(label) = released {
            self.release(label, sink);
        }
    }

    /// Runs the demodulator over samples during which the carrier does not change (only the
    /// carrier detector makes the receiver idle).
    #[inline(always)]
    fn demodulate<const AVX: bool>(&mut self, mut samples: &[i16], sink: &mut dyn RxSink) {
        if self.state == RxState::Idle {
            return;
        }
        while !samples.is_empty() {
            let (n, symbol) = self.core.push_block_v::<AVX>(samples);
            samples = &samples[n..];
            if let Some(y) = symbol {
                self.on_symbol::<AVX>(y, sink);
            }
        }
    }

    /// Turns one decided label into bits: differential decoding, descrambling.
    #[inline(always)]
    fn release(&mut self, label: u8, sink: &mut dyn RxSink) {
        let data = self.released >= SEG4;
        self.released += 1;
        let y = (label >> 1) & 3;
        let q = (y.wrapping_sub(self.prev_y)) & 3;
        self.prev_y = y;
        // Bits per symbol: one fewer than the label's (Y0 is redundant).
        let bps = self.points.len().trailing_zeros() - 1;
        let bits = (q as u32) | (((label >> 3) as u32) << 2);
        let out = self.desc.descramble(bits, bps);
        if data {
            sink.bits(out, bps);
        }
    }
}

impl crate::simd::VectorRx for V17Rx {
    #[inline(always)]
    fn process_v<const AVX: bool>(&mut self, samples: &[i16], sink: &mut dyn RxSink) {
        self.core.new_input();
        // The carrier detector runs ahead to its next change (nothing the demodulator does
        // reads it); the samples before the change are demodulated in one go, then the
        // change is handled, then its own sample is demodulated, as sample by sample.
        let mut rest = samples;
        while !rest.is_empty() {
            let (n, change) = self.detect.scan(rest);
            let Some(change) = change else {
                self.demodulate::<AVX>(&rest[..n], sink);
                break;
            };
            self.demodulate::<AVX>(&rest[..n - 1], sink);
            if change {
                sink.event(RxEvent::CarrierUp {
                    level_dbm0: self.detect.dbm0(),
                });
                self.start_signal();
            } else {
                self.end_signal(sink);
            }
            self.demodulate::<AVX>(&rest[n - 1..n], sink);
            rest = &rest[n..];
        }
    }
}

impl Receiver for V17Rx {
    fn last_symbol(&self) -> Option<(f32, f32)> {
        let s = self.core.symbol();
        Some((s.re, s.im))
    }

    fn process(&mut self, samples: &[i16], sink: &mut dyn RxSink) {
        crate::simd::process(self, samples, sink);
    }

    fn quality(&self) -> Quality {
        Quality {
            level_dbm0: self.detect.dbm0(),
            snr_db: self.core.snr_db(),
            carrier_offset_hz: self.core.carrier_offset_hz(),
            timing_offset_ppm: self.core.timing_offset_ppm(),
            trained: self.state == RxState::Data,
        }
    }

    fn restart(&mut self, cfg: &RxConfig) -> Result<(), Error> {
        if cfg.rate != self.rate {
            self.points = constellation(cfg.rate)?;
            self.vit = Viterbi::new(&self.points, TRACEBACK);
            self.rate = cfg.rate;
        }
        self.short = cfg.short_train;
        if !self.short {
            self.have_long = false;
        }
        self.state = RxState::Idle;
        self.detect.reset();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vector window sums give the scalar reference's bits, wherever the window starts
    /// in the ring.
    #[test]
    fn window_sums_match_their_reference() {
        let (refs, _) = correlation_reference();
        let mut ring = [Complex32::new(0.0, 0.0); CORR_WINDOW];
        let mut x = 99u32;
        for y in ring.iter_mut() {
            let mut next = || {
                x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (x >> 8) as f32 / (1u32 << 21) as f32 - 4.0
            };
            *y = Complex32::new(next(), next());
        }
        for first in [0, 1, 2, 63, 126, 127, 128, 129, 1000] {
            let (sa, ea, ra) = window_sums(&ring, first, refs);
            let (sb, eb, rb) = window_sums_scalar(&ring, first, refs);
            let bits = |c: Complex32| (c.re.to_bits(), c.im.to_bits());
            assert_eq!(
                (bits(sa[0]), bits(sa[1])),
                (bits(sb[0]), bits(sb[1])),
                "{first}"
            );
            assert_eq!(ea.to_bits(), eb.to_bits(), "{first}");
            assert_eq!(bits(ra), bits(rb), "{first}");
        }
    }

    fn rot90(p: Complex32) -> Complex32 {
        Complex32::new(-p.im, p.re)
    }

    #[test]
    fn constellations_have_their_sizes_and_distinct_points() {
        for (rate, n) in [(7200, 16), (9600, 32), (12000, 64), (14400, 128)] {
            let pts = constellation(rate).unwrap();
            assert_eq!(pts.len(), n);
            for (i, a) in pts.iter().enumerate() {
                for b in &pts[i + 1..] {
                    assert!((a - b).norm_sqr() > 1.0, "{rate}: {a} twice");
                }
            }
            let power = mean_power(&pts);
            assert!((39.0..43.0).contains(&power), "{rate}: {power}");
        }
        assert!(constellation(4800).is_err());
    }

    #[test]
    fn a_quarter_turn_steps_y_and_flips_y0() {
        // What makes the code transparent to the carrier loop locking a quarter turn off:
        // turning a point keeps its uncoded bits, adds a constant to Y2 Y1 and flips Y0.
        for rate in [7200, 9600, 12000, 14400] {
            let pts = constellation(rate).unwrap();
            let find = |p: Complex32| pts.iter().position(|q| (q - p).norm_sqr() < 1e-6);
            let step = |l: usize| {
                let m = find(rot90(pts[l])).expect("rotation leaves the constellation");
                assert_eq!(m >> 3, l >> 3, "{rate}: uncoded bits change");
                assert_eq!((m ^ l) & 1, 1, "{rate}: Y0 does not flip");
                (((m >> 1) & 3) + 4 - ((l >> 1) & 3)) % 4
            };
            let c = step(0);
            assert!(c == 1 || c == 3);
            for l in 0..pts.len() {
                assert_eq!(step(l), c, "{rate} label {l}");
            }
        }
    }

    #[test]
    fn subsets_are_far_apart_inside() {
        // Set partitioning: points sharing Y0 Y1 Y2 are at least four times as far apart
        // (squared distance) as the closest pair overall.
        for rate in [7200, 9600, 12000, 14400] {
            let pts = constellation(rate).unwrap();
            let mut dmin = f32::MAX;
            let mut dsub = f32::MAX;
            for i in 0..pts.len() {
                for j in i + 1..pts.len() {
                    let d = (pts[i] - pts[j]).norm_sqr();
                    dmin = dmin.min(d);
                    if i & 7 == j & 7 {
                        dsub = dsub.min(d);
                    }
                }
            }
            assert!(dsub >= 4.0 * dmin, "{rate}: {dsub} vs {dmin}");
        }
    }

    #[test]
    fn training_sequence_shape() {
        let t = training_symbols();
        assert_eq!(t.len(), SEG2_LONG + SEG3);
        let p = |i: usize| point(TRAIN_POINTS[i]);
        // Segment 2 opens with the reversal from A B A B to C D C D …
        for (k, s) in t.iter().take(12).enumerate() {
            assert_eq!(*s, if k % 2 == 0 { p(2) } else { p(3) });
        }
        // Every training symbol is one of A, B, C, D, each used about equally.
        let mut count = [0usize; 4];
        for s in &t {
            let i = (0..4).find(|&i| p(i) == *s).expect("not a training point");
            count[i] += 1;
        }
        for c in count {
            assert!((650..870).contains(&c), "{count:?}");
        }
    }

    #[test]
    fn transmission_lengths() {
        struct Zeros(usize);
        impl BitSource for Zeros {
            fn next_bit(&mut self) -> Option<bool> {
                if self.0 == 0 {
                    None
                } else {
                    self.0 -= 1;
                    Some(false)
                }
            }
        }
        for (short, train) in [
            (false, SEG1 + SEG2_LONG + SEG3 + SEG4),
            (true, SEG1 + SEG2_SHORT + SEG4),
        ] {
            let mut tx = V17Tx::new(&TxConfig {
                rate: 14400,
                short_train: short,
                level_dbm0: -10.0,
            })
            .unwrap();
            let mut buf = vec![0i16; 100_000];
            let n = tx.fill(&mut buf, &mut Zeros(6 * 100));
            assert!(tx.is_finished());
            let symbols = train + 100 + TAIL + 12;
            let expect = (symbols * 10).div_ceil(3);
            assert!(
                n.abs_diff(expect) <= 4,
                "short {short}: {n} samples, {expect} expected"
            );
            assert_eq!(tx.fill(&mut buf, &mut Zeros(1)), 0);
        }
    }

    #[test]
    fn trains_on_an_unexpected_segment_2_pattern() {
        // A far end whose conditioning pattern starts from another scrambler state (still
        // opening with the reversal to C): the receiver notices the mismatch and finishes
        // training on its own decisions.
        #[derive(Default)]
        struct Sink(Vec<bool>, Vec<RxEvent>);
        impl RxSink for Sink {
            fn bit(&mut self, b: bool) {
                self.0.push(b)
            }
            fn event(&mut self, e: RxEvent) {
                self.1.push(e)
            }
        }
        let data: Vec<bool> = (0..12_000).map(|i| (i * 7919) % 13 < 6).collect();
        for other in [false, true] {
            let mut tx = V17Tx::new(&TxConfig {
                rate: 14400,
                short_train: false,
                level_dbm0: -10.0,
            })
            .unwrap();
            if other {
                tx.symbols.seg2.set_state(0x030000);
            }
            let mut src = data.iter().copied();
            let mut sig = vec![0i16; 200_000];
            let n = tx.fill(&mut sig, &mut || src.next());
            sig.truncate(n + 800);
            let mut rx = V17Rx::new(&RxConfig {
                rate: 14400,
                short_train: false,
            })
            .unwrap();
            let mut sink = Sink::default();
            rx.process(&sig, &mut sink);
            assert_eq!(rx.decision_directed, other);
            assert!(
                matches!(sink.1[1], RxEvent::TrainingSucceeded { .. }),
                "{:?}",
                sink.1
            );
            assert_eq!(&sink.0[..data.len()], &data[..]);
        }
    }

    #[test]
    fn decoding_survives_a_quarter_turn() {
        use crate::scrambler::Descrambler;
        for rate in [7200, 9600, 12000, 14400] {
            for turn in 0..4 {
                let points = constellation(rate).unwrap();
                let bps = (rate / BAUD) as usize;
                let mut coder = Coder {
                    bps,
                    points: points.clone(),
                    scr: GroupScrambler::new(TAPS_V17_V29),
                    diff: 0,
                    enc: TrellisEncoder::new(),
                };
                let mut vit = Viterbi::new(&points, TRACEBACK);
                let mut desc = Descrambler::new(TAPS_V17_V29);
                let mut prev_y = 0u8;
                let mut x = 99u32;
                let mut sent = vec![];
                let mut got = vec![];
                let mut r = Complex32::new(1.0, 0.0);
                for _ in 0..turn {
                    r *= Complex32::new(0.0, 1.0);
                }
                for _ in 0..3000 {
                    x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    let raw = (x >> 8) & ((1 << bps) - 1);
                    for i in 0..bps {
                        sent.push((raw >> i) & 1 != 0);
                    }
                    if let Some(label) = vit.push(coder.symbol(raw) * r) {
                        let y = (label >> 1) & 3;
                        let q = y.wrapping_sub(prev_y) & 3;
                        prev_y = y;
                        let bits = (q as u32) | (((label >> 3) as u32) << 2);
                        for i in 0..bps {
                            got.push(desc.descramble((bits >> i) & 1 != 0));
                        }
                    }
                }
                let errors = sent[100..got.len()]
                    .iter()
                    .zip(&got[100..])
                    .filter(|(a, b)| a != b)
                    .count();
                assert_eq!(errors, 0, "{rate} turned {turn}");
            }
        }
    }
}
