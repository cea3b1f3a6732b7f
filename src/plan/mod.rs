//! Plan: what can be known before sending anything. Resolves the static variables of each
//! scenario, checks that every `{{name}}` will be defined when its step runs, and decides from
//! the target's capabilities whether a scenario applies at all.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::scenario::{Capability, Need, Scenario, Vars};

mod applicability;
mod body_format;
mod checks;
mod cors;
mod headers_if;
mod keyed;
mod preview;
mod replace;
mod resource;
mod resource_path;
mod settings;
mod target;
mod weak;

pub use checks::env_names_in;
pub use preview::preview;
pub use settings::{
    apply_profile, find_profile, from_env, keyed_capabilities, resolve, Flags, Resolved, Resources,
    Settings, DEFAULT_MAX_BODY, DEFAULT_SCRATCH,
};
pub use target::Target;

/// A scenario ready to execute, or the reason it will not.
#[derive(Debug, Clone)]
pub struct Planned {
    /// The scenario as it runs (sample bodies in the target's format).
    pub scenario: Arc<Scenario>,
    /// The scenario as loaded: each round is planned afresh from it.
    pub source: Arc<Scenario>,
    /// `file::scenario`, the name used in reports and as the test name.
    pub id: String,
    pub applicability: Applicability,
    /// Static variables: built-ins, `--var`, scenario `vars`, referenced environment variables.
    pub vars: Vars,
    /// Which round of a hunt this plan is for (from 0): set by whoever runs the rounds.
    pub round: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applicability {
    Run,
    NotApplicable(String),
}

/// A scenario that cannot run as written: bad input, reported before anything is sent.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", problems.iter().map(|p| format!("{id}: {p}")).collect::<Vec<_>>().join("\n"))]
pub struct PlanError {
    pub id: String,
    /// Every problem found, so that one pass shows them all.
    pub problems: Vec<String>,
}

/// A fresh identifier for one run, used in scratch paths so runs never collide.
pub fn new_run_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..8].to_owned()
}

/// The name of a scenario in reports and test lists: `file::name`, where `file` is the
/// scenario file's path without its extension, relative to the nearest enclosing directory
/// named `specs` or holding a `contend.yaml`, else to the file's own directory. It does not
/// depend on how the path was given (`specs/x.yaml`, `specs`, `../repo/specs/x.yaml`, the
/// harness, the built-in suite), so filters and CI history stay stable.
pub fn scenario_id(scenario: &Scenario) -> String {
    let file = &scenario.file;
    let (absolute, root) = match (file.parent(), file.file_name()) {
        (Some(dir), Some(name)) => {
            let here = Path::new(".");
            let (dir, root) = directory_facts(if dir.as_os_str().is_empty() {
                here
            } else {
                dir
            });
            (dir.join(name), root)
        }
        _ => (file.clone(), None),
    };
    let relative = root
        .and_then(|r| absolute.strip_prefix(r).ok())
        .or_else(|| file.file_name().map(Path::new))
        .unwrap_or(file);
    format!(
        "{}::{}",
        relative.with_extension("").display(),
        scenario.name
    )
}

/// A scenario file's directory made absolute, and the directory its ids are relative to (the
/// nearest `specs` or holder of a contend.yaml above it): asked of the file system once per
/// directory, not once per file (100,000 files in one directory made 100,000 × its depth stats).
fn directory_facts(dir: &Path) -> (PathBuf, Option<PathBuf>) {
    use std::sync::{Mutex, OnceLock};
    // Keyed by the path's bytes: hashing a `Path` parses its components.
    type Facts = foldhash::HashMap<Vec<u8>, (PathBuf, Option<PathBuf>)>;
    static KNOWN: OnceLock<Mutex<Facts>> = OnceLock::new();
    let known = KNOWN.get_or_init(Default::default);
    let key = dir.as_os_str().as_encoded_bytes();
    if let Some(facts) = known.lock().ok().and_then(|k| k.get(key).cloned()) {
        return facts;
    }
    let absolute = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let root = absolute
        .ancestors()
        .find(|d| d.file_name().is_some_and(|n| n == "specs") || d.join("contend.yaml").is_file())
        .map(Path::to_path_buf);
    let facts = (absolute, root);
    if let Ok(mut known) = known.lock() {
        known.insert(key.to_vec(), facts.clone());
    }
    facts
}

/// The shaping a scenario goes through for this target: capability headers folded in,
/// resources renamed and modelled, the keyed endpoint placed. Returns the shaped scenario,
/// whether it runs on an `existing` resource, and a write the version model cannot send.
fn shape(
    scenario: Arc<Scenario>,
    target: &Target,
    settings: &Settings,
    fail: &dyn Fn(String) -> PlanError,
) -> Result<(Arc<Scenario>, bool, Option<String>), PlanError> {
    let scenario = match headers_if::used(&scenario) {
        true => Arc::new(headers_if::fold((*scenario).clone(), target)),
        false => scenario,
    };
    let scenario = match (&settings.cors_origin, cors::used(&scenario)) {
        (Some(origin), true) => {
            Arc::new(cors::preflight((*scenario).clone(), origin).map_err(fail)?)
        }
        _ => scenario,
    };
    let scenario = match &settings.resource_path {
        Some(path) => Arc::new(resource_path::rename((*scenario).clone(), path).map_err(fail)?),
        None => scenario,
    };
    let unversioned = match &settings.resources.version {
        Some(version) if version.required => resource::unversioned_update(&scenario),
        _ => None,
    };
    let (scenario, on_existing) = resources(scenario, &settings.resources).map_err(fail)?;
    let scenario = match replace::mentioned(&scenario) {
        true => {
            let replaced = settings.resources.replaced.as_ref();
            Arc::new(replace::place((*scenario).clone(), replaced).map_err(fail)?)
        }
        false => scenario,
    };
    let keyed_need = Need::Builtin(Capability::IdempotencyKey);
    let scenario = match &settings.keyed {
        Some(keyed) if scenario.requires.contains(&keyed_need) => {
            Arc::new(keyed::place((*scenario).clone(), keyed).map_err(fail)?)
        }
        _ => scenario,
    };
    Ok((scenario, on_existing, unversioned))
}

pub fn plan(
    scenario: Arc<Scenario>,
    id: String,
    target: &Target,
    settings: &Settings,
    run_id: &str,
) -> Result<Planned, PlanError> {
    let source = scenario.clone();
    let scenario_before_shaping = scenario.clone();
    let scenario = match &settings.body_format {
        Some(format) if scenario.body_format => Arc::new(
            body_format::reshape((*scenario).clone(), format).map_err(|message| PlanError {
                id: id.clone(),
                problems: vec![message],
            })?,
        ),
        _ => scenario,
    };
    let fail = |message: String| PlanError {
        id: id.clone(),
        problems: vec![message],
    };
    let (scenario, on_existing, unversioned) = shape(scenario, target, settings, &fail)?;
    // Each step's `weak:` form goes through the same shaping (paths, bodies, resources).
    let (scenario, weak_twin) = match weak::twin(&scenario_before_shaping) {
        Some(twin) => {
            let twin = match &settings.body_format {
                Some(format) if twin.body_format => {
                    body_format::reshape(twin, format).map_err(&fail)?
                }
                _ => twin,
            };
            let (twin, _, _) = shape(Arc::new(twin), target, settings, &fail)?;
            (
                Arc::new(weak::attach((*scenario).clone(), &twin)),
                Some(twin),
            )
        }
        None => (scenario, None),
    };

    let mut vars = Vars::default();
    let uuid = uuid::Uuid::new_v4().to_string();
    vars.set("run_id", run_id);
    vars.set("uuid", uuid);
    let mut env_names = checks::referenced_env(&scenario).map_err(&fail)?;
    env_names.extend(env_names_in(&settings.scratch));
    for name in env_names {
        if let Ok(value) = std::env::var(&name) {
            vars.set(format!("env.{name}"), value);
        }
    }
    let scratch = settings
        .scratch
        .render(&vars)
        .map_err(|e| fail(format!("scratch path: {e}")))?;
    vars.set("scratch", scratch);
    let statics = vars.clone();
    for (name, def) in &scenario.vars {
        let value = def
            .value
            .render(&statics)
            .map_err(|e| fail(format!("vars.{name}: {e}")))?;
        if def.secret {
            vars.set_secret(name, value);
        } else {
            vars.set(name, value);
        }
    }
    for (name, value) in &settings.vars {
        // A --var overriding a secret scenario variable stays secret.
        if scenario.vars.get(name).is_some_and(|d| d.secret) {
            vars.set_secret(name, value);
        } else {
            vars.set(name, value);
        }
    }

    // Everything knowable before sending, all of it at once.
    let mut problems = checks::variables(&scenario, &vars);
    // A weak form's templates are checked like the step's own (the same names, once each).
    if let Some(twin) = &weak_twin {
        for problem in checks::variables(twin, &vars) {
            if !problems.contains(&problem) {
                problems.push(problem);
            }
        }
    }
    problems.extend(checks::body_files(&scenario));
    problems.extend(checks::rules(&scenario, &settings.policy));
    if !problems.is_empty() {
        return Err(PlanError { id, problems });
    }

    let (scenario, applicability) =
        applicability::decide(scenario, target, settings, on_existing, unversioned);
    Ok(Planned {
        scenario,
        source,
        id,
        applicability,
        vars,
        round: 0,
    })
}

/// The profile's resource model applied: create, delete style, versions, and on a read-only
/// target an existing resource in place of a created one (then `true`).
fn resources(
    scenario: Arc<Scenario>,
    resources: &Resources,
) -> Result<(Arc<Scenario>, bool), String> {
    let on_one_existing = resources.read_only && !resources.existing.is_empty();
    let untouched = !on_one_existing
        && resources.create.is_none()
        && resources.delete.is_none()
        && !resource::mentions_versions(&scenario);
    if untouched {
        return Ok((scenario, false));
    }
    let mut shaped = (*scenario).clone();
    let mut on_existing = false;
    if let (true, Some(existing)) = (resources.read_only, resources.existing.first()) {
        if let Some(read) = resource::on_existing(&shaped, existing) {
            shaped = read;
            on_existing = true;
        }
    }
    if let Some(create) = &resources.create {
        shaped = resource::create_by(shaped, create)?;
    }
    if let Some(style) = resources.delete {
        shaped = resource::delete_style(shaped, style);
    }
    let version = resources.version.clone().unwrap_or_default();
    shaped = resource::place_versions(shaped, &version)?;
    Ok((Arc::new(shaped), on_existing))
}

/// The same scenario planned afresh for another round: new `uuid`, new scratch path.
pub fn replan(
    planned: &Planned,
    target: &Target,
    settings: &Settings,
    round: u32,
) -> Result<Planned, PlanError> {
    let run_id = planned.vars.get("run_id").unwrap_or_default();
    let mut fresh = plan(
        planned.source.clone(),
        planned.id.clone(),
        target,
        settings,
        run_id,
    )?;
    fresh.round = round;
    Ok(fresh)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Profile;

    /// Through the one YAML loader, as `contend run` reads it.
    fn profile_from(yaml: &str) -> Profile {
        let path = std::env::temp_dir().join(format!(
            "contend-profile-{}-{}.yaml",
            std::process::id(),
            yaml.len()
        ));
        std::fs::write(&path, yaml).unwrap();
        let profile = find_profile(Some(&path)).unwrap();
        std::fs::remove_file(&path).unwrap();
        profile
    }

    #[test]
    fn a_profile_fills_what_flags_leave_open() {
        let yaml = "headers: { Authorization: 'Bearer {{env.CONTEND_TEST_PROFILE_TOKEN}}', X-Team: core }\n\
                    vars: { tenant: acme, region: eu }\ncontent_type: text/plain\nstrict: true\n\
                    allow: [etag.stable]\naccept: { race.one-winner: [409] }\n";
        let profile = profile_from(yaml);
        std::env::set_var("CONTEND_TEST_PROFILE_TOKEN", "t0k");
        let mut settings = Settings {
            headers: vec![("x-team".into(), "from-flag".into())],
            vars: vec![("region".into(), "us".into())],
            ..Settings::default()
        };
        apply_profile(&profile, &mut settings).unwrap();
        assert_eq!(
            settings.headers,
            [
                ("Authorization".to_owned(), "Bearer t0k".to_owned()),
                ("x-team".to_owned(), "from-flag".to_owned())
            ]
        );
        assert!(settings.vars.contains(&("region".into(), "us".into())));
        assert!(settings.vars.contains(&("tenant".into(), "acme".into())));
        assert_eq!(settings.content_type.as_deref(), Some("text/plain"));
        assert!(settings.policy.strict);
        assert_eq!(settings.policy.allow, ["etag.stable"]);

        let bad = profile_from("accept: { no.such-rule: [409] }");
        let err = apply_profile(&bad, &mut Settings::default()).unwrap_err();
        assert_eq!(
            err,
            "profile accept: \"no.such-rule\" is not a catalog rule"
        );
    }

    /// A keyed count that filters by nothing is the whole target's: the scenarios that read it
    /// run alone; one filtered by the key does not need to.
    #[test]
    fn a_global_count_makes_its_readers_run_alone() {
        let once = crate::scenario::load_file(Path::new("specs/idempotency/once.yaml"))
            .unwrap()
            .remove(0);
        let planned = |count: &str| {
            let yaml = format!(
                "idempotency:\n  endpoint: /pay\n  body: '{{\"amount\": {{{{amount}}}}}}'\n  \
                 count: \"{count}\"\n"
            );
            let mut settings = Settings::default();
            apply_profile(&profile_from(&yaml), &mut settings).unwrap();
            let mut target = Target::remote("http://127.0.0.1:1/", None).unwrap();
            target.capabilities.insert(Capability::IdempotencyKey);
            let id = scenario_id(&once);
            plan(Arc::new(once.clone()), id, &target, &settings, "run").unwrap()
        };
        assert!(planned("/stats").scenario.alone);
        assert!(!planned("/pay?reference={{key}}").scenario.alone);
    }
}
