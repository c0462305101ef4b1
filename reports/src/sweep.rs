//! Sweep results: one journal line per call, per-point statistics (success rate with a
//! Wilson 95 % interval, time per page percentiles, retrains, PPRs, final rates, most common
//! failure), CSV, and the self-contained HTML page with its charts.
//!
//! Statistics are accumulated call by call ([`PointStats::add`]), so a sweep of any size
//! keeps only a few numbers per call of one point in memory, never the records.
//!
//! ```
//! use reports::sweep::{CallLine, PointStats, wilson};
//! let mut s = PointStats::default();
//! for i in 0..10 {
//!     let mut c = CallLine::default();
//!     c.success = i < 9;
//!     c.error = if c.success { "OK".into() } else { "Disconnected after permitted retries".into() };
//!     c.time_per_page_s = c.success.then_some(30.0);
//!     s.add(&c);
//! }
//! let p = s.summary();
//! assert_eq!(p.successes, 9);
//! let (lo, hi) = wilson(9, 10);
//! assert!(lo < 0.9 && 0.9 < hi);
//! assert_eq!(p.top_failure, "Disconnected after permitted retries");
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::chart::{ChartError, LineChart};
use crate::html::escape;

/// One call of a sweep, as its journal stores it (one JSON line).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CallLine {
    /// The point's key (series and parameter values).
    pub point: String,
    /// Call index within the point.
    pub call: u32,
    /// The call's master seed.
    pub seed: u64,
    /// Both sides reported SUCCESS.
    pub success: bool,
    /// The sender's completion string ("OK" on success; the receiver's when only it failed).
    pub error: String,
    /// Pages the receiver kept.
    pub pages: u32,
    /// Simulated call length, seconds.
    pub duration_s: f64,
    /// Simulated seconds per page of a successful call.
    pub time_per_page_s: Option<f64>,
    /// Trainings after the first (fallbacks and retrains after FTT or RTN).
    pub retrains: u32,
    /// ECM partial page requests (PPR) the sender answered.
    pub ppr: u32,
    /// Final bit rate (0 when none was agreed).
    pub rate: u32,
    /// Final modem ("V.17", …).
    pub modem: String,
}

impl CallLine {
    /// The JSON line.
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).expect("call lines serialise")
    }
}

/// Statistics of one point, built call by call.
#[derive(Debug, Clone, Default)]
pub struct PointStats {
    calls: u64,
    successes: u64,
    times: Vec<f64>,
    retrains: u64,
    ppr: u64,
    rates: BTreeMap<u32, u64>,
    failures: BTreeMap<String, u64>,
}

/// What a point came to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointSummary {
    /// Calls run.
    pub calls: u64,
    /// Calls where both sides reported SUCCESS.
    pub successes: u64,
    /// successes / calls.
    pub success_rate: f64,
    /// Wilson 95 % interval, low end.
    pub ci_low: f64,
    /// Wilson 95 % interval, high end.
    pub ci_high: f64,
    /// Mean simulated seconds per page over successful calls.
    pub time_per_page_mean_s: Option<f64>,
    /// Median.
    pub time_per_page_p50_s: Option<f64>,
    /// 95th percentile.
    pub time_per_page_p95_s: Option<f64>,
    /// Mean retrains per call.
    pub retrains_mean: f64,
    /// Mean PPRs per call.
    pub ppr_mean: f64,
    /// Final rates and how many calls ended at each ("14400:18 9600:2").
    pub final_rates: String,
    /// The most common failure string (empty when every call succeeded).
    pub top_failure: String,
    /// How many calls failed with it.
    pub top_failure_calls: u64,
}

/// The Wilson score interval at 95 % for `k` successes in `n` trials.
pub fn wilson(k: u64, n: u64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let z = 1.959_963_984_540_054_f64;
    let n_f = n as f64;
    let p = k as f64 / n_f;
    let z2 = z * z;
    let denom = 1.0 + z2 / n_f;
    let centre = (p + z2 / (2.0 * n_f)) / denom;
    let half = z / denom * (p * (1.0 - p) / n_f + z2 / (4.0 * n_f * n_f)).sqrt();
    // The ends are exact when every or no trial succeeded.
    let lo = if k == 0 {
        0.0
    } else {
        (centre - half).max(0.0)
    };
    let hi = if k == n {
        1.0
    } else {
        (centre + half).min(1.0)
    };
    (lo, hi)
}

/// The nearest-rank percentile `q` (0–100) of sorted values.
pub fn percentile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((q / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    Some(sorted[rank.min(sorted.len()) - 1])
}

impl PointStats {
    /// Counts one call.
    pub fn add(&mut self, c: &CallLine) {
        self.calls += 1;
        if c.success {
            self.successes += 1;
            if let Some(t) = c.time_per_page_s {
                self.times.push(t);
            }
        } else {
            *self.failures.entry(c.error.clone()).or_default() += 1;
        }
        self.retrains += u64::from(c.retrains);
        self.ppr += u64::from(c.ppr);
        *self.rates.entry(c.rate).or_default() += 1;
    }

    /// Calls counted so far.
    pub fn calls(&self) -> u64 {
        self.calls
    }

    /// The point's figures.
    pub fn summary(&self) -> PointSummary {
        let mut times = self.times.clone();
        times.sort_by(f64::total_cmp);
        let n = self.calls.max(1) as f64;
        let (ci_low, ci_high) = wilson(self.successes, self.calls);
        // Most common first; ties by string so the result does not depend on call order.
        let top = self
            .failures
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)));
        let mut rates: Vec<(&u32, &u64)> = self.rates.iter().collect();
        rates.sort_by(|a, b| b.1.cmp(a.1).then(b.0.cmp(a.0)));
        PointSummary {
            calls: self.calls,
            successes: self.successes,
            success_rate: if self.calls == 0 {
                0.0
            } else {
                self.successes as f64 / n
            },
            ci_low,
            ci_high,
            time_per_page_mean_s: (!times.is_empty())
                .then(|| times.iter().sum::<f64>() / times.len() as f64),
            time_per_page_p50_s: percentile(&times, 50.0),
            time_per_page_p95_s: percentile(&times, 95.0),
            retrains_mean: self.retrains as f64 / n,
            ppr_mean: self.ppr as f64 / n,
            final_rates: rates
                .iter()
                .map(|(r, c)| format!("{r}:{c}"))
                .collect::<Vec<_>>()
                .join(" "),
            top_failure: top.map(|t| t.0.clone()).unwrap_or_default(),
            top_failure_calls: top.map(|t| *t.1).unwrap_or(0),
        }
    }
}

/// One point of a sweep with its figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointResult {
    /// The point's key (series and parameter values).
    pub key: String,
    /// The series it belongs to ("builtin", "t38-r3", …).
    pub series: String,
    /// Parameter values, in the order of [`SweepResults::axes`].
    pub values: Vec<String>,
    /// The figures.
    #[serde(flatten)]
    pub summary: PointSummary,
}

/// Everything a sweep measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepResults {
    /// Sweep name (preset or "custom").
    pub name: String,
    /// What it measures.
    pub description: String,
    /// The varied parameters.
    pub axes: Vec<String>,
    /// Calls per point.
    pub calls_per_point: u32,
    /// Pages per call.
    pub pages: u32,
    /// Master seed.
    pub seed: u64,
    /// The points, series by series in grid order.
    pub points: Vec<PointResult>,
}

/// The CSV columns after the series and the axes.
pub const CSV_COLUMNS: &[&str] = &[
    "calls",
    "successes",
    "success_rate",
    "ci_low",
    "ci_high",
    "time_per_page_mean_s",
    "time_per_page_p50_s",
    "time_per_page_p95_s",
    "retrains_mean",
    "ppr_mean",
    "final_rates",
    "top_failure",
    "top_failure_calls",
];

/// A CSV field, quoted when it has to be.
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn opt(x: Option<f64>) -> String {
    x.map(|v| format!("{v:.3}")).unwrap_or_default()
}

impl SweepResults {
    /// The results as CSV: `series`, one column per axis, then [`CSV_COLUMNS`].
    pub fn csv(&self) -> String {
        let mut header: Vec<String> = vec!["series".into()];
        header.extend(self.axes.iter().cloned());
        header.extend(CSV_COLUMNS.iter().map(|s| s.to_string()));
        let mut out = header
            .iter()
            .map(|h| csv_field(h))
            .collect::<Vec<_>>()
            .join(",");
        out.push('\n');
        for p in &self.points {
            let s = &p.summary;
            let mut row: Vec<String> = vec![p.series.clone()];
            row.extend(p.values.iter().cloned());
            row.extend([
                s.calls.to_string(),
                s.successes.to_string(),
                format!("{:.4}", s.success_rate),
                format!("{:.4}", s.ci_low),
                format!("{:.4}", s.ci_high),
                opt(s.time_per_page_mean_s),
                opt(s.time_per_page_p50_s),
                opt(s.time_per_page_p95_s),
                format!("{:.3}", s.retrains_mean),
                format!("{:.3}", s.ppr_mean),
                s.final_rates.clone(),
                s.top_failure.clone(),
                s.top_failure_calls.to_string(),
            ]);
            out.push_str(
                &row.iter()
                    .map(|f| csv_field(f))
                    .collect::<Vec<_>>()
                    .join(","),
            );
            out.push('\n');
        }
        out
    }
}

/// One chart of a report, with the PNG file it is also written to.
#[derive(Debug, Clone)]
pub struct ReportChart {
    /// The chart.
    pub chart: LineChart,
    /// PNG file name beside the page.
    pub png: String,
    /// A sentence under it.
    pub caption: String,
}

/// The report page of a sweep.
#[derive(Debug, Clone)]
pub struct SweepPage {
    /// Page title.
    pub title: String,
    /// Paragraphs before the charts (what was run).
    pub intro: Vec<String>,
    /// The charts.
    pub charts: Vec<ReportChart>,
    /// Heading of the comparison paragraphs.
    pub comparison_title: String,
    /// Paragraphs comparing the figures with published or peer ones.
    pub comparison: Vec<String>,
    /// The results table (may be empty for sweeps that are not calls).
    pub results: Option<SweepResults>,
}

/// Writes every chart as PNG into `dir` and returns the self-contained page (charts inline
/// as SVG).
pub fn write_page(dir: &Path, page: &SweepPage) -> Result<String, ChartError> {
    let mut html = String::new();
    html.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    html.push_str(&format!("<title>{}</title>", escape(&page.title)));
    html.push_str(
        "<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}\
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}\
th{background:#f0f0f0}td.l,th.l{text-align:left}figure{margin:1.5em 0}figcaption{font-size:14px;color:#444}\
svg{max-width:100%;height:auto}.cmp{background:#f7f7ee;padding:.5em 1em;border-left:4px solid #bb9}</style>",
    );
    html.push_str("</head><body>\n");
    html.push_str(&format!("<h1>{}</h1>\n", escape(&page.title)));
    for p in &page.intro {
        html.push_str(&format!("<p>{}</p>\n", escape(p)));
    }
    for c in &page.charts {
        c.chart.png(&dir.join(&c.png))?;
        let svg = c.chart.svg()?;
        html.push_str("<figure>");
        html.push_str(&svg);
        html.push_str(&format!(
            "<figcaption>{} (PNG: <a href=\"{}\">{}</a>)</figcaption></figure>\n",
            escape(&c.caption),
            escape(&c.png),
            escape(&c.png)
        ));
    }
    if !page.comparison.is_empty() {
        html.push_str(&format!(
            "<h2>{}</h2>\n<div class=\"cmp\">",
            escape(&page.comparison_title)
        ));
        for p in &page.comparison {
            html.push_str(&format!("<p>{}</p>\n", escape(p)));
        }
        html.push_str("</div>\n");
    }
    if let Some(r) = &page.results {
        html.push_str("<h2>Results</h2>\n<table><tr><th class=\"l\">series</th>");
        for a in &r.axes {
            html.push_str(&format!("<th>{}</th>", escape(a)));
        }
        html.push_str(
            "<th>calls</th><th>success</th><th>95 % CI</th><th>s/page mean</th><th>p50</th>\
<th>p95</th><th>retrains</th><th>PPR</th><th class=\"l\">final rates</th><th class=\"l\">most common failure</th></tr>\n",
        );
        for p in &r.points {
            let s = &p.summary;
            html.push_str(&format!("<tr><td class=\"l\">{}</td>", escape(&p.series)));
            for v in &p.values {
                html.push_str(&format!("<td>{}</td>", escape(v)));
            }
            let f = |x: Option<f64>| x.map(|v| format!("{v:.1}")).unwrap_or("–".into());
            html.push_str(&format!(
                "<td>{}</td><td>{:.1} %</td><td>{:.1}–{:.1} %</td><td>{}</td><td>{}</td><td>{}</td>\
<td>{:.2}</td><td>{:.2}</td><td class=\"l\">{}</td><td class=\"l\">{}</td></tr>\n",
                s.calls,
                s.success_rate * 100.0,
                s.ci_low * 100.0,
                s.ci_high * 100.0,
                f(s.time_per_page_mean_s),
                f(s.time_per_page_p50_s),
                f(s.time_per_page_p95_s),
                s.retrains_mean,
                s.ppr_mean,
                escape(&s.final_rates),
                if s.top_failure.is_empty() {
                    String::new()
                } else {
                    format!("{} ({})", escape(&s.top_failure), s.top_failure_calls)
                }
            ));
        }
        html.push_str("</table>\n");
    }
    html.push_str("</body></html>\n");
    Ok(html)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_bounds() {
        let (lo, hi) = wilson(0, 10);
        assert!(lo.abs() < 1e-12, "{lo}");
        assert!((hi - 0.2775).abs() < 1e-3, "{hi}");
        let (lo, hi) = wilson(10, 10);
        assert!((lo - 0.7225).abs() < 1e-3, "{lo}");
        assert!((hi - 1.0).abs() < 1e-12, "{hi}");
        let (lo, hi) = wilson(50, 100);
        assert!((lo - 0.4038).abs() < 1e-3 && (hi - 0.5962).abs() < 1e-3);
    }

    #[test]
    fn percentiles() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0];
        assert_eq!(percentile(&v, 50.0), Some(5.0));
        assert_eq!(percentile(&v, 95.0), Some(10.0));
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn csv_quotes() {
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"x\""), "\"say \"\"x\"\"\"");
        assert_eq!(csv_field("plain"), "plain");
    }
}
