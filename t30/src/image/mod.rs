//! Fax page images: the bilevel [`Bitmap`], T.4 (MH, MR) and T.6 (MMR) coding, TIFF-F
//! reading and writing, PDF output, test pages and resolution/size conversion.
//!
//! Pels are stored packed, most significant bit first, `1` = black (the fax convention,
//! TIFF `PhotometricInterpretation = 0`).

pub mod bits;
pub mod codec;
pub mod convert;
mod font;
pub mod load;
pub mod pdf;
pub mod store;
mod tables;
pub mod testpage;
pub mod tiff;

pub use codec::{
    Coding, CopyQuality, DecodedPage, EncodeOptions, EncodedPage, G3Decoder, RowSpan, decode_g3,
    decode_mh_rle, decode_mmr, encode_page, encode_page_with_fill, min_row_bits,
};

use thiserror::Error;

/// Largest page width accepted anywhere (pels): A3 at 400 dpi is 4864; allow headroom.
pub const MAX_WIDTH: u32 = 16_384;
/// Largest page height accepted by default (rows): over 2 m at 400 dpi.
pub const MAX_HEIGHT: u32 = 32_768;

/// Errors of the image layer.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ImageError {
    /// The page dimensions are zero or beyond the limits.
    #[error("unsupported page size {width}x{height}")]
    BadSize {
        /// Width in pels.
        width: u32,
        /// Height in rows.
        height: u32,
    },
    /// Coded data is corrupt beyond repair.
    #[error("corrupt coded data: {0}")]
    Corrupt(String),
    /// A file is not a usable bilevel image.
    #[error("{0}")]
    Unsupported(String),
}

/// Vertical and horizontal resolution of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Resolution {
    /// R8 × 3.85 lines/mm ("standard", 204 × 98 dpi).
    Standard,
    /// R8 × 7.7 lines/mm ("fine", 204 × 196 dpi).
    Fine,
    /// R8 × 15.4 lines/mm ("superfine", 204 × 391 dpi).
    Superfine,
    /// R16 × 15.4 lines/mm (408 × 391 dpi).
    R16,
    /// 200 × 100 dpi.
    Dpi200x100,
    /// 200 × 200 dpi.
    Dpi200,
    /// 300 × 300 dpi.
    Dpi300,
    /// 400 × 400 dpi.
    Dpi400,
}

/// Fax page widths (ISO A4, B4, A3 scan widths of T.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PageWidth {
    /// 215 mm (A4).
    A4,
    /// 255 mm (B4).
    B4,
    /// 303 mm (A3).
    A3,
}

impl PageWidth {
    /// All widths, narrowest first.
    pub const ALL: [PageWidth; 3] = [PageWidth::A4, PageWidth::B4, PageWidth::A3];
}

impl Resolution {
    /// Every resolution.
    pub const ALL: [Resolution; 8] = [
        Resolution::Standard,
        Resolution::Fine,
        Resolution::Superfine,
        Resolution::R16,
        Resolution::Dpi200x100,
        Resolution::Dpi200,
        Resolution::Dpi300,
        Resolution::Dpi400,
    ];

    /// Horizontal resolution in pels per inch, as written to TIFF.
    pub fn x_dpi(self) -> u32 {
        match self {
            Resolution::Standard | Resolution::Fine | Resolution::Superfine => 204,
            Resolution::R16 => 408,
            Resolution::Dpi200x100 | Resolution::Dpi200 => 200,
            Resolution::Dpi300 => 300,
            Resolution::Dpi400 => 400,
        }
    }

    /// Vertical resolution in lines per inch, as written to TIFF (fax software convention:
    /// 98, 196, 391 for the metric 3.85, 7.7, 15.4 lines/mm).
    pub fn y_dpi(self) -> u32 {
        match self {
            Resolution::Standard => 98,
            Resolution::Fine => 196,
            Resolution::Superfine | Resolution::R16 => 391,
            Resolution::Dpi200x100 => 100,
            Resolution::Dpi200 => 200,
            Resolution::Dpi300 => 300,
            Resolution::Dpi400 => 400,
        }
    }

    /// The T.4 scan-line width in pels for a paper width at this resolution.
    pub fn width_pels(self, width: PageWidth) -> u32 {
        let w = match width {
            PageWidth::A4 => 0,
            PageWidth::B4 => 1,
            PageWidth::A3 => 2,
        };
        match self {
            Resolution::R16 | Resolution::Dpi400 => [3456, 4096, 4864][w],
            Resolution::Dpi300 => [2592, 3072, 3648][w],
            _ => [1728, 2048, 2432][w],
        }
    }

    /// Rows for a page `length_mm` long.
    pub fn rows_for_mm(self, length_mm: f64) -> u32 {
        (length_mm * self.y_dpi() as f64 / 25.4).round() as u32
    }

    /// The closest known resolution to a pair of dots per inch (as read from a file).
    pub fn from_dpi(x: f64, y: f64) -> Option<Resolution> {
        let mut best = None;
        let mut best_err = f64::MAX;
        for r in Resolution::ALL {
            let ex = (r.x_dpi() as f64 - x).abs() / r.x_dpi() as f64;
            let ey = (r.y_dpi() as f64 - y).abs() / r.y_dpi() as f64;
            // Within 5 % on each axis: 200 and 204 dpi are told apart by the closer match.
            if ex < 0.05 && ey < 0.05 && ex + ey < best_err {
                best_err = ex + ey;
                best = Some(r);
            }
        }
        best
    }

    /// The known resolution closest to a pair of dots per inch, whatever the distance.
    pub fn nearest(x: f64, y: f64) -> Resolution {
        Resolution::from_dpi(x, y).unwrap_or_else(|| {
            let err = |r: Resolution| {
                ((r.x_dpi() as f64 / x).ln().abs()) + ((r.y_dpi() as f64 / y).ln().abs())
            };
            let mut best = Resolution::Standard;
            for r in Resolution::ALL {
                if err(r) < err(best) {
                    best = r;
                }
            }
            best
        })
    }

    /// Short name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Resolution::Standard => "standard",
            Resolution::Fine => "fine",
            Resolution::Superfine => "superfine",
            Resolution::R16 => "r16",
            Resolution::Dpi200x100 => "200x100",
            Resolution::Dpi200 => "200",
            Resolution::Dpi300 => "300",
            Resolution::Dpi400 => "400",
        }
    }
}

/// A bilevel page: packed rows, MSB first, `1` = black.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bitmap {
    width: u32,
    height: u32,
    /// Physical resolution.
    pub resolution: Resolution,
    data: Vec<u8>,
}

impl Bitmap {
    /// An all-white page. Fails when a dimension is zero or above [`MAX_WIDTH`] /
    /// [`MAX_HEIGHT`].
    pub fn new(width: u32, height: u32, resolution: Resolution) -> Result<Self, ImageError> {
        if width == 0 || width > MAX_WIDTH || height > MAX_HEIGHT {
            return Err(ImageError::BadSize { width, height });
        }
        let stride = width.div_ceil(8) as usize;
        Ok(Self {
            width,
            height,
            resolution,
            data: vec![0; stride * height as usize],
        })
    }

    /// A page from packed rows (`stride = ceil(width / 8)` bytes each). Pad bits past the
    /// width are cleared.
    pub fn from_packed(
        width: u32,
        height: u32,
        resolution: Resolution,
        data: Vec<u8>,
    ) -> Result<Self, ImageError> {
        let mut b = Self::new(width, 0, resolution)?;
        if height > MAX_HEIGHT || data.len() != b.stride() * height as usize {
            return Err(ImageError::BadSize { width, height });
        }
        b.height = height;
        b.data = data;
        b.clear_padding();
        Ok(b)
    }

    fn clear_padding(&mut self) {
        let rem = self.width % 8;
        if rem != 0 {
            let mask = 0xffu8 << (8 - rem);
            let stride = self.stride();
            for row in self.data.chunks_mut(stride) {
                row[stride - 1] &= mask;
            }
        }
    }

    /// Width in pels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in rows.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Bytes per packed row.
    pub fn stride(&self) -> usize {
        self.width.div_ceil(8) as usize
    }

    /// All packed rows.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// One packed row.
    pub fn row(&self, y: u32) -> &[u8] {
        let s = self.stride();
        &self.data[y as usize * s..(y as usize + 1) * s]
    }

    /// One packed row, mutable.
    pub fn row_mut(&mut self, y: u32) -> &mut [u8] {
        let s = self.stride();
        &mut self.data[y as usize * s..(y as usize + 1) * s]
    }

    /// Append a packed row (pad bits are cleared).
    pub fn push_row(&mut self, row: &[u8]) -> Result<(), ImageError> {
        if self.height >= MAX_HEIGHT || row.len() != self.stride() {
            return Err(ImageError::BadSize {
                width: self.width,
                height: self.height + 1,
            });
        }
        self.data.extend_from_slice(row);
        self.height += 1;
        let rem = self.width % 8;
        if rem != 0 {
            let last = self.data.len() - 1;
            self.data[last] &= 0xffu8 << (8 - rem);
        }
        Ok(())
    }

    /// Pel at (x, y): true = black.
    pub fn get(&self, x: u32, y: u32) -> bool {
        let i = y as usize * self.stride() + x as usize / 8;
        self.data[i] & (0x80 >> (x % 8)) != 0
    }

    /// Set pel (x, y).
    pub fn set(&mut self, x: u32, y: u32, black: bool) {
        let i = y as usize * self.stride() + x as usize / 8;
        let m = 0x80 >> (x % 8);
        if black {
            self.data[i] |= m;
        } else {
            self.data[i] &= !m;
        }
    }

    /// Fill the rectangle `[x0, x1) × [y0, y1)` (clipped) black or white.
    pub fn fill_rect(&mut self, x0: u32, y0: u32, x1: u32, y1: u32, black: bool) {
        for y in y0..y1.min(self.height) {
            for x in x0..x1.min(self.width) {
                self.set(x, y, black);
            }
        }
    }

    /// Number of black pels.
    pub fn black_count(&self) -> u64 {
        self.data.iter().map(|b| b.count_ones() as u64).sum()
    }

    /// Physical size in millimetres (width, height).
    pub fn size_mm(&self) -> (f64, f64) {
        (
            self.width as f64 * 25.4 / self.resolution.x_dpi() as f64,
            self.height as f64 * 25.4 / self.resolution.y_dpi() as f64,
        )
    }
}
