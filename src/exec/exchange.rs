//! What execute records: each request as sent and the response as received, with timings.
//! Execute never decides pass or fail; judge and report read these.

use std::time::Instant;

use bytes::Bytes;
use hyper::header::HeaderMap;

/// A request with every template rendered, ready to send.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub method: hyper::Method,
    pub url: reqwest::Url,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub timeout: std::time::Duration,
    /// Send on a fresh connection and record the response bytes as sent (`raw: true`).
    pub raw: bool,
}

#[derive(Debug, Clone)]
pub struct Received {
    pub status: u16,
    pub version: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Received {
    /// All field lines of a header joined with ", " (RFC 9110 5.3), or `None` when absent.
    pub fn header(&self, name: &str) -> Option<String> {
        let mut values = self.headers.get_all(name).iter().peekable();
        values.peek()?;
        let joined: Vec<String> = values
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        Some(joined.join(", "))
    }

    pub fn body_text(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.body)
    }
}

#[derive(Debug, Clone)]
pub struct Exchange {
    /// Position in a concurrent group (`{{index}}`); `None` for a single request.
    pub index: Option<usize>,
    pub request: Outgoing,
    /// The response, or why there is none (refused, timed out, malformed).
    pub response: Result<Received, String>,
    pub started: Instant,
    pub finished: Instant,
}

impl Exchange {
    pub fn status(&self) -> Option<u16> {
        self.response.as_ref().ok().map(|r| r.status)
    }
}
