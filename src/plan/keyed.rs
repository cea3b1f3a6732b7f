//! A profile's keyed endpoint (`idempotency:`). The built-in Idempotency-Key scenarios are
//! written against the reference server: payments POSTed to `/api/payments` as
//! `{"amount", "currency", "reference"}`, refunds to `/api/refunds`, and a count of what was
//! executed at `GET /api/payments?reference={{key}}`, read at `/count`. Planned for a target
//! with a profile, each of those goes where the profile says, in its shape.

use std::collections::BTreeMap;

use crate::scenario::{
    Body, Capture, CaptureSource, Expect, FieldName, GroupExpect, JsonQuery, KeyedEndpoint,
    Request, Scenario, Step, Template, VisitMut,
};

const PAYMENTS: &str = "/api/payments";
const REFUNDS: &str = "/api/refunds";
const COUNT: &str = "/api/payments?reference=";

/// `scenario` with its keyed requests and its count reads placed at `keyed`.
pub(super) fn place(mut scenario: Scenario, keyed: &KeyedEndpoint) -> Result<Scenario, String> {
    let reads_count = (scenario.steps.iter().chain(&scenario.cleanup))
        .flat_map(Step::requests)
        .any(|r| r.path.as_str().starts_with(COUNT));
    for step in scenario.steps.iter_mut().chain(scenario.cleanup.iter_mut()) {
        place_in_step(step, keyed)?;
    }
    // A count that filters by nothing (`/stats`) is every scenario's: one that reads it runs
    // alone, so no other scenario's payment moves it.
    if reads_count && keyed.count.variables().next().is_none() {
        scenario.alone = true;
    }
    Ok(scenario)
}

fn place_in_step(step: &mut Step, keyed: &KeyedEndpoint) -> Result<(), String> {
    step.walk_mut(&mut Place {
        keyed,
        to_other: false,
    })
}

/// The keyed requests, count reads and counts placed at the profile's endpoint, through the
/// shared walk. `to_other`: the request just walked goes to the profile's other endpoint, so
/// the expectation that follows it is about that endpoint's answer.
struct Place<'a> {
    keyed: &'a KeyedEndpoint,
    to_other: bool,
}

impl VisitMut for Place<'_> {
    fn request(&mut self, request: &mut Request) -> Result<(), String> {
        let path = request.path.as_str();
        if path.starts_with(COUNT) {
            request.path = self.keyed.count.clone();
        } else if request.method.0 == "POST" && path == PAYMENTS {
            request.path = self.keyed.endpoint.clone();
            shape_body(request, &self.keyed.body)?;
        } else if let (true, Some(other)) = (
            request.method.0 == "POST" && path == REFUNDS,
            &self.keyed.other_endpoint,
        ) {
            request.path = other.clone();
            let body = (self.keyed.other_body)
                .as_ref()
                .ok_or("profile idempotency: other_endpoint needs other_body")?;
            shape_body(request, body)?;
        }
        self.to_other = self.keyed.other_endpoint.as_ref() == Some(&request.path);
        Ok(())
    }

    fn expect(&mut self, expect: &mut Expect) -> Result<(), String> {
        recount_expect(expect, self.keyed, self.to_other);
        Ok(())
    }

    fn group_expect(&mut self, _: &mut GroupExpect) -> Result<(), String> {
        // A group's members' expectations are about the keyed endpoint itself.
        self.to_other = false;
        Ok(())
    }

    fn captures(&mut self, captures: &mut BTreeMap<String, Capture>) -> Result<(), String> {
        for capture in captures.values_mut() {
            if let CaptureSource::Json(query) = &mut capture.source {
                recount(query, self.keyed);
            }
        }
        Ok(())
    }
}

/// The request's JSON content in the profile's shape: `{{amount}}` from what it sent.
fn shape_body(request: &mut Request, shape: &Template) -> Result<(), String> {
    let amount = match request.body.as_ref().map(|b| &*b.0) {
        Some(Body::Json(doc)) => doc.get("amount").map(|a| a.to_string()),
        _ => None,
    }
    .unwrap_or_else(|| "0".into());
    let text = shape.as_str().replace("{{amount}}", &amount);
    let body = Body::Text(Template::parse(&text)?);
    request.body = Some(crate::scenario::Shorthand(Box::new(body)));
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
