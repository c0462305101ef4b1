//! Resolution and size conversion, and the check an engine makes before sending a page:
//! can the far end take it as it is, after a conversion fax machines do (fine → standard by
//! merging row pairs, superfine → fine, R16/400 dpi → half, wider → narrower by scaling or
//! cropping), or not at all ("Far end cannot receive at the resolution of the image" /
//! "… at the size of image").

use super::{Bitmap, ImageError, MAX_HEIGHT, PageWidth, Resolution};

/// What to do with a page wider than the target width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WidthPolicy {
    /// Scale the whole page down (both axes, keeping the aspect ratio).
    #[default]
    Scale,
    /// Keep the scale, cut the right-hand side off.
    Crop,
}

/// Ratios this close to 1 are treated as 1 (R8 and 200 dpi, 3.85 l/mm and 100 dpi are the
/// same to a fax machine).
const SAME_SCALE: f64 = 0.03;

fn resample(
    src: &Bitmap,
    out_w: u32,
    out_h: u32,
    sx: f64,
    sy: f64,
    x_off: u32,
    res: Resolution,
) -> Result<Bitmap, ImageError> {
    let mut out = Bitmap::new(out_w, out_h, res)?;
    // Source span of each output column / row: reductions OR the span (thin lines survive),
    // enlargements repeat the nearest source pel.
    let span = |i: u32, s: f64, limit: u32| -> (u32, u32) {
        let a = ((i as f64 / s).floor() as u32).min(limit.saturating_sub(1));
        let b = (((i + 1) as f64 / s).floor() as u32).clamp(a + 1, limit.max(a + 1));
        (a, b.min(limit))
    };
    let cols: Vec<(u32, u32)> = (0..out_w.saturating_sub(x_off))
        .map(|x| span(x, sx, src.width()))
        .collect();
    for y in 0..out_h {
        let (r0, r1) = span(y, sy, src.height());
        for (x, &(c0, c1)) in cols.iter().enumerate() {
            let ox = x as u32 + x_off;
            if ox >= out_w {
                break;
            }
            let mut black = false;
            'found: for r in r0..r1 {
                for c in c0..c1 {
                    if src.get(c, r) {
                        black = true;
                        break 'found;
                    }
                }
            }
            if black {
                out.set(ox, y, true);
            }
        }
    }
    Ok(out)
}

/// Convert a page to a resolution and paper width. `src_dpi` is the page's physical
/// resolution if known; without it the page is fitted to the width (square pels assumed).
/// Pages narrower than the target are centred; wider ones follow `policy`.
pub fn convert_page(
    page: &Bitmap,
    src_dpi: Option<(f64, f64)>,
    target: Resolution,
    width: PageWidth,
    policy: WidthPolicy,
) -> Result<Bitmap, ImageError> {
    let tw = target.width_pels(width);
    let (tx, ty) = (target.x_dpi() as f64, target.y_dpi() as f64);
    // Fax resolutions are nominal (98 vs 97.79 lines per inch): ratios near 1, 2, 4 or
    // their inverses are taken as exact, so pairs of rows merge exactly.
    let snap = |r: f64| {
        [0.25, 0.5, 1.0, 2.0, 4.0]
            .into_iter()
            .find(|p| (r / p - 1.0).abs() < SAME_SCALE)
            .unwrap_or(r)
    };
    let (mut sx, mut sy) = match src_dpi {
        Some((x, y)) if x > 0.0 && y > 0.0 => (snap(tx / x), snap(ty / y)),
        _ => {
            let s = tw as f64 / page.width() as f64;
            (s, s * ty / tx)
        }
    };
    let scaled_w = (page.width() as f64 * sx).round() as u32;
    if scaled_w > tw && policy == WidthPolicy::Scale {
        let f = tw as f64 / scaled_w as f64;
        sx *= f;
        sy *= f;
    }
    let out_w_content = ((page.width() as f64 * sx).round() as u32).min(tw);
    let out_h = (page.height() as f64 * sy).round() as u32;
    if out_h == 0 || out_h > MAX_HEIGHT {
        return Err(ImageError::BadSize {
            width: tw,
            height: out_h,
        });
    }
    let x_off = (tw - out_w_content) / 2;
    if sx == 1.0 && sy == 1.0 && x_off == 0 && page.width() == tw {
        let mut same = page.clone();
        same.resolution = target;
        return Ok(same);
    }
    resample(page, tw, out_h, sx, sy, x_off, target)
}

/// What the far end can receive (from its DIS).
#[derive(Debug, Clone, PartialEq)]
pub struct ReceiverCaps {
    /// Resolutions it accepts (standard is always implied).
    pub resolutions: Vec<Resolution>,
    /// Widest paper.
    pub max_width: PageWidth,
    /// Longest page in mm (`None`: unlimited).
    pub max_length_mm: Option<f64>,
}

/// The two reasons a page cannot be sent, with the exact T.30 completion strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PageFitError {
    /// NORESSUPPORT (code 11).
    #[error("Far end cannot receive at the resolution of the image")]
    Resolution,
    /// NOSIZESUPPORT (code 12).
    #[error("Far end cannot receive at the size of image")]
    Size,
}

/// Which conversions the sender may make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConversionPolicy {
    /// Lower the resolution (merge rows / columns).
    pub resolution: bool,
    /// Narrow a wide page (by `width_policy`).
    pub width: bool,
    /// How to narrow.
    pub width_policy: WidthPolicy,
}

impl Default for ConversionPolicy {
    fn default() -> Self {
        Self {
            resolution: true,
            width: true,
            width_policy: WidthPolicy::Scale,
        }
    }
}

/// How a page will be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PagePlan {
    /// Resolution to send at.
    pub resolution: Resolution,
    /// Paper width to send at.
    pub width: PageWidth,
    /// True when the page must be converted first.
    pub converted: bool,
}

/// Resolutions a page can be brought down to by merging, best first (itself and its
/// metric/inch twin first).
fn reachable(r: Resolution) -> &'static [Resolution] {
    use Resolution::*;
    match r {
        Standard => &[Standard, Dpi200x100],
        Dpi200x100 => &[Dpi200x100, Standard],
        Fine => &[Fine, Dpi200, Standard, Dpi200x100],
        Dpi200 => &[Dpi200, Fine, Dpi200x100, Standard],
        Superfine => &[Superfine, Fine, Dpi200, Standard, Dpi200x100],
        R16 => &[R16, Dpi400, Superfine, Fine, Dpi200, Standard, Dpi200x100],
        Dpi400 => &[Dpi400, R16, Dpi200, Fine, Dpi200x100, Standard],
        // 300 dpi does not merge down to any other resolution.
        Dpi300 => &[Dpi300],
    }
}

/// True when two resolutions differ by less than [`SAME_SCALE`] on both axes.
fn same_scale(a: Resolution, b: Resolution) -> bool {
    let close = |p: u32, q: u32| (p as f64 / q as f64 - 1.0).abs() < SAME_SCALE;
    close(a.x_dpi(), b.x_dpi()) && close(a.y_dpi(), b.y_dpi())
}

/// The paper width a page of `width_pels` at `r` needs.
pub fn page_width_of(r: Resolution, width_pels: u32) -> PageWidth {
    PageWidth::ALL
        .into_iter()
        .find(|w| width_pels <= r.width_pels(*w))
        .unwrap_or(PageWidth::A3)
}

/// Decide how a page goes to a receiver, or why it cannot.
pub fn plan_page(
    page: &Bitmap,
    caps: &ReceiverCaps,
    policy: &ConversionPolicy,
) -> Result<PagePlan, PageFitError> {
    let r = page.resolution;
    let supported =
        |x: Resolution| matches!(x, Resolution::Standard) || caps.resolutions.contains(&x);
    let candidates = reachable(r);
    let resolution = if supported(candidates[0]) {
        candidates[0]
    } else {
        // The twin (same scale) costs nothing; anything further needs permission.
        let free = candidates
            .iter()
            .take(2)
            .copied()
            .find(|&c| supported(c) && same_scale(c, r));
        match free {
            Some(c) => c,
            None if policy.resolution => candidates
                .iter()
                .copied()
                .find(|&c| supported(c))
                .ok_or(PageFitError::Resolution)?,
            None => return Err(PageFitError::Resolution),
        }
    };
    let (_, len_mm) = page.size_mm();
    if let Some(max) = caps.max_length_mm
        && len_mm > max + 1.0
    {
        return Err(PageFitError::Size);
    }
    let need = page_width_of(r, page.width());
    let width = if need <= caps.max_width {
        need
    } else if policy.width {
        caps.max_width
    } else {
        return Err(PageFitError::Size);
    };
    let converted = resolution != r || width != need || page.width() != r.width_pels(need);
    Ok(PagePlan {
        resolution,
        width,
        converted,
    })
}

/// Plan and, when needed, convert a page for a receiver.
pub fn fit_page(
    page: &Bitmap,
    caps: &ReceiverCaps,
    policy: &ConversionPolicy,
) -> Result<Bitmap, PageFitError> {
    let plan = plan_page(page, caps, policy)?;
    if !plan.converted {
        return Ok(page.clone());
    }
    let r = page.resolution;
    convert_page(
        page,
        Some((r.x_dpi() as f64, r.y_dpi() as f64)),
        plan.resolution,
        plan.width,
        policy.width_policy,
    )
    .map_err(|_| PageFitError::Size)
}
