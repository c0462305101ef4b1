//! The report as text: the ladder diagram, pages, ECM figures and the diagnosis.

use std::fmt::Write;

use super::Side;
use super::ladder::Report;

fn arrow(side: Side) -> &'static str {
    match side {
        Side::Caller => "caller   --> ",
        Side::Answerer => "     <-- answerer",
        Side::Unknown => "      ?      ",
    }
}

/// The text report; `verbose` adds DIS/DTC/DCS bit by bit.
pub fn text(r: &Report, verbose: bool) -> String {
    let mut s = String::new();
    let i = &r.input;
    let _ = writeln!(s, "{}: {}, {:.2} s", i.file, i.format, i.duration_s);
    if !i.mono && !i.tracks.is_empty() {
        let map: Vec<String> = i
            .tracks
            .iter()
            .zip(&r.track_sides)
            .map(|(t, side)| format!("{t} = {}", side.name()))
            .collect();
        let _ = writeln!(s, "tracks: {}", map.join(", "));
    } else if i.mono {
        let _ = writeln!(s, "tracks: mono tap (sides told apart by T.30)");
    }
    for n in &i.notes {
        let _ = writeln!(s, "note: {n}");
    }
    let _ = writeln!(s);
    if !r.events.is_empty() {
        let _ = writeln!(s, "    time  {:<17}  signal", "direction");
        for e in &r.events {
            let _ = writeln!(
                s,
                "{:8.3}  {:<17}  {:<13} {}",
                e.time_s,
                arrow(e.side),
                e.event,
                e.detail
            );
            if verbose
                && let Some(f) = r
                    .frames
                    .iter()
                    .find(|f| f.time_s == e.time_s && f.name == e.event && !f.fast)
            {
                for fl in &f.fields {
                    let _ = writeln!(s, "{:30}bit {:>3}  {}: {}", "", fl.bit, fl.name, fl.value);
                }
                let _ = writeln!(s, "{:30}hex {}", "", f.hex);
            }
        }
        let _ = writeln!(s);
    }
    if !r.pages.is_empty() {
        let _ = writeln!(s, "pages:");
        for p in &r.pages {
            let _ = writeln!(
                s,
                "  page {} at {:.2} s from {}: {}{}, {} rows, {} bad{}{}{}",
                p.number,
                p.time_s,
                p.side.name(),
                if p.ecm { "ECM " } else { "" },
                p.coding,
                p.rows,
                p.bad_rows,
                if p.ecm {
                    format!(", {} block(s), {} frame(s)", p.blocks, p.frames)
                } else {
                    String::new()
                },
                if p.complete { "" } else { ", INCOMPLETE" },
                p.response
                    .as_ref()
                    .map(|r| format!(", answered {r}"))
                    .unwrap_or_default()
            );
        }
    }
    if r.ecm.frames > 0 {
        let _ = writeln!(
            s,
            "ECM: {} block(s), {} FCD frame(s), {} bad FCS, {} sent again, {} PPR",
            r.ecm.blocks, r.ecm.frames, r.ecm.bad_frames, r.ecm.retransmitted_frames, r.ecm.pprs
        );
        for (k, req) in r.ecm.ppr_requests.iter().enumerate() {
            let list: Vec<String> = req.iter().take(32).map(|n| n.to_string()).collect();
            let _ = writeln!(
                s,
                "  PPR {}: {} frame(s): {}{}",
                k + 1,
                req.len(),
                list.join(" "),
                if req.len() > 32 { " …" } else { "" }
            );
        }
    }
    for h in &r.health {
        if h.level_dbm0.is_some() || h.tone_level_dbm0.is_some() || h.v21_level_dbm0.is_some() {
            let mut parts = Vec::new();
            if let Some(l) = h.level_dbm0 {
                parts.push(format!("fast-modem level {l:.1} dBm0"));
            }
            if let Some(x) = h.snr_db {
                parts.push(format!("SNR {x:.1} dB"));
            }
            if let Some(t) = h.tone_level_dbm0 {
                parts.push(format!("tone level {t:.1} dBm0"));
            }
            if let (Some(l), Some(o)) = (h.v21_level_dbm0, h.v21_offset_hz) {
                parts.push(format!("V.21 level {l:.1} dBm0, carrier offset {o:+.1} Hz"));
            }
            let _ = writeln!(s, "{}: {}", h.side.name(), parts.join(", "));
        }
    }
    if let Some(sig) = &r.signal {
        let f = sig.findings();
        if f.is_empty() {
            let _ = writeln!(
                s,
                "signal health: no echo, drift, lossy codec or VAD gap found"
            );
        } else {
            let _ = writeln!(s, "signal health:");
            for l in f {
                let _ = writeln!(s, "  {l}");
            }
        }
    }
    if !r.gaps.is_empty() {
        let total: f64 = r.gaps.iter().map(|g| g.duration_s).sum();
        let _ = writeln!(
            s,
            "gaps: {} in the media, {:.3} s in all",
            r.gaps.len(),
            total
        );
    }
    let d = &r.diagnosis;
    let _ = writeln!(s);
    let _ = writeln!(s, "diagnosis:");
    if let Some(c) = &d.caller {
        let _ = writeln!(s, "  caller reports:   {c}");
    }
    if let Some(a) = &d.answerer {
        let _ = writeln!(s, "  answerer reports: {a}");
    }
    let _ = writeln!(s, "  cause: {}", d.cause);
    for e in &d.evidence {
        let _ = writeln!(s, "  evidence: {e}");
    }
    if let Some(rp) = &r.replay {
        s += &replay_text(rp);
    }
    s
}

/// The `--replay` section: the two frame sequences side by side, the divergence and the
/// outcomes.
pub fn replay_text(rp: &super::replay::ReplayReport) -> String {
    let mut s = String::new();
    let who = rp.replaced.name();
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "replay: our engine as the {who}, against the recorded {} ({})",
        rp.replaced.other().name(),
        rp.recorded_source
    );
    for n in &rp.notes {
        let _ = writeln!(s, "  note: {n}");
    }
    let _ = writeln!(
        s,
        "  {:>3}  {:<24} {:<24}",
        "#",
        format!("recorded {who}"),
        "ours"
    );
    let n = rp.recorded_frames.len().max(rp.our_frames.len());
    for i in 0..n {
        let cell = |f: Option<&super::replay::ReplayFrame>| {
            f.map(|f| format!("{:8.3}  {}", f.time_s, f.name))
                .unwrap_or_else(|| "-".into())
        };
        let mark = if rp.divergence.as_ref().is_some_and(|d| d.index == i + 1) {
            "  <-- first difference"
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "  {:>3}  {:<24} {:<24}{mark}",
            i + 1,
            cell(rp.recorded_frames.get(i)),
            cell(rp.our_frames.get(i))
        );
    }
    match &rp.divergence {
        Some(d) => {
            let _ = writeln!(s, "  divergence at frame {}: {}", d.index, d.summary);
        }
        None => {
            let _ = writeln!(
                s,
                "  no divergence: our engine sent the same frame sequence"
            );
        }
    }
    for c in &rp.content_differences {
        let _ = writeln!(s, "  same frame, other content: {c}");
    }
    let _ = writeln!(
        s,
        "  outcome: recorded {who} {}; ours {} ({} page(s)){}",
        rp.recorded_outcome.as_deref().unwrap_or("unknown"),
        rp.our_outcome,
        rp.our_pages,
        if rp.same_outcome {
            ", the same"
        } else {
            ", DIFFERENT"
        }
    );
    s
}
