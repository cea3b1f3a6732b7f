//! Target profiles (`contend.yaml`): how a particular server is tested. A profile sets what
//! flags would, so a team commits it once instead of repeating a long command line.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::model::{Capability, StatusSet};
use super::template::Template;

#[derive(Debug, Clone, Default, Deserialize)]
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
    /// Rules of the team's own, under a namespace of its own (`x-myteam.rev-conflict`):
    /// scenarios name them in `rule:` and `requirements`, reports show them like catalog rules.
    #[serde(default)]
    pub rules: BTreeMap<String, OwnRule>,
}

/// A rule a profile declares.
#[derive(Debug, Clone, Deserialize)]
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
