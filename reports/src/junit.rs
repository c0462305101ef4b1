//! JUnit XML as CI servers read it: one test suite per scenario folder (and variant), one
//! test case per scenario, the failure message saying what was expected and what came.

use std::collections::BTreeMap;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use crate::{ScenarioResult, Status};

/// The JUnit XML of `results`.
pub fn junit_xml(results: &[ScenarioResult]) -> String {
    let mut suites: BTreeMap<String, Vec<&ScenarioResult>> = BTreeMap::new();
    for r in results {
        let folder = if r.folder().is_empty() {
            "scenarios"
        } else {
            r.folder()
        };
        let name = if r.variant == "builtin" {
            folder.to_string()
        } else {
            format!("{folder} [{}]", r.variant)
        };
        suites.entry(name).or_default().push(r);
    }
    let mut report = Report::new("faxsim");
    for (name, list) in suites {
        let mut suite = TestSuite::new(name);
        for r in list {
            let mut status = match r.status {
                Status::Passed => TestCaseStatus::success(),
                Status::Skipped => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message(r.reason.clone().unwrap_or_default());
                    s
                }
                Status::Failed | Status::Lost => {
                    let mut s = TestCaseStatus::non_success(if r.status == Status::Lost {
                        NonSuccessKind::Error
                    } else {
                        NonSuccessKind::Failure
                    });
                    s.set_message(r.message());
                    s.set_description(r.failures.join("\n"));
                    s
                }
            };
            if let TestCaseStatus::NonSuccess { ty, .. } = &mut status {
                *ty = Some(r.status.word().into());
            }
            let mut case = TestCase::new(r.id.clone(), status);
            case.set_classname(format!("faxsim.{}", r.variant));
            case.set_time(Duration::from_secs_f64(r.wall_s.max(0.0)));
            if !r.description.is_empty() {
                case.set_system_out(r.description.clone());
            }
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
    }
    report
        .to_string()
        .unwrap_or_else(|e| format!("<!-- JUnit serialisation failed: {e} -->\n"))
}
