//! Resolution and size conversion, and the far-end capability check.
use t30::image::convert::{
    ConversionPolicy, PageFitError, ReceiverCaps, WidthPolicy, convert_page, fit_page, plan_page,
};
use t30::image::{Bitmap, PageWidth, Resolution};

fn noise(w: u32, h: u32, r: Resolution, seed: u32) -> Bitmap {
    let mut b = Bitmap::new(w, h, r).unwrap();
    let mut s = seed | 1;
    for y in 0..h {
        for x in 0..w {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            b.set(x, y, s.is_multiple_of(11));
        }
    }
    b
}

fn dpi(r: Resolution) -> Option<(f64, f64)> {
    Some((r.x_dpi() as f64, r.y_dpi() as f64))
}

/// `p`, drawn at `from`, converted to `to` for an A4 receiver with `width` handling.
fn to_a4(p: &Bitmap, from: Resolution, to: Resolution, width: WidthPolicy) -> Bitmap {
    convert_page(p, dpi(from), to, PageWidth::A4, width).unwrap()
}

#[test]
fn finer_to_coarser_merges_row_pairs() {
    for (from, to) in [
        (Resolution::Fine, Resolution::Standard),
        (Resolution::Superfine, Resolution::Fine),
    ] {
        let p = noise(1728, 200, from, 3);
        let c = to_a4(&p, from, to, WidthPolicy::Scale);
        assert_eq!((c.width(), c.height(), c.resolution), (1728, 100, to));
        for y in 0..100 {
            for x in 0..1728 {
                assert_eq!(
                    c.get(x, y),
                    p.get(x, 2 * y) || p.get(x, 2 * y + 1),
                    "{from:?} ({x},{y})"
                );
            }
        }
    }
}

#[test]
fn r16_to_superfine_merges_column_pairs() {
    let p = noise(3456, 20, Resolution::R16, 5);
    let c = to_a4(
        &p,
        Resolution::R16,
        Resolution::Superfine,
        WidthPolicy::Scale,
    );
    assert_eq!((c.width(), c.height()), (1728, 20));
    for y in 0..20 {
        for x in 0..1728 {
            assert_eq!(c.get(x, y), p.get(2 * x, y) || p.get(2 * x + 1, y));
        }
    }
}

#[test]
fn same_scale_is_identity() {
    let p = noise(1728, 50, Resolution::Standard, 7);
    let same = to_a4(
        &p,
        Resolution::Standard,
        Resolution::Standard,
        WidthPolicy::Scale,
    );
    assert!(same == p);
    let twin = to_a4(
        &p,
        Resolution::Standard,
        Resolution::Dpi200x100,
        WidthPolicy::Scale,
    );
    assert_eq!(twin.data(), p.data());
    assert_eq!(twin.resolution, Resolution::Dpi200x100);
}

#[test]
fn wider_to_narrower_scales_or_crops() {
    let mut p = Bitmap::new(2048, 400, Resolution::Standard).unwrap();
    p.fill_rect(2000, 0, 2048, 400, true); // a bar at the right edge
    let scaled = to_a4(
        &p,
        Resolution::Standard,
        Resolution::Standard,
        WidthPolicy::Scale,
    );
    assert_eq!(
        (scaled.width(), scaled.height()),
        (1728, (400.0f64 * 1728.0 / 2048.0).round() as u32)
    );
    assert!(scaled.get(1727, 10) && scaled.get(1700, 10) && !scaled.get(1600, 10));
    let cropped = to_a4(
        &p,
        Resolution::Standard,
        Resolution::Standard,
        WidthPolicy::Crop,
    );
    assert_eq!((cropped.width(), cropped.height()), (1728, 400));
    assert_eq!(cropped.black_count(), 0);
}

#[test]
fn pictures_without_resolution_fit_the_width() {
    let mut p = Bitmap::new(100, 50, Resolution::Fine).unwrap();
    p.fill_rect(0, 0, 50, 25, true);
    let c = convert_page(
        &p,
        None,
        Resolution::Standard,
        PageWidth::A4,
        WidthPolicy::Scale,
    )
    .unwrap();
    assert_eq!(c.width(), 1728);
    assert_eq!(c.height(), (50.0 * 17.28 * 98.0 / 204.0f64).round() as u32);
    assert!(c.get(0, 0) && c.get(863, 0) && !c.get(865, 0));
}

#[test]
fn far_end_capabilities_decide_conversion_or_failure() {
    let basic = ReceiverCaps {
        resolutions: vec![Resolution::Standard],
        max_width: PageWidth::A4,
        max_length_mm: Some(297.0),
    };
    let no_conv = ConversionPolicy {
        resolution: false,
        width: false,
        width_policy: WidthPolicy::Scale,
    };

    let fine = noise(1728, 2287, Resolution::Fine, 9);
    let plan = plan_page(&fine, &basic, &ConversionPolicy::default()).unwrap();
    assert_eq!(
        (plan.resolution, plan.width, plan.converted),
        (Resolution::Standard, PageWidth::A4, true)
    );
    let sent = fit_page(&fine, &basic, &ConversionPolicy::default()).unwrap();
    assert_eq!(
        (sent.height(), sent.resolution),
        (1144, Resolution::Standard)
    );
    let err = plan_page(&fine, &basic, &no_conv).unwrap_err();
    assert_eq!(err, PageFitError::Resolution);
    assert_eq!(
        err.to_string(),
        "Far end cannot receive at the resolution of the image"
    );

    // 300 dpi has nothing to merge down to.
    let p300 = noise(2592, 100, Resolution::Dpi300, 1);
    assert_eq!(
        plan_page(&p300, &basic, &ConversionPolicy::default()),
        Err(PageFitError::Resolution)
    );

    // Inch-based 200 × 200 goes as fine (same scale) without permission to convert.
    let fine_caps = ReceiverCaps {
        resolutions: vec![Resolution::Fine],
        ..basic.clone()
    };
    let p200 = noise(1728, 100, Resolution::Dpi200, 1);
    let plan = plan_page(&p200, &fine_caps, &no_conv).unwrap();
    assert_eq!(plan.resolution, Resolution::Fine);

    let b4 = noise(2048, 100, Resolution::Standard, 2);
    let err = plan_page(&b4, &basic, &no_conv).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Far end cannot receive at the size of image"
    );
    assert_eq!(
        plan_page(&b4, &basic, &ConversionPolicy::default())
            .unwrap()
            .width,
        PageWidth::A4
    );
    assert_eq!(
        fit_page(&b4, &basic, &ConversionPolicy::default())
            .unwrap()
            .width(),
        1728
    );

    // Longer than the far end's paper: no conversion helps.
    let long = noise(
        1728,
        Resolution::Standard.rows_for_mm(400.0),
        Resolution::Standard,
        4,
    );
    assert_eq!(
        plan_page(&long, &basic, &ConversionPolicy::default()),
        Err(PageFitError::Size)
    );
    let unlimited = ReceiverCaps {
        max_length_mm: None,
        ..basic
    };
    assert!(!plan_page(&long, &unlimited, &no_conv).unwrap().converted);
}
