//! Any bytes through the G3 (MH/MR) and T.6 (MMR) decoders: no panic, bounded output.
#![no_main]
use libfuzzer_sys::fuzz_target;
use t30::image::{G3Decoder, Resolution, decode_g3, decode_mmr};

const WIDTHS: [u32; 8] = [1728, 2048, 2432, 3456, 4864, 1, 7, 64];
const MAX_ROWS: u32 = 2048;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, body)) = data.split_first() else {
        return;
    };
    let width = WIDTHS[(sel & 7) as usize];
    let two_d = sel & 8 != 0;
    let page = decode_g3(body, width, two_d, Resolution::Fine, MAX_ROWS).unwrap();
    assert!(page.bitmap.height() <= MAX_ROWS);
    assert!(page.bad_rows <= page.bitmap.height());
    assert!(page.longest_bad_run <= page.bad_rows);
    // The same bits pushed one by one give the same page.
    if body.len() < 512 {
        let mut d = G3Decoder::new(width, two_d, Resolution::Fine, MAX_ROWS).unwrap();
        for &b in body {
            for i in (0..8).rev() {
                d.push_bit((b >> i) & 1 != 0);
            }
        }
        assert_eq!(d.finish(), page);
    }
    let rows = if sel & 16 != 0 { Some(u32::from(sel >> 5) * 100) } else { None };
    let mmr = decode_mmr(body, width, rows, Resolution::Fine).unwrap();
    assert!(mmr.bitmap.height() <= rows.unwrap_or(t30::image::MAX_HEIGHT));
});
