//! `faxsim endpoint --audio-stdio` driven through its pipes by a harness that runs spandsp's
//! fax terminal at the other end, in both roles.

use std::io::{Read, Write};
use std::process::{Command, Stdio};

use spandsp_peer::fax::{Fax, FaxConfig};
use t30::image::testpage::draw_text;
use t30::image::tiff::{TiffWriteOptions, read_tiff, write_tiff};
use t30::image::{Bitmap, Coding, Resolution};

fn page() -> Bitmap {
    let mut b = Bitmap::new(1728, 200, Resolution::Fine).unwrap();
    draw_text(&mut b, 40, 30, 3, 2, "STDIO ENDPOINT", true);
    b.fill_rect(600, 150, 1100, 190, true);
    b
}

/// Runs the endpoint with `args` against `fax` until spandsp reports phase E and a few
/// seconds more, then closes stdin; returns the endpoint's record.
fn drive(fax: &mut Fax, args: &[&str], result: &std::path::Path) -> serde_json::Value {
    let mut child = Command::new(env!("CARGO_BIN_EXE_faxsim"))
        .arg("endpoint")
        .args(args)
        .args(["--audio-stdio", "--result", result.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut to = child.stdin.take().unwrap();
    let mut from = child.stdout.take().unwrap();
    let mut block = [0i16; 160];
    let mut bytes = [0u8; 320];
    let mut after = None;
    for n in 0..50 * 600 {
        fax.tx(&mut block);
        for (c, s) in bytes.chunks_exact_mut(2).zip(block.iter()) {
            c.copy_from_slice(&s.to_le_bytes());
        }
        to.write_all(&bytes).unwrap();
        to.flush().unwrap();
        from.read_exact(&mut bytes).unwrap();
        for (s, c) in block.iter_mut().zip(bytes.chunks_exact(2)) {
            *s = i16::from_le_bytes([c[0], c[1]]);
        }
        fax.rx(&block);
        if fax.completion().is_some() && after.is_none() {
            after = Some(n + 150);
        }
        if after == Some(n) {
            break;
        }
    }
    drop(to);
    let mut rest = Vec::new();
    from.read_to_end(&mut rest).unwrap();
    assert!(child.wait().unwrap().success());
    serde_json::from_slice(&std::fs::read(result).unwrap()).unwrap()
}

/// The test page as an MH TIFF in `dir`.
fn source_document(dir: &std::path::Path) -> std::path::PathBuf {
    let src = dir.join("src.tif");
    std::fs::write(
        &src,
        write_tiff(&[page()], None, &TiffWriteOptions::new(Coding::Mh)).unwrap(),
    )
    .unwrap();
    src
}

#[test]
fn stdio_endpoint_receives_from_spandsp() {
    let Some(sp) = spandsp_peer::require() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let src = source_document(dir.path());
    let mut cfg = FaxConfig::new(true);
    cfg.tx_file = Some(src);
    let mut fax = Fax::new(&sp, &cfg).unwrap();
    let rx = dir.path().join("rx.tif");
    let r = drive(
        &mut fax,
        &["--role", "answerer", "--receive", rx.to_str().unwrap()],
        &dir.path().join("r.json"),
    );
    assert_eq!(fax.completion(), Some(0));
    assert_eq!(r["status"], "SUCCESS", "{r}");
    assert_eq!(r["pages"], 1);
    let got = read_tiff(&std::fs::read(&rx).unwrap()).unwrap();
    assert!(got[0].bitmap.data() == page().data());
}

#[test]
fn stdio_endpoint_sends_to_spandsp() {
    let Some(sp) = spandsp_peer::require() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let src = source_document(dir.path());
    let rx = dir.path().join("rx.tif");
    let mut cfg = FaxConfig::new(false);
    cfg.rx_file = Some(rx.clone());
    let mut fax = Fax::new(&sp, &cfg).unwrap();
    let r = drive(
        &mut fax,
        &[
            "--role",
            "caller",
            "--send",
            src.to_str().unwrap(),
            "--ecm",
            "off",
        ],
        &dir.path().join("r.json"),
    );
    assert_eq!(fax.completion(), Some(0));
    assert_eq!(r["status"], "SUCCESS", "{r}");
    assert_eq!(r["ecm"], "no");
    drop(fax);
    let got = read_tiff(&std::fs::read(&rx).unwrap()).unwrap();
    assert!(got[0].bitmap.data() == page().data());
}
