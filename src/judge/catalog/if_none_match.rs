//! If-None-Match (RFC 9110 13.1.2): 304 for reads, 412 for writes, `*` for create-only.

use super::rules;

rules! {
    "if-none-match.get" Must Checkable ["RFC 9110 13.1.2", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.2"]
        "GET/HEAD with a matching tag: 304";
        probe "GET If-None-Match: <current>";
        good "-> 304"; bad "-> 200 or 412";
    "if-none-match.weak" Must Checkable ["RFC 9110 13.1.2", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.2"]
        "weak comparison, for every method: W/<opaque of current> matches";
        probe "GET If-None-Match: W/<opaque> (304), PUT with it (412)";
        good "GET -> 304; PUT -> 412"; bad "GET -> 200, or PUT -> 204 (the strong comparison RFC 2616 prescribed for writes)";
    "if-none-match.list" Must Checkable ["RFC 9110 13.1.2", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.2"]
        "any member matching is enough";
        probe "GET If-None-Match: \"x\", \"y\", <current>";
        good "-> 304"; bad "-> 200";
    "if-none-match.miss" Must Checkable ["RFC 9110 13.1.2", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.2"]
        "no member matches: the request is served";
        probe "GET If-None-Match: <stale>";
        good "-> 200 with the content"; bad "-> 304";
    "if-none-match.write" Must Checkable ["RFC 9110 13.1.2", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.2"]
        "other methods with a matching tag: 412, not performed";
        probe "PUT If-None-Match: <current>";
        good "-> 412"; bad "-> 204 or 304";
    "if-none-match.star-exists" Must Checkable ["RFC 9110 13.1.2", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.2"]
        "`*` on an existing resource is false: PUT gets 412 and does not overwrite";
        probe "PUT If-None-Match: * on an existing resource, then GET";
        good "-> 412; GET -> old content"; bad "-> 204";
    "if-none-match.star-missing" Expected Checkable ["RFC 9110 13.1.2, 9.3.4", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.2"]
        "`*` on a missing resource lets PUT create it: 201";
        probe "PUT If-None-Match: * on a fresh path, then GET";
        good "-> 201; GET -> content"; bad "-> 412";
    "if-none-match.beats-ims" Must Checkable ["RFC 9110 13.1.3", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.3"]
        "If-Modified-Since is ignored when If-None-Match is present";
        probe "GET with a stale If-None-Match and If-Modified-Since = Last-Modified";
        good "-> 200"; bad "-> 304";
}
