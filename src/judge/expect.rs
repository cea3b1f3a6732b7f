//! A scenario's own expectations (`expect:`) checked against what the target answered.

use std::collections::BTreeMap;

use serde_json::Value;

use super::Failure;
use crate::exec::{Exchange, Received};
use crate::scenario::template::render_json;
use crate::scenario::{BodyCheck, Expect, GroupExpect, HeaderCheck, StatusPattern, Template, Vars};

/// Longest excerpt of content quoted in a failure message.
const EXCERPT: usize = 200;

/// Checks one exchange; an exchange without a response fails every expectation at once.
pub fn check_response(expect: &Expect, exchange: &Exchange, vars: &Vars) -> Vec<Failure> {
    let response = match &exchange.response {
        Ok(response) => response,
        Err(why) => {
            return vec![Failure::new(
                "response",
                "an HTTP response",
                format!("none ({why})"),
            )]
        }
    };
    let mut failures = Vec::new();
    if let Some(status) = &expect.status {
        if !status.matches(response.status) {
            failures.push(Failure::new(
                "status",
                status.to_string(),
                response.status.to_string(),
            ));
        }
    }
    for (name, check) in &expect.headers.0 {
        check_header(&name.0, check, response, vars, &mut failures);
    }
    if let Some(body) = expect.body.as_deref() {
        check_body(body, response, vars, &mut failures);
    }
    failures
}

/// Checks the set of outcomes of a concurrent group.
pub fn check_group(expect: &GroupExpect, exchanges: &[Exchange], vars: &Vars) -> Vec<Failure> {
    let statuses: Vec<Option<u16>> = exchanges.iter().map(Exchange::status).collect();
    let count = |p: StatusPattern| {
        statuses
            .iter()
            .filter(|s| s.is_some_and(|s| p.matches(s)))
            .count() as u32
    };
    let tally = tally(&statuses);
    let mut failures = Vec::new();
    type Bound<'a> = (&'a [(StatusPattern, u32)], &'a str, fn(u32, u32) -> bool);
    let bounds: [Bound; 3] = [
        (&expect.exactly, "exactly", |got, want| got == want),
        (&expect.at_least, "at least", |got, want| got >= want),
        (&expect.at_most, "at most", |got, want| got <= want),
    ];
    for (counts, word, holds) in bounds {
        for &(pattern, want) in counts {
            let got = count(pattern);
            if !holds(got, want) {
                failures.push(Failure::new(
                    "outcomes",
                    format!("{word} {want} × {pattern}"),
                    format!("{got} × {pattern} ({tally})"),
                ));
            }
        }
    }

    let counted: Vec<StatusPattern> = expect
        .exactly
        .iter()
        .chain(&expect.at_least)
        .chain(&expect.at_most)
        .map(|(p, _)| *p)
        .collect();
    // The same failure on many members is reported once, naming them all.
    let mut per_member: BTreeMap<(String, String, String), Vec<usize>> = BTreeMap::new();
    for (i, exchange) in exchanges.iter().enumerate() {
        let uncounted = exchange
            .status()
            .is_none_or(|s| !counted.iter().any(|p| p.matches(s)));
        let mut member = Vec::new();
        if let Err(why) = &exchange.response {
            member.push(Failure::new(
                "response",
                "an HTTP response",
                format!("none ({why})"),
            ));
        } else {
            if let Some(others) = expect.others.as_ref().filter(|_| uncounted) {
                member.extend(check_response(others, exchange, vars));
            }
            if let Some(each) = &expect.each {
                member.extend(check_response(each, exchange, vars));
            }
        }
        for f in member {
            per_member
                .entry((f.subject, f.expected, f.actual))
                .or_default()
                .push(exchange.index.unwrap_or(i));
        }
    }
    for ((subject, expected, actual), members) in per_member {
        let who = if members.len() == exchanges.len() {
            "every request".to_owned()
        } else {
            let listed: Vec<String> = members.iter().map(|m| format!("#{m}")).collect();
            format!("request {}", listed.join(", "))
        };
        failures.push(Failure::new(format!("{who}: {subject}"), expected, actual));
    }
    failures
}

/// `204 × 1, 412 × 19, no response × 0` in status order.
pub(crate) fn tally(statuses: &[Option<u16>]) -> String {
    // Keyed so that "no response" sorts after every status.
    let mut counts: BTreeMap<(bool, u16), usize> = BTreeMap::new();
    for s in statuses {
        *counts.entry((s.is_none(), s.unwrap_or(0))).or_default() += 1;
    }
    let parts: Vec<String> = counts
        .iter()
        .map(|((none, code), n)| {
            if *none {
                format!("no response × {n}")
            } else {
                format!("{code} × {n}")
            }
        })
        .collect();
    parts.join(", ")
}

fn check_header(
    name: &str,
    check: &HeaderCheck,
    response: &Received,
    vars: &Vars,
    out: &mut Vec<Failure>,
) {
    let actual = response.header(name);
    let subject = format!("header {name}");
    let shown = |v: &Option<String>| {
        v.as_deref()
            .map_or_else(|| "no such header".to_owned(), quote)
    };
    let want_present = check.present.or(check.absent.map(|a| !a));
    match (want_present, &actual) {
        (Some(true), None) => out.push(Failure::new(&subject, "present", "absent")),
        (Some(false), Some(v)) => out.push(Failure::new(&subject, "absent", quote(v))),
        _ => {}
    }
    let mut compare =
        |template: &Option<Template>, expected: &str, holds: fn(&str, &str) -> bool| {
            let Some(template) = template else { return };
            match template.render(vars) {
                Err(e) => out.push(Failure::new(
                    &subject,
                    format!("{expected} (template)"),
                    e.to_string(),
                )),
                Ok(want) => {
                    if !actual.as_deref().is_some_and(|a| holds(a, &want)) {
                        let expected = [expected, &quote(&want)].join(" ").trim_start().to_owned();
                        out.push(Failure::new(&subject, expected, shown(&actual)));
                    }
                }
            }
        };
    compare(&check.equals, "", |a, w| a == w);
    compare(&check.not_equals, "not", |a, w| a != w);
    compare(&check.contains, "containing", |a, w| a.contains(w));
    if let Some(pattern) = &check.matches {
        if !actual.as_deref().is_some_and(|a| pattern.0.is_match(a)) {
            out.push(Failure::new(
                &subject,
                format!("matching /{}/", pattern.0.as_str()),
                shown(&actual),
            ));
        }
    }
}

fn check_body(check: &BodyCheck, response: &Received, vars: &Vars, out: &mut Vec<Failure>) {
    let text = response.body_text();
    let actual = || excerpt(&text);
    let mut render = |t: &Template| match t.render(vars) {
        Ok(s) => Some(s),
        Err(e) => {
            out.push(Failure::new("body", "a value (template)", e.to_string()));
            None
        }
    };
    let equals = check.equals.as_ref().and_then(&mut render);
    let contains = check.contains.as_ref().and_then(&mut render);
    let counter = check.counter.as_ref().and_then(&mut render);
    if let Some(want) = equals {
        if text != want {
            out.push(Failure::new("body", excerpt(&want), actual()));
        }
    }
    if let Some(want) = contains {
        if !text.contains(&want) {
            out.push(Failure::new(
                "body",
                format!("containing {}", excerpt(&want)),
                actual(),
            ));
        }
    }
    if let Some(pattern) = &check.matches {
        if !pattern.0.is_match(&text) {
            out.push(Failure::new(
                "body",
                format!("matching /{}/", pattern.0.as_str()),
                actual(),
            ));
        }
    }
    if let Some(want) = counter {
        check_counter(&want, &text, out);
    }
    if let Some(true) = check.empty {
        if !response.body.is_empty() {
            out.push(Failure::new(
                "body",
                "no content",
                format!("{} bytes: {}", response.body.len(), actual()),
            ));
        }
    }

    let wants_json =
        check.json.is_some() || check.json_subset.is_some() || !check.json_path.0.is_empty();
    if !wants_json {
        return;
    }
    let doc: Value = match serde_json::from_slice(&response.body) {
        Ok(doc) => doc,
        Err(e) => {
            return out.push(Failure::new(
                "body",
                "JSON content",
                format!("{} ({e})", actual()),
            ))
        }
    };
    let mut template_errors = Vec::new();
    let mut expected_json = |value: &Value| match render_json(value, vars) {
        Ok(v) => Some(v),
        Err(e) => {
            template_errors.push(Failure::new(
                "body",
                "a JSON value (template)",
                e.to_string(),
            ));
            None
        }
    };
    let json = check.json.as_ref().and_then(&mut expected_json);
    let json_subset = check.json_subset.as_ref().and_then(&mut expected_json);
    let json_paths: Vec<_> = check
        .json_path
        .0
        .iter()
        .filter_map(|(q, v)| expected_json(v).map(|v| (q, v)))
        .collect();
    out.append(&mut template_errors);
    if let Some(want) = json {
        if doc != want {
            out.push(Failure::new(
                "body",
                json_excerpt(&want),
                json_excerpt(&doc),
            ));
        }
    }
    if let Some(want) = json_subset {
        if !is_subset(&want, &doc) {
            out.push(Failure::new(
                "body",
                format!("{} as a subset", json_excerpt(&want)),
                json_excerpt(&doc),
            ));
        }
    }
    for (query, want) in json_paths {
        let subject = format!("body {}", query.as_str());
        match query.select(&doc) {
            None => out.push(Failure::new(
                subject,
                want.to_string(),
                "nothing at that path",
            )),
            Some(got) if *got != want => {
                out.push(Failure::new(subject, want.to_string(), got.to_string()))
            }
            Some(_) => {}
        }
    }
}

/// A counter read back after a read-modify-write workload: less than the acknowledged writes
/// means updates were lost.
fn check_counter(want: &str, text: &str, out: &mut Vec<Failure>) {
    // The first integer in the content: a bare counter, or one inside a format ({"value": "7"}).
    let number = text.find(|c: char| c.is_ascii_digit()).map(|at| {
        let digits: String = text[at..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits
    });
    let (Ok(want), Some(Ok(got))) = (want.trim().parse::<i64>(), number.map(|n| n.parse::<i64>()))
    else {
        out.push(Failure::new(
            "body",
            format!("a counter equal to {want}"),
            excerpt(text),
        ));
        return;
    };
    match got.cmp(&want) {
        std::cmp::Ordering::Equal => {}
        std::cmp::Ordering::Less => out.push(Failure::new(
            "counter",
            format!("{want}, one per acknowledged update"),
            format!("{got}: {} acknowledged updates were lost", want - got),
        )),
        std::cmp::Ordering::Greater => out.push(Failure::new(
            "counter",
            format!("{want}, one per acknowledged update"),
            format!("{got}: {} more than were acknowledged", got - want),
        )),
    }
}

/// Objects: every expected member is present and a subset; arrays: same length, item by item;
/// anything else: equal.
fn is_subset(want: &Value, got: &Value) -> bool {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => w
            .iter()
            .all(|(k, wv)| g.get(k).is_some_and(|gv| is_subset(wv, gv))),
        (Value::Array(w), Value::Array(g)) => {
            w.len() == g.len() && w.iter().zip(g).all(|(a, b)| is_subset(a, b))
        }
        _ => want == got,
    }
}

fn quote(s: &str) -> String {
    format!("{s:?}")
}

/// Content quoted as a string, shortened.
fn excerpt(s: &str) -> String {
    if s.is_empty() {
        return "no content".to_owned();
    }
    shorten(s, quote)
}

/// JSON shown as JSON, shortened.
fn json_excerpt(value: &Value) -> String {
    format!("JSON {}", shorten(&value.to_string(), str::to_owned))
}

fn shorten(s: &str, show: fn(&str) -> String) -> String {
    if s.chars().count() <= EXCERPT {
        return show(s);
    }
    let cut: String = s.chars().take(EXCERPT).collect();
    format!("{}… ({} bytes)", show(&cut), s.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn subset_semantics() {
        assert!(is_subset(&json!({"a": 1}), &json!({"a": 1, "b": 2})));
        assert!(!is_subset(
            &json!({"a": 1, "c": 3}),
            &json!({"a": 1, "b": 2})
        ));
        assert!(is_subset(&json!([{"id": 1}]), &json!([{"id": 1, "x": 0}])));
        assert!(!is_subset(&json!([1]), &json!([1, 2])));
    }

    #[test]
    fn tally_is_in_status_order() {
        assert_eq!(
            tally(&[Some(412), Some(204), None, Some(412)]),
            "204 × 1, 412 × 2, no response × 1"
        );
    }
}
