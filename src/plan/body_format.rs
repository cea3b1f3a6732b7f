//! Sample bodies in the target's format (a profile's `body_format`): the built-in suite's text
//! samples put where the format says, and what is expected of them read back from there.

use std::collections::BTreeMap;

use crate::scenario::{
    Body, Capture, CaptureSource, Expect, JsonQuery, Request, SampleAt, Scenario, Step, Template,
    VisitMut,
};

pub(super) fn reshape(mut scenario: Scenario, format: &Template) -> Result<Scenario, String> {
    if !format.as_str().contains("{{body}}") {
        return Err(format!(
            "body_format {:?} has no `{{{{body}}}}` to put the sample body in",
            format.as_str()
        ));
    }
    // A scenario that sends no text sample (its own JSON, a keyed payment) is left as written.
    if !sends_text(&scenario) {
        return Ok(scenario);
    }
    let Some(at) = json_place(format.as_str()) else {
        // Not JSON (XML, iCalendar): the sample is put in as text, and the checks and
        // `body: true` captures read it back from between the format's text around it.
        let wrap = |t: &mut Template| -> Result<(), String> {
            *t = Template::parse(&format.as_str().replace("{{body}}", t.as_str()))?;
            Ok(())
        };
        let at = text_place(format.as_str());
        let within = |check: &mut crate::scenario::BodyCheck| check.sample_at = Some(at.clone());
        let mut pass = Reshape {
            wrap: &wrap,
            within: &within,
            sample_at: Some(&at),
        };
        for step in scenario.steps.iter_mut().chain(scenario.cleanup.iter_mut()) {
            step.walk_mut(&mut pass)?;
        }
        return Ok(scenario);
    };
    // JSON: the sample goes in as a JSON string, and the checks and `body: true` captures
    // read it back from where it sits, whatever else the target adds (ids, versions).
    let wrap = |t: &mut Template| -> Result<(), String> {
        let quoted = serde_json::to_string(t.as_str()).map_err(|e| e.to_string())?;
        let escaped = &quoted[1..quoted.len() - 1];
        *t = Template::parse(&format.as_str().replace("{{body}}", escaped))?;
        Ok(())
    };
    let at = SampleAt::Json(at);
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

/// Where the sample sits in a text format: after the format's text before `{{body}}` on its
/// line (the whole line before, when `{{body}}` starts its line), up to the format's text after
/// it through the end of the next line that has any (nothing: to the end); indentation before
/// it left out.
fn text_place(format: &str) -> SampleAt {
    let format = format.replace("\r\n", "\n");
    let (prefix, suffix) = format.split_once("{{body}}").unwrap_or((&format, ""));
    let line_start = prefix.rfind('\n').map_or(0, |nl| nl + 1);
    let before = match prefix[line_start..].trim().is_empty() && line_start > 0 {
        true => {
            let previous = prefix[..line_start - 1].rfind('\n').map_or(0, |nl| nl + 1);
            &prefix[previous..]
        }
        false => &prefix[line_start..],
    };
    let first_text = suffix.find(|c: char| !c.is_whitespace());
    let after = match first_text {
        Some(at) => {
            let end = suffix[at..].find('\n').map_or(suffix.len(), |nl| at + nl);
            &suffix[..end]
        }
        None => "",
    };
    // Indentation is the format's layout, which a target may not keep.
    SampleAt::Text {
        before: before.trim_start().to_owned(),
        after: after.to_owned(),
    }
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
    sample_at: Option<&'a SampleAt>,
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
            capture.source = match (self.sample_at, &capture.source) {
                (Some(SampleAt::Json(at)), CaptureSource::Body) => CaptureSource::Json(at.clone()),
                (Some(at), CaptureSource::Body) => CaptureSource::Sample(at.clone()),
                _ => continue,
            };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_format_gives_the_sample_back_from_between_its_own_text() {
        let found = |format: &str, body: &str| text_place(format).find(body.as_bytes());
        let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nSUMMARY:{{body}}\r\nEND:VCALENDAR\r\n";
        let stored = "BEGIN:VCALENDAR\r\nPRODID:x\r\nVERSION:2.0\r\nSUMMARY:7\r\nEND:VCALENDAR\r\n";
        assert_eq!(found(ics, stored).as_deref(), Some("7"));
        // A sample of several lines, and line ends the target changed.
        let lines = "BEGIN:VCALENDAR\nVERSION:2.0\nSUMMARY:first\n\nEND:VCALENDAR\n";
        assert_eq!(found(ics, lines).as_deref(), Some("first\n"));
        let xml = "<doc>\n  <value>{{body}}</value>\n</doc>";
        assert_eq!(
            found(xml, "<doc><id>2</id><value>v2, longer</value></doc>").as_deref(),
            Some("v2, longer")
        );
        // On a line of its own: read from after the line before.
        let own_line = "<doc>\n{{body}}\n</doc>\n";
        assert_eq!(
            found(own_line, "<doc>\n12\n</doc>\n").as_deref(),
            Some("12")
        );
        // Not in the format (an error page): nothing, and the checks read the whole content.
        assert_eq!(found(ics, "Not Found"), None);
    }
}
