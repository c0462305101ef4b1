//! A first self-contained HTML report: summary by folder, failures first, each scenario's
//! expectations against what came, and — with `--peer spandsp` — the two devices under test
//! side by side. No external assets: it opens from disk.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::{Counts, ScenarioResult, Status};

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn field(r: &ScenarioResult, role: &str, key: &str) -> String {
    r.calls
        .first()
        .and_then(|c| c.sides.iter().find(|s| s.role == role))
        .and_then(|s| s.record.as_ref())
        .and_then(|v| v.get(key))
        .map(|v| match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .unwrap_or_else(|| "—".into())
}

fn badge(s: Status) -> String {
    format!("<span class=\"b {}\">{}</span>", s.word(), s.word())
}

/// The HTML page for `results`, titled `title`.
pub fn html_report(title: &str, results: &[ScenarioResult]) -> String {
    let mut h = String::new();
    let total = Counts::of(results);
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>\
body{{font-family:sans-serif;margin:1.5em;color:#222}}table{{border-collapse:collapse;margin:.5em 0}}\
td,th{{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top;font-size:90%}}\
th{{background:#eee}}.b{{padding:0 .4em;border-radius:3px;color:#fff}}.passed{{background:#2a7}}\
.failed,.lost{{background:#c33}}.skipped{{background:#888}}code{{font-size:90%}}\
</style></head><body><h1>{}</h1>",
        esc(title),
        esc(title)
    );
    let _ = write!(
        h,
        "<p><b>{}</b> scenarios: <b>{}</b> passed, <b>{}</b> failed, <b>{}</b> skipped.</p>",
        results.len(),
        total.passed,
        total.failed,
        total.skipped
    );
    // Summary by folder and variant.
    let mut by: BTreeMap<(String, String), Vec<&ScenarioResult>> = BTreeMap::new();
    for r in results {
        by.entry((r.folder().to_string(), r.variant.clone()))
            .or_default()
            .push(r);
    }
    h.push_str("<h2>By folder</h2><table><tr><th>folder</th><th>device under test</th><th>passed</th><th>failed</th><th>skipped</th></tr>");
    for ((folder, variant), list) in &by {
        let c = Counts::of(list.iter().copied());
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(folder),
            esc(variant),
            c.passed,
            c.failed,
            c.skipped
        );
    }
    h.push_str("</table>");
    // Skip reasons.
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    for r in results.iter().filter(|r| r.status == Status::Skipped) {
        *reasons
            .entry(r.reason.clone().unwrap_or_default())
            .or_default() += 1;
    }
    if !reasons.is_empty() {
        h.push_str("<h2>Skipped</h2><ul>");
        for (why, n) in reasons {
            let _ = write!(h, "<li>{n} × {}</li>", esc(&why));
        }
        h.push_str("</ul>");
    }
    // Side by side when there are several variants.
    let variants: Vec<String> = {
        let mut v: Vec<String> = results.iter().map(|r| r.variant.clone()).collect();
        v.sort();
        v.dedup();
        v
    };
    if variants.len() > 1 {
        let mut rows: BTreeMap<&str, BTreeMap<&str, Status>> = BTreeMap::new();
        for r in results {
            rows.entry(&r.id).or_default().insert(&r.variant, r.status);
        }
        h.push_str("<h2>Devices under test side by side</h2><table><tr><th>scenario</th>");
        for v in &variants {
            let _ = write!(h, "<th>{}</th>", esc(v));
        }
        h.push_str("</tr>");
        for (id, m) in rows {
            let _ = write!(h, "<tr><td>{}</td>", esc(id));
            for v in &variants {
                match m.get(v.as_str()) {
                    Some(s) => {
                        let _ = write!(h, "<td>{}</td>", badge(*s));
                    }
                    None => h.push_str("<td>—</td>"),
                }
            }
            h.push_str("</tr>");
        }
        h.push_str("</table>");
    }
    // Every scenario, failures first.
    let mut order: Vec<&ScenarioResult> = results.iter().collect();
    order.sort_by_key(|r| (!r.status.is_failure(), r.id.clone(), r.variant.clone()));
    h.push_str("<h2>Scenarios</h2><table><tr><th>scenario</th><th>DUT</th><th>status</th><th>caller</th><th>answerer</th><th>expected vs got</th></tr>");
    for r in order {
        let side = |role: &str| {
            format!(
                "{} \"{}\" pages={}",
                esc(&field(r, role, "status")),
                esc(&field(r, role, "error")),
                esc(&field(r, role, "pages"))
            )
        };
        let _ = write!(
            h,
            "<tr id=\"{}\"><td><b>{}</b><br><small>{}</small></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&format!("{}-{}", r.id, r.variant)),
            esc(&r.id),
            esc(&r.description),
            esc(&r.variant),
            badge(r.status),
            side("caller"),
            side("answerer"),
            if r.failures.is_empty() {
                esc(r.reason.as_deref().unwrap_or(""))
            } else {
                r.failures
                    .iter()
                    .map(|f| format!("<code>{}</code>", esc(f)))
                    .collect::<Vec<_>>()
                    .join("<br>")
            }
        );
    }
    h.push_str("</table></body></html>\n");
    h
}
