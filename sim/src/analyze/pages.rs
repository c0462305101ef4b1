//! `--pages DIR`: the pages found in a capture, as TIFF-F and PDF files, one pair per
//! page; a page that did not arrive whole is written too, with `-partial` in its name.

use std::path::Path;

use t30::image::codec::{Coding, decode_g3, decode_mmr};
use t30::image::pdf::{PdfPage, write_pdf};
use t30::image::tiff::{PageDamage, TiffWriteOptions, write_tiff};
use t30::image::{Bitmap, Resolution};

use super::ladder::{PageInfo, Report};

/// Decodes a page's coded data to a bitmap, with its bad-row count.
pub fn decode(p: &PageInfo) -> Option<(Bitmap, u32)> {
    let res = p.resolution.unwrap_or(Resolution::Fine);
    let d = match p.coding.as_str() {
        "MMR" => decode_mmr(&p.data, p.width, None, res),
        "MR" => decode_g3(&p.data, p.width, true, res, 20_000),
        _ => decode_g3(&p.data, p.width, false, res, 20_000),
    }
    .ok()?;
    (d.bitmap.height() > 0).then_some((d.bitmap, d.bad_rows))
}

/// Writes every page of `report` into `dir`; returns the files written.
pub fn write_pages(report: &Report, dir: &Path) -> Result<Vec<String>, String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let mut written = Vec::new();
    for p in &report.pages {
        let Some((bitmap, bad_rows)) = decode(p) else {
            continue;
        };
        let stem = format!(
            "page-{:03}{}",
            p.number,
            if p.complete { "" } else { "-partial" }
        );
        let mut opts = TiffWriteOptions::new(Coding::Mmr);
        opts.description = Some(format!(
            "faxsim analyze: page {} of {}{}",
            p.number,
            report.input.file,
            if p.complete { "" } else { " (partial)" }
        ));
        let damage = [PageDamage {
            bad_rows,
            longest_bad_run: 0,
        }];
        let tiff = write_tiff(std::slice::from_ref(&bitmap), Some(&damage), &opts)
            .map_err(|e| e.to_string())?;
        let tiff_path = dir.join(format!("{stem}.tif"));
        std::fs::write(&tiff_path, tiff).map_err(|e| format!("{}: {e}", tiff_path.display()))?;
        written.push(tiff_path.display().to_string());
        let pdf = write_pdf(&[PdfPage::from_bitmap(&bitmap)]).map_err(|e| e.to_string())?;
        let pdf_path = dir.join(format!("{stem}.pdf"));
        std::fs::write(&pdf_path, pdf).map_err(|e| format!("{}: {e}", pdf_path.display()))?;
        written.push(pdf_path.display().to_string());
    }
    Ok(written)
}
