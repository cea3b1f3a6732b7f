//! Test support: a deliberately wrong server, and running scenario text against a URL.

#![allow(dead_code)]

use std::collections::HashMap;
use std::convert::Infallible;
use std::path::Path;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use contend::exec::Runner;
use contend::plan::{self, Settings, Target};
use contend::report::{Redactor, ScenarioReport};
use contend::scenario::{self, Capability};

/// A server that stores what it is sent and ignores every conditional header: the classic
/// lost-update origin. ETags are a counter, so they do change with each write.
/// Returns its base URL; it serves until the runtime ends.
pub async fn start_wrong_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let store: Arc<Mutex<(u64, HashMap<String, Bytes>)>> = Arc::default();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let store = store.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| wrong(store.clone(), req));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    format!("http://{addr}")
}

async fn wrong(
    store: Arc<Mutex<(u64, HashMap<String, Bytes>)>>,
    req: Request<hyper::body::Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let content = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let path = parts.uri.path().to_owned();
    let mut guard = store.lock().unwrap();
    let (version, docs) = &mut *guard;
    let reply = |status: StatusCode, body: Bytes, etag: Option<u64>| {
        let mut r = Response::new(Full::new(body));
        *r.status_mut() = status;
        if let Some(v) = etag {
            r.headers_mut()
                .insert("etag", format!("\"{v}\"").parse().unwrap());
        }
        r.headers_mut().insert("x-wrong", "yes".parse().unwrap());
        r
    };
    Ok(match parts.method {
        Method::PUT => {
            *version += 1;
            let created = docs.insert(path, content).is_none();
            let status = if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            reply(status, Bytes::new(), Some(*version))
        }
        Method::GET if path == "/json" => reply(
            StatusCode::OK,
            Bytes::from(r#"{"id":7,"tags":["a","b"],"owner":{"name":"ann"}}"#),
            None,
        ),
        Method::GET => match docs.get(&path) {
            Some(doc) => reply(StatusCode::OK, doc.clone(), Some(*version)),
            None => reply(StatusCode::NOT_FOUND, Bytes::new(), None),
        },
        Method::DELETE => {
            docs.remove(&path);
            reply(StatusCode::OK, Bytes::new(), None)
        }
        _ => reply(StatusCode::METHOD_NOT_ALLOWED, Bytes::new(), None),
    })
}

/// Runs every scenario in `yaml` against `url` and returns their reports.
pub async fn run_yaml(yaml: &str, url: &str) -> Vec<ScenarioReport> {
    let scenarios =
        scenario::load_str(yaml, Path::new("inline.yaml")).unwrap_or_else(|e| panic!("{}", e[0]));
    let target = Target {
        url: url.parse().unwrap(),
        label: url.to_owned(),
        capabilities: Capability::ALL.into_iter().collect(),
        own_capabilities: Default::default(),
    };
    // One round a race: these helpers look at what one run of a scenario does.
    let settings = Settings {
        race_budget: Some(contend::scenario::RoundsBudget { max: 1, time: None }),
        ..Settings::default()
    };
    let runner = Runner::new(target.clone(), settings.clone()).unwrap();
    let mut reports = Vec::new();
    for s in scenarios {
        let id = plan::scenario_id(&s);
        let planned = plan::plan(Arc::new(s), id, &target, &settings, "test")
            .unwrap_or_else(|e| panic!("{e}"));
        reports.push(contend::suite::run_one(&runner, &planned, &Redactor::default()).await);
    }
    reports
}

/// The failure messages of a report, one per line.
pub fn messages(report: &ScenarioReport) -> String {
    report
        .failures
        .iter()
        .map(|f| format!("{}: {}", f.step, f.message))
        .collect::<Vec<_>>()
        .join("\n")
}
