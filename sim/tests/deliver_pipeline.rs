//! The reference receive pipeline against real servers on loopback: an SMTP server (aiosmtpd,
//! with a handler that parses each mail with Python's MIME reader) and an FTP server
//! (pyftpdlib), for success, partial failure, zero pages, a PDF conversion failure, the
//! concurrency limit and backends that are down.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use sim::deliver::{Config, Delivery, DeliveryOutcome, Pipeline};
use sim::endpoint::Record;

fn faxsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_faxsim"))
        .args(args)
        .output()
        .unwrap()
}

/// The system Python, where Debian's python3-aiosmtpd and python3-pyftpdlib live.
fn python() -> &'static str {
    if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    }
}

/// Whether the servers can run; one line and `false` when not (a failure under
/// FAXSIM_REQUIRE_SYSTEM_LIBS=1).
fn servers_available() -> bool {
    let ok = Command::new(python())
        .args(["-c", "import aiosmtpd, pyftpdlib"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        let msg = "skipped: the delivery tests need Python's aiosmtpd and pyftpdlib — apt-get install python3-aiosmtpd python3-pyftpdlib";
        assert!(
            std::env::var("FAXSIM_REQUIRE_SYSTEM_LIBS").is_err(),
            "{msg}"
        );
        eprintln!("{msg}");
    }
    ok
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A server process, killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_listening(port: u16, child: &mut Child) {
    for _ in 0..400 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(s)) = child.try_wait() {
            panic!("server on port {port} exited: {s}");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("no server listening on port {port}");
}

fn smtp_server(dir: &Path) -> (Server, u16) {
    std::fs::create_dir_all(dir).unwrap();
    let port = free_port();
    let support = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/deliver_support");
    let mut child = Command::new(python())
        .args(["-m", "aiosmtpd", "-n", "-l"])
        .arg(format!("127.0.0.1:{port}"))
        .args(["-c", "smtp_sink.Sink"])
        .arg(dir)
        .env("PYTHONPATH", support)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_listening(port, &mut child);
    (Server(child), port)
}

fn ftp_server(dir: &Path) -> (Server, u16) {
    std::fs::create_dir_all(dir.join("incoming")).unwrap();
    let port = free_port();
    let mut child = Command::new(python())
        .args([
            "-m",
            "pyftpdlib",
            "-i",
            "127.0.0.1",
            "-w",
            "-u",
            "fax",
            "-P",
            "secret",
        ])
        .arg("-p")
        .arg(port.to_string())
        .arg("-d")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_listening(port, &mut child);
    (Server(child), port)
}

/// A two-page all-white document.
fn document(dir: &Path) -> PathBuf {
    let p = dir.join("doc.tif");
    if !p.exists() {
        let o = faxsim(&[
            "doc",
            "testpage",
            "--kind",
            "white",
            "--pages",
            "2",
            "--out",
            p.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    p
}

/// `faxsim call` of the two-page document, cut at `limit_s` seconds, with `extra` arguments.
/// 30 s completes the call; 15 s cuts it after page 1 (FAILED with 1 page); 8 s before any.
fn call(dir: &Path, name: &str, limit_s: u32, extra: &[&str]) -> (PathBuf, Output) {
    let doc = document(dir);
    let out = dir.join(name);
    let limit = limit_s.to_string();
    let mut args = vec![
        "call",
        "--send",
        doc.to_str().unwrap(),
        "--modems",
        "v17",
        "--limit-s",
        &limit,
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let o = faxsim(&args);
    (out, o)
}

fn record(out: &Path) -> Record {
    serde_json::from_slice(&std::fs::read(out.join("answerer.json")).unwrap()).unwrap()
}

fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| !n.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn config(dir: &Path, smtp: u16, ftp: u16, ftp_password: &str, extra: &str) -> PathBuf {
    let text = format!(
        r#"
[pipeline]
spool = "spool"
log = "pipeline.log"
{extra}

[backends.office]
type = "mail"
host = "127.0.0.1"
port = {smtp}
from = "fax@example.net"
to = ["office@example.net"]
subject = "Fax from {{source}} to {{destination}}: {{pages}} page(s), {{status}}"
body = "Dear office,\n\na fax for {{destination}} from {{remote_station}} arrived at {{time}}."

[backends.archive]
type = "ftp"
host = "127.0.0.1"
port = {ftp}
user = "fax"
password = "{ftp_password}"
directory = "incoming"

[backends.journal]
type = "log"
file = "faxes.log"

[[routes]]
numbers = ["+1555019?"]
backends = ["office", "archive", "journal"]

[default]
backends = ["journal"]
"#
    );
    let p = dir.join("deliver.toml");
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn success_partial_and_zero_pages_reach_mail_ftp_log_and_spool() {
    if !servers_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let (_smtp, smtp_port) = smtp_server(&dir.join("mail"));
    let (_ftp, ftp_port) = ftp_server(&dir.join("ftp"));
    let cfg = config(dir, smtp_port, ftp_port, "secret", "");
    let cfg = cfg.to_str().unwrap();

    let mut outs = Vec::new();
    for (name, limit, from) in [
        ("ok", 30, "+15550100"),
        ("partial", 15, "+15550101"),
        ("empty", 8, "+15550102"),
    ] {
        let (out, o) = call(
            dir,
            name,
            limit,
            &[
                "--deliver",
                cfg,
                "--from-number",
                from,
                "--to-number",
                "+15550199",
            ],
        );
        let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(stdout.contains("delivery "), "{stdout}");
        assert!(!stdout.contains("FAILED:"), "{stdout}");
        let report: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("delivery.json")).unwrap()).unwrap();
        outs.push((out, record_of(&report), report, from));
    }
    fn record_of(v: &serde_json::Value) -> String {
        v["outcome"].as_str().unwrap().to_string()
    }
    let outcomes: Vec<&str> = outs.iter().map(|o| o.1.as_str()).collect();
    assert_eq!(outcomes, ["delivered", "incomplete", "logged_only"]);
    let (ok_out, _, ok_report, _) = &outs[0];
    let (part_out, _, part_report, _) = &outs[1];
    assert_eq!(record(part_out).pages, 1);
    assert_eq!(record(part_out).status, "FAILED");
    assert_eq!(record(&outs[2].0).pages, 0);

    // Two mails (none for the call without pages), parsed by Python's MIME reader.
    let mail = dir.join("mail");
    assert_eq!(files(&mail), ["1", "2"]);
    let m1 = mail.join("1");
    assert_eq!(
        read(&m1.join("subject.txt")),
        "Fax from +15550100 to +15550199: 2 page(s), SUCCESS"
    );
    assert_eq!(read(&m1.join("rcpt.txt")), "office@example.net");
    assert_eq!(
        read(&m1.join("types.txt")),
        "multipart/mixed multipart/alternative text/plain text/html application/pdf"
    );
    let plain = read(&m1.join("plain.txt"));
    assert!(
        plain.starts_with("Dear office,\n\na fax for +15550199 from +1 555 0100 arrived at "),
        "{plain}"
    );
    assert!(!plain.contains("incomplete"), "{plain}");
    assert!(read(&m1.join("html.txt")).contains("<p>Dear office,</p>"));
    let attached: Vec<String> = files(&m1)
        .into_iter()
        .filter(|n| n.starts_with("attachment-"))
        .collect();
    assert_eq!(attached.len(), 1, "{attached:?}");
    let name = attached[0].trim_start_matches("attachment-");
    assert!(
        name.starts_with("fax-+15550100_") && name.ends_with("-2Pages.pdf"),
        "{name}"
    );
    let pdf = std::fs::read(ok_out.join("received.pdf")).unwrap();
    assert_eq!(std::fs::read(m1.join(&attached[0])).unwrap(), pdf);

    // The partial fax: ERROR in the name, the mail says it may be incomplete and why.
    let m2 = mail.join("2");
    let plain = read(&m2.join("plain.txt"));
    assert!(
        plain.starts_with("This fax may be incomplete: the call ended with the error \"The call dropped prematurely\". "),
        "{plain}"
    );
    let why = sim::deliver::explanation("The call dropped prematurely");
    assert!(!why.is_empty() && plain.contains(why), "{plain}");
    for detail in [
        "From: +15550101",
        "To: +15550199",
        "Pages: 1",
        "Status: FAILED",
        "Time: ",
    ] {
        assert!(plain.contains(detail), "{detail} missing: {plain}");
    }
    let rec = record(part_out);
    let part_pdf = std::fs::read(part_out.join(rec.files.pdf.as_ref().unwrap())).unwrap();
    let attached: Vec<String> = files(&m2)
        .into_iter()
        .filter(|n| n.starts_with("attachment-"))
        .collect();
    assert_eq!(attached.len(), 1);
    assert!(
        attached[0].ends_with("-1Pages-ERROR-The_call_dropped_prematurely.pdf"),
        "{attached:?}"
    );
    assert_eq!(std::fs::read(m2.join(&attached[0])).unwrap(), part_pdf);

    // FTP: <source number>-<epoch>.pdf, byte-identical; the epoch is the call id's.
    let ftp = dir.join("ftp/incoming");
    let epoch = |r: &serde_json::Value| {
        r["call_id"]
            .as_str()
            .unwrap()
            .split('.')
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        files(&ftp),
        [
            format!("+15550100-{}.pdf", epoch(ok_report)),
            format!("+15550101-{}.pdf", epoch(part_report)),
        ]
    );
    assert_eq!(
        std::fs::read(ftp.join(files(&ftp)[0].clone())).unwrap(),
        pdf
    );
    assert_eq!(
        std::fs::read(ftp.join(files(&ftp)[1].clone())).unwrap(),
        part_pdf
    );

    // The log backend: one line per received fax, the empty call included.
    let log = read(&dir.join("faxes.log"));
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 3, "{log}");
    assert!(lines[0].contains("from=+15550100 to=+15550199 status=SUCCESS pages=2 error=\"OK\""));
    assert!(lines[1].contains("status=FAILED pages=1 error=\"The call dropped prematurely\""));
    assert!(lines[2].contains("from=+15550102") && lines[2].contains("pages=0"));

    // The spool: everything filed away (old/ TIFFs, pdf/ PDFs), nothing left in new/ or tmp/.
    let spool = dir.join("spool");
    assert!(files(&spool.join("new")).is_empty() && files(&spool.join("tmp")).is_empty());
    let old = files(&spool.join("old"));
    assert_eq!(old.len(), 2, "{old:?}");
    assert!(old[0].starts_with("+15550100_") && old[0].ends_with(".tif"));
    assert_eq!(
        std::fs::read(spool.join("old").join(&old[0])).unwrap(),
        std::fs::read(ok_out.join("received.tif")).unwrap()
    );
    let filed = files(&spool.join("pdf"));
    assert_eq!(filed.len(), 2, "{filed:?}");
    assert_eq!(std::fs::read(spool.join("pdf").join(name)).unwrap(), pdf);

    // The step log: every line carries its call's id; the empty call was log-only.
    let steps = read(&dir.join("pipeline.log"));
    for (_, _, report, _) in &outs {
        let id = format!("[{}]", report["call_id"].as_str().unwrap());
        let n = steps.lines().filter(|l| l.contains(&id)).count();
        assert_eq!(
            n,
            report["steps"].as_array().unwrap().len(),
            "{id}: {steps}"
        );
    }
    assert!(
        steps.contains("mail:office: skipped: no pages received"),
        "{steps}"
    );
    assert!(steps.contains("ftp:archive: success "), "{steps}");
}

#[test]
fn a_pdf_conversion_failure_delivers_the_raw_tiff() {
    if !servers_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let (_smtp, smtp_port) = smtp_server(&dir.join("mail"));
    let (_ftp, ftp_port) = ftp_server(&dir.join("ftp"));
    let cfg = config(dir, smtp_port, ftp_port, "secret", "");
    let (out, o) = call(dir, "call", 30, &[]);
    assert!(o.status.success());
    // What write_received leaves when the PDF cannot be written: no PDF, "PDF Conversion".
    let mut rec = record(&out);
    std::fs::remove_file(out.join(rec.files.pdf.take().unwrap())).unwrap();
    rec.error = "PDF Conversion".into();
    std::fs::write(out.join("answerer.json"), serde_json::to_vec(&rec).unwrap()).unwrap();

    let o = faxsim(&[
        "deliver",
        "--config",
        cfg.to_str().unwrap(),
        "--record",
        out.join("answerer.json").to_str().unwrap(),
        "--from",
        "+15550100",
        "--to",
        "+15550199",
        "--epoch",
        "1502541922",
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("TiffDelivered \"PDF Conversion\""),
        "{stdout}"
    );
    let tiff = std::fs::read(out.join("received.tif")).unwrap();
    let m = dir.join("mail/1");
    assert_eq!(
        read(&m.join("types.txt")),
        "multipart/mixed multipart/alternative text/plain text/html image/tiff"
    );
    assert!(read(&m.join("plain.txt")).starts_with(
        "The received fax could not be converted to PDF (error \"PDF Conversion\"); the raw TIFF is attached."
    ));
    assert_eq!(
        std::fs::read(m.join("attachment-+15550100_20170812_12.45.22.tif")).unwrap(),
        tiff
    );
    assert_eq!(
        std::fs::read(dir.join("ftp/incoming/+15550100-1502541922.tif")).unwrap(),
        tiff
    );
    assert!(read(&dir.join("faxes.log")).contains("error=\"PDF Conversion\""));
    assert_eq!(
        files(&dir.join("spool/old")),
        ["+15550100_20170812_12.45.22.tif"]
    );
}

#[test]
fn backends_down_keep_the_fax_in_the_spool_and_report_it() {
    if !servers_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    // Nothing listens on the SMTP port; the FTP server refuses the password.
    let (_ftp, ftp_port) = ftp_server(&dir.join("ftp"));
    let cfg = config(dir, free_port(), ftp_port, "wrong", "");
    let (out, o) = call(
        dir,
        "call",
        30,
        &[
            "--deliver",
            cfg.to_str().unwrap(),
            "--from-number",
            "+15550100",
            "--to-number",
            "+15550199",
        ],
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    // The call itself succeeded: the failed delivery is reported, not an exit status.
    assert_eq!(o.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("FAILED: mail:office, ftp:archive (kept in spool: 2)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  mail:office FAILED: 127.0.0.1:"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  ftp:archive FAILED: 127.0.0.1:") && stdout.contains("login as fax"),
        "{stdout}"
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("delivery.json")).unwrap()).unwrap();
    assert_eq!(report["kept_in_spool"].as_array().unwrap().len(), 2);

    let spool = dir.join("spool");
    let new = files(&spool.join("new"));
    let tmp = files(&spool.join("tmp"));
    assert_eq!((new.len(), tmp.len()), (1, 1), "{new:?} {tmp:?}");
    assert_eq!(
        std::fs::read(spool.join("new").join(&new[0])).unwrap(),
        std::fs::read(out.join("received.tif")).unwrap()
    );
    assert_eq!(
        std::fs::read(spool.join("tmp").join(&tmp[0])).unwrap(),
        std::fs::read(out.join("received.pdf")).unwrap()
    );
    assert!(files(&spool.join("old")).is_empty() && files(&spool.join("pdf")).is_empty());
    assert!(files(&dir.join("ftp/incoming")).is_empty());
    let steps = read(&dir.join("pipeline.log"));
    assert!(steps.contains("mail:office: FAILED "), "{steps}");
    assert!(
        steps.contains("keep: a backend failed: kept in spool "),
        "{steps}"
    );
    // The log backend still recorded the fax.
    assert_eq!(read(&dir.join("faxes.log")).lines().count(), 1);
}

#[test]
fn the_concurrency_limit_refuses_calls_above_it() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let (out, o) = call(dir, "call", 30, &[]);
    assert!(o.status.success());
    let text = "[pipeline]\nspool = \"spool\"\nlog = \"pipeline.log\"\nmax_sessions = 2\n\n\
                [backends.journal]\ntype = \"log\"\nfile = \"faxes.log\"\n\n\
                [default]\nbackends = [\"journal\"]\n";
    let cfg = dir.join("limit.toml");
    std::fs::write(&cfg, text).unwrap();

    // Through the command: three receptions starting at the same second, limit 2.
    let answerer = out.join("answerer.json");
    let a = answerer.to_str().unwrap();
    let o = faxsim(&[
        "deliver",
        "--config",
        cfg.to_str().unwrap(),
        "--record",
        a,
        "--record",
        a,
        "--record",
        a,
        "--epoch",
        "1000",
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{stdout}");
    let outcomes: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .collect();
    assert_eq!(outcomes, ["Delivered", "Delivered", "Refused"], "{stdout}");
    assert_eq!(read(&dir.join("faxes.log")).lines().count(), 2);
    assert!(
        read(&dir.join("pipeline.log"))
            .contains("[1000.3] refused: 2 reception(s) in progress, limit 2: call not answered")
    );

    // Through the library: a reception after the first two ended is accepted again.
    let pipeline = Pipeline::new(Config::from_file(&cfg).unwrap());
    let rec = record(&out);
    let end = 5000 + rec.duration_s.ceil() as u64;
    let outcomes: Vec<DeliveryOutcome> = [5000, 5001, 5002, end + 1]
        .iter()
        .map(|&t| {
            pipeline
                .deliver(&Delivery::new(&rec, &out, "+15550100", "+15550199", t))
                .outcome
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            DeliveryOutcome::Delivered,
            DeliveryOutcome::Delivered,
            DeliveryOutcome::Refused,
            DeliveryOutcome::Delivered
        ]
    );
}

#[test]
fn a_bad_configuration_is_a_one_line_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let cfg = config(dir, 25, 21, "x", "max_sesions = 3");
    let o = faxsim(&[
        "deliver",
        "--config",
        cfg.to_str().unwrap(),
        "--record",
        "nowhere.json",
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(&format!("faxsim: {}:5: ", cfg.display()))
            && stderr.contains("max_sesions"),
        "{stderr}"
    );
    // faxsim call checks it before making the call.
    let (out, o) = call(dir, "call", 30, &["--deliver", cfg.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!out.join("answerer.json").exists());
}
