//! `faxsim call --send FILE.pdf`: a PDF as people send it (A4, text and drawings) is
//! rasterised by poppler, sent, and arrives pixel-identical to poppler's own rasterisation.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use t30::image::load::read_pbm;
use t30::image::tiff::read_tiff;

fn faxsim(args: &[&str], path_env: Option<&str>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_faxsim"));
    c.args(args);
    if let Some(p) = path_env {
        c.env("PATH", p);
    }
    c.output().unwrap()
}

fn pdftoppm_available() -> bool {
    let ok = Command::new("pdftoppm").arg("-v").output().is_ok();
    if !ok {
        let msg = "skipped: PDF sending needs poppler's pdftoppm — apt-get install poppler-utils";
        assert!(
            std::env::var("FAXSIM_REQUIRE_SYSTEM_LIBS").is_err(),
            "{msg}"
        );
        eprintln!("{msg}");
    }
    ok
}

/// A two-page A4 PDF with text (standard Helvetica), rules and boxes, written by hand.
fn write_pdf(path: &Path) {
    let pages = [
        "BT /F1 28 Tf 72 760 Td (Purchase order 4711) Tj ET\n\
         BT /F1 12 Tf 72 730 Td (Please deliver 12 boxes of fax paper by Friday.) Tj ET\n\
         4 w 72 700 m 523 700 l S\n\
         100 400 200 150 re f\n\
         1 w 350 400 150 150 re S\n",
        "BT /F1 20 Tf 72 760 Td (Page two: signature) Tj ET\n\
         2 w 72 600 m 150 650 l 230 590 l 300 660 l S\n\
         0 0 595 20 re f\n",
    ];
    let mut objects: Vec<String> = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".into(),
        "<< /Type /Pages /Kids [4 0 R 6 0 R] /Count 2 >>".into(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".into(),
    ];
    for (i, content) in pages.iter().enumerate() {
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] \
             /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
            5 + 2 * i
        ));
        objects.push(format!(
            "<< /Length {} >>\nstream\n{content}endstream",
            content.len()
        ));
    }
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    std::fs::write(path, out).unwrap();
}

#[test]
fn a_pdf_sent_through_a_call_arrives_as_poppler_rasterised_it() {
    if !pdftoppm_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("order.pdf");
    write_pdf(&pdf);
    let out = dir.path().join("out");
    let o = faxsim(
        &[
            "call",
            "--send",
            pdf.to_str().unwrap(),
            "--modems",
            "v17",
            "--ecm",
            "on",
            "--out",
            out.to_str().unwrap(),
        ],
        None,
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(stdout.contains("SUCCESS \"OK\" pages=2"), "{stdout}");

    // Poppler's own rasterisation, run here, independently of faxsim.
    let prefix = dir.path().join("ref");
    let r = Command::new("pdftoppm")
        .args(["-mono", "-rx", "204", "-ry", "196"])
        .arg(&pdf)
        .arg(&prefix)
        .output()
        .unwrap();
    assert!(r.status.success());
    let mut refs: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pbm"))
        .collect();
    refs.sort();
    assert_eq!(refs.len(), 2);

    let received = read_tiff(&std::fs::read(out.join("received.tif")).unwrap()).unwrap();
    assert_eq!(received.len(), 2);
    for (page, (r, want)) in received.iter().zip(&refs).enumerate() {
        let want = read_pbm(&std::fs::read(want).unwrap()).unwrap();
        let got = &r.bitmap;
        assert_eq!(got.width(), 1728, "page {page}");
        assert_eq!(got.height(), want.height(), "page {page}");
        assert_eq!(r.dpi, (204.0, 196.0), "page {page}");
        // A4 at 204 dpi is narrower than the fax line: the rest of the line is white.
        assert!(want.width() <= 1728, "page {page}: {}", want.width());
        let mut black = 0u64;
        for y in 0..want.height() {
            for x in 0..1728 {
                let w = x < want.width() && want.get(x, y);
                black += u64::from(w);
                assert_eq!(got.get(x, y), w, "page {page} pel ({x}, {y})");
            }
        }
        // The page has real content (the filled box alone is about 56 000 pels).
        assert!(black > 50_000, "page {page}: {black} black pels");
    }
}

#[test]
fn pdf_errors_are_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.pdf");
    std::fs::write(&bad, b"%PDF-1.4\nthis is not a PDF body\n").unwrap();
    let out = dir.path().join("out");
    let args = [
        "call",
        "--send",
        bad.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    // Without poppler on the PATH: one line naming the file and the package.
    let o = faxsim(&args, Some(dir.path().to_str().unwrap()));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("faxsim: Document generation error: ")
            && stderr.contains("bad.pdf")
            && stderr.contains("apt-get install poppler-utils"),
        "{stderr}"
    );
    if !pdftoppm_available() {
        return;
    }
    // With poppler: its complaint, on one line.
    let o = faxsim(&args, None);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("bad.pdf: pdftoppm failed"), "{stderr}");
}
