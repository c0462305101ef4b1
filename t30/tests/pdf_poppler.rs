//! Issue 3, must-show 3: PDF output checked with poppler (skipped with one line when absent).
mod common;
use common::{have_tool, run, s, scratch};
use t30::image::load::read_pbm;
use t30::image::pdf::{PdfPage, write_pdf};
use t30::image::tiff::{TiffWriteOptions, read_tiff, write_tiff};
use t30::image::{Bitmap, Coding, Resolution};

/// A text-like page: "characters" in lines, with a frame, so shifts and inversions show.
fn text_page(res: Resolution, rows: u32, seed: u32) -> Bitmap {
    let w = res.width_pels(t30::image::PageWidth::A4);
    let mut b = Bitmap::new(w, rows, res).unwrap();
    let mut s = seed | 1;
    let line_h = (res.y_dpi() / 8).max(6);
    let char_w = res.x_dpi() / 10;
    for y0 in (line_h..rows.saturating_sub(2 * line_h)).step_by(2 * line_h as usize) {
        let mut x = char_w * 2;
        while x + char_w < w - char_w * 2 {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            if !s.is_multiple_of(7) {
                // A glyph: a vertical stem, a bar and a dot.
                let stem = 1 + char_w / 8;
                b.fill_rect(
                    x + s % (char_w / 2),
                    y0,
                    x + s % (char_w / 2) + stem,
                    y0 + line_h,
                    true,
                );
                let by = y0 + (s >> 8) % line_h;
                b.fill_rect(x, by, x + char_w * 3 / 4, by + 1 + line_h / 8, true);
            }
            x += char_w;
        }
    }
    b.fill_rect(0, 0, w, 2, true);
    b.fill_rect(0, 0, 3, rows, true);
    b
}

fn poppler() -> bool {
    ["pdfinfo", "pdfimages", "pdftoppm", "tiffcp"]
        .iter()
        .all(|t| have_tool(t))
}

/// Fraction of pels (over the common area) where the two pages differ.
fn mismatch(a: &Bitmap, b: &Bitmap, dx: i32, dy: i32) -> f64 {
    let w = a.width().min(b.width()) as i32;
    let h = a.height().min(b.height()) as i32;
    let mut diff = 0u64;
    for y in 0..h {
        for x in 0..w {
            let (sx, sy) = (x + dx, y + dy);
            let pa = sx >= 0 && sy >= 0 && sx < w && sy < h && a.get(sx as u32, sy as u32);
            if pa != b.get(x as u32, y as u32) {
                diff += 1;
            }
        }
    }
    diff as f64 / (w as f64 * h as f64)
}

#[test]
fn poppler_reads_our_pdf_as_the_fax_pages() {
    if !poppler() {
        return;
    }
    let dir = scratch("pdf");
    let pages = vec![
        text_page(Resolution::Standard, 1100, 7),
        text_page(Resolution::Fine, 2200, 9),
        text_page(Resolution::Superfine, 600, 11),
    ];
    // Three sources: our MMR TIFF (one strip a page), and libtiff's G3 2-D with FillOrder 2
    // and G4 in 128-row strips (several images a page).
    let ours = dir.join("ours.tif");
    std::fs::write(
        &ours,
        write_tiff(&pages, None, &TiffWriteOptions::new(Coding::Mmr)).unwrap(),
    )
    .unwrap();
    let g3 = dir.join("g3.tif");
    run(
        "tiffcp",
        &[
            "-c",
            "g3:2d",
            "-f",
            "lsb2msb",
            "-r",
            "128",
            s(&ours),
            s(&g3),
        ],
    );
    let g4 = dir.join("g4.tif");
    run("tiffcp", &["-c", "g4", "-r", "128", s(&ours), s(&g4)]);
    let g3mh = dir.join("g3mh.tif");
    run("tiffcp", &["-c", "g3", s(&ours), s(&g3mh)]);

    for src in [&ours, &g3, &g4, &g3mh] {
        let tiff_pages = read_tiff(&std::fs::read(src).unwrap()).unwrap();
        let pdf_pages: Vec<PdfPage> = tiff_pages.iter().map(PdfPage::from_tiff_page).collect();
        // Every strip is the file's own coded data: nothing re-encoded.
        for (tp, pp) in tiff_pages.iter().zip(&pdf_pages) {
            assert_eq!(tp.raw_strips.len(), pp.strips.len());
            for (r, c) in tp.raw_strips.iter().zip(&pp.strips) {
                assert_eq!(r.data, c.data);
            }
        }
        let pdf = dir.join("out.pdf");
        std::fs::write(&pdf, write_pdf(&pdf_pages).unwrap()).unwrap();

        let (info, _) = run("pdfinfo", &["-f", "1", "-l", "3", s(&pdf)]);
        assert!(
            info.lines()
                .any(|l| l.starts_with("Pages:") && l.ends_with(" 3")),
            "{info}"
        );
        for (i, p) in pages.iter().enumerate() {
            let (w_mm, h_mm) = p.size_mm();
            let line = info
                .lines()
                .find(|l| l.starts_with(&format!("Page    {} size:", i + 1)))
                .unwrap_or_else(|| panic!("no size for page {}: {info}", i + 1));
            let nums: Vec<f64> = line
                .split_whitespace()
                .filter_map(|t| t.parse().ok())
                .collect();
            let (w_pt, h_pt) = (nums[1], nums[2]);
            assert!(
                (w_pt * 25.4 / 72.0 - w_mm).abs() < 0.2,
                "{line} vs {w_mm} mm"
            );
            assert!(
                (h_pt * 25.4 / 72.0 - h_mm).abs() < 0.2,
                "{line} vs {h_mm} mm"
            );
            // A4 width is 215 mm on a fax.
            assert!((w_mm - 215.0).abs() < 1.5);
        }

        let (list, _) = run("pdfimages", &["-list", s(&pdf)]);
        let rows: Vec<Vec<&str>> = list
            .lines()
            .skip(2)
            .map(|l| l.split_whitespace().collect())
            .collect();
        assert!(!rows.is_empty());
        for r in &rows {
            let page: usize = r[0].parse().unwrap();
            let res = pages[page - 1].resolution;
            assert_eq!(r[8], "ccitt", "{list}");
            assert_eq!(r[5], "gray");
            assert_eq!(r[7], "1");
            let (xp, yp): (f64, f64) = (r[12].parse().unwrap(), r[13].parse().unwrap());
            assert!((xp - res.x_dpi() as f64).abs() <= 1.0, "{list}");
            assert!((yp - res.y_dpi() as f64).abs() <= 1.0, "{list}");
        }

        // Extraction gives back the exact pels.
        let ex = dir.join("ex");
        let _ = std::fs::remove_dir_all(&ex);
        std::fs::create_dir_all(&ex).unwrap();
        run("pdfimages", &["-tiff", s(&pdf), s(&ex.join("im"))]);
        let mut files: Vec<_> = std::fs::read_dir(&ex)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        assert_eq!(files.len(), rows.len());
        let mut f = files.iter();
        for (i, p) in pages.iter().enumerate() {
            let mut got = Bitmap::new(p.width(), 0, p.resolution).unwrap();
            for _ in rows.iter().filter(|r| r[0] == (i + 1).to_string()) {
                let img = read_tiff(&std::fs::read(f.next().unwrap()).unwrap()).unwrap();
                for y in 0..img[0].bitmap.height() {
                    got.push_row(img[0].bitmap.row(y)).unwrap();
                }
            }
            assert!(
                got == *p,
                "{}: page {} extracted pels differ",
                src.display(),
                i + 1
            );
        }

        // A rendering at the fax resolution matches closely; shifted, inverted or blank
        // pages do not.
        for (i, p) in pages.iter().enumerate() {
            let res = p.resolution;
            let pre = dir.join("r");
            let n = (i + 1).to_string();
            run(
                "pdftoppm",
                &[
                    "-mono",
                    "-f",
                    &n,
                    "-l",
                    &n,
                    "-rx",
                    &res.x_dpi().to_string(),
                    "-ry",
                    &res.y_dpi().to_string(),
                    s(&pdf),
                    s(&pre),
                ],
            );
            let out = std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .find(|p| p.extension().is_some_and(|e| e == "pbm"))
                .unwrap();
            let rendered = read_pbm(&std::fs::read(&out).unwrap()).unwrap();
            std::fs::remove_file(&out).unwrap();
            assert!(rendered.width().abs_diff(p.width()) <= 2);
            assert!(rendered.height().abs_diff(p.height()) <= 2);
            let m = mismatch(p, &rendered, 0, 0);
            let black = p.black_count() as f64 / (p.width() as f64 * p.height() as f64);
            let shifted = mismatch(p, &rendered, 3, 2);
            let mut inverted = rendered.clone();
            for y in 0..inverted.height() {
                for b in inverted.row_mut(y) {
                    *b = !*b;
                }
            }
            let inv = mismatch(p, &inverted, 0, 0);
            eprintln!(
                "{} page {}: mismatch {:.3} %, black {:.1} %, shifted {:.2} %, inverted {:.1} %",
                src.file_name().unwrap().to_string_lossy(),
                i + 1,
                100.0 * m,
                100.0 * black,
                100.0 * shifted,
                100.0 * inv
            );
            assert!(m < 0.03, "rendering differs in {:.2} % of pels", 100.0 * m);
            // The yardstick must catch a blank page, a shift and an inversion.
            assert!(black > 0.03 && black > 3.0 * m);
            assert!(shifted > 3.0 * m && shifted > 0.03);
            assert!(inv > 0.5);
        }
    }
}
