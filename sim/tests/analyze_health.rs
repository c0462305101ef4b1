//! Signal health in `faxsim analyze`: one recorded call (our engine on both sides, one
//! standard page), each impairment injected afterwards with the channel models' own
//! stages, and the reading checked against the injected value: echo delay ±2 ms and
//! return loss ±3 dB (stereo and mono tap), symbol-clock drift ±20 ppm at 100 ppm,
//! carrier offset ±2 Hz, G.729 seen as a lossy codec, VAD gaps found where the VAD cut.
//! A clean G.711 call reports none of them.

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use channel_models::AudioStage;
use channel_models::chain::{Chain, ChainSpec, Law, StageSpec};
use channel_models::echo::HybridEcho;
use serde_json::Value;
use sim::session::{SessionSetup, SideSetup, run_session};
use t30::engine::Role;
use t30::image::testpage::{TestPageKind, TestPageOptions, make_test_page};
use t30::image::{Bitmap, Resolution};

/// The recorded call: (caller's signal, answerer's signal) as sent.
fn recording() -> &'static (Vec<i16>, Vec<i16>) {
    static REC: OnceLock<(Vec<i16>, Vec<i16>)> = OnceLock::new();
    REC.get_or_init(|| {
        let d = tempfile::tempdir().unwrap();
        // A text-like page: a page burst of several seconds.
        let opts = TestPageOptions {
            resolution: Resolution::Standard,
            ..TestPageOptions::default()
        };
        let page = make_test_page(TestPageKind::Impress, 0, &opts)
            .unwrap()
            .bitmap;
        let mut caller = SideSetup::builtin(Role::Caller);
        caller.pages = vec![page].into();
        let answerer = SideSetup::builtin(Role::Answerer);
        let out = run_session(&SessionSetup::new(caller, answerer), d.path(), true).unwrap();
        assert_eq!(out.answerer.error, "OK");
        let mut r = hound::WavReader::open(d.path().join("call.wav")).unwrap();
        let s: Vec<i16> = r.samples::<i16>().map(|x| x.unwrap()).collect();
        (
            s.iter().step_by(2).copied().collect(),
            s.iter().skip(1).step_by(2).copied().collect(),
        )
    })
}

/// `x` through a chain of `stages`.
fn through(stages: Vec<StageSpec>, x: &[i16]) -> Vec<i16> {
    let spec = ChainSpec {
        stages,
        ..ChainSpec::default()
    };
    let mut chain = Chain::build(&spec, 7).unwrap();
    let mut out = Vec::with_capacity(x.len());
    for block in x.chunks(160) {
        chain.process(block, &mut out);
    }
    out
}

fn g711(x: &[i16]) -> Vec<i16> {
    through(vec![StageSpec::G711 { law: Law::Alaw }], x)
}

fn write_stereo(path: &Path, l: &[i16], r: &[i16]) {
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for (&a, &b) in l.iter().zip(r) {
        w.write_sample(a).unwrap();
        w.write_sample(b).unwrap();
    }
    w.finalize().unwrap();
}

/// `faxsim analyze --json` on a capture: the whole report.
fn analyze(path: &Path) -> Value {
    let o = Command::new(env!("CARGO_BIN_EXE_faxsim"))
        .args(["analyze", "--json", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn analyze_stereo(l: &[i16], r: &[i16]) -> Value {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("c.wav");
    write_stereo(&p, l, r);
    analyze(&p)
}

fn side<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["signal"]["sides"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["side"] == name)
        .unwrap()
}

/// The echo return loss the fax signal meets on the injected echo path, dB: the caller's
/// page data against its echo alone (`ERL` of the channel model is stated for a white
/// signal; the page's band meets the hybrid's response there).
fn in_band_erl(report: &Value, x: &[i16], echo_only: &[i16]) -> f64 {
    // The last second of the longest page-data burst (past its training).
    let end = report["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "ECM data" || e["event"] == "page")
        .max_by(|p, q| {
            let d = |e: &Value| e["end_s"].as_f64().unwrap() - e["time_s"].as_f64().unwrap();
            d(p).total_cmp(&d(q))
        })
        .unwrap()["end_s"]
        .as_f64()
        .unwrap();
    let b = ((end - 0.2) * 8000.0) as usize;
    let a = b - 8000;
    let e = |v: &[i16]| v[a..b].iter().map(|&s| f64::from(s).powi(2)).sum::<f64>();
    10.0 * (e(x) / e(echo_only)).log10()
}

fn within(v: &Value, want: f64, tol: f64, what: &str) {
    let got = v.as_f64().unwrap_or_else(|| panic!("{what}: no reading"));
    assert!(
        (got - want).abs() <= tol,
        "{what}: read {got:.2}, injected {want} (±{tol})"
    );
}

#[test]
fn a_clean_g711_call_reports_no_impairment() {
    let (l, r) = recording();
    let v = analyze_stereo(&g711(l), &g711(r));
    for s in ["caller", "answerer"] {
        let h = side(&v, s);
        assert!(h["echo"].is_null(), "{s}: {h:#}");
        assert_eq!(h["vad_gaps"].as_array().unwrap().len(), 0, "{s}: {h:#}");
        assert_eq!(h["codec"]["verdict"], "G.711 (or linear)", "{s}: {h:#}");
        if let Some(o) = h["tone_offset_hz"].as_f64() {
            assert!(o.abs() < 1.0, "{s}: {h:#}");
        }
    }
    within(&side(&v, "caller")["symbol_clock_ppm"], 0.0, 5.0, "clock");
    // The text report says so in one line.
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("c.wav");
    write_stereo(&p, &g711(l), &g711(r));
    let o = Command::new(env!("CARGO_BIN_EXE_faxsim"))
        .args(["analyze", p.to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("signal health: no echo, drift, lossy codec or VAD gap found"),
        "{text}"
    );
}

#[test]
fn echo_of_the_caller_on_the_answerers_channel() {
    let (l, r) = recording();
    // The far hybrid returns the caller's signal 40 ms later, 12 dB down, into the
    // answerer's direction.
    let mut echoed = Vec::new();
    HybridEcho::new(40.0, 12.0).process_pair(l, r, &mut echoed);
    let v = analyze_stereo(&g711(l), &g711(&echoed));
    let e = &side(&v, "caller")["echo"];
    within(&e["delay_ms"], 40.0, 2.0, "echo delay");
    let mut echo_only = Vec::new();
    HybridEcho::new(40.0, 12.0).process_pair(l, &vec![0; l.len()], &mut echo_only);
    let erl = in_band_erl(&v, l, &echo_only);
    println!("stereo echo: read {e}, in-band ERL {erl:.1} dB");
    within(&e["return_loss_db"], erl, 3.0, "echo return loss");
    within(
        &e["return_loss_db"],
        12.0,
        4.0,
        "echo return loss against the nominal",
    );
    assert!(side(&v, "answerer")["echo"].is_null());
}

#[test]
fn echo_on_a_mono_tap() {
    let (l, r) = recording();
    let mix: Vec<i16> = l
        .iter()
        .zip(r)
        .map(|(&a, &b)| ((i32::from(a) + i32::from(b)) / 2) as i16)
        .collect();
    // The page's place, from the clean stereo recording.
    let clean = analyze_stereo(&g711(l), &g711(r));
    // 30 ms / 20 dB leaves the fast modem decodable; 50 ms / 18 dB defeats it, and the
    // echo is then read on the undecoded bursts.
    for (delay_ms, erl_db) in [(30.0, 20.0), (50.0, 18.0)] {
        let tap = through(
            vec![
                StageSpec::Echo { delay_ms, erl_db },
                StageSpec::G711 { law: Law::Alaw },
            ],
            &mix,
        );
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("mono.wav");
        sim::wav::write_8k_mono(&p, &tap).unwrap();
        let v = analyze(&p);
        let e = &side(&v, "caller")["echo"];
        within(&e["delay_ms"], delay_ms, 2.0, "echo delay");
        let mut echo_only = Vec::new();
        HybridEcho::new(delay_ms, erl_db).process_pair(&mix, &vec![0; mix.len()], &mut echo_only);
        let erl = in_band_erl(&clean, &mix, &echo_only);
        println!("mono echo {delay_ms} ms {erl_db} dB: read {e}, in-band ERL {erl:.1} dB");
        within(&e["return_loss_db"], erl, 3.0, "echo return loss");
        within(
            &e["return_loss_db"],
            erl_db,
            3.0,
            "echo return loss against the nominal",
        );
    }
}

#[test]
fn clock_drift_and_carrier_offset() {
    let (l, r) = recording();
    let left = g711(&through(vec![StageSpec::ClockDrift { ppm: 100.0 }], l));
    let right = g711(&through(vec![StageSpec::FrequencyShift { hz: 7.0 }], r));
    let n = left.len().min(right.len());
    let v = analyze_stereo(&left[..n], &right[..n]);
    println!("drift 100 ppm, answerer offset 7 Hz: {:#}", v["signal"]);
    within(
        &side(&v, "caller")["symbol_clock_ppm"],
        100.0,
        20.0,
        "caller clock",
    );
    within(
        &v["signal"]["clock_drift_ppm"],
        100.0,
        20.0,
        "drift between sides",
    );
    within(
        &side(&v, "answerer")["tone_offset_hz"],
        7.0,
        2.0,
        "answerer offset",
    );
    if let Some(o) = side(&v, "caller")["tone_offset_hz"].as_f64() {
        assert!(o.abs() < 1.0, "the caller was not shifted: {o}");
    }
}

#[test]
fn a_negative_offset_on_the_caller() {
    let (l, r) = recording();
    let left = g711(&through(vec![StageSpec::FrequencyShift { hz: -5.0 }], l));
    let v = analyze_stereo(&left, &g711(r));
    println!(
        "caller offset -5 Hz: {}",
        side(&v, "caller")["tone_offset_hz"]
    );
    within(
        &side(&v, "caller")["tone_offset_hz"],
        -5.0,
        2.0,
        "caller offset",
    );
}

#[test]
fn g729_is_a_lossy_codec() {
    if !channel_models::g729::require() {
        return;
    }
    let (l, r) = recording();
    let v = analyze_stereo(
        &through(vec![StageSpec::G729], l),
        &through(vec![StageSpec::G729], r),
    );
    for s in ["caller", "answerer"] {
        let c = &side(&v, s)["codec"];
        assert_eq!(c["verdict"], "lossy codec (G.729-like)", "{s}: {c:#}");
    }
}

#[test]
fn vad_gaps_are_found_where_the_vad_cut() {
    let (l, r) = recording();
    let clean = g711(l);
    // A gateway VAD whose threshold sits just under the caller's level (-10.2 dBm0):
    // the quieter stretches of its page data fall under it and are cut.
    let cut = through(
        vec![
            StageSpec::Vad {
                threshold_dbm0: -10.5,
                hangover_ms: 20,
            },
            StageSpec::G711 { law: Law::Alaw },
        ],
        l,
    );
    // Where the VAD replaced the signal: 10 ms frames (output one frame late) far from
    // the input.
    let replaced: Vec<bool> = clean
        .chunks(80)
        .zip(cut[80.min(cut.len())..].chunks(80))
        .map(|(a, b)| {
            let err: f64 = a
                .iter()
                .zip(b)
                .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
                .sum();
            let sig: f64 = a.iter().map(|&x| f64::from(x).powi(2)).sum();
            sig > 0.0 && err > 0.5 * sig
        })
        .collect();
    let v = analyze_stereo(
        &cut[..r.len().min(cut.len())],
        &g711(&r[..r.len().min(cut.len())]),
    );
    let gaps = side(&v, "caller")["vad_gaps"].as_array().unwrap().clone();
    assert!(!gaps.is_empty(), "{:#}", v["signal"]);
    println!(
        "VAD: {} gap(s) reported, {:.0} ms in all; the VAD replaced {} frame(s) of 10 ms",
        gaps.len(),
        gaps.iter()
            .map(|g| g["duration_s"].as_f64().unwrap())
            .sum::<f64>()
            * 1000.0,
        replaced.iter().filter(|&&x| x).count()
    );
    for g in &gaps {
        let t = g["time_s"].as_f64().unwrap();
        let dur = g["duration_s"].as_f64().unwrap();
        // Every 10 ms inside the reported gap (15 ms slack at its edges) was cut.
        let a = ((t + 0.015) * 100.0) as usize;
        let b = ((t + dur - 0.015) * 100.0).ceil() as usize;
        assert!(
            (a..b).all(|f| replaced.get(f).copied().unwrap_or(false)),
            "gap at {t:.3} s for {dur:.3} s is not where the VAD cut"
        );
        assert!(g["drop_db"].as_f64().unwrap() >= 20.0);
    }
    assert!(
        side(&v, "answerer")["vad_gaps"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // And every cut of 40 ms or more well inside one of the caller's fast-modem bursts (as
    // sent: from the clean recording) is reported.
    let clean_report = analyze_stereo(&clean, &g711(r));
    let spans: Vec<(f64, f64)> = clean_report["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["side"] == "caller")
        .filter(|e| matches!(e["event"].as_str(), Some("TCF" | "page" | "ECM data")))
        .map(|e| (e["time_s"].as_f64().unwrap(), e["end_s"].as_f64().unwrap()))
        .collect();
    let mut f = 0;
    let mut runs = 0;
    while f < replaced.len() {
        if !replaced[f] {
            f += 1;
            continue;
        }
        let g = (f..replaced.len())
            .find(|&g| !replaced[g])
            .unwrap_or(replaced.len());
        let (t0, t1) = (f as f64 / 100.0, g as f64 / 100.0);
        if g - f >= 4 && spans.iter().any(|&(a, b)| t0 > a + 0.05 && t1 < b - 0.15) {
            runs += 1;
            assert!(
                gaps.iter().any(|x| {
                    let t = x["time_s"].as_f64().unwrap();
                    t < t1 && t + x["duration_s"].as_f64().unwrap() > t0
                }),
                "the VAD cut {t0:.2}..{t1:.2} s and no gap was reported there"
            );
        }
        f = g;
    }
    println!(
        "VAD: {runs} cut(s) of 40 ms or more inside the caller's bursts, all reported; spans {spans:?}"
    );
}

/// Points within `radius` of a cluster's first point join it; the number of clusters.
fn clusters(points: &[(f32, f32)], radius: f32) -> usize {
    let mut centres: Vec<(f32, f32)> = Vec::new();
    for &(i, q) in points {
        if !centres.iter().any(|&(a, b)| (a - i).hypot(b - q) <= radius) {
            centres.push((i, q));
        }
    }
    centres.len()
}

/// The constellation snapshots of a clean call: the equalised symbols after each training
/// sit on the modem's constellation (no more clusters than it has points), and `--html`
/// draws them.
#[test]
fn constellation_snapshots_sit_on_the_constellation() {
    use t30::frame::dis::modem_name::Modem;
    let d = tempfile::tempdir().unwrap();
    let (l, r) = recording();
    let wav = d.path().join("v17.wav");
    write_stereo(&wav, l, r);
    let mut page = Bitmap::new(1728, 600, Resolution::Standard).unwrap();
    page.fill_rect(100, 100, 1500, 140, true);
    let mut caller = SideSetup::builtin(Role::Caller);
    caller.pages = vec![page].into();
    caller.config.modems = vec![Modem::V29];
    caller.config.ecm = false;
    let mut answerer = SideSetup::builtin(Role::Answerer);
    answerer.config.modems = vec![Modem::V29];
    answerer.config.ecm = false;
    let v29 = d.path().join("v29");
    std::fs::create_dir_all(&v29).unwrap();
    run_session(&SessionSetup::new(caller, answerer), &v29, true).unwrap();
    for (file, modem, points) in [(wav, "V.17", 128), (v29.join("call.wav"), "V.29", 16)] {
        let rep = sim::analyze::analyze_file(&file, &sim::analyze::Options::default()).unwrap();
        let snaps: Vec<_> = rep
            .trainings
            .iter()
            .filter(|t| !t.constellation.is_empty())
            .collect();
        assert!(
            snaps.iter().any(|t| t.constellation.len() >= 250),
            "{modem}: no snapshot of 250 symbols or more"
        );
        for t in snaps.into_iter().filter(|t| t.constellation.len() >= 250) {
            assert_eq!(t.modem, modem);
            let max = t
                .constellation
                .iter()
                .map(|&(i, q)| i.abs().max(q.abs()))
                .fold(0.0f32, f32::max);
            let n = clusters(&t.constellation, 0.05 * max);
            println!(
                "{modem} at {:.2} s: {} symbols in {n} clusters",
                t.time_s,
                t.constellation.len()
            );
            assert!(
                t.constellation.len() >= 100,
                "{modem}: {}",
                t.constellation.len()
            );
            // Leader clustering may split a cluster whose first point lies at its edge: an
            // eighth more is allowed.
            let limit = points + points / 8;
            assert!(n <= limit, "{modem}: {n} clusters for {points} points");
        }
        let html = d.path().join("r.html");
        let o = Command::new(env!("CARGO_BIN_EXE_faxsim"))
            .args([
                "analyze",
                "--html",
                html.to_str().unwrap(),
                file.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert!(o.status.success());
        let page = std::fs::read_to_string(&html).unwrap();
        assert!(page.contains("<h2>Constellations</h2>"));
        assert!(page.contains("class=\"constellation\""));
    }
}
