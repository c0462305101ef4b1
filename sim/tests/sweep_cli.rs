//! `faxsim sweep`: the files a sweep writes, success falling with packet loss, a resumed
//! sweep that runs only the missing calls and ends with the same results, and bad input.

use std::path::Path;
use std::process::{Command, Output};

fn faxsim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_faxsim"))
}

fn sweep(out: &Path, extra: &[&str]) -> Output {
    faxsim()
        .args([
            "sweep",
            "--vary",
            "loss=0,0.05,0.3",
            "--calls",
            "4",
            "--jobs",
            "2",
            "--seed",
            "7",
            "--out",
        ])
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The CSV as rows of fields (no field of this sweep holds a quoted comma).
fn rows(csv: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut lines = csv.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_string)
        .collect();
    let rows = lines
        .map(|l| l.split(',').map(str::to_string).collect::<Vec<_>>())
        .collect();
    (header, rows)
}

#[test]
fn loss_sweep_files_monotone_and_resumable() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("s");
    let o = sweep(&out, &[]);
    assert!(o.status.success(), "{}", text(&o));
    for f in [
        "results.csv",
        "results.json",
        "calls.jsonl",
        "sweep.json",
        "report.html",
        "success.png",
        "time-per-page.png",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let png = std::fs::read(out.join("success.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    // IHDR: width and height as drawn.
    assert_eq!(&png[12..16], b"IHDR");
    assert_eq!(u32::from_be_bytes(png[16..20].try_into().unwrap()), 900);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("<svg") && html.contains("success.png"));
    assert!(html.contains("Against published field figures"));

    let csv = std::fs::read_to_string(out.join("results.csv")).unwrap();
    let (header, rows) = rows(&csv);
    let expected = [
        "series",
        "loss",
        "calls",
        "successes",
        "success_rate",
        "ci_low",
        "ci_high",
        "time_per_page_mean_s",
        "time_per_page_p50_s",
        "time_per_page_p95_s",
        "retrains_mean",
        "ppr_mean",
        "final_rates",
        "top_failure",
        "top_failure_calls",
    ];
    assert_eq!(header, expected);
    assert_eq!(rows.len(), 3);
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let num = |r: &Vec<String>, name: &str| r[col(name)].parse::<f64>().unwrap();
    let losses: Vec<f64> = rows.iter().map(|r| num(r, "loss")).collect();
    assert_eq!(losses, [0.0, 0.05, 0.3]);
    for r in &rows {
        assert_eq!(num(r, "calls"), 4.0);
        let (rate, lo, hi) = (num(r, "success_rate"), num(r, "ci_low"), num(r, "ci_high"));
        assert!(lo <= rate && rate <= hi, "{r:?}");
    }
    // More loss never helps: each rate is within the interval of every rate at less loss.
    for i in 0..rows.len() {
        for j in i + 1..rows.len() {
            assert!(
                num(&rows[j], "success_rate") <= num(&rows[i], "ci_high"),
                "success rose with loss: {rows:?}"
            );
        }
    }
    // And a clean line beats 30 % loss outright.
    assert_eq!(num(&rows[0], "success_rate"), 1.0, "{rows:?}");
    assert_eq!(num(&rows[2], "success_rate"), 0.0, "{rows:?}");
    assert!(!rows[2][col("top_failure")].is_empty());

    // A sweep killed after five calls, half-way through writing the sixth line.
    let journal = std::fs::read_to_string(out.join("calls.jsonl")).unwrap();
    let lines: Vec<&str> = journal.lines().collect();
    assert_eq!(lines.len(), 12);
    let mut partial: String = lines[..5].iter().map(|l| format!("{l}\n")).collect();
    partial.push_str(&lines[5][..lines[5].len() / 2]);
    std::fs::write(out.join("calls.jsonl"), &partial).unwrap();
    std::fs::remove_file(out.join("results.csv")).unwrap();
    let o = sweep(&out, &["--resume"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("7 calls run (5 already in the journal)"),
        "{}",
        text(&o)
    );
    let resumed = std::fs::read_to_string(out.join("calls.jsonl")).unwrap();
    assert!(
        resumed.starts_with(&partial),
        "finished calls were rewritten"
    );
    let again = std::fs::read_to_string(out.join("results.csv")).unwrap();
    assert_eq!(again, csv, "a resumed sweep must give the same results");

    // Resuming a different sweep into the same folder is refused.
    let o = faxsim()
        .args([
            "sweep",
            "--vary",
            "loss=0,0.1",
            "--calls",
            "4",
            "--seed",
            "7",
            "--resume",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("sweep.json"));
}

#[test]
fn t38_redundancy_grid() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("t");
    let o = faxsim()
        .args([
            "sweep",
            "--transport",
            "t38",
            "--vary",
            "redundancy=0,3",
            "--vary",
            "loss=0.15",
            "--calls",
            "3",
            "--jobs",
            "2",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    let points = json["points"].as_array().unwrap();
    assert_eq!(points.len(), 2);
    assert_eq!(points[0]["values"][0], "0");
    assert_eq!(points[1]["values"][0], "3");
    // Redundancy 3 carries every call through 15 % loss (in bursts of 2, the preset's
    // network), with no more ECM repeats than no redundancy needs.
    assert_eq!(points[1]["successes"], 3, "{json}");
    assert!(
        points[1]["ppr_mean"].as_f64().unwrap() <= points[0]["ppr_mean"].as_f64().unwrap(),
        "{json}"
    );
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let d = tempfile::tempdir().unwrap();
    for args in [
        vec!["--vary", "lose=0..0.1:0.05"],
        vec!["--vary", "loss=0..2:1"],
        vec!["--vary", "modem=v34"],
        vec!["--vary", "redundancy=0,1"],
        vec!["--preset", "nonesuch"],
    ] {
        let o = faxsim()
            .arg("sweep")
            .args(&args)
            .arg("--out")
            .arg(d.path().join("x"))
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
    }
    let o = faxsim()
        .args(["sweep", "--vary", "lose=0..0.1:0.05", "--out"])
        .arg(d.path().join("x"))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown parameter"));
    let o = faxsim()
        .args(["sweep", "--preset", "list"])
        .output()
        .unwrap();
    assert!(o.status.success());
    let list = String::from_utf8_lossy(&o.stdout);
    for p in ["loss", "snr", "ber", "jitter", "drift"] {
        assert!(list.lines().any(|l| l.starts_with(p)), "{list}");
    }
}
