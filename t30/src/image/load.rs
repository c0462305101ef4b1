//! Loading documents to send: TIFF (any bilevel), PBM and PNG pages, with the two
//! operator-facing error strings of the document layer.

use std::path::Path;

use super::store::{CodedPage, Document};
use super::tiff::{StoredCoding, read_tiff};
use super::{Bitmap, ImageError, MAX_HEIGHT, MAX_WIDTH, Resolution};

/// Exact string reported when a document file is missing or unreadable.
pub const DOCUMENT_LOADING_ERROR: &str = "Document loading error.";
/// Exact string reported when a document cannot be turned into fax pages.
pub const DOCUMENT_GENERATION_ERROR: &str = "Document generation error";

/// A document that cannot be used, with the operator's string and the detail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    /// The file is missing or cannot be read.
    #[error("Document loading error. {path}: {reason}")]
    Loading {
        /// The path given.
        path: String,
        /// What the operating system said.
        reason: String,
    },
    /// The file is not a usable bilevel image.
    #[error("Document generation error: {path}: {reason}")]
    Generation {
        /// The path given.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl DocumentError {
    /// The exact operator string (error-strings table B) for this error.
    pub fn status(&self) -> &'static str {
        match self {
            DocumentError::Loading { .. } => DOCUMENT_LOADING_ERROR,
            DocumentError::Generation { .. } => DOCUMENT_GENERATION_ERROR,
        }
    }
}

/// One loaded page.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedPage {
    /// The pels (black = 1).
    pub bitmap: Bitmap,
    /// Resolution in dots per inch if the file says (PBM never does; PNG may).
    pub dpi: Option<(f64, f64)>,
    /// Coding in the file, for TIFF.
    pub coding: Option<StoredCoding>,
    /// Rows that could not be decoded (TIFF with damaged coded data).
    pub bad_rows: u32,
}

/// The file formats recognised by their first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// TIFF ("II*\0" or "MM\0*").
    Tiff,
    /// Portable bitmap (P1 or P4).
    Pbm,
    /// PNG.
    Png,
}

/// Recognise a file by its magic bytes.
pub fn sniff(bytes: &[u8]) -> Option<FileKind> {
    if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        Some(FileKind::Tiff)
    } else if bytes.starts_with(b"P1") || bytes.starts_with(b"P4") {
        Some(FileKind::Pbm)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(FileKind::Png)
    } else {
        None
    }
}

/// Load a document from a file.
pub fn load_document(path: &Path) -> Result<Vec<LoadedPage>, DocumentError> {
    let p = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| DocumentError::Loading {
        path: p.clone(),
        reason: e.to_string(),
    })?;
    load_bytes(&bytes).map_err(|e| DocumentError::Generation {
        path: p,
        reason: e.to_string(),
    })
}

/// Load a document from a file, page by page, each page kept coded ([`Document`]): a long
/// TIFF never has more than one page decoded at a time.
pub fn load_document_coded(path: &Path) -> Result<Document, DocumentError> {
    let p = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| DocumentError::Loading {
        path: p.clone(),
        reason: e.to_string(),
    })?;
    load_bytes_coded(&bytes).map_err(|e| DocumentError::Generation {
        path: p,
        reason: e.to_string(),
    })
}

/// [`load_bytes`], each page kept coded as soon as it is read.
pub fn load_bytes_coded(bytes: &[u8]) -> Result<Document, ImageError> {
    if sniff(bytes) == Some(FileKind::Tiff) {
        let mut pages = Vec::new();
        super::tiff::read_tiff_each(bytes, |p| {
            pages.push(CodedPage::from_bitmap(&p.bitmap));
            Ok(())
        })?;
        return Ok(Document::new(pages));
    }
    Ok(load_bytes(bytes)?
        .iter()
        .map(|p| CodedPage::from_bitmap(&p.bitmap))
        .collect())
}

/// Load a document held in memory.
pub fn load_bytes(bytes: &[u8]) -> Result<Vec<LoadedPage>, ImageError> {
    match sniff(bytes) {
        Some(FileKind::Tiff) => Ok(read_tiff(bytes)?
            .into_iter()
            .map(|p| LoadedPage {
                bitmap: p.bitmap,
                dpi: Some(p.dpi),
                coding: Some(p.coding),
                bad_rows: p.bad_rows,
            })
            .collect()),
        Some(FileKind::Pbm) => Ok(vec![LoadedPage {
            bitmap: read_pbm(bytes)?,
            dpi: None,
            coding: None,
            bad_rows: 0,
        }]),
        Some(FileKind::Png) => {
            let (bitmap, dpi) = read_png(bytes)?;
            Ok(vec![LoadedPage {
                bitmap,
                dpi,
                coding: None,
                bad_rows: 0,
            }])
        }
        None => Err(ImageError::Unsupported(
            "not a TIFF, PBM or PNG file (unrecognised first bytes)".into(),
        )),
    }
}

fn bad(msg: impl Into<String>) -> ImageError {
    ImageError::Unsupported(msg.into())
}

fn check_size(w: u64, h: u64) -> Result<(u32, u32), ImageError> {
    if w == 0 || h == 0 || w > MAX_WIDTH as u64 || h > MAX_HEIGHT as u64 {
        return Err(bad(format!(
            "size {w}x{h} is outside 1..={MAX_WIDTH} x 1..={MAX_HEIGHT} pels"
        )));
    }
    Ok((w as u32, h as u32))
}

/// Read a PBM file (P1 plain or P4 raw; the first image only).
pub fn read_pbm(bytes: &[u8]) -> Result<Bitmap, ImageError> {
    let mut pos = 2;
    let mut header = [0u64; 2];
    for v in &mut header {
        // Skip white space and comments.
        loop {
            match bytes.get(pos) {
                Some(b'#') => {
                    while pos < bytes.len() && bytes[pos] != b'\n' {
                        pos += 1;
                    }
                }
                Some(c) if c.is_ascii_whitespace() => pos += 1,
                _ => break,
            }
        }
        let start = pos;
        while pos < bytes.len() && bytes[pos].is_ascii_digit() && pos - start < 10 {
            pos += 1;
        }
        *v = std::str::from_utf8(&bytes[start..pos])
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("PBM header has no valid size"))?;
    }
    let (w, h) = check_size(header[0], header[1])?;
    let mut page = Bitmap::new(w, h, Resolution::Fine)?;
    if bytes[1] == b'4' {
        pos += 1; // the single white space after the height
        let stride = page.stride();
        let need = stride * h as usize;
        let data = bytes
            .get(pos..pos + need)
            .ok_or_else(|| bad("PBM data is truncated"))?;
        return Bitmap::from_packed(w, h, Resolution::Fine, data.to_vec());
    }
    let mut digits = bytes[pos..].iter().filter(|c| **c == b'0' || **c == b'1');
    for y in 0..h {
        for x in 0..w {
            let d = digits.next().ok_or_else(|| bad("PBM data is truncated"))?;
            page.set(x, y, *d == b'1');
        }
    }
    Ok(page)
}

/// Read a PNG picture as a bilevel page: luminance below 50 % (or a transparent pel) turns
/// white, darker pels black. Returns the page and the resolution if the file has pHYs.
pub fn read_png(bytes: &[u8]) -> Result<(Bitmap, Option<(f64, f64)>), ImageError> {
    let e = |e: png::DecodingError| bad(format!("PNG: {e}"));
    let mut dec = png::Decoder::new_with_limits(
        std::io::Cursor::new(bytes),
        png::Limits { bytes: 256 << 20 },
    );
    dec.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = dec.read_info().map_err(e)?;
    let info = reader.info();
    let (w, h) = check_size(info.width as u64, info.height as u64)?;
    let dpi = info.pixel_dims.and_then(|d| {
        (d.unit == png::Unit::Meter && d.xppu > 0 && d.yppu > 0)
            .then_some((d.xppu as f64 * 0.0254, d.yppu as f64 * 0.0254))
    });
    let size = reader
        .output_buffer_size()
        .filter(|&n| n <= 256 << 20)
        .ok_or_else(|| bad("PNG too large"))?;
    let mut buf = vec![0; size];
    let frame = reader.next_frame(&mut buf).map_err(e)?;
    let (ct, _) = reader.output_color_type();
    let channels = ct.samples();
    let mut page = Bitmap::new(w, h, Resolution::Fine)?;
    for y in 0..h {
        let row = &buf[y as usize * frame.line_size..][..frame.line_size];
        for x in 0..w {
            let px = &row[x as usize * channels..][..channels];
            let (luma, alpha) = match channels {
                1 => (px[0] as u32, 255),
                2 => (px[0] as u32, px[1] as u32),
                3 => (
                    (px[0] as u32 * 299 + px[1] as u32 * 587 + px[2] as u32 * 114) / 1000,
                    255,
                ),
                _ => (
                    (px[0] as u32 * 299 + px[1] as u32 * 587 + px[2] as u32 * 114) / 1000,
                    px[3] as u32,
                ),
            };
            page.set(x, y, alpha >= 128 && luma < 128);
        }
    }
    Ok((page, dpi))
}

/// Write a page as a raw (P4) PBM file.
pub fn write_pbm(page: &Bitmap) -> Vec<u8> {
    let mut out = format!("P4\n{} {}\n", page.width(), page.height()).into_bytes();
    out.extend_from_slice(page.data());
    out
}
