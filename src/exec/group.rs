//! Concurrent groups: every request on its own connection, opened before any is sent, then all
//! released together from one task, and the release measured.
//!
//! HTTP/1.1 uses hyper's connection-level client over a [`gate`](super::gate) rather than
//! reqwest: reqwest cannot open a connection without sending a request on it, and cannot hold
//! back a request's last byte. hyper writes each request into its gate; the gate sends all but
//! the held bytes; one loop then writes every held byte. HTTP/2 lives in [`super::h2race`].

use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::future::join_all;
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;

use super::gate::{self, Gate, Hold};
use super::release::{failed_group, GroupRun, Release};
use super::warm::{self, Conn, Warm};
use super::{classify, connect, error_chain};
use crate::record::{Exchange, NoResponse, NoResponseKind, Outgoing, Received};
use crate::scenario::SyncMode;

/// Runs one group and returns one exchange per request, in request order. `delays[i]`
/// releases member `i` that long after the others (`after:`; never with `http2`).
/// HTTP/1.1 members go out on connections `warm` kept from earlier rounds where it has them,
/// and leave theirs there.
pub async fn run(
    requests: Vec<Outgoing>,
    release: Release,
    delays: &[Duration],
    warm: &Warm,
) -> GroupRun {
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
        SyncMode::LastByte => run_http1(requests, release, Hold::LastByte, delays, warm).await,
        SyncMode::Barrier => run_http1(requests, release, Hold::All, delays, warm).await,
    }
}

/// The response, when it was complete, and the connection when it can carry another request.
type Pending = tokio::task::JoinHandle<(Result<Received, NoResponse>, Instant, Option<Sender>)>;
type Sender = http1::SendRequest<Full<Bytes>>;

/// A member ready to be released: its gate, its response to come, and whether its connection
/// was kept from an earlier round.
struct Member {
    gate: Gate,
    pending: Pending,
    warm: bool,
}

async fn run_http1(
    requests: Vec<Outgoing>,
    release: Release,
    hold: Hold,
    delays: &[Duration],
    warm: &Warm,
) -> GroupRun {
    // Connect (or take a kept connection), hand each request to its connection; none is
    // complete on the wire.
    let members: Vec<Result<Member, String>> = join_all(
        requests
            .iter()
            .map(|r| connect::within(r.timeout, dispatch(r, hold, warm))),
    )
    .await;
    // Wait until every request is out but its held bytes.
    let ready: Vec<Result<(), String>> =
        join_all(members.iter().zip(&requests).map(|(member, r)| async move {
            match member {
                Ok(member) => {
                    connect::within(r.timeout, async {
                        member.gate.ready().await;
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
        if let (Ok(member), Ok(())) = (&members[i], &ready[i]) {
            wait_until(release_began + offsets[i]).await;
            releasing_at[i] = Some(Instant::now());
            match member.gate.release().await {
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

    let warmed = members.iter().flatten().filter(|m| m.warm).count();
    let mut exchanges = Vec::with_capacity(requests.len());
    for (index, ((request, member), ready)) in
        requests.into_iter().zip(members).zip(ready).enumerate()
    {
        let started = releasing_at[index].unwrap_or_else(Instant::now);
        let (response, finished) = match (member, ready, release_errors[index].take()) {
            (Err(why), _, _) | (_, Err(why), _) | (_, _, Some(why)) => {
                (Err(classify(why)), Instant::now())
            }
            (Ok(Member { gate, pending, .. }), Ok(()), None) => match pending.await {
                Ok((response, finished, sender)) => {
                    if let Some(sender) = sender {
                        warm.put(&request.url, Conn { gate, sender });
                    }
                    (response, finished)
                }
                Err(e) => {
                    let why = format!("the request's task failed: {e}");
                    (
                        Err(NoResponse::new(NoResponseKind::Reset, why)),
                        Instant::now(),
                    )
                }
            },
        };
        exchanges.push(Exchange {
            index: Some(index),
            request: request.into(),
            response,
            started,
            finished,
        });
    }
    let mut run = GroupRun::released(exchanges, release, &times);
    run.window.warm = warmed;
    run
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

/// Hands the request to a gated connection, kept from an earlier round or opened now; the
/// response is awaited in a task.
async fn dispatch(outgoing: &Outgoing, hold: Hold, warm: &Warm) -> Result<Member, String> {
    let content_length = outgoing.body.len();
    let (gate, mut sender, was_warm) = match warm.take(&outgoing.url).await {
        Some(Conn { gate, sender }) => {
            gate.rearm(hold, content_length);
            (gate, sender, true)
        }
        None => {
            let io = connect::open(&outgoing.url).await?;
            let (gate, gated) = gate::gate(io, hold, content_length);
            let (sender, connection) = http1::handshake(TokioIo::new(gated))
                .await
                .map_err(|e| format!("HTTP handshake failed: {}", error_chain(&e)))?;
            tokio::spawn(connection);
            (gate, sender, false)
        }
    };
    let request = connect::request(outgoing, None)?;
    let reuse_asked = !warm::closes(request.headers());
    let response = sender.send_request(request);
    let timeout = outgoing.timeout;
    let max_body = outgoing.max_body;
    let pending = tokio::spawn(async move {
        // The instant the response is complete, for when members' ends are compared.
        let read = async move {
            let deadline = tokio::time::Instant::now() + timeout;
            let response = connect::within(timeout, async {
                response.await.map_err(|e| error_chain(&e))
            })
            .await
            .map_err(classify)?;
            let reusable = reuse_asked && warm::reusable(&response);
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
            let received = Received {
                status,
                version: super::version_name(parts.version),
                headers: crate::record::owned_headers(parts.headers),
                body,
            };
            Ok((received, reusable))
        };
        match read.await {
            // Read to its end: the connection is free for the next round.
            Ok((received, reusable)) => (Ok(received), Instant::now(), reusable.then_some(sender)),
            Err(no_response) => (Err(no_response), Instant::now(), None),
        }
    });
    Ok(Member {
        gate,
        pending,
        warm: was_warm,
    })
}
