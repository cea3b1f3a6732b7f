//! What a cache in front of the origin must do (RFC 9111), judged only on a target a profile
//! calls a cache (`cache: true`).

use super::rules;

rules! {
    "cache.invalidates" Must Checkable ["RFC 9111 4.4", "https://www.rfc-editor.org/rfc/rfc9111#section-4.4"]
        "a cache invalidates the target URI when an unsafe request to it gets a non-error status: a GET after a write is not answered from a copy stored before it";
        probe "every GET after a PUT, POST or DELETE to its URL, on a target a profile calls a cache";
        good "PUT -> 204 ETag \"v2\"; GET -> \"v2\""; bad "PUT -> 204 ETag \"v2\"; GET -> the stored \"v1\" with ETag \"v1\"";
}

use hyper::header::ETAG;
use hyper::Method;

use super::{header, other, History};
use crate::record::{Check, Exchange, Received};
use crate::validators::EntityTag;

/// Rules the history check below files findings under.
pub(crate) const HISTORY_RULES: &[&str] = &["cache.invalidates"];

/// A read after a write to its URL that may be a copy the cache stored before the write.
pub(crate) struct StoredCopy {
    /// The read's position in the history.
    pub read: usize,
    /// The write it came after.
    pub write: usize,
    /// Shown, not just possible: the write's answer named a new strong ETag (or the PUT sent
    /// other content) and the read has the one an earlier read had.
    pub shown: bool,
}

/// Every sequential GET answered 200 after a write that got a non-error status, whose answer
/// is an earlier read's of its URL from before that write: the same ETag and content. Through a cache, what the origin did is then not seen (a
/// write to another URL, a keyed POST beside a count, need not invalidate it, RFC 9111 4.4).
/// Where the write was to the same URL and its own answer says the state changed, it is shown
/// that the cache kept its copy.
pub(crate) fn stored_copies(history: &History) -> Vec<StoredCopy> {
    let mut out = Vec::new();
    // The latest write per URL, and the latest of all.
    let mut last_write: std::collections::HashMap<&str, usize> = Default::default();
    let mut any_write = None;
    for (at, entry) in history.iter().enumerate() {
        let x = entry.exchange;
        let url = x.request.url.as_str();
        if !crate::scenario::method_reads(x.request.method.as_str()) {
            if x.status().is_some_and(|s| s < 400) {
                last_write.insert(url, at);
                any_write = Some(at);
            }
            continue;
        }
        let same_url = last_write.get(url).copied();
        let (false, Some(read), Some(write)) =
            (entry.concurrent, served(x), same_url.or(any_write))
        else {
            continue;
        };
        let before = (0..write)
            .filter(|&i| history[i].exchange.request.url.as_str() == url)
            .filter_map(|i| served(history[i].exchange))
            .find(|earlier| same_copy(earlier, read));
        let Some(earlier) = before else { continue };
        let w = history[write].exchange;
        let new_tag = (w.response.as_ref().ok())
            .and_then(|r| header(r, &ETAG))
            .and_then(|v| EntityTag::parse(v).ok())
            .filter(|t| !t.weak)
            .is_some_and(|t| Some(t.opaque) != tag_of(read));
        let other_content = w.request.method == Method::PUT
            && w.request.body != read.body
            && tag_of(earlier).is_some();
        out.push(StoredCopy {
            read: at,
            write,
            shown: same_url.is_some() && (new_tag || other_content),
        });
    }
    out
}

/// Findings: each read shown to be a copy stored before a write, the first with a count.
pub(crate) fn history(history: &History) -> Vec<(&'static str, Vec<usize>, Check)> {
    let shown: Vec<StoredCopy> = (stored_copies(history).into_iter())
        .filter(|c| c.shown)
        .collect();
    let Some(first) = shown.first() else {
        return vec![];
    };
    let w = history[first.write].exchange;
    let more = match shown.len() {
        1 => String::new(),
        n => format!(" ({} more reads like it)", n - 1),
    };
    let check = other(
        "GET after a write to its URL",
        format!(
            "the state after the {} ({}), the stored copy invalidated",
            w.request.method,
            w.status().unwrap_or_default()
        ),
        format!("the copy stored before it{more}"),
    );
    vec![("cache.invalidates", vec![first.read, first.write], check)]
}

fn served(x: &Exchange) -> Option<&Received> {
    let r = x.response.as_ref().ok().filter(|r| r.status == 200)?;
    (x.request.method == Method::GET).then_some(r)
}

fn tag_of(r: &Received) -> Option<Vec<u8>> {
    Some(EntityTag::parse(header(r, &ETAG)?).ok()?.opaque)
}

/// Two answers that may be one stored response: the same ETag and content, or with no ETag
/// the same content (a cache sends its own Date on a hit: nginx does).
fn same_copy(a: &Received, b: &Received) -> bool {
    tag_of(a) == tag_of(b) && a.body == b.body
}

#[cfg(test)]
pub(super) fn proofs() -> Vec<super::testing::Proof> {
    use super::testing::{put, rec};
    vec![(
        "cache.invalidates",
        vec![
            put("v1", 201, &[("etag", "\"v1\"")]),
            rec("GET", 200, &[("etag", "\"v1\"")], "v1"),
            put("v2", 204, &[("etag", "\"v2\"")]),
            rec("GET", 200, &[("etag", "\"v2\"")], "v2"),
        ],
        vec![
            put("v1", 201, &[("etag", "\"v1\"")]),
            rec("GET", 200, &[("etag", "\"v1\"")], "v1"),
            put("v2", 204, &[("etag", "\"v2\"")]),
            rec("GET", 200, &[("etag", "\"v1\"")], "v1"),
        ],
    )]
}

#[cfg(test)]
mod tests {
    use super::super::testing::{put, rec};
    use super::super::{Entry, History};
    use super::*;

    fn copies(recs: &[super::super::testing::Rec]) -> Vec<(usize, bool)> {
        let exchanges: Vec<Exchange> = recs.iter().map(super::super::testing::exchange).collect();
        let entries: Vec<Entry> = (exchanges.iter().enumerate())
            .map(|(i, exchange)| Entry {
                exchange,
                concurrent: false,
                at: crate::record::At {
                    step: i,
                    exchange: 0,
                },
                judged: false,
                partial: false,
            })
            .collect();
        let history = History::new(&entries);
        (stored_copies(&history).iter())
            .map(|c| (c.read, c.shown))
            .collect()
    }

    #[test]
    fn a_read_like_one_before_the_write_is_a_possible_copy_and_shown_when_the_write_says_so() {
        let get = |tag: &'static [(&'static str, &'static str)], body| rec("GET", 200, tag, body);
        const V1: &[(&str, &str)] = &[("etag", "\"v1\"")];
        // A DELETE (no new tag) then the same 200: the origin may not have deleted, or the
        // cache kept its copy; which, only the origin knows.
        let deleted = [
            put("v1", 201, V1),
            get(V1, "v1"),
            rec("DELETE", 204, &[], ""),
            get(V1, "v1"),
        ];
        assert_eq!(copies(&deleted), vec![(3, false)]);
        // A PUT of other content: its answer need not carry a tag; the stored copy is shown.
        let replaced = [
            put("v1", 201, V1),
            get(V1, "v1"),
            put("v2", 204, &[]),
            get(V1, "v1"),
        ];
        assert_eq!(copies(&replaced), vec![(3, true)]);
        // A PUT of the same content may leave everything as it was.
        let same = [
            put("v1", 201, V1),
            get(V1, "v1"),
            put("v1", 204, &[]),
            get(V1, "v1"),
        ];
        assert_eq!(copies(&same), vec![(3, false)]);
        // A refused write changes nothing: no invalidation is due.
        let refused = [
            put("v1", 201, V1),
            get(V1, "v1"),
            put("v2", 412, &[]),
            get(V1, "v1"),
        ];
        assert_eq!(copies(&refused), vec![]);
        // A write elsewhere (a keyed POST beside a count): the count may be a stored copy,
        // which the cache may serve; what the origin counted is not seen.
        let count = |n: u32| {
            rec(
                "GET",
                200,
                &[],
                if n == 0 {
                    "{\"count\":0}"
                } else {
                    "{\"count\":1}"
                },
            )
        };
        let elsewhere = [count(0), rec("POST", 201, &[], "{}"), count(0)];
        assert_eq!(copies(&elsewhere), vec![(2, false)]);
        let fresh = [count(0), rec("POST", 201, &[], "{}"), count(1)];
        assert_eq!(copies(&fresh), vec![]);
    }
}
