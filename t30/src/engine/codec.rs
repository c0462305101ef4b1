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
use crate::image::store::{CodedPage, Document};
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

/// The page as it goes out at `params` (resolution reduced by merging rows when needed);
/// borrowed when it goes out as it is.
pub fn page_for<'a>(
    page: &'a Bitmap,
    params: &PageParams,
) -> Result<std::borrow::Cow<'a, Bitmap>, Completion> {
    let target = image_resolution(params.resolution);
    if page.resolution == target {
        return Ok(std::borrow::Cow::Borrowed(page));
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
    .map(std::borrow::Cow::Owned)
    .map_err(|_| Completion::Badtiff)
}

fn page_info_of(resolution: image::Resolution, width_pels: u32) -> PageInfo {
    PageInfo {
        resolution: engine_resolution(resolution),
        width: engine_width(page_width_of(resolution, width_pels)),
    }
}

/// Codes one page for `params`: the page is converted (when needed) and coded, and nothing
/// of it is kept.
fn encode_for(page: &Bitmap, params: &PageParams) -> Result<EncodedPage, Completion> {
    let bitmap = page_for(page, params)?;
    let mut opts = EncodeOptions::line(image_coding(params.coding, params.resolution));
    opts.min_row_bits = if params.ecm { 0 } else { params.min_row_bits };
    let coded = image::encode_page(&bitmap, &opts);
    Ok(EncodedPage {
        row_data: coded.rows.iter().map(row_data_of).collect(),
        data: coded.data,
    })
}

/// The octets that hold only a row's image data.
fn row_data_of(r: &image::RowSpan) -> std::ops::Range<usize> {
    r.data_start.div_ceil(8)..(r.data_end / 8).max(r.data_start.div_ceil(8))
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
        page_info_of(b.resolution, b.width())
    }

    fn encode_page(&mut self, page: usize, params: &PageParams) -> Result<EncodedPage, Completion> {
        encode_for(self.pages.get(page).ok_or(Completion::Nopage)?, params)
    }
}

/// A document of pages held coded ([`Document`]): each page is decoded only while it is
/// being coded for the call, so a long document costs its coded size, not its bitmaps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodedDocument {
    /// The pages, in order.
    pub doc: Document,
}

impl CodedDocument {
    /// A document of these pages.
    pub fn new(doc: Document) -> Self {
        CodedDocument { doc }
    }
}

impl DocumentSource for CodedDocument {
    fn pages(&self) -> usize {
        self.doc.len()
    }

    fn page_info(&self, page: usize) -> PageInfo {
        let p = &self.doc.pages()[page];
        page_info_of(p.resolution(), p.width())
    }

    fn encode_page(&mut self, page: usize, params: &PageParams) -> Result<EncodedPage, Completion> {
        let coded = self.doc.page(page).ok_or(Completion::Nopage)?;
        // MMR at the page's own resolution is the stored code itself (the line and TIFF
        // options of MMR are the same), and the stored page knows where its rows lie.
        if params.coding == Coding::Mmr && coded.resolution() == image_resolution(params.resolution)
        {
            return Ok(EncodedPage {
                row_data: coded.row_spans().iter().map(row_data_of).collect(),
                data: coded.mmr().to_vec(),
            });
        }
        // A stored page that does not decode is a damaged document, as a bad TIFF is.
        let bitmap = coded.bitmap().map_err(|_| Completion::Badtiff)?;
        encode_for(&bitmap, params)
    }
}

/// A page a [`DecodingSink`] kept: coded, with the damage it arrived with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedPage {
    /// The page as decoded (bad rows concealed), held coded.
    pub page: CodedPage,
    /// Rows that were corrupt (and concealed).
    pub bad_rows: u32,
    /// Longest run of consecutive bad rows.
    pub longest_bad_run: u32,
    /// Whether the page ended with RTC (G3) or EOFB (MMR).
    pub end_of_page_seen: bool,
}

impl ReceivedPage {
    /// The pels of the page.
    pub fn bitmap(&self) -> Bitmap {
        self.page
            .bitmap()
            .expect("pages kept by the sink are coded by our own encoder")
    }
}

/// Pages a [`DecodingSink`] kept, shared with whoever reads them after the call.
pub type ReceivedPages = Arc<Mutex<Vec<ReceivedPage>>>;

/// Decodes received pages with the T.4/T.6 decoder.
#[derive(Debug, Default)]
pub struct DecodingSink {
    current: Option<(PageParams, Vec<u8>)>,
    decoded: Option<DecodedPage>,
    /// The received MMR when it is our encoder's code of the decoded page (kept as it is).
    own_code: Option<(Vec<u8>, image::codec::OwnMmrCode)>,
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
        self.own_code = None;
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
        self.own_code = None;
        let decoded = match params.coding {
            Coding::Mmr => {
                image::codec::decode_mmr_coded(&data, width, None, res).map(|(page, own)| {
                    self.own_code = own.map(|code| (data, code));
                    page
                })
            }
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
        // Only the committed page is ever a bitmap here: it is kept coded.
        let own_code = self.own_code.take();
        if let Some(p) = self.decoded.take()
            && keep
            && let Ok(mut k) = self.kept.lock()
        {
            // A page that arrived in our encoder's own code is kept as it came.
            let page = match own_code {
                Some((data, code)) => CodedPage::from_own_code(&p.bitmap, &data, code),
                None => CodedPage::from_bitmap(&p.bitmap),
            };
            k.push(ReceivedPage {
                page,
                bad_rows: p.bad_rows,
                longest_bad_run: p.longest_bad_run,
                end_of_page_seen: p.end_of_page_seen,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::testpage::{TestPageKind, TestPageOptions, make_test_page};

    #[test]
    fn a_coded_document_codes_as_the_bitmap_document() {
        let pages: Vec<Bitmap> = [TestPageKind::Impress, TestPageKind::Diag]
            .iter()
            .map(|k| {
                let opts = TestPageOptions {
                    resolution: image::Resolution::Fine,
                    ..TestPageOptions::default()
                };
                make_test_page(*k, 0, &opts).unwrap().bitmap
            })
            .collect();
        let mut bitmaps = BitmapDocument::new(pages.clone());
        let mut coded = CodedDocument::new(Document::from_bitmaps(&pages));
        for coding in [Coding::Mh, Coding::Mr, Coding::Mmr] {
            for resolution in [Resolution::Fine, Resolution::Standard] {
                for ecm in [true, false] {
                    let params = PageParams {
                        coding,
                        resolution,
                        width: PageWidth::A4,
                        min_row_bits: 96,
                        ecm,
                    };
                    for page in 0..pages.len() {
                        assert_eq!(coded.page_info(page), bitmaps.page_info(page));
                        assert_eq!(
                            coded.encode_page(page, &params),
                            bitmaps.encode_page(page, &params),
                            "{coding:?} {resolution:?} ecm={ecm} page {page}"
                        );
                    }
                }
            }
        }
    }
}
