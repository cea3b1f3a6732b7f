//! The scenario model: what a YAML scenario file says, checked for shape but not yet run.
//!
//! Every type here deserializes with `deny_unknown_fields` and hand-written visitors where a
//! value has a shorthand, so a mistake gets serde's "expected ..." message with its location
//! instead of "data did not match any variant".

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::path::PathBuf;
use std::time::Duration;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::template::{json_templates, Template};

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Rule ids from the catalog that this scenario proves.
    #[serde(default)]
    pub requirements: Vec<String>,
    /// Target capabilities the scenario needs; without them it is not applicable.
    #[serde(default)]
    pub requires: Vec<Need>,
    #[serde(default)]
    pub vars: BTreeMap<String, Shorthand<VarDef>>,
    pub steps: Vec<Step>,
    /// Steps that always run after `steps`, even when one of them failed.
    #[serde(default)]
    pub cleanup: Vec<Step>,
    /// Run the whole scenario round after round, each with a fresh `uuid` and scratch path,
    /// until a round breaks a rule or the budget is spent: `rounds: 3`, or `rounds: { max:
    /// 1000, time: 20s }`. Races are probabilistic; a pass says how many rounds it rests on.
    #[serde(default)]
    pub rounds: Option<RoundsBudget>,
    /// Run with no other scenario at once: the scenario reads something the whole target
    /// shares (a count of every client's executions), which other scenarios would move.
    /// Planning sets it too, for a profile's keyed count that filters by nothing.
    #[serde(default)]
    pub alone: bool,
    /// The scenario's text bodies are samples, so a profile's `body_format` puts them in the
    /// target's format (the built-in suite's are). Off, the scenario is sent as written: a
    /// user's own documents are never wrapped again.
    #[serde(default)]
    pub body_format: bool,
    /// The file the scenario came from (set by the loader).
    #[serde(skip)]
    pub file: PathBuf,
}

/// What a target can do. Scenarios list what they need in `requires`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Deserialize,
    clap::ValueEnum,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Capability {
    /// PUT to a new path creates the resource.
    PutCreate,
    /// DELETE removes a resource.
    Delete,
    /// Byte ranges (Range, If-Range, 206).
    Range,
    /// Last-Modified on responses, so date preconditions can be tested.
    LastModified,
    /// Unconditional writes are refused with 428 (RFC 6585).
    RequiresPreconditions,
    /// HTTP/2.
    Http2,
    /// The reference server's `/api/items` example API (the application-level conflict
    /// scenarios run against it; copy them for your own API).
    ExampleApi,
    /// WebDAV collections (RFC 4918): a PUT needs its parent collection, MKCOL makes one.
    Collections,
    /// A scenario can make a resource to work on: PUT to a new path, the profile's `create`
    /// (POST to a collection), or, for reads only, one of the profile's `existing` resources.
    Create,
    /// The profile says where resource versions live (`version:`): the version scenarios read
    /// and send it there.
    Versions,
    /// Paths form a tree: a document cannot also be the parent of documents (S3-style flat
    /// key spaces, where `doc` and `doc/child` are independent, lack it).
    Hierarchy,
    /// Keyed writes after the Idempotency-Key draft at `/api/payments` (the reference
    /// server's), with a count of what was executed at `GET /api/payments`.
    IdempotencyKey,
    /// The keyed endpoint refuses a request without the key. Declared, never probed: a probe
    /// without a key would execute a payment.
    IdempotencyKeyRequired,
    /// Each keyed endpoint has its own key space (draft 2.2 leaves the key's uniqueness to the
    /// resource owner). Declared, never probed.
    IdempotencyKeyPerEndpoint,
}

impl Capability {
    pub const ALL: [Capability; 14] = [
        Capability::PutCreate,
        Capability::Delete,
        Capability::Range,
        Capability::LastModified,
        Capability::RequiresPreconditions,
        Capability::Http2,
        Capability::ExampleApi,
        Capability::Collections,
        Capability::Hierarchy,
        Capability::Create,
        Capability::Versions,
        Capability::IdempotencyKey,
        Capability::IdempotencyKeyRequired,
        Capability::IdempotencyKeyPerEndpoint,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Capability::PutCreate => "put-create",
            Capability::Delete => "delete",
            Capability::Range => "range",
            Capability::LastModified => "last-modified",
            Capability::RequiresPreconditions => "requires-preconditions",
            Capability::Http2 => "http2",
            Capability::ExampleApi => "example-api",
            Capability::Collections => "collections",
            Capability::Hierarchy => "hierarchy",
            Capability::Create => "create",
            Capability::Versions => "versions",
            Capability::IdempotencyKey => "idempotency-key",
            Capability::IdempotencyKeyRequired => "idempotency-key-required",
            Capability::IdempotencyKeyPerEndpoint => "idempotency-key-per-endpoint",
        }
    }
}

/// A capability a scenario needs: a built-in one, or a team's own (`x-team.bulk-import`),
/// which the target has when its profile lists it in `own_capabilities` (contend cannot probe
/// what it does not know).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Need {
    Builtin(Capability),
    Own(String),
}

impl Need {
    pub fn name(&self) -> &str {
        match self {
            Need::Builtin(c) => c.name(),
            Need::Own(name) => name,
        }
    }
}

impl<'de> Deserialize<'de> for Need {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // A visitor, so that an error is located at the name itself.
        struct Name;
        impl de::Visitor<'_> for Name {
            type Value = Need;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a capability name")
            }
            fn visit_str<E: de::Error>(self, name: &str) -> Result<Need, E> {
                if name.starts_with("x-") {
                    return Ok(Need::Own(name.to_owned()));
                }
                use de::IntoDeserializer;
                let builtin: Result<Capability, de::value::Error> =
                    Capability::deserialize(name.into_deserializer());
                builtin
                    .map(Need::Builtin)
                    .map_err(|e| E::custom(format!("{e}, or one of your own as `x-team.name`")))
            }
        }
        d.deserialize_str(Name)
    }
}

/// A scenario variable: a plain value, or `{ value: ..., secret: true }`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VarDef {
    pub value: Template,
    #[serde(default)]
    pub secret: bool,
}

impl<'de> Deserialize<'de> for Shorthand<VarDef> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        string_or_map(d, "a value or a map with `value` and `secret`", |s| {
            Ok(VarDef {
                value: Template::parse(s)?,
                secret: false,
            })
        })
    }
}

#[derive(Debug, Clone)]
pub struct Step {
    pub name: String,
    /// The catalog rule this step's expectations check (`if-match.mismatch`): its failures are
    /// reported under that rule, with its level and section.
    pub rule: Option<String>,
    pub action: Action,
    /// Values to keep for later steps, by variable name. In a concurrent group they are taken
    /// from the winner (the one 2xx outcome).
    pub capture: BTreeMap<String, Capture>,
    /// What the step does instead once the target has shown it gives only weak entity tags
    /// (`weak:`): If-Match uses the strong comparison, so a weak tag never matches (RFC 9110
    /// 13.1.1) and the step is judged on that.
    pub on_weak: Option<OnWeak>,
    /// Capabilities this step needs beyond the scenario's `requires`: without them it is not
    /// sent (and what it checks is not judged) while the other steps run.
    pub requires: Vec<Need>,
    /// Set by planning: why this step is not sent on this target (a capability it lacks, a
    /// write on a read-only target). Not from YAML.
    pub set_aside: Option<String>,
}

/// A step's `weak:`: its request judged under another rule and expectation, or not sent.
#[derive(Debug, Clone)]
pub enum OnWeak {
    /// The same request, judged by this step's rule and expectations.
    Judge(Box<Step>),
    /// Not sent, with the reason: only a strong tag can show what it checks.
    Skip(String),
}

#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // a handful per scenario: boxing buys nothing
pub enum Action {
    /// One request and expectations on its response.
    Send { request: Request, expect: Expect },
    /// A concurrent group and expectations on the set of outcomes (boxed: a step is kept for
    /// every step planned, and most are single requests).
    Race {
        group: Group,
        expect: Box<GroupExpect>,
    },
    /// Clients looping over steps at once: read-modify-write workloads.
    Workload(Workload),
}

/// `clients` tasks each run `steps` `repeat` times, concurrently. When `retry` is given and a
/// step fails with one of its statuses (412 for a lost compare-and-set), the iteration starts
/// again from the first step, at most `max` times per iteration. Inside, `{{index}}` is the
/// client and `{{iteration}}` the iteration; captures stay with their client. After it,
/// `{{workload.writes}}` is the number of iterations that succeeded and `{{workload.retries}}`
/// the number of retries.
#[derive(Debug, Clone)]
pub struct Workload {
    pub clients: u32,
    pub repeat: u32,
    pub retry: Option<Retry>,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Retry {
    pub status: StatusSet,
    pub max: u32,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(transform = path_or_url)]
pub struct Request {
    #[serde(default)]
    pub method: MethodName,
    /// A path relative to the target (`/docs/1`) or an absolute URL.
    #[serde(alias = "url")]
    pub path: Template,
    #[serde(default)]
    pub headers: Headers,
    /// Headers sent only where the target has a capability: `{requires-preconditions:
    /// {If-Match: "*"}}` lets a step that tests another header pass a 428 server's gate
    /// without sending a second conditional everywhere else.
    #[serde(default)]
    pub headers_if: OrderedMap<Capability, Headers>,
    #[serde(default)]
    pub body: Option<Shorthand<Body>>,
    #[serde(default, deserialize_with = "duration")]
    #[schemars(with = "Option<DurationText>")]
    pub timeout: Option<Duration>,
    /// In a concurrent group's `requests` list: released this long after the others (a retry
    /// sent while the first request is still running).
    #[serde(default, deserialize_with = "duration")]
    #[schemars(with = "Option<DurationText>")]
    pub after: Option<Duration>,
    /// Send on a fresh connection (`Connection: close`) and record the response exactly as sent,
    /// content after a 304 or HEAD header section included.
    #[serde(default)]
    pub raw: bool,
    /// The resource version this write is based on, sent where the profile's `version.send`
    /// says (If-Match by default).
    #[serde(default)]
    pub version: Option<Template>,
    /// Members put into the JSON content after it is rendered (a version sent in the
    /// content); filled when planned.
    #[serde(skip)]
    pub json_members: Vec<(String, Template)>,
}

/// An HTTP method token; GET when absent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodName(pub String);

impl Default for MethodName {
    fn default() -> Self {
        MethodName("GET".into())
    }
}

impl MethodName {
    /// See [`method_reads`].
    pub fn reads(&self) -> bool {
        method_reads(&self.0)
    }
}

/// True for a method that changes nothing on the target: RFC 9110's safe methods (9.2.1: GET,
/// HEAD, OPTIONS, TRACE) and WebDAV's PROPFIND (RFC 4918 9.1). The one place contend decides
/// whether a request writes: planning, execution and the race checks all ask here.
pub fn method_reads(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "OPTIONS" | "TRACE" | "PROPFIND")
}

impl<'de> Deserialize<'de> for MethodName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        // RFC 9110 5.6.2: a method is a token.
        let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
        if s.is_empty() || !s.chars().all(token) {
            return Err(de::Error::invalid_value(
                de::Unexpected::Str(&s),
                &"an HTTP method such as GET or PUT",
            ));
        }
        Ok(MethodName(s))
    }
}

/// Header fields in the order written.
pub type Headers = OrderedMap<FieldName, Template>;

/// A header field name, checked at load time; matched case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldName(pub String);

impl<'de> Deserialize<'de> for FieldName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        if hyper::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
            return Err(de::Error::invalid_value(
                de::Unexpected::Str(&name),
                &"a header field name",
            ));
        }
        Ok(FieldName(name))
    }
}

/// Request content: `body: "text"`, `body: { json: ... }` or `body: { file: fixtures/x.bin }`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Body {
    Text(Template),
    /// JSON; strings inside it are templates. Sets `Content-Type: application/json` unless given.
    Json(serde_json::Value),
    /// Bytes of a file, relative to the scenario file's directory.
    File(PathBuf),
}

impl<'de> Deserialize<'de> for Shorthand<Body> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        string_or_map(
            d,
            "a string, or a map with one of `text`, `json`, `file`",
            |s| Ok(Body::Text(Template::parse(s)?)),
        )
    }
}

/// Expectations on one response.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    #[serde(default)]
    pub status: Option<StatusSet>,
    #[serde(default)]
    pub headers: OrderedMap<FieldName, Shorthand<HeaderCheck>>,
    #[serde(default)]
    pub body: Option<Shorthand<BodyCheck>>,
    /// Compare the response content with the snapshot of this name stored beside the scenario
    /// (`snapshots/<file>__<name>.snap`); `--update-snapshots` records it. The map form
    /// redacts volatile parts first: `{ name: doc, redact: { '"id": \d+': '"id": [id]' } }`.
    #[serde(default)]
    pub snapshot: Option<Shorthand<Snapshot>>,
    /// The response points at documentation: a `Link` header, or a link in the content (a
    /// problem document's `type`), as the Idempotency-Key draft asks of its 400 and 422.
    #[serde(default)]
    pub documentation_link: bool,
}

/// Expectations on the set of outcomes of a concurrent group.
#[derive(Debug, Clone, Default)]
pub struct GroupExpect {
    pub exactly: Vec<(StatusPattern, u32)>,
    pub at_least: Vec<(StatusPattern, u32)>,
    pub at_most: Vec<(StatusPattern, u32)>,
    /// Applies to every outcome whose status none of the counts above names.
    pub others: Option<Expect>,
    /// Applies to every outcome.
    pub each: Option<Expect>,
    /// Every 2xx outcome has the same content: one result, replayed, not several executions
    /// (copies of one keyed request).
    pub identical_2xx: bool,
}

impl GroupExpect {
    /// Whether one of the counts (`exactly`, `at_least`, `at_most`) names `pattern`.
    pub fn counts(&self, pattern: StatusPattern) -> bool {
        (self.exactly.iter())
            .chain(&self.at_least)
            .chain(&self.at_most)
            .any(|(p, _)| *p == pattern)
    }
}

/// An exact status (`412`) or a class (`2xx`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StatusPattern {
    Exact(u16),
    Class(u8),
    /// `stale`: what the target answers to a stale version (the profile's `version.stale`:
    /// 412 for If-Match, 409 for a version in the content); replaced when planned.
    Stale,
    /// `replaced`: what the target answers to a PUT that replaced the resource (the profile's
    /// `replace.status`; 200, 201 or 204 by default); replaced when planned.
    Replaced,
}

impl StatusPattern {
    pub fn matches(self, status: u16) -> bool {
        match self {
            StatusPattern::Exact(code) => code == status,
            StatusPattern::Class(class) => status / 100 == u16::from(class),
            StatusPattern::Stale | StatusPattern::Replaced => false,
        }
    }

    fn parse(s: &str) -> Option<StatusPattern> {
        let s = s.trim();
        if s == "stale" {
            return Some(StatusPattern::Stale);
        }
        if s == "replaced" {
            return Some(StatusPattern::Replaced);
        }
        if let [d, b'x' | b'X', b'x' | b'X'] = s.as_bytes() {
            return (b'1'..=b'5')
                .contains(d)
                .then(|| StatusPattern::Class(d - b'0'));
        }
        s.parse::<u16>()
            .ok()
            .filter(|c| (100..=599).contains(c))
            .map(StatusPattern::Exact)
    }
}

impl fmt::Display for StatusPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StatusPattern::Exact(code) => write!(f, "{code}"),
            StatusPattern::Class(class) => write!(f, "{class}xx"),
            StatusPattern::Stale => f.write_str("the stale-version status"),
            StatusPattern::Replaced => f.write_str("the replace status"),
        }
    }
}

const STATUS_EXPECTED: &str = "a status code (200), a class (2xx), `stale` or `replaced`";

impl<'de> Deserialize<'de> for StatusPattern {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = StatusPattern;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(STATUS_EXPECTED)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<StatusPattern, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<StatusPattern, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<StatusPattern, E> {
                StatusPattern::parse(v)
                    .ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &STATUS_EXPECTED))
            }
        }
        d.deserialize_any(V)
    }
}

/// `status: 200`, `status: 2xx` or `status: [200, 204]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusSet(pub Vec<StatusPattern>);

impl StatusSet {
    pub fn matches(&self, status: u16) -> bool {
        self.0.iter().any(|p| p.matches(status))
    }
}

impl fmt::Display for StatusSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&shown.join(" or "))
    }
}

impl<'de> Deserialize<'de> for StatusSet {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StatusSet;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "{STATUS_EXPECTED}, or a list of them")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<StatusSet, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<StatusSet, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<StatusSet, E> {
                let one = StatusPattern::parse(v)
                    .ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))?;
                Ok(StatusSet(vec![one]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<StatusSet, A::Error> {
                let mut all = Vec::new();
                while let Some(p) = seq.next_element()? {
                    all.push(p);
                }
                if all.is_empty() {
                    return Err(de::Error::invalid_length(0, &"at least one status"));
                }
                Ok(StatusSet(all))
            }
        }
        d.deserialize_any(V)
    }
}

/// A check on one header field: `Name: value` (equals) or a map of checks.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HeaderCheck {
    pub equals: Option<Template>,
    pub not_equals: Option<Template>,
    pub contains: Option<Template>,
    pub matches: Option<Pattern>,
    /// `true`: the field must be present; `false`: it must be absent.
    pub present: Option<bool>,
    /// `true`: the field must be absent (the same as `present: false`).
    pub absent: Option<bool>,
}

impl<'de> Deserialize<'de> for Shorthand<HeaderCheck> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        string_or_map(d, "a value (exact match) or a map of checks", |s| {
            Ok(HeaderCheck {
                equals: Some(Template::parse(s)?),
                ..Default::default()
            })
        })
    }
}

/// Checks on the response content: a string (exact match) or a map of checks.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BodyCheck {
    pub equals: Option<Template>,
    pub contains: Option<Template>,
    /// The content does not contain this (a path-info server answering `doc/child` with `doc`).
    pub not_contains: Option<Template>,
    pub matches: Option<Pattern>,
    /// The content parses as JSON equal to this value (strings are templates).
    pub json: Option<serde_json::Value>,
    /// The content parses as JSON containing at least these members and items.
    pub json_subset: Option<serde_json::Value>,
    /// JSON pointer (`/a/0`) or JSONPath (`$.a[0]`) to the value expected there.
    #[serde(default)]
    pub json_path: OrderedMap<JsonQuery, JsonExpect>,
    /// `true`: no content at all.
    pub empty: Option<bool>,
    /// The content is a decimal counter equal to this; a shortfall is reported as lost updates
    /// (`counter: "{{workload.writes}}"`).
    pub counter: Option<Template>,
    /// Where the sample content sits in a document of the target's format (a profile's
    /// `body_format`): the checks above apply to what is found there. Set when planned.
    #[serde(skip)]
    pub sample_at: Option<SampleAt>,
}

/// Where the sample content sits in a document of the target's format (a profile's
/// `body_format`), so checks and captures read the sample, never whatever else the format holds
/// (the `2` of an iCalendar `VERSION:2.0` is no counter).
#[derive(Debug, Clone)]
pub enum SampleAt {
    /// A JSON format: the value at this pointer.
    Json(JsonQuery),
    /// A text format (iCalendar, XML): what follows `before` up to `after`, the format's text
    /// around `{{body}}` (line ends compared as `\n`, so a target's CRLF does not matter),
    /// unescaped as the format escapes text.
    Text {
        before: String,
        after: String,
        escape: TextEscape,
    },
}

/// How a text format escapes the text put in it, so a sample's `,` or `<` survives the trip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEscape {
    /// As written.
    None,
    /// An iCalendar TEXT value (RFC 5545 3.3.11): `\\`, `\;`, `\,`, `\n`.
    ICalendar,
    /// XML character data: `&amp;`, `&lt;`, `&gt;` (and `&quot;`, `&apos;` read back).
    Xml,
}

impl TextEscape {
    /// The escaping a format's text calls for: iCalendar by its `BEGIN:V...`, XML by its `<`.
    pub fn of(format: &str) -> TextEscape {
        let start = format.trim_start();
        if start.starts_with("BEGIN:V") {
            TextEscape::ICalendar
        } else if start.starts_with('<') {
            TextEscape::Xml
        } else {
            TextEscape::None
        }
    }

    pub fn escape(self, text: &str) -> String {
        match self {
            TextEscape::None => text.to_owned(),
            TextEscape::ICalendar => text
                .replace('\\', "\\\\")
                .replace(';', "\\;")
                .replace(',', "\\,")
                .replace('\n', "\\n"),
            TextEscape::Xml => text
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;"),
        }
    }

    pub fn unescape(self, text: &str) -> String {
        match self {
            TextEscape::None => text.to_owned(),
            TextEscape::ICalendar => {
                let mut out = String::with_capacity(text.len());
                let mut chars = text.chars();
                while let Some(c) = chars.next() {
                    match (c, c == '\\') {
                        (_, true) => match chars.next() {
                            Some('n' | 'N') => out.push('\n'),
                            Some(other) => out.push(other),
                            None => out.push('\\'),
                        },
                        (c, false) => out.push(c),
                    }
                }
                out
            }
            TextEscape::Xml => text
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&apos;", "'")
                .replace("&amp;", "&"),
        }
    }
}

impl SampleAt {
    /// The sample in `body`; `None` when the content is not in the format (a 404's text).
    pub fn find(&self, body: &[u8]) -> Option<String> {
        match self {
            SampleAt::Json(at) => {
                let doc: serde_json::Value = serde_json::from_slice(body).ok()?;
                match at.select(&doc)? {
                    serde_json::Value::String(s) => Some(s.clone()),
                    other => Some(other.to_string()),
                }
            }
            SampleAt::Text {
                before,
                after,
                escape,
            } => {
                let text = String::from_utf8_lossy(body).replace("\r\n", "\n");
                let start = text.find(before.as_str())? + before.len();
                let rest = &text[start..];
                let end = match after.is_empty() {
                    true => rest.len(),
                    false => rest.find(after.as_str())?,
                };
                Some(escape.unescape(&rest[..end]))
            }
        }
    }
}

impl<'de> Deserialize<'de> for Shorthand<BodyCheck> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        string_or_map(d, "a string (exact match) or a map of checks", |s| {
            Ok(BodyCheck {
                equals: Some(Template::parse(s)?),
                ..Default::default()
            })
        })
    }
}

/// Where a capture takes its value from. Exactly one source per capture.
#[derive(Debug, Clone)]
pub struct Capture {
    pub source: CaptureSource,
    /// Applied to the captured text: the first group if the pattern has one, else the match.
    pub regex: Option<Pattern>,
    /// Mask the value in every report.
    pub secret: bool,
    /// The value must be a strong entity tag: if the target sent a weak one, GET the resource
    /// again for a few seconds until it is strong (Apache httpd marks ETags weak for about a
    /// second after a write); if it never is, the weak tag is kept and the steps' `weak:`
    /// forms run.
    pub strong: bool,
}

impl Scenario {
    /// True when a step releases requests together or loops clients: a race, whose pass rests
    /// on how many rounds were hunted.
    pub fn races(&self) -> bool {
        self.steps
            .iter()
            .any(|s| matches!(s.action, Action::Race { .. } | Action::Workload(_)))
    }
}

impl Step {
    /// True when the step (or a workload's step) captures a header that must be a strong tag:
    /// what puts a scenario in its `weak:` forms on a target with only weak tags.
    pub fn wants_strong_tag(&self) -> bool {
        let own = self
            .capture
            .values()
            .any(|c| c.strong && matches!(c.source, CaptureSource::Header(_)));
        own || matches!(&self.action, Action::Workload(w) if w.steps.iter().any(Step::wants_strong_tag))
    }
}

#[derive(Debug, Clone)]
pub enum CaptureSource {
    Header(String),
    Status,
    Body,
    Json(JsonQuery),
    /// The sample content inside the target's body format (a `body: true` capture, planned).
    Sample(SampleAt),
    /// The resource's version, wherever the profile says it is (the ETag by default);
    /// replaced when planned.
    Version,
}

/// A concurrent group: N requests on separate connections, released together.
#[derive(Debug, Clone)]
pub struct Group {
    pub requests: GroupRequests,
    /// `None`: chosen per round (see [`SyncMode`]): the group rotates through the releases
    /// the target takes, so a race one mode misses is hunted by another.
    pub sync: Option<SyncMode>,
    /// Member `k` released `k × stagger` after the first (`stagger:`), so the writes straddle
    /// a server's check-to-write window instead of all landing at its start. `None`: chosen
    /// per round with `sync`.
    pub stagger: Option<Duration>,
}

#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // one per group: boxing buys nothing
pub enum GroupRequests {
    /// `count` copies of one request; `{{index}}` is 0..count-1 in each.
    Repeat { count: u32, request: Request },
    /// An explicit list; `{{index}}` is the position in the list.
    List(Vec<Request>),
}

impl GroupRequests {
    pub fn len(&self) -> usize {
        match self {
            GroupRequests::Repeat { count, .. } => *count as usize,
            GroupRequests::List(list) => list.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, index: usize) -> &Request {
        match self {
            GroupRequests::Repeat { request, .. } => request,
            GroupRequests::List(list) => &list[index],
        }
    }
}

/// How a group's requests are released. Without `sync:`, `last-byte` when every request has
/// content, `barrier` otherwise.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema, serde::Serialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum SyncMode {
    /// Each request on its own pre-opened connection, held back whole, then all written from
    /// one loop.
    Barrier,
    /// Each request on its own pre-opened connection, sent but for its last byte; then the
    /// last bytes written from one loop.
    LastByte,
    /// All requests on one HTTP/2 connection: HEADERS and all but the last DATA byte first,
    /// a PING round trip, then every END_STREAM frame in one write.
    Http2,
}

impl SyncMode {
    pub fn name(self) -> &'static str {
        match self {
            SyncMode::Barrier => "barrier",
            SyncMode::LastByte => "last-byte",
            SyncMode::Http2 => "http2",
        }
    }
}

/// A compiled regular expression, checked at load time.
#[derive(Clone)]
pub struct Pattern(pub regex::Regex);

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "/{}/", self.0.as_str())
    }
}

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        regex::Regex::new(&s)
            .map(Pattern)
            .map_err(|e| de::Error::custom(format!("invalid regex: {e}")))
    }
}

/// A stored snapshot of the content, and the volatile parts replaced before comparing.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    pub name: String,
    /// Each match of a pattern is replaced by its text (`$1` and the like refer to groups).
    #[serde(default)]
    pub redact: OrderedMap<Pattern, String>,
}

impl<'de> Deserialize<'de> for Shorthand<Snapshot> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        string_or_map(d, "a snapshot name, or { name, redact }", |s| {
            Ok(Snapshot {
                name: s.to_owned(),
                redact: OrderedMap::default(),
            })
        })
    }
}

/// What is expected at a JSON path: a value (strings are templates), or a map of checks
/// (`{ contains: x }`, `{ matches: re }`, `{ exists: false }`, `{ one_of: [a, b] }`,
/// `{ equals: v }` for a value that is itself such a map).
#[derive(Debug, Clone)]
pub enum JsonExpect {
    Equals(serde_json::Value),
    Checks(Box<JsonChecks>),
}

#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JsonChecks {
    pub equals: Option<serde_json::Value>,
    /// A string containing it, an array with it as an item, an object containing it.
    pub contains: Option<serde_json::Value>,
    /// A string (or the value as JSON text) matching it.
    pub matches: Option<Pattern>,
    pub exists: Option<bool>,
    pub one_of: Option<Vec<serde_json::Value>>,
    /// With `from`: the number here is `from` plus this (a count of side effects read before
    /// and after: `{ from: "{{before}}", increased_by: 1 }`).
    pub increased_by: Option<i64>,
    pub from: Option<serde_json::Value>,
}

impl JsonExpect {
    /// Every JSON value in it that may hold templates.
    pub fn values(&self) -> Vec<&serde_json::Value> {
        match self {
            JsonExpect::Equals(v) => vec![v],
            JsonExpect::Checks(c) => c
                .equals
                .iter()
                .chain(&c.contains)
                .chain(&c.from)
                .chain(c.one_of.iter().flatten())
                .collect(),
        }
    }
}

impl<'de> Deserialize<'de> for JsonExpect {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        const CHECKS: [&str; 7] = [
            "equals",
            "contains",
            "matches",
            "exists",
            "one_of",
            "increased_by",
            "from",
        ];
        let value = serde_json::Value::deserialize(d)?;
        match &value {
            serde_json::Value::Object(map)
                if !map.is_empty() && map.keys().all(|k| CHECKS.contains(&k.as_str())) =>
            {
                let checks: JsonChecks =
                    serde_json::from_value(value).map_err(de::Error::custom)?;
                if checks.increased_by.is_some() != checks.from.is_some() {
                    return Err(de::Error::custom(
                        "`increased_by` and `from` go together: `{ from: \"{{before}}\", increased_by: 1 }`",
                    ));
                }
                Ok(JsonExpect::Checks(Box::new(checks)))
            }
            _ => Ok(JsonExpect::Equals(value)),
        }
    }
}

/// A JSON pointer (`/items/0/id`) or a JSONPath query (`$.items[0].id`).
#[derive(Clone)]
pub enum JsonQuery {
    Pointer(String),
    Path(String, Box<serde_json_path::JsonPath>),
}

impl JsonQuery {
    pub fn as_str(&self) -> &str {
        match self {
            JsonQuery::Pointer(p) | JsonQuery::Path(p, _) => p,
        }
    }

    /// The first value the query selects.
    pub fn select<'v>(&self, doc: &'v serde_json::Value) -> Option<&'v serde_json::Value> {
        match self {
            JsonQuery::Pointer(p) => doc.pointer(p),
            JsonQuery::Path(_, path) => path.query(doc).first(),
        }
    }

    pub fn parse(s: &str) -> Result<JsonQuery, String> {
        if s.is_empty() || s.starts_with('/') {
            Ok(JsonQuery::Pointer(s.to_owned()))
        } else if s.starts_with('$') {
            let path = serde_json_path::JsonPath::parse(s)
                .map_err(|e| format!("invalid JSONPath {s:?}: {e}"))?;
            Ok(JsonQuery::Path(s.to_owned(), Box::new(path)))
        } else {
            Err(format!("{s:?} is neither a JSON pointer (starts with `/`) nor a JSONPath (starts with `$`)"))
        }
    }
}

impl fmt::Debug for JsonQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

impl<'de> Deserialize<'de> for JsonQuery {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        JsonQuery::parse(&String::deserialize(d)?).map_err(de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for Template {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Template;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Template, E> {
                Template::parse(v).map_err(E::custom)
            }
            // Numbers and booleans are text too (`X-Count: 5`), read as YAML wrote them.
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Template, E> {
                Ok(Template::literal(&v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Template, E> {
                Ok(Template::literal(&v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Template, E> {
                Ok(Template::literal(&v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Template, E> {
                Ok(Template::literal(&v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// A value that may be written as a plain string or as a full map. Boxed: most expectations
/// leave most of these out, and a step is kept for every step of every scenario planned.
#[derive(Debug, Clone, Default)]
pub struct Shorthand<T>(pub Box<T>);

impl<T> std::ops::Deref for Shorthand<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

fn string_or_map<'de, T, D>(
    d: D,
    expecting: &'static str,
    from_str: fn(&str) -> Result<T, String>,
) -> Result<Shorthand<T>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    struct V<T> {
        expecting: &'static str,
        from_str: fn(&str) -> Result<T, String>,
        marker: PhantomData<T>,
    }
    impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
        type Value = Shorthand<T>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str(self.expecting)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            (self.from_str)(v)
                .map(|v| Shorthand(Box::new(v)))
                .map_err(E::custom)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            self.visit_str(&v.to_string())
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            self.visit_str(&v.to_string())
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            self.visit_str(&v.to_string())
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            self.visit_str(&v.to_string())
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            T::deserialize(de::value::MapAccessDeserializer::new(map))
                .map(|v| Shorthand(Box::new(v)))
        }
        fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
            T::deserialize(de::value::EnumAccessDeserializer::new(data))
                .map(|v| Shorthand(Box::new(v)))
        }
    }
    d.deserialize_any(V {
        expecting,
        from_str,
        marker: PhantomData,
    })
}

/// A map that keeps its entries in the order written (headers, JSON paths).
#[derive(Debug, Clone)]
pub struct OrderedMap<K, V>(pub Vec<(K, V)>);

impl<K, V> Default for OrderedMap<K, V> {
    fn default() -> Self {
        OrderedMap(Vec::new())
    }
}

impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Deserialize<'de> for OrderedMap<K, V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit<K, V>(PhantomData<(K, V)>);
        impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Visitor<'de> for Visit<K, V> {
            type Value = OrderedMap<K, V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    out.push(entry);
                }
                Ok(OrderedMap(out))
            }
        }
        d.deserialize_map(Visit(PhantomData))
    }
}

/// How long a scenario hunts a race: at most `max` rounds, and no new round after `time`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoundsBudget {
    pub max: u32,
    pub time: Option<Duration>,
}

impl RoundsBudget {
    /// `3`, `3,20s`, `20s`: the form of `--race-budget` and `CONTEND_RACE_BUDGET`.
    pub fn parse(text: &str) -> Result<RoundsBudget, String> {
        let mut budget = RoundsBudget {
            max: u32::MAX,
            time: None,
        };
        let mut any = false;
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            any = true;
            match part.parse::<u32>() {
                Ok(n) if n > 0 => budget.max = n,
                _ => {
                    budget.time = Some(humantime::parse_duration(part).map_err(|e| {
                        format!("{part:?} is neither a number of rounds nor a duration ({e})")
                    })?)
                }
            }
        }
        if !any {
            return Err("expected ROUNDS, TIME or ROUNDS,TIME (e.g. 1000,20s)".into());
        }
        Ok(budget)
    }
}

impl<'de> Deserialize<'de> for RoundsBudget {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Both {
            #[serde(default)]
            max: Option<u32>,
            #[serde(default, deserialize_with = "duration")]
            time: Option<Duration>,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Count(u32),
            Both(Both),
        }
        let raw = Raw::deserialize(d).map_err(|_| {
            de::Error::custom("`rounds` is a number of rounds (3) or `{ max: 1000, time: 20s }`")
        })?;
        let budget = match raw {
            Raw::Count(n) => RoundsBudget { max: n, time: None },
            Raw::Both(b) => RoundsBudget {
                max: b.max.unwrap_or(u32::MAX),
                time: b.time,
            },
        };
        if budget.max == 0 || (budget.max == u32::MAX && budget.time.is_none()) {
            return Err(de::Error::custom(
                "`rounds` needs at least one round, and a `max` or a `time` to stop",
            ));
        }
        Ok(budget)
    }
}

/// `500ms`, `5s`, `1m 30s`: a duration as humantime reads it.
pub(super) struct DurationText;

impl schemars::JsonSchema for DurationText {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "A duration: `500ms`, `5s`, `1m 30s`.",
            "pattern": r"^\s*[0-9]",
        })
    }
}

/// `url:` is another name for a request's `path:` (a serde alias, which schemars leaves out).
pub(super) fn path_or_url(schema: &mut schemars::Schema) {
    let path = schema
        .get("properties")
        .and_then(|p| p.get("path"))
        .cloned();
    if let (Some(path), Some(object)) = (path, schema.as_object_mut()) {
        if let Some(serde_json::Value::Object(properties)) = object.get_mut("properties") {
            properties.insert("url".into(), path);
        }
        object.remove("required");
        object.insert(
            "oneOf".into(),
            serde_json::json!([{ "required": ["path"] }, { "required": ["url"] }]),
        );
    }
}

pub(super) fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    let text = String::deserialize(d)?;
    humantime::parse_duration(&text).map(Some).map_err(|e| {
        de::Error::custom(format!(
            "invalid duration {text:?} ({e}); write e.g. `500ms` or `5s`"
        ))
    })
}

// What each part holds for the static check that every `{{name}}` is defined: declared
// beside the types, so a field added to a request or an expectation is checked where it is
// declared (the walk over a step is `walk.rs`).

impl Request {
    /// Every template the request sends: path, headers (those under `headers_if` too), the
    /// version wherever it goes, the content.
    pub fn templates(&self, out: &mut Vec<Template>) -> Result<(), String> {
        let request = self;
        out.push(request.path.clone());
        out.extend(request.headers.0.iter().map(|(_, v)| v.clone()));
        // The version, before planning puts it where the profile says, and after (JSON members).
        out.extend(request.version.iter().cloned());
        out.extend(request.json_members.iter().map(|(_, v)| v.clone()));
        for (_, headers) in &request.headers_if.0 {
            out.extend(headers.0.iter().map(|(_, v)| v.clone()));
        }
        match request.body.as_deref() {
            Some(Body::Text(t)) => out.push(t.clone()),
            Some(Body::Json(value)) => out.extend(json_templates(value)?),
            Some(Body::File(_)) | None => {}
        }
        Ok(())
    }
}

impl Expect {
    /// Every template an expectation compares with.
    pub fn templates(&self, out: &mut Vec<Template>) -> Result<(), String> {
        let expect = self;
        for (_, check) in &expect.headers.0 {
            out.extend(
                [&check.equals, &check.not_equals, &check.contains]
                    .into_iter()
                    .flatten()
                    .cloned(),
            );
        }
        if let Some(body) = expect.body.as_deref() {
            out.extend(
                [
                    &body.equals,
                    &body.contains,
                    &body.not_contains,
                    &body.counter,
                ]
                .into_iter()
                .flatten()
                .cloned(),
            );
            for value in body
                .json
                .iter()
                .chain(&body.json_subset)
                .chain(body.json_path.0.iter().flat_map(|(_, v)| v.values()))
            {
                out.extend(json_templates(value)?);
            }
        }
        Ok(())
    }
}
