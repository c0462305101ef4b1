//! TIFF reading (any bilevel TIFF) and TIFF-F writing.
//!
//! The `tiff` crate parses the container (directories, tags, strip tables); the strips
//! are decoded here, by our own codec for the CCITT compressions, so that G3 1-D/2-D, G4,
//! either fill order and either photometric interpretation all read the same way.
//! Every size is checked against the file and the page limits before anything is
//! allocated, and all pages of a file together may not decode to more than
//! [`MAX_DECODED_BYTES`], so a hostile file cannot make us allocate more than that plus a
//! few times its own size.

use std::io::Cursor;

use tiff::decoder::{Decoder, Limits, ifd::Value};
use tiff::encoder::{Rational, TiffEncoder};
use tiff::tags::Tag;

use super::codec::{Coding, EncodeOptions, decode_g3, decode_mh_rle, decode_mmr, encode_page};
use super::store::CodedPage;
use super::{Bitmap, ImageError, MAX_HEIGHT, MAX_WIDTH, Resolution};

const TAG_T4_OPTIONS: Tag = Tag::Unknown(292);
const TAG_T6_OPTIONS: Tag = Tag::Unknown(293);
const TAG_PAGE_NUMBER: Tag = Tag::Unknown(297);
const TAG_BAD_FAX_LINES: Tag = Tag::Unknown(326);
const TAG_CLEAN_FAX_DATA: Tag = Tag::Unknown(327);
const TAG_CONSECUTIVE_BAD_FAX_LINES: Tag = Tag::Unknown(328);

/// Most pages read from one file.
pub const MAX_PAGES: usize = 1000;

/// Most bytes of decoded pages (and kept coded strips) one file may expand to: a hostile
/// file with many huge pages must fail, not exhaust memory. About 500 A4 fine pages fit.
pub const MAX_DECODED_BYTES: usize = 256 << 20;

/// How a page was stored in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoredCoding {
    /// No compression.
    Uncompressed,
    /// PackBits.
    PackBits,
    /// CCITT modified Huffman without EOLs (compression 2).
    CcittRle,
    /// CCITT G3 (compression 3), MH or MR (K is not stored in TIFF: MR reads as K = 0).
    Fax(Coding),
}

impl StoredCoding {
    /// Human-readable name.
    pub fn name(self) -> &'static str {
        match self {
            StoredCoding::Uncompressed => "uncompressed",
            StoredCoding::PackBits => "PackBits",
            StoredCoding::CcittRle => "CCITT RLE",
            StoredCoding::Fax(c) => c.name(),
        }
    }
}

/// One page read from a TIFF file.
#[derive(Debug, Clone, PartialEq)]
pub struct TiffPage {
    /// The pels, black = 1 whatever the file's photometric interpretation.
    pub bitmap: Bitmap,
    /// Resolution as written in the file, in dots per inch (x, y).
    pub dpi: (f64, f64),
    /// How the page was coded in the file.
    pub coding: StoredCoding,
    /// FillOrder tag (1 or 2).
    pub fill_order: u16,
    /// Rows the codec could not decode (concealed).
    pub bad_rows: u32,
    /// ImageDescription, if any.
    pub description: Option<String>,
    /// The coded strips as stored (bit order made MSB-first), for CCITT G3/G4 pages that
    /// decoded without damage: lets PDF output embed the data without re-encoding.
    pub raw_strips: Vec<RawStrip>,
}

/// One coded strip of a page, as stored in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawStrip {
    /// Coded bytes, MSB first.
    pub data: Vec<u8>,
    /// Rows the strip holds.
    pub rows: u32,
}

fn unsupported(msg: impl Into<String>) -> ImageError {
    ImageError::Unsupported(msg.into())
}

fn terr(e: tiff::TiffError) -> ImageError {
    unsupported(format!("not a readable TIFF file: {e}"))
}

fn rational(v: Value) -> Option<f64> {
    match v {
        Value::Rational(n, d) if d != 0 => Some(n as f64 / d as f64),
        Value::Unsigned(n) => Some(n as f64),
        Value::Short(n) => Some(n as f64),
        Value::Float(f) => Some(f as f64),
        Value::Double(f) => Some(f),
        Value::List(mut l) if l.len() == 1 => rational(l.remove(0)),
        _ => None,
    }
}

fn unpack_packbits(src: &[u8], out: &mut Vec<u8>, limit: usize) -> Result<(), ImageError> {
    let mut i = 0;
    while i < src.len() && out.len() < limit {
        let n = src[i] as i8;
        i += 1;
        if n >= 0 {
            let count = n as usize + 1;
            let end = (i + count).min(src.len());
            out.extend_from_slice(&src[i..end]);
            i = end;
        } else if n != -128 {
            let count = (1 - n as isize) as usize;
            let b = *src
                .get(i)
                .ok_or_else(|| unsupported("truncated PackBits data"))?;
            i += 1;
            out.extend(std::iter::repeat_n(b, count));
        }
    }
    out.truncate(limit);
    Ok(())
}

/// Read every page of a bilevel TIFF file held in memory.
pub fn read_tiff(bytes: &[u8]) -> Result<Vec<TiffPage>, ImageError> {
    let mut pages = Vec::new();
    read_tiff_each(bytes, |p| {
        pages.push(p);
        Ok(())
    })?;
    Ok(pages)
}

/// Read the pages of a bilevel TIFF file held in memory one at a time, handing each to
/// `page` before the next is decoded: a long document never has all its bitmaps at once.
pub fn read_tiff_each(
    bytes: &[u8],
    mut page: impl FnMut(TiffPage) -> Result<(), ImageError>,
) -> Result<(), ImageError> {
    let mut limits = Limits::default();
    limits.ifd_value_size = 1 << 20;
    limits.decoding_buffer_size = 64 << 20;
    limits.intermediate_buffer_size = 64 << 20;
    let mut dec = Decoder::new(Cursor::new(bytes))
        .map_err(terr)?
        .with_limits(limits);
    let mut count = 0;
    let mut budget = MAX_DECODED_BYTES;
    loop {
        if count >= MAX_PAGES {
            return Err(unsupported(format!("more than {MAX_PAGES} pages")));
        }
        count += 1;
        page(read_page(&mut dec, bytes, count, &mut budget)?)?;
        if !dec.more_images() {
            break;
        }
        dec.next_image().map_err(terr)?;
    }
    Ok(())
}

fn read_page(
    dec: &mut Decoder<Cursor<&[u8]>>,
    bytes: &[u8],
    number: usize,
    budget: &mut usize,
) -> Result<TiffPage, ImageError> {
    let e = |e: tiff::TiffError| unsupported(format!("page {number}: {e}"));
    let u = |dec: &mut Decoder<Cursor<&[u8]>>, tag: Tag, default: u64| -> Result<u64, ImageError> {
        Ok(dec
            .find_tag_unsigned::<u64>(tag)
            .map_err(e)?
            .unwrap_or(default))
    };
    let width = u(dec, Tag::ImageWidth, 0)?;
    let height = u(dec, Tag::ImageLength, 0)?;
    if width == 0 || height == 0 || width > MAX_WIDTH as u64 || height > MAX_HEIGHT as u64 {
        return Err(unsupported(format!(
            "page {number}: size {width}x{height} is outside 1..={MAX_WIDTH} x 1..={MAX_HEIGHT} pels"
        )));
    }
    let (width, height) = (width as u32, height as u32);
    let bps = u(dec, Tag::BitsPerSample, 1)?;
    let spp = u(dec, Tag::SamplesPerPixel, 1)?;
    if bps != 1 || spp != 1 {
        return Err(unsupported(format!(
            "page {number}: {spp} sample(s) of {bps} bit(s) per pel; a fax page must be bilevel (1 bit)"
        )));
    }
    let photometric = u(dec, Tag::PhotometricInterpretation, 0)?;
    if photometric > 1 {
        return Err(unsupported(format!(
            "page {number}: photometric interpretation {photometric} is not bilevel"
        )));
    }
    if dec.find_tag(Tag::TileWidth).map_err(e)?.is_some() {
        return Err(unsupported(format!(
            "page {number}: tiled TIFF is not supported"
        )));
    }
    let fill_order = u(dec, Tag::FillOrder, 1)? as u16;
    let compression = u(dec, Tag::Compression, 1)?;
    let t4 = u(dec, TAG_T4_OPTIONS, 0)?;
    let t6 = u(dec, TAG_T6_OPTIONS, 0)?;
    let coding = match compression {
        1 => StoredCoding::Uncompressed,
        2 => StoredCoding::CcittRle,
        3 if t4 & 2 != 0 => {
            return Err(unsupported(format!(
                "page {number}: T.4 uncompressed mode is not supported"
            )));
        }
        3 if t4 & 1 != 0 => StoredCoding::Fax(Coding::Mr { k: 0 }),
        3 => StoredCoding::Fax(Coding::Mh),
        4 if t6 & 2 != 0 => {
            return Err(unsupported(format!(
                "page {number}: T.6 uncompressed mode is not supported"
            )));
        }
        4 => StoredCoding::Fax(Coding::Mmr),
        32773 => StoredCoding::PackBits,
        c => {
            return Err(unsupported(format!(
                "page {number}: compression {c} is not a bilevel fax coding"
            )));
        }
    };
    let xres = dec
        .find_tag(Tag::XResolution)
        .map_err(e)?
        .and_then(rational);
    let yres = dec
        .find_tag(Tag::YResolution)
        .map_err(e)?
        .and_then(rational);
    let unit = u(dec, Tag::ResolutionUnit, 2)?;
    let scale = if unit == 3 { 2.54 } else { 1.0 };
    let dpi = match (xres, yres) {
        (Some(x), Some(y)) if x > 0.0 && y > 0.0 && unit != 1 => (x * scale, y * scale),
        // No usable resolution: assume standard fax resolution, as fax software does.
        _ => (204.0, 98.0),
    };
    let resolution = Resolution::nearest(dpi.0, dpi.1);
    let offsets = dec
        .find_tag_unsigned_vec::<u64>(Tag::StripOffsets)
        .map_err(e)?
        .ok_or_else(|| unsupported(format!("page {number}: no StripOffsets")))?;
    let counts = dec
        .find_tag_unsigned_vec::<u64>(Tag::StripByteCounts)
        .map_err(e)?
        .ok_or_else(|| unsupported(format!("page {number}: no StripByteCounts")))?;
    if offsets.len() != counts.len() || offsets.is_empty() {
        return Err(unsupported(format!(
            "page {number}: inconsistent strip tables"
        )));
    }
    let rps = u(dec, Tag::RowsPerStrip, height as u64)?.clamp(1, height as u64) as u32;
    let description = dec
        .find_tag(Tag::ImageDescription)
        .ok()
        .flatten()
        .and_then(|v| v.into_string().ok());

    let mut page = Bitmap::new(width, 0, resolution)?;
    let stride = page.stride();
    let too_big = || {
        unsupported(format!(
            "page {number}: the document decodes to more than {} MiB",
            MAX_DECODED_BYTES >> 20
        ))
    };
    *budget = budget
        .checked_sub(stride * height as usize)
        .ok_or_else(too_big)?;
    let mut bad_rows = 0u32;
    let mut scratch = Vec::new();
    let mut raw_strips = Vec::new();
    for (i, (&off, &cnt)) in offsets.iter().zip(&counts).enumerate() {
        let done = page.height();
        if done >= height {
            break;
        }
        let rows = rps.min(height - done);
        let start = usize::try_from(off).ok().filter(|&o| o <= bytes.len());
        let end = start.and_then(|s| s.checked_add(usize::try_from(cnt).ok()?));
        let (Some(start), Some(end)) = (start, end) else {
            return Err(unsupported(format!(
                "page {number}: strip {i} lies outside the file"
            )));
        };
        let end = end.min(bytes.len());
        let raw = &bytes[start..end];
        let strip: &[u8] = if fill_order == 2 {
            scratch.clear();
            scratch.extend(raw.iter().map(|b| b.reverse_bits()));
            &scratch
        } else {
            raw
        };
        let strip_rows = match coding {
            StoredCoding::Uncompressed | StoredCoding::PackBits => {
                let want = stride * rows as usize;
                let mut data = Vec::with_capacity(want.min(strip.len() * 130));
                if coding == StoredCoding::PackBits {
                    unpack_packbits(strip, &mut data, want)?;
                } else {
                    data.extend_from_slice(&strip[..strip.len().min(want)]);
                }
                let got = (data.len() / stride) as u32;
                data.truncate(got as usize * stride);
                Bitmap::from_packed(width, got, resolution, data)?
            }
            StoredCoding::CcittRle => {
                let d = decode_mh_rle(strip, width, rows, resolution)?;
                bad_rows += d.bad_rows;
                d.bitmap
            }
            StoredCoding::Fax(Coding::Mmr) => {
                let d = decode_mmr(strip, width, Some(rows), resolution)?;
                bad_rows += d.bad_rows;
                d.bitmap
            }
            StoredCoding::Fax(c) => {
                let d = decode_g3(strip, width, c != Coding::Mh, resolution, rows)?;
                bad_rows += d.bad_rows;
                d.bitmap
            }
        };
        // Short strips: conceal the missing rows with the last row, as a fax receiver would.
        let missing = rows.saturating_sub(strip_rows.height());
        if missing > 0 && strip_rows.height() == 0 && done == 0 && i + 1 == offsets.len() {
            return Err(unsupported(format!(
                "page {number}: no image data could be decoded"
            )));
        }
        if matches!(coding, StoredCoding::Fax(_)) {
            raw_strips.push(RawStrip {
                data: strip.to_vec(),
                rows,
            });
        }
        for y in 0..strip_rows.height().min(rows) {
            page.push_row(strip_rows.row(y))?;
        }
        for _ in 0..missing {
            let last = if page.height() > 0 {
                page.row(page.height() - 1).to_vec()
            } else {
                vec![0; stride]
            };
            page.push_row(&last)?;
            bad_rows += 1;
        }
    }
    // Fewer strips than rows: the rest is missing.
    while page.height() < height {
        let last = page.row(page.height() - 1).to_vec();
        page.push_row(&last)?;
        bad_rows += 1;
    }
    if photometric == 1 {
        invert(&mut page);
        // Raw strips are embedded as "white runs are white": not true for these.
        raw_strips.clear();
    }
    if bad_rows > 0 {
        raw_strips.clear();
    }
    Ok(TiffPage {
        bitmap: page,
        dpi,
        coding,
        fill_order,
        bad_rows,
        description,
        raw_strips,
    })
}

fn invert(page: &mut Bitmap) {
    for y in 0..page.height() {
        for b in page.row_mut(y) {
            *b = !*b;
        }
    }
    // Re-clear the padding bits flipped above.
    let rem = page.width() % 8;
    if rem != 0 {
        let mask = 0xffu8 << (8 - rem);
        for y in 0..page.height() {
            let row = page.row_mut(y);
            let last = row.len() - 1;
            row[last] &= mask;
        }
    }
}

/// Options of [`write_tiff`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TiffWriteOptions {
    /// Page coding; `None` writes uncompressed strips.
    pub coding: Option<Coding>,
    /// FillOrder: 1 (MSB first, the default of TIFF) or 2 (LSB first, line order).
    pub fill_order: u16,
    /// ImageDescription, e.g. the remote station identity.
    pub description: Option<String>,
    /// Software tag.
    pub software: String,
    /// DateTime, "YYYY:MM:DD HH:MM:SS", from the simulation clock (never the wall clock).
    pub date_time: Option<String>,
}

impl TiffWriteOptions {
    /// TIFF-F defaults for a coding: FillOrder 1, Software "faxsim".
    pub fn new(coding: Coding) -> Self {
        Self {
            coding: Some(coding),
            fill_order: 1,
            description: None,
            software: "faxsim".into(),
            date_time: None,
        }
    }
}

/// Damage figures of a received page, written as the TIFF-F BadFaxLines,
/// CleanFaxData and ConsecutiveBadFaxLines tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PageDamage {
    /// Rows received bad (concealed).
    pub bad_rows: u32,
    /// Longest run of bad rows.
    pub longest_bad_run: u32,
}

/// Write pages as one TIFF(-F) file. `damage`, when given, has one entry per page.
pub fn write_tiff(
    pages: &[Bitmap],
    damage: Option<&[PageDamage]>,
    opts: &TiffWriteOptions,
) -> Result<Vec<u8>, ImageError> {
    write_tiff_coded(pages, &[], damage, opts)
}

/// As [`write_tiff`], with some pages already coded in `opts.coding` (MSB first):
/// `coded[i]`, when present and not empty, is written as page `i`'s strip instead of
/// coding the bitmap (test pages with long scan lines or an exact coded size).
pub fn write_tiff_coded(
    pages: &[Bitmap],
    coded: &[Vec<u8>],
    damage: Option<&[PageDamage]>,
    opts: &TiffWriteOptions,
) -> Result<Vec<u8>, ImageError> {
    check_write(pages.len(), opts)?;
    let mut out = Cursor::new(Vec::new());
    let mut enc = TiffEncoder::new(&mut out).map_err(write_err)?;
    for (n, page) in pages.iter().enumerate() {
        let strip = match (opts.coding, coded.get(n)) {
            (Some(_), Some(c)) if !c.is_empty() => c.clone(),
            (Some(c), _) => encode_page(page, &EncodeOptions::tiff(c)).data,
            (None, _) => page.data().to_vec(),
        };
        let shape = PageShape {
            width: page.width(),
            height: page.height(),
            resolution: page.resolution,
        };
        write_page(&mut enc, n, pages.len(), shape, strip, damage, opts)?;
    }
    Ok(out.into_inner())
}

/// As [`write_tiff`], for pages held coded: into `out` (a file, typically), one page at a
/// time. MMR pages go out as they are stored; other codings decode one page, code it and
/// let it go, so at most one page is a bitmap at any time.
pub fn write_tiff_document<W: std::io::Write + std::io::Seek>(
    out: W,
    pages: &[CodedPage],
    damage: Option<&[PageDamage]>,
    opts: &TiffWriteOptions,
) -> Result<(), ImageError> {
    check_write(pages.len(), opts)?;
    let mut out = out;
    {
        let mut enc = TiffEncoder::new(&mut out).map_err(write_err)?;
        for (n, page) in pages.iter().enumerate() {
            let strip = match opts.coding {
                Some(Coding::Mmr) => page.mmr().to_vec(),
                Some(c) => encode_page(&page.bitmap()?, &EncodeOptions::tiff(c)).data,
                None => page.bitmap()?.data().to_vec(),
            };
            let shape = PageShape {
                width: page.width(),
                height: page.height(),
                resolution: page.resolution(),
            };
            write_page(&mut enc, n, pages.len(), shape, strip, damage, opts)?;
        }
    }
    out.flush()
        .map_err(|e| unsupported(format!("TIFF writing failed: {e}")))
}

fn write_err(e: tiff::TiffError) -> ImageError {
    unsupported(format!("TIFF writing failed: {e}"))
}

fn check_write(pages: usize, opts: &TiffWriteOptions) -> Result<(), ImageError> {
    if pages == 0 || pages > u16::MAX as usize {
        return Err(unsupported("a TIFF file needs 1 to 65535 pages"));
    }
    if opts.fill_order != 1 && opts.fill_order != 2 {
        return Err(unsupported("FillOrder must be 1 or 2"));
    }
    Ok(())
}

/// Size and resolution of a page being written.
#[derive(Clone, Copy)]
struct PageShape {
    width: u32,
    height: u32,
    resolution: Resolution,
}

/// Writes page `n` of `total` (its strip coded in `opts.coding`, MSB first) and its
/// directory.
fn write_page<W: std::io::Write + std::io::Seek>(
    enc: &mut TiffEncoder<W>,
    n: usize,
    total: usize,
    page: PageShape,
    mut strip: Vec<u8>,
    damage: Option<&[PageDamage]>,
    opts: &TiffWriteOptions,
) -> Result<(), ImageError> {
    let e = write_err;
    if opts.fill_order == 2 {
        super::bits::reverse_bits(&mut strip);
    }
    let mut dir = enc.image_directory().map_err(e)?;
    let offset = dir.write_data(&strip[..]).map_err(e)?;
    let offset = u32::try_from(offset).map_err(|_| unsupported("file over 4 GiB"))?;
    dir.write_tag(Tag::NewSubfileType, 2u32).map_err(e)?;
    dir.write_tag(Tag::ImageWidth, page.width).map_err(e)?;
    dir.write_tag(Tag::ImageLength, page.height).map_err(e)?;
    dir.write_tag(Tag::BitsPerSample, 1u16).map_err(e)?;
    let compression: u16 = match opts.coding {
        None => 1,
        Some(Coding::Mmr) => 4,
        Some(_) => 3,
    };
    dir.write_tag(Tag::Compression, compression).map_err(e)?;
    dir.write_tag(Tag::PhotometricInterpretation, 0u16)
        .map_err(e)?;
    dir.write_tag(Tag::FillOrder, opts.fill_order).map_err(e)?;
    if let Some(d) = &opts.description {
        dir.write_tag(Tag::ImageDescription, d.as_str())
            .map_err(e)?;
    }
    dir.write_tag(Tag::StripOffsets, offset).map_err(e)?;
    dir.write_tag(Tag::Orientation, 1u16).map_err(e)?;
    dir.write_tag(Tag::SamplesPerPixel, 1u16).map_err(e)?;
    dir.write_tag(Tag::RowsPerStrip, page.height.max(1))
        .map_err(e)?;
    dir.write_tag(Tag::StripByteCounts, strip.len() as u32)
        .map_err(e)?;
    let r = page.resolution;
    dir.write_tag(Tag::XResolution, Rational { n: r.x_dpi(), d: 1 })
        .map_err(e)?;
    dir.write_tag(Tag::YResolution, Rational { n: r.y_dpi(), d: 1 })
        .map_err(e)?;
    match opts.coding {
        Some(Coding::Mr { .. }) => dir.write_tag(TAG_T4_OPTIONS, 1u32).map_err(e)?,
        Some(Coding::Mh) => dir.write_tag(TAG_T4_OPTIONS, 0u32).map_err(e)?,
        Some(Coding::Mmr) => dir.write_tag(TAG_T6_OPTIONS, 0u32).map_err(e)?,
        None => {}
    }
    dir.write_tag(Tag::ResolutionUnit, 2u16).map_err(e)?;
    dir.write_tag(TAG_PAGE_NUMBER, [n as u16, total as u16])
        .map_err(e)?;
    dir.write_tag(Tag::Software, opts.software.as_str())
        .map_err(e)?;
    if let Some(t) = &opts.date_time {
        dir.write_tag(Tag::DateTime, t.as_str()).map_err(e)?;
    }
    if let Some(d) = damage.and_then(|d| d.get(n)) {
        dir.write_tag(TAG_BAD_FAX_LINES, d.bad_rows).map_err(e)?;
        let clean: u16 = if d.bad_rows == 0 { 0 } else { 2 };
        dir.write_tag(TAG_CLEAN_FAX_DATA, clean).map_err(e)?;
        dir.write_tag(TAG_CONSECUTIVE_BAD_FAX_LINES, d.longest_bad_run)
            .map_err(e)?;
    }
    dir.finish().map_err(e)?;
    Ok(())
}
