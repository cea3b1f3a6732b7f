//! Plan: what can be known before sending anything. Resolves the static variables of each
//! scenario, checks that every `{{name}}` will be defined when its step runs, and decides from
//! the target's capabilities whether a scenario applies at all.

use std::collections::{BTreeSet, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::scenario::Profile;
use crate::scenario::{Action, Body, Capability, Need, Scenario, Step, Template, Vars};

mod keyed;
mod preview;
mod resource;
mod settings;

pub use preview::preview;
pub use settings::{from_env, resolve, Flags, Resolved};

/// Sample bodies in the target's format (a profile's `body_format`).
mod bodies {
    use crate::scenario::{Action, Body, Expect, GroupRequests, Request, Scenario, Step, Template};

    pub(super) fn reshape(mut scenario: Scenario, format: &Template) -> Result<Scenario, String> {
        if !format.as_str().contains("{{body}}") {
            return Err(format!(
                "body_format {:?} has no `{{{{body}}}}` to put the sample body in",
                format.as_str()
            ));
        }
        let Some(at) = json_place(format.as_str()) else {
            // Not JSON (XML, iCalendar): the sample is put in as text, and so is what is expected.
            let wrap = |t: &mut Template| -> Result<(), String> {
                *t = Template::parse(&format.as_str().replace("{{body}}", t.as_str()))?;
                Ok(())
            };
            for step in scenario.steps.iter_mut().chain(scenario.cleanup.iter_mut()) {
                step_bodies(step, &wrap, &|_| {})?;
            }
            return Ok(scenario);
        };
        // JSON: the sample goes in as a JSON string, and the checks and `body: true` captures
        // read it back from where it sits, whatever else the target adds (ids, versions). A
        // scenario that sends no text sample (its own JSON) is left as written.
        if !sends_text(&scenario) {
            return Ok(scenario);
        }
        let wrap = |t: &mut Template| -> Result<(), String> {
            let quoted = serde_json::to_string(t.as_str()).map_err(|e| e.to_string())?;
            let escaped = &quoted[1..quoted.len() - 1];
            *t = Template::parse(&format.as_str().replace("{{body}}", escaped))?;
            Ok(())
        };
        let within = |check: &mut crate::scenario::BodyCheck| check.sample_at = Some(at.clone());
        for step in scenario.steps.iter_mut().chain(scenario.cleanup.iter_mut()) {
            step_bodies(step, &wrap, &within)?;
            sample_captures(step, &at);
        }
        Ok(scenario)
    }

    fn sends_text(scenario: &Scenario) -> bool {
        scenario
            .steps
            .iter()
            .chain(&scenario.cleanup)
            .flat_map(Step::requests)
            .any(|request| matches!(request.body.as_deref(), Some(Body::Text(_))))
    }

    /// The JSON pointer of the `"{{body}}"` string in a JSON format, if the format is JSON.
    fn json_place(format: &str) -> Option<crate::scenario::JsonQuery> {
        const MARK: &str = "contend-sample-9f3b1c";
        let doc: serde_json::Value =
            serde_json::from_str(&format.replace("{{body}}", MARK)).ok()?;
        fn find(value: &serde_json::Value, at: String) -> Option<String> {
            match value {
                serde_json::Value::String(s) if s == MARK => Some(at),
                serde_json::Value::Object(map) => map.iter().find_map(|(k, v)| {
                    let key = k.replace('~', "~0").replace('/', "~1");
                    find(v, format!("{at}/{key}"))
                }),
                serde_json::Value::Array(items) => items
                    .iter()
                    .enumerate()
                    .find_map(|(i, v)| find(v, format!("{at}/{i}"))),
                _ => None,
            }
        }
        crate::scenario::JsonQuery::parse(&find(&doc, String::new())?).ok()
    }

    fn sample_captures(step: &mut Step, at: &crate::scenario::JsonQuery) {
        for capture in step.capture.values_mut() {
            if matches!(capture.source, crate::scenario::CaptureSource::Body) {
                capture.source = crate::scenario::CaptureSource::Json(at.clone());
            }
        }
        if let Action::Workload(workload) = &mut step.action {
            for step in workload.steps.iter_mut() {
                sample_captures(step, at);
            }
        }
    }

    /// `headers_if` folded into `headers` for the capabilities the target has.
    pub(super) fn fold_capability_headers(
        mut scenario: Scenario,
        target: &super::Target,
    ) -> Scenario {
        let fold = |request: &mut Request| {
            for (capability, headers) in std::mem::take(&mut request.headers_if.0) {
                if target.capabilities.contains(&capability) {
                    request.headers.0.extend(headers.0);
                }
            }
            Ok(())
        };
        for step in scenario.steps.iter_mut().chain(scenario.cleanup.iter_mut()) {
            let _ = step.each_request_mut(&fold);
        }
        scenario
    }

    /// Every request path `{{scratch}}/NAME` becomes `path` with NAME for `{{name}}`.
    pub(super) fn rename(mut scenario: Scenario, path: &Template) -> Result<Scenario, String> {
        let rename = |request: &mut Request| {
            if let Some(name) = request.path.as_str().strip_prefix("{{scratch}}/") {
                let renamed = path.as_str().replace("{{name}}", name);
                request.path = Template::parse(&renamed)?;
            }
            Ok(())
        };
        for step in scenario.steps.iter_mut().chain(scenario.cleanup.iter_mut()) {
            step.each_request_mut(&rename)?;
        }
        Ok(scenario)
    }

    type Wrap<'a> = dyn Fn(&mut Template) -> Result<(), String> + 'a;
    type Within<'a> = dyn Fn(&mut crate::scenario::BodyCheck) + 'a;

    fn step_bodies(step: &mut Step, wrap: &Wrap, within: &Within) -> Result<(), String> {
        match &mut step.action {
            Action::Send { request, expect } => {
                request_body(request, wrap)?;
                expected_body(expect, wrap, within)
            }
            Action::Race { group, expect } => {
                match &mut group.requests {
                    GroupRequests::Repeat { request, .. } => request_body(request, wrap)?,
                    GroupRequests::List(list) => {
                        list.iter_mut().try_for_each(|r| request_body(r, wrap))?
                    }
                }
                expect
                    .others
                    .iter_mut()
                    .chain(expect.each.iter_mut())
                    .try_for_each(|e| expected_body(e, wrap, within))
            }
            Action::Workload(workload) => workload
                .steps
                .iter_mut()
                .try_for_each(|s| step_bodies(s, wrap, within)),
        }
    }

    fn request_body(request: &mut Request, wrap: &Wrap) -> Result<(), String> {
        match request.body.as_mut().map(|b| &mut b.0) {
            Some(Body::Text(text)) => wrap(text),
            _ => Ok(()),
        }
    }

    /// Text mode wraps the exact expectation; JSON mode points every check at the sample.
    fn expected_body(expect: &mut Expect, wrap: &Wrap, within: &Within) -> Result<(), String> {
        let Some(check) = expect.body.as_mut().map(|b| &mut b.0) else {
            return Ok(());
        };
        within(check);
        match (&check.sample_at, check.equals.as_mut()) {
            (None, Some(equals)) => wrap(equals),
            _ => Ok(()),
        }
    }
}

/// The server under test.
#[derive(Debug, Clone)]
pub struct Target {
    /// Base URL; scenario paths are joined to it.
    pub url: reqwest::Url,
    /// What to call it in reports ("embedded reference server" or the URL).
    pub label: String,
    pub capabilities: BTreeSet<Capability>,
    /// Capabilities of a team's own the profile says the target has (`own_capabilities`).
    pub own_capabilities: BTreeSet<String>,
}

impl Target {
    /// A server given by URL. Without a capability list it is assumed to support everything
    /// but `requires-preconditions` and `collections` (modes a server must declare) and the
    /// reference server's example API.
    pub fn remote(url: &str, capabilities: Option<&[Capability]>) -> Result<Target, String> {
        let parsed = match reqwest::Url::parse(url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => u,
            Ok(_) => return Err(format!("target {url:?} must be an http:// or https:// URL")),
            Err(e) => return Err(format!("target {url:?} is not a URL: {e}")),
        };
        let capabilities = match capabilities {
            Some(list) => list.iter().copied().collect(),
            // A target by URL is not the reference server: no example API either. Modes a
            // server must declare (428, WebDAV collections) are not assumed.
            None => Capability::ALL
                .into_iter()
                .filter(|c| {
                    !matches!(
                        c,
                        Capability::RequiresPreconditions
                            | Capability::ExampleApi
                            | Capability::IdempotencyKey
                            | Capability::IdempotencyKeyRequired
                            | Capability::IdempotencyKeyPerEndpoint
                            | Capability::Collections
                            | Capability::Versions
                    )
                })
                .collect(),
        };
        Ok(Target {
            url: parsed,
            label: url.to_owned(),
            capabilities,
            own_capabilities: BTreeSet::new(),
        })
    }
}

/// Settings of one run that every scenario shares.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `--var name=value`, overriding scenario `vars`.
    pub vars: Vec<(String, String)>,
    /// `--header 'Name: value'`, sent with every request.
    pub headers: Vec<(String, String)>,
    /// Per-request timeout unless a request sets its own.
    pub timeout: Duration,
    /// Record response content as the stored snapshot instead of comparing with it.
    pub update_snapshots: bool,
    /// How findings weigh: `--strict`, `--allow RULE`, a profile's `accept`.
    pub policy: crate::judge::Policy,
    /// The path prefix each scenario works under (`{{scratch}}`), rendered per scenario.
    pub scratch: Template,
    /// Content-Type for request content that has none.
    pub content_type: Option<String>,
    /// Create the scratch path as a collection (MKCOL) before each scenario and delete it after:
    /// WebDAV servers refuse a PUT whose parent collection does not exist.
    pub create_scratch: bool,
    /// The sample bodies' shape: text bodies and exact body expectations take the place of
    /// `{{body}}` in it (a profile's `body_format`).
    pub body_format: Option<Template>,
    /// A query string sent with every request to the target (a SAS token, an API key): a
    /// profile's `query`. Its values are masked in every output.
    pub query: Option<String>,
    /// Where a scenario's resource named NAME lives, in place of `{{scratch}}/NAME` (a
    /// profile's `resource_path`, e.g. `{{scratch}}-{{name}}` for a flat namespace).
    pub resource_path: Option<Template>,
    /// How this target creates, versions, deletes and reads resources (the profile's
    /// `create`, `version`, `delete`, `existing`, `read_only`).
    pub resources: Resources,
    /// Header names whose values are masked like credentials (the profile's `secret_headers`).
    pub secret_headers: Vec<String>,
    /// Values masked in every output: profile headers and query built from `{{env.*}}`.
    pub secrets: Vec<String>,
    /// CA certificates (PEM) to trust for an HTTPS target, besides the platform's.
    pub cacert: Option<std::path::PathBuf>,
    /// Accept any TLS certificate (`--insecure`); reports say so.
    pub insecure: bool,
    /// A client certificate chain and its key (PEM files), for targets that ask for one.
    pub client_cert: Option<(std::path::PathBuf, std::path::PathBuf)>,
    /// The most content kept per response (`--max-body`).
    pub max_body: usize,
    /// Keep every exchange a workload sends (`--report-exchanges all`), not a sample.
    pub keep_exchanges: bool,
    /// The target's own keyed endpoint (a profile's `idempotency:`).
    pub keyed: Option<crate::scenario::KeyedEndpoint>,
    /// The fewest catalog rules a run must judge (`--min-judged`, a profile's `min_judged`).
    pub min_judged: Option<usize>,
    /// How long every racing scenario hunts (`--race-budget`, a profile's `race_budget`), in
    /// place of its own `rounds`.
    pub race_budget: Option<crate::scenario::RoundsBudget>,
}

/// The profile's resource model; the defaults are today's WebDAV-like behaviour.
#[derive(Debug, Clone, Default)]
pub struct Resources {
    pub create: Option<crate::scenario::CreateBy>,
    pub version: Option<crate::scenario::VersionAt>,
    pub delete: Option<crate::scenario::DeleteStyle>,
    pub existing: Vec<crate::scenario::Existing>,
    /// Send nothing that writes (`--read-only`).
    pub read_only: bool,
}

/// The most content kept per response unless `--max-body` says otherwise: a race holds one
/// per member, so this bounds its memory too.
pub const DEFAULT_MAX_BODY: usize = 8 * 1024 * 1024;

/// The default scratch prefix: unique per run and per scenario.
pub const DEFAULT_SCRATCH: &str = "/contend-{{run_id}}/{{uuid}}";

impl Default for Settings {
    fn default() -> Self {
        Settings {
            vars: Vec::new(),
            headers: Vec::new(),
            timeout: Duration::from_secs(10),
            update_snapshots: false,
            policy: Default::default(),
            scratch: Template::parse(DEFAULT_SCRATCH).expect("a valid template"),
            content_type: None,
            create_scratch: false,
            body_format: None,
            query: None,
            resource_path: None,
            resources: Resources::default(),
            secret_headers: Vec::new(),
            secrets: Vec::new(),
            cacert: None,
            insecure: false,
            client_cert: None,
            max_body: DEFAULT_MAX_BODY,
            keep_exchanges: false,
            keyed: None,
            min_judged: None,
            race_budget: None,
        }
    }
}

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

/// What a profile's `idempotency:` says the target has, probed or not: a keyed endpoint, one
/// that requires the key, and (with a second endpoint) keys scoped per endpoint.
pub fn keyed_capabilities(profile: &Profile) -> Vec<Capability> {
    let Some(keyed) = &profile.idempotency else {
        return Vec::new();
    };
    let mut out = vec![Capability::IdempotencyKey];
    if keyed.required {
        out.push(Capability::IdempotencyKeyRequired);
    }
    if keyed.other_endpoint.is_some() {
        out.push(Capability::IdempotencyKeyPerEndpoint);
    }
    out
}

/// Layers a target profile under `settings`: what flags or the environment already set wins.
/// Header and variable values in the profile are templates over `{{env.NAME}}`.
pub fn apply_profile(profile: &Profile, settings: &mut Settings) -> Result<(), String> {
    let mut env = Vars::default();
    let templates = profile
        .headers
        .values()
        .chain(profile.vars.values())
        .chain(profile.scratch.as_ref())
        .chain(profile.query.as_ref());
    for name in templates.flat_map(env_names_in) {
        if let Ok(value) = std::env::var(&name) {
            env.set(format!("env.{name}"), value);
        }
    }
    let mut headers = Vec::new();
    for (name, template) in &profile.headers {
        if !settings
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            let value = template
                .render(&env)
                .map_err(|e| format!("profile header {name}: {e}"))?;
            // A value from the environment is a secret unless the profile says it is public.
            let public = profile
                .public_headers
                .iter()
                .any(|p| p.eq_ignore_ascii_case(name));
            if env_names_in(template).next().is_some() && !public && value.len() >= 4 {
                settings.secrets.push(value.clone());
            }
            headers.push((name.clone(), value));
        }
    }
    headers.append(&mut settings.headers);
    settings.headers = headers;
    for (name, template) in &profile.vars {
        if !settings.vars.iter().any(|(n, _)| n == name) {
            let value = template
                .render(&env)
                .map_err(|e| format!("profile var {name}: {e}"))?;
            settings.vars.push((name.clone(), value));
        }
    }
    if let Some(scratch) = &profile.scratch {
        settings.scratch = scratch.clone();
    }
    if let Some(keyed) = &profile.idempotency {
        if keyed.other_endpoint.is_some() != keyed.other_body.is_some() {
            return Err(
                "profile idempotency: other_endpoint and other_body go together".to_owned(),
            );
        }
        settings.keyed = Some(keyed.clone());
    }
    settings.content_type = settings
        .content_type
        .take()
        .or(profile.content_type.clone());
    settings.body_format = settings.body_format.take().or(profile.body_format.clone());
    if let Some(path) = &profile.resource_path {
        if !path.as_str().contains("{{name}}") {
            return Err(format!(
                "profile resource_path {:?} has no `{{{{name}}}}` for the resource's name",
                path.as_str()
            ));
        }
        settings.resource_path = Some(path.clone());
    }
    if let Some(query) = &profile.query {
        let rendered = query
            .render(&env)
            .map_err(|e| format!("profile query: {e}"))?;
        settings.query = Some(rendered.trim_start_matches('?').to_owned());
    }
    settings.create_scratch |= profile.create_scratch;
    settings
        .secret_headers
        .extend(profile.secret_headers.iter().cloned());
    let resources = &mut settings.resources;
    resources.create = resources.create.take().or(profile.create.clone());
    resources.version = resources.version.take().or(profile.version.clone());
    resources.delete = resources.delete.or(profile.delete);
    if resources.existing.is_empty() {
        resources.existing = profile.existing.clone();
    }
    resources.read_only |= profile.read_only;
    settings.policy.strict |= profile.strict;
    settings.policy.allow.extend(profile.allow.iter().cloned());
    settings
        .policy
        .accept
        .extend(profile.accept.iter().map(|(r, s)| (r.clone(), s.clone())));
    for (id, rule) in &profile.rules {
        let section = rule.section.as_deref().unwrap_or("the team's own rule");
        let own = crate::judge::OwnRule::new(
            id,
            &rule.level,
            &rule.summary,
            section,
            rule.link.as_deref().unwrap_or(""),
        )?;
        settings.policy.own_rules.push(own);
    }
    match settings
        .policy
        .accept
        .iter()
        .map(|(r, _)| r)
        .find(|r| !settings.policy.knows(r))
    {
        Some(unknown) => Err(format!("profile accept: {unknown:?} is not a catalog rule")),
        None => Ok(()),
    }
}

/// The profile at `path`, or `./contend.yaml` when it exists, or an empty one.
pub fn find_profile(path: Option<&Path>) -> Result<Profile, crate::scenario::LoadError> {
    let default = Path::new("contend.yaml");
    match path {
        Some(path) => crate::scenario::load_profile(path),
        None if default.is_file() => crate::scenario::load_profile(default),
        None => Ok(Profile::default()),
    }
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
    let absolute = std::fs::canonicalize(file).unwrap_or_else(|_| file.clone());
    let root = absolute.ancestors().skip(1).find(|dir| {
        dir.file_name().is_some_and(|n| n == "specs") || dir.join("contend.yaml").is_file()
    });
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

/// The shaping a scenario goes through for this target: capability headers folded in,
/// resources renamed and modelled, the keyed endpoint placed. Returns the shaped scenario,
/// whether it runs on an `existing` resource, and a write the version model cannot send.
fn shape(
    scenario: Arc<Scenario>,
    target: &Target,
    settings: &Settings,
    fail: &dyn Fn(String) -> PlanError,
) -> Result<(Arc<Scenario>, bool, Option<String>), PlanError> {
    let scenario = match has_capability_headers(&scenario) {
        true => Arc::new(bodies::fold_capability_headers((*scenario).clone(), target)),
        false => scenario,
    };
    let scenario = match &settings.resource_path {
        Some(path) => Arc::new(bodies::rename((*scenario).clone(), path).map_err(fail)?),
        None => scenario,
    };
    let unversioned = match &settings.resources.version {
        Some(version) if version.required => resource::unversioned_update(&scenario),
        _ => None,
    };
    let (scenario, on_existing) = resources(scenario, &settings.resources).map_err(fail)?;
    let keyed_need = Need::Builtin(Capability::IdempotencyKey);
    let scenario = match &settings.keyed {
        Some(keyed) if scenario.requires.contains(&keyed_need) => {
            Arc::new(keyed::place((*scenario).clone(), keyed).map_err(fail)?)
        }
        _ => scenario,
    };
    Ok((scenario, on_existing, unversioned))
}

/// The scenario with each step in its `weak:` form, when some step has one.
fn weak_twin(scenario: &Scenario) -> Option<Scenario> {
    let judged = |s: &Step| matches!(s.on_weak, Some(crate::scenario::OnWeak::Judge(_)));
    if !scenario.steps.iter().any(judged) {
        return None;
    }
    let mut twin = scenario.clone();
    for step in twin.steps.iter_mut() {
        if let Some(crate::scenario::OnWeak::Judge(weak)) = step.on_weak.take() {
            *step = *weak;
        }
    }
    Some(twin)
}

/// Puts the shaped weak forms of `twin` back on the steps of `scenario`, step for step (the
/// shaping adds the same steps to both, so they line up by position and name).
fn attach_weak(mut scenario: Scenario, twin: &Scenario) -> Scenario {
    if scenario.steps.len() != twin.steps.len() {
        return scenario;
    }
    for (step, weak) in scenario.steps.iter_mut().zip(&twin.steps) {
        if step.name == weak.name && matches!(step.on_weak, Some(crate::scenario::OnWeak::Judge(_)))
        {
            step.on_weak = Some(crate::scenario::OnWeak::Judge(Box::new(weak.clone())));
        }
    }
    scenario
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
        Some(format) => Arc::new(bodies::reshape((*scenario).clone(), format).map_err(
            |message| PlanError {
                id: id.clone(),
                problems: vec![message],
            },
        )?),
        None => scenario,
    };
    let fail = |message: String| PlanError {
        id: id.clone(),
        problems: vec![message],
    };
    let (scenario, on_existing, unversioned) = shape(scenario, target, settings, &fail)?;
    // Each step's `weak:` form goes through the same shaping (paths, bodies, resources).
    let (scenario, weak_twin) = match weak_twin(&scenario_before_shaping) {
        Some(twin) => {
            let twin = match &settings.body_format {
                Some(format) => bodies::reshape(twin, format).map_err(&fail)?,
                None => twin,
            };
            let (twin, _, _) = shape(Arc::new(twin), target, settings, &fail)?;
            (
                Arc::new(attach_weak((*scenario).clone(), &twin)),
                Some(twin),
            )
        }
        None => (scenario, None),
    };

    let mut vars = Vars::default();
    let uuid = uuid::Uuid::new_v4().to_string();
    vars.set("run_id", run_id);
    vars.set("uuid", uuid);
    let mut env_names = referenced_env(&scenario).map_err(&fail)?;
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
    let mut problems = check_variables(&scenario, &vars);
    // A weak form's templates are checked like the step's own (the same names, once each).
    if let Some(twin) = &weak_twin {
        for problem in check_variables(twin, &vars) {
            if !problems.contains(&problem) {
                problems.push(problem);
            }
        }
    }
    problems.extend(check_body_files(&scenario));
    for step in scenario.steps.iter().chain(&scenario.cleanup) {
        if let Some(rule) = step.rule.as_deref().filter(|r| !settings.policy.knows(r)) {
            problems.push(located(
                &scenario,
                &format!("rule: {rule}"),
                format!(
                    "step `{}`: `rule: {rule}` is not in the catalog (`contend explain --all` \
                     lists the ids) nor one of the profile's own `rules:`",
                    step.name
                ),
            ));
        }
    }
    if !problems.is_empty() {
        return Err(PlanError { id, problems });
    }

    let has = |c: &Capability| match c {
        Capability::Create => {
            on_existing
                || settings.resources.create.is_some()
                || target.capabilities.contains(&Capability::Create)
                || target.capabilities.contains(&Capability::PutCreate)
        }
        Capability::Versions => {
            settings.resources.version.is_some() || target.capabilities.contains(c)
        }
        other => target.capabilities.contains(other),
    };
    let lacks = |needs: &[Need]| -> Vec<String> {
        needs
            .iter()
            .filter(|need| match need {
                Need::Builtin(c) => !has(c),
                Need::Own(name) => !target.own_capabilities.contains(name),
            })
            .map(|n| n.name().to_owned())
            .collect()
    };
    let missing = lacks(&scenario.requires);
    // A step that needs more than its scenario is set aside where the target lacks it; the
    // other steps still run and judge.
    let scenario = match scenario.steps.iter().any(|s| !s.requires.is_empty()) {
        false => scenario,
        true => {
            let mut shaped = (*scenario).clone();
            for step in shaped.steps.iter_mut() {
                let lacking = lacks(&step.requires);
                if !lacking.is_empty() {
                    step.set_aside = Some(format!("the target lacks {}", lacking.join(", ")));
                }
            }
            Arc::new(shaped)
        }
    };
    let writes = settings
        .resources
        .read_only
        .then(|| resource::writes(&scenario))
        .flatten();
    // On a read-only target, that a scenario writes is the reason that matters most.
    let applicability = match (missing.is_empty(), writes) {
        (_, Some(write)) => Applicability::NotApplicable(format!(
            "the target is read-only and {write}{}",
            match settings.resources.existing.is_empty() {
                true => " (a profile's `existing:` resource lets read scenarios run)",
                false => "",
            }
        )),
        (false, None) => {
            Applicability::NotApplicable(format!("the target lacks {}", missing.join(", ")))
        }
        (true, None) if unversioned.is_some() => Applicability::NotApplicable(format!(
            "the target needs the version with every update (version.required) and {}",
            unversioned.unwrap_or_default()
        )),
        (true, None) => Applicability::Run,
    };
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
fn check_body_files(scenario: &Scenario) -> Vec<String> {
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

/// True when some request of the scenario has `headers_if`.
fn has_capability_headers(scenario: &Scenario) -> bool {
    (scenario.steps.iter().chain(&scenario.cleanup))
        .flat_map(Step::requests)
        .any(|r| !r.headers_if.0.is_empty())
}

/// Names `NAME` of every `{{env.NAME}}` the scenario uses.
fn referenced_env(scenario: &Scenario) -> Result<BTreeSet<String>, String> {
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
fn check_variables(scenario: &Scenario, vars: &Vars) -> Vec<String> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
