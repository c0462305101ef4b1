//! The ATA presets through `faxsim call`: the call summary shows what the jitter buffers did.
//! The ATA with voice defaults re-sizes its adaptive buffer during the call and loses packets
//! to lateness at its 60 ms ceiling, and the call fails; the ATA tuned for fax (fixed 160 ms)
//! never re-sizes and the call completes.

use std::process::Command;

/// (stretched, shrunk, late) summed over both directions' `rtp` lines.
fn jitter_counts(stdout: &str) -> (u64, u64, u64) {
    let field = |line: &str, key: &str| -> u64 {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(key))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {key} in {line}"))
    };
    let lines: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains(" rtp sent="))
        .collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    lines.iter().fold((0, 0, 0), |(s, k, l), line| {
        (
            s + field(line, "stretched="),
            k + field(line, "shrunk="),
            l + field(line, "late="),
        )
    })
}

#[test]
fn voice_defaults_resize_the_buffer_mid_call_and_fail_where_the_tuned_ata_completes() {
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("page.pbm");
    // A 1728x200 page of vertical stripes (P4).
    let mut pbm = b"P4\n1728 200\n".to_vec();
    pbm.extend(std::iter::repeat_n(0xF0u8, 216 * 200));
    std::fs::write(&doc, pbm).unwrap();
    let call = |channel: &str| {
        let o = Command::new(env!("CARGO_BIN_EXE_faxsim"))
            .args(["call", "--channel", channel, "--send"])
            .arg(&doc)
            .arg("--out")
            .arg(dir.path().join(channel))
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let tuned = call("ata-fax-g711");
    let voice = call("ata-voice-default");
    println!("{tuned}\n{voice}");
    assert!(
        tuned.lines().next().unwrap().contains("SUCCESS \"OK\""),
        "{tuned}"
    );
    assert!(voice.lines().next().unwrap().contains("FAILED"), "{voice}");
    let (ts, tk, tl) = jitter_counts(&tuned);
    let (vs, vk, vl) = jitter_counts(&voice);
    assert_eq!((ts, tk), (0, 0), "a fixed buffer never re-sizes");
    assert!(
        vs > 0 && vk > 0,
        "the adaptive buffer grows and shrinks: {voice}"
    );
    assert!(vl > 5 * tl.max(1), "late: voice {vl}, tuned {tl}");
    assert!(
        voice.contains(" jitter="),
        "the tracking buffer reports its estimate"
    );
}
