//! The TSB-85 test pages do what their names promise.
use t30::image::testpage::{TestPageKind, TestPageOptions, make_test_page};
use t30::image::{Bitmap, Coding, EncodeOptions, Resolution, decode_g3, decode_mmr, encode_page};

fn opts(coding: Coding) -> TestPageOptions {
    TestPageOptions {
        coding,
        ..TestPageOptions::default()
    }
}

/// Every (colour, terminating length) and (colour, make-up length) the MH coding of a page
/// uses.
fn mh_codes_used(b: &Bitmap) -> ([[bool; 64]; 2], [[bool; 40]; 2]) {
    let mut term = [[false; 64]; 2];
    let mut makeup = [[false; 40]; 2];
    for y in 0..b.height() {
        let mut x = 0;
        let mut colour = 0;
        while x < b.width() {
            let mut run = 0;
            while x < b.width() && b.get(x, y) as usize == colour {
                run += 1;
                x += 1;
            }
            while run >= 2624 {
                makeup[colour][39] = true;
                run -= 2560;
            }
            if run >= 64 {
                makeup[colour][run as usize / 64 - 1] = true;
            }
            term[colour][run as usize % 64] = true;
            colour ^= 1;
        }
    }
    (term, makeup)
}

#[test]
fn diag_pages_use_every_one_dimensional_code_word() {
    for index in 0..2 {
        let p = make_test_page(TestPageKind::Diag, index, &opts(Coding::Mh)).unwrap();
        assert_eq!(p.bitmap.width(), 1728);
        let (term, makeup) = mh_codes_used(&p.bitmap);
        for colour in 0..2 {
            assert!(
                term[colour].iter().all(|&u| u),
                "page {index} colour {colour}: {:?}",
                term[colour]
            );
            // Make-up codes 64..=1728 (the extended ones need wider rows).
            assert!(
                makeup[colour][..27].iter().all(|&u| u),
                "page {index} colour {colour}: {:?}",
                makeup[colour]
            );
        }
        let enc = encode_page(&p.bitmap, &EncodeOptions::line(Coding::Mh));
        let dec = decode_g3(&enc.data, 1728, false, Resolution::Standard, 5000).unwrap();
        assert!(dec.bitmap == p.bitmap && dec.bad_rows == 0);
    }
    // At 400 dpi (3456 pels) every make-up code, the extended ones up to 2560, is used.
    let wide = make_test_page(
        TestPageKind::Diag,
        0,
        &TestPageOptions {
            resolution: Resolution::Dpi400,
            ..opts(Coding::Mh)
        },
    )
    .unwrap();
    let (_, makeup) = mh_codes_used(&wide.bitmap);
    assert!(makeup[0].iter().all(|&u| u) && makeup[1].iter().all(|&u| u));
}

/// Distances (in bits) from the end of each EOL to the end of the next one: the length of
/// each total coded scan line (data + fill + EOL).
fn line_lengths(data: &[u8]) -> Vec<usize> {
    let mut zeros = 0;
    let mut last = None;
    let mut out = Vec::new();
    for i in 0..data.len() * 8 {
        if data[i / 8] & (0x80 >> (i % 8)) == 0 {
            zeros += 1;
            continue;
        }
        if zeros >= 11 {
            if let Some(l) = last {
                out.push(i - l);
            }
            last = Some(i);
        }
        zeros = 0;
    }
    out
}

#[test]
fn duration_pages_have_one_line_of_exactly_the_stated_time() {
    for (kind, secs) in [
        (TestPageKind::Duration49, 4.9),
        (TestPageKind::Duration51, 5.1),
    ] {
        for coding in [Coding::Mh, Coding::Mr { k: 2 }] {
            let p = make_test_page(kind, 0, &opts(coding)).unwrap();
            let coded = p.coded.as_ref().unwrap();
            let lines = line_lengths(coded);
            // In MR the tag bit sits after the EOL: it belongs to the next line's count here,
            // and T.4 counts it with the EOL; the sum is the same.
            let longest = *lines.iter().max().unwrap();
            let expected = (4800.0 * secs) as usize;
            assert_eq!(longest, expected, "{kind:?} {coding:?}");
            assert_eq!(lines.iter().filter(|&&l| l > 2000).count(), 1);
            assert_eq!(p.long_rows, vec![(p.bitmap.height() / 2, expected as u32)]);
            let dec = decode_g3(
                coded,
                1728,
                coding != Coding::Mh,
                Resolution::Standard,
                5000,
            )
            .unwrap();
            assert!(dec.bitmap == p.bitmap && dec.bad_rows == 0 && dec.end_of_page_seen);
        }
        assert!(make_test_page(kind, 0, &opts(Coding::Mmr)).is_err());
    }
}

#[test]
fn bad_row_pages_list_rows_giving_the_stated_percentage() {
    for (kind, lo, hi) in [
        (TestPageKind::BadRows49, 4.8, 5.0),
        (TestPageKind::BadRows151, 15.0, 15.2),
    ] {
        for res in [Resolution::Standard, Resolution::Fine] {
            let p = make_test_page(
                kind,
                0,
                &TestPageOptions {
                    resolution: res,
                    ..opts(Coding::Mh)
                },
            )
            .unwrap();
            let h = p.bitmap.height();
            let pct = 100.0 * p.corrupt_rows.len() as f64 / h as f64;
            assert!(pct >= lo && pct < hi, "{kind:?} {res:?}: {pct}");
            assert!(p.corrupt_rows.windows(2).all(|w| w[0] < w[1]));
            // Send it with those rows corrupted: the receiver counts exactly them.
            let enc = encode_page(&p.bitmap, &EncodeOptions::line(Coding::Mh));
            let mut data = enc.data.clone();
            for &r in &p.corrupt_rows {
                let s = enc.rows[r as usize];
                for bit in s.data_start..s.data_start + 4 {
                    data[bit / 8] ^= 0x80 >> (bit % 8);
                }
            }
            let dec = decode_g3(&data, p.bitmap.width(), false, res, 10_000).unwrap();
            assert_eq!(dec.bad_row_list, p.corrupt_rows, "{kind:?} {res:?}");
            assert!((dec.bad_row_percent() - pct).abs() < 1e-9);
        }
    }
}

#[test]
fn stairstep_pages_fill_exact_ecm_blocks() {
    for coding in [Coding::Mh, Coding::Mr { k: 4 }, Coding::Mmr] {
        for bytes in [16_384u32, 65_536, 15 * 1024] {
            let o = TestPageOptions {
                ecm_bytes: bytes,
                resolution: Resolution::Fine,
                ..opts(coding)
            };
            let p = make_test_page(TestPageKind::Stairstep, 1, &o).unwrap();
            let coded = p.coded.unwrap();
            assert_eq!(coded.len(), bytes as usize, "{coding:?}");
            let w = p.bitmap.width();
            let dec = match coding {
                Coding::Mmr => decode_mmr(&coded, w, None, Resolution::Fine).unwrap(),
                c => decode_g3(&coded, w, c != Coding::Mh, Resolution::Fine, 30_000).unwrap(),
            };
            assert!(dec.bitmap == p.bitmap && dec.bad_rows == 0 && dec.end_of_page_seen);
        }
    }
}

#[test]
fn white_and_impress_pages_are_a4() {
    for res in [
        Resolution::Standard,
        Resolution::Fine,
        Resolution::Superfine,
    ] {
        let white = make_test_page(
            TestPageKind::White,
            0,
            &TestPageOptions {
                resolution: res,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(white.bitmap.black_count(), 0);
        let (w_mm, h_mm) = white.bitmap.size_mm();
        assert!(
            (w_mm - 215.0).abs() < 1.0 && (h_mm - 297.0).abs() < 0.5,
            "{w_mm} x {h_mm}"
        );
        let imp = make_test_page(
            TestPageKind::Impress,
            0,
            &TestPageOptions {
                resolution: res,
                ..Default::default()
            },
        )
        .unwrap();
        let ink = imp.bitmap.black_count() as f64
            / (imp.bitmap.width() as f64 * imp.bitmap.height() as f64);
        assert!(ink > 0.02 && ink < 0.2, "{res:?}: {ink}");
    }
}
