//! If-Modified-Since and If-Unmodified-Since (RFC 9110 13.1.3, 13.1.4): date preconditions.

use super::rules;

rules! {
    "ims.not-modified" Should Checkable ["RFC 9110 13.1.3", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.3"]
        "GET with If-Modified-Since at or after Last-Modified: 304";
        probe "GET If-Modified-Since: <Last-Modified>";
        good "-> 304"; bad "-> 200";
    "ims.modified" Expected Checkable ["RFC 9110 13.1.3", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.3"]
        "If-Modified-Since earlier than Last-Modified: 200";
        probe "GET If-Modified-Since: Sat, 01 Jan 2000 00:00:00 GMT";
        good "-> 200"; bad "-> 304";
    "ims.invalid-date" Must Checkable ["RFC 9110 13.1.3", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.3"]
        "an invalid date is ignored";
        probe "GET If-Modified-Since: not a date";
        good "-> 200"; bad "-> 304 or 400";
    "ims.only-get-head" Must Checkable ["RFC 9110 13.1.3", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.3"]
        "If-Modified-Since is ignored for methods other than GET and HEAD";
        probe "PUT with If-Modified-Since far in the future";
        good "-> 204, performed"; bad "-> 304";
    "ius.modified" Must Checkable ["RFC 9110 13.1.4", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.4"]
        "If-Unmodified-Since earlier than Last-Modified: not performed, 412";
        probe "PUT If-Unmodified-Since: Sat, 01 Jan 2000 00:00:00 GMT, then GET";
        good "-> 412; GET -> old content"; bad "-> 204";
    "ius.unmodified" Expected Checkable ["RFC 9110 13.1.4", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.4"]
        "If-Unmodified-Since at or after Last-Modified: performed";
        probe "PUT If-Unmodified-Since: <Last-Modified>";
        good "-> 204"; bad "-> 412";
    "ius.ignored-with-if-match" Must Checkable ["RFC 9110 13.1.4", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.4"]
        "If-Unmodified-Since is ignored when If-Match is present";
        probe "PUT with the current If-Match and an old If-Unmodified-Since";
        good "-> 204"; bad "-> 412";
    "ius.invalid-date" Must Checkable ["RFC 9110 13.1.4", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.4"]
        "an invalid date is ignored";
        probe "PUT If-Unmodified-Since: garbage";
        good "-> 204"; bad "-> 412 or 400";
}
