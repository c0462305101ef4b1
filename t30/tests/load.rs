//! Loading pages: PBM, PNG, hostile TIFFs, and the document error strings.
use t30::image::load::{
    DOCUMENT_GENERATION_ERROR, DOCUMENT_LOADING_ERROR, DocumentError, FileKind, load_bytes,
    load_document, read_pbm, sniff, write_pbm,
};
use t30::image::tiff::{MAX_DECODED_BYTES, read_tiff};
use t30::image::{Bitmap, Resolution};

#[test]
fn pbm_plain_and_raw_read_the_same() {
    let plain = b"P1\n# a comment\n10 2\n1 0 1 0 1 0 1 0 1 1\n0000000001\n";
    let a = read_pbm(plain).unwrap();
    assert_eq!((a.width(), a.height()), (10, 2));
    assert!(a.get(0, 0) && !a.get(1, 0) && a.get(9, 0) && a.get(9, 1) && !a.get(0, 1));
    let b = read_pbm(&write_pbm(&a)).unwrap();
    assert_eq!(a.data(), b.data());
    assert_eq!(sniff(plain), Some(FileKind::Pbm));
    assert!(read_pbm(b"P4\n10 2\n\x01").is_err());
    assert!(read_pbm(b"P4\n99999999 2\n").is_err());
}

fn png(color: png::ColorType, w: u32, h: u32, data: &[u8], dpm: Option<u32>) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut e = png::Encoder::new(&mut out, w, h);
        e.set_color(color);
        e.set_depth(png::BitDepth::Eight);
        e.set_pixel_dims(dpm.map(|d| png::PixelDimensions {
            xppu: d,
            yppu: d,
            unit: png::Unit::Meter,
        }));
        let mut wr = e.write_header().unwrap();
        wr.write_image_data(data).unwrap();
    }
    out
}

#[test]
fn png_pages_are_thresholded_at_half_grey() {
    // Grey: 0, 127 → black; 128, 255 → white.
    let g = png(
        png::ColorType::Grayscale,
        4,
        1,
        &[0, 127, 128, 255],
        Some(8000),
    );
    let pages = load_bytes(&g).unwrap();
    let b = &pages[0].bitmap;
    assert_eq!(
        (b.get(0, 0), b.get(1, 0), b.get(2, 0), b.get(3, 0)),
        (true, true, false, false)
    );
    let (x, y) = pages[0].dpi.unwrap();
    assert!((x - 203.2).abs() < 0.01 && (y - 203.2).abs() < 0.01);
    // RGBA: dark but transparent is white; red is dark (luma 76).
    let rgba = png(
        png::ColorType::Rgba,
        3,
        1,
        &[0, 0, 0, 255, 0, 0, 0, 0, 255, 0, 0, 255],
        None,
    );
    let pages = load_bytes(&rgba).unwrap();
    let b = &pages[0].bitmap;
    assert_eq!((b.get(0, 0), b.get(1, 0), b.get(2, 0)), (true, false, true));
    assert_eq!(pages[0].dpi, None);
}

#[test]
fn document_errors_carry_the_exact_operator_strings() {
    let e = load_document(std::path::Path::new("/no/such/file.tif")).unwrap_err();
    assert_eq!(e.status(), DOCUMENT_LOADING_ERROR);
    assert_eq!(DOCUMENT_LOADING_ERROR, "Document loading error.");
    assert!(
        e.to_string()
            .starts_with("Document loading error. /no/such/file.tif: ")
    );
    let dir = std::env::temp_dir().join(format!("faxsim-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("x.tif");
    std::fs::write(&f, b"II*\0garbage").unwrap();
    let e = load_document(&f).unwrap_err();
    assert!(matches!(e, DocumentError::Generation { .. }));
    assert_eq!(e.status(), DOCUMENT_GENERATION_ERROR);
    assert_eq!(DOCUMENT_GENERATION_ERROR, "Document generation error");
    assert!(e.to_string().starts_with("Document generation error: "));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A TIFF of `pages` G4 pages each claiming `w` × `h` pels, all sharing one 2-byte strip.
fn hostile_tiff(pages: u32, w: u32, h: u32) -> Vec<u8> {
    let mut t = b"II*\0".to_vec();
    t.extend(8u32.to_le_bytes());
    let ifd_len = 2 + 9 * 12 + 4;
    let strip_at = 8 + pages * ifd_len;
    for p in 0..pages {
        let entries: [(u16, u16, u32); 9] = [
            (256, 4, w),
            (257, 4, h),
            (258, 3, 1),
            (259, 3, 4),
            (262, 3, 0),
            (273, 4, strip_at),
            (277, 3, 1),
            (278, 4, h),
            (279, 4, 2),
        ];
        t.extend(9u16.to_le_bytes());
        for (tag, ty, v) in entries {
            t.extend(tag.to_le_bytes());
            t.extend(ty.to_le_bytes());
            t.extend(1u32.to_le_bytes());
            t.extend(v.to_le_bytes());
        }
        let next = if p + 1 < pages {
            8 + (p + 1) * ifd_len
        } else {
            0
        };
        t.extend(next.to_le_bytes());
    }
    t.extend([0x80, 0x00]); // one V0 row, then garbage
    t
}

#[test]
fn hostile_tiffs_fail_instead_of_allocating() {
    // Each page claims 16384 × 32768 pels (64 MiB); five of them exceed the budget.
    let t = hostile_tiff(5, 16_384, 32_768);
    assert!(t.len() < 1000);
    let err = read_tiff(&t).unwrap_err().to_string();
    assert!(
        err.contains(&format!("{} MiB", MAX_DECODED_BYTES >> 20)),
        "{err}"
    );
    // Too wide or too tall for any page: refused before allocating.
    assert!(read_tiff(&hostile_tiff(1, 1 << 20, 10)).is_err());
    assert!(read_tiff(&hostile_tiff(1, 1728, 1 << 24)).is_err());
    // A small claim decodes, the missing rows concealed and counted.
    let ok = read_tiff(&hostile_tiff(2, 1728, 10)).unwrap();
    assert_eq!(ok.len(), 2);
    assert_eq!(
        ok[0].bitmap,
        Bitmap::new(1728, 10, Resolution::Standard).unwrap()
    );
    assert_eq!(ok[0].bad_rows, 9);
}
