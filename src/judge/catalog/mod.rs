//! The rule catalog, by family: each file holds its rules as data, the pure checks that judge
//! them on recorded exchanges, and a good and a bad recorded history for each check. Ids are
//! stable once published: users filter, waive and accept by id.
//!
//! Source: `shared/rfc-rules.md`, checked against RFC 9110 (June 2022), RFC 6585 and RFC 4918.
//! How a rule is checked is not written in its row: it follows from what is registered
//! ([`kinds`]), so `contend explain` cannot claim a check that does not exist.

mod app;
pub(super) mod cache;
mod dates;
mod idempotency;
mod if_match;
mod if_none_match;
mod if_range;
pub(super) mod race;
mod scope;
mod status;
mod validators;

use hyper::header::HeaderName;
use serde::Serialize;

use crate::record::{At, Check, Exchange, Received};

/// How much a violation weighs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Level {
    /// A violation fails the scenario.
    #[serde(rename = "MUST")]
    Must,
    #[serde(rename = "MUST NOT")]
    MustNot,
    /// A violation is a warning, a failure only with `--strict`.
    #[serde(rename = "SHOULD")]
    Should,
    /// The behaviour a condition's truth implies (the catalog's "—" rows): a violation fails.
    #[serde(rename = "EXPECTED")]
    Expected,
}

impl Level {
    pub fn name(self) -> &'static str {
        match self {
            Level::Must => "MUST",
            Level::MustNot => "MUST NOT",
            Level::Should => "SHOULD",
            Level::Expected => "EXPECTED",
        }
    }

    /// True when a violation is only a warning (unless `--strict`).
    pub fn is_advisory(self) -> bool {
        self == Level::Should
    }
}

/// Whether a rule can be seen broken from outside the server at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Observability {
    Checkable,
    /// Stated for completeness; covered through other rules or not observable from outside.
    Informational,
}

/// How a rule is checked, from what is registered for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A pure check on every exchange of every scenario.
    Passive,
    /// A check over a scenario's concurrent history (groups and workloads).
    History,
    /// Scenarios send the requests that show it (they name it in `requirements`).
    Scenario,
}

#[derive(Debug, Clone, Serialize)]
pub struct Rule {
    pub id: &'static str,
    pub level: Level,
    /// `RFC 9110 13.1.1`, `RFC 6585 3`, or the sections a derived rule rests on.
    pub section: &'static str,
    /// Where to read it.
    pub link: &'static str,
    pub observability: Observability,
    pub summary: &'static str,
    /// What contend sends or looks at to check it.
    pub probe: &'static str,
    /// A conforming exchange, in brief.
    pub good: &'static str,
    /// A violating exchange, in brief.
    pub bad: &'static str,
}

impl Rule {
    /// `if-match.mismatch (MUST, RFC 9110 13.1.1)`
    pub fn cite(&self) -> String {
        format!("{} ({}, {})", self.id, self.level.name(), self.section)
    }
}

/// Catalog rows: `"id" LEVEL Observability [section, link] summary; probe ..; good ..; bad ..;`
macro_rules! rules {
    ($( $id:literal $level:ident $obs:ident [$section:literal, $anchor:literal]
        $summary:literal; probe $probe:literal; good $good:literal; bad $bad:literal; )*) => {
        pub(super) static RULES: &[super::Rule] = &[$(super::Rule {
            id: $id,
            level: super::Level::$level,
            section: $section,
            link: $anchor,
            observability: super::Observability::$obs,
            summary: $summary,
            probe: $probe,
            good: $good,
            bad: $bad,
        }),*];
    };
}
use rules;

/// The families in the order `contend explain --all` lists them.
const FAMILIES: &[&[Rule]] = &[
    validators::RULES,
    if_match::RULES,
    if_none_match::RULES,
    dates::RULES,
    if_range::RULES,
    scope::RULES,
    status::RULES,
    app::RULES,
    idempotency::RULES,
    race::RULES,
    cache::RULES,
];

/// Every rule of the catalog.
pub fn all() -> impl Iterator<Item = &'static Rule> {
    FAMILIES.iter().flat_map(|f| f.iter())
}

/// Why a rule binds origin servers only, when it does (a cache in front is not judged on it).
pub fn origin_only(id: &str) -> Option<&'static str> {
    (scope::ORIGIN_ONLY.iter())
        .find(|(rule, _)| *rule == id)
        .map(|(_, why)| *why)
}

pub fn find(id: &str) -> Option<&'static Rule> {
    all().find(|r| r.id == id)
}

/// Where a passive check looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// One response on its own: a property of the whole target, reported once per run.
    Target,
    /// Reported in the scenario whose exchanges show it.
    Scenario,
}

/// One exchange of a scenario's history, with what the checks need to know about it.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    pub exchange: &'a Exchange,
    /// Sent as part of a concurrent group or workload: not in time order with its neighbours.
    pub concurrent: bool,
    pub at: At,
    /// A workload's exchange, already judged by the passive checks as it arrived
    /// ([`crate::judge::ClientJudge`]): later ones still compare with it.
    pub judged: bool,
    /// Its step kept only some of what it sent: a search over every operation cannot be done.
    pub partial: bool,
}

/// A passive check: given the history and a position in it, the violations it shows there.
pub type CheckFn = fn(&History, usize) -> Vec<Check>;

/// A scenario's history, indexed in one pass: for each exchange, the earlier ones of the same
/// resource the checks compare it with. Judging one exchange then costs the same however long
/// the history is (a 20,000-step scenario is judged in 20 times a 1,000-step one's time).
pub struct History<'h, 'a> {
    entries: &'h [Entry<'a>],
    /// Each entry's; empty from [`History::for_newest`], which works out only `newest`.
    before: Vec<Before>,
    /// The last entry's, when `before` is empty.
    newest: Before,
}

/// Where an exchange's comparisons look, all on its own URL. In a sequence: the exchanges
/// since the nearest one that may have changed the resource. For a workload's or a group's
/// exchange: the same client's earlier ones, when no member of the group writes that URL
/// (then the client's order is the order things happened).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Before {
    /// The nearest earlier exchange that may have changed the resource (a write, or any
    /// concurrent request); nothing since then has.
    pub change: Option<usize>,
    /// The nearest full GET (200, no Range) since `change`.
    pub full_get: Option<usize>,
    /// The nearest HEAD answered 200 since `change`.
    pub head: Option<usize>,
    /// The nearest full GET at any earlier position, changes or not.
    pub any_full_get: Option<usize>,
    /// The previous exchange of the URL, whatever it was.
    pub prev: Option<usize>,
}

impl<'h, 'a> History<'h, 'a> {
    pub fn new(entries: &'h [Entry<'a>]) -> Self {
        Self::build(entries, false)
    }

    /// With `group_writes`, every concurrent exchange's URL counts as written by its group (a
    /// workload client judged alone cannot see what the other clients write).
    pub(crate) fn build(entries: &'h [Entry<'a>], group_writes: bool) -> Self {
        // Keys are our own URLs: foldhash, not SipHash (a workload judges every exchange).
        use foldhash::{HashMap, HashSet};
        let step = |e: &Entry| e.at.step;
        let url = |e: &Entry<'a>| -> &'a str { e.exchange.request.url.as_str() };
        // URLs some member of a group writes: its clients' orders then say nothing.
        let written: HashSet<(usize, &str)> = match group_writes {
            true => HashSet::default(), // every group counts as writing: not looked up
            false => (entries.iter())
                .filter(|e| e.concurrent && changes_state(e))
                .map(|e| (step(e), url(e)))
                .collect(),
        };
        let mut sequence: HashMap<&str, Since> = HashMap::default();
        let mut clients: HashMap<(usize, Option<usize>, &str), Since> = HashMap::default();
        // What the sequence had stated of a URL when a group began: each client starts there.
        let mut at_start: HashMap<(usize, &str), Since> = HashMap::default();
        let mut any_full_get: HashMap<&str, usize> = HashMap::default();
        let mut prev: HashMap<&str, usize> = HashMap::default();
        let mut before = Vec::with_capacity(entries.len());
        for (i, e) in entries.iter().enumerate() {
            let u = url(e);
            let since = match e.concurrent {
                false => sequence.get(u).copied().unwrap_or_default(),
                true if group_writes || written.contains(&(step(e), u)) => Since::default(),
                true => {
                    let start = *at_start
                        .entry((step(e), u))
                        .or_insert_with(|| sequence.get(u).copied().unwrap_or_default());
                    *clients
                        .entry((step(e), e.exchange.index, u))
                        .or_insert(start)
                }
            };
            before.push(Before {
                change: since.change,
                full_get: since.full_get,
                head: since.head,
                any_full_get: any_full_get.get(u).copied(),
                prev: prev.get(u).copied(),
            });
            let update = |since: &mut Since| since.advance(e, i);
            if e.concurrent {
                let start = at_start.get(&(step(e), u)).copied().unwrap_or_default();
                update(
                    clients
                        .entry((step(e), e.exchange.index, u))
                        .or_insert(start),
                );
                // For what follows the group, any of its requests may have changed things.
                sequence.insert(u, Since::changed_at(i));
            } else {
                update(sequence.entry(u).or_default());
            }
            if full_get(e).is_some() {
                any_full_get.insert(u, i);
            }
            prev.insert(u, i);
        }
        History {
            entries,
            before,
            newest: Before::default(),
        }
    }

    /// The history a workload client's newest exchange is judged in ([`crate::judge::ClientJudge`]):
    /// `entries` is the scenario's exchanges before the workload (what [`anchors`] kept of
    /// them), then the client's anchors, then the new exchange, last; the client's are
    /// concurrent. Only the last entry's [`Before`] is worked out (the passive checks look at
    /// no other), by one pass over its URL's entries in this window of a few, with no index
    /// built: what [`History::build`] finds for it, at a fraction of the cost, for every
    /// request a workload sends (a test compares the two on every proof).
    pub(crate) fn for_newest(entries: &'h [Entry<'a>], group_writes: bool) -> Self {
        let last = entries.len() - 1;
        let newest = &entries[last];
        let url = newest.exchange.request.url.as_str();
        let (mut sequence, mut client) = (Since::default(), None::<Since>);
        let mut written = changes_state(newest);
        let mut found = Before::default();
        let same_url = (entries[..last].iter().enumerate())
            .filter(|(_, e)| e.exchange.request.url.as_str() == url);
        for (i, e) in same_url {
            match (e.concurrent, e.at.step == newest.at.step) {
                // The client's own: it starts from what the sequence had stated.
                (true, true) => {
                    client.get_or_insert(sequence).advance(e, i);
                    written |= changes_state(e);
                    sequence = Since::changed_at(i);
                }
                // An earlier group's: any of its requests may have changed things.
                (true, false) => sequence = Since::changed_at(i),
                (false, _) => sequence.advance(e, i),
            }
            if full_get(e).is_some() {
                found.any_full_get = Some(i);
            }
            found.prev = Some(i);
        }
        if !(group_writes || written) {
            let since = client.unwrap_or(sequence);
            (found.change, found.full_get, found.head) = (since.change, since.full_get, since.head);
        }
        // No list: every request a workload sends is judged so.
        History {
            entries,
            before: Vec::new(),
            newest: found,
        }
    }

    pub(crate) fn before(&self, at: usize) -> Before {
        match self.before.get(at) {
            Some(before) => *before,
            None if at + 1 == self.entries.len() => self.newest,
            None => Before::default(),
        }
    }
}

/// What is known of a URL since its last change, as a history is read in order.
#[derive(Default, Clone, Copy)]
struct Since {
    change: Option<usize>,
    full_get: Option<usize>,
    head: Option<usize>,
}

impl Since {
    fn changed_at(i: usize) -> Since {
        Since {
            change: Some(i),
            ..Since::default()
        }
    }

    /// Takes entry `i` into account.
    fn advance(&mut self, e: &Entry, i: usize) {
        if changes_state(e) {
            *self = Since::changed_at(i);
        } else if full_get(e).is_some() {
            self.full_get = Some(i);
        } else if e.exchange.request.method == hyper::Method::HEAD
            && e.exchange.response.as_ref().is_ok_and(|r| r.status == 200)
        {
            self.head = Some(i);
        }
    }
}

impl<'a> std::ops::Deref for History<'_, 'a> {
    type Target = [Entry<'a>];
    fn deref(&self) -> &[Entry<'a>] {
        self.entries
    }
}

/// The positions in `entries` a later exchange can still be compared with (see [`Before`]):
/// per URL, the latest exchange that may have changed it, the latest full GET, the latest HEAD
/// answered 200 and the latest of all. Judging the next exchange against only these gives what
/// judging it against all of `entries` gives. `concurrent_changes`: a concurrent exchange
/// counts as a change, as it does for the sequence after its group (not within its client).
pub(crate) fn anchors(entries: &[Entry], concurrent_changes: bool) -> Vec<usize> {
    let mut latest: foldhash::HashMap<(&str, u8), usize> = Default::default();
    for (i, e) in entries.iter().enumerate() {
        let url = e.exchange.request.url.as_str();
        let kinds = anchor_kinds(e, concurrent_changes);
        for kind in (0u8..4).filter(|k| kinds & (1 << k) != 0) {
            latest.insert((url, kind), i);
        }
    }
    let mut out: Vec<usize> = latest.into_values().collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// What a later exchange of the same URL may compare an exchange with it as, one bit each (see
/// [`anchors`]): a change, a full GET, a HEAD answered 200, and (always) the latest of all.
pub(crate) fn anchor_kinds(e: &Entry, concurrent_changes: bool) -> u8 {
    let head_ok = e.exchange.request.method == hyper::Method::HEAD
        && e.exchange.response.as_ref().is_ok_and(|r| r.status == 200);
    let kinds = [
        changes_state(e) || (concurrent_changes && e.concurrent),
        full_get(e).is_some(),
        head_ok,
        true,
    ];
    (0u8..)
        .zip(kinds)
        .filter(|(_, is)| *is)
        .fold(0, |all, (k, _)| all | (1 << k))
}

pub struct Passive {
    pub rule: &'static str,
    pub scope: Scope,
    pub check: CheckFn,
}

/// A registry row: the rule a passive check files under, where it reports, the check.
const fn passive(rule: &'static str, scope: Scope, check: CheckFn) -> Passive {
    Passive { rule, scope, check }
}

/// Every registered passive check, family by family.
pub fn passive_checks() -> impl Iterator<Item = &'static Passive> {
    [validators::CHECKS, status::CHECKS, race::CHECKS]
        .into_iter()
        .flatten()
}

/// How `rule` is checked: passive checks, history checks and scenarios naming it (given the
/// requirements of the scenarios at hand).
pub fn kinds<'a>(rule: &str, scenarios: impl IntoIterator<Item = &'a [String]>) -> Vec<Kind> {
    let mut kinds = Vec::new();
    if passive_checks().any(|p| p.rule == rule) {
        kinds.push(Kind::Passive);
    }
    if race::HISTORY_RULES.contains(&rule) || cache::HISTORY_RULES.contains(&rule) {
        kinds.push(Kind::History);
    }
    if scenarios
        .into_iter()
        .any(|reqs| reqs.iter().any(|r| r == rule))
    {
        kinds.push(Kind::Scenario);
    }
    kinds
}

/// How one rule is covered by a set of scenarios and the registered checks.
#[derive(Debug, Clone)]
pub struct Coverage {
    pub rule: &'static Rule,
    pub kinds: Vec<Kind>,
    /// Ids of scenarios that name the rule in `requirements`.
    pub scenarios: Vec<String>,
}

impl Coverage {
    pub fn state(&self) -> CoverageState {
        if !self.kinds.is_empty() {
            CoverageState::Checked
        } else if self.rule.observability == Observability::Informational {
            CoverageState::Informational
        } else {
            CoverageState::NotYetChecked
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoverageState {
    Checked,
    NotYetChecked,
    Informational,
}

/// Coverage of every catalog rule, given `(scenario id, its requirements)` pairs.
pub fn coverage<'a>(
    scenarios: impl IntoIterator<Item = (String, &'a [String])> + Clone,
) -> Vec<Coverage> {
    all()
        .map(|rule| {
            let naming: Vec<String> = scenarios
                .clone()
                .into_iter()
                .filter(|(_, reqs)| reqs.iter().any(|r| r == rule.id))
                .map(|(id, _)| id)
                .collect();
            let reqs: Vec<&[String]> = scenarios.clone().into_iter().map(|(_, r)| r).collect();
            Coverage {
                rule,
                kinds: kinds(rule.id, reqs),
                scenarios: naming,
            }
        })
        .collect()
}

// ---- helpers the families share ----

fn response<'a>(history: &[Entry<'a>], at: usize) -> Option<&'a Received> {
    history[at].exchange.response.as_ref().ok()
}

fn header<'r>(r: &'r Received, name: &HeaderName) -> Option<&'r [u8]> {
    r.headers.get(name).map(|v| v.as_bytes())
}

fn text(bytes: &[u8]) -> String {
    format!("{:?}", String::from_utf8_lossy(bytes))
}

fn other(
    subject: impl Into<String>,
    expected: impl Into<String>,
    actual: impl Into<String>,
) -> Check {
    Check::Other {
        subject: subject.into(),
        expected: expected.into(),
        actual: actual.into(),
    }
}

fn is_read(e: &Exchange) -> bool {
    matches!(e.request.method, hyper::Method::GET | hyper::Method::HEAD)
}

fn changes_state(entry: &Entry) -> bool {
    !is_read(entry.exchange) && entry.exchange.request.method != hyper::Method::OPTIONS
}

/// A plain 200 to a GET without Range: a full representation.
fn full_get<'a>(entry: &Entry<'a>) -> Option<&'a Received> {
    let e = entry.exchange;
    let r = e.response.as_ref().ok()?;
    (e.request.method == hyper::Method::GET
        && r.status == 200
        && !e.request.headers.contains_key(hyper::header::RANGE))
    .then_some(r)
}

/// Whether `served` is what was written as `written`, as a representation: the same bytes; or
/// the write's strong ETag is the one served; or, for JSON, the written document is contained
/// in the served one (an API may add `id`, `_rev` or `updated_at`, or reorder keys).
pub(crate) fn same_representation(
    write: &crate::record::Outgoing,
    write_etag: Option<&hyper::header::HeaderValue>,
    served: &Received,
) -> bool {
    let written = write.body.as_ref();
    if written == served.body.as_ref() {
        return true;
    }
    let strong = |v: &[u8]| {
        crate::validators::EntityTag::parse(v)
            .ok()
            .filter(|t| !t.weak)
    };
    if let (Some(w), Some(s)) = (
        write_etag.and_then(|v| strong(v.as_bytes())),
        header(served, &hyper::header::ETAG).and_then(strong),
    ) {
        if w == s {
            return true;
        }
    }
    match (
        serde_json::from_slice::<serde_json::Value>(written),
        serde_json::from_slice::<serde_json::Value>(&served.body),
    ) {
        (Ok(mut w), Ok(s)) if w.is_object() => {
            if let (Some(member), Some(members)) = (&write.version_member, w.as_object_mut()) {
                members.remove(member);
            }
            json_contains(&s, &w)
        }
        _ => false,
    }
}

/// Objects: every member of `part` is in `whole`, recursively; arrays: same length, item by
/// item; anything else: equal.
pub(crate) fn json_contains(whole: &serde_json::Value, part: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (part, whole) {
        (Value::Object(p), Value::Object(w)) => p
            .iter()
            .all(|(k, pv)| w.get(k).is_some_and(|wv| json_contains(wv, pv))),
        (Value::Array(p), Value::Array(w)) => {
            p.len() == w.len() && p.iter().zip(w).all(|(a, b)| json_contains(b, a))
        }
        _ => part == whole,
    }
}

#[cfg(test)]
pub(super) mod testing {
    //! Recorded histories for the families' good-and-bad proofs.
    use super::*;
    use crate::record::Outgoing;
    use bytes::Bytes;
    use hyper::header::HeaderMap;
    use std::time::{Duration, Instant};

    #[derive(Clone)]
    pub struct Rec {
        pub method: &'static str,
        pub url: &'static str,
        pub req: &'static [(&'static str, &'static str)],
        pub body: &'static str,
        pub status: u16,
        pub resp: &'static [(&'static str, &'static str)],
        pub content: &'static str,
        pub concurrent: bool,
    }

    pub const fn rec(
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

    pub const fn put(
        body: &'static str,
        status: u16,
        resp: &'static [(&'static str, &'static str)],
    ) -> Rec {
        Rec {
            method: "PUT",
            url: "http://t/doc",
            req: &[],
            body,
            status,
            resp,
            content: "",
            concurrent: false,
        }
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        map
    }

    pub fn exchange(r: &Rec) -> Exchange {
        let now = Instant::now();
        Exchange {
            index: r.concurrent.then_some(0),
            request: std::sync::Arc::new(Outgoing {
                method: r.method.parse().unwrap(),
                url: r.url.parse().unwrap(),
                headers: headers(r.req),
                body: Bytes::from_static(r.body.as_bytes()),
                timeout: Duration::from_secs(1),
                raw: false,
                max_body: 1 << 20,
                version_member: None,
            }),
            // Status 0 stands for no response at all.
            response: match r.status {
                0 => Err(crate::record::NoResponse::new(
                    crate::record::NoResponseKind::Reset,
                    "connection reset by peer",
                )),
                status => Ok(Received {
                    status,
                    version: "HTTP/1.1",
                    headers: headers(r.resp),
                    body: Bytes::from_static(r.content.as_bytes()),
                }),
            },
            started: now,
            finished: now,
        }
    }

    /// The checks of `rule` (passive and history alike) that fire on `history`.
    pub fn fired(rule: &str, history: &[Rec]) -> Vec<Check> {
        let exchanges: Vec<Exchange> = history.iter().map(exchange).collect();
        let entries: Vec<Entry> = exchanges
            .iter()
            .zip(history)
            .enumerate()
            .map(|(i, (exchange, r))| Entry {
                exchange,
                concurrent: r.concurrent,
                at: At {
                    step: i,
                    exchange: 0,
                },
                judged: false,
                partial: false,
            })
            .collect();
        let mut out = Vec::new();
        let indexed = History::new(&entries);
        for p in passive_checks().filter(|p| p.rule == rule) {
            for at in 0..entries.len() {
                out.extend((p.check)(&indexed, at));
            }
        }
        out.extend(
            race::history(&indexed)
                .into_iter()
                .filter(|(r, _, _, _)| *r == rule)
                .map(|(_, _, c, _)| c),
        );
        out.extend(
            (cache::history(&indexed).into_iter())
                .filter(|(r, _, _)| *r == rule)
                .map(|(_, _, c)| c),
        );
        out
    }

    /// (rule, a conforming history, a violating history)
    pub type Proof = (&'static str, Vec<Rec>, Vec<Rec>);

    /// Asserts each proof: its rule is silent on the good history and fires on the bad one.
    pub fn prove(proofs: &[Proof]) {
        for (rule, good, bad) in proofs {
            assert!(find(rule).is_some(), "{rule} is not in the catalog");
            assert_eq!(
                fired(rule, good),
                vec![],
                "{rule} fired on conforming traffic"
            );
            assert!(!fired(rule, bad).is_empty(), "{rule} missed its violation");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_well_formed() {
        let mut ids: Vec<&str> = all().map(|r| r.id).collect();
        ids.sort_unstable();
        let before = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), before, "duplicate rule id");
        for r in all() {
            assert!(
                r.id.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-".contains(c)),
                "{}",
                r.id
            );
            assert!(r.link.starts_with("https://"), "{}", r.id);
        }
    }

    /// Every family's proofs: a good and a bad recorded history per rule.
    fn all_proofs() -> Vec<testing::Proof> {
        [
            validators::proofs(),
            status::proofs(),
            race::proofs(),
            cache::proofs(),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// The rules the families prove with a good and a bad recorded history.
    fn proven() -> Vec<&'static str> {
        all_proofs().into_iter().map(|(rule, _, _)| rule).collect()
    }

    #[test]
    fn each_check_accepts_its_good_history_and_catches_its_bad_one() {
        testing::prove(&all_proofs());
    }

    /// A workload client judged as it goes ([`crate::judge::ClientJudge`], holding only what
    /// later comparisons need) finds what judging its whole history at once finds: every
    /// proof's good and bad history, replayed as one client's exchanges; and again with each
    /// exchange sent twice in a row, the same request answered the same (where the client
    /// skips the checks of a safe one, the whole history's judge runs them all).
    #[test]
    fn a_workload_judged_as_it_goes_finds_what_its_whole_history_shows() {
        use std::collections::BTreeSet;
        let policy = crate::judge::Policy::default();
        let passive: BTreeSet<&str> = passive_checks().map(|p| p.rule).collect();
        let histories = all_proofs().into_iter().flat_map(|(rule, good, bad)| {
            [good, bad].into_iter().flat_map(move |recs| {
                let once: Vec<Exchange> = recs
                    .iter()
                    .map(|r| Exchange {
                        index: Some(0),
                        ..testing::exchange(r)
                    })
                    .collect();
                // A clone shares the request, as a workload's iterations of one step do.
                let twice = once.iter().flat_map(|e| [e.clone(), e.clone()]).collect();
                [(rule, once), (rule, twice)]
            })
        });
        for (rule, exchanges) in histories {
            let at = |i| At {
                step: 0,
                exchange: i,
            };
            let entries: Vec<Entry> = (exchanges.iter().enumerate())
                .map(|(i, exchange)| Entry {
                    exchange,
                    concurrent: true,
                    at: at(i),
                    judged: false,
                    partial: false,
                })
                .collect();
            let whole: BTreeSet<String> = crate::judge::judge_history(&entries, &policy)
                .into_iter()
                .filter_map(|f| f.rule)
                .filter(|r| passive.contains(r.as_str()))
                .collect();
            let writes = entries.iter().any(changes_state);
            let mut judge = crate::judge::ClientJudge::new(&[], writes);
            let mut streamed = BTreeSet::new();
            for (i, e) in exchanges.iter().enumerate() {
                let (found, _) = judge.judge(e.clone(), at(i), false, &policy);
                streamed.extend(found.into_iter().filter_map(|f| f.rule));
            }
            assert!(judge.finish().len() <= 4 * exchanges.len().min(4), "{rule}");
            assert_eq!(streamed, whole, "{rule}: streamed vs whole");
        }
    }

    /// `History::for_newest` finds for the newest exchange what `History::build` finds: every
    /// proof's history, split at each place into the scenario before a workload (a group among it) and the rest as one
    /// client's exchanges (and all of it as the client's), at every length.
    #[test]
    fn the_newest_exchange_is_placed_as_the_whole_history_places_it() {
        for (rule, good, bad) in all_proofs() {
            for recs in [good, bad] {
                let exchanges: Vec<Exchange> = recs.iter().map(testing::exchange).collect();
                for seed in 0..recs.len() {
                    let entries: Vec<Entry> = (exchanges.iter().enumerate())
                        .map(|(i, exchange)| Entry {
                            exchange,
                            // Every second before the workload is an earlier group's.
                            concurrent: i >= seed || i % 2 == 1,
                            at: At {
                                step: usize::from(i >= seed),
                                exchange: i,
                            },
                            judged: false,
                            partial: false,
                        })
                        .collect();
                    for writes in [false, true] {
                        for end in seed + 1..=entries.len() {
                            let window = &entries[..end];
                            let whole = History::build(window, writes).before(end - 1);
                            let newest = History::for_newest(window, writes).before(end - 1);
                            assert_eq!(
                                format!("{whole:?}"),
                                format!("{newest:?}"),
                                "{rule}: {end} of {} entries, seed {seed}, writes {writes}",
                                entries.len()
                            );
                        }
                    }
                }
            }
        }
    }

    /// `Scope::Target` checks read one response alone, its status and header fields (a
    /// workload's client skips them for a response equal to the one before): on every proof,
    /// each gives the same at every place as on that exchange alone with its request's method
    /// and the response's content changed.
    #[test]
    fn a_target_wide_check_reads_the_status_and_header_fields_alone() {
        for (rule, good, bad) in all_proofs() {
            for recs in [good, bad] {
                let exchanges: Vec<Exchange> = recs.iter().map(testing::exchange).collect();
                fn entry(exchange: &Exchange, concurrent: bool, i: usize) -> Entry<'_> {
                    Entry {
                        exchange,
                        concurrent,
                        at: At {
                            step: i,
                            exchange: 0,
                        },
                        judged: false,
                        partial: false,
                    }
                }
                let entries: Vec<Entry> = (exchanges.iter().enumerate())
                    .map(|(i, exchange)| entry(exchange, recs[i].concurrent, i))
                    .collect();
                let whole = History::new(&entries);
                for (i, exchange) in exchanges.iter().enumerate() {
                    let mut alone = exchange.clone();
                    std::sync::Arc::make_mut(&mut alone.request).method = hyper::Method::PATCH;
                    if let Ok(r) = &mut alone.response {
                        r.body = bytes::Bytes::from_static(b"other content");
                    }
                    let one = [entry(&alone, recs[i].concurrent, i)];
                    let alone_history = History::new(&one);
                    for p in passive_checks().filter(|p| p.scope == Scope::Target) {
                        assert_eq!(
                            format!("{:?}", (p.check)(&whole, i)),
                            format!("{:?}", (p.check)(&alone_history, 0)),
                            "{} on {rule}'s exchange {i}",
                            p.rule
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn every_registered_check_names_a_catalog_rule_and_has_a_proof() {
        let proven = proven();
        for p in passive_checks() {
            assert!(find(p.rule).is_some(), "{} is not in the catalog", p.rule);
            assert!(
                proven.contains(&p.rule),
                "passive check {} has no proof",
                p.rule
            );
        }
        for rule in race::HISTORY_RULES.iter().chain(cache::HISTORY_RULES) {
            assert!(proven.contains(rule), "history check {rule} has no proof");
        }
    }

    /// Every rule that can be seen broken from outside is seen broken somewhere: a planted
    /// fault of the reference server breaks it, or a recorded bad history proves its check.
    #[cfg(feature = "server")]
    #[test]
    fn every_checkable_rule_has_a_fault_or_a_bad_history() {
        use crate::server::Fault;
        let proven = proven();
        let unseen: Vec<&str> = all()
            .filter(|r| r.observability == Observability::Checkable)
            .filter(|r| {
                !Fault::ALL.iter().any(|f| f.breaks().contains(&r.id)) && !proven.contains(&r.id)
            })
            .map(|r| r.id)
            .collect();
        assert!(
            unseen.is_empty(),
            "rules with neither a planted fault nor a recorded bad history: {unseen:?}"
        );
    }
}
