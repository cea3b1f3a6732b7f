//! A small JSON collection API under `/api/items`: the application-level conflicts API authors
//! meet most, as worked examples for scenarios.
//!
//! - `POST /api/items` creates `{"name": ...}`; `name` is unique: a duplicate is 409 with an
//!   RFC 9457 problem naming the conflict.
//! - `PUT /api/items/{id}` replaces an item. The body's `version` must be the current one
//!   (optimistic locking in the body, as CouchDB's `_rev`): behind is 409 with the current
//!   version. If-Match is honoured too: a stale tag is 412, not 409, and a matching one stands
//!   for the version. With neither, 428.
//! - `POST /api/items/{id}/lock` takes a lock (201, `{"token": ...}`, `Lock-Token` header);
//!   writes without `Lock-Token: <token>` get 423 Locked (RFC 4918 11.3) until
//!   `DELETE /api/items/{id}/lock` with the token, or 30 s pass.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Response, StatusCode};
use serde_json::{json, Map, Value};

use super::conditions::{evaluate, Current, Verdict};
use super::faults::{Fault, Faults};
use super::reply::{etag_of, json_reply, now_in_seconds, Reply};
use crate::validators::fmt_http_date;

pub const PREFIX: &str = "/api/items";

const LOCK_LIFETIME: Duration = Duration::from_secs(30);

/// How long the `duplicate-create-race` fault waits between its uniqueness check and its insert.
const CHECK_THEN_INSERT_GAP: Duration = Duration::from_millis(1);

struct Item {
    fields: Map<String, Value>,
    version: u64,
    current: Current,
    lock: Option<(String, Instant)>,
}

#[derive(Default)]
struct Items {
    next_id: u64,
    by_id: BTreeMap<u64, Item>,
}

impl Items {
    fn named(&self, name: &str) -> Option<u64> {
        self.by_id
            .iter()
            .find(|(_, item)| item.fields.get("name").and_then(Value::as_str) == Some(name))
            .map(|(id, _)| *id)
    }
}

pub(super) struct Api {
    faults: Faults,
    items: Mutex<Items>,
}

enum Route {
    Collection,
    Item(u64),
    Lock(u64),
}

impl Api {
    pub(super) fn new(faults: Faults) -> Self {
        Api {
            faults,
            items: Mutex::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Items> {
        self.items.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) async fn handle(
        &self,
        method: &Method,
        path: &str,
        headers: &HeaderMap,
        content: Bytes,
    ) -> Reply {
        let Some(route) = route(path) else {
            return self.problem(
                StatusCode::NOT_FOUND,
                "Not found",
                "no such item",
                json!({}),
            );
        };
        match (route, method.clone()) {
            (Route::Collection, Method::GET) => self.list(),
            (Route::Collection, Method::POST) => self.create(&content).await,
            (Route::Item(id), Method::GET | Method::HEAD) => {
                self.read(id, headers, method == Method::HEAD)
            }
            (Route::Item(id), Method::PUT) => self.replace(id, headers, &content),
            (Route::Item(id), Method::DELETE) => self.delete(id, headers),
            (Route::Lock(id), Method::POST) => self.take_lock(id),
            (Route::Lock(id), Method::DELETE) => self.release_lock(id, headers),
            _ => {
                let mut reply = self.problem(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "Method not allowed",
                    "see the API's description",
                    json!({}),
                );
                reply.headers_mut().insert(
                    header::ALLOW,
                    HeaderValue::from_static("GET, POST, PUT, DELETE"),
                );
                reply
            }
        }
    }

    fn list(&self) -> Reply {
        let items = self.lock();
        let all: Vec<Value> = items
            .by_id
            .iter()
            .map(|(id, item)| representation(*id, item))
            .collect();
        json_reply(StatusCode::OK, &Value::Array(all))
    }

    async fn create(&self, content: &[u8]) -> Reply {
        let fields = match parse_object(content) {
            Ok(fields) => fields,
            Err(why) => {
                return self.problem(StatusCode::BAD_REQUEST, "Invalid item", &why, json!({}))
            }
        };
        let Some(name) = fields
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_owned)
        else {
            return self.problem(
                StatusCode::BAD_REQUEST,
                "Invalid item",
                "an item needs a string `name`",
                json!({}),
            );
        };
        if self.faults.has(Fault::DuplicateCreateRace) {
            // The bug: check, let go of the lock, insert later.
            let taken = self.lock().named(&name);
            if let Some(id) = taken {
                return self.duplicate(&name, id);
            }
            tokio::time::sleep(CHECK_THEN_INSERT_GAP).await;
            return self.insert(&mut self.lock(), fields);
        }
        let mut items = self.lock();
        if let Some(id) = items
            .named(&name)
            .filter(|_| !self.faults.has(Fault::DuplicateNamesAllowed))
        {
            return self.duplicate(&name, id);
        }
        self.insert(&mut items, fields)
    }

    fn insert(&self, items: &mut Items, mut fields: Map<String, Value>) -> Reply {
        items.next_id += 1;
        let id = items.next_id;
        fields.remove("id");
        fields.remove("version");
        let item = new_item(fields, 1);
        let mut reply = json_reply(StatusCode::CREATED, &representation(id, &item));
        set_validators(&mut reply, &item.current);
        if let Ok(location) = HeaderValue::from_str(&format!("{PREFIX}/{id}")) {
            reply.headers_mut().insert(header::LOCATION, location);
        }
        items.by_id.insert(id, item);
        reply
    }

    fn duplicate(&self, name: &str, id: u64) -> Reply {
        self.problem(
            StatusCode::CONFLICT,
            "Duplicate name",
            &format!("an item named {name:?} already exists: {PREFIX}/{id}"),
            json!({ "field": "name", "conflicting_item": format!("{PREFIX}/{id}") }),
        )
    }

    fn read(&self, id: u64, headers: &HeaderMap, head: bool) -> Reply {
        let items = self.lock();
        let Some(item) = items.by_id.get(&id) else {
            return self.missing(id);
        };
        match evaluate(Some(&item.current), headers, true, &self.faults) {
            Verdict::Proceed => {}
            Verdict::NotModified => {
                let mut reply = Response::new(Full::new(Bytes::new()));
                *reply.status_mut() = StatusCode::NOT_MODIFIED;
                set_validators(&mut reply, &item.current);
                return reply;
            }
            Verdict::Failed(why) => {
                return self.problem(
                    StatusCode::PRECONDITION_FAILED,
                    "Precondition failed",
                    &why,
                    json!({}),
                )
            }
            Verdict::BadRequest(why) => {
                return self.problem(
                    StatusCode::BAD_REQUEST,
                    "Bad conditional header",
                    &why,
                    json!({}),
                )
            }
        }
        let mut reply = json_reply(StatusCode::OK, &representation(id, item));
        if head {
            *reply.body_mut() = Full::new(Bytes::new());
        }
        set_validators(&mut reply, &item.current);
        reply
    }

    fn replace(&self, id: u64, headers: &HeaderMap, content: &[u8]) -> Reply {
        let mut items = self.lock();
        let Some(item) = items.by_id.get(&id) else {
            return self.missing(id);
        };
        if let Some(reply) = self.locked(id, item, headers) {
            return reply;
        }
        if let Some(reply) = self.preconditions(item, headers) {
            return reply;
        }
        let mut fields = match parse_object(content) {
            Ok(fields) => fields,
            Err(why) => {
                return self.problem(StatusCode::BAD_REQUEST, "Invalid item", &why, json!({}))
            }
        };
        // A precondition that held (If-Match, If-Unmodified-Since, evaluated above) stands for
        // the current version, as CouchDB lets If-Match stand for `_rev`; with none, the write
        // would be blind (RFC 6585 3: 428).
        let sent_version = match fields.get("version").and_then(Value::as_u64) {
            Some(version) => version,
            None if headers.contains_key(header::IF_MATCH)
                || headers.contains_key(header::IF_UNMODIFIED_SINCE) =>
            {
                item.version
            }
            None => return self.problem(
                StatusCode::PRECONDITION_REQUIRED,
                "Version required",
                "a replacement needs the version it is based on: a `version` member or If-Match",
                json!({}),
            ),
        };
        let expected = match self.faults.has(Fault::VersionWantsNext) {
            true => item.version + 1,
            false => item.version,
        };
        if sent_version != expected && !self.faults.has(Fault::VersionNotChecked) {
            return self.problem(
                StatusCode::CONFLICT,
                "Version conflict",
                &format!(
                    "the item is at version {}, the update was based on version {sent_version}",
                    item.version
                ),
                json!({ "current_version": item.version, "your_version": sent_version }),
            );
        }
        if let Some(name) = fields.get("name").and_then(Value::as_str) {
            if let Some(other) = items.named(name).filter(|other| *other != id) {
                return self.duplicate(name, other);
            }
        }
        let (version, lock) = (item.version + 1, item.lock.clone());
        fields.remove("id");
        fields.remove("version");
        // A write by the lock holder keeps the lock.
        let updated = Item {
            lock,
            ..new_item(fields, version)
        };
        // No validators: the stored representation (with `id` and the new `version`) is not
        // the content received, and RFC 9110 9.3.4 forbids them then.
        let reply = json_reply(StatusCode::OK, &representation(id, &updated));
        items.by_id.insert(id, updated);
        reply
    }

    fn delete(&self, id: u64, headers: &HeaderMap) -> Reply {
        let mut items = self.lock();
        let Some(item) = items.by_id.get(&id) else {
            return self.missing(id);
        };
        if let Some(reply) = self
            .locked(id, item, headers)
            .or_else(|| self.preconditions(item, headers))
        {
            return reply;
        }
        items.by_id.remove(&id);
        let mut reply = Response::new(Full::new(Bytes::new()));
        *reply.status_mut() = StatusCode::NO_CONTENT;
        reply
    }

    fn take_lock(&self, id: u64) -> Reply {
        let mut items = self.lock();
        let Some(item) = items.by_id.get_mut(&id) else {
            return self.missing(id);
        };
        if item
            .lock
            .as_ref()
            .is_some_and(|(_, since)| since.elapsed() < LOCK_LIFETIME)
        {
            return self.problem(
                StatusCode::LOCKED,
                "Locked",
                "the item is already locked",
                json!({}),
            );
        }
        let token = format!("urn:uuid:{}", uuid::Uuid::new_v4());
        item.lock = Some((token.clone(), Instant::now()));
        let mut reply = json_reply(
            StatusCode::CREATED,
            &json!({ "token": token, "expires_in_seconds": LOCK_LIFETIME.as_secs() }),
        );
        if let Ok(value) = HeaderValue::from_str(&format!("<{token}>")) {
            reply.headers_mut().insert("lock-token", value);
        }
        reply
    }

    fn release_lock(&self, id: u64, headers: &HeaderMap) -> Reply {
        let mut items = self.lock();
        let Some(item) = items.by_id.get_mut(&id) else {
            return self.missing(id);
        };
        match &item.lock {
            Some((token, _)) if sent_token(headers).as_deref() == Some(token.as_str()) => {
                item.lock = None;
                let mut reply = Response::new(Full::new(Bytes::new()));
                *reply.status_mut() = StatusCode::NO_CONTENT;
                reply
            }
            // RFC 4918 9.11.1: an UNLOCK with a token that is not the lock's is 409.
            _ => self.problem(
                StatusCode::CONFLICT,
                "Not the lock's token",
                "send Lock-Token: <token> with the token the lock returned",
                json!({}),
            ),
        }
    }

    /// 423 unless the item is unlocked, its lock expired, or the request carries the token.
    fn locked(&self, id: u64, item: &Item, headers: &HeaderMap) -> Option<Reply> {
        let (token, since) = item.lock.as_ref()?;
        if since.elapsed() >= LOCK_LIFETIME
            || self.faults.has(Fault::IgnoreLock)
            || sent_token(headers).as_deref() == Some(token.as_str())
        {
            return None;
        }
        Some(self.problem(StatusCode::LOCKED,
            "Locked",
            &format!("{PREFIX}/{id} is locked: send Lock-Token: <token> with the lock's token, or wait for it to be released"), json!({ "lock": format!("{PREFIX}/{id}/lock") }),
        ))
    }

    fn preconditions(&self, item: &Item, headers: &HeaderMap) -> Option<Reply> {
        let why = match evaluate(Some(&item.current), headers, false, &self.faults) {
            Verdict::Proceed => return None,
            Verdict::BadRequest(why) => {
                return Some(self.problem(
                    StatusCode::BAD_REQUEST,
                    "Bad conditional header",
                    &why,
                    json!({}),
                ))
            }
            Verdict::Failed(why) => why,
            Verdict::NotModified => "not modified".to_owned(),
        };
        // The fault: the popular-guide mistake of answering a failed precondition with 409.
        let status = if self.faults.has(Fault::ApiConflictForPrecondition) {
            StatusCode::CONFLICT
        } else {
            StatusCode::PRECONDITION_FAILED
        };
        Some(self.problem(status, "Precondition failed", &why, json!({})))
    }

    /// An RFC 9457 problem: `type`, `title`, `status`, `detail`, plus extension members.
    fn problem(&self, status: StatusCode, title: &str, detail: &str, extra: Value) -> Reply {
        if status == StatusCode::CONFLICT && self.faults.has(Fault::ConflictWithoutProblem) {
            let mut reply = Response::new(Full::new(Bytes::new()));
            *reply.status_mut() = status;
            return reply;
        }
        let slug: String = title
            .to_lowercase()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join("-");
        let mut body = json!({ "type": format!("/problems/{slug}"), "title": title, "status": status.as_u16(), "detail": detail });
        if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
            body.extend(extra);
        }
        let mut reply = Response::new(Full::new(Bytes::from(body.to_string())));
        *reply.status_mut() = status;
        reply.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        reply
    }

    fn missing(&self, id: u64) -> Reply {
        self.problem(
            StatusCode::NOT_FOUND,
            "Not found",
            &format!("there is no item {id}"),
            json!({}),
        )
    }
}

fn route(path: &str) -> Option<Route> {
    let rest = path.strip_prefix(PREFIX)?;
    let parts: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    match parts.as_slice() {
        [] => Some(Route::Collection),
        [id] => id.parse().ok().map(Route::Item),
        [id, "lock"] => id.parse().ok().map(Route::Lock),
        _ => None,
    }
}

fn sent_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("lock-token")?.to_str().ok()?.trim();
    Some(
        value
            .trim_start_matches('<')
            .trim_end_matches('>')
            .to_owned(),
    )
}

fn parse_object(content: &[u8]) -> Result<Map<String, Value>, String> {
    match serde_json::from_slice(content) {
        Ok(Value::Object(fields)) => Ok(fields),
        Ok(_) => Err("the content must be a JSON object".into()),
        Err(e) => Err(format!("the content is not JSON: {e}")),
    }
}

fn new_item(fields: Map<String, Value>, version: u64) -> Item {
    let body = serde_json::to_vec(&fields).unwrap_or_default();
    let mut tagged = body;
    tagged.extend_from_slice(format!("#{version}").as_bytes());
    Item {
        fields,
        version,
        current: Current {
            etag: etag_of(&tagged),
            last_modified: now_in_seconds(),
        },
        lock: None,
    }
}

fn representation(id: u64, item: &Item) -> Value {
    let mut out = Map::new();
    out.insert("id".into(), json!(id));
    out.insert("version".into(), json!(item.version));
    out.extend(item.fields.clone());
    Value::Object(out)
}

fn set_validators(reply: &mut Reply, current: &Current) {
    if let Ok(value) = HeaderValue::from_str(&current.etag.to_string()) {
        reply.headers_mut().insert(header::ETAG, value);
    }
    if let Ok(value) = HeaderValue::from_str(&fmt_http_date(current.last_modified)) {
        reply.headers_mut().insert(header::LAST_MODIFIED, value);
    }
}
