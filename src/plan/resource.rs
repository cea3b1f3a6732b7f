//! The profile's resource model applied to a scenario: how this target creates, versions,
//! deletes and reads its resources, in place of the built-in suite's WebDAV-like defaults
//! (PUT to a path creates, the version is the ETag, DELETE takes `If-Match: *`).

use std::collections::BTreeMap;

use crate::scenario::{
    Action, Body, Capture, CaptureSource, CreateBy, DeleteStyle, Existing, Expect, FieldName,
    GroupExpect, Member, Request, Scenario, StatusPattern, StatusSet, Step, Template, VersionAt,
    VersionRead, VersionSend, Visit, VisitMut,
};

/// The rule the built-in create steps name; a profile's `create` takes their place.
const CREATE_RULE: &str = "put.created";

fn is_create(step: &Step) -> Option<&Request> {
    match &step.action {
        Action::Send { request, .. }
            if step.rule.as_deref() == Some(CREATE_RULE) && request.method.0 == "PUT" =>
        {
            Some(request)
        }
        _ => None,
    }
}

/// Every create step (a PUT under `rule: put.created`) becomes the profile's create request,
/// and every later path to the created resource (or beneath it) becomes its URL, captured from
/// the response.
pub(super) fn create_by(mut scenario: Scenario, create: &CreateBy) -> Result<Scenario, String> {
    let mut renamed: Vec<(String, String)> = Vec::new();
    let mut creates = 0;
    for step in scenario.steps.iter_mut() {
        let created = is_create(step).map(|r| r.path.as_str().to_owned());
        if let Some(resource) = created {
            creates += 1;
            let var = format!("created_{creates}");
            let (source, url) = match (&create.url.header, &create.url.json, &create.url.path) {
                (Some(name), None, None) => (CaptureSource::Header(name.clone()), var.clone()),
                (None, Some(query), None) => (CaptureSource::Json(query.clone()), var.clone()),
                (None, Some(query), Some(path)) if path.as_str().contains("{{id}}") => (
                    CaptureSource::Json(query.clone()),
                    path.as_str().replace("{{id}}", &format!("{{{{{var}}}}}")),
                ),
                _ => {
                    return Err(
                        "profile create.url: give `header: NAME`, or `json: POINTER` \
                                with an optional `path` holding `{{id}}`"
                            .into(),
                    )
                }
            };
            let Action::Send { request, expect } = &mut step.action else {
                unreachable!("is_create matched a Send");
            };
            request.method = create.method.clone();
            request.path = create.path.clone();
            expect.status = Some(create.status.clone());
            step.rule = None;
            step.name = format!("{} (the profile's create)", step.name);
            step.capture.insert(
                var.clone(),
                Capture {
                    source,
                    regex: None,
                    secret: false,
                    strong: false,
                },
            );
            let url = match url == var {
                true => format!("{{{{{var}}}}}"),
                false => url,
            };
            renamed.push((resource, url));
            continue;
        }
        rename_paths(step, &renamed)?;
    }
    for step in scenario.cleanup.iter_mut() {
        rename_paths(step, &renamed)?;
    }
    Ok(scenario)
}

fn rename_paths(step: &mut Step, renamed: &[(String, String)]) -> Result<(), String> {
    step.each_request_mut(&|request: &mut Request| {
        let path = request.path.as_str();
        for (from, to) in renamed {
            if let Some(rest) = path.strip_prefix(from.as_str()) {
                if rest.is_empty() || rest.starts_with('/') || rest.starts_with('?') {
                    request.path = Template::parse(&format!("{to}{rest}"))?;
                    break;
                }
            }
        }
        Ok(())
    })
}

/// Cleanup DELETEs in the profile's `delete` style. `version` reads the resource's version
/// first and sends it as writes do.
pub(super) fn delete_style(mut scenario: Scenario, style: DeleteStyle) -> Scenario {
    let mut cleanup = Vec::new();
    for (n, mut step) in std::mem::take(&mut scenario.cleanup)
        .into_iter()
        .enumerate()
    {
        let Action::Send { request, .. } = &mut step.action else {
            cleanup.push(step);
            continue;
        };
        if request.method.0 != "DELETE" {
            cleanup.push(step);
            continue;
        }
        request
            .headers
            .0
            .retain(|(name, _)| !name.0.eq_ignore_ascii_case("if-match"));
        match style {
            DeleteStyle::Unconditional => {}
            DeleteStyle::IfMatchStar => request
                .headers
                .0
                .push((FieldName("If-Match".into()), Template::literal("*"))),
            DeleteStyle::Version => {
                let var = format!("cleanup_version_{n}");
                request.version =
                    Some(Template::parse(&format!("{{{{{var}}}}}")).expect("a valid template"));
                cleanup.push(read_version(&step.name, &request.path, &var));
            }
        }
        cleanup.push(step);
    }
    scenario.cleanup = cleanup;
    scenario
}

fn read_version(name: &str, path: &Template, var: &str) -> Step {
    let request = Request {
        method: Default::default(),
        path: path.clone(),
        headers: Default::default(),
        headers_if: Default::default(),
        body: None,
        timeout: None,
        after: None,
        raw: false,
        version: None,
        json_members: Vec::new(),
    };
    Step {
        name: format!("{name}: read the version"),
        rule: None,
        on_weak: None,
        requires: Vec::new(),
        set_aside: None,
        action: Action::Send {
            request,
            expect: Expect {
                status: Some(StatusSet(vec![StatusPattern::Class(2)])),
                ..Default::default()
            },
        },
        capture: [(
            var.to_owned(),
            Capture {
                source: CaptureSource::Version,
                regex: None,
                secret: false,
                strong: false,
            },
        )]
        .into(),
    }
}

/// `version:` request fields, `version: true` captures and `stale` statuses put where the
/// profile says (the ETag and If-Match, 412, by default).
pub(super) fn place_versions(mut scenario: Scenario, at: &VersionAt) -> Result<Scenario, String> {
    let stale = at.stale_status();
    for step in scenario.steps.iter_mut().chain(scenario.cleanup.iter_mut()) {
        place_in_step(step, at, stale)?;
    }
    Ok(scenario)
}

fn place_in_step(step: &mut Step, at: &VersionAt, stale: u16) -> Result<(), String> {
    step.walk_mut(&mut PlaceVersions { at, stale })
}

/// The version where the profile says, through the shared walk: each request's `version:`
/// sent as a header, a JSON member or a query parameter; `{version: true}` captures read from
/// where it comes back; `stale` statuses made the target's own.
struct PlaceVersions<'a> {
    at: &'a VersionAt,
    stale: u16,
}

impl PlaceVersions<'_> {
    fn stale_of(&self, pattern: &mut StatusPattern) {
        if *pattern == StatusPattern::Stale {
            *pattern = StatusPattern::Exact(self.stale);
        }
    }
}

impl VisitMut for PlaceVersions<'_> {
    fn request(&mut self, request: &mut Request) -> Result<(), String> {
        let Some(version) = request.version.take() else {
            return Ok(());
        };
        match &self.at.send {
            VersionSend::Header(name) => request.headers.0.push((FieldName(name.clone()), version)),
            VersionSend::Json(name) => request.json_members.push((name.clone(), version)),
            VersionSend::Query(name) => {
                let path = request.path.as_str();
                let sep = if path.contains('?') { '&' } else { '?' };
                request.path = Template::parse(&format!("{path}{sep}{name}={}", version.as_str()))?;
            }
        }
        Ok(())
    }

    fn expect(&mut self, expect: &mut Expect) -> Result<(), String> {
        for set in expect.status.iter_mut() {
            set.0.iter_mut().for_each(|p| self.stale_of(p));
        }
        Ok(())
    }

    fn group_expect(&mut self, expect: &mut GroupExpect) -> Result<(), String> {
        let counts = (expect.exactly.iter_mut())
            .chain(expect.at_least.iter_mut())
            .chain(expect.at_most.iter_mut());
        counts.for_each(|(pattern, _)| self.stale_of(pattern));
        Ok(())
    }

    fn captures(&mut self, captures: &mut BTreeMap<String, Capture>) -> Result<(), String> {
        for capture in captures.values_mut() {
            if matches!(capture.source, CaptureSource::Version) {
                capture.source = match &self.at.read {
                    VersionRead::Header(name) => CaptureSource::Header(name.clone()),
                    VersionRead::Json(query) => CaptureSource::Json(query.clone()),
                };
            }
        }
        Ok(())
    }
}

/// Whether anything in `scenario` is for [`place_versions`] to place (a request's `version:`,
/// a `{version: true}` capture, a `stale` status): without, it would change nothing, and a
/// large scenario need not be copied for it.
pub(super) fn mentions_versions(scenario: &Scenario) -> bool {
    scenario
        .steps
        .iter()
        .chain(&scenario.cleanup)
        .any(step_mentions_versions)
}

fn step_mentions_versions(step: &Step) -> bool {
    #[derive(Default)]
    struct Mentions(bool);
    impl<'a> Visit<'a> for Mentions {
        fn request(&mut self, _: &'a Step, _: Member, request: &'a Request) {
            self.0 |= request.version.is_some();
        }
        fn expect(&mut self, _: &'a Step, expect: &'a Expect) {
            self.0 |= (expect.status.iter()).any(|set| set.0.contains(&StatusPattern::Stale));
        }
        fn group_expect(&mut self, _: &'a Step, expect: &'a GroupExpect) {
            self.0 |= expect.counts(StatusPattern::Stale);
        }
        fn captures(&mut self, _: &'a Step, captures: &'a BTreeMap<String, Capture>) {
            self.0 |= (captures.values()).any(|c| matches!(c.source, CaptureSource::Version));
        }
    }
    let mut mentions = Mentions::default();
    step.walk(&mut mentions);
    mentions.0
}

pub(super) use crate::scenario::method_reads as is_read;

/// The first request of the scenario (cleanup included) that writes, if any.
pub(super) fn writes(scenario: &Scenario) -> Option<String> {
    scenario
        .steps
        .iter()
        .chain(&scenario.cleanup)
        .filter(|step| step.set_aside.is_none())
        .find_map(|step| {
            let write = step
                .requests()
                .into_iter()
                .find(|request| !is_read(&request.method.0))?;
            Some(format!(
                "step `{}` sends {} {}",
                step.name,
                write.method.0,
                write.path.as_str()
            ))
        })
}

/// The scenario on an existing resource instead of one it creates: the create step and the
/// cleanup of that resource go, its path and the content it wrote become the existing one's,
/// and every other write is set aside (not sent: the target is read-only), so the reads before
/// it still judge. `None` when the scenario does not create exactly one resource from text.
pub(super) fn on_existing(scenario: &Scenario, existing: &Existing) -> Option<Scenario> {
    let creates: Vec<usize> = (0..scenario.steps.len())
        .filter(|&i| is_create(&scenario.steps[i]).is_some())
        .collect();
    let [create] = creates[..] else {
        return None;
    };
    let created = is_create(&scenario.steps[create])?;
    let path = created.path.as_str().to_owned();
    let written = match created.body.as_deref() {
        Some(Body::Text(text)) => text.as_str().to_owned(),
        _ => return None,
    };
    let mut scenario = scenario.clone();
    scenario.steps.remove(create);
    scenario.cleanup.retain(|step| {
        !matches!(&step.action, Action::Send { request, .. }
            if request.method.0 == "DELETE" && request.path.as_str() == path)
    });
    let body = Template::literal(&existing.body);
    for step in scenario.steps.iter_mut().chain(scenario.cleanup.iter_mut()) {
        step.each_request_mut(&|request: &mut Request| {
            if request.path.as_str() == path {
                request.path = existing.path.clone();
            }
            Ok(())
        })
        .ok()?;
        if let Action::Send { expect, .. } = &mut step.action {
            if let Some(check) = expect.body.as_mut().and_then(|b| b.0.equals.as_mut()) {
                if check.as_str() == written {
                    *check = body.clone();
                }
            }
        }
    }
    for step in scenario.steps.iter_mut().chain(scenario.cleanup.iter_mut()) {
        let write = step
            .requests()
            .into_iter()
            .find(|request| !is_read(&request.method.0))
            .map(|w| format!("{} {}", w.method.0, w.path.as_str()));
        if let Some(write) = write {
            step.set_aside = Some(format!("the target is read-only and it sends {write}"));
        }
    }
    Some(scenario)
}

/// The first update (a write to a path an earlier step wrote) that carries no version, on a
/// target that refuses those: its answer would be that refusal, not a verdict.
pub(super) fn unversioned_update(scenario: &Scenario) -> Option<String> {
    let mut written: Vec<&str> = Vec::new();
    for step in &scenario.steps {
        for request in step.requests() {
            let (method, path) = (request.method.0.as_str(), request.path.as_str());
            if is_read(method) || method == "DELETE" {
                continue;
            }
            if written.contains(&path) && request.version.is_none() {
                return Some(format!(
                    "step `{}` updates without the version ({method} {path})",
                    step.name
                ));
            }
            written.push(path);
        }
    }
    None
}
