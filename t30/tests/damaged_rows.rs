//! Issue 3, must-show 2: corrupt chosen rows of an MH/MR stream; the decoder reports exactly
//! those rows as bad, conceals them with the previous good row, and the bad-row percentage
//! is right.
use t30::image::{Bitmap, Coding, EncodeOptions, EncodedPage, G3Decoder, Resolution, encode_page};

/// A text-like page: short black strokes in lines of "characters".
fn text_page(rows: u32) -> Bitmap {
    let mut b = Bitmap::new(1728, rows, Resolution::Standard).unwrap();
    let mut s = 0x9E37_79B9u32;
    for y in 0..rows {
        if y % 12 >= 9 {
            continue;
        }
        let mut x = 100;
        while x < 1600 {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let w = 1 + (s >> 28);
            if (s >> 20) & 3 != 0 {
                b.fill_rect(x, y, x + w, y + 1, true);
            }
            x += w + 2 + ((s >> 12) & 7);
        }
    }
    b
}

/// Flip a burst of bits in the middle of each chosen row's data, as line noise would.
fn corrupt(enc: &EncodedPage, rows: &[u32]) -> Vec<u8> {
    let mut data = enc.data.clone();
    for &r in rows {
        let span = enc.rows[r as usize];
        let mid = (span.data_start + span.data_end) / 2;
        for bit in mid..(mid + 6).min(span.data_end) {
            data[bit / 8] ^= 0x80 >> (bit % 8);
        }
    }
    data
}

fn decode_line_order(data: &[u8], two_d: bool, res: Resolution) -> t30::image::DecodedPage {
    // Feed bit by bit, as a modem would.
    let mut d = G3Decoder::new(1728, two_d, res, 10_000).unwrap();
    for &b in data {
        for i in (0..8).rev() {
            d.push_bit((b >> i) & 1 != 0);
        }
    }
    d.finish()
}

fn check_concealment(page: &Bitmap, out: &Bitmap, bad: &[u32]) {
    assert_eq!(out.height(), page.height());
    let mut last_good = vec![0u8; page.stride()];
    for y in 0..page.height() {
        if bad.contains(&y) {
            assert_eq!(out.row(y), &last_good[..], "row {y} not concealed");
        } else {
            assert_eq!(out.row(y), page.row(y), "good row {y} differs");
            last_good = page.row(y).to_vec();
        }
    }
}

#[test]
fn mh_damaged_rows_are_found_concealed_and_counted() {
    let page = text_page(200);
    let enc = encode_page(&page, &EncodeOptions::line(Coding::Mh));
    let chosen = [0u32, 3, 17, 18, 19, 100, 199];
    let dec = decode_line_order(&corrupt(&enc, &chosen), false, Resolution::Standard);
    assert_eq!(dec.bad_row_list, chosen);
    assert_eq!(dec.bad_rows, chosen.len() as u32);
    assert_eq!(dec.longest_bad_run, 3);
    assert!((dec.bad_row_percent() - 3.5).abs() < 1e-9);
    assert!(dec.end_of_page_seen);
    check_concealment(&page, &dec.bitmap, &chosen);
}

#[test]
fn mr_damage_spreads_to_the_next_one_dimensional_row() {
    let page = text_page(200);
    let enc = encode_page(&page, &EncodeOptions::line(Coding::Mr { k: 4 }));
    // Rows 8 and 40 are 1-D (K = 4): the following 2-D rows 9–11 and 41–43 lean on them.
    // Row 22 is 2-D and blank: its single V0 bit is wiped out, leaving two EOLs back to
    // back, which must still count as a (bad) row; 23 follows it up to the 1-D row 24.
    let chosen = [8u32, 22, 40];
    let expected = [8u32, 9, 10, 11, 22, 23, 40, 41, 42, 43];
    let dec = decode_line_order(&corrupt(&enc, &chosen), true, Resolution::Standard);
    assert_eq!(dec.bad_row_list, expected);
    assert_eq!(dec.longest_bad_run, 4);
    assert!((dec.bad_row_percent() - 5.0).abs() < 1e-9);
    check_concealment(&page, &dec.bitmap, &expected);
}

#[test]
fn wrong_length_rows_are_bad() {
    // A row coded for 1727 pels inside a 1728-pel page: too short, so bad.
    let page = text_page(10);
    let mut short = Bitmap::new(1727, 1, Resolution::Standard).unwrap();
    short.fill_rect(5, 0, 50, 1, true);
    let good = encode_page(&page, &EncodeOptions::tiff(Coding::Mh));
    let bad = encode_page(&short, &EncodeOptions::tiff(Coding::Mh));
    let mut w = t30::image::bits::BitWriter::new();
    let mut put_bits = |data: &[u8], from: usize, to: usize| {
        for i in from..to {
            w.put(((data[i / 8] >> (7 - i % 8)) & 1) as u32, 1);
        }
    };
    put_bits(&good.data, 0, good.rows[5].end);
    put_bits(&bad.data, 0, bad.bit_len);
    put_bits(&good.data, good.rows[6].start, good.bit_len);
    let data = w.into_bytes();
    let dec = t30::image::decode_g3(&data, 1728, false, Resolution::Standard, 100).unwrap();
    assert_eq!(dec.bad_row_list, vec![6]);
    assert_eq!(dec.bitmap.height(), 11);
}
