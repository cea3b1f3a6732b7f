//! JUnit XML (quick-junit), the shape GitLab, Jenkins and GitHub reporters read: one testcase
//! per scenario, classname from its file, the first finding as the failure's message and the
//! whole human block as its text; not-applicable scenarios are skipped with their reason.

use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};

use super::{human, Report, Status};

pub fn render(report: &Report) -> String {
    let mut junit = quick_junit::Report::new("contend");
    let mut suite = TestSuite::new(format!("contend against {}", report.target));
    for scenario in &report.scenarios {
        let plain = |text: String| anstream::adapter::strip_str(&text).to_string();
        let block = plain(human::block(scenario, human::Detail::Normal));
        let mut status = match scenario.status {
            Status::Passed => TestCaseStatus::success(),
            Status::Failed => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                if let Some(first) = scenario.failures.first() {
                    let rule = first.rule.as_deref().unwrap_or("expectation");
                    status
                        .set_message(format!("step `{}` [{rule}]: {}", first.step, first.message));
                    status.set_type(rule);
                }
                status
            }
            Status::Error => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
                status.set_message(scenario.reason.clone().unwrap_or_default());
                status
            }
            Status::NotApplicable | Status::NotRun => {
                let mut status = TestCaseStatus::skipped();
                status.set_message(scenario.reason.clone().unwrap_or_default());
                status
            }
        };
        if matches!(scenario.status, Status::Failed | Status::Error) {
            status.set_description(block.clone());
        }
        let name = scenario
            .id
            .split_once("::")
            .map_or(scenario.name.as_str(), |(_, name)| name);
        let mut case = TestCase::new(name, status);
        case.set_classname(scenario.file.trim_end_matches(".yaml").replace('/', "."));
        case.set_time(std::time::Duration::from_secs_f64(
            scenario.duration_ms / 1000.0,
        ));
        case.set_system_out(block);
        suite.add_test_case(case);
    }
    // The run as a whole, as `cargo test`'s `contend::verdict` trial: why it did not pass
    // (the target unreachable or misconfigured, nothing tested, too little judged).
    let verdict = report.verdict();
    let mut status = match verdict.passed {
        true => TestCaseStatus::success(),
        false => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_message(verdict.reasons.join("; "));
            status
        }
    };
    let c = &report.coverage;
    status.set_description(format!(
        "judged {} rules ({} about preconditions and conflicts); not judged: {}",
        c.judged.len(),
        c.preconditions_judged(),
        c.not_judged
            .iter()
            .map(|n| format!("{} ({})", n.rule, n.reason))
            .collect::<Vec<_>>()
            .join("; ")
    ));
    let mut case = TestCase::new("verdict", status);
    case.set_classname("contend");
    suite.add_test_case(case);
    suite.set_time(std::time::Duration::from_secs_f64(
        report.summary.duration_ms / 1000.0,
    ));
    junit.add_test_suite(suite);
    junit
        .to_string()
        .unwrap_or_else(|e| format!("<!-- JUnit could not be written: {e} -->"))
}
