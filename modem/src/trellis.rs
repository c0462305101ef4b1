//! The 8-state trellis code of V.17 (the rotationally invariant, non-linear code also used by
//! V.32 and V.33): the systematic encoder and a soft-decision Viterbi decoder.
//!
//! A symbol's label has the redundant bit Y0 in bit 0, the differentially encoded bits Y1, Y2
//! in bits 1 and 2, and the uncoded bits Q3, Q4, … above them. The low three bits name one of
//! eight subsets of the constellation; the encoder chooses Y0 from its state, so only some
//! subset sequences are valid, and the decoder picks the valid sequence nearest (in squared
//! Euclidean distance) to what was received.

use std::sync::{Arc, Mutex, OnceLock};

use crate::dsp::Complex32;

/// Number of encoder states.
pub const STATES: usize = 8;

/// Decisions released per traceback: tracing back once per few symbols instead of every
/// symbol divides its cost; decisions are then `depth` to `depth + BATCH - 1` symbols old.
pub const BATCH: usize = 8;

/// The encoder's next state after input `y` (Y1 in bit 0, Y2 in bit 1) from state `s`.
///
/// The state holds three delay elements; Y0 of the current symbol is bit 0. The logical
/// product terms make the code transparent to 90° rotations of the constellation once the
/// differential encoding of Y1, Y2 is taken into account.
#[inline]
pub const fn next_state(s: u8, y: u8) -> u8 {
    let a = s & 1;
    let b = (s >> 1) & 1;
    let c = (s >> 2) & 1;
    let y1 = y & 1;
    let y2 = (y >> 1) & 1;
    let na = y2 ^ (a & y1) ^ (a & c) ^ b;
    let nb = y1 ^ y2 ^ c ^ (a & y1);
    na | (nb << 1) | (a << 2)
}

/// The convolutional encoder: Y1, Y2 in, the three-bit subset label (Y0, Y1, Y2) out.
#[derive(Debug, Clone, Default)]
pub struct TrellisEncoder {
    state: u8,
}

impl TrellisEncoder {
    /// An encoder in state 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// Encodes one symbol's Y1 (bit 0) and Y2 (bit 1); returns Y0 | Y1 << 1 | Y2 << 2.
    #[inline]
    pub fn encode(&mut self, y: u8) -> u8 {
        let y = y & 3;
        let subset = (self.state & 1) | (y << 1);
        self.state = next_state(self.state, y);
        subset
    }

    /// The current state (0..8).
    pub fn state(&self) -> u8 {
        self.state
    }

    /// Sets the state (0..8).
    pub fn set_state(&mut self, s: u8) {
        self.state = s & 7;
    }
}

/// Most points of one subset that can be nearest to some place in one grid cell (4 for
/// every V.17 constellation; checked when the grid is built).
const CANDIDATES: usize = 4;

/// The candidates of one grid cell: `xs[k][subset]`, `ys[k][subset]` and the label of the
/// k-th candidate of each subset, laid out so that one step handles all eight subsets.
#[derive(Debug, Clone, Copy)]
struct Cell {
    /// Rows in use: the most candidates any subset has here (the rest repeat the last).
    rows: usize,
    xs: [[f32; 8]; CANDIDATES],
    ys: [[f32; 8]; CANDIDATES],
    labels: [[u32; 8]; CANDIDATES],
}

/// The four (state, subset) branches entering each state, from [`next_state`], fixed at
/// compile time so the add-compare-select loop has constant indices. Branch `j` into state
/// `ns` comes from state `2j + ns / 4` (states 0–3 from the even ones, 4–7 from the odd
/// ones, in order), which [`Step::back`] relies on; checked as the table is built.
const PRED: [[(u8, u8); 4]; STATES] = {
    let mut pred = [[(0u8, 0u8); 4]; STATES];
    let mut count = [0usize; STATES];
    let mut s = 0;
    while s < STATES {
        let mut y = 0;
        while y < 4 {
            let ns = next_state(s as u8, y as u8) as usize;
            assert!(count[ns] < 4, "every state has four branches in");
            pred[ns][count[ns]] = (s as u8, (s as u8 & 1) | ((y as u8) << 1));
            count[ns] += 1;
            y += 1;
        }
        s += 1;
    }
    let mut ns = 0;
    while ns < STATES {
        let mut j = 0;
        while j < 4 {
            assert!(pred[ns][j].0 as usize == 2 * j + ns / 4);
            j += 1;
        }
        ns += 1;
    }
    pred
};

/// The nearest candidate of each subset in `cell` to `r`: squared distances and labels.
/// Eight subsets side by side, candidates one after the other; ties keep the first. The
/// reference for [`search_cell_sse2`].
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn search_cell(cell: &Cell, r: Complex32) -> ([f32; 8], [u8; 8]) {
    let mut dist = [f32::MAX; 8];
    let mut lab = [0u8; 8];
    for k in 0..CANDIDATES {
        for sub in 0..8 {
            let dx = r.re - cell.xs[k][sub];
            let dy = r.im - cell.ys[k][sub];
            let d = dx * dx + dy * dy;
            if d < dist[sub] {
                dist[sub] = d;
                lab[sub] = cell.labels[k][sub] as u8;
            }
        }
    }
    (dist, lab)
}

/// [`search_cell`] four subsets per instruction (SSE2, present on every x86-64). The same
/// operations in the same order per subset, so the same bits.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn search_cell_sse2(cell: &Cell, r: Complex32) -> ([f32; 8], [u8; 8]) {
    use std::arch::x86_64::*;
    // SAFETY: SSE2 is part of the x86-64 baseline; every load and store is unaligned-safe
    // and within the fixed-size arrays it names (offsets 0 and 4 of eight).
    unsafe {
        let rx = _mm_set1_ps(r.re);
        let ry = _mm_set1_ps(r.im);
        let mut dist = [_mm_set1_ps(f32::MAX); 2];
        let mut lab = [_mm_setzero_ps(); 2];
        // Rows past `rows` repeat the last candidate, which never wins: skipped.
        for k in 0..cell.rows.min(CANDIDATES) {
            for h in 0..2 {
                let xs = _mm_loadu_ps(cell.xs[k].as_ptr().add(4 * h));
                let ys = _mm_loadu_ps(cell.ys[k].as_ptr().add(4 * h));
                let ls = _mm_castsi128_ps(_mm_loadu_si128(
                    cell.labels[k].as_ptr().add(4 * h) as *const __m128i
                ));
                let dx = _mm_sub_ps(rx, xs);
                let dy = _mm_sub_ps(ry, ys);
                let d = _mm_add_ps(_mm_mul_ps(dx, dx), _mm_mul_ps(dy, dy));
                let better = _mm_cmplt_ps(d, dist[h]);
                dist[h] = _mm_or_ps(_mm_and_ps(better, d), _mm_andnot_ps(better, dist[h]));
                lab[h] = _mm_or_ps(_mm_and_ps(better, ls), _mm_andnot_ps(better, lab[h]));
            }
        }
        let mut d = [0f32; 8];
        _mm_storeu_ps(d.as_mut_ptr(), dist[0]);
        _mm_storeu_ps(d.as_mut_ptr().add(4), dist[1]);
        (
            d,
            pack_labels(_mm_castps_si128(lab[0]), _mm_castps_si128(lab[1])),
        )
    }
}

/// [`search_cell_sse2`] with all eight subsets in one AVX register: the same operations
/// per subset, so the same bits.
///
/// # Safety
/// The processor must have AVX (the caller runs in the AVX2 compilation, see
/// [`crate::simd`]).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn search_cell_avx(cell: &Cell, r: Complex32) -> ([f32; 8], [u8; 8]) {
    use std::arch::x86_64::*;
    // SAFETY: AVX is present (the caller's contract); every load and store covers one
    // whole eight-element array it names.
    unsafe {
        let rx = _mm256_set1_ps(r.re);
        let ry = _mm256_set1_ps(r.im);
        let mut dist = _mm256_set1_ps(f32::MAX);
        let mut lab = _mm256_setzero_ps();
        // Rows past `rows` repeat the last candidate, which never wins: skipped.
        for k in 0..cell.rows.min(CANDIDATES) {
            let dx = _mm256_sub_ps(rx, _mm256_loadu_ps(cell.xs[k].as_ptr()));
            let dy = _mm256_sub_ps(ry, _mm256_loadu_ps(cell.ys[k].as_ptr()));
            let d = _mm256_add_ps(_mm256_mul_ps(dx, dx), _mm256_mul_ps(dy, dy));
            let better = _mm256_cmp_ps::<_CMP_LT_OQ>(d, dist);
            let ls = _mm256_loadu_ps(cell.labels[k].as_ptr() as *const f32);
            dist = _mm256_blendv_ps(dist, d, better);
            lab = _mm256_blendv_ps(lab, ls, better);
        }
        let mut d = [0f32; 8];
        _mm256_storeu_ps(d.as_mut_ptr(), dist);
        let lab = _mm256_castps_si256(lab);
        (
            d,
            pack_labels(
                _mm256_castsi256_si128(lab),
                _mm256_extracti128_si256::<1>(lab),
            ),
        )
    }
}

/// Eight labels (below 2^15), four 32-bit lanes in each of `lo` and `hi`, as bytes, packed
/// in registers: stored one byte at a time and read back as the eight-byte step of the
/// survivor history, they made that read wait for all eight stores.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn pack_labels(lo: std::arch::x86_64::__m128i, hi: std::arch::x86_64::__m128i) -> [u8; 8] {
    use std::arch::x86_64::*;
    // SAFETY: SSE2 is part of the x86-64 baseline; register operations only.
    unsafe {
        let words = _mm_packs_epi32(lo, hi);
        let bytes = _mm_packus_epi16(words, words);
        (_mm_cvtsi128_si64(bytes) as u64).to_le_bytes()
    }
}

/// One symbol of survivor history: for each state the branch taken into it (its index in
/// [`PRED`]), and the nearest point's label in each subset.
#[derive(Debug, Clone, Copy, Default)]
struct Step {
    branch: [u8; STATES],
    labels: [u8; 8],
}

impl Step {
    /// The predecessor of `state` on its survivor, and the label of the branch.
    #[inline]
    fn back(&self, state: usize) -> (usize, u8) {
        // The masks keep every index in range without a check (states are 0..8, branches
        // 0..4, subsets 0..8 already).
        let state = state & (STATES - 1);
        // The branch from the eight read at once and a shift, and the predecessor by
        // arithmetic (see PRED): a traceback is a chain of these, one step waiting for the
        // last, and two table reads per step made it the longest wait of the receiver.
        let b = (u64::from_le_bytes(self.branch) >> (8 * state)) as usize & 3;
        let prev = 2 * b + (state >> 2);
        let sub = PRED[state][b].1;
        (prev, self.labels[sub as usize & 7])
    }
}

/// Add-compare-select for one symbol: from the path `metrics` and the subset distances
/// `dist`, the new metrics and the branch chosen into each state (ties keep the first of
/// [`PRED`]). The reference for [`acs_sse2`].
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn acs(metrics: &[f32; STATES], dist: &[f32; 8]) -> ([f32; STATES], [u8; STATES]) {
    let mut newm = [0f32; STATES];
    let mut branch = [0u8; STATES];
    for ns in 0..STATES {
        let mut best = f32::MAX;
        for (j, &(s, sub)) in PRED[ns].iter().enumerate() {
            let c = metrics[s as usize] + dist[sub as usize];
            if c < best {
                best = c;
                branch[ns] = j as u8;
            }
        }
        newm[ns] = best;
    }
    (newm, branch)
}

/// [`acs`] four states per instruction (SSE2). States 0–3 are entered from the even states
/// through the even subsets, states 4–7 from the odd ones through the odd subsets, each
/// subset in a fixed lane order ([`PRED`]), so constant shuffles line the distances up.
/// The same additions and comparisons per state, so the same bits.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn acs_sse2(metrics: &[f32; STATES], dist: &[f32; 8]) -> ([f32; STATES], [u8; STATES]) {
    use std::arch::x86_64::*;
    // The lane order of the distances for branch j into states 4g..4g+4, as positions in
    // [D0 D2 D4 D6] (g = 0) or [D1 D3 D5 D7] (g = 1); checked against PRED in the tests.
    const fn sel(a: i32, b: i32, c: i32, d: i32) -> i32 {
        a | (b << 2) | (c << 4) | (d << 6)
    }
    // SAFETY: SSE2 is part of the x86-64 baseline; loads and stores stay within the fixed
    // arrays they name.
    unsafe {
        let m_lo = _mm_loadu_ps(metrics.as_ptr());
        let m_hi = _mm_loadu_ps(metrics.as_ptr().add(4));
        let d_lo = _mm_loadu_ps(dist.as_ptr());
        let d_hi = _mm_loadu_ps(dist.as_ptr().add(4));
        // Even and odd halves: [x0 x2 x4 x6] and [x1 x3 x5 x7].
        let me = _mm_shuffle_ps::<{ sel(0, 2, 0, 2) }>(m_lo, m_hi);
        let mo = _mm_shuffle_ps::<{ sel(1, 3, 1, 3) }>(m_lo, m_hi);
        let de = _mm_shuffle_ps::<{ sel(0, 2, 0, 2) }>(d_lo, d_hi);
        let dodd = _mm_shuffle_ps::<{ sel(1, 3, 1, 3) }>(d_lo, d_hi);
        macro_rules! group {
            ($m:expr, $d:expr, $p0:expr, $p1:expr, $p2:expr, $p3:expr) => {{
                let c0 = _mm_add_ps(
                    _mm_shuffle_ps::<0x00>($m, $m),
                    _mm_shuffle_ps::<$p0>($d, $d),
                );
                let c1 = _mm_add_ps(
                    _mm_shuffle_ps::<0x55>($m, $m),
                    _mm_shuffle_ps::<$p1>($d, $d),
                );
                let c2 = _mm_add_ps(
                    _mm_shuffle_ps::<0xaa>($m, $m),
                    _mm_shuffle_ps::<$p2>($d, $d),
                );
                let c3 = _mm_add_ps(
                    _mm_shuffle_ps::<0xff>($m, $m),
                    _mm_shuffle_ps::<$p3>($d, $d),
                );
                let mut best = c0;
                let mut j = _mm_setzero_si128();
                for (k, c) in [(1, c1), (2, c2), (3, c3)] {
                    let better = _mm_castps_si128(_mm_cmplt_ps(c, best));
                    best = _mm_min_ps(c, best);
                    let kv = _mm_set1_epi32(k);
                    j = _mm_or_si128(_mm_and_si128(better, kv), _mm_andnot_si128(better, j));
                }
                (best, j)
            }};
        }
        let (n_lo, j_lo) = group!(
            me,
            de,
            { sel(0, 3, 1, 2) },
            { sel(3, 0, 2, 1) },
            { sel(1, 2, 0, 3) },
            { sel(2, 1, 3, 0) }
        );
        let (n_hi, j_hi) = group!(
            mo,
            dodd,
            { sel(0, 1, 3, 2) },
            { sel(1, 0, 2, 3) },
            { sel(2, 3, 1, 0) },
            { sel(3, 2, 0, 1) }
        );
        let mut newm = [0f32; STATES];
        _mm_storeu_ps(newm.as_mut_ptr(), n_lo);
        _mm_storeu_ps(newm.as_mut_ptr().add(4), n_hi);
        let packed = _mm_packus_epi16(_mm_packs_epi32(j_lo, j_hi), _mm_setzero_si128());
        let mut branch = [0u8; STATES];
        _mm_storel_epi64(branch.as_mut_ptr() as *mut __m128i, packed);
        (newm, branch)
    }
}

/// Keeps the path metrics small (only differences matter): each less the smallest, and the
/// best state, the first with the smallest metric. NaN metrics (from a NaN symbol) take no
/// part in the minimum. The reference for [`normalise_sse2`].
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn normalise(newm: &[f32; STATES]) -> ([f32; STATES], usize) {
    let min = newm.iter().fold(f32::MAX, |a, &m| a.min(m));
    let best = newm.iter().position(|&m| m == min).unwrap_or(0);
    (newm.map(|m| m - min), best)
}

/// [`normalise`] four states per instruction: NaNs replaced by `f32::MAX` (the fold's
/// start, which also takes part) before a tree of minima, which for numbers is exact in
/// any order.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn normalise_sse2(newm: &[f32; STATES]) -> ([f32; STATES], usize) {
    use std::arch::x86_64::*;
    // SAFETY: SSE2 is part of the x86-64 baseline; loads and stores stay within the fixed
    // arrays they name.
    unsafe {
        let lo = _mm_loadu_ps(newm.as_ptr());
        let hi = _mm_loadu_ps(newm.as_ptr().add(4));
        let max = _mm_set1_ps(f32::MAX);
        let clean = |v: __m128| {
            let ord = _mm_cmpord_ps(v, v);
            _mm_or_ps(_mm_and_ps(ord, v), _mm_andnot_ps(ord, max))
        };
        // The fold's start takes part too (it wins over infinities).
        let m = _mm_min_ps(_mm_min_ps(clean(lo), clean(hi)), max);
        let m = _mm_min_ps(m, _mm_shuffle_ps::<0b01_00_11_10>(m, m));
        let min = _mm_min_ps(m, _mm_shuffle_ps::<0b10_11_00_01>(m, m));
        let eq =
            _mm_movemask_ps(_mm_cmpeq_ps(lo, min)) | (_mm_movemask_ps(_mm_cmpeq_ps(hi, min)) << 4);
        let best = if eq == 0 {
            0
        } else {
            eq.trailing_zeros() as usize
        };
        let mut out = [0f32; STATES];
        _mm_storeu_ps(out.as_mut_ptr(), _mm_sub_ps(lo, min));
        _mm_storeu_ps(out.as_mut_ptr().add(4), _mm_sub_ps(hi, min));
        (out, best)
    }
}

/// The constellation's tables, built once per constellation and shared by every decoder
/// for it (a fax call makes several receivers; building the grid costs more than decoding a
/// second of signal).
#[derive(Debug)]
struct Tables {
    /// Points grouped by subset, `per_subset` each: the k-th point of subset `s` is at
    /// `s * per_subset + k`, its label `s + 8 k`. Separate coordinate arrays let the distance
    /// loop vectorise.
    xs: Vec<f32>,
    ys: Vec<f32>,
    per_subset: usize,
    /// A unit grid over the constellation: for each cell, the points that can be each
    /// subset's nearest to some place in the cell (at most [`CANDIDATES`] per subset, padded
    /// by repeating the last one), so the search has a fixed shape and no branches.
    cells: Vec<Cell>,
    grid_lo: f32,
    grid_n: usize,
}

impl Tables {
    fn build(points: &[Complex32]) -> Self {
        let per_subset = points.len() / 8;
        let mut xs = vec![0f32; points.len()];
        let mut ys = vec![0f32; points.len()];
        for (label, &p) in points.iter().enumerate() {
            let i = (label & 7) * per_subset + (label >> 3);
            xs[i] = p.re;
            ys[i] = p.im;
        }
        // The candidate grid: a point is kept for a cell if its nearest distance to the cell
        // is no more than the smallest farthest distance of any point of the subset, so the
        // true nearest point is always among the candidates.
        let reach = xs
            .iter()
            .chain(&ys)
            .fold(0f32, |m, &v| m.max(v.abs()))
            .ceil()
            + 3.0;
        let grid_lo = -reach;
        let grid_n = (2.0 * reach) as usize;
        let mut cells = Vec::with_capacity(grid_n * grid_n);
        for cy in 0..grid_n {
            for cx in 0..grid_n {
                let (x0, y0) = (grid_lo + cx as f32, grid_lo + cy as f32);
                let (x1, y1) = (x0 + 1.0, y0 + 1.0);
                let mut cell = Cell {
                    rows: 1,
                    xs: [[0.0; 8]; CANDIDATES],
                    ys: [[0.0; 8]; CANDIDATES],
                    labels: [[0; 8]; CANDIDATES],
                };
                for sub in 0..8 {
                    let idx = sub * per_subset..(sub + 1) * per_subset;
                    let near = |i: usize| {
                        let dx = (x0 - xs[i]).max(xs[i] - x1).max(0.0);
                        let dy = (y0 - ys[i]).max(ys[i] - y1).max(0.0);
                        dx * dx + dy * dy
                    };
                    let far = |i: usize| {
                        let dx = (xs[i] - x0).abs().max((xs[i] - x1).abs());
                        let dy = (ys[i] - y0).abs().max((ys[i] - y1).abs());
                        dx * dx + dy * dy
                    };
                    let bound = idx.clone().map(far).fold(f32::MAX, f32::min);
                    let mut found = 0;
                    for i in idx.filter(|&i| near(i) <= bound) {
                        assert!(found < CANDIDATES, "more candidates than the grid holds");
                        for k in found..CANDIDATES {
                            // Repeats of the last candidate never win over it (ties keep
                            // the first), so the padding changes nothing.
                            cell.xs[k][sub] = xs[i];
                            cell.ys[k][sub] = ys[i];
                            cell.labels[k][sub] = (sub + 8 * (i - sub * per_subset)) as u32;
                        }
                        found += 1;
                    }
                    assert!(found > 0, "every subset has a nearest point");
                    cell.rows = cell.rows.max(found);
                }
                cells.push(cell);
            }
        }
        Tables {
            xs,
            ys,
            per_subset,
            cells,
            grid_lo,
            grid_n,
        }
    }

    /// The tables for `points`, built on first use (the V.17 rates need four).
    fn shared(points: &[Complex32]) -> Arc<Tables> {
        type Cache = Mutex<Vec<(Vec<[u32; 2]>, Arc<Tables>)>>;
        static CACHE: OnceLock<Cache> = OnceLock::new();
        let key: Vec<[u32; 2]> = points
            .iter()
            .map(|p| [p.re.to_bits(), p.im.to_bits()])
            .collect();
        let cache = CACHE.get_or_init(|| Mutex::new(Vec::new()));
        let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, t)) = cache.iter().find(|(k, _)| *k == key) {
            return Arc::clone(t);
        }
        let t = Arc::new(Tables::build(points));
        // A handful of constellations at most; a caller inventing new ones forever would
        // only rebuild (the cache stops growing).
        if cache.len() < 16 {
            cache.push((key, Arc::clone(&t)));
        }
        t
    }
}

/// Soft-decision Viterbi decoder for the V.17 trellis code over a labelled constellation.
///
/// Each received symbol is compared with the nearest point of every subset (squared
/// Euclidean distance); path metrics are kept for the eight states and the label on the best
/// path `depth` symbols back is released.
#[derive(Debug, Clone)]
pub struct Viterbi {
    tables: Arc<Tables>,
    /// Squared distances of the current symbol to every point (scratch, no allocation).
    dists: Vec<f32>,
    depth: usize,
    metrics: [f32; STATES],
    /// Ring of `depth + BATCH` steps of survivors.
    hist: Vec<Step>,
    /// Decisions of the last traceback, oldest first, and how many have been handed out.
    queue: [u8; BATCH],
    taken: usize,
    head: usize,
    filled: usize,
    best: u8,
}

impl Viterbi {
    /// A decoder for `points` (indexed by label) with a traceback of `depth` symbols.
    pub fn new(points: &[Complex32], depth: usize) -> Self {
        assert!(points.len() >= 8 && points.len().is_power_of_two());
        assert!(depth >= 2);
        Viterbi {
            tables: Tables::shared(points),
            dists: vec![0f32; points.len()],
            depth,
            metrics: [0.0; STATES],
            hist: vec![Step::default(); depth + BATCH],
            queue: [0; BATCH],
            taken: BATCH,
            head: 0,
            filled: 0,
            best: 0,
        }
    }

    /// Forgets all history: every state equally likely.
    pub fn reset(&mut self) {
        self.metrics = [0.0; STATES];
        self.head = 0;
        self.filled = 0;
        self.taken = BATCH;
        self.best = 0;
    }

    /// Traceback depth in symbols.
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// Adds one received symbol. Once `depth + BATCH` symbols have been seen, returns one
    /// decided label per call, in order, each at least `depth` symbols old.
    #[inline]
    pub fn push(&mut self, r: Complex32) -> Option<u8> {
        self.push_v::<false>(r)
    }

    /// [`Viterbi::push`] in the baseline or (`AVX`) the AVX2 compilation of the receiver's
    /// hot path, see [`crate::simd`]; `AVX` is true only inside a function compiled for AVX2.
    #[inline(always)]
    pub(crate) fn push_v<const AVX: bool>(&mut self, r: Complex32) -> Option<u8> {
        let (dist, labels) = self.subset_nearest::<AVX>(r);
        #[cfg(target_arch = "x86_64")]
        let (newm, branch) = acs_sse2(&self.metrics, &dist);
        #[cfg(not(target_arch = "x86_64"))]
        let (newm, branch) = acs(&self.metrics, &dist);
        #[cfg(target_arch = "x86_64")]
        let (metrics, best) = normalise_sse2(&newm);
        #[cfg(not(target_arch = "x86_64"))]
        let (metrics, best) = normalise(&newm);
        self.metrics = metrics;
        self.best = best as u8;
        let ring = self.hist.len();
        self.head = if self.head + 1 == ring {
            0
        } else {
            self.head + 1
        };
        self.hist[self.head] = Step { branch, labels };
        if self.filled < ring {
            self.filled += 1;
            if self.filled < ring {
                return None;
            }
        }
        if self.taken == BATCH {
            self.trace_back(best);
        }
        self.taken += 1;
        Some(self.queue[self.taken - 1])
    }

    /// Traces back from `state` once per BATCH symbols and keeps the BATCH oldest decisions
    /// (between depth and depth + BATCH - 1 symbols old).
    fn trace_back(&mut self, state: usize) {
        // Newest first: hist[head] down to hist[0], then hist[ring - 1] down to
        // hist[head + 1]. The first `depth` steps only lead back; each older one gives a
        // decision, the oldest into queue[0].
        let (newer, older) = self.hist.split_at(self.head + 1);
        let mut steps = newer.iter().rev().chain(older.iter().rev());
        let mut s = state;
        for step in steps.by_ref().take(self.depth) {
            s = step.back(s).0;
        }
        for (slot, step) in self.queue.iter_mut().rev().zip(steps) {
            let (prev, label) = step.back(s);
            *slot = label;
            s = prev;
        }
        self.taken = 0;
    }

    /// The nearest point of each subset to `r`: squared distances and labels. Uses the
    /// candidate grid when `r` is on it (nearly always), else every point.
    #[inline(always)]
    fn subset_nearest<const AVX: bool>(&mut self, r: Complex32) -> ([f32; 8], [u8; 8]) {
        let t = &*self.tables;
        // Offsets into the grid; on it they are not negative, so truncation is the floor.
        let fx = r.re - t.grid_lo;
        let fy = r.im - t.grid_lo;
        let n = t.grid_n as f32;
        if !(fx >= 0.0 && fy >= 0.0 && fx < n && fy < n) {
            return self.subset_nearest_all(r);
        }
        // SAFETY: both are finite and in [0, n) (checked above), within u32's range.
        let (gx, gy) = unsafe {
            (
                fx.to_int_unchecked::<u32>() as usize,
                fy.to_int_unchecked::<u32>() as usize,
            )
        };
        if gx >= t.grid_n || gy >= t.grid_n {
            // A value a hair below `n` can round up to it.
            return self.subset_nearest_all(r);
        }
        let cell = &t.cells[gy * t.grid_n + gx];
        #[cfg(target_arch = "x86_64")]
        let (dist, lab) = if AVX {
            // SAFETY: `AVX` is true only in the AVX2 compilation, entered after checking
            // the processor (crate::simd).
            unsafe { search_cell_avx(cell, r) }
        } else {
            search_cell_sse2(cell, r)
        };
        #[cfg(not(target_arch = "x86_64"))]
        let (dist, lab) = search_cell(cell, r);
        (dist, lab)
    }

    /// [`Viterbi::subset_nearest`] by measuring the distance to every point.
    fn subset_nearest_all(&mut self, r: Complex32) -> ([f32; 8], [u8; 8]) {
        let t = &*self.tables;
        let mut dist = [f32::MAX; 8];
        let mut lab = [0u8; 8];
        for ((d, &x), &y) in self.dists.iter_mut().zip(&t.xs).zip(&t.ys) {
            let dx = r.re - x;
            let dy = r.im - y;
            *d = dx * dx + dy * dy;
        }
        for (s, chunk) in self.dists.chunks_exact(t.per_subset).enumerate() {
            let bd = chunk.iter().fold(f32::MAX, |a, &d| a.min(d));
            let bk = chunk.iter().position(|&d| d == bd).unwrap_or(0);
            dist[s] = bd;
            lab[s] = (s + 8 * bk) as u8;
        }
        (dist, lab)
    }

    /// The label on the best path for the newest symbol (a tentative decision).
    #[inline]
    pub fn newest(&self) -> u8 {
        self.hist[self.head].back(self.best as usize).1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> u32 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (self.0 >> 33) as u32
        }
        fn gauss(&mut self) -> f32 {
            // Box-Muller from two uniforms.
            let u1 = (self.next() as f32 + 1.0) / 2_147_483_649.0;
            let u2 = self.next() as f32 / 2_147_483_648.0;
            (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
        }
    }

    /// Symbol error counts (Viterbi, plain nearest-point slicing) at symbol SNR `snr_db`.
    fn run(points: &[Complex32], snr_db: f32, n: usize, seed: u64) -> (usize, usize) {
        let power = points.iter().map(|p| p.norm_sqr()).sum::<f32>() / points.len() as f32;
        let sigma = (power / 10f32.powf(snr_db / 10.0) / 2.0).sqrt();
        let mut rng = Lcg(seed);
        let mut enc = TrellisEncoder::new();
        let mut vit = Viterbi::new(points, 24);
        let uncoded = points.len() / 8;
        let mut sent = vec![];
        let mut vit_err = 0;
        let mut raw_err = 0;
        let mut out = 0;
        for _ in 0..n {
            let r = rng.next();
            let sub = enc.encode((r & 3) as u8);
            let label = sub as usize | (((r >> 2) as usize % uncoded) << 3);
            sent.push(label as u8);
            let p = points[label];
            let rx = p + Complex32::new(rng.gauss() * sigma, rng.gauss() * sigma);
            let nearest = (0..points.len())
                .min_by(|&a, &b| {
                    (rx - points[a])
                        .norm_sqr()
                        .total_cmp(&(rx - points[b]).norm_sqr())
                })
                .unwrap();
            raw_err += (nearest != label) as usize;
            if let Some(l) = vit.push(rx) {
                vit_err += (l != sent[out]) as usize;
                out += 1;
            }
        }
        (vit_err, raw_err)
    }

    #[test]
    fn candidate_grid_finds_the_nearest_points() {
        for rate in [7200, 9600, 12000, 14400] {
            let pts = crate::v17::constellation(rate).unwrap();
            let mut vit = Viterbi::new(&pts, 16);
            let mut rng = Lcg(rate as u64);
            for _ in 0..100_000 {
                let r = Complex32::new(
                    rng.next() as f32 / 2_147_483_648.0 * 30.0 - 15.0,
                    rng.next() as f32 / 2_147_483_648.0 * 30.0 - 15.0,
                );
                let (d1, l1) = vit.subset_nearest::<false>(r);
                let (d2, l2) = vit.subset_nearest_all(r);
                assert_eq!(d1, d2, "{rate} at {r}");
                assert_eq!(l1, l2, "{rate} at {r}");
            }
        }
    }

    /// The vector search gives the bits of the scalar reference in every cell.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn vector_cell_search_matches_scalar() {
        let pts = crate::v17::constellation(14400).unwrap();
        let vit = Viterbi::new(&pts, 16);
        let mut rng = Lcg(5);
        for cell in &vit.tables.cells {
            for _ in 0..20 {
                let r = Complex32::new(
                    rng.next() as f32 / 2_147_483_648.0 * 30.0 - 15.0,
                    rng.next() as f32 / 2_147_483_648.0 * 30.0 - 15.0,
                );
                let (d1, l1) = search_cell(cell, r);
                let (d2, l2) = search_cell_sse2(cell, r);
                assert_eq!(d1.map(f32::to_bits), d2.map(f32::to_bits));
                assert_eq!(l1, l2);
                if crate::simd::avx2_available() {
                    // SAFETY: AVX2 (and so AVX) is present, checked just now.
                    let (d3, l3) = unsafe { search_cell_avx(cell, r) };
                    assert_eq!(d1.map(f32::to_bits), d3.map(f32::to_bits));
                    assert_eq!(l1, l3);
                }
            }
        }
    }

    /// The vector normalisation gives the reference's metrics and best state, with ties,
    /// NaNs, infinities and all-NaN metrics.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn vector_normalise_matches_scalar() {
        let mut rng = Lcg(23);
        let specials = [f32::NAN, f32::INFINITY, f32::MAX, 0.0, 1.5];
        for case in 0..4000 {
            let mut m = [0f32; STATES];
            for v in m.iter_mut() {
                let r = rng.next();
                *v = match (r >> 4) % 8 {
                    // Ties are common in real metrics (zeros after normalising).
                    0 | 1 => specials[(r % 5) as usize],
                    _ => ((r >> 8) % 64) as f32 * 0.25,
                };
            }
            match case {
                0 => m = [f32::NAN; STATES],
                1 => m = [f32::INFINITY; STATES],
                2 => m[..4].fill(f32::INFINITY),
                _ => {}
            }
            let (a, ba) = normalise(&m);
            let (b, bb) = normalise_sse2(&m);
            assert_eq!(a.map(f32::to_bits), b.map(f32::to_bits), "{m:?}");
            assert_eq!(ba, bb, "{m:?}");
        }
    }

    /// The vector add-compare-select gives the bits of the scalar reference, ties included.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn vector_acs_matches_scalar() {
        let mut rng = Lcg(11);
        for round in 0..20_000 {
            let mut m = [0f32; STATES];
            let mut d = [0f32; 8];
            // Small integers make ties common; fractions cover the rest.
            let coarse = round % 2 == 0;
            let mut draw = || {
                let u = rng.next() as f32 / 2_147_483_648.0 * 8.0;
                if coarse { u.floor() } else { u }
            };
            m.iter_mut().for_each(|v| *v = draw());
            d.iter_mut().for_each(|v| *v = draw());
            let (n1, b1) = acs(&m, &d);
            let (n2, b2) = acs_sse2(&m, &d);
            assert_eq!(n1.map(f32::to_bits), n2.map(f32::to_bits), "{m:?} {d:?}");
            assert_eq!(b1, b2, "{m:?} {d:?}");
        }
    }

    #[test]
    fn encoder_is_rotation_invariant() {
        // A quarter turn of the constellation adds 1 to every Y1 Y2 (they are differentially
        // encoded) and flips Y0. For every turn there must be a starting state from which the
        // encoder, fed the rotated inputs, produces exactly the rotated Y0 sequence: then a
        // rotated signal is still a valid code sequence and the decoder need not know the
        // absolute phase.
        let mut rng = Lcg(3);
        let ys: Vec<u8> = (0..2000).map(|_| (rng.next() & 3) as u8).collect();
        for turn in 1..4u8 {
            let matches = (0..STATES as u8)
                .filter(|&start| {
                    let mut a = TrellisEncoder::new();
                    let mut b = TrellisEncoder::new();
                    b.set_state(start);
                    ys.iter()
                        .all(|&y| a.encode(y) & 1 ^ (turn & 1) == b.encode((y + turn) & 3) & 1)
                })
                .count();
            assert_eq!(matches, 1, "turn {turn}");
        }
        // Without the right start state the sequences disagree (the test can fail).
        let mut a = TrellisEncoder::new();
        let mut b = TrellisEncoder::new();
        assert!(
            ys.iter()
                .any(|&y| a.encode(y) & 1 != b.encode((y + 1) & 3) & 1)
        );
    }

    #[test]
    fn noiseless_decoding_is_exact() {
        for rate in [7200, 9600, 12000, 14400] {
            let pts = &crate::v17::constellation(rate).unwrap();
            assert_eq!(run(pts, 80.0, 5000, 1).0, 0, "{rate}");
        }
    }

    #[test]
    fn coding_gain_over_uncoded() {
        // 14400's 128 points at 22 dB symbol SNR: nearest-point slicing gets about one
        // symbol in eleven wrong, the Viterbi decoder fewer than one in two thousand.
        let pts = &crate::v17::constellation(14400).unwrap();
        let (vit, raw) = run(pts, 22.0, 100_000, 5);
        assert!(raw > 2000, "raw {raw}");
        assert!(vit * 50 < raw, "viterbi {vit} raw {raw}");
        // Error-free at a moderate SNR.
        assert_eq!(run(pts, 25.0, 100_000, 6).0, 0);
        // 7200's 16 points: two per subset, far apart.
        let pts = crate::v17::constellation(7200).unwrap();
        assert_eq!(run(&pts, 16.0, 100_000, 7).0, 0);
    }
}
