//! The Idempotency-Key request header (draft-ietf-httpapi-idempotency-key-header-07): a keyed
//! POST or PATCH takes effect once; a retry while the first is running is 409, a completed
//! one gets the stored result, another payload under the key 422, a missing required key 400.
//! Checked by the scenarios under specs/idempotency against a target with the capability.
//!
//! The draft states "at most once" as the header's purpose but words its enforcement as SHOULD;
//! `idempotency.once` is graded as a failure (like `race.counter`): a keyed payment executed
//! twice is the bug the header exists to prevent.

use super::rules;

rules! {
    "idempotency.once" Expected Checkable ["Idempotency-Key draft-07 2.6", "https://datatracker.ietf.org/doc/html/draft-ietf-httpapi-idempotency-key-header-07#section-2.6"]
        "copies of one keyed request, however many arrive and however together, execute once (the header's purpose: at most once; the draft words its enforcement as SHOULD, and contend fails a double execution as it fails a lost update)";
        probe "10 identical keyed POSTs released together; count what was executed before and after";
        good "count +1; one 201, the rest 409 or the replayed 201"; bad "count +10, ten clean 201s (the key looked up and claimed in two steps)";
    "idempotency.replay" Should Checkable ["Idempotency-Key draft-07 2.6", "https://datatracker.ietf.org/doc/html/draft-ietf-httpapi-idempotency-key-header-07#section-2.6"]
        "a retry of a completed keyed request gets the stored result: the same status and content, nothing executed again";
        probe "POST with a key, then the same POST again";
        good "-> 201, then 201 with the same content"; bad "-> 201, then 409 (a client following the draft retries a finished payment forever)";
    "idempotency.replay-headers" Should Checkable ["Idempotency-Key draft-07 2.6", "https://datatracker.ietf.org/doc/html/draft-ietf-httpapi-idempotency-key-header-07#section-2.6"]
        "the replayed result keeps the first response's headers that say what was made, such as Location";
        probe "POST with a key, then again; compare Location";
        good "Location: /api/payments/7 both times"; bad "no Location on the replay";
    "idempotency.in-flight-409" Should Checkable ["Idempotency-Key draft-07 2.7", "https://datatracker.ietf.org/doc/html/draft-ietf-httpapi-idempotency-key-header-07#section-2.7"]
        "a retry that arrives while the first request with its key is still being processed is answered 409 Conflict (the problem description the draft asks for is not checked: it says nothing of what it holds)";
        probe "two identical keyed POSTs released together against a target that works for a while";
        good "201 and 409 application/problem+json"; bad "201 twice with two payments, or 500";
    "idempotency.payload-mismatch" Should Checkable ["Idempotency-Key draft-07 2.7", "https://datatracker.ietf.org/doc/html/draft-ietf-httpapi-idempotency-key-header-07#section-2.7"]
        "a key reused with another payload is answered 422 Unprocessable Content, with a link to the documentation (a Link header, or in the content)";
        probe "POST amount 10 with a key, then amount 20 with the same key";
        good "-> 201, then 422 with a Link or a problem document's type"; bad "-> 201, then the first result replayed (the payload was never fingerprinted); 422 with no link";
    "idempotency.uncorrected-retry" Must Checkable ["Idempotency-Key draft-07 2.7", "https://datatracker.ietf.org/doc/html/draft-ietf-httpapi-idempotency-key-header-07#section-2.7"]
        "a refused keyed request retried without correction is refused again (a 4xx; which one is payload-mismatch's to judge): \"the resource MUST fail the request and return one of the above errors\"";
        probe "POST amount 10 with a key, amount 20 with the same key (422), then amount 20 again";
        good "-> 201, 422, 422 (or the same 4xx twice)"; bad "-> 201, 422, then 201 (the second payload taken for the key's after the first refusal)";
    "idempotency.missing-key" Should Checkable ["Idempotency-Key draft-07 2.7", "https://datatracker.ietf.org/doc/html/draft-ietf-httpapi-idempotency-key-header-07#section-2.7"]
        "where the key is required (the target's profile says so), a request without it is answered 400, with a link to the documentation (a Link header, or in the content)";
        probe "POST without Idempotency-Key to an endpoint that requires it";
        good "-> 400 with a Link or a problem document's type"; bad "-> 201 (executed without a key), or 500; 400 with no link";
    "idempotency.key-syntax" Must Informational ["Idempotency-Key draft-07 2.1", "https://datatracker.ietf.org/doc/html/draft-ietf-httpapi-idempotency-key-header-07#section-2.1"]
        "the key is an sf-string (RFC 8941 3.3.3): a client's duty, which contend's scenarios keep; no answer of a server's shows it broken (a server may refuse a key that does not parse, ignore it, or take it as it comes)";
        probe "none: contend sends every key as an sf-string (\"<uuid>\")";
        good "Idempotency-Key: \"8e03978e-40d5-43e8-bc93-6894a57f9324\""; bad "Idempotency-Key: 8e03978e (a token, sent by a client)";
    "idempotency.key-scope" Expected Checkable ["Idempotency-Key draft-07 2.2", "https://datatracker.ietf.org/doc/html/draft-ietf-httpapi-idempotency-key-header-07#section-2.2"]
        "where the resource owner scopes keys per endpoint (the target's profile says so), the same key sent to another endpoint is another request";
        probe "POST a payment with a key, then a refund with the same key";
        good "-> 201 and 201"; bad "-> 201, then 422 or the payment replayed (one key space for every endpoint)";
}
