//! What the reference origin's services answer with, and the validators they derive: shared by
//! the store (`origin.rs`), the example API (`api.rs`) and the payments (`payments.rs`), so none
//! of them reaches into another for it.

use std::hash::{Hash, Hasher};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{self, HeaderValue};
use hyper::{Response, StatusCode};
use serde_json::Value;

use crate::validators::EntityTag;

pub(super) type Reply = Response<Full<Bytes>>;

/// A strong ETag derived from the content: it changes exactly when the bytes change.
pub(super) fn etag_of(content: &[u8]) -> EntityTag {
    let mut hasher = std::hash::DefaultHasher::new();
    content.hash(&mut hasher);
    EntityTag::strong(format!("{:016x}", hasher.finish()))
}

/// HTTP dates have one-second resolution; storing the truncated time keeps comparisons exact.
pub(super) fn now_in_seconds() -> SystemTime {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// A JSON content with its status.
pub(super) fn json_reply(status: StatusCode, value: &Value) -> Reply {
    let mut reply = Response::new(Full::new(Bytes::from(value.to_string())));
    *reply.status_mut() = status;
    reply.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    reply
}
