//! spandsp's T.38 terminal against itself through `T38Terminal`: IFPs go across with their
//! sequence numbers, a page arrives, phase E reports OK on both sides.

use spandsp_peer::fax::{FaxConfig, modems};
use spandsp_peer::t38::T38Terminal;

/// A one-page TIFF spandsp can send: 1728 x 100 white rows, uncompressed, fine.
fn tiff(path: &std::path::Path) {
    let (w, h) = (1728u32, 100u32);
    let strip = vec![0u8; (w / 8 * h) as usize];
    let mut t = Vec::new();
    t.extend_from_slice(b"II*\0");
    let ifd_at = 8 + strip.len() as u32 + 16;
    t.extend_from_slice(&ifd_at.to_le_bytes());
    t.extend_from_slice(&strip);
    // XResolution and YResolution rationals.
    for v in [204u32, 1, 196, 1] {
        t.extend_from_slice(&v.to_le_bytes());
    }
    let xres = 8 + strip.len() as u32;
    let entries: [(u16, u16, u32, u32); 11] = [
        (256, 4, 1, w),
        (257, 4, 1, h),
        (258, 3, 1, 1),
        (259, 3, 1, 1),
        (262, 3, 1, 0),
        (273, 4, 1, 8),
        (277, 3, 1, 1),
        (278, 4, 1, h),
        (279, 4, 1, strip.len() as u32),
        (282, 5, 1, xres),
        (283, 5, 1, xres + 8),
    ];
    t.extend_from_slice(&(entries.len() as u16 + 1).to_le_bytes());
    for (tag, ty, n, v) in entries {
        t.extend_from_slice(&tag.to_le_bytes());
        t.extend_from_slice(&ty.to_le_bytes());
        t.extend_from_slice(&n.to_le_bytes());
        t.extend_from_slice(&v.to_le_bytes());
    }
    // ResolutionUnit: inch.
    t.extend_from_slice(&296u16.to_le_bytes());
    t.extend_from_slice(&3u16.to_le_bytes());
    t.extend_from_slice(&1u32.to_le_bytes());
    t.extend_from_slice(&2u32.to_le_bytes());
    t.extend_from_slice(&0u32.to_le_bytes());
    std::fs::write(path, t).unwrap();
}

#[test]
fn a_page_crosses_between_two_t38_terminals() {
    let Some(sp) = spandsp_peer::require() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("send.tif");
    tiff(&src);
    let mut a_cfg = FaxConfig::new(true);
    a_cfg.ident = "A".into();
    a_cfg.modems = modems::V17;
    a_cfg.tx_file = Some(src);
    let mut b_cfg = FaxConfig::new(false);
    b_cfg.ident = "B".into();
    b_cfg.rx_file = Some(dir.path().join("rx.tif"));
    let mut a = T38Terminal::new(&sp, &a_cfg, 0).unwrap();
    let mut b = T38Terminal::new(&sp, &b_cfg, 0).unwrap();
    let (mut seq_a, mut seq_b) = (0u16, 0u16);
    let (mut sent_a, mut sent_b) = (0, 0);
    let mut blocks = 0;
    while a.completion().is_none() || b.completion().is_none() {
        a.advance(160);
        b.advance(160);
        for ifp in a.take_sent() {
            b.rx_ifp(&ifp, seq_a);
            seq_a = seq_a.wrapping_add(1);
            sent_a += 1;
        }
        for ifp in b.take_sent() {
            a.rx_ifp(&ifp, seq_b);
            seq_b = seq_b.wrapping_add(1);
            sent_b += 1;
        }
        blocks += 1;
        assert!(blocks < 50 * 120, "no phase E within 120 s");
    }
    assert_eq!(a.completion(), Some(0));
    assert_eq!(b.completion(), Some(0));
    assert_eq!(a.remote_ident(), "B");
    assert_eq!(b.remote_ident(), "A");
    let (sa, sb) = (a.stats(), b.stats());
    assert_eq!((sa.pages_tx, sb.pages_rx), (1, 1));
    assert_eq!(sb.bit_rate, 14400);
    assert!(sent_a > 10 && sent_b > 3, "{sent_a} {sent_b}");
    assert!(
        b.frames()
            .iter()
            .any(|f| f.incoming && f.bytes.get(2) == Some(&0x83))
    );
    assert!(std::fs::metadata(dir.path().join("rx.tif")).unwrap().len() > 0);
}
