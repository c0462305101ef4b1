//! A 100-page call keeps its memory flat: the document is held coded and decoded one page
//! at a time, received pages are kept coded and written to the TIFF page by page, and the
//! trace does not carry the image data of ECM frames. The peak resident set of a
//! `faxsim call` process sending 100 fine pages stays under 64 MiB (it was over 300 MiB
//! when every page was held as a bitmap, several times over), and what arrives is the
//! document, pixel for pixel.

use std::path::Path;
use std::process::Command;

use t30::image::load::load_document_coded;

const PAGES: usize = 100;
/// Peak resident set allowed for the whole call, in KiB (the performance goal: 64 MiB).
const PEAK_KIB: i64 = 64 * 1024;

/// Runs `faxsim` with `args` and returns its exit status and peak resident set in KiB,
/// measured by the kernel for that process alone.
fn faxsim_peak(args: &[&str]) -> (i32, i64) {
    let child = Command::new(env!("CARGO_BIN_EXE_faxsim"))
        .args(args)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("faxsim starts");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to overwrite.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own child, not yet waited for; the pointers are valid.
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(rc, pid, "wait4: {}", std::io::Error::last_os_error());
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    // `child` has been reaped by wait4; dropping it does not wait again.
    drop(child);
    (code, usage.ru_maxrss)
}

fn record(dir: &Path, name: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn a_hundred_page_call_stays_under_64_mib() {
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("doc.tif");
    let out = dir.path().join("out");
    let pages = PAGES.to_string();
    let (code, _) = faxsim_peak(&[
        "doc",
        "testpage",
        "--kind",
        "impress",
        "--resolution",
        "fine",
        "--pages",
        &pages,
        "--out",
        doc.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "faxsim doc testpage");
    let (code, peak_kib) = faxsim_peak(&[
        "call",
        "--send",
        doc.to_str().unwrap(),
        "--limit-s",
        "5000",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "faxsim call: both sides succeed");
    for side in ["caller.json", "answerer.json"] {
        let r = record(&out, side);
        assert_eq!(r["status"], "SUCCESS", "{side}");
        assert_eq!(r["pages"], PAGES, "{side}");
        // The trace names every ECM frame but does not hold its image data.
        let frames = r["frames"].as_array().unwrap();
        let fcd: Vec<&serde_json::Value> = frames.iter().filter(|f| f["name"] == "FCD").collect();
        assert!(fcd.len() > PAGES, "{side}: {} FCD frames", fcd.len());
        assert!(
            fcd.iter()
                .all(|f| f["hex"].as_str().unwrap().split(' ').count() == 4),
            "{side}: FCD frames traced with their data"
        );
    }
    assert!(
        peak_kib < PEAK_KIB,
        "a {PAGES}-page call peaked at {} MiB",
        peak_kib / 1024
    );
    let sent = load_document_coded(&doc).unwrap();
    let got = load_document_coded(&out.join("received.tif")).unwrap();
    assert_eq!(got.len(), PAGES);
    assert!(got == sent, "received pages differ from the document");
    assert!(out.join("received.pdf").is_file());
}
