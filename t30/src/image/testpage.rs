//! The test pages of the TSB-85 procedures, generated here rather than shipped:
//!
//! | kind | what it is |
//! |---|---|
//! | `white` | all-white A4 pages (MRGN01, ORGC02) |
//! | `diag` | pages whose MH coding uses every 1-D code word of the page width: all 64 terminating codes and every make-up code up to the width, in both colours (MRGN02 DIAG_1/DIAG_2) |
//! | `duration-4.9`, `duration-5.1` | a text page with one scan line stretched with fill so that the coded line lasts 4.9 s / 5.1 s at the test bit rate (MRGN03; 4800 bit/s, V.27ter, unless told otherwise) |
//! | `bad-rows-4.9`, `bad-rows-15.1` | a text page plus the rows a transmitter must corrupt so that 4.9 % / 15.1 % of rows arrive bad (MRGN04); rows are spread evenly and assume MH coding (in MR a bad row also spoils the 2-D rows after it) |
//! | `impress` | a text-like page: heading, text lines, frame, patterns (MRGN05, ORGC03) |
//! | `stairstep` | a staircase pattern whose coded size is an exact number of ECM blocks (OREN01–09) |

use super::codec::{Coding, EncodeOptions, encode_page, encode_page_with_fill};
use super::font::glyph;
use super::{Bitmap, ImageError, PageWidth, Resolution};

/// The kinds of test page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TestPageKind {
    /// All white.
    White,
    /// Every 1-D code word.
    Diag,
    /// One scan line lasting 4.9 s.
    Duration49,
    /// One scan line lasting 5.1 s.
    Duration51,
    /// 4.9 % of rows to be corrupted.
    BadRows49,
    /// 15.1 % of rows to be corrupted.
    BadRows151,
    /// Text-like page.
    Impress,
    /// Exact ECM blocks.
    Stairstep,
}

impl TestPageKind {
    /// Every kind.
    pub const ALL: [TestPageKind; 8] = [
        TestPageKind::White,
        TestPageKind::Diag,
        TestPageKind::Duration49,
        TestPageKind::Duration51,
        TestPageKind::BadRows49,
        TestPageKind::BadRows151,
        TestPageKind::Impress,
        TestPageKind::Stairstep,
    ];

    /// Command-line name.
    pub fn name(self) -> &'static str {
        match self {
            TestPageKind::White => "white",
            TestPageKind::Diag => "diag",
            TestPageKind::Duration49 => "duration-4.9",
            TestPageKind::Duration51 => "duration-5.1",
            TestPageKind::BadRows49 => "bad-rows-4.9",
            TestPageKind::BadRows151 => "bad-rows-15.1",
            TestPageKind::Impress => "impress",
            TestPageKind::Stairstep => "stairstep",
        }
    }

    /// Parse a command-line name.
    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == s)
    }
}

/// Parameters of the generated pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestPageOptions {
    /// Page resolution.
    pub resolution: Resolution,
    /// Coding of the pages (the duration and stairstep pages are coded in it).
    pub coding: Coding,
    /// Bit rate the duration pages are timed at (TSB-85: V.27ter 4800 bit/s).
    pub bit_rate: u32,
    /// Coded bytes a stairstep page must fill exactly (default: one block of 256 frames of
    /// 64 octets).
    pub ecm_bytes: u32,
}

impl Default for TestPageOptions {
    fn default() -> Self {
        Self {
            resolution: Resolution::Standard,
            coding: Coding::Mh,
            bit_rate: 4800,
            ecm_bytes: 16_384,
        }
    }
}

/// A generated page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestPage {
    /// The pels.
    pub bitmap: Bitmap,
    /// The page coded in the requested coding, when the test lies in the coding itself
    /// (stretched scan lines, exact coded size); otherwise `None`.
    pub coded: Option<Vec<u8>>,
    /// Rows a transmitter must corrupt (bad-rows pages).
    pub corrupt_rows: Vec<u32>,
    /// Rows stretched with fill (duration pages), and the bits each coded line then takes.
    pub long_rows: Vec<(u32, u32)>,
    /// One-line description, for ImageDescription and reports.
    pub description: String,
}

/// Draw text with the 5 × 7 font scaled by (sx, sy); returns the x after the text.
pub fn draw_text(b: &mut Bitmap, x: u32, y: u32, sx: u32, sy: u32, text: &str, black: bool) -> u32 {
    let mut cx = x;
    for c in text.chars() {
        let g = glyph(c);
        for (r, bits) in g.iter().enumerate() {
            for col in 0..5 {
                if bits & (0x10 >> col) != 0 {
                    let px = cx + col * sx;
                    let py = y + r as u32 * sy;
                    b.fill_rect(px, py, px + sx, py + sy, black);
                }
            }
        }
        cx += 6 * sx;
    }
    cx
}

/// Text scale for a resolution: glyphs about 2.5 mm wide, 3.5 mm tall.
fn text_scale(r: Resolution) -> (u32, u32) {
    (
        ((r.x_dpi() + 27) / 55).max(1),
        ((r.y_dpi() + 27) / 55).max(1),
    )
}

const LINES: [&str; 6] = [
    "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG. 0123456789",
    "PACK MY BOX WITH FIVE DOZEN LIQUOR JUGS, (+44) 1234-567/890",
    "FAXSIM GROUP 3 TEST PAGE: T.4 MH/MR, T.6 MMR, V.17 V.29",
    "SPHINX OF BLACK QUARTZ, JUDGE MY VOW. 9876543210",
    "HOW VEXINGLY QUICK DAFT ZEBRAS JUMP. A4 215 X 297 MM",
    "WALTZ, BAD NYMPH, FOR QUICK JIGS VEX. TSB-85 IMPRESS",
];

fn a4(r: Resolution) -> Result<Bitmap, ImageError> {
    Bitmap::new(r.width_pels(PageWidth::A4), r.rows_for_mm(297.0), r)
}

/// A text-like page with a heading bar, text lines, a frame, a chequer patch and a diagonal.
fn impress(r: Resolution, title: &str, page: u32) -> Result<Bitmap, ImageError> {
    let mut b = a4(r)?;
    let (w, h) = (b.width(), b.height());
    let (sx, sy) = text_scale(r);
    let mm_x = |mm: u32| mm * r.x_dpi() * 10 / 254;
    let mm_y = |mm: u32| mm * r.y_dpi() * 10 / 254;
    // Heading: white text on a black bar.
    b.fill_rect(mm_x(10), mm_y(10), w - mm_x(10), mm_y(22), true);
    draw_text(&mut b, mm_x(14), mm_y(12), sx, sy, title, false);
    // Frame around the body.
    let (x0, y0, x1, y1) = (mm_x(10), mm_y(28), w - mm_x(10), h - mm_y(40));
    b.fill_rect(x0, y0, x1, y0 + 2, true);
    b.fill_rect(x0, y1 - 2, x1, y1, true);
    b.fill_rect(x0, y0, x0 + 3, y1, true);
    b.fill_rect(x1 - 3, y0, x1, y1, true);
    // Text body.
    let pitch = 11 * sy;
    let mut y = y0 + mm_y(6);
    let mut i = page as usize;
    while y + pitch < y1 - mm_y(60) {
        draw_text(
            &mut b,
            x0 + mm_x(5),
            y,
            sx,
            sy,
            LINES[i % LINES.len()],
            true,
        );
        y += pitch;
        i += 1;
    }
    // Chequer patch and a diagonal line near the bottom.
    let (py, ph) = (y1 - mm_y(50), mm_y(40));
    for yy in py..py + ph {
        for xx in x0 + mm_x(5)..x0 + mm_x(45) {
            if ((xx / 4) + (yy / 4)) % 2 == 0 {
                b.set(xx, yy, true);
            }
        }
    }
    for k in 0..ph {
        let xx = x0 + mm_x(60) + k * mm_x(100) / ph;
        b.fill_rect(xx, py + k, xx + 3, py + k + 1, true);
    }
    Ok(b)
}

/// Runs (white, black alternating from white) for the diagnostic page: every terminating
/// length and every make-up length up to the width, in both colours.
fn diag_rows(width: u32, variant: u32) -> Vec<Vec<u32>> {
    let mut queues: [Vec<u32>; 2] = [Vec::new(), Vec::new()];
    for (c, q) in queues.iter_mut().enumerate() {
        // Terminating codes (white 0 only at a row start; black 0 comes with make-ups).
        q.extend(if c == 0 { 0..64 } else { 1..64 });
        let mut m = 64;
        let mut t = 1 + variant;
        while m < width {
            q.push(m + t % 64);
            t += 7;
            m += 64;
        }
        // Runs as wide as the row come from the whole-colour rows below.
        q.retain(|&r| r < width);
        if variant % 2 == 1 {
            q.reverse();
        }
    }
    let mut rows = Vec::new();
    let mut qi = [0usize; 2];
    // Whole rows of each colour: the widest make-up with terminating 0.
    rows.push(vec![width]);
    rows.push(vec![0, width]);
    while qi[0] < queues[0].len() || qi[1] < queues[1].len() {
        let before = qi;
        let mut row = Vec::new();
        let mut pos = 0;
        let mut colour = 0;
        while pos < width {
            let rem = width - pos;
            let want = queues[colour].get(qi[colour]).copied();
            let run = match want {
                Some(0) if pos == 0 => {
                    qi[colour] += 1;
                    0
                }
                Some(0) => {
                    qi[colour] += 1;
                    continue;
                }
                Some(r) if r <= rem => {
                    qi[colour] += 1;
                    r
                }
                // This colour has nothing left while the other has: a one-pel filler.
                None if rem > 1 && qi[colour ^ 1] < queues[colour ^ 1].len() => 1,
                // A run that does not fit waits for the next row: end this one.
                _ => rem,
            };
            row.push(run);
            pos += run;
            colour ^= 1;
        }
        if qi == before {
            // Nothing fitted (cannot happen with runs below the width): never loop.
            qi = [qi[0] + 1, qi[1] + 1];
        }
        rows.push(row);
    }
    rows
}

fn diag(r: Resolution, variant: u32) -> Result<Bitmap, ImageError> {
    let mut b = a4(r)?;
    let w = b.width();
    let rows = diag_rows(w, variant);
    for y in 0..b.height() {
        let runs = &rows[y as usize % rows.len()];
        let mut x = 0;
        for (i, &run) in runs.iter().enumerate() {
            if i % 2 == 1 {
                b.fill_rect(x, y, x + run, y + 1, true);
            }
            x += run;
        }
    }
    Ok(b)
}

fn stairstep(opts: &TestPageOptions, page: u32) -> Result<(Bitmap, Vec<u8>), ImageError> {
    let r = opts.resolution;
    let w = r.width_pels(PageWidth::A4);
    let target_bits = opts.ecm_bytes as usize * 8;
    // Stairs: black steps 32 pels wide, each row shifted by 2 pels; tall enough to code to
    // at least the target, then cut to the largest height that still fits.
    let period = 64;
    let mut rows = 64u32;
    let make = |rows: u32| -> Result<Bitmap, ImageError> {
        let mut b = Bitmap::new(w, rows, r)?;
        for y in 0..rows {
            let shift = (y * 2 + page * 16) % period;
            let mut x = shift;
            while x < w {
                b.fill_rect(x, y, x + period / 2, y + 1, true);
                x += period;
            }
        }
        Ok(b)
    };
    let opts_line = EncodeOptions::line(opts.coding);
    while encode_page(&make(rows)?, &opts_line).bit_len <= target_bits {
        if rows >= super::MAX_HEIGHT / 2 {
            return Err(ImageError::Unsupported(format!(
                "stairstep cannot reach {} coded bytes",
                opts.ecm_bytes
            )));
        }
        rows *= 2;
    }
    let (mut lo, mut hi) = (1, rows);
    while lo + 1 < hi {
        let mid = (lo + hi) / 2;
        if encode_page(&make(mid)?, &opts_line).bit_len <= target_bits {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let b = make(lo)?;
    let coded = match opts.coding {
        // Stretch the last row with fill so that RTC ends exactly on the block boundary.
        Coding::Mh | Coding::Mr { .. } => {
            let base = encode_page(&b, &opts_line);
            let last = base.rows[b.height() as usize - 1];
            let eol = if opts.coding == Coding::Mh { 12 } else { 13 };
            let extra = target_bits - base.bit_len;
            let need = (last.end - last.data_start) as u32 + eol + extra as u32;
            let h = b.height();
            let enc = encode_page_with_fill(&b, &opts_line, &|y| if y + 1 == h { need } else { 0 });
            debug_assert_eq!(enc.bit_len, target_bits);
            enc.data
        }
        // T.6 has no fill: zero octets after EOFB complete the block.
        Coding::Mmr => {
            let mut d = encode_page(&b, &opts_line).data;
            d.resize(opts.ecm_bytes as usize, 0);
            d
        }
    };
    Ok((b, coded))
}

/// Generate page `index` (0-based) of a test document.
pub fn make_test_page(
    kind: TestPageKind,
    index: u32,
    opts: &TestPageOptions,
) -> Result<TestPage, ImageError> {
    let r = opts.resolution;
    let mut page = TestPage {
        bitmap: Bitmap::new(1, 0, r)?,
        coded: None,
        corrupt_rows: Vec::new(),
        long_rows: Vec::new(),
        description: String::new(),
    };
    match kind {
        TestPageKind::White => {
            page.bitmap = a4(r)?;
            page.description = "TSB-85 WHITE page".into();
        }
        TestPageKind::Diag => {
            page.bitmap = diag(r, index)?;
            page.description = format!("TSB-85 DIAG_{} page: every 1-D code word", index % 2 + 1);
        }
        TestPageKind::Duration49 | TestPageKind::Duration51 => {
            let tenths = if kind == TestPageKind::Duration49 {
                49
            } else {
                51
            };
            if opts.coding == Coding::Mmr {
                return Err(ImageError::Unsupported(
                    "duration pages need MH or MR coding: T.6 has no fill bits".into(),
                ));
            }
            let title = format!(
                "DURATION {}.{} S AT {} BIT/S",
                tenths / 10,
                tenths % 10,
                opts.bit_rate
            );
            page.bitmap = impress(r, &title, index)?;
            let row = page.bitmap.height() / 2;
            let bits = (opts.bit_rate as u64 * tenths / 10) as u32;
            let enc =
                encode_page_with_fill(&page.bitmap, &EncodeOptions::line(opts.coding), &|y| {
                    if y == row { bits } else { 0 }
                });
            page.coded = Some(enc.data);
            page.long_rows = vec![(row, bits)];
            page.description = format!(
                "TSB-85 DURATION page: row {row} coded line lasts {}.{} s ({bits} bits at {} bit/s)",
                tenths / 10,
                tenths % 10,
                opts.bit_rate
            );
        }
        TestPageKind::BadRows49 | TestPageKind::BadRows151 => {
            let low = kind == TestPageKind::BadRows49;
            let title = if low {
                "ERROR PAGE 4.9 PERCENT"
            } else {
                "ERROR PAGE 15.1 PERCENT"
            };
            page.bitmap = impress(r, title, index)?;
            let h = page.bitmap.height();
            // Below 5 % for the low page, at least 15 % for the high one.
            let n = if low {
                h * 49 / 1000
            } else {
                (h * 151).div_ceil(1000)
            };
            page.corrupt_rows = (0..n)
                .map(|i| ((2 * i + 1) as u64 * h as u64 / (2 * n as u64)) as u32)
                .collect();
            page.description = format!(
                "TSB-85 ERROR page: corrupt {n} of {h} rows ({:.2} %) when sending MH",
                100.0 * n as f64 / h as f64
            );
        }
        TestPageKind::Impress => {
            page.bitmap = impress(r, "FAXSIM IMPRESS TEST PAGE", index)?;
            page.description = "TSB-85 IMPRESS page".into();
        }
        TestPageKind::Stairstep => {
            let (b, coded) = stairstep(opts, index)?;
            page.description = format!(
                "TSB-85 STAIRSTEP page: {} coded bytes ({}) exactly",
                coded.len(),
                opts.coding.name()
            );
            page.bitmap = b;
            page.coded = Some(coded);
        }
    }
    Ok(page)
}
