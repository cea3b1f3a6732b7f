//! Passive checks: catalog rules checked on every exchange of every scenario, the user's own
//! included. Each check is a small pure function over the scenario's history; [`check`] runs
//! them all. A finding names its rule; the report looks up level and section in the catalog.

use hyper::header::{self, HeaderName};

use super::Failure;
use crate::exec::{Exchange, Received};
use crate::validators::{is_imf_fixdate, parse_http_date, EntityTag};

/// One exchange in scenario order, with what the history checks need to know about it.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    pub exchange: &'a Exchange,
    /// Sent as part of a concurrent group.
    pub concurrent: bool,
}

/// A passive check: given the history and a position in it, the violations it shows there.
type Check = fn(&[Entry], usize) -> Vec<Failure>;

/// Every passive check with its rule id (the rule says level and section).
pub const CHECKS: &[(&str, Check)] = &[
    ("etag.syntax", etag_syntax),
    ("last-modified.syntax", last_modified_syntax),
    ("last-modified.not-future", last_modified_not_future),
    ("204.content-length", no_content_length_on_204),
    ("409.explains", explains_409),
    ("428.explains", explains_428),
    ("304.no-content", no_content_on_304),
    ("304.headers", headers_on_304),
    ("304.content-length", content_length_on_304),
    ("etag.changes", etag_changes),
    ("etag.stable", etag_stable),
    ("head.same-validators", head_same_validators),
    ("put.validator-means-stored", put_validator_means_stored),
    ("race.no-5xx", race_no_5xx),
    ("race.loser-412", race_loser_412),
];

/// Runs every check on every exchange. Returns (position, failure with its rule set).
pub fn check(history: &[Entry]) -> Vec<(usize, Failure)> {
    let mut out = Vec::new();
    for at in 0..history.len() {
        for (rule, check) in CHECKS {
            for mut failure in check(history, at) {
                failure.rule = Some((*rule).to_owned());
                out.push((at, failure));
            }
        }
    }
    out
}

fn response<'a>(history: &[Entry<'a>], at: usize) -> Option<&'a Received> {
    history[at].exchange.response.as_ref().ok()
}

fn header<'r>(r: &'r Received, name: &HeaderName) -> Option<&'r [u8]> {
    r.headers.get(name).map(|v| v.as_bytes())
}

fn text(bytes: &[u8]) -> String {
    format!("{:?}", String::from_utf8_lossy(bytes))
}

fn etag_syntax(history: &[Entry], at: usize) -> Vec<Failure> {
    let Some(r) = response(history, at) else {
        return vec![];
    };
    match header(r, &header::ETAG).map(EntityTag::parse) {
        Some(Err(e)) => vec![Failure::new(
            "header ETag",
            "\"opaque\" or W/\"opaque\"",
            format!(
                "{} ({e})",
                text(header(r, &header::ETAG).unwrap_or_default())
            ),
        )],
        _ => vec![],
    }
}

fn last_modified_syntax(history: &[Entry], at: usize) -> Vec<Failure> {
    let Some(r) = response(history, at) else {
        return vec![];
    };
    match header(r, &header::LAST_MODIFIED) {
        Some(value) if !is_imf_fixdate(value) => {
            vec![Failure::new(
                "header Last-Modified",
                "an IMF-fixdate (Sun, 06 Nov 1994 08:49:37 GMT)",
                text(value),
            )]
        }
        _ => vec![],
    }
}

fn last_modified_not_future(history: &[Entry], at: usize) -> Vec<Failure> {
    let Some(r) = response(history, at) else {
        return vec![];
    };
    let (Some(lm), Some(date)) = (header(r, &header::LAST_MODIFIED), header(r, &header::DATE))
    else {
        return vec![];
    };
    match (parse_http_date(lm), parse_http_date(date)) {
        (Some(l), Some(d)) if l > d => vec![Failure::new(
            "header Last-Modified",
            format!("not later than Date {}", text(date)),
            text(lm),
        )],
        _ => vec![],
    }
}

fn no_content_length_on_204(history: &[Entry], at: usize) -> Vec<Failure> {
    let Some(r) = response(history, at) else {
        return vec![];
    };
    match header(r, &header::CONTENT_LENGTH) {
        Some(value) if r.status == 204 => {
            vec![Failure::new(
                "204 response",
                "no Content-Length",
                format!("Content-Length: {}", text(value)),
            )]
        }
        _ => vec![],
    }
}

fn explains(history: &[Entry], at: usize, status: u16) -> Vec<Failure> {
    let Some(r) = response(history, at) else {
        return vec![];
    };
    if r.status == status
        && history[at].exchange.request.method != hyper::Method::HEAD
        && r.body.trim_ascii().is_empty()
    {
        return vec![Failure::new(
            format!("{status} response"),
            "content explaining it",
            "no content",
        )];
    }
    vec![]
}

fn explains_409(history: &[Entry], at: usize) -> Vec<Failure> {
    explains(history, at, 409)
}

fn explains_428(history: &[Entry], at: usize) -> Vec<Failure> {
    explains(history, at, 428)
}

fn is_read(e: &Exchange) -> bool {
    matches!(e.request.method, hyper::Method::GET | hyper::Method::HEAD)
}

fn changes_state(entry: &Entry) -> bool {
    !is_read(entry.exchange) && entry.exchange.request.method != hyper::Method::OPTIONS
}

fn same_resource(a: &Exchange, b: &Exchange) -> bool {
    a.request.url == b.request.url
}

/// A plain 200 to a GET without Range: a full representation.
fn full_get<'a>(entry: &Entry<'a>) -> Option<&'a Received> {
    let e = entry.exchange;
    let r = e.response.as_ref().ok()?;
    (e.request.method == hyper::Method::GET
        && r.status == 200
        && !e.request.headers.contains_key(header::RANGE))
    .then_some(r)
}

/// Earlier exchanges on the same resource, nearest first, up to (not past) the last one that
/// may have changed it (any method but GET, HEAD, OPTIONS, or any racing request), which is
/// returned second.
fn earlier_reads<'h, 'a>(
    history: &'h [Entry<'a>],
    at: usize,
) -> (Vec<&'h Entry<'a>>, Option<&'h Entry<'a>>) {
    // A racing or workload exchange has no "before" in history order: its group's members are
    // recorded one after another, not in the order they happened.
    if history[at].concurrent {
        return (Vec::new(), None);
    }
    let this = history[at].exchange;
    let mut reads = Vec::new();
    for entry in history[..at]
        .iter()
        .rev()
        .filter(|e| same_resource(e.exchange, this))
    {
        if entry.concurrent || changes_state(entry) {
            return (reads, Some(entry));
        }
        reads.push(entry);
    }
    (reads, None)
}

const HEADERS_304: [HeaderName; 5] = [
    header::ETAG,
    header::VARY,
    header::CONTENT_LOCATION,
    header::CACHE_CONTROL,
    header::EXPIRES,
];

/// The 200 a 304 stands for: the nearest full GET of the resource with no write since.
fn matching_200<'a>(history: &[Entry<'a>], at: usize) -> Option<&'a Received> {
    let r = response(history, at)?;
    if r.status != 304 {
        return None;
    }
    earlier_reads(history, at)
        .0
        .into_iter()
        .find_map(|e| full_get(e))
}

/// Only responses read raw (`raw: true`) can show it: HTTP clients drop a 304's content.
fn no_content_on_304(history: &[Entry], at: usize) -> Vec<Failure> {
    match response(history, at) {
        Some(r) if r.status == 304 && !r.body.is_empty() => {
            vec![Failure::new(
                "304 response",
                "no content",
                format!("{} bytes of content", r.body.len()),
            )]
        }
        _ => vec![],
    }
}

fn headers_on_304(history: &[Entry], at: usize) -> Vec<Failure> {
    let (Some(r), Some(ok)) = (response(history, at), matching_200(history, at)) else {
        return vec![];
    };
    HEADERS_304
        .iter()
        .filter(|name| ok.headers.contains_key(*name) && !r.headers.contains_key(*name))
        .map(|name| {
            Failure::new(
                format!("304 response header {name}"),
                "present, as on the 200",
                "absent",
            )
        })
        .collect()
}

fn content_length_on_304(history: &[Entry], at: usize) -> Vec<Failure> {
    let (Some(r), Some(ok)) = (response(history, at), matching_200(history, at)) else {
        return vec![];
    };
    let Some(sent) = header(r, &header::CONTENT_LENGTH) else {
        return vec![];
    };
    let full = ok.body.len().to_string();
    if sent != full.as_bytes() {
        return vec![Failure::new(
            "304 response Content-Length",
            format!("absent or {full}, the 200's length"),
            text(sent),
        )];
    }
    vec![]
}

fn strong_etag(r: &Received) -> Option<EntityTag> {
    header(r, &header::ETAG)
        .and_then(|v| EntityTag::parse(v).ok())
        .filter(|t| !t.weak)
}

fn etag_changes(history: &[Entry], at: usize) -> Vec<Failure> {
    let Some(now) = full_get(&history[at]) else {
        return vec![];
    };
    let Some(tag) = strong_etag(now) else {
        return vec![];
    };
    let this = history[at].exchange;
    // Any earlier full GET of the resource, writes in between or not: different content under
    // the same strong tag is the violation.
    let earlier = history[..at]
        .iter()
        .rev()
        .filter(|e| same_resource(e.exchange, this))
        .find_map(|e| full_get(e));
    match earlier {
        Some(before)
            if before.body != now.body && strong_etag(before).is_some_and(|t| t == tag) =>
        {
            vec![Failure::new(
                "header ETag",
                format!("a new strong tag, not {tag}, for changed content"),
                format!("{tag} again"),
            )]
        }
        _ => vec![],
    }
}

fn etag_stable(history: &[Entry], at: usize) -> Vec<Failure> {
    let Some(now) = full_get(&history[at]) else {
        return vec![];
    };
    let Some(before) = earlier_reads(history, at)
        .0
        .into_iter()
        .find_map(|e| full_get(e))
    else {
        return vec![];
    };
    // Weak comparison: a tag that only turns from W/"x" to "x" (Apache httpd does, a second
    // after a write) has kept its identity.
    let same = |a: &[u8], b: &[u8]| match (EntityTag::parse(a), EntityTag::parse(b)) {
        (Ok(a), Ok(b)) => a.weak_eq(&b),
        _ => a == b,
    };
    match (header(before, &header::ETAG), header(now, &header::ETAG)) {
        (Some(a), Some(b)) if !same(a, b) && before.body == now.body => {
            vec![Failure::new(
                "header ETag",
                format!("{} again for unchanged content", text(a)),
                text(b),
            )]
        }
        _ => vec![],
    }
}

fn head_same_validators(history: &[Entry], at: usize) -> Vec<Failure> {
    let entry = &history[at];
    let Some(now) = entry
        .exchange
        .response
        .as_ref()
        .ok()
        .filter(|r| r.status == 200)
    else {
        return vec![];
    };
    // Compare each HEAD with the nearest GET around it, and each GET with an earlier HEAD.
    let is_head = |e: &Entry| e.exchange.request.method == hyper::Method::HEAD;
    let other = earlier_reads(history, at).0.into_iter().find(|e| {
        is_head(e) != is_head(entry) && e.exchange.response.as_ref().is_ok_and(|r| r.status == 200)
    });
    let Some(other) = other.and_then(|e| e.exchange.response.as_ref().ok()) else {
        return vec![];
    };
    let (head, get) = if is_head(entry) {
        (now, other)
    } else {
        (other, now)
    };
    [header::ETAG, header::LAST_MODIFIED]
        .iter()
        .filter(|name| header(head, name) != header(get, name))
        .map(|name| {
            let shown = |v: Option<&[u8]>| v.map_or_else(|| "absent".to_owned(), text);
            Failure::new(
                format!("HEAD header {name}"),
                format!("{}, as on GET", shown(header(get, name))),
                shown(header(head, name)),
            )
        })
        .collect()
}

fn put_validator_means_stored(history: &[Entry], at: usize) -> Vec<Failure> {
    let Some(now) = full_get(&history[at]) else {
        return vec![];
    };
    let Some(write) = earlier_reads(history, at).1 else {
        return vec![];
    };
    let put = write.exchange;
    let Some(put_response) = put.response.as_ref().ok() else {
        return vec![];
    };
    if write.concurrent
        || put.request.method != hyper::Method::PUT
        || !(200..300).contains(&put_response.status)
    {
        return vec![];
    }
    let Some(promised) = header(put_response, &header::ETAG) else {
        return vec![];
    };
    let served = header(now, &header::ETAG);
    if served != Some(promised) {
        let shown = served.map_or_else(|| "no ETag".to_owned(), text);
        return vec![Failure::new(
            "GET after PUT: ETag",
            format!("{}, the PUT's ETag", text(promised)),
            shown,
        )];
    }
    if now.body != put.request.body {
        return vec![Failure::new(
            "GET after PUT: content",
            format!(
                "the {} bytes the PUT sent (its ETag said stored unchanged)",
                put.request.body.len()
            ),
            format!("{} different bytes under the same ETag", now.body.len()),
        )];
    }
    vec![]
}

fn race_loser_412(history: &[Entry], at: usize) -> Vec<Failure> {
    let entry = &history[at];
    let conditional = [header::IF_MATCH, header::IF_NONE_MATCH]
        .iter()
        .any(|h| entry.exchange.request.headers.contains_key(h));
    match response(history, at) {
        Some(r) if entry.concurrent && conditional && r.status == 409 => vec![Failure::new(
            "racing conditional write: status",
            "412 for the loser (409 only where a profile says the target detects conflicts at commit)",
            "409",
        )],
        _ => vec![],
    }
}

fn race_no_5xx(history: &[Entry], at: usize) -> Vec<Failure> {
    let entry = &history[at];
    match response(history, at) {
        Some(r) if entry.concurrent && r.status >= 500 => {
            let index = entry
                .exchange
                .index
                .map(|i| format!(" #{i}"))
                .unwrap_or_default();
            vec![Failure::new(
                format!("racing request{index}"),
                "no 5xx under contention",
                r.status.to_string(),
            )]
        }
        _ => vec![],
    }
}

#[cfg(test)]
mod tests {
    //! Each check has a conforming and a violating recorded history, so a check that can never
    //! fire, or fires on good traffic, fails here.
    use super::*;
    use bytes::Bytes;
    use hyper::header::HeaderMap;
    use std::time::{Duration, Instant};

    struct Rec {
        method: &'static str,
        url: &'static str,
        req: &'static [(&'static str, &'static str)],
        body: &'static str,
        status: u16,
        resp: &'static [(&'static str, &'static str)],
        content: &'static str,
        concurrent: bool,
    }

    const fn rec(
        method: &'static str,
        status: u16,
        resp: &'static [(&'static str, &'static str)],
        content: &'static str,
    ) -> Rec {
        Rec {
            method,
            url: "http://t/doc",
            req: &[],
            body: "",
            status,
            resp,
            content,
            concurrent: false,
        }
    }

    fn exchange(r: &Rec) -> Exchange {
        let headers = |pairs: &[(&str, &str)]| {
            let mut map = HeaderMap::new();
            for (k, v) in pairs {
                map.append(
                    HeaderName::from_bytes(k.as_bytes()).unwrap(),
                    v.parse().unwrap(),
                );
            }
            map
        };
        let now = Instant::now();
        Exchange {
            index: r.concurrent.then_some(0),
            request: crate::exec::Outgoing {
                method: r.method.parse().unwrap(),
                url: r.url.parse().unwrap(),
                headers: headers(r.req),
                body: Bytes::from_static(r.body.as_bytes()),
                timeout: Duration::from_secs(1),
                raw: false,
            },
            response: Ok(Received {
                status: r.status,
                version: "HTTP/1.1".into(),
                headers: headers(r.resp),
                body: Bytes::from_static(r.content.as_bytes()),
            }),
            started: now,
            finished: now,
        }
    }

    fn fired(rule: &str, history: &[Rec]) -> Vec<Failure> {
        let exchanges: Vec<Exchange> = history.iter().map(exchange).collect();
        let entries: Vec<Entry> = exchanges
            .iter()
            .zip(history)
            .map(|(exchange, r)| Entry {
                exchange,
                concurrent: r.concurrent,
            })
            .collect();
        check(&entries)
            .into_iter()
            .map(|(_, f)| f)
            .filter(|f| f.rule.as_deref() == Some(rule))
            .collect()
    }

    const LM: &str = "Tue, 14 Nov 2023 22:13:20 GMT";
    const LATER: &str = "Tue, 14 Nov 2023 23:13:20 GMT";

    fn put(body: &'static str, status: u16, resp: &'static [(&'static str, &'static str)]) -> Rec {
        Rec {
            body,
            ..rec("PUT", status, resp, "")
        }
    }

    /// (rule, a conforming history, a violating history)
    fn fixtures() -> Vec<(&'static str, Vec<Rec>, Vec<Rec>)> {
        vec![
            (
                "etag.syntax",
                vec![rec("GET", 200, &[("etag", "W/\"a-1\"")], "x")],
                vec![rec("GET", 200, &[("etag", "a-1")], "x")],
            ),
            (
                "last-modified.syntax",
                vec![rec("GET", 200, &[("last-modified", LM)], "x")],
                vec![rec(
                    "GET",
                    200,
                    &[("last-modified", "Tuesday, 14-Nov-23 22:13:20 GMT")],
                    "x",
                )],
            ),
            (
                "last-modified.not-future",
                vec![rec(
                    "GET",
                    200,
                    &[("last-modified", LM), ("date", LATER)],
                    "x",
                )],
                vec![rec(
                    "GET",
                    200,
                    &[("last-modified", LATER), ("date", LM)],
                    "x",
                )],
            ),
            (
                "204.content-length",
                vec![put("v", 204, &[])],
                vec![put("v", 204, &[("content-length", "0")])],
            ),
            (
                "409.explains",
                vec![put("v", 409, &[])]
                    .into_iter()
                    .map(|r| Rec {
                        content: "parent is a document",
                        ..r
                    })
                    .collect(),
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
            (
                "etag.changes",
                vec![
                    rec("GET", 200, &[("etag", "\"a\"")], "v1"),
                    put("v2", 204, &[]),
                    rec("GET", 200, &[("etag", "\"b\"")], "v2"),
                ],
                vec![
                    rec("GET", 200, &[("etag", "\"a\"")], "v1"),
                    put("v2", 204, &[]),
                    rec("GET", 200, &[("etag", "\"a\"")], "v2"),
                ],
            ),
            (
                "etag.stable",
                vec![
                    rec("GET", 200, &[("etag", "\"a\"")], "v1"),
                    rec("GET", 200, &[("etag", "\"a\"")], "v1"),
                ],
                vec![
                    rec("GET", 200, &[("etag", "\"a\"")], "v1"),
                    rec("GET", 200, &[("etag", "\"b\"")], "v1"),
                ],
            ),
            (
                "head.same-validators",
                vec![
                    rec("HEAD", 200, &[("etag", "\"a\""), ("last-modified", LM)], ""),
                    rec(
                        "GET",
                        200,
                        &[("etag", "\"a\""), ("last-modified", LM)],
                        "v1",
                    ),
                ],
                vec![
                    rec("HEAD", 200, &[("last-modified", LM)], ""),
                    rec(
                        "GET",
                        200,
                        &[("etag", "\"a\""), ("last-modified", LM)],
                        "v1",
                    ),
                ],
            ),
            (
                "put.validator-means-stored",
                vec![
                    put("v1", 201, &[("etag", "\"a\"")]),
                    rec("GET", 200, &[("etag", "\"a\"")], "v1"),
                ],
                vec![
                    put("v1", 201, &[("etag", "\"a\"")]),
                    rec("GET", 200, &[("etag", "\"a\"")], "V1"),
                ],
            ),
            (
                "race.loser-412",
                vec![Rec {
                    concurrent: true,
                    req: &[("if-match", "\"a\"")],
                    ..put("v", 412, &[])
                }],
                vec![Rec {
                    concurrent: true,
                    req: &[("if-match", "\"a\"")],
                    ..put("v", 409, &[])
                }],
            ),
            (
                "race.no-5xx",
                vec![Rec {
                    concurrent: true,
                    ..put("v", 412, &[])
                }],
                vec![Rec {
                    concurrent: true,
                    ..put("v", 503, &[])
                }],
            ),
        ]
    }

    #[test]
    fn every_check_accepts_its_good_history_and_catches_its_bad_one() {
        let fixtures = fixtures();
        for (rule, _) in CHECKS {
            assert!(
                fixtures.iter().any(|(r, _, _)| r == rule),
                "passive check {rule} has no fixtures"
            );
            assert!(
                crate::judge::catalog::find(rule).is_some(),
                "{rule} is not in the catalog"
            );
        }
        for (rule, good, bad) in &fixtures {
            assert_eq!(
                fired(rule, good),
                vec![],
                "{rule} fired on conforming traffic"
            );
            assert!(!fired(rule, bad).is_empty(), "{rule} missed its violation");
        }
    }

    #[test]
    fn concurrent_exchanges_are_not_compared_in_recording_order() {
        // A workload client's first read comes right after the create in the record, though
        // other clients wrote in between: its ETag is not the create's, and that is no finding.
        let history = [
            put("0", 201, &[("etag", "\"t0\"")]),
            Rec {
                concurrent: true,
                ..rec("GET", 200, &[("etag", "\"t1\"")], "1")
            },
        ];
        assert_eq!(fired("put.validator-means-stored", &history), vec![]);
    }

    #[test]
    fn a_write_between_reads_is_a_barrier() {
        // Different ETags across a write are not etag.stable's business.
        let history = [
            rec("GET", 200, &[("etag", "\"a\"")], "v1"),
            put("v1", 204, &[]),
            rec("GET", 200, &[("etag", "\"b\"")], "v1"),
        ];
        assert_eq!(fired("etag.stable", &history), vec![]);
        // Nor does a 304 compare with a 200 from before a write.
        let history = [
            rec("GET", 200, &[("etag", "\"a\"")], "v1"),
            put("v2", 204, &[]),
            rec("GET", 304, &[], ""),
        ];
        assert_eq!(fired("304.headers", &history), vec![]);
    }

    #[test]
    fn findings_say_expected_and_actual() {
        let f = &fired("etag.syntax", &[rec("GET", 200, &[("etag", "a-1")], "x")])[0];
        insta::assert_snapshot!(f.message(), @r#"header ETag: expected "opaque" or W/"opaque", got "a-1" (an entity tag starts with a double quote (or W/ then a double quote))"#);
    }
}
