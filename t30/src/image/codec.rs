//! T.4 (MH, MR) and T.6 (MMR) encoding and decoding.
//!
//! Rows are handled as lists of *changing elements* (positions where the colour changes,
//! starting from an imaginary white pel left of the row), the form both the 1-D run
//! lengths and the 2-D modes of T.4 §4.2 are defined on.
//!
//! The G3 (MH/MR) decoder is the one a non-ECM receiver needs: it is fed bits as they come
//! off the line, finds EOLs, decodes each row on its own, and when a row is corrupt (an
//! invalid code, a row longer or shorter than the page width) it conceals it by repeating
//! the last good row and resynchronises at the next EOL. In MR, a 2-D row coded against a
//! concealed row cannot be trusted either, so every 2-D row up to the next 1-D row is
//! counted bad too (that is what the K parameter of T.4 bounds).

use super::bits::{BitReader, BitWriter};
use super::tables::{EOL, LOOKUP_BITS, Mode, decode_mode, mode_code, run_codes, run_lookup};
use super::{Bitmap, ImageError, MAX_HEIGHT, MAX_WIDTH, Resolution};

/// The coding scheme of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Coding {
    /// T.4 one-dimensional (Modified Huffman).
    Mh,
    /// T.4 two-dimensional (Modified READ) with parameter K (a 1-D row every K rows).
    Mr {
        /// K: 2 at standard resolution, 4 at fine and above (T.4 §4.2.1).
        k: u8,
    },
    /// T.6 (Modified Modified READ), used with ECM.
    Mmr,
}

impl Coding {
    /// The K that T.4 prescribes for MR at a resolution (2 at 3.85 lines/mm, 4 above).
    pub fn mr_for(resolution: Resolution) -> Coding {
        let k = if resolution.y_dpi() <= 100 { 2 } else { 4 };
        Coding::Mr { k }
    }

    /// Short name: "MH", "MR", "MMR".
    pub fn name(self) -> &'static str {
        match self {
            Coding::Mh => "MH",
            Coding::Mr { .. } => "MR",
            Coding::Mmr => "MMR",
        }
    }
}

/// Options of the encoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncodeOptions {
    /// Coding scheme.
    pub coding: Coding,
    /// Minimum bits per coded scan line (data + fill + EOL), from the negotiated minimum
    /// scan-line time: see [`min_row_bits`]. Ignored for MMR.
    pub min_row_bits: u32,
    /// Pad before each EOL so it ends on a byte boundary (TIFF T4Options bit 2).
    pub align_eol: bool,
    /// End the page with RTC (six EOLs; G3) or EOFB (MMR).
    pub end_of_page: bool,
}

impl EncodeOptions {
    /// Options for a page sent on the line: RTC/EOFB, no fill, no alignment.
    pub fn line(coding: Coding) -> Self {
        Self {
            coding,
            min_row_bits: 0,
            align_eol: false,
            end_of_page: true,
        }
    }

    /// Options for a TIFF strip: no RTC for G3 (TIFF-F wants none), EOFB for MMR (as libtiff
    /// writes it).
    pub fn tiff(coding: Coding) -> Self {
        Self {
            coding,
            min_row_bits: 0,
            align_eol: false,
            end_of_page: coding == Coding::Mmr,
        }
    }
}

/// The bits a scan line must at least occupy to last `min_ms` milliseconds at `bit_rate`
/// bits per second (T.30 minimum scan-line time: 0, 5, 10, 20 or 40 ms).
pub fn min_row_bits(bit_rate: u32, min_ms: u32) -> u32 {
    ((bit_rate as u64 * min_ms as u64).div_ceil(1000)) as u32
}

/// Where one coded row lies in an encoded page, in bits from the start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowSpan {
    /// First bit of the row (its leading EOL in G3; its first code in MMR).
    pub start: usize,
    /// First bit of the row's image data (after EOL and tag bit).
    pub data_start: usize,
    /// One past the last bit of the row's data.
    pub data_end: usize,
    /// One past the row's last bit, fill included.
    pub end: usize,
}

/// A coded page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedPage {
    /// Coded bits, MSB first, zero-padded to a byte.
    pub data: Vec<u8>,
    /// Number of meaningful bits in `data`.
    pub bit_len: usize,
    /// Position of every row.
    pub rows: Vec<RowSpan>,
}

/// A decoded page with its damage statistics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedPage {
    /// The page, bad rows concealed.
    pub bitmap: Bitmap,
    /// Number of rows that were corrupt (and concealed).
    pub bad_rows: u32,
    /// Longest run of consecutive bad rows.
    pub longest_bad_run: u32,
    /// Indices of the bad rows.
    pub bad_row_list: Vec<u32>,
    /// True when the page ended with RTC (G3) or EOFB (MMR).
    pub end_of_page_seen: bool,
    /// True when rows beyond the row limit were dropped.
    pub truncated: bool,
    /// Longest total coded scan line seen, in bits from the end of one EOL to the end of the
    /// next (data + fill + EOL, tag bit included in MR); 0 for MMR. Divided by the bit rate
    /// it is the scan-line time a receiver checks against its 5 s limit.
    pub longest_line_bits: u64,
}

/// How a non-ECM receiver judges a received page from its bad rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyQuality {
    /// Under 5 % bad rows: confirm with MCF.
    Good,
    /// 5 % to under 15 %: accept, but ask for retraining (RTP).
    Poor,
    /// 15 % or more: reject (RTN).
    Bad,
}

impl DecodedPage {
    /// The page's copy quality by its bad-row percentage: < 5 % good (MCF), 5–15 % poor
    /// (RTP), ≥ 15 % bad (RTN).
    pub fn copy_quality(&self) -> CopyQuality {
        // Compare in integers (bad × 100 against 5 × rows) so 5 % exactly is "poor".
        let (bad, rows) = (self.bad_rows as u64 * 100, self.bitmap.height() as u64);
        if bad < 5 * rows {
            CopyQuality::Good
        } else if bad < 15 * rows {
            CopyQuality::Poor
        } else {
            CopyQuality::Bad
        }
    }

    /// Bad rows as a percentage of all rows (0 for an empty page).
    pub fn bad_row_percent(&self) -> f64 {
        if self.bitmap.height() == 0 {
            0.0
        } else {
            100.0 * self.bad_rows as f64 / self.bitmap.height() as f64
        }
    }
}

/// Changing elements of a packed row, followed by three sentinels equal to `width`.
///
/// Eight octets of one colour (most of a page) are passed over in one comparison; other
/// octets are scanned change by change.
pub(crate) fn row_changes(row: &[u8], width: u32, out: &mut Vec<u32>) {
    out.clear();
    // All ones while the current colour is black: `b ^ colour` marks the pels that differ.
    let mut colour = 0u8;
    let mut x = 0u32;
    let mut i = 0;
    while i < row.len() && x < width {
        if let Some(word) = row.get(i..i + 8) {
            let word = u64::from_be_bytes(word.try_into().expect("eight octets"));
            if word == colour as u64 * 0x0101_0101_0101_0101 {
                i += 8;
                x += 64;
                continue;
            }
        }
        let mut diff = row[i] ^ colour;
        while diff != 0 {
            let lead = diff.leading_zeros();
            let px = x + lead;
            if px >= width {
                break;
            }
            out.push(px);
            colour = !colour;
            // Past pel `lead` the differing pels are those equal to the old colour.
            diff = !diff & (0x7f >> lead);
        }
        i += 1;
        x += 8;
    }
    out.extend_from_slice(&[width, width, width]);
}

/// Set bits `[start, end)` of a packed row.
fn fill_bits(row: &mut [u8], start: u32, end: u32) {
    if start >= end {
        return;
    }
    let (s, e) = (start as usize, end as usize);
    let (first, last) = (s / 8, (e - 1) / 8);
    let head = 0xffu8 >> (s % 8);
    let tail = 0xffu8 << (7 - (e - 1) % 8);
    if first == last {
        row[first] |= head & tail;
    } else {
        row[first] |= head;
        row[first + 1..last].fill(0xff);
        row[last] |= tail;
    }
}

/// Packed row from changing elements (entries ≥ width are ignored).
pub(crate) fn pack_changes(changes: &[u32], width: u32, row: &mut [u8]) {
    row.fill(0);
    let mut i = 0;
    while i < changes.len() && changes[i] < width {
        let start = changes[i];
        let end = changes.get(i + 1).copied().unwrap_or(width).min(width);
        fill_bits(row, start, end);
        i += 2;
    }
}

fn put_run(w: &mut BitWriter, colour: usize, mut run: u32) {
    let codes = &run_codes()[colour];
    while run >= 2560 + 64 {
        let c = codes.makeup[39];
        w.put(c.bits as u32, c.len as u32);
        run -= 2560;
    }
    if run >= 64 {
        let c = codes.makeup[(run / 64 - 1) as usize];
        w.put(c.bits as u32, c.len as u32);
        run %= 64;
    }
    let c = codes.term[run as usize];
    w.put(c.bits as u32, c.len as u32);
}

fn put_mode(w: &mut BitWriter, m: Mode) {
    let c = mode_code(m);
    w.put(c.bits as u32, c.len as u32);
}

/// Encode one row 1-D from its changing elements (sentinel-terminated).
fn encode_1d(w: &mut BitWriter, cur: &[u32], width: u32) {
    let mut pos = 0;
    let mut colour = 0;
    let mut i = 0;
    loop {
        let next = cur[i].min(width);
        put_run(w, colour, next - pos);
        pos = next;
        if pos >= width {
            break;
        }
        colour ^= 1;
        i += 1;
    }
}

/// b1 and b2 of T.4 §4.2.1.3.1: the first changing element on the reference row right of
/// `a0` whose colour is opposite to a0's, and the next one. `hint` is where the last b1 was.
///
/// Changing elements of a colour sit at indices of one parity (even: white to black), so
/// b1 is the first element right of `a0` at an index of `colour`'s parity, and the search
/// steps two at a time from the last b1's neighbourhood.
#[inline]
fn find_b1(refc: &[u32], a0: i64, colour: usize, hint: &mut usize) -> (u32, u32) {
    let mut i = *hint ^ ((*hint ^ colour) & 1);
    while i >= 2 && refc[i - 2] as i64 > a0 {
        i -= 2;
    }
    while (refc[i] as i64) <= a0 {
        i += 2;
    }
    *hint = i;
    (refc[i], refc[i + 1])
}

/// How b1 and b2 are found (the search is swapped for the plain scan in tests).
type FindB1 = fn(&[u32], i64, usize, &mut usize) -> (u32, u32);

/// Encode one row 2-D against a reference row (both sentinel-terminated), finding b1 with
/// `find_b1`.
#[inline(always)]
fn encode_2d_with(w: &mut BitWriter, cur: &[u32], refc: &[u32], width: u32, find_b1: FindB1) {
    let mut a0: i64 = -1;
    let mut colour = 0usize;
    let mut ai = 0usize;
    let mut hint = 0usize;
    while a0 < width as i64 {
        let (b1, b2) = find_b1(refc, a0, colour, &mut hint);
        while (cur[ai] as i64) <= a0 {
            ai += 1;
        }
        let a1 = cur[ai];
        let a2 = cur[ai + 1];
        if b2 < a1 {
            put_mode(w, Mode::Pass);
            a0 = b2 as i64;
        } else {
            let d = a1 as i64 - b1 as i64;
            if (-3..=3).contains(&d) {
                put_mode(w, Mode::Vertical(d as i8));
                a0 = a1 as i64;
                colour ^= 1;
            } else {
                put_mode(w, Mode::Horizontal);
                let start = a0.max(0) as u32;
                put_run(w, colour, a1 - start);
                put_run(w, colour ^ 1, a2 - a1);
                a0 = a2 as i64;
            }
        }
    }
}

fn put_eol(w: &mut BitWriter, align: bool) {
    if align {
        let r = (w.bit_len() + 12) % 8;
        if r != 0 {
            w.put(0, (8 - r) as u32);
        }
    }
    w.put(EOL.bits as u32, EOL.len as u32);
}

/// Encode a page. G3 codings put an EOL (and in MR the tag bit) before every row and
/// fill after it to honour `min_row_bits`; MMR codes rows back to back.
pub fn encode_page(page: &Bitmap, opts: &EncodeOptions) -> EncodedPage {
    encode_page_with_fill(page, opts, &|_| opts.min_row_bits)
}

/// As [`encode_page`], with a minimum coded-line length chosen per row (`row_min_bits(y)`
/// replaces `opts.min_row_bits`): how a transmitter stretches chosen scan lines with fill,
/// e.g. for the scan-line duration test pages.
pub fn encode_page_with_fill(
    page: &Bitmap,
    opts: &EncodeOptions,
    row_min_bits: &dyn Fn(u32) -> u32,
) -> EncodedPage {
    encode_page_using(page, opts, row_min_bits, row_changes, find_b1)
}

/// How a row's changing elements are found (swapped for the pel-by-pel scan in tests).
type RowChanges = fn(&[u8], u32, &mut Vec<u32>);

#[inline(always)]
fn encode_page_using(
    page: &Bitmap,
    opts: &EncodeOptions,
    row_min_bits: &dyn Fn(u32) -> u32,
    row_changes: RowChanges,
    find_b1: FindB1,
) -> EncodedPage {
    let width = page.width();
    let mut w = BitWriter::new();
    let mut rows = Vec::with_capacity(page.height() as usize);
    let mut refc: Vec<u32> = vec![width; 3];
    let mut cur: Vec<u32> = Vec::with_capacity(64);
    let (two_d_tag, k) = match opts.coding {
        Coding::Mh => (false, 1),
        Coding::Mr { k } => (true, k.max(1) as u32),
        Coding::Mmr => (false, 0),
    };
    for y in 0..page.height() {
        row_changes(page.row(y), width, &mut cur);
        let start = w.bit_len();
        if opts.coding == Coding::Mmr {
            encode_2d_with(&mut w, &cur, &refc, width, find_b1);
            let end = w.bit_len();
            rows.push(RowSpan {
                start,
                data_start: start,
                data_end: end,
                end,
            });
        } else {
            put_eol(&mut w, opts.align_eol);
            let one_d = !two_d_tag || y % k == 0;
            if two_d_tag {
                w.put(one_d as u32, 1);
            }
            let data_start = w.bit_len();
            if one_d {
                encode_1d(&mut w, &cur, width);
            } else {
                encode_2d_with(&mut w, &cur, &refc, width, find_b1);
            }
            let data_end = w.bit_len();
            let eol_len = 12 + two_d_tag as u32;
            let used = (data_end - data_start) as u32 + eol_len;
            let min_bits = row_min_bits(y);
            if min_bits > used {
                w.zeros((min_bits - used) as usize);
            }
            rows.push(RowSpan {
                start,
                data_start,
                data_end,
                end: w.bit_len(),
            });
        }
        std::mem::swap(&mut refc, &mut cur);
    }
    if opts.end_of_page {
        match opts.coding {
            Coding::Mmr => {
                put_eol(&mut w, false);
                put_eol(&mut w, false);
            }
            _ => {
                for _ in 0..6 {
                    put_eol(&mut w, opts.align_eol);
                    if two_d_tag {
                        w.put(1, 1);
                    }
                }
            }
        }
    }
    let bit_len = w.bit_len();
    EncodedPage {
        data: w.into_bytes(),
        bit_len,
        rows,
    }
}

/// Why a row failed to decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RowError {
    BadCode,
    WrongLength,
}

fn read_run(r: &mut BitReader, colour: usize) -> Result<u32, RowError> {
    read_run_codes(r, colour).map(|(run, _)| run)
}

/// A run and the number of codes it was made of.
#[inline(always)]
fn read_run_codes(r: &mut BitReader, colour: usize) -> Result<(u32, u32), RowError> {
    let table = &run_lookup()[colour];
    let mut total = 0u32;
    let mut codes = 0;
    loop {
        let e = table[r.peek(LOOKUP_BITS) as usize];
        if e.len == 0 {
            return Err(RowError::BadCode);
        }
        r.skip(e.len as u32);
        total += e.run as u32;
        codes += 1;
        if e.run < 64 {
            return Ok((total, codes));
        }
        if total > MAX_WIDTH {
            return Err(RowError::WrongLength);
        }
    }
}

#[inline]
fn push_change(out: &mut Vec<u32>, p: u32) {
    if out.last() == Some(&p) {
        out.pop();
    } else {
        out.push(p);
    }
}

/// Decode a 1-D row into changing elements (sentinel-terminated).
fn decode_1d(r: &mut BitReader, width: u32, out: &mut Vec<u32>) -> Result<(), RowError> {
    out.clear();
    let mut pos = 0u32;
    let mut colour = 0usize;
    loop {
        pos += read_run(r, colour)?;
        if pos > width {
            return Err(RowError::WrongLength);
        }
        if pos == width {
            break;
        }
        push_change(out, pos);
        colour ^= 1;
    }
    out.extend_from_slice(&[width, width, width]);
    Ok(())
}

/// Decode a 2-D row against `refc` (both sentinel-terminated).
#[inline]
fn decode_2d(
    r: &mut BitReader,
    width: u32,
    refc: &[u32],
    out: &mut Vec<u32>,
) -> Result<(), RowError> {
    decode_2d_with(r, width, refc, out, find_b1, &mut true)
}

/// As [`decode_2d`], finding b1 with `find_b1`; clears `canonical` unless every mode and
/// run of the row is the one [`encode_page`] would have chosen for the decoded row (T.4
/// §4.2.1.3.4 leaves no choice except for the make-up codes of runs over 2560 pels, which
/// count as not canonical here), so that the row's bits are exactly what it would write.
#[inline(always)]
fn decode_2d_with(
    r: &mut BitReader,
    width: u32,
    refc: &[u32],
    out: &mut Vec<u32>,
    find_b1: FindB1,
    canonical: &mut bool,
) -> Result<(), RowError> {
    out.clear();
    let mut a0: i64 = -1;
    let mut colour = 0usize;
    let mut hint = 0usize;
    // The encoder passes only when a change of the row lies beyond b2: after a pass the
    // next change is right of a0 = b2 by the checks below, and the row may not end on one.
    let mut last_was_pass = false;
    let mut canon = true;
    while a0 < width as i64 {
        let (mode, len) = decode_mode(r.peek(7)).ok_or(RowError::BadCode)?;
        r.skip(len);
        let (b1, b2) = find_b1(refc, a0, colour, &mut hint);
        match mode {
            Mode::Pass => {
                a0 = b2 as i64;
                last_was_pass = true;
            }
            Mode::Vertical(d) => {
                let a1 = b1 as i64 + d as i64;
                if a1 <= a0 || a1 > width as i64 {
                    return Err(RowError::WrongLength);
                }
                canon &= b2 as i64 >= a1;
                last_was_pass = false;
                if a1 < width as i64 {
                    push_change(out, a1 as u32);
                }
                a0 = a1;
                colour ^= 1;
            }
            Mode::Horizontal => {
                let start = a0.max(0) as u32;
                let (run1, codes1) = read_run_codes(r, colour)?;
                let (run2, codes2) = read_run_codes(r, colour ^ 1)?;
                let a1 = start + run1;
                let a2 = a1 + run2;
                if a2 > width {
                    return Err(RowError::WrongLength);
                }
                last_was_pass = false;
                canon &= a1 as i64 > a0
                    && b2 >= a1
                    && (a1 as i64 - b1 as i64).abs() > 3
                    && (a2 > a1 || a2 == width)
                    && codes1 == canonical_codes(run1)
                    && codes2 == canonical_codes(run2);
                if a1 < width {
                    push_change(out, a1);
                }
                if a2 < width {
                    push_change(out, a2);
                }
                a0 = a2 as i64;
            }
            Mode::Extension => return Err(RowError::BadCode),
        }
    }
    *canonical &= canon && !last_was_pass;
    out.extend_from_slice(&[width, width, width]);
    Ok(())
}

/// Codes [`put_run`] uses for a run: one terminating code, or a make-up and a terminating
/// code; `u32::MAX` (never matched) for runs that need more than one make-up code.
fn canonical_codes(run: u32) -> u32 {
    match run {
        0..64 => 1,
        64..2624 => 2,
        _ => u32::MAX,
    }
}

/// Shared bookkeeping of decoded rows: output page, concealment and damage statistics.
struct RowSink {
    page: Bitmap,
    max_rows: u32,
    row: Vec<u8>,
    last_good: Vec<u8>,
    bad_rows: u32,
    run: u32,
    longest: u32,
    bad_list: Vec<u32>,
    truncated: bool,
}

impl RowSink {
    fn new(width: u32, resolution: Resolution, max_rows: u32) -> Result<Self, ImageError> {
        let page = Bitmap::new(width, 0, resolution)?;
        let stride = page.stride();
        Ok(Self {
            page,
            max_rows: max_rows.min(MAX_HEIGHT),
            row: vec![0; stride],
            last_good: vec![0; stride],
            bad_rows: 0,
            run: 0,
            longest: 0,
            bad_list: Vec::new(),
            truncated: false,
        })
    }

    fn full(&mut self) -> bool {
        if self.page.height() >= self.max_rows {
            self.truncated = true;
            true
        } else {
            false
        }
    }

    fn good(&mut self, changes: &[u32]) {
        if self.full() {
            return;
        }
        let w = self.page.width();
        pack_changes(changes, w, &mut self.row);
        self.page
            .push_row(&self.row)
            .expect("row size and count checked");
        std::mem::swap(&mut self.last_good, &mut self.row);
        self.run = 0;
    }

    fn bad(&mut self) {
        if self.full() {
            return;
        }
        self.bad_list.push(self.page.height());
        self.page
            .push_row(&self.last_good)
            .expect("row size and count checked");
        self.bad_rows += 1;
        self.run += 1;
        self.longest = self.longest.max(self.run);
    }

    fn finish(self, end_of_page_seen: bool, longest_line_bits: u64) -> DecodedPage {
        DecodedPage {
            bitmap: self.page,
            bad_rows: self.bad_rows,
            longest_bad_run: self.longest,
            bad_row_list: self.bad_list,
            end_of_page_seen,
            truncated: self.truncated,
            longest_line_bits,
        }
    }
}

/// Streaming decoder of a G3 (MH or MR) page as received on a non-ECM line: push bits in
/// line order, then [`finish`](G3Decoder::finish).
pub struct G3Decoder {
    width: u32,
    two_d: bool,
    max_row_bits: usize,
    zeros: u32,
    buf: Vec<u8>,
    buf_bits: usize,
    overflow: bool,
    need_tag: bool,
    row_1d: bool,
    eols_since_row: u32,
    line_bits: u64,
    longest_line: u64,
    seen_eol: bool,
    done: bool,
    ref_bad: bool,
    refc: Vec<u32>,
    cur: Vec<u32>,
    sink: RowSink,
}

impl G3Decoder {
    /// A decoder for rows `width` pels wide; `two_d` when the page is MR (a tag bit follows
    /// each EOL). At most `max_rows` rows are kept (capped at [`MAX_HEIGHT`]).
    pub fn new(
        width: u32,
        two_d: bool,
        resolution: Resolution,
        max_rows: u32,
    ) -> Result<Self, ImageError> {
        let sink = RowSink::new(width, resolution, max_rows)?;
        Ok(Self {
            width,
            two_d,
            // No valid row needs more than 7 bits per pel (VR3/VL3 at every pel); fill zeros
            // are never stored, so this bounds the buffer whatever arrives.
            max_row_bits: 12 * width as usize + 64,
            zeros: 0,
            buf: Vec::with_capacity(width as usize / 4),
            buf_bits: 0,
            overflow: false,
            need_tag: false,
            row_1d: true,
            eols_since_row: 0,
            line_bits: 0,
            longest_line: 0,
            seen_eol: false,
            done: false,
            ref_bad: false,
            refc: vec![width; 3],
            cur: Vec::with_capacity(64),
            sink,
        })
    }

    /// True once RTC has been seen (further bits are ignored).
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Rows decoded so far.
    pub fn rows(&self) -> u32 {
        self.sink.page.height()
    }

    /// Bad rows so far.
    pub fn bad_rows(&self) -> u32 {
        self.sink.bad_rows
    }

    /// Bits received since the end of the last EOL: a receiver compares this, over the bit
    /// rate, with its maximum scan-line time while a line is still arriving.
    pub fn bits_since_eol(&self) -> u64 {
        self.line_bits
    }

    /// Feed one bit in line order. Returns true when RTC has completed the page.
    #[inline]
    pub fn push_bit(&mut self, bit: bool) -> bool {
        if self.done {
            return true;
        }
        self.line_bits += 1;
        if self.need_tag {
            self.need_tag = false;
            self.row_1d = bit;
            return false;
        }
        if !bit {
            self.zeros = self.zeros.saturating_add(1);
            return false;
        }
        if self.zeros >= 11 {
            self.zeros = 0;
            self.on_eol();
            return self.done;
        }
        self.append(1, self.zeros as usize + 1);
        self.zeros = 0;
        false
    }

    /// Append `n` (≤ 24) bits, right-aligned in `bits`, to the row buffer.
    #[inline]
    fn append(&mut self, bits: u32, n: usize) {
        let new = self.buf_bits + n;
        if new > self.max_row_bits {
            self.overflow = true;
            return;
        }
        self.buf.resize(new.div_ceil(8) + 4, 0);
        let (byte, off) = (self.buf_bits / 8, self.buf_bits % 8);
        let v = bits << (32 - n - off);
        for k in 0..4 {
            self.buf[byte + k] |= (v >> (24 - 8 * k)) as u8;
        }
        self.buf_bits = new;
    }

    /// Feed whole bytes, most significant bit first (TIFF FillOrder 1).
    pub fn push_bytes(&mut self, data: &[u8]) -> bool {
        for &b in data {
            if self.done {
                break;
            }
            if !self.need_tag {
                if b == 0 {
                    self.zeros = self.zeros.saturating_add(8);
                    self.line_bits += 8;
                    continue;
                }
                // Zero runs inside a byte are shorter than 11, so only the run leading into
                // the first one can complete an EOL; without one, take the byte whole.
                let lz = b.leading_zeros();
                if self.zeros + lz < 11 {
                    let tz = b.trailing_zeros();
                    self.append((b >> tz) as u32, (self.zeros + 8 - tz) as usize);
                    self.zeros = tz;
                    self.line_bits += 8;
                    continue;
                }
            }
            for i in (0..8).rev() {
                self.push_bit((b >> i) & 1 != 0);
            }
        }
        self.done
    }

    fn on_eol(&mut self) {
        if self.seen_eol {
            self.longest_line = self.longest_line.max(self.line_bits);
        }
        self.seen_eol = true;
        self.line_bits = 0;
        if self.buf_bits == 0 && !self.overflow {
            self.eols_since_row += 1;
            if self.eols_since_row >= 6 {
                self.done = true;
            }
        } else {
            // EOLs back to back inside a page are rows whose bits were wiped out (a line
            // hit turns a row into zeros): count them bad rather than lose them, or every
            // later row would be misplaced. Leading EOLs before the first row are preamble.
            if self.sink.page.height() > 0 {
                for _ in 1..self.eols_since_row {
                    self.sink.bad();
                    self.ref_bad = true;
                }
            }
            self.decode_row();
            self.eols_since_row = 1;
        }
        self.need_tag = self.two_d;
    }

    fn decode_row(&mut self) {
        let ok = if self.overflow || (!self.row_1d && self.ref_bad) {
            false
        } else {
            let mut r = BitReader::with_len(&self.buf, self.buf_bits);
            let res = if self.row_1d {
                decode_1d(&mut r, self.width, &mut self.cur)
            } else {
                decode_2d(&mut r, self.width, &self.refc, &mut self.cur)
            };
            res.is_ok() && (r.pos() >= self.buf_bits || r.rest_is_zero())
        };
        if ok {
            self.sink.good(&self.cur);
            std::mem::swap(&mut self.refc, &mut self.cur);
            self.ref_bad = false;
        } else {
            self.sink.bad();
            self.ref_bad = true;
        }
        self.buf.clear();
        self.buf_bits = 0;
        self.overflow = false;
    }

    /// End of data: decode a last row not followed by an EOL, and return the page.
    pub fn finish(mut self) -> DecodedPage {
        if !self.done && (self.buf_bits > 0 || self.overflow) {
            self.decode_row();
        }
        let done = self.done;
        let longest = self.longest_line;
        self.sink.finish(done, longest)
    }
}

/// Decode a whole G3 page (MSB-first bytes). See [`G3Decoder`].
pub fn decode_g3(
    data: &[u8],
    width: u32,
    two_d: bool,
    resolution: Resolution,
    max_rows: u32,
) -> Result<DecodedPage, ImageError> {
    let mut d = G3Decoder::new(width, two_d, resolution, max_rows)?;
    d.push_bytes(data);
    Ok(d.finish())
}

/// Decode "CCITT RLE" (TIFF compression 2): MH rows without EOLs, each starting on a byte.
pub fn decode_mh_rle(
    data: &[u8],
    width: u32,
    rows: u32,
    resolution: Resolution,
) -> Result<DecodedPage, ImageError> {
    let mut sink = RowSink::new(width, resolution, rows)?;
    let mut r = BitReader::new(data);
    let mut cur = Vec::new();
    let mut failed = false;
    for _ in 0..rows.min(MAX_HEIGHT) {
        if failed || r.pos() >= r.end() || decode_1d(&mut r, width, &mut cur).is_err() {
            failed = true;
            sink.bad();
        } else {
            sink.good(&cur);
        }
        r.align();
    }
    Ok(sink.finish(false, 0))
}

/// Decode a T.6 (MMR) page. Rows stop at EOFB, at `expected_rows` (when known), or when
/// the data runs out. An error ends decoding (T.6 has no resynchronisation point): the
/// remaining expected rows are concealed and counted bad.
pub fn decode_mmr(
    data: &[u8],
    width: u32,
    expected_rows: Option<u32>,
    resolution: Resolution,
) -> Result<DecodedPage, ImageError> {
    decode_mmr_coded(data, width, expected_rows, resolution).map(|(page, _)| page)
}

/// A T.6 code that is exactly what [`encode_page`] writes for its page (MMR, EOFB): its
/// length and where its rows end, so the code can be kept instead of coding the page again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnMmrCode {
    /// Bits up to the end of EOFB (the code is these bits, zero-padded to an octet).
    pub bit_len: usize,
    /// Where each row ends, in bits from the start.
    pub row_ends: Vec<u32>,
}

/// As [`decode_mmr`], and when the page decoded cleanly to EOFB and every row was coded
/// as [`encode_page`] codes it, where that code lies in `data`.
pub fn decode_mmr_coded(
    data: &[u8],
    width: u32,
    expected_rows: Option<u32>,
    resolution: Resolution,
) -> Result<(DecodedPage, Option<OwnMmrCode>), ImageError> {
    let max_rows = expected_rows.unwrap_or(MAX_HEIGHT).min(MAX_HEIGHT);
    let mut sink = RowSink::new(width, resolution, max_rows)?;
    let mut r = BitReader::new(data);
    let mut refc = vec![width; 3];
    let mut cur = Vec::with_capacity(64);
    let mut eofb = false;
    let mut canonical = true;
    let mut row_ends = Vec::new();
    while sink.page.height() < max_rows {
        if r.pos() >= r.end() || r.rest_is_zero() {
            break;
        }
        if r.peek(24) == 0x0000_1001 {
            eofb = true;
            break;
        }
        if decode_2d_with(&mut r, width, &refc, &mut cur, find_b1, &mut canonical).is_err() {
            canonical = false;
            if let Some(n) = expected_rows {
                while sink.page.height() < n.min(MAX_HEIGHT) {
                    sink.bad();
                }
            }
            break;
        }
        row_ends.push(r.pos() as u32);
        sink.good(&cur);
        std::mem::swap(&mut refc, &mut cur);
    }
    let page = sink.finish(eofb, 0);
    let own = (eofb && canonical && page.bad_rows == 0 && !page.truncated).then(|| OwnMmrCode {
        bit_len: r.pos() + 24,
        row_ends,
    });
    Ok((page, own))
}

/// Where each row of a clean T.6 (MMR) page lies, as [`encode_page`] reports it for the
/// page it codes (MMR rows have no EOL or fill: each span's start is its data start): found
/// by decoding the changing elements only, without building the page. Fails unless the
/// data holds exactly `rows` rows that decode cleanly.
pub fn mmr_row_spans(data: &[u8], width: u32, rows: u32) -> Result<Vec<RowSpan>, ImageError> {
    let corrupt = |what: &str| ImageError::Corrupt(format!("MMR page: {what}"));
    let mut r = BitReader::new(data);
    let mut refc = vec![width; 3];
    let mut cur = Vec::with_capacity(64);
    let mut spans = Vec::with_capacity(rows as usize);
    for _ in 0..rows {
        if r.pos() >= r.end() || r.peek(24) == 0x0000_1001 {
            return Err(corrupt("fewer rows than expected"));
        }
        let start = r.pos();
        decode_2d(&mut r, width, &refc, &mut cur).map_err(|_| corrupt("bad code"))?;
        let end = r.pos();
        spans.push(RowSpan {
            start,
            data_start: start,
            data_end: end,
            end,
        });
        std::mem::swap(&mut refc, &mut cur);
    }
    Ok(spans)
}

/// Bits a page takes in a coding, RTC/EOFB and fill included: divided by the bit rate, its
/// transmission time.
pub fn coded_bits(page: &Bitmap, opts: &EncodeOptions) -> usize {
    encode_page(page, opts).bit_len
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pel-by-pel definitions the fast row helpers must agree with.
    fn changes_by_pel(row: &[u8], width: u32) -> Vec<u32> {
        let mut out = Vec::new();
        let mut colour = false;
        for x in 0..width {
            let black = row[x as usize / 8] & (0x80 >> (x % 8)) != 0;
            if black != colour {
                out.push(x);
                colour = black;
            }
        }
        out.extend_from_slice(&[width, width, width]);
        out
    }

    fn rows(width: u32) -> Vec<Vec<u8>> {
        let stride = width.div_ceil(8) as usize;
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let mut out = vec![vec![0u8; stride], vec![0xff; stride]];
        for _ in 0..200 {
            let mut row: Vec<u8> = (0..stride).map(|_| next() as u8).collect();
            // Long runs as well as noise.
            let (a, b) = (next() as usize % stride, next() as usize % stride);
            row[a.min(b)..a.max(b)].fill(if next() & 1 == 0 { 0 } else { 0xff });
            out.push(row);
        }
        for row in &mut out {
            let rem = width % 8;
            if rem != 0 {
                row[stride - 1] &= 0xffu8 << (8 - rem);
            }
        }
        out
    }

    #[test]
    fn row_changes_agree_with_the_pel_by_pel_scan() {
        for width in [1, 7, 8, 9, 63, 64, 65, 72, 1728, 1731, 2048, 2432] {
            let mut got = Vec::new();
            for row in rows(width) {
                row_changes(&row, width, &mut got);
                assert_eq!(got, changes_by_pel(&row, width), "width {width}");
            }
        }
    }

    #[test]
    fn mmr_row_spans_are_the_encoders() {
        use crate::image::testpage::{TestPageKind, TestPageOptions, make_test_page};
        for kind in [
            TestPageKind::Impress,
            TestPageKind::Diag,
            TestPageKind::White,
        ] {
            let page = make_test_page(kind, 1, &TestPageOptions::default())
                .unwrap()
                .bitmap;
            let coded = encode_page(&page, &EncodeOptions::line(Coding::Mmr));
            let spans = mmr_row_spans(&coded.data, page.width(), page.height()).unwrap();
            assert_eq!(spans, coded.rows, "{kind:?}");
            assert!(mmr_row_spans(&coded.data, page.width(), page.height() + 1).is_err());
        }
    }

    /// The b1 search as a plain scan (the reference for [`find_b1`]): the first element
    /// right of a0, and the one after it if its colour is a0's.
    fn find_b1_scan(refc: &[u32], a0: i64, colour: usize, hint: &mut usize) -> (u32, u32) {
        let mut i = 0;
        while (refc[i] as i64) <= a0 {
            i += 1;
        }
        if i % 2 != colour {
            i += 1;
        }
        *hint = i;
        (refc[i], refc[i + 1])
    }

    /// The reference encoder: pel-by-pel changing elements and the plain b1 scan.
    fn encode_reference(page: &Bitmap, opts: &EncodeOptions) -> EncodedPage {
        fn changes(row: &[u8], width: u32, out: &mut Vec<u32>) {
            *out = changes_by_pel(row, width);
        }
        encode_page_using(page, opts, &|_| opts.min_row_bits, changes, find_b1_scan)
    }

    /// A page of random rows: noise, long runs, repeats of the row above (what 2-D coding
    /// meets), and all-white or all-black rows, from `seed`.
    fn random_page(seed: u64, width: u32, height: u32, resolution: Resolution) -> Bitmap {
        let mut rng = seed | 1;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let mut page = Bitmap::new(width, height, resolution).unwrap();
        let stride = page.stride();
        for y in 0..height {
            let mut row = vec![0u8; stride];
            match next() % 6 {
                0 => row.iter_mut().for_each(|b| *b = next() as u8),
                1 if y > 0 => row.copy_from_slice(page.row(y - 1)),
                2 => row.fill(0xff),
                3 => {}
                _ => {
                    if y > 0 {
                        row.copy_from_slice(page.row(y - 1));
                    }
                    for _ in 0..next() % 12 {
                        let a = (next() % width as u64) as u32;
                        let len = (next() % 300) as u32;
                        let end = (a + len).min(width);
                        if next() & 1 == 0 {
                            fill_bits(&mut row, a, end);
                        } else {
                            for x in a..end {
                                row[x as usize / 8] &= !(0x80 >> (x % 8));
                            }
                        }
                    }
                }
            }
            let rem = width % 8;
            if rem != 0 {
                row[stride - 1] &= 0xffu8 << (8 - rem);
            }
            page.row_mut(y).copy_from_slice(&row);
        }
        page
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

        #[test]
        fn the_fast_coder_matches_the_reference_and_round_trips(
            seed in proptest::prelude::any::<u64>(),
            width in proptest::sample::select(vec![1u32, 8, 9, 63, 64, 65, 200, 1728, 1731, 2432]),
            fine in proptest::prelude::any::<bool>(),
            height in 1u32..40,
        ) {
            let res = if fine { Resolution::Fine } else { Resolution::Standard };
            let page = random_page(seed, width, height, res);
            for coding in [Coding::Mh, Coding::mr_for(res), Coding::Mmr] {
                let opts = EncodeOptions::line(coding);
                let fast = encode_page(&page, &opts);
                proptest::prop_assert_eq!(&fast, &encode_reference(&page, &opts), "{:?}", coding);
                let back = match coding {
                    Coding::Mmr => decode_mmr(&fast.data, width, None, res).unwrap(),
                    c => decode_g3(&fast.data, width, c != Coding::Mh, res, MAX_HEIGHT).unwrap(),
                };
                proptest::prop_assert_eq!(back.bad_rows, 0);
                proptest::prop_assert_eq!(&back.bitmap, &page, "{:?}", coding);
            }
        }

        #[test]
        fn the_fast_row_decoder_matches_the_reference_on_damaged_data(
            seed in proptest::prelude::any::<u64>(),
            width in proptest::sample::select(vec![9u32, 64, 1728, 2432]),
            flips in proptest::collection::vec(proptest::prelude::any::<u32>(), 0..6),
        ) {
            let page = random_page(seed, width, 30, Resolution::Fine);
            let mut data = encode_page(&page, &EncodeOptions::line(Coding::Mmr)).data;
            for f in flips {
                let bit = f as usize % (data.len() * 8);
                data[bit / 8] ^= 0x80 >> (bit % 8);
            }
            let (mut fast_r, mut ref_r) = (BitReader::new(&data), BitReader::new(&data));
            let (mut fast_refc, mut ref_refc) = (vec![width; 3], vec![width; 3]);
            let (mut fast_cur, mut ref_cur) = (Vec::new(), Vec::new());
            for _ in 0..30 {
                let a = decode_2d(&mut fast_r, width, &fast_refc, &mut fast_cur);
                let b = decode_2d_with(
                    &mut ref_r, width, &ref_refc, &mut ref_cur, find_b1_scan, &mut true,
                );
                proptest::prop_assert_eq!(a, b);
                proptest::prop_assert_eq!(fast_r.pos(), ref_r.pos());
                if a.is_err() {
                    break;
                }
                proptest::prop_assert_eq!(&fast_cur, &ref_cur);
                std::mem::swap(&mut fast_refc, &mut fast_cur);
                std::mem::swap(&mut ref_refc, &mut ref_cur);
            }
        }
    }

    #[test]
    fn only_the_encoders_own_choices_count_as_its_code() {
        let page = Bitmap::new(16, 1, Resolution::Fine).unwrap();
        let own = encode_page(&page, &EncodeOptions::tiff(Coding::Mmr));
        let (back, code) = decode_mmr_coded(&own.data, 16, None, Resolution::Fine).unwrap();
        assert_eq!(back.bitmap, page);
        assert_eq!(code.unwrap().bit_len, own.bit_len);
        // The same white row as a horizontal mode (white 16, black 0) where the encoder
        // writes V0: a valid code of the page, but not the encoder's.
        let mut w = BitWriter::new();
        put_mode(&mut w, Mode::Horizontal);
        put_run(&mut w, 0, 16);
        put_run(&mut w, 1, 0);
        put_eol(&mut w, false);
        put_eol(&mut w, false);
        let other = w.into_bytes();
        let (back, code) = decode_mmr_coded(&other, 16, None, Resolution::Fine).unwrap();
        assert_eq!(back.bitmap, page);
        assert_eq!(code, None);
        // A white row under a row black from pel 4 to the end: the encoder writes a
        // horizontal mode (white 16, black 0); a pass mode to the row's end is valid too,
        // but not the encoder's.
        let mut refrow = Bitmap::new(16, 2, Resolution::Fine).unwrap();
        refrow.row_mut(0).copy_from_slice(&[0x0f, 0xff]);
        let own = encode_page(&refrow, &EncodeOptions::tiff(Coding::Mmr));
        let (_, code) = decode_mmr_coded(&own.data, 16, None, Resolution::Fine).unwrap();
        assert!(code.is_some());
        let mut w = BitWriter::new();
        encode_2d_with(&mut w, &[4, 16, 16, 16], &[16, 16, 16], 16, find_b1);
        put_mode(&mut w, Mode::Pass);
        put_eol(&mut w, false);
        put_eol(&mut w, false);
        let (back, code) = decode_mmr_coded(&w.into_bytes(), 16, None, Resolution::Fine).unwrap();
        assert_eq!(back.bitmap, refrow);
        assert_eq!(code, None);
    }

    #[test]
    fn pack_changes_inverts_row_changes() {
        for width in [1, 7, 8, 9, 1728, 1731, 2432] {
            let mut changes = Vec::new();
            for row in rows(width) {
                row_changes(&row, width, &mut changes);
                let mut back = vec![0x5a; row.len()];
                pack_changes(&changes, width, &mut back);
                assert_eq!(back, row, "width {width}");
            }
        }
    }
}
