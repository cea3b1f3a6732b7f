//! Sample bodies in the target's format (a profile's `body_format`): the built-in suite's text
//! samples put where the format says, and what is expected of them read back from there.

use std::collections::BTreeMap;

use crate::scenario::{
    Body, Capture, CaptureSource, Expect, JsonQuery, Request, SampleAt, Scenario, Step, Template,
    TextEscape, VisitMut,
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
    // JSON: the sample goes in as a JSON string. Any other format (XML, iCalendar) takes it as
    // text, escaped as the format escapes text. Either way every check and `body: true`
    // capture reads it back from where it sits, whatever else the target puts around it.
    let (at, escape): (SampleAt, Box<Escape>) = match json_place(format.as_str()) {
        Some(at) => (
            SampleAt::Json(at),
            Box::new(|text: &str| {
                let quoted = serde_json::to_string(text).unwrap_or_default();
                quoted[1..quoted.len() - 1].to_owned()
            }),
        ),
        None => {
            let escape = TextEscape::of(format.as_str());
            (
                text_place(format.as_str(), escape),
                Box::new(move |text: &str| escape.escape(text)),
            )
        }
    };
    let mut pass = Reshape {
        format,
        escape: &*escape,
        sample_at: &at,
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

/// A format that adds `size` bytes to every sample, where the format holds text that is not the
/// sample: a member of a JSON object, an iCalendar property (folded at 75 octets), an XML
/// comment, a line after plain text. The built-in samples are a few bytes, below where
/// compressing gateways start (nginx's `gzip_min_length` is 20), so without it a gateway that
/// compresses (and must weaken its tags) is never exercised; the checks still read only the
/// sample.
pub(super) fn padded(format: Option<&Template>, size: usize) -> Result<Template, String> {
    const WORDS: &str = "contend sample padding ";
    let pad: String = WORDS.chars().cycle().take(size).collect();
    let format = format.map_or("{{body}}", Template::as_str);
    let newline = if format.contains("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let padded = match (json_place(format), TextEscape::of(format)) {
        (Some(_), _) => {
            const MARK: &str = "contend-sample-9f3b1c";
            let doc = serde_json::from_str(&format.replace("{{body}}", MARK));
            let Ok(serde_json::Value::Object(mut members)) = doc else {
                return Err("sample_size needs a body_format that is a JSON object".to_owned());
            };
            members.insert("contend_padding".to_owned(), pad.into());
            serde_json::Value::Object(members)
                .to_string()
                .replace(MARK, "{{body}}")
        }
        (None, _) if looks_like_json(format) => {
            return Err(
                "sample_size: the body_format looks like JSON but does not parse".to_owned(),
            )
        }
        (None, TextEscape::ICalendar) => {
            let (before, after) = format.split_once("{{body}}").unwrap_or((format, ""));
            let (line_rest, later) = after.split_once('\n').unwrap_or((after, ""));
            // Folded (RFC 5545 3.1): at most 75 octets a line, a continuation starts with a space.
            let property = format!("X-CONTEND-PADDING:{pad}");
            let chunks: Vec<String> = (property.as_bytes().chunks(73))
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect();
            let folded = chunks.join(&format!("{newline} "));
            let line_rest = line_rest.strip_suffix('\r').unwrap_or(line_rest);
            format!("{before}{{{{body}}}}{line_rest}{newline}{folded}{newline}{later}")
        }
        (None, TextEscape::Xml) => format!("{format}{newline}<!-- {pad} -->"),
        (None, TextEscape::None) => format!("{format}{newline}{pad}"),
    };
    Template::parse(&padded)
}

fn looks_like_json(format: &str) -> bool {
    let start = format.trim_start();
    start.starts_with('[') || (start.starts_with('{') && !start.starts_with("{{"))
}

/// Where the sample sits in a text format: after the format's text before `{{body}}` on its
/// line (the whole line before, when `{{body}}` starts its line), up to the format's text after
/// it through the end of the next line that has any (nothing: to the end); indentation before
/// it left out.
fn text_place(format: &str, escape: TextEscape) -> SampleAt {
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
        escape,
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

/// The rewrite, step by step through the shared walk: each text sample sent put in the format
/// (escaped, the resource's name for `{{name}}`), and every body check and `body: true`
/// capture pointed at where the sample sits.
struct Reshape<'a> {
    format: &'a Template,
    escape: &'a Escape,
    sample_at: &'a SampleAt,
}

impl VisitMut for Reshape<'_> {
    fn request(&mut self, request: &mut Request) -> Result<(), String> {
        let Some(Body::Text(text)) = request.body.as_mut().map(|b| &mut *b.0) else {
            return Ok(());
        };
        // The resource's name: what follows the scratch prefix (`doc`), else the last segment.
        let path = request.path.as_str();
        let name = (path.strip_prefix("{{scratch}}/"))
            .unwrap_or_else(|| path.rsplit('/').next().unwrap_or(path));
        let sample = outside_expressions(text.as_str(), self.escape);
        let wrapped = (self.format.as_str())
            .replace("{{name}}", name)
            .replace("{{body}}", &sample);
        *text = Template::parse(&wrapped)?;
        Ok(())
    }

    fn expect(&mut self, expect: &mut Expect) -> Result<(), String> {
        if let Some(check) = expect.body.as_mut().map(|b| &mut b.0) {
            check.sample_at = Some(self.sample_at.clone());
        }
        Ok(())
    }

    fn captures(&mut self, captures: &mut BTreeMap<String, Capture>) -> Result<(), String> {
        for capture in captures.values_mut() {
            capture.source = match (self.sample_at, &capture.source) {
                (SampleAt::Json(at), CaptureSource::Body) => CaptureSource::Json(at.clone()),
                (at, CaptureSource::Body) => CaptureSource::Sample(at.clone()),
                _ => continue,
            };
        }
        Ok(())
    }
}

/// How a sample's text is escaped for the format.
type Escape = dyn Fn(&str) -> String;

/// `template` with `f` applied to its text outside `{{...}}` expressions (those are rendered
/// when sent).
fn outside_expressions(template: &str, f: &Escape) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        out.push_str(&f(&rest[..open]));
        match rest[open..].find("}}") {
            Some(close) => {
                out.push_str(&rest[open..open + close + 2]);
                rest = &rest[open + close + 2..];
            }
            None => {
                out.push_str(&f(&rest[open..]));
                rest = "";
            }
        }
    }
    out.push_str(&f(rest));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_format_gives_the_sample_back_from_between_its_own_text() {
        let found =
            |format: &str, body: &str| text_place(format, TextEscape::None).find(body.as_bytes());
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

    #[test]
    fn padding_goes_where_the_format_holds_other_text_and_the_sample_reads_back() {
        let formats = [
            None,
            Some(r#"{"value": "{{body}}", "kind": "note"}"#),
            Some("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:{{name}}\r\nSUMMARY:{{body}}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"),
            Some("<doc><value>{{body}}</value></doc>"),
        ];
        for format in formats {
            let format = format.map(|f| Template::parse(f).unwrap());
            let padded = padded(format.as_ref(), 300).unwrap();
            let scenario = Scenario {
                name: "padded".into(),
                description: None,
                tags: vec![],
                requirements: vec![],
                requires: vec![],
                vars: BTreeMap::new(),
                steps: vec![],
                cleanup: vec![],
                rounds: None,
                alone: false,
                body_format: true,
                file: Default::default(),
            };
            reshape(scenario, &padded).unwrap();
            let sent = padded
                .as_str()
                .replace("{{body}}", "v2, longer")
                .replace("{{name}}", "doc");
            assert!(sent.len() >= 300, "{sent}");
            let at = match json_place(padded.as_str()) {
                Some(at) => SampleAt::Json(at),
                None => text_place(padded.as_str(), TextEscape::None),
            };
            assert_eq!(
                at.find(sent.as_bytes()).as_deref(),
                Some("v2, longer"),
                "{sent}"
            );
            if padded.as_str().starts_with("BEGIN:V") {
                assert!(sent.lines().all(|l| l.len() <= 75), "{sent}");
                assert!(sent.ends_with("END:VCALENDAR\r\n"), "{sent}");
            }
        }
        let not_an_object = Template::parse(r#"["{{body}}"]"#).unwrap();
        assert!(padded(Some(&not_an_object), 10).is_err());
    }

    #[test]
    fn a_sample_travels_escaped_as_its_format_escapes_text() {
        let ics = "BEGIN:VCALENDAR\r\nSUMMARY:{{body}}\r\nEND:VCALENDAR\r\n";
        let escape = TextEscape::of(ics);
        assert_eq!(escape, TextEscape::ICalendar);
        assert_eq!(escape.escape("v2, longer;\n"), "v2\\, longer\\;\\n");
        let stored = "BEGIN:VCALENDAR\r\nSUMMARY:v2\\, longer\\;\\n\r\nEND:VCALENDAR\r\n";
        let read = text_place(ics, escape).find(stored.as_bytes());
        assert_eq!(read.as_deref(), Some("v2, longer;\n"));
        let xml = "<doc><value>{{body}}</value></doc>";
        assert_eq!(TextEscape::of(xml).escape("a < b & c"), "a &lt; b &amp; c");
        let read =
            text_place(xml, TextEscape::Xml).find(b"<doc><value>a &lt; b &amp; c</value></doc>");
        assert_eq!(read.as_deref(), Some("a < b & c"));
        // Only the text is escaped: an expression is rendered when the request is sent.
        let escaped = outside_expressions("v{{value+1}}, done", &move |t: &str| escape.escape(t));
        assert_eq!(escaped, "v{{value+1}}\\, done");
    }
}
