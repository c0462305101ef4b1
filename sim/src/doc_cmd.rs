//! `faxsim doc`: document conversion, PDF output, inspection and TSB-85 test pages.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Subcommand, ValueEnum};
use t30::image::convert::{WidthPolicy, convert_page, page_width_of};
use t30::image::load::{DocumentError, LoadedPage, load_document};
use t30::image::pdf::{PdfPage, write_pdf};
use t30::image::testpage::{TestPageKind, TestPageOptions, make_test_page};
use t30::image::tiff::{TiffWriteOptions, read_tiff, write_tiff, write_tiff_coded};
use t30::image::{Coding, PageWidth, Resolution};

/// Print a line to stdout, ignoring a closed pipe (`faxsim doc info x | head` must not panic).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// Exit status for unusable input (missing file, not a bilevel image).
pub const EXIT_BAD_INPUT: i32 = 2;

/// The `doc` subcommands.
#[derive(Debug, Subcommand)]
pub enum DocCommand {
    /// Convert a TIFF, PBM or PNG document to TIFF-F (MH, MR or MMR).
    Convert {
        /// Input file (TIFF, PBM or PNG).
        input: PathBuf,
        /// Output TIFF-F file.
        output: PathBuf,
        /// Coding of the output pages.
        #[arg(long, value_enum, default_value_t = CodingArg::Mh)]
        coding: CodingArg,
        /// Output resolution (default: the input's, or fine for pictures without one).
        #[arg(long, value_enum)]
        resolution: Option<ResolutionArg>,
        /// Output paper width (default: the narrowest that holds the input).
        #[arg(long, value_enum)]
        width: Option<WidthArg>,
        /// Crop wide pages instead of scaling them down.
        #[arg(long)]
        crop: bool,
        /// TIFF FillOrder of the output (1 = MSB first, 2 = LSB first).
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=2))]
        fill_order: u16,
        /// ImageDescription tag (e.g. the station identity).
        #[arg(long)]
        description: Option<String>,
        /// DateTime tag, "YYYY:MM:DD HH:MM:SS" (never taken from the clock).
        #[arg(long)]
        date_time: Option<String>,
    },
    /// Write a PDF with one page per fax page, embedding the CCITT data.
    Pdf {
        /// Input file (TIFF; PBM and PNG pages are coded MMR).
        input: PathBuf,
        /// Output PDF file.
        output: PathBuf,
    },
    /// Show pages, sizes, resolutions, coding and rows of a document.
    Info {
        /// Input file.
        input: PathBuf,
    },
    /// Generate TSB-85 test pages.
    Testpage {
        /// Which page.
        #[arg(long, value_enum)]
        kind: KindArg,
        /// Resolution of the pages.
        #[arg(long, value_enum, default_value_t = ResolutionArg::Standard)]
        resolution: ResolutionArg,
        /// Number of pages.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
        pages: u32,
        /// Coding of the pages.
        #[arg(long, value_enum, default_value_t = CodingArg::Mh)]
        coding: CodingArg,
        /// Bit rate the duration pages are timed at.
        #[arg(long, default_value_t = 4800)]
        bit_rate: u32,
        /// Coded bytes each stairstep page fills exactly (256 frames × 64 octets by default).
        #[arg(long, default_value_t = 16_384)]
        ecm_bytes: u32,
        /// Output TIFF-F file.
        #[arg(long)]
        out: PathBuf,
    },
}

/// `--coding`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CodingArg {
    /// T.4 1-D.
    Mh,
    /// T.4 2-D (K = 2 at standard, 4 above).
    Mr,
    /// T.6.
    Mmr,
}

/// `--resolution`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ResolutionArg {
    /// R8 × 3.85 l/mm.
    Standard,
    /// R8 × 7.7 l/mm.
    Fine,
    /// R8 × 15.4 l/mm.
    Superfine,
    /// 300 × 300 dpi.
    #[value(name = "300")]
    Dpi300,
    /// 400 × 400 dpi.
    #[value(name = "400")]
    Dpi400,
}

/// `--width`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WidthArg {
    /// 215 mm.
    A4,
    /// 255 mm.
    B4,
    /// 303 mm.
    A3,
}

/// `--kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    /// All white.
    White,
    /// Every 1-D code word.
    Diag,
    /// One 4.9 s scan line.
    #[value(name = "duration-4.9")]
    Duration49,
    /// One 5.1 s scan line.
    #[value(name = "duration-5.1")]
    Duration51,
    /// 4.9 % of rows to corrupt.
    #[value(name = "bad-rows-4.9")]
    BadRows49,
    /// 15.1 % of rows to corrupt.
    #[value(name = "bad-rows-15.1")]
    BadRows151,
    /// Text-like page.
    Impress,
    /// Exact ECM blocks.
    Stairstep,
}

impl ResolutionArg {
    fn resolution(self) -> Resolution {
        match self {
            ResolutionArg::Standard => Resolution::Standard,
            ResolutionArg::Fine => Resolution::Fine,
            ResolutionArg::Superfine => Resolution::Superfine,
            ResolutionArg::Dpi300 => Resolution::Dpi300,
            ResolutionArg::Dpi400 => Resolution::Dpi400,
        }
    }
}

impl CodingArg {
    fn coding(self, r: Resolution) -> Coding {
        match self {
            CodingArg::Mh => Coding::Mh,
            CodingArg::Mr => Coding::mr_for(r),
            CodingArg::Mmr => Coding::Mmr,
        }
    }
}

impl WidthArg {
    fn width(self) -> PageWidth {
        match self {
            WidthArg::A4 => PageWidth::A4,
            WidthArg::B4 => PageWidth::B4,
            WidthArg::A3 => PageWidth::A3,
        }
    }
}

impl KindArg {
    fn kind(self) -> TestPageKind {
        match self {
            KindArg::White => TestPageKind::White,
            KindArg::Diag => TestPageKind::Diag,
            KindArg::Duration49 => TestPageKind::Duration49,
            KindArg::Duration51 => TestPageKind::Duration51,
            KindArg::BadRows49 => TestPageKind::BadRows49,
            KindArg::BadRows151 => TestPageKind::BadRows151,
            KindArg::Impress => TestPageKind::Impress,
            KindArg::Stairstep => TestPageKind::Stairstep,
        }
    }
}

/// Load a document, or print the operator's error line and say so.
fn load(path: &Path) -> Result<Vec<LoadedPage>, i32> {
    load_document(path).map_err(|e| {
        eprintln!("{e}");
        EXIT_BAD_INPUT
    })
}

fn generation_error(path: &Path, reason: impl std::fmt::Display) -> i32 {
    let e = DocumentError::Generation {
        path: path.display().to_string(),
        reason: reason.to_string(),
    };
    eprintln!("{e}");
    EXIT_BAD_INPUT
}

fn write_file(path: &Path, data: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, data).with_context(|| format!("cannot write {}", path.display()))
}

/// Run a `doc` subcommand; returns the process exit status.
pub fn run(cmd: DocCommand) -> anyhow::Result<i32> {
    match cmd {
        DocCommand::Convert {
            input,
            output,
            coding,
            resolution,
            width,
            crop,
            fill_order,
            description,
            date_time,
        } => {
            let pages = match load(&input) {
                Ok(p) => p,
                Err(code) => return Ok(code),
            };
            let policy = if crop {
                WidthPolicy::Crop
            } else {
                WidthPolicy::Scale
            };
            let mut out = Vec::new();
            for p in &pages {
                let target = resolution
                    .map(ResolutionArg::resolution)
                    .unwrap_or(match p.dpi {
                        Some((x, y)) => Resolution::nearest(x, y),
                        None => Resolution::Fine,
                    });
                let w = width.map(WidthArg::width).unwrap_or_else(|| match p.dpi {
                    Some((x, _)) => {
                        let pels_at_target =
                            (p.bitmap.width() as f64 * target.x_dpi() as f64 / x).round();
                        page_width_of(target, pels_at_target as u32)
                    }
                    None => PageWidth::A4,
                });
                match convert_page(&p.bitmap, p.dpi, target, w, policy) {
                    Ok(b) => out.push(b),
                    Err(e) => return Ok(generation_error(&input, e)),
                }
            }
            let first = out[0].resolution;
            let opts = TiffWriteOptions {
                fill_order,
                description,
                date_time,
                ..TiffWriteOptions::new(coding.coding(first))
            };
            let tiff = match write_tiff(&out, None, &opts) {
                Ok(t) => t,
                Err(e) => return Ok(generation_error(&input, e)),
            };
            write_file(&output, &tiff)?;
            say!(
                "{}: {} page(s), {} {}, {} pels wide",
                output.display(),
                out.len(),
                opts.coding.map(Coding::name).unwrap_or("uncompressed"),
                first.name(),
                out[0].width()
            );
            Ok(0)
        }
        DocCommand::Pdf { input, output } => {
            let bytes = match std::fs::read(&input) {
                Ok(b) => b,
                Err(e) => {
                    let err = DocumentError::Loading {
                        path: input.display().to_string(),
                        reason: e.to_string(),
                    };
                    eprintln!("{err}");
                    return Ok(EXIT_BAD_INPUT);
                }
            };
            let pages: Vec<PdfPage> =
                if t30::image::load::sniff(&bytes) == Some(t30::image::load::FileKind::Tiff) {
                    match read_tiff(&bytes) {
                        Ok(p) => p.iter().map(PdfPage::from_tiff_page).collect(),
                        Err(e) => return Ok(generation_error(&input, e)),
                    }
                } else {
                    match t30::image::load::load_bytes(&bytes) {
                        Ok(p) => p
                            .iter()
                            .map(|p| {
                                let mut page = PdfPage::from_bitmap(&p.bitmap);
                                if let Some(d) = p.dpi {
                                    page.dpi = d;
                                }
                                page
                            })
                            .collect(),
                        Err(e) => return Ok(generation_error(&input, e)),
                    }
                };
            let pdf = match write_pdf(&pages) {
                Ok(p) => p,
                Err(e) => return Ok(generation_error(&input, e)),
            };
            write_file(&output, &pdf)?;
            say!("{}: {} page(s)", output.display(), pages.len());
            Ok(0)
        }
        DocCommand::Info { input } => {
            let pages = match load(&input) {
                Ok(p) => p,
                Err(code) => return Ok(code),
            };
            say!("{}: {} page(s)", input.display(), pages.len());
            say!(
                "page  width  rows  dpi (x x y)  resolution  size (mm)      coding        bad rows"
            );
            for (i, p) in pages.iter().enumerate() {
                let b = &p.bitmap;
                let (dpi, res, size) = match p.dpi {
                    Some((x, y)) => (
                        format!("{x:.0} x {y:.0}"),
                        Resolution::nearest(x, y).name().to_string(),
                        format!(
                            "{:.1} x {:.1}",
                            b.width() as f64 * 25.4 / x,
                            b.height() as f64 * 25.4 / y
                        ),
                    ),
                    None => ("unknown".into(), "-".into(), "-".into()),
                };
                let coding = p.coding.map(|c| c.name()).unwrap_or("picture");
                say!(
                    "{:>4}  {:>5}  {:>4}  {:<11}  {:<10}  {:<13}  {:<12}  {}",
                    i + 1,
                    b.width(),
                    b.height(),
                    dpi,
                    res,
                    size,
                    coding,
                    p.bad_rows
                );
            }
            Ok(0)
        }
        DocCommand::Testpage {
            kind,
            resolution,
            pages,
            coding,
            bit_rate,
            ecm_bytes,
            out,
        } => {
            let r = resolution.resolution();
            let coding = coding.coding(r);
            let opts = TestPageOptions {
                resolution: r,
                coding,
                bit_rate,
                ecm_bytes,
            };
            let mut bitmaps = Vec::new();
            let mut coded = Vec::new();
            let mut rows_report = String::new();
            let mut description = String::new();
            for i in 0..pages {
                let p = match make_test_page(kind.kind(), i, &opts) {
                    Ok(p) => p,
                    Err(e) => return Ok(generation_error(&out, e)),
                };
                if !p.corrupt_rows.is_empty() {
                    let list: Vec<String> = p.corrupt_rows.iter().map(u32::to_string).collect();
                    rows_report.push_str(&format!("page {}: {}\n", i + 1, list.join(" ")));
                }
                for (row, bits) in &p.long_rows {
                    say!(
                        "page {}: row {row} coded line is {bits} bits ({:.2} s at {bit_rate} bit/s)",
                        i + 1,
                        *bits as f64 / bit_rate as f64
                    );
                }
                description = p.description.clone();
                bitmaps.push(p.bitmap);
                coded.push(p.coded.unwrap_or_default());
            }
            let topts = TiffWriteOptions {
                description: Some(description.clone()),
                ..TiffWriteOptions::new(coding)
            };
            let tiff = write_tiff_coded(&bitmaps, &coded, None, &topts)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            write_file(&out, &tiff)?;
            say!(
                "{}: {} page(s): {description}",
                out.display(),
                bitmaps.len()
            );
            if !rows_report.is_empty() {
                let side = PathBuf::from(format!("{}.corrupt-rows", out.display()));
                write_file(&side, rows_report.as_bytes())?;
                say!(
                    "rows to corrupt (0-based), also in {}:\n{rows_report}",
                    side.display()
                );
            }
            Ok(0)
        }
    }
}
