//! `faxsim modem tx|rx|ber` run as a user would: the built binary, real files, sox as an
//! independent WAV reader and converter.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn faxsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_faxsim"))
        .args(args)
        .output()
        .expect("run faxsim")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "faxsim failed ({:?}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).expect("utf-8 output")
}

fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 temp path")
}

/// Like `spandsp_peer::require` for the sox binary.
fn require_sox() -> bool {
    let found = Command::new("sox")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        if std::env::var("FAXSIM_REQUIRE_SYSTEM_LIBS").as_deref() == Ok("1") {
            panic!("FAXSIM_REQUIRE_SYSTEM_LIBS=1 but sox is not installed");
        }
        println!("skipped: needs sox (apt-get install sox)");
    }
    found
}

fn sox(args: &[&str]) -> String {
    let out = Command::new("sox").args(args).output().expect("run sox");
    assert!(
        out.status.success(),
        "sox {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Modulates `seconds` of PRBS with spandsp into `dir/name`.
fn tx_prbs(dir: &Path, name: &str, modem: &[&str], seconds: &str) -> PathBuf {
    let wav = dir.join(name);
    let mut args = vec!["modem", "tx"];
    args.extend_from_slice(modem);
    args.extend_from_slice(&["--prbs", seconds, "--peer", "spandsp", "--out", p(&wav)]);
    ok(&faxsim(&args));
    wav
}

fn rx_json(modem: &[&str], extra: &[&str], wav: &Path) -> Value {
    let mut args = vec!["modem", "rx"];
    args.extend_from_slice(modem);
    args.extend_from_slice(&["--prbs", "--peer", "spandsp"]);
    args.extend_from_slice(extra);
    args.push(p(wav));
    let stdout = ok(&faxsim(&args));
    assert_eq!(stdout.lines().count(), 1, "one JSON line: {stdout}");
    serde_json::from_str(&stdout).expect("rx prints JSON")
}

fn assert_clean(v: &Value, min_bits: u64) {
    assert_eq!(v["trained"], true, "{v}");
    assert_eq!(v["bit_errors"], 0, "{v}");
    assert_eq!(v["ber"], 0.0, "{v}");
    assert!(v["prbs_bits"].as_u64().unwrap() >= min_bits, "{v}");
    for key in ["bits", "snr_db", "carrier_offset_hz"] {
        assert!(v.get(key).is_some(), "{key} missing from {v}");
    }
}

#[test]
fn tx_rx_round_trip_every_modem() {
    if spandsp_peer::require().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (modem, rate) in [
        (["--modem", "v17", "--rate", "14400"], 14400u64),
        (["--modem", "v17", "--rate", "7200"], 7200),
        (["--modem", "v29", "--rate", "9600"], 9600),
        (["--modem", "v27ter", "--rate", "4800"], 4800),
        (["--modem", "v27ter", "--rate", "2400"], 2400),
        (["--modem", "v21", "--rate", "300"], 300),
        (["--modem", "v21ch1", "--rate", "300"], 300),
    ] {
        let wav = tx_prbs(dir.path(), "x.wav", &modem, "2");
        let v = rx_json(&modem, &[], &wav);
        // Two seconds of data, less the bits the checker needs to find the pattern.
        assert_clean(&v, 2 * rate - 64);
        assert_eq!(v["rate"], rate);
        assert_eq!(v["receiver"], "spandsp");
        if modem[1] != "v21" && modem[1] != "v21ch1" {
            let snr = v["snr_db"].as_f64().unwrap();
            assert!(snr > 25.0, "{modem:?}: {v}");
            assert!(v["carrier_offset_hz"].as_f64().unwrap().abs() < 1.0, "{v}");
            let level = v["level_dbm0"].as_f64().unwrap();
            assert!((level + 10.0).abs() < 2.0, "{modem:?}: {v}");
        }
    }
}

#[test]
fn data_file_round_trip_lsb_first() {
    if spandsp_peer::require().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data: Vec<u8> = (0..600u32).map(|i| (i * 7919 % 251) as u8).collect();
    let input = dir.path().join("in.bin");
    std::fs::write(&input, &data).unwrap();
    for modem in ["v29", "v17", "v21"] {
        let wav = dir.path().join("d.wav");
        let summary = ok(&faxsim(&[
            "modem",
            "tx",
            "--modem",
            modem,
            "--data",
            p(&input),
            "--peer",
            "spandsp",
            "--out",
            p(&wav),
        ]));
        assert!(summary.contains("4800 data bits"), "{summary}");
        let received = dir.path().join("out.bin");
        ok(&faxsim(&[
            "modem",
            "rx",
            "--modem",
            modem,
            "--peer",
            "spandsp",
            "--out",
            p(&received),
            p(&wav),
        ]));
        let got = std::fs::read(&received).unwrap();
        if modem == "v21" {
            // FSK has no training: the receiver's first decisions fall while the carrier
            // is still being detected, so its output starts a few bits early or late. Look
            // for all but the first two and the last byte near the start.
            let bits: Vec<bool> = got
                .iter()
                .flat_map(|b| (0..8).map(move |i| b >> i & 1 == 1))
                .collect();
            let want: Vec<bool> = data[2..data.len() - 1]
                .iter()
                .flat_map(|b| (0..8).map(move |i| b >> i & 1 == 1))
                .collect();
            let found = (0..32)
                .find(|&o| bits.len() >= o + want.len() && bits[o..o + want.len()] == want[..]);
            let offset = found.expect("v21 data not found");
            // Bit 16 of the data arrived within a few bits of where it was sent.
            assert!((12..=20).contains(&offset), "v21 data at bit {offset}");
        } else {
            assert_eq!(&got[..data.len()], &data[..], "{modem}");
        }
    }
}

#[test]
fn sox_agrees_on_the_header() {
    if spandsp_peer::require().is_none() || !require_sox() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("h.wav");
    let line = ok(&faxsim(&[
        "modem",
        "tx",
        "--modem",
        "v29",
        "--prbs",
        "1",
        "--peer",
        "spandsp",
        "--out",
        p(&wav),
    ]));
    // "…, 9600 data bits, 10134 samples (1.267 s)"
    let samples: u64 = line
        .split(", ")
        .find(|part| part.contains(" samples ("))
        .and_then(|part| part.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no sample count in {line:?}"));
    let path = p(&wav);
    assert_eq!(sox(&["--i", "-r", path]), "8000");
    assert_eq!(sox(&["--i", "-c", path]), "1");
    assert_eq!(sox(&["--i", "-b", path]), "16");
    assert_eq!(sox(&["--i", "-e", path]), "Signed Integer PCM");
    assert_eq!(sox(&["--i", "-s", path]), samples.to_string());
}

#[test]
fn converted_files_still_decode() {
    if spandsp_peer::require().is_none() || !require_sox() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let modem = ["--modem", "v29", "--rate", "9600"];
    let wav = tx_prbs(dir.path(), "src.wav", &modem, "2");
    let src = p(&wav);
    let cases: [(&str, Vec<&str>, &[&str]); 7] = [
        // 16 kHz stereo, the signal on the right, silence on the left.
        (
            "r16k.wav",
            vec!["-r", "16000", "-c", "2"],
            &["--channel", "right"],
        ),
        (
            "r44k.wav",
            vec!["-r", "44100", "-c", "2"],
            &["--channel", "right"],
        ),
        (
            "f48k.wav",
            vec!["-r", "48000", "-e", "floating-point", "-b", "32"],
            &[],
        ),
        ("s24.wav", vec!["-b", "24"], &[]),
        ("u8.wav", vec!["-b", "8", "-e", "unsigned-integer"], &[]),
        ("alaw.wav", vec!["-e", "a-law"], &[]),
        ("ulaw.wav", vec!["-e", "u-law"], &[]),
    ];
    for (name, opts, rx_extra) in cases {
        let out = dir.path().join(name);
        let mut args = vec![src];
        args.extend(opts.iter().copied());
        args.push(p(&out));
        if name.starts_with('r') {
            // Left silent, right the signal.
            args.extend(["remix", "0", "1"]);
        }
        sox(&args);
        let v = rx_json(&modem, rx_extra, &out);
        assert_clean(&v, 2 * 9600 - 64);
        if name == "alaw.wav" {
            assert_eq!(v["input"]["encoding"], "A-law");
        }
        if name == "r44k.wav" {
            assert_eq!(v["input"]["sample_rate"], 44100);
            assert_eq!(v["input"]["channels"], 2);
            assert_eq!(v["channel"], 1);
        }
    }
    // The silent left channel has nothing to decode.
    let v = rx_json(&modem, &[], &dir.path().join("r16k.wav"));
    assert_eq!(v["trained"], false, "{v}");
    assert_eq!(v["bits"], 0, "{v}");
}

#[test]
fn our_g711_decoding_matches_sox() {
    if !require_sox() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // A sweep through the whole amplitude range.
    let ramp: Vec<i16> = (0..8000)
        .map(|i| ((i as f64 * 0.05).sin() * (i as f64 / 8000.0) * 32000.0) as i16)
        .collect();
    let src = dir.path().join("ramp.wav");
    sim::wav::write_8k_mono(&src, &ramp).unwrap();
    for enc in ["a-law", "u-law"] {
        let coded = dir.path().join(format!("{enc}.wav"));
        let back = dir.path().join(format!("{enc}-16.wav"));
        sox(&[p(&src), "-e", enc, p(&coded)]);
        sox(&[p(&coded), "-e", "signed-integer", "-b", "16", p(&back)]);
        let ours = sim::wav::WavAudio::read(&coded).unwrap().to_8k(0).unwrap();
        let theirs = sim::wav::WavAudio::read(&back).unwrap().to_8k(0).unwrap();
        assert_eq!(ours, theirs, "{enc}");
    }
}

#[test]
fn bad_wav_files_exit_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut header = Vec::new();
    header.extend_from_slice(b"RIFF\x24\0\0\0WAVEfmt \x10\0\0\0\x01\0");
    let zero_channels = {
        let mut v = header.clone();
        v.extend_from_slice(&[0, 0, 0x40, 0x1f, 0, 0, 0x80, 0x3e, 0, 0, 2, 0, 16, 0]);
        v.extend_from_slice(b"data\0\0\0\0");
        v
    };
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty.wav", Vec::new(), "not a WAV file"),
        (
            "text.wav",
            b"hello, this is not audio\n".to_vec(),
            "not a WAV file",
        ),
        ("cut.wav", header, "truncated fmt chunk"),
        ("zero.wav", zero_channels, "zero channels"),
    ];
    for (name, bytes, want) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let out = faxsim(&[
            "modem",
            "rx",
            "--modem",
            "v29",
            "--peer",
            "spandsp",
            p(&path),
        ]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert_eq!(err.lines().count(), 1, "{name}: {err}");
        assert!(err.contains(name) && err.contains(want), "{name}: {err}");
        assert!(out.stdout.is_empty());
    }
    let missing = dir.path().join("missing.wav");
    let out = faxsim(&["modem", "rx", "--modem", "v29", p(&missing)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.wav: cannot read"));
}

#[test]
fn bad_usage_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let out_wav = dir.path().join("o.wav");
    for args in [
        vec![
            "modem",
            "tx",
            "--modem",
            "v29",
            "--rate",
            "14400",
            "--prbs",
            "1",
            "--peer",
            "spandsp",
            "--out",
            p(&out_wav),
        ],
        vec![
            "modem",
            "tx",
            "--modem",
            "v29",
            "--prbs",
            "-1",
            "--peer",
            "spandsp",
            "--out",
            p(&out_wav),
        ],
        vec!["modem", "tx", "--modem", "v29", "--out", p(&out_wav)],
        vec![
            "modem",
            "tx",
            "--modem",
            "v99",
            "--prbs",
            "1",
            "--out",
            p(&out_wav),
        ],
        vec![
            "modem", "ber", "--modem", "v29", "--snr", "20..10", "--peer", "spandsp",
        ],
        vec![
            "modem", "ber", "--modem", "v29", "--snr", "x", "--peer", "spandsp",
        ],
    ] {
        let out = faxsim(&args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn line_offsets_out_of_range_exit_2() {
    for (option, value) in [
        ("--freq-offset-hz", "500"),
        ("--clock-ppm", "-2000"),
        ("--clock-ppm", "NaN"),
    ] {
        let out = faxsim(&[
            "modem", "ber", "--modem", "v29", "--snr", "20", option, value,
        ]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{option} {value}: {err}");
        assert!(err.contains(option), "{err}");
    }
}

#[test]
fn our_modems_run_or_report_unavailable_with_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let out_wav = dir.path().join("o.wav");
    let out = faxsim(&[
        "modem",
        "tx",
        "--modem",
        "v17",
        "--prbs",
        "1",
        "--out",
        p(&out_wav),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    if out.status.success() {
        // Our modems are wired in: they must have written a signal.
        let audio = sim::wav::WavAudio::read(&out_wav).unwrap();
        assert_eq!((audio.sample_rate, audio.channels), (8000, 1));
        assert!(audio.duration_s() > 1.0);
        return;
    }
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("not available in this build"), "{err}");
    assert_eq!(err.lines().count(), 1);
}

/// `faxsim modem ber` on V.29 9600 at 10, 20 and 30 dB, 20000 bits, seed 7, every path
/// with spandsp, thresholds, and `extra`.
fn v29_sweep(extra: &[&str]) -> String {
    let mut args = vec![
        "modem",
        "ber",
        "--modem",
        "v29",
        "--rate",
        "9600",
        "--snr",
        "10..30:10",
        "--bits",
        "20000",
        "--seed",
        "7",
        "--peer",
        "spandsp",
        "--threshold",
    ];
    args.extend_from_slice(extra);
    ok(&faxsim(&args))
}

#[test]
fn ber_sweep_json_and_threshold() {
    if spandsp_peer::require().is_none() {
        return;
    }
    let out = v29_sweep(&["--json"]);
    let v: Value = serde_json::from_str(&out).expect("ber --json prints JSON");
    let points = v["points"].as_array().unwrap();
    assert_eq!(points.len(), 3);
    let ss = |i: usize| -> &Value {
        points[i]["paths"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["tx"] == "spandsp" && p["rx"] == "spandsp")
            .unwrap()
    };
    // 10 dB is far too noisy for V.29 9600; 30 dB is clean.
    assert_eq!(ss(0)["error_free"], false);
    assert_eq!(ss(2)["error_free"], true, "{}", ss(2));
    assert_eq!(ss(2)["bits"], 20000);
    let thresholds = v["thresholds"].as_array().unwrap();
    let t = thresholds
        .iter()
        .find(|t| t["tx"] == "spandsp" && t["rx"] == "spandsp")
        .unwrap();
    let snr = t["snr_db"].as_f64().unwrap();
    assert!(snr == 20.0 || snr == 30.0, "{t}");

    // The same sweep as a table, and the same seed gives the same figures.
    let table = v29_sweep(&[]);
    assert!(table.contains("spandsp→spandsp"), "{table}");
    assert!(
        table
            .lines()
            .any(|l| l.trim_start().starts_with("30.0") && l.trim_end().ends_with(" 0")),
        "{table}"
    );
    let again = v29_sweep(&["--json"]);
    assert_eq!(again, out);
}

/// Both offsets reach every path's signal: the receivers' estimates follow them, and V.29
/// stays error-free at 30 dB (spandsp's V.27ter receiver does not, with 100 ppm).
#[test]
fn ber_with_carrier_and_clock_offsets() {
    let peer = spandsp_peer::require().is_some();
    let mut args = vec![
        "modem",
        "ber",
        "--modem",
        "v29",
        "--rate",
        "9600",
        "--snr",
        "30",
        "--bits",
        "20000",
        "--freq-offset-hz",
        "-7",
        "--clock-ppm",
        "100",
    ];
    if peer {
        args.extend_from_slice(&["--peer", "spandsp"]);
    }
    let table = ok(&faxsim(&args));
    assert!(
        table
            .lines()
            .next()
            .unwrap()
            .ends_with(", carrier offset -7 Hz, clock offset +100 ppm"),
        "{table}"
    );
    args.push("--json");
    let v: Value = serde_json::from_str(&ok(&faxsim(&args))).expect("JSON");
    assert_eq!(v["freq_offset_hz"], -7.0);
    assert_eq!(v["clock_ppm"], 100.0);
    let paths = v["points"][0]["paths"].as_array().unwrap();
    assert_eq!(paths.len(), if peer { 4 } else { 1 });
    for path in paths {
        assert_eq!(path["error_free"], true, "{path}");
        let hz = path["est_carrier_offset_hz"].as_f64().unwrap();
        assert!((hz + 7.0).abs() < 1.0, "{path}");
        // Our receiver reports its clock estimate; spandsp's wrapper may not.
        if path["rx"] == "ours" {
            let ppm = path["est_clock_ppm"].as_f64().unwrap();
            assert!((ppm - 100.0).abs() < 30.0, "{path}");
        }
    }
    // Without the offsets our receiver sees none.
    let plain = ok(&faxsim(&[
        "modem", "ber", "--modem", "v29", "--rate", "9600", "--snr", "30", "--bits", "20000",
        "--json",
    ]));
    let v: Value = serde_json::from_str(&plain).expect("JSON");
    let hz = v["points"][0]["paths"][0]["est_carrier_offset_hz"]
        .as_f64()
        .unwrap();
    assert!(hz.abs() < 1.0, "{plain}");
}

/// Our receivers report the SNR of the signal, not of its end: on a clean signal, and with
/// noise 20 dB under it over the band (about 24 dB in V.27ter 4800's band, 21–22 dB in the
/// others'), the reading is the line's. It read 11 dB on a clean V.27ter signal when taken
/// after the carrier had gone.
#[test]
fn our_snr_reading_is_the_signals() {
    let dir = tempfile::tempdir().unwrap();
    let noise = dir.path().join("noise.toml");
    std::fs::write(
        &noise,
        "name = \"n\"\n[[stages]]\ntype = \"noise\"\ndbm0 = -30.0\n",
    )
    .unwrap();
    for modem in [
        ["--modem", "v27ter", "--rate", "4800"],
        ["--modem", "v29", "--rate", "9600"],
        ["--modem", "v17", "--rate", "7200"],
    ] {
        let wav = dir.path().join("clean.wav");
        let mut args = vec!["modem", "tx"];
        args.extend_from_slice(&modem);
        args.extend_from_slice(&["--prbs", "3", "--out", p(&wav)]);
        ok(&faxsim(&args));
        let noisy = dir.path().join("noisy.wav");
        ok(&faxsim(&[
            "channel",
            "--chain",
            p(&noise),
            p(&wav),
            p(&noisy),
        ]));
        for (file, low, high) in [(&wav, 35.0, 80.0), (&noisy, 19.0, 27.0)] {
            let mut args = vec!["modem", "rx"];
            args.extend_from_slice(&modem);
            args.extend_from_slice(&["--prbs", p(file)]);
            let v: Value = serde_json::from_str(&ok(&faxsim(&args))).unwrap();
            let snr = v["snr_db"].as_f64().unwrap();
            assert!(snr > low && snr < high, "{modem:?} {}: {v}", file.display());
        }
    }
}

/// `--seeds K` sums K noise seeds per point: the bits and errors are those of the K single-seed
/// runs added up, and each point counts its error-free runs.
#[test]
fn ber_over_several_seeds_sums_the_single_seed_runs() {
    let run = |extra: &[&str]| -> Value {
        let mut args = vec![
            "modem", "ber", "--modem", "v27ter", "--rate", "4800", "--snr", "9..30:21", "--bits",
            "20000", "--json",
        ];
        args.extend_from_slice(extra);
        serde_json::from_str(&ok(&faxsim(&args))).expect("JSON")
    };
    let path = |v: &Value, i: usize| v["points"][i]["paths"][0].clone();
    let three = run(&["--seed", "4", "--seeds", "3"]);
    assert_eq!(three["seeds"], 3);
    let singles: Vec<Value> = ["4", "5", "6"]
        .iter()
        .map(|s| run(&["--seed", s]))
        .collect();
    for i in 0..2 {
        let sum = |key: &str| -> u64 {
            singles
                .iter()
                .map(|v| path(v, i)[key].as_u64().unwrap())
                .sum()
        };
        let p = path(&three, i);
        assert_eq!(p["runs"], 3);
        assert_eq!(p["bits"].as_u64().unwrap(), sum("bits"), "{p}");
        assert_eq!(p["bit_errors"].as_u64().unwrap(), sum("bit_errors"), "{p}");
        assert_eq!(
            p["error_free_runs"].as_u64().unwrap(),
            sum("error_free_runs"),
            "{p}"
        );
    }
    // 9 dB is far too noisy for 4800 bit/s, 30 dB is clean on every seed.
    assert_eq!(path(&three, 0)["error_free_runs"], 0);
    assert_eq!(path(&three, 1)["error_free_runs"], 3);
    assert_eq!(path(&three, 1)["bits"], 60000);
}
