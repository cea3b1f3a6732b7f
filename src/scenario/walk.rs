//! The walks over a scenario step: every request it sends and every template it holds, next
//! to the model so that a field added to a request or an expectation is walked where it is
//! declared, by everything that walks (planning passes, static checks, applicability,
//! execution).

use super::model::*;
use super::template::{json_templates, Template};

impl Step {
    /// Every request the step sends, in order: its own, a group's (a `count` group's one
    /// request once), a workload's steps'. The one walk over a step's requests: planning
    /// passes, applicability and execution read them here.
    pub fn requests(&self) -> Vec<&Request> {
        match &self.action {
            Action::Send { request, .. } => vec![request],
            Action::Race { group, .. } => match &group.requests {
                GroupRequests::Repeat { request, .. } => vec![request],
                GroupRequests::List(list) => list.iter().collect(),
            },
            Action::Workload(workload) => workload.steps.iter().flat_map(Step::requests).collect(),
        }
    }

    /// The same walk, to change each request; stops at the first error.
    pub fn each_request_mut(
        &mut self,
        f: &dyn Fn(&mut Request) -> Result<(), String>,
    ) -> Result<(), String> {
        match &mut self.action {
            Action::Send { request, .. } => f(request),
            Action::Race { group, .. } => match &mut group.requests {
                GroupRequests::Repeat { request, .. } => f(request),
                GroupRequests::List(list) => list.iter_mut().try_for_each(f),
            },
            Action::Workload(workload) => {
                (workload.steps.iter_mut()).try_for_each(|s| s.each_request_mut(f))
            }
        }
    }

    /// All templates of a step: its requests' and its expectations' (a workload's steps'
    /// included), for the static check that each names something defined.
    pub fn templates(&self) -> Result<Vec<Template>, String> {
        let step = self;
        let mut out = Vec::new();
        let label = |e: String| format!("step `{}`: {e}", step.name);
        match &step.action {
            Action::Send { request, expect } => {
                request.templates(&mut out).map_err(label)?;
                expect.templates(&mut out).map_err(label)?;
            }
            Action::Race { group, expect } => {
                match &group.requests {
                    GroupRequests::Repeat { request, .. } => request.templates(&mut out),
                    GroupRequests::List(list) => {
                        list.iter().try_for_each(|r| r.templates(&mut out))
                    }
                }
                .map_err(label)?;
                let GroupExpect { others, each, .. } = expect;
                for e in others.iter().chain(each) {
                    e.templates(&mut out).map_err(label)?;
                }
            }
            Action::Workload(workload) => {
                for each in &workload.steps {
                    out.extend(each.templates()?);
                }
            }
        }
        Ok(out)
    }
}

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
