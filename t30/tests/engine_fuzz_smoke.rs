//! The fuzz driver on many seeded random inputs (stable Rust, runs in CI): no panic. The
//! real fuzzing is `cargo fuzz run engine_frames` in t30/fuzz.

use t30::engine::fuzz::drive;

#[test]
fn random_inputs_do_not_panic() {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut total = 0;
    for n in 0..20_000 {
        let len = 1 + n % 300;
        let data: Vec<u8> = (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect();
        total += drive(&data);
    }
    assert!(total > 20_000, "the engines did produce actions: {total}");
}

#[test]
fn valid_frame_sequences_do_not_panic() {
    // Well-formed frames of every type in random order reach deep states.
    let names = t30::frame::fcf::ALL;
    let mut x: u64 = 12345;
    for _ in 0..5_000 {
        let mut data = vec![(x & 0xF) as u8];
        for _ in 0..40 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let (f, _) = names[(x % names.len() as u64) as usize];
            let fif_len = ((x >> 8) % 6) as usize;
            let mut frame =
                t30::frame::Frame::new(f, x & 0x100 != 0, vec![(x >> 16) as u8; fif_len], true)
                    .to_bytes();
            if fif_len > 3 {
                frame[3] = 0x00;
            }
            data.push(0);
            data.push(frame.len() as u8);
            data.extend_from_slice(&frame);
            data.push(8);
            data.push(0);
            data.push(6);
            data.push(0);
        }
        drive(&data);
    }
}
