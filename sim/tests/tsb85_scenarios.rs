//! The TSB-85 library: one scenario file per procedure of docs/reference/tsb85-catalogue.md
//! (138 + 13), each with expectations that agree with the catalogue, and a representative
//! subset run end to end.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sim::endpoint::script::{Step, validate};
use sim::scenario::Scenario;
use sim::scenario::load::load_scenario;
use sim::scenario::runner::{RunOptions, run_scenario};
use sim::session::SideKind;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Procedure id → the catalogue's expected final status ("" when it has none).
fn catalogue() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(root().join("docs/reference/tsb85-catalogue.md"))
        .expect("catalogue");
    let mut out = BTreeMap::new();
    let mut in_list = false;
    for line in text.lines() {
        if line.starts_with("**Annex A") {
            in_list = true;
        }
        let Some(item) = line.strip_prefix("- ") else {
            continue;
        };
        if !in_list {
            continue;
        }
        let head = item.split(": ").next().unwrap_or(item);
        let (names, status) = match head.split_once(" [") {
            Some((n, s)) => (n, s.trim_end_matches(']').replace('–', "")),
            None => (head, String::new()),
        };
        let ids: Vec<String> = if let Some((a, b)) = names.split_once(" … ") {
            // "OTGC09-01 … OTGC09-12"
            let (stem, from) = a.rsplit_once('-').expect("range start");
            let to = b.rsplit_once('-').expect("range end").1;
            let (from, to): (u32, u32) = (from.parse().unwrap(), to.parse().unwrap());
            (from..=to).map(|n| format!("{stem}-{n:02}")).collect()
        } else {
            names
                .split(", ")
                .flat_map(|n| n.split(" and "))
                .map(|n| n.trim().to_string())
                .collect()
        };
        for id in ids {
            out.insert(id, status.clone());
        }
    }
    out
}

fn files() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("scenarios/tsb85"))
        .expect("scenarios/tsb85")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    v.sort();
    v
}

fn script_steps(s: &Scenario) -> (&Vec<Step>, &sim::scenario::ScenarioSide) {
    match (&s.caller.kind, &s.answerer.kind) {
        (SideKind::Script(steps), SideKind::Builtin) => (steps, &s.answerer),
        (SideKind::Builtin, SideKind::Script(steps)) => (steps, &s.caller),
        _ => panic!(
            "{}: one script side (the tester) and one builtin side",
            s.id
        ),
    }
}

/// Procedures whose final status we pin differently from the catalogue: (id, catalogue,
/// ours). Each file's description explains why.
const DEVIATIONS: &[(&str, &str, &str)] = &[("MTGX02", "CALLDROPPED", "TX_BADDCS")];

#[test]
fn one_file_per_procedure_151_in_all_each_with_expectations() {
    let cat = catalogue();
    assert_eq!(cat.len(), 151, "catalogue: {:?}", cat.keys());
    let files = files();
    assert_eq!(files.len(), 151);
    let ids: Vec<String> = files
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    let want: Vec<String> = cat.keys().cloned().collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(sorted, want);
    for path in &files {
        let s = load_scenario(path).unwrap_or_else(|e| panic!("{e}"));
        let id = path.file_stem().unwrap().to_string_lossy().into_owned();
        assert!(s.has_tag(&format!("tsb85:{id}")), "{id}: tag");
        let (steps, dut) = script_steps(&s);
        for (i, step) in steps.iter().enumerate() {
            validate(step).unwrap_or_else(|e| panic!("{id} step {}: {e}", i + 1));
        }
        let expects = steps
            .iter()
            .filter(|st| {
                matches!(
                    st,
                    Step::ExpectFrame { .. }
                        | Step::ExpectTone { .. }
                        | Step::ExpectSilence { .. }
                        | Step::ExpectSignal { .. }
                        | Step::ExpectClear { .. }
                )
            })
            .count();
        assert!(expects > 0, "{id}: the tester checks nothing");
        assert!(!dut.expect.is_empty(), "{id}: no expectation on the device");
        let status = &cat[&id];
        if let Some(&(_, cat_status, ours)) = DEVIATIONS.iter().find(|d| d.0 == id) {
            // A deliberate deviation: the catalogue still says what this test reads, and the
            // file's description says what we expect instead and why.
            assert_eq!(status, cat_status, "{id}: the catalogue changed");
            assert_eq!(dut.expect.completion.as_deref(), Some(ours), "{id}");
            assert!(
                s.description.contains("catalogue expects"),
                "{id}: a deviation must be explained in the description"
            );
        } else if !status.is_empty() {
            assert_eq!(
                dut.expect.completion.as_deref(),
                Some(status.as_str()),
                "{id}: the catalogue's final status"
            );
        }
        assert!(s.dut.is_some(), "{id}: names the device under test");
    }
}

#[test]
fn a_representative_subset_passes() {
    // At least one procedure of every annex and of the supplementary set, covering every
    // step kind; well under a minute together.
    let subset = [
        "MRGN01",
        "MRGN07",
        "MRGN11",
        "MRGN17",
        "ORGC02",
        "OREN10",
        "OREN03",
        "MRGX10",
        "MRGX11",
        "MTGP02",
        "MTGN01",
        "MTGN27",
        "OTGC08",
        "OTEN02",
        "OTEN05",
        "MTGX11",
        "MTGX19",
        "MRGP03",
        "MRGP01",
        "PPS-MPS-lost-PPS",
        "No-answerer-response",
    ];
    let out = tempfile::tempdir().unwrap();
    let mut failed = Vec::new();
    for id in subset {
        let s = load_scenario(&root().join(format!("scenarios/tsb85/{id}.toml")))
            .unwrap_or_else(|e| panic!("{e}"));
        let r = run_scenario(&s, out.path(), &RunOptions::default());
        if r.status != reports::Status::Passed {
            failed.push(format!("{id}: {}", r.failures.join("; ")));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}
