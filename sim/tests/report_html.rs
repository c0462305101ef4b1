//! The conformance report (`faxsim run --html`) of a small real run: a passing scenario, one
//! failing on purpose (a wrong expectation), one that `--peer spandsp` cannot run (skipped),
//! and one from the library. The page is checked as markup (every element closed, every SVG
//! well-formed XML), for its order and counts, and against the records (every frame of the
//! trace is on the ladder); then headless Chromium renders it, as a reader would see it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use reports::{ScenarioResult, Status, read_journal};

fn faxsim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_faxsim"))
}

const ONE_PAGE: &str = r#"description = "One page over G.711 A-law, both sides satisfied"
tags = ["report", "smoke-report"]
[channel]
preset = "g711-alaw"
[caller]
pages = [ { test = "white", count = 1 } ]
ecm = false
[caller.expect]
status = "SUCCESS"
pages = 1
[answerer.expect]
status = "SUCCESS"
frames_rx = ["...", "DCS", "...", "EOP", "DCN"]
"#;

/// The same call, with an answerer expected to count seven pages: fails on purpose.
fn wrong_pages() -> String {
    ONE_PAGE
        .replace("both sides satisfied", "a wrong page count expected")
        .replace("frames_rx = [", "pages = 7\nframes_rx = [")
}

/// Faults on both sides: no side spandsp could stand in for, so its spandsp variant is
/// skipped (the frames named never occur, so the call itself is plain).
const BOTH_FAULTED: &str = r#"description = "Faults configured on both sides (none fires)"
tags = ["report"]
[caller]
pages = [ { test = "white", count = 1 } ]
ecm = false
[[caller.faults.frames]]
fcf = "PPR"
occurrence = 1
fault = "drop"
[answerer]
[[answerer.faults.frames]]
fcf = "PPR"
occurrence = 1
fault = "drop"
[answerer.expect]
status = "SUCCESS"
"#;

struct Run {
    dir: PathBuf,
    html: String,
    results: Vec<ScenarioResult>,
}

/// The run, made once for every test of this file.
fn run() -> &'static Run {
    static RUN: OnceLock<Run> = OnceLock::new();
    RUN.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report_html");
        let _ = std::fs::remove_dir_all(&dir);
        let lib = dir.join("lib");
        std::fs::create_dir_all(lib.join("basic")).unwrap();
        std::fs::write(lib.join("basic/one-page.toml"), ONE_PAGE).unwrap();
        std::fs::write(lib.join("basic/wrong-pages.toml"), wrong_pages()).unwrap();
        std::fs::write(lib.join("basic/both-faulted.toml"), BOTH_FAULTED).unwrap();
        std::fs::create_dir_all(lib.join("errors")).unwrap();
        std::fs::copy(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/errors/rx-dcnphd.toml"),
            lib.join("errors/rx-dcnphd.toml"),
        )
        .unwrap();
        let json = dir.join("results.jsonl");
        let html = dir.join("report/report.html");
        let out = faxsim()
            .arg("run")
            .arg(&lib)
            .args(["--peer", "spandsp", "--jobs", "2", "--out"])
            .arg(dir.join("out"))
            .arg("--json")
            .arg(&json)
            .arg("--html")
            .arg(&html)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        // A scenario failed on purpose.
        assert_eq!(out.status.code(), Some(1), "{stdout}");
        Run {
            html: std::fs::read_to_string(&html).unwrap(),
            results: read_journal(&std::fs::read_to_string(&json).unwrap()).unwrap(),
            dir,
        }
    })
}

fn result<'a>(r: &'a Run, id: &str, variant: &str) -> &'a ScenarioResult {
    r.results
        .iter()
        .find(|x| x.id == id && x.variant == variant)
        .unwrap_or_else(|| panic!("no result for {id} {variant}"))
}

/// Every element closed in order (void elements aside), attribute quotes balanced: the
/// markup a browser needs no error recovery for.
fn check_markup(html: &str) -> Result<(), String> {
    const VOID: &[&str] = &["meta", "br", "img", "hr", "input", "link"];
    let mut stack: Vec<String> = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        if rest.starts_with("!DOCTYPE") {
            continue;
        }
        let end = rest.find('>').ok_or("a tag is never closed")?;
        let tag = &rest[..end];
        if !tag.matches('"').count().is_multiple_of(2) {
            return Err(format!("unbalanced quotes in <{tag}>"));
        }
        rest = &rest[end + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            match stack.pop() {
                Some(open) if open == name => {}
                other => return Err(format!("</{name}> closes {other:?}")),
            }
            continue;
        }
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        if name.is_empty() {
            return Err(format!("a bare '<' before {:?}", &tag[..tag.len().min(20)]));
        }
        if !tag.ends_with('/') && !VOID.contains(&name.as_str()) {
            stack.push(name);
        }
    }
    if stack.is_empty() {
        Ok(())
    } else {
        Err(format!("never closed: {stack:?}"))
    }
}

/// Each `<svg>…</svg>` of the page, parsed as XML.
fn check_svgs(html: &str) -> usize {
    let mut n = 0;
    let mut rest = html;
    while let Some(i) = rest.find("<svg") {
        let end = rest[i..].find("</svg>").expect("svg closed") + i + 6;
        let svg = &rest[i..end];
        let mut reader = quick_xml::Reader::from_str(svg);
        let mut depth = 0i32;
        loop {
            match reader.read_event() {
                Ok(quick_xml::events::Event::Start(_)) => depth += 1,
                Ok(quick_xml::events::Event::End(_)) => depth -= 1,
                Ok(quick_xml::events::Event::GeneralRef(e)) => {
                    // Every entity must be one XML itself knows (HTML's `&nbsp;` is not).
                    let name = e.decode().unwrap();
                    assert!(
                        e.is_char_ref() || ["amp", "lt", "gt", "quot", "apos"].contains(&&*name),
                        "SVG {n}: entity &{name}; is not XML"
                    );
                }
                Ok(quick_xml::events::Event::Eof) => break,
                Ok(_) => {}
                Err(e) => panic!("SVG {n} is not well-formed XML: {e}\n{svg}"),
            }
        }
        assert_eq!(depth, 0, "SVG {n} leaves elements open");
        n += 1;
        rest = &rest[end..];
    }
    n
}

/// The page section of one scenario.
fn section<'a>(html: &'a str, id: &str) -> &'a str {
    let anchor = format!(
        "id=\"s-{}\"",
        id.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "_")
    );
    let start = html
        .find(&anchor)
        .unwrap_or_else(|| panic!("{id} is not in the report"));
    let end = html[start..].find("</details>").unwrap() + start;
    &html[start..end]
}

#[test]
fn the_report_of_a_small_run_reads_right() {
    let r = run();
    let html = &r.html;
    check_markup(html).unwrap();
    let svgs = check_svgs(html);
    let calls = r.results.iter().filter(|x| !x.calls.is_empty()).count();
    assert!(svgs >= calls, "{svgs} ladders for {calls} scenario runs");
    assert!(!html.contains("<script"), "no script needed");
    assert!(!html.contains("src=\"http") && !html.contains("href=\"http"));

    // Counts: as many as the journal says, and the ones made on purpose.
    let wrong = result(r, "basic/wrong-pages", "builtin");
    assert_eq!(wrong.status, Status::Failed);
    let faulted = result(r, "basic/both-faulted", "spandsp");
    assert_eq!(faulted.status, Status::Skipped);
    assert_eq!(
        result(r, "basic/one-page", "builtin").status,
        Status::Passed
    );
    let count = |s: Status| r.results.iter().filter(|x| x.status == s).count();
    let line = format!(
        "<b>4</b> scenarios, 8 runs over 2 devices under test: <b>{}</b> passed, <b>{}</b> failed, <b>{}</b> lost, <b>{}</b> skipped.",
        count(Status::Passed),
        count(Status::Failed),
        count(Status::Lost),
        count(Status::Skipped)
    );
    assert!(html.contains(&line), "summary line {line}");
    assert!(html.contains("spandsp cannot stand in for either side"));

    // Failures first, open; passes folded.
    let scen = &html[html.find("<h2>Scenarios").unwrap()..];
    let at = |id: &str| scen.find(&format!("<b>{id}</b>")).unwrap();
    assert!(at("basic/wrong-pages") < at("basic/one-page"));
    assert!(section(html, "basic/wrong-pages").contains(" open>"));
    assert!(!section(html, "basic/one-page").contains(" open>"));

    // Expectation against outcome, each check with what came.
    let s = section(html, "basic/wrong-pages");
    assert!(
        s.contains(
            "<span class=\"k\">pages</span> = 7</td><td class=\"x\">\u{2717}</td><td>1</td>"
        ),
        "the failed check with its actual value"
    );
    assert!(s.contains("<span class=\"k\">status</span> = SUCCESS</td><td class=\"v\">"));
    assert!(s.contains("G.711 A-law"), "the channel in words");

    // The ladder holds every frame of the records (ECM data frames are banded).
    let one = result(r, "basic/one-page", "builtin");
    let s = section(html, "basic/one-page");
    let mut names = 0;
    for side in &one.calls[0].sides {
        let record = side.record.as_ref().unwrap();
        for f in record["frames"].as_array().unwrap() {
            let name = f["name"].as_str().unwrap();
            if name != "FCD" && name != "RCP" {
                assert!(s.contains(&format!(">{name}")), "{name} not on the ladder");
                names += 1;
            }
        }
    }
    assert!(names >= 8, "{names} frames");
    assert!(s.contains(">TCF \u{b7} V.17 14400<"), "TCF with its rate");
    assert!(
        s.contains(">page 1 data \u{b7} V.17 14400"),
        "page data with its rate"
    );

    // The received page, small, embedded.
    let thumb = s
        .split("src=\"data:image/png;base64,")
        .nth(1)
        .expect("a thumbnail of the received page");
    let png = unbase64(&thumb[..thumb.find('"').unwrap()]);
    let info = png::Decoder::new(std::io::Cursor::new(png))
        .read_info()
        .unwrap()
        .info()
        .clone();
    assert_eq!(info.width, 80);
    assert!(info.height > 100, "A4 proportions: {}", info.height);

    // Links to the records resolve from where the page is.
    let page_dir = r.dir.join("report");
    let href = s
        .split("href=\"")
        .skip(1)
        .map(|x| &x[..x.find('"').unwrap()])
        .find(|x| x.ends_with("/caller.json"))
        .expect("a link to the caller's record");
    assert!(page_dir.join(href).is_file(), "{href}");

    // Side by side: both devices under test in one section when spandsp is here.
    if spandsp_peer::require().is_some() {
        let s = section(html, "errors/rx-dcnphd");
        assert!(
            s.contains("faxsim engine (builtin)") && s.contains("spandsp as device under test")
        );
        assert!(s.contains("answerer \u{b7} spandsp") || s.contains("caller \u{b7} spandsp"));
    }
}

fn unbase64(s: &str) -> Vec<u8> {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes().filter(|&c| c != b'=') {
        let v = T.iter().position(|&t| t == c).expect("base64 character") as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

/// Chromium, or `None` after one line saying it is missing (a failure under
/// `FAXSIM_REQUIRE_SYSTEM_LIBS=1`).
fn chromium() -> Option<&'static str> {
    for name in ["chromium", "chromium-browser"] {
        if Command::new(name)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
        {
            return Some(name);
        }
    }
    if std::env::var("FAXSIM_REQUIRE_SYSTEM_LIBS").as_deref() == Ok("1") {
        panic!("FAXSIM_REQUIRE_SYSTEM_LIBS=1 but chromium is not installed");
    }
    println!("skipped: needs chromium (apt-get install chromium)");
    None
}

/// Runs chromium headless on `page` with `args`; its stdout and stderr. Killed after two
/// minutes so CI never hangs on it.
fn headless(bin: &str, page: &Path, work: &Path, args: &[&str]) -> (String, String) {
    let home = work.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let stdout = work.join("stdout.txt");
    let stderr = work.join("stderr.txt");
    let mut child = Command::new(bin)
        .env("HOME", &home)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!(
            "--user-data-dir={}",
            home.join("profile").display()
        ))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout).unwrap())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if started.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within two minutes");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    (
        std::fs::read_to_string(stdout).unwrap_or_default(),
        std::fs::read_to_string(stderr).unwrap_or_default(),
    )
}

#[test]
fn chromium_renders_the_report() {
    let Some(bin) = chromium() else { return };
    let r = run();
    let page = r.dir.join("report/report.html");
    let work = r.dir.join("chromium");
    let png = work.join("report.png");
    std::fs::create_dir_all(&work).unwrap();
    let (_, log) = headless(
        bin,
        &page,
        &work,
        &[
            &format!("--screenshot={}", png.display()),
            "--window-size=1280,2000",
            "--hide-scrollbars",
        ],
    );
    for bad in ["Uncaught", "ERROR:CONSOLE", "net::ERR_"] {
        assert!(!log.contains(bad), "chromium logged {bad}:\n{log}");
    }
    // The screenshot: the window's size, and not blank (text and lines on white).
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&png).unwrap_or_else(|e| panic!("{}: {e}\n{log}", png.display())),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), (1280, 2000));
    let px = info.color_type.samples();
    let pixels = &buf[..info.buffer_size()];
    let total = pixels.len() / px;
    let inked = pixels
        .chunks(px)
        .filter(|p| p[..3].iter().any(|&c| c < 200))
        .count();
    assert!(
        inked * 200 > total && inked * 2 < total,
        "{inked} of {total} pixels inked: blank or solid"
    );
    // The DOM as the browser built it: complete, with every ladder.
    let (dom, _) = headless(bin, &page, &work, &["--dump-dom"]);
    assert!(dom.trim_end().ends_with("</html>"), "DOM cut short");
    assert_eq!(
        dom.matches("<svg").count(),
        r.html.matches("<svg").count(),
        "every ladder is in the DOM"
    );
    assert!(dom.contains("basic/wrong-pages"));
}
