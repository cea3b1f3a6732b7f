//! Workloads: `clients` tasks each running a workload's steps `repeat` times, at once. The
//! classic lost-update test is one: every client reads a counter and writes it back plus one
//! with If-Match, retrying on 412; afterwards the counter must equal the successful writes.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use super::{http1, Runner};
use crate::judge::{ClientJudge, Entry};
use crate::record::{At, Exchange, Finding, Outgoing, Sample, StepRun};
use crate::scenario::{Action, Step, Vars, Workload};

/// What all clients of a workload did together.
pub(super) struct WorkloadRun {
    /// The exchanges kept, and which of all those sent they are.
    pub exchanges: Vec<Exchange>,
    pub sample: Sample,
    pub findings: Vec<Finding>,
    /// Iterations that completed (every step held, after retries).
    pub writes: u64,
    pub retries: u64,
    /// Secret values the clients captured, for the report to mask.
    pub secrets: Vec<String>,
    /// Why no client could complete an iteration, when the target cannot support the steps.
    pub not_applicable: Option<String>,
    /// Why clients stopped early when others got through: how many, and the first reason.
    pub stopped: Option<String>,
}

struct ClientRun {
    /// Kept exchanges with their position among the client's own.
    kept: Vec<(Exchange, At)>,
    sent: usize,
    /// (step, finding) the client made; findings point at the client's own positions.
    findings: Vec<(String, Finding)>,
    writes: u64,
    retries: u64,
    secrets: Vec<String>,
    not_applicable: Option<String>,
}

/// What decides, across clients, which exchanges a workload keeps beyond the ones judging
/// needs: every one while the workload is short enough for the search over all its operations
/// ([`crate::judge::linearize::MAX_OPS`]), then the winning writes and the first read of each
/// (URL, entity tag, content), which the history checks of races compare.
struct Keeper {
    every: bool,
    sent: AtomicUsize,
    stated: Mutex<HashMap<(String, Vec<u8>), bytes::Bytes>>,
}

impl Keeper {
    fn keeps(&self, exchange: &Exchange) -> bool {
        let sent = self.sent.fetch_add(1, Ordering::Relaxed);
        if self.every || sent < crate::judge::linearize::MAX_OPS {
            return true;
        }
        let Ok(r) = &exchange.response else {
            return true;
        };
        let method = &exchange.request.method;
        let read = matches!(*method, hyper::Method::GET | hyper::Method::HEAD);
        if !read && *method != hyper::Method::OPTIONS && (200..300).contains(&r.status) {
            return true;
        }
        if !(*method == hyper::Method::GET && r.status == 200) {
            return false;
        }
        let Some(tag) = r.headers.get(hyper::header::ETAG) else {
            return false;
        };
        let key = (
            exchange.request.url.as_str().to_owned(),
            tag.as_bytes().to_vec(),
        );
        let mut stated = self
            .stated
            .lock()
            .expect("never poisoned: no panics under it");
        match stated.get(&key) {
            Some(body) if *body == r.body => false,
            _ => {
                stated.insert(key, r.body.clone());
                true
            }
        }
    }
}

/// `index` is the workload's step in the scenario; `earlier`, the scenario's history before it.
/// The clients start at once, each a task of its own; the future returned gathers them. Boxed
/// and named `Send`: clients run steps, this one among them, and the compiler cannot see
/// through that recursion on its own.
pub(super) fn run<'a>(
    runner: &Runner,
    workload: &'a Workload,
    file: &Path,
    vars: &Vars,
    index: usize,
    earlier: &[Entry<'_>],
) -> std::pin::Pin<Box<dyn std::future::Future<Output = WorkloadRun> + Send + 'a>> {
    let keeper = Keeper {
        every: runner.settings.keep_exchanges,
        sent: AtomicUsize::new(0),
        stated: Mutex::new(HashMap::new()),
    };
    // Whether the clients' order says anything: not when one of them may change what another reads.
    let writes = (workload.steps.iter())
        .flat_map(Step::requests)
        .any(|r| !r.method.reads());
    // Each client a task of its own: a task is polled from the runtime when its response
    // comes, not through every future between the runtime and the workload (the suite's, the
    // scenario's, the step's), and waking it does not make the runtime look for I/O once more
    // before it runs, as waking the future it blocks on does (per request: one `epoll_wait`
    // instead of two, 23.7 k instructions -> 21.0 k). On a runtime of several threads clients
    // run on each. The JoinSet aborts them if the workload is dropped.
    let keeper = std::sync::Arc::new(keeper);
    let shared = std::sync::Arc::new((runner.clone(), workload.clone(), file.to_owned()));
    let mut tasks = tokio::task::JoinSet::new();
    for client in 0..workload.clients {
        let judge = ClientJudge::new(earlier, writes);
        let (shared, keeper, vars) = (shared.clone(), keeper.clone(), vars.clone());
        tasks.spawn(async move {
            let (runner, workload, file) = &*shared;
            let run = run_client(
                runner,
                workload,
                file,
                vars,
                client,
                (index, judge, &keeper),
            );
            (client, run.await)
        });
    }
    Box::pin(async move {
        let mut done: Vec<Option<ClientRun>> = (0..workload.clients).map(|_| None).collect();
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok((client, run)) => done[client as usize] = Some(run),
                // A client's panic is the workload's, as if it had run inline.
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                // Cancelled: only when the runtime shuts down, which ends the run anyway.
                Err(_) => {}
            }
        }
        gather(workload, done.into_iter().flatten())
    })
}

/// The clients' runs, in client order, as one.
fn gather(workload: &Workload, done: impl Iterator<Item = ClientRun>) -> WorkloadRun {
    let mut out = WorkloadRun {
        exchanges: Vec::new(),
        sample: Sample::default(),
        findings: Vec::new(),
        writes: 0,
        retries: 0,
        secrets: Vec::new(),
        not_applicable: None,
        stopped: None,
    };
    let mut stopped = 0;
    // The same finding in many clients is reported once, naming them.
    let mut by_finding: BTreeMap<(String, String), (Finding, Vec<u32>)> = BTreeMap::new();
    for (client, mut run) in (0..).zip(done) {
        // Positions as sent: the clients' exchanges one client after another.
        let offset = out.sample.sent;
        let global = |at: At| At {
            step: at.step,
            exchange: offset + at.exchange,
        };
        stopped += usize::from(run.not_applicable.is_some());
        out.not_applicable = out.not_applicable.or(run.not_applicable);
        out.writes += run.writes;
        out.retries += run.retries;
        out.sample.sent += run.sent;
        run.kept.sort_by_key(|(_, at)| at.exchange);
        for (exchange, at) in run.kept {
            out.sample.positions.push(global(at).exchange);
            out.exchanges.push(exchange);
        }
        out.secrets.extend(run.secrets);
        for (step, mut f) in run.findings {
            f.exchanges = f.exchanges.into_iter().map(global).collect();
            by_finding
                .entry((step, f.message()))
                .or_insert_with(|| (f, Vec::new()))
                .1
                .push(client);
        }
    }
    // Not applicable only if nothing at all could be done; a partial run is judged.
    if out.writes > 0 {
        out.stopped = (out.not_applicable.take()).map(|why| {
            format!(
                "{stopped} of {} clients stopped early: {why}",
                workload.clients
            )
        });
    }
    for ((step, _), (mut finding, clients)) in by_finding {
        let who: Vec<String> = clients.iter().map(|c| format!("#{c}")).collect();
        finding.who = Some(format!("client {}, step `{step}`", who.join(", ")));
        out.findings.push(finding);
    }
    out
}

async fn run_client(
    runner: &Runner,
    workload: &Workload,
    file: &Path,
    mut vars: Vars,
    client: u32,
    (index, mut judge, keeper): (usize, ClientJudge, &Keeper),
) -> ClientRun {
    vars.set("index", client.to_string());
    let (shapes, counts) = shapes(runner, workload, file, &vars).await;
    let mut run = ClientRun {
        kept: Vec::new(),
        sent: 0,
        findings: Vec::new(),
        writes: 0,
        retries: 0,
        secrets: Vec::new(),
        not_applicable: None,
    };
    let policy = &runner.settings.policy;
    // One record per step, cleared and filled again every iteration.
    let mut records: Vec<StepRun> = (workload.steps.iter())
        .map(|s| StepRun::new(s.name.clone(), false))
        .collect();
    'iterations: for iteration in 0..workload.repeat {
        if runner.interrupted() {
            break;
        }
        if counts {
            vars.set("iteration", iteration.to_string());
        }
        let mut attempts = 0;
        'attempt: loop {
            for ((step, shape), done) in workload.steps.iter().zip(&shapes).zip(&mut records) {
                done.clear();
                // Not boxed: run_step boxes the workloads it runs (so the recursion is finite) and
                // its races, so its future is the few KB a single request needs, built in place
                // for every request instead of copied to the heap.
                runner
                    .run_step_in(
                        done,
                        step,
                        file,
                        &mut vars,
                        0,
                        super::Earlier {
                            seen: &Default::default(),
                            history: &[],
                            round: 0,
                            for_workload: true,
                            shape: shape.as_ref(),
                        },
                    )
                    .await;
                let status = done.exchanges.last().and_then(Exchange::status);
                let passed = done.held();
                let retry_status = !passed
                    && done.error.is_none()
                    && done.not_applicable.is_none()
                    && workload
                        .retry
                        .as_ref()
                        .is_some_and(|r| status.is_some_and(|s| r.status.matches(s)));
                let max = workload.retry.as_ref().map_or(0, |r| r.max);
                let retryable = retry_status && attempts < max;
                if retry_status && !retryable {
                    // Refused on every attempt with the status it retries on (412 to a stale
                    // If-Match): the target did as asked each time; the client gave up. Not a
                    // verdict on the target.
                    let why = format!(
                        "the client gave up after {max} retries, every one answered {}",
                        status.unwrap_or_default()
                    );
                    for f in done.findings.iter_mut() {
                        f.weight = crate::record::Weight::NotChecked(why.clone());
                    }
                }
                let mut last = None;
                for mut exchange in done.exchanges.drain(..) {
                    exchange.index = Some(client as usize);
                    let at = At {
                        step: index,
                        exchange: run.sent,
                    };
                    run.sent += 1;
                    last = Some(at);
                    // What a finding of the step shows is kept with it.
                    let keep = keeper.keeps(&exchange) || !(passed || retryable);
                    let (found, released) = judge.judge(exchange, at, keep, policy);
                    run.findings
                        .extend(found.into_iter().map(|f| (step.name.clone(), f)));
                    run.kept.extend(released.into_iter().map(owned));
                }
                for f in &mut done.findings {
                    f.exchanges = last.into_iter().collect();
                }
                if passed {
                    continue;
                }
                if retryable {
                    attempts += 1;
                    run.retries += 1;
                    continue 'attempt;
                }
                if let Some(why) = done.not_applicable.take() {
                    // The target cannot support the step (only weak ETags, say): no verdict.
                    run.not_applicable = Some(why);
                    break 'iterations;
                }
                if let Some(why) = done.error.take() {
                    let check = crate::record::Check::Other {
                        subject: "the client could not go on".into(),
                        expected: "a response its next step can use".into(),
                        actual: why,
                    };
                    // A setup problem, not a verdict: no rule.
                    let finding = runner.settings.policy.finding(None, check, None, vec![]);
                    run.findings.push((step.name.clone(), finding));
                }
                run.findings
                    .extend(done.findings.drain(..).map(|f| (step.name.clone(), f)));
                break 'iterations;
            }
            run.writes += 1;
            break;
        }
    }
    run.kept.extend(judge.finish().into_iter().map(owned));
    run.secrets = vars.secrets().to_vec();
    run
}

/// A workload step's request rendered once by a client, for a request that is the same every
/// iteration: what it sends is cloned, not rendered, built and hashed again for each request.
pub(super) struct Shape {
    pub outgoing: std::sync::Arc<Outgoing>,
    /// How the direct pool writes it, where the pool sends it.
    pub wire: Option<http1::Wire>,
}

/// A client's shape of each of `workload`'s steps (`None` where a step's request changes
/// between iterations, or could not be rendered: then each iteration renders it and says
/// why it fails), and whether any step reads `{{iteration}}` (set only then: a loop of
/// thousands pays for the string otherwise).
async fn shapes(
    runner: &Runner,
    workload: &Workload,
    file: &Path,
    vars: &Vars,
) -> (Vec<Option<Shape>>, bool) {
    // What changes between iterations: the iteration, what the steps capture, and whether
    // the target's tags turned out weak.
    let captured: Vec<&str> = (workload.steps.iter())
        .flat_map(|s| s.capture.keys().map(String::as_str))
        .chain(["iteration", super::WEAK_TAGS])
        .collect();
    let mut counts = false;
    let mut shapes = Vec::with_capacity(workload.steps.len());
    for step in &workload.steps {
        let Ok(templates) = step.templates() else {
            // Not read: its first iteration says what is wrong.
            counts = true;
            shapes.push(None);
            continue;
        };
        let names = || templates.iter().flat_map(|t| t.variables());
        counts |= names().any(|n| n == "iteration");
        let request = match &step.action {
            Action::Send { request, .. } if !names().any(|n| captured.contains(&n)) => request,
            _ => {
                shapes.push(None);
                continue;
            }
        };
        let shape = match runner.prepare(request, file, vars).await {
            Ok(outgoing) => {
                let wire = (runner.direct.takes(&outgoing))
                    .and_then(|route| http1::Wire::of(&outgoing, &route).ok());
                Some(Shape {
                    outgoing: outgoing.into(),
                    wire,
                })
            }
            Err(_) => None,
        };
        shapes.push(shape);
    }
    (shapes, counts)
}

/// A kept exchange with its response's header values its own: the judge's window holds them
/// as they came, slices of the connection's read buffer.
fn owned((mut exchange, at): (Exchange, At)) -> (Exchange, At) {
    exchange.own_headers();
    (exchange, at)
}
