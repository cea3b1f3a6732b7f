//! Judge: pure functions from recorded exchanges and expectations to [`Finding`]s. No I/O, no
//! clock: easy to test with recorded histories. Every finding is weighed here, once, when it
//! is made ([`Policy`]); the runner and the renderers read that weight.

pub mod catalog;
mod expect;
pub mod linearize;
mod snapshot;

pub use catalog::{Entry, Scope};
pub use snapshot::check_snapshot;

use std::collections::HashMap;

use crate::record::{At, Check, Exchange, Finding, Weight};
use crate::scenario::{Expect, GroupExpect, StatusSet, Vars};
use crate::validators::{EntityTag, TagList};

/// How findings weigh in a verdict: SHOULD-level rules warn unless `strict`; rules in `allow`
/// are waived (reported, never failing); `accept` lists statuses a profile accepts per rule.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub strict: bool,
    pub allow: Vec<String>,
    pub accept: Vec<(String, StatusSet)>,
    /// A profile's own rules (`x-...`), weighed and cited like catalog rules.
    pub own_rules: Vec<OwnRule>,
    /// Findings are a cleanup step's: housekeeping, not a verdict; those under no rule warn.
    pub cleanup: bool,
    /// The target is a cache in front of the origin (a profile's `cache: true`): rules that
    /// bind only origin servers are not its to answer for.
    pub cache: bool,
}

/// A rule a profile declares, checked: an id under the `x-` namespace and a known level.
#[derive(Debug, Clone)]
pub struct OwnRule {
    pub id: String,
    pub level: catalog::Level,
    pub summary: String,
    pub section: String,
    pub link: String,
}

impl OwnRule {
    pub fn new(
        id: &str,
        level: &str,
        summary: &str,
        section: &str,
        link: &str,
    ) -> Result<Self, String> {
        if !id.starts_with("x-") || !id.contains('.') {
            return Err(format!(
                "own rule {id:?}: ids of your own go under a namespace of your own, `x-team.rule`"
            ));
        }
        let level = match level {
            "MUST" => catalog::Level::Must,
            "MUST NOT" => catalog::Level::MustNot,
            "SHOULD" => catalog::Level::Should,
            "EXPECTED" => catalog::Level::Expected,
            other => {
                return Err(format!(
                    "own rule {id}: level {other:?} is not MUST, MUST NOT, SHOULD or EXPECTED"
                ))
            }
        };
        Ok(OwnRule {
            id: id.to_owned(),
            level,
            summary: summary.to_owned(),
            section: section.to_owned(),
            link: link.to_owned(),
        })
    }
}

impl Policy {
    /// True when `id` is a catalog rule or one of the profile's own.
    pub fn knows(&self, id: &str) -> bool {
        self.level_of(id).is_some()
    }

    fn level_of(&self, id: &str) -> Option<catalog::Level> {
        catalog::find(id)
            .map(|r| r.level)
            .or_else(|| self.own_rules.iter().find(|r| r.id == id).map(|r| r.level))
    }

    fn cite(&self, id: &str) -> Option<crate::record::Cite> {
        if let Some(r) = catalog::find(id) {
            return Some(crate::record::Cite {
                level: r.level.name(),
                section: r.section.to_owned(),
                link: r.link.to_owned(),
            });
        }
        let own = self.own_rules.iter().find(|r| r.id == id)?;
        Some(crate::record::Cite {
            level: own.level.name(),
            section: own.section.clone(),
            link: own.link.clone(),
        })
    }

    /// A finding, weighed.
    pub fn finding(
        &self,
        rule: Option<&str>,
        check: Check,
        who: Option<String>,
        exchanges: Vec<At>,
    ) -> Finding {
        let weight = self.weigh(rule, &check);
        Finding {
            rule: rule.map(str::to_owned),
            cite: rule.and_then(|r| self.cite(r)),
            check,
            who,
            exchanges,
            weight,
            target_wide: false,
        }
    }

    /// The same policy for a cleanup step's findings.
    pub fn for_cleanup(&self) -> Policy {
        Policy {
            cleanup: true,
            ..self.clone()
        }
    }

    fn weigh(&self, rule: Option<&str>, check: &Check) -> Weight {
        let Some(id) = rule else {
            return if self.cleanup {
                Weight::Warns
            } else {
                Weight::Fails
            };
        };
        if self.allow.iter().any(|a| a == id) {
            return Weight::Waived;
        }
        if self.accepts(id, check) {
            return Weight::AcceptedByProfile;
        }
        if let (true, Some(why)) = (self.cache, catalog::origin_only(id)) {
            return Weight::NotChecked(format!("the target is a cache: {why}"));
        }
        match self.level_of(id) {
            Some(level) if level.is_advisory() && !self.strict => Weight::Warns,
            _ => Weight::Fails,
        }
    }

    /// The typed status is one the profile accepts for this rule: a step's or a member's
    /// status, or a race's count once the accepted statuses count as expected.
    fn accepts(&self, rule: &str, check: &Check) -> bool {
        let accepted = |s: u16| {
            self.accept
                .iter()
                .any(|(r, statuses)| r == rule && statuses.matches(s))
        };
        match check {
            Check::Status { got, .. } => accepted(*got),
            Check::Outcomes {
                bound,
                want,
                pattern,
                statuses,
            } => {
                let got = statuses
                    .iter()
                    .flatten()
                    .filter(|s| pattern.contains(**s) || accepted(**s))
                    .count() as u32;
                statuses.iter().flatten().any(|s| accepted(*s)) && bound.holds(got, *want)
            }
            _ => false,
        }
    }
}

/// Judges one exchange against a step's expectations, under the step's rule. `seen` is what
/// the scenario's history up to it stated, to tell when the exchange cannot show the rule (see
/// [`ambiguous_tag`]).
pub fn judge_response(
    expect: &Expect,
    exchange: &Exchange,
    at: At,
    seen: &TagsSeen,
    vars: &Vars,
    rule: Option<&str>,
    policy: &Policy,
) -> Vec<Finding> {
    let mut findings: Vec<Finding> = expect::check_response(expect, exchange, vars)
        .into_iter()
        .map(|check| policy.finding(rule, check, None, vec![at]))
        .collect();
    if let Some(why) = ambiguous_tag(seen, exchange) {
        for f in findings.iter_mut().filter(|f| f.weight != Weight::Waived) {
            f.weight = Weight::NotChecked(why.clone());
        }
    }
    findings
}

/// Judges a concurrent group's outcomes. Under a catalog rule, a race is judged on its
/// winners: more than expected breaks the rule; none at all where every member was answered
/// breaks `race.some-winner`; members that lost with 409/423, 5xx or no answer are left to the
/// passive rules that name them (`race.loser-412`, `race.no-5xx`, `race.loser-answers`).
pub fn judge_group(
    expect: &GroupExpect,
    exchanges: &[Exchange],
    step: usize,
    vars: &Vars,
    rule: Option<&str>,
    policy: &Policy,
) -> Vec<Finding> {
    let at = |i: usize| At { step, exchange: i };
    let by_loser_rule = |e: &Exchange| rule.is_some() && catalog::race::loser_rule(e).is_some();
    let (counts, members) = expect::check_group(expect, exchanges, vars, &by_loser_rule);
    let mut findings = Vec::new();
    for check in counts {
        let Check::Outcomes { ref statuses, .. } = check else {
            continue;
        };
        let winners = statuses
            .iter()
            .flatten()
            .filter(|s| (200..300).contains(*s))
            .count() as u32;
        let explained_by_losers = exchanges.iter().any(|e| {
            matches!(
                catalog::race::loser_rule(e),
                Some("race.no-5xx" | "race.loser-answers")
            )
        });
        let filed_under = match rule {
            None => None,
            Some(_) if winners == 0 && explained_by_losers => continue,
            Some(_) if winners == 0 => Some("race.some-winner"),
            Some(r) => Some(r),
        };
        let all = (0..exchanges.len()).map(at).collect();
        let mut f = policy.finding(filed_under, check, None, all);
        if winners > 1 && catalog::race::restores_precondition(exchanges) {
            f.weight = Weight::NotChecked(
                "a winner answered with the ETag the others were conditioned on, so more than one \
                 may win; the history check decides"
                    .into(),
            );
        }
        findings.push(f);
    }
    for m in members {
        let shown = m.members.iter().copied().map(at).collect();
        findings.push(policy.finding(rule, m.check, Some(m.who), shown));
    }
    findings
}

/// Runs every passive check and the history checks over a scenario's history. Findings of
/// [`Scope::Target`] checks are marked target-wide.
pub fn judge_history(history: &[Entry], policy: &Policy) -> Vec<Finding> {
    let history = &catalog::History::new(history);
    let mut out = Vec::new();
    for p in catalog::passive_checks() {
        for at in (0..history.len()).filter(|&at| !history[at].judged) {
            for check in (p.check)(history, at) {
                let mut f = policy.finding(Some(p.rule), check, None, vec![history[at].at]);
                f.target_wide = p.scope == Scope::Target;
                out.push(f);
            }
        }
    }
    for (rule, shown, check, undecided) in catalog::race::history(history) {
        let shown = shown.iter().map(|&i| history[i].at).collect();
        let mut f = policy.finding(Some(rule), check, None, shown);
        if let Some(why) = undecided {
            f.weight = Weight::NotChecked(why);
        }
        out.push(f);
    }
    // What a cache must do, on a target a profile calls a cache.
    if policy.cache {
        for (rule, shown, check) in catalog::cache::history(history) {
            let shown = shown.iter().map(|&i| history[i].at).collect();
            out.push(policy.finding(Some(rule), check, None, shown));
        }
    }
    out
}

/// On a target a profile calls a cache: the reads after a write to their URL that may be the
/// cache's copy from before it (`cache.invalidates` judges the cache), with why what they
/// show of the origin is not checked. Nothing on any other target.
pub fn stored_copies(history: &[Entry], policy: &Policy) -> Vec<(At, String)> {
    if !policy.cache {
        return vec![];
    }
    let history = &catalog::History::new(history);
    (catalog::cache::stored_copies(history).into_iter())
        .map(|copy| {
            let w = history[copy.write].exchange;
            let why = format!(
                "the target is a cache and this read is what it answered before the {} ({}) of \
                 {}{}: what the origin did is not seen through it",
                w.request.method,
                w.status().unwrap_or_default(),
                w.request.url.path(),
                match copy.shown {
                    true => ", a stored copy (cache.invalidates)",
                    false => "",
                }
            );
            (history[copy.read].at, why)
        })
        .collect()
}

/// Why a group with delayed members (`after:`) cannot show how the target treats a retry
/// while the first request runs: a member released first was already answered when a delayed
/// one was released. The retry then arrived after the first completed, so a replay is as right
/// as a 409 and neither outcome tells anything: inconclusive, never a pass. (A retry released
/// before that is in flight at the server, up to one network delay: on loopback, microseconds.)
pub fn retry_too_late(exchanges: &[Exchange], delays: &[std::time::Duration]) -> Option<String> {
    let delayed = |i: usize| delays.get(i).is_some_and(|d| !d.is_zero());
    let first_done = (0..exchanges.len())
        .filter(|&i| !delayed(i))
        .map(|i| exchanges[i].finished)
        .min()?;
    let late = (0..exchanges.len())
        .filter(|&i| delayed(i))
        .find(|&i| exchanges[i].started > first_done)?;
    let lead = exchanges[late]
        .started
        .saturating_duration_since(first_done);
    Some(format!(
        "inconclusive: request #{late} (released {} after the others) left {} after the first \
         request was answered, so it arrived once the first had completed; release it sooner, \
         or make the target's work last longer",
        humantime::format_duration(delays[late]),
        humantime::format_duration(std::time::Duration::from_micros(lead.as_micros() as u64)),
    ))
}

/// Marks a step's verdict not checked for `why`: its findings under the step's own rule (a
/// loser's 5xx, filed under its own rule, still counts), and, when there is none, one that says
/// so (an inconclusive step is never a pass).
pub fn inconclusive(
    findings: &mut Vec<Finding>,
    rule: Option<&str>,
    step: usize,
    why: String,
    policy: &Policy,
) {
    let own = |f: &Finding| f.rule.as_deref() == rule && f.weight != Weight::Waived;
    if !findings.iter().any(own) {
        let check = Check::Other {
            subject: "the delayed request".into(),
            expected: "answered while the first request was still running".into(),
            actual: "answered after the first".into(),
        };
        let at = At { step, exchange: 0 };
        findings.push(policy.finding(rule, check, None, vec![at]));
    }
    for f in findings.iter_mut().filter(|f| own(f)) {
        f.weight = Weight::NotChecked(why.clone());
    }
}

/// Why `exchange` cannot show whether its entity-tag precondition was evaluated right: the
/// target gave the tag it sends to two different contents of the resource earlier in the
/// scenario (`etag.changes`, as with mtime-based tags on same-size writes within a second),
/// so whether the tag is current or stale cannot be told.
pub fn ambiguous_tag(seen: &TagsSeen, exchange: &Exchange) -> Option<String> {
    // Looked up first: most URLs (every one of a workload's) have no tag given twice.
    let tags = seen.by_url.get(exchange.request.url.as_str())?;
    let headers = &exchange.request.headers;
    let sent: Vec<EntityTag> = [
        hyper::header::IF_MATCH,
        hyper::header::IF_NONE_MATCH,
        hyper::header::IF_RANGE,
    ]
    .iter()
    .flat_map(|h| {
        let lines = headers.get_all(h).iter().map(|v| v.as_bytes());
        match TagList::parse(lines) {
            Ok(TagList::Tags(tags)) => tags,
            _ => Vec::new(),
        }
    })
    .collect();
    sent.iter().find_map(|tag| {
        matches!(tags.get(&tag.opaque), Some(Content::Several)).then(|| {
            format!(
                "the target gave ETag {tag} to two different contents of this resource \
                 (etag.changes), so whether {tag} is current or stale cannot be told"
            )
        })
    })
}

/// One workload client's history, judged as it grows. Each exchange is checked by every passive
/// check when it arrives, against the few earlier exchanges the checks compare it with (see
/// [`catalog::anchors`]); the client then keeps only those, so a workload of any length holds
/// a bounded history. The comparisons are those of [`judge_history`] for a workload's exchange:
/// the same client's earlier ones, starting from what the scenario had stated before the
/// workload (`seed`), unless the workload writes (then its clients' order says nothing).
pub struct ClientJudge {
    /// Copies: a client is a task of its own, holding nothing of the scenario's.
    seed: Vec<Seed>,
    group_writes: bool,
    /// The client's exchanges a later one may be compared with: each with whether to keep it
    /// for the report once no comparison needs it, and what it is still the latest of for its
    /// URL (`catalog::anchor_kinds`' bits), kept as exchanges arrive instead of recomputed.
    anchors: Vec<Anchor>,
    /// (rule, subject) already found: a broken server breaks a rule on every request, and one
    /// finding with its first exchange says it.
    found: foldhash::HashSet<(&'static str, String)>,
}

struct Anchor {
    exchange: Exchange,
    at: At,
    keep: bool,
    latest: u8,
}

/// An [`Entry`] of the scenario's history before the workload, owned.
struct Seed {
    exchange: Exchange,
    concurrent: bool,
    at: At,
    judged: bool,
    partial: bool,
}

impl Seed {
    fn entry(&self) -> Entry<'_> {
        Entry {
            exchange: &self.exchange,
            concurrent: self.concurrent,
            at: self.at,
            judged: self.judged,
            partial: self.partial,
        }
    }
}

impl ClientJudge {
    /// `earlier` is the scenario's history before the workload; `group_writes`, whether the
    /// workload has any step that writes.
    pub fn new(earlier: &[Entry<'_>], group_writes: bool) -> Self {
        let seed = catalog::anchors(earlier, true)
            .into_iter()
            .map(|i| {
                let e = &earlier[i];
                Seed {
                    exchange: e.exchange.clone(),
                    concurrent: e.concurrent,
                    at: e.at,
                    judged: e.judged,
                    partial: e.partial,
                }
            })
            .collect();
        ClientJudge {
            seed,
            group_writes,
            anchors: Vec::new(),
            found: Default::default(),
        }
    }

    /// Whether `exchange`'s response has the status and header fields, in order, of the
    /// client's response before (its newest anchor: every exchange judged is one until the
    /// next is judged). A target-wide check reads one response alone (`Scope::Target`), so a
    /// response equal to the one before can give nothing `found` does not hold: a loop's
    /// thousandth 304 skips those checks.
    fn repeats_last_response(&self, exchange: &Exchange) -> bool {
        let before = self.anchors.last().map(|a| &a.exchange.response);
        match (before, &exchange.response) {
            (Some(Ok(before)), Ok(now)) => {
                before.status == now.status
                    && before.headers.len() == now.headers.len()
                    && before.headers.iter().eq(now.headers.iter())
            }
            _ => false,
        }
    }

    /// Whether `exchange` sends the request of the client's exchange before (the same one: a
    /// workload step's request rendered once), a safe one (RFC 9110 9.2.1), and had exactly
    /// its response, content included (`repeated`: the status and header fields are). Then no
    /// passive check finds anything that one did not: each compares the newest exchange with
    /// the latest earlier one of some kinds, and the one before is now that latest, the same in
    /// every field a check reads; against the others it was compared already. A loop of
    /// conditional GETs skips every check but once a second (when `Date` moves).
    fn sends_last_again(&self, exchange: &Exchange, repeated: bool) -> bool {
        let Some(before) = self.anchors.last().map(|a| &a.exchange) else {
            return false;
        };
        repeated
            && std::sync::Arc::ptr_eq(&before.request, &exchange.request)
            && exchange.request.method.is_safe()
            && match (&before.response, &exchange.response) {
                (Ok(before), Ok(now)) => before.body == now.body,
                _ => false,
            }
    }

    /// Judges `exchange` (sent at `at`) and takes it on. Returns the findings not made before by
    /// this client, and the exchanges no later comparison needs that were to be kept (`keep`,
    /// or a finding points at them); the others are dropped.
    pub fn judge(
        &mut self,
        exchange: Exchange,
        at: At,
        keep: bool,
        policy: &Policy,
    ) -> (Vec<Finding>, Vec<(Exchange, At)>) {
        let mut findings = Vec::new();
        let repeated = self.repeats_last_response(&exchange);
        let latest = if self.sends_last_again(&exchange, repeated) {
            catalog::anchor_kinds(&client_entry(&exchange, at), false)
        } else {
            let mut entries = Vec::with_capacity(self.seed.len() + self.anchors.len() + 1);
            entries.extend(self.seed.iter().map(Seed::entry));
            entries.extend(self.anchors.iter().map(|a| client_entry(&a.exchange, a.at)));
            entries.push(client_entry(&exchange, at));
            let history = catalog::History::for_newest(&entries, self.group_writes);
            let last = entries.len() - 1;
            for p in catalog::passive_checks() {
                if repeated && p.scope == catalog::Scope::Target {
                    continue;
                }
                let checks = (p.check)(&history, last);
                // Most find nothing: an empty list is let go without being iterated.
                if checks.is_empty() {
                    continue;
                }
                for check in checks {
                    if self.found.insert((p.rule, check.subject())) {
                        let mut f = policy.finding(Some(p.rule), check, None, vec![at]);
                        f.target_wide = p.scope == catalog::Scope::Target;
                        findings.push(f);
                    }
                }
            }
            catalog::anchor_kinds(&entries[last], false)
        };
        // The new exchange is now the latest of its kinds for its URL: earlier anchors of that
        // URL no longer are, and one that is the latest of nothing is let go.
        let url = exchange.request.url.as_str();
        for anchor in self.anchors.iter_mut() {
            if anchor.exchange.request.url.as_str() == url {
                anchor.latest &= !latest;
            }
        }
        let mut released = Vec::new();
        let mut i = 0;
        while i < self.anchors.len() {
            match self.anchors[i].latest {
                0 => {
                    let gone = self.anchors.remove(i);
                    if gone.keep {
                        released.push((gone.exchange, gone.at));
                    }
                }
                _ => i += 1,
            }
        }
        self.anchors.push(Anchor {
            exchange,
            at,
            keep: keep || !findings.is_empty(),
            latest,
        });
        (findings, released)
    }

    /// The exchanges the client still holds, every one of them kept.
    pub fn finish(self) -> Vec<(Exchange, At)> {
        self.anchors
            .into_iter()
            .map(|a| (a.exchange, a.at))
            .collect()
    }
}

/// A workload client's exchange as the history sees it.
fn client_entry(exchange: &Exchange, at: At) -> Entry<'_> {
    Entry {
        exchange,
        concurrent: true,
        at,
        judged: false,
        partial: false,
    }
}

/// The contents the target stated for each (URL, entity tag) so far, kept step by step as a
/// scenario runs, so judging a step never reads the whole history again. Stated: by a full
/// GET, or by a write answered 2xx with a strong ETag (the content was stored as sent).
#[derive(Debug, Default)]
pub struct TagsSeen {
    by_url: HashMap<String, HashMap<Vec<u8>, Content>>,
}

#[derive(Debug)]
enum Content {
    One(bytes::Bytes),
    Several,
}

impl TagsSeen {
    /// Notes what `exchange` stated; a concurrent one is not in time order, so it says nothing.
    pub fn record(&mut self, exchange: &Exchange, concurrent: bool) {
        let Ok(r) = &exchange.response else { return };
        if concurrent {
            return;
        }
        let Some(tag) = r
            .headers
            .get(hyper::header::ETAG)
            .and_then(|v| EntityTag::parse(v.as_bytes()).ok())
        else {
            return;
        };
        let request = &exchange.request;
        let content = match request.method {
            hyper::Method::GET if r.status == 200 && !request.headers.contains_key("range") => {
                &r.body
            }
            hyper::Method::PUT if (200..300).contains(&r.status) && !tag.weak => &request.body,
            _ => return,
        };
        let tags = self
            .by_url
            .entry(request.url.as_str().to_owned())
            .or_default();
        match tags.get(&tag.opaque) {
            None => drop(tags.insert(tag.opaque, Content::One(content.clone()))),
            Some(Content::One(first)) if first != content => {
                tags.insert(tag.opaque, Content::Several);
            }
            Some(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::catalog::testing::{exchange, put, rec, Rec};
    use super::*;
    use crate::scenario::StatusPattern;

    fn entries(recs: &[Rec]) -> Vec<Exchange> {
        recs.iter().map(exchange).collect()
    }

    fn seen(exchanges: &[Exchange]) -> TagsSeen {
        let mut seen = TagsSeen::default();
        for e in exchanges {
            seen.record(e, false);
        }
        seen
    }

    /// A GET answered 200 with an ETag, then `n - 1` conditional GETs answered 304, as steps
    /// or (`client`) one workload client's iterations.
    fn conditional_gets(n: usize, client: Option<usize>, etag_on_304: bool) -> Vec<Exchange> {
        let tag: &[(&str, &str)] = &[("etag", "\"t\"")];
        let mut out = vec![exchange(&rec("GET", 200, tag, "v1"))];
        let not_modified = Rec {
            req: &[("if-none-match", "\"t\"")],
            ..rec("GET", 304, if etag_on_304 { tag } else { &[] }, "")
        };
        out.extend((1..n).map(|_| exchange(&not_modified)));
        for e in &mut out {
            e.index = client;
        }
        out
    }

    fn judged(exchanges: &[Exchange], concurrent: bool) -> (Vec<Finding>, std::time::Duration) {
        let entries: Vec<Entry> = exchanges
            .iter()
            .enumerate()
            .map(|(i, exchange)| Entry {
                exchange,
                concurrent,
                at: At {
                    step: if concurrent { 0 } else { i },
                    exchange: if concurrent { i } else { 0 },
                },
                judged: false,
                partial: false,
            })
            .collect();
        let started = std::time::Instant::now();
        let findings = judge_history(&entries, &Policy::default());
        (findings, started.elapsed())
    }

    #[test]
    fn judging_is_linear_in_the_history_and_a_workload_is_judged_like_steps() {
        // The quickest of three runs of each: scheduling noise only ever adds time.
        let time = |n: usize| {
            let exchanges = conditional_gets(n, None, true);
            (0..3).map(|_| judged(&exchanges, false).1).min().unwrap()
        };
        let (small, large) = (time(1_000), time(20_000));
        // Linear is 20 times; the quadratic scan this replaced was 400 times.
        assert!(
            large < small * 60,
            "20,000 steps took {large:?}, 1,000 took {small:?}"
        );
        // Every 304 of 20,000 steps is compared with its 200: a good server gives nothing.
        let (findings, _) = judged(&conditional_gets(20_000, None, true), false);
        assert!(findings.is_empty(), "{findings:?}");
        // In a workload, a client's 304 is compared with the same client's 200.
        let (findings, _) = judged(&conditional_gets(50, Some(3), false), true);
        let missing: Vec<_> = findings
            .iter()
            .filter(|f| f.rule.as_deref() == Some("304.headers"))
            .collect();
        assert_eq!(missing.len(), 49, "{findings:?}");
        // Judged as it arrives, a 20,000-exchange client holds a handful of exchanges, says the
        // broken rule once and keeps the exchange that shows it.
        let mut judge = ClientJudge::new(&[], false);
        let (mut found, mut kept) = (Vec::new(), Vec::new());
        for (i, e) in conditional_gets(20_000, Some(0), false)
            .into_iter()
            .enumerate()
        {
            let at = At {
                step: 0,
                exchange: i,
            };
            let (f, released) = judge.judge(e, at, false, &Policy::default());
            found.extend(f);
            kept.extend(released);
        }
        let held = judge.finish();
        assert!(held.len() <= 2, "{} held", held.len());
        let rules: Vec<_> = found.iter().filter_map(|f| f.rule.as_deref()).collect();
        assert_eq!(rules, ["304.headers"], "{found:?}");
        assert_eq!(found[0].exchanges[0].exchange, 1, "the first 304");
        let shown = |at: &At| kept.iter().chain(&held).any(|(_, k)| k == at);
        assert!(shown(&found[0].exchanges[0]));
    }

    #[test]
    fn a_documentation_link_is_a_link_header_or_a_link_in_the_content() {
        let expect = Expect {
            documentation_link: true,
            ..Expect::default()
        };
        let checks = |r: &Rec| expect::check_response(&expect, &exchange(r), &Vars::default());
        let header = rec(
            "POST",
            422,
            &[("link", "<https://docs.example/keys>; rel=help")],
            "",
        );
        let problem = rec(
            "POST",
            422,
            &[],
            "{\"type\": \"https://docs.example/keys\"}",
        );
        assert_eq!(checks(&header), vec![]);
        assert_eq!(checks(&problem), vec![]);
        let bare = rec("POST", 422, &[], "{\"detail\": \"key reused\"}");
        assert_eq!(checks(&bare).len(), 1, "{:?}", checks(&bare));
    }

    #[test]
    fn copies_answered_with_different_content_were_executed_again() {
        let expect = GroupExpect {
            identical_2xx: true,
            ..GroupExpect::default()
        };
        let group = |contents: &[&'static str]| -> Vec<Finding> {
            let exchanges: Vec<Exchange> = (contents.iter().enumerate())
                .map(|(i, c)| Exchange {
                    index: Some(i),
                    ..exchange(&rec("POST", if c.is_empty() { 409 } else { 201 }, &[], c))
                })
                .collect();
            judge_group(
                &expect,
                &exchanges,
                0,
                &Vars::default(),
                None,
                &Policy::default(),
            )
        };
        // One result replayed, and a 409 for a copy in flight: nothing to say.
        assert_eq!(group(&["{\"id\":1}", "{\"id\":1}", ""]), vec![]);
        let twice = group(&["{\"id\":1}", "", "{\"id\":2}"]);
        assert_eq!(twice.len(), 1, "{twice:?}");
        assert_eq!(twice[0].who.as_deref(), Some("request #2"));
        assert!(twice[0].message().contains("executed again"), "{twice:?}");
    }

    #[test]
    fn a_tag_given_to_two_contents_makes_a_stale_tag_step_not_checked() {
        // mtime-second ETags: v1 and v2 (same size, same second) share "t".
        let before = entries(&[
            rec("GET", 200, &[("etag", "\"t\"")], "v1"),
            put("v2", 204, &[]),
            rec("GET", 200, &[("etag", "\"t\"")], "v2"),
        ]);
        let stale = exchange(&Rec {
            req: &[("if-match", "\"t\"")],
            ..put("v3", 204, &[])
        });
        assert!(ambiguous_tag(&seen(&before), &stale).is_some());
        // With a new tag for new content, the old one is known stale.
        let before = entries(&[
            rec("GET", 200, &[("etag", "\"t\"")], "v1"),
            put("v2", 204, &[]),
            rec("GET", 200, &[("etag", "\"u\"")], "v2"),
        ]);
        assert_eq!(ambiguous_tag(&seen(&before), &stale), None);
    }

    #[test]
    fn accept_reaches_statuses_members_and_counts() {
        let policy = Policy {
            accept: vec![
                (
                    "put.created".into(),
                    StatusSet(vec![StatusPattern::Exact(200)]),
                ),
                (
                    "race.create-once".into(),
                    StatusSet(vec![StatusPattern::Exact(200)]),
                ),
            ],
            ..Policy::default()
        };
        let status = Check::Status {
            expected: vec![crate::record::Codes {
                low: 201,
                high: 201,
            }],
            got: 200,
        };
        let f = policy.finding(Some("put.created"), status.clone(), None, vec![]);
        assert_eq!(f.weight, Weight::AcceptedByProfile);
        assert_eq!(
            policy
                .finding(Some("put.replaced"), status, None, vec![])
                .weight,
            Weight::Fails
        );
        let count = |statuses: Vec<Option<u16>>| Check::Outcomes {
            bound: crate::record::Bound::Exactly,
            want: 1,
            pattern: crate::record::Codes {
                low: 201,
                high: 201,
            },
            statuses,
        };
        let one_200 = count(vec![Some(200), Some(412), Some(412)]);
        let two_200 = count(vec![Some(200), Some(200), Some(412)]);
        assert_eq!(
            policy
                .finding(Some("race.create-once"), one_200, None, vec![])
                .weight,
            Weight::AcceptedByProfile
        );
        assert_eq!(
            policy
                .finding(Some("race.create-once"), two_200, None, vec![])
                .weight,
            Weight::Fails
        );
    }
}
