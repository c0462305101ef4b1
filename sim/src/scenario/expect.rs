//! What a side must report, and the check of a record against it.
//!
//! Frame patterns: a list of frame names matched against the whole sequence of frames a
//! side sent (`frames_tx`) or received (`frames_rx`), in order. A name may end in `?`
//! (optional), `*` (any number) or `+` (one or more); `...` stands for any run of frames.
//! `["DIS", "...", "MCF", "DCN"]` reads "starts with DIS, ends with MCF then DCN".

use super::spec::{ExpectSpec, PatternToken};
use crate::endpoint::Record;

/// The expectation of one side (every field optional).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Expectation {
    /// SUCCESS or FAILED.
    pub status: Option<String>,
    /// Exact error string.
    pub error: Option<String>,
    /// Completion code.
    pub code: Option<u32>,
    /// Completion name (checked through its code).
    pub completion: Option<String>,
    /// Pages.
    pub pages: Option<u32>,
    /// Last bit rate.
    pub rate: Option<u32>,
    /// Last modem.
    pub modem: Option<String>,
    /// "yes"/"no".
    pub ecm: Option<String>,
    /// Coding name.
    pub coding: Option<String>,
    /// FAXOPT(resolution).
    pub resolution: Option<String>,
    /// Remote identity.
    pub remote_ident: Option<String>,
    /// Pattern over sent frames.
    pub frames_tx: Option<Vec<PatternToken>>,
    /// Pattern over received frames.
    pub frames_rx: Option<Vec<PatternToken>>,
    /// Finish time window.
    pub duration_s: Option<(f64, f64)>,
    /// Bad rows window.
    pub bad_rows: Option<(u32, u32)>,
    /// ECM retries window.
    pub ecm_retries: Option<(u32, u32)>,
    /// Training attempts window.
    pub trainings: Option<(u32, u32)>,
    /// Time limit reached.
    pub limit_reached: Option<bool>,
    /// Received pages equal the far end's pages, pixel for pixel.
    pub pages_identical: Option<bool>,
}

impl Expectation {
    /// From the parsed table.
    pub fn from_spec(s: ExpectSpec) -> Expectation {
        Expectation {
            status: s.status.map(|v| v.text().to_string()),
            error: s.error.map(|v| v.0),
            code: s.code.map(|v| v.0),
            completion: s.completion.map(|v| v.0.name().to_string()),
            pages: s.pages,
            rate: s.rate,
            modem: s.modem.map(|m| m.0),
            ecm: s.ecm.map(|e| match e {
                super::spec::YesNo::Yes => "yes".to_string(),
                super::spec::YesNo::No => "no".to_string(),
            }),
            coding: s.coding,
            resolution: s.resolution,
            remote_ident: s.remote_ident,
            frames_tx: s.frames_tx,
            frames_rx: s.frames_rx,
            duration_s: s.duration_s.map(|w| (w.0, w.1)),
            bad_rows: s.bad_rows.map(|w| (w[0], w[1])),
            ecm_retries: s.ecm_retries.map(|w| (w[0], w[1])),
            trainings: s.trainings.map(|w| (w[0], w[1])),
            limit_reached: s.limit_reached,
            pages_identical: s.pages_identical,
        }
    }

    /// Whether nothing is expected.
    pub fn is_empty(&self) -> bool {
        *self == Expectation::default()
    }

    /// Every way `r` differs from the expectation, as "key: expected X, got Y";
    /// `identical` says whether the pages received equal the far end's (None: not known).
    pub fn check(&self, r: &Record, identical: Option<bool>) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(want) = self.pages_identical {
            let got = identical.unwrap_or(false);
            if want != got {
                out.push(format!(
                    "pages_identical: expected {want}, got {got} (the pages received {} the pages sent)",
                    if got { "equal" } else { "differ from" }
                ));
            }
        }
        let mut eq = |key: &str, want: &Option<String>, got: &str| {
            if let Some(w) = want
                && w != got
            {
                out.push(format!("{key}: expected \"{w}\", got \"{got}\""));
            }
        };
        eq("status", &self.status, &r.status);
        eq("error", &self.error, &r.error);
        eq("modem", &self.modem, &r.modem);
        eq("ecm", &self.ecm, &r.ecm);
        eq("coding", &self.coding, &r.coding);
        eq("resolution", &self.resolution, &r.resolution);
        eq("remote_ident", &self.remote_ident, &r.remotestationid);
        if let Some(name) = &self.completion {
            let got = t30::completion::Completion::from_code(r.code as u8)
                .filter(|_| r.code <= u8::MAX as u32)
                .map_or(format!("code {}", r.code), |c| c.name().to_string());
            eq("completion", &Some(name.clone()), &got);
        }
        let mut num = |key: &str, want: Option<u32>, got: u32| {
            if let Some(w) = want
                && w != got
            {
                out.push(format!("{key}: expected {w}, got {got}"));
            }
        };
        num("code", self.code, r.code);
        num("pages", self.pages, r.pages);
        num("rate", self.rate, r.rate);
        let mut window = |key: &str, want: Option<(u32, u32)>, got: u32| {
            if let Some((a, b)) = want
                && !(a..=b).contains(&got)
            {
                out.push(format!("{key}: expected {a}..{b}, got {got}"));
            }
        };
        window("bad_rows", self.bad_rows, r.bad_rows);
        window("ecm_retries", self.ecm_retries, r.ecm_retries);
        window("trainings", self.trainings, r.trainings.len() as u32);
        if let Some((a, b)) = self.duration_s
            && !(a..=b).contains(&r.duration_s)
        {
            out.push(format!(
                "duration_s: expected {a}..{b} s, got {:.2} s",
                r.duration_s
            ));
        }
        if let Some(l) = self.limit_reached
            && l != r.limit_reached
        {
            out.push(format!(
                "limit_reached: expected {l}, got {}",
                r.limit_reached
            ));
        }
        for (key, pat, dir) in [
            ("frames_tx", &self.frames_tx, "tx"),
            ("frames_rx", &self.frames_rx, "rx"),
        ] {
            if let Some(p) = pat {
                let names: Vec<&str> = r
                    .frames
                    .iter()
                    .filter(|f| f.dir == dir && f.fcs_ok)
                    .map(|f| f.name.as_str())
                    .collect();
                if !matches_pattern(p, &names) {
                    out.push(format!(
                        "{key}: expected [{}], got [{}]",
                        p.iter().map(token_text).collect::<Vec<_>>().join(" "),
                        compress(&names)
                    ));
                }
            }
        }
        out
    }
}

/// Names with runs shown once and counted ("FCD×80"), so a trace stays readable.
pub fn compress(names: &[&str]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < names.len() {
        let n = names[i..].iter().take_while(|x| **x == names[i]).count();
        out.push(if n > 1 {
            format!("{}×{n}", names[i])
        } else {
            names[i].to_string()
        });
        i += n;
    }
    out.join(" ")
}

/// A pattern token as written (`DCS+`, `CSI?`, `...`).
pub fn token_text(t: &PatternToken) -> String {
    if t.name.is_empty() {
        return "...".into();
    }
    let suffix = match (t.min, t.max) {
        (1, 1) => "",
        (0, 1) => "?",
        (0, _) => "*",
        _ => "+",
    };
    format!("{}{suffix}", t.name)
}

/// Whether the whole of `names` matches `pattern`.
pub fn matches_pattern(pattern: &[PatternToken], names: &[&str]) -> bool {
    let Some((t, rest)) = pattern.split_first() else {
        return names.is_empty();
    };
    // Take `k` frames for this token, fewest first, then match the rest.
    let mut k = 0usize;
    loop {
        if k as u64 >= t.min as u64 && matches_pattern(rest, &names[k..]) {
            return true;
        }
        if k as u64 >= t.max as u64 || k >= names.len() {
            return false;
        }
        if !t.name.is_empty() && names[k] != t.name {
            return false;
        }
        k += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pat(s: &[&str]) -> Vec<PatternToken> {
        s.iter()
            .map(|t| PatternToken::try_from(t.to_string()).unwrap())
            .collect()
    }

    #[test]
    fn patterns() {
        let seq = ["DIS", "DCS", "DCS", "MCF", "DCN"];
        assert!(matches_pattern(&pat(&["DIS", "DCS+", "MCF", "DCN"]), &seq));
        assert!(matches_pattern(&pat(&["DIS", "...", "DCN"]), &seq));
        assert!(matches_pattern(&pat(&["...", "MCF", "DCN"]), &seq));
        assert!(matches_pattern(
            &pat(&["DIS", "CSI?", "DCS*", "MCF", "DCN"]),
            &seq
        ));
        assert!(!matches_pattern(&pat(&["DIS", "DCS", "MCF", "DCN"]), &seq));
        assert!(!matches_pattern(&pat(&["DIS", "..."]), &[]));
        assert!(matches_pattern(&pat(&["..."]), &[]));
        assert!(!matches_pattern(&pat(&["...", "EOP"]), &seq));
    }

    #[test]
    fn unknown_frame_name_is_refused() {
        assert!(PatternToken::try_from("XYZ".to_string()).is_err());
        assert!(PatternToken::try_from("mcf+".to_string()).is_ok());
    }
}
