//! Settings, resolved once: defaults < profile < environment < flags. The CLI (`run`, `probe`,
//! `init`) and the `cargo test` harness call [`resolve`] and nothing else, so a profile key
//! means the same under both (a harness that read its settings in its own code once ignored a
//! profile's `cacert`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::env_names_in;
use crate::scenario::{Capability, Profile, RoundsBudget, Template, Vars};

/// What a front end was told directly: command-line flags (the harness has none). `None` and
/// `false` leave the layer below in place.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    pub target: Option<String>,
    pub origin: Option<String>,
    pub headers: Vec<(String, String)>,
    pub capabilities: Option<Vec<Capability>>,
    pub timeout: Option<Duration>,
    pub body_format: Option<Template>,
    pub read_only: bool,
    pub cacert: Option<PathBuf>,
    pub insecure: bool,
    pub client_cert: Option<(PathBuf, PathBuf)>,
    pub max_body: Option<usize>,
    pub vars: Vec<(String, String)>,
    pub update_snapshots: bool,
    pub keep_exchanges: bool,
    pub strict: bool,
    pub allow: Vec<String>,
    pub min_judged: Option<usize>,
    pub race_budget: Option<RoundsBudget>,
    pub jobs: Option<usize>,
}

/// Everything a run needs to know before it starts the target or probes it.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub settings: Settings,
    /// The target's URL; `None` means the embedded reference server.
    pub target: Option<String>,
    /// The origin behind a gateway target.
    pub origin: Option<String>,
    /// Declared capabilities; `None` means the target is probed.
    pub capabilities: Option<Vec<Capability>>,
    /// The profile's own capabilities (`x-team.name`).
    pub own_capabilities: Vec<String>,
    /// What the profile's `idempotency:` says the target has, which no probe could tell.
    pub keyed: Vec<Capability>,
}

/// The environment contend reads, as one layer: `CONTEND_TARGET`, `CONTEND_AUTHORIZATION`
/// (masked like `--header` credentials), `CONTEND_CAPABILITIES`, `CONTEND_STRICT=1`,
/// `CONTEND_ALLOW=rule,rule`, `CONTEND_UPDATE_SNAPSHOTS=1`, `CONTEND_MIN_JUDGED=N`,
/// `CONTEND_RACE_BUDGET=ROUNDS,TIME`, `CONTEND_JOBS=N`.
pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<Flags, String> {
    let list = |name: &str| -> Vec<String> {
        var(name)
            .map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    };
    let capabilities = match var("CONTEND_CAPABILITIES") {
        Some(_) => Some(
            list("CONTEND_CAPABILITIES")
                .iter()
                .map(|name| {
                    Capability::ALL
                        .into_iter()
                        .find(|c| c.name() == name)
                        .ok_or_else(|| format!("CONTEND_CAPABILITIES: unknown capability {name:?}"))
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
        None => None,
    };
    let min_judged =
        match var("CONTEND_MIN_JUDGED") {
            Some(n) => Some(n.trim().parse().map_err(|_| {
                format!("CONTEND_MIN_JUDGED: expected a number of rules, got {n:?}")
            })?),
            None => None,
        };
    let jobs = match var("CONTEND_JOBS") {
        Some(n) => Some(n.trim().parse().map_err(|_| {
            format!("CONTEND_JOBS: expected a number of scenarios at a time, got {n:?}")
        })?),
        None => None,
    };
    let race_budget = match var("CONTEND_RACE_BUDGET") {
        Some(text) => {
            Some(RoundsBudget::parse(&text).map_err(|e| format!("CONTEND_RACE_BUDGET: {e}"))?)
        }
        None => None,
    };
    Ok(Flags {
        target: var("CONTEND_TARGET").filter(|t| !t.is_empty()),
        race_budget,
        jobs,
        headers: var("CONTEND_AUTHORIZATION")
            .map(|auth| vec![("Authorization".to_owned(), auth)])
            .unwrap_or_default(),
        capabilities,
        strict: var("CONTEND_STRICT").is_some_and(|v| v == "1"),
        allow: list("CONTEND_ALLOW"),
        // The same switch insta users know.
        update_snapshots: var("CONTEND_UPDATE_SNAPSHOTS").is_some_and(|v| v == "1"),
        min_judged,
        ..Flags::default()
    })
}

/// Layers `flags` over `env` over `profile` over the defaults.
pub fn resolve(flags: &Flags, env: &Flags, profile: &Profile) -> Result<Resolved, String> {
    let mut settings = Settings::default();
    // Headers: a name set by a higher layer hides the lower ones' value.
    let mut headers = flags.headers.clone();
    for (name, value) in &env.headers {
        if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
            headers.push((name.clone(), value.clone()));
        }
    }
    settings.headers = headers;
    settings.vars = flags.vars.clone();
    settings.timeout = flags.timeout.unwrap_or(settings.timeout);
    settings.max_body = flags.max_body.unwrap_or(settings.max_body);
    settings.body_format = flags.body_format.clone();
    settings.resources.read_only = flags.read_only || env.read_only;
    settings.update_snapshots = flags.update_snapshots || env.update_snapshots;
    settings.keep_exchanges = flags.keep_exchanges;
    settings.policy.strict = flags.strict || env.strict;
    settings.policy.allow = flags.allow.iter().chain(&env.allow).cloned().collect();
    settings.cacert = flags.cacert.clone().or(profile.cacert.clone());
    settings.insecure = flags.insecure || profile.insecure;
    settings.client_cert = flags
        .client_cert
        .clone()
        .or_else(|| profile.client_cert.clone().zip(profile.client_key.clone()));
    if profile.client_cert.is_some() != profile.client_key.is_some() {
        return Err("profile: client_cert and client_key go together".to_owned());
    }
    settings.min_judged = flags.min_judged.or(env.min_judged).or(profile.min_judged);
    settings.race_budget = flags
        .race_budget
        .or(env.race_budget)
        .or(profile.race_budget);
    settings.jobs = (flags.jobs.or(env.jobs).or(profile.jobs)).unwrap_or(settings.jobs);
    if settings.jobs == 0 {
        return Err("jobs: at least 1 scenario must run at a time".to_owned());
    }
    apply_profile(profile, &mut settings)?;
    for own in &profile.own_capabilities {
        if !own.starts_with("x-") {
            return Err(format!(
                "profile own_capabilities: {own:?} is not under a namespace of your own (`x-team.name`)"
            ));
        }
    }
    Ok(Resolved {
        settings,
        target: flags
            .target
            .clone()
            .or(env.target.clone())
            .or(profile.target.clone()),
        origin: flags.origin.clone().or(profile.origin.clone()),
        capabilities: flags
            .capabilities
            .clone()
            .or(env.capabilities.clone())
            .or(profile.capabilities.clone()),
        own_capabilities: profile.own_capabilities.clone(),
        keyed: keyed_capabilities(profile),
    })
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
    /// Scenarios run at once (`--jobs`).
    pub jobs: usize,
    /// Every OPTIONS goes as a CORS preflight from this origin (a profile's `cors_origin`).
    pub cors_origin: Option<String>,
}

/// The profile's resource model; the defaults are today's WebDAV-like behaviour.
#[derive(Debug, Clone, Default)]
pub struct Resources {
    pub create: Option<crate::scenario::CreateBy>,
    pub version: Option<crate::scenario::VersionAt>,
    pub delete: Option<crate::scenario::DeleteStyle>,
    pub existing: Vec<crate::scenario::Existing>,
    /// What `status: replaced` stands for (a profile's `replace.status`); `None`: 200, 201 or
    /// 204, a write performed.
    pub replaced: Option<crate::scenario::StatusSet>,
    /// Send nothing that writes (`--read-only`).
    pub read_only: bool,
}

/// The most content kept per response unless `--max-body` says otherwise: a race holds one
/// per member, so this bounds its memory too.
pub const DEFAULT_MAX_BODY: usize = 8 * 1024 * 1024;

/// Scenarios run at once unless `--jobs` says otherwise.
pub const DEFAULT_JOBS: usize = 4;

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
            jobs: DEFAULT_JOBS,
            cors_origin: None,
        }
    }
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
    if let Some(size) = profile.sample_size {
        if size > 1 << 20 {
            return Err(format!("profile sample_size {size} is over 1 MiB"));
        }
        let format = super::body_format::padded(settings.body_format.as_ref(), size)?;
        settings.body_format = Some(format);
    }
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
    resources.replaced =
        (resources.replaced.take()).or(profile.replace.as_ref().map(|r| r.status.clone()));
    resources.version = resources.version.take().or(profile.version.clone());
    resources.delete = resources.delete.or(profile.delete);
    if resources.existing.is_empty() {
        resources.existing = profile.existing.clone();
    }
    resources.read_only |= profile.read_only;
    settings.policy.strict |= profile.strict;
    settings.policy.cache |= profile.cache;
    settings.cors_origin = settings.cors_origin.take().or(profile.cors_origin.clone());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_the_environment_which_beats_the_profile() {
        let profile: Profile = serde_yaml::from_str(
            "target: http://profile.test/\nheaders: { Authorization: from-profile, X-A: a }\n\
             cacert: ca.pem\nmin_judged: 3\nstrict: false\n",
        )
        .unwrap();
        let env = from_env(|name| match name {
            "CONTEND_TARGET" => Some("http://env.test/".into()),
            "CONTEND_AUTHORIZATION" => Some("from-env".into()),
            "CONTEND_STRICT" => Some("1".into()),
            _ => None,
        })
        .unwrap();
        let none = resolve(&Flags::default(), &env, &profile).unwrap();
        assert_eq!(none.target.as_deref(), Some("http://env.test/"));
        assert_eq!(none.settings.cacert, Some(PathBuf::from("ca.pem")));
        assert_eq!(none.settings.min_judged, Some(3));
        assert!(none.settings.policy.strict);
        let auth: Vec<_> = none
            .settings
            .headers
            .iter()
            .filter(|(n, _)| n == "Authorization")
            .collect();
        assert_eq!(auth, [&("Authorization".to_owned(), "from-env".to_owned())]);
        let flags = Flags {
            target: Some("http://flag.test/".into()),
            min_judged: Some(9),
            ..Flags::default()
        };
        let both = resolve(&flags, &env, &profile).unwrap();
        assert_eq!(both.target.as_deref(), Some("http://flag.test/"));
        assert_eq!(both.settings.min_judged, Some(9));
    }

    #[test]
    fn jobs_come_from_flags_then_the_environment_then_the_profile() {
        let profile: Profile = serde_yaml::from_str("jobs: 1\n").unwrap();
        let env = |jobs: Option<&str>| {
            from_env(|name| {
                (name == "CONTEND_JOBS")
                    .then(|| jobs.map(str::to_owned))
                    .flatten()
            })
            .unwrap()
        };
        let flags = |jobs| Flags {
            jobs,
            ..Flags::default()
        };
        let jobs = |f: &Flags, e: &Flags, p: &Profile| resolve(f, e, p).unwrap().settings.jobs;
        assert_eq!(
            jobs(&flags(None), &env(None), &Profile::default()),
            DEFAULT_JOBS
        );
        assert_eq!(jobs(&flags(None), &env(None), &profile), 1);
        assert_eq!(jobs(&flags(None), &env(Some("3")), &profile), 3);
        assert_eq!(jobs(&flags(Some(8)), &env(Some("3")), &profile), 8);
        let none: Profile = serde_yaml::from_str("jobs: 0\n").unwrap();
        let refused = resolve(&flags(None), &env(None), &none).unwrap_err();
        assert!(refused.contains("jobs"), "{refused}");
        assert!(from_env(|_| Some("many".into())).is_err());
    }
}
