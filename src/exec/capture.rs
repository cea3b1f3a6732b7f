//! Captures: values taken from a response into variables for later steps.

use std::collections::BTreeMap;

use crate::record::{Exchange, Received};
use crate::scenario::{Capture, CaptureSource, Vars};

/// A variable a step should have captured and did not: (name, why).
pub type Missed = (String, String);

/// Applies every capture of a step; what a capture cannot find is returned, not guessed.
pub fn apply(
    captures: &BTreeMap<String, Capture>,
    response: &Received,
    vars: &mut Vars,
    missed: &mut Vec<Missed>,
) {
    for (name, capture) in captures {
        match extract(capture, response) {
            Ok(value) if capture.secret => vars.set_secret(name, value),
            Ok(value) => vars.set(name, value),
            Err(why) => missed.push((
                name.clone(),
                format!("{} of the response: {why}", describe(&capture.source)),
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
    missed: &mut Vec<Missed>,
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
                apply(captures, response, vars, missed);
            }
        }
        _ => {
            let why = format!(
                "not exactly one 2xx outcome to capture from ({} of them)",
                winners.len()
            );
            // Only what the step asked for makes it not applicable: `winner.*` stays unset,
            // and a later step using it says so when it is rendered.
            missed.extend(captures.keys().cloned().map(|n| (n, why.clone())));
        }
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
        CaptureSource::Sample(at) => at
            .find(&response.body)
            .ok_or_else(|| "the content is not in the target's body format".to_owned())?,
        // Planning puts the profile's source in its place.
        CaptureSource::Version => return Err("the version's place was not planned".to_owned()),
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
        CaptureSource::Sample(_) => "the sample in the content".into(),
        CaptureSource::Version => "the version".into(),
    }
}
