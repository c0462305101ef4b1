//! PDF output: one page per fax page at its true physical size, the CCITT data embedded
//! as is with the CCITTFaxDecode filter.

use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref};

use super::codec::{Coding, EncodeOptions, encode_page};
use super::store::CodedPage;
use super::tiff::{StoredCoding, TiffPage};
use super::{Bitmap, ImageError};

/// One CCITT-coded image strip of a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CcittStrip {
    /// Coded bytes, MSB first.
    pub data: Vec<u8>,
    /// Rows in the strip.
    pub rows: u32,
    /// The filter's K: −1 for T.6, 0 for T.4 1-D, > 0 for T.4 2-D.
    pub k: i32,
}

/// A page for the PDF writer.
#[derive(Debug, Clone, PartialEq)]
pub struct PdfPage {
    /// Width in pels.
    pub width: u32,
    /// Height in rows.
    pub height: u32,
    /// Resolution in dots per inch (x, y): sets the physical page size.
    pub dpi: (f64, f64),
    /// The coded strips, top to bottom.
    pub strips: Vec<CcittStrip>,
}

impl PdfPage {
    /// A page from a bitmap, coded MMR.
    pub fn from_bitmap(page: &Bitmap) -> Self {
        let r = page.resolution;
        Self {
            width: page.width(),
            height: page.height(),
            dpi: (r.x_dpi() as f64, r.y_dpi() as f64),
            strips: vec![CcittStrip {
                data: encode_page(page, &EncodeOptions::tiff(Coding::Mmr)).data,
                rows: page.height(),
                k: -1,
            }],
        }
    }

    /// A page held coded: its MMR code is embedded as it is (the same bytes
    /// [`from_bitmap`](Self::from_bitmap) would code).
    pub fn from_coded(page: &CodedPage) -> Self {
        let r = page.resolution();
        Self {
            width: page.width(),
            height: page.height(),
            dpi: (r.x_dpi() as f64, r.y_dpi() as f64),
            strips: vec![CcittStrip {
                data: page.mmr().to_vec(),
                rows: page.height(),
                k: -1,
            }],
        }
    }

    /// A page from a TIFF page: its CCITT strips are embedded unchanged when it has them
    /// (and they decoded cleanly); other pages are coded MMR.
    pub fn from_tiff_page(page: &TiffPage) -> Self {
        let k = match page.coding {
            StoredCoding::Fax(Coding::Mmr) => -1,
            StoredCoding::Fax(Coding::Mh) => 0,
            StoredCoding::Fax(Coding::Mr { .. }) => 4,
            _ => {
                return Self {
                    dpi: page.dpi,
                    ..Self::from_bitmap(&page.bitmap)
                };
            }
        };
        if page.raw_strips.is_empty() {
            return Self {
                dpi: page.dpi,
                ..Self::from_bitmap(&page.bitmap)
            };
        }
        Self {
            width: page.bitmap.width(),
            height: page.bitmap.height(),
            dpi: page.dpi,
            strips: page
                .raw_strips
                .iter()
                .map(|s| CcittStrip {
                    data: s.data.clone(),
                    rows: s.rows,
                    k,
                })
                .collect(),
        }
    }

    /// Page size in PDF points (1/72 inch).
    pub fn size_pt(&self) -> (f32, f32) {
        (
            (self.width as f64 * 72.0 / self.dpi.0) as f32,
            (self.height as f64 * 72.0 / self.dpi.1) as f32,
        )
    }
}

/// Write a PDF document, one page per [`PdfPage`]. Deterministic: no dates, no ids.
pub fn write_pdf(pages: &[PdfPage]) -> Result<Vec<u8>, ImageError> {
    if pages.is_empty() {
        return Err(ImageError::Unsupported(
            "a PDF needs at least one page".into(),
        ));
    }
    let mut pdf = Pdf::new();
    let mut next = 1;
    let mut alloc = || {
        let r = Ref::new(next);
        next += 1;
        r
    };
    let catalog_id = alloc();
    let tree_id = alloc();
    let info_id = alloc();
    let mut page_ids = Vec::new();
    pdf.catalog(catalog_id).pages(tree_id);
    pdf.document_info(info_id)
        .producer(pdf_writer::TextStr("faxsim"));
    for page in pages {
        let page_id = alloc();
        let content_id = alloc();
        page_ids.push(page_id);
        let (w_pt, h_pt) = page.size_pt();
        let image_ids: Vec<Ref> = page.strips.iter().map(|_| alloc()).collect();
        let names: Vec<String> = (0..page.strips.len()).map(|i| format!("Im{i}")).collect();

        let mut content = Content::new();
        let mut top = 0u32;
        for (strip, name) in page.strips.iter().zip(&names) {
            let h = (strip.rows as f64 * 72.0 / page.dpi.1) as f32;
            let y = h_pt - (top as f64 * 72.0 / page.dpi.1) as f32 - h;
            content.save_state();
            content.transform([w_pt, 0.0, 0.0, h, 0.0, y]);
            content.x_object(Name(name.as_bytes()));
            content.restore_state();
            top += strip.rows;
        }
        let content = content.finish();

        let mut p = pdf.page(page_id);
        p.parent(tree_id);
        p.media_box(Rect::new(0.0, 0.0, w_pt, h_pt));
        p.contents(content_id);
        {
            let mut res = p.resources();
            let mut xo = res.x_objects();
            for (id, name) in image_ids.iter().zip(&names) {
                xo.pair(Name(name.as_bytes()), *id);
            }
        }
        p.finish();
        pdf.stream(content_id, &content);
        for (strip, id) in page.strips.iter().zip(&image_ids) {
            let mut img = pdf.image_xobject(*id, &strip.data);
            img.filter(Filter::CcittFaxDecode);
            img.width(page.width as i32);
            img.height(strip.rows as i32);
            img.color_space().device_gray();
            img.bits_per_component(1);
            img.decode_parms()
                .k(strip.k)
                .columns(page.width as i32)
                .rows(strip.rows as i32)
                .black_is_1(false);
            img.finish();
        }
    }
    pdf.pages(tree_id)
        .kids(page_ids.iter().copied())
        .count(page_ids.len() as i32);
    Ok(pdf.finish())
}
