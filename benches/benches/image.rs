//! T.4/T.6 coding speed: encode and decode rows per second for MH, MR and MMR on a
//! text page (the usual case) and a dithered page (the worst case: a change every pel or
//! two).
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use t30::image::testpage::{TestPageKind, TestPageOptions, make_test_page};
use t30::image::{Bitmap, Coding, EncodeOptions, Resolution, decode_g3, decode_mmr, encode_page};

fn dithered() -> Bitmap {
    // 50 % grey by error diffusion along rows with a seeded jitter: few long runs.
    let r = Resolution::Fine;
    let mut b = Bitmap::new(1728, 2292, r).unwrap();
    let mut s = 0x2545_F491u32;
    for y in 0..b.height() {
        let mut err = 0i32;
        for x in 0..b.width() {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            let v = 128 + (s % 61) as i32 - 30 + err;
            let black = v < 128;
            err = v - if black { 0 } else { 255 };
            b.set(x, y, black);
        }
    }
    b
}

fn bench_coding(c: &mut Criterion) {
    let text = make_test_page(
        TestPageKind::Impress,
        0,
        &TestPageOptions {
            resolution: Resolution::Fine,
            ..TestPageOptions::default()
        },
    )
    .unwrap()
    .bitmap;
    let pages = [("text", text), ("dithered", dithered())];
    let codings = [
        ("MH", Coding::Mh),
        ("MR", Coding::Mr { k: 4 }),
        ("MMR", Coding::Mmr),
    ];
    let mut g = c.benchmark_group("t4t6");
    for (pname, page) in &pages {
        g.throughput(Throughput::Elements(page.height() as u64));
        for (cname, coding) in codings {
            let opts = EncodeOptions::line(coding);
            g.bench_function(format!("encode/{cname}/{pname}"), |b| {
                b.iter(|| encode_page(black_box(page), &opts))
            });
            let enc = encode_page(page, &opts);
            g.bench_function(format!("decode/{cname}/{pname}"), |b| {
                b.iter(|| match coding {
                    Coding::Mmr => {
                        decode_mmr(black_box(&enc.data), 1728, None, Resolution::Fine).unwrap()
                    }
                    c => decode_g3(
                        black_box(&enc.data),
                        1728,
                        c != Coding::Mh,
                        Resolution::Fine,
                        10_000,
                    )
                    .unwrap(),
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench_coding);
criterion_main!(benches);
