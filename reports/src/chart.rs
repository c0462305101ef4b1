//! Line charts as SVG text (for inline use in an HTML page) and PNG files, drawn with
//! plotters and an embedded DejaVu Sans font, so no system font is needed.
//!
//! ```
//! use reports::chart::{LineChart, Series};
//! let mut chart = LineChart::new("Success vs loss", "packet loss", "success rate");
//! chart.y_range = Some((0.0, 1.0));
//! let mut s = Series::new("G.711");
//! s.points = vec![(0.0, 1.0), (0.01, 0.4)];
//! s.bars = vec![(0.0, 0.9, 1.0), (0.01, 0.2, 0.6)];
//! chart.series.push(s);
//! let svg = chart.svg().unwrap();
//! assert!(svg.starts_with("<svg"));
//! ```

use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

/// Chart size in pixels (PNG) and user units (SVG).
pub const SIZE: (u32, u32) = (900, 520);

/// Why a chart could not be drawn or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("chart '{title}': {message}")]
pub struct ChartError {
    /// The chart's title.
    pub title: String,
    /// What went wrong.
    pub message: String,
}

/// One curve.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Series {
    /// Legend text.
    pub name: String,
    /// (x, y) points, drawn joined in x order.
    pub points: Vec<(f64, f64)>,
    /// Error bars (x, low, high), e.g. a confidence interval.
    pub bars: Vec<(f64, f64, f64)>,
    /// Dashed line (e.g. the peer implementation next to ours).
    pub dashed: bool,
    /// Colour slot (default: the curve's position), so two curves can share a colour.
    pub colour: Option<usize>,
}

impl Series {
    /// An empty curve named `name`.
    pub fn new(name: impl Into<String>) -> Series {
        Series {
            name: name.into(),
            ..Series::default()
        }
    }
}

/// A chart of one or more curves over a shared x axis.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LineChart {
    /// Title above the plot.
    pub title: String,
    /// X axis caption.
    pub x_label: String,
    /// Y axis caption.
    pub y_label: String,
    /// The curves.
    pub series: Vec<Series>,
    /// Fixed x range before the margin (default: the data's range).
    pub x_range: Option<(f64, f64)>,
    /// Fixed y range (default: the data's range with a margin).
    pub y_range: Option<(f64, f64)>,
    /// Logarithmic y axis; values at or below `log_floor` are drawn at the floor.
    pub log_y: bool,
    /// The lowest value a logarithmic axis shows.
    pub log_floor: f64,
    /// Names of the x positions 0, 1, 2, … when x is categorical.
    pub x_categories: Option<Vec<String>>,
    /// Where the legend goes (where the curves usually are not).
    pub legend: Legend,
    /// Curves side-shifted by this fraction of the x range each, so curves on top of one
    /// another stay visible (0: none).
    pub dodge: f64,
}

/// A corner of the plot for the legend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Legend {
    /// Top right.
    #[default]
    UpperRight,
    /// Top left.
    UpperLeft,
    /// Bottom left.
    LowerLeft,
    /// Bottom right.
    LowerRight,
}

/// Colours that stay apart on screen and in print.
const COLOURS: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Registers the embedded font under the family names plotters asks for. Idempotent.
pub fn register_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for family in ["sans-serif", "serif", "monospace"] {
            // The font is compiled in and known good: failure would be a broken build.
            let _ =
                plotters::style::register_font(family, FontStyle::Normal, dejavu::sans::regular());
            let _ = plotters::style::register_font(family, FontStyle::Bold, dejavu::sans::bold());
        }
    });
}

impl LineChart {
    /// An empty chart with these captions.
    pub fn new(title: &str, x_label: &str, y_label: &str) -> LineChart {
        LineChart {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            log_floor: 1e-7,
            ..LineChart::default()
        }
    }

    fn error(&self, message: impl ToString) -> ChartError {
        ChartError {
            title: self.title.clone(),
            message: message.to_string(),
        }
    }

    /// The chart as an SVG document (no XML declaration: fit for inline HTML).
    pub fn svg(&self) -> Result<String, ChartError> {
        register_fonts();
        let mut text = String::new();
        {
            let root = SVGBackend::with_string(&mut text, SIZE).into_drawing_area();
            self.draw(&root)?;
            root.present().map_err(|e| self.error(e))?;
        }
        Ok(text)
    }

    /// Writes the chart as a PNG file.
    pub fn png(&self, path: &Path) -> Result<(), ChartError> {
        register_fonts();
        let root = BitMapBackend::new(path, SIZE).into_drawing_area();
        self.draw(&root)?;
        root.present()
            .map_err(|e| self.error(format!("{}: {e}", path.display())))
    }

    /// y as drawn: log10 on a logarithmic axis.
    fn y_of(&self, y: f64) -> f64 {
        if self.log_y {
            y.max(self.log_floor).log10()
        } else {
            y
        }
    }

    fn ranges(&self) -> ((f64, f64), (f64, f64)) {
        let xs = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0))
            .filter(|x| x.is_finite());
        let (mut x0, mut x1) = xs.fold((f64::MAX, f64::MIN), |(a, b), x| (a.min(x), b.max(x)));
        if let Some(r) = self.x_range {
            (x0, x1) = r;
        }
        if x0 > x1 {
            (x0, x1) = (0.0, 1.0);
        }
        if let Some(c) = &self.x_categories {
            (x0, x1) = (-0.5, c.len().max(1) as f64 - 0.5);
        } else if x1 - x0 < 1e-12 {
            (x0, x1) = (x0 - 0.5, x1 + 0.5);
        } else {
            let m = (x1 - x0) * 0.03;
            (x0, x1) = (x0 - m, x1 + m);
        }
        let y = match self.y_range {
            Some((a, b)) => (self.y_of(a), self.y_of(b)),
            None => {
                let ys = self.series.iter().flat_map(|s| {
                    s.points
                        .iter()
                        .map(|p| p.1)
                        .chain(s.bars.iter().flat_map(|b| [b.1, b.2]))
                });
                let (a, b) = ys
                    .filter(|y| y.is_finite())
                    .map(|y| self.y_of(y))
                    .fold((f64::MAX, f64::MIN), |(a, b), y| (a.min(y), b.max(y)));
                if a > b {
                    (0.0, 1.0)
                } else if self.log_y {
                    (a.floor(), b.ceil().max(a.floor() + 1.0))
                } else {
                    let lo = if a >= 0.0 { 0.0 } else { a * 1.1 };
                    let hi = if b - lo < 1e-12 { lo + 1.0 } else { b * 1.1 };
                    (lo, hi)
                }
            }
        };
        ((x0, x1), y)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ChartError> {
        let e = |err: DrawingAreaErrorKind<DB::ErrorType>| self.error(err);
        root.fill(&WHITE).map_err(e)?;
        let ((x0, x1), (y0, y1)) = self.ranges();
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, ("sans-serif", 22))
            .margin(14)
            .x_label_area_size(48)
            .y_label_area_size(72)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(e)?;
        let cats = self.x_categories.clone();
        let x_fmt = move |x: &f64| match &cats {
            Some(c) => {
                let i = x.round();
                if (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < c.len() {
                    c[i as usize].clone()
                } else {
                    String::new()
                }
            }
            None => trim_number(*x),
        };
        let log_y = self.log_y;
        let y_fmt = move |y: &f64| {
            if log_y {
                format!("1e{}", y.round() as i64)
            } else {
                trim_number(*y)
            }
        };
        let mut mesh = chart.configure_mesh();
        mesh.x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .label_style(("sans-serif", 14))
            .light_line_style(RGBColor(238, 238, 238))
            .axis_desc_style(("sans-serif", 16))
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&y_fmt);
        if let Some(c) = &self.x_categories {
            mesh.x_labels(c.len() * 2 + 1);
        }
        if log_y {
            mesh.y_labels(((y1 - y0).round() as usize + 1).max(2));
        }
        mesh.draw().map_err(e)?;
        let n = self.series.len() as f64;
        for (i, s) in self.series.iter().enumerate() {
            let colour = COLOURS[s.colour.unwrap_or(i) % COLOURS.len()];
            let shift = (i as f64 - (n - 1.0) / 2.0) * self.dodge * (x1 - x0);
            let mut pts: Vec<(f64, f64)> = s
                .points
                .iter()
                .filter(|p| p.0.is_finite() && p.1.is_finite())
                .map(|&(x, y)| (x + shift, self.y_of(y)))
                .collect();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            let style = colour.stroke_width(2);
            let legend_dashed = s.dashed;
            let anno = if s.dashed {
                chart
                    .draw_series(DashedLineSeries::new(pts.clone(), 8, 5, style))
                    .map_err(e)?
            } else {
                chart
                    .draw_series(LineSeries::new(pts.clone(), style))
                    .map_err(e)?
            };
            anno.label(&s.name).legend(move |(x, y)| {
                if legend_dashed {
                    PathElement::new(vec![(x, y), (x + 8, y)], colour.stroke_width(2))
                } else {
                    PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
                }
            });
            chart
                .draw_series(pts.iter().map(|&p| Circle::new(p, 3, colour.filled())))
                .map_err(e)?;
            chart
                .draw_series(
                    s.bars
                        .iter()
                        .filter(|b| b.1.is_finite() && b.2.is_finite())
                        .map(|&(x, lo, hi)| {
                            // The bar's dot is the curve's own point at that x.
                            let x = x + shift;
                            let y = pts
                                .iter()
                                .find(|p| p.0 == x)
                                .map(|p| p.1)
                                .unwrap_or(self.y_of((lo + hi) / 2.0));
                            ErrorBar::new_vertical(
                                x,
                                self.y_of(lo),
                                y,
                                self.y_of(hi),
                                colour.stroke_width(1),
                                8,
                            )
                        }),
                )
                .map_err(e)?;
        }
        if !self.series.is_empty() {
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .label_font(("sans-serif", 14))
                .position(match self.legend {
                    Legend::UpperRight => SeriesLabelPosition::UpperRight,
                    Legend::UpperLeft => SeriesLabelPosition::UpperLeft,
                    Legend::LowerLeft => SeriesLabelPosition::LowerLeft,
                    Legend::LowerRight => SeriesLabelPosition::LowerRight,
                })
                .draw()
                .map_err(e)?;
        }
        Ok(())
    }
}

/// A number without trailing zeros ("0.025", "10", "1e-5").
pub fn trim_number(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    if x.abs() < 1e-3 || x.abs() >= 1e6 {
        return format!("{x:.1e}");
    }
    let s = format!("{x:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> LineChart {
        let mut c = LineChart::new("t", "x", "y");
        let mut s = Series::new("a");
        s.points = vec![(0.0, 1.0), (1.0, 0.5), (2.0, 0.0)];
        s.bars = vec![(0.0, 0.8, 1.0), (1.0, 0.3, 0.7), (2.0, 0.0, 0.2)];
        c.series.push(s);
        let mut d = Series::new("b");
        d.dashed = true;
        d.points = vec![(0.0, 0.9), (2.0, 0.1)];
        c.series.push(d);
        c
    }

    #[test]
    fn svg_has_labels_and_curves() {
        let svg = sample().svg().unwrap();
        assert!(svg.contains("<svg"));
        // plotters writes each text on its own line inside <text>.
        assert!(svg.contains("\na\n</text>"), "legend a");
        assert!(svg.contains("\nb\n</text>"), "legend b");
        assert!(svg.contains("polyline") || svg.contains("<path"));
    }

    #[test]
    fn png_is_a_png() {
        let dir = tempfile_dir();
        let p = dir.join("c.png");
        let mut c = sample();
        c.log_y = true;
        c.png(&p).unwrap();
        let bytes = std::fs::read(&p).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        std::fs::remove_dir_all(dir).unwrap();
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("faxsim-chart-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn numbers_trim() {
        assert_eq!(trim_number(0.025), "0.025");
        assert_eq!(trim_number(10.0), "10");
        assert_eq!(trim_number(0.0), "0");
    }
}
