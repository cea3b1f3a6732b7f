//! Workloads: `clients` tasks each running a workload's steps `repeat` times, at once. The
//! classic lost-update test is one: every client reads a counter and writes it back plus one
//! with If-Match, retrying on 412; afterwards the counter must equal the successful writes.

use std::collections::BTreeMap;
use std::path::Path;

use futures::future::join_all;

use super::Runner;
use crate::record::{Exchange, Finding};
use crate::scenario::{Vars, Workload};

/// What all clients of a workload did together.
pub(super) struct WorkloadRun {
    pub exchanges: Vec<Exchange>,
    pub findings: Vec<Finding>,
    /// Iterations that completed (every step held, after retries).
    pub writes: u64,
    pub retries: u64,
    /// Secret values the clients captured, for the report to mask.
    pub secrets: Vec<String>,
    /// Why no client could complete an iteration, when the target cannot support the steps.
    pub not_applicable: Option<String>,
}

struct ClientRun {
    exchanges: Vec<Exchange>,
    /// (step, finding) of the iteration that could not complete; the client stopped there.
    findings: Vec<(String, Finding)>,
    writes: u64,
    retries: u64,
    secrets: Vec<String>,
    not_applicable: Option<String>,
}

pub(super) async fn run(
    runner: &Runner,
    workload: &Workload,
    file: &Path,
    vars: &Vars,
) -> WorkloadRun {
    let clients =
        (0..workload.clients).map(|client| run_client(runner, workload, file, vars, client));
    let done = join_all(clients).await;

    let mut out = WorkloadRun {
        exchanges: Vec::new(),
        findings: Vec::new(),
        writes: 0,
        retries: 0,
        secrets: Vec::new(),
        not_applicable: None,
    };
    // The same finding in many clients is reported once, naming them.
    let mut by_finding: BTreeMap<(String, String), (Finding, Vec<u32>)> = BTreeMap::new();
    for (client, run) in (0..).zip(done) {
        out.not_applicable = out.not_applicable.or(run.not_applicable);
        out.writes += run.writes;
        out.retries += run.retries;
        out.exchanges.extend(run.exchanges);
        out.secrets.extend(run.secrets);
        for (step, f) in run.findings {
            by_finding
                .entry((step, f.message()))
                .or_insert_with(|| (f, Vec::new()))
                .1
                .push(client);
        }
    }
    // Not applicable only if nothing at all could be done; a partial run is judged.
    if out.writes > 0 {
        out.not_applicable = None;
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
    vars: &Vars,
    client: u32,
) -> ClientRun {
    let mut vars = vars.clone();
    vars.set("index", client.to_string());
    let mut run = ClientRun {
        exchanges: Vec::new(),
        findings: Vec::new(),
        writes: 0,
        retries: 0,
        secrets: Vec::new(),
        not_applicable: None,
    };
    'iterations: for iteration in 0..workload.repeat {
        if runner.interrupted() {
            break;
        }
        vars.set("iteration", iteration.to_string());
        let mut attempts = 0;
        'attempt: loop {
            for step in &workload.steps {
                // Boxed: a workload's steps run through run_step, which runs workloads.
                let mut done =
                    Box::pin(runner.run_step(step, file, &mut vars, false, 0, &Default::default()))
                        .await;
                let status = done.exchanges.last().and_then(Exchange::status);
                for exchange in &mut done.exchanges {
                    exchange.index = Some(client as usize);
                }
                let passed = done.held();
                run.exchanges.append(&mut done.exchanges);
                if passed {
                    continue;
                }
                let retryable = done.error.is_none()
                    && done.not_applicable.is_none()
                    && workload.retry.as_ref().is_some_and(|r| {
                        status.is_some_and(|s| r.status.matches(s)) && attempts < r.max
                    });
                if retryable {
                    attempts += 1;
                    run.retries += 1;
                    continue 'attempt;
                }
                if let Some(why) = done.not_applicable {
                    // The target cannot support the step (only weak ETags, say): no verdict.
                    run.not_applicable = Some(why);
                    break 'iterations;
                }
                if let Some(why) = done.error {
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
                    .extend(done.findings.into_iter().map(|f| (step.name.clone(), f)));
                break 'iterations;
            }
            run.writes += 1;
            break;
        }
    }
    run.secrets = vars.secrets().to_vec();
    run
}
