//! Concurrent groups against the reference server: every sync mode holds the requests back until
//! the release (the server sees none of them complete before it), reports its window, and
//! refuses what it cannot do instead of racing differently.

use std::path::Path;
use std::sync::Arc;

use contend::exec::Runner;
use contend::plan::{self, Settings};
use contend::record::ScenarioRun;
use contend::scenario;
use contend::server::{self, RunningServer, ServerConfig};

async fn start() -> RunningServer {
    server::start(([127, 0, 0, 1], 0).into(), ServerConfig::default())
        .await
        .unwrap()
}

async fn run_scenario(server: &RunningServer, yaml: &str) -> ScenarioRun {
    let scenario = scenario::load_str(yaml, Path::new("race.yaml"))
        .unwrap()
        .remove(0);
    let target = server.target();
    // One round: these tests look at what a single release does.
    let settings = Settings {
        race_budget: Some(contend::scenario::RoundsBudget { max: 1, time: None }),
        ..Settings::default()
    };
    let planned = plan::plan(
        Arc::new(scenario),
        "race".into(),
        &target,
        &settings,
        "test",
    )
    .unwrap();
    contend::suite::run_rounds(&Runner::new(target, settings).unwrap(), &planned).await
}

fn race(sync: &str, count: u32, method: &str) -> String {
    let body = if method == "PUT" {
        r#"body: "writer {{index}}""#
    } else {
        ""
    };
    format!(
        r#"
name: race
steps:
  - name: create
    request: {{ method: PUT, path: "{{{{scratch}}}}/doc", body: v0 }}
    expect: {{ status: 201 }}
  - name: read
    request: {{ path: "{{{{scratch}}}}/doc" }}
    capture: {{ etag: {{ header: ETag }} }}
  - name: race
    concurrent:
      count: {count}
      sync: {sync}
      request: {{ method: {method}, path: "{{{{scratch}}}}/doc", headers: {{ If-Match: "{{{{etag}}}}" }}, {body} }}
    expect:
      exactly: {{ 2xx: 1 }}
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sync_mode_holds_requests_until_the_release() {
    let server = start().await;
    for (sync, method) in [
        ("barrier", "DELETE"),
        ("barrier", "PUT"),
        ("last-byte", "PUT"),
        ("http2", "PUT"),
        ("http2", "DELETE"),
    ] {
        let run = run_scenario(&server, &race(sync, 20, method)).await;
        let step = run.steps.iter().find(|s| s.name == "race").unwrap();
        assert!(
            step.held(),
            "{sync} {method}: {:?} {:?}",
            step.error,
            step.findings
        );
        let window = step.window.as_ref().unwrap();
        assert_eq!((window.sync, window.released), (sync, 20));

        let path = step.exchanges[0].request.url.path().to_owned();
        let first_release = step.exchanges.iter().map(|e| e.started).min().unwrap();
        let racing: Vec<_> = server
            .arrivals(&path)
            .into_iter()
            .filter(|a| a.method.as_str() == method)
            .collect();
        // The create PUT arrived long before; the 20 racers come last.
        let racers = &racing[racing.len() - 20..];
        for arrival in racers {
            assert!(
                arrival.at >= first_release,
                "{sync} {method}: a request was complete at the server before the release"
            );
        }
    }
}

#[tokio::test]
async fn groups_that_cannot_be_released_as_asked_are_errors() {
    let server = start().await;
    // The reference server allows 200 concurrent HTTP/2 streams.
    let run = run_scenario(&server, &race("http2", 201, "PUT")).await;
    let step = run.steps.iter().find(|s| s.name == "race").unwrap();
    let error = step.error.as_deref().unwrap_or_default();
    assert!(
        error.contains("server allows 200 concurrent streams (SETTINGS_MAX_CONCURRENT_STREAMS)"),
        "{error}"
    );
    assert!(step.exchanges.is_empty(), "nothing is sent");

    // Known before anything is sent: refused when the file is loaded.
    let err = scenario::load_str(&race("last-byte", 5, "DELETE"), Path::new("race.yaml"))
        .unwrap_err()[0]
        .to_string();
    assert!(
        err.contains("`sync: last-byte` holds back each request's last content byte, but request #0 (DELETE) has no content"),
        "{err}"
    );
}
