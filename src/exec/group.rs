//! Concurrent groups: every request on its own connection, opened before any is sent, then all
//! released together from one task, and the release measured.
//!
//! HTTP/1.1 uses hyper's connection-level client over a [`gate`](super::gate) rather than
//! reqwest: reqwest cannot open a connection without sending a request on it, and cannot hold
//! back a request's last byte. hyper writes each request into its gate; the gate sends all but
//! the held bytes; one loop then writes every held byte. HTTP/2 lives in [`super::h2race`].

use std::time::{Duration, Instant};

use futures::future::join_all;
use http_body_util::{BodyExt, Limited};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;

use super::gate::{self, Gate, Hold};
use super::release::{failed_group, GroupRun, Release};
use super::{classify, connect, error_chain};
use crate::record::{Exchange, NoResponse, NoResponseKind, Outgoing, Received};
use crate::scenario::SyncMode;

/// Runs one group and returns one exchange per request, in request order. `delays[i]`
/// releases member `i` that long after the others (`after:`; never with `http2`).
pub async fn run(requests: Vec<Outgoing>, release: Release, delays: &[Duration]) -> GroupRun {
    let sync = release.sync;
    match sync {
        SyncMode::Http2 => super::h2race::run(requests).await,
        SyncMode::LastByte if requests.iter().any(|r| r.body.is_empty()) => {
            // Nothing to hold back from: refuse rather than silently release differently.
            failed_group(
                sync,
                "sync: last-byte needs content in every request; use sync: barrier",
            )
        }
        SyncMode::LastByte => run_http1(requests, release, Hold::LastByte, delays).await,
        SyncMode::Barrier => run_http1(requests, release, Hold::All, delays).await,
    }
}

/// The response, and when it was complete.
type Pending = tokio::task::JoinHandle<(Result<Received, NoResponse>, Instant)>;

async fn run_http1(
    requests: Vec<Outgoing>,
    release: Release,
    hold: Hold,
    delays: &[Duration],
) -> GroupRun {
    // Connect, handshake and hand each request to its connection; none is complete on the wire.
    let members: Vec<Result<(Gate, Pending), String>> = join_all(
        requests
            .iter()
            .map(|r| connect::within(r.timeout, dispatch(r, hold))),
    )
    .await;
    // Wait until every request is out but its held bytes.
    let ready: Vec<Result<(), String>> =
        join_all(members.iter().zip(&requests).map(|(member, r)| async move {
            match member {
                Ok((gate, _)) => {
                    connect::within(r.timeout, async {
                        gate.ready().await;
                        Ok(())
                    })
                    .await
                }
                Err(why) => Err(why.clone()),
            }
        }))
        .await;

    // The release: one task, one loop, no await that can park between two members.
    // Per member: when its release began (the exchange's start) and when its bytes were out.
    let mut releasing_at: Vec<Option<Instant>> = vec![None; requests.len()];
    let mut released_at: Vec<Option<Instant>> = vec![None; requests.len()];
    let mut release_errors: Vec<Option<String>> = vec![None; requests.len()];
    let late = |i: usize| delays.get(i).copied().unwrap_or_default();
    // Those without `after` first, together (or `stagger` apart); then each delayed one at
    // its time.
    let mut order: Vec<usize> = (0..requests.len()).collect();
    order.sort_by_key(|&i| late(i));
    let offsets: Vec<Duration> = {
        let mut k = 0;
        let mut offsets = vec![Duration::ZERO; requests.len()];
        for &i in &order {
            offsets[i] = if late(i).is_zero() {
                k += 1;
                release.stagger * (k - 1)
            } else {
                late(i)
            };
        }
        offsets
    };
    let release_began = Instant::now();
    for i in order {
        if let (Ok((gate, _)), Ok(())) = (&members[i], &ready[i]) {
            wait_until(release_began + offsets[i]).await;
            releasing_at[i] = Some(Instant::now());
            match gate.release().await {
                Ok(()) => released_at[i] = Some(Instant::now()),
                Err(e) => release_errors[i] = Some(format!("releasing the request failed: {e}")),
            }
        }
    }
    // The window is of the members released together; a delayed one is late on purpose.
    let times: Vec<Instant> = (0..requests.len())
        .filter(|&i| late(i).is_zero())
        .filter_map(|i| released_at[i])
        .collect();

    let mut exchanges = Vec::with_capacity(requests.len());
    for (index, ((request, member), ready)) in
        requests.into_iter().zip(members).zip(ready).enumerate()
    {
        let started = releasing_at[index].unwrap_or_else(Instant::now);
        let (response, finished) = match (member, ready, release_errors[index].take()) {
            (Err(why), _, _) | (_, Err(why), _) | (_, _, Some(why)) => {
                (Err(classify(why)), Instant::now())
            }
            (Ok((_, pending)), Ok(()), None) => pending.await.unwrap_or_else(|e| {
                let why = format!("the request's task failed: {e}");
                (
                    Err(NoResponse::new(NoResponseKind::Reset, why)),
                    Instant::now(),
                )
            }),
        };
        exchanges.push(Exchange {
            index: Some(index),
            request,
            response,
            started,
            finished,
        });
    }
    GroupRun::released(exchanges, release, &times)
}

/// Waits until `at`: a timer for all but the last millisecond (tokio's timers tick in
/// milliseconds), then a spin, so a stagger of tens of microseconds is kept.
async fn wait_until(at: Instant) {
    const TIMER_TICK: Duration = Duration::from_millis(1);
    if let Some(long) = at
        .checked_duration_since(Instant::now())
        .and_then(|d| d.checked_sub(TIMER_TICK))
        .filter(|d| !d.is_zero())
    {
        tokio::time::sleep(long).await;
    }
    while Instant::now() < at {
        std::hint::spin_loop();
    }
}

/// Opens a gated connection and hands it the request; the response is awaited in a task.
async fn dispatch(outgoing: &Outgoing, hold: Hold) -> Result<(Gate, Pending), String> {
    let io = connect::open(&outgoing.url).await?;
    let (gate, gated) = gate::gate(io, hold, outgoing.body.len());
    let (mut sender, connection) = http1::handshake(TokioIo::new(gated))
        .await
        .map_err(|e| format!("HTTP handshake failed: {}", error_chain(&e)))?;
    tokio::spawn(connection);
    let request = connect::request(outgoing)?;
    let response = sender.send_request(request);
    let timeout = outgoing.timeout;
    let max_body = outgoing.max_body;
    let pending = tokio::spawn(async move {
        let _keep_open = sender;
        // The instant the response is complete, for when members' ends are compared.
        let read = async move {
            let deadline = tokio::time::Instant::now() + timeout;
            let response = connect::within(timeout, async {
                response.await.map_err(|e| error_chain(&e))
            })
            .await
            .map_err(classify)?;
            let (parts, body) = response.into_parts();
            let status = parts.status.as_u16();
            // The status and headers are in: a content that never ends is reported as that.
            let body = tokio::time::timeout_at(deadline, Limited::new(body, max_body).collect())
                .await
                .map_err(|_| {
                    NoResponse::new(
                        NoResponseKind::Timeout,
                        format!("timed out after {}", humantime::format_duration(timeout)),
                    )
                    .after_status(status)
                })?
                .map_err(|e| classify(format!("reading the response content failed: {e}")))
                .map_err(|e| e.after_status(status))?
                .to_bytes();
            Ok(Received {
                status,
                version: format!("{:?}", parts.version),
                headers: super::owned_headers(&parts.headers),
                body,
            })
        };
        let response = read.await;
        (response, Instant::now())
    });
    Ok((gate, pending))
}
