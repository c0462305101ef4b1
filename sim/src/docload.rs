//! PDF documents to send: rasterised to fax resolution by poppler's `pdftoppm` (found at run
//! time, like the other system parts), one bilevel page per PDF page.

use std::path::Path;
use std::process::Command;

use t30::image::load::{DOCUMENT_GENERATION_ERROR, load_document_coded, read_pbm};
use t30::image::store::{CodedPage, Document};
use t30::image::{Bitmap, Resolution};

/// Fax resolution the pages are rasterised at (fine: 204 x 196 dpi).
pub const PDF_DPI: (u32, u32) = (204, 196);
/// Width of an A4 fax line at 204 dpi; pages are padded with white or cut on the right to it.
pub const FAX_WIDTH: u32 = 1728;

/// Whether the file starts like a PDF.
pub fn is_pdf(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 5];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && &head == b"%PDF-"
}

/// The document to send from `path`: a PDF rasterised ([`rasterise_pdf`]), or a TIFF, PBM or
/// PNG file, read page by page and kept coded. Errors are one line naming the file.
pub fn load_send_document(path: &Path) -> Result<Document, String> {
    if is_pdf(path) {
        rasterise_pdf(path)
    } else {
        load_document_coded(path).map_err(|e| e.to_string())
    }
}

/// Rasterises every page of the PDF at `path` with `pdftoppm -mono -rx 204 -ry 196` and fits it to
/// the fax line width, one page at a time, each kept coded. Errors are one line naming the
/// file, starting with the operator's "Document generation error".
pub fn rasterise_pdf(path: &Path) -> Result<Document, String> {
    let fail = |why: String| format!("{DOCUMENT_GENERATION_ERROR}: {}: {why}", path.display());
    let dir = tempfile::tempdir().map_err(|e| fail(e.to_string()))?;
    let out = Command::new("pdftoppm")
        .arg("-mono")
        .arg("-rx")
        .arg(PDF_DPI.0.to_string())
        .arg("-ry")
        .arg(PDF_DPI.1.to_string())
        .arg(path)
        .arg(dir.path().join("page"))
        .output()
        .map_err(|e| {
            fail(format!(
                "PDF documents need poppler's pdftoppm ({e}) — apt-get install poppler-utils"
            ))
        })?;
    if !out.status.success() {
        let said = String::from_utf8_lossy(&out.stderr);
        return Err(fail(format!(
            "pdftoppm failed: {}",
            said.lines().next().unwrap_or("no message")
        )));
    }
    // pdftoppm names pages page-1.pbm or page-01.pbm …: the number sorts them.
    let mut files: Vec<(u32, std::path::PathBuf)> = std::fs::read_dir(dir.path())
        .map_err(|e| fail(e.to_string()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter_map(|p| {
            let n = p
                .file_stem()?
                .to_str()?
                .strip_prefix("page-")?
                .parse()
                .ok()?;
            Some((n, p))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(fail("no pages".into()));
    }
    files
        .iter()
        .map(|(_, p)| {
            let bytes = std::fs::read(p).map_err(|e| fail(e.to_string()))?;
            let page = read_pbm(&bytes).map_err(|e| fail(e.to_string()))?;
            let fitted = fit_width(&page).map_err(|e| fail(e.to_string()))?;
            Ok(CodedPage::from_bitmap(&fitted))
        })
        .collect::<Result<Vec<_>, String>>()
        .map(Document::new)
}

/// `page` at fine resolution, `FAX_WIDTH` pels wide: white added or pels dropped on the right.
pub fn fit_width(page: &Bitmap) -> Result<Bitmap, t30::image::ImageError> {
    let mut out = Bitmap::new(FAX_WIDTH, page.height(), Resolution::Fine)?;
    // Whole octets: FAX_WIDTH is a multiple of 8 and a narrower page's pad bits are clear.
    let n = page.stride().min(out.stride());
    for y in 0..page.height() {
        out.row_mut(y)[..n].copy_from_slice(&page.row(y)[..n]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_width_pads_or_cuts_on_the_right() {
        for width in [1000, 1727, 1728, 1733, 2432] {
            let mut page = Bitmap::new(width, 3, Resolution::Fine).unwrap();
            for x in (0..width).step_by(3) {
                page.set(x, x % 3, true);
                page.set(x, 1, true);
            }
            page.set(width - 1, 2, true);
            let out = fit_width(&page).unwrap();
            assert_eq!((out.width(), out.height()), (FAX_WIDTH, 3));
            for y in 0..3 {
                for x in 0..FAX_WIDTH {
                    let want = x < width && page.get(x, y);
                    assert_eq!(out.get(x, y), want, "width {width} pel ({x}, {y})");
                }
            }
        }
    }
}
