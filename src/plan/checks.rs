//! What planning checks before anything is sent, all at once: every `{{name}}` defined when its
//! step runs, every body file present, every `rule:` known. Each problem names its file, line
//! and column where the scenario's file can be read.

use std::collections::{BTreeSet, HashSet};
use std::path::Path;

use crate::scenario::{Action, Body, Scenario, Step, Template, Vars};

/// `message` prefixed with where the scenario's file first holds `needle` at or after the
/// scenario's own `name:` (`specs/x.yaml:12:24: `), when the file can be read.
fn located(scenario: &Scenario, needle: &str, message: String) -> String {
    let text = std::fs::read_to_string(&scenario.file).ok();
    let at = text.as_ref().and_then(|text| {
        let from = text.find(&format!("name: {}", scenario.name)).unwrap_or(0);
        // From the step the message names, when it can be found: the needle there, not in an
        // earlier step.
        let step = message
            .split_once("step `")
            .and_then(|(_, rest)| rest.split_once('`'))
            .and_then(|(name, _)| {
                [format!("name: {name}"), format!("name: \"{name}\"")]
                    .iter()
                    .find_map(|line| text[from..].find(line.as_str()))
            })
            .map(|at| from + at);
        let at = step
            .and_then(|s| text[s..].find(needle).map(|at| s + at))
            .or_else(|| text[from..].find(needle).map(|at| from + at))?;
        let line = text[..at].matches('\n').count() + 1;
        let column = text[..at].rfind('\n').map_or(at, |nl| at - nl - 1) + 1;
        Some(format!("{}:{line}:{column}: ", scenario.file.display()))
    });
    format!("{}{message}", at.unwrap_or_default())
}

/// Every `body: { file: F }` names a file beside the scenario: known before anything is sent.
pub(super) fn body_files(scenario: &Scenario) -> Vec<String> {
    let dir = scenario.file.parent().unwrap_or(Path::new("."));
    let mut problems = Vec::new();
    for step in scenario.steps.iter().chain(&scenario.cleanup) {
        for request in step.requests() {
            if let Some(Body::File(file)) = request.body.as_deref() {
                if !dir.join(file).is_file() {
                    problems.push(located(
                        scenario,
                        &file.display().to_string(),
                        format!(
                            "step `{}`: body file {} does not exist",
                            step.name,
                            dir.join(file).display()
                        ),
                    ));
                }
            }
        }
    }
    problems
}

/// Every `rule:` a step names is in the catalog or the profile's own rules.
pub(super) fn rules(scenario: &Scenario, policy: &crate::judge::Policy) -> Vec<String> {
    let mut problems = Vec::new();
    for step in scenario.steps.iter().chain(&scenario.cleanup) {
        if let Some(rule) = step.rule.as_deref().filter(|r| !policy.knows(r)) {
            problems.push(located(
                scenario,
                &format!("rule: {rule}"),
                format!(
                    "step `{}`: `rule: {rule}` is not in the catalog (`contend explain --all` \
                     lists the ids) nor one of the profile's own `rules:`",
                    step.name
                ),
            ));
        }
    }
    problems
}

pub(super) fn referenced_env(scenario: &Scenario) -> Result<BTreeSet<String>, String> {
    let mut names = BTreeSet::new();
    let mut add = |t: &Template| names.extend(env_names_in(t));
    scenario.vars.values().for_each(|d| add(&d.value));
    for step in scenario.steps.iter().chain(&scenario.cleanup) {
        step.templates()?.iter().for_each(&mut add);
    }
    Ok(names)
}

/// Names `NAME` of the `{{env.NAME}}` in one template.
pub fn env_names_in(template: &Template) -> impl Iterator<Item = String> + '_ {
    template
        .variables()
        .filter_map(|v| v.strip_prefix("env."))
        .map(str::to_owned)
}

/// Every variable used by a step must be defined by then: statically, or by a capture (or a
/// group's winner) of an earlier step. Catches typos before a single request is sent.
pub(super) fn variables(scenario: &Scenario, vars: &Vars) -> Vec<String> {
    let mut problems = Vec::new();
    let mut defined: HashSet<String> = HashSet::new();
    let steps = scenario
        .steps
        .iter()
        .map(|s| (s, false))
        .chain(scenario.cleanup.iter().map(|s| (s, true)));
    for (step, cleanup) in steps {
        let part = if cleanup { "cleanup step" } else { "step" };
        let mut check = |step: &Step, defined: &HashSet<String>| {
            problems.extend(
                undefined(step, defined, vars, part)
                    .into_iter()
                    .map(|(name, m)| located(scenario, &format!("{{{{{name}"), m)),
            )
        };
        if let Action::Workload(workload) = &step.action {
            // Inside: the client's index and iteration, and the client's own captures.
            let mut inner = defined.clone();
            inner.extend(["index".to_owned(), "iteration".to_owned()]);
            for each in &workload.steps {
                check(each, &inner);
                inner.extend(each.capture.keys().cloned());
            }
            defined.extend(["workload.writes".to_owned(), "workload.retries".to_owned()]);
            continue;
        }
        let mut here = defined.clone();
        if matches!(step.action, Action::Race { .. }) {
            here.insert("index".to_owned());
            defined.extend(["winner.index".to_owned(), "winner.status".to_owned()]);
        }
        check(step, &here);
        // A variable undefined once is reported once, not at every later use.
        defined.extend(step.capture.keys().cloned());
    }
    problems
}

/// The names a step uses that nothing defines, each with its message.
fn undefined(
    step: &Step,
    defined: &HashSet<String>,
    vars: &Vars,
    part: &str,
) -> Vec<(String, String)> {
    let templates = match step.templates() {
        Ok(t) => t,
        Err(e) => return vec![(String::new(), e)],
    };
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for template in templates {
        for name in template.variables() {
            if vars.contains(name) || defined.contains(name) || !seen.insert(name.to_owned()) {
                continue;
            }
            let message = match name.strip_prefix("env.") {
                Some(env) => format!(
                    "{part} `{}`: environment variable {env} is not set",
                    step.name
                ),
                None => format!(
                    "{part} `{}`: variable `{name}` is not defined (define it under `vars`, pass \
                     --var {name}=VALUE, or capture it in an earlier step)",
                    step.name
                ),
            };
            out.push((name.to_owned(), message));
        }
    }
    out
}
