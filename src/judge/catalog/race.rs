//! Concurrency: the lost-update problem, which is why 13.1.1 exists.

use super::rules;

rules! {
    "race.one-winner" Must Checkable ["RFC 9110 13.1.1 (its purpose)", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.1"]
        "N PUTs with the same If-Match and distinct content: at most one 2xx, the rest 412";
        probe "20 PUTs released together on separate connections";
        good "204 x 1, 412 x 19"; bad "204 x 3, 412 x 17 (lost updates)";
    "race.winner-is-state" Must Checkable ["RFC 9110 13.1.1 (its purpose)", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.1"]
        "after the race, GET returns the winner's content with a new ETag";
        probe "GET after the race";
        good "GET -> \"writer 7\", the winner's ETag"; bad "GET -> \"writer 12\" (a loser's content)";
    "race.create-once" Must Checkable ["RFC 9110 13.1.2 (its purpose)", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.2"]
        "N PUTs with If-None-Match: * to one missing path: exactly one 201, the rest 412";
        probe "20 PUTs released together";
        good "201 x 1, 412 x 19"; bad "201 x 4, 412 x 16";
    "race.delete-once" Must Checkable ["RFC 9110 13.1.1 (its purpose)", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.1"]
        "N DELETEs with the same If-Match: at most one 2xx";
        probe "20 DELETEs released together";
        good "204 x 1, 404/412 x 19"; bad "204 x 2";
    "race.loser-412" Should Checkable ["RFC 9110 13.1.1, 15.5.13", "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.13"]
        "a conditional write that loses a race answers 412; 409 only where the target detects the conflict at commit time and says so (S3's ConditionalRequestConflict)";
        probe "every racing write with If-Match or If-None-Match answered 409";
        good "loser -> 412"; bad "loser -> 409 with no profile saying the target commits that way";
    "race.no-5xx" Should Checkable ["RFC 9110 15.6", "https://www.rfc-editor.org/rfc/rfc9110#section-15.6"]
        "contention gives no 5xx";
        probe "count 5xx outcomes in every race";
        good "no 5xx"; bad "503 x 4";
    "race.counter" Must Checkable ["RFC 9110 13.1.1 (its purpose)", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.1"]
        "M clients each do K read-modify-write increments with If-Match, retrying on 412: the final value is M x K";
        probe "a workload: 5 clients x 10 read-modify-write increments with If-Match, retrying on 412; then the counter is read back";
        good "final 100 for 10 x 10"; bad "final 93 (7 lost updates)";
    "race.some-winner" Expected Checkable ["RFC 9110 13.1.1 (derived)", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.1"]
        "N conditional writes whose condition holds at the start: the first one evaluated succeeds";
        probe "count 2xx outcomes of every race; none is a finding when every request was answered 4xx";
        good "204 x 1, 412 x 19"; bad "412 x 20 (no writer got through)";
    "race.torn-read" Expected Checkable ["RFC 9110 9.3.1, 3.2 (derived)", "https://www.rfc-editor.org/rfc/rfc9110#section-9.3.1"]
        "a GET answered 200 while writes to its resource were in flight returns a state the resource had: the content before them or one a write sent, whole";
        probe "every read of a workload or group racing writes to its URL, on a target whose reads return what was written";
        good "GET -> \"7\" (a write's content)"; bad "GET -> 200 with empty content, or content cut off mid-body";
    "race.loser-answers" Should Checkable ["RFC 9110 9.1, 15.6", "https://www.rfc-editor.org/rfc/rfc9110#section-9.1"]
        "every racing request gets an HTTP answer: no reset, refused or timed-out connection";
        probe "every member of every race";
        good "412 x 19"; bad "412 x 15, connection reset x 4";
}

use std::collections::{HashMap, HashSet};

use hyper::header::{ETAG, IF_MATCH, IF_NONE_MATCH};
use hyper::Method;

use super::{other, passive, response, same_representation, Entry, History, Passive, Scope};
use crate::judge::linearize;
use crate::record::{Check, Exchange};
use crate::validators::{EntityTag, TagList};

pub(super) static CHECKS: &[Passive] = &[
    passive("race.no-5xx", Scope::Scenario, race_no_5xx),
    passive("race.loser-412", Scope::Scenario, race_loser_412),
    passive("race.loser-answers", Scope::Scenario, race_loser_answers),
];

/// Rules the history checks below can file findings under.
pub(crate) const HISTORY_RULES: &[&str] = &[
    "race.one-winner",
    "etag.changes",
    "race.winner-is-state",
    "race.torn-read",
];

/// What a member of a race that lost answered, when that is a rule of its own rather than the
/// race's: a 409 or 423 (`race.loser-412`), a 5xx (`race.no-5xx`), no answer
/// (`race.loser-answers`). The passive checks report these; the race's expectation does not
/// file them again under its own rule.
pub(crate) fn loser_rule(exchange: &Exchange) -> Option<&'static str> {
    match exchange.status() {
        None if torn_off(exchange) => Some("race.torn-read"),
        None => Some("race.loser-answers"),
        Some(s) if s >= 500 => Some("race.no-5xx"),
        Some(409 | 423) if conditional(exchange) => Some("race.loser-412"),
        _ => None,
    }
}

fn conditional(exchange: &Exchange) -> bool {
    [IF_MATCH, IF_NONE_MATCH]
        .iter()
        .any(|h| exchange.request.headers.contains_key(h))
}

fn race_loser_412(history: &History, at: usize) -> Vec<Check> {
    let entry = &history[at];
    match response(history, at) {
        Some(r)
            // The status first: it rules out almost every exchange at no cost.
            if matches!(r.status, 409 | 423) && entry.concurrent && conditional(entry.exchange) =>
        {
            vec![Check::Status {
                expected: vec![crate::record::Codes {
                    low: 412,
                    high: 412,
                }],
                got: r.status,
            }]
        }
        _ => vec![],
    }
}

fn race_no_5xx(history: &History, at: usize) -> Vec<Check> {
    match response(history, at) {
        Some(r) if history[at].concurrent && r.status >= 500 => vec![other(
            "racing request",
            "no 5xx under contention",
            r.status.to_string(),
        )],
        _ => vec![],
    }
}

fn race_loser_answers(history: &History, at: usize) -> Vec<Check> {
    match &history[at].exchange.response {
        // A read whose content broke off is a torn read (`race.torn-read`), not a lost answer.
        Err(_) if torn_off(history[at].exchange) => vec![],
        Err(why) if history[at].concurrent => vec![Check::NoResponse(why.clone())],
        _ => vec![],
    }
}

/// Concurrent exchanges (groups and workloads) as operations on one compare-and-set register
/// per URL, where the ETag is the version:
///
/// - a write conditioned on `If-Match: E` is a compare-and-set from E: two 2xx answers for the
///   same E mean one writer overwrote a state it never saw (`race.one-winner`);
/// - two winners that wrote different content must not get the same new ETag (`etag.changes`);
/// - the first read after a race returns what one of its winners wrote (`race.winner-is-state`).
///
/// One pass with hash maps: linear in the number of exchanges. Each violation names the
/// smallest set of exchanges that shows it. Returns (rule, position, check, why it could not
/// be decided when the search ran out of budget).
/// Findings over a scenario's whole history: the rule, the positions of the exchanges that
/// show it (the two winners on one tag, first the later), the check, and why it could not be
/// decided when it could not.
pub(crate) fn history(history: &History) -> Vec<(&'static str, Vec<usize>, Check, Option<String>)> {
    let mut out = Vec::new();
    // Pairs of positions that show a violation, with the tag involved.
    let mut doubled: Vec<(usize, usize, EntityTag)> = Vec::new();
    let mut shared: Vec<(usize, usize, EntityTag)> = Vec::new();
    // (url, precondition tag) -> the position of its first winner
    let mut winner_of: HashMap<(&str, Vec<u8>), usize> = HashMap::new();
    // (url, new tag) -> the position of the winner that got it
    let mut tag_holder: HashMap<(&str, Vec<u8>), usize> = HashMap::new();
    for (at, entry) in history.iter().enumerate() {
        let exchange = entry.exchange;
        let url = exchange.request.url.as_str();
        if entry.concurrent && is_write(exchange) && won(exchange) {
            if let Some(tag) = precondition(exchange) {
                match winner_of.get(&(url, tag.opaque.clone())) {
                    Some(&first) => doubled.push((first, at, tag)),
                    None => drop(winner_of.insert((url, tag.opaque.clone()), at)),
                }
            }
            // A weak tag may stand for several contents (RFC 9110 8.8.1): only a strong one
            // shared by two contents breaks etag.changes.
            if let Some(new_tag) = response_tag(exchange).filter(|t| !t.weak) {
                match tag_holder.get(&(url, new_tag.opaque.clone())) {
                    Some(&other)
                        if history[other].exchange.request.body != exchange.request.body =>
                    {
                        shared.push((other, at, new_tag))
                    }
                    Some(_) => {}
                    None => drop(tag_holder.insert((url, new_tag.opaque.clone()), at)),
                }
            }
        }
        if !entry.concurrent && exchange.request.method == Method::GET {
            if let Some(check) = read_after_race(history, at) {
                out.push(("race.winner-is-state", vec![at], check, None));
            }
        }
    }
    // One finding per kind, with its first example and a count: a broken server breaks the
    // rule on most writes of a workload.
    if let Some((first, second, tag)) = doubled.first() {
        let tags: HashSet<&[u8]> = doubled
            .iter()
            .map(|(_, _, t)| t.opaque.as_slice())
            .collect();
        let expected =
            "at most one 2xx per If-Match ETag (a compare-and-set from it succeeds once)";
        let actual = format!(
            "{} both succeeded with If-Match: {tag}: the second overwrote a state it never read; \
             {} extra winners on {} ETags in all",
            pair(history, *first, *second),
            doubled.len(),
            tags.len()
        );
        // Exact when every write made a new ETag; when tags come back, search the orders.
        let url = history[*second].exchange.request.url.as_str();
        let subject = "writes conditioned on one ETag";
        // A workload that kept a sample of its requests: an order of all of them cannot be
        // searched for.
        let sampled = history
            .iter()
            .any(|e| e.partial && e.exchange.request.url.as_str() == url);
        let verdict = reuses_tags(history, url).then(|| match sampled {
            true => linearize::Outcome::TooMany { ops: None },
            false => linearize(history, url),
        });
        match verdict {
            Some(linearize::Outcome::Linearizable) => {}
            None => out.push((
                "race.one-winner",
                vec![*second, *first],
                other(subject, expected, actual),
                None,
            )),
            Some(linearize::Outcome::TooMany { ops }) => out.push((
                "race.one-winner",
                vec![*second, *first],
                other(subject, expected, actual),
                Some(match ops {
                    Some(ops) => format!(
                        "the target reuses ETags, and {ops} operations are more than the search \
                         for an order of the writes takes on ({})",
                        linearize::MAX_OPS
                    ),
                    None => format!(
                        "the target reuses ETags, and the workload sent more requests than the \
                         search for an order of the writes takes on ({}); it kept a sample",
                        linearize::MAX_OPS
                    ),
                }),
            )),
            Some(linearize::Outcome::Unknown { explored }) => {
                // Never a pass, never an accusation: said as not checked, with the reason.
                let why = format!(
                    "the target reuses ETags, and no order of the writes was found or ruled out \
                     within {explored} explored states"
                );
                out.push((
                    "race.one-winner",
                    vec![*second, *first],
                    other(subject, expected, actual),
                    Some(why),
                ));
            }
            Some(linearize::Outcome::Violation) => {
                let why = "no order of the writes explains every answer (the target reuses ETags, so every \
                           order consistent with their timing was tried)";
                out.push((
                    "race.one-winner",
                    vec![*second, *first],
                    other(subject, expected, why),
                    None,
                ));
            }
        }
    }
    if let Some((at, check)) = torn_reads(history) {
        out.push(("race.torn-read", at, check, None));
    }
    if let Some((first, second, tag)) = shared.first() {
        let check = other(
            "ETags of concurrent winners",
            "a distinct ETag for each winner's content",
            format!(
                "{} wrote different content and both got {tag}{}",
                pair(history, *first, *second),
                and_more(shared.len(), "pairs")
            ),
        );
        out.push(("etag.changes", vec![*second, *first], check, None));
    }
    out
}

/// A GET's whole 200 response.
fn served(x: &Exchange) -> Option<&crate::record::Received> {
    let r = x.response.as_ref().ok().filter(|r| r.status == 200)?;
    (x.request.method == Method::GET).then_some(r)
}

/// A concurrent GET whose 200 came with content that broke off before its end.
fn torn_off(read: &Exchange) -> bool {
    let cut = matches!(&read.response, Err(why) if why.status == Some(200));
    cut && read.request.method == Method::GET
}

/// Reads torn by a write in flight: a 200 whose content is cut short of every state the
/// resource had (empty, or a strict beginning of what a PUT sent or a read outside the race
/// saw), or whose content broke off. Only that: content that is merely other than what was
/// sent is a JSON API's own rendering as often as a defect, and other rules judge states.
/// The first torn read, with the count of the others.
fn torn_reads(history: &History) -> Option<(Vec<usize>, Check)> {
    let raced: HashSet<&str> = (history.iter())
        .filter(|e| e.concurrent && e.exchange.request.method == Method::PUT)
        .map(|e| e.exchange.request.url.as_str())
        .collect();
    let mut torn: Vec<usize> = Vec::new();
    for url in raced {
        let on_url = || {
            (history.iter().enumerate())
                .filter(move |(_, e)| e.exchange.request.url.as_str() == url)
        };
        let states: Vec<&[u8]> = on_url()
            .filter_map(|(_, e)| match e.exchange.request.method == Method::PUT {
                true => Some(e.exchange.request.body.as_ref()),
                false => served(e.exchange)
                    .filter(|_| !e.concurrent)
                    .map(|r| r.body.as_ref()),
            })
            .collect();
        let cut_short = |body: &[u8]| {
            !states.contains(&body)
                && states
                    .iter()
                    .any(|s| s.len() > body.len() && s.starts_with(body))
        };
        for (at, entry) in on_url().filter(|(_, e)| e.concurrent) {
            match served(entry.exchange) {
                Some(r) if cut_short(&r.body) => torn.push(at),
                None if torn_off(entry.exchange) => torn.push(at),
                _ => {}
            }
        }
    }
    torn.sort_unstable();
    let first = *torn.first()?;
    let got = match &history[first].exchange.response {
        Ok(r) if r.body.is_empty() => "200 with no content".to_owned(),
        Ok(r) => format!("200 with the first {} bytes of a state", r.body.len()),
        Err(why) => format!("200, then {why}"),
    };
    let check = other(
        "GET while writes were in flight",
        "the content before the writes or one a write sent, whole",
        format!("{got}{}", and_more(torn.len(), "reads")),
    );
    Some((vec![first], check))
}

/// How many states the linearizability search may explore per race: a count, so the verdict
/// does not depend on the machine's load.
const SEARCH_BUDGET: usize = 200_000;

/// True when the target's ETags are not versions: a winner's new ETag repeats another's or a
/// precondition's, or a read saw one ETag over two different contents. Two winners on one tag
/// may then be legitimate.
fn reuses_tags(history: &History, url: &str) -> bool {
    let mut preconditions = HashSet::new();
    let mut produced = Vec::new();
    let mut content_of: HashMap<Vec<u8>, &[u8]> = HashMap::new();
    for entry in history
        .iter()
        .filter(|e| e.exchange.request.url.as_str() == url)
    {
        let x = entry.exchange;
        if entry.concurrent && is_write(x) && won(x) {
            preconditions.extend(precondition(x).map(|t| t.opaque));
            produced.extend(response_tag(x).map(|t| t.opaque));
        }
        if let (true, Ok(r), Some(tag)) = (
            x.request.method == Method::GET,
            &x.response,
            response_tag(x),
        ) {
            if r.status == 200
                && *content_of.entry(tag.opaque).or_insert(&r.body) != r.body.as_ref()
            {
                return true;
            }
        }
    }
    let distinct: HashSet<&Vec<u8>> = produced.iter().collect();
    distinct.len() < produced.len() || produced.iter().any(|t| preconditions.contains(t))
}

/// The concurrent operations on `url` as a linearizability problem, starting from the last
/// response seen before them.
fn linearize(history: &History, url: &str) -> linearize::Outcome {
    let on_url = |e: &&Entry| e.exchange.request.url.as_str() == url;
    let first_concurrent = history
        .iter()
        .position(|e| e.concurrent && on_url(&e))
        .unwrap_or(0);
    let initial = history[..first_concurrent]
        .iter()
        .rev()
        .filter(on_url)
        .find_map(|e| {
            let r = e
                .exchange
                .response
                .as_ref()
                .ok()
                .filter(|r| r.status == 200 && e.exchange.request.method == Method::GET)?;
            Some(linearize::State {
                tag: response_tag(e.exchange).map(|t| t.opaque),
                content: Some(r.body.clone()),
            })
        })
        .unwrap_or(linearize::State {
            tag: None,
            content: None,
        });
    let ops: Vec<linearize::Op> = history
        .iter()
        .filter(|e| e.concurrent && on_url(e))
        .filter_map(|e| {
            let x = e.exchange;
            let response = x.response.as_ref().ok()?;
            let kind = if x.request.method == Method::GET && response.status == 200 {
                linearize::OpKind::Read {
                    content: response.body.clone(),
                    tag: response_tag(x).map(|t| t.opaque),
                }
            } else if x.request.method == Method::PUT && (won(x) || response.status == 412) {
                linearize::OpKind::Write {
                    if_match: precondition(x)?.opaque,
                    content: x.request.body.clone(),
                    ok: won(x),
                    new_tag: response_tag(x).map(|t| t.opaque),
                }
            } else {
                return None;
            };
            Some(linearize::Op {
                start: x.started,
                end: x.finished,
                kind,
            })
        })
        .collect();
    linearize::check(&ops, initial, SEARCH_BUDGET)
}

fn and_more(count: usize, what: &str) -> String {
    match count {
        1 => String::new(),
        n => format!(" ({} more {what} like it)", n - 1),
    }
}

fn is_write(e: &Exchange) -> bool {
    !crate::scenario::method_reads(e.request.method.as_str())
}

fn won(e: &Exchange) -> bool {
    e.status().is_some_and(|s| (200..300).contains(&s))
}

/// The one strong tag a write was conditioned on; `*` and lists are not compare-and-set.
fn precondition(e: &Exchange) -> Option<EntityTag> {
    let lines = e
        .request
        .headers
        .get_all(IF_MATCH)
        .iter()
        .map(|v| v.as_bytes());
    match TagList::parse(lines).ok()? {
        TagList::Tags(mut tags) if tags.len() == 1 && !tags[0].weak => tags.pop(),
        _ => None,
    }
}

fn response_tag(e: &Exchange) -> Option<EntityTag> {
    let response = e.response.as_ref().ok()?;
    EntityTag::parse(response.headers.get(ETAG)?.as_bytes()).ok()
}

/// A winner answered with the very ETag the group was conditioned on: the state came back to
/// where the others' precondition holds, so more than one may win legitimately.
pub(crate) fn restores_precondition(members: &[Exchange]) -> bool {
    members
        .iter()
        .filter(|e| won(e))
        .any(|e| match (precondition(e), response_tag(e)) {
            (Some(sent), Some(got)) => sent.opaque == got.opaque,
            _ => false,
        })
}

/// `#3 and #7`, or `two writes of #3` when one client (of a workload) made both.
fn pair(history: &History, first: usize, second: usize) -> String {
    if history[first].exchange.index == history[second].exchange.index {
        format!("two writes of {}", who(history, first))
    } else {
        format!("{} and {}", who(history, first), who(history, second))
    }
}

fn who(history: &History, at: usize) -> String {
    match history[at].exchange.index {
        Some(i) => format!("#{i}"),
        None => format!("exchange {at}"),
    }
}

/// A GET right after a race on its URL must return one winner's content (as a representation:
/// a JSON API may add fields; see [`same_representation`]).
fn read_after_race(history: &History, at: usize) -> Option<Check> {
    let read = history[at].exchange;
    let served = read.response.as_ref().ok().filter(|r| r.status == 200)?;
    let mut winners = Vec::new();
    let earlier = std::iter::successors(history.before(at).prev, |&i| history.before(i).prev);
    for entry in earlier.map(|i| &history[i]) {
        if !entry.concurrent {
            // Only the race directly before the read counts; a write of our own ends it, and
            // so does a read (it was checked itself).
            break;
        }
        if is_write(entry.exchange) && won(entry.exchange) {
            if entry.exchange.request.method != Method::PUT {
                return None; // a DELETE or POST winner: no content to compare with
            }
            winners.push(entry.exchange);
        }
    }
    let served_by = |w: &&Exchange| {
        let tag = w.response.as_ref().ok().and_then(|r| r.headers.get(ETAG));
        same_representation(&w.request, tag, served)
    };
    if winners.is_empty() || winners.iter().any(served_by) {
        return None;
    }
    Some(other(
        "GET after the race",
        format!("the content one of its {} winners wrote", winners.len()),
        format!("{} bytes no winner wrote", served.body.len()),
    ))
}

#[cfg(test)]
pub(super) fn proofs() -> Vec<super::testing::Proof> {
    use super::testing::{put, rec, Rec};
    let racing = |r: Rec| Rec {
        concurrent: true,
        ..r
    };
    let cas = |tag: &'static [(&'static str, &'static str)], body, status, etag| Rec {
        req: tag,
        concurrent: true,
        ..put(body, status, etag)
    };
    const V0: &[(&str, &str)] = &[("if-match", "\"v0\"")];
    vec![
        (
            "race.loser-412",
            vec![racing(Rec {
                req: V0,
                ..put("v", 412, &[])
            })],
            vec![racing(Rec {
                req: V0,
                ..put("v", 409, &[])
            })],
        ),
        (
            "race.loser-answers",
            vec![racing(put("v", 412, &[]))],
            vec![racing(put("v", 0, &[]))],
        ),
        (
            "race.no-5xx",
            vec![racing(put("v", 412, &[]))],
            vec![racing(put("v", 503, &[]))],
        ),
        (
            "race.one-winner",
            vec![
                cas(V0, "a", 204, &[("etag", "\"va\"")]),
                cas(V0, "b", 412, &[]),
                rec("GET", 200, &[("etag", "\"va\"")], "a"),
            ],
            vec![
                cas(V0, "a", 204, &[("etag", "\"va\"")]),
                cas(V0, "b", 204, &[("etag", "\"vb\"")]),
                rec("GET", 200, &[("etag", "\"vb\"")], "b"),
            ],
        ),
        (
            "race.torn-read",
            vec![
                put("a", 201, &[]),
                rec("GET", 200, &[], "a"),
                racing(put("b", 204, &[])),
                racing(rec("GET", 200, &[], "a")),
                racing(rec("GET", 200, &[], "b")),
            ],
            vec![
                put("a", 201, &[]),
                rec("GET", 200, &[], "a"),
                racing(put("b", 204, &[])),
                racing(rec("GET", 200, &[], "")),
            ],
        ),
        (
            "race.winner-is-state",
            vec![
                cas(V0, "a", 204, &[]),
                cas(V0, "b", 412, &[]),
                rec("GET", 200, &[], "a"),
            ],
            vec![
                cas(V0, "a", 204, &[]),
                cas(V0, "b", 412, &[]),
                rec("GET", 200, &[], "b"),
            ],
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::super::testing::{exchange, fired, put, rec, Rec};
    use super::*;
    use crate::record::At;

    const V0: &[(&str, &str)] = &[("if-match", "\"v0\"")];
    const VA: &[(&str, &str)] = &[("if-match", "\"va\"")];

    fn cas(
        tag: &'static [(&'static str, &'static str)],
        body: &'static str,
        etag: &'static [(&'static str, &'static str)],
    ) -> Rec {
        Rec {
            req: tag,
            concurrent: true,
            ..put(body, 204, etag)
        }
    }

    #[test]
    fn with_reused_tags_two_winners_are_searched_not_assumed() {
        // The first winner got back the tag it was conditioned on: the second may match it too.
        let explained = [
            cas(V0, "a", &[("etag", "\"v0\"")]),
            cas(V0, "b", &[("etag", "\"vb\"")]),
        ];
        assert_eq!(fired("race.one-winner", &explained), vec![]);
        // Both winners got the same new tag, so tags repeat; still nothing restored "v0" for
        // the second: no order explains it.
        let unexplained = [
            cas(V0, "a", &[("etag", "\"vx\"")]),
            cas(V0, "a", &[("etag", "\"vx\"")]),
        ];
        assert_eq!(fired("race.one-winner", &unexplained).len(), 1);
    }

    #[test]
    fn winners_need_distinct_tags() {
        let shared = [
            cas(V0, "a", &[("etag", "\"x\"")]),
            cas(VA, "b", &[("etag", "\"x\"")]),
        ];
        assert_eq!(fired("etag.changes", &shared).len(), 1);
        // Weak tags may be shared by different contents: the rule is about strong ones.
        let weak = [
            cas(V0, "a", &[("etag", "W/\"x\"")]),
            cas(VA, "b", &[("etag", "W/\"x\"")]),
        ];
        assert_eq!(fired("etag.changes", &weak), vec![]);
    }

    #[test]
    fn a_torn_read_is_content_cut_short_of_every_state() {
        let racing = |r: Rec| Rec {
            concurrent: true,
            ..r
        };
        let before = [put("a", 201, &[]), rec("GET", 200, &[], "a")];
        let mut cut = exchange(&racing(rec("GET", 200, &[], "")));
        cut.response = Err(crate::record::NoResponse::new(
            crate::record::NoResponseKind::Reset,
            "reset",
        )
        .after_status(200));
        assert_eq!(loser_rule(&cut), Some("race.torn-read"));
        // A read of a state the resource had is no torn read, nor is a loser's content.
        let whole = [
            racing(put("b", 204, &[])),
            racing(put("c", 412, &[])),
            racing(rec("GET", 200, &[], "a")),
            racing(rec("GET", 200, &[], "c")),
        ];
        let history: Vec<Rec> = before.iter().cloned().chain(whole).collect();
        assert_eq!(fired("race.torn-read", &history), vec![]);
        let half = [
            racing(put("bbbb", 204, &[])),
            racing(rec("GET", 200, &[], "bb")),
        ];
        let history: Vec<Rec> = before.iter().cloned().chain(half).collect();
        assert_eq!(fired("race.torn-read", &history).len(), 1);
        // Content other than what was sent (a JSON API's own rendering) is no torn read.
        let rendered = [
            racing(put("{\"v\":\"b\"}", 204, &[])),
            racing(rec("GET", 200, &[], "{\"v\":\"b\",\"rev\":2}")),
        ];
        let history: Vec<Rec> = before.iter().cloned().chain(rendered).collect();
        assert_eq!(fired("race.torn-read", &history), vec![]);
        let empty = [racing(put("b", 204, &[])), racing(rec("GET", 200, &[], ""))];
        let history: Vec<Rec> = before.iter().cloned().chain(empty).collect();
        assert_eq!(fired("race.torn-read", &history).len(), 1);
    }

    #[test]
    fn sequential_writes_are_not_a_race() {
        let sequential = [
            Rec {
                req: V0,
                ..put("a", 204, &[])
            },
            rec("GET", 200, &[], "a"),
        ];
        assert_eq!(fired("race.winner-is-state", &sequential), vec![]);
    }

    #[test]
    fn a_json_api_that_adds_fields_serves_the_winners_document() {
        let history = [
            cas(V0, "{\"value\":\"writer 3\"}", &[]),
            rec("GET", 200, &[], "{\"_rev\":\"2-x\",\"value\":\"writer 3\"}"),
        ];
        assert_eq!(fired("race.winner-is-state", &history), vec![]);
        let lost = [
            cas(V0, "{\"value\":\"writer 3\"}", &[]),
            rec("GET", 200, &[], "{\"_rev\":\"2-x\",\"value\":\"writer 4\"}"),
        ];
        assert_eq!(fired("race.winner-is-state", &lost).len(), 1);
    }

    #[test]
    fn losers_are_filed_under_their_own_rules() {
        let x = |status| {
            let mut e = exchange(&Rec {
                req: V0,
                concurrent: true,
                ..put("v", status, &[])
            });
            e.index = Some(1);
            e
        };
        assert_eq!(loser_rule(&x(409)), Some("race.loser-412"));
        assert_eq!(loser_rule(&x(423)), Some("race.loser-412"));
        assert_eq!(loser_rule(&x(503)), Some("race.no-5xx"));
        assert_eq!(loser_rule(&x(412)), None);
        let mut reset = x(412);
        reset.response = Err(crate::record::NoResponse::new(
            crate::record::NoResponseKind::Reset,
            "connection reset",
        ));
        assert_eq!(loser_rule(&reset), Some("race.loser-answers"));
        let _ = At {
            step: 0,
            exchange: 0,
        };
    }
}
