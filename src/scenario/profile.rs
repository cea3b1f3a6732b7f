//! Target profiles (`contend.yaml`): how a particular server is tested. A profile sets what
//! flags would, so a team commits it once instead of repeating a long command line.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::model::{Capability, JsonQuery, MethodName, StatusSet};
use super::template::Template;

#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Base URL of the server under test (`--target` wins).
    #[serde(default)]
    pub target: Option<String>,
    /// The origin behind the target when the target is a gateway (`--origin` wins): each
    /// scenario also runs there, and what differs is reported as the gateway's doing.
    #[serde(default)]
    pub origin: Option<String>,
    /// A query string for every request (`sv=2024-05-04&sig={{env.SAS_SIG}}`), after each
    /// path's own; its values are masked in all output.
    #[serde(default)]
    pub query: Option<Template>,
    /// Headers for every request; values are templates (`Bearer {{env.TOKEN}}`). Credential
    /// headers are masked in all output.
    #[serde(default)]
    pub headers: BTreeMap<String, Template>,
    /// Headers whose values are masked in all output, like the built-in credential headers.
    #[serde(default)]
    pub secret_headers: Vec<String>,
    /// Headers whose `{{env.*}}` values may be shown (by default such values are masked).
    #[serde(default)]
    pub public_headers: Vec<String>,
    /// CA certificates (PEM) to trust for an HTTPS target (`--cacert` wins).
    #[serde(default)]
    pub cacert: Option<std::path::PathBuf>,
    /// Accept any TLS certificate (`--insecure`); reports say so.
    #[serde(default)]
    pub insecure: bool,
    /// A client certificate (PEM) for targets that ask for one (`--client-cert` wins).
    #[serde(default)]
    pub client_cert: Option<std::path::PathBuf>,
    /// Its private key (PEM).
    #[serde(default)]
    pub client_key: Option<std::path::PathBuf>,
    /// What the target supports; without it contend probes the target.
    #[serde(default)]
    pub capabilities: Option<Vec<Capability>>,
    /// Capabilities of the team's own the target has (`x-team.bulk-import`): scenarios that
    /// require them run, the others with such a need are not applicable.
    #[serde(default)]
    pub own_capabilities: Vec<String>,
    /// Path prefix each scenario works under; default `/contend-{{run_id}}/{{uuid}}`.
    #[serde(default)]
    pub scratch: Option<Template>,
    /// Where the scenarios' resource NAME lives, in place of `{{scratch}}/NAME`:
    /// `{{scratch}}-{{name}}` for a flat namespace (one path segment per document).
    #[serde(default)]
    pub resource_path: Option<Template>,
    /// Content-Type for request content that has none.
    #[serde(default)]
    pub content_type: Option<String>,
    /// The sample bodies' shape, for targets that accept only one format: every text body and
    /// every exact body expectation of the scenarios is put in place of `{{body}}`
    /// (`'{"value": "{{body}}"}'` for a JSON-only store).
    #[serde(default)]
    pub body_format: Option<Template>,
    /// Bytes of padding added to every sample body, in the format, outside the sample (a
    /// JSON member, an iCalendar property, an XML comment, a line): enough for a compressing
    /// gateway to act on (nginx starts at 20 bytes; the built-in samples are a few).
    #[serde(default)]
    pub sample_size: Option<usize>,
    /// MKCOL the scratch path before each scenario and DELETE it after (WebDAV servers need a
    /// PUT's parent collection to exist). Use a one-segment `scratch` with it.
    #[serde(default)]
    pub create_scratch: bool,
    /// Extra variables for every scenario (`--var` wins).
    #[serde(default)]
    pub vars: BTreeMap<String, Template>,
    /// SHOULD-level findings fail the run.
    #[serde(default)]
    pub strict: bool,
    /// Rules waived: reported, never failing.
    #[serde(default)]
    pub allow: Vec<String>,
    /// Statuses this target answers where RFC 9110 asks for another, per rule: S3-style
    /// services answer 409 to a lost race (`race.one-winner: [409]`), body-version APIs 409 to a
    /// stale version. Findings these cover are reported as accepted by the profile.
    #[serde(default)]
    pub accept: BTreeMap<String, StatusSet>,
    /// How a resource is made when not by PUT to its path: POST to a collection, the new URL
    /// taken from `Location` or the response's JSON. The scenarios' create steps use it.
    #[serde(default)]
    pub create: Option<CreateBy>,
    /// How the target answers a PUT that replaces a resource (`status: replaced` in the
    /// scenarios): `{ status: [200, 204] }` to hold it to RFC 9110's two, `[200, 201, 204]`
    /// (the default) where a 201 is by design. Which of them a replace must use is
    /// `put.replaced`'s to judge, once.
    #[serde(default)]
    pub replace: Option<ReplaceBy>,
    /// Where a resource's version lives when it is not (only) the ETag: a JSON member of the
    /// content (`_rev`), a query parameter on writes (`rev`), or a header. The version
    /// scenarios (`requires: [versions]`) read and send it there.
    #[serde(default)]
    pub version: Option<VersionAt>,
    /// How cleanup deletes: `unconditional`, `if-match-star`, or `version` (read the version,
    /// send it as writes do: CouchDB refuses a DELETE without `?rev=`). Default: unconditional,
    /// with `If-Match: *` on targets that require preconditions.
    #[serde(default)]
    pub delete: Option<DeleteStyle>,
    /// Resources that exist with known content, for targets contend must not write to: the
    /// read scenarios (GET/HEAD, 304, Range, If-Range) run on the first instead of creating one.
    #[serde(default)]
    pub existing: Vec<Existing>,
    /// Send nothing that writes: only scenarios whose requests are all reads run (`--read-only`).
    #[serde(default)]
    pub read_only: bool,
    /// The target's endpoint keyed after the Idempotency-Key draft: the built-in idempotency
    /// scenarios send their payments there, with this body, and count with this read.
    #[serde(default)]
    pub idempotency: Option<KeyedEndpoint>,
    /// Rules of the team's own, under a namespace of its own (`x-myteam.rev-conflict`):
    /// scenarios name them in `rule:` and `requirements`, reports show them like catalog rules.
    #[serde(default)]
    pub rules: BTreeMap<String, OwnRule>,
    /// The fewest catalog rules a run must judge (`--min-judged` wins): a drop in what is
    /// judged (a capability lost, a scenario turned not applicable) fails the run.
    #[serde(default)]
    pub min_judged: Option<usize>,
    /// How long every racing scenario hunts, in place of its own `rounds` (`--race-budget`
    /// wins): `race_budget: 1000` or `race_budget: { max: 1000, time: 20s }`.
    #[serde(default)]
    pub race_budget: Option<super::model::RoundsBudget>,
    /// Scenarios run at once (`--jobs` and `CONTEND_JOBS` win): `jobs: 1` for a target whose
    /// only evidence is global (one count for every client), so scenarios cannot move it for
    /// each other.
    #[serde(default)]
    pub jobs: Option<usize>,
    /// The target is a cache (a caching proxy, a CDN) in front of the origin: rules that bind
    /// origin servers only (RFC 9110 13.2.2's evaluation order) are said as not checked.
    #[serde(default)]
    pub cache: bool,
    /// Storage behind CORS: every OPTIONS goes as a preflight from this origin
    /// (`Origin` and `Access-Control-Request-Method: PUT`), as a browser's would.
    #[serde(default)]
    pub cors_origin: Option<String>,
}

/// A rule a profile declares.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OwnRule {
    /// `MUST`, `MUST NOT`, `SHOULD` or `EXPECTED`; SHOULD findings warn unless strict.
    pub level: String,
    pub summary: String,
    /// Where the requirement is written down (the API guide, an ADR).
    #[serde(default)]
    pub section: Option<String>,
    #[serde(default)]
    pub link: Option<String>,
}

/// `replace:` in a profile: how the target answers a PUT that replaces a resource.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplaceBy {
    /// The statuses that mean replaced (what `status: replaced` in a scenario stands for).
    pub status: StatusSet,
}

/// `create:` in a profile.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBy {
    #[serde(default = "post")]
    pub method: MethodName,
    /// The collection the create request goes to (`/api/items`).
    pub path: Template,
    /// Where the new resource's URL is found; `Location` by default.
    #[serde(default)]
    pub url: UrlFrom,
    /// The statuses that mean created; 201 by default.
    #[serde(default = "created")]
    pub status: StatusSet,
}

fn post() -> MethodName {
    MethodName("POST".into())
}

fn created() -> StatusSet {
    StatusSet(vec![super::model::StatusPattern::Exact(201)])
}

/// `url: { header: Location }` or `url: { json: /id, path: "/api/items/{{id}}" }`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UrlFrom {
    #[serde(default)]
    pub header: Option<String>,
    /// A JSON value of the response: the URL itself, or with `path`, an id put in it.
    #[serde(default)]
    pub json: Option<JsonQuery>,
    /// The resource's path with `{{id}}` for the value found at `json`.
    #[serde(default)]
    pub path: Option<Template>,
}

impl Default for UrlFrom {
    fn default() -> Self {
        UrlFrom {
            header: Some("Location".into()),
            json: None,
            path: None,
        }
    }
}

/// `version:` in a profile.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionAt {
    /// Where responses carry it: `{ json: /_rev }` or `{ header: ETag }` (the default).
    #[serde(default)]
    pub read: VersionRead,
    /// Where writes send it: `{ json: _rev }` (a member of the content), `{ query: rev }` or
    /// `{ header: If-Match }` (the default).
    #[serde(default)]
    pub send: VersionSend,
    /// What a write with a stale version gets: 412 when it is sent as If-Match, else 409.
    #[serde(default)]
    pub stale: Option<u16>,
    /// Every update must carry the version (CouchDB answers one without `_rev` with 409):
    /// scenarios whose updates carry none are not applicable, as what comes back shows that
    /// refusal, which wins over any precondition (RFC 9110 13.2.1).
    #[serde(default)]
    pub required: bool,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(try_from = "OneOf")]
pub enum VersionRead {
    Header(String),
    Json(JsonQuery),
}

impl Default for VersionRead {
    fn default() -> Self {
        VersionRead::Header("ETag".into())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(try_from = "OneOf")]
pub enum VersionSend {
    Header(String),
    Query(String),
    Json(String),
}

impl Default for VersionSend {
    fn default() -> Self {
        VersionSend::Header("If-Match".into())
    }
}

/// `{ header: NAME }`, `{ json: ... }` or `{ query: NAME }`: one key naming a place.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct OneOf {
    #[serde(default)]
    header: Option<String>,
    #[serde(default)]
    json: Option<String>,
    #[serde(default)]
    query: Option<String>,
}

impl TryFrom<OneOf> for VersionRead {
    type Error = String;
    fn try_from(place: OneOf) -> Result<Self, String> {
        match (place.header, place.json, place.query) {
            (Some(name), None, None) => Ok(VersionRead::Header(name)),
            (None, Some(query), None) => Ok(VersionRead::Json(JsonQuery::parse(&query)?)),
            _ => Err("give one of `header: NAME` or `json: POINTER`".into()),
        }
    }
}

impl TryFrom<OneOf> for VersionSend {
    type Error = String;
    fn try_from(place: OneOf) -> Result<Self, String> {
        match (place.header, place.json, place.query) {
            (Some(name), None, None) => Ok(VersionSend::Header(name)),
            (None, Some(member), None) => Ok(VersionSend::Json(member)),
            (None, None, Some(name)) => Ok(VersionSend::Query(name)),
            _ => Err("give one of `header: NAME`, `json: MEMBER` or `query: NAME`".into()),
        }
    }
}

impl VersionAt {
    /// The status a stale version gets on this target.
    pub fn stale_status(&self) -> u16 {
        match (&self.stale, &self.send) {
            (Some(status), _) => *status,
            (None, VersionSend::Header(name)) if name.eq_ignore_ascii_case("if-match") => 412,
            (None, _) => 409,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DeleteStyle {
    Unconditional,
    IfMatchStar,
    Version,
}

/// `existing:` in a profile: a resource contend may read but not write.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Existing {
    pub path: Template,
    /// Its content, exactly as a GET returns it.
    pub body: String,
}

/// `idempotency:` in a profile. The built-in scenarios are written against the reference
/// server's `/api/payments` (a payment `{"amount", "currency", "reference"}`, a count at
/// `GET /api/payments?reference=`); with this, they go where the target has its own.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyedEndpoint {
    /// Where a keyed POST goes (`/v1/charges`).
    pub endpoint: Template,
    /// Its JSON content: `{{amount}}` is the amount a scenario sends (10, or 20 for another
    /// payload), `{{key}}` the scenario's key, which the count read can filter by.
    pub body: Template,
    /// A read that counts what the endpoint executed (`/v1/charges?reference={{key}}`).
    pub count: Template,
    /// Where the count is in that read's JSON (a pointer or a JSONPath).
    #[serde(default = "count_at")]
    pub count_at: crate::scenario::JsonQuery,
    /// The endpoint refuses a request without the key (400).
    #[serde(default)]
    pub required: bool,
    /// A second keyed endpoint with its own key space, and its JSON content (`{{amount}}`):
    /// the key-scope scenario sends a payment's key there.
    #[serde(default)]
    pub other_endpoint: Option<Template>,
    #[serde(default)]
    pub other_body: Option<Template>,
}

fn count_at() -> crate::scenario::JsonQuery {
    crate::scenario::JsonQuery::Pointer("/count".into())
}
