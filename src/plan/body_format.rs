//! Sample bodies in the target's format (a profile's `body_format`): the built-in suite's text
//! samples put where the format says, and what is expected of them read back from there.

use std::collections::BTreeMap;

use crate::scenario::{
    Body, Capture, CaptureSource, Expect, JsonQuery, Request, Scenario, Step, Template, VisitMut,
};

pub(super) fn reshape(mut scenario: Scenario, format: &Template) -> Result<Scenario, String> {
    if !format.as_str().contains("{{body}}") {
        return Err(format!(
            "body_format {:?} has no `{{{{body}}}}` to put the sample body in",
            format.as_str()
        ));
    }
    let Some(at) = json_place(format.as_str()) else {
        // Not JSON (XML, iCalendar): the sample is put in as text, and so is what is expected.
        let wrap = |t: &mut Template| -> Result<(), String> {
            *t = Template::parse(&format.as_str().replace("{{body}}", t.as_str()))?;
            Ok(())
        };
        let mut pass = Reshape {
            wrap: &wrap,
            within: &|_| {},
            sample_at: None,
        };
        for step in scenario.steps.iter_mut().chain(scenario.cleanup.iter_mut()) {
            step.walk_mut(&mut pass)?;
        }
        return Ok(scenario);
    };
    // JSON: the sample goes in as a JSON string, and the checks and `body: true` captures
    // read it back from where it sits, whatever else the target adds (ids, versions). A
    // scenario that sends no text sample (its own JSON) is left as written.
    if !sends_text(&scenario) {
        return Ok(scenario);
    }
    let wrap = |t: &mut Template| -> Result<(), String> {
        let quoted = serde_json::to_string(t.as_str()).map_err(|e| e.to_string())?;
        let escaped = &quoted[1..quoted.len() - 1];
        *t = Template::parse(&format.as_str().replace("{{body}}", escaped))?;
        Ok(())
    };
    let within = |check: &mut crate::scenario::BodyCheck| check.sample_at = Some(at.clone());
    let mut pass = Reshape {
        wrap: &wrap,
        within: &within,
        sample_at: Some(&at),
    };
    for step in scenario.steps.iter_mut().chain(scenario.cleanup.iter_mut()) {
        step.walk_mut(&mut pass)?;
    }
    Ok(scenario)
}

fn sends_text(scenario: &Scenario) -> bool {
    scenario
        .steps
        .iter()
        .chain(&scenario.cleanup)
        .flat_map(Step::requests)
        .any(|request| matches!(request.body.as_deref(), Some(Body::Text(_))))
}

/// The JSON pointer of the `"{{body}}"` string in a JSON format, if the format is JSON.
fn json_place(format: &str) -> Option<JsonQuery> {
    const MARK: &str = "contend-sample-9f3b1c";
    let doc: serde_json::Value = serde_json::from_str(&format.replace("{{body}}", MARK)).ok()?;
    fn find(value: &serde_json::Value, at: String) -> Option<String> {
        match value {
            serde_json::Value::String(s) if s == MARK => Some(at),
            serde_json::Value::Object(map) => map.iter().find_map(|(k, v)| {
                let key = k.replace('~', "~0").replace('/', "~1");
                find(v, format!("{at}/{key}"))
            }),
            serde_json::Value::Array(items) => items
                .iter()
                .enumerate()
                .find_map(|(i, v)| find(v, format!("{at}/{i}"))),
            _ => None,
        }
    }
    JsonQuery::parse(&find(&doc, String::new())?).ok()
}

type Wrap<'a> = dyn Fn(&mut Template) -> Result<(), String> + 'a;
type Within<'a> = dyn Fn(&mut crate::scenario::BodyCheck) + 'a;

/// The rewrite, step by step through the shared walk: request content wrapped, expected
/// content wrapped (text) or read back from where the sample sits (JSON), and there too what a
/// `body: true` capture takes.
struct Reshape<'a> {
    wrap: &'a Wrap<'a>,
    within: &'a Within<'a>,
    sample_at: Option<&'a JsonQuery>,
}

impl VisitMut for Reshape<'_> {
    fn request(&mut self, request: &mut Request) -> Result<(), String> {
        request_body(request, self.wrap)
    }

    fn expect(&mut self, expect: &mut Expect) -> Result<(), String> {
        expected_body(expect, self.wrap, self.within)
    }

    fn captures(&mut self, captures: &mut BTreeMap<String, Capture>) -> Result<(), String> {
        for capture in captures.values_mut() {
            if let (Some(at), CaptureSource::Body) = (self.sample_at, &capture.source) {
                capture.source = CaptureSource::Json(at.clone());
            }
        }
        Ok(())
    }
}

fn request_body(request: &mut Request, wrap: &Wrap) -> Result<(), String> {
    match request.body.as_mut().map(|b| &mut b.0) {
        Some(Body::Text(text)) => wrap(text),
        _ => Ok(()),
    }
}

/// Text mode wraps the exact expectation; JSON mode points every check at the sample.
fn expected_body(expect: &mut Expect, wrap: &Wrap, within: &Within) -> Result<(), String> {
    let Some(check) = expect.body.as_mut().map(|b| &mut b.0) else {
        return Ok(());
    };
    within(check);
    match (&check.sample_at, check.equals.as_mut()) {
        (None, Some(equals)) => wrap(equals),
        _ => Ok(()),
    }
}
