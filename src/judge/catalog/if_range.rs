//! If-Range (RFC 9110 13.1.5): a Range that holds only for the current strong validator.

use super::rules;

rules! {
    "if-range.match" Should Checkable ["RFC 9110 13.1.5", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.5"]
        "Range with If-Range naming the current strong tag: 206";
        probe "GET Range: bytes=2-5, If-Range: <current>";
        good "-> 206, Content-Range: bytes 2-5/10"; bad "-> 200";
    "if-range.mismatch" Must Checkable ["RFC 9110 13.1.5", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.5"]
        "a false If-Range: Range is ignored, the full 200 is sent";
        probe "GET Range + If-Range: <stale>";
        good "-> 200, full content"; bad "-> 206";
    "if-range.weak" Must Checkable ["RFC 9110 13.1.5", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.5"]
        "If-Range uses strong comparison: a weak tag is false";
        probe "GET Range + If-Range: W/<opaque>";
        good "-> 200"; bad "-> 206";
    "if-range.no-range" Must Checkable ["RFC 9110 13.1.5", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.5"]
        "If-Range without Range is ignored";
        probe "GET If-Range: <stale>, no Range";
        good "-> 200"; bad "-> 412";
}
