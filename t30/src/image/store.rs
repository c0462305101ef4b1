//! Pages held coded in memory, so that long documents and long calls stay small.
//!
//! A fine A4 page is about half a megabyte as a bitmap and a few tens of kilobytes coded
//! T.6 (MMR). A [`CodedPage`] keeps the MMR form (exactly the strip a TIFF-F or PDF of the
//! page carries) and is decoded to a [`Bitmap`] only while one page is being worked on; a
//! [`Document`] is a list of them shared between whoever needs it (a call's setup, its
//! sending engine, the check of what arrived) without copying.

use std::sync::Arc;

use super::codec::{Coding, EncodeOptions, OwnMmrCode, RowSpan, decode_mmr, encode_page};
use super::{Bitmap, ImageError, Resolution};

/// One page, coded T.6 (MMR, EOFB included, MSB first), with its size and resolution.
///
/// Equal pages have equal codes (the encoder is deterministic), so two coded pages compare
/// equal exactly when their pels, size and resolution do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodedPage {
    width: u32,
    height: u32,
    resolution: Resolution,
    mmr: Vec<u8>,
    /// Where each row's code ends, in bits from the start (MMR rows follow each other with
    /// no fill): kept from the coding so that sending the page as it is needs no decoding
    /// to find its rows (4 octets a row, a tenth or so of the code).
    row_ends: Vec<u32>,
}

impl CodedPage {
    /// The page `page`, coded MMR as a TIFF strip of it is.
    pub fn from_bitmap(page: &Bitmap) -> CodedPage {
        let coded = encode_page(page, &EncodeOptions::tiff(Coding::Mmr));
        CodedPage {
            width: page.width(),
            height: page.height(),
            resolution: page.resolution,
            mmr: coded.data,
            row_ends: coded.rows.iter().map(|r| r.end as u32).collect(),
        }
    }

    /// The page `page` decoded from `data`, keeping the code itself where
    /// [`decode_mmr_coded`](super::codec::decode_mmr_coded) found it to be exactly what
    /// [`from_bitmap`](Self::from_bitmap) would write: the same page without coding it again.
    pub fn from_own_code(page: &Bitmap, data: &[u8], code: OwnMmrCode) -> CodedPage {
        let mut mmr = data[..code.bit_len.div_ceil(8)].to_vec();
        let spare = (mmr.len() * 8 - code.bit_len) as u32;
        if let Some(last) = mmr.last_mut() {
            *last &= 0xffu8 << spare;
        }
        CodedPage {
            width: page.width(),
            height: page.height(),
            resolution: page.resolution,
            mmr,
            row_ends: code.row_ends,
        }
    }

    /// Where each row lies in [`mmr`](Self::mmr), as the encoder reported it (what
    /// [`mmr_row_spans`](super::codec::mmr_row_spans) finds by decoding).
    pub fn row_spans(&self) -> Vec<RowSpan> {
        let mut start = 0;
        self.row_ends
            .iter()
            .map(|&end| {
                let end = end as usize;
                let span = RowSpan {
                    start,
                    data_start: start,
                    data_end: end,
                    end,
                };
                start = end;
                span
            })
            .collect()
    }

    /// Width in pels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in rows.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Physical resolution.
    pub fn resolution(&self) -> Resolution {
        self.resolution
    }

    /// The MMR code of the page (EOFB included).
    pub fn mmr(&self) -> &[u8] {
        &self.mmr
    }

    /// The pels. Fails only if the code was damaged, which [`from_bitmap`](Self::from_bitmap)
    /// never produces.
    pub fn bitmap(&self) -> Result<Bitmap, ImageError> {
        let d = decode_mmr(&self.mmr, self.width, Some(self.height), self.resolution)?;
        if d.bad_rows > 0 || d.bitmap.height() != self.height {
            return Err(ImageError::Corrupt(format!(
                "stored page of {} rows decoded to {} rows, {} bad",
                self.height,
                d.bitmap.height(),
                d.bad_rows
            )));
        }
        Ok(d.bitmap)
    }
}

impl From<&Bitmap> for CodedPage {
    fn from(page: &Bitmap) -> CodedPage {
        CodedPage::from_bitmap(page)
    }
}

/// A document: coded pages in order, cheap to clone (the pages are shared, not copied).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Document {
    pages: Arc<[CodedPage]>,
}

impl Document {
    /// A document of these pages.
    pub fn new(pages: Vec<CodedPage>) -> Document {
        Document {
            pages: pages.into(),
        }
    }

    /// A document of these bitmaps, each coded on its own.
    pub fn from_bitmaps(pages: &[Bitmap]) -> Document {
        pages.iter().map(CodedPage::from_bitmap).collect()
    }

    /// Number of pages.
    pub fn len(&self) -> usize {
        self.pages.len()
    }

    /// Whether there are no pages.
    pub fn is_empty(&self) -> bool {
        self.pages.is_empty()
    }

    /// The coded pages.
    pub fn pages(&self) -> &[CodedPage] {
        &self.pages
    }

    /// Page `i` (0-based), if there is one.
    pub fn page(&self, i: usize) -> Option<&CodedPage> {
        self.pages.get(i)
    }

    /// Every page decoded, one at a time: only the page being looked at is a bitmap.
    pub fn bitmaps(&self) -> impl Iterator<Item = Result<Bitmap, ImageError>> + '_ {
        self.pages.iter().map(CodedPage::bitmap)
    }
}

impl FromIterator<CodedPage> for Document {
    fn from_iter<I: IntoIterator<Item = CodedPage>>(iter: I) -> Document {
        Document::new(iter.into_iter().collect())
    }
}

impl From<Vec<CodedPage>> for Document {
    fn from(pages: Vec<CodedPage>) -> Document {
        Document::new(pages)
    }
}

impl From<&[Bitmap]> for Document {
    fn from(pages: &[Bitmap]) -> Document {
        Document::from_bitmaps(pages)
    }
}

impl From<Vec<Bitmap>> for Document {
    fn from(pages: Vec<Bitmap>) -> Document {
        Document::from_bitmaps(&pages)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::testpage::{TestPageKind, TestPageOptions, make_test_page};

    #[test]
    fn coded_page_round_trips_and_is_the_tiff_strip() {
        for kind in [
            TestPageKind::Impress,
            TestPageKind::White,
            TestPageKind::Diag,
        ] {
            let page = make_test_page(kind, 0, &TestPageOptions::default())
                .unwrap()
                .bitmap;
            let coded = CodedPage::from_bitmap(&page);
            assert_eq!(coded.bitmap().unwrap(), page);
            assert_eq!(
                coded.mmr(),
                encode_page(&page, &EncodeOptions::tiff(Coding::Mmr)).data
            );
            assert!(coded.mmr().len() < page.data().len());
        }
    }

    #[test]
    fn documents_share_their_pages() {
        let page = make_test_page(TestPageKind::Impress, 0, &TestPageOptions::default())
            .unwrap()
            .bitmap;
        let doc = Document::from_bitmaps(&[page.clone(), page.clone()]);
        let copy = doc.clone();
        assert!(std::ptr::eq(doc.pages().as_ptr(), copy.pages().as_ptr()));
        let back: Vec<Bitmap> = copy.bitmaps().collect::<Result<_, _>>().unwrap();
        assert_eq!(back, vec![page.clone(), page]);
    }

    #[test]
    fn row_spans_are_the_decoded_ones() {
        for kind in [
            TestPageKind::Impress,
            TestPageKind::Diag,
            TestPageKind::White,
        ] {
            let page = make_test_page(kind, 0, &TestPageOptions::default())
                .unwrap()
                .bitmap;
            let coded = CodedPage::from_bitmap(&page);
            let decoded =
                super::super::codec::mmr_row_spans(coded.mmr(), coded.width(), coded.height())
                    .unwrap();
            assert_eq!(coded.row_spans(), decoded);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

        /// A received code is kept as it came only when it is what coding the page would
        /// give: damaged, cut or trailed by junk, the kept page is still the coded one.
        #[test]
        fn a_kept_own_code_is_the_coded_page(
            kind in proptest::sample::select(vec![
                TestPageKind::Impress, TestPageKind::Diag, TestPageKind::White,
                TestPageKind::Stairstep,
            ]),
            flips in proptest::collection::vec(proptest::prelude::any::<u32>(), 0..3),
            cut in proptest::option::of(0.0f64..1.0),
            junk in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..4),
        ) {
            let page = make_test_page(kind, 0, &TestPageOptions::default()).unwrap().bitmap;
            let mut data = CodedPage::from_bitmap(&page).mmr().to_vec();
            for f in flips {
                let bit = f as usize % (data.len() * 8);
                data[bit / 8] ^= 0x80 >> (bit % 8);
            }
            if let Some(c) = cut {
                data.truncate((data.len() as f64 * c) as usize);
            }
            data.extend(junk);
            let (decoded, code) = super::super::codec::decode_mmr_coded(
                &data, page.width(), None, page.resolution,
            ).unwrap();
            if let Some(code) = code {
                proptest::prop_assert_eq!(
                    CodedPage::from_own_code(&decoded.bitmap, &data, code),
                    CodedPage::from_bitmap(&decoded.bitmap)
                );
            }
        }
    }

    #[test]
    fn an_undamaged_code_is_kept_as_it_is() {
        let page = make_test_page(TestPageKind::Impress, 0, &TestPageOptions::default())
            .unwrap()
            .bitmap;
        let coded = CodedPage::from_bitmap(&page);
        let mut data = coded.mmr().to_vec();
        data.extend([0xA5, 0xFF]);
        let (decoded, code) =
            super::super::codec::decode_mmr_coded(&data, page.width(), None, page.resolution)
                .unwrap();
        assert_eq!(
            CodedPage::from_own_code(&decoded.bitmap, &data, code.unwrap()),
            coded
        );
    }

    #[test]
    fn a_damaged_code_is_an_error() {
        let page = make_test_page(TestPageKind::Impress, 0, &TestPageOptions::default())
            .unwrap()
            .bitmap;
        let mut coded = CodedPage::from_bitmap(&page);
        coded.mmr.truncate(coded.mmr.len() / 2);
        assert!(coded.bitmap().is_err());
    }
}
