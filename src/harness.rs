//! `cargo test` integration: a directory of scenarios becomes libtest-mimic trials, one per
//! scenario, named `file::scenario`, one per target-wide rule (`target::etag.syntax`), and
//! `contend::verdict` for what the run as a whole judged.
//!
//! In `tests/contend.rs`, with `[[test]] name = "contend"` and `harness = false` in
//! Cargo.toml, the whole test file is `fn main() { contend::harness::run_dir("specs").exit(); }`
//! (your scenarios), or `contend::harness::run_builtin().exit()` (the built-in suite).
//!
//! Settings come from [`plan::resolve`], as the CLI's do: the profile (`CONTEND_CONFIG`, else
//! `./contend.yaml`) under the environment (`CONTEND_TARGET`, ...); without a target, the
//! embedded reference server. Nothing is sent to list the trials (`--list`). The first trial
//! that runs starts the target (probing it like `contend run` when the profile declares no
//! capabilities) and runs every selected scenario once, `jobs` at a time (4 unless
//! `CONTEND_JOBS` says); each trial then reads its part of that one report and its verdict, so
//! `cargo test` and `contend run` cannot disagree.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use libtest_mimic::{Arguments, Conclusion, Failed, Trial};

use crate::exec::Runner;
use crate::judge::catalog::{self, Scope};
use crate::plan::{self, Applicability, Planned, Resolved, Target};
use crate::report::{human, Redactor, Report, Status};
use crate::scenario;
use crate::suite;

/// Runs every scenario under `dir` as a test, with the command line's libtest arguments.
pub fn run_dir(dir: impl AsRef<Path>) -> Conclusion {
    let args = Arguments::from_args();
    run_selected(&args, trials(dir.as_ref()))
}

/// Runs the built-in suite (compiled into contend) as tests.
pub fn run_builtin() -> Conclusion {
    let args = Arguments::from_args();
    run_selected(&args, builtin_trials())
}

/// Runs `trials`, the suite covering only the scenarios these arguments select (all of them
/// when only target-wide or verdict trials are selected, as `nextest` runs one at a time).
fn run_selected(args: &Arguments, trials: Vec<Trial>) -> Conclusion {
    // Only scenario trials choose scenarios; `target::` and `contend::verdict` need them all.
    let planned: BTreeSet<&str> = SUITE_PLANS
        .get()
        .map(|(plans, _)| plans.iter().map(|p| p.id.as_str()).collect())
        .unwrap_or_default();
    let chosen: BTreeSet<String> = trials
        .iter()
        .filter(|t| planned.contains(t.name()) && !args.is_filtered_out(t))
        .map(|t| t.name().to_owned())
        .collect();
    if !chosen.is_empty() {
        if let Ok(mut wanted) = SUITE_SELECTION.lock() {
            *wanted = Some(chosen);
        }
    }
    libtest_mimic::run(args, trials)
}

/// The trials for a directory: one per scenario, plus one failing trial per file that does not
/// load or plan, so a broken scenario can never pass unnoticed.
pub fn trials(dir: &Path) -> Vec<Trial> {
    let mut errors = Vec::new();
    let files = scenario::scenario_files(&[dir.to_owned()], &mut errors);
    if let Some(e) = errors.into_iter().next() {
        return vec![failing(
            format!("{}::<unreadable>", dir.display()),
            e.to_string(),
        )];
    }
    let loaded = files
        .into_iter()
        .map(|file| (scenario::load_file(&file), file))
        .collect();
    trials_of(loaded)
}

/// The trials of the built-in suite.
pub fn builtin_trials() -> Vec<Trial> {
    let loaded = scenario::builtin::files()
        .into_iter()
        .map(|(path, text)| (scenario::load_str(text, &path), path))
        .collect();
    trials_of(loaded)
}

type Loaded = Vec<(
    Result<Vec<scenario::Scenario>, Vec<scenario::LoadError>>,
    std::path::PathBuf,
)>;

fn trials_of(loaded: Loaded) -> Vec<Trial> {
    let resolved = match config() {
        Ok(c) => c,
        Err(e) => return vec![failing("contend::<configuration>".to_owned(), e)],
    };
    let target = match listed_target(resolved) {
        Ok(t) => t,
        Err(e) => return vec![failing("contend::<configuration>".to_owned(), e)],
    };
    let run_id = plan::new_run_id();
    let mut trials = Vec::new();
    let mut runnable = Vec::new();
    for (result, file) in loaded {
        let scenarios = match result {
            Ok(s) => s,
            Err(e) => {
                let name = file.with_extension("");
                let all: Vec<String> = e.iter().map(|e| e.to_string()).collect();
                trials.push(failing(
                    format!("{}::<invalid>", name.display()),
                    all.join("\n\n"),
                ));
                continue;
            }
        };
        for s in scenarios {
            let id = plan::scenario_id(&s);
            let planned = match plan::plan(
                Arc::new(s),
                id.clone(),
                &target,
                &resolved.settings,
                &run_id,
            ) {
                Ok(p) => p,
                Err(e) => {
                    trials.push(failing(id, e.to_string()));
                    continue;
                }
            };
            // Known before anything is sent: shown as ignored, and a failure if run anyway
            // (`--ignored`), so a scenario that did not run is never `ok`.
            if let Applicability::NotApplicable(why) = &planned.applicability {
                let message = format!("not applicable: {why}");
                trials.push(
                    Trial::test(id, move || Err(Failed::from(message)))
                        .with_ignored_flag(true)
                        .with_kind("n/a"),
                );
                continue;
            }
            trials.push(Trial::test(id.clone(), move || scenario_trial(&id)));
            runnable.push(planned);
        }
    }
    // One suite for this test process; the first trial to run runs it.
    let _ = SUITE_PLANS.set((runnable, run_id));
    for rule in catalog::passive_checks().filter(|p| p.scope == Scope::Target) {
        let rule = rule.rule;
        trials.push(Trial::test(format!("target::{rule}"), move || {
            target_trial(rule)
        }));
    }
    trials.push(Trial::test("contend::verdict", verdict_trial));
    trials
}

fn failing(name: String, message: String) -> Trial {
    Trial::test(name, move || Err(Failed::from(message)))
}

/// The scenarios the trials were listed from, and the run id they were planned under.
static SUITE_PLANS: OnceLock<(Vec<Planned>, String)> = OnceLock::new();
/// The scenario ids the command line selected; `None`: every one.
static SUITE_SELECTION: Mutex<Option<BTreeSet<String>>> = Mutex::new(None);

/// The one report of this test process: the selected scenarios, run once.
fn suite_report() -> Result<&'static Report, Failed> {
    static REPORT: OnceLock<Result<Report, String>> = OnceLock::new();
    REPORT
        .get_or_init(run_suite)
        .as_ref()
        .map_err(|e| Failed::from(e.clone()))
}

fn run_suite() -> Result<Report, String> {
    let (planned, run_id) = SUITE_PLANS
        .get()
        .ok_or("no scenarios were listed in this process")?;
    let wanted = SUITE_SELECTION.lock().map(|w| w.clone()).unwrap_or(None);
    let runtime =
        tokio::runtime::Runtime::new().map_err(|e| format!("cannot start a tokio runtime: {e}"))?;
    let resolved = config()?;
    runtime.block_on(async {
        let started = match start(resolved, run_id).await {
            Ok(s) => s,
            // The target could not be tested: every trial fails with the reason.
            Err((label, why)) => {
                let mut report = Report::stopped(label, run_id.clone(), why);
                report.seal();
                return Ok(report);
            }
        };
        let mut selected = Vec::new();
        for p in planned {
            if wanted.as_ref().is_some_and(|w| !w.contains(&p.id)) {
                continue;
            }
            // Planned again with what the probe found (and the embedded server's real port).
            let again = plan::replan(p, started.runner.target(), started.runner.settings(), 0)
                .map_err(|e| e.to_string())?;
            selected.push(again);
        }
        let mut report = {
            let jobs = started.runner.settings().jobs;
            suite::run_all(&started.runner, selected, jobs, &started.redactor, run_id).await
        };
        report.add_probe_findings(&started.probe_findings, &started.redactor);
        report.seal();
        drop(started);
        Ok(report)
    })
}

/// A target ready to run against (the embedded server kept alive with it).
struct Started {
    runner: Runner,
    redactor: Redactor,
    /// What the probe's own evidence showed broken (a target-wide finding).
    probe_findings: Vec<crate::record::Finding>,
    #[cfg(feature = "server")]
    _server: Option<crate::server::RunningServer>,
}

/// Starts the embedded server, or reaches the target and probes it as `contend run` does when
/// no capabilities are declared. An error carries the target's label and the reason.
async fn start(resolved: &Resolved, run_id: &str) -> Result<Started, (String, String)> {
    let settings = resolved.settings.clone();
    #[cfg(feature = "server")]
    if resolved.target.is_none() {
        let server = crate::server::start(([127, 0, 0, 1], 0).into(), Default::default())
            .await
            .map_err(|e| {
                (
                    "embedded reference server".to_owned(),
                    format!("cannot start the embedded reference server: {e}"),
                )
            })?;
        let mut target = server.target();
        target.capabilities = listed_target(resolved)
            .map_err(|e| (target.label.clone(), e))?
            .capabilities;
        let redactor = Redactor::for_settings(&settings, &target.url);
        let runner = Runner::new(target.clone(), settings).map_err(|e| (target.label, e))?;
        return Ok(Started {
            runner,
            redactor,
            probe_findings: Vec::new(),
            _server: Some(server),
        });
    }
    let mut target = listed_target(resolved).map_err(|e| ("target".to_owned(), e))?;
    let redactor = Redactor::for_settings(&settings, &target.url);
    let label = redactor.text(&target.label);
    let runner = Runner::new(target.clone(), settings.clone()).map_err(|e| (label.clone(), e))?;
    let mut probe_findings = Vec::new();
    if resolved.capabilities.is_none() {
        let mut vars = scenario::Vars::default();
        vars.set("run_id", run_id);
        vars.set("uuid", "probe");
        let scratch = settings
            .scratch
            .render(&vars)
            .map_err(|e| (label.clone(), format!("scratch: {e}")))?;
        let found = runner.probe(&scratch).await;
        if let Some(why) = &found.unreachable {
            return Err((label, redactor.text(&format!("target unreachable: {why}"))));
        }
        if let Some(why) = &found.misconfigured {
            return Err((
                label,
                redactor.text(&format!("target misconfigured: {why}")),
            ));
        }
        target.capabilities = found.capabilities.clone();
        target.capabilities.extend(resolved.keyed.iter().copied());
        probe_findings = found.findings;
    } else if let Some(why) = runner.unreachable().await {
        return Err((label, redactor.text(&format!("target unreachable: {why}"))));
    }
    Ok(Started {
        runner: runner.with_target(target),
        redactor,
        probe_findings,
        #[cfg(feature = "server")]
        _server: None,
    })
}

/// A scenario's trial: its part of the suite's report.
fn scenario_trial(id: &str) -> Result<(), Failed> {
    let report = suite_report()?;
    if let Some(error) = &report.error {
        return Err(Failed::from(format!("Error: {error}")));
    }
    let Some(scenario) = report.scenarios.iter().find(|s| s.id == id) else {
        return Err(Failed::from(format!(
            "Error: {id} was not in this process's run"
        )));
    };
    // Plain text (test output is read in logs), opening with the first finding.
    let block = anstream::adapter::strip_str(&human::scenario_block(scenario)).to_string();
    match scenario.status {
        Status::Passed => Ok(()),
        // Found out while running (the target gives only weak ETags, say): not a pass.
        Status::NotApplicable => Err(Failed::from(format!(
            "Error: not applicable: {}\n{block}",
            scenario.reason.as_deref().unwrap_or("no reason given"),
        ))),
        Status::Failed | Status::Error | Status::NotRun => {
            let first = match scenario.failures.first() {
                Some(f) => format!(
                    "step `{}` [{}]: {}",
                    f.step,
                    f.rule.as_deref().unwrap_or("expectation"),
                    f.message
                ),
                None => scenario.reason.clone().unwrap_or_else(|| "failed".into()),
            };
            // nextest reads a failure's message from stderr (one process per test there).
            if std::env::var_os("NEXTEST").is_some() {
                eprintln!("Error: {first}");
            }
            Err(Failed::from(format!("Error: {first}\n{block}")))
        }
    }
}

/// A target-wide rule's trial: fails when the report's target-wide finding under it fails,
/// by the same level rules as `contend run`.
fn target_trial(rule: &str) -> Result<(), Failed> {
    let report = suite_report()?;
    if let Some(error) = &report.error {
        return Err(Failed::from(format!("Error: {error}")));
    }
    let found = report
        .target_findings
        .iter()
        .find(|t| t.first.rule.as_deref() == Some(rule));
    match found {
        Some(t) if t.fails() => Err(Failed::from(format!(
            "Error: [{rule}, {}, {}]: {} ({} exchanges in {} scenarios, first in {} step `{}`)",
            t.first.level.as_deref().unwrap_or(""),
            t.first.section.as_deref().unwrap_or(""),
            t.first.message,
            t.count,
            t.scenarios.len(),
            t.scenarios.first().map_or("", String::as_str),
            t.first.step,
        ))),
        _ => Ok(()),
    }
}

/// The run as a whole: what `contend run`'s exit code says, beyond the other trials.
fn verdict_trial() -> Result<(), Failed> {
    let report = suite_report()?;
    let verdict = report.verdict();
    match verdict.passed {
        true => Ok(()),
        false => Err(Failed::from(format!(
            "Error: {}",
            verdict.reasons.join("\n       ")
        ))),
    }
}

/// The settings of this test process, resolved once as the CLI resolves them.
fn config() -> Result<&'static Resolved, String> {
    static CONFIG: OnceLock<Result<Resolved, String>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let path = std::env::var_os("CONTEND_CONFIG").map(std::path::PathBuf::from);
            let profile = plan::find_profile(path.as_deref()).map_err(|e| e.to_string())?;
            let env = plan::from_env(|name| std::env::var(name).ok())?;
            plan::resolve(&plan::Flags::default(), &env, &profile)
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// The target as far as it is known without starting anything: enough to decide which
/// scenarios apply.
fn listed_target(resolved: &Resolved) -> Result<Target, String> {
    let mut target = match &resolved.target {
        Some(url) => Target::remote(url, resolved.capabilities.as_deref())
            .map_err(|e| format!("target: {e}"))?,
        // The embedded server's port is not known until it starts; its capabilities are.
        #[cfg(feature = "server")]
        None => {
            let embedded = crate::server::capabilities(&Default::default());
            Target::remote(
                "http://127.0.0.1/",
                Some(resolved.capabilities.as_deref().unwrap_or(&embedded)),
            )?
        }
        #[cfg(not(feature = "server"))]
        None => {
            return Err(
                "no target: set CONTEND_TARGET (contend was built without its embedded server)"
                    .into(),
            )
        }
    };
    target
        .own_capabilities
        .extend(resolved.own_capabilities.iter().cloned());
    target.capabilities.extend(resolved.keyed.iter().copied());
    Ok(target)
}
