//! The reference origin: an in-memory store where every path is a resource, with the method
//! semantics of RFC 9110 (9.3) and the preconditions of section 13 done exactly.
//!
//! Every write evaluates its preconditions and changes the store under one lock, so N concurrent
//! `If-Match` PUTs have exactly one winner: the property contend's race scenarios check.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Response, StatusCode};

use super::api::{self, Api};
use super::conditions::{evaluate, has_write_precondition, if_range_holds, Current, Verdict};
use super::faults::Fault;
use super::payments::Payments;
use super::reply::{etag_of, now_in_seconds, Reply};
use super::ServerConfig;
use crate::validators::{fmt_http_date, EntityTag};

const ALLOW: &str = "GET, HEAD, PUT, DELETE, OPTIONS";

/// How long the `check-then-write` fault waits between its check and its write.
const CHECK_THEN_WRITE_GAP: Duration = Duration::from_millis(1);

/// With the `rare-lost-update` fault and no `fault_rate`, the share of writes that take the
/// check-then-write gap.
const RARE_WRITE_RATE: f64 = 0.03;

/// How long a write takes to store with the `503-under-contention` fault (an fsync, say).
const SLOW_WRITE: Duration = Duration::from_millis(1);

#[derive(Clone)]
struct Resource {
    content: Bytes,
    content_type: HeaderValue,
    current: Current,
}

type Store = BTreeMap<String, Resource>;

/// `GET` here lists what the store holds (tests check that cleanup left nothing behind).
pub const HOLDINGS: &str = "/.well-known/contend/holdings";

pub(super) struct Origin {
    config: ServerConfig,
    /// The `/api/items` example API.
    api: Api,
    /// `/api/payments` and `/api/refunds`, keyed after the Idempotency-Key draft.
    payments: Payments,
    store: Mutex<Store>,
    /// A write is being stored (only the `503-under-contention` fault looks at it).
    busy: std::sync::atomic::AtomicBool,
    /// The collections made with MKCOL, each ending in `/` (only with `collections`).
    collections: Mutex<std::collections::BTreeSet<String>>,
    /// Per path: writes in flight and how many overlaps were seen (only `contention-fails-all`).
    contention: Mutex<std::collections::HashMap<String, (usize, u64)>>,
    /// Per path: the first copy read (only `stale-cache`, a cache that never invalidates).
    kept: Mutex<Store>,
}

/// Marks a reply the server must not send: the connection is closed instead (a fault).
#[derive(Clone, Copy)]
pub(super) struct Unanswered;

impl Origin {
    pub(super) fn new(config: ServerConfig) -> Self {
        let api = Api::new(config.faults.clone());
        let payments = Payments::new(config.faults.clone());
        Origin {
            config,
            api,
            payments,
            store: Mutex::new(BTreeMap::new()),
            busy: Default::default(),
            contention: Default::default(),
            collections: Default::default(),
            kept: Default::default(),
        }
    }

    pub(super) fn latency(&self) -> Option<Duration> {
        self.config.latency
    }

    fn has(&self, fault: Fault) -> bool {
        self.config.faults.has(fault)
    }

    /// The query token every request must carry, if the server wants one.
    pub(super) fn token(&self) -> Option<&str> {
        self.config.token.as_deref()
    }

    /// Every path the store holds, as a JSON array: what a run left behind.
    fn holdings(&self) -> Reply {
        let paths: Vec<String> = self.lock().keys().cloned().collect();
        let mut reply = Response::new(Full::new(Bytes::from(
            serde_json::to_string(&paths).unwrap_or_default(),
        )));
        set(&mut reply, header::CONTENT_TYPE, "application/json");
        reply
    }

    pub(super) async fn handle(
        &self,
        method: &Method,
        path: &str,
        query: Option<&str>,
        headers: &HeaderMap,
        content: Bytes,
    ) -> Reply {
        let write = matches!(*method, Method::PUT | Method::DELETE);
        let busy_fault =
            self.has(Fault::BusyUnderContention) || self.has(Fault::ResetUnderContention);
        if write && busy_fault {
            use std::sync::atomic::Ordering;
            if self.busy.swap(true, Ordering::AcqRel) {
                if self.has(Fault::ResetUnderContention) {
                    let mut reply = empty(StatusCode::INTERNAL_SERVER_ERROR);
                    reply.extensions_mut().insert(Unanswered);
                    return reply;
                }
                return explain(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "busy: another write is in progress, try again",
                );
            }
            let reply = self.dispatch(method, path, query, headers, content).await;
            tokio::time::sleep(SLOW_WRITE).await;
            self.busy.store(false, Ordering::Release);
            return reply;
        }
        self.dispatch(method, path, query, headers, content).await
    }

    async fn dispatch(
        &self,
        method: &Method,
        path: &str,
        query: Option<&str>,
        headers: &HeaderMap,
        content: Bytes,
    ) -> Reply {
        if path == api::PREFIX || path.starts_with(&format!("{}/", api::PREFIX)) {
            return self.api.handle(method, path, headers, content).await;
        }
        if Payments::serves(path) {
            return self
                .payments
                .handle(method, path, query, headers, content)
                .await;
        }
        if path == HOLDINGS && *method == Method::GET {
            return self.holdings();
        }
        match *method {
            Method::OPTIONS => self.options(path, headers),
            Method::GET | Method::HEAD => self.read(method == Method::HEAD, path, headers),
            Method::PUT => self.put(path, headers, content).await,
            Method::DELETE if path.ends_with('/') && self.config.collections => {
                self.delete_collection(path)
            }
            Method::DELETE => self.delete(path, headers).await,
            _ if method.as_str() == "MKCOL" && self.config.collections => self.mkcol(path),
            _ => {
                let mut reply = explain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
                set(&mut reply, header::ALLOW, ALLOW);
                reply
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Store> {
        // A panic while holding the lock cannot leave a half-written resource (each write is one
        // insert or remove), so a poisoned lock is still safe to use.
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// 13.2.1: preconditions are ignored for OPTIONS.
    fn options(&self, path: &str, headers: &HeaderMap) -> Reply {
        if self.has(Fault::OptionsPreconditions) {
            let store = self.lock();
            if let Verdict::Failed(why) = evaluate(
                store.get(path).map(|r| &r.current),
                headers,
                true,
                &self.config.faults,
            ) {
                return explain(StatusCode::PRECONDITION_FAILED, &why);
            }
        }
        let mut reply = empty(StatusCode::NO_CONTENT);
        set(&mut reply, header::ALLOW, ALLOW);
        reply
    }

    fn read(&self, head: bool, path: &str, headers: &HeaderMap) -> Reply {
        let store = self.lock();
        let kept = match self.has(Fault::StaleCache) {
            true => self.kept_copy(path, store.get(path)),
            false => None,
        };
        // 13.2.1: a 404 takes precedence over any precondition.
        let Some(resource) = kept.as_ref().or(store.get(path)) else {
            if self.has(Fault::PreconditionBefore404) && headers.contains_key(header::IF_MATCH) {
                return explain_head(head, StatusCode::PRECONDITION_FAILED, "If-Match is false");
            }
            return explain_head(head, StatusCode::NOT_FOUND, "no resource at this path");
        };
        match evaluate(Some(&resource.current), headers, true, &self.config.faults) {
            Verdict::Proceed => {}
            Verdict::NotModified => {
                let mut reply = empty(StatusCode::NOT_MODIFIED);
                self.validators(&mut reply, &resource.current);
                if self.has(Fault::NoEtagOn304) {
                    reply.headers_mut().remove(header::ETAG);
                }
                return reply;
            }
            Verdict::Failed(why) => {
                return explain_head(head, StatusCode::PRECONDITION_FAILED, &why);
            }
            Verdict::BadRequest(why) => return explain_head(head, StatusCode::BAD_REQUEST, &why),
        }
        if self.has(Fault::IfRangeWithoutRange412)
            && !headers.contains_key(header::RANGE)
            && !if_range_holds(&resource.current, headers, &self.config.faults)
        {
            return explain_head(head, StatusCode::PRECONDITION_FAILED, "If-Range is false");
        }

        let total = resource.content.len() as u64;
        // Range applies to GET only (14.2); If-Range decides whether it is honoured (13.1.5).
        let range = match headers.get(header::RANGE) {
            Some(value)
                if !head && if_range_holds(&resource.current, headers, &self.config.faults) =>
            {
                parse_byte_range(value.as_bytes(), total)
            }
            _ => RangeRequest::Ignore,
        };
        let mut reply = match range {
            RangeRequest::Ignore => {
                let body = if head {
                    Bytes::new()
                } else {
                    resource.content.clone()
                };
                let mut reply = Response::new(Full::new(body));
                set(&mut reply, header::CONTENT_LENGTH, &total.to_string());
                reply
            }
            RangeRequest::Satisfiable { first, last } => {
                let part = resource.content.slice(first as usize..=last as usize);
                let mut reply = Response::new(Full::new(part));
                *reply.status_mut() = StatusCode::PARTIAL_CONTENT;
                let content_range = format!("bytes {first}-{last}/{total}");
                set(&mut reply, header::CONTENT_RANGE, &content_range);
                reply
            }
            RangeRequest::Unsatisfiable => {
                let mut reply = explain(StatusCode::RANGE_NOT_SATISFIABLE, "range not satisfiable");
                set(
                    &mut reply,
                    header::CONTENT_RANGE,
                    &format!("bytes */{total}"),
                );
                return reply;
            }
        };
        reply
            .headers_mut()
            .insert(header::CONTENT_TYPE, resource.content_type.clone());
        set(&mut reply, header::ACCEPT_RANGES, "bytes");
        if !(head && self.has(Fault::HeadWithoutValidators)) {
            self.validators(&mut reply, &resource.current);
        }
        reply
    }

    /// The `stale-cache` fault: the first copy of a path read is what every later read gets,
    /// whatever was written since (a cache that never invalidates).
    fn kept_copy(&self, path: &str, current: Option<&Resource>) -> Option<Resource> {
        let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        if let (None, Some(current)) = (kept.get(path), current) {
            kept.insert(path.to_owned(), current.clone());
        }
        kept.get(path).cloned()
    }

    async fn put(&self, path: &str, headers: &HeaderMap, content: Bytes) -> Reply {
        if self.has(Fault::ContentionFailsAll) && self.contended(path).await {
            return self.precondition_failed("another write to this resource overlapped this one");
        }
        if self.has(Fault::WriteBeforeCheck) {
            // The bug: the content is stored whatever the preconditions say.
            let mut store = self.lock();
            let refused = self.refuse_put(&store, path, headers);
            let written = self.write(&mut store, path, headers, content);
            return refused.unwrap_or(written);
        }
        if self.has(Fault::TornWrite) {
            // The bug: the old content is gone before the new one is in place.
            let emptied = {
                let mut store = self.lock();
                if let Some(reply) = self.refuse_put(&store, path, headers) {
                    return reply;
                }
                if !store.contains_key(path) {
                    return self.write(&mut store, path, headers, content);
                }
                self.write(&mut store, path, headers, Bytes::new())
            };
            drop(emptied);
            pause(CHECK_THEN_WRITE_GAP).await;
            return self.write(&mut self.lock(), path, headers, content);
        }
        if let Some(gap) = self.check_then_write_gap() {
            // The bug: the check and the write are not under one lock.
            let refused = self.refuse_put(&self.lock(), path, headers);
            if let Some(reply) = refused {
                return reply;
            }
            pause(gap).await;
            return self.write(&mut self.lock(), path, headers, content);
        }
        let mut store = self.lock();
        match self.refuse_put(&store, path, headers) {
            None => self.write(&mut store, path, headers, content),
            Some(reply) => reply,
        }
    }

    /// True when another write to `path` was in flight at any time during this one's 2 ms
    /// (first committer loses, and so does everyone else).
    async fn contended(&self, path: &str) -> bool {
        let lock = || {
            self.contention
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
        };
        let (overlapped_at_arrival, generation) = {
            let mut map = lock();
            let entry = map.entry(path.to_owned()).or_default();
            if entry.0 > 0 {
                entry.1 += 1;
            }
            entry.0 += 1;
            (entry.0 > 1, entry.1)
        };
        tokio::time::sleep(Duration::from_millis(2)).await;
        let mut map = lock();
        let entry = map.entry(path.to_owned()).or_default();
        entry.0 -= 1;
        overlapped_at_arrival || entry.1 != generation
    }

    /// With a check-then-write fault, how long its PUTs wait between check and write.
    fn check_then_write_gap(&self) -> Option<Duration> {
        // A share of writes takes the gap, drawn from uuid's random bits (no RNG crate).
        if self.has(Fault::RareLostUpdate) {
            let rate = self.config.fault_rate.unwrap_or(RARE_WRITE_RATE);
            let draw = (uuid::Uuid::new_v4().as_u128() % 1_000_000) as f64 / 1e6;
            return (draw < rate).then_some(CHECK_THEN_WRITE_GAP);
        }
        [
            (Fault::CheckThenWrite, CHECK_THEN_WRITE_GAP),
            (Fault::CheckThenWrite100us, Duration::from_micros(100)),
            (Fault::CheckThenWriteNoAwait, Duration::ZERO),
        ]
        .into_iter()
        .find(|(fault, _)| self.has(*fault))
        .map(|(_, gap)| gap)
    }

    fn collections(&self) -> std::sync::MutexGuard<'_, std::collections::BTreeSet<String>> {
        self.collections
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// RFC 4918 9.3: MKCOL makes a collection whose parent exists.
    fn mkcol(&self, path: &str) -> Reply {
        let path = format!("{}/", path.trim_end_matches('/'));
        // Lock order everywhere: the store, then the collections.
        let store = self.lock();
        let mut collections = self.collections();
        if collections.contains(&path) || store.contains_key(path.trim_end_matches('/')) {
            return explain(
                StatusCode::METHOD_NOT_ALLOWED,
                "something already exists here",
            );
        }
        if !parent_exists(&collections, &path) {
            return self.conflict("MKCOL needs its parent collection (RFC 4918 9.3.1)");
        }
        collections.insert(path);
        explain(StatusCode::CREATED, "collection created")
    }

    /// DELETE of a collection removes it and everything in it (RFC 4918 9.6.1).
    fn delete_collection(&self, path: &str) -> Reply {
        let mut store = self.lock();
        let mut collections = self.collections();
        if !collections.contains(path) {
            return explain(StatusCode::NOT_FOUND, "no collection at this path");
        }
        collections.retain(|c| !c.starts_with(path));
        store.retain(|doc, _| !doc.starts_with(path));
        self.no_content()
    }

    /// Everything that can refuse a PUT, in the order RFC 9110 13.2.1 and 13.2.2 give: the
    /// refusal, or `None` when the write may go ahead.
    fn refuse_put(&self, store: &Store, path: &str, headers: &HeaderMap) -> Option<Reply> {
        // RFC 4918 9.7.1: no parent collection, no PUT.
        if self.config.collections && !self.has(Fault::PutCreatesParents) {
            let collections = self.collections();
            if !parent_exists(&collections, path) {
                return Some(self.conflict(&format!(
                    "cannot create {path}: its parent collection does not exist (MKCOL it first)"
                )));
            }
        }
        // 409 before preconditions (13.2.1): the unconditional request would fail the same way.
        if let Some(conflict) = hierarchy_conflict(store, path) {
            return Some(self.conflict(&conflict));
        }
        let existing = store.get(path).map(|r| &r.current);
        if let Some(reply) = self.require_precondition(existing.is_some(), headers) {
            return Some(reply);
        }
        match evaluate(existing, headers, false, &self.config.faults) {
            Verdict::Proceed => None,
            Verdict::Failed(why) => Some(self.precondition_failed(&why)),
            // Only with the `ims-on-put` fault: answer 304 and write nothing.
            Verdict::NotModified => Some(empty(StatusCode::NOT_MODIFIED)),
            Verdict::BadRequest(why) => Some(explain(StatusCode::BAD_REQUEST, &why)),
        }
    }

    fn write(&self, store: &mut Store, path: &str, headers: &HeaderMap, content: Bytes) -> Reply {
        let previous_tag = store.get(path).map(|r| r.current.etag.clone());
        let created = previous_tag.is_none();
        let content = if self.has(Fault::TrimContent) {
            trim_end(content)
        } else {
            content
        };
        let etag = match previous_tag {
            Some(tag) if self.has(Fault::StaleEtag) => tag,
            _ => EntityTag {
                weak: self.config.weak_etags,
                ..etag_of(&content)
            },
        };
        let current = Current {
            etag,
            last_modified: now_in_seconds(),
        };
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .cloned()
            .unwrap_or_else(|| HeaderValue::from_static("application/octet-stream"));
        store.insert(
            path.to_owned(),
            Resource {
                content,
                content_type,
                current: current.clone(),
            },
        );

        // 9.3.4: the validators may be sent because the content was stored unchanged.
        let mut reply = if created && self.has(Fault::OkOnCreate) {
            explain(StatusCode::OK, "stored")
        } else if created || self.has(Fault::CreatedOnReplace) {
            let mut reply = explain(StatusCode::CREATED, "created");
            set(&mut reply, header::LOCATION, path);
            reply
        } else {
            self.no_content()
        };
        self.validators(&mut reply, &current);
        reply
    }

    async fn delete(&self, path: &str, headers: &HeaderMap) -> Reply {
        if self.has(Fault::DeleteCheckThenAct) {
            // The bug: check under one lock, delete under another.
            if let Some(refused) = self.refuse_delete(&self.lock(), path, headers) {
                return refused;
            }
            pause(CHECK_THEN_WRITE_GAP).await;
            self.lock().remove(path);
            return self.no_content();
        }
        let mut store = self.lock();
        if let Some(refused) = self.refuse_delete(&store, path, headers) {
            return refused;
        }
        store.remove(path);
        self.no_content()
    }

    /// Everything that can refuse a DELETE: the refusal, or `None` when it may go ahead.
    fn refuse_delete(&self, store: &Store, path: &str, headers: &HeaderMap) -> Option<Reply> {
        let Some(resource) = store.get(path) else {
            return Some(explain(StatusCode::NOT_FOUND, "no resource at this path"));
        };
        if let Some(reply) = self.require_precondition(true, headers) {
            return Some(reply);
        }
        let mut faults = self.config.faults.clone();
        if self.has(Fault::DeleteIgnoresIfMatch) {
            faults.insert(Fault::IgnoreIfMatch);
        }
        match evaluate(Some(&resource.current), headers, false, &faults) {
            Verdict::Proceed => None,
            Verdict::Failed(why) => Some(self.precondition_failed(&why)),
            Verdict::NotModified => Some(empty(StatusCode::NOT_MODIFIED)),
            Verdict::BadRequest(why) => Some(explain(StatusCode::BAD_REQUEST, &why)),
        }
    }

    /// RFC 6585 section 3: with `require_preconditions`, an unconditional write to an existing
    /// resource is refused with 428 and an explanation of how to resubmit.
    fn require_precondition(&self, exists: bool, headers: &HeaderMap) -> Option<Reply> {
        if !self.config.require_preconditions
            || !exists
            || has_write_precondition(headers)
            || self.has(Fault::RequirementNotEnforced)
        {
            return None;
        }
        if self.has(Fault::Empty428) {
            return Some(empty(StatusCode::PRECONDITION_REQUIRED));
        }
        Some(explain(
            StatusCode::PRECONDITION_REQUIRED,
            "this server requires conditional writes: GET the resource, then resend the request \
             with If-Match set to the ETag you received",
        ))
    }

    fn precondition_failed(&self, why: &str) -> Reply {
        if self.has(Fault::ConflictForPrecondition) {
            return self.conflict(why);
        }
        explain(StatusCode::PRECONDITION_FAILED, why)
    }

    fn conflict(&self, why: &str) -> Reply {
        if self.has(Fault::Empty409) {
            return empty(StatusCode::CONFLICT);
        }
        explain(StatusCode::CONFLICT, why)
    }

    fn no_content(&self) -> Reply {
        empty(StatusCode::NO_CONTENT)
    }

    fn validators(&self, reply: &mut Reply, current: &Current) {
        let mut etag = current.etag.to_string();
        if self.has(Fault::EtagPerResponse) {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos();
            etag.insert_str(etag.len() - 1, &format!("-{nanos}"));
        }
        if self.has(Fault::EtagGzipSuffix) {
            etag.insert_str(etag.len() - 1, "-gzip");
        }
        let etag = if self.has(Fault::UnquotedEtag) {
            etag.replace('"', "")
        } else {
            etag
        };
        set(reply, header::ETAG, &etag);
        let mut last_modified = current.last_modified;
        if self.has(Fault::FutureLastModified) {
            last_modified += Duration::from_secs(3600);
        }
        let mut date = fmt_http_date(last_modified);
        if self.has(Fault::Rfc850LastModified) {
            date = rfc850(&date);
        }
        set(reply, header::LAST_MODIFIED, &date);
    }
}

/// Waits `gap` between a check and its write. tokio's timer has millisecond resolution, so a
/// shorter gap yields to other tasks until it has passed; zero does not wait at all.
async fn pause(gap: Duration) {
    if gap >= Duration::from_millis(1) {
        tokio::time::sleep(gap).await;
        return;
    }
    let until = std::time::Instant::now() + gap;
    while std::time::Instant::now() < until {
        tokio::task::yield_now().await;
    }
}

/// `Tue, 14 Nov 2023 22:13:20 GMT` as the obsolete `Tuesday, 14-Nov-23 22:13:20 GMT`.
fn rfc850(imf: &str) -> String {
    let parts: Vec<&str> = imf.split_whitespace().collect();
    let [day, dd, mon, year, time, _] = parts[..] else {
        return imf.to_owned();
    };
    let full = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ]
    .into_iter()
    .find(|d| d.starts_with(day.trim_end_matches(',')))
    .unwrap_or("Monday");
    format!(
        "{full}, {dd}-{mon}-{} {time} GMT",
        &year[year.len().saturating_sub(2)..]
    )
}

fn trim_end(content: Bytes) -> Bytes {
    let kept = content.trim_ascii_end().len();
    content.slice(..kept)
}

/// The collection `path` would live in is the root or was made with MKCOL.
fn parent_exists(collections: &std::collections::BTreeSet<String>, path: &str) -> bool {
    let trimmed = path.trim_end_matches('/');
    match trimmed.rfind('/') {
        Some(0) | None => true,
        Some(at) => collections.contains(&trimmed[..=at]),
    }
}

/// A PUT must not make a resource both a document and a parent of documents.
fn hierarchy_conflict(store: &BTreeMap<String, Resource>, path: &str) -> Option<String> {
    let mut prefix = String::new();
    for segment in path.trim_start_matches('/').split('/') {
        prefix.push('/');
        prefix.push_str(segment);
        if prefix.len() < path.len() && store.contains_key(&prefix) {
            return Some(format!(
                "cannot create {path}: its parent {prefix} is a document, not a collection"
            ));
        }
    }
    let children = format!("{}/", path.trim_end_matches('/'));
    let has_child = store
        .range(children.clone()..)
        .next()
        .is_some_and(|(k, _)| k.starts_with(&children));
    has_child.then(|| format!("cannot write {path}: it is a collection that holds other resources"))
}

enum RangeRequest {
    Ignore,
    Satisfiable { first: u64, last: u64 },
    Unsatisfiable,
}

/// A single byte range (14.1.2). Anything else, multiple ranges included, is ignored: a server
/// may always ignore Range and send the full representation.
fn parse_byte_range(value: &[u8], total: u64) -> RangeRequest {
    let Some(spec) = std::str::from_utf8(value)
        .ok()
        .and_then(|v| v.trim().strip_prefix("bytes="))
    else {
        return RangeRequest::Ignore;
    };
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeRequest::Ignore;
    };
    let number = |s: &str| {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u64>().ok())
            .flatten()
    };
    let (first, last) = match (
        number(first.trim()),
        number(last.trim()),
        last.trim().is_empty(),
    ) {
        (Some(first), Some(last), _) if first <= last => (first, last.min(total.saturating_sub(1))),
        (Some(first), None, true) => (first, total.saturating_sub(1)),
        (None, Some(suffix), _) if first.trim().is_empty() => {
            if suffix == 0 {
                return RangeRequest::Unsatisfiable;
            }
            (total.saturating_sub(suffix), total.saturating_sub(1))
        }
        _ => return RangeRequest::Ignore,
    };
    if first >= total {
        return RangeRequest::Unsatisfiable;
    }
    RangeRequest::Satisfiable { first, last }
}

fn set(reply: &mut Reply, name: header::HeaderName, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        reply.headers_mut().insert(name, value);
    }
}

fn empty(status: StatusCode) -> Reply {
    let mut reply = Response::new(Full::new(Bytes::new()));
    *reply.status_mut() = status;
    reply
}

/// A response whose content explains it (409 and 428 must; the rest are kinder for it).
fn explain(status: StatusCode, why: &str) -> Reply {
    let mut reply = Response::new(Full::new(Bytes::from(format!("{why}\n"))));
    *reply.status_mut() = status;
    set(
        &mut reply,
        header::CONTENT_TYPE,
        "text/plain; charset=utf-8",
    );
    reply
}

fn explain_head(head: bool, status: StatusCode, why: &str) -> Reply {
    if head {
        empty(status)
    } else {
        explain(status, why)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(spec: &str, total: u64) -> Option<(u64, u64)> {
        match parse_byte_range(spec.as_bytes(), total) {
            RangeRequest::Satisfiable { first, last } => Some((first, last)),
            RangeRequest::Unsatisfiable => Some((u64::MAX, u64::MAX)),
            RangeRequest::Ignore => None,
        }
    }

    #[test]
    fn single_byte_ranges() {
        assert_eq!(range("bytes=0-4", 10), Some((0, 4)));
        assert_eq!(range("bytes=5-", 10), Some((5, 9)));
        assert_eq!(range("bytes=-3", 10), Some((7, 9)));
        assert_eq!(range("bytes=8-100", 10), Some((8, 9)));
        assert_eq!(range("bytes=10-", 10), Some((u64::MAX, u64::MAX)));
        assert_eq!(range("bytes=0-1,3-4", 10), None);
        assert_eq!(range("items=0-1", 10), None);
        assert_eq!(range("bytes=4-2", 10), None);
    }

    #[tokio::test]
    async fn hierarchy_conflicts_name_the_parent() {
        let origin = Origin::new(ServerConfig::default());
        for (path, status) in [
            ("/a", StatusCode::CREATED),
            ("/a/b", StatusCode::CONFLICT),
            ("/c/d", StatusCode::CREATED),
            ("/c", StatusCode::CONFLICT),
            ("/cd", StatusCode::CREATED),
        ] {
            let reply = origin
                .handle(
                    &Method::PUT,
                    path,
                    None,
                    &HeaderMap::new(),
                    Bytes::from("x"),
                )
                .await;
            assert_eq!(reply.status(), status, "{path}");
        }
    }

    #[test]
    fn rfc850_dates() {
        assert_eq!(
            rfc850("Tue, 14 Nov 2023 22:13:20 GMT"),
            "Tuesday, 14-Nov-23 22:13:20 GMT"
        );
    }
}
