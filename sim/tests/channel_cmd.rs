//! `faxsim channel`: presets listed, a WAV through a preset, bad input refused.

use std::process::Command;

fn faxsim(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_faxsim"))
        .args(args)
        .output()
        .expect("run faxsim")
}

#[test]
fn list_shows_every_preset_as_toml() {
    let out = faxsim(&["channel", "--list"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for name in channel_models::chain::PRESETS {
        assert!(text.contains(&format!("# {name}:")), "{name} missing");
    }
    assert!(text.contains("type = \"g729\""));
}

#[test]
fn g729_preset_destroys_v29_while_pstn_keeps_it() {
    let dir = std::env::temp_dir().join(format!("faxsim-channel-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = |n: &str| dir.join(n).to_string_lossy().into_owned();
    let tx = faxsim(&[
        "modem",
        "tx",
        "--modem",
        "v29",
        "--rate",
        "9600",
        "--prbs",
        "2",
        "--out",
        &p("v29.wav"),
    ]);
    assert!(tx.status.success());
    let rx = |wav: &str| -> serde_json::Value {
        let out = faxsim(&[
            "modem", "rx", "--modem", "v29", "--rate", "9600", "--prbs", wav,
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    for (preset, trains) in [("pstn-typical", true), ("voip-g729", false)] {
        let out_wav = p(&format!("{preset}.wav"));
        let run = faxsim(&["channel", "--preset", preset, &p("v29.wav"), &out_wav]);
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let r = rx(&out_wav);
        assert_eq!(r["trained"], trains, "{preset}: {r}");
        if trains {
            assert_eq!(r["bit_errors"], 0, "{preset}: {r}");
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn unknown_preset_and_t38_path_are_usage_errors() {
    let out = faxsim(&["channel", "--preset", "nope", "a.wav", "b.wav"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown preset 'nope'"));
    let out = faxsim(&["channel", "--preset", "t38-redundancy-3", "a.wav", "b.wav"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn calls_over_presets_succeed_or_fail_as_the_line_dictates() {
    let dir = std::env::temp_dir().join(format!("faxsim-channel-call-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = |n: &str| dir.join(n).to_string_lossy().into_owned();
    let page = faxsim(&[
        "doc",
        "testpage",
        "--kind",
        "white",
        "--out",
        &p("white.tif"),
    ]);
    assert!(page.status.success());
    for (preset, ok) in [("pstn-typical", true), ("voip-g729", false)] {
        let out = faxsim(&[
            "call",
            "--send",
            &p("white.tif"),
            "--channel",
            preset,
            "--out",
            &p(preset),
        ]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(if ok { 0 } else { 1 }),
            "{preset}: {stdout}"
        );
        assert_eq!(
            stdout.matches("SUCCESS").count(),
            if ok { 2 } else { 0 },
            "{stdout}"
        );
    }
    // A chain file works like a preset.
    std::fs::write(
        p("chain.toml"),
        "name = \"alaw\"\n[[stages]]\ntype = \"g711\"\nlaw = \"alaw\"\n",
    )
    .unwrap();
    let out = faxsim(&[
        "call",
        "--send",
        &p("white.tif"),
        "--channel-file",
        &p("chain.toml"),
        "--out",
        &p("file"),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    std::fs::remove_dir_all(&dir).ok();
}
