//! The charts and the report page of a call sweep, and the comparison of its loss figures
//! with the published field figures for fax over IP.

use std::path::Path;

use reports::chart::{LineChart, Series};
use reports::sweep::{ReportChart, SweepPage, SweepResults, write_page};

use super::{Implementation, Key, SweepSpec, TransportName};

/// Curves of one chart: (label, series index, points (x, result index)).
type Curves = Vec<(String, usize, Vec<(f64, usize)>)>;

fn evenly_spaced(values: &[super::Value]) -> bool {
    let xs: Vec<f64> = values.iter().filter_map(|v| v.num()).collect();
    let steps: Vec<f64> = xs.windows(2).map(|w| w[1] - w[0]).collect();
    let (lo, hi) = steps
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), s| (a.min(*s), b.max(*s)));
    steps.is_empty() || (lo > 0.0 && hi <= lo * 1.5)
}

/// Groups the points into curves over the chart's x axis: the first numeric axis (or the
/// first axis, as categories); one curve per series and combination of the other axes.
fn curves(spec: &SweepSpec, r: &SweepResults) -> (usize, Option<Vec<String>>, Curves) {
    let xa = spec
        .axes
        .iter()
        .position(|a| !a.key.categorical())
        .unwrap_or(0);
    // Names, and numbers that are not evenly spaced (0, 0.1 %, 1 %, 10 %), are drawn at
    // evenly spaced positions labelled with their values.
    let cats = spec
        .axes
        .get(xa)
        .filter(|a| a.key.categorical() || !evenly_spaced(&a.values))
        .map(|a| a.values.iter().map(|v| v.text()).collect::<Vec<_>>());
    let mut out: Curves = Vec::new();
    for (i, p) in r.points.iter().enumerate() {
        // With one series its name says nothing: the other axes' values name the curve.
        let others: Vec<String> = p
            .values
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != xa)
            .map(|(j, v)| format!("{}={v}", spec.axes[j].key.name()))
            .collect();
        let label = if others.is_empty() {
            p.series.clone()
        } else if spec.series.len() == 1 {
            others.join(", ")
        } else {
            format!("{}, {}", p.series, others.join(", "))
        };
        let x = match &cats {
            Some(c) => c.iter().position(|c| *c == p.values[xa]).unwrap_or(0) as f64,
            None => p.values.get(xa).and_then(|v| v.parse().ok()).unwrap_or(0.0),
        };
        let series = spec
            .series
            .iter()
            .position(|s| s.label == p.series)
            .unwrap_or(0);
        match out.iter_mut().find(|c| c.0 == label) {
            Some(c) => c.2.push((x, i)),
            None => out.push((label, series, vec![(x, i)])),
        }
    }
    (xa, cats, out)
}

/// The success-rate and time-per-page charts of a call sweep.
pub fn charts(spec: &SweepSpec, r: &SweepResults) -> Vec<ReportChart> {
    if spec.axes.is_empty() {
        return Vec::new();
    }
    let (xa, cats, curves) = curves(spec, r);
    let x_label = spec.axes[xa].key.caption();
    let mut success = LineChart::new(
        &format!("{}: call success rate", spec.name),
        x_label,
        "success rate (95 % Wilson interval)",
    );
    success.y_range = Some((0.0, 1.05));
    success.legend = reports::chart::Legend::LowerLeft;
    success.dodge = 0.004;
    success.x_categories = cats.clone();
    let mut time = LineChart::new(
        &format!("{}: time per page", spec.name),
        x_label,
        "simulated seconds per page (mean, successful calls)",
    );
    time.x_categories = cats;
    time.legend = reports::chart::Legend::LowerRight;
    // The same x extent as the success chart, even where no call succeeded.
    let xs: Vec<f64> = spec.axes[xa]
        .values
        .iter()
        .filter_map(|v| v.num())
        .collect();
    if time.x_categories.is_none() && !xs.is_empty() {
        let lo = xs.iter().copied().fold(f64::MAX, f64::min);
        let hi = xs.iter().copied().fold(f64::MIN, f64::max);
        time.x_range = Some((lo, hi));
        success.x_range = Some((lo, hi));
    }
    time.dodge = 0.004;
    // A spandsp twin takes the colour of the curve it is the twin of.
    let mut slots: Vec<String> = Vec::new();
    for (label, series, pts) in &curves {
        let mut s = Series::new(label.clone());
        s.dashed = spec.series[*series].implementation == Implementation::Spandsp;
        let base = label
            .replace(" (spandsp)", "")
            .replacen("spandsp", "builtin", 1);
        s.colour = Some(match slots.iter().position(|b| *b == base) {
            Some(i) => i,
            None => {
                slots.push(base);
                slots.len() - 1
            }
        });
        let mut t = s.clone();
        for &(x, i) in pts {
            let p = &r.points[i].summary;
            if p.calls == 0 {
                continue;
            }
            s.points.push((x, p.success_rate));
            s.bars.push((x, p.ci_low, p.ci_high));
            if let Some(m) = p.time_per_page_mean_s {
                t.points.push((x, m));
            }
        }
        success.series.push(s);
        time.series.push(t);
    }
    vec![
        ReportChart {
            chart: success,
            png: "success.png".into(),
            caption: format!(
                "Share of calls where both ends reported SUCCESS, {} calls per point, with its 95 % Wilson confidence interval.",
                spec.calls
            ),
        },
        ReportChart {
            chart: time,
            png: "time-per-page.png".into(),
            caption: format!(
                "Mean simulated call time divided by the {} page(s) sent, over successful calls only.",
                spec.pages
            ),
        },
    ]
}

/// The measured point of a curve nearest to `target` loss (within a factor of 2), as
/// (loss, success, low, high).
fn near(
    r: &SweepResults,
    xa: usize,
    pts: &[(f64, usize)],
    target: f64,
) -> Option<(f64, f64, f64, f64)> {
    let dist = |x: f64| (x / target).ln().abs();
    pts.iter()
        .filter_map(|&(_, i)| {
            let x: f64 = r.points[i].values.get(xa)?.parse().ok()?;
            (x > 0.0 && dist(x) <= 2f64.ln() + 1e-9 && r.points[i].summary.calls > 0)
                .then_some((x, i))
        })
        .min_by(|a, b| dist(a.0).total_cmp(&dist(b.0)))
        .map(|(x, i)| {
            let s = &r.points[i].summary;
            (x, s.success_rate, s.ci_low, s.ci_high)
        })
}

fn pct(x: f64) -> String {
    let v = x * 100.0;
    if v != 0.0 && v.abs() < 1.0 {
        format!("{v:.2} %")
    } else {
        format!("{v:.0} %")
    }
}

fn at(m: (f64, f64, f64, f64)) -> String {
    format!(
        "{} success at {} loss (95 % CI {}–{})",
        pct(m.1),
        pct(m.0),
        pct(m.2),
        pct(m.3)
    )
}

/// Sentences comparing the measured success rates against loss with the field figures:
/// G.711 passthrough marginal at about 0.02–0.1 % loss and poor at 1 %; T.38 with
/// redundancy surviving about 10 % random loss. Empty when the sweep does not vary loss.
pub fn field_comparison(spec: &SweepSpec, r: &SweepResults) -> Vec<String> {
    let Some(xa) = spec.axes.iter().position(|a| a.key == Key::Loss) else {
        return Vec::new();
    };
    let (cxa, _, curves) = curves(spec, r);
    if cxa != xa {
        return Vec::new();
    }
    let mut out = vec![
        "Field figures for fax over IP: G.711 passthrough is already marginal at about 0.02–0.1 % packet loss and poor at 1 %; T.38 with UDPTL redundancy survives around 10 % random loss.".to_string(),
    ];
    for (label, series, pts) in &curves {
        let series = &spec.series[*series];
        if series.transport == TransportName::Audio {
            let mut parts = Vec::new();
            let mut verdicts = Vec::new();
            if let Some(m) = near(r, xa, pts, 0.001) {
                parts.push(at(m));
                verdicts.push(if m.3 < 0.95 {
                    "already hurt at 0.1 %, as the field figures say (marginal)"
                } else {
                    "still clean at 0.1 %, better than the field's 'marginal'"
                });
            }
            if let Some(m) = near(r, xa, pts, 0.01) {
                parts.push(at(m));
                verdicts.push(if m.1 < 0.5 {
                    "poor at 1 %, in line with the field"
                } else if m.1 < 0.9 {
                    "degraded but not poor at 1 %: somewhat more tolerant than the field figures"
                } else {
                    "fine at 1 %: more tolerant than the field figures (our PLC and a clean network without bursts)"
                });
            }
            if parts.is_empty() {
                out.push(format!(
                    "{label}: no point near 0.1 % or 1 % loss was measured."
                ));
            } else {
                out.push(format!(
                    "{label} (audio over RTP): {}. Verdict: {}.",
                    parts.join("; "),
                    verdicts.join("; ")
                ));
            }
        } else {
            let redundancy = series
                .fixed
                .iter()
                .find(|(k, _)| *k == Key::Redundancy)
                .and_then(|(_, v)| v.num())
                .or_else(|| series.channel.t38.map(|t| t.redundancy as f64))
                .unwrap_or(0.0);
            match near(r, xa, pts, 0.1) {
                Some(m) => {
                    let verdict = if redundancy < 1.0 {
                        if m.1 < 0.9 {
                            "without redundancy T.38 is expected to suffer here, and does"
                        } else {
                            "survives even without redundancy (the engines' own retries carry it)"
                        }
                    } else if m.1 >= 0.9 {
                        "survives about 10 % loss, in line with the field figures"
                    } else if m.1 >= 0.5 {
                        "degraded at 10 % loss: weaker than the field figures"
                    } else {
                        "fails at 10 % loss: well short of the field figures"
                    };
                    out.push(format!(
                        "{label} (T.38, redundancy {redundancy}): {}. Verdict: {verdict}.",
                        at(m)
                    ));
                }
                None => out.push(format!(
                    "{label} (T.38, redundancy {redundancy}): no point near 10 % loss was measured."
                )),
            }
        }
    }
    out
}

/// Writes `report.html` (and the PNGs) for a call sweep into `dir`.
pub fn write_report(
    dir: &Path,
    spec: &SweepSpec,
    r: &SweepResults,
    command: &str,
) -> Result<(), String> {
    let mut intro = vec![
        spec.description.clone(),
        format!(
            "{} series × {} points, {} calls per point, {} page(s) per call, ECM {}, seed {}. Command: {command}",
            spec.series.len(),
            r.points.len() / spec.series.len().max(1),
            spec.calls,
            spec.pages,
            if spec.ecm { "on" } else { "off" },
            spec.seed
        ),
    ];
    for s in &spec.series {
        let what = match s.implementation {
            Implementation::Builtin => "our engine at both ends",
            Implementation::Spandsp => "spandsp at both ends",
        };
        let fixed: Vec<String> = s
            .fixed
            .iter()
            .map(|(k, v)| format!("{}={}", k.name(), v.text()))
            .collect();
        intro.push(format!(
            "Series {}: {what}, {} transport, channel '{}'{}.",
            s.label,
            match s.transport {
                TransportName::Audio => "audio",
                TransportName::T38 => "T.38",
            },
            if s.channel.name.is_empty() {
                "custom"
            } else {
                &s.channel.name
            },
            if fixed.is_empty() {
                String::new()
            } else {
                format!(", {}", fixed.join(", "))
            }
        ));
    }
    let page = SweepPage {
        title: format!("faxsim sweep: {}", spec.name),
        intro,
        charts: charts(spec, r),
        comparison_title: "Against published field figures".into(),
        comparison: field_comparison(spec, r),
        results: Some(r.clone()),
    };
    let html = write_page(dir, &page).map_err(|e| e.to_string())?;
    let path = dir.join("report.html");
    std::fs::write(&path, html).map_err(|e| format!("{}: {e}", path.display()))
}
