//! The ladder diagram of one call's T.30 exchange, as inline SVG.
//!
//! Both sides' records are read (each has its own trace: what it sent, what it received and
//! when). Every frame a side sent is an arrow from its line to the other's, at the time it
//! was sent; the other side's trace says whether it arrived (good FCS), arrived damaged, or
//! never arrived. What the trace does not hold as frames is drawn from what surrounds it:
//! the TCF after each DCS (with the modem and rate of its training), the page data of a
//! non-ECM page (from the confirmation before it to its post-page message), and each ECM
//! block (its FCD and RCP frames as one band). Rows follow time but never come closer than a
//! line of text, so labels never overlap and a long call gets a tall diagram.
//!
//! ```
//! use reports::ladder::{Ladder, SideTrace};
//! let caller = serde_json::json!({
//!     "frames": [
//!         {"time_s": 3.1, "dir": "rx", "name": "DIS", "hex": "ff 13 80 00", "fcs_ok": true},
//!         {"time_s": 3.3, "dir": "tx", "name": "DCS", "hex": "ff 13 83 00", "fcs_ok": true}
//!     ],
//!     "trainings": [], "duration_s": 9.0, "status": "SUCCESS", "error": "OK"
//! });
//! let ladder = Ladder::build(Some(&SideTrace::from_record(&caller)), None);
//! let svg = ladder.svg("caller", "answerer");
//! assert!(svg.contains(">DIS<") && svg.contains(">DCS<"));
//! ```

use std::fmt::Write;

use serde_json::Value;

/// One frame of a side's trace.
#[derive(Debug, Clone, PartialEq)]
pub struct TracedFrame {
    /// Seconds from the start of the call (burst start when sent, frame end when received).
    pub time_s: f64,
    /// Sent by this side.
    pub tx: bool,
    /// Frame name ("DIS", "FCF 0x00", "garbage").
    pub name: String,
    /// Octets in hex, space separated, without FCS.
    pub hex: String,
    /// Whether the FCS was good.
    pub fcs_ok: bool,
}

/// One training (TCF) of a side's record.
#[derive(Debug, Clone, PartialEq)]
pub struct TracedTraining {
    /// When its result was known.
    pub time_s: f64,
    /// "V.17", "V.29", "V.27ter".
    pub modem: String,
    /// Bit rate.
    pub rate: u32,
    /// Whether it succeeded.
    pub ok: bool,
}

/// What the ladder needs from one side's outcome record.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SideTrace {
    /// The T.30 trace.
    pub frames: Vec<TracedFrame>,
    /// Training attempts.
    pub trainings: Vec<TracedTraining>,
    /// When the side finished.
    pub end_s: Option<f64>,
    /// "SUCCESS" / "FAILED".
    pub status: String,
    /// The completion string.
    pub error: String,
}

fn text(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or("").to_string()
}

fn num(v: &Value, key: &str) -> Option<f64> {
    v.get(key).and_then(Value::as_f64)
}

impl SideTrace {
    /// From an outcome record as JSON (fields it lacks are left empty).
    pub fn from_record(v: &Value) -> SideTrace {
        let list = |key: &str| {
            v.get(key)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        SideTrace {
            frames: list("frames")
                .iter()
                .map(|f| TracedFrame {
                    time_s: num(f, "time_s").unwrap_or(0.0),
                    tx: text(f, "dir") == "tx",
                    name: text(f, "name"),
                    hex: text(f, "hex"),
                    fcs_ok: f.get("fcs_ok").and_then(Value::as_bool).unwrap_or(true),
                })
                .collect(),
            trainings: list("trainings")
                .iter()
                .map(|t| TracedTraining {
                    time_s: num(t, "time_s").unwrap_or(0.0),
                    modem: text(t, "modem"),
                    rate: t.get("rate").and_then(Value::as_u64).unwrap_or(0) as u32,
                    ok: t.get("ok").and_then(Value::as_bool).unwrap_or(false),
                })
                .collect(),
            end_s: num(v, "duration_s"),
            status: text(v, "status"),
            error: text(v, "error"),
        }
    }
}

/// What became of a sent frame at the far end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Received with a good FCS.
    Received,
    /// Received with a bad FCS.
    BadFcs,
    /// Never received.
    Lost,
    /// The far end's trace is not known.
    Unknown,
}

/// What a row of the ladder shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An HDLC frame.
    Frame,
    /// The training check after a DCS.
    Tcf,
    /// The image data of a non-ECM page.
    PageData,
    /// An ECM block (its FCD and RCP frames).
    EcmBlock,
    /// A frame the far end received that matches nothing sent (echo, noise).
    Heard,
    /// A side finished.
    End,
}

/// One row of the ladder.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// When (seconds of call time).
    pub time_s: f64,
    /// From the caller's line to the answerer's (false: the other way).
    pub from_caller: bool,
    /// The label on the arrow.
    pub label: String,
    /// Hover text (octets, counts).
    pub detail: String,
    /// Whether it arrived.
    pub fate: Fate,
    /// What it is.
    pub kind: Kind,
    /// For page data and ECM blocks: when the data ended.
    pub end_s: Option<f64>,
}

/// The rows of one call, in time order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ladder {
    /// The rows.
    pub events: Vec<Event>,
}

/// Post-page message names by FCF octet (X bit cleared), for PPS and EOR.
fn ppm_name(octet: u8) -> Option<&'static str> {
    Some(match octet & 0xFE {
        0x00 => "NULL",
        0x4E => "MPS",
        0x2E => "EOP",
        0x8E => "EOM",
        0x5E => "PRI-MPS",
        0x3E => "PRI-EOP",
        0x9E => "PRI-EOM",
        _ => return None,
    })
}

fn octets(hex: &str) -> Vec<u8> {
    hex.split_whitespace()
        .filter_map(|h| u8::from_str_radix(h, 16).ok())
        .collect()
}

/// The label of a frame: its name, with the post-page message of PPS/EOR, the page, block
/// and frame count of a PPS, and the identity of CSI/TSI/CIG.
pub fn frame_label(name: &str, hex: &str) -> String {
    let b = octets(hex);
    let fif = b.get(3..).unwrap_or(&[]);
    match name {
        "PPS" | "EOR" => match fif.first().and_then(|o| ppm_name(*o)) {
            Some(ppm) if name == "PPS" && fif.len() >= 4 => format!(
                "PPS-{ppm} page {} block {} ({} frames)",
                fif[1] as u32 + 1,
                fif[2],
                fif[3] as u32 + 1
            ),
            Some(ppm) => format!("{name}-{ppm}"),
            None => name.to_string(),
        },
        "DCS" => match dcs_rate(hex) {
            Some(r) => format!("DCS \u{b7} {r}"),
            None => name.to_string(),
        },
        "CSI" | "TSI" | "CIG" if !fif.is_empty() => {
            let ident: String = fif
                .iter()
                .rev()
                .map(|&c| {
                    if (0x20..0x7F).contains(&c) {
                        c as char
                    } else {
                        '?'
                    }
                })
                .collect();
            let ident = ident.trim();
            if ident.is_empty() {
                name.to_string()
            } else {
                format!("{name} \u{201c}{ident}\u{201d}")
            }
        }
        _ => name.to_string(),
    }
}

/// The modem and rate a DCS orders (T.30 Table 2, bits 11–14; bit 1 is the least
/// significant bit of the first FIF octet), from its octets in hex.
pub fn dcs_rate(hex: &str) -> Option<String> {
    let b = octets(hex);
    let o = *b.get(4)?;
    let bit = |n: u32| u8::from(o >> ((n - 1) % 8) & 1 != 0);
    let code = (bit(11) << 3) | (bit(12) << 2) | (bit(13) << 1) | bit(14);
    Some(
        match code {
            0b0000 => "V.27ter 2400",
            0b0100 => "V.27ter 4800",
            0b1000 => "V.29 9600",
            0b1100 => "V.29 7200",
            0b0001 => "V.17 14400",
            0b0101 => "V.17 12000",
            0b1001 => "V.17 9600",
            0b1101 => "V.17 7200",
            _ => return None,
        }
        .to_string(),
    )
}

fn is_ecm_data(name: &str) -> bool {
    name == "FCD" || name == "RCP"
}

fn is_ppm(name: &str) -> bool {
    matches!(
        name,
        "MPS" | "EOP" | "EOM" | "PRI-MPS" | "PRI-EOP" | "PRI-EOM"
    )
}

/// The modem and rate in use at `t`: the sender's last good training at or before it, else
/// the receiver's.
fn rate_at(t: f64, a: &SideTrace, b: Option<&SideTrace>) -> Option<String> {
    let pick = |s: &SideTrace| {
        s.trainings
            .iter()
            .rfind(|x| x.ok && x.time_s <= t + 1e-6)
            .map(|x| format!("{} {}", x.modem, x.rate))
    };
    pick(a).or_else(|| b.and_then(pick))
}

/// The modem and rate of the training that follows a DCS sent at `t`.
fn training_after(t: f64, a: &SideTrace, b: Option<&SideTrace>) -> Option<(String, bool)> {
    let pick = |s: &SideTrace| {
        s.trainings
            .iter()
            .find(|x| x.time_s > t)
            .map(|x| (format!("{} {}", x.modem, x.rate), x.ok))
    };
    pick(a).or_else(|| b.and_then(pick))
}

/// The rows of one direction: `a` sent, `b` received.
fn direction(a: Option<&SideTrace>, b: Option<&SideTrace>, from_caller: bool) -> Vec<Event> {
    let mut out = Vec::new();
    let rx: Vec<&TracedFrame> = b
        .map(|b| b.frames.iter().filter(|f| !f.tx).collect())
        .unwrap_or_default();
    let Some(a) = a else {
        // Only the receiver's trace: its receptions are the arrows.
        for f in rx {
            out.push(Event {
                time_s: f.time_s,
                from_caller,
                label: frame_label(&f.name, &f.hex),
                detail: f.hex.clone(),
                fate: if f.fcs_ok {
                    Fate::Unknown
                } else {
                    Fate::BadFcs
                },
                kind: Kind::Frame,
                end_s: None,
            });
        }
        return out;
    };
    let tx: Vec<&TracedFrame> = a.frames.iter().filter(|f| f.tx).collect();
    // Match every sent frame with its reception, in order: the reception must come after the
    // burst started and before the sender's next burst (plus a second of path delay).
    let mut matched_rx = vec![false; rx.len()];
    let mut rx_of: Vec<Option<usize>> = vec![None; tx.len()];
    let mut j = 0;
    for (i, f) in tx.iter().enumerate() {
        if b.is_none() {
            break;
        }
        let next_burst = tx[i..]
            .iter()
            .map(|g| g.time_s)
            .find(|&t| t > f.time_s + 1e-6);
        let until = next_burst.map_or(f.time_s + 60.0, |t| t + 1.0);
        let mut k = j;
        while k < rx.len() && rx[k].time_s < f.time_s - 0.01 {
            k += 1;
        }
        if k < rx.len()
            && rx[k].time_s <= until
            && (rx[k].name == f.name || !rx[k].fcs_ok || rx[k].name == "garbage")
        {
            matched_rx[k] = true;
            rx_of[i] = Some(k);
            j = k + 1;
        }
    }
    let fate_of = |i: usize| match (b, rx_of[i]) {
        (None, _) => Fate::Unknown,
        (Some(_), None) => Fate::Lost,
        (Some(_), Some(k)) if rx[k].fcs_ok => Fate::Received,
        (Some(_), Some(_)) => Fate::BadFcs,
    };
    let mut i = 0;
    while i < tx.len() {
        let f = tx[i];
        if is_ecm_data(&f.name) {
            // One band for the run of FCD/RCP frames.
            let start = i;
            while i < tx.len() && is_ecm_data(&tx[i].name) {
                i += 1;
            }
            let run = start..i;
            let fcd = tx[run.clone()].iter().filter(|g| g.name == "FCD").count();
            let rcp = i - start - fcd;
            let bad = run.clone().filter(|&x| fate_of(x) == Fate::BadFcs).count();
            let lost = run.clone().filter(|&x| fate_of(x) == Fate::Lost).count();
            let end = run
                .clone()
                .filter_map(|x| rx_of[x].map(|k| rx[k].time_s))
                .fold(f.time_s, f64::max);
            let rate = rate_at(f.time_s, a, b)
                .map(|r| format!(" \u{b7} {r}"))
                .unwrap_or_default();
            let mut detail = format!("{fcd} FCD, {rcp} RCP");
            if b.is_some() {
                let _ = write!(detail, "; at the far end: {bad} with bad FCS, {lost} lost");
            }
            let took = if end > f.time_s {
                format!(" \u{b7} {:.1} s", end - f.time_s)
            } else {
                String::new()
            };
            out.push(Event {
                time_s: f.time_s,
                from_caller,
                label: format!("ECM block: {fcd} FCD + {rcp} RCP{rate}{took}"),
                detail,
                fate: if b.is_none() {
                    Fate::Unknown
                } else if bad + lost == 0 {
                    Fate::Received
                } else {
                    Fate::BadFcs
                },
                kind: Kind::EcmBlock,
                end_s: Some(end),
            });
            continue;
        }
        let fate = fate_of(i);
        out.push(Event {
            time_s: f.time_s,
            from_caller,
            label: frame_label(&f.name, &f.hex),
            detail: f.hex.clone(),
            fate,
            kind: Kind::Frame,
            end_s: None,
        });
        if f.name == "DCS" {
            let at = rx_of[i].map_or(f.time_s + 1.2, |k| rx[k].time_s + 0.075);
            // The training's own record, else the rate the DCS ordered.
            let (words, ok) = training_after(f.time_s, a, b)
                .map(|(w, ok)| (format!(" \u{b7} {w}"), Some(ok)))
                .or_else(|| dcs_rate(&f.hex).map(|r| (format!(" \u{b7} {r}"), None)))
                .unwrap_or_default();
            out.push(Event {
                time_s: at,
                from_caller,
                label: format!("TCF{words}"),
                detail: match ok {
                    Some(true) => "training check accepted".into(),
                    Some(false) => "training check failed".into(),
                    None => "training check".into(),
                },
                fate: match ok {
                    Some(false) => Fate::BadFcs,
                    _ if b.is_none() => Fate::Unknown,
                    _ => Fate::Received,
                },
                kind: Kind::Tcf,
                end_s: None,
            });
        }
        i += 1;
    }
    // Non-ECM pages: the data follows a CFR, or an MCF answering MPS, that this side received,
    // and runs until the next frame it sends (its post-page message) or its end.
    let mut last_ppm: Option<&str> = None;
    let mut pages = 0;
    for g in &a.frames {
        if g.tx {
            if is_ppm(&g.name) {
                last_ppm = Some(g.name.as_str());
            }
            continue;
        }
        let next_page =
            g.name == "CFR" || (g.name == "MCF" && matches!(last_ppm, Some("MPS" | "PRI-MPS")));
        if !g.fcs_ok || !next_page {
            continue;
        }
        let start = g.time_s + 0.075;
        let next_tx = tx.iter().find(|x| x.time_s >= g.time_s);
        if next_tx.is_some_and(|x| is_ecm_data(&x.name)) {
            continue;
        }
        let Some(end) = next_tx.map(|x| x.time_s).or(a.end_s) else {
            continue;
        };
        if end <= start {
            continue;
        }
        pages += 1;
        let rate = rate_at(start, a, b)
            .map(|r| format!(" \u{b7} {r}"))
            .unwrap_or_default();
        out.push(Event {
            time_s: start,
            from_caller,
            // With no frame after it, when the data stopped is not in the trace.
            label: if next_tx.is_some() {
                format!("page {pages} data{rate} \u{b7} {:.1} s", end - start)
            } else {
                format!("page {pages} data{rate}, no post-page message after it")
            },
            detail: if next_tx.is_some() {
                format!("page data, {start:.3} s to {end:.3} s")
            } else {
                format!("page data from {start:.3} s; the sender sent no frame after it and ended at {end:.3} s")
            },
            fate: if b.is_some() {
                Fate::Received
            } else {
                Fate::Unknown
            },
            kind: Kind::PageData,
            end_s: Some(end),
        });
    }
    // What the far end heard that nothing sent explains (its own echo, line noise).
    for (k, f) in rx.iter().enumerate() {
        if !matched_rx[k] && !is_ecm_data(&f.name) {
            out.push(Event {
                time_s: f.time_s,
                from_caller,
                label: format!(
                    "heard {}{}",
                    frame_label(&f.name, &f.hex),
                    if f.fcs_ok { "" } else { " (bad FCS)" }
                ),
                detail: f.hex.clone(),
                fate: if f.fcs_ok {
                    Fate::Unknown
                } else {
                    Fate::BadFcs
                },
                kind: Kind::Heard,
                end_s: None,
            });
        }
    }
    out
}

fn end_event(s: &SideTrace, from_caller: bool) -> Option<Event> {
    let t = s.end_s?;
    let mut label = format!(
        "{} ends: {}",
        if from_caller { "caller" } else { "answerer" },
        s.status
    );
    if !s.error.is_empty() {
        let _ = write!(label, " \u{201c}{}\u{201d}", s.error);
    }
    Some(Event {
        time_s: t,
        from_caller,
        label,
        detail: String::new(),
        fate: Fate::Unknown,
        kind: Kind::End,
        end_s: None,
    })
}

/// Escapes text for XML.
pub fn xml_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => o.push(' '),
            c => o.push(c),
        }
    }
    o
}

/// Width of the diagram, px.
const WIDTH: f64 = 640.0;
/// The caller's line.
const XC: f64 = 120.0;
/// The answerer's line.
const XA: f64 = 560.0;
/// Closest two rows may be: one line of 11 px text and a gap.
const ROW: f64 = 17.0;
/// Extra height per second between rows, and the most seconds that add height.
const PX_PER_S: f64 = 5.0;
const MAX_GAP_S: f64 = 8.0;
/// Longest label, characters (the space between the lines holds about 70).
const MAX_LABEL: usize = 64;

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut c: String = s.chars().take(max - 1).collect();
        c.push('\u{2026}');
        c
    }
}

impl Ladder {
    /// The rows of a call from the caller's and the answerer's traces (either may be
    /// missing: a side never called, or a record without a trace).
    pub fn build(caller: Option<&SideTrace>, answerer: Option<&SideTrace>) -> Ladder {
        let mut events = direction(caller, answerer, true);
        events.extend(direction(answerer, caller, false));
        events.extend(caller.and_then(|s| end_event(s, true)));
        events.extend(answerer.and_then(|s| end_event(s, false)));
        // Stable: a burst keeps its order.
        events.sort_by(|x, y| x.time_s.total_cmp(&y.time_s));
        Ladder { events }
    }

    /// The rows from two records as JSON.
    pub fn from_records(caller: Option<&Value>, answerer: Option<&Value>) -> Ladder {
        let c = caller.map(SideTrace::from_record);
        let a = answerer.map(SideTrace::from_record);
        Ladder::build(c.as_ref(), a.as_ref())
    }

    /// Whether there is nothing to draw.
    pub fn is_empty(&self) -> bool {
        self.events.iter().all(|e| e.kind == Kind::End)
    }

    /// The y of each row.
    fn rows(&self) -> Vec<f64> {
        let mut ys = Vec::with_capacity(self.events.len());
        let mut y = 40.0;
        let mut prev: Option<f64> = None;
        for e in &self.events {
            if let Some(p) = prev {
                y += ROW + (e.time_s - p).clamp(0.0, MAX_GAP_S) * PX_PER_S;
            }
            ys.push(y);
            prev = Some(e.time_s);
        }
        ys
    }

    /// The diagram as an `<svg>` element, the caller's line headed `caller`, the answerer's
    /// `answerer`. Styled by the classes of [`STYLE`].
    pub fn svg(&self, caller: &str, answerer: &str) -> String {
        let ys = self.rows();
        let height = ys.last().copied().unwrap_or(40.0) + 24.0;
        let y_at = |t: f64| -> f64 {
            // Linear between the rows around `t`.
            let mut last = (f64::NEG_INFINITY, 40.0);
            for (e, &y) in self.events.iter().zip(&ys) {
                if e.time_s >= t {
                    if e.time_s - last.0 <= 1e-9 || !last.0.is_finite() {
                        return y;
                    }
                    return last.1 + (y - last.1) * (t - last.0) / (e.time_s - last.0);
                }
                last = (e.time_s, y);
            }
            last.1
        };
        let mut s = String::new();
        let _ = write!(
            s,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"ladder\" width=\"{WIDTH}\" height=\"{height:.0}\" viewBox=\"0 0 {WIDTH} {height:.0}\">\
<text x=\"{XC}\" y=\"14\" class=\"hd\">{}</text><text x=\"{XA}\" y=\"14\" class=\"hd\">{}</text>\
<text x=\"4\" y=\"14\" class=\"tm0\">time (s)</text>\
<path class=\"ln\" d=\"M{XC} 22V{:.0}M{XA} 22V{:.0}\"/>",
            xml_escape(caller),
            xml_escape(answerer),
            height - 6.0,
            height - 6.0
        );
        // Bands first, so arrows and text sit on top.
        for (e, &y) in self.events.iter().zip(&ys) {
            if let (Kind::PageData | Kind::EcmBlock, Some(end)) = (e.kind, e.end_s) {
                let y1 = y_at(end).max(y + 4.0);
                let _ = write!(
                    s,
                    "<rect class=\"band\" x=\"{}\" y=\"{y:.1}\" width=\"{}\" height=\"{:.1}\"/>",
                    XC + 1.0,
                    XA - XC - 2.0,
                    y1 - y
                );
            }
        }
        let mut last_time: Option<String> = None;
        for (e, &y) in self.events.iter().zip(&ys) {
            let t = format!("{:.3}", e.time_s);
            if last_time.as_deref() != Some(t.as_str()) {
                let _ = write!(
                    s,
                    "<text x=\"62\" y=\"{:.1}\" class=\"tm\">{t}</text>",
                    y + 4.0
                );
                last_time = Some(t);
            }
            let (x0, x1) = if e.from_caller { (XC, XA) } else { (XA, XC) };
            let mid = (XC + XA) / 2.0;
            if e.kind == Kind::End {
                // Inwards from the side's own line.
                let (anchor, x) = if e.from_caller {
                    ("s", XC + 8.0)
                } else {
                    ("e", XA - 8.0)
                };
                let _ = write!(
                    s,
                    "<path class=\"end\" d=\"M{} {y:.1}h12\"/><text x=\"{x}\" y=\"{:.1}\" class=\"en {anchor}\">{}</text>",
                    x0 - 6.0,
                    y + 4.0,
                    xml_escape(&clip(&e.label, MAX_LABEL + 10))
                );
                continue;
            }
            let class = match (e.kind, e.fate) {
                (Kind::Heard, _) => "hr",
                (_, Fate::Lost) => "lost",
                (_, Fate::BadFcs) => "bad",
                (Kind::Tcf | Kind::PageData | Kind::EcmBlock, _) => "data",
                (_, Fate::Unknown) => "unk",
                _ => "ok",
            };
            // A heard frame starts from the middle; a lost one stops short with a cross.
            let from = if e.kind == Kind::Heard { mid } else { x0 };
            let dir = if x1 > x0 { 1.0 } else { -1.0 };
            let to = if e.fate == Fate::Lost {
                x1 - dir * 60.0
            } else {
                x1
            };
            let _ = write!(s, "<g class=\"{class}\">");
            if !e.detail.is_empty() {
                let _ = write!(s, "<title>{}</title>", xml_escape(&e.detail));
            }
            let _ = write!(
                s,
                "<path d=\"M{from:.0} {y:.1}H{to:.0}\"/><path class=\"ah\" d=\"M{to:.0} {y:.1}l{:.0}-4v8z\"/>",
                -dir * 9.0
            );
            if e.fate == Fate::Lost {
                let _ = write!(
                    s,
                    "<path d=\"M{:.0} {:.1}l8 8m0-8l-8 8\"/>",
                    to + dir * 6.0 - 4.0,
                    y - 4.0
                );
            }
            let label = match e.fate {
                Fate::Lost => format!("{} (lost)", e.label),
                Fate::BadFcs if e.kind == Kind::Frame => format!("{} (bad FCS)", e.label),
                _ => e.label.clone(),
            };
            let _ = write!(
                s,
                "<text x=\"{mid}\" y=\"{:.1}\">{}</text></g>",
                y - 3.0,
                xml_escape(&clip(&label, MAX_LABEL))
            );
        }
        s.push_str("</svg>");
        s
    }
}

/// The CSS the diagram's classes need (put once in the page's `<style>`).
pub const STYLE: &str = "svg.ladder{max-width:100%;height:auto;font:11px sans-serif;background:#fff}\
svg.ladder text{text-anchor:middle;fill:#111}svg.ladder .hd{font-weight:bold}\
svg.ladder .tm{text-anchor:end;fill:#666;font-family:monospace}svg.ladder .tm0{text-anchor:start;fill:#666}\
svg.ladder .ln{stroke:#444;stroke-width:2}svg.ladder path{fill:none;stroke:#222}\
svg.ladder .data path{stroke:#1c5fb0;stroke-width:2}svg.ladder .data text{fill:#1c5fb0}\
svg.ladder .bad path{stroke:#c33}svg.ladder .bad text{fill:#c33}\
svg.ladder .lost path{stroke:#c33;stroke-dasharray:4 3}svg.ladder .lost text{fill:#c33}\
svg.ladder .hr path{stroke:#999;stroke-dasharray:2 2}svg.ladder .hr text{fill:#777;font-style:italic}\
svg.ladder .unk path{stroke:#666}svg.ladder .band{fill:#dbe8f7;stroke:none}\
svg.ladder .end{stroke:#000;stroke-width:3}svg.ladder .en{font-weight:bold}\
svg.ladder .en.s{text-anchor:start}svg.ladder .en.e{text-anchor:end}\
svg.ladder path.ah{fill:#222;stroke:none}svg.ladder .data path.ah{fill:#1c5fb0}svg.ladder .unk path.ah{fill:#666}\
svg.ladder .bad path.ah,svg.ladder .lost path.ah{fill:#c33}svg.ladder .hr path.ah{fill:#999}";

#[cfg(test)]
mod tests {
    use super::*;

    fn f(t: f64, tx: bool, name: &str, ok: bool) -> TracedFrame {
        TracedFrame {
            time_s: t,
            tx,
            name: name.into(),
            hex: String::new(),
            fcs_ok: ok,
        }
    }

    fn side(frames: Vec<TracedFrame>) -> SideTrace {
        SideTrace {
            frames,
            trainings: vec![TracedTraining {
                time_s: 5.0,
                modem: "V.29".into(),
                rate: 9600,
                ok: true,
            }],
            end_s: Some(20.0),
            status: "SUCCESS".into(),
            error: "OK".into(),
        }
    }

    #[test]
    fn fates_tcf_and_page_data() {
        let caller = side(vec![
            f(1.0, false, "DIS", true),
            f(2.0, true, "TSI", true),
            f(2.0, true, "DCS", true),
            f(5.0, false, "CFR", true),
            f(15.0, true, "EOP", true),
            f(16.0, false, "MCF", true),
            f(17.0, true, "DCN", true),
        ]);
        let answerer = side(vec![
            f(0.5, true, "DIS", true),
            f(2.9, false, "DCS", true),
            f(4.8, true, "CFR", true),
            f(16.0, false, "garbage", false),
        ]);
        let l = Ladder::build(Some(&caller), Some(&answerer));
        let get = |label: &str| {
            l.events
                .iter()
                .find(|e| e.label.starts_with(label))
                .unwrap()
        };
        assert_eq!(get("TSI").fate, Fate::Lost);
        assert_eq!(get("DCS").fate, Fate::Received);
        assert_eq!(get("EOP").fate, Fate::BadFcs);
        assert_eq!(get("DCN").fate, Fate::Lost);
        assert_eq!(get("TCF").label, "TCF \u{b7} V.29 9600");
        let page = get("page 1 data");
        assert_eq!(page.end_s, Some(15.0));
        assert!((page.time_s - 5.075).abs() < 1e-9);
        // Time order, and every row at least a line of text below the one before.
        assert!(l.events.windows(2).all(|w| w[0].time_s <= w[1].time_s));
        let ys = l.rows();
        assert!(ys.windows(2).all(|w| w[1] - w[0] >= ROW));
    }

    #[test]
    fn ecm_block_is_one_row_and_pps_is_named() {
        let mut tx = vec![f(10.0, true, "FCD", true); 30];
        tx.push(f(10.0, true, "RCP", true));
        let mut pps = f(30.0, true, "PPS", true);
        pps.hex = "ff 13 be 00 00 00 1d".into();
        tx.push(pps);
        let l = Ladder::build(Some(&side(tx)), None);
        let labels: Vec<&str> = l.events.iter().map(|e| e.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "ECM block: 30 FCD + 1 RCP \u{b7} V.29 9600",
                "caller ends: SUCCESS \u{201c}OK\u{201d}",
                "PPS-NULL page 1 block 0 (30 frames)"
            ]
        );
    }

    #[test]
    fn dcs_rates_are_decoded() {
        // Second FIF octet: bit 11 is 0x04, bit 12 0x08, bit 14 0x20.
        assert_eq!(dcs_rate("ff 13 83 00 20").as_deref(), Some("V.17 14400"));
        assert_eq!(dcs_rate("ff 13 83 00 04").as_deref(), Some("V.29 9600"));
        assert_eq!(dcs_rate("ff 13 83 00 08").as_deref(), Some("V.27ter 4800"));
        assert_eq!(dcs_rate("ff 13 83").as_deref(), None);
        assert_eq!(
            frame_label("DCS", "ff 13 83 00 28"),
            "DCS \u{b7} V.17 12000"
        );
    }

    #[test]
    fn identities_are_decoded() {
        let hex = "ff 03 43 20 20 30 30 31 20";
        assert_eq!(frame_label("CSI", hex), "CSI \u{201c}100\u{201d}");
    }
}
