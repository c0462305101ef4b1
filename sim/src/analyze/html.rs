//! `--html FILE`: the report as one self-contained page: the ladder diagram as SVG, a
//! spectrogram strip per audio track (an embedded grayscale PNG), pages, trainings and the
//! diagnosis. Nothing is loaded from elsewhere.

use std::fmt::Write;

use reports::html::{base64, escape as esc};

use super::Side;
use super::ladder::Report;

/// Frequencies of the spectrogram rows, Hz (every 62.5 Hz from 125 to 3875 Hz).
const BINS: usize = 61;
/// Samples per spectrogram column (25 ms).
const HOP: usize = 200;

/// A spectrogram: one column of `BINS` levels (0 = quiet, 255 = loud) per 25 ms.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Spectrogram {
    /// The track it belongs to.
    pub track: String,
    /// Columns in time order, each lowest frequency first.
    pub columns: Vec<[u8; BINS]>,
}

/// The spectrogram of a track at 8000 Hz: Goertzel filters on Hann-windowed 25 ms frames,
/// levels from -70 to 0 dBm0 mapped to 0–255.
pub fn spectrogram(track: &str, samples: &[i16]) -> Spectrogram {
    let window: Vec<f32> = (0..HOP)
        .map(|n| 0.5 - 0.5 * (std::f32::consts::TAU * n as f32 / HOP as f32).cos())
        .collect();
    let coeffs: Vec<f32> = (0..BINS)
        .map(|k| {
            let f = 125.0 + 62.5 * k as f32;
            2.0 * (std::f32::consts::TAU * f / 8000.0).cos()
        })
        .collect();
    // A full-scale 0 dBm0 sine through the window gives this squared magnitude.
    let reference = {
        let a = modem::level::DBM0_PEAK * 0.5 * HOP as f32 * 0.5;
        a * a
    };
    let columns = samples
        .chunks_exact(HOP)
        .map(|frame| {
            let mut col = [0u8; BINS];
            for (c, &coeff) in col.iter_mut().zip(&coeffs) {
                let (mut s1, mut s2) = (0f32, 0f32);
                for (x, w) in frame.iter().zip(&window) {
                    let s = f32::from(*x) * w + coeff * s1 - s2;
                    s2 = s1;
                    s1 = s;
                }
                let power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
                let db = 10.0 * (power.max(1e-3) / reference).log10();
                *c = ((db + 70.0) / 70.0 * 255.0).clamp(0.0, 255.0) as u8;
            }
            col
        })
        .collect();
    Spectrogram {
        track: track.to_string(),
        columns,
    }
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &x in data {
        a = (a + u32::from(x)) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

/// A grayscale PNG (8 bits per pixel), zlib with stored blocks: no compressor needed.
pub fn png_gray(width: u32, height: u32, pixels: &[u8]) -> Vec<u8> {
    let mut raw = Vec::with_capacity((width as usize + 1) * height as usize);
    for row in pixels.chunks(width as usize).take(height as usize) {
        raw.push(0); // filter: none
        raw.extend_from_slice(row);
    }
    let mut z = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(65535).collect();
    for (i, b) in blocks.iter().enumerate() {
        z.push(u8::from(i + 1 == blocks.len()));
        let len = b.len() as u16;
        z.extend_from_slice(&len.to_le_bytes());
        z.extend_from_slice(&(!len).to_le_bytes());
        z.extend_from_slice(b);
    }
    if blocks.is_empty() {
        z.extend_from_slice(&[1, 0, 0, 0xFF, 0xFF]);
    }
    z.extend_from_slice(&adler32(&raw).to_be_bytes());
    let mut out = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    let mut chunk = |kind: &[u8; 4], data: &[u8]| {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut c = kind.to_vec();
        c.extend_from_slice(data);
        out.extend_from_slice(&c);
        out.extend_from_slice(&crc32(&c).to_be_bytes());
    };
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    chunk(b"IHDR", &ihdr);
    chunk(b"IDAT", &z);
    chunk(b"IEND", &[]);
    out
}

/// The page.
pub fn render(r: &Report, spectrograms: &[Spectrogram]) -> String {
    let mut h = String::new();
    let title = format!("faxsim analyze: {}", r.input.file);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{}</title>\n<style>\
         body{{font-family:sans-serif;margin:1.5em;color:#222}} table{{border-collapse:collapse}}\
         td,th{{border:1px solid #ccc;padding:2px 6px;font-size:13px}} .ok{{color:#070}}\
         .bad{{color:#b00}} .spec{{image-rendering:pixelated;width:100%;height:120px}}\
         </style></head><body>\n<h1>{}</h1>\n<p>{}, {:.2} s</p>\n",
        esc(&title),
        esc(&title),
        esc(&r.input.format),
        r.input.duration_s
    );
    let d = &r.diagnosis;
    let _ = write!(h, "<h2>Diagnosis</h2>\n<table>");
    for (who, c) in [("caller", &d.caller), ("answerer", &d.answerer)] {
        if let Some(c) = c {
            let class = if c == "OK" { "ok" } else { "bad" };
            let _ = write!(
                h,
                "<tr><th>{who} reports</th><td class=\"{class}\">{}</td></tr>",
                esc(c)
            );
        }
    }
    let _ = write!(h, "<tr><th>cause</th><td>{}</td></tr>", esc(&d.cause));
    for e in &d.evidence {
        let _ = write!(h, "<tr><th>evidence</th><td>{}</td></tr>", esc(e));
    }
    let _ = writeln!(h, "</table>");
    for n in &r.input.notes {
        let _ = writeln!(h, "<p>{}</p>", esc(n));
    }
    if let Some(sig) = &r.signal {
        let _ = writeln!(h, "<h2>Signal health</h2>");
        let f = sig.findings();
        if f.is_empty() {
            let _ = writeln!(h, "<p>No echo, drift, lossy codec or VAD gap found.</p>");
        } else {
            let _ = writeln!(h, "<ul>");
            for l in f {
                let _ = writeln!(h, "<li>{}</li>", esc(&l));
            }
            let _ = writeln!(h, "</ul>");
        }
    }
    if let Some(rp) = &r.replay {
        let _ = writeln!(
            h,
            "<h2>Replay: our engine as the {}</h2>\n<pre>{}</pre>",
            rp.replaced.name(),
            esc(&super::render::replay_text(rp))
        );
    }
    for s in spectrograms {
        if s.columns.is_empty() {
            continue;
        }
        let w = s.columns.len() as u32;
        let mut px = vec![0u8; s.columns.len() * BINS];
        for (x, col) in s.columns.iter().enumerate() {
            for (k, v) in col.iter().enumerate() {
                // Highest frequency on top, dark = loud.
                px[(BINS - 1 - k) * s.columns.len() + x] = 255 - v;
            }
        }
        let png = png_gray(w, BINS as u32, &px);
        let _ = writeln!(
            h,
            "<h3>Spectrogram: {} (125–3875 Hz, {:.1} s)</h3>\n<img class=\"spec\" alt=\"spectrogram\" src=\"data:image/png;base64,{}\">",
            esc(&s.track),
            s.columns.len() as f64 * HOP as f64 / 8000.0,
            base64(&png)
        );
    }
    let snaps: Vec<&super::ladder::TrainingInfo> = r
        .trainings
        .iter()
        .filter(|t| !t.constellation.is_empty())
        .collect();
    if !snaps.is_empty() {
        let _ = writeln!(
            h,
            "<h2>Constellations</h2>\n<p>Equalised symbols after each fast-modem training \
             (one per 5 ms of the burst, up to 500).</p>\n<div>"
        );
        for t in snaps {
            h += &constellation_svg(t);
        }
        let _ = writeln!(h, "</div>");
    }
    h += &ladder_svg(r);
    if !r.pages.is_empty() {
        let _ = write!(
            h,
            "<h2>Pages</h2>\n<table><tr><th>page</th><th>time</th><th>from</th><th>coding</th>\
             <th>rows</th><th>bad rows</th><th>complete</th><th>answer</th></tr>"
        );
        for p in &r.pages {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{:.2}</td><td>{}</td><td>{}{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                p.number,
                p.time_s,
                p.side.name(),
                if p.ecm { "ECM " } else { "" },
                esc(&p.coding),
                p.rows,
                p.bad_rows,
                if p.complete { "yes" } else { "no" },
                esc(p.response.as_deref().unwrap_or("-"))
            );
        }
        let _ = writeln!(h, "</table>");
    }
    if !r.trainings.is_empty() {
        let _ = write!(
            h,
            "<h2>Trainings</h2>\n<table><tr><th>time</th><th>from</th><th>modem</th><th>rate</th>\
             <th>result</th><th>SNR dB</th><th>level dBm0</th></tr>"
        );
        for t in &r.trainings {
            let _ = write!(
                h,
                "<tr><td>{:.2}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td><td>{}</td><td>{}</td></tr>",
                t.time_s,
                t.side.name(),
                esc(&t.modem),
                t.rate,
                if t.ok { "ok" } else { "bad" },
                if t.ok { "trained" } else { "not recognised" },
                t.snr_db.map(|x| format!("{x:.1}")).unwrap_or_default(),
                t.level_dbm0.map(|x| format!("{x:.1}")).unwrap_or_default()
            );
        }
        let _ = writeln!(h, "</table>");
    }
    h += "</body></html>\n";
    h
}

/// A scatter plot of one burst's equalised symbols, scaled to its largest point.
pub fn constellation_svg(t: &super::ladder::TrainingInfo) -> String {
    const SIZE: f32 = 220.0;
    let half = SIZE / 2.0;
    let max = t
        .constellation
        .iter()
        .map(|&(i, q)| i.abs().max(q.abs()))
        .filter(|v| v.is_finite())
        .fold(0.0f32, f32::max)
        .max(1e-6)
        * 1.1;
    let mut s = format!(
        "<figure style=\"display:inline-block;margin:4px\"><svg xmlns=\"http://www.w3.org/2000/svg\" \
         width=\"{SIZE}\" height=\"{SIZE}\" class=\"constellation\">\
         <rect width=\"{SIZE}\" height=\"{SIZE}\" fill=\"#fff\" stroke=\"#888\"/>\
         <line x1=\"0\" y1=\"{half}\" x2=\"{SIZE}\" y2=\"{half}\" stroke=\"#ccc\"/>\
         <line x1=\"{half}\" y1=\"0\" x2=\"{half}\" y2=\"{SIZE}\" stroke=\"#ccc\"/>"
    );
    for &(i, q) in &t.constellation {
        if !(i.is_finite() && q.is_finite()) {
            continue;
        }
        let x = half + i / max * half;
        let y = half - q / max * half;
        let _ = write!(
            s,
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"1.3\" fill=\"#036\"/>"
        );
    }
    let _ = writeln!(
        s,
        "</svg><figcaption>{:.2} s, {}: {} {} bit/s{}, {} symbols{}</figcaption></figure>",
        t.time_s,
        t.side.name(),
        esc(&t.modem),
        t.rate,
        if t.short { " (short)" } else { "" },
        t.constellation.len(),
        t.snr_db
            .map(|x| format!(", SNR {x:.1} dB"))
            .unwrap_or_default()
    );
    s
}

/// The ladder: caller on the left, answerer on the right, one arrow per event.
fn ladder_svg(r: &Report) -> String {
    let row = 22.0;
    let (left, right, width) = (170.0, 830.0, 1000.0);
    let height = 60.0 + row * r.events.len() as f64;
    let mut s = format!(
        "<h2>Ladder</h2>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-size=\"12\">\n\
         <defs><marker id=\"a\" markerWidth=\"8\" markerHeight=\"8\" refX=\"8\" refY=\"4\" orient=\"auto\"><path d=\"M0,0 L8,4 L0,8 z\"/></marker></defs>\n\
         <text x=\"{left}\" y=\"16\" text-anchor=\"middle\" font-weight=\"bold\">caller</text>\
         <text x=\"{right}\" y=\"16\" text-anchor=\"middle\" font-weight=\"bold\">answerer</text>\n\
         <line x1=\"{left}\" y1=\"24\" x2=\"{left}\" y2=\"{height}\" stroke=\"#888\"/>\
         <line x1=\"{right}\" y1=\"24\" x2=\"{right}\" y2=\"{height}\" stroke=\"#888\"/>\n"
    );
    for (i, e) in r.events.iter().enumerate() {
        let y = 44.0 + row * i as f64;
        let colour = match e.event.as_str() {
            "training" | "TCF" | "page" | "ECM data" => "#06c",
            "CNG" | "CED" | "V.21 preamble" => "#777",
            "gap" | "signal" => "#b60",
            _ if e.detail.starts_with("BAD FCS") => "#b00",
            _ => "#000",
        };
        let (x1, x2) = match e.side {
            Side::Caller => (left, right),
            Side::Answerer => (right, left),
            Side::Unknown => ((left + right) / 2.0 - 20.0, (left + right) / 2.0 + 20.0),
        };
        let _ = writeln!(
            s,
            "<text x=\"8\" y=\"{y}\">{:.3} s</text>\
             <line x1=\"{x1}\" y1=\"{y}\" x2=\"{x2}\" y2=\"{y}\" stroke=\"{colour}\" marker-end=\"url(#a)\"/>\
             <text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{colour}\">{}</text>",
            e.time_s,
            (left + right) / 2.0,
            y - 4.0,
            esc(&format!("{} {}", e.event, e.detail)
                .chars()
                .take(110)
                .collect::<String>())
        );
    }
    s += "</svg>\n";
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_and_base64() {
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
        assert_eq!(base64(b"Man"), "TWFu");
        assert_eq!(base64(b"Ma"), "TWE=");
        assert_eq!(base64(b"M"), "TQ==");
    }

    #[test]
    fn png_structure() {
        let png = png_gray(3, 2, &[0, 128, 255, 255, 128, 0]);
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&png[12..16], b"IHDR");
        assert!(png.ends_with(&[0xAE, 0x42, 0x60, 0x82]));
    }

    #[test]
    fn a_tone_lights_its_row() {
        let samples: Vec<i16> = (0..8000)
            .map(|n| (10000.0 * (std::f32::consts::TAU * 1100.0 * n as f32 / 8000.0).sin()) as i16)
            .collect();
        let s = spectrogram("t", &samples);
        let col = s.columns[10];
        let loudest = (0..BINS).max_by_key(|&k| col[k]).unwrap();
        assert_eq!(125.0 + 62.5 * loudest as f32, 1125.0);
    }
}
