//! Planted faults: realistic bugs the reference server can be told to have
//! (`contend serve --fault NAME`), so the suite can be proven to catch each one.
//!
//! (`204.content-length`, `304.no-content` and `304.content-length` have no fault: hyper drops
//! Content-Length on a 204 or 304 and content after a 304's header section, so the reference
//! server cannot break them; their passive checks are proven by recorded exchanges, and
//! WsgiDAV breaks two of them in scripts/real-servers.sh.)
//!
//! Each fault names the catalog rules it breaks; contend's tests run the whole suite against
//! every fault and require a failure (or, for SHOULD rules, a warning) naming one of them.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

macro_rules! faults {
    ($( $variant:ident $name:literal [$($rule:literal),+] $description:literal; )*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Fault { $($variant),* }

        impl Fault {
            pub const ALL: &[Fault] = &[$(Fault::$variant),*];

            pub fn name(self) -> &'static str {
                match self { $(Fault::$variant => $name),* }
            }

            pub fn description(self) -> &'static str {
                match self { $(Fault::$variant => $description),* }
            }

            /// Catalog rule ids a server with this fault breaks.
            pub fn breaks(self) -> &'static [&'static str] {
                match self { $(Fault::$variant => &[$($rule),+]),* }
            }
        }
    };
}

faults! {
    IgnoreIfMatch "ignore-if-match" ["if-match.mismatch", "race.one-winner"]
        "If-Match is never evaluated: every write goes through (the lost update itself)";
    WeakIfMatch "weak-if-match" ["if-match.strong"]
        "If-Match uses the weak comparison, so W/\"x\" matches \"x\"";
    StrongIfNoneMatch "strong-if-none-match" ["if-none-match.weak"]
        "If-None-Match uses the strong comparison, so W/\"x\" does not match \"x\" on GET";
    ConflictForPrecondition "409-for-412" ["if-match.mismatch"]
        "a failed precondition on a write answers 409 Conflict instead of 412 (the popular-guide mistake)";
    PreconditionFailedOnGet "412-for-304" ["if-none-match.get"]
        "GET with a matching If-None-Match answers 412 instead of 304";
    NoEtagOn304 "304-without-etag" ["304.headers"]
        "304 responses leave out the ETag the 200 carries";
    ImsDespiteInm "ims-despite-if-none-match" ["if-none-match.beats-ims"]
        "If-Modified-Since is evaluated even when If-None-Match is present";
    InmBeforeIfMatch "if-none-match-first" ["order.if-match-first", "order.ius-before-inm"]
        "If-None-Match is evaluated before If-Match (precedence mistake)";
    CheckThenWrite "check-then-write" ["race.one-winner", "race.create-once", "race.counter"]
        "preconditions are checked under the lock, then the write happens 1 ms later under a new lock: concurrent writers all pass the check";
    CheckThenWrite100us "check-then-write-100us" ["race.one-winner", "race.create-once", "race.counter"]
        "the same with a 100 µs gap between check and write (a fast database round trip)";
    CheckThenWriteNoAwait "check-then-write-no-await" ["race.one-winner", "race.create-once", "race.counter"]
        "the same with no wait at all: the lock is dropped and taken again at once (rarely caught on 2 cores)";
    RareLostUpdate "rare-lost-update" ["race.one-winner", "race.create-once", "race.counter"]
        "3 % of PUTs (or --fault-rate), picked at random, take the check-then-write path with a 1 ms gap: a race that shows in a few rounds of a hundred, as on real servers";
    StarIfMatchCreates "star-if-match-creates" ["if-match.star-missing"]
        "If-Match: * is treated as true on a missing resource, so the PUT creates it";
    StarInmOverwrites "star-if-none-match-ignored" ["if-none-match.star-exists", "race.create-once"]
        "If-None-Match: * is ignored on PUT, so an existing resource is overwritten";
    StaleEtag "etag-not-updated" ["etag.changes"]
        "a replacing PUT keeps the resource's first ETag (a version counter that is never bumped)";
    UnquotedEtag "unquoted-etag" ["etag.syntax"]
        "ETag is sent without its double quotes";
    FutureLastModified "future-last-modified" ["last-modified.not-future"]
        "Last-Modified is an hour ahead of Date (a clock or time-zone bug)";
    Rfc850LastModified "rfc850-last-modified" ["last-modified.syntax"]
        "Last-Modified is in the obsolete RFC 850 format";
    PreconditionBefore404 "412-before-404" ["scope.error-first"]
        "preconditions are evaluated before the resource lookup: a missing resource with If-Match gets 412, not 404";
    OptionsPreconditions "options-evaluates-preconditions" ["scope.options"]
        "OPTIONS evaluates If-Match and answers 412";
    IgnoreIus "ignore-if-unmodified-since" ["ius.modified"]
        "If-Unmodified-Since is never evaluated";
    InvalidImsNotModified "invalid-ims-304" ["ims.invalid-date"]
        "an If-Modified-Since that does not parse is read as the epoch's end of time: 304";
    ImsOnPut "ims-on-put" ["ims.only-get-head"]
        "If-Modified-Since is evaluated for PUT too, which then answers 304 without writing";
    WeakIfRange "weak-if-range" ["if-range.weak"]
        "If-Range uses the weak comparison, so W/\"x\" still gets 206";
    RangeIgnoresIfRange "range-ignores-if-range" ["if-range.mismatch"]
        "Range is honoured whatever If-Range says";
    Empty409 "409-without-content" ["409.explains"]
        "409 responses have no content explaining the conflict";
    CreatedOnReplace "201-on-replace" ["put.replaced"]
        "a PUT that replaces an existing resource answers 201 Created";
    DeleteIgnoresIfMatch "delete-ignores-if-match" ["if-match.delete"]
        "DELETE never evaluates If-Match";
    HeadWithoutValidators "head-without-validators" ["head.same-validators"]
        "HEAD responses leave out ETag and Last-Modified";
    TrimContent "trim-content" ["put.validator-means-stored"]
        "stored content has trailing whitespace trimmed, yet the PUT's ETag claims it was stored as sent";
    IdemLockAroundLookup "idempotency-lock-around-lookup" ["idempotency.once"]
        "/api/payments looks the Idempotency-Key up under a lock, then claims it 1 ms later: copies of one keyed request that arrive together all execute";
    IdemStoredAfterWork "idempotency-stored-after-work" ["idempotency.in-flight-409", "idempotency.once"]
        "/api/payments records a key only once its request completed: a retry while the first runs executes again";
    IdemCompleted409 "idempotency-completed-409" ["idempotency.replay"]
        "/api/payments answers a retry of a completed keyed request with 409, as if it were still running";
    IdemNoFingerprint "idempotency-no-fingerprint" ["idempotency.payload-mismatch"]
        "/api/payments does not fingerprint the payload: a key reused with another amount replays the first result instead of 422";
    IdemMismatchAdopted "idempotency-mismatch-adopted" ["idempotency.uncorrected-retry"]
        "/api/payments refuses a key reused with another payload once, then takes that payload as the key's: the same uncorrected request, retried, gets the first payment replayed";
    IdemReplayDropsLocation "idempotency-replay-drops-location" ["idempotency.replay-headers"]
        "/api/payments replays a completed request's status and content but drops its Location header";
    IdemUnscopedKeys "idempotency-unscoped-keys" ["idempotency.key-scope"]
        "/api/payments and /api/refunds share one key space: a payment's key blocks an unrelated refund";
    IdemKeyOptional "idempotency-key-optional" ["idempotency.missing-key"]
        "/api/payments executes a request that carries no Idempotency-Key, though its documentation requires one";
    DuplicateCreateRace "duplicate-create-race" ["app.create-once"]
        "/api/items checks that a name is free, then inserts 1 ms later without a lock: concurrent creates with one name all succeed";
    ConflictWithoutProblem "api-409-without-problem" ["409.explains", "app.problem-details"]
        "/api/items answers its 409s with no content at all";
    ApiConflictForPrecondition "api-409-for-412" ["if-match.mismatch"]
        "/api/items answers a stale If-Match with 409 instead of 412 (mistaking a failed precondition for a state conflict)";
    IgnoreLock "api-ignores-lock" ["app.locked-423"]
        "/api/items lets writes through a lock taken by someone else";
    VersionNotChecked "api-version-not-checked" ["app.version-409", "version.stale-refused"]
        "/api/items ignores the `version` an update is based on: a stale update silently wins";
    VersionWantsNext "api-version-wants-next" ["version.current-accepted"]
        "/api/items wants the next version in an update (current + 1): an update carrying the version just read conflicts";
    StaleCache "stale-cache" ["cache.invalidates", "put.validator-means-stored"]
        "as a cache in front that never invalidates (nginx's proxy_cache): the first copy of a path read is served to every later GET, whatever was written since";
    TornWrite "torn-write" ["race.torn-read"]
        "a PUT that replaces empties the resource first, then stores its content 1 ms later (a file truncated, then written): a read in between gets an empty 200";
    BusyUnderContention "503-under-contention" ["race.no-5xx"]
        "a write that arrives while another is being stored (1 ms) answers 503 instead of waiting";
    EtagGzipSuffix "etag-gzip-suffix" ["if-match.match", "if-none-match.get", "if-range.match"]
        "ETags are sent with a -gzip suffix but compared without it (mod_deflate's old bug): the current tag never matches";
    TagListAsString "tag-list-as-one-string" ["if-match.list", "if-none-match.list"]
        "If-Match and If-None-Match are compared as one string, so a list of tags never matches";
    StarIfMatchRefused "star-if-match-refused" ["if-match.star-exists"]
        "If-Match: * is read as a tag named *, which never matches";
    IfMatchIgnoredWhenMissing "if-match-ignored-when-missing" ["if-match.missing-tag"]
        "a tag-valued If-Match is evaluated only when the resource exists: a PUT with one to a missing path creates it";
    IfMatchWritesOnly "if-match-writes-only" ["if-match.get"]
        "If-Match is evaluated for writes only: a GET with a stale If-Match is served";
    InmPresenceMatches "if-none-match-presence-304" ["if-none-match.miss"]
        "a GET with any If-None-Match answers 304: the header's presence is taken for a match";
    InmTagIgnoredOnWrite "if-none-match-tag-ignored-on-write" ["if-none-match.write"]
        "a tag-valued If-None-Match is ignored on PUT (only * is evaluated), so a matching tag overwrites";
    StarInmRefusesCreate "star-if-none-match-refuses-create" ["if-none-match.star-missing", "race.some-winner"]
        "If-None-Match: * is refused even when nothing is there: create-only writes never create";
    ImsIgnored "ims-ignored" ["ims.not-modified"]
        "If-Modified-Since is never evaluated: always the full 200";
    ImsAlways304 "ims-always-304" ["ims.modified"]
        "any valid If-Modified-Since gives 304, however old the date";
    IusEqualFails "ius-equal-fails" ["ius.unmodified"]
        "If-Unmodified-Since equal to Last-Modified counts as modified (>= for >): 412";
    IusDespiteIfMatch "ius-despite-if-match" ["ius.ignored-with-if-match"]
        "If-Unmodified-Since is evaluated even when If-Match is present";
    InvalidIus412 "invalid-ius-412" ["ius.invalid-date"]
        "an If-Unmodified-Since that does not parse fails the precondition: 412";
    IfRangeNeverMatches "if-range-never-matches" ["if-range.match"]
        "If-Range never matches: a Range with If-Range always gets the full 200";
    IfRangeWithoutRange412 "if-range-without-range-412" ["if-range.no-range"]
        "If-Range without Range is evaluated as a precondition: a stale one gives 412";
    WriteBeforeCheck "write-before-check" ["if-match.no-effect", "ius.modified", "if-none-match.star-exists", "race.winner-is-state"]
        "a PUT is stored first and its preconditions checked after: a 412 still changed the resource";
    RequirementNotEnforced "428-not-enforced" ["428.required"]
        "in its 428 mode the server still accepts unconditional writes to existing resources";
    OkOnCreate "200-on-create" ["put.created"]
        "a PUT that creates a resource answers 200 instead of 201";
    ContentionFailsAll "contention-fails-all" ["race.some-winner"]
        "writes that overlap another write to the same resource are all refused with 412, the first one's too (first committer loses)";
    DeleteCheckThenAct "delete-check-then-act" ["race.delete-once"]
        "DELETE checks If-Match under the lock, then deletes 1 ms later under a new lock: concurrent deletes all succeed";
    EtagPerResponse "etag-per-response" ["etag.stable"]
        "the ETag is made for each response (a timestamp), so an unchanged resource never keeps it";
    Empty428 "428-without-content" ["428.explains"]
        "in its 428 mode, the 428 responses have no content saying how to resubmit";
    ResetUnderContention "reset-under-contention" ["race.loser-answers"]
        "a write that arrives while another is being stored gets its connection closed, unanswered";
    PutCreatesParents "put-creates-parents" ["put.missing-parent"]
        "with collections, a PUT whose parent collection is missing creates the document anyway";
    DuplicateNamesAllowed "api-duplicate-names" ["app.duplicate-409"]
        "/api/items never checks that a name is free: a second item with a taken name is created";
}

impl FromStr for Fault {
    type Err = String;
    fn from_str(s: &str) -> Result<Fault, String> {
        Fault::ALL
            .iter()
            .copied()
            .find(|f| f.name() == s)
            .ok_or_else(|| format!("unknown fault {s:?}; `contend serve --list-faults` lists them"))
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The faults a server has; empty for the correct server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults(BTreeSet<Fault>);

impl Faults {
    pub fn has(&self, fault: Fault) -> bool {
        self.0.contains(&fault)
    }

    pub fn insert(&mut self, fault: Fault) {
        self.0.insert(fault);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<Fault> for Faults {
    fn from_iter<I: IntoIterator<Item = Fault>>(iter: I) -> Self {
        Faults(iter.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fault_breaks_catalog_rules_and_names_are_unique() {
        let mut names: Vec<&str> = Fault::ALL.iter().map(|f| f.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Fault::ALL.len());
        for fault in Fault::ALL {
            for rule in fault.breaks() {
                assert!(
                    crate::judge::catalog::find(rule).is_some(),
                    "{fault}: {rule} not in catalog"
                );
            }
            assert_eq!(fault.name().parse::<Fault>(), Ok(*fault));
        }
    }
}
