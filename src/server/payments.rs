//! Keyed writes under `/api/payments` and `/api/refunds`, following the Idempotency-Key draft
//! (draft-ietf-httpapi-idempotency-key-header-07): a keyed POST takes effect once.
//!
//! - `POST` with `Idempotency-Key: "<key>"` (an sf-string, 2.1) records a payment, works for
//!   [`WORK`] and answers 201 with its `Location` and `{"id", "amount", ...}`.
//! - The same key again, while the first is still running: 409 with a problem document (2.6).
//! - The same key after it completed, same payload: the stored status, headers and content.
//! - The same key with another payload: 422 with a problem document (2.7).
//! - No key: 400 with a problem document linking the documentation (2.7): the key is required.
//! - `GET` on the collection counts what was executed: `{"count": N, "items": [...]}`.
//!
//! Keys are scoped to the endpoint: a key used for a payment means nothing to refunds.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Response, StatusCode};
use serde_json::{json, Value};

use super::faults::{Fault, Faults};
use super::reply::{json_reply, Reply};

pub const PAYMENTS: &str = "/api/payments";
pub const REFUNDS: &str = "/api/refunds";
/// Where the problem documents link to.
const DOCS: &str = "https://example.com/docs/idempotency";

/// How long executing a keyed request takes: long enough for a retry to arrive during it.
pub const WORK: Duration = Duration::from_millis(30);

enum Entry {
    /// Executing; the payload's fingerprint.
    InFlight(Vec<u8>),
    /// Done: the fingerprint and the response to replay.
    Done(Vec<u8>, Stored),
}

#[derive(Clone)]
struct Stored {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

#[derive(Default)]
struct Ledger {
    /// (endpoint, key) → entry. The `unscoped-keys` fault drops the endpoint.
    keys: HashMap<(String, String), Entry>,
    /// What was executed, per endpoint.
    executed: HashMap<String, Vec<Value>>,
}

pub(super) struct Payments {
    faults: Faults,
    ledger: Mutex<Ledger>,
}

impl Payments {
    pub(super) fn new(faults: Faults) -> Self {
        Payments {
            faults,
            ledger: Mutex::default(),
        }
    }

    /// Whether `path` is one of the keyed endpoints (or an item under one).
    pub(super) fn serves(path: &str) -> bool {
        [PAYMENTS, REFUNDS]
            .iter()
            .any(|p| path == *p || path.starts_with(&format!("{p}/")))
    }

    fn ledger(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) async fn handle(
        &self,
        method: &Method,
        path: &str,
        query: Option<&str>,
        headers: &HeaderMap,
        content: Bytes,
    ) -> Reply {
        let endpoint = if path.starts_with(REFUNDS) {
            REFUNDS
        } else {
            PAYMENTS
        };
        match (method.clone(), path == endpoint) {
            (Method::GET, true) => self.list(endpoint, query),
            (Method::GET, false) => self.read(endpoint, path),
            (Method::POST, true) => self.post(endpoint, headers, content).await,
            _ => problem(
                StatusCode::METHOD_NOT_ALLOWED,
                "Method not allowed",
                "POST to the collection, GET the collection or an item",
            ),
        }
    }

    /// `?reference=R` counts only the records whose `reference` is R: one scenario's side
    /// effects, whatever runs beside it.
    fn list(&self, endpoint: &str, query: Option<&str>) -> Reply {
        let reference = query
            .into_iter()
            .flat_map(|q| q.split('&'))
            .find_map(|pair| pair.strip_prefix("reference="));
        let ledger = self.ledger();
        let items: Vec<Value> = ledger
            .executed
            .get(endpoint)
            .into_iter()
            .flatten()
            .filter(|item| reference.is_none_or(|r| item["reference"] == r))
            .cloned()
            .collect();
        json_reply(
            StatusCode::OK,
            &json!({ "count": items.len(), "items": items }),
        )
    }

    fn read(&self, endpoint: &str, path: &str) -> Reply {
        let ledger = self.ledger();
        let found = ledger
            .executed
            .get(endpoint)
            .and_then(|items| items.iter().find(|i| i["href"] == path));
        match found {
            Some(item) => json_reply(StatusCode::OK, item),
            None => problem(StatusCode::NOT_FOUND, "Not found", "no such payment"),
        }
    }

    async fn post(&self, endpoint: &str, headers: &HeaderMap, content: Bytes) -> Reply {
        let key = match headers.get("idempotency-key").map(|v| v.as_bytes()) {
            None if self.faults.has(Fault::IdemKeyOptional) => {
                return self.execute(endpoint, content).await.0;
            }
            None => {
                return problem(
                    StatusCode::BAD_REQUEST,
                    "Idempotency-Key is missing",
                    "this operation is idempotent and requires an Idempotency-Key header",
                )
            }
            Some(raw) => match sf_string(raw) {
                Some(key) => key,
                None => {
                    return problem(
                        StatusCode::BAD_REQUEST,
                        "Idempotency-Key is malformed",
                        "the key must be a Structured Field string: a quoted value",
                    )
                }
            },
        };
        let Ok(payload) = serde_json::from_slice::<Value>(&content) else {
            return problem(
                StatusCode::BAD_REQUEST,
                "Invalid payment",
                "the content must be a JSON object",
            );
        };
        let fingerprint = match self.faults.has(Fault::IdemNoFingerprint) {
            true => Vec::new(),
            false => serde_json::to_vec(&payload).unwrap_or_default(),
        };
        let scope = match self.faults.has(Fault::IdemUnscopedKeys) {
            true => String::new(),
            false => endpoint.to_owned(),
        };
        let slot = (scope, key);
        // The lookup and the claim are one step under the lock: two copies of a request that
        // arrive together cannot both find the key free. The fault releases it in between.
        let claim = |ledger: &mut Ledger| -> Option<Reply> {
            match ledger.keys.get(&slot) {
                Some(Entry::InFlight(print)) if *print != fingerprint => Some(mismatch()),
                Some(Entry::InFlight(_)) => Some(problem(
                    StatusCode::CONFLICT,
                    "Request in progress",
                    "a request with this Idempotency-Key is still being processed; retry later",
                )),
                Some(Entry::Done(print, _)) if *print != fingerprint => {
                    if self.faults.has(Fault::IdemMismatchAdopted) {
                        if let Some(Entry::Done(print, _)) = ledger.keys.get_mut(&slot) {
                            *print = fingerprint.clone();
                        }
                    }
                    Some(mismatch())
                }
                Some(Entry::Done(_, _)) if self.faults.has(Fault::IdemCompleted409) => {
                    Some(problem(
                        StatusCode::CONFLICT,
                        "Request in progress",
                        "a request with this Idempotency-Key was already processed",
                    ))
                }
                Some(Entry::Done(_, stored)) => Some(self.replay(stored)),
                None => None,
            }
        };
        if self.faults.has(Fault::IdemStoredAfterWork) {
            if let Some(reply) = claim(&mut self.ledger()) {
                return reply;
            }
        } else if self.faults.has(Fault::IdemLockAroundLookup) {
            if let Some(reply) = claim(&mut self.ledger()) {
                return reply;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
            self.ledger()
                .keys
                .insert(slot.clone(), Entry::InFlight(fingerprint.clone()));
        } else {
            let mut ledger = self.ledger();
            if let Some(reply) = claim(&mut ledger) {
                return reply;
            }
            ledger
                .keys
                .insert(slot.clone(), Entry::InFlight(fingerprint.clone()));
        }
        let (reply, body) = self.execute(endpoint, content).await;
        let stored = Stored {
            status: reply.status(),
            headers: reply.headers().clone(),
            body,
        };
        self.ledger()
            .keys
            .insert(slot, Entry::Done(fingerprint, stored));
        reply
    }

    /// The work itself: record the payment, after [`WORK`]; the reply and its content.
    async fn execute(&self, endpoint: &str, content: Bytes) -> (Reply, Bytes) {
        let payload: Value = serde_json::from_slice(&content).unwrap_or_default();
        tokio::time::sleep(WORK).await;
        let mut ledger = self.ledger();
        let executed = ledger.executed.entry(endpoint.to_owned()).or_default();
        let href = format!("{endpoint}/{}", executed.len() + 1);
        let mut record = json!({ "id": executed.len() + 1, "href": href });
        if let (Some(record), Value::Object(fields)) = (record.as_object_mut(), &payload) {
            for (k, v) in fields {
                record.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        executed.push(record.clone());
        let mut reply = json_reply(StatusCode::CREATED, &record);
        if let Ok(location) = HeaderValue::from_str(&href) {
            reply.headers_mut().insert(header::LOCATION, location);
        }
        (reply, Bytes::from(record.to_string()))
    }

    fn replay(&self, stored: &Stored) -> Reply {
        let mut reply = Response::new(Full::new(stored.body.clone()));
        *reply.status_mut() = stored.status;
        *reply.headers_mut() = stored.headers.clone();
        if self.faults.has(Fault::IdemReplayDropsLocation) {
            reply.headers_mut().remove(header::LOCATION);
        }
        reply
    }
}

fn mismatch() -> Reply {
    problem(
        StatusCode::UNPROCESSABLE_ENTITY,
        "Idempotency-Key reused",
        "this Idempotency-Key was used with another payload",
    )
}

/// An RFC 8941 sf-string: `"` printable ASCII with `\"` and `\\` escapes `"`.
fn sf_string(raw: &[u8]) -> Option<String> {
    let inner = raw.strip_prefix(b"\"")?.strip_suffix(b"\"")?;
    let mut out = String::new();
    let mut bytes = inner.iter();
    while let Some(&b) = bytes.next() {
        match b {
            b'\\' => match bytes.next() {
                Some(&e @ (b'"' | b'\\')) => out.push(e as char),
                _ => return None,
            },
            b'"' => return None,
            0x20..=0x7e => out.push(b as char),
            _ => return None,
        }
    }
    Some(out)
}

fn problem(status: StatusCode, title: &str, detail: &str) -> Reply {
    let body = json!({
        "type": DOCS,
        "title": title,
        "status": status.as_u16(),
        "detail": detail,
    });
    let mut reply = json_reply(status, &body);
    reply.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    if let Ok(link) = HeaderValue::from_str(&format!("<{DOCS}>; rel=\"help\"")) {
        reply.headers_mut().insert(header::LINK, link);
    }
    reply
}
