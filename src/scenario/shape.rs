//! Steps as written, read as a raw map and then shaped into the model ([`Step`], its
//! [`Action`], groups, workloads, captures), so that misuse gets a message naming the step
//! ("step `race`: `after` delays one member of a `requests` list") rather than serde's
//! "data did not match any variant".

use std::collections::BTreeMap;
use std::time::Duration;

use serde::de::{self, Deserializer};
use serde::Deserialize;

use super::model::*;

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStep {
    name: String,
    #[serde(default)]
    rule: Option<String>,
    #[serde(default)]
    request: Option<Request>,
    #[serde(default)]
    concurrent: Option<RawGroup>,
    #[serde(default)]
    workload: Option<RawWorkload>,
    #[serde(default)]
    expect: Option<RawExpect>,
    #[serde(default)]
    capture: BTreeMap<String, RawCapture>,
    #[serde(default)]
    weak: Option<RawWeak>,
    #[serde(default)]
    requires: Vec<Need>,
}

/// `weak:` on a step: `{ rule, expect }` in place of the step's, or `{ skip: reason }`.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWeak {
    #[serde(default)]
    rule: Option<String>,
    #[serde(default)]
    expect: Option<RawExpect>,
    #[serde(default)]
    skip: Option<String>,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWorkload {
    clients: u32,
    #[serde(default)]
    repeat: Option<u32>,
    #[serde(default)]
    retry: Option<Retry>,
    steps: Vec<Step>,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    #[serde(default)]
    count: Option<u32>,
    #[serde(default)]
    request: Option<Request>,
    #[serde(default)]
    requests: Option<Vec<Request>>,
    #[serde(default)]
    sync: Option<SyncMode>,
    #[serde(default, deserialize_with = "super::model::duration")]
    stagger: Option<Duration>,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    #[serde(default)]
    status: Option<StatusSet>,
    #[serde(default)]
    headers: OrderedMap<FieldName, Shorthand<HeaderCheck>>,
    #[serde(default)]
    body: Option<Shorthand<BodyCheck>>,
    #[serde(default)]
    snapshot: Option<Shorthand<Snapshot>>,
    #[serde(default)]
    documentation_link: bool,
    #[serde(default)]
    exactly: BTreeMap<StatusPattern, u32>,
    #[serde(default)]
    at_least: BTreeMap<StatusPattern, u32>,
    #[serde(default)]
    at_most: BTreeMap<StatusPattern, u32>,
    #[serde(default)]
    others: Option<Expect>,
    #[serde(default)]
    each: Option<Expect>,
    #[serde(default)]
    identical_2xx: bool,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCapture {
    #[serde(default)]
    header: Option<String>,
    #[serde(default)]
    status: bool,
    #[serde(default)]
    body: bool,
    #[serde(default)]
    json: Option<JsonQuery>,
    #[serde(default)]
    version: bool,
    #[serde(default)]
    regex: Option<Pattern>,
    #[serde(default)]
    secret: bool,
    #[serde(default)]
    strong: bool,
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
            Action::Race { group, expect }
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
