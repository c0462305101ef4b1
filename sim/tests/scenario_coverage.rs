//! Every string of docs/reference/error-strings.md table B, and every table-A code a call can
//! reach, is expected by at least one scenario of the library, on some side.

use std::collections::BTreeSet;
use std::path::Path;

use sim::scenario::{Scenario, load_dir};
use t30::completion::Completion;

/// Table-A codes no call can produce, and why. Everything else must be covered.
const NOT_REACHABLE_IN_A_CALL: &[(&str, &str)] = &[
    (
        "FILEERROR",
        "document layer: a missing file is reported as \"Document loading error.\"",
    ),
    (
        "NOPAGE",
        "document layer: faxsim loads whole documents before the call",
    ),
    (
        "BADTIFF",
        "document layer: an unusable file is reported as \"Document generation error\"",
    ),
    ("BADPAGE", "document layer: as BADTIFF"),
    ("BADTAG", "document layer: as BADTIFF"),
    ("BADTIFFHDR", "document layer: as BADTIFF"),
    (
        "NOMEM",
        "pages are held in memory; no call runs out of page storage",
    ),
    (
        "RX_NOEOL",
        "needs a sender whose carrier stays up without end-of-line codes; the engine's faults cut \
         the carrier, which a receiver over audio reports as RX_NOCARRIER (t30 engine tests reach it)",
    ),
    (
        "RX_NOFAX",
        "as RX_NOEOL: over audio a page that never starts is a lost carrier",
    ),
];

fn reference() -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/reference/error-strings.md");
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// (code, name, string) of table A and the strings of table B.
fn tables(md: &str) -> (Vec<(u32, String, String)>, Vec<String>) {
    let mut a = Vec::new();
    let mut b = Vec::new();
    let mut section = ' ';
    for line in md.lines() {
        if line.starts_with("## A.") {
            section = 'A';
        } else if line.starts_with("## B.") {
            section = 'B';
        } else if line.starts_with("## ") {
            section = ' ';
        }
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() < 4 || !line.starts_with('|') || cells[1].starts_with("---") {
            continue;
        }
        match section {
            'A' => {
                if let Ok(code) = cells[1].parse::<u32>() {
                    a.push((code, cells[2].to_string(), cells[3].to_string()));
                }
            }
            'B' if cells[1] != "string" => b.push(cells[1].to_string()),
            _ => {}
        }
    }
    (a, b)
}

fn library() -> Vec<Scenario> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    load_dir(&[dir]).unwrap_or_else(|e| panic!("{}", e[0]))
}

/// Every error string, completion name and code some scenario expects.
fn expected(all: &[Scenario]) -> (BTreeSet<String>, BTreeSet<String>, BTreeSet<u32>) {
    let mut strings = BTreeSet::new();
    let mut names = BTreeSet::new();
    let mut codes = BTreeSet::new();
    for s in all {
        for side in [&s.caller, &s.answerer] {
            let e = &side.expect;
            if let Some(x) = &e.error {
                strings.insert(x.clone());
                if let Some(c) = Completion::from_text(x) {
                    names.insert(c.name().to_string());
                    codes.insert(c.code() as u32);
                }
            }
            if let Some(n) = &e.completion {
                names.insert(n.clone());
            }
            if let Some(c) = e.code {
                codes.insert(c);
            }
        }
    }
    (strings, names, codes)
}

#[test]
fn the_reference_tables_parse() {
    let (a, b) = tables(&reference());
    assert_eq!(a.len(), 62, "table A rows");
    assert_eq!(b.len(), 24, "table B rows");
    for (code, name, text) in &a {
        let c = Completion::from_code(*code as u8).expect("known code");
        assert_eq!(c.name(), name);
        assert_eq!(c.text(), text);
    }
}

#[test]
fn every_table_b_string_has_a_scenario() {
    let (_, b) = tables(&reference());
    let (strings, _, _) = expected(&library());
    let missing: Vec<&String> = b.iter().filter(|s| !strings.contains(*s)).collect();
    assert!(
        missing.is_empty(),
        "table-B strings no scenario expects: {missing:?}"
    );
}

#[test]
fn every_reachable_table_a_code_has_a_scenario() {
    let (a, _) = tables(&reference());
    let (_, names, codes) = expected(&library());
    for (name, _) in NOT_REACHABLE_IN_A_CALL {
        assert!(
            a.iter().any(|(_, n, _)| n == name),
            "{name} is not in table A"
        );
    }
    let missing: Vec<String> = a
        .iter()
        .filter(|(_, name, _)| !NOT_REACHABLE_IN_A_CALL.iter().any(|(n, _)| n == name))
        .filter(|(code, name, _)| !names.contains(name) && !codes.contains(code))
        .map(|(code, name, _)| format!("{code} {name}"))
        .collect();
    assert!(
        missing.is_empty(),
        "reachable table-A codes no scenario expects: {missing:?}"
    );
}
