//! The report page from journals: one written before the report's own fields existed still
//! reads and renders (ladder from the records' traces, failures as text), and two devices
//! under test share one section, one column each.

use reports::html::html_report;
use reports::{Status, read_journal};

/// A result line as runs wrote them before `expected` and `channel` were recorded.
const OLD_LINE: &str = r#"{"event":"result","id":"errors/old","variant":"builtin","description":"An old result","tags":["error:X"],"status":"failed","failures":["answerer: pages: expected 2, got 1"],"calls":[{"repetition":1,"seed":7,"sides":[{"role":"caller","endpoint":"builtin","record":{"status":"SUCCESS","error":"OK","code":0,"pages":1,"duration_s":12.0,"trainings":[{"time_s":5.0,"modem":"V.29","rate":9600,"ok":true}],"frames":[{"time_s":1.0,"dir":"rx","name":"DIS","hex":"ff 13 80","fcs_ok":true},{"time_s":2.0,"dir":"tx","name":"DCS","hex":"ff 13 83","fcs_ok":true},{"time_s":5.0,"dir":"rx","name":"CFR","hex":"ff 13 84","fcs_ok":true},{"time_s":9.0,"dir":"tx","name":"EOP","hex":"ff 13 2e","fcs_ok":true},{"time_s":10.0,"dir":"rx","name":"MCF","hex":"ff 13 8c","fcs_ok":true},{"time_s":11.0,"dir":"tx","name":"DCN","hex":"ff 13 fa","fcs_ok":true}]}},{"role":"answerer","endpoint":"builtin","record":null,"failures":["pages: expected 2, got 1"]}],"dir":"errors/old/rep1"}],"wall_s":0.1}"#;

#[test]
fn an_old_journal_still_renders() {
    let results = read_journal(&format!("{OLD_LINE}\n")).unwrap();
    assert_eq!(results[0].status, Status::Failed);
    assert!(results[0].channel.is_none());
    assert!(results[0].calls[0].sides[0].expected.is_empty());
    let page = html_report("old", &results);
    assert!(page.contains("pages: expected 2, got 1"));
    let svg = &page[page.find("<svg").unwrap()..page.find("</svg>").unwrap()];
    for name in ["DIS", "DCS", "CFR", "EOP", "MCF", "DCN"] {
        assert!(
            svg.contains(&format!(">{name}")),
            "{name} not on the ladder"
        );
    }
    assert!(svg.contains(">TCF \u{b7} V.29 9600<"));
    assert!(svg.contains(">page 1 data \u{b7} V.29 9600"));
}

#[test]
fn two_devices_under_test_share_a_section() {
    let mut results = read_journal(&format!("{OLD_LINE}\n")).unwrap();
    let mut other = results[0].clone();
    other.variant = "spandsp".into();
    other.status = Status::Passed;
    other.failures.clear();
    results.push(other);
    let page = html_report("both", &results);
    let start = page.find("id=\"s-errors_old\"").unwrap();
    let section = &page[start..start + page[start..].find("</details>").unwrap()];
    assert_eq!(section.matches("<div class=\"col\">").count(), 2);
    let builtin = section.find("faxsim engine (builtin)").unwrap();
    let spandsp = section.find("spandsp as device under test").unwrap();
    assert!(builtin < spandsp, "ours on the left");
    assert!(
        page.contains("Scenarios run by more than one device under test: 1; they disagree on 1.")
    );
}
