//! Execute: sends a planned scenario's requests and records [`Exchange`]s. Steps run in order;
//! a concurrent group runs on its own pre-opened connections ([`group`]). After each step the
//! judge says whether it held: the first step that fails (a warning does not) ends the scenario,
//! then `cleanup` runs.

mod capture;
mod connect;
mod exchange;
mod gate;
mod group;
mod h2race;
mod probe;
mod raw;
mod snapshot;
mod workload;

use std::path::Path;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE, USER_AGENT};

pub use exchange::{Exchange, Outgoing, Received};
pub use group::RaceWindow;
pub use probe::Probe;

use crate::judge::{self, Failure};
use crate::plan::{self, Planned, Settings, Target};
use crate::scenario::template::{render_json, TemplateError};
use crate::scenario::{Action, Body, Capture, Request, Step, Vars};

/// The largest response content kept; a target that sends more is cut off with an error.
pub const MAX_RESPONSE: usize = 16 * 1024 * 1024;

/// How long a `strong: true` capture waits for a weak ETag to become strong.
const STRONG_ETAG_PATIENCE: Duration = Duration::from_secs(3);

const AGENT: &str = concat!("contend/", env!("CARGO_PKG_VERSION"));

/// Everything one scenario did.
#[derive(Debug)]
pub struct ScenarioRun {
    pub steps: Vec<StepRun>,
    pub duration: Duration,
    /// Values of variables marked secret (captured ones included), for reports to mask.
    pub secrets: Vec<String>,
    pub rounds: Rounds,
}

/// A workload's totals: iterations asked for, iterations that completed, retries on the way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct WorkloadStats {
    pub clients: u32,
    pub iterations: u64,
    pub writes: u64,
    pub retries: u64,
}

/// How many times the scenario ran (`rounds:`) and in how many rounds a rule broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Rounds {
    pub total: u32,
    pub failed: u32,
}

#[derive(Debug)]
pub struct StepRun {
    pub name: String,
    pub cleanup: bool,
    pub exchanges: Vec<Exchange>,
    /// The exchanges are a concurrent group's.
    pub concurrent: bool,
    /// How tightly a concurrent group was released.
    pub window: Option<RaceWindow>,
    /// What a workload's clients did.
    pub workload: Option<WorkloadStats>,
    pub failures: Vec<Failure>,
    /// The step could not be sent as written (a fixture missing, a capture that failed earlier):
    /// a setup problem, not a verdict on the target.
    pub error: Option<String>,
    /// The target cannot support the rest of the scenario (it only gives weak ETags, say).
    pub not_applicable: Option<String>,
}

impl StepRun {
    fn new(name: String, cleanup: bool) -> Self {
        StepRun {
            name,
            cleanup,
            exchanges: Vec::new(),
            concurrent: false,
            window: None,
            workload: None,
            failures: Vec::new(),
            error: None,
            not_applicable: None,
        }
    }

    /// The scenario may go on after this step.
    pub fn passed(&self) -> bool {
        self.failures.is_empty() && self.error.is_none() && self.not_applicable.is_none()
    }
}

/// Sends requests for any number of scenarios; cheap to share.
pub struct Runner {
    client: reqwest::Client,
    target: Target,
    settings: Settings,
    default_headers: HeaderMap,
}

impl Runner {
    pub fn new(target: Target, settings: Settings) -> Result<Runner, String> {
        install_crypto_provider();
        let mut default_headers = HeaderMap::new();
        default_headers.insert(USER_AGENT, HeaderValue::from_static(AGENT));
        for (name, value) in &settings.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("invalid header name {name:?}"))?;
            let value = HeaderValue::from_str(value)
                .map_err(|_| format!("invalid value for header {name}"))?;
            default_headers.insert(name, value);
        }
        let client = reqwest::Client::builder()
            // Conformance sees the raw status: no redirects, no decompression, no cookies.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {}", error_chain(&e)))?;
        Ok(Runner {
            client,
            target,
            settings,
            default_headers,
        })
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Runs a scenario, `rounds` times when it says so (each round planned afresh: new
    /// `uuid`, new scratch path). Races are probabilistic; rounds say how often a rule broke.
    pub async fn run(&self, planned: &Planned) -> ScenarioRun {
        let started = Instant::now();
        let total = planned.scenario.rounds.unwrap_or(1).max(1);
        let mut secrets = Vec::new();
        let mut kept: Option<Vec<StepRun>> = None;
        let mut failed = 0;
        for round in 0..total {
            let fresh;
            let this = if round == 0 {
                planned
            } else {
                let run_id = planned.vars.get("run_id").unwrap_or_default();
                match plan::plan(
                    planned.scenario.clone(),
                    planned.id.clone(),
                    &self.target,
                    &self.settings,
                    run_id,
                ) {
                    Ok(p) => {
                        fresh = p;
                        &fresh
                    }
                    Err(_) => break, // the same plan succeeded for round 0
                }
            };
            let (steps, round_secrets) = self.run_round(this).await;
            secrets.extend(round_secrets);
            // Warnings and waived findings do not break a round; what fails the scenario does.
            let broke = steps
                .iter()
                .any(|s| self.blocks(&s.failures) || (s.error.is_some() && !s.cleanup));
            if broke {
                failed += 1;
            }
            // Report the first round that broke a rule; if none did, the last round.
            if broke && failed == 1 || failed == 0 {
                kept = Some(steps);
            }
        }
        ScenarioRun {
            steps: kept.unwrap_or_default(),
            duration: started.elapsed(),
            secrets,
            rounds: Rounds { total, failed },
        }
    }

    async fn run_round(&self, planned: &Planned) -> (Vec<StepRun>, Vec<String>) {
        let scenario = &planned.scenario;
        let mut vars = planned.vars.clone();
        let mut steps = Vec::new();
        let scratch = vars.get("scratch").map(str::to_owned).unwrap_or_default();
        if self.settings.create_scratch {
            let mkcol = hyper::Method::from_bytes(b"MKCOL").expect("a valid method");
            let run = self.scratch_collection(mkcol, &scratch).await;
            let created = run.passed();
            steps.push(run);
            if !created {
                return (steps, vars.secrets().to_vec());
            }
        }
        for step in &scenario.steps {
            let run = self.run_step(step, &scenario.file, &mut vars, false).await;
            // A warning (a SHOULD rule) or a waived rule does not end the scenario: the steps
            // after it check other rules.
            let blocked =
                run.error.is_some() || run.not_applicable.is_some() || self.blocks(&run.failures);
            steps.push(run);
            if blocked {
                break;
            }
        }
        for step in &scenario.cleanup {
            steps.push(self.run_step(step, &scenario.file, &mut vars, true).await);
        }
        if self.settings.create_scratch {
            let mut run = self
                .scratch_collection(hyper::Method::DELETE, &scratch)
                .await;
            run.cleanup = true;
            steps.push(run);
        }
        apply_passive_checks(&mut steps);
        (steps, vars.secrets().to_vec())
    }

    /// `file` is the scenario's file: body files and snapshots are found beside it.
    pub(crate) async fn run_step(
        &self,
        step: &Step,
        file: &Path,
        vars: &mut Vars,
        cleanup: bool,
    ) -> StepRun {
        let dir = file.parent().unwrap_or(Path::new("."));
        let mut run = StepRun::new(step.name.clone(), cleanup);
        match &step.action {
            Action::Workload(workload) => {
                run.concurrent = true;
                let done = workload::run(self, workload, file, vars).await;
                vars.set("workload.writes", done.writes.to_string());
                vars.set("workload.retries", done.retries.to_string());
                done.secrets
                    .into_iter()
                    .for_each(|s| vars.remember_secret(s));
                run.exchanges = done.exchanges;
                run.failures = done.failures;
                run.workload = Some(WorkloadStats {
                    clients: workload.clients,
                    iterations: u64::from(workload.clients) * u64::from(workload.repeat),
                    writes: done.writes,
                    retries: done.retries,
                });
            }
            Action::Send { request, expect } => {
                let outgoing = match self.prepare(request, dir, vars).await {
                    Ok(outgoing) => outgoing,
                    Err(e) => {
                        run.error = Some(e);
                        return run;
                    }
                };
                let exchange = self.send(outgoing).await;
                run.failures = judge::check_response(expect, &exchange, vars);
                if let (Some(name), Ok(response)) = (&expect.snapshot, &exchange.response) {
                    let text = response.body_text();
                    match snapshot::compare(file, name, &text, self.settings.update_snapshots) {
                        Ok(failure) => run.failures.extend(failure),
                        Err(e) => run.error = Some(e),
                    }
                }
                // Captures are taken unless the step failed: after a mere warning the scenario
                // goes on, and later steps need them.
                if let (false, Ok(response)) = (self.blocks(&run.failures), &exchange.response) {
                    capture::apply(&step.capture, response, vars, &mut run.failures);
                    for (name, capture) in &step.capture {
                        if !capture::needs_strong(capture, response) {
                            continue;
                        }
                        match self.wait_for_strong(&exchange.request, capture).await {
                            Ok(value) => vars.set(name, value),
                            Err(why) => run.not_applicable = Some(why),
                        }
                    }
                }
                run.exchanges.push(exchange);
            }
            Action::Race { group, expect } => {
                let mut outgoing = Vec::with_capacity(group.requests.len());
                for index in 0..group.requests.len() {
                    let mut member_vars = vars.clone();
                    member_vars.set("index", index.to_string());
                    match self
                        .prepare(group.requests.get(index), dir, &member_vars)
                        .await
                    {
                        Ok(o) => outgoing.push(o),
                        Err(e) => {
                            run.error = Some(format!("request #{index}: {e}"));
                            return run;
                        }
                    }
                }
                run.concurrent = true;
                let sync = group.sync.unwrap_or_else(|| group::default_sync(&outgoing));
                let raced = group::run(outgoing, sync).await;
                if let Some(why) = raced.error {
                    run.error = Some(why);
                    return run;
                }
                run.exchanges = raced.exchanges;
                run.window = Some(raced.window);
                run.failures = judge::check_group(expect, &run.exchanges, vars);
                if run.failures.is_empty() {
                    capture::apply_winner(&step.capture, &run.exchanges, vars, &mut run.failures);
                }
            }
        }
        if let Some(rule) = &step.rule {
            for f in run.failures.iter_mut().filter(|f| f.rule.is_none()) {
                f.rule = Some(rule.clone());
            }
        }
        run
    }

    /// Renders a request's templates against `vars` and resolves it against the target.
    async fn prepare(
        &self,
        request: &Request,
        dir: &Path,
        vars: &Vars,
    ) -> Result<Outgoing, String> {
        let render = |e: TemplateError| e.to_string();
        let path = request.path.render(vars).map_err(|e| e.to_string())?;
        let url = self.resolve(&path)?;
        let method =
            hyper::Method::from_bytes(request.method.0.as_bytes()).map_err(|e| e.to_string())?;
        let mut headers = self.default_headers.clone();
        let (body, content_type) = match request.body.as_deref() {
            None => (Bytes::new(), None),
            Some(Body::Text(t)) => (
                Bytes::from(t.render(vars).map_err(|e| e.to_string())?),
                None,
            ),
            Some(Body::Json(value)) => {
                let rendered = render_json(value, vars).map_err(render)?;
                (Bytes::from(rendered.to_string()), Some("application/json"))
            }
            Some(Body::File(file)) => {
                let path = dir.join(file);
                let bytes = tokio::fs::read(&path)
                    .await
                    .map_err(|e| format!("cannot read body file {}: {e}", path.display()))?;
                (Bytes::from(bytes), None)
            }
        };
        let content_type = content_type.or(self
            .settings
            .content_type
            .as_deref()
            .filter(|_| !body.is_empty()));
        if let Some(content_type) = content_type {
            let value = HeaderValue::from_str(content_type)
                .map_err(|_| format!("invalid content type {content_type:?}"))?;
            headers.insert(CONTENT_TYPE, value);
        }
        // A scenario's header replaces a default header of the same name.
        let mut seen: Vec<HeaderName> = Vec::new();
        for (name, template) in &request.headers.0 {
            let name = HeaderName::from_bytes(name.0.as_bytes()).map_err(|e| e.to_string())?;
            let value = template.render(vars).map_err(|e| e.to_string())?;
            let value = HeaderValue::from_str(&value)
                .map_err(|_| format!("header {name}: value {value:?} is not valid in HTTP"))?;
            if !seen.contains(&name) {
                headers.remove(&name);
                seen.push(name.clone());
            }
            headers.append(name, value);
        }
        let timeout = request.timeout.unwrap_or(self.settings.timeout);
        Ok(Outgoing {
            method,
            url,
            headers,
            body,
            timeout,
            raw: request.raw,
        })
    }

    /// MKCOL or DELETE of the scenario's scratch collection, for WebDAV servers where a PUT needs
    /// its parent collection to exist. A failed MKCOL is a setup error, not a verdict.
    async fn scratch_collection(&self, method: hyper::Method, scratch: &str) -> StepRun {
        let name = format!("{method} the scratch collection");
        let mut run = StepRun::new(name, false);
        let url = match self.resolve(&format!("{}/", scratch.trim_end_matches('/'))) {
            Ok(url) => url,
            Err(e) => {
                run.error = Some(e);
                return run;
            }
        };
        let mut headers = self.default_headers.clone();
        if method == hyper::Method::DELETE {
            // Conditional, so servers that require preconditions accept it too.
            headers.insert(hyper::header::IF_MATCH, HeaderValue::from_static("*"));
        }
        let outgoing = Outgoing {
            method: method.clone(),
            url,
            headers,
            body: Bytes::new(),
            timeout: self.settings.timeout,
            raw: false,
        };
        let exchange = self.send(outgoing).await;
        if method != hyper::Method::DELETE
            && !exchange.status().is_some_and(|s| (200..300).contains(&s))
        {
            let got = exchange
                .status()
                .map_or_else(|| "no response".to_owned(), |s| s.to_string());
            run.error = Some(format!(
                "could not create the scratch collection {scratch}/: MKCOL answered {got}"
            ));
        }
        run.exchanges.push(exchange);
        run
    }

    /// GETs the resource `request` addressed until its ETag is strong, for a few seconds, and
    /// captures from that response.
    async fn wait_for_strong(
        &self,
        request: &Outgoing,
        capture: &Capture,
    ) -> Result<String, String> {
        let started = Instant::now();
        while started.elapsed() < STRONG_ETAG_PATIENCE {
            tokio::time::sleep(Duration::from_millis(250)).await;
            let get = Outgoing {
                method: hyper::Method::GET,
                url: request.url.clone(),
                headers: self.default_headers.clone(),
                body: Bytes::new(),
                timeout: request.timeout,
                raw: false,
            };
            if let Ok(response) = self.send(get).await.response {
                if response.status == 200 && !capture::needs_strong(capture, &response) {
                    return capture::extract(capture, &response);
                }
            }
        }
        Err(format!(
            "the target gave only weak ETags for {} s after a write; this scenario needs a strong one",
            STRONG_ETAG_PATIENCE.as_secs()
        ))
    }

    /// True when a finding fails the scenario (not a warning, not waived, not accepted).
    fn blocks(&self, failures: &[Failure]) -> bool {
        failures
            .iter()
            .any(|f| self.settings.policy.weigh(f) == judge::Weight::Failure)
    }

    /// `/path` is appended to the target URL (keeping its path prefix); `http(s)://` is absolute.
    fn resolve(&self, path: &str) -> Result<reqwest::Url, String> {
        if path.starts_with("http://") || path.starts_with("https://") {
            return reqwest::Url::parse(path).map_err(|e| format!("invalid URL {path:?}: {e}"));
        }
        let base = self.target.url.as_str().trim_end_matches('/');
        let sep = if path.starts_with('/') { "" } else { "/" };
        reqwest::Url::parse(&format!("{base}{sep}{path}"))
            .map_err(|e| format!("invalid path {path:?}: {e}"))
    }

    async fn send(&self, outgoing: Outgoing) -> Exchange {
        let started = Instant::now();
        if outgoing.raw {
            let response = raw::exchange(&outgoing).await;
            return Exchange {
                index: None,
                request: outgoing,
                response,
                started,
                finished: Instant::now(),
            };
        }
        let request = self
            .client
            .request(outgoing.method.clone(), outgoing.url.clone())
            .headers(outgoing.headers.clone())
            .body(outgoing.body.clone())
            .timeout(outgoing.timeout);
        let response = match request.send().await {
            Ok(response) => read_response(response, outgoing.timeout).await,
            Err(e) => Err(describe(&e, outgoing.timeout)),
        };
        Exchange {
            index: None,
            request: outgoing,
            response,
            started,
            finished: Instant::now(),
        }
    }
}

async fn read_response(
    mut response: reqwest::Response,
    timeout: Duration,
) -> Result<Received, String> {
    let status = response.status().as_u16();
    let version = format!("{:?}", response.version());
    let headers = response.headers().clone();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| describe(&e, timeout))? {
        if body.len() + chunk.len() > MAX_RESPONSE {
            return Err(format!("response content larger than {MAX_RESPONSE} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Received {
        status,
        version,
        headers,
        body: Bytes::from(body),
    })
}

/// Runs the catalog's passive checks and the history checks over the scenario's whole history
/// and files each finding under the step whose exchange showed it.
fn apply_passive_checks(steps: &mut [StepRun]) {
    let mut owner = Vec::new();
    let mut history = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        for exchange in &step.exchanges {
            owner.push(i);
            history.push(judge::passive::Entry {
                exchange,
                concurrent: step.concurrent,
            });
        }
    }
    let mut findings = judge::passive::check(&history);
    findings.extend(judge::history::check(&history));
    for (at, failure) in findings {
        let step = &mut steps[owner[at]];
        // One finding per rule and subject per step: a race of 20 shows a bad header once.
        if !step
            .failures
            .iter()
            .any(|f| f.rule == failure.rule && f.subject == failure.subject)
        {
            step.failures.push(failure);
        }
    }
}

/// A reqwest error as a sentence a user can act on.
fn describe(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        return format!("timed out after {}", humantime::format_duration(timeout));
    }
    let chain = error_chain(e);
    if e.is_connect() {
        format!("cannot connect: {chain}")
    } else {
        chain
    }
}

/// An error and its sources, joined: reqwest's own message alone rarely says what happened.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

/// rustls is built without a default provider (ring is far cheaper to build than aws-lc-rs);
/// install ring once per process.
fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
