//! `faxsim analyze` on what is not a clean fax capture: audio without fax (silence, speech-
//! like and music-like signals, a DTMF call), truncated files, pcaps of garbage UDP, files
//! that are no capture at all. Each gives a sensible report or a one-line error naming the
//! file with exit status 2; never a panic.

use std::f64::consts::TAU;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use channel_models::rng::Rng;
use etherparse::PacketBuilder;
use pcap_file::pcap::{PcapPacket, PcapWriter};
use serde_json::Value;

fn faxsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_faxsim"))
        .args(args)
        .output()
        .unwrap()
}

fn wav(dir: &Path, name: &str, samples: &[f64]) -> PathBuf {
    let p = dir.join(name);
    let s: Vec<i16> = samples
        .iter()
        .map(|&x| (x * 32767.0).clamp(-32768.0, 32767.0) as i16)
        .collect();
    sim::wav::write_8k_mono(&p, &s).unwrap();
    p
}

fn silence(secs: f64) -> Vec<f64> {
    vec![0.0; (secs * 8000.0) as usize]
}

/// Voiced syllables: a gliding pitch with harmonics under two moving formants, 3–6
/// syllables a second, pauses between words.
fn speech_like(secs: f64, seed: u64) -> Vec<f64> {
    let mut rng = Rng::new(seed);
    let n = (secs * 8000.0) as usize;
    let mut out = vec![0.0; n];
    let mut i = 0;
    let mut phase = 0.0f64;
    while i < n {
        let syl = (0.12 + 0.15 * rng.uniform()) * 8000.0;
        let pitch0 = 100.0 + 120.0 * rng.uniform();
        let f1 = 300.0 + 500.0 * rng.uniform();
        let f2 = 900.0 + 1500.0 * rng.uniform();
        for k in 0..syl as usize {
            if i + k >= n {
                break;
            }
            let x = k as f64 / syl;
            let pitch = pitch0 * (1.0 + 0.2 * x);
            phase += TAU * pitch / 8000.0;
            let mut v = 0.0;
            for h in 1..30 {
                let f = pitch * h as f64;
                if f > 3600.0 {
                    break;
                }
                let w =
                    (-((f - f1) / 150.0).powi(2)).exp() + 0.5 * (-((f - f2) / 250.0).powi(2)).exp();
                v += w * (phase * h as f64).sin();
            }
            out[i + k] = 0.15 * v * (std::f64::consts::PI * x).sin() + 0.01 * (rng.uniform() - 0.5);
        }
        i += syl as usize;
        if rng.uniform() < 0.3 {
            i += (0.2 * 8000.0 * rng.uniform()) as usize;
        }
    }
    out
}

/// Chords of a few notes with decaying envelopes, a new chord every half second.
fn music_like(secs: f64, seed: u64) -> Vec<f64> {
    let mut rng = Rng::new(seed);
    let n = (secs * 8000.0) as usize;
    let mut out = vec![0.0; n];
    let chord_len = 4000;
    for (c, chunk) in out.chunks_mut(chord_len).enumerate() {
        let root = 110.0 * 2f64.powf(rng.below(24) as f64 / 12.0);
        let notes = [root, root * 1.26, root * 1.498, root * 2.0];
        for (k, v) in chunk.iter_mut().enumerate() {
            let t = (c * chord_len + k) as f64 / 8000.0;
            let env = (-(k as f64) / 3000.0).exp();
            *v = notes
                .iter()
                .map(|f| 0.08 * env * ((TAU * f * t).sin() + 0.3 * (TAU * 2.0 * f * t).sin()))
                .sum();
        }
    }
    out
}

/// Dialling "5551234" in DTMF, then ringback-free silence and a few seconds of speech.
fn dtmf_call(seed: u64) -> Vec<f64> {
    let rows = [697.0, 770.0, 852.0, 941.0];
    let cols = [1209.0, 1336.0, 1477.0];
    let key = |d: char| -> (f64, f64) {
        let i = "123456789*0#".find(d).unwrap();
        (rows[i / 3], cols[i % 3])
    };
    let mut out = silence(0.5);
    for d in "5551234".chars() {
        let (a, b) = key(d);
        for k in 0..800 {
            let t = k as f64 / 8000.0;
            out.push(0.2 * ((TAU * a * t).sin() + (TAU * b * t).sin()));
        }
        out.extend(silence(0.1));
    }
    out.extend(silence(2.0));
    out.extend(speech_like(4.0, seed));
    out
}

fn no_fax(path: &Path) {
    let o = faxsim(&["analyze", path.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{text}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(text.contains("no fax signalling found"), "{text}");
    let o = faxsim(&["analyze", "--json", path.to_str().unwrap()]);
    let v: Value = serde_json::from_slice(&o.stdout).expect("one JSON document");
    assert_eq!(v["diagnosis"]["fax_found"], false);
    assert!(
        v["frames"].as_array().unwrap().is_empty(),
        "{}",
        v["frames"]
    );
}

#[test]
fn audio_without_fax() {
    let dir = tempfile::tempdir().unwrap();
    no_fax(&wav(dir.path(), "silence.wav", &silence(10.0)));
    no_fax(&wav(dir.path(), "speech.wav", &speech_like(20.0, 7)));
    no_fax(&wav(dir.path(), "music.wav", &music_like(20.0, 9)));
    no_fax(&wav(dir.path(), "dtmf.wav", &dtmf_call(11)));
    // Stereo 44.1 kHz float: the resampling path.
    let p = dir.path().join("music-stereo.wav");
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 44100,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(&p, spec).unwrap();
    let m = music_like(5.0 * 44100.0 / 8000.0, 3);
    for x in m {
        w.write_sample(x as f32).unwrap();
        w.write_sample(-x as f32).unwrap();
    }
    w.finalize().unwrap();
    no_fax(&p);
}

fn fax_wav(dir: &Path) -> PathBuf {
    let doc = dir.join("doc.pbm");
    let mut pbm = b"P1\n1728 100\n".to_vec();
    for y in 0..100 {
        for x in 0..1728 {
            pbm.push(if (x / 64 + y / 10) % 2 == 0 {
                b'1'
            } else {
                b'0'
            });
        }
        pbm.push(b'\n');
    }
    std::fs::write(&doc, pbm).unwrap();
    let out = dir.join("out");
    let o = faxsim(&[
        "call",
        "--send",
        doc.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    out.join("call.wav")
}

#[test]
fn truncated_wav_is_analysed_as_far_as_it_goes() {
    let dir = tempfile::tempdir().unwrap();
    let full = std::fs::read(fax_wav(dir.path())).unwrap();
    // Cut inside phase C: after DCS and training.
    let cut = dir.path().join("cut.wav");
    std::fs::write(&cut, &full[..44 + 4 * 8000 * 12]).unwrap();
    let o = faxsim(&["analyze", "--json", cut.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        v["input"]["notes"][0]
            .as_str()
            .unwrap()
            .contains("cut short")
    );
    assert_eq!(v["diagnosis"]["caller"], "The call dropped prematurely");
    let names: Vec<&str> = v["frames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"DCS"), "{names:?}");
    // Cut inside the header: an error naming the file.
    let head = dir.path().join("head.wav");
    std::fs::write(&head, &full[..30]).unwrap();
    bad_input(&head);
    // Every prefix length in the first kilobyte, and a few later: never a panic.
    for n in (0..1024).chain((1024..full.len()).step_by(37_777)) {
        let p = dir.path().join("prefix.wav");
        std::fs::write(&p, &full[..n]).unwrap();
        let o = faxsim(&["analyze", p.to_str().unwrap()]);
        assert!(
            matches!(o.status.code(), Some(0..=2)),
            "prefix {n}: {:?} {}",
            o.status.code(),
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

fn bad_input(path: &Path) {
    let o = faxsim(&["analyze", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(path.to_str().unwrap()), "{err}");
    assert!(o.stdout.is_empty());
}

#[test]
fn not_a_capture() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "this is not a capture\n").unwrap();
    bad_input(&text);
    let empty = dir.path().join("empty.wav");
    std::fs::write(&empty, b"").unwrap();
    bad_input(&empty);
    bad_input(&dir.path().join("missing.pcap"));
    let riff = dir.path().join("riff.wav");
    std::fs::write(&riff, b"RIFF\x10\x00\x00\x00WAVEjunkjunkjunk").unwrap();
    bad_input(&riff);
    let o = faxsim(&[
        "analyze",
        "--from",
        "5",
        "--to",
        "2",
        text.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
}

fn garbage_pcap(seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let mut w = PcapWriter::new(Vec::new()).unwrap();
    for i in 0..600 {
        let len = rng.below(300) as usize;
        let mut payload: Vec<u8> = (0..len).map(|_| rng.below(256) as u8).collect();
        if i % 3 == 0 && len > 12 {
            // RTP-looking, but G.729 (payload type 18) with random sequence numbers.
            payload[0] = 0x80;
            payload[1] = 18;
        }
        let sp = 10000 + rng.below(8) as u16;
        let dp = 20000 + rng.below(8) as u16;
        let b = PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
            .ipv4([10, 1, 1, 1], [10, 1, 1, 2], 64)
            .udp(sp, dp);
        let mut pkt = Vec::new();
        b.write(&mut pkt, &payload).unwrap();
        let ts = std::time::Duration::from_millis(1_700_000_000_000 + 20 * i);
        w.write_packet(&PcapPacket::new(ts, pkt.len() as u32, &pkt))
            .unwrap();
    }
    w.into_writer()
}

#[test]
fn pcap_of_garbage_udp() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("garbage.pcap");
    let bytes = garbage_pcap(5);
    std::fs::write(&p, &bytes).unwrap();
    let o = faxsim(&["analyze", p.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{text}");
    assert!(text.contains("no fax signalling found"), "{text}");
    assert!(text.contains("600 UDP packet(s)"), "{text}");
    // Garbage forced through the T.38 reader.
    let o = faxsim(&["analyze", "--t38-port", "20003", p.to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    // Cut in the middle of a packet: the packets before the break are read.
    let cut = dir.path().join("cut.pcap");
    std::fs::write(&cut, &bytes[..bytes.len() / 2 + 7]).unwrap();
    let o = faxsim(&["analyze", "--json", cut.to_str().unwrap()]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let notes = v["input"]["notes"].to_string();
    assert!(notes.contains("cut short"), "{notes}");
    // Only a header.
    let head = dir.path().join("head.pcap");
    std::fs::write(&head, &bytes[..24]).unwrap();
    let o = faxsim(&["analyze", head.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    // Not even a whole header.
    std::fs::write(&head, &bytes[..10]).unwrap();
    bad_input(&head);
    let o = faxsim(&["analyze", "--list", p.to_str().unwrap()]);
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("no RTP G.711 stream"));
}
