//! A profile's keyed endpoint (`idempotency:`). The built-in Idempotency-Key scenarios are
//! written against the reference server: payments POSTed to `/api/payments` as
//! `{"amount", "currency", "reference"}`, refunds to `/api/refunds`, and a count of what was
//! executed at `GET /api/payments?reference={{key}}`, read at `/count`. Planned for a target
//! with a profile, each of those goes where the profile says, in its shape.

use crate::scenario::{
    Action, Body, CaptureSource, Expect, FieldName, JsonQuery, KeyedEndpoint, Request, Scenario,
    Step, Template,
};

const PAYMENTS: &str = "/api/payments";
const REFUNDS: &str = "/api/refunds";
const COUNT: &str = "/api/payments?reference=";

/// `scenario` with its keyed requests and its count reads placed at `keyed`.
pub(super) fn place(mut scenario: Scenario, keyed: &KeyedEndpoint) -> Result<Scenario, String> {
    for step in scenario.steps.iter_mut().chain(scenario.cleanup.iter_mut()) {
        place_in_step(step, keyed)?;
    }
    Ok(scenario)
}

fn place_in_step(step: &mut Step, keyed: &KeyedEndpoint) -> Result<(), String> {
    step.each_request_mut(&|request: &mut Request| {
        let path = request.path.as_str();
        if path.starts_with(COUNT) {
            request.path = keyed.count.clone();
        } else if request.method.0 == "POST" && path == PAYMENTS {
            request.path = keyed.endpoint.clone();
            shape_body(request, &keyed.body)?;
        } else if let (true, Some(other)) = (
            request.method.0 == "POST" && path == REFUNDS,
            &keyed.other_endpoint,
        ) {
            request.path = other.clone();
            let body = keyed
                .other_body
                .as_ref()
                .ok_or("profile idempotency: other_endpoint needs other_body")?;
            shape_body(request, body)?;
        }
        Ok(())
    })?;
    let to_other = match &step.action {
        Action::Send { request, .. } => keyed.other_endpoint.as_ref() == Some(&request.path),
        _ => false,
    };
    for capture in step.capture.values_mut() {
        if let CaptureSource::Json(query) = &mut capture.source {
            recount(query, keyed);
        }
    }
    match &mut step.action {
        Action::Send { expect, .. } => recount_expect(expect, keyed, to_other),
        Action::Race { expect, .. } => {
            for e in expect.each.iter_mut().chain(expect.others.iter_mut()) {
                recount_expect(e, keyed, false);
            }
        }
        Action::Workload(workload) => {
            for step in workload.steps.iter_mut() {
                place_in_step(step, keyed)?;
            }
        }
    }
    Ok(())
}

/// The request's JSON content in the profile's shape: `{{amount}}` from what it sent.
fn shape_body(request: &mut Request, shape: &Template) -> Result<(), String> {
    let amount = match request.body.as_ref().map(|b| &b.0) {
        Some(Body::Json(doc)) => doc.get("amount").map(|a| a.to_string()),
        _ => None,
    }
    .unwrap_or_else(|| "0".into());
    let text = shape.as_str().replace("{{amount}}", &amount);
    request.body = Some(crate::scenario::Shorthand(Body::Text(Template::parse(
        &text,
    )?)));
    let has_type =
        (request.headers.0.iter()).any(|(name, _)| name.0.eq_ignore_ascii_case("content-type"));
    if !has_type {
        let json = Template::parse("application/json")?;
        request
            .headers
            .0
            .push((FieldName("Content-Type".into()), json));
    }
    Ok(())
}

fn recount(query: &mut JsonQuery, keyed: &KeyedEndpoint) {
    if query.as_str() == "/count" {
        *query = keyed.count_at.clone();
    }
}

/// The count read where the profile says. On the other endpoint the reference server's refund
/// content is not the target's: its shape is not checked, only its status.
fn recount_expect(expect: &mut Expect, keyed: &KeyedEndpoint, other_endpoint: bool) {
    let Some(body) = expect.body.as_mut().map(|b| &mut b.0) else {
        return;
    };
    if other_endpoint {
        body.json_subset = None;
    }
    for (query, _) in body.json_path.0.iter_mut() {
        recount(query, keyed);
    }
}
