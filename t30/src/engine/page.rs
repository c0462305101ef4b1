//! The engine's view of documents: small traits so it never depends on the image codec.
//!
//! A [`DocumentSource`] encodes page N for the parameters the call negotiated; a
//! [`PageSink`] receives the image data of each page and judges its quality at the end.

use crate::completion::Completion;
use crate::frame::PageWidth;

/// Image coding of a page (T.4 one- and two-dimensional, T.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Coding {
    /// T.4 modified Huffman (1-D).
    Mh,
    /// T.4 modified READ (2-D).
    Mr,
    /// T.6 modified modified READ (needs ECM).
    Mmr,
}

impl Coding {
    /// "MH", "MR" or "MMR".
    pub fn name(self) -> &'static str {
        match self {
            Coding::Mh => "MH",
            Coding::Mr => "MR",
            Coding::Mmr => "MMR",
        }
    }
}

/// Vertical resolution of a page at R8 (8 pels/mm across).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Resolution {
    /// 3.85 lines/mm.
    Standard,
    /// 7.7 lines/mm.
    Fine,
    /// 15.4 lines/mm.
    Superfine,
}

impl Resolution {
    /// "standard", "fine" or "superfine".
    pub fn name(self) -> &'static str {
        match self {
            Resolution::Standard => "standard",
            Resolution::Fine => "fine",
            Resolution::Superfine => "superfine",
        }
    }

    /// Rows per standard row (1, 2 or 4).
    pub fn rows_per_standard_row(self) -> u32 {
        match self {
            Resolution::Standard => 1,
            Resolution::Fine => 2,
            Resolution::Superfine => 4,
        }
    }
}

/// Pels per row for a width at R8.
pub fn pels_for_width(width: PageWidth) -> u32 {
    match width {
        PageWidth::A4 => 1728,
        PageWidth::B4 => 2048,
        PageWidth::A3 => 2432,
    }
}

/// What a page looks like before negotiation, for the capability checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageInfo {
    /// Native vertical resolution.
    pub resolution: Resolution,
    /// Native width.
    pub width: PageWidth,
}

/// The parameters a page is coded with, as negotiated in DCS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageParams {
    /// Coding scheme.
    pub coding: Coding,
    /// Vertical resolution (may be lower than the page's own).
    pub resolution: Resolution,
    /// Width.
    pub width: PageWidth,
    /// Minimum bits per coded row (fill bits pad shorter rows); 0 in ECM.
    pub min_row_bits: u32,
    /// Whether the page travels in ECM frames (no fill, T.6 allowed).
    pub ecm: bool,
}

/// An encoded page, ready to send.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EncodedPage {
    /// The coded bytes, end-of-page sequence (RTC/EOFB) included.
    pub data: Vec<u8>,
    /// For each row, the octets that hold only that row's image data (no EOL or fill), so
    /// faults can damage chosen rows without destroying the row structure.
    pub row_data: Vec<std::ops::Range<usize>>,
}

/// Where the pages to send come from: one document (EOM separates documents).
pub trait DocumentSource: Send {
    /// Number of pages.
    fn pages(&self) -> usize;
    /// The page's native resolution and width (0-based page index).
    fn page_info(&self, page: usize) -> PageInfo;
    /// Encodes page `page` for `params`. An error is a completion code of the document
    /// layer (TIFF/F codes, or NOMEM).
    fn encode_page(&mut self, page: usize, params: &PageParams) -> Result<EncodedPage, Completion>;
}

/// Quality of a received page, for the MCF/RTP/RTN decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PageQuality {
    /// Rows decoded.
    pub rows: u32,
    /// Rows with coding errors.
    pub bad_rows: u32,
    /// Longest run of consecutive bad rows.
    pub longest_bad_run: u32,
    /// Whether the end-of-page sequence (RTC/EOFB) was seen.
    pub complete: bool,
    /// Longest coded scan line in bits (data, fill and EOL; 0 when unknown or T.6): a
    /// non-ECM receiver rejects a page whose line lasts over 5 s at the negotiated rate.
    pub longest_line_bits: u64,
}

impl PageQuality {
    /// Bad rows as a fraction of all rows (1.0 when there are none).
    pub fn bad_ratio(&self) -> f64 {
        if self.rows == 0 {
            1.0
        } else {
            self.bad_rows as f64 / self.rows as f64
        }
    }
}

/// Where received pages go.
pub trait PageSink: Send {
    /// A page starts with these parameters.
    fn start_page(&mut self, params: &PageParams);
    /// Image data of the current page, in order.
    fn data(&mut self, bytes: &[u8]);
    /// The page's data ended; the sink reports its quality.
    fn end_page(&mut self) -> PageQuality;
    /// The engine's verdict: `true` keeps the page (MCF/RTP), `false` drops it (RTN, or an
    /// ECM page left incomplete).
    fn commit_page(&mut self, keep: bool);
}
