//! TIFF cross-checks against libtiff's tools (skipped with one line when they are absent).
mod common;
use common::{have_tool, run, s, scratch};
use t30::image::tiff::{StoredCoding, TiffWriteOptions, read_tiff, write_tiff};
use t30::image::{Bitmap, Coding, EncodeOptions, Resolution, encode_page};

/// A page with text-like strokes, noise, long runs and edge pels.
fn test_page(width: u32, height: u32, res: Resolution, seed: u32) -> Bitmap {
    let mut b = Bitmap::new(width, height, res).unwrap();
    let mut s = seed.wrapping_mul(2_654_435_761) | 1;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        s
    };
    for y in 0..height {
        let band = y / 16 % 4;
        match band {
            0 => {
                let mut x = 40;
                while x < width - 40 {
                    let w = 1 + next() % 9;
                    if next() % 3 != 0 {
                        b.fill_rect(x, y, x + w, y + 1, true);
                    }
                    x += w + 1 + next() % 6;
                }
            }
            1 => {
                for x in 0..width {
                    b.set(x, y, next() % 5 == 0);
                }
            }
            2 => b.fill_rect((y * 7) % width, y, width, y + 1, true),
            _ => {
                b.set(0, y, true);
                b.set(width - 1, y, y % 2 == 0);
            }
        }
    }
    b
}

fn write_source(dir: &std::path::Path, pages: &[Bitmap]) -> std::path::PathBuf {
    let opts = TiffWriteOptions {
        coding: None,
        ..TiffWriteOptions::new(Coding::Mh)
    };
    let p = dir.join("src.tif");
    std::fs::write(&p, write_tiff(pages, None, &opts).unwrap()).unwrap();
    p
}

fn tools() -> bool {
    ["tiffcp", "tiffinfo", "tiffcmp"]
        .iter()
        .all(|t| have_tool(t))
}

#[test]
fn libtiff_coded_files_decode_to_libtiffs_own_pixels() {
    if !tools() {
        return;
    }
    let dir = scratch("libtiff-decode");
    let pages = vec![
        test_page(1728, 150, Resolution::Fine, 1),
        test_page(2432, 70, Resolution::Fine, 2),
    ];
    let src = write_source(&dir, &pages);
    let cases: [(&str, &[&str]); 7] = [
        ("g3", &["-c", "g3"]),
        ("g3-2d", &["-c", "g3:2d"]),
        ("g3-2d-fill", &["-c", "g3:2d:fill"]),
        ("g3-lsb", &["-c", "g3:2d", "-f", "lsb2msb"]),
        ("g4", &["-c", "g4"]),
        ("g4-strips", &["-c", "g4", "-r", "13"]),
        ("packbits", &["-c", "packbits", "-r", "9"]),
    ];
    for (name, args) in cases {
        let coded = dir.join(format!("{name}.tif"));
        let raw = dir.join(format!("{name}-raw.tif"));
        let mut a: Vec<&str> = args.to_vec();
        a.extend([s(&src), s(&coded)]);
        run("tiffcp", &a);
        // libtiff's own decoding of its coded file.
        run("tiffcp", &["-c", "none", s(&coded), s(&raw)]);
        let ours = read_tiff(&std::fs::read(&coded).unwrap()).unwrap();
        let theirs = read_tiff(&std::fs::read(&raw).unwrap()).unwrap();
        assert_eq!(ours.len(), 2, "{name}");
        for (i, (o, t)) in ours.iter().zip(&theirs).enumerate() {
            assert_eq!(o.bad_rows, 0, "{name} page {i}");
            assert!(
                o.bitmap == t.bitmap,
                "{name} page {i}: differs from libtiff"
            );
            assert!(
                o.bitmap == pages[i],
                "{name} page {i}: differs from the source"
            );
        }
        if name.starts_with("g3-2d") {
            assert!(matches!(
                ours[0].coding,
                StoredCoding::Fax(Coding::Mr { .. })
            ));
        }
        if name == "g3-lsb" {
            assert_eq!(ours[0].fill_order, 2);
        }
    }
}

#[test]
fn min_is_black_files_read_the_right_way_round() {
    if !tools() || !have_tool("tiffset") {
        return;
    }
    let dir = scratch("minisblack");
    let page = test_page(1728, 40, Resolution::Standard, 3);
    let src = write_source(&dir, std::slice::from_ref(&page));
    let g4 = dir.join("g4.tif");
    run("tiffcp", &["-c", "g4", s(&src), s(&g4)]);
    run("tiffset", &["-s", "262", "1", s(&g4)]);
    let read = read_tiff(&std::fs::read(&g4).unwrap()).unwrap();
    let mut inverted = page.clone();
    for y in 0..40 {
        for x in 0..1728 {
            inverted.set(x, y, !page.get(x, y));
        }
    }
    assert!(read[0].bitmap == inverted);
}

#[test]
fn our_tiff_f_passes_tiffinfo_and_equals_the_source_in_tiffcmp() {
    if !tools() {
        return;
    }
    let dir = scratch("ours");
    let pages = vec![
        test_page(1728, 120, Resolution::Standard, 4),
        test_page(1728, 120, Resolution::Standard, 5),
        test_page(1728, 120, Resolution::Standard, 6),
    ];
    // The source carries the same descriptive tags, which tiffcmp compares too.
    let src = dir.join("src.tif");
    let src_opts = TiffWriteOptions {
        coding: None,
        description: Some("+44 1234 567890".into()),
        date_time: Some("2026:01:02 03:04:05".into()),
        ..TiffWriteOptions::new(Coding::Mh)
    };
    std::fs::write(&src, write_tiff(&pages, None, &src_opts).unwrap()).unwrap();
    for coding in [Coding::Mh, Coding::Mr { k: 2 }, Coding::Mmr] {
        for fill_order in [1u16, 2] {
            let opts = TiffWriteOptions {
                fill_order,
                description: Some("+44 1234 567890".into()),
                date_time: Some("2026:01:02 03:04:05".into()),
                ..TiffWriteOptions::new(coding)
            };
            let p = dir.join(format!("{}-{fill_order}.tif", coding.name()));
            std::fs::write(&p, write_tiff(&pages, None, &opts).unwrap()).unwrap();
            let (info, err) = run("tiffinfo", &["-D", s(&p)]);
            assert!(err.trim().is_empty(), "tiffinfo warned: {err}");
            assert!(!info.to_lowercase().contains("warning"), "{info}");
            assert_eq!(info.matches("Image Width: 1728").count(), 3, "{info}");
            assert!(info.contains("Page Number: 0-3"), "{info}");
            assert!(info.contains("+44 1234 567890"), "{info}");
            assert!(info.contains("2026:01:02 03:04:05"), "{info}");
            // tiffcmp compares the Compression tag too: compare libtiff's decoding of our
            // file with the uncompressed source, and our file with libtiff's own coding of
            // the source in the same scheme.
            let raw = dir.join("ours-raw.tif");
            run("tiffcp", &["-c", "none", "-f", "msb2lsb", s(&p), s(&raw)]);
            let (cmp, _) = run("tiffcmp", &[s(&src), s(&raw)]);
            assert_tiffcmp_same(&cmp);
            let scheme = match coding {
                Coding::Mh => "g3",
                Coding::Mr { .. } => "g3:2d",
                Coding::Mmr => "g4",
            };
            let theirs = dir.join("theirs.tif");
            let fo = if fill_order == 2 {
                "lsb2msb"
            } else {
                "msb2lsb"
            };
            run(
                "tiffcp",
                &["-c", scheme, "-f", fo, "-r", "120", s(&src), s(&theirs)],
            );
            let (cmp, _) = run("tiffcmp", &[s(&theirs), s(&p)]);
            // TIFF-F asks for T4Options/T6Options even when 0; libtiff leaves a 0 out.
            let cmp: String = cmp
                .lines()
                .filter(|l| {
                    !(coding == Coding::Mh && l.starts_with("Group3Options tag appears only in")
                        || coding == Coding::Mmr
                            && l.starts_with("Group4Options tag appears only in"))
                })
                .map(|l| format!("{l}\n"))
                .collect();
            assert_tiffcmp_same(&cmp);
            let back = read_tiff(&std::fs::read(&p).unwrap()).unwrap();
            assert_eq!(back.len(), 3);
            for (b, o) in back.iter().zip(&pages) {
                assert!(b.bitmap == *o);
                assert_eq!(b.description.as_deref(), Some("+44 1234 567890"));
            }
        }
    }
}

#[test]
fn our_mmr_is_byte_identical_to_libtiffs() {
    if !tools() {
        return;
    }
    let dir = scratch("mmr-bytes");
    for (i, (w, res)) in [
        (1728, Resolution::Standard),
        (2048, Resolution::Fine),
        (2432, Resolution::Fine),
        (3456, Resolution::R16),
        (3648, Resolution::Dpi300),
        (4864, Resolution::Dpi400),
    ]
    .into_iter()
    .enumerate()
    {
        let page = test_page(w, 100, res, 10 + i as u32);
        let src = write_source(&dir, std::slice::from_ref(&page));
        let g4 = dir.join("g4.tif");
        run("tiffcp", &["-c", "g4", "-r", "100", s(&src), s(&g4)]);
        let bytes = std::fs::read(&g4).unwrap();
        let strip = single_strip(&bytes);
        let ours = encode_page(&page, &EncodeOptions::tiff(Coding::Mmr)).data;
        assert_eq!(ours.len(), strip.len(), "width {w}");
        assert!(ours == strip, "width {w}: MMR bytes differ from libtiff's");
    }
}

/// The one strip of a one-page file, found through the tiff crate's tag reader.
fn single_strip(bytes: &[u8]) -> Vec<u8> {
    use tiff::decoder::Decoder;
    use tiff::tags::Tag;
    let mut d = Decoder::new(std::io::Cursor::new(bytes)).unwrap();
    let off = d.get_tag_u64_vec(Tag::StripOffsets).unwrap();
    let cnt = d.get_tag_u64_vec(Tag::StripByteCounts).unwrap();
    assert_eq!(off.len(), 1);
    bytes[off[0] as usize..(off[0] + cnt[0]) as usize].to_vec()
}

/// tiffcmp prints only "Directory N:" headers for identical multi-page files.
fn assert_tiffcmp_same(out: &str) {
    let diffs: Vec<&str> = out
        .lines()
        .filter(|l| !(l.starts_with("Directory ") && l.ends_with(':')))
        .collect();
    assert!(diffs.is_empty(), "tiffcmp found differences: {out}");
}

#[test]
fn libtiff_reads_test_pages_with_fill_and_padding_as_meant() {
    use t30::image::testpage::{TestPageKind, TestPageOptions, make_test_page};
    use t30::image::tiff::write_tiff_coded;
    if !tools() {
        return;
    }
    let dir = scratch("testpages");
    for (kind, coding) in [
        (TestPageKind::Duration51, Coding::Mh),
        (TestPageKind::Duration49, Coding::Mr { k: 2 }),
        (TestPageKind::Stairstep, Coding::Mr { k: 2 }),
        (TestPageKind::Stairstep, Coding::Mmr),
    ] {
        let o = TestPageOptions {
            coding,
            ..TestPageOptions::default()
        };
        let p = make_test_page(kind, 0, &o).unwrap();
        let coded = vec![p.coded.clone().unwrap()];
        let bytes = write_tiff_coded(
            std::slice::from_ref(&p.bitmap),
            &coded,
            None,
            &TiffWriteOptions::new(coding),
        )
        .unwrap();
        let f = dir.join("page.tif");
        std::fs::write(&f, bytes).unwrap();
        let (_, err) = run("tiffinfo", &["-D", s(&f)]);
        assert!(err.trim().is_empty(), "{kind:?}: tiffinfo warned: {err}");
        let raw = dir.join("raw.tif");
        run("tiffcp", &["-c", "none", s(&f), s(&raw)]);
        let back = read_tiff(&std::fs::read(&raw).unwrap()).unwrap();
        assert!(
            back[0].bitmap == p.bitmap,
            "{kind:?} {coding:?}: libtiff decodes other pels"
        );
    }
}
