//! `faxsim run --deliver`: the receive pipeline runs for every receiving side of every
//! scenario, with the scenario's numbers; and the concurrency limit is one count per
//! configuration across every call of the process, refusing (and logging, and keeping) the
//! call above it.

use std::path::Path;
use std::process::Command;

use sim::deliver::{Config, Delivery, DeliveryOutcome, Pipeline};
use sim::endpoint::Record;

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// A scenario file: `caller` sends one white page to `answerer`, or polls it.
fn scenario(dir: &Path, name: &str, caller: &str, answerer: &str, poll: bool) {
    let (caller_doc, answerer_doc) = if poll {
        (
            "poll = true",
            "pages = [ { test = \"white\" } ]\nallow_polled = true",
        )
    } else {
        ("pages = [ { test = \"white\" } ]", "")
    };
    let text = format!(
        "description = \"delivery test {name}\"\n\n[caller]\nnumber = \"{caller}\"\n{caller_doc}\n\n\
         [answerer]\nnumber = \"{answerer}\"\n{answerer_doc}\n\n\
         [caller.expect]\nstatus = \"SUCCESS\"\n\n[answerer.expect]\nstatus = \"SUCCESS\"\n"
    );
    std::fs::write(dir.join(format!("{name}.toml")), text).unwrap();
}

#[test]
fn run_delivers_every_receiving_side_with_the_scenario_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let scen = dir.join("scen");
    std::fs::create_dir_all(&scen).unwrap();
    scenario(&scen, "a", "+49 30 1111", "+49 30 2222", false);
    scenario(&scen, "b", "+33-1-3333", "+33-1-4444", false);
    // Polling: the caller is the receiving side, its own number the dialled one.
    scenario(&scen, "c", "+44 20 5555", "+44 20 6666", true);
    let cfg = dir.join("deliver.toml");
    std::fs::write(
        &cfg,
        "[pipeline]\nspool = \"spool\"\nlog = \"pipeline.log\"\n\n\
         [backends.journal]\ntype = \"log\"\nfile = \"faxes.log\"\n\
         line = \"{source} -> {destination} {pages} {status} {file}\"\n\n\
         [default]\nbackends = [\"journal\"]\n",
    )
    .unwrap();
    let out = dir.join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_faxsim"))
        .args(["run", scen.to_str().unwrap(), "--jobs", "2", "--deliver"])
        .arg(&cfg)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        stdout.matches("Delivered \"OK\"").count(),
        3,
        "one delivery per receiving side: {stdout}"
    );
    // One line per received fax, with the scenario's numbers (spaces and dashes dropped).
    let mut log: Vec<String> = read(&dir.join("faxes.log"))
        .lines()
        .map(String::from)
        .collect();
    log.sort();
    assert_eq!(log.len(), 3, "{log:?}");
    let expect = [
        ("+3313333", "+3314444"),
        ("+44206666", "+44205555"),
        ("+49301111", "+49302222"),
    ];
    for (line, (from, to)) in log.iter().zip(expect) {
        let f: Vec<&str> = line.split(' ').collect();
        assert_eq!(f.len(), 6, "{line}");
        assert_eq!(
            (f[0], f[2], f[3], f[4]),
            (from, to, "1", "SUCCESS"),
            "{line}"
        );
        // The delivered PDF is named after the calling number and is filed in pdf/.
        assert!(
            f[5].starts_with(&format!("fax-{from}_")) && f[5].ends_with("-1Pages.pdf"),
            "{line}"
        );
        assert!(dir.join("spool/pdf").join(f[5]).is_file(), "{line}");
    }
    // Spool: one TIFF per call in old/ named <source>_<stamp>.tif, nothing left in new/ or tmp/.
    let old = files(&dir.join("spool/old"));
    assert_eq!(old.len(), 3, "{old:?}");
    for (from, _) in expect {
        assert_eq!(
            old.iter()
                .filter(|n| n.starts_with(&format!("{from}_")))
                .count(),
            1,
            "{old:?}"
        );
    }
    assert!(files(&dir.join("spool/new")).is_empty());
    assert!(files(&dir.join("spool/tmp")).is_empty());
    // Each call's folder holds its delivery report, for the receiving side only.
    assert!(out.join("a/rep1/delivery-answerer.json").is_file());
    assert!(!out.join("a/rep1/delivery-caller.json").exists());
    assert!(out.join("c/rep1/delivery-caller.json").is_file());
    assert!(!out.join("c/rep1/delivery-answerer.json").exists());
    let steps = read(&dir.join("pipeline.log"));
    assert!(steps.contains("start from=+3313333 to=+3314444"), "{steps}");
    assert!(
        steps.contains("start from=+44206666 to=+44205555"),
        "{steps}"
    );
}

#[test]
fn receptions_above_the_limit_are_refused_across_pipelines_and_the_fax_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    // A received fax to deliver: one quick call.
    let out = dir.join("call");
    let doc = dir.join("page.pbm");
    // A 1728x8 white page (P4).
    let mut pbm = b"P4\n1728 8\n".to_vec();
    pbm.extend(std::iter::repeat_n(0u8, 216 * 8));
    std::fs::write(&doc, pbm).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_faxsim"))
        .args(["call", "--send"])
        .arg(&doc)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    let rec: Record =
        serde_json::from_slice(&std::fs::read(out.join("answerer.json")).unwrap()).unwrap();
    assert_eq!(rec.pages, 1);

    let cfg = dir.join("limit.toml");
    std::fs::write(
        &cfg,
        "[pipeline]\nspool = \"spool\"\nlog = \"pipeline.log\"\nmax_sessions = 2\n\n\
         [backends.journal]\ntype = \"log\"\nfile = \"faxes.log\"\n\n\
         [default]\nbackends = [\"journal\"]\n",
    )
    .unwrap();
    // Two pipelines of the same configuration, as two workers of a run would build: one count.
    let p1 = Pipeline::new(Config::from_file(&cfg).unwrap());
    let p2 = Pipeline::from_file(&cfg).unwrap();
    let held = [p1.answer().unwrap(), p2.answer().unwrap()];
    let busy = p1.answer().err().expect("the third reception is refused");
    assert_eq!((busy.in_progress, busy.limit), (2, 2));
    assert!(p2.answer().is_err(), "the other pipeline shares the count");
    let d = Delivery::new(&rec, &out, "+15550100", "+15550199", 2000);
    let refused = p2.refuse(&d, busy);
    assert_eq!(refused.outcome, DeliveryOutcome::Refused);
    // Refused and logged, and the fax is not lost: its TIFF waits in the spool's new/.
    let log = read(&dir.join("pipeline.log"));
    assert!(
        log.contains("refused: 2 reception(s) in progress, limit 2: call not answered"),
        "{log}"
    );
    assert_eq!(refused.kept_in_spool.len(), 1, "{refused:?}");
    let kept = &refused.kept_in_spool[0];
    assert!(kept.starts_with(dir.join("spool/new")), "{kept:?}");
    assert_eq!(
        std::fs::read(kept).unwrap(),
        std::fs::read(out.join(rec.files.tiff.as_ref().unwrap())).unwrap()
    );
    assert!(
        !dir.join("faxes.log").exists(),
        "a refused call reaches no backend"
    );
    // A recorded call delivered while both places are held is refused too.
    assert_eq!(
        p1.deliver(&Delivery::new(&rec, &out, "+15550100", "+15550199", 3000))
            .outcome,
        DeliveryOutcome::Refused
    );

    // One reception ends (delivered): a place is free again, for either pipeline.
    let [first, second] = held;
    let done = p1.deliver_received(
        first,
        &Delivery::new(&rec, &out, "+15550101", "+15550199", 2001),
    );
    assert_eq!(done.outcome, DeliveryOutcome::Delivered, "{done:?}");
    let third = p2.answer().expect("a place was given back");
    assert!(p1.answer().is_err());
    drop(second);
    drop(third);
    assert!(p1.answer().is_ok());
    // Both faxes still exist: the refused one in new/, the delivered one filed in old/.
    assert_eq!(
        files(&dir.join("spool/new")).len(),
        2,
        "{:?}",
        files(&dir.join("spool/new"))
    );
    assert_eq!(files(&dir.join("spool/old")).len(), 1);
    assert_eq!(read(&dir.join("faxes.log")).lines().count(), 1);
}
