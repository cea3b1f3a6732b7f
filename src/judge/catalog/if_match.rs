//! If-Match (RFC 9110 13.1.1): a write conditioned on the version the client saw.

use super::rules;

rules! {
    "if-match.mismatch" Must Checkable ["RFC 9110 13.1.1", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.1"]
        "a false If-Match: the method is not performed; 412";
        probe "PUT with a stale tag and new content";
        good "PUT If-Match: <stale> -> 412"; bad "PUT If-Match: <stale> -> 204 (lost update), or 409";
    "if-match.match" Expected Checkable ["RFC 9110 13.1.1", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.1"]
        "a matching tag lets the method run";
        probe "PUT with the current tag";
        good "PUT If-Match: <current> -> 204"; bad "PUT If-Match: <current> -> 412";
    "if-match.list" Expected Checkable ["RFC 9110 13.1.1", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.1"]
        "a list matches if any member matches";
        probe "If-Match: \"x\", <current>";
        good "-> 204"; bad "-> 412";
    "if-match.star-exists" Expected Checkable ["RFC 9110 13.1.1", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.1"]
        "`*` is true when a current representation exists";
        probe "PUT If-Match: * on an existing resource";
        good "-> 204"; bad "-> 412";
    "if-match.star-missing" Must Checkable ["RFC 9110 13.1.1", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.1"]
        "`*` is false when there is no representation: nothing is created";
        probe "PUT If-Match: * on a missing resource, then GET";
        good "-> 412; GET -> 404"; bad "-> 201";
    "if-match.strong" Must Checkable ["RFC 9110 13.1.1, 8.8.3.2", "https://www.rfc-editor.org/rfc/rfc9110#section-8.8.3.2"]
        "weak tags never match under strong comparison";
        probe "If-Match: W/<opaque of current>";
        good "-> 412"; bad "-> 204";
    "if-match.delete" Must Checkable ["RFC 9110 13.1.1", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.1"]
        "DELETE with a false If-Match is not performed";
        probe "DELETE If-Match: <stale>, then GET";
        good "-> 412; GET -> 200"; bad "-> 204";
    "if-match.no-effect" Must Checkable ["RFC 9110 13.1.1", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.1"]
        "a 412 leaves no partial effect";
        probe "GET after the 412 shows the old content and the old ETag";
        good "412; GET -> old content, old ETag"; bad "412; GET -> new content";
    "if-match.missing-tag" Must Checkable ["RFC 9110 13.1.1, 13.2.2", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.1"]
        "a tag-valued If-Match on a missing resource is false: 412, nothing is created";
        probe "PUT If-Match: \"x\" to a fresh path, then GET";
        good "-> 412; GET -> 404"; bad "-> 201 (the tag was never compared)";
    "if-match.get" Must Checkable ["RFC 9110 13.1.1, 13.2.2", "https://www.rfc-editor.org/rfc/rfc9110#section-13.2.2"]
        "a GET with a false If-Match is answered 412, not served";
        probe "GET If-Match: <stale>";
        good "-> 412"; bad "-> 200 (If-Match evaluated for writes only)";
}
