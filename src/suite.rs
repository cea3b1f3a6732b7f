//! Running many scenarios: plan them all, execute the applicable ones `jobs` at a time (each
//! for its `rounds`, planned afresh per round), and build one report. The CLI and the test
//! harness both come through here.

use std::sync::Arc;
use std::time::Instant;

use futures::stream::{self, StreamExt};

use crate::exec::Runner;
use crate::plan::{self, Applicability, PlanError, Planned, Settings, Target};
use crate::record::{Rounds, ScenarioRun};
use crate::report::{self, Kept, Redactor, Report, ScenarioReport};
use crate::scenario::Scenario;

/// Plans every scenario; all plan errors are returned together.
pub fn plan_all(
    scenarios: Vec<Scenario>,
    target: &Target,
    settings: &Settings,
    run_id: &str,
) -> Result<Vec<Planned>, Vec<PlanError>> {
    let mut planned = Vec::new();
    let mut errors = Vec::new();
    for scenario in scenarios {
        let id = plan::scenario_id(&scenario);
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

/// How long a racing scenario hunts when neither it (`rounds:`) nor the run (`--race-budget`)
/// says: a round of 20 racers on a local server costs a few milliseconds, so 200 rounds fit in
/// about a second and the built-in suite's races in a few seconds. A slow target stops at 10 s a
/// scenario: a WebDAV server whose tags are strong only a second after a write takes about a
/// second a round, and 2 s (the first default) bought it 2 rounds. 200 rounds that hold would
/// have caught a race showing in 1.5 % of rounds (95 %).
pub const DEFAULT_RACE_BUDGET: crate::scenario::RoundsBudget = crate::scenario::RoundsBudget {
    max: 200,
    time: Some(std::time::Duration::from_secs(10)),
};

/// Runs a scenario round after round, each planned afresh (new `uuid`, new scratch path), so
/// nothing a round did can make the next pass or fail, until a round breaks a rule or the
/// budget is spent (`--race-budget` for scenarios that race, else the scenario's `rounds`).
/// Races are probabilistic: a pass says how many rounds it rests on. The steps kept are the
/// broken round's, else the last's.
pub async fn run_rounds(runner: &Runner, planned: &Planned) -> ScenarioRun {
    let started = Instant::now();
    let races = planned.scenario.races();
    let budget = match (runner.settings().race_budget, planned.scenario.rounds) {
        (Some(budget), _) if races => budget,
        (_, Some(budget)) => budget,
        _ if races => DEFAULT_RACE_BUDGET,
        _ => crate::scenario::RoundsBudget { max: 1, time: None },
    };
    let mut rounds = Rounds {
        asked: budget.max,
        time_ms: budget.time.map(|t| t.as_millis() as u64),
        races,
        ..Rounds::default()
    };
    let (mut kept, mut secrets, mut round_error) = (None, Vec::new(), None);
    for round in 0..budget.max {
        // The time budget ends the hunt between rounds, never inside one.
        if round > 0 && budget.time.is_some_and(|t| started.elapsed() >= t) {
            break;
        }
        let fresh;
        let this = if round == 0 {
            planned
        } else {
            match plan::replan(planned, runner.target(), runner.settings(), round) {
                Ok(p) => {
                    fresh = p;
                    &fresh
                }
                Err(e) => {
                    round_error = Some(format!(
                        "round {} could not be planned: {}",
                        round + 1,
                        e.problems.join("; ")
                    ));
                    break;
                }
            }
        };
        let run = runner.run(this).await;
        rounds.total += 1;
        // Each secret once, however many rounds: memory stays bounded by what is secret.
        for secret in &run.secrets {
            if !secrets.contains(secret) {
                secrets.push(secret.clone());
            }
        }
        // Warnings and waived findings do not break a round; what fails the scenario does.
        let broke = run
            .steps
            .iter()
            .any(|s| s.fails() || (s.error.is_some() && !s.cleanup));
        if broke {
            rounds.failed += 1;
        }
        if let Some(window) = run.steps.iter().find_map(|s| s.window.as_ref()) {
            rounds.tally(window.release(), broke);
        }
        rounds.operations += (run.steps.iter())
            .filter_map(|s| s.workload.as_ref().map(|w| w.writes))
            .sum::<u64>();
        let interrupted = run.interrupted;
        kept = Some(run);
        // The first broken round ends the hunt: it is the evidence.
        if interrupted || broke {
            break;
        }
    }
    let mut run = kept.unwrap_or_default();
    run.duration = started.elapsed();
    run.secrets = secrets;
    run.rounds = rounds;
    run.round_error = round_error;
    run
}

/// Runs one planned scenario (or reports it not applicable).
pub async fn run_one(runner: &Runner, planned: &Planned, redactor: &Redactor) -> ScenarioReport {
    run_keeping(runner, planned, redactor, Kept::default()).await
}

async fn run_keeping(
    runner: &Runner,
    planned: &Planned,
    redactor: &Redactor,
    kept: Kept,
) -> ScenarioReport {
    match planned.applicability {
        Applicability::Run => {
            let run = run_rounds(runner, planned).await;
            report::scenario_report(planned, Some(&run), redactor, kept)
        }
        Applicability::NotApplicable(_) => report::scenario_report(planned, None, redactor, kept),
    }
}

/// Called with each scenario's report as it finishes.
pub type OnDone = Box<dyn Fn(&ScenarioReport) + Send + Sync>;

/// What a run reports as it goes and how it is stopped: `on_done` sees each scenario as it
/// finishes; once `cancel` is set, scenarios not yet started are reported `not run`.
#[derive(Default)]
pub struct Control {
    pub cancel: std::sync::Arc<std::sync::atomic::AtomicBool>,
    pub on_done: Option<OnDone>,
    /// Which exchanges the report keeps (`--report-exchanges`).
    pub kept: Kept,
}

/// Runs every planned scenario, at most `jobs` at once, and reports them in the given order.
/// Each plan is let go once its scenario has run: what a run of 100,000 files holds at its end
/// is their reports, not their plans as well.
pub async fn run_all(
    runner: &Runner,
    planned: Vec<Planned>,
    jobs: usize,
    redactor: &Redactor,
    run_id: &str,
) -> Report {
    run_all_with(runner, planned, jobs, redactor, run_id, &Control::default()).await
}

/// [`run_all`], reporting each scenario as it finishes and stopping when told to.
pub async fn run_all_with(
    runner: &Runner,
    planned: Vec<Planned>,
    jobs: usize,
    redactor: &Redactor,
    run_id: &str,
    control: &Control,
) -> Report {
    let started = Instant::now();
    // Those that must run alone (`alone:`) wait until the others are done, then go one by one;
    // the report keeps the order given.
    let total = planned.len();
    let numbered = planned.into_iter().enumerate();
    let (alone, together): (Vec<_>, Vec<_>) = numbered.partition(|(_, p)| p.scenario.alone);
    // Collected into the room it needs: grown by doubling, 100,000 reports held twice over.
    let mut done: Vec<(usize, ScenarioReport)> = Vec::with_capacity(total);
    let mut finished = stream::iter(together.into_iter().map(|(i, planned)| async move {
        (i, run_controlled(runner, &planned, redactor, control).await)
    }))
    .buffered(jobs.max(1));
    while let Some(one) = finished.next().await {
        done.push(one);
    }
    for (i, planned) in alone {
        done.push((i, run_controlled(runner, &planned, redactor, control).await));
    }
    done.sort_unstable_by_key(|(i, _)| *i);
    let scenarios: Vec<ScenarioReport> = done.into_iter().map(|(_, report)| report).collect();
    let mut report = Report::new(
        redactor.text(&runner.target().label),
        run_id.to_owned(),
        scenarios,
        started.elapsed(),
    );
    report.coverage.required = runner.settings().min_judged;
    report
}

async fn run_controlled(
    runner: &Runner,
    planned: &Planned,
    redactor: &Redactor,
    control: &Control,
) -> ScenarioReport {
    // A started scenario runs to its end, cleanup included; an interrupt stops the rest.
    let report = match control.cancel.load(std::sync::atomic::Ordering::SeqCst) {
        true => report::not_started(planned, "not run: interrupted"),
        false => run_keeping(runner, planned, redactor, control.kept).await,
    };
    if let Some(on_done) = &control.on_done {
        on_done(&report);
    }
    report
}
