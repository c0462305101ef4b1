//! `faxsim run --shard K/N` and `faxsim merge`: the shards' union is the full run, the merged
//! results equal the unsharded ones (timing fields aside), and the JUnit XML parses.

use std::path::{Path, PathBuf};
use std::process::Command;

use reports::{ScenarioResult, read_journal};

fn faxsim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_faxsim"))
}

fn library() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

/// `faxsim run` over the error scenarios with `extra` arguments; returns the exit code.
fn run(out: &Path, json: &Path, extra: &[&str]) -> i32 {
    let st = faxsim()
        .arg("run")
        .arg(library())
        .args(["--filter", "errors/*", "--jobs", "2", "--out"])
        .arg(out)
        .arg("--json")
        .arg(json)
        .args(extra)
        .output()
        .unwrap();
    assert!(
        st.status.code().is_some(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    st.status.code().unwrap()
}

fn results(p: &Path) -> Vec<ScenarioResult> {
    read_journal(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// The results without their wall-clock timings.
fn untimed(mut r: Vec<ScenarioResult>) -> Vec<ScenarioResult> {
    for x in &mut r {
        x.wall_s = 0.0;
    }
    r
}

#[test]
fn shards_union_is_the_full_run_and_merge_equals_it() {
    let d = tempfile::tempdir().unwrap();
    let full_json = d.path().join("full.jsonl");
    let full_junit = d.path().join("full.xml");
    let code = run(
        &d.path().join("full"),
        &full_json,
        &["--junit", full_junit.to_str().unwrap()],
    );
    assert_eq!(code, 0, "the error scenarios pass");
    let full = results(&full_json);
    assert!(full.len() >= 50, "{} results", full.len());
    let mut shard_files = Vec::new();
    let mut union: Vec<String> = Vec::new();
    for k in 1..=3 {
        let j = d.path().join(format!("shard{k}.jsonl"));
        assert_eq!(
            run(
                &d.path().join(format!("s{k}")),
                &j,
                &["--shard", &format!("{k}/3")]
            ),
            0
        );
        let r = results(&j);
        assert!(!r.is_empty(), "shard {k} is not empty");
        union.extend(r.iter().map(|x| x.id.clone()));
        shard_files.push(j);
    }
    let n = union.len();
    union.sort();
    union.dedup();
    assert_eq!(union.len(), n, "no scenario runs in two shards");
    let full_ids: Vec<String> = full.iter().map(|x| x.id.clone()).collect();
    assert_eq!(union, full_ids, "the shards together are the full run");

    let merged_json = d.path().join("merged.jsonl");
    let merged_junit = d.path().join("merged.xml");
    let html = d.path().join("merged.html");
    let st = faxsim()
        .arg("merge")
        .args(&shard_files)
        .arg("--json")
        .arg(&merged_json)
        .arg("--junit")
        .arg(&merged_junit)
        .arg("--html")
        .arg(&html)
        .output()
        .unwrap();
    assert_eq!(st.status.code(), Some(0));
    let mut merged = untimed(results(&merged_json));
    let mut full = untimed(full);
    // Calls ran in different output folders; everything else must be the same.
    for r in merged.iter_mut().chain(full.iter_mut()) {
        for c in &mut r.calls {
            c.dir.clear();
        }
    }
    assert_eq!(merged, full);
    let html = std::fs::read_to_string(&html).unwrap();
    assert!(html.contains("errors/rx-dcnphd"));

    // JUnit as a CI server reads it: one test case per scenario.
    for xml in [&full_junit, &merged_junit] {
        let py = format!(
            "import xml.etree.ElementTree as E\nr=E.parse('{}').getroot()\nprint(len(r.findall('.//testcase')), len(r.findall('.//failure')))",
            xml.display()
        );
        match Command::new("python3").args(["-c", &py]).output() {
            Ok(o) if o.status.success() => {
                let s = String::from_utf8_lossy(&o.stdout);
                assert_eq!(
                    s.trim(),
                    format!("{} 0", full_ids.len()),
                    "{}",
                    xml.display()
                );
            }
            _ => println!("skipped: JUnit check needs python3"),
        }
    }
}

#[test]
fn a_failing_scenario_exits_1_with_expected_and_got_in_junit() {
    let d = tempfile::tempdir().unwrap();
    let s = d.path().join("wrong.toml");
    std::fs::write(
        &s,
        "description = \"a clean call that is wrongly expected to fail\"\n[caller]\npages = [ { test = \"white\" } ]\n[caller.expect]\nstatus = \"FAILED\"\n",
    )
    .unwrap();
    let junit = d.path().join("j.xml");
    let o = faxsim()
        .arg("run")
        .arg(&s)
        .arg("--out")
        .arg(d.path().join("o"))
        .arg("--junit")
        .arg(&junit)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("FAIL wrong: caller: status: expected \"FAILED\", got \"SUCCESS\""),
        "{stdout}"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("<failure"), "{xml}");
    assert!(
        xml.contains("expected &quot;FAILED&quot;, got &quot;SUCCESS&quot;"),
        "{xml}"
    );
}
