//! The rule catalog: every requirement contend checks, as data. Ids are stable once published:
//! users filter and waive by id.
//!
//! Source: `shared/rfc-rules.md`, checked against RFC 9110 (June 2022) and RFC 6585. Each rule
//! says how it is covered: by a passive check on every exchange ([`super::passive`]), by
//! scenarios under specs/ that name it in `requirements`, or not at all from outside.

use serde::Serialize;

/// How much a violation weighs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Level {
    /// A violation fails the scenario.
    #[serde(rename = "MUST")]
    Must,
    #[serde(rename = "MUST NOT")]
    MustNot,
    /// A violation is a warning, a failure only with `--strict`.
    #[serde(rename = "SHOULD")]
    Should,
    /// The behaviour a condition's truth implies (the catalog's "—" rows): a violation fails.
    #[serde(rename = "EXPECTED")]
    Expected,
}

impl Level {
    pub fn name(self) -> &'static str {
        match self {
            Level::Must => "MUST",
            Level::MustNot => "MUST NOT",
            Level::Should => "SHOULD",
            Level::Expected => "EXPECTED",
        }
    }

    /// True when a violation is only a warning (unless `--strict`).
    pub fn is_advisory(self) -> bool {
        self == Level::Should
    }
}

/// How a rule is checked from outside the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A pure check run on every exchange of every scenario.
    Passive,
    /// A probe: scenarios under specs/ send the requests that show it.
    Active,
    /// Stated for completeness; covered through other rules or not observable from outside.
    Informational,
}

#[derive(Debug, Clone, Serialize)]
pub struct Rule {
    pub id: &'static str,
    pub level: Level,
    /// `RFC 9110 13.1.1`, `RFC 6585 3`, or the sections a derived rule rests on.
    pub section: &'static str,
    /// Where to read it.
    pub link: &'static str,
    pub kind: Kind,
    pub summary: &'static str,
    /// What contend sends or looks at to check it.
    pub probe: &'static str,
    /// A conforming exchange, in brief.
    pub good: &'static str,
    /// A violating exchange, in brief.
    pub bad: &'static str,
}

impl Rule {
    /// `if-match.mismatch (MUST, RFC 9110 13.1.1)`
    pub fn cite(&self) -> String {
        format!("{} ({}, {})", self.id, self.level.name(), self.section)
    }
}

pub fn find(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

macro_rules! rules {
    ($( $id:literal $level:ident $kind:ident [$section:literal, $anchor:literal]
        $summary:literal; probe $probe:literal; good $good:literal; bad $bad:literal; )*) => {
        pub static RULES: &[Rule] = &[$(Rule {
            id: $id,
            level: Level::$level,
            section: $section,
            link: $anchor,
            kind: Kind::$kind,
            summary: $summary,
            probe: $probe,
            good: $good,
            bad: $bad,
        }),*];
    };
}

rules! {
    // ---- Validators (RFC 9110 8.8) ----
    "etag.syntax" Must Passive ["RFC 9110 8.8.3", "https://www.rfc-editor.org/rfc/rfc9110#section-8.8.3"]
        "ETag is \"opaque\" or W/\"opaque\"; opaque characters are %x21, %x23-7E or obs-text";
        probe "every response carrying ETag";
        good "ETag: \"v1-a8f\""; bad "ETag: v1-a8f (no quotes)";
    "etag.changes" Must Passive ["RFC 9110 8.8.1, 8.8.3", "https://www.rfc-editor.org/rfc/rfc9110#section-8.8.3"]
        "a strong ETag changes when the representation data changes";
        probe "two 200 GETs of one URL with different content must not share a strong ETag; specs PUT new content and compare";
        good "GET: \"a\" + v1; PUT v2; GET: \"b\" + v2"; bad "GET: \"a\" + v1; PUT v2; GET: \"a\" + v2";
    "etag.stable" Should Passive ["RFC 9110 8.8.1", "https://www.rfc-editor.org/rfc/rfc9110#section-8.8.1"]
        "an unchanged representation keeps its ETag";
        probe "two GETs of one URL with no write between and the same content give the same ETag";
        good "GET: \"a\"; GET: \"a\""; bad "GET: \"a\"; GET: \"b\" (same content)";
    "last-modified.syntax" Must Passive ["RFC 9110 8.8.2, 5.6.7", "https://www.rfc-editor.org/rfc/rfc9110#section-5.6.7"]
        "Last-Modified is an IMF-fixdate";
        probe "every response carrying Last-Modified";
        good "Last-Modified: Tue, 14 Nov 2023 22:13:20 GMT"; bad "Last-Modified: 2023-11-14T22:13:20Z";
    "last-modified.not-future" Must Passive ["RFC 9110 8.8.2.1", "https://www.rfc-editor.org/rfc/rfc9110#section-8.8.2.1"]
        "Last-Modified is not later than the response's Date";
        probe "every response carrying both Last-Modified and Date";
        good "Date: 12:00:05, Last-Modified: 12:00:00"; bad "Date: 12:00:05, Last-Modified: 13:00:00";
    "head.same-validators" Should Passive ["RFC 9110 9.3.2", "https://www.rfc-editor.org/rfc/rfc9110#section-9.3.2"]
        "HEAD carries the same ETag and Last-Modified as GET";
        probe "a HEAD and a GET of one URL with no write between";
        good "HEAD: ETag \"a\"; GET: ETag \"a\""; bad "HEAD: no ETag; GET: ETag \"a\"";
    "put.validator-means-stored" MustNot Passive ["RFC 9110 9.3.4", "https://www.rfc-editor.org/rfc/rfc9110#section-9.3.4"]
        "a 2xx PUT carries ETag only if the content was stored unchanged";
        probe "a PUT answered with ETag E, then a GET of the same URL with no write between: it serves E and the bytes sent";
        good "PUT \"v1\" -> 201 ETag \"a\"; GET -> ETag \"a\", \"v1\""; bad "PUT \"v1\" -> 201 ETag \"a\"; GET -> ETag \"a\", \"V1\" (normalised)";

    // ---- If-Match (13.1.1) ----
    "if-match.mismatch" Must Active ["RFC 9110 13.1.1", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.1"]
        "a false If-Match: the method is not performed; 412";
        probe "PUT with a stale tag and new content";
        good "PUT If-Match: <stale> -> 412"; bad "PUT If-Match: <stale> -> 204 (lost update), or 409";
    "if-match.match" Expected Active ["RFC 9110 13.1.1", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.1"]
        "a matching tag lets the method run";
        probe "PUT with the current tag";
        good "PUT If-Match: <current> -> 204"; bad "PUT If-Match: <current> -> 412";
    "if-match.list" Expected Active ["RFC 9110 13.1.1", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.1"]
        "a list matches if any member matches";
        probe "If-Match: \"x\", <current>";
        good "-> 204"; bad "-> 412";
    "if-match.star-exists" Expected Active ["RFC 9110 13.1.1", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.1"]
        "`*` is true when a current representation exists";
        probe "PUT If-Match: * on an existing resource";
        good "-> 204"; bad "-> 412";
    "if-match.star-missing" Must Active ["RFC 9110 13.1.1", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.1"]
        "`*` is false when there is no representation: nothing is created";
        probe "PUT If-Match: * on a missing resource, then GET";
        good "-> 412; GET -> 404"; bad "-> 201";
    "if-match.strong" Must Active ["RFC 9110 13.1.1, 8.8.3.2", "https://www.rfc-editor.org/rfc/rfc9110#section-8.8.3.2"]
        "weak tags never match under strong comparison";
        probe "If-Match: W/<opaque of current>";
        good "-> 412"; bad "-> 204";
    "if-match.delete" Must Active ["RFC 9110 13.1.1", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.1"]
        "DELETE with a false If-Match is not performed";
        probe "DELETE If-Match: <stale>, then GET";
        good "-> 412; GET -> 200"; bad "-> 204";
    "if-match.no-effect" Must Active ["RFC 9110 13.1.1", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.1"]
        "a 412 leaves no partial effect";
        probe "GET after the 412 shows the old content and the old ETag";
        good "412; GET -> old content, old ETag"; bad "412; GET -> new content";

    // ---- If-None-Match (13.1.2) ----
    "if-none-match.get" Must Active ["RFC 9110 13.1.2", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.2"]
        "GET/HEAD with a matching tag: 304";
        probe "GET If-None-Match: <current>";
        good "-> 304"; bad "-> 200 or 412";
    "if-none-match.weak" Must Active ["RFC 9110 13.1.2", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.2"]
        "weak comparison, for every method: W/<opaque of current> matches";
        probe "GET If-None-Match: W/<opaque> (304), PUT with it (412)";
        good "GET -> 304; PUT -> 412"; bad "GET -> 200, or PUT -> 204 (the strong comparison RFC 2616 prescribed for writes)";
    "if-none-match.list" Must Active ["RFC 9110 13.1.2", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.2"]
        "any member matching is enough";
        probe "GET If-None-Match: \"x\", \"y\", <current>";
        good "-> 304"; bad "-> 200";
    "if-none-match.miss" Must Active ["RFC 9110 13.1.2", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.2"]
        "no member matches: the request is served";
        probe "GET If-None-Match: <stale>";
        good "-> 200 with the content"; bad "-> 304";
    "if-none-match.write" Must Active ["RFC 9110 13.1.2", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.2"]
        "other methods with a matching tag: 412, not performed";
        probe "PUT If-None-Match: <current>";
        good "-> 412"; bad "-> 204 or 304";
    "if-none-match.star-exists" Must Active ["RFC 9110 13.1.2", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.2"]
        "`*` on an existing resource is false: PUT gets 412 and does not overwrite";
        probe "PUT If-None-Match: * on an existing resource, then GET";
        good "-> 412; GET -> old content"; bad "-> 204";
    "if-none-match.star-missing" Expected Active ["RFC 9110 13.1.2, 9.3.4", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.2"]
        "`*` on a missing resource lets PUT create it: 201";
        probe "PUT If-None-Match: * on a fresh path, then GET";
        good "-> 201; GET -> content"; bad "-> 412";
    "if-none-match.beats-ims" Must Active ["RFC 9110 13.1.3", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.3"]
        "If-Modified-Since is ignored when If-None-Match is present";
        probe "GET with a stale If-None-Match and If-Modified-Since = Last-Modified";
        good "-> 200"; bad "-> 304";

    // ---- If-Modified-Since (13.1.3), If-Unmodified-Since (13.1.4) ----
    "ims.not-modified" Should Active ["RFC 9110 13.1.3", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.3"]
        "GET with If-Modified-Since at or after Last-Modified: 304";
        probe "GET If-Modified-Since: <Last-Modified>";
        good "-> 304"; bad "-> 200";
    "ims.modified" Expected Active ["RFC 9110 13.1.3", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.3"]
        "If-Modified-Since earlier than Last-Modified: 200";
        probe "GET If-Modified-Since: Sat, 01 Jan 2000 00:00:00 GMT";
        good "-> 200"; bad "-> 304";
    "ims.invalid-date" Must Active ["RFC 9110 13.1.3", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.3"]
        "an invalid date is ignored";
        probe "GET If-Modified-Since: not a date";
        good "-> 200"; bad "-> 304 or 400";
    "ims.only-get-head" Must Active ["RFC 9110 13.1.3", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.3"]
        "If-Modified-Since is ignored for methods other than GET and HEAD";
        probe "PUT with If-Modified-Since far in the future";
        good "-> 204, performed"; bad "-> 304";
    "ius.modified" Must Active ["RFC 9110 13.1.4", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.4"]
        "If-Unmodified-Since earlier than Last-Modified: not performed, 412";
        probe "PUT If-Unmodified-Since: Sat, 01 Jan 2000 00:00:00 GMT, then GET";
        good "-> 412; GET -> old content"; bad "-> 204";
    "ius.unmodified" Expected Active ["RFC 9110 13.1.4", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.4"]
        "If-Unmodified-Since at or after Last-Modified: performed";
        probe "PUT If-Unmodified-Since: <Last-Modified>";
        good "-> 204"; bad "-> 412";
    "ius.ignored-with-if-match" Must Active ["RFC 9110 13.1.4", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.4"]
        "If-Unmodified-Since is ignored when If-Match is present";
        probe "PUT with the current If-Match and an old If-Unmodified-Since";
        good "-> 204"; bad "-> 412";
    "ius.invalid-date" Must Active ["RFC 9110 13.1.4", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.4"]
        "an invalid date is ignored";
        probe "PUT If-Unmodified-Since: garbage";
        good "-> 204"; bad "-> 412 or 400";

    // ---- If-Range (13.1.5) ----
    "if-range.match" Should Active ["RFC 9110 13.1.5", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.5"]
        "Range with If-Range naming the current strong tag: 206";
        probe "GET Range: bytes=2-5, If-Range: <current>";
        good "-> 206, Content-Range: bytes 2-5/10"; bad "-> 200";
    "if-range.mismatch" Must Active ["RFC 9110 13.1.5", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.5"]
        "a false If-Range: Range is ignored, the full 200 is sent";
        probe "GET Range + If-Range: <stale>";
        good "-> 200, full content"; bad "-> 206";
    "if-range.weak" Must Active ["RFC 9110 13.1.5", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.5"]
        "If-Range uses strong comparison: a weak tag is false";
        probe "GET Range + If-Range: W/<opaque>";
        good "-> 200"; bad "-> 206";
    "if-range.no-range" Must Active ["RFC 9110 13.1.5", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.5"]
        "If-Range without Range is ignored";
        probe "GET If-Range: <stale>, no Range";
        good "-> 200"; bad "-> 412";

    // ---- Evaluation order and scope (13.2) ----
    "order.if-match-first" Must Active ["RFC 9110 13.2.2", "https://www.rfc-editor.org/rfc/rfc9110#section-13.2.2"]
        "If-Match is evaluated before If-None-Match";
        probe "GET with a stale If-Match and the current If-None-Match";
        good "-> 412"; bad "-> 304";
    "order.ius-before-inm" Must Active ["RFC 9110 13.2.2", "https://www.rfc-editor.org/rfc/rfc9110#section-13.2.2"]
        "If-Unmodified-Since is evaluated before If-None-Match";
        probe "GET with an old If-Unmodified-Since and the current If-None-Match";
        good "-> 412"; bad "-> 304";
    "scope.error-first" Must Active ["RFC 9110 13.2.1", "https://www.rfc-editor.org/rfc/rfc9110#section-13.2.1"]
        "preconditions are ignored when the unconditional response would not be 2xx or 412";
        probe "GET of a missing resource with If-Match: \"x\" or If-None-Match: \"x\"";
        good "-> 404"; bad "-> 412";
    "scope.options" Must Active ["RFC 9110 13.2.1", "https://www.rfc-editor.org/rfc/rfc9110#section-13.2.1"]
        "conditions are ignored for OPTIONS (and CONNECT, TRACE)";
        probe "OPTIONS with a stale If-Match";
        good "-> 204"; bad "-> 412";

    // ---- Status codes ----
    "304.no-content" Must Passive ["RFC 9110 15.4.5", "https://www.rfc-editor.org/rfc/rfc9110#section-15.4.5"]
        "a 304 has no content";
        probe "every 304 read raw (`raw: true`, as if-none-match-get does): nothing after the header section";
        good "HTTP/1.1 304 + empty line"; bad "HTTP/1.1 304 + Content-Length: 5 + hello";
    "304.headers" Must Passive ["RFC 9110 15.4.5", "https://www.rfc-editor.org/rfc/rfc9110#section-15.4.5"]
        "a 304 carries ETag, Vary, Content-Location, Cache-Control, Expires where the 200 would";
        probe "each 304 compared with the last 200 for the same URL in the scenario";
        good "200 ETag \"a\"; 304 ETag \"a\""; bad "200 ETag \"a\"; 304 without ETag";
    "304.content-length" MustNot Passive ["RFC 9110 8.6", "https://www.rfc-editor.org/rfc/rfc9110#section-8.6"]
        "a Content-Length on a 304 equals the 200's length";
        probe "each 304 compared with the last 200 for the same URL in the scenario";
        good "200 Content-Length: 5; 304 Content-Length: 5 (or none)"; bad "200 Content-Length: 5; 304 Content-Length: 0";
    "204.content-length" MustNot Passive ["RFC 9110 8.6", "https://www.rfc-editor.org/rfc/rfc9110#section-8.6"]
        "no Content-Length on a 204";
        probe "every 204";
        good "204 without Content-Length"; bad "204 Content-Length: 0";
    "412.not-performed" Must Informational ["RFC 9110 15.5.13", "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.13"]
        "a 412 means the method was not performed";
        probe "covered by if-match.no-effect, if-match.delete, ius.modified, if-none-match.star-exists";
        good "412; state unchanged"; bad "412; state changed";
    "409.explains" Should Passive ["RFC 9110 15.5.10", "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.10"]
        "a 409 carries content that lets the user see the source of the conflict";
        probe "every 409: content not empty";
        good "409 + \"its parent /a is a document\""; bad "409 with no content";
    "428.required" Expected Active ["RFC 6585 3", "https://www.rfc-editor.org/rfc/rfc6585#section-3"]
        "a server that requires conditions answers an unconditional write with 428";
        probe "unconditional PUT to an existing resource, where the target declares requires-preconditions";
        good "-> 428"; bad "-> 204";
    "428.explains" Should Passive ["RFC 6585 3", "https://www.rfc-editor.org/rfc/rfc6585#section-3"]
        "a 428 explains how to resubmit";
        probe "every 428: content not empty";
        good "428 + \"resend with If-Match\""; bad "428 with no content";
    "put.created" Must Active ["RFC 9110 9.3.4", "https://www.rfc-editor.org/rfc/rfc9110#section-9.3.4"]
        "a PUT that creates answers 201";
        probe "PUT to a fresh path";
        good "-> 201"; bad "-> 200";
    "put.replaced" Must Active ["RFC 9110 9.3.4", "https://www.rfc-editor.org/rfc/rfc9110#section-9.3.4"]
        "a PUT that replaces answers 200 or 204";
        probe "a second PUT to the same path";
        good "-> 204"; bad "-> 201";

    // ---- Application-level conflicts: the 409s API authors meet most ----
    "app.duplicate-409" Expected Active ["RFC 9110 15.5.10", "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.10"]
        "a create that duplicates a unique value answers 409 and says which value conflicts";
        probe "POST /api/items twice with one name";
        good "-> 201, then 409 problem: name \"x\" is taken by /api/items/3"; bad "-> 201 twice, or 500 from the database's unique index";
    "app.create-once" Must Active ["RFC 9110 15.5.10 (derived)", "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.10"]
        "N concurrent creates with the same unique value: exactly one 201, the rest 409";
        probe "20 POSTs with one name released together";
        good "201 x 1, 409 x 19"; bad "201 x 3 (check-then-insert without a unique constraint)";
    "app.version-409" Expected Active ["RFC 9110 15.5.10", "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.10"]
        "a write whose body version is behind answers 409, names the current version, and changes nothing";
        probe "PUT an item with an old `version` member";
        good "-> 409 {current_version: 2}"; bad "-> 200 (the stale update wins)";
    "app.locked-423" Expected Active ["RFC 4918 11.3", "https://www.rfc-editor.org/rfc/rfc4918#section-11.3"]
        "a write to a locked resource without the lock's token answers 423 Locked";
        probe "take a lock, PUT without Lock-Token, then with it";
        good "-> 423, then 200 with the token"; bad "-> 200 without the token";
    "app.problem-details" Should Active ["RFC 9457 3", "https://www.rfc-editor.org/rfc/rfc9457#section-3"]
        "an API's 409 is an application/problem+json document with its status and a detail";
        probe "the 409s of the application-level scenarios";
        good "409 application/problem+json {status: 409, detail: ...}"; bad "409 text/html, or no content";

    // ---- Concurrency: the lost-update problem (why 13.1.1 exists) ----
    "race.one-winner" Must Active ["RFC 9110 13.1.1 (its purpose)", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.1"]
        "N PUTs with the same If-Match and distinct content: at most one 2xx, the rest 412";
        probe "20 PUTs released together on separate connections";
        good "204 x 1, 412 x 19"; bad "204 x 3, 412 x 17 (lost updates)";
    "race.winner-is-state" Must Active ["RFC 9110 13.1.1 (its purpose)", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.1"]
        "after the race, GET returns the winner's content with a new ETag";
        probe "GET after the race";
        good "GET -> \"writer 7\", the winner's ETag"; bad "GET -> \"writer 12\" (a loser's content)";
    "race.create-once" Must Active ["RFC 9110 13.1.2 (its purpose)", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.2"]
        "N PUTs with If-None-Match: * to one missing path: exactly one 201, the rest 412";
        probe "20 PUTs released together";
        good "201 x 1, 412 x 19"; bad "201 x 4, 412 x 16";
    "race.delete-once" Must Active ["RFC 9110 13.1.1 (its purpose)", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.1"]
        "N DELETEs with the same If-Match: at most one 2xx";
        probe "20 DELETEs released together";
        good "204 x 1, 404/412 x 19"; bad "204 x 2";
    "race.loser-412" Should Passive ["RFC 9110 13.1.1, 15.5.13", "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.13"]
        "a conditional write that loses a race answers 412; 409 only where the target detects the conflict at commit time and says so (S3's ConditionalRequestConflict)";
        probe "every racing write with If-Match or If-None-Match answered 409";
        good "loser -> 412"; bad "loser -> 409 with no profile saying the target commits that way";
    "race.no-5xx" Should Active ["RFC 9110 15.6", "https://www.rfc-editor.org/rfc/rfc9110#section-15.6"]
        "contention gives no 5xx";
        probe "count 5xx outcomes in every race";
        good "no 5xx"; bad "503 x 4";
    "race.counter" Must Active ["RFC 9110 13.1.1 (its purpose)", "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.1"]
        "M clients each do K read-modify-write increments with If-Match, retrying on 412: the final value is M x K";
        probe "a workload: 5 clients x 10 read-modify-write increments with If-Match, retrying on 412; then the counter is read back";
        good "final 100 for 10 x 10"; bad "final 93 (7 lost updates)";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_well_formed() {
        let mut ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
        ids.sort_unstable();
        let before = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), before, "duplicate rule id");
        for r in RULES {
            assert!(
                r.id.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-".contains(c)),
                "{}",
                r.id
            );
            assert!(
                r.link.starts_with("https://www.rfc-editor.org/rfc/rfc"),
                "{}",
                r.id
            );
        }
    }
}

/// How one rule is covered by a set of scenarios and the passive checks.
#[derive(Debug, Clone)]
pub struct Coverage {
    pub rule: &'static Rule,
    pub passive: bool,
    /// Ids of scenarios that name the rule in `requirements`.
    pub scenarios: Vec<String>,
}

impl Coverage {
    pub fn state(&self) -> CoverageState {
        if self.passive || !self.scenarios.is_empty() {
            CoverageState::Checked
        } else if self.rule.kind == Kind::Informational {
            CoverageState::Informational
        } else {
            CoverageState::NotYetChecked
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoverageState {
    Checked,
    NotYetChecked,
    Informational,
}

/// Coverage of every catalog rule, given `(scenario id, its requirements)` pairs.
pub fn coverage<'a>(
    scenarios: impl IntoIterator<Item = (String, &'a [String])> + Clone,
) -> Vec<Coverage> {
    RULES
        .iter()
        .map(|rule| Coverage {
            rule,
            passive: super::passive::CHECKS.iter().any(|(id, _)| *id == rule.id),
            scenarios: scenarios
                .clone()
                .into_iter()
                .filter(|(_, reqs)| reqs.iter().any(|r| r == rule.id))
                .map(|(id, _)| id)
                .collect(),
        })
        .collect()
}
