//! Application-level conflicts, the 409s API authors meet most (RFC 9110 15.5.10, RFC 9457,
//! RFC 4918 11.3). Checked by the scenarios under specs/api against a JSON API.

use super::rules;

rules! {
    "app.duplicate-409" Expected Checkable ["RFC 9110 15.5.10", "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.10"]
        "a create that duplicates a unique value answers 409 and says which value conflicts";
        probe "POST /api/items twice with one name";
        good "-> 201, then 409 problem: name \"x\" is taken by /api/items/3"; bad "-> 201 twice, or 500 from the database's unique index";
    "app.create-once" Must Checkable ["RFC 9110 15.5.10 (derived)", "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.10"]
        "N concurrent creates with the same unique value: exactly one 201, the rest 409";
        probe "20 POSTs with one name released together";
        good "201 x 1, 409 x 19"; bad "201 x 3 (check-then-insert without a unique constraint)";
    "app.version-409" Expected Checkable ["RFC 9110 15.5.10", "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.10"]
        "a write whose body version is behind answers 409, names the current version, and changes nothing";
        probe "PUT an item with an old `version` member";
        good "-> 409 {current_version: 2}"; bad "-> 200 (the stale update wins)";
    "version.current-accepted" Must Checkable ["RFC 9110 13.1.1", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.1"]
        "a write carrying the resource's current version goes through";
        probe "read the version, update with it";
        good "-> 200 or 204"; bad "-> 409 or 412 for the version just read";
    "version.stale-refused" Must Checkable ["RFC 9110 13.1.1, 15.5.10", "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.10"]
        "a write based on a version the resource no longer has is refused (412 for If-Match, 409 for a version in the content) and changes nothing";
        probe "update with the current version, then again with the first one";
        good "-> 2xx, then 412 (If-Match) or 409 (`_rev`), content unchanged"; bad "-> 2xx twice: the second update overwrote the first (a lost update)";
    "app.locked-423" Expected Checkable ["RFC 4918 11.3", "https://www.rfc-editor.org/rfc/rfc4918#section-11.3"]
        "a write to a locked resource without the lock's token answers 423 Locked";
        probe "take a lock, PUT without Lock-Token, then with it";
        good "-> 423, then 200 with the token"; bad "-> 200 without the token";
    "app.problem-details" Should Checkable ["RFC 9457 3", "https://www.rfc-editor.org/rfc/rfc9457#section-3"]
        "an API's 409 is an application/problem+json document with its status and a detail";
        probe "the 409s of the application-level scenarios";
        good "409 application/problem+json {status: 409, detail: ...}"; bad "409 text/html, or no content";
}
