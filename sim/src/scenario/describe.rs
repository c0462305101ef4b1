//! A scenario in words for the report: what each direction of its channel does, and each
//! expectation of a side next to what its record says.

use channel_models::chain::{
    CancellerMode, ChainSpec, JitterSpec, Law, NetworkSpec, PlcSpec, StageSpec, T38Spec,
};
use reports::{ChannelWords, Expected};

use super::Scenario;
use super::expect::{Expectation, compress, token_text};
use crate::endpoint::Record;

fn law(l: Law) -> &'static str {
    match l {
        Law::Alaw => "A-law",
        Law::Ulaw => "\u{b5}-law",
    }
}

/// A number without trailing zeros ("0.5", "30").
fn n(x: f64) -> String {
    let s = format!("{x:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn network(net: &NetworkSpec) -> String {
    match *net {
        NetworkSpec::Preset { g1050 } => format!("G.1050 network, impairment level {g1050}"),
        NetworkSpec::Custom {
            delay_ms,
            jitter_ms,
            loss,
            burst,
            reorder,
            duplicate,
        } => {
            let mut parts = vec![format!("network delay {} ms", n(delay_ms))];
            if jitter_ms > 0.0 {
                parts.push(format!("jitter {} ms", n(jitter_ms)));
            }
            if loss > 0.0 {
                parts.push(if burst > 1.0 {
                    format!("loss {} % in bursts of {}", n(loss * 100.0), n(burst))
                } else {
                    format!("loss {} %", n(loss * 100.0))
                });
            }
            if reorder > 0.0 {
                parts.push(format!("reordering {} %", n(reorder * 100.0)));
            }
            if duplicate > 0.0 {
                parts.push(format!("duplication {} %", n(duplicate * 100.0)));
            }
            parts.join(", ")
        }
    }
}

/// One stage in words.
pub fn stage_words(s: &StageSpec) -> String {
    match s {
        StageSpec::Gain { db } if *db < 0.0 => format!("loss {} dB", n(-db)),
        StageSpec::Gain { db } => format!("gain {} dB", n(*db)),
        StageSpec::Noise { dbm0 } => format!("white noise {} dBm0", n(*dbm0)),
        StageSpec::FrequencyShift { hz } => format!("frequency offset {} Hz", n(*hz)),
        StageSpec::ClockDrift { ppm } => format!("sample clock drift {} ppm", n(*ppm)),
        StageSpec::ClockSlip { every, insert } => format!(
            "a sample {} every {every} samples",
            if *insert { "repeated" } else { "dropped" }
        ),
        StageSpec::LineFilter { preset } => format!("line filter {preset}"),
        StageSpec::Hum {
            hz,
            dbm0,
            harmonics,
        } => {
            let mut s = format!("{} Hz hum at {} dBm0", n(*hz), n(*dbm0));
            if *harmonics > 0 {
                s.push_str(&format!(" with {harmonics} harmonics"));
            }
            s
        }
        StageSpec::Dc { offset } => format!("DC offset {}", n(*offset)),
        StageSpec::PhaseJitter { degrees_pp, hz } => {
            format!("phase jitter {}\u{b0} p-p at {} Hz", n(*degrees_pp), n(*hz))
        }
        StageSpec::Delay { ms } => format!("delay {} ms", n(*ms)),
        StageSpec::Echo { delay_ms, erl_db } => {
            format!("echo after {} ms, ERL {} dB", n(*delay_ms), n(*erl_db))
        }
        StageSpec::G711 { law: l } => format!("G.711 {}", law(*l)),
        StageSpec::UlawRobbedBit => "G.711 \u{b5}-law with robbed-bit signalling".into(),
        StageSpec::G726 { kbps } => format!("G.726 ADPCM {kbps} kbit/s"),
        StageSpec::G729 => "G.729A".into(),
        StageSpec::Vad {
            threshold_dbm0,
            hangover_ms,
        } => format!(
            "VAD with comfort noise (threshold {} dBm0, hangover {hangover_ms} ms)",
            n(*threshold_dbm0)
        ),
        StageSpec::Voip {
            law: l,
            ptime_ms,
            network: net,
            jitter_buffer,
            plc,
        } => format!(
            "RTP G.711 {} {ptime_ms} ms packets over a {} to a {} jitter buffer, {} concealment",
            law(*l),
            network(net),
            match jitter_buffer {
                JitterSpec::Fixed { delay_ms } => format!("fixed {} ms", n(*delay_ms)),
                JitterSpec::Adaptive { min_ms, max_ms } =>
                    format!("adaptive {}\u{2013}{} ms", n(*min_ms), n(*max_ms)),
                JitterSpec::Tracking { min_ms, max_ms } => format!(
                    "tracking (jitter-estimating) {}\u{2013}{} ms",
                    n(*min_ms),
                    n(*max_ms)
                ),
            },
            match plc {
                PlcSpec::Silence => "silence",
                PlcSpec::Repeat => "repeat-last-frame",
                PlcSpec::WaveformSubstitution => "waveform substitution",
            }
        ),
    }
}

fn t38_words(t: &T38Spec) -> String {
    let protection = if t.fec_entries > 0 {
        format!(
            "FEC {} entries over {} packets",
            t.fec_entries,
            t.fec_span.max(1)
        )
    } else {
        format!("redundancy {}", t.redundancy)
    };
    let mut s = format!(
        "T.38 version {} over UDPTL, {protection}, {}",
        t.version,
        network(&t.network)
    );
    if t.playout_ms > 0 {
        s.push_str(&format!(", playout wait {} ms", t.playout_ms));
    }
    s
}

/// One direction of a channel, stage by stage (empty: nothing in the way).
pub fn chain_words(c: &ChainSpec) -> Vec<String> {
    let mut out: Vec<String> = c.stages.iter().map(stage_words).collect();
    if let Some(t) = &c.t38 {
        out.push(t38_words(t));
    }
    if let Some(e) = &c.far_end_echo {
        out.push(format!(
            "hybrid echo back to the sender (ERL {} dB, {} ms, {})",
            n(e.erl_db),
            n(e.delay_ms),
            match e.canceller {
                CancellerMode::None => "no echo canceller".to_string(),
                CancellerMode::On => format!(
                    "G.168 echo canceller, {} ms tail, disabled by 2100 Hz with phase reversals",
                    n(e.tail_ms)
                ),
                CancellerMode::AlwaysOn => format!(
                    "echo canceller that never disables, {} ms tail",
                    n(e.tail_ms)
                ),
            }
        ));
    }
    if !c.name.is_empty() && !out.is_empty() {
        out[0] = format!("[{}] {}", c.name, out[0]);
    }
    out
}

/// The scenario's channel in words.
pub fn channel_words(s: &Scenario) -> ChannelWords {
    ChannelWords {
        transport: s.transport.name().into(),
        caller_to_answerer: chain_words(&s.caller_to_answerer),
        answerer_to_caller: chain_words(&s.answerer_to_caller),
    }
}

/// Every expectation of `e` with what `r` says; whether each held is read from `failures`
/// (the lines [`Expectation::check`] wrote), so the table and the verdict never disagree.
pub fn expected_rows(
    e: &Expectation,
    r: &Record,
    identical: Option<bool>,
    failures: &[String],
) -> Vec<Expected> {
    let mut rows = Vec::new();
    let mut add = |key: &str, expected: String, actual: String| {
        let prefix = format!("{key}:");
        rows.push(Expected {
            key: key.into(),
            passed: !failures.iter().any(|f| f.starts_with(&prefix)),
            expected,
            actual,
        });
    };
    let q = |s: &str| format!("\u{201c}{s}\u{201d}");
    let window = |(a, b): (u32, u32)| format!("{a}..{b}");
    if let Some(w) = &e.status {
        add("status", w.clone(), r.status.clone());
    }
    if let Some(w) = &e.error {
        add("error", q(w), q(&r.error));
    }
    if let Some(w) = &e.completion {
        let got = t30::completion::Completion::from_code(r.code as u8)
            .filter(|_| r.code <= u8::MAX as u32)
            .map_or(format!("code {}", r.code), |c| c.name().to_string());
        add("completion", w.clone(), got);
    }
    if let Some(w) = e.code {
        add("code", w.to_string(), r.code.to_string());
    }
    if let Some(w) = e.pages {
        add("pages", w.to_string(), r.pages.to_string());
    }
    if let Some(w) = e.rate {
        add("rate", w.to_string(), r.rate.to_string());
    }
    for (key, want, got) in [
        ("modem", &e.modem, &r.modem),
        ("ecm", &e.ecm, &r.ecm),
        ("coding", &e.coding, &r.coding),
        ("resolution", &e.resolution, &r.resolution),
        ("remote_ident", &e.remote_ident, &r.remotestationid),
    ] {
        if let Some(w) = want {
            add(key, q(w), q(got));
        }
    }
    if let Some(w) = e.bad_rows {
        add("bad_rows", window(w), r.bad_rows.to_string());
    }
    if let Some(w) = e.ecm_retries {
        add("ecm_retries", window(w), r.ecm_retries.to_string());
    }
    if let Some(w) = e.trainings {
        add("trainings", window(w), r.trainings.len().to_string());
    }
    if let Some((a, b)) = e.duration_s {
        add(
            "duration_s",
            format!("{}..{} s", n(a), n(b)),
            format!("{:.2} s", r.duration_s),
        );
    }
    if let Some(w) = e.limit_reached {
        add("limit_reached", w.to_string(), r.limit_reached.to_string());
    }
    if let Some(w) = e.pages_identical {
        add(
            "pages_identical",
            w.to_string(),
            identical.unwrap_or(false).to_string(),
        );
    }
    for (key, pat, dir) in [
        ("frames_tx", &e.frames_tx, "tx"),
        ("frames_rx", &e.frames_rx, "rx"),
    ] {
        if let Some(p) = pat {
            let names: Vec<&str> = r
                .frames
                .iter()
                .filter(|f| f.dir == dir && f.fcs_ok)
                .map(|f| f.name.as_str())
                .collect();
            add(
                key,
                format!(
                    "[{}]",
                    p.iter().map(token_text).collect::<Vec<_>>().join(" ")
                ),
                format!("[{}]", compress(&names)),
            );
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_in_words() {
        let c = ChainSpec::preset("g711-alaw").expect("preset");
        let w = chain_words(&c);
        assert!(w.iter().any(|s| s.contains("G.711 A-law")), "{w:?}");
        assert!(chain_words(&ChainSpec::default()).is_empty());
        assert_eq!(
            stage_words(&StageSpec::Gain { db: -6.0 }),
            "loss 6 dB".to_string()
        );
    }
}
