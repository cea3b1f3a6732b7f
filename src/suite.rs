//! Running many scenarios: plan them all, execute the applicable ones `jobs` at a time, and
//! build one report. The CLI and the test harness both come through here.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use futures::stream::{self, StreamExt};

use crate::exec::Runner;
use crate::plan::{self, Applicability, PlanError, Planned, Settings, Target};
use crate::report::{self, Redactor, Report, ScenarioReport};
use crate::scenario::Scenario;

/// Plans every scenario; all plan errors are returned together.
pub fn plan_all(
    scenarios: Vec<Scenario>,
    root: &Path,
    target: &Target,
    settings: &Settings,
    run_id: &str,
) -> Result<Vec<Planned>, Vec<PlanError>> {
    let mut planned = Vec::new();
    let mut errors = Vec::new();
    for scenario in scenarios {
        let id = plan::scenario_id(root, &scenario);
        match plan::plan(Arc::new(scenario), id, target, settings, run_id) {
            Ok(p) => planned.push(p),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(planned)
    } else {
        Err(errors)
    }
}

/// Runs one planned scenario (or reports it not applicable).
pub async fn run_one(runner: &Runner, planned: &Planned, redactor: &Redactor) -> ScenarioReport {
    match planned.applicability {
        Applicability::Run => {
            let run = runner.run(planned).await;
            report::scenario_report(planned, Some(&run), redactor, &runner.settings().policy)
        }
        Applicability::NotApplicable(_) => {
            report::scenario_report(planned, None, redactor, &runner.settings().policy)
        }
    }
}

/// Runs every planned scenario, at most `jobs` at once, and reports them in the given order.
pub async fn run_all(
    runner: &Runner,
    planned: &[Planned],
    jobs: usize,
    redactor: &Redactor,
    run_id: &str,
) -> Report {
    let started = Instant::now();
    let scenarios: Vec<ScenarioReport> =
        stream::iter(planned.iter().map(|p| run_one(runner, p, redactor)))
            .buffered(jobs.max(1))
            .collect()
            .await;
    Report::new(
        runner.target().label.clone(),
        run_id.to_owned(),
        scenarios,
        started.elapsed(),
    )
}
