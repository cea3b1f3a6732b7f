//! Captures: values taken from a response into variables for later steps.

use std::collections::BTreeMap;

use super::{Exchange, Received};
use crate::judge::Failure;
use crate::scenario::{Capture, CaptureSource, Vars};

/// Applies every capture of a step; a capture that finds nothing is a failure of the step.
pub fn apply(
    captures: &BTreeMap<String, Capture>,
    response: &Received,
    vars: &mut Vars,
    failures: &mut Vec<Failure>,
) {
    for (name, capture) in captures {
        match extract(capture, response) {
            Ok(value) if capture.secret => vars.set_secret(name, value),
            Ok(value) => vars.set(name, value),
            Err(why) => failures.push(Failure::new(
                format!("capture {name}"),
                describe(&capture.source),
                why,
            )),
        }
    }
}

/// After a concurrent group: `winner.index` and `winner.status` name the one 2xx outcome, and
/// the step's captures are taken from it.
pub fn apply_winner(
    captures: &BTreeMap<String, Capture>,
    exchanges: &[Exchange],
    vars: &mut Vars,
    failures: &mut Vec<Failure>,
) {
    let winners: Vec<(usize, &Exchange)> = exchanges
        .iter()
        .enumerate()
        .filter(|(_, e)| e.status().is_some_and(|s| (200..300).contains(&s)))
        .collect();
    match winners.as_slice() {
        [(i, winner)] => {
            vars.set("winner.index", winner.index.unwrap_or(*i).to_string());
            if let Ok(response) = &winner.response {
                vars.set("winner.status", response.status.to_string());
                apply(captures, response, vars, failures);
            }
        }
        _ if captures.is_empty() => {}
        _ => failures.push(Failure::new(
            "capture",
            "exactly one 2xx outcome to capture from",
            format!("{} 2xx outcomes", winners.len()),
        )),
    }
}

/// True when a captured header names a weak entity tag (`W/"..."`) where a strong one is needed.
pub fn needs_strong(capture: &Capture, response: &Received) -> bool {
    let CaptureSource::Header(name) = &capture.source else {
        return false;
    };
    capture.strong
        && response
            .header(name)
            .is_some_and(|v| v.trim_start().starts_with("W/"))
}

pub fn extract(capture: &Capture, response: &Received) -> Result<String, String> {
    let text = match &capture.source {
        CaptureSource::Header(name) => response
            .header(name)
            .ok_or_else(|| "no such header".to_owned())?,
        CaptureSource::Status => response.status.to_string(),
        CaptureSource::Body => response.body_text().into_owned(),
        CaptureSource::Json(query) => {
            let doc: serde_json::Value = serde_json::from_slice(&response.body)
                .map_err(|e| format!("content is not JSON ({e})"))?;
            match query.select(&doc) {
                None => return Err("nothing at that path".to_owned()),
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
            }
        }
    };
    let Some(pattern) = &capture.regex else {
        return Ok(text);
    };
    let caps = pattern
        .0
        .captures(&text)
        .ok_or_else(|| format!("/{}/ does not match {text:?}", pattern.0.as_str()))?;
    let found = caps
        .get(1)
        .or_else(|| caps.get(0))
        .map(|m| m.as_str().to_owned())
        .unwrap_or_default();
    Ok(found)
}

fn describe(source: &CaptureSource) -> String {
    match source {
        CaptureSource::Header(name) => format!("header {name}"),
        CaptureSource::Status => "the status".into(),
        CaptureSource::Body => "the content".into(),
        CaptureSource::Json(q) => format!("a JSON value at {}", q.as_str()),
    }
}
