//! Execute: sends a planned scenario's requests and records [`Exchange`]s. Steps run in order;
//! a concurrent group runs on its own pre-opened connections ([`group`]). After each step the
//! judge says whether it held: the first step that fails (a warning does not) ends the scenario,
//! then `cleanup` runs.

mod capture;
mod connect;
mod gate;
mod group;
mod h2race;
pub mod holdings;
mod http1;
mod probe;
mod raw;
mod release;
mod snapshot;
mod tls;
mod warm;
mod workload;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE, USER_AGENT};

pub use probe::Probe;

use crate::judge::{self, Entry};
use crate::plan::{Planned, Settings, Target};
use crate::record::{
    At, Check, Exchange, NoResponse, NoResponseKind, Outgoing, Received, ScenarioRun, StepRun,
    Weight, WorkloadStats,
};
use crate::scenario::template::{render_json, TemplateError};
use crate::scenario::{Action, Body, Capture, OnWeak, Request, Step, Vars};

/// How long a `strong: true` capture waits for a weak ETag to become strong.
const STRONG_ETAG_PATIENCE: Duration = Duration::from_secs(3);

const AGENT: &str = concat!("contend/", env!("CARGO_PKG_VERSION"));

/// Sends requests for any number of scenarios; cheap to share and to clone.
#[derive(Clone)]
pub struct Runner {
    client: reqwest::Client,
    /// Plain-HTTP requests, sent on hyper directly (see [`http1`]).
    direct: std::sync::Arc<http1::Pool>,
    target: Target,
    settings: Settings,
    default_headers: HeaderMap,
    /// Set on an interrupt: steps not yet started are not run, cleanup still is.
    interrupt: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// The URL each path resolved to: a workload sends one path thousands of times.
    resolved: std::sync::Arc<std::sync::Mutex<foldhash::HashMap<String, reqwest::Url>>>,
    /// The target was seen to give only weak entity tags (after the wait for a strong one):
    /// shared by every scenario, so the wait happens once per target, not once per scenario.
    weak_only: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// A race in HTTP/2 failed to start on this target: rotations leave it out.
    no_http2: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// Racers' connections left open by one round for the next.
    warm: std::sync::Arc<warm::Warm>,
}

/// How long a step answered 423 Locked waits before it is sent again, once.
const LOCKED_PAUSE: Duration = Duration::from_millis(500);

/// Set in a scenario's variables once a strong capture could only get a weak tag: steps with
/// `weak:` then run their weak form.
pub const WEAK_TAGS: &str = "contend.weak_tags";

/// The most resolved URLs remembered; past it the memory starts afresh.
const RESOLVED_KEPT: usize = 4096;

/// What a scenario's later steps can no longer rely on, and why: variables an earlier step
/// should have captured, and resources whose state an earlier step left unknown.
#[derive(Default)]
struct Broken {
    vars: HashMap<String, Cause>,
    resources: HashMap<String, Cause>,
}

/// Why something later steps need is missing, and whether a step set aside (not a failure)
/// is the cause: then the steps it holds back are set aside too, not held against the target.
#[derive(Clone)]
struct Cause {
    why: String,
    set_aside: bool,
}

impl Broken {
    /// Why `step` cannot be sent at all: it needs a variable that was never captured.
    fn missing_input(&self, step: &Step) -> Option<Cause> {
        if self.vars.is_empty() {
            return None; // nothing broken: no need to read every template of every step
        }
        let templates = step.templates().unwrap_or_default();
        templates.iter().find_map(|template| {
            template.variables().find_map(|name| {
                let cause = self.vars.get(name)?;
                Some(Cause {
                    why: format!("needs `{{{{{name}}}}}`, which {}", cause.why),
                    set_aside: cause.set_aside,
                })
            })
        })
    }

    /// Why `step` cannot run, when it depends on something broken: a missing input, or a
    /// resource an earlier failed write left in an unknown state.
    fn blocks(&self, step: &Step, vars: &Vars, runner: &Runner) -> Option<Cause> {
        self.missing_input(step).or_else(|| {
            if self.resources.is_empty() {
                return None;
            }
            paths(step, vars, runner)
                .iter()
                .find_map(|p| self.resources.get(p).cloned())
        })
    }

    /// Records what a step that did not hold (or was set aside) leaves behind. `unchanged`: a
    /// read after it showed its resource as it was (a refused write), so later steps go on.
    fn after(&mut self, step: &Step, run: &StepRun, vars: &Vars, runner: &Runner) {
        self.after_write(step, run, vars, runner, false)
    }

    fn after_write(
        &mut self,
        step: &Step,
        run: &StepRun,
        vars: &Vars,
        runner: &Runner,
        unchanged: bool,
    ) {
        let why = match (&run.error, run.fails(), not_checked(run)) {
            _ if run.set_aside => format!("step `{}` was not sent", run.name),
            (Some(e), _, _) => format!("step `{}` could not run ({e})", run.name),
            (None, true, _) => format!("step `{}` failed", run.name),
            (None, false, Some(reason)) => {
                format!("step `{}` could not be checked ({reason})", run.name)
            }
            (None, false, None) => return,
        };
        let mut names: Vec<String> = step.capture.keys().cloned().collect();
        match step.action {
            Action::Race { .. } => {
                names.extend(["winner.index".to_owned(), "winner.status".to_owned()])
            }
            Action::Workload(_) => {
                names.extend(["workload.writes".to_owned(), "workload.retries".to_owned()])
            }
            Action::Send { .. } => {}
        }
        for name in names {
            self.vars.entry(name).or_insert_with(|| Cause {
                why: format!("{why}, was not captured"),
                set_aside: run.set_aside,
            });
        }
        // A write that failed leaves its resource in a state the later steps did not plan for,
        // unless its status says it did what was planned (the right status with a wrong body,
        // or 200 for 201). Races and workloads do not: judging the state they leave is what
        // the steps after them are for.
        if let Action::Send { request, .. } = &step.action {
            if !request.method.reads() && !unchanged && !state_as_planned(run) {
                for path in paths(step, vars, runner) {
                    self.resources.entry(path).or_insert_with(|| Cause {
                        why: format!(
                            "{why}, so the state of this resource is not what this step assumes"
                        ),
                        set_aside: run.set_aside,
                    });
                }
            }
        }
    }
}

/// The record of a step planning set aside, when it was.
fn set_aside(step: &Step, why: Option<String>, cleanup: bool) -> Option<StepRun> {
    let mut run = StepRun::skipped(step.name.clone(), cleanup, why?);
    run.set_aside = true;
    run.rule = step.rule.clone();
    Some(run)
}

fn not_checked(run: &StepRun) -> Option<&str> {
    run.findings.iter().find_map(|f| match &f.weight {
        Weight::NotChecked(why) => Some(why.as_str()),
        _ => None,
    })
}

/// The step's status shows its write did what the scenario planned: it was sent, and no
/// finding (failing or not checked) is about the status, or it is another status of the class
/// expected.
fn state_as_planned(run: &StepRun) -> bool {
    // A write not sent did not do what the later steps plan on.
    !run.set_aside
        && run.error.is_none()
        && run
            .findings
            .iter()
            .filter(|f| f.fails() || matches!(f.weight, Weight::NotChecked(_)))
            .all(|f| match &f.check {
                // The wrong 2xx for a write that was to be performed (200 for 201), or the
                // wrong 4xx for one that was to be refused (404 for 412): done, or not, as
                // planned.
                Check::Status { expected, got } => {
                    let class =
                        |low: u16| expected.iter().all(|c| c.low >= low && c.high < low + 100);
                    ((200..300).contains(got) && class(200))
                        || ((400..500).contains(got) && class(400))
                }
                Check::Header { .. } | Check::Body { .. } => true,
                _ => false,
            })
}

/// The URLs a step addresses, as far as they render now.
fn paths(step: &Step, vars: &Vars, runner: &Runner) -> Vec<String> {
    step.requests()
        .into_iter()
        .filter_map(|r| r.path.render(vars).ok())
        .filter_map(|p| runner.resolve(&p).ok())
        .map(|u| u.to_string())
        .collect()
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
        tls::configure(
            settings.cacert.as_deref(),
            settings.insecure,
            settings.client_cert.as_ref(),
        )?;
        let client = reqwest::Client::builder()
            // Conformance sees the raw status: no redirects, no decompression, no cookies.
            .redirect(reqwest::redirect::Policy::none())
            .use_preconfigured_tls(tls::with_alpn(&[b"h2", b"http/1.1"])?)
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {}", error_chain(&e)))?;
        Ok(Runner {
            client,
            direct: std::sync::Arc::new(http1::Pool::new()),
            target,
            settings,
            default_headers,
            interrupt: Default::default(),
            resolved: Default::default(),
            weak_only: Default::default(),
            no_http2: Default::default(),
            warm: Default::default(),
        })
    }

    /// Remembers that the target gives only weak entity tags (the probe waited and saw none).
    pub(crate) fn set_weak_only(&self) {
        self.weak_only
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    fn weak_only(&self) -> bool {
        self.weak_only.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The runner for the same target with what the probe found: its connections are kept.
    pub fn with_target(mut self, target: Target) -> Self {
        self.target = target;
        self.resolved = Default::default();
        self
    }

    /// The runner stopping at `flag`: once it is set, every scenario in flight stops before
    /// its next step (and a workload before its next iteration), then runs its cleanup.
    pub fn interruptible(mut self, flag: std::sync::Arc<std::sync::atomic::AtomicBool>) -> Self {
        self.interrupt = flag;
        self
    }

    pub(crate) fn interrupted(&self) -> bool {
        self.interrupt.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Runs one round of a planned scenario: its steps in order (a step whose inputs an
    /// earlier failure broke is recorded as not run, with the reason), then `cleanup`, then
    /// the passive and history checks over the whole history. Rounds are the caller's.
    pub async fn run(&self, planned: &Planned) -> ScenarioRun {
        let started = Instant::now();
        let scenario = &planned.scenario;
        let mut vars = planned.vars.clone();
        let mut steps = Vec::new();
        let scratch = vars.get("scratch").map(str::to_owned).unwrap_or_default();
        let mut setup_failed = None;
        if self.settings.create_scratch {
            let mkcol = hyper::Method::from_bytes(b"MKCOL").expect("a valid method");
            let run = self.scratch_collection(mkcol, &scratch).await;
            if let Some(e) = &run.error {
                setup_failed = Some(format!("the scratch collection could not be made: {e}"));
            }
            steps.push(run);
        }
        // Known from the probe or an earlier scenario, the target's tags stay weak. A step that
        // captures a tag then finds out for itself (a gateway weakens only what it compresses,
        // so a short sample's tag may be strong): its `weak:` forms follow from what it got. A
        // workload's clients capture their own and never wait: when the first tag the scenario
        // wants is theirs, `weak:` forms from the first step. Only where the preconditions are
        // entity tags: a version the profile keeps elsewhere (CouchDB's `_rev`) is not weak.
        let first_strong = scenario.steps.iter().find(|s| s.wants_strong_tag());
        if self.weak_only() && first_strong.is_some_and(|s| matches!(s.action, Action::Workload(_)))
        {
            vars.set(WEAK_TAGS, "true");
        }
        let mut broken = Broken::default();
        let mut seen = judge::TagsSeen::default();
        let mut stopped: Option<String> = setup_failed.clone();
        for step in &scenario.steps {
            if self.interrupted() {
                stopped.get_or_insert_with(|| "interrupted".to_owned());
            }
            // Planning set it aside (a capability it lacks, a write on a read-only target).
            let original_set_aside = step.set_aside.clone();
            // On a target with only weak tags, a step with `weak:` runs its weak form (whose
            // inputs are then the ones that count).
            let step = match (&step.on_weak, vars.get(WEAK_TAGS).is_ok()) {
                (Some(OnWeak::Judge(weak)), true) => weak.as_ref(),
                (Some(OnWeak::Skip(why)), true) => {
                    let why = format!(
                        "needs a strong entity tag and the target gives only weak ones: {why}"
                    );
                    if let Some(run) = set_aside(step, Some(why), false) {
                        broken.after(step, &run, &vars, self);
                        steps.push(run);
                    }
                    continue;
                }
                _ => step,
            };
            if let (None, Some(run)) = (&stopped, set_aside(step, original_set_aside, false)) {
                // What it would have written or captured is missing for the steps after it.
                broken.after(step, &run, &vars, self);
                steps.push(run);
                continue;
            }
            if let Some(why) = stopped.clone() {
                steps.push(StepRun::skipped(step.name.clone(), false, why));
                continue;
            }
            if let Some(cause) = broken.blocks(step, &vars, self) {
                let mut run = StepRun::skipped(step.name.clone(), false, cause.why);
                // Held back by a step set aside: set aside as well (it, too, cannot be shown).
                run.set_aside = cause.set_aside;
                run.rule = step.rule.clone();
                broken.after(step, &run, &vars, self);
                steps.push(run);
                continue;
            }
            let index = steps.len();
            // A workload judges its exchanges as they arrive, against what came before it.
            let earlier = match step.action {
                Action::Workload(_) => history(&steps, steps.len()),
                _ => Vec::new(),
            };
            let run = self
                .run_step(
                    step,
                    &scenario.file,
                    &mut vars,
                    false,
                    index,
                    Earlier {
                        seen: &seen,
                        history: &earlier,
                        round: planned.round,
                        for_workload: false,
                        shape: None,
                    },
                )
                .await;
            drop(earlier);
            if let Some(why) = &run.not_applicable {
                stopped = Some(format!("the target cannot run the rest: {why}"));
            }
            let mut run = run;
            let unchanged = self.confirm_refusal(step, &mut run, &steps, index).await;
            broken.after_write(step, &run, &vars, self, unchanged);
            for exchange in &run.exchanges {
                seen.record(exchange, run.concurrent);
            }
            steps.push(run);
        }
        let interrupted = self.interrupted();
        for step in &scenario.cleanup {
            let index = steps.len();
            // Cleanup runs even after failures, on resources in any state; only what it
            // cannot address stops it.
            if let Some(run) = set_aside(step, step.set_aside.clone(), true) {
                steps.push(run);
                continue;
            }
            let run = match (&setup_failed, broken.missing_input(step)) {
                (Some(_), _) => StepRun::skipped(
                    step.name.clone(),
                    true,
                    "the scratch collection was never made".into(),
                ),
                (None, Some(cause)) => StepRun::skipped(step.name.clone(), true, cause.why),
                (None, None) => {
                    let earlier = Earlier {
                        seen: &seen,
                        history: &[],
                        round: planned.round,
                        for_workload: false,
                        shape: None,
                    };
                    (self.run_step(step, &scenario.file, &mut vars, true, index, earlier)).await
                }
            };
            steps.push(run);
        }
        if self.settings.create_scratch && setup_failed.is_none() {
            let mut run = self
                .scratch_collection(hyper::Method::DELETE, &scratch)
                .await;
            run.cleanup = true;
            steps.push(run);
        }
        let whole = history(&steps, steps.len());
        let findings = judge::judge_history(&whole, &self.settings.policy);
        let copies = judge::stored_copies(&whole, &self.settings.policy);
        file_findings(&mut steps, findings);
        set_aside_stored_copies(&mut steps, copies);
        ScenarioRun {
            steps,
            duration: started.elapsed(),
            secrets: vars.secrets().to_vec(),
            interrupted,
            ..ScenarioRun::default()
        }
    }

    /// `file` is the scenario's file: body files and snapshots are found beside it. `index` is
    /// the step's position in the history `before` it.
    pub(crate) async fn run_step(
        &self,
        step: &Step,
        file: &Path,
        vars: &mut Vars,
        cleanup: bool,
        index: usize,
        earlier: Earlier<'_, '_>,
    ) -> StepRun {
        let mut run = StepRun::new(step.name.clone(), cleanup);
        self.run_step_in(&mut run, step, file, vars, index, earlier)
            .await;
        run
    }

    /// [`Runner::run_step`], recorded in `run`: a new record of the step, or the one a
    /// workload's client records every iteration in, [`StepRun::clear`]ed.
    async fn run_step_in(
        &self,
        run: &mut StepRun,
        step: &Step,
        file: &Path,
        vars: &mut Vars,
        index: usize,
        earlier: Earlier<'_, '_>,
    ) {
        let seen = earlier.seen;
        let cleanup = run.cleanup;
        run.rule = step.rule.clone();
        let rule = step.rule.as_deref();
        let cleanup_policy;
        let policy = if cleanup {
            cleanup_policy = self.settings.policy.for_cleanup();
            &cleanup_policy
        } else {
            &self.settings.policy
        };
        let mut missed = Vec::new();
        match &step.action {
            Action::Workload(workload) => {
                run.concurrent = true;
                // Boxed (by `workload::run`), as is a race: the step's future is then the size a
                // single request needs, which a workload's clients build for every request.
                let done = workload::run(self, workload, file, vars, index, earlier.history).await;
                vars.set("workload.writes", done.writes.to_string());
                vars.set("workload.retries", done.retries.to_string());
                done.secrets
                    .into_iter()
                    .for_each(|s| vars.remember_secret(s));
                run.exchanges = done.exchanges;
                run.sample = Some(done.sample);
                run.findings = done.findings;
                run.not_applicable = done.not_applicable;
                run.workload = Some(WorkloadStats {
                    clients: workload.clients,
                    iterations: u64::from(workload.clients) * u64::from(workload.repeat),
                    writes: done.writes,
                    retries: done.retries,
                    stopped: done.stopped,
                });
            }
            Action::Send { request, expect } => {
                let prepared = match earlier.shape {
                    Some(shape) => Ok(shape.outgoing.clone()),
                    None => self.prepare(request, file, vars).await.map(Arc::new),
                };
                let outgoing = match prepared {
                    Ok(outgoing) => outgoing,
                    Err(e) => {
                        run.error = Some(e);
                        return;
                    }
                };
                let wire = earlier.shape.and_then(|s| s.wire.as_ref());
                let mut exchange = self.send_as(outgoing, wire).await;
                // 423 Locked where the step expects no lock: another write holds the target's
                // lock, with several scenarios at once most likely one of contend's own. Sent
                // again once after a pause; locked again, the step is not the target's to
                // answer for, and the scenario stops there with the reason.
                let locked = |e: &Exchange| {
                    e.status() == Some(423)
                        && !(expect.status.iter()).any(|set| set.0.iter().any(|p| p.matches(423)))
                };
                if locked(&exchange) {
                    // The request as sent is kept with its exchange, and sent again as it was.
                    tokio::time::sleep(LOCKED_PAUSE).await;
                    exchange = self.send_as(exchange.request.clone(), None).await;
                }
                if !earlier.for_workload {
                    exchange.own_headers();
                }
                let at = At {
                    step: index,
                    exchange: 0,
                };
                run.findings =
                    judge::judge_response(expect, &exchange, at, seen, vars, rule, policy);
                if locked(&exchange) {
                    let why = format!(
                        "the target answered 423 Locked twice, {} apart: another write held its \
                         lock (with --jobs {}, most likely another scenario of this run; \
                         `jobs: 1` in the profile runs them one at a time)",
                        humantime::format_duration(LOCKED_PAUSE),
                        self.settings.jobs
                    );
                    for finding in run.findings.iter_mut() {
                        finding.weight = crate::record::Weight::NotChecked(why.clone());
                    }
                    run.not_applicable = Some(why);
                    run.exchanges.push(exchange);
                    return;
                }
                if let (Some(snap), Ok(response)) = (&expect.snapshot, &exchange.response) {
                    let (name, mut text) = (&snap.name, response.body_text().into_owned());
                    for (pattern, with) in &snap.redact.0 {
                        text = pattern.0.replace_all(&text, with.as_str()).into_owned();
                    }
                    let text = self.without_secrets(text, vars);
                    match snapshot::compare(file, name, &text, self.settings.update_snapshots) {
                        Ok(snapshot::Outcome::Compared(check)) => run
                            .findings
                            .extend(check.map(|c| policy.finding(rule, c, None, vec![at]))),
                        // Recorded, not compared: the report says so rather than "passed".
                        Ok(snapshot::Outcome::Recorded(path)) => {
                            run.recorded = Some(format!(
                                "snapshot `{name}` recorded, not compared: {}",
                                path.display()
                            ))
                        }
                        Err(e) => run.error = Some(e),
                    }
                }
                // Captures are taken unless the step failed: after a mere warning the scenario
                // goes on, and later steps need them.
                if let (false, Ok(response)) = (run.fails(), &exchange.response) {
                    capture::apply(&step.capture, response, vars, &mut missed);
                    for (name, capture) in &step.capture {
                        if !capture::needs_strong(capture, response) {
                            continue;
                        }
                        // Weak for a while after a write (Apache), or weak for good: then the
                        // weak tag is kept, and steps judge what a weak tag must do.
                        let waited = match self.weak_only() {
                            true => Err(()),
                            false => self.wait_for_strong(&exchange.request, capture).await,
                        };
                        match waited {
                            Ok(value) => vars.set(name, value),
                            Err(()) => {
                                self.set_weak_only();
                                vars.set(WEAK_TAGS, "true");
                            }
                        }
                    }
                }
                // In exact room: a first push leaves room for four (2 KB).
                run.exchanges.reserve_exact(1);
                run.exchanges.push(exchange);
            }
            Action::Race { group, expect } => {
                let mut outgoing = Vec::with_capacity(group.requests.len());
                for member in 0..group.requests.len() {
                    let mut member_vars = vars.clone();
                    member_vars.set("index", member.to_string());
                    match self
                        .prepare(group.requests.get(member), file, &member_vars)
                        .await
                    {
                        Ok(o) => outgoing.push(o),
                        Err(e) => {
                            run.error = Some(format!("request #{member}: {e}"));
                            return;
                        }
                    }
                }
                run.concurrent = true;
                let delays: Vec<Duration> = (0..group.requests.len())
                    .map(|i| group.requests.get(i).after.unwrap_or_default())
                    .collect();
                let raced = Box::pin(self.race(group, outgoing, &delays, earlier.round)).await;
                if let Some(why) = raced.error {
                    run.error = Some(why);
                    return;
                }
                run.exchanges = raced.exchanges;
                run.exchanges.iter().for_each(holdings::note);
                let delayed = delays.iter().filter(|d| !d.is_zero()).count();
                run.window = Some(crate::record::RaceWindow {
                    delayed,
                    ..raced.window
                });
                run.findings =
                    judge::judge_group(expect, &run.exchanges, index, vars, rule, policy);
                if let Some(why) = judge::retry_too_late(&run.exchanges, &delays) {
                    judge::inconclusive(&mut run.findings, rule, index, why, policy);
                }
                if !run.fails() {
                    capture::apply_winner(&step.capture, &run.exchanges, vars, &mut missed);
                }
            }
        }
        if let Some((name, why)) = missed.first() {
            // Not a verdict: the target did not give what the scenario needs to go on.
            let why = format!("capture `{name}`: {why}");
            run.not_applicable.get_or_insert(why);
        }
    }

    /// Releases a group as its scenario pins, else as its round's place in the rotation
    /// says. HTTP/2 the target turns out not to speak is left out from then on, and the round
    /// released again in the first mode: nothing of it was complete on the wire.
    async fn race(
        &self,
        group: &crate::scenario::Group,
        outgoing: Vec<Outgoing>,
        delays: &[Duration],
        round: u32,
    ) -> release::GroupRun {
        let http2 = (self.target.capabilities).contains(&crate::scenario::Capability::Http2)
            && !self.no_http2.load(std::sync::atomic::Ordering::SeqCst)
            && delays.iter().all(|d| d.is_zero());
        let rotation = release::rotation(&outgoing, http2);
        let chosen = match (group.sync, group.stagger) {
            (None, None) => rotation[round as usize % rotation.len()],
            (sync, stagger) => release::Release {
                sync: sync.unwrap_or(rotation[0].sync),
                stagger: stagger.unwrap_or_default(),
            },
        };
        if group.sync.is_some() || chosen.sync != crate::scenario::SyncMode::Http2 {
            return group::run(outgoing, chosen, delays, &self.warm).await;
        }
        let raced = group::run(outgoing.clone(), chosen, delays, &self.warm).await;
        if raced.error.is_none() {
            return raced;
        }
        self.no_http2
            .store(true, std::sync::atomic::Ordering::SeqCst);
        group::run(outgoing, rotation[0], delays, &self.warm).await
    }

    /// Renders a request's templates against `vars` and resolves it against the target.
    async fn prepare(
        &self,
        request: &Request,
        file: &Path,
        vars: &Vars,
    ) -> Result<Outgoing, String> {
        let render = |e: TemplateError| e.to_string();
        let path = request.path.render(vars).map_err(|e| e.to_string())?;
        let url = self.resolve(&path)?;
        let method =
            hyper::Method::from_bytes(request.method.0.as_bytes()).map_err(|e| e.to_string())?;
        // Room for the scenario's headers and a content type.
        let mut headers = connect::with_room(&self.default_headers, request.headers.0.len() + 1);
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
            Some(Body::File(name)) => {
                // Beside the scenario's file; found only here, as most requests send none.
                let path = file.parent().unwrap_or(Path::new(".")).join(name);
                let bytes = tokio::fs::read(&path)
                    .await
                    .map_err(|e| format!("cannot read body file {}: {e}", path.display()))?;
                (Bytes::from(bytes), None)
            }
        };
        let (body, content_type) = match request.json_members.is_empty() {
            true => (body, content_type),
            false => (
                with_members(&body, &request.json_members, vars)?,
                content_type.or(Some("application/json")),
            ),
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
            // The rendered string becomes the value, not a copy of it.
            let value = HeaderValue::from_maybe_shared(Bytes::from(value)).map_err(|_| {
                let value = template.render(vars).unwrap_or_default();
                format!("header {name}: value {value:?} is not valid in HTTP")
            })?;
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
            max_body: self.settings.max_body,
            version_member: request.json_members.first().map(|(name, _)| name.clone()),
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
        let gated = self
            .target
            .capabilities
            .contains(&crate::scenario::Capability::RequiresPreconditions);
        if method == hyper::Method::DELETE && gated {
            // A 428 server wants a precondition; elsewhere none, since some refuse the star.
            headers.insert(hyper::header::IF_MATCH, HeaderValue::from_static("*"));
        }
        let outgoing = Outgoing {
            method: method.clone(),
            url,
            headers,
            body: Bytes::new(),
            timeout: self.settings.timeout,
            raw: false,
            max_body: self.settings.max_body,
            version_member: None,
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
        let mut exchange = exchange;
        exchange.own_headers();
        run.exchanges.push(exchange);
        run
    }

    /// After a conditional write that was refused (a 4xx where the scenario expected it to be
    /// performed): by definition it changed nothing, so later steps on the resource can go on
    /// once a read shows the resource as the last full read before it did. The read is kept
    /// in the step's exchanges. If it shows a change after a 412, that is the finding (RFC
    /// 9110 15.5.13: the method was not to be performed). True when the state is confirmed.
    async fn confirm_refusal(
        &self,
        step: &Step,
        run: &mut StepRun,
        earlier: &[StepRun],
        index: usize,
    ) -> bool {
        const CONDITIONS: [&str; 4] = [
            "if-match",
            "if-none-match",
            "if-unmodified-since",
            "if-modified-since",
        ];
        let Action::Send { request, .. } = &step.action else {
            return false;
        };
        let refused = match (run.exchanges.first(), run.fails(), &run.error) {
            (Some(e), true, None) => e,
            _ => return false,
        };
        let status = refused.status().unwrap_or(0);
        let conditional = CONDITIONS
            .iter()
            .any(|name| refused.request.headers.contains_key(*name));
        if request.method.reads() || !(400..500).contains(&status) || !conditional {
            return false;
        }
        let url = refused.request.url.clone();
        // The last full read of the resource before the refused write, when nothing was
        // written to it since (else what it holds now is not known).
        let mut before = None;
        for e in earlier.iter().flat_map(|s| s.exchanges.iter()) {
            if e.request.url != url {
                continue;
            }
            let Ok(r) = e.response.as_ref() else {
                before = None;
                continue;
            };
            let full_read = e.request.method == hyper::Method::GET
                && !e.request.headers.contains_key(hyper::header::RANGE)
                && r.status == 200;
            let read = crate::scenario::method_reads(e.request.method.as_str());
            if full_read {
                before = Some(r.body.clone());
            } else if !read && !(400..500).contains(&r.status) {
                before = None;
            }
        }
        let Some(body) = before else {
            return false;
        };
        let mut read = self
            .send(Outgoing {
                method: hyper::Method::GET,
                url,
                headers: self.default_headers.clone(),
                body: Bytes::new(),
                timeout: refused.request.timeout,
                raw: false,
                max_body: self.settings.max_body,
                version_member: None,
            })
            .await;
        let Ok(now) = read.response.as_ref() else {
            return false;
        };
        // The content decides: some servers give each response its own tag.
        let same = now.status == 200 && now.body == body;
        if !same && status == 412 && now.status == 200 {
            let at = At {
                step: index,
                exchange: run.exchanges.len(),
            };
            let check = Check::Body {
                part: "content after the 412".into(),
                expected: String::from_utf8_lossy(&body).into_owned(),
                got: now.body_text().into_owned(),
            };
            run.findings.push(self.settings.policy.finding(
                Some("412.not-performed"),
                check,
                None,
                vec![at],
            ));
        }
        read.own_headers();
        run.exchanges.push(read);
        same
    }

    /// `text` with every secret the run knows as `[secret]`: credential headers' values (and
    /// their credential without the scheme), values the profile builds from the environment,
    /// the scenario's `secret` variables and captures. A stored snapshot never holds one; the
    /// content it is compared with is masked the same way.
    fn without_secrets(&self, mut text: String, vars: &Vars) -> String {
        let headers = (self.settings.headers.iter())
            .filter(|(name, _)| crate::record::is_credential(name))
            .flat_map(|(_, value)| {
                let credential = value.split_once(' ').map(|(_, c)| c.trim().to_owned());
                std::iter::once(value.trim().to_owned()).chain(credential)
            });
        let mut secrets: Vec<String> = (self.settings.secrets.iter().cloned())
            .chain(vars.secrets().iter().cloned())
            .chain(headers)
            .filter(|s| s.len() >= 4)
            .collect();
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        for secret in secrets {
            text = text.replace(&secret, "[secret]");
        }
        text
    }

    /// GETs the resource `request` addressed until its ETag is strong, for a few seconds, and
    /// captures from that response.
    async fn wait_for_strong(&self, request: &Outgoing, capture: &Capture) -> Result<String, ()> {
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
                max_body: self.settings.max_body,
                version_member: None,
            };
            if let Ok(response) = self.send(get).await.response {
                if response.status == 200 && !capture::needs_strong(capture, &response) {
                    return capture::extract(capture, &response).map_err(|_| ());
                }
            }
        }
        Err(())
    }

    /// `/path` is appended to the target URL's path (keeping its prefix); `http(s)://` is
    /// absolute. The target URL's query (a signed URL's token) and the profile's `query` go
    /// with every request to the target, after the path's own query; never is a path appended
    /// after a `?`.
    fn resolve(&self, path: &str) -> Result<reqwest::Url, String> {
        let known = self.resolved.lock().ok().and_then(|m| m.get(path).cloned());
        if let Some(url) = known {
            return Ok(url);
        }
        let url = self.resolve_anew(path)?;
        if let Ok(mut resolved) = self.resolved.lock() {
            if resolved.len() >= RESOLVED_KEPT {
                resolved.clear();
            }
            resolved.insert(path.to_owned(), url.clone());
        }
        Ok(url)
    }

    fn resolve_anew(&self, path: &str) -> Result<reqwest::Url, String> {
        let mut url = if path.starts_with("http://") || path.starts_with("https://") {
            let url =
                reqwest::Url::parse(path).map_err(|e| format!("invalid URL {path:?}: {e}"))?;
            // Another origin (a Location pointing elsewhere) gets none of the target's query.
            if url.origin() != self.target.url.origin() {
                return Ok(url);
            }
            url
        } else {
            let mut base = self.target.url.clone();
            base.set_query(None);
            base.set_fragment(None);
            let sep = if path.starts_with('/') { "" } else { "/" };
            let joined = format!("{}{sep}{path}", base.as_str().trim_end_matches('/'));
            reqwest::Url::parse(&joined).map_err(|e| format!("invalid path {path:?}: {e}"))?
        };
        let added: Vec<&str> = [self.target.url.query(), self.settings.query.as_deref()]
            .into_iter()
            .flatten()
            .filter(|q| !q.is_empty())
            .collect();
        if !added.is_empty() {
            let mut query: Vec<&str> = url.query().into_iter().collect();
            query.extend(added);
            let query = query.join("&");
            url.set_query(Some(&query));
        }
        Ok(url)
    }

    /// Sends `outgoing`. The response's header values are slices of the connection's read
    /// buffer: a caller that keeps the exchange makes them owned (`Exchange::own_headers`).
    async fn send(&self, outgoing: Outgoing) -> Exchange {
        self.send_as(outgoing.into(), None).await
    }

    /// `send`, with `outgoing` built for hyper before when `wire` is given (a workload's
    /// [`workload::Shape`]).
    async fn send_as(&self, outgoing: Arc<Outgoing>, wire: Option<&http1::Wire>) -> Exchange {
        let started = Instant::now();
        let response = if outgoing.raw {
            // Boxed: it reads into a buffer of its own, which would otherwise make every send's
            // future (and a workload's step, built for each request) 33 KB.
            Box::pin(raw::exchange(&outgoing)).await.map_err(classify)
        } else if let Some(wire) = wire {
            self.direct
                .exchange(&outgoing, &wire.route, Some(wire))
                .await
        } else if let Some(route) = self.direct.takes(&outgoing) {
            self.direct.exchange(&outgoing, &route, None).await
        } else {
            self.through_reqwest(&outgoing).await
        };
        let exchange = Exchange {
            index: None,
            request: outgoing,
            response,
            started,
            finished: Instant::now(),
        };
        holdings::note(&exchange);
        exchange
    }

    async fn through_reqwest(&self, outgoing: &Outgoing) -> Result<Received, NoResponse> {
        let attempt = || {
            self.client
                .request(outgoing.method.clone(), outgoing.url.clone())
                .headers(outgoing.headers.clone())
                .body(outgoing.body.clone())
                .timeout(outgoing.timeout)
                .send()
        };
        let mut sent = attempt().await;
        // A server may close a kept-alive connection at any time (RFC 9112 9.3.1; nginx does
        // right after a 412 it marked keep-alive). A safe request that met a connection closed
        // under it is sent once more on a fresh one; an unsafe one is not, since it may have
        // been performed.
        if let (true, Err(e)) = (repeatable(&outgoing.method), &sent) {
            if !e.is_timeout() && !e.is_connect() {
                sent = attempt().await;
            }
        }
        match sent {
            Ok(response) => {
                let describe = |e: reqwest::Error| describe(&e, outgoing.timeout);
                read_response(response.into(), outgoing.max_body, describe).await
            }
            Err(e) => Err(classify(describe(&e, outgoing.timeout))),
        }
    }
}

/// Whether a request met by a connection closed under it may be sent again: it is safe, so
/// performing it twice changes nothing.
fn repeatable(method: &hyper::Method) -> bool {
    matches!(
        *method,
        hyper::Method::GET | hyper::Method::HEAD | hyper::Method::OPTIONS
    )
}

/// The protocol version as hyper's `Debug` writes it (`HTTP/1.1`).
pub(crate) fn version_name(version: hyper::Version) -> &'static str {
    match version {
        hyper::Version::HTTP_09 => "HTTP/0.9",
        hyper::Version::HTTP_10 => "HTTP/1.0",
        hyper::Version::HTTP_2 => "HTTP/2.0",
        hyper::Version::HTTP_3 => "HTTP/3.0",
        _ => "HTTP/1.1",
    }
}

/// A response read whole, its content up to `max_body` bytes, from reqwest or from hyper.
async fn read_response<B>(
    response: hyper::Response<B>,
    max_body: usize,
    describe: impl Fn(B::Error) -> String,
) -> Result<Received, NoResponse>
where
    B: hyper::body::Body<Data = Bytes> + Unpin,
{
    use http_body_util::BodyExt;
    let (parts, mut content) = response.into_parts();
    let status = parts.status.as_u16();
    let version = version_name(parts.version);
    // Slices of the connection's read buffer still: an exchange that is kept is made owned
    // (`Exchange::own_headers`), one judged and let go is not.
    let headers = parts.headers;
    let mut body = Vec::new();
    // The status and headers are in: a content that fails now is reported as that.
    let failed = |why: String| classify(why).after_status(status);
    while let Some(frame) = content.frame().await {
        let frame = frame.map_err(|e| failed(describe(e)))?;
        let Ok(chunk) = frame.into_data() else {
            continue; // trailers
        };
        if body.len() + chunk.len() > max_body {
            return Err(NoResponse::new(
                NoResponseKind::TooLarge,
                format!("response content larger than {max_body} bytes (--max-body)"),
            )
            .after_status(status));
        }
        body.extend_from_slice(&chunk);
    }
    let body = decode(&headers, Bytes::from(body), max_body)
        .map_err(|why| NoResponse::new(NoResponseKind::Malformed, why).after_status(status))?;
    Ok(Received {
        status,
        version,
        headers,
        body,
    })
}

/// The representation data of content sent with a `Content-Encoding` the request asked for
/// (gzip or deflate): checks compare what was stored, not its compressed bytes. The headers
/// stay as sent, so checks still see the coding (and a gateway's weakened ETag).
fn decode(headers: &HeaderMap, body: Bytes, max_body: usize) -> Result<Bytes, String> {
    use std::io::Read;
    let coding = headers
        .get(hyper::header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase());
    // A response without content (HEAD, 204, 304) keeps the coding its GET would have had.
    if body.is_empty() {
        return Ok(body);
    }
    let mut out = Vec::new();
    let read = match coding.as_deref() {
        Some("gzip" | "x-gzip") => flate2::read::GzDecoder::new(&body[..])
            .take(max_body as u64 + 1)
            .read_to_end(&mut out),
        Some("deflate") => flate2::read::ZlibDecoder::new(&body[..])
            .take(max_body as u64 + 1)
            .read_to_end(&mut out),
        _ => return Ok(body),
    };
    match read {
        Ok(_) if out.len() > max_body => Err(format!(
            "decoded content larger than {max_body} bytes (--max-body)"
        )),
        Ok(_) => Ok(Bytes::from(out)),
        Err(e) => Err(format!(
            "the {} content does not decode: {e}",
            coding.unwrap_or_default()
        )),
    }
}

/// The history of a scenario's first `upto` steps, as judge reads it.
/// What a step is judged against: the entity tags the earlier steps stated and, for a
/// workload (it judges its exchanges as they arrive), their history.
#[derive(Clone, Copy)]
pub(crate) struct Earlier<'e, 'a> {
    pub seen: &'e judge::TagsSeen,
    pub history: &'e [Entry<'a>],
    /// The round the step is in (from 0): a group that pins no release takes its round's.
    pub round: u32,
    /// Sent by a workload's client, which makes owned only the exchanges it keeps
    /// (`Exchange::own_headers`); any other step's are as they arrive.
    pub for_workload: bool,
    /// The step's request as a workload's client rendered it once, when it is the same every
    /// iteration.
    shape: Option<&'e workload::Shape>,
}

fn history(steps: &[StepRun], upto: usize) -> Vec<Entry<'_>> {
    let mut history = Vec::new();
    for (i, step) in steps[..upto].iter().enumerate() {
        for (j, exchange) in step.exchanges.iter().enumerate() {
            history.push(Entry {
                exchange,
                concurrent: step.concurrent,
                at: At {
                    step: i,
                    exchange: step.position(j),
                },
                judged: step.sample.is_some(),
                partial: step.partial(),
            });
        }
    }
    history
}

/// Files each history finding under the step whose exchange showed it, once per rule and
/// check per step: a race of 20 shows a bad header once.
fn file_findings(steps: &mut [StepRun], findings: Vec<crate::record::Finding>) {
    for finding in findings {
        let Some(at) = finding.exchanges.first().copied() else {
            continue;
        };
        let step = &mut steps[at.step];
        if !step
            .findings
            .iter()
            .any(|f| f.rule == finding.rule && f.check.subject() == finding.check.subject())
        {
            step.findings.push(finding);
        }
    }
}

/// Through a cache, a read that may be its copy from before a write shows nothing of what the
/// origin did: what the step found there is not checked, with the reason (the cache's own rule,
/// `cache.invalidates`, keeps its verdict).
fn set_aside_stored_copies(steps: &mut [StepRun], copies: Vec<(At, String)>) {
    for (at, why) in copies {
        let step = &mut steps[at.step];
        let reads_it =
            |f: &crate::record::Finding| f.exchanges.is_empty() || f.exchanges.contains(&at);
        for f in step.findings.iter_mut() {
            let judged = matches!(f.weight, Weight::Fails | Weight::Warns);
            if f.rule.as_deref() != Some("cache.invalidates") && reads_it(f) && judged {
                f.weight = Weight::NotChecked(why.clone());
            }
        }
    }
}

/// A transport error's message as a typed reason.
pub(crate) fn classify(message: String) -> NoResponse {
    let lower = message.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| lower.contains(w));
    let kind = if has(&["timed out"]) {
        NoResponseKind::Timeout
    } else if has(&["larger than"]) {
        NoResponseKind::TooLarge
    } else if has(&["reset", "closed", "broken pipe", "incomplete"]) {
        NoResponseKind::Reset
    } else if has(&["connect", "refused", "certificate", "tls", "dns"]) {
        NoResponseKind::Connect
    } else if has(&["invalid", "parse", "malformed"]) {
        NoResponseKind::Malformed
    } else {
        NoResponseKind::Reset
    };
    NoResponse::new(kind, message)
}

/// A reqwest error as a sentence a user can act on.
fn describe(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        return format!("timed out after {}", humantime::format_duration(timeout));
    }
    let chain = error_chain(e);
    let lower = chain.to_ascii_lowercase();
    if lower.contains("certificate") || lower.contains("handshake") || lower.contains("tls") {
        tls_sentence(&chain)
    } else if e.is_connect() {
        format!("cannot connect: {chain}")
    } else if (lower.contains("closed") || lower.contains("reset"))
        && e.url().is_some_and(|u| u.scheme() == "https")
        && !tls::has_client_cert()
    {
        // TLS 1.3: the client's handshake is done before the server judges its certificate,
        // so a refusal arrives as a closed connection.
        format!(
            "{chain} (a server that asks for a client certificate closes the connection like \
             this: pass --client-cert and --client-key if it does)"
        )
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

/// A TLS failure as a sentence that says what to do.
pub(crate) fn tls_sentence(error: &str) -> String {
    let lower = error.to_ascii_lowercase();
    if lower.contains("unknownissuer") || lower.contains("unknown issuer") {
        "TLS: the server's certificate is signed by an unknown authority; pass --cacert FILE \
         with its CA (or --insecure to skip verification)"
            .into()
    } else if lower.contains("notvalidforname") || lower.contains("not valid for name") {
        format!("TLS: the server's certificate is not for this host name ({error})")
    } else if lower.contains("certificaterequired") || lower.contains("handshakefailure") {
        format!(
            "TLS: the server refused the handshake; if it asks for a client certificate, pass \
             --client-cert and --client-key ({error})"
        )
    } else if lower.contains("expired") {
        format!("TLS: the server's certificate has expired ({error})")
    } else {
        format!("TLS handshake failed: {error}")
    }
}

/// rustls is built without a default provider (ring is far cheaper to build than aws-lc-rs);
/// install ring once per process. rustls 0.23.48 deprecates ring's provider for lacking
/// post-quantum key exchange, which no precondition test needs; allowed, so a user's crate
/// built with `-D warnings` against a newer rustls still builds.
#[allow(deprecated)]
fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// `body` (a JSON object, or nothing) with `members` set: a resource version sent in the
/// content. A version read as a JSON number goes back as a number (`"version": 2`).
fn with_members(
    body: &[u8],
    members: &[(String, crate::scenario::Template)],
    vars: &Vars,
) -> Result<Bytes, String> {
    let mut doc: serde_json::Value = match body.is_empty() {
        true => serde_json::json!({}),
        false => serde_json::from_slice(body).map_err(|e| {
            format!("the version goes into the JSON content, but the content is not JSON ({e})")
        })?,
    };
    let object = doc
        .as_object_mut()
        .ok_or("the version goes into the JSON content, but the content is not a JSON object")?;
    for (name, template) in members {
        let value = template.render(vars).map_err(|e| e.to_string())?;
        let value = match serde_json::from_str::<serde_json::Value>(&value) {
            Ok(number @ serde_json::Value::Number(_)) => number,
            _ => serde_json::Value::String(value),
        };
        object.insert(name.clone(), value);
    }
    Ok(Bytes::from(doc.to_string()))
}
