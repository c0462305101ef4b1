//! Adapters from the engine's page traits to the image module's T.4/T.6 codec.
//!
//! [`BitmapDocument`] encodes bilevel pages for the negotiated coding, resolution, width and
//! minimum row length; [`DecodingSink`] decodes what arrives and reports bad rows. Coded
//! octets are in the codec's order: the most significant bit of each octet is the first
//! bit on the line.

use std::sync::{Arc, Mutex};

use crate::completion::Completion;
use crate::frame::PageWidth;
use crate::image::convert::{WidthPolicy, convert_page, page_width_of};
use crate::image::{self, Bitmap, DecodedPage, EncodeOptions, MAX_HEIGHT};

use super::page::{
    Coding, DocumentSource, EncodedPage, PageInfo, PageParams, PageQuality, PageSink, Resolution,
};

/// The image module's resolution for the engine's.
pub fn image_resolution(r: Resolution) -> image::Resolution {
    match r {
        Resolution::Standard => image::Resolution::Standard,
        Resolution::Fine => image::Resolution::Fine,
        Resolution::Superfine => image::Resolution::Superfine,
    }
}

/// The engine's resolution for an image resolution (the nearest of the three R8 ones).
pub fn engine_resolution(r: image::Resolution) -> Resolution {
    match r.y_dpi() {
        0..=150 => Resolution::Standard,
        151..=300 => Resolution::Fine,
        _ => Resolution::Superfine,
    }
}

fn image_width(w: PageWidth) -> image::PageWidth {
    match w {
        PageWidth::A4 => image::PageWidth::A4,
        PageWidth::B4 => image::PageWidth::B4,
        PageWidth::A3 => image::PageWidth::A3,
    }
}

fn engine_width(w: image::PageWidth) -> PageWidth {
    match w {
        image::PageWidth::A4 => PageWidth::A4,
        image::PageWidth::B4 => PageWidth::B4,
        image::PageWidth::A3 => PageWidth::A3,
    }
}

fn image_coding(c: Coding, r: Resolution) -> image::Coding {
    match c {
        Coding::Mh => image::Coding::Mh,
        Coding::Mr => image::Coding::mr_for(image_resolution(r)),
        Coding::Mmr => image::Coding::Mmr,
    }
}

/// The page as it goes out at `params` (resolution reduced by merging rows when needed).
pub fn page_for(page: &Bitmap, params: &PageParams) -> Result<Bitmap, Completion> {
    let target = image_resolution(params.resolution);
    if page.resolution == target {
        return Ok(page.clone());
    }
    let src = (
        page.resolution.x_dpi() as f64,
        page.resolution.y_dpi() as f64,
    );
    convert_page(
        page,
        Some(src),
        target,
        image_width(params.width),
        WidthPolicy::Scale,
    )
    .map_err(|_| Completion::Badtiff)
}

/// A document of bilevel pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BitmapDocument {
    /// The pages, in order.
    pub pages: Vec<Bitmap>,
}

impl BitmapDocument {
    /// A document of these pages.
    pub fn new(pages: Vec<Bitmap>) -> Self {
        BitmapDocument { pages }
    }
}

impl DocumentSource for BitmapDocument {
    fn pages(&self) -> usize {
        self.pages.len()
    }

    fn page_info(&self, page: usize) -> PageInfo {
        let b = &self.pages[page];
        PageInfo {
            resolution: engine_resolution(b.resolution),
            width: engine_width(page_width_of(b.resolution, b.width())),
        }
    }

    fn encode_page(&mut self, page: usize, params: &PageParams) -> Result<EncodedPage, Completion> {
        let src = self.pages.get(page).ok_or(Completion::Nopage)?;
        let bitmap = page_for(src, params)?;
        let mut opts = EncodeOptions::line(image_coding(params.coding, params.resolution));
        opts.min_row_bits = if params.ecm { 0 } else { params.min_row_bits };
        let coded = image::encode_page(&bitmap, &opts);
        Ok(EncodedPage {
            row_data: coded
                .rows
                .iter()
                .map(|r| r.data_start.div_ceil(8)..(r.data_end / 8).max(r.data_start.div_ceil(8)))
                .collect(),
            data: coded.data,
        })
    }
}

/// Pages a [`DecodingSink`] kept, shared with whoever reads them after the call.
pub type ReceivedPages = Arc<Mutex<Vec<DecodedPage>>>;

/// Decodes received pages with the T.4/T.6 decoder.
#[derive(Debug, Default)]
pub struct DecodingSink {
    current: Option<(PageParams, Vec<u8>)>,
    decoded: Option<DecodedPage>,
    kept: ReceivedPages,
}

impl DecodingSink {
    /// A sink and the handle to its kept pages.
    pub fn new() -> (DecodingSink, ReceivedPages) {
        let kept = ReceivedPages::default();
        (
            DecodingSink {
                kept: kept.clone(),
                ..Default::default()
            },
            kept,
        )
    }
}

impl PageSink for DecodingSink {
    fn start_page(&mut self, params: &PageParams) {
        self.current = Some((*params, Vec::new()));
        self.decoded = None;
    }

    fn data(&mut self, bytes: &[u8]) {
        if let Some((_, d)) = self.current.as_mut() {
            d.extend_from_slice(bytes);
        }
    }

    fn end_page(&mut self) -> PageQuality {
        let Some((params, data)) = self.current.take() else {
            return PageQuality::default();
        };
        let res = image_resolution(params.resolution);
        let width = res.width_pels(image_width(params.width));
        let decoded = match params.coding {
            Coding::Mmr => image::decode_mmr(&data, width, None, res),
            c => image::decode_g3(&data, width, c == Coding::Mr, res, MAX_HEIGHT),
        };
        match decoded {
            Ok(page) => {
                let q = PageQuality {
                    rows: page.bitmap.height(),
                    bad_rows: page.bad_rows,
                    longest_bad_run: page.longest_bad_run,
                    complete: page.end_of_page_seen,
                    longest_line_bits: page.longest_line_bits,
                };
                self.decoded = Some(page);
                q
            }
            Err(_) => PageQuality::default(),
        }
    }

    fn commit_page(&mut self, keep: bool) {
        if let Some(p) = self.decoded.take()
            && keep
            && let Ok(mut k) = self.kept.lock()
        {
            k.push(p);
        }
    }
}
