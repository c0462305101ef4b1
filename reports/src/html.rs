//! The conformance report: one self-contained HTML page (no script, no external assets; it
//! opens from disk) that a telecom engineer reads.
//!
//! - A summary: passed, failed, lost and skipped (with the reasons), by device under test,
//!   by folder and by tag; the failures listed first, and where two devices under test
//!   disagree.
//! - Every scenario, failures first and open, passing ones folded: its description, its
//!   channel in words, each expectation with what came, each side's outcome, links to its
//!   records, received pages and captures, and the ladder diagram of its T.30 exchange
//!   ([`crate::ladder`]). With `--peer spandsp` the two devices under test stand side by
//!   side, one column each.
//!
//! ```
//! use reports::{ScenarioResult, Status};
//! let mut r = ScenarioResult::new("errors/x", "builtin");
//! r.status = Status::Passed;
//! let page = reports::html::html_report("run", &[r]);
//! assert!(page.starts_with("<!DOCTYPE html>") && page.contains("errors/x"));
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::path::{Component, Path, PathBuf};

use serde_json::Value;

use crate::ladder::{Ladder, STYLE, xml_escape as esc};
use crate::{CallResult, ScenarioResult, SideResult, Status};

/// Makes a small PNG of a received TIFF's first page (`None`: cannot).
pub type Thumbnailer = fn(&Path) -> Option<Vec<u8>>;

/// How to build the page.
#[derive(Debug, Clone, Default)]
pub struct HtmlOptions {
    /// The page's title.
    pub title: String,
    /// The run's output folder as this process sees it (`faxsim run --out`); `None`: no
    /// links to records and captures.
    pub out_dir: Option<PathBuf>,
    /// The same folder as the page links to it: relative to the page, ending in `/`
    /// (see [`link_base`]).
    pub link_base: String,
    /// Makes a small PNG of a received TIFF's first page, shown beside the links; `None`:
    /// links only.
    pub thumbnail: Option<Thumbnailer>,
}

/// The page for `results`, titled `title`, without links to files.
pub fn html_report(title: &str, results: &[ScenarioResult]) -> String {
    html_report_with(
        results,
        &HtmlOptions {
            title: title.into(),
            ..HtmlOptions::default()
        },
    )
}

/// How a page written to `page` links to files under `out_dir`: a relative path ending in
/// `/` when both are on the same tree, else a `file://` address.
pub fn link_base(page: &Path, out_dir: &Path) -> String {
    let abs = |p: &Path| {
        std::fs::canonicalize(p).unwrap_or_else(|_| {
            std::env::current_dir()
                .map(|d| d.join(p))
                .unwrap_or_else(|_| p.to_path_buf())
        })
    };
    let from = abs(page
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new(".")));
    let to = abs(out_dir);
    let a: Vec<Component> = from.components().collect();
    let b: Vec<Component> = to.components().collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    if common == 0 {
        return format!("file://{}/", to.display());
    }
    let mut parts: Vec<String> = vec!["..".into(); a.len() - common];
    parts.extend(
        b[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    if parts.is_empty() {
        String::new()
    } else {
        parts.join("/") + "/"
    }
}

/// A path made safe for an `href`.
fn href(path: &str) -> String {
    let mut o = String::new();
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/:".contains(&b) {
            o.push(b as char);
        } else {
            let _ = write!(o, "%{b:02X}");
        }
    }
    o
}

/// Passed, failed, lost and skipped.
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    passed: usize,
    failed: usize,
    lost: usize,
    skipped: usize,
}

impl Tally {
    fn add(&mut self, s: Status) {
        match s {
            Status::Passed => self.passed += 1,
            Status::Failed => self.failed += 1,
            Status::Lost => self.lost += 1,
            Status::Skipped => self.skipped += 1,
        }
    }

    fn total(&self) -> usize {
        self.passed + self.failed + self.lost + self.skipped
    }

    fn cells(&self) -> String {
        let c = |n: usize, class: &str| {
            if n == 0 {
                "<td class=\"n\">0</td>".to_string()
            } else {
                format!("<td class=\"n {class}\">{n}</td>")
            }
        };
        format!(
            "<td class=\"n\">{}</td>{}{}{}{}",
            self.total(),
            c(self.passed, "cp"),
            c(self.failed, "cf"),
            c(self.lost, "cf"),
            c(self.skipped, "cs")
        )
    }
}

const TALLY_HEAD: &str = "<th>runs</th><th>passed</th><th>failed</th><th>lost</th><th>skipped</th>";

fn badge(s: Status) -> String {
    format!("<span class=\"b {0}\">{0}</span>", s.word())
}

fn variant_title(v: &str) -> String {
    match v {
        "builtin" => "faxsim engine (builtin)".into(),
        "spandsp" => "spandsp as device under test".into(),
        other => other.into(),
    }
}

/// Variants in column order: builtin first.
fn variant_order(v: &str) -> (u8, String) {
    (u8::from(v != "builtin"), v.to_string())
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

const CSS: &str = "body{font:14px/1.4 sans-serif;margin:1em 1.5em;color:#222}\
h1{font-size:1.6em;margin:.2em 0}h2{font-size:1.25em;margin:1.2em 0 .4em;border-bottom:1px solid #ccc}\
table{border-collapse:collapse;margin:.3em 0}td,th{border:1px solid #ccc;padding:.15em .45em;text-align:left;vertical-align:top}\
th{background:#eee}td.n{text-align:right}.cp{color:#175}.cf{color:#c33;font-weight:bold}.cs{color:#777}\
tr.bad td:first-child{border-left:4px solid #c33}\
.b{display:inline-block;padding:0 .45em;border-radius:3px;color:#fff;font-size:85%;margin-right:.3em;min-width:4.2em;text-align:center}\
.passed{background:#2a7}.failed,.lost{background:#c33}.skipped{background:#888}\
details.sc{border:1px solid #ccc;border-radius:4px;margin:.35em 0;padding:.2em .6em}\
details.sc[open]{padding-bottom:.6em}details.sc>summary{cursor:pointer}details.f{border-color:#c33}\
.d{color:#555}.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(460px,1fr));gap:1em;margin-top:.5em}\
.col{min-width:0;overflow-x:auto}.files a,td.files{overflow-wrap:anywhere}ul.fl code{overflow-wrap:anywhere}.col h3{font-size:1.05em;margin:.4em 0}ul.fl{margin:.2em 0;padding-left:1.2em;color:#c33}\
code{font-size:90%}td.x{color:#c33;font-weight:bold}td.v{color:#175}.k{font-family:monospace}\
.ch{margin:.2em 0}.ch b{display:inline-block;min-width:11em}.files a{margin-right:.8em}\
p.note{color:#555;font-size:90%}a.thumb img{border:1px solid #999;margin:0 .6em .4em 0;box-shadow:1px 1px 3px #bbb}.pair{display:flex;flex-wrap:wrap;gap:0 3em;align-items:flex-start}\
th.vg{text-align:center}";

/// The page for `results` (any order; one per scenario and variant).
pub fn html_report_with(results: &[ScenarioResult], opts: &HtmlOptions) -> String {
    let mut h = String::with_capacity(64 * 1024 + results.len() * 8 * 1024);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width\"><title>{}</title><style>{CSS}{STYLE}</style></head><body><h1>{}</h1>",
        esc(&opts.title),
        esc(&opts.title)
    );
    let variants: BTreeSet<(u8, String)> =
        results.iter().map(|r| variant_order(&r.variant)).collect();
    let several = variants.len() > 1;
    let mut total = Tally::default();
    results.iter().for_each(|r| total.add(r.status));
    let ids: BTreeSet<&str> = results.iter().map(|r| r.id.as_str()).collect();
    let _ = write!(
        h,
        "<p><b>{}</b> scenarios{}: <b>{}</b> passed, <b>{}</b> failed, <b>{}</b> lost, <b>{}</b> skipped.</p>",
        ids.len(),
        if several {
            format!(
                ", {} runs over {} devices under test",
                results.len(),
                variants.len()
            )
        } else {
            String::new()
        },
        total.passed,
        total.failed,
        total.lost,
        total.skipped
    );
    summary(&mut h, results, &variants);
    scenarios(&mut h, results, opts);
    h.push_str("</body></html>\n");
    h
}

/// The summary tables.
fn summary(h: &mut String, results: &[ScenarioResult], variants: &BTreeSet<(u8, String)>) {
    let several = variants.len() > 1;
    h.push_str("<h2>Summary</h2><table><tr><th>device under test</th>");
    h.push_str(TALLY_HEAD);
    h.push_str("</tr>");
    for (_, v) in variants {
        let mut t = Tally::default();
        results
            .iter()
            .filter(|r| &r.variant == v)
            .for_each(|r| t.add(r.status));
        let _ = write!(
            h,
            "<tr{}><td>{}</td>{}</tr>",
            if t.failed + t.lost > 0 {
                " class=\"bad\""
            } else {
                ""
            },
            esc(&variant_title(v)),
            t.cells()
        );
    }
    h.push_str("</table>");
    // By folder and by tag (the part before `:`, so `error:X` counts under `error`).
    // One row per key, a group of columns per device under test.
    let table = |h: &mut String, title: &str, keys: &dyn Fn(&ScenarioResult) -> Vec<String>| {
        let mut by: BTreeMap<String, BTreeMap<(u8, String), Tally>> = BTreeMap::new();
        for r in results {
            for k in keys(r) {
                by.entry(k)
                    .or_default()
                    .entry(variant_order(&r.variant))
                    .or_default()
                    .add(r.status);
            }
        }
        let _ = write!(
            h,
            "<div><h2>By {title}</h2><table><tr><th{}>{title}</th>",
            if several { " rowspan=\"2\"" } else { "" }
        );
        if several {
            for (_, v) in variants {
                let _ = write!(h, "<th colspan=\"5\" class=\"vg\">{}</th>", esc(v));
            }
            h.push_str("</tr><tr>");
        }
        for _ in variants {
            h.push_str(TALLY_HEAD);
        }
        h.push_str("</tr>");
        for (k, per) in &by {
            let bad = per.values().any(|t| t.failed + t.lost > 0);
            let _ = write!(
                h,
                "<tr{}><td>{}</td>",
                if bad { " class=\"bad\"" } else { "" },
                esc(if k.is_empty() { "(top level)" } else { k })
            );
            for v in variants {
                match per.get(v) {
                    Some(t) => h.push_str(&t.cells()),
                    None => h.push_str(&"<td class=\"n\"></td>".repeat(5)),
                }
            }
            h.push_str("</tr>");
        }
        h.push_str("</table></div>");
    };
    h.push_str("<div class=\"pair\">");
    table(h, "folder", &|r| vec![r.folder().to_string()]);
    table(h, "tag", &|r| {
        let set: BTreeSet<String> = r
            .tags
            .iter()
            .map(|t| t.split_once(':').map_or(t.as_str(), |(a, _)| a).to_string())
            .collect();
        set.into_iter().collect()
    });
    h.push_str("</div>");
    // Failures, with links to their scenario.
    let failed: Vec<&ScenarioResult> = results.iter().filter(|r| r.status.is_failure()).collect();
    if !failed.is_empty() {
        let _ = write!(h, "<h2>Failures ({})</h2><ul>", failed.len());
        for r in failed {
            let _ = write!(
                h,
                "<li>{}<a href=\"#{}\">{}</a>{}: <code>{}</code></li>",
                badge(r.status),
                esc(&anchor(&r.id)),
                esc(&r.id),
                if several {
                    format!(" [{}]", esc(&r.variant))
                } else {
                    String::new()
                },
                esc(&clip(&r.message(), 300))
            );
        }
        h.push_str("</ul>");
    }
    // Skip reasons, each with the scenarios it concerns.
    let mut reasons: BTreeMap<&str, Vec<&ScenarioResult>> = BTreeMap::new();
    for r in results.iter().filter(|r| r.status == Status::Skipped) {
        reasons
            .entry(r.reason.as_deref().unwrap_or(""))
            .or_default()
            .push(r);
    }
    if !reasons.is_empty() {
        h.push_str("<h2>Skipped</h2><table><tr><th>runs</th><th>reason</th></tr>");
        for (why, list) in reasons {
            let _ = write!(
                h,
                "<tr><td class=\"n\">{}</td><td>{}<details><summary>scenarios</summary>{}</details></td></tr>",
                list.len(),
                esc(why),
                list.iter()
                    .map(|r| format!(
                        "<a href=\"#{}\">{}</a>{}",
                        esc(&anchor(&r.id)),
                        esc(&r.id),
                        if several {
                            format!(" [{}]", esc(&r.variant))
                        } else {
                            String::new()
                        }
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        h.push_str("</table>");
    }
    if several {
        // Where the devices under test disagree (skips aside).
        let mut by_id: BTreeMap<&str, Vec<&ScenarioResult>> = BTreeMap::new();
        for r in results.iter().filter(|r| r.status != Status::Skipped) {
            by_id.entry(&r.id).or_default().push(r);
        }
        let both = by_id.values().filter(|l| l.len() > 1).count();
        let differ: Vec<_> = by_id
            .into_iter()
            .filter(|(_, l)| l.iter().map(|r| r.status).collect::<BTreeSet<_>>().len() > 1)
            .collect();
        let _ = write!(
            h,
            "<h2>Devices under test side by side</h2><p>Scenarios run by more than one device \
under test: {both}; they disagree on {}.</p>",
            differ.len()
        );
        if !differ.is_empty() {
            h.push_str("<ul>");
            for (id, mut l) in differ {
                l.sort_by_key(|r| variant_order(&r.variant));
                let _ = write!(
                    h,
                    "<li><a href=\"#{}\">{}</a>: {}</li>",
                    esc(&anchor(id)),
                    esc(id),
                    l.iter()
                        .map(|r| format!("{} {}", esc(&r.variant), badge(r.status)))
                        .collect::<Vec<_>>()
                        .join(" ")
                );
            }
            h.push_str("</ul>");
        }
    }
}

fn anchor(id: &str) -> String {
    format!(
        "s-{}",
        id.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "_")
    )
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).chain(['\u{2026}']).collect()
    }
}

/// Every scenario: failures first (open), then passes, then those skipped everywhere.
fn scenarios(h: &mut String, results: &[ScenarioResult], opts: &HtmlOptions) {
    let mut by_id: BTreeMap<&str, Vec<&ScenarioResult>> = BTreeMap::new();
    for r in results {
        by_id.entry(&r.id).or_default().push(r);
    }
    let rank = |l: &[&ScenarioResult]| {
        if l.iter().any(|r| r.status.is_failure()) {
            0
        } else if l.iter().any(|r| r.status == Status::Passed) {
            1
        } else {
            2
        }
    };
    let mut groups: Vec<(&str, Vec<&ScenarioResult>)> = by_id.into_iter().collect();
    groups.sort_by_key(|(id, l)| (rank(l), *id));
    h.push_str("<h2>Scenarios</h2><p class=\"note\">Failures first and open; click a scenario to unfold it. \
Ladder: time runs down; an arrow is a frame at the time it was sent, blue bands are page data \
(TCF, non-ECM pages, ECM blocks); red: received with a bad FCS or (dashed, crossed) never received; \
grey italics: a frame the far end heard that nothing sent explains (echo). Hover an arrow for its octets.</p>");
    for (id, mut list) in groups {
        list.sort_by_key(|r| variant_order(&r.variant));
        let failing = rank(&list) == 0;
        let first = list[0];
        let _ = write!(
            h,
            "<details class=\"sc{}\" id=\"{}\"{}><summary>{} <b>{}</b> <span class=\"d\">{}</span></summary>",
            if failing { " f" } else { "" },
            esc(&anchor(id)),
            if failing { " open" } else { "" },
            list.iter().map(|r| badge(r.status)).collect::<String>(),
            esc(id),
            esc(&clip(&first.description, 110))
        );
        if !first.description.is_empty() {
            let _ = write!(h, "<p>{}</p>", esc(&first.description));
        }
        if !first.tags.is_empty() {
            let _ = write!(
                h,
                "<p class=\"d\">tags: {}</p>",
                esc(&first.tags.join(", "))
            );
        }
        if let Some(c) = list.iter().find_map(|r| r.channel.as_ref()) {
            let words = |v: &[String]| {
                if v.is_empty() {
                    "direct, no impairment".to_string()
                } else {
                    v.join(" \u{2192} ")
                }
            };
            let _ = write!(
                h,
                "<div class=\"ch\"><b>transport</b> {}</div><div class=\"ch\"><b>caller \u{2192} answerer</b> {}</div><div class=\"ch\"><b>answerer \u{2192} caller</b> {}</div>",
                esc(if c.transport == "t38" {
                    "T.38 (IFP over UDPTL)"
                } else {
                    "audio"
                }),
                esc(&words(&c.caller_to_answerer)),
                esc(&words(&c.answerer_to_caller))
            );
        }
        h.push_str("<div class=\"grid\">");
        for r in &list {
            column(h, r, opts);
        }
        h.push_str("</div></details>");
    }
}

/// One device under test's result.
fn column(h: &mut String, r: &ScenarioResult, opts: &HtmlOptions) {
    let _ = write!(
        h,
        "<div class=\"col\"><h3>{}{}</h3>",
        badge(r.status),
        esc(&variant_title(&r.variant))
    );
    if let Some(why) = &r.reason {
        let _ = write!(h, "<p>{}</p>", esc(why));
    }
    if !r.failures.is_empty() {
        h.push_str("<ul class=\"fl\">");
        for f in &r.failures {
            let _ = write!(h, "<li><code>{}</code></li>", esc(f));
        }
        h.push_str("</ul>");
    }
    if r.calls.len() > 1 {
        calls_table(h, r, opts);
    }
    // The call shown in full: the first that missed its expectations, else the first.
    let shown = r
        .calls
        .iter()
        .find(|c| c.sides.iter().any(|s| !s.failures.is_empty()))
        .or(r.calls.first());
    if let Some(c) = shown {
        if r.calls.len() > 1 {
            let _ = write!(
                h,
                "<p class=\"note\">Below: repetition {} (seed {}).</p>",
                c.repetition, c.seed
            );
        }
        call_detail(h, c, opts);
    }
    h.push_str("</div>");
}

fn side_of<'a>(c: &'a CallResult, role: &str) -> Option<&'a SideResult> {
    c.sides.iter().find(|s| s.role == role)
}

fn calls_table(h: &mut String, r: &ScenarioResult, opts: &HtmlOptions) {
    h.push_str("<table><tr><th>rep</th><th>expectations</th><th>caller</th><th>answerer</th><th>files</th></tr>");
    for c in &r.calls {
        let met = c.sides.iter().all(|s| s.failures.is_empty());
        let outcome = |role: &str| {
            side_of(c, role)
                .and_then(|s| s.record.as_ref())
                .map(|v| {
                    format!(
                        "{} \u{201c}{}\u{201d}",
                        value_text(v.get("status").unwrap_or(&Value::Null)),
                        value_text(v.get("error").unwrap_or(&Value::Null))
                    )
                })
                .unwrap_or_else(|| "\u{2014}".into())
        };
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"{}\">{}</td><td>{}</td><td>{}</td><td class=\"files\">{}</td></tr>",
            c.repetition,
            if met { "v" } else { "x" },
            if met { "met" } else { "missed" },
            esc(&outcome("caller")),
            esc(&outcome("answerer")),
            files(c, opts)
        );
    }
    h.push_str("</table>");
}

/// Links to a call's records, received pages and captures that exist on disk.
fn files(c: &CallResult, opts: &HtmlOptions) -> String {
    let Some(out) = &opts.out_dir else {
        return String::new();
    };
    if c.dir.is_empty() {
        return String::new();
    }
    let mut names: Vec<(String, String)> = Vec::new();
    for s in &c.sides {
        if s.record.is_some() {
            names.push((format!("{}.json", s.role), format!("{} record", s.role)));
        }
        if let Some(f) = s.record.as_ref().and_then(|v| v.get("files")) {
            for (key, what) in [
                ("pdf", "received PDF"),
                ("tiff", "received TIFF"),
                ("wav", "audio"),
                ("pcap", "packets"),
            ] {
                if let Some(name) = f.get(key).and_then(Value::as_str) {
                    let what = if key == "pdf" || key == "tiff" {
                        format!("{} ({what})", s.role)
                    } else {
                        what.to_string()
                    };
                    names.push((name.to_string(), what));
                }
            }
        }
    }
    let mut seen = BTreeSet::new();
    let mut o = String::new();
    for (name, what) in names {
        if !seen.insert(name.clone()) || !out.join(&c.dir).join(&name).is_file() {
            continue;
        }
        let _ = write!(
            o,
            "<a href=\"{}\" title=\"{}\">{}</a>",
            esc(&href(&format!("{}{}/{}", opts.link_base, c.dir, name))),
            esc(&what),
            esc(&name)
        );
    }
    o
}

/// How one outcome row words a record.
type Wording = fn(&Value) -> String;

/// Each received document's first page, small, linking to its PDF (else its TIFF).
fn thumbnails(h: &mut String, c: &CallResult, opts: &HtmlOptions) {
    let (Some(out), Some(make)) = (&opts.out_dir, opts.thumbnail) else {
        return;
    };
    for s in &c.sides {
        let Some(files) = s.record.as_ref().and_then(|v| v.get("files")) else {
            continue;
        };
        let Some(tiff) = files.get("tiff").and_then(Value::as_str) else {
            continue;
        };
        let Some(png) = make(&out.join(&c.dir).join(tiff)) else {
            continue;
        };
        let target = files.get("pdf").and_then(Value::as_str).unwrap_or(tiff);
        let _ = write!(
            h,
            "<a class=\"thumb\" href=\"{}\"><img alt=\"first page received by the {}\" title=\"first page received by the {}\" src=\"data:image/png;base64,{}\"></a>",
            esc(&href(&format!("{}{}/{}", opts.link_base, c.dir, target))),
            esc(&s.role),
            esc(&s.role),
            base64(&png)
        );
    }
}

/// Escapes text for HTML (element content and double-quoted attributes).
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Standard base64 with padding (for images embedded in the page).
pub fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                s.push(T[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

/// The outcome rows shown side by side for the two records: a label and how to word a
/// record for it.
fn outcome_rows() -> Vec<(&'static str, Wording)> {
    fn f(v: &Value, k: &str) -> String {
        v.get(k).map(value_text).unwrap_or_default()
    }
    vec![
        ("status", |v| f(v, "status")),
        ("completion", |v| {
            format!("{} (code {})", f(v, "error"), f(v, "code"))
        }),
        ("pages", |v| f(v, "pages")),
        ("modem", |v| {
            let m = f(v, "modem");
            if m.is_empty() {
                "none".into()
            } else {
                format!("{m} {} bit/s", f(v, "rate"))
            }
        }),
        ("ECM, coding, resolution", |v| {
            format!(
                "ECM {} \u{b7} {} \u{b7} {}",
                f(v, "ecm"),
                f(v, "coding"),
                f(v, "resolution")
            )
        }),
        ("far identity", |v| f(v, "remotestationid")),
        ("finished at", |v| {
            let t = v.get("duration_s").and_then(Value::as_f64).unwrap_or(0.0);
            let limit = v.get("limit_reached").and_then(Value::as_bool) == Some(true);
            format!("{t:.2} s{}", if limit { " (time limit)" } else { "" })
        }),
        ("trainings", |v| {
            v.get("trainings")
                .and_then(Value::as_array)
                .map(|l| {
                    l.iter()
                        .map(|t| {
                            format!(
                                "{} {} {}",
                                f(t, "modem"),
                                f(t, "rate"),
                                if t.get("ok").and_then(Value::as_bool) == Some(true) {
                                    "\u{2713}"
                                } else {
                                    "\u{2717}"
                                }
                            )
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default()
        }),
        ("ECM retries, bad rows", |v| {
            format!("{} \u{b7} {}", f(v, "ecm_retries"), f(v, "bad_rows"))
        }),
    ]
}

fn call_detail(h: &mut String, c: &CallResult, opts: &HtmlOptions) {
    // Expectation against outcome.
    let rows: usize = c.sides.iter().map(|s| s.expected.len()).sum();
    if rows > 0 {
        h.push_str("<table><tr><th>side</th><th>expected</th><th></th><th>got</th></tr>");
        for s in &c.sides {
            for e in &s.expected {
                let _ = write!(
                    h,
                    "<tr><td>{}</td><td><span class=\"k\">{}</span> = {}</td><td class=\"{}\">{}</td><td>{}</td></tr>",
                    esc(&s.role),
                    esc(&e.key),
                    esc(&e.expected),
                    if e.passed { "v" } else { "x" },
                    if e.passed { "\u{2713}" } else { "\u{2717}" },
                    esc(&e.actual)
                );
            }
        }
        h.push_str("</table>");
    }
    // Script checks.
    for s in &c.sides {
        if s.checks.is_empty() {
            continue;
        }
        let _ = write!(
            h,
            "<table><tr><th colspan=\"3\">{} script checks</th></tr>",
            esc(&s.role)
        );
        for k in &s.checks {
            let _ = write!(
                h,
                "<tr><td>step {}</td><td>{}</td><td class=\"{}\">{}</td></tr>",
                k.step + 1,
                esc(&k.what),
                if k.passed { "v" } else { "x" },
                esc(&k.detail)
            );
        }
        h.push_str("</table>");
    }
    let caller = side_of(c, "caller");
    let answerer = side_of(c, "answerer");
    fn rec(s: Option<&SideResult>) -> Option<&Value> {
        s.and_then(|s| s.record.as_ref())
    }
    if rec(caller).is_some() || rec(answerer).is_some() {
        let head = |s: Option<&SideResult>, role: &str| match s {
            Some(s) => format!("{role} ({})", s.endpoint),
            None => role.to_string(),
        };
        let _ = write!(
            h,
            "<table><tr><th>outcome</th><th>{}</th><th>{}</th></tr>",
            esc(&head(caller, "caller")),
            esc(&head(answerer, "answerer"))
        );
        for (label, word) in outcome_rows() {
            let cell = |s: Option<&SideResult>| rec(s).map_or("\u{2014}".to_string(), word);
            let _ = write!(
                h,
                "<tr><td>{label}</td><td>{}</td><td>{}</td></tr>",
                esc(&cell(caller)),
                esc(&cell(answerer))
            );
        }
        h.push_str("</table>");
    }
    let links = files(c, opts);
    if !links.is_empty() {
        let _ = write!(h, "<p class=\"files\">files: {links}</p>");
    }
    thumbnails(h, c, opts);
    let ladder = Ladder::from_records(rec(caller), rec(answerer));
    if ladder.is_empty() {
        h.push_str("<p class=\"note\">No T.30 frames: the call was never placed or nothing was exchanged.</p>");
    } else {
        let label = |s: Option<&SideResult>, role: &str| match s {
            Some(s) => format!("{role} \u{b7} {}", s.endpoint),
            None => role.to_string(),
        };
        h.push_str(&ladder.svg(&label(caller, "caller"), &label(answerer, "answerer")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_relative_to_the_page() {
        let d = std::env::temp_dir().join(format!("faxsim-html-{}", std::process::id()));
        std::fs::create_dir_all(d.join("a/run")).unwrap();
        assert_eq!(link_base(&d.join("a/r.html"), &d.join("a/run")), "run/");
        std::fs::create_dir_all(d.join("b")).unwrap();
        assert_eq!(
            link_base(&d.join("b/r.html"), &d.join("a/run")),
            "../a/run/"
        );
        let _ = std::fs::remove_dir_all(&d);
        assert_eq!(href("x y/#1.json"), "x%20y/%231.json");
        assert_eq!(base64(b"Man"), "TWFu");
        assert_eq!(base64(b"Ma"), "TWE=");
        assert_eq!(base64(b"M"), "TQ==");
    }

    #[test]
    fn failures_come_first() {
        let mut a = ScenarioResult::new("a/pass", "builtin");
        a.status = Status::Passed;
        let b = ScenarioResult::new("z/fail", "builtin");
        let page = html_report("t", &[a, b]);
        let scen = &page[page.find("<h2>Scenarios").unwrap()..];
        assert!(scen.find("z/fail").unwrap() < scen.find("a/pass").unwrap());
    }
}
