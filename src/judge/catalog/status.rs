//! Status codes around preconditions and conflicts: 304, 204, 409, 412, 428, PUT's 201/200/204.

use super::rules;

rules! {
    "304.no-content" Must Checkable ["RFC 9110 15.4.5", "https://www.rfc-editor.org/rfc/rfc9110#section-15.4.5"]
        "a 304 has no content";
        probe "every 304 read raw (`raw: true`, as if-none-match-get does): nothing after the header section";
        good "HTTP/1.1 304 + empty line"; bad "HTTP/1.1 304 + Content-Length: 5 + hello";
    "304.headers" Must Checkable ["RFC 9110 15.4.5", "https://www.rfc-editor.org/rfc/rfc9110#section-15.4.5"]
        "a 304 carries ETag, Vary, Content-Location, Cache-Control, Expires where the 200 would";
        probe "each 304 compared with the last 200 for the same URL in the scenario";
        good "200 ETag \"a\"; 304 ETag \"a\""; bad "200 ETag \"a\"; 304 without ETag";
    "304.content-length" MustNot Checkable ["RFC 9110 8.6", "https://www.rfc-editor.org/rfc/rfc9110#section-8.6"]
        "a Content-Length on a 304 equals the 200's length";
        probe "each 304 compared with the last 200 for the same URL in the scenario";
        good "200 Content-Length: 5; 304 Content-Length: 5 (or none)"; bad "200 Content-Length: 5; 304 Content-Length: 0";
    "204.content-length" MustNot Checkable ["RFC 9110 8.6", "https://www.rfc-editor.org/rfc/rfc9110#section-8.6"]
        "no Content-Length on a 204";
        probe "every 204";
        good "204 without Content-Length"; bad "204 Content-Length: 0";
    "412.not-performed" Must Informational ["RFC 9110 15.5.13", "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.13"]
        "a 412 means the method was not performed";
        probe "covered by if-match.no-effect, if-match.delete, ius.modified, if-none-match.star-exists";
        good "412; state unchanged"; bad "412; state changed";
    "409.explains" Should Checkable ["RFC 9110 15.5.10", "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.10"]
        "a 409 carries content that lets the user see the source of the conflict";
        probe "every 409: content not empty";
        good "409 + \"its parent /a is a document\""; bad "409 with no content";
    "428.required" Expected Checkable ["RFC 6585 3", "https://www.rfc-editor.org/rfc/rfc6585#section-3"]
        "a server that requires conditions answers an unconditional write with 428";
        probe "unconditional PUT to an existing resource, where the target declares requires-preconditions";
        good "-> 428"; bad "-> 204";
    "428.explains" Should Checkable ["RFC 6585 3", "https://www.rfc-editor.org/rfc/rfc6585#section-3"]
        "a 428 explains how to resubmit";
        probe "every 428: content not empty";
        good "428 + \"resend with If-Match\""; bad "428 with no content";
    "put.created" Must Checkable ["RFC 9110 9.3.4", "https://www.rfc-editor.org/rfc/rfc9110#section-9.3.4"]
        "a PUT that creates answers 201";
        probe "PUT to a fresh path";
        good "-> 201"; bad "-> 200";
    "put.replaced" Must Checkable ["RFC 9110 9.3.4", "https://www.rfc-editor.org/rfc/rfc9110#section-9.3.4"]
        "a PUT that replaces answers 200 or 204";
        probe "a second PUT to the same path";
        good "-> 204"; bad "-> 201";
    "put.missing-parent" Must Checkable ["RFC 4918 9.7.1", "https://www.rfc-editor.org/rfc/rfc4918#section-9.7.1"]
        "a PUT whose parent collection does not exist fails with 409 and creates nothing";
        probe "PUT to <scratch>/missing/doc where the target declares collections, then GET";
        good "-> 409; GET -> 404"; bad "-> 201 (parents made on the fly) or 404";
}

use hyper::header::{self, HeaderName};

use super::{full_get, header, other, passive, response, text, History, Passive, Scope};
use crate::record::{Check, Received};

pub(super) static CHECKS: &[Passive] = &[
    passive(
        "204.content-length",
        Scope::Target,
        no_content_length_on_204,
    ),
    passive("409.explains", Scope::Scenario, explains_409),
    passive("428.explains", Scope::Scenario, explains_428),
    passive("304.no-content", Scope::Scenario, no_content_on_304),
    passive("304.headers", Scope::Scenario, headers_on_304),
    passive("304.content-length", Scope::Scenario, content_length_on_304),
];

fn no_content_length_on_204(history: &History, at: usize) -> Vec<Check> {
    let Some(r) = response(history, at) else {
        return vec![];
    };
    match header(r, &header::CONTENT_LENGTH) {
        Some(value) if r.status == 204 => vec![other(
            "204 response",
            "no Content-Length",
            format!("Content-Length: {}", text(value)),
        )],
        _ => vec![],
    }
}

fn explains(history: &History, at: usize, status: u16) -> Vec<Check> {
    let Some(r) = response(history, at) else {
        return vec![];
    };
    if r.status == status
        && history[at].exchange.request.method != hyper::Method::HEAD
        && r.body.trim_ascii().is_empty()
    {
        return vec![other(
            format!("{status} response"),
            "content explaining it",
            "no content",
        )];
    }
    vec![]
}

fn explains_409(history: &History, at: usize) -> Vec<Check> {
    explains(history, at, 409)
}

fn explains_428(history: &History, at: usize) -> Vec<Check> {
    explains(history, at, 428)
}

const HEADERS_304: [HeaderName; 5] = [
    header::ETAG,
    header::VARY,
    header::CONTENT_LOCATION,
    header::CACHE_CONTROL,
    header::EXPIRES,
];

/// The 200 a 304 stands for: the nearest full GET of the resource with no write since.
fn matching_200<'a>(history: &History<'_, 'a>, at: usize) -> Option<&'a Received> {
    let r = response(history, at)?;
    if r.status != 304 {
        return None;
    }
    full_get(&history[history.before(at).full_get?])
}

/// Only responses read raw (`raw: true`) can show it: HTTP clients drop a 304's content.
fn no_content_on_304(history: &History, at: usize) -> Vec<Check> {
    match response(history, at) {
        Some(r) if r.status == 304 && !r.body.is_empty() => vec![other(
            "304 response",
            "no content",
            format!("{} bytes of content", r.body.len()),
        )],
        _ => vec![],
    }
}

fn headers_on_304(history: &History, at: usize) -> Vec<Check> {
    let (Some(r), Some(ok)) = (response(history, at), matching_200(history, at)) else {
        return vec![];
    };
    HEADERS_304
        .iter()
        .filter(|name| ok.headers.contains_key(*name) && !r.headers.contains_key(*name))
        .map(|name| {
            other(
                format!("304 response header {name}"),
                "present, as on the 200",
                "absent",
            )
        })
        .collect()
}

fn content_length_on_304(history: &History, at: usize) -> Vec<Check> {
    let (Some(r), Some(ok)) = (response(history, at), matching_200(history, at)) else {
        return vec![];
    };
    let Some(sent) = header(r, &header::CONTENT_LENGTH) else {
        return vec![];
    };
    let full = ok.body.len().to_string();
    if sent != full.as_bytes() {
        return vec![other(
            "304 response Content-Length",
            format!("absent or {full}, the 200's length"),
            text(sent),
        )];
    }
    vec![]
}

#[cfg(test)]
pub(super) fn proofs() -> Vec<super::testing::Proof> {
    use super::testing::{put, rec, Rec};
    vec![
        (
            "204.content-length",
            vec![put("v", 204, &[])],
            vec![put("v", 204, &[("content-length", "0")])],
        ),
        (
            "409.explains",
            vec![Rec {
                content: "parent is a document",
                ..put("v", 409, &[])
            }],
            vec![put("v", 409, &[])],
        ),
        (
            "428.explains",
            vec![Rec {
                content: "send If-Match",
                ..put("v", 428, &[])
            }],
            vec![put("v", 428, &[])],
        ),
        (
            "304.headers",
            vec![
                rec("GET", 200, &[("etag", "\"a\"")], "hello"),
                rec("GET", 304, &[("etag", "\"a\"")], ""),
            ],
            vec![
                rec(
                    "GET",
                    200,
                    &[("etag", "\"a\""), ("cache-control", "max-age=60")],
                    "hello",
                ),
                rec("GET", 304, &[("etag", "\"a\"")], ""),
            ],
        ),
        (
            "304.no-content",
            vec![rec("GET", 200, &[], "hello"), rec("GET", 304, &[], "")],
            vec![rec("GET", 200, &[], "hello"), rec("GET", 304, &[], "hello")],
        ),
        (
            "304.content-length",
            vec![
                rec("GET", 200, &[], "hello"),
                rec("GET", 304, &[("content-length", "5")], ""),
            ],
            vec![
                rec("GET", 200, &[], "hello"),
                rec("GET", 304, &[("content-length", "0")], ""),
            ],
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::super::testing::{fired, put, rec};

    #[test]
    fn a_304_is_not_compared_with_a_200_from_before_a_write() {
        let history = [
            rec("GET", 200, &[("etag", "\"a\"")], "v1"),
            put("v2", 204, &[]),
            rec("GET", 304, &[], ""),
        ];
        assert_eq!(fired("304.headers", &history), vec![]);
    }
}
