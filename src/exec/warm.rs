//! Connections kept warm between a race's rounds: a round's racers go out on connections the
//! previous round left open, so a round costs no connects or handshakes, and the server meets
//! each racer already accepted (its accept path is no longer part of the window).
//!
//! Kept only where the exchange allows: HTTP/1.1 answered without `Connection: close`, the
//! response read to its end. A connection idle longer than [`IDLE_FOR`] is dropped, not reused,
//! so a server's keep-alive timeout (5 s at the shortest of common defaults) never closes one
//! under a racer; a connection that turns out closed is replaced by a fresh one before the
//! release, so a round never fails for reuse.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::client::conn::http1::SendRequest;

use super::gate::Gate;

/// Longest a connection waits idle and is still reused.
const IDLE_FOR: Duration = Duration::from_secs(1);
/// Most connections kept per origin: more than any group's racers.
const KEPT_PER_ORIGIN: usize = 256;
/// How long a kept connection may take to say it is ready for the next request.
const READY_WITHIN: Duration = Duration::from_millis(50);

/// A connection of a racer: the gate on its writes and hyper's handle to send on it.
pub(super) struct Conn {
    pub gate: Gate,
    pub sender: SendRequest<Full<Bytes>>,
}

/// The idle racers' connections of a run, by origin (scheme and authority).
#[derive(Default)]
pub struct Warm {
    idle: Mutex<HashMap<String, Vec<(Conn, Instant)>>>,
}

impl Warm {
    /// A kept connection to `url`'s origin, ready for a request; `None` when there is none.
    pub(super) async fn take(&self, url: &reqwest::Url) -> Option<Conn> {
        let origin = origin(url);
        loop {
            let (mut conn, _) = self.lock().get_mut(&origin)?.pop()?;
            let ready = tokio::time::timeout(READY_WITHIN, conn.sender.ready()).await;
            if matches!(ready, Ok(Ok(()))) {
                return Some(conn);
            }
        }
    }

    /// Keeps a connection whose exchange is over, for the next round; the stale ones go.
    pub(super) fn put(&self, url: &reqwest::Url, conn: Conn) {
        let mut idle = self.lock();
        let kept = idle.entry(origin(url)).or_default();
        if kept.len() < KEPT_PER_ORIGIN {
            kept.push((conn, Instant::now()));
        }
    }

    /// The idle connections, those idle too long closed first: a server that gives each
    /// connection a thread gets it back as soon as any race of the run goes on.
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<(Conn, Instant)>>> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        for kept in idle.values_mut() {
            kept.retain(|(_, since)| since.elapsed() <= IDLE_FOR);
        }
        idle.retain(|_, kept| !kept.is_empty());
        idle
    }
}

fn origin(url: &reqwest::Url) -> String {
    format!("{}://{}", url.scheme(), super::connect::authority(url))
}

/// Whether a message asks to close its connection after it.
pub(super) fn closes(headers: &hyper::HeaderMap) -> bool {
    headers
        .get_all(hyper::header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|token| token.trim().eq_ignore_ascii_case("close"))
}

/// Whether the connection a response came on may carry another request: HTTP/1.1 and the
/// server did not ask to close it.
pub(super) fn reusable<B>(response: &hyper::Response<B>) -> bool {
    response.version() == hyper::Version::HTTP_11 && !closes(response.headers())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_asked_closed_is_not_kept() {
        let headers = |value: &str| {
            let mut h = hyper::HeaderMap::new();
            h.insert(hyper::header::CONNECTION, value.parse().unwrap());
            h
        };
        assert!(closes(&headers("close")));
        assert!(closes(&headers("Upgrade, Close")));
        assert!(!closes(&headers("keep-alive")));
        assert!(!closes(&hyper::HeaderMap::new()));
        let response = |version, connection: Option<&str>| {
            let mut r = hyper::Response::new(());
            *r.version_mut() = version;
            if let Some(c) = connection {
                *r.headers_mut() = headers(c);
            }
            r
        };
        assert!(reusable(&response(hyper::Version::HTTP_11, None)));
        assert!(!reusable(&response(hyper::Version::HTTP_11, Some("close"))));
        assert!(!reusable(&response(hyper::Version::HTTP_10, None)));
    }
}
