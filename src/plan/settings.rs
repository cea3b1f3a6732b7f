//! Settings, resolved once: defaults < profile < environment < flags. The CLI (`run`, `probe`,
//! `init`) and the `cargo test` harness call [`resolve`] and nothing else, so a profile key
//! means the same under both (a harness that read its settings in its own code once ignored a
//! profile's `cacert`).

use std::path::PathBuf;
use std::time::Duration;

use super::{apply_profile, keyed_capabilities, Settings};
use crate::scenario::{Capability, Profile, RoundsBudget, Template};

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
/// `CONTEND_RACE_BUDGET=ROUNDS,TIME`.
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
    let race_budget = match var("CONTEND_RACE_BUDGET") {
        Some(text) => {
            Some(RoundsBudget::parse(&text).map_err(|e| format!("CONTEND_RACE_BUDGET: {e}"))?)
        }
        None => None,
    };
    Ok(Flags {
        target: var("CONTEND_TARGET").filter(|t| !t.is_empty()),
        race_budget,
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
}
