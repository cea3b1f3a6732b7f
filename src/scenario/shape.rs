//! Steps as written, read as a raw map and then shaped into the model ([`Step`], its
//! [`Action`], groups, workloads, captures), so that misuse gets a message naming the step
//! ("step `race`: `after` delays one member of a `requests` list") rather than serde's
//! "data did not match any variant".

use std::collections::BTreeMap;
use std::time::Duration;

use serde::de::{self, Deserializer};
use serde::Deserialize;

use super::model::*;

#[derive(Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Step")]
pub(super) struct RawStep {
    /// What the step does, said in reports.
    name: String,
    /// The catalog rule this step's expectations check (`if-match.mismatch`): its failures are
    /// reported under that rule, with its level and section.
    #[serde(default)]
    rule: Option<String>,
    /// One request, and `expect` on its response.
    #[serde(default)]
    request: Option<Request>,
    /// Requests released together on separate connections, and `expect` on the set of outcomes.
    #[serde(default)]
    concurrent: Option<RawGroup>,
    /// Clients looping over steps at once (read-modify-write).
    #[serde(default)]
    workload: Option<RawWorkload>,
    /// What the response (or, for `concurrent`, the set of outcomes) must show.
    #[serde(default)]
    expect: Option<RawExpect>,
    /// Values to keep for later steps, by variable name; in a group, from the one 2xx winner.
    #[serde(default)]
    capture: BTreeMap<String, RawCapture>,
    /// What the step does once the target has shown only weak entity tags: `{ rule, expect }`
    /// in place of the step's, or `{ skip: reason }`.
    #[serde(default)]
    weak: Option<RawWeak>,
    /// Capabilities this step needs beyond the scenario's `requires`: without them it is not
    /// sent while the other steps run.
    #[serde(default)]
    requires: Vec<Need>,
}

/// The schema of a step as written (see `schema.rs`).
pub(super) fn raw_step_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
    <RawStep as schemars::JsonSchema>::json_schema(generator)
}

/// `weak:` on a step: `{ rule, expect }` in place of the step's, or `{ skip: reason }`.
#[derive(Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Weak")]
struct RawWeak {
    #[serde(default)]
    rule: Option<String>,
    #[serde(default)]
    expect: Option<RawExpect>,
    #[serde(default)]
    skip: Option<String>,
}

#[derive(Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Workload")]
struct RawWorkload {
    /// Clients running at once; `{{index}}` is the client.
    #[schemars(range(min = 1))]
    clients: u32,
    /// Iterations per client (1 by default); `{{iteration}}` is the iteration.
    #[serde(default)]
    repeat: Option<u32>,
    /// Start an iteration again when a step fails with one of these statuses (412 for a lost
    /// compare-and-set), at most `max` times.
    #[serde(default)]
    retry: Option<Retry>,
    /// The steps each client runs in turn; captures stay with their client.
    steps: Vec<Step>,
}

#[derive(Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Concurrent", transform = concurrent_rules)]
struct RawGroup {
    /// Copies of `request` released together; `{{index}}` is 0..count-1.
    #[serde(default)]
    #[schemars(range(min = 2, max = 1000))]
    count: Option<u32>,
    /// The request each of `count` copies sends.
    #[serde(default)]
    request: Option<Request>,
    /// Different requests released together; `{{index}}` is the position in the list.
    #[serde(default)]
    requests: Option<Vec<Request>>,
    /// How the requests are released; chosen per round when absent.
    #[serde(default)]
    sync: Option<SyncMode>,
    /// Member k released k × this after the first.
    #[serde(default, deserialize_with = "super::model::duration")]
    #[schemars(with = "Option<DurationText>")]
    stagger: Option<Duration>,
}

#[derive(Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "StepExpect")]
struct RawExpect {
    /// The status: `200`, `2xx`, `[200, 204]`, `stale` or `replaced`.
    #[serde(default)]
    status: Option<StatusSet>,
    /// Checks on header fields: `ETag: '"v1"'` (equals) or a map of checks.
    #[serde(default)]
    headers: OrderedMap<FieldName, Shorthand<HeaderCheck>>,
    /// Checks on the content: a string (equals) or a map of checks.
    #[serde(default)]
    body: Option<Shorthand<BodyCheck>>,
    /// Compare the content with a stored snapshot of this name (`--update-snapshots` records it).
    #[serde(default)]
    snapshot: Option<Shorthand<Snapshot>>,
    /// The response points at documentation (a `Link` header or a problem document's `type`).
    #[serde(default)]
    documentation_link: bool,
    /// A concurrent group: exactly this many outcomes with each status (`{ 2xx: 1, 412: 4 }`).
    #[serde(default)]
    exactly: BTreeMap<StatusPattern, u32>,
    /// A concurrent group: at least this many outcomes with each status.
    #[serde(default)]
    at_least: BTreeMap<StatusPattern, u32>,
    /// A concurrent group: at most this many outcomes with each status.
    #[serde(default)]
    at_most: BTreeMap<StatusPattern, u32>,
    /// A concurrent group: what every outcome whose status no count names must show.
    #[serde(default)]
    others: Option<Expect>,
    /// A concurrent group: what every outcome must show.
    #[serde(default)]
    each: Option<Expect>,
    /// A concurrent group: every 2xx outcome has the same content (one result, replayed).
    #[serde(default)]
    identical_2xx: bool,
}

#[derive(Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Capture")]
struct RawCapture {
    /// A header field's value (`ETag`).
    #[serde(default)]
    header: Option<String>,
    /// The status code.
    #[serde(default)]
    status: bool,
    /// The content (the sample inside a profile's `body_format`).
    #[serde(default)]
    body: bool,
    /// A value of the JSON content: a pointer (`/id`) or a JSONPath (`$.id`).
    #[serde(default)]
    json: Option<JsonQuery>,
    /// The resource's version, wherever the profile's `version:` says it is (the ETag by
    /// default).
    #[serde(default)]
    version: bool,
    /// Applied to the captured text: the first group if the pattern has one, else the match.
    #[serde(default)]
    regex: Option<Pattern>,
    /// Mask the value in every report.
    #[serde(default)]
    secret: bool,
    /// The value must be a strong entity tag (read again for a few seconds while it is weak).
    #[serde(default)]
    strong: bool,
}

/// What shaping asks of a concurrent group that a schema can say: `count` with `request` or a
/// `requests` list; no `stagger` with HTTP/2 (one write releases every stream); `last-byte`
/// holds back content, so each request has some.
fn concurrent_rules(schema: &mut schemars::Schema) {
    let rules = serde_json::json!({
        "oneOf": [
            { "required": ["count", "request"], "not": { "required": ["requests"] } },
            { "required": ["requests"], "not": { "anyOf": [{ "required": ["count"] }, { "required": ["request"] }] } },
        ],
        "allOf": [
            {
                "if": { "required": ["sync"], "properties": { "sync": { "const": "http2" } } },
                "then": { "not": { "required": ["stagger"] } },
            },
            {
                "if": { "required": ["sync"], "properties": { "sync": { "const": "last-byte" } } },
                "then": {
                    "properties": {
                        "request": { "required": ["body"] },
                        "requests": { "items": { "required": ["body"] } },
                    },
                },
            },
        ],
    });
    if let serde_json::Value::Object(rules) = rules {
        schema
            .as_object_mut()
            .expect("an object schema")
            .extend(rules);
    }
}

/// The largest concurrent group; beyond this a race says more about the client than the server.
pub const MAX_GROUP: u32 = 1000;

impl<'de> Deserialize<'de> for Step {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = RawStep::deserialize(d)?;
        shape_step(raw).map_err(de::Error::custom)
    }
}

fn shape_step(mut raw: RawStep) -> Result<Step, String> {
    let on_weak = match raw.weak.take() {
        None => None,
        Some(RawWeak {
            skip: Some(why),
            rule: None,
            expect: None,
        }) => Some(OnWeak::Skip(why)),
        Some(RawWeak { skip: Some(_), .. }) => {
            return Err(format!(
                "step `{}`: `weak` either skips the step or judges it (`rule`, `expect`), not both",
                raw.name
            ))
        }
        Some(weak) => {
            let mut other = raw.clone();
            other.rule = weak.rule.or(other.rule);
            other.expect = weak.expect;
            Some(OnWeak::Judge(Box::new(shape_step(other)?)))
        }
    };
    let requires = raw.requires.clone();
    let mut step = shape_action(raw)?;
    step.on_weak = on_weak;
    step.requires = requires;
    Ok(step)
}

fn shape_action(raw: RawStep) -> Result<Step, String> {
    let name = raw.name;
    let expect = raw.expect;
    if let Some(workload) = raw.workload {
        if raw.request.is_some() || raw.concurrent.is_some() {
            return Err(format!(
                "step `{name}`: a step has one of `request`, `concurrent`, `workload`"
            ));
        }
        if expect.is_some() || !raw.capture.is_empty() {
            return Err(format!(
                "step `{name}`: a workload's expectations and captures go in its own `steps`; \
                 check the result in a later step (`{{{{workload.writes}}}}` counts the iterations that succeeded)"
            ));
        }
        let workload = shape_workload(&name, workload)?;
        return Ok(Step {
            name,
            rule: raw.rule,
            action: Action::Workload(workload),
            capture: BTreeMap::new(),
            on_weak: None,
            requires: Vec::new(),
            set_aside: None,
        });
    }
    let action = match (raw.request, raw.concurrent) {
        (Some(request), None) => {
            if request.after.is_some() {
                return Err(format!(
                    "step `{name}`: `after` delays a member of a `concurrent` group; a single \
                     request runs when its step comes"
                ));
            }
            let expect = match expect {
                None => Expect::default(),
                Some(e) => {
                    let group_only = [
                        ("exactly", !e.exactly.is_empty()),
                        ("at_least", !e.at_least.is_empty()),
                        ("at_most", !e.at_most.is_empty()),
                        ("others", e.others.is_some()),
                        ("each", e.each.is_some()),
                        ("identical_2xx", e.identical_2xx),
                    ];
                    if let Some((key, _)) = group_only.iter().find(|(_, used)| *used) {
                        return Err(format!(
                            "step `{name}`: `expect.{key}` applies to a `concurrent` group, not to a single `request`"
                        ));
                    }
                    Expect {
                        status: e.status,
                        headers: e.headers,
                        body: e.body,
                        snapshot: e.snapshot,
                        documentation_link: e.documentation_link,
                    }
                }
            };
            Action::Send { request, expect }
        }
        (None, Some(group)) => {
            let group = shape_group(&name, group)?;
            let expect = match expect {
                None => GroupExpect::default(),
                Some(e) => {
                    let single = [
                        ("status", e.status.is_some()),
                        ("headers", !e.headers.0.is_empty()),
                        ("body", e.body.is_some()),
                        ("snapshot", e.snapshot.is_some()),
                        ("documentation_link", e.documentation_link),
                    ];
                    if let Some((key, _)) = single.iter().find(|(_, used)| *used) {
                        return Err(format!(
                            "step `{name}`: a concurrent group has many outcomes; put `{key}` under \
                             `expect.each` (every outcome) or `expect.others` (outcomes not counted), \
                             or count statuses with `exactly`, `at_least`, `at_most`"
                        ));
                    }
                    GroupExpect {
                        exactly: e.exactly.into_iter().collect(),
                        at_least: e.at_least.into_iter().collect(),
                        at_most: e.at_most.into_iter().collect(),
                        others: e.others,
                        each: e.each,
                        identical_2xx: e.identical_2xx,
                    }
                }
            };
            Action::Race {
                group,
                expect: Box::new(expect),
            }
        }
        (Some(_), Some(_)) => {
            return Err(format!(
                "step `{name}` has both `request` and `concurrent`: a step does one of them"
            ))
        }
        (None, None) => {
            return Err(format!(
                "step `{name}` needs `request` (one request), `concurrent` (a group) or `workload` (clients looping)"
            ))
        }
    };
    let capture = raw
        .capture
        .into_iter()
        .map(|(var, c)| shape_capture(&name, &var, c).map(|c| (var, c)))
        .collect::<Result<_, _>>()?;
    Ok(Step {
        name,
        rule: raw.rule,
        action,
        capture,
        on_weak: None,
        requires: Vec::new(),
        set_aside: None,
    })
}

fn shape_workload(step: &str, raw: RawWorkload) -> Result<Workload, String> {
    if !(1..=MAX_GROUP).contains(&raw.clients) {
        return Err(format!(
            "step `{step}`: `clients` must be between 1 and {MAX_GROUP}"
        ));
    }
    let repeat = raw.repeat.unwrap_or(1);
    if !(1..=100_000).contains(&repeat) {
        return Err(format!(
            "step `{step}`: `repeat` must be between 1 and 100000"
        ));
    }
    if raw.steps.is_empty() {
        return Err(format!("step `{step}`: a workload needs `steps`"));
    }
    if let Some(inner) = raw
        .steps
        .iter()
        .find(|s| !matches!(s.action, Action::Send { .. }))
    {
        return Err(format!(
            "step `{step}`: workload step `{}` must be a single `request`",
            inner.name
        ));
    }
    Ok(Workload {
        clients: raw.clients,
        repeat,
        retry: raw.retry,
        steps: raw.steps,
    })
}

/// A stagger is a small offset between members (the release spins between them); a longer
/// wait is what `after:` says.
const MAX_STAGGER: Duration = Duration::from_millis(10);

fn shape_group(step: &str, raw: RawGroup) -> Result<Group, String> {
    let requests = match (raw.count, raw.request, raw.requests) {
        (Some(count), Some(request), None) => {
            if !(2..=MAX_GROUP).contains(&count) {
                return Err(format!(
                    "step `{step}`: `count` must be between 2 and {MAX_GROUP}, not {count}"
                ));
            }
            GroupRequests::Repeat { count, request }
        }
        (None, None, Some(list)) => {
            if list.len() < 2 || list.len() > MAX_GROUP as usize {
                return Err(format!(
                    "step `{step}`: `requests` needs between 2 and {MAX_GROUP} entries"
                ));
            }
            GroupRequests::List(list)
        }
        _ => {
            return Err(format!(
            "step `{step}`: a concurrent group needs `count` with `request`, or a `requests` list"
        ))
        }
    };
    if let GroupRequests::Repeat { request, .. } = &requests {
        if request.after.is_some() {
            return Err(format!(
                "step `{step}`: `after` delays one member of a `requests` list; with `count`, \
                 every copy would wait alike"
            ));
        }
    }
    let delayed = (0..requests.len()).any(|i| requests.get(i).after.is_some());
    if delayed && raw.sync == Some(SyncMode::Http2) {
        return Err(format!(
            "step `{step}`: `after` needs connections of their own: use `sync: barrier` or \
             `last-byte`, not `http2`"
        ));
    }
    if delayed && (0..requests.len()).all(|i| requests.get(i).after.is_some()) {
        return Err(format!(
            "step `{step}`: every request has `after`: at least one is released first"
        ));
    }
    if raw.sync == Some(SyncMode::LastByte) {
        // Known before anything is sent: last-byte holds back a byte of each body.
        let bodiless = (0..requests.len()).find(|&i| requests.get(i).body.is_none());
        if let Some(i) = bodiless {
            let method = &requests.get(i).method.0;
            return Err(format!(
                "step `{step}`: `sync: last-byte` holds back each request's last content byte, \
                 but request #{i} ({method}) has no content: use `sync: barrier`"
            ));
        }
    }
    if raw.stagger.is_some() && raw.sync == Some(SyncMode::Http2) {
        return Err(format!(
            "step `{step}`: `stagger` offsets members on connections of their own; `sync: \
             http2` releases the whole group in one packet"
        ));
    }
    if raw.stagger.is_some_and(|s| s > MAX_STAGGER) {
        return Err(format!(
            "step `{step}`: `stagger` is the offset between two members, at most {}",
            humantime::format_duration(MAX_STAGGER)
        ));
    }
    Ok(Group {
        requests,
        sync: raw.sync,
        stagger: raw.stagger,
    })
}

fn shape_capture(step: &str, var: &str, raw: RawCapture) -> Result<Capture, String> {
    let mut sources = Vec::new();
    if let Some(name) = raw.header {
        sources.push(CaptureSource::Header(name));
    }
    if raw.status {
        sources.push(CaptureSource::Status);
    }
    if raw.body {
        sources.push(CaptureSource::Body);
    }
    if let Some(query) = raw.json {
        sources.push(CaptureSource::Json(query));
    }
    if raw.version {
        sources.push(CaptureSource::Version);
    }
    if sources.len() != 1 {
        return Err(format!(
            "step `{step}`, capture `{var}`: name exactly one source: `header: NAME`, `status: true`, \
             `body: true`, `json: QUERY` or `version: true` (found {})",
            sources.len()
        ));
    }
    let source = sources.remove(0);
    if raw.strong && !matches!(source, CaptureSource::Header(_) | CaptureSource::Version) {
        return Err(format!(
            "step `{step}`, capture `{var}`: `strong: true` applies to a `header` capture (ETag)"
        ));
    }
    Ok(Capture {
        source,
        regex: raw.regex,
        secret: raw.secret,
        strong: raw.strong,
    })
}
