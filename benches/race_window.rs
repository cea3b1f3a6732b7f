//! How tight contend's races are, and how often they catch a check-then-write bug.
//!
//!     cargo bench --bench race_window                        # prints the tables
//!     CONTEND_WRITE_DOCS=1 cargo bench --bench race_window   # also writes docs/benchmarks.md
//!
//! Everything runs in one process against the embedded reference server on 127.0.0.1, in one
//! run, so the ratios between modes hold even on a shared, noisy machine. Bounded: a fixed number
//! of rounds per measurement.

use std::fmt::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use contend::exec::Runner;
use contend::judge::{self, Entry, Policy};
use contend::plan::{self, Settings};
use contend::record::{At, Exchange, Outgoing, Received};
use contend::scenario;
use contend::server::{self, Fault, RunningServer, ServerConfig};

const ROUNDS: usize = 100;
const DETECTION_ROUNDS: usize = 100;
const DETECTION_RUNS: usize = 100;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let mut doc = String::new();
    let started = Instant::now();
    runtime.block_on(async {
        let _ = writeln!(doc, "{}", spreads().await);
        let _ = writeln!(doc, "{}", detection().await);
        let _ = writeln!(doc, "{}", round_cost().await);
    });
    let _ = writeln!(doc, "{}", history_check_speed());
    let _ = writeln!(doc, "{}", linearize_speed(1_000));
    let _ = writeln!(doc, "{}", linearize_speed(100_000));
    let _ = writeln!(doc, "Measured in {:.0} s.", started.elapsed().as_secs_f64());
    println!("{doc}");
    if std::env::var("CONTEND_WRITE_DOCS").is_ok_and(|v| v == "1") {
        write_doc(&doc);
    }
}

/// A sample is one round: the hunt to a budget is what the shipped scenario's column measures.
fn one_round() -> Settings {
    Settings {
        race_budget: Some(scenario::RoundsBudget { max: 1, time: None }),
        ..Settings::default()
    }
}

async fn start(faults: &[Fault]) -> RunningServer {
    let config = ServerConfig {
        faults: faults.iter().copied().collect(),
        ..ServerConfig::default()
    };
    server::start(([127, 0, 0, 1], 0).into(), config)
        .await
        .expect("the reference server starts")
}

fn race_scenario(sync: &str, count: usize) -> String {
    format!(
        r#"
name: race
steps:
  - name: create
    request: {{ method: PUT, path: "{{{{scratch}}}}/doc", body: v0 }}
  - name: read
    request: {{ path: "{{{{scratch}}}}/doc" }}
    capture: {{ etag: {{ header: ETag }} }}
  - name: race
    concurrent:
      count: {count}
      sync: {sync}
      request: {{ method: PUT, path: "{{{{scratch}}}}/doc", headers: {{ If-Match: "{{{{etag}}}}" }}, body: "writer {{{{index}}}}" }}
"#
    )
}

/// One race: (client release spread, server arrival spread, winners).
async fn race_once(
    server: &RunningServer,
    runner: &Runner,
    yaml: &str,
    count: usize,
) -> Option<(Duration, Duration, usize)> {
    let scenario = scenario::load_str(yaml, Path::new("bench.yaml"))
        .ok()?
        .remove(0);
    let planned = plan::plan(
        Arc::new(scenario),
        "bench".into(),
        &server.target(),
        runner.settings(),
        "bench",
    )
    .ok()?;
    let run = contend::suite::run_rounds(runner, &planned).await;
    let step = run.steps.iter().find(|s| s.name == "race")?;
    let window = step.window.as_ref()?;
    let winners = step
        .exchanges
        .iter()
        .filter(|e| e.status().is_some_and(|s| (200..300).contains(&s)))
        .count();
    let path = step.exchanges.first()?.request.url.path().to_owned();
    Some((window.spread, arrival_spread(server, &path, count), winners))
}

/// First to last arrival of the last `count` PUTs to `path`.
fn arrival_spread(server: &RunningServer, path: &str, count: usize) -> Duration {
    let puts: Vec<Instant> = server
        .arrivals(path)
        .into_iter()
        .filter(|a| a.method == "PUT")
        .map(|a| a.at)
        .collect();
    let racers = &puts[puts.len().saturating_sub(count)..];
    match (racers.iter().min(), racers.iter().max()) {
        (Some(first), Some(last)) => last.duration_since(*first),
        _ => Duration::ZERO,
    }
}

/// The baseline: N reqwest sends spawned at once, each on a client of its own (no
/// pre-connection, no hold-back).
async fn naive_once(
    server: &RunningServer,
    count: usize,
    round: usize,
) -> Option<(Duration, Duration, usize)> {
    let base = server.url();
    let path = format!("/naive/{round}-{count}");
    let client = reqwest::Client::new();
    client
        .put(format!("{base}{path}"))
        .body("v0")
        .send()
        .await
        .ok()?;
    let etag = client
        .get(format!("{base}{path}"))
        .send()
        .await
        .ok()?
        .headers()
        .get("etag")?
        .to_str()
        .ok()?
        .to_owned();
    // Clients are built first (that is set-up, not sending); none has a connection yet.
    let clients: Vec<reqwest::Client> = (0..count).map(|_| reqwest::Client::new()).collect();
    let sends: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(i, client)| {
            let (url, etag) = (format!("{base}{path}"), etag.clone());
            tokio::spawn(async move {
                let began = Instant::now();
                let response = client
                    .put(url)
                    .header("if-match", etag)
                    .body(format!("writer {i}"))
                    .send()
                    .await;
                (
                    began,
                    response.map(|r| r.status().is_success()).unwrap_or(false),
                )
            })
        })
        .collect();
    let mut began = Vec::new();
    let mut winners = 0;
    for send in sends {
        let (at, won) = send.await.ok()?;
        began.push(at);
        winners += usize::from(won);
    }
    let client_spread = began.iter().max()?.duration_since(*began.iter().min()?);
    Some((client_spread, arrival_spread(server, &path, count), winners))
}

struct Stats {
    best: f64,
    median: f64,
    p90: f64,
    stddev: f64,
}

fn stats(samples: &[Duration]) -> Stats {
    let mut us: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e6).collect();
    us.sort_by(f64::total_cmp);
    let at = |q: f64| us[((us.len() - 1) as f64 * q).round() as usize];
    let mean = us.iter().sum::<f64>() / us.len() as f64;
    let variance = us.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / us.len() as f64;
    Stats {
        best: us[0],
        median: at(0.5),
        p90: at(0.9),
        stddev: variance.sqrt(),
    }
}

async fn spreads() -> String {
    let server = start(&[]).await;
    let runner = Runner::new(server.target(), one_round()).expect("a runner");
    let mut out = String::from(
        "## Release and arrival spread\n\n\
         Client: first to last final write of the release (for naive: first to last `send()` call).\n\
         Server: first to last request complete at the reference server. Microseconds, over \
         100 rounds each, 20 and 100 concurrent PUTs with the same If-Match.\n\n\
         | requests | mode | client best | client median | client p90 | client σ | server best | server median | server p90 | server σ |\n\
         |---|---|---|---|---|---|---|---|---|---|\n",
    );
    for count in [20, 100] {
        for mode in ["naive", "barrier", "last-byte", "http2"] {
            let mut client = Vec::new();
            let mut arrival = Vec::new();
            for round in 0..ROUNDS {
                let sample = match mode {
                    "naive" => naive_once(&server, count, round).await,
                    sync => race_once(&server, &runner, &race_scenario(sync, count), count).await,
                };
                if let Some((c, s, _)) = sample {
                    client.push(c);
                    arrival.push(s);
                }
            }
            if client.is_empty() {
                let _ = writeln!(out, "| {count} | {mode} | no sample |||||||| |");
                continue;
            }
            let (c, s) = (stats(&client), stats(&arrival));
            let _ = writeln!(
                out,
                "| {count} | {mode} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} |",
                c.best, c.median, c.p90, c.stddev, s.best, s.median, s.p90, s.stddev
            );
        }
    }
    out
}

async fn detection() -> String {
    let mut out = String::from(
        "## Detecting a check-then-write race\n\n\
         The reference server with a planted check-then-write fault (preconditions checked, the \
         lock released, the write done after the gap). Per round: one race of 20 PUTs with the \
         same If-Match; caught when two or more win. Per run: `specs/race-if-match.yaml` as \
         shipped (its default budget, 200 rounds or 10 s, each round released as the rotation \
         says); caught when the scenario fails.\n\n\
         | gap | barrier: rounds caught | last-byte: rounds caught | http2: rounds caught | specs/race-if-match.yaml: runs caught |\n\
         |---|---|---|---|---|\n",
    );
    for (fault, gap) in [
        (Fault::CheckThenWrite, "1 ms"),
        (Fault::CheckThenWrite100us, "100 µs"),
        (Fault::CheckThenWriteNoAwait, "none"),
    ] {
        let server = start(&[fault]).await;
        let runner = Runner::new(server.target(), one_round()).expect("a runner");
        let shipped = Runner::new(server.target(), Settings::default()).expect("a runner");
        let mut row = format!("| {gap} |");
        for sync in ["barrier", "last-byte", "http2"] {
            let yaml = race_scenario(sync, 20);
            let mut caught = 0;
            for _ in 0..DETECTION_ROUNDS {
                if race_once(&server, &runner, &yaml, 20)
                    .await
                    .is_some_and(|(_, _, winners)| winners > 1)
                {
                    caught += 1;
                }
            }
            let _ = write!(row, " {caught} / {DETECTION_ROUNDS} |");
        }
        let mut caught = 0;
        for _ in 0..DETECTION_RUNS {
            let planned = shipped_race(&server, &shipped);
            let run = contend::suite::run_rounds(&shipped, &planned).await;
            if run.rounds.failed > 0 {
                caught += 1;
            }
        }
        let _ = writeln!(out, "{row} {caught} / {DETECTION_RUNS} |");
    }
    out
}

/// `specs/race-if-match.yaml` as shipped, planned for `server`.
fn shipped_race(server: &RunningServer, runner: &Runner) -> plan::Planned {
    let path = Path::new("specs/race-if-match.yaml");
    let spec = std::fs::read_to_string(path).expect("the shipped race scenario");
    let scenario = scenario::load_str(&spec, path).expect("valid").remove(0);
    plan::plan(
        Arc::new(scenario),
        "race".into(),
        &server.target(),
        runner.settings(),
        "bench",
    )
    .expect("plans")
}

/// What one round of the shipped race scenario costs against the correct server (create, read,
/// 20 racing PUTs, the read after, cleanup, judging), and how much of it is planning the round
/// afresh: what decides how many rounds a budget's seconds buy.
async fn round_cost() -> String {
    const COST_ROUNDS: u32 = 500;
    let server = start(&[]).await;
    let settings = Settings {
        race_budget: Some(scenario::RoundsBudget {
            max: COST_ROUNDS,
            time: None,
        }),
        ..Settings::default()
    };
    let runner = Runner::new(server.target(), settings).expect("a runner");
    let planned = shipped_race(&server, &runner);
    let started = Instant::now();
    let run = contend::suite::run_rounds(&runner, &planned).await;
    let per_round = started.elapsed() / run.rounds.total.max(1);
    let started = Instant::now();
    for round in 0..COST_ROUNDS {
        let _ = plan::replan(&planned, &server.target(), runner.settings(), round);
    }
    let replan = started.elapsed() / COST_ROUNDS;
    // The race itself, in the round kept for the report: its 20 requests from the first byte
    // sent to the last response read, and judging them (the group's expectations and every
    // history check over the racing PUTs), best of 100.
    let race = (run.steps.iter())
        .find(|s| s.concurrent)
        .expect("the round's race");
    let sent = race
        .exchanges
        .iter()
        .map(|e| e.started)
        .min()
        .expect("sent");
    let answered = race
        .exchanges
        .iter()
        .map(|e| e.finished)
        .max()
        .expect("answered");
    let expect = (planned.scenario.steps.iter())
        .find_map(|s| match &s.action {
            scenario::Action::Race { expect, .. } => Some(expect),
            _ => None,
        })
        .expect("a race step");
    let entries = racing(&race.exchanges);
    let vars = scenario::Vars::default();
    let judging = (0..100)
        .map(|_| {
            let started = Instant::now();
            let group =
                judge::judge_group(expect, &race.exchanges, 0, &vars, None, &Policy::default());
            let history = judge::judge_history(&entries, &Policy::default());
            std::hint::black_box((group, history));
            started.elapsed()
        })
        .min()
        .unwrap_or_default();
    format!(
        "## What a round costs\n\n\
         `specs/race-if-match.yaml` against the correct reference server, {} rounds (all held: \
         {}): {:.2} ms a round (create, read, 20 racing PUTs, the read after, cleanup, judging), \
         of which planning the round afresh {:.1} µs. The race in the round kept: {} requests \
         from the first sent to the last answered in {:.2} ms, judged (the group's expectations \
         and every history check) in {:.1} µs.\n",
        run.rounds.total,
        run.rounds.failed == 0,
        per_round.as_secs_f64() * 1e3,
        replan.as_secs_f64() * 1e6,
        race.exchanges.len(),
        (answered - sent).as_secs_f64() * 1e3,
        judging.as_secs_f64() * 1e6,
    )
}

/// `n` operations like those below on a target whose ETags repeat (every winner answers `"a"`
/// or `"b"`): the check cannot read versions off the tags, and the bounded search for an order
/// that explains the history decides instead (or says it is too big to search).
fn linearize_speed(n: usize) -> String {
    let now = Instant::now();
    let exchanges: Vec<Exchange> = (0..n)
        .map(|i| {
            let mut x = put_exchange(i, now);
            let tag = if i % 2 == 0 { "\"a\"" } else { "\"b\"" };
            if let Ok(r) = &mut x.response {
                r.status = 200;
                r.headers.insert("etag", tag.parse().expect("a header"));
            }
            x
        })
        .collect();
    let entries = racing(&exchanges);
    let mut best = Duration::MAX;
    let mut verdict = String::new();
    for _ in 0..5 {
        let started = Instant::now();
        let found = judge::judge_history(&entries, &Policy::default());
        best = best.min(started.elapsed());
        verdict = found
            .iter()
            .find(|f| f.rule.as_deref() == Some("race.one-winner"))
            .map_or("no finding (an order explains it)".to_owned(), |f| {
                format!("{:?}", f.weight)
            });
    }
    format!(
        "{n} such operations on a target whose ETags repeat (each winner answers \"a\" or \"b\"), \
         so the bounded search for an explaining order is what decides: best of 5, {:.1} ms; verdict: {verdict}.\n",
        best.as_secs_f64() * 1e3
    )
}

fn racing(exchanges: &[Exchange]) -> Vec<Entry<'_>> {
    exchanges
        .iter()
        .enumerate()
        .map(|(i, exchange)| Entry {
            exchange,
            concurrent: true,
            at: At {
                step: 0,
                exchange: i,
            },
            judged: false,
            partial: false,
        })
        .collect()
}

/// A PUT conditioned on `"v{i / 2}"` (so pairs share a precondition), answered 204.
fn put_exchange(i: usize, now: Instant) -> Exchange {
    let mut headers = hyper::header::HeaderMap::new();
    headers.insert(
        "if-match",
        format!("\"v{}\"", i / 2).parse().expect("a header"),
    );
    Exchange {
        index: Some(i),
        request: std::sync::Arc::new(Outgoing {
            method: hyper::Method::PUT,
            url: "http://127.0.0.1/doc".parse().expect("a URL"),
            headers,
            body: bytes::Bytes::from(format!("{i}")),
            timeout: Duration::from_secs(1),
            raw: false,
            max_body: 1 << 20,
            version_member: None,
        }),
        response: Ok(Received {
            status: 204,
            version: "HTTP/1.1",
            headers: Default::default(),
            body: Default::default(),
        }),
        started: now,
        finished: now,
    }
}

/// The ETag-keyed history check on 100,000 synthetic operations: 50,000 compare-and-set pairs,
/// every second one a duplicate winner.
fn history_check_speed() -> String {
    let now = Instant::now();
    let exchange = |i: usize| put_exchange(i, now);
    let exchanges: Vec<Exchange> = (0..100_000).map(exchange).collect();
    let entries = racing(&exchanges);
    let mut best = Duration::MAX;
    for _ in 0..5 {
        let started = Instant::now();
        let found = judge::judge_history(&entries, &Policy::default());
        best = best.min(started.elapsed());
        let one_winner = found
            .iter()
            .filter(|f| f.rule.as_deref() == Some("race.one-winner"))
            .count();
        assert_eq!(
            one_winner, 1,
            "one finding summarising the 50,000 duplicate winners"
        );
    }
    format!(
        "## History check\n\nEvery passive and history check over 100,000 racing operations (the ETag-keyed compare-and-set check among them) (50,000 \
         with a duplicate winner): best of 5, {:.1} ms.\n",
        best.as_secs_f64() * 1e3
    )
}

const BEGIN: &str =
    "<!-- measured: written by CONTEND_WRITE_DOCS=1 cargo bench --bench race_window -->";
const END: &str = "<!-- end of measurements -->";

fn write_doc(measured: &str) {
    let path = Path::new("docs/benchmarks.md");
    let doc = std::fs::read_to_string(path).unwrap_or_default();
    let (start, end) = match (doc.find(BEGIN), doc.find(END)) {
        (Some(start), Some(end)) => (start, end),
        _ => (doc.len(), doc.len()),
    };
    let updated = format!(
        "{}{BEGIN}\n\n{measured}\n{}",
        &doc[..start],
        if end < doc.len() { &doc[end..] } else { END }
    );
    std::fs::write(path, updated).expect("docs/benchmarks.md is writable");
}
