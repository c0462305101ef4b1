//! The printer backend through real CUPS: the test starts its own scheduler (cupsd in the
//! foreground, private configuration, a loopback port) with a cups-pdf queue, and the
//! pipeline's `lp -d QUEUE` jobs come out as PDF files with the received pages.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const CUPSD: &str = "/usr/sbin/cupsd";
const CUPS_PDF_BACKEND: &str = "/usr/lib/cups/backend/cups-pdf";
const CUPS_PDF_PPD: &str = "/usr/share/ppd/cups-pdf/CUPS-PDF_opt.ppd";

fn cups_available() -> bool {
    let missing: Vec<&str> = [CUPSD, CUPS_PDF_BACKEND, CUPS_PDF_PPD]
        .into_iter()
        .filter(|p| !Path::new(p).exists())
        .collect();
    let tools = ["lp", "lpadmin", "lpstat", "pdfinfo"]
        .into_iter()
        .all(|t| Command::new(t).arg("--help").output().is_ok());
    if !missing.is_empty() || !tools {
        let msg = format!(
            "skipped: printing needs CUPS and cups-pdf (missing: {}) — apt-get install cups printer-driver-cups-pdf poppler-utils",
            if missing.is_empty() {
                "lp/lpadmin/lpstat/pdfinfo".into()
            } else {
                missing.join(", ")
            }
        );
        assert!(
            std::env::var("FAXSIM_REQUIRE_SYSTEM_LIBS").is_err(),
            "{msg}"
        );
        eprintln!("{msg}");
        return false;
    }
    true
}

/// A private cupsd, stopped when dropped.
struct Cupsd(Child);

impl Drop for Cupsd {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_cupsd(dir: &Path) -> (Cupsd, String) {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let etc = dir.join("etc");
    for d in ["etc/ppd", "spool", "tmp", "cache", "state", "log"] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    // Filters run as the unprivileged lp user: the folders must be reachable.
    Command::new("chmod")
        .args(["-R", "a+rwX"])
        .arg(dir)
        .status()
        .unwrap();
    std::fs::write(
        etc.join("cupsd.conf"),
        format!(
            "Listen 127.0.0.1:{port}\nLogLevel info\nWebInterface No\n\
             <Location />\n Order allow,deny\n Allow all\n</Location>\n\
             <Location /admin>\n Order allow,deny\n Allow all\n</Location>\n\
             <Policy default>\n <Limit All>\n  Order allow,deny\n  Allow all\n </Limit>\n</Policy>\n"
        ),
    )
    .unwrap();
    let d = dir.display();
    std::fs::write(
        etc.join("cups-files.conf"),
        format!(
            "ServerRoot {d}/etc\nRequestRoot {d}/spool\nTempDir {d}/tmp\nCacheDir {d}/cache\n\
             StateDir {d}/state\nErrorLog {d}/log/error_log\nAccessLog {d}/log/access_log\n\
             PageLog {d}/log/page_log\nPrintcap {d}/printcap\nServerBin /usr/lib/cups\n\
             DataDir /usr/share/cups\nSystemGroup root\n"
        ),
    )
    .unwrap();
    let mut child = Command::new(CUPSD)
        .arg("-f")
        .arg("-c")
        .arg(etc.join("cupsd.conf"))
        .arg("-s")
        .arg(etc.join("cups-files.conf"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..400 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return (Cupsd(child), format!("127.0.0.1:{port}"));
        }
        if let Ok(Some(s)) = child.try_wait() {
            panic!("cupsd exited: {s}; see {d}/log/error_log");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("cupsd is not listening on {port}");
}

fn pdf_pages(p: &Path) -> u32 {
    let o = Command::new("pdfinfo").arg(p).output().unwrap();
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("Pages:").map(|n| n.trim().parse().unwrap()))
        .unwrap_or_else(|| panic!("{}: no page count", p.display()))
}

#[test]
fn the_printer_backend_prints_pdf_and_tiff_through_cups() {
    if !cups_available() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (_cupsd, server) = start_cupsd(&dir.join("cups"));
    let lpadmin = Command::new("lpadmin")
        .args(["-p", "FAXPDF", "-v", "cups-pdf:/", "-E", "-P", CUPS_PDF_PPD])
        .env("CUPS_SERVER", &server)
        .output()
        .unwrap();
    assert!(
        lpadmin.status.success(),
        "{}",
        String::from_utf8_lossy(&lpadmin.stderr)
    );

    let doc = dir.join("doc.tif");
    let o = Command::new(env!("CARGO_BIN_EXE_faxsim"))
        .args([
            "doc", "testpage", "--kind", "impress", "--pages", "2", "--out",
        ])
        .arg(&doc)
        .output()
        .unwrap();
    assert!(o.status.success());
    let cfg = dir.join("print.toml");
    std::fs::write(
        &cfg,
        "[pipeline]\nspool = \"spool\"\nlog = \"pipeline.log\"\n\n\
         [backends.front_pdf]\ntype = \"printer\"\nqueue = \"FAXPDF\"\nformat = \"pdf\"\n\n\
         [backends.front_tiff]\ntype = \"printer\"\nqueue = \"FAXPDF\"\nformat = \"tiff\"\n\n\
         [default]\nbackends = [\"front_pdf\", \"front_tiff\"]\n",
    )
    .unwrap();
    // A calling number of this test run only: cups-pdf names its files after the job title.
    let source = format!("+1555{}", std::process::id());
    let out = dir.join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_faxsim"))
        .args(["call", "--send"])
        .arg(&doc)
        .args(["--modems", "v17", "--out"])
        .arg(&out)
        .args(["--deliver"])
        .arg(&cfg)
        .args(["--from-number", &source, "--to-number", "+15550300"])
        .env("CUPS_SERVER", &server)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("Delivered \"OK\"") && !stdout.contains("FAILED"),
        "{stdout}"
    );
    let steps = std::fs::read_to_string(dir.join("pipeline.log")).unwrap();
    assert_eq!(
        steps
            .matches("success queue FAXPDF: request id is FAXPDF-")
            .count(),
        2,
        "{steps}"
    );

    // Both jobs complete; cups-pdf writes each to the job owner's ~/PDF, named after the title.
    let mut done = 0;
    for _ in 0..600 {
        let o = Command::new("lpstat")
            .args(["-W", "completed", "-o", "FAXPDF"])
            .env("CUPS_SERVER", &server)
            .output()
            .unwrap();
        done = String::from_utf8_lossy(&o.stdout).lines().count();
        if done == 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        done,
        2,
        "jobs not completed; see {}",
        dir.join("cups/log/error_log").display()
    );
    let home = PathBuf::from(std::env::var("HOME").unwrap_or_else(|_| "/root".into())).join("PDF");
    let token = source.trim_start_matches('+');
    let printed: Vec<PathBuf> = std::fs::read_dir(&home)
        .map(|d| {
            d.map(|e| e.unwrap().path())
                .filter(|p| p.file_name().unwrap().to_string_lossy().contains(token))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(printed.len(), 2, "in {}: {printed:?}", home.display());
    // The job of each backend, from the request ids in the step log (front_pdf runs first).
    let job_of = |backend: &str| -> String {
        let line = steps
            .lines()
            .find(|l| l.contains(&format!("printer:{backend}: success")))
            .unwrap();
        let id = line.rsplit("FAXPDF-").next().unwrap();
        id.split(|c: char| !c.is_ascii_digit())
            .next()
            .unwrap()
            .to_string()
    };
    let file_of = |backend: &str| {
        let suffix = format!("job_{}.pdf", job_of(backend));
        printed
            .iter()
            .find(|p| p.to_string_lossy().ends_with(&suffix))
            .unwrap_or_else(|| panic!("{backend}: no {suffix} in {printed:?}"))
            .clone()
    };
    let (pdf_job, tiff_job) = (file_of("front_pdf"), file_of("front_tiff"));
    let (pdf_pages_printed, tiff_pages_printed) = (pdf_pages(&pdf_job), pdf_pages(&tiff_job));
    for p in &printed {
        std::fs::remove_file(p).unwrap();
    }
    // The PDF prints whole. CUPS's image filter prints only the first image of a multi-page
    // TIFF: a known limit of printing raw TIFFs, which is why format = "pdf" is the default.
    assert_eq!(pdf_pages_printed, 2, "{}", pdf_job.display());
    assert_eq!(tiff_pages_printed, 1, "{}", tiff_job.display());
}
