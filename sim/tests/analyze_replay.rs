//! `faxsim analyze --replay caller|answerer`: our engine in place of one side of a recorded
//! call. On clean calls (builtin↔spandsp, spandsp↔spandsp) it sends the same frame
//! sequence as the side it replaces and reaches the same outcome; against a recorded
//! answerer that answered a command with CRP, the divergence is found at that frame.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;
use sim::session::{SessionSetup, SideSetup, run_session};
use t30::engine::Role;
use t30::frame::Fcf;
use t30::image::testpage::draw_text;
use t30::image::{Bitmap, Resolution};

fn faxsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_faxsim"))
        .args(args)
        .output()
        .unwrap()
}

/// One standard-resolution page with a little text and a bar.
fn page() -> Bitmap {
    let mut b = Bitmap::new(1728, 600, Resolution::Standard).unwrap();
    draw_text(&mut b, 40, 20, 3, 2, "REPLAY TEST PAGE", true);
    b.fill_rect(200, 300, 900, 330, true);
    b
}

/// Records a call between `caller` and `answerer` with `faxsim call`; returns call.wav.
fn record_call(dir: &Path, caller: &str, answerer: &str) -> std::path::PathBuf {
    record_call_with(dir, caller, answerer, &[])
}

/// [`record_call`] with more `faxsim call` arguments.
fn record_call_with(
    dir: &Path,
    caller: &str,
    answerer: &str,
    extra: &[&str],
) -> std::path::PathBuf {
    let doc = dir.join("doc.tif");
    let tiff = t30::image::tiff::write_tiff(
        &[page()],
        None,
        &t30::image::tiff::TiffWriteOptions::new(t30::image::Coding::Mh),
    )
    .unwrap();
    std::fs::write(&doc, tiff).unwrap();
    let out = dir.join("out");
    let mut args = vec![
        "call",
        "--send",
        doc.to_str().unwrap(),
        "--caller",
        caller,
        "--answerer",
        answerer,
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let o = faxsim(&args);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    out.join("call.wav")
}

fn replay(wav: &Path, side: &str) -> Value {
    let o = faxsim(&["analyze", "--json", "--replay", side, wav.to_str().unwrap()]);
    assert!(
        o.status.success(),
        "exit {:?}: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
    let v: Value = serde_json::from_slice(&o.stdout).expect("stdout is one JSON document");
    v["replay"].clone()
}

fn names(frames: &Value) -> Vec<String> {
    frames
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_string())
        .collect()
}

/// Both sides of a clean recorded call, replayed: no divergence, same outcome, and our
/// frames within 1 s of the recorded ones (the recording sets the pace).
fn assert_clean_replays(wav: &Path) {
    for side in ["caller", "answerer"] {
        let r = replay(wav, side);
        assert_eq!(r["replaced"], side);
        assert!(r["divergence"].is_null(), "{side}: {:#}", r["divergence"]);
        let rec = names(&r["recorded_frames"]);
        let ours = names(&r["our_frames"]);
        assert_eq!(rec, ours, "{side}");
        assert!(rec.len() >= 3, "{side}: {rec:?}");
        for (a, b) in r["recorded_frames"]
            .as_array()
            .unwrap()
            .iter()
            .zip(r["our_frames"].as_array().unwrap())
        {
            let (ta, tb) = (a["time_s"].as_f64().unwrap(), b["time_s"].as_f64().unwrap());
            assert!((ta - tb).abs() < 1.0, "{side}: {a} vs {b}");
        }
        assert_eq!(r["recorded_outcome"], "OK", "{side}");
        assert_eq!(r["our_outcome"], "OK", "{side}");
        assert_eq!(r["same_outcome"], true, "{side}");
        assert_eq!(r["our_pages"], 1, "{side}");
    }
}

#[test]
fn builtin_to_spandsp_replays_without_divergence() {
    if spandsp_peer::require().is_none() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let wav = record_call(d.path(), "builtin", "spandsp");
    assert_clean_replays(&wav);
    // The text report shows the side-by-side.
    let o = faxsim(&["analyze", "--replay", "answerer", wav.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("replay: our engine as the answerer"),
        "{text}"
    );
    assert!(text.contains("no divergence"), "{text}");
    // And the HTML page carries it, with the signal health.
    let html = wav.with_extension("html");
    let o = faxsim(&[
        "analyze",
        "--replay",
        "answerer",
        "--html",
        html.to_str().unwrap(),
        wav.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<h2>Replay: our engine as the answerer</h2>"));
    assert!(page.contains("<h2>Signal health</h2>"));
}

#[test]
fn spandsp_to_spandsp_replays_without_divergence() {
    if spandsp_peer::require().is_none() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let wav = record_call(d.path(), "spandsp", "spandsp");
    assert_clean_replays(&wav);
}

#[test]
fn an_answerer_that_sent_crp_is_where_our_engine_diverges() {
    let d = tempfile::tempdir().unwrap();
    let mut caller = SideSetup::builtin(Role::Caller);
    caller.pages = vec![page()].into();
    let mut answerer = SideSetup::builtin(Role::Answerer);
    // The recorded answerer answers the first command it receives (DCS) with CRP.
    answerer.config.faults.force_response = vec![(Fcf::CRP, 1)];
    let out = run_session(&SessionSetup::new(caller, answerer), d.path(), true).unwrap();
    let crp = out
        .answerer
        .frames
        .iter()
        .find(|f| f.dir == "tx" && f.name == "CRP")
        .expect("the faulty answerer sent CRP");
    let wav = d.path().join("call.wav");
    let r = replay(&wav, "answerer");
    let div = &r["divergence"];
    assert!(!div.is_null(), "{r:#}");
    assert_eq!(div["recorded"]["name"], "CRP", "{div:#}");
    assert_ne!(div["ours"]["name"], "CRP", "{div:#}");
    // The diverging frame is the CRP of the recording, found where it was sent: within
    // 1.2 s of the engine's record of it (the record times the start of its preamble).
    let t = div["recorded"]["time_s"].as_f64().unwrap();
    assert!(
        t >= crp.time_s && t - crp.time_s < 1.2,
        "{t} vs {}",
        crp.time_s
    );
    // Every frame before it matched.
    let rec = names(&r["recorded_frames"]);
    let ours = names(&r["our_frames"]);
    let k = div["index"].as_u64().unwrap() as usize - 1;
    assert_eq!(rec[..k], ours[..k]);
    assert!(
        div["summary"]
            .as_str()
            .unwrap()
            .starts_with("recorded answerer sent CRP at"),
        "{div:#}"
    );
    // Replaying the caller side of the same recording: our caller meets the same CRP and
    // repeats its command as the recorded caller did.
    let r = replay(&wav, "caller");
    assert!(r["divergence"].is_null(), "{:#}", r["divergence"]);
}

#[test]
fn replay_needs_a_side_and_audio() {
    let d = tempfile::tempdir().unwrap();
    let wav = d.path().join("x.wav");
    sim::wav::write_8k_mono(&wav, &vec![0i16; 8000]).unwrap();
    let o = faxsim(&["analyze", "--replay", "both", wav.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("--replay must be caller or answerer"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = faxsim(&["analyze", "--replay", "caller", wav.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("no fax signalling found to replay against"),
        "{err}"
    );
}

#[test]
fn a_mono_tap_and_an_rtp_pcap_replay_without_divergence() {
    let d = tempfile::tempdir().unwrap();
    // G.711 over RTP on a network that neither loses nor jitters: the pcap holds the
    // packets as sent, so each side's stream is what the other heard.
    let chain = d.path().join("rtp.toml");
    std::fs::write(
        &chain,
        "name = \"rtp-clean\"\ndescription = \"G.711 over RTP, nothing lost\"\n\
         [[stages]]\ntype = \"voip\"\nlaw = \"alaw\"\nptime_ms = 20\n\
         plc = \"waveform-substitution\"\n[stages.network]\ndelay_ms = 20.0\n\
         [stages.jitter_buffer]\nmode = \"fixed\"\ndelay_ms = 40.0\n",
    )
    .unwrap();
    let wav = record_call_with(
        d.path(),
        "builtin",
        "builtin",
        &["--channel-file", chain.to_str().unwrap()],
    );
    // The RTP pcap: each side's stream.
    assert_clean_replays(&wav.with_file_name("call.pcap"));
    // A mono tap: the two channels mixed; the replaced side's own signals are muted.
    let mut r = hound::WavReader::open(&wav).unwrap();
    let s: Vec<i16> = r.samples::<i16>().map(|x| x.unwrap()).collect();
    let mono: Vec<i16> = s
        .chunks(2)
        .map(|c| ((i32::from(c[0]) + i32::from(c[1])) / 2) as i16)
        .collect();
    let tap = d.path().join("mono.wav");
    sim::wav::write_8k_mono(&tap, &mono).unwrap();
    assert_clean_replays(&tap);
    let r = replay(&tap, "answerer");
    assert!(
        r["notes"][0]
            .as_str()
            .unwrap()
            .starts_with("mono tap: the answerer's signals muted"),
        "{:#}",
        r["notes"]
    );
}

#[test]
fn a_recorded_answerer_without_ecm_differs_in_its_dis() {
    if spandsp_peer::require().is_none() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let wav = record_call_with(d.path(), "builtin", "spandsp", &["--ecm", "off"]);
    let r = replay(&wav, "answerer");
    // The same frames, but our DIS offers ECM where the recorded one did not.
    assert!(r["divergence"].is_null(), "{:#}", r["divergence"]);
    let diffs: Vec<&str> = r["content_differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(diffs.iter().any(|l| l.starts_with("DIS #1")), "{diffs:?}");
    let dis = |list: &Value| -> Vec<u8> {
        let f = list
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == "DIS")
            .unwrap();
        f["hex"]
            .as_str()
            .unwrap()
            .split(' ')
            .map(|h| u8::from_str_radix(h, 16).unwrap())
            .collect()
    };
    // DIS bit 27 (ECM): octet 4 of the FIF, the 3rd bit; the FIF follows address, control
    // and FCF.
    let ecm = |d: &[u8]| d.get(3 + 3).is_some_and(|o| o & 0x04 != 0);
    assert!(!ecm(&dis(&r["recorded_frames"])));
    assert!(ecm(&dis(&r["our_frames"])));
    assert_eq!(r["same_outcome"], true);
}
