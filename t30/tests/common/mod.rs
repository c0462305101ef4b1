//! Helpers shared by the integration tests that call system tools.
#![allow(dead_code)]
use std::path::{Path, PathBuf};
use std::process::Command;

/// True when `tool` can be run. When it cannot, prints one line saying the test is skipped,
/// or panics if `FAXSIM_REQUIRE_SYSTEM_LIBS=1` (CI), so a missing tool never passes silently
/// there.
pub fn have_tool(tool: &str) -> bool {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
        .unwrap_or(false);
    if !found {
        if std::env::var("FAXSIM_REQUIRE_SYSTEM_LIBS").as_deref() == Ok("1") {
            panic!("{tool} is required (FAXSIM_REQUIRE_SYSTEM_LIBS=1) but not installed");
        }
        // Written to the stderr handle, not with eprintln!, so that the test harness does
        // not swallow it: a skipped check must be visible.
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), "skipping: {tool} not installed");
    }
    found
}

/// Run a tool, panicking with its output when it fails; returns (stdout, stderr).
pub fn run(tool: &str, args: &[&str]) -> (String, String) {
    let out = Command::new(tool).args(args).output().expect("spawn tool");
    let so = String::from_utf8_lossy(&out.stdout).into_owned();
    let se = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{tool} {args:?} failed: {so}\n{se}");
    (so, se)
}

/// A scratch directory for one test, removed when the test passes (kept, for a look, when
/// it fails).
pub struct Scratch(PathBuf);

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for Scratch {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// A fresh scratch directory for one test.
pub fn scratch(name: &str) -> Scratch {
    let d = std::env::temp_dir().join(format!("faxsim-t30-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    Scratch(d)
}

/// Path as &str.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}
