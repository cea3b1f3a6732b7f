//! A scenario's own expectations (`expect:`) checked against what the target answered.

use serde_json::Value;

use super::catalog::json_contains;
use crate::record::{Bound, Check, Codes, Exchange, Received};
use crate::scenario::template::render_json;
use crate::scenario::{
    BodyCheck, Expect, GroupExpect, HeaderCheck, JsonExpect, StatusPattern, Template, Vars,
};

/// The range of statuses a pattern stands for.
pub(super) fn codes(pattern: StatusPattern) -> Codes {
    match pattern {
        StatusPattern::Exact(code) => Codes {
            low: code,
            high: code,
        },
        StatusPattern::Class(class) => Codes {
            low: u16::from(class) * 100,
            high: u16::from(class) * 100 + 99,
        },
        // Planning replaces it; an unplanned one matches nothing.
        StatusPattern::Stale | StatusPattern::Replaced => Codes { low: 0, high: 0 },
    }
}

fn body(expected: impl Into<String>, got: impl Into<String>) -> Check {
    Check::Body {
        part: "body".into(),
        expected: expected.into(),
        got: got.into(),
    }
}

fn header_check(name: &str, expected: impl Into<String>, got: Option<String>) -> Check {
    Check::Header {
        name: name.to_owned(),
        expected: expected.into(),
        got,
    }
}

/// Longest excerpt of content quoted in a failure message.
const EXCERPT: usize = 200;

/// Checks one exchange; an exchange without a response fails every expectation at once.
pub fn check_response(expect: &Expect, exchange: &Exchange, vars: &Vars) -> Vec<Check> {
    let response = match &exchange.response {
        Ok(response) => response,
        Err(why) => return vec![Check::NoResponse(why.clone())],
    };
    let mut out = Vec::new();
    if let Some(status) = &expect.status {
        if !status.matches(response.status) {
            out.push(Check::Status {
                expected: status.0.iter().copied().map(codes).collect(),
                got: response.status,
            });
        }
    }
    for (name, check) in &expect.headers.0 {
        check_header(&name.0, check, response, vars, &mut out);
    }
    if let Some(body) = expect.body.as_deref() {
        check_body(body, response, vars, &mut out);
    }
    if expect.documentation_link && !links_to_documentation(response) {
        out.push(Check::Other {
            subject: "a link to the documentation".into(),
            expected: "a Link header, or a link in the content".into(),
            actual: "neither".into(),
        });
    }
    out
}

/// A `Link` header, or a URL in the content (a problem document's `type`, a `href`).
fn links_to_documentation(response: &crate::record::Received) -> bool {
    let content = response.body_text();
    response.headers.contains_key(hyper::header::LINK)
        || content.contains("https://")
        || content.contains("http://")
}

/// One member's finding, with the members that showed it.
pub struct MemberCheck {
    pub check: Check,
    /// Positions in the group.
    pub members: Vec<usize>,
    /// `every request` or `request #3, #7`.
    pub who: String,
}

/// Checks the set of outcomes of a concurrent group: the counts, then `others` and `each` on
/// the members (the same finding on many members is reported once, naming them all).
/// `skip_member` leaves out members whose outcome another rule reports.
pub fn check_group(
    expect: &GroupExpect,
    exchanges: &[Exchange],
    vars: &Vars,
    skip_member: &dyn Fn(&Exchange) -> bool,
) -> (Vec<Check>, Vec<MemberCheck>) {
    let statuses: Vec<Option<u16>> = exchanges.iter().map(Exchange::status).collect();
    let mut counts = Vec::new();
    let bounds = [
        (&expect.exactly, Bound::Exactly),
        (&expect.at_least, Bound::AtLeast),
        (&expect.at_most, Bound::AtMost),
    ];
    for (wanted, bound) in bounds {
        for &(pattern, want) in wanted {
            let got = statuses
                .iter()
                .filter(|s| s.is_some_and(|s| pattern.matches(s)))
                .count() as u32;
            if !bound.holds(got, want) {
                counts.push(Check::Outcomes {
                    bound,
                    want,
                    pattern: codes(pattern),
                    statuses: statuses.clone(),
                });
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
    let mut per_member: Vec<(Check, Vec<usize>)> = Vec::new();
    for (i, exchange) in exchanges.iter().enumerate() {
        if skip_member(exchange) {
            continue;
        }
        let uncounted = exchange
            .status()
            .is_none_or(|s| !counted.iter().any(|p| p.matches(s)));
        let mut member = Vec::new();
        if let Err(why) = &exchange.response {
            member.push(Check::NoResponse(why.clone()));
        } else {
            if let Some(others) = expect.others.as_ref().filter(|_| uncounted) {
                member.extend(check_response(others, exchange, vars));
            }
            if let Some(each) = &expect.each {
                member.extend(check_response(each, exchange, vars));
            }
        }
        for check in member {
            match per_member.iter_mut().find(|(c, _)| *c == check) {
                Some((_, members)) => members.push(i),
                None => per_member.push((check, vec![i])),
            }
        }
    }
    if expect.identical_2xx {
        let content = |i: usize| exchanges[i].response.as_ref().ok().map(|r| &r.body);
        let won: Vec<usize> = (0..exchanges.len())
            .filter(|&i| {
                exchanges[i]
                    .status()
                    .is_some_and(|s| (200..300).contains(&s))
            })
            .collect();
        if let Some((&first, rest)) = won.split_first() {
            let differ: Vec<usize> = rest
                .iter()
                .copied()
                .filter(|&i| content(i) != content(first))
                .collect();
            if !differ.is_empty() {
                let check = Check::Other {
                    subject: "content of a 2xx outcome".into(),
                    expected: format!(
                        "the content of request #{} (one result, replayed)",
                        exchanges[first].index.unwrap_or(first)
                    ),
                    actual: "other content: the request was executed again".into(),
                };
                per_member.push((check, differ));
            }
        }
    }
    let members = per_member
        .into_iter()
        .map(|(check, members)| {
            let who = if members.len() == exchanges.len() {
                "every request".to_owned()
            } else {
                let listed: Vec<String> = members
                    .iter()
                    .map(|m| format!("#{}", exchanges[*m].index.unwrap_or(*m)))
                    .collect();
                format!("request {}", listed.join(", "))
            };
            MemberCheck {
                check,
                members,
                who,
            }
        })
        .collect();
    (counts, members)
}

fn check_header(
    name: &str,
    check: &HeaderCheck,
    response: &Received,
    vars: &Vars,
    out: &mut Vec<Check>,
) {
    let want_present = check.present.or(check.absent.map(|a| !a));
    let compares = check.equals.is_some()
        || check.not_equals.is_some()
        || check.contains.is_some()
        || check.matches.is_some();
    // The value joined only where it is compared or shown: `present: true` is asked of every
    // response a workload gets.
    if want_present == Some(true) && !compares && response.headers.contains_key(name) {
        return;
    }
    let actual = response.header(name);
    match (want_present, &actual) {
        (Some(true), None) => out.push(header_check(name, "present", None)),
        (Some(false), Some(v)) => out.push(header_check(name, "absent", Some(v.clone()))),
        _ => {}
    }
    let mut compare =
        |template: &Option<Template>, expected: &str, holds: fn(&str, &str) -> bool| {
            let Some(template) = template else { return };
            match template.render(vars) {
                Err(e) => out.push(header_check(
                    name,
                    format!("{expected} (template)"),
                    Some(e.to_string()),
                )),
                Ok(want) => {
                    if !actual.as_deref().is_some_and(|a| holds(a, &want)) {
                        let expected = [expected, &quote(&want)].join(" ").trim_start().to_owned();
                        out.push(header_check(name, expected, actual.clone()));
                    }
                }
            }
        };
    compare(&check.equals, "", |a, w| a == w);
    compare(&check.not_equals, "not", |a, w| a != w);
    compare(&check.contains, "containing", |a, w| a.contains(w));
    if let Some(pattern) = &check.matches {
        if !actual.as_deref().is_some_and(|a| pattern.0.is_match(a)) {
            out.push(header_check(
                name,
                format!("matching /{}/", pattern.0.as_str()),
                actual.clone(),
            ));
        }
    }
}

/// `body: TEXT` compares representations: the same bytes, or for JSON the expected document
/// contained in the served one (a JSON API may add `id`, `_rev` or `updated_at`, or reorder
/// keys). Other content is compared byte for byte.
fn same_content(want: &str, text: &str) -> bool {
    if want == text {
        return true;
    }
    match (
        serde_json::from_str::<Value>(want),
        serde_json::from_str::<Value>(text),
    ) {
        (Ok(w), Ok(t)) if w.is_object() => json_contains(&t, &w),
        _ => false,
    }
}

fn check_body(check: &BodyCheck, response: &Received, vars: &Vars, out: &mut Vec<Check>) {
    let reads_text = check.equals.is_some()
        || check.contains.is_some()
        || check.not_contains.is_some()
        || check.matches.is_some()
        || check.counter.is_some();
    let text = match check.sample_at.as_ref().filter(|_| reads_text) {
        None => response.body_text(),
        // The sample content inside the target's JSON format; content without it (a 404's
        // text) is checked whole.
        Some(at) => match at.find(&response.body) {
            Some(found) => std::borrow::Cow::Owned(found),
            None => response.body_text(),
        },
    };
    let actual = || excerpt(&text);
    let mut render = |t: &Template| match t.render(vars) {
        Ok(s) => Some(s),
        Err(e) => {
            out.push(body("a value (template)", e.to_string()));
            None
        }
    };
    let equals = check.equals.as_ref().and_then(&mut render);
    let contains = check.contains.as_ref().and_then(&mut render);
    let not_contains = check.not_contains.as_ref().and_then(&mut render);
    let counter = check.counter.as_ref().and_then(&mut render);
    if let Some(want) = equals {
        if !same_content(&want, &text) {
            out.push(body(excerpt(&want), actual()));
        }
    }
    if let Some(want) = contains {
        if !text.contains(&want) {
            out.push(body(format!("containing {}", excerpt(&want)), actual()));
        }
    }
    if let Some(unwanted) = not_contains {
        if text.contains(&unwanted) {
            out.push(body(
                format!("not containing {}", excerpt(&unwanted)),
                actual(),
            ));
        }
    }
    if let Some(pattern) = &check.matches {
        if !pattern.0.is_match(&text) {
            out.push(body(format!("matching /{}/", pattern.0.as_str()), actual()));
        }
    }
    if let Some(want) = counter {
        check_counter(&want, &text, out);
    }
    if let Some(true) = check.empty {
        if !response.body.is_empty() {
            out.push(body(
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
        Err(e) => return out.push(body("JSON content", format!("{} ({e})", actual()))),
    };
    let mut template_errors = Vec::new();
    let mut expected_json = |value: &Value| match render_json(value, vars) {
        Ok(v) => Some(v),
        Err(e) => {
            template_errors.push(body("a JSON value (template)", e.to_string()));
            None
        }
    };
    let json = check.json.as_ref().and_then(&mut expected_json);
    let json_subset = check.json_subset.as_ref().and_then(&mut expected_json);
    let json_paths: Vec<_> = check
        .json_path
        .0
        .iter()
        .filter_map(|(q, want)| {
            let rendered: Option<Vec<Value>> =
                want.values().into_iter().map(&mut expected_json).collect();
            rendered.map(|values| (q, want, values))
        })
        .collect();
    out.append(&mut template_errors);
    if let Some(want) = json {
        if doc != want {
            out.push(body(json_excerpt(&want), json_excerpt(&doc)));
        }
    }
    if let Some(want) = json_subset {
        if !json_contains(&doc, &want) {
            out.push(body(
                format!("{} as a subset", json_excerpt(&want)),
                json_excerpt(&doc),
            ));
        }
    }
    for (query, want, values) in json_paths {
        let part = format!("body {}", query.as_str());
        let found = query.select(&doc);
        if let Some((expected, got)) = json_path_miss(want, &values, found) {
            out.push(Check::Body {
                part,
                expected,
                got,
            });
        }
    }
}

/// What a `json_path` entry expected and what was there, when they differ. `values` are the
/// entry's JSON values rendered, in the order `JsonExpect::values` gives them.
fn json_path_miss(
    want: &JsonExpect,
    values: &[Value],
    found: Option<&Value>,
) -> Option<(String, String)> {
    let shown =
        |v: Option<&Value>| v.map_or_else(|| "nothing at that path".to_owned(), Value::to_string);
    let checks = match want {
        JsonExpect::Equals(_) => {
            return (found != Some(&values[0])).then(|| (values[0].to_string(), shown(found)));
        }
        JsonExpect::Checks(checks) => checks,
    };
    let mut next = values.iter();
    if let Some(exists) = checks.exists {
        if found.is_some() != exists {
            let expected = if exists {
                "something at that path"
            } else {
                "nothing at that path"
            };
            return Some((expected.into(), shown(found)));
        }
    }
    if checks.equals.is_some() {
        let want = next.next()?;
        if found != Some(want) {
            return Some((want.to_string(), shown(found)));
        }
    }
    if checks.contains.is_some() {
        let want = next.next()?;
        let holds = match (found, want) {
            (Some(Value::String(s)), Value::String(w)) => s.contains(w.as_str()),
            (Some(Value::Array(items)), w) => items.contains(w),
            (Some(whole @ Value::Object(_)), w) => json_contains(whole, w),
            _ => false,
        };
        if !holds {
            return Some((format!("containing {want}"), shown(found)));
        }
    }
    if let Some(by) = checks.increased_by {
        let from = next.next()?;
        let number = |v: &Value| match v {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        };
        let Some(start) = number(from) else {
            return Some((
                format!("{from} plus {by}"),
                format!("`from` {from} is not a number"),
            ));
        };
        let want = start + by as f64;
        if found.and_then(number) != Some(want) {
            return Some((format!("{want} ({start} + {by})"), shown(found)));
        }
    }
    if let Some(pattern) = &checks.matches {
        let text = match found {
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => Some(other.to_string()),
            None => None,
        };
        if !text.is_some_and(|t| pattern.0.is_match(&t)) {
            return Some((format!("matching /{}/", pattern.0.as_str()), shown(found)));
        }
    }
    if checks.one_of.is_some() {
        let options: Vec<&Value> = next.collect();
        if !found.is_some_and(|f| options.contains(&f)) {
            let listed: Vec<String> = options.iter().map(|v| v.to_string()).collect();
            return Some((format!("one of {}", listed.join(", ")), shown(found)));
        }
    }
    None
}

/// A counter read back after a read-modify-write workload: less than the acknowledged writes
/// means updates were lost.
fn check_counter(want: &str, text: &str, out: &mut Vec<Check>) {
    // The counter is the content (or the sample inside the target's body format), never the
    // first number somewhere in it: a document's other numbers are no counter.
    let number = text.trim().trim_matches('"').trim();
    let (Ok(want), Ok(got)) = (want.trim().parse::<i64>(), number.parse::<i64>()) else {
        out.push(body(format!("a counter equal to {want}"), excerpt(text)));
        return;
    };
    match got.cmp(&want) {
        std::cmp::Ordering::Equal => {}
        std::cmp::Ordering::Less => out.push(Check::Body {
            part: "counter".into(),
            expected: format!("{want}, one per acknowledged update"),
            got: format!("{got}: {} acknowledged updates were lost", want - got),
        }),
        std::cmp::Ordering::Greater => out.push(Check::Body {
            part: "counter".into(),
            expected: format!("{want}, one per acknowledged update"),
            got: format!("{got}: {} more than were acknowledged", got - want),
        }),
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

    #[test]
    fn json_content_is_compared_as_a_representation() {
        assert!(same_content("{\"a\":1}", "{\"id\":7,\"a\":1}"));
        assert!(same_content("{\"a\":1,\"b\":2}", "{\"b\":2,\"a\":1}"));
        assert!(!same_content("{\"a\":1}", "{\"a\":2}"));
        assert!(!same_content("v1", "v1 "));
    }
}
