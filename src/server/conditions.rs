//! RFC 9110 section 13.2.2: evaluating the preconditions of one request against the current
//! state of the resource, in the order the RFC prescribes. Pure: no store, no I/O.

use std::time::SystemTime;

use hyper::header::{HeaderMap, HeaderName, IF_MATCH, IF_MODIFIED_SINCE, IF_NONE_MATCH};
use hyper::header::{IF_RANGE, IF_UNMODIFIED_SINCE};

use super::faults::{Fault, Faults};
use crate::validators::{parse_http_date, EntityTag, SyntaxError, TagList};

/// The validators of the selected representation, if there is one.
#[derive(Debug, Clone)]
pub struct Current {
    pub etag: EntityTag,
    pub last_modified: SystemTime,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Perform the method.
    Proceed,
    /// 304 Not Modified (GET/HEAD only).
    NotModified,
    /// 412 Precondition Failed, with the reason shown in the response content.
    Failed(String),
    /// The request's conditional header fields are unparseable.
    BadRequest(String),
}

/// True when the request carries any precondition that guards a write (13.1.1, 13.1.2, 13.1.4).
/// Used for 428 (RFC 6585 section 3).
pub fn has_write_precondition(headers: &HeaderMap) -> bool {
    [IF_MATCH, IF_NONE_MATCH, IF_UNMODIFIED_SINCE]
        .iter()
        .any(|h| headers.contains_key(h))
}

/// Steps 1 to 4 of 13.2.2. `safe` is true for GET and HEAD. `faults` plants bugs; with none
/// this is RFC 9110 exactly.
pub fn evaluate(
    current: Option<&Current>,
    headers: &HeaderMap,
    safe: bool,
    faults: &Faults,
) -> Verdict {
    let steps: [Step; 2] = if faults.has(Fault::InmBeforeIfMatch) {
        [if_none_match_steps, if_match_steps]
    } else {
        [if_match_steps, if_none_match_steps]
    };
    for step in steps {
        match step(current, headers, safe, faults) {
            Ok(Verdict::Proceed) => {}
            Ok(verdict) => return verdict,
            Err(err) => return Verdict::BadRequest(err.0),
        }
    }
    Verdict::Proceed
}

type Step = fn(Option<&Current>, &HeaderMap, bool, &Faults) -> Result<Verdict, SyntaxError>;

/// Steps 1 and 2: If-Match (strong comparison; `*` is true when a representation exists), or
/// without it If-Unmodified-Since (ignored when invalid).
fn if_match_steps(
    current: Option<&Current>,
    headers: &HeaderMap,
    safe: bool,
    faults: &Faults,
) -> Result<Verdict, SyntaxError> {
    let ignored =
        faults.has(Fault::IgnoreIfMatch) || (safe && faults.has(Fault::IfMatchWritesOnly));
    let if_match = if ignored {
        None
    } else {
        tag_list(headers, &IF_MATCH)?
    };
    // Step 2 applies only without If-Match.
    let ius_applies = if_match.is_none() || faults.has(Fault::IusDespiteIfMatch);
    if let Some(list) = if_match {
        let compare = if faults.has(Fault::WeakIfMatch) {
            EntityTag::weak_eq
        } else {
            EntityTag::strong_eq
        };
        let matched = match (&list, current) {
            (TagList::Any, None) => faults.has(Fault::StarIfMatchCreates),
            (_, None) => faults.has(Fault::IfMatchIgnoredWhenMissing),
            (TagList::Any, Some(_)) => !faults.has(Fault::StarIfMatchRefused),
            (TagList::Tags(tags), _) if tags.len() > 1 && faults.has(Fault::TagListAsString) => {
                false
            }
            (TagList::Tags(tags), Some(cur)) => tags.iter().any(|t| compare(t, &cur.etag)),
        };
        if !matched {
            return Ok(Verdict::Failed(match current {
                Some(cur) => format!("If-Match does not match the current ETag {}", cur.etag),
                None => "If-Match is false: the resource has no current representation".into(),
            }));
        }
    }
    if ius_applies
        && headers.contains_key(IF_UNMODIFIED_SINCE)
        && single_date(headers, &IF_UNMODIFIED_SINCE).is_none()
        && current.is_some()
        && faults.has(Fault::InvalidIus412)
    {
        return Ok(Verdict::Failed("If-Unmodified-Since is not a date".into()));
    }
    if let (true, Some(since), Some(cur)) = (
        ius_applies,
        single_date(headers, &IF_UNMODIFIED_SINCE),
        current,
    ) {
        let modified = if faults.has(Fault::IusEqualFails) {
            cur.last_modified >= since
        } else {
            cur.last_modified > since
        };
        if modified && !faults.has(Fault::IgnoreIus) {
            return Ok(Verdict::Failed(format!(
                "modified since the If-Unmodified-Since date: Last-Modified is {}",
                crate::validators::fmt_http_date(cur.last_modified)
            )));
        }
    }
    Ok(Verdict::Proceed)
}

/// Steps 3 and 4: If-None-Match (weak comparison; `*` is false when a representation exists),
/// or without it, for GET and HEAD, If-Modified-Since.
fn if_none_match_steps(
    current: Option<&Current>,
    headers: &HeaderMap,
    safe: bool,
    faults: &Faults,
) -> Result<Verdict, SyntaxError> {
    let if_none_match = tag_list(headers, &IF_NONE_MATCH)?;
    if let Some(list) = &if_none_match {
        let compare = if faults.has(Fault::StrongIfNoneMatch) {
            EntityTag::strong_eq
        } else {
            EntityTag::weak_eq
        };
        let matched = match (list, current) {
            (TagList::Any, None) => !safe && faults.has(Fault::StarInmRefusesCreate),
            (_, None) => false,
            (TagList::Any, Some(_)) => safe || !faults.has(Fault::StarInmOverwrites),
            (TagList::Tags(_), Some(_)) if safe && faults.has(Fault::InmPresenceMatches) => true,
            (TagList::Tags(_), Some(_)) if !safe && faults.has(Fault::InmTagIgnoredOnWrite) => {
                false
            }
            (TagList::Tags(tags), _) if tags.len() > 1 && faults.has(Fault::TagListAsString) => {
                false
            }
            (TagList::Tags(tags), Some(cur)) => tags.iter().any(|t| compare(t, &cur.etag)),
        };
        if matched {
            return Ok(if safe && !faults.has(Fault::PreconditionFailedOnGet) {
                Verdict::NotModified
            } else {
                Verdict::Failed("If-None-Match matches the current representation".into())
            });
        }
    }
    let ims_applies = (safe || faults.has(Fault::ImsOnPut))
        && (if_none_match.is_none() || faults.has(Fault::ImsDespiteInm))
        && !faults.has(Fault::ImsIgnored);
    if ims_applies {
        if let Some(cur) = current {
            match single_date(headers, &IF_MODIFIED_SINCE) {
                Some(since) if cur.last_modified <= since || faults.has(Fault::ImsAlways304) => {
                    return Ok(Verdict::NotModified)
                }
                None if headers.contains_key(IF_MODIFIED_SINCE)
                    && faults.has(Fault::InvalidImsNotModified) =>
                {
                    return Ok(Verdict::NotModified)
                }
                _ => {}
            }
        }
    }
    Ok(Verdict::Proceed)
}

/// Step 5: If-Range (13.1.5). True when the Range may be honoured.
pub fn if_range_holds(current: &Current, headers: &HeaderMap, faults: &Faults) -> bool {
    let Some(value) = headers.get(IF_RANGE) else {
        return true;
    };
    if faults.has(Fault::RangeIgnoresIfRange) {
        return true;
    }
    if faults.has(Fault::IfRangeNeverMatches) {
        return false;
    }
    let value = value.as_bytes();
    if value.starts_with(b"\"") || value.starts_with(b"W/") {
        // Strong comparison: a weak tag never matches.
        let compare = if faults.has(Fault::WeakIfRange) {
            EntityTag::weak_eq
        } else {
            EntityTag::strong_eq
        };
        return EntityTag::parse(value).is_ok_and(|tag| compare(&tag, &current.etag));
    }
    parse_http_date(value).is_some_and(|date| date == current.last_modified)
}

fn tag_list(headers: &HeaderMap, name: &HeaderName) -> Result<Option<TagList>, SyntaxError> {
    if !headers.contains_key(name) {
        return Ok(None);
    }
    TagList::parse(headers.get_all(name).iter().map(|v| v.as_bytes()))
        .map(Some)
        .map_err(|e| SyntaxError(format!("{name}: {}", e.0)))
}

/// A date precondition with exactly one valid HTTP-date; anything else is ignored (13.1.3, 13.1.4).
fn single_date(headers: &HeaderMap, name: &HeaderName) -> Option<SystemTime> {
    let mut values = headers.get_all(name).iter();
    let first = values.next()?;
    if values.next().is_some() {
        return None;
    }
    parse_http_date(first.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn current() -> Current {
        Current {
            etag: EntityTag::strong("v1"),
            last_modified: SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        }
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    fn verdict(pairs: &[(&'static str, &str)], safe: bool) -> Verdict {
        evaluate(Some(&current()), &headers(pairs), safe, &Faults::default())
    }

    const LM: &str = "Tue, 14 Nov 2023 22:13:20 GMT";
    const BEFORE_LM: &str = "Mon, 13 Nov 2023 22:13:20 GMT";

    #[test]
    fn if_match_uses_strong_comparison() {
        assert_eq!(verdict(&[("if-match", "\"v1\"")], false), Verdict::Proceed);
        assert_eq!(
            verdict(&[("if-match", "\"x\", \"v1\"")], false),
            Verdict::Proceed
        );
        assert!(matches!(
            verdict(&[("if-match", "W/\"v1\"")], false),
            Verdict::Failed(_)
        ));
        assert!(matches!(
            verdict(&[("if-match", "\"v0\"")], false),
            Verdict::Failed(_)
        ));
        let missing = evaluate(
            None,
            &headers(&[("if-match", "*")]),
            false,
            &Faults::default(),
        );
        assert!(matches!(missing, Verdict::Failed(_)));
    }

    #[test]
    fn if_none_match_uses_weak_comparison() {
        assert_eq!(
            verdict(&[("if-none-match", "W/\"v1\"")], true),
            Verdict::NotModified
        );
        assert!(matches!(
            verdict(&[("if-none-match", "\"v1\"")], false),
            Verdict::Failed(_)
        ));
        assert_eq!(
            verdict(&[("if-none-match", "\"v0\"")], true),
            Verdict::Proceed
        );
        assert_eq!(
            evaluate(
                None,
                &headers(&[("if-none-match", "*")]),
                false,
                &Faults::default()
            ),
            Verdict::Proceed
        );
    }

    #[test]
    fn precedence_follows_13_2_2() {
        // If-Match before If-None-Match.
        let v = verdict(
            &[("if-match", "\"old\""), ("if-none-match", "\"v1\"")],
            true,
        );
        assert!(matches!(v, Verdict::Failed(_)));
        // IUS ignored when If-Match is present.
        let v = verdict(
            &[("if-match", "\"v1\""), ("if-unmodified-since", BEFORE_LM)],
            false,
        );
        assert_eq!(v, Verdict::Proceed);
        // IUS before If-None-Match.
        let v = verdict(
            &[
                ("if-unmodified-since", BEFORE_LM),
                ("if-none-match", "\"v1\""),
            ],
            true,
        );
        assert!(matches!(v, Verdict::Failed(_)));
        // IMS ignored when If-None-Match is present.
        let v = verdict(
            &[("if-none-match", "\"old\""), ("if-modified-since", LM)],
            true,
        );
        assert_eq!(v, Verdict::Proceed);
    }

    #[test]
    fn dates_compare_and_invalid_dates_are_ignored() {
        assert_eq!(
            verdict(&[("if-modified-since", LM)], true),
            Verdict::NotModified
        );
        assert_eq!(
            verdict(&[("if-modified-since", BEFORE_LM)], true),
            Verdict::Proceed
        );
        assert_eq!(
            verdict(&[("if-modified-since", "not a date")], true),
            Verdict::Proceed
        );
        assert_eq!(
            verdict(&[("if-modified-since", LM)], false),
            Verdict::Proceed
        );
        assert_eq!(
            verdict(&[("if-unmodified-since", LM)], false),
            Verdict::Proceed
        );
        assert_eq!(
            verdict(&[("if-unmodified-since", "garbage")], false),
            Verdict::Proceed
        );
        assert!(matches!(
            verdict(&[("if-unmodified-since", BEFORE_LM)], false),
            Verdict::Failed(_)
        ));
    }

    #[test]
    fn malformed_lists_are_bad_requests() {
        assert!(matches!(
            verdict(&[("if-match", "v1")], false),
            Verdict::BadRequest(_)
        ));
    }

    #[test]
    fn if_range_is_strong_or_exact_date() {
        let cur = current();
        assert!(if_range_holds(
            &cur,
            &headers(&[("if-range", "\"v1\"")]),
            &Faults::default()
        ));
        assert!(!if_range_holds(
            &cur,
            &headers(&[("if-range", "W/\"v1\"")]),
            &Faults::default()
        ));
        assert!(!if_range_holds(
            &cur,
            &headers(&[("if-range", "\"v0\"")]),
            &Faults::default()
        ));
        assert!(if_range_holds(
            &cur,
            &headers(&[("if-range", LM)]),
            &Faults::default()
        ));
        assert!(!if_range_holds(
            &cur,
            &headers(&[("if-range", BEFORE_LM)]),
            &Faults::default()
        ));
    }
}
