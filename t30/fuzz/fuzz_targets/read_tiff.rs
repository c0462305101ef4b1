//! Any bytes through the document loader (TIFF, PBM, PNG): no panic, no runaway
//! allocation (libFuzzer's RSS limit catches that).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(pages) = t30::image::tiff::read_tiff(data) {
        for p in &pages {
            assert!(p.bitmap.width() <= t30::image::MAX_WIDTH);
            assert!(p.bitmap.height() <= t30::image::MAX_HEIGHT);
        }
    }
    let _ = t30::image::load::load_bytes(data);
});
