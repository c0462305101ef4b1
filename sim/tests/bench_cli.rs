//! `faxsim bench`: both pairs complete the same call, the figures are consistent, the
//! vector path is named, and the same call gives the same outcome on either vector path.

use std::process::Command;

fn faxsim(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_faxsim"));
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run faxsim")
}

#[test]
fn bench_reports_both_pairs_and_the_vector_path() {
    let with_spandsp = spandsp_peer::require().is_some();
    let dir = std::env::temp_dir().join(format!("faxsim-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let json = dir.join("bench.json");
    let mut args = vec![
        "bench",
        "--calls",
        "1",
        "--pages",
        "1",
        "--json",
        json.to_str().unwrap(),
    ];
    if !with_spandsp {
        args.push("--builtin-only");
    }
    for (path, name) in [("baseline", "baseline"), ("", "")] {
        let env: Vec<(&str, &str)> = if path.is_empty() {
            vec![]
        } else {
            vec![("FAXSIM_VECTOR", path)]
        };
        let out = faxsim(&args, &env);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let figures: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        let pairs = figures.as_array().unwrap();
        assert_eq!(pairs.len(), if with_spandsp { 2 } else { 1 }, "{figures}");
        let ours = &pairs[0];
        assert_eq!(ours["pair"], "builtin-builtin");
        assert_eq!(ours["all_succeeded"], true, "{figures}");
        let path_used = ours["vector_path"].as_str().unwrap();
        if !name.is_empty() {
            assert_eq!(path_used, name);
        } else {
            assert!(["baseline", "avx2"].contains(&path_used), "{path_used}");
        }
        assert!(
            stdout.contains(&format!("on the {path_used} vector path")),
            "{stdout}"
        );
        // A fine A4 page at V.17 over G.711 is tens of seconds of call, and our pair runs
        // it far faster than real time on any machine that builds this.
        let call_s = ours["call_s"].as_f64().unwrap();
        assert!((15.0..120.0).contains(&call_s), "{call_s}");
        assert!(
            ours["realtime_factor"].as_f64().unwrap() > 10.0,
            "{figures}"
        );
        if with_spandsp {
            let theirs = &pairs[1];
            assert_eq!(theirs["pair"], "spandsp-spandsp");
            assert_eq!(theirs["all_succeeded"], true, "{figures}");
            assert!(theirs.get("vector_path").is_none(), "{figures}");
            assert!(stdout.contains("ours / spandsp CPU:"), "{stdout}");
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bench_refuses_an_unknown_modem() {
    let out = faxsim(&["bench", "--modem", "v99", "--builtin-only"], &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown modem 'v99'"), "{err}");
}

#[test]
fn a_wrong_vector_path_is_refused_in_one_line() {
    let out = faxsim(&["bench", "--builtin-only"], &[("FAXSIM_VECTOR", "sse9")]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("FAXSIM_VECTOR=\"sse9\": expected baseline, avx2 or auto"),
        "{err}"
    );
}
