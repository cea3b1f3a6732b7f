//! Evaluation order and scope of preconditions (RFC 9110 13.2).

use super::rules;

/// Rules of this family that bind origin servers only, with the sentence that says so: a
/// cache in front of the origin (a profile's `cache: true`) is not judged on them.
pub(crate) const ORIGIN_ONLY: &[(&str, &str)] = &[
    (
        "order.if-match-first",
        "RFC 9110 13.2.2 orders the evaluation \"when the recipient is the origin server\"; \
         a cache MAY ignore If-Match (13.1.1)",
    ),
    (
        "order.ius-before-inm",
        "RFC 9110 13.2.2 orders the evaluation \"when the recipient is the origin server\"; \
         a cache MAY ignore If-Unmodified-Since (13.1.4)",
    ),
];

rules! {
    "order.if-match-first" Must Checkable ["RFC 9110 13.2.2", "https://www.rfc-editor.org/rfc/rfc9110#section-13.2.2"]
        "If-Match is evaluated before If-None-Match";
        probe "GET with a stale If-Match and the current If-None-Match";
        good "-> 412"; bad "-> 304";
    "order.ius-before-inm" Must Checkable ["RFC 9110 13.2.2", "https://www.rfc-editor.org/rfc/rfc9110#section-13.2.2"]
        "If-Unmodified-Since is evaluated before If-None-Match";
        probe "GET with an old If-Unmodified-Since and the current If-None-Match";
        good "-> 412"; bad "-> 304";
    "scope.error-first" Must Checkable ["RFC 9110 13.2.1", "https://www.rfc-editor.org/rfc/rfc9110#section-13.2.1"]
        "preconditions are ignored when the unconditional response would not be 2xx or 412";
        probe "GET of a missing resource with If-Match: \"x\" or If-None-Match: \"x\"";
        good "-> 404"; bad "-> 412";
    "scope.options" Must Checkable ["RFC 9110 13.2.1", "https://www.rfc-editor.org/rfc/rfc9110#section-13.2.1"]
        "conditions are ignored for OPTIONS (and CONNECT, TRACE)";
        probe "OPTIONS with a stale If-Match";
        good "-> 204"; bad "-> 412";
}
