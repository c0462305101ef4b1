//! The completion vocabulary must equal the reference tables byte for byte.

use t30::completion::{Completion, PipelineError};

const REFERENCE: &str = include_str!("../../docs/reference/error-strings.md");

fn table_rows(section: &str) -> Vec<Vec<String>> {
    let start = REFERENCE.find(section).expect("section present");
    REFERENCE[start..]
        .lines()
        .skip(1)
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2) // header and rule
        .map(|l| {
            l.trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().to_string())
                .collect()
        })
        .collect()
}

#[test]
fn table_a_matches_exactly() {
    let rows = table_rows("## A.");
    assert_eq!(rows.len(), Completion::all().count());
    for row in rows {
        let code: u8 = row[0].parse().unwrap();
        let c = Completion::from_code(code).unwrap_or_else(|| panic!("code {code} missing"));
        assert_eq!(c.name(), row[1], "name of code {code}");
        assert_eq!(c.text(), row[2], "string of code {code}");
    }
}

#[test]
fn table_b_strings_all_exist() {
    let rows = table_rows("## B.");
    assert_eq!(rows.len(), 24);
    for row in rows {
        let s = &row[0];
        let known =
            Completion::from_text(s).is_some() || PipelineError::all().any(|p| p.text() == s);
        assert!(known, "table B string not in our vocabulary: {s:?}");
    }
}
