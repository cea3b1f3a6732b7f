//! Validators (RFC 9110 8.8): ETag and Last-Modified syntax and meaning, HEAD carrying them,
//! a PUT's ETag promising what is stored.

use super::rules;

rules! {
    "etag.syntax" Must Checkable ["RFC 9110 8.8.3", "https://www.rfc-editor.org/rfc/rfc9110#section-8.8.3"]
        "ETag is \"opaque\" or W/\"opaque\"; opaque characters are %x21, %x23-7E or obs-text";
        probe "every response carrying ETag";
        good "ETag: \"v1-a8f\""; bad "ETag: v1-a8f (no quotes)";
    "etag.changes" Must Checkable ["RFC 9110 8.8.1, 8.8.3", "https://www.rfc-editor.org/rfc/rfc9110#section-8.8.3"]
        "a strong ETag changes when the representation data changes";
        probe "two 200 GETs of one URL with different content must not share a strong ETag; specs PUT new content and compare";
        good "GET: \"a\" + v1; PUT v2; GET: \"b\" + v2"; bad "GET: \"a\" + v1; PUT v2; GET: \"a\" + v2";
    "etag.stable" Should Checkable ["RFC 9110 8.8.1", "https://www.rfc-editor.org/rfc/rfc9110#section-8.8.1"]
        "an unchanged representation keeps its ETag";
        probe "two GETs of one URL with no write between and the same content give the same ETag";
        good "GET: \"a\"; GET: \"a\""; bad "GET: \"a\"; GET: \"b\" (same content)";
    "last-modified.syntax" Must Checkable ["RFC 9110 8.8.2, 5.6.7", "https://www.rfc-editor.org/rfc/rfc9110#section-5.6.7"]
        "Last-Modified is an IMF-fixdate";
        probe "every response carrying Last-Modified";
        good "Last-Modified: Tue, 14 Nov 2023 22:13:20 GMT"; bad "Last-Modified: 2023-11-14T22:13:20Z";
    "last-modified.not-future" Must Checkable ["RFC 9110 8.8.2.1", "https://www.rfc-editor.org/rfc/rfc9110#section-8.8.2.1"]
        "Last-Modified is not later than the response's Date";
        probe "every response carrying both Last-Modified and Date";
        good "Date: 12:00:05, Last-Modified: 12:00:00"; bad "Date: 12:00:05, Last-Modified: 13:00:00";
    "head.same-validators" Should Checkable ["RFC 9110 9.3.2", "https://www.rfc-editor.org/rfc/rfc9110#section-9.3.2"]
        "HEAD carries the same ETag and Last-Modified as GET";
        probe "a HEAD and a GET of one URL with no write between";
        good "HEAD: ETag \"a\"; GET: ETag \"a\""; bad "HEAD: no ETag; GET: ETag \"a\"";
    "put.validator-means-stored" MustNot Checkable ["RFC 9110 9.3.4", "https://www.rfc-editor.org/rfc/rfc9110#section-9.3.4"]
        "a 2xx PUT carries ETag only if the content was stored unchanged";
        probe "a PUT answered with ETag E, then a GET of the same URL with no write between: it serves E and the bytes sent";
        good "PUT \"v1\" -> 201 ETag \"a\"; GET -> ETag \"a\", \"v1\""; bad "PUT \"v1\" -> 201 ETag \"a\"; GET -> ETag \"a\", \"V1\" (normalised)";
}

use hyper::header;

use super::{full_get, header, other, passive, response, text, Entry, History, Passive, Scope};
use crate::record::{Check, Received};
use crate::validators::{is_imf_fixdate, EntityTag};

pub(super) static CHECKS: &[Passive] = &[
    passive("etag.syntax", Scope::Target, etag_syntax),
    passive("last-modified.syntax", Scope::Target, last_modified_syntax),
    passive(
        "last-modified.not-future",
        Scope::Target,
        last_modified_not_future,
    ),
    passive("etag.changes", Scope::Scenario, etag_changes),
    passive("etag.stable", Scope::Scenario, etag_stable),
    passive(
        "head.same-validators",
        Scope::Scenario,
        head_same_validators,
    ),
    passive(
        "put.validator-means-stored",
        Scope::Scenario,
        put_validator_means_stored,
    ),
];

fn etag_syntax(history: &History, at: usize) -> Vec<Check> {
    let Some(r) = response(history, at) else {
        return vec![];
    };
    match header(r, &header::ETAG).map(EntityTag::parse) {
        Some(Err(e)) => vec![other(
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

fn last_modified_syntax(history: &History, at: usize) -> Vec<Check> {
    let Some(r) = response(history, at) else {
        return vec![];
    };
    match header(r, &header::LAST_MODIFIED) {
        Some(value) if !is_imf_fixdate(value) => vec![other(
            "header Last-Modified",
            "an IMF-fixdate (Sun, 06 Nov 1994 08:49:37 GMT)",
            text(value),
        )],
        _ => vec![],
    }
}

fn last_modified_not_future(history: &History, at: usize) -> Vec<Check> {
    let Some(r) = response(history, at) else {
        return vec![];
    };
    let (Some(lm), Some(date)) = (header(r, &header::LAST_MODIFIED), header(r, &header::DATE))
    else {
        return vec![];
    };
    match crate::validators::date_later(lm, date) {
        Some(true) => vec![other(
            "header Last-Modified",
            format!("not later than Date {}", text(date)),
            text(lm),
        )],
        _ => vec![],
    }
}

pub(super) fn strong_etag(r: &Received) -> Option<EntityTag> {
    header(r, &header::ETAG)
        .and_then(|v| EntityTag::parse(v).ok())
        .filter(|t| !t.weak)
}

fn etag_changes(history: &History, at: usize) -> Vec<Check> {
    let Some(now) = full_get(&history[at]) else {
        return vec![];
    };
    let Some(tag) = strong_etag(now) else {
        return vec![];
    };
    // Any earlier full GET of the resource, writes in between or not: different content under
    // the same strong tag is the violation.
    let earlier = history
        .before(at)
        .any_full_get
        .and_then(|i| full_get(&history[i]));
    match earlier {
        Some(before)
            if before.body != now.body && strong_etag(before).is_some_and(|t| t == tag) =>
        {
            vec![other(
                "header ETag",
                format!("a new strong tag, not {tag}, for changed content"),
                format!("{tag} again"),
            )]
        }
        _ => vec![],
    }
}

fn etag_stable(history: &History, at: usize) -> Vec<Check> {
    let Some(now) = full_get(&history[at]) else {
        return vec![];
    };
    let Some(before) = history
        .before(at)
        .full_get
        .and_then(|i| full_get(&history[i]))
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
        (Some(a), Some(b)) if !same(a, b) && before.body == now.body => vec![other(
            "header ETag",
            format!("{} again for unchanged content", text(a)),
            text(b),
        )],
        _ => vec![],
    }
}

/// HEAD against the nearest GET of the same state (reads only: a PUT's 200 is not a GET).
fn head_same_validators(history: &History, at: usize) -> Vec<Check> {
    let entry = &history[at];
    let is_head = |e: &Entry| e.exchange.request.method == hyper::Method::HEAD;
    let is_get = |e: &Entry| {
        e.exchange.request.method == hyper::Method::GET
            && !e.exchange.request.headers.contains_key(header::RANGE)
    };
    let ok = |e: &Entry| e.exchange.response.as_ref().is_ok_and(|r| r.status == 200);
    // The status first: a workload's thousandth 304 looks no further.
    if !ok(entry) || !(is_head(entry) || is_get(entry)) {
        return vec![];
    }
    let Some(now) = response(history, at) else {
        return vec![];
    };
    // Compare each HEAD with the nearest GET before it, and each GET with an earlier HEAD.
    let before = history.before(at);
    let other_read = match is_head(entry) {
        true => before.full_get,
        false => before.head,
    };
    let other_read = other_read.map(|i| &history[i]).filter(|e| ok(e));
    let Some(other_read) = other_read.and_then(|e| e.exchange.response.as_ref().ok()) else {
        return vec![];
    };
    let (head, get) = if is_head(entry) {
        (now, other_read)
    } else {
        (other_read, now)
    };
    [header::ETAG, header::LAST_MODIFIED]
        .iter()
        .filter(|name| header(head, name) != header(get, name))
        .map(|name| {
            let shown = |v: Option<&[u8]>| v.map_or_else(|| "absent".to_owned(), text);
            other(
                format!("HEAD header {name}"),
                format!("{}, as on GET", shown(header(get, name))),
                shown(header(head, name)),
            )
        })
        .collect()
}

fn put_validator_means_stored(history: &History, at: usize) -> Vec<Check> {
    let Some(now) = full_get(&history[at]) else {
        return vec![];
    };
    let before = history.before(at);
    let Some(write) = before.change.map(|i| &history[i]) else {
        return vec![];
    };
    // The first full GET after the PUT shows what its validator promised; later ones would
    // only repeat the finding.
    if before.full_get.is_some() || history[at].concurrent {
        return vec![];
    }
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
    // A content-coded GET (gzip through a proxy) is another representation, with a validator
    // of its own: it cannot show what the PUT's ETag promised about the stored one.
    if header(now, &header::CONTENT_ENCODING).is_some() {
        return vec![];
    }
    // A GET without an ETag says nothing about what the PUT's ETag promised.
    let Some(served) = header(now, &header::ETAG) else {
        return vec![];
    };
    if served != promised {
        return vec![other(
            "GET after PUT: ETag",
            format!("{}, the PUT's ETag", text(promised)),
            text(served),
        )];
    }
    if now.body != put.request.body {
        return vec![other(
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

#[cfg(test)]
pub(super) fn proofs() -> Vec<super::testing::Proof> {
    use super::testing::{put, rec};
    const LM: &str = "Tue, 14 Nov 2023 22:13:20 GMT";
    const LATER: &str = "Tue, 14 Nov 2023 23:13:20 GMT";
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
                // A replacing PUT answered 200 with a body is not a GET.
                put("v1", 200, &[("etag", "\"a\"")]),
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
                // A GET that sends no ETag cannot show the promise broken (lighttpd's PUT
                // sends one, its GET none).
                put("v2", 201, &[("etag", "\"b\"")]),
                rec("GET", 200, &[], "v2"),
                // Nor can a gzip-coded GET through a proxy, with its weakened tag.
                put("v3", 201, &[("etag", "\"c\"")]),
                rec(
                    "GET",
                    200,
                    &[("etag", "W/\"c\""), ("content-encoding", "gzip")],
                    "v3",
                ),
            ],
            vec![
                put("v1", 201, &[("etag", "\"a\"")]),
                rec("GET", 200, &[("etag", "\"a\"")], "V1"),
            ],
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::super::testing::{fired, put, rec, Rec};

    #[test]
    fn a_write_between_reads_is_a_barrier() {
        // Different ETags across a write are not etag.stable's business.
        let history = [
            rec("GET", 200, &[("etag", "\"a\"")], "v1"),
            put("v1", 204, &[]),
            rec("GET", 200, &[("etag", "\"b\"")], "v1"),
        ];
        assert_eq!(fired("etag.stable", &history), vec![]);
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
    fn a_replacing_put_answered_200_is_not_compared_with_head() {
        // A correct origin was accused this way: PUT -> 200 + ETag + body, read as a GET.
        let history = [
            rec("HEAD", 200, &[("etag", "\"a\"")], ""),
            put("v2", 200, &[("etag", "\"b\"")]),
        ];
        assert_eq!(fired("head.same-validators", &history), vec![]);
    }

    #[test]
    fn findings_say_expected_and_actual() {
        let c = &fired("etag.syntax", &[rec("GET", 200, &[("etag", "a-1")], "x")])[0];
        insta::assert_snapshot!(format!("{}: expected {}, got {}", c.subject(), c.expected(), c.actual()), @r#"header ETag: expected "opaque" or W/"opaque", got "a-1" (an entity tag starts with a double quote (or W/ then a double quote))"#);
    }
}
