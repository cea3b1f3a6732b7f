//! `cargo test` integration: a directory of scenarios becomes libtest-mimic trials, one per
//! scenario, named `file::scenario`.
//!
//! In `tests/contend.rs`, with `[[test]] name = "contend"` and `harness = false` in
//! Cargo.toml, the whole test file is `fn main() { contend::harness::run_dir("specs").exit(); }`
//! (your scenarios), or `contend::harness::run_builtin().exit()` (the built-in suite).
//!
//! The target is `CONTEND_TARGET` when set, else a profile's (`CONTEND_CONFIG`, else
//! `./contend.yaml`), else the embedded reference server, started once
//! per test process and only when a trial runs (so `--list` sends nothing).

use std::path::Path;
use std::sync::{Arc, OnceLock};

use libtest_mimic::{Arguments, Conclusion, Failed, Trial};

use crate::exec::Runner;
use crate::plan::{self, Applicability, Planned, Settings, Target};
use crate::report::{human, Redactor, Status};
use crate::scenario::{self, Capability};
use crate::suite;

/// Runs every scenario under `dir` as a test, with the command line's libtest arguments.
pub fn run_dir(dir: impl AsRef<Path>) -> Conclusion {
    let args = Arguments::from_args();
    libtest_mimic::run(&args, trials(dir.as_ref()))
}

/// Runs the built-in suite (compiled into contend) as tests.
pub fn run_builtin() -> Conclusion {
    let args = Arguments::from_args();
    libtest_mimic::run(&args, builtin_trials())
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
    let target = match listed_target() {
        Ok(t) => t,
        Err(e) => return vec![failing("contend::<configuration>".to_owned(), e)],
    };
    let run_id = plan::new_run_id();
    let settings = match config() {
        Ok(config) => config.settings.clone(),
        Err(e) => return vec![failing("contend::<configuration>".to_owned(), e)],
    };
    let mut trials = Vec::new();
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
            let planned = match plan::plan(Arc::new(s), id.clone(), &target, &settings, &run_id) {
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
            trials.push(Trial::test(id, move || run_trial(planned)));
        }
    }
    trials
}

fn failing(name: String, message: String) -> Trial {
    Trial::test(name, move || Err(Failed::from(message)))
}

/// The shared state of one test process: a runtime, and the embedded server if it is the target.
struct Context {
    runtime: tokio::runtime::Runtime,
    runner: Runner,
    redactor: Redactor,
    #[cfg(feature = "server")]
    _server: Option<crate::server::RunningServer>,
}

fn context() -> Result<&'static Context, String> {
    static CONTEXT: OnceLock<Result<Context, String>> = OnceLock::new();
    CONTEXT
        .get_or_init(start_context)
        .as_ref()
        .map_err(Clone::clone)
}

fn start_context() -> Result<Context, String> {
    let runtime =
        tokio::runtime::Runtime::new().map_err(|e| format!("cannot start a tokio runtime: {e}"))?;
    let settings = config()?.settings.clone();
    let redactor = Redactor::for_settings(&settings, &listed_target()?.url);
    #[cfg(feature = "server")]
    if config()?.target.is_none() {
        let server = runtime
            .block_on(crate::server::start(
                ([127, 0, 0, 1], 0).into(),
                Default::default(),
            ))
            .map_err(|e| format!("cannot start the embedded reference server: {e}"))?;
        let runner = Runner::new(server.target(), settings)?;
        return Ok(Context {
            runtime,
            runner,
            redactor,
            _server: Some(server),
        });
    }
    let runner = Runner::new(listed_target()?, settings)?;
    Ok(Context {
        runtime,
        runner,
        redactor,
        #[cfg(feature = "server")]
        _server: None,
    })
}

fn run_trial(planned: Planned) -> Result<(), Failed> {
    let cx = context().map_err(Failed::from)?;
    // Planning happened at listing time; the runner holds the real URL (the embedded server's
    // port is only known once it started).
    let report = cx
        .runtime
        .block_on(suite::run_one(&cx.runner, &planned, &cx.redactor));
    // Plain text (test output is read in logs), opening with the first finding.
    let block = anstream::adapter::strip_str(&human::scenario_block(&report)).to_string();
    match report.status {
        Status::Passed => Ok(()),
        // Found out while running (the target gives only weak ETags, say): not a pass.
        Status::NotApplicable => Err(Failed::from(format!(
            "Error: not applicable: {}\n{block}",
            report.reason.as_deref().unwrap_or("no reason given"),
        ))),
        Status::Failed | Status::Error | Status::NotRun => {
            let first = match report.failures.first() {
                Some(f) => format!(
                    "step `{}` [{}]: {}",
                    f.step,
                    f.rule.as_deref().unwrap_or("expectation"),
                    f.message
                ),
                None => report.reason.clone().unwrap_or_else(|| "failed".into()),
            };
            // nextest reads a failure's message from stderr (one process per test there).
            if std::env::var_os("NEXTEST").is_some() {
                eprintln!("Error: {first}");
            }
            Err(Failed::from(format!("Error: {first}\n{block}")))
        }
    }
}

/// What the environment and the profile (`CONTEND_CONFIG`, else `./contend.yaml`) say about
/// the run; the environment wins.
struct Config {
    settings: Settings,
    target: Option<String>,
    capabilities: Option<Vec<Capability>>,
    own_capabilities: Vec<String>,
    /// What the profile's `idempotency:` says the target has.
    keyed: Vec<Capability>,
}

fn config() -> Result<&'static Config, String> {
    static CONFIG: OnceLock<Result<Config, String>> = OnceLock::new();
    CONFIG
        .get_or_init(read_config)
        .as_ref()
        .map_err(Clone::clone)
}

/// Settings from the environment: `CONTEND_AUTHORIZATION` (kept out of output like `--header`
/// credentials), `CONTEND_STRICT=1`, `CONTEND_ALLOW=rule,rule`, `CONTEND_UPDATE_SNAPSHOTS=1`,
/// `CONTEND_TARGET`, `CONTEND_CAPABILITIES`; then the profile under them.
fn read_config() -> Result<Config, String> {
    let mut settings = Settings::default();
    if let Ok(auth) = std::env::var("CONTEND_AUTHORIZATION") {
        settings.headers.push(("Authorization".into(), auth));
    }
    settings.policy.strict = std::env::var("CONTEND_STRICT").is_ok_and(|v| v == "1");
    if let Ok(list) = std::env::var("CONTEND_ALLOW") {
        settings.policy.allow = list
            .split(',')
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty())
            .collect();
    }
    // The same switch insta users know.
    settings.update_snapshots = std::env::var("CONTEND_UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1");
    let path = std::env::var_os("CONTEND_CONFIG").map(std::path::PathBuf::from);
    let profile = plan::find_profile(path.as_deref()).map_err(|e| e.to_string())?;
    plan::apply_profile(&profile, &mut settings)?;
    let capabilities = match std::env::var("CONTEND_CAPABILITIES") {
        Ok(list) => Some(
            list.split(',')
                .map(|name| {
                    Capability::ALL
                        .into_iter()
                        .find(|c| c.name() == name.trim())
                        .ok_or_else(|| {
                            format!("CONTEND_CAPABILITIES: unknown capability {:?}", name.trim())
                        })
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
        Err(_) => profile.capabilities.clone(),
    };
    let target = std::env::var("CONTEND_TARGET")
        .ok()
        .or(profile.target.clone());
    Ok(Config {
        settings,
        target,
        capabilities,
        own_capabilities: profile.own_capabilities.clone(),
        keyed: plan::keyed_capabilities(&profile),
    })
}

/// The target as far as it is known without starting anything: enough to decide which
/// scenarios apply.
fn listed_target() -> Result<Target, String> {
    let config = config()?;
    let mut target = listed_builtin_target(config)?;
    target
        .own_capabilities
        .extend(config.own_capabilities.iter().cloned());
    target.capabilities.extend(config.keyed.iter().copied());
    Ok(target)
}

fn listed_builtin_target(config: &Config) -> Result<Target, String> {
    match &config.target {
        Some(url) => {
            Target::remote(url, config.capabilities.as_deref()).map_err(|e| format!("target: {e}"))
        }
        // The embedded server's port is not known until it starts; its capabilities are.
        #[cfg(feature = "server")]
        None => {
            let embedded = crate::server::capabilities(&Default::default());
            Target::remote(
                "http://127.0.0.1/",
                Some(config.capabilities.as_deref().unwrap_or(&embedded)),
            )
        }
        #[cfg(not(feature = "server"))]
        None => Err(
            "no target: set CONTEND_TARGET (contend was built without its embedded server)".into(),
        ),
    }
}
