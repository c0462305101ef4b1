//! A run killed half-way loses nothing finished: the scenario that was running is reported as
//! "Log entry lost", and `--resume` runs only what is missing.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use reports::{Status, read_journal};

fn faxsim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_faxsim"))
}

const QUICK: &str = "description = \"one white page\"\n[caller]\npages = [ { test = \"white\" } ]\n[caller.expect]\nstatus = \"SUCCESS\"\n[answerer.expect]\nstatus = \"SUCCESS\"\npages = 1\n";
const SLOW: &str = "description = \"fifteen fine pages without ECM\"\ntime_limit_s = 1200\n[caller]\npages = [ { test = \"impress\", count = 15, resolution = \"fine\" } ]\necm = false\n[caller.expect]\nstatus = \"SUCCESS\"\npages = 15\n";

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

#[test]
fn kill_then_resume() {
    let d = tempfile::tempdir().unwrap();
    let lib = d.path().join("lib");
    std::fs::create_dir(&lib).unwrap();
    write(&lib, "a-quick.toml", QUICK);
    write(&lib, "b-slow.toml", SLOW);
    write(&lib, "c-quick.toml", QUICK);
    let journal = d.path().join("results.jsonl");
    // One job: the scenarios run in id order, so b-slow is running once a-quick is done.
    let mut child = faxsim()
        .arg("run")
        .arg(&lib)
        .args(["--jobs", "1", "--out"])
        .arg(d.path().join("out"))
        .arg("--json")
        .arg(&journal)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut killed = false;
    for _ in 0..600 {
        std::thread::sleep(Duration::from_millis(50));
        let text = std::fs::read_to_string(&journal).unwrap_or_default();
        if text.contains("\"event\":\"start\",\"id\":\"b-slow\"") {
            child.kill().unwrap();
            killed = true;
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
    }
    child.wait().unwrap();
    assert!(killed, "the run was still going when b-slow started");
    let text = std::fs::read_to_string(&journal).unwrap();
    let r = read_journal(&text).unwrap();
    let status = |id: &str| r.iter().find(|x| x.id == id).map(|x| x.status);
    assert_eq!(status("a-quick"), Some(Status::Passed), "finished: kept");
    assert_eq!(
        status("b-slow"),
        Some(Status::Lost),
        "running: reported lost"
    );
    assert_eq!(
        r.iter().find(|x| x.id == "b-slow").unwrap().failures,
        ["Log entry lost"]
    );
    assert_eq!(status("c-quick"), None, "never started");

    // The report of the killed run says so.
    let merged = faxsim()
        .arg("merge")
        .arg(&journal)
        .arg("--junit")
        .arg(d.path().join("killed.xml"))
        .output()
        .unwrap();
    assert_eq!(merged.status.code(), Some(1));
    let xml = std::fs::read_to_string(d.path().join("killed.xml")).unwrap();
    assert!(xml.contains("Log entry lost"), "{xml}");

    // Resume: only b-slow and c-quick run; a-quick is not run again.
    let out = faxsim()
        .arg("run")
        .arg(&lib)
        .args(["--jobs", "2", "--out"])
        .arg(d.path().join("out"))
        .arg("--resume")
        .arg(&journal)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("LOST b-slow: Log entry lost"), "{stdout}");
    assert!(
        stdout.contains("1 scenario runs already finished, 2 to run"),
        "{stdout}"
    );
    assert!(!stdout.contains("PASS a-quick"), "{stdout}");
    let r = read_journal(&std::fs::read_to_string(&journal).unwrap()).unwrap();
    let ids: Vec<(&str, Status)> = r.iter().map(|x| (x.id.as_str(), x.status)).collect();
    assert_eq!(
        ids,
        [
            ("a-quick", Status::Passed),
            ("b-slow", Status::Passed),
            ("c-quick", Status::Passed)
        ]
    );
}
