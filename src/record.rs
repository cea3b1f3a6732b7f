//! What a run records and what is judged of it: the leaf of the data flow. Execute produces
//! [`Exchange`]s; judge reads them and makes [`Finding`]s, each weighed once when it is made;
//! report renders both. This module imports nothing else of contend.

use std::fmt;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::header::HeaderMap;

/// A request with every template rendered, ready to send.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub method: hyper::Method,
    pub url: url::Url,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub timeout: Duration,
    /// Send on a fresh connection and record the response bytes as sent (`raw: true`).
    pub raw: bool,
    /// The most response content kept (`--max-body`): more fails the exchange as too large,
    /// so memory stays bounded whatever a target sends.
    pub max_body: usize,
    /// The member of the JSON content that carries the version the write is based on (a
    /// profile's `version.send: {json: ...}`): the server replaces it, so comparisons of
    /// written and stored content leave it out.
    pub version_member: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Received {
    pub status: u16,
    /// As hyper names it (`HTTP/1.1`): named, not formatted, for every response.
    pub version: &'static str,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Received {
    /// All field lines of a header joined with ", " (RFC 9110 5.3), or `None` when absent.
    pub fn header(&self, name: &str) -> Option<String> {
        // One string built in place: expectations ask this of every response a workload gets.
        let mut values = self.headers.get_all(name).iter();
        let mut joined = String::from_utf8_lossy(values.next()?.as_bytes()).into_owned();
        for value in values {
            joined.push_str(", ");
            joined.push_str(&String::from_utf8_lossy(value.as_bytes()));
        }
        Some(joined)
    }

    pub fn body_text(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.body)
    }
}

/// Why an exchange has no (complete) response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoResponse {
    pub kind: NoResponseKind,
    /// The status, when the status line and headers arrived but the content did not.
    pub status: Option<u16>,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoResponseKind {
    /// No connection: refused, unreachable, DNS, TLS handshake.
    Connect,
    /// Nothing (or not all) arrived in time.
    Timeout,
    /// The connection was reset or closed early.
    Reset,
    /// What came back was not HTTP, or broke its framing.
    Malformed,
    /// More content than contend keeps.
    TooLarge,
}

impl NoResponseKind {
    /// `connect`, `timeout`, `reset`, `malformed`, `too-large`.
    pub fn name(self) -> &'static str {
        match self {
            NoResponseKind::Connect => "connect",
            NoResponseKind::Timeout => "timeout",
            NoResponseKind::Reset => "reset",
            NoResponseKind::Malformed => "malformed",
            NoResponseKind::TooLarge => "too-large",
        }
    }
}

impl NoResponse {
    pub fn new(kind: NoResponseKind, message: impl Into<String>) -> Self {
        NoResponse {
            kind,
            status: None,
            message: message.into(),
        }
    }

    /// The status and headers arrived; the content then failed.
    pub fn after_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }
}

impl fmt::Display for NoResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(status) = self.status else {
            return f.write_str(&self.message);
        };
        let then = match self.kind {
            NoResponseKind::TooLarge => "the content was larger than contend keeps",
            NoResponseKind::Timeout => "the content stalled",
            NoResponseKind::Reset | NoResponseKind::Connect => {
                "the connection closed before all the content came"
            }
            NoResponseKind::Malformed => "the content broke its framing",
        };
        write!(
            f,
            "status {status} and headers arrived, then {then}: {}",
            self.message
        )
    }
}

#[derive(Debug, Clone)]
pub struct Exchange {
    /// Position in a concurrent group (`{{index}}`), or a workload's client; `None` alone.
    pub index: Option<usize>,
    /// Shared: a workload's client sends the same request every iteration, and keeps few.
    pub request: std::sync::Arc<Outgoing>,
    /// The response, or why there is none.
    pub response: Result<Received, NoResponse>,
    pub started: Instant,
    pub finished: Instant,
}

impl Exchange {
    /// Makes the response's header values allocations of their own, for an exchange that is
    /// kept (see [`owned_headers`]).
    pub fn own_headers(&mut self) {
        if let Ok(response) = &mut self.response {
            response.headers = owned_headers(std::mem::take(&mut response.headers));
        }
    }

    pub fn status(&self) -> Option<u16> {
        self.response.as_ref().ok().map(|r| r.status)
    }
}

/// How tightly a concurrent group was released.
#[derive(Debug, Clone)]
pub struct RaceWindow {
    /// `last-byte`, `barrier`, `http2`.
    pub sync: &'static str,
    /// Requests that were released together (connected and ready).
    pub released: usize,
    /// Requests released later on purpose (`after:`), not part of the window.
    pub delayed: usize,
    /// From the first final write to the last: the client side of the race window.
    pub spread: Duration,
    /// The offset asked between two members (`stagger`): a spread of about `(n - 1) ×
    /// stagger` is on purpose. Zero: released together.
    pub stagger: Duration,
    /// Requests sent on connections kept open from an earlier round (no connect, no
    /// handshake): the rest were opened for this round.
    pub warm: usize,
}

/// Where an exchange sits in a scenario's history: step, then position within the step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct At {
    pub step: usize,
    pub exchange: usize,
}

/// A range of statuses: `412` is 412..=412, `2xx` is 200..=299.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Codes {
    pub low: u16,
    pub high: u16,
}

impl Codes {
    pub fn contains(self, status: u16) -> bool {
        (self.low..=self.high).contains(&status)
    }
}

impl fmt::Display for Codes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.low == self.high {
            write!(f, "{}", self.low)
        } else {
            write!(f, "{}xx", self.low / 100)
        }
    }
}

/// The statuses IANA's HTTP Status Code Registry assigns.
const REGISTERED: &[u16] = &[
    100, 101, 102, 103, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304,
    305, 307, 308, 400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415,
    416, 417, 421, 422, 423, 424, 425, 426, 428, 429, 431, 451, 500, 501, 502, 503, 504, 505, 506,
    507, 508, 510, 511,
];

/// `412 or 428`; a list that leaves out only a few registered statuses, as what it leaves out
/// (`anything but 412`).
fn codes_list(codes: &[Codes]) -> String {
    let left_out: Vec<String> = (REGISTERED.iter())
        .filter(|s| !codes.iter().any(|c| c.contains(**s)))
        .map(u16::to_string)
        .collect();
    if !left_out.is_empty() && left_out.len() <= 3 && codes.len() > 3 {
        return format!("anything but {}", left_out.join(" or "));
    }
    let shown: Vec<String> = codes.iter().map(Codes::to_string).collect();
    shown.join(" or ")
}

/// A count bound on a group's outcomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    Exactly,
    AtLeast,
    AtMost,
}

impl Bound {
    pub fn holds(self, got: u32, want: u32) -> bool {
        match self {
            Bound::Exactly => got == want,
            Bound::AtLeast => got >= want,
            Bound::AtMost => got <= want,
        }
    }

    fn word(self) -> &'static str {
        match self {
            Bound::Exactly => "exactly",
            Bound::AtLeast => "at least",
            Bound::AtMost => "at most",
        }
    }
}

/// What a finding checked, typed: the policy reads statuses from here, renderers the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// The status was not one of those expected.
    Status { expected: Vec<Codes>, got: u16 },
    /// A header's value (`got: None` when absent).
    Header {
        name: String,
        expected: String,
        got: Option<String>,
    },
    /// The content, or a part of it (`part`: `body`, `body $.id`, `counter`).
    Body {
        part: String,
        expected: String,
        got: String,
    },
    /// How many of a group's outcomes matched `pattern`.
    Outcomes {
        bound: Bound,
        want: u32,
        pattern: Codes,
        /// Every member's status, `None` for no response.
        statuses: Vec<Option<u16>>,
    },
    /// No response where one was expected.
    NoResponse(NoResponse),
    /// Anything else: what was looked at, expected vs actual.
    Other {
        subject: String,
        expected: String,
        actual: String,
    },
}

impl Check {
    /// What was checked: `status`, `header ETag`, `body`, `outcomes`.
    pub fn subject(&self) -> String {
        match self {
            Check::Status { .. } => "status".into(),
            Check::Header { name, .. } => format!("header {name}"),
            Check::Body { part, .. } => part.clone(),
            Check::Outcomes { .. } => "outcomes".into(),
            Check::NoResponse(_) => "response".into(),
            Check::Other { subject, .. } => subject.clone(),
        }
    }

    pub fn expected(&self) -> String {
        match self {
            Check::Status { expected, .. } => codes_list(expected),
            Check::Header { expected, .. }
            | Check::Body { expected, .. }
            | Check::Other { expected, .. } => expected.clone(),
            Check::Outcomes {
                bound,
                want,
                pattern,
                ..
            } => format!("{} {want} × {pattern}", bound.word()),
            Check::NoResponse(_) => "an HTTP response".into(),
        }
    }

    pub fn actual(&self) -> String {
        match self {
            Check::Status { got, .. } => got.to_string(),
            Check::Header { got, .. } => got
                .as_deref()
                .map_or_else(|| "absent".to_owned(), |v| format!("{v:?}")),
            Check::Body { got, .. } => got.clone(),
            Check::Other { actual, .. } => actual.clone(),
            Check::Outcomes {
                pattern, statuses, ..
            } => {
                let got = statuses
                    .iter()
                    .filter(|s| s.is_some_and(|s| pattern.contains(s)))
                    .count();
                format!("{got} × {pattern} ({})", tally(statuses))
            }
            Check::NoResponse(why) => format!("none ({why})"),
        }
    }
}

/// `204 × 1, 412 × 19, no response × 1` in status order.
pub fn tally(statuses: &[Option<u16>]) -> String {
    let mut counts: std::collections::BTreeMap<(bool, u16), usize> = Default::default();
    for s in statuses {
        *counts.entry((s.is_none(), s.unwrap_or(0))).or_default() += 1;
    }
    let parts: Vec<String> = counts
        .iter()
        .map(|((none, code), n)| match none {
            true => format!("no response × {n}"),
            false => format!("{code} × {n}"),
        })
        .collect();
    parts.join(", ")
}

/// How a finding weighs in the verdict, decided once when the finding is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Weight {
    /// Fails the scenario (and the run).
    Fails,
    /// A SHOULD-level rule without `--strict`.
    Warns,
    /// The rule is waived (`--allow`).
    Waived,
    /// The target's profile accepts this status for the rule (`accept:`), RFC 9110 asks another.
    AcceptedByProfile,
    /// The exchange cannot show the rule broken: what it assumed does not hold on this target.
    NotChecked(String),
}

impl Weight {
    /// `warning`, `waived`: how renderers label a finding.
    pub fn label(&self) -> &'static str {
        match self {
            Weight::Fails => "failure",
            Weight::Warns => "warning",
            Weight::Waived => "waived",
            Weight::AcceptedByProfile => "accepted by the profile, not RFC 9110",
            Weight::NotChecked(_) => "not checked",
        }
    }
}

/// A finding's rule as reports show it: its level and where it is written down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cite {
    /// `MUST`, `MUST NOT`, `SHOULD`, `EXPECTED`.
    pub level: &'static str,
    /// `RFC 9110 13.1.1`, or a team's own reference.
    pub section: String,
    pub link: String,
}

/// One thing that was not as expected, under the rule it breaks (the h2spec shape: expected
/// vs actual), with the exchanges that show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The catalog rule (or a profile's own); `None` for a scenario's own expectation.
    pub rule: Option<String>,
    /// The rule's level and section, when it has a rule.
    pub cite: Option<Cite>,
    pub check: Check,
    /// Which members or clients showed it (`request #3, #7`), when not the whole step.
    pub who: Option<String>,
    /// The exchanges that show it; the first is the one to look at.
    pub exchanges: Vec<At>,
    pub weight: Weight,
    /// A property of the whole target (a header's syntax on every response): reports group it
    /// once per run instead of under each scenario.
    pub target_wide: bool,
}

impl Finding {
    /// One line: `request #3: status: expected 412, got 204`.
    pub fn message(&self) -> String {
        let who = self
            .who
            .as_deref()
            .map(|w| format!("{w}: "))
            .unwrap_or_default();
        format!(
            "{who}{}: expected {}, got {}",
            self.check.subject(),
            self.check.expected(),
            self.check.actual()
        )
    }

    pub fn fails(&self) -> bool {
        self.weight == Weight::Fails
    }
}

/// How many times a scenario ran (`rounds:`) and in how many a rule broke.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Rounds {
    /// Rounds that ran.
    pub total: u32,
    /// Rounds that broke a rule: 0, or 1 (the first broken round ends the hunt).
    pub failed: u32,
    /// The most rounds the budget allowed (`u32::MAX` when only a time bounds it).
    pub asked: u32,
    /// The time budget, when there is one: no round starts after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_ms: Option<u64>,
    /// The scenario races (a concurrent group or a workload): its pass rests on its rounds.
    #[serde(default)]
    pub races: bool,
    /// Rounds per release (`last-byte`, `last-byte 50 µs apart`, `http2`), in the order first
    /// used, and how many of each broke: which mode caught a race, and how hard each hunted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub releases: Vec<ReleaseTally>,
    /// Operations a workload's clients completed over all rounds: a workload's pass rests on
    /// them as a group's rests on rounds.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub operations: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Rounds released one way.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReleaseTally {
    pub release: String,
    pub rounds: u32,
    pub broke: u32,
}

impl RaceWindow {
    /// `last-byte`, `http2`, `last-byte 50 µs apart`.
    pub fn release(&self) -> String {
        match self.stagger.as_micros() {
            0 => self.sync.to_owned(),
            us => format!("{} {us} µs apart", self.sync),
        }
    }
}

impl Rounds {
    /// The per-round rate of failure `total` independent rounds that all held would have
    /// caught with 95 % confidence: 1 - 0.05^(1/n), about 3/n. `None` when a round broke.
    pub fn would_catch(&self) -> Option<f64> {
        (self.failed == 0 && self.total > 0).then(|| bound(f64::from(self.total)))
    }

    /// The same over a workload's operations: the rate per operation a race would have had
    /// to reach to be caught with 95 % confidence. `None` when a round broke or no workload ran.
    pub fn would_catch_per_operation(&self) -> Option<f64> {
        (self.failed == 0 && self.operations > 0).then(|| bound(self.operations as f64))
    }

    /// Counts a round under the release it used.
    pub fn tally(&mut self, release: String, broke: bool) {
        match self.releases.iter_mut().find(|t| t.release == release) {
            Some(t) => {
                t.rounds += 1;
                t.broke += u32::from(broke);
            }
            None => self.releases.push(ReleaseTally {
                release,
                rounds: 1,
                broke: u32::from(broke),
            }),
        }
    }
}

/// With n independent trials that all held, the per-trial rate a failure would have needed
/// to show at least once with 95 % confidence: 1 - 0.05^(1/n), about 3/n.
fn bound(n: f64) -> f64 {
    1.0 - 0.05f64.powf(1.0 / n)
}

/// A workload's totals: iterations asked for, iterations that completed, retries on the way.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WorkloadStats {
    pub clients: u32,
    pub iterations: u64,
    pub writes: u64,
    pub retries: u64,
    /// Why clients stopped before their last iteration, when some did after others had got
    /// through (a read with no value to capture): never silent, though no verdict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
}

/// Which of a workload's exchanges a step kept: the first ones, those findings point at, the
/// winning writes, the first read of each entity tag and the last ones of each client (what
/// later steps are compared with); the rest were judged as they arrived and counted.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    pub sent: usize,
    /// The position as sent of each kept exchange, ascending.
    pub positions: Vec<usize>,
}

/// Everything one step did, or why it did not run.
#[derive(Debug)]
pub struct StepRun {
    pub name: String,
    /// A snapshot this step recorded instead of comparing (`--update-snapshots`).
    pub recorded: Option<String>,
    pub cleanup: bool,
    pub exchanges: Vec<Exchange>,
    /// The exchanges are a concurrent group's or a workload's: not in time order.
    pub concurrent: bool,
    /// How tightly a concurrent group was released.
    pub window: Option<RaceWindow>,
    /// What a workload's clients did.
    pub workload: Option<WorkloadStats>,
    /// The exchanges are a workload's, judged as they arrived, and some of what it sent.
    pub sample: Option<Sample>,
    pub findings: Vec<Finding>,
    /// The step could not be sent as written (a fixture missing, a template that failed):
    /// a setup problem, not a verdict on the target.
    pub error: Option<String>,
    /// The target cannot support the rest of the scenario (it only gives weak ETags, say).
    pub not_applicable: Option<String>,
    /// The step was not sent, and why (an earlier step it depends on failed).
    pub not_run: Option<String>,
    /// Not sent because the target cannot show what it checks: it gives only weak entity
    /// tags (`weak: { skip }`), lacks a capability the step `requires`, or is read-only and
    /// the step writes. What it judges is not judged; nothing failed.
    pub set_aside: bool,
    /// The rule the step was judged under (its `weak:` form's on a weak-only target).
    pub rule: Option<String>,
}

impl StepRun {
    pub fn new(name: String, cleanup: bool) -> Self {
        StepRun {
            name,
            recorded: None,
            cleanup,
            exchanges: Vec::new(),
            concurrent: false,
            window: None,
            workload: None,
            sample: None,
            findings: Vec::new(),
            error: None,
            not_applicable: None,
            not_run: None,
            set_aside: false,
            rule: None,
        }
    }

    /// As new, for the same step to be recorded again: its name and the room its lists had
    /// are kept (a workload's client records each of its steps thousands of times).
    pub fn clear(&mut self) {
        // Field by field, named all (a field added later must be said here): a new record moved
        // in copies the whole of it, a race's window inline, for every request of a loop.
        let StepRun {
            name: _,
            cleanup: _,
            recorded,
            exchanges,
            concurrent,
            window,
            workload,
            sample,
            findings,
            error,
            not_applicable,
            not_run,
            set_aside,
            rule,
        } = self;
        exchanges.clear();
        findings.clear();
        (*recorded, *window, *workload, *sample) = (None, None, None, None);
        (*error, *not_applicable, *not_run, *rule) = (None, None, None, None);
        (*concurrent, *set_aside) = (false, false);
    }

    /// A step that was not sent, with the reason.
    pub fn skipped(name: String, cleanup: bool, why: String) -> Self {
        StepRun {
            not_run: Some(why),
            ..StepRun::new(name, cleanup)
        }
    }

    /// A finding that fails the scenario is among this step's (target-wide findings are the
    /// target's, not the scenario's).
    pub fn fails(&self) -> bool {
        self.findings.iter().any(|f| f.fails() && !f.target_wide)
    }

    /// How many exchanges the step sent (`exchanges` may keep only some of them).
    pub fn sent(&self) -> usize {
        self.sample
            .as_ref()
            .map_or(self.exchanges.len(), |s| s.sent)
    }

    /// The position as sent of `exchanges[kept]`: what [`At::exchange`] names.
    pub fn position(&self, kept: usize) -> usize {
        self.sample.as_ref().map_or(kept, |s| s.positions[kept])
    }

    /// Some of what the step sent was not kept.
    pub fn partial(&self) -> bool {
        self.sent() > self.exchanges.len()
    }

    /// The step ran and held: the scenario's later steps may rely on it.
    pub fn held(&self) -> bool {
        !self.fails()
            && self.error.is_none()
            && self.not_applicable.is_none()
            && self.not_run.is_none()
    }
}

/// Everything one scenario did (the first broken round's steps, or the last round's).
#[derive(Debug, Default)]
pub struct ScenarioRun {
    pub steps: Vec<StepRun>,
    pub duration: Duration,
    /// Values of variables marked secret (captured ones included), for reports to mask.
    pub secrets: Vec<String>,
    pub rounds: Rounds,
    /// Why a round could not be planned, when one could not.
    pub round_error: Option<String>,
    /// The run was interrupted (Ctrl-C) while this scenario's steps ran: what they show is
    /// incomplete, so it is no verdict unless something already failed.
    pub interrupted: bool,
}

/// Header fields whose values are credentials: always masked, whatever the value.
const CREDENTIAL_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "api-key",
    "x-auth-token",
];

/// Words that make a header name a credential's (`PRIVATE-TOKEN`, `X-Client-Secret`).
const CREDENTIAL_WORDS: &[&str] = &[
    "token",
    "secret",
    "password",
    "passwd",
    "api-key",
    "apikey",
    "session",
    "signature",
    "credential",
];

/// A header whose value is a credential, by its name: masked in every output, stored as
/// `[secret]` in snapshots.
pub fn is_credential(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    CREDENTIAL_HEADERS.iter().any(|c| *c == lower)
        || CREDENTIAL_WORDS.iter().any(|w| lower.contains(w))
}

/// The headers in allocations of their own. hyper's header values are slices of the
/// connection's read buffer (8 KiB, more after large contents), which a kept value keeps alive:
/// 20,000 kept responses held 160 MB that way. Made so where an exchange is kept (a sequential
/// step's as it arrives, a workload's when it keeps one), not for every response a workload
/// judges and lets go. Replaced in place: the names stay where they are hashed. (One buffer
/// shared by a response's values was tried: copying saved what the shared count cost.)
pub fn owned_headers(mut headers: hyper::HeaderMap) -> hyper::HeaderMap {
    for value in headers.values_mut() {
        if let Ok(mut copy) = hyper::header::HeaderValue::from_bytes(value.as_bytes()) {
            copy.set_sensitive(value.is_sensitive());
            *value = copy;
        }
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    #[test]
    fn owned_headers_keep_every_value_and_none_of_the_read_buffer() {
        // As hyper hands them over: each value a slice of the connection's read buffer.
        let mut read = b"\"v1\"a=1b=2".to_vec();
        read.resize(8192, b' ');
        let read = Bytes::from(read);
        let slice = |from, to| HeaderValue::from_maybe_shared(read.slice(from..to)).unwrap();
        let mut headers = hyper::HeaderMap::new();
        headers.insert("etag", slice(0, 4));
        headers.append("set-cookie", slice(4, 7));
        let mut secret = slice(7, 10);
        secret.set_sensitive(true);
        headers.append("set-cookie", secret);
        headers.insert("x-empty", slice(0, 0));

        let owned = owned_headers(headers);
        assert!(read.is_unique(), "a kept value still holds the read buffer");
        assert_eq!(owned["etag"], "\"v1\"");
        let cookies: Vec<_> = owned.get_all("set-cookie").iter().collect();
        assert_eq!(cookies, ["a=1", "b=2"]);
        assert!(!cookies[0].is_sensitive() && cookies[1].is_sensitive());
        assert_eq!(owned["x-empty"], "");
        assert_eq!(owned.len(), 4);
    }
}
