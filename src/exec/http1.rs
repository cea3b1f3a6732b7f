//! Plain-HTTP requests on hyper's HTTP/1.1 connections directly, kept alive in a pool of our
//! own.
//!
//! For an `http://` URL without a proxy, reqwest speaks HTTP/1.1 through hyper too; what it
//! adds on top (a service stack, proxy matching, its own URL and timeout handling) cost 15 to
//! 18 µs a request on loopback, about half of a raw hyper loop's whole time
//! (docs/benchmarks.md).
//! The same bytes go out: the request's headers, then `Accept: */*` and `Host` where they are
//! missing, as reqwest adds them. https (where ALPN may choose HTTP/2) and proxied origins stay
//! on reqwest.

use std::pin::Pin;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::future::Either;
use http_body_util::Full;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HeaderValue, ACCEPT, CONNECTION};
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::TokioIo;

use super::{classify, connect};
use crate::record::{NoResponse, NoResponseKind, Outgoing, Received};

type Sender = SendRequest<Full<Bytes>>;

/// The most idle connections kept per origin: each of a run's parallel scenarios (`--jobs`)
/// holds one at a time.
const IDLE_KEPT: usize = 64;

pub(super) struct Pool {
    /// The proxy environment (`HTTP_PROXY`, `NO_PROXY`, ...) as reqwest reads it.
    proxies: Matcher,
    /// Looked up once a request: foldhash, not SipHash (the keys are ours).
    origins: Mutex<foldhash::HashMap<String, Origin>>,
    /// Timers for requests' timeouts, reused: a new one for each request is inserted in
    /// tokio's timer wheel and removed again (400 instructions a request), and one moved costs
    /// too, so a timer set for an earlier deadline is left to fire early (see [`Pool::timer`]).
    timers: Mutex<Vec<Pin<Box<tokio::time::Sleep>>>>,
}

struct Origin {
    /// Whether requests to it go through a proxy (then through reqwest).
    proxied: bool,
    route: Route,
}

/// What a request to an origin the pool takes needs of it, found once for the request.
#[derive(Clone)]
pub(super) struct Route {
    /// The `Host` value, unless the request names its own.
    host: HeaderValue,
    /// Idle connections, the most recently used last.
    idle: Arc<Mutex<Vec<Sender>>>,
}

impl Pool {
    pub(super) fn new() -> Pool {
        Pool {
            proxies: Matcher::from_env(),
            origins: Mutex::default(),
            timers: Mutex::default(),
        }
    }

    /// The route for `outgoing` when this pool sends it (otherwise reqwest does).
    pub(super) fn takes(&self, outgoing: &Outgoing) -> Option<Route> {
        if outgoing.raw || outgoing.url.scheme() != "http" {
            return None;
        }
        let authority = connect::authority(&outgoing.url);
        let mut origins = self.origins.lock().expect("the pool's lock");
        if let Some(origin) = origins.get(authority) {
            return (!origin.proxied).then(|| origin.route.clone());
        }
        let proxied = format!("http://{authority}/")
            .parse::<hyper::Uri>()
            .map_or(true, |uri| self.proxies.intercept(&uri).is_some());
        // An authority a URL holds is a valid value (no controls, no spaces); were it not,
        // reqwest would send the request.
        let host = HeaderValue::from_str(authority).ok()?;
        let route = Route {
            host,
            idle: Arc::default(),
        };
        let taken = (!proxied).then(|| route.clone());
        origins.insert(authority.to_owned(), Origin { proxied, route });
        taken
    }

    /// One request and its response, within the request's timeout (connecting included).
    /// `wire`, when given, is `outgoing` as [`Wire::of`] built it, with its route.
    pub(super) async fn exchange(
        &self,
        outgoing: &Outgoing,
        route: &Route,
        wire: Option<&Wire>,
    ) -> Result<Received, NoResponse> {
        let mut status = None;
        let result = {
            let work = std::pin::pin!(attempt(outgoing, route, wire, &mut status));
            self.within(outgoing.timeout, work).await
        };
        // The status and headers were in: a content that failed is reported as that.
        result.map_err(|e| match status {
            Some(status) => e.after_status(status),
            None => e,
        })
    }

    /// `work`, unless `timeout` passes first.
    async fn within(
        &self,
        timeout: std::time::Duration,
        mut work: Pin<&mut impl std::future::Future<Output = Result<Received, NoResponse>>>,
    ) -> Result<Received, NoResponse> {
        let Some(deadline) = tokio::time::Instant::now().checked_add(timeout) else {
            // A timeout too far off to name is none.
            return work.await;
        };
        let mut timer = self.timer(deadline);
        let result = loop {
            match futures::future::select(work.as_mut(), timer.as_mut()).await {
                Either::Left((result, _)) => break result,
                // Set for an earlier request: set again for this one.
                Either::Right(_) if tokio::time::Instant::now() < deadline => {
                    timer.as_mut().reset(deadline)
                }
                Either::Right(_) => {
                    break Err(classify(format!(
                        "timed out after {}",
                        humantime::format_duration(timeout)
                    )))
                }
            }
        };
        self.timers.lock().expect("the timers' lock").push(timer);
        result
    }

    /// A timer that fires by `deadline`: an idle one still set for an earlier request's
    /// deadline is taken as it is (then [`Pool::within`] sets it again if it fires first: once
    /// a timeout, not once a request, on a loop of requests with the same timeout), another
    /// idle one moved there, or a new one.
    fn timer(&self, deadline: tokio::time::Instant) -> Pin<Box<tokio::time::Sleep>> {
        let idle = self.timers.lock().expect("the timers' lock").pop();
        match idle {
            Some(timer) if timer.deadline() <= deadline && !timer.is_elapsed() => timer,
            Some(mut timer) => {
                timer.as_mut().reset(deadline);
                timer
            }
            None => Box::pin(tokio::time::sleep_until(deadline)),
        }
    }
}

async fn attempt(
    outgoing: &Outgoing,
    route: &Route,
    wire: Option<&Wire>,
    status: &mut Option<u16>,
) -> Result<Received, NoResponse> {
    let (mut sender, reused) = checkout(route, outgoing).await?;
    let response = match sender
        .try_send_request(request(outgoing, route, wire)?)
        .await
    {
        Ok(response) => response,
        Err(mut e) => {
            // A server may close a kept-alive connection at any time (RFC 9112 9.3.1; nginx
            // does right after a 412 it marked keep-alive). A request that never left is
            // sent on a fresh connection; one that may have been performed only if it is
            // safe to repeat.
            let unsent = e.take_message().is_some();
            if !(reused && (unsent || super::repeatable(&outgoing.method))) {
                return Err(classify(super::error_chain(e.error())));
            }
            sender = fresh(outgoing).await?;
            sender
                .send_request(request(outgoing, route, wire)?)
                .await
                .map_err(|e| classify(super::error_chain(&e)))?
        }
    };
    *status = Some(response.status().as_u16());
    let close = response
        .headers()
        .get(CONNECTION)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"close"));
    let received = super::read_response(response, outgoing.max_body, |e: hyper::Error| {
        super::error_chain(&e)
    })
    .await?;
    if !close {
        checkin(route, sender);
    }
    Ok(received)
}

/// An idle connection to the origin that is still open, or a new one; and whether it was
/// reused.
async fn checkout(route: &Route, outgoing: &Outgoing) -> Result<(Sender, bool), NoResponse> {
    loop {
        let idle = route.idle.lock().expect("the pool's lock").pop();
        let Some(mut sender) = idle else { break };
        // Ready once the previous response was read; an error once the server closed it.
        // Asked first without waiting: waiting leaves a waker that the connection wakes once
        // more for each request (an extra turn of the runtime and an epoll_wait).
        if sender.is_ready() || sender.ready().await.is_ok() {
            return Ok((sender, true));
        }
    }
    Ok((fresh(outgoing).await?, false))
}

fn checkin(route: &Route, sender: Sender) {
    if sender.is_closed() {
        return;
    }
    let mut idle = route.idle.lock().expect("the pool's lock");
    if idle.len() < IDLE_KEPT {
        idle.push(sender);
    }
}

/// A new connection, driven by a task of its own until either side closes it. Plain TCP, not
/// a boxed stream: hyper's reads and writes then call the socket directly.
async fn fresh(outgoing: &Outgoing) -> Result<Sender, NoResponse> {
    let io = connect::tcp(&outgoing.url)
        .await
        .map_err(|e| NoResponse::new(NoResponseKind::Connect, e))?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(|e| classify(super::error_chain(&e)))?;
    tokio::spawn(connection);
    Ok(sender)
}

/// A request's method, target and header fields as this pool writes them. A workload's client
/// builds it once for a request it sends every iteration and clones its fields for each send:
/// a clone copies them, where building hashes each one again (2,500 instructions a request).
pub(super) struct Wire {
    pub(super) route: Route,
    method: hyper::Method,
    uri: hyper::Uri,
    headers: hyper::HeaderMap,
}

impl Wire {
    /// As reqwest sends it: `Host`, and `Accept: */*` where the request has no Accept.
    pub(super) fn of(outgoing: &Outgoing, route: &Route) -> Result<Wire, NoResponse> {
        let mut request = connect::request(outgoing, Some(&route.host)).map_err(classify)?;
        if !request.headers().contains_key(ACCEPT) {
            let any = HeaderValue::from_static("*/*");
            request.headers_mut().insert(ACCEPT, any);
        }
        let (parts, _) = request.into_parts();
        Ok(Wire {
            route: route.clone(),
            method: parts.method,
            uri: parts.uri,
            headers: parts.headers,
        })
    }
}

/// The request hyper sends for `outgoing`: from `wire` when it was built before.
fn request(
    outgoing: &Outgoing,
    route: &Route,
    wire: Option<&Wire>,
) -> Result<hyper::Request<Full<Bytes>>, NoResponse> {
    // The fields only: the route is the caller's already.
    let (method, uri, headers) = match wire {
        Some(wire) => (wire.method.clone(), wire.uri.clone(), wire.headers.clone()),
        None => {
            let wire = Wire::of(outgoing, route)?;
            (wire.method, wire.uri, wire.headers)
        }
    };
    let mut request = hyper::Request::new(Full::new(outgoing.body.clone()));
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    *request.headers_mut() = headers;
    Ok(request)
}
