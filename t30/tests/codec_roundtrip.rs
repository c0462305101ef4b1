//! Round trips of random and structured pages through every coding at every T.4 width.
use proptest::prelude::*;
use t30::image::{
    Bitmap, Coding, EncodeOptions, Resolution, decode_g3, decode_mmr, encode_page, min_row_bits,
};

const WIDTHS: [u32; 9] = [1728, 2048, 2432, 2592, 3072, 3648, 3456, 4096, 4864];
const CODINGS: [Coding; 4] = [
    Coding::Mh,
    Coding::Mr { k: 2 },
    Coding::Mr { k: 4 },
    Coding::Mmr,
];

fn decode(data: &[u8], page: &Bitmap, coding: Coding) -> t30::image::DecodedPage {
    match coding {
        Coding::Mmr => decode_mmr(data, page.width(), None, page.resolution).unwrap(),
        Coding::Mh => decode_g3(data, page.width(), false, page.resolution, 100_000).unwrap(),
        Coding::Mr { .. } => decode_g3(data, page.width(), true, page.resolution, 100_000).unwrap(),
    }
}

fn check(page: &Bitmap, opts: EncodeOptions) {
    let enc = encode_page(page, &opts);
    assert_eq!(enc.rows.len(), page.height() as usize);
    let dec = decode(&enc.data, page, opts.coding);
    assert_eq!(dec.bad_rows, 0, "{opts:?}");
    assert_eq!(dec.bitmap.height(), page.height(), "{opts:?}");
    assert!(dec.bitmap == *page, "pixels differ for {opts:?}");
    assert_eq!(dec.end_of_page_seen, opts.end_of_page);
    if opts.min_row_bits > 0 && opts.coding != Coding::Mmr {
        let eol = if matches!(opts.coding, Coding::Mr { .. }) {
            13
        } else {
            12
        };
        for r in &enc.rows {
            assert!((r.end - r.data_start) as u32 + eol >= opts.min_row_bits);
        }
    }
}

/// Pages described by a seed: noise of a given density, runs, rectangles.
fn page_strategy() -> impl Strategy<Value = Bitmap> {
    (
        prop::sample::select(WIDTHS.to_vec()),
        1u32..10,
        any::<u64>(),
        0u8..5,
    )
        .prop_map(|(width, height, seed, kind)| make_page(width, height, seed, kind))
}

fn make_page(width: u32, height: u32, seed: u64, kind: u8) -> Bitmap {
    let mut s = seed | 1;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let mut b = Bitmap::new(width, height, Resolution::Fine).unwrap();
    match kind {
        // Dense noise: the worst case for every coding.
        0 => {
            for y in 0..height {
                for x in 0..width {
                    b.set(x, y, next() % 2 == 0);
                }
            }
        }
        // Sparse noise.
        1 => {
            for _ in 0..(width * height / 50) {
                let (x, y) = (
                    (next() % width as u64) as u32,
                    (next() % height as u64) as u32,
                );
                b.set(x, y, true);
            }
        }
        // Rectangles (long runs, make-up codes, runs over 2560).
        2 => {
            for _ in 0..6 {
                let x0 = (next() % width as u64) as u32;
                let x1 = x0 + (next() % (width - x0 + 1) as u64) as u32;
                let y0 = (next() % height as u64) as u32;
                let y1 = y0 + 1 + (next() % (height - y0) as u64) as u32;
                let black = next() % 3 != 0;
                b.fill_rect(x0, y0, x1, y1, black);
            }
        }
        // Edge pels and full rows.
        3 => {
            for y in 0..height {
                match next() % 4 {
                    0 => b.fill_rect(0, y, width, y + 1, true),
                    1 => {
                        b.set(0, y, true);
                        b.set(width - 1, y, true);
                    }
                    2 => b.fill_rect(0, y, 1 + (next() % width as u64) as u32, y + 1, true),
                    _ => {}
                }
            }
        }
        // Slanted edges: exercises every vertical mode and pass mode.
        _ => {
            let slope = (next() % 7) as i64 - 3;
            for y in 0..height {
                for k in 0..20i64 {
                    let x0 = (k * 97 + slope * y as i64 * (k % 3)).rem_euclid(width as i64) as u32;
                    b.fill_rect(x0, y, x0 + (k as u32 % 5) + 1, y + 1, k % 2 == 0);
                }
            }
        }
    }
    b
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn every_coding_round_trips(page in page_strategy(), align in any::<bool>(), fill_ms in prop::sample::select(vec![0u32, 5, 10, 20, 40])) {
        for coding in CODINGS {
            let opts = EncodeOptions {
                coding,
                min_row_bits: min_row_bits(14_400, fill_ms),
                align_eol: align,
                end_of_page: true,
            };
            check(&page, opts);
            check(&page, EncodeOptions { end_of_page: false, ..opts });
        }
    }

    #[test]
    fn odd_widths_round_trip(width in 1u32..600, height in 1u32..6, seed in any::<u64>(), kind in 0u8..5) {
        let page = make_page(width, height, seed, kind);
        for coding in CODINGS {
            check(&page, EncodeOptions::line(coding));
        }
    }
}

#[test]
fn every_width_and_coding_on_structured_pages() {
    for width in WIDTHS {
        for kind in 0..5 {
            let page = make_page(width, 8, 42 + kind as u64, kind);
            for coding in CODINGS {
                check(&page, EncodeOptions::line(coding));
                check(&page, EncodeOptions::tiff(coding));
            }
        }
    }
}

#[test]
fn all_white_row_codes_are_the_textbook_ones() {
    // MH white row of 1728: EOL, make-up 1728 (010011011), terminating 0 (00110101).
    let page = Bitmap::new(1728, 1, Resolution::Standard).unwrap();
    let enc = encode_page(&page, &EncodeOptions::tiff(Coding::Mh));
    assert_eq!(enc.bit_len, 12 + 9 + 8);
    // 0000 0000 | 0001 0100 | 1101 1001 | 1010 1 (padded with zeros)
    assert_eq!(enc.data, vec![0x00, 0x14, 0xD9, 0xA8]);
}

#[test]
fn fill_bits_meet_the_minimum_scan_line_time() {
    assert_eq!(min_row_bits(4800, 20), 96);
    assert_eq!(min_row_bits(14_400, 40), 576);
    assert_eq!(min_row_bits(9600, 0), 0);
    let page = Bitmap::new(1728, 3, Resolution::Standard).unwrap();
    let enc = encode_page(
        &page,
        &EncodeOptions {
            min_row_bits: 96,
            ..EncodeOptions::line(Coding::Mh)
        },
    );
    for r in &enc.rows {
        // 17 data bits + 67 fill zeros + the next EOL's 12 bits: exactly 96.
        assert_eq!(r.end - r.data_start + 12, 96);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Garbage never panics the decoders, and what they return stays within bounds.
    #[test]
    fn garbage_is_decoded_without_panic(data in prop::collection::vec(any::<u8>(), 0..600), width in prop::sample::select(WIDTHS.to_vec()), two_d in any::<bool>()) {
        let page = decode_g3(&data, width, two_d, Resolution::Fine, 300).unwrap();
        prop_assert!(page.bitmap.height() <= 300);
        prop_assert!(page.longest_bad_run <= page.bad_rows);
        prop_assert_eq!(page.bad_row_list.len() as u32, page.bad_rows);
        let mmr = decode_mmr(&data, width, Some(50), Resolution::Fine).unwrap();
        prop_assert!(mmr.bitmap.height() <= 50);
    }
}
