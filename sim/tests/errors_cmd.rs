//! `faxsim errors` prints the whole vocabulary, exactly.

use std::process::Command;

fn faxsim(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_faxsim"))
        .args(args)
        .output()
        .expect("run faxsim")
}

#[test]
fn json_lists_every_code_and_pipeline_string() {
    let out = faxsim(&["errors", "--json"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    let list = v.as_array().unwrap();
    assert_eq!(list.len(), 62 + 6);
    let dcnphd = list.iter().find(|e| e["name"] == "RX_DCNPHD").unwrap();
    assert_eq!(dcnphd["code"], 38);
    assert_eq!(dcnphd["string"], "Unexpected DCN after EOM or MPS sequence");
    assert!(dcnphd["explanation"].as_str().unwrap().len() > 20);
    assert!(
        list.iter()
            .any(|e| e["string"] == "Document loading error." && e["code"].is_null())
    );
}

#[test]
fn table_shows_strings() {
    let out = faxsim(&["errors"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Failed to train with any of the compatible modems"));
    assert!(text.contains("PDF Conversion"));
}
