//! Report: one [`Report`] model built from what execute recorded and judge decided; renderers
//! ([`human`], JSON via serde) print it and never recompute a verdict.
//!
//! Secrets are masked here, once, while the model is built: credentials headers always, and
//! the values of variables marked secret wherever they appear.

pub mod gateway;
pub mod html;
pub mod human;
pub mod junit;
mod redact;
mod verdict;

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::plan::{Applicability, Planned};
use crate::record::{Exchange, Finding, Rounds, ScenarioRun, Weight, WorkloadStats};
pub use redact::Redactor;
pub use verdict::{about_preconditions_or_conflicts, Coverage, NotJudged, Verdict};

/// Longest content kept per exchange in a report.
const BODY_LIMIT: usize = 4096;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub contend: String,
    pub target: String,
    pub run_id: String,
    pub summary: Summary,
    /// Findings about the whole target (a header's syntax on every response), once per rule:
    /// they count toward the exit code by their level, not toward any scenario's verdict.
    pub target_findings: Vec<TargetFinding>,
    pub scenarios: Vec<ScenarioReport>,
    /// With `--origin`: what differs between this run, through a gateway, and the same run
    /// at the origin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<gateway::GatewayReport>,
    /// What probing the target found, when it was probed (not with declared capabilities).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe: Option<ProbeReport>,
    /// Why nothing could be run: the target unreachable or misconfigured, a bad profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Which rules were judged, and why each other one was not.
    #[serde(default)]
    pub coverage: Coverage,
    /// The run's outcome, as [`Report::verdict`] decides it (written for readers of the file;
    /// recomputed, never trusted, when a report is read back).
    #[serde(default, skip_deserializing)]
    pub verdict: Option<Verdict>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TargetFinding {
    #[serde(flatten)]
    pub first: FailureReport,
    /// How many exchanges showed it.
    pub count: usize,
    /// The scenarios where it was seen.
    pub scenarios: Vec<String>,
}

impl TargetFinding {
    /// True when it fails the run (its weight, decided once when it was found).
    pub fn fails(&self) -> bool {
        self.first.weight == Shown::Failure
    }
}

/// A finding's weight as the report model keeps it: decided once (`record::Weight`, by the
/// policy), matched on by renderers, written to JSON as the words they show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Shown {
    #[serde(rename = "failure")]
    Failure,
    #[serde(rename = "warning")]
    Warning,
    #[serde(rename = "waived")]
    Waived,
    #[serde(rename = "accepted by the profile, not RFC 9110")]
    AcceptedByProfile,
    #[serde(rename = "not checked")]
    NotChecked,
}

impl Shown {
    pub fn of(weight: &Weight) -> Shown {
        match weight {
            Weight::Fails => Shown::Failure,
            Weight::Warns => Shown::Warning,
            Weight::Waived => Shown::Waived,
            Weight::AcceptedByProfile => Shown::AcceptedByProfile,
            Weight::NotChecked(_) => Shown::NotChecked,
        }
    }

    /// The words a person reads: the same as [`Weight::label`].
    pub fn label(self) -> &'static str {
        match self {
            Shown::Failure => Weight::Fails.label(),
            Shown::Warning => Weight::Warns.label(),
            Shown::Waived => Weight::Waived.label(),
            Shown::AcceptedByProfile => Weight::AcceptedByProfile.label(),
            Shown::NotChecked => Weight::NotChecked(String::new()).label(),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Summary {
    pub passed: usize,
    pub failed: usize,
    pub not_applicable: usize,
    /// Scenarios that could not be run as written (setup problems, not verdicts).
    pub errors: usize,
    /// SHOULD-level findings, across all scenarios (failures only with `--strict`).
    pub warnings: usize,
    /// Findings that could not be checked on this target, across all scenarios.
    pub not_checked: usize,
    /// Steps that were not sent (an earlier step they depend on failed), across all scenarios.
    pub not_run: usize,
    /// Target-wide findings (each rule once) that fail the run.
    pub target_failures: usize,
    /// Scenarios never started because the run was interrupted (Ctrl-C).
    #[serde(default)]
    pub interrupted: usize,
    pub duration_ms: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Passed,
    Failed,
    NotApplicable,
    Error,
    /// Never started: the run was interrupted first.
    NotRun,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScenarioReport {
    /// `file::scenario`, as in test names.
    pub id: String,
    pub name: String,
    pub file: String,
    pub status: Status,
    /// Why the scenario was not applicable, or the setup error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub requirements: Vec<String>,
    /// For `rounds:` scenarios: how many rounds ran and in how many a rule broke. The steps
    /// shown are the first broken round's (the last round's when none broke).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rounds: Option<Rounds>,
    /// Why fewer rounds ran than were asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub round_error: Option<String>,
    pub failures: Vec<FailureReport>,
    /// Findings of SHOULD-level rules (failures with `--strict`).
    pub warnings: Vec<FailureReport>,
    /// Findings of rules waived with `--allow`.
    pub waived: Vec<FailureReport>,
    /// Findings whose status the target's profile accepts (`accept:`), not RFC 9110.
    pub accepted_by_profile: Vec<FailureReport>,
    /// Findings the target's behaviour made impossible to check, with the reason.
    pub not_checked: Vec<FailureReport>,
    /// Target-wide findings seen here; the report lists them once, in `target_findings`.
    #[serde(skip)]
    pub target_wide: Vec<(FailureReport, usize)>,
    pub steps: Vec<StepReport>,
    pub duration_ms: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FailureReport {
    pub rule: Option<String>,
    /// The rule's level and section (`MUST`, `RFC 9110 13.1.1`), when there is a rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
    pub step: String,
    /// `failure`, `warning`, `waived`, `accepted by the profile, not RFC 9110`, `not checked`.
    pub weight: Shown,
    /// Why it could not be checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub message: String,
    pub expected: String,
    pub actual: String,
    /// Where the rule is written down.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// The exchanges that show it, the first the one to look at: positions in `steps` and in
    /// that step's `exchanges`.
    #[serde(default)]
    pub exchanges: Vec<ExchangeAt>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExchangeAt {
    pub step: usize,
    pub exchange: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepReport {
    pub name: String,
    /// The catalog rule the step's expectations check, as the scenario names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    pub cleanup: bool,
    /// For a concurrent group: how it was released and how tight the release was. Boxed, as
    /// `workload`: few steps have either, and inline they made every step's report 900 bytes
    /// (100,000 one-request scenarios held 90 MB of them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub race: Option<Box<RaceReport>>,
    /// For a workload: clients, iterations asked for, iterations completed, retries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<Box<WorkloadStats>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Why the step was not sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_run: Option<String>,
    /// A snapshot the step recorded instead of comparing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded: Option<String>,
    /// How many exchanges the step sent; `exchanges` keeps some of them (`--report-exchanges`).
    #[serde(default)]
    pub sent: usize,
    pub exchanges: Vec<ExchangeReport>,
}

impl StepReport {
    /// The exchange sent at `position`, when the report kept it.
    pub fn exchange(&self, position: usize) -> Option<&ExchangeReport> {
        self.exchanges
            .binary_search_by_key(&position, |e| e.position)
            .ok()
            .map(|i| &self.exchanges[i])
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RaceReport {
    pub sync: String,
    pub requests: usize,
    /// Requests actually released (connected and ready).
    pub released: usize,
    /// First to last final write, in microseconds: the client side of the race window.
    pub release_spread_us: f64,
    /// The offset asked between members (`stagger`), in microseconds: the spread is about
    /// `(released - 1) ×` it on purpose. 0: released together.
    #[serde(default, skip_serializing_if = "u64_is_zero")]
    pub stagger_us: u64,
    /// Requests released later on purpose (`after:`), outside the window.
    #[serde(default, skip_serializing_if = "usize_is_zero")]
    pub delayed: usize,
    /// Requests sent on connections kept open from the previous round.
    #[serde(default, skip_serializing_if = "usize_is_zero")]
    pub warm: usize,
}

fn u64_is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExchangeReport {
    /// Position among the step's exchanges as sent (a report may keep only some of them).
    #[serde(default)]
    pub position: usize,
    /// Position in a concurrent group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
    pub request: RequestReport,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<ResponseReport>,
    /// Why there is no response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What kind of failure that was: `connect`, `timeout`, `reset`, `malformed`, `too-large`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<String>,
    /// The status that arrived before the content failed, if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partial_status: Option<u16>,
    pub duration_ms: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RequestReport {
    pub method: String,
    pub url: String,
    pub headers: HeaderFields,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResponseReport {
    pub status: u16,
    pub version: String,
    pub headers: HeaderFields,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

/// Header fields by lower-cased name, in name order, written as a JSON object. A sorted list,
/// not a `BTreeMap`: a report keeps one for every exchange it keeps, and a map's node holds
/// eleven entries whatever it has (100,000 passing scenarios, one exchange each, held some
/// 1.5 KB apiece in half-empty nodes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderFields(Vec<(String, FieldValues)>);

impl HeaderFields {
    pub fn get(&self, name: &str) -> Option<&FieldValues> {
        let at = self
            .0
            .binary_search_by(|(n, _)| n.as_str().cmp(name))
            .ok()?;
        Some(&self.0[at].1)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &FieldValues)> {
        self.into_iter()
    }
}

impl std::ops::Index<&str> for HeaderFields {
    type Output = FieldValues;
    fn index(&self, name: &str) -> &FieldValues {
        self.get(name)
            .unwrap_or_else(|| panic!("no header field {name}"))
    }
}

impl FromIterator<(String, FieldValues)> for HeaderFields {
    fn from_iter<I: IntoIterator<Item = (String, FieldValues)>>(fields: I) -> Self {
        let mut all: Vec<_> = fields.into_iter().collect();
        all.sort_by(|(a, _), (b, _)| a.cmp(b));
        all.dedup_by(|(a, _), (b, _)| a == b);
        all.shrink_to_fit();
        HeaderFields(all)
    }
}

impl<'a> IntoIterator for &'a HeaderFields {
    type Item = (&'a String, &'a FieldValues);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (String, FieldValues)>,
        fn(&'a (String, FieldValues)) -> (&'a String, &'a FieldValues),
    >;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(name, values)| (name, values))
    }
}

impl Serialize for HeaderFields {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for HeaderFields {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = BTreeMap::<String, FieldValues>::deserialize(d)?;
        Ok(map.into_iter().collect())
    }
}

/// A header field's values as received: one string, or a list when the field came on several
/// lines (two `Set-Cookie`s, two `ETag`s from a broken server stay apart).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FieldValues {
    One(String),
    Many(Vec<String>),
}

impl FieldValues {
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        let all: &[String] = match self {
            FieldValues::One(v) => std::slice::from_ref(v),
            FieldValues::Many(vs) => vs,
        };
        all.iter().map(String::as_str)
    }

    /// The values joined as one field value (`a, b`).
    pub fn joined(&self) -> String {
        self.iter().collect::<Vec<_>>().join(", ")
    }
}

/// Who the target turned out to be, from the probe: what it can do and the evidence.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProbeReport {
    pub capabilities: Vec<String>,
    pub evidence: Vec<ProbeEvidence>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProbeEvidence {
    pub capability: String,
    pub found: bool,
    pub evidence: String,
}

impl Report {
    pub fn new(
        target: String,
        run_id: String,
        scenarios: Vec<ScenarioReport>,
        duration: std::time::Duration,
    ) -> Self {
        let mut summary = Summary {
            duration_ms: millis(duration),
            ..Summary::default()
        };
        let mut target_findings: Vec<TargetFinding> = Vec::new();
        for s in &scenarios {
            summary.warnings += s.warnings.len();
            summary.not_checked += s.not_checked.len();
            summary.not_run += s.steps.iter().filter(|st| st.not_run.is_some()).count();
            for (f, count) in &s.target_wide {
                match target_findings.iter_mut().find(|t| t.first.rule == f.rule) {
                    Some(t) => {
                        t.count += count;
                        if !t.scenarios.contains(&s.id) {
                            t.scenarios.push(s.id.clone());
                        }
                    }
                    None => target_findings.push(TargetFinding {
                        first: f.clone(),
                        count: *count,
                        scenarios: vec![s.id.clone()],
                    }),
                }
            }
            match s.status {
                Status::Passed => summary.passed += 1,
                Status::Failed => summary.failed += 1,
                Status::NotApplicable => summary.not_applicable += 1,
                Status::Error => summary.errors += 1,
                Status::NotRun => summary.interrupted += 1,
            }
        }
        summary.target_failures = target_findings.iter().filter(|t| t.fails()).count();
        summary.warnings += target_findings
            .iter()
            .filter(|t| t.first.weight == Shown::Warning)
            .count();
        let target_rules: Vec<String> = target_findings
            .iter()
            .filter_map(|t| t.first.rule.clone())
            .collect();
        let coverage = Coverage::of(&scenarios, &target_rules);
        Report {
            contend: env!("CARGO_PKG_VERSION").to_owned(),
            target,
            run_id,
            summary,
            target_findings,
            scenarios,
            gateway: None,
            probe: None,
            error: None,
            coverage,
            verdict: None,
        }
    }

    /// Findings the probe's own evidence showed (a capability's evidence that broke a rule):
    /// reported once each among the target-wide findings, weighed as they were made.
    pub fn add_probe_findings(&mut self, findings: &[Finding], redactor: &Redactor) {
        for f in findings {
            let shown = finding_report(f, "the probe", redactor);
            match f.weight {
                Weight::Fails => self.summary.target_failures += 1,
                Weight::Warns => self.summary.warnings += 1,
                _ => {}
            }
            if let Some(rule) = &f.rule {
                if !self.coverage.judged.contains(rule) {
                    self.coverage.judged.push(rule.clone());
                }
                self.coverage.not_judged.retain(|n| &n.rule != rule);
            }
            self.target_findings.push(TargetFinding {
                first: shown,
                count: 1,
                scenarios: vec!["(the probe)".to_owned()],
            });
        }
    }

    /// The report of a run that stopped before any scenario: the reason is its verdict.
    pub fn stopped(target: String, run_id: String, error: String) -> Self {
        let mut report = Report::new(target, run_id, Vec::new(), std::time::Duration::ZERO);
        report.error = Some(error);
        report
    }

    /// Decides the verdict and keeps it in the report, for the files written from it.
    pub fn seal(&mut self) -> Verdict {
        let verdict = self.verdict();
        self.verdict = Some(verdict.clone());
        verdict
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }
}

/// What a scenario's rounds prove, in words: `held in 240 rounds (its 20 s budget): a race that
/// shows in 1.2 % of rounds or more would have been caught (95 % confidence)`. Never "no race":
/// a pass bounds how often a race could show, it does not rule one out.
pub fn rounds_said(rounds: &Rounds) -> String {
    let plural = |n: u32| if n == 1 { "round" } else { "rounds" };
    let spent = match (rounds.total >= rounds.asked, rounds.time_ms) {
        (true, _) => format!("all {} asked", rounds.asked),
        (false, Some(ms)) => format!(
            "its {} budget",
            humantime::format_duration(std::time::Duration::from_millis(ms),)
        ),
        (false, None) => format!("of {} asked", rounds.asked),
    };
    let mut said = match rounds.would_catch() {
        Some(rate) => format!(
            "held in {} {} ({spent}): a race that shows in {} of rounds or more would have been caught (95 % confidence)",
            rounds.total,
            plural(rounds.total),
            percent(rate)
        ),
        None if rounds.total == 1 => "broken in its first round (shown)".to_owned(),
        None => format!(
            "broken in round {} (shown), after {} that held",
            rounds.total,
            rounds.total - 1
        ),
    };
    if let Some(rate) = rounds.would_catch_per_operation() {
        said += &format!(
            "; over its {} operations, one that shows in {} of operations or more",
            rounds.operations,
            percent(rate)
        );
    }
    // Which releases hunted, and which one caught it: one release says nothing new.
    if rounds.releases.len() > 1 || rounds.releases.iter().any(|t| t.broke > 0) {
        let each: Vec<String> = (rounds.releases.iter())
            .map(|t| match t.broke {
                0 => format!("{} {}", t.release, t.rounds),
                b => format!("{} {} ({b} broken)", t.release, t.rounds),
            })
            .collect();
        said += &format!("; rounds by release: {}", each.join(", "));
    }
    said
}

/// `1.2 %`, `95 %`, `0.06 %`: two significant figures, never rounded up to 100.
fn percent(rate: f64) -> String {
    let p = rate * 100.0;
    // Digits after the point so that two significant ones show: 0.30, 0.019.
    let digits = (1 - p.log10().floor() as i32).clamp(0, 6) as usize;
    format!("{p:.digits$} %")
}

/// A scenario the run never started (interrupted).
pub fn not_started(planned: &Planned, why: &str) -> ScenarioReport {
    let mut report = scenario_report(planned, None, &Redactor::default(), Kept::None);
    report.status = Status::NotRun;
    report.reason = Some(why.to_owned());
    report
}

/// The report of one scenario. `run` is `None` when it was not applicable.
/// Which exchanges a report keeps. A run of 20,000 requests that passed needs its counts, not
/// 20,000 exchanges; a failure needs the exchanges that show it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Kept {
    /// Every exchange.
    All,
    /// The exchanges findings point at, every exchange of a step that failed (up to
    /// [`SAMPLE`]), and the first [`SAMPLE`] exchanges of the scenario.
    #[default]
    Failing,
    /// Only the exchanges findings point at.
    None,
}

/// The most exchanges kept as a sample, per scenario and per failed step.
pub const SAMPLE: usize = 100;

/// Whether the exchange at `at` is kept; `sampled` counts the ones kept as a sample so far.
fn keep(
    kept: Kept,
    step: &crate::record::StepRun,
    at: usize,
    pointed: bool,
    sampled: &mut usize,
) -> bool {
    let failed = step.error.is_some() || step.findings.iter().any(|f| f.weight == Weight::Fails);
    let sample = match kept {
        Kept::All => return true,
        Kept::None => false,
        Kept::Failing if failed => at < SAMPLE,
        Kept::Failing => *sampled < SAMPLE,
    };
    if sample && !failed {
        *sampled += 1;
    }
    sample || pointed
}

pub fn scenario_report(
    planned: &Planned,
    run: Option<&ScenarioRun>,
    redactor: &Redactor,
    kept: Kept,
) -> ScenarioReport {
    let scenario = &planned.scenario;
    let redactor = redactor.with_secrets(run.map_or(planned.vars.secrets(), |r| &r.secrets));
    let mut report = ScenarioReport {
        id: planned.id.clone(),
        name: scenario.name.clone(),
        file: scenario.file.display().to_string(),
        status: Status::Passed,
        reason: None,
        requirements: scenario.requirements.clone(),
        rounds: None,
        round_error: None,
        failures: Vec::new(),
        warnings: Vec::new(),
        waived: Vec::new(),
        accepted_by_profile: Vec::new(),
        not_checked: Vec::new(),
        target_wide: Vec::new(),
        steps: Vec::new(),
        duration_ms: 0.0,
    };
    let Some(run) = run else {
        report.status = Status::NotApplicable;
        if let Applicability::NotApplicable(why) = &planned.applicability {
            report.reason = Some(why.clone());
        }
        return report;
    };
    report.duration_ms = millis(run.duration);
    report.steps.reserve_exact(run.steps.len());
    // A race states what its rounds prove, one round or many.
    report.rounds = (run.rounds.asked > 1 || run.rounds.races).then(|| run.rounds.clone());
    report.round_error = run.round_error.as_ref().map(|e| redactor.text(e));
    let mut sampled = 0;
    // Built once: a 20,000-step run must not look through every step for each one.
    let pointed: std::collections::HashSet<(usize, usize)> = run
        .steps
        .iter()
        .flat_map(|s| &s.findings)
        .flat_map(|f| &f.exchanges)
        .map(|at| (at.step, at.exchange))
        .collect();
    let mut rules: HashMap<&str, &str> = HashMap::new();
    for s in scenario.steps.iter().chain(&scenario.cleanup).rev() {
        if let Some(rule) = &s.rule {
            rules.insert(&s.name, rule);
        }
    }
    for (index, step) in run.steps.iter().enumerate() {
        for f in &step.findings {
            let shown = finding_report(f, &step.name, &redactor);
            if f.target_wide {
                match report
                    .target_wide
                    .iter_mut()
                    .find(|(t, _)| t.rule == shown.rule)
                {
                    Some((_, count)) => *count += 1,
                    None => report.target_wide.push((shown, 1)),
                }
                continue;
            }
            match f.weight {
                Weight::Fails => report.failures.push(shown),
                Weight::Warns => report.warnings.push(shown),
                Weight::Waived => report.waived.push(shown),
                Weight::AcceptedByProfile => report.accepted_by_profile.push(shown),
                Weight::NotChecked(_) => report.not_checked.push(shown),
            }
        }
        // A cleanup step that could not run (its variable was never captured because the
        // scenario failed first) is in `steps`, not the scenario's reason.
        if let (Some(error), None, false) = (&step.error, &report.reason, step.cleanup) {
            report.reason = Some(redactor.text(&format!("step `{}`: {error}", step.name)));
        }
        let rule = step
            .rule
            .clone()
            .or_else(|| rules.get(step.name.as_str()).map(|r| r.to_string()));
        let mut exchanges: Vec<ExchangeReport> = (step.exchanges.iter().enumerate())
            .map(|(j, e)| (step.position(j), e))
            .filter(|(at, _)| {
                let shown = pointed.contains(&(index, *at));
                keep(kept, step, *at, shown, &mut sampled)
            })
            .map(|(at, e)| exchange_report(e, at, &redactor))
            .collect();
        // A filtered collect starts with room for four (1 KB): one exchange kept, three empty.
        exchanges.shrink_to_fit();
        report.steps.push(StepReport {
            name: step.name.clone(),
            rule,
            cleanup: step.cleanup,
            race: step.window.as_ref().map(|w| {
                Box::new(RaceReport {
                    sync: w.sync.to_owned(),
                    requests: step.exchanges.len(),
                    released: w.released,
                    release_spread_us: (w.spread.as_secs_f64() * 1e7).round() / 10.0,
                    stagger_us: w.stagger.as_micros() as u64,
                    delayed: w.delayed,
                    warm: w.warm,
                })
            }),
            workload: step.workload.clone().map(Box::new),
            error: step.error.as_ref().map(|e| redactor.text(e)),
            not_run: step.not_run.as_ref().map(|e| redactor.text(e)),
            recorded: step.recorded.clone(),
            sent: step.sent(),
            exchanges,
        });
    }
    let not_applicable = run.steps.iter().find_map(|s| {
        let why = s.not_applicable.as_ref()?;
        Some(format!("step `{}`: {why}", s.name))
    });
    // Steps the target cannot show (only weak tags, a capability it lacks, a write on a
    // read-only target) are listed as not judged; the scenario is not applicable only when
    // they were all it was about.
    let set_aside: Vec<&crate::record::StepRun> =
        run.steps.iter().filter(|s| s.set_aside).collect();
    let judged_any = run.steps.iter().any(|s| {
        s.not_run.is_none()
            && s.rule
                .as_ref()
                .is_some_and(|r| scenario.requirements.contains(r))
    });
    let not_run = run
        .steps
        .iter()
        .filter(|s| !s.cleanup && !s.set_aside)
        .find_map(|s| {
            Some(format!(
                "step `{}` not run: {}",
                s.name,
                s.not_run.as_ref()?
            ))
        });
    report.status = if !report.failures.is_empty() {
        Status::Failed
    } else if run.interrupted {
        report.reason = Some(match run.steps.iter().find_map(|s| s.workload.clone()) {
            Some(w) => format!(
                "interrupted while it ran ({} of {} iterations of its workload)",
                w.writes, w.iterations
            ),
            None => "interrupted while it ran".to_owned(),
        });
        Status::NotRun
    } else if let Some(why) = not_applicable {
        report.reason = Some(redactor.text(&why));
        Status::NotApplicable
    } else if run.steps.iter().any(|s| s.error.is_some() && !s.cleanup) {
        Status::Error
    } else if let Some(why) = not_run {
        // Nothing failed, but not everything was tested: never a pass.
        report.reason = Some(redactor.text(&why));
        Status::NotApplicable
    } else if let (Some(first), false) = (set_aside.first(), judged_any) {
        report.reason = Some(format!(
            "step `{}` not run: {}",
            first.name,
            first
                .not_run
                .as_deref()
                .unwrap_or("the target cannot show it")
        ));
        Status::NotApplicable
    } else if let Some(f) = report.not_checked.first() {
        report.reason = Some(format!(
            "step `{}` not checked: {}",
            f.step,
            f.reason.as_deref().unwrap_or("")
        ));
        Status::NotApplicable
    } else if run.rounds.total == 0 {
        report.reason = report.round_error.clone();
        Status::Error
    } else {
        Status::Passed
    };
    report
}

fn finding_report(f: &Finding, step: &str, redactor: &Redactor) -> FailureReport {
    FailureReport {
        rule: f.rule.clone(),
        level: f.cite.as_ref().map(|c| c.level.to_owned()),
        section: f.cite.as_ref().map(|c| c.section.clone()),
        step: step.to_owned(),
        weight: Shown::of(&f.weight),
        reason: match &f.weight {
            Weight::NotChecked(why) => Some(redactor.text(why)),
            _ => None,
        },
        message: redactor.text(&f.message()),
        expected: redactor.text(&f.check.expected()),
        actual: redactor.text(&f.check.actual()),
        link: f
            .cite
            .as_ref()
            .map(|c| c.link.clone())
            .filter(|l| !l.is_empty()),
        exchanges: f
            .exchanges
            .iter()
            .map(|at| ExchangeAt {
                step: at.step,
                exchange: at.exchange,
            })
            .collect(),
    }
}

fn exchange_report(exchange: &Exchange, position: usize, redactor: &Redactor) -> ExchangeReport {
    let request = &exchange.request;
    let (error_kind, partial_status) = match &exchange.response {
        Err(why) => (Some(why.kind.name()), why.status),
        Ok(_) => (None, None),
    };
    let (response, error) = match &exchange.response {
        Ok(r) => (
            Some(ResponseReport {
                status: r.status,
                version: r.version.to_owned(),
                headers: redactor.headers(&r.headers),
                body: body_text(&r.body, redactor),
            }),
            None,
        ),
        Err(why) => (None, Some(redactor.text(&why.to_string()))),
    };
    ExchangeReport {
        position,
        index: exchange.index,
        request: RequestReport {
            method: request.method.to_string(),
            url: redactor.text(request.url.as_str()),
            headers: redactor.headers(&request.headers),
            body: body_text(&request.body, redactor),
        },
        response,
        error,
        error_kind: error_kind.map(str::to_owned),
        partial_status,
        duration_ms: millis(
            exchange
                .finished
                .saturating_duration_since(exchange.started),
        ),
    }
}

fn body_text(body: &[u8], redactor: &Redactor) -> Option<String> {
    if body.is_empty() {
        return None;
    }
    let text = match std::str::from_utf8(body) {
        Ok(text) => text.to_owned(),
        // Cut inside a character at the end (a capped body): the rest is text.
        Err(e) if e.valid_up_to() + 4 > body.len() => {
            String::from_utf8_lossy(&body[..e.valid_up_to()]).into_owned()
        }
        Err(_) => return Some(format!("<{} bytes of binary content>", body.len())),
    };
    // Masked whole, then cut: a secret that straddles the cut must not leave its first half.
    let masked = redactor.text(&text);
    if masked.len() <= BODY_LIMIT {
        return Some(masked);
    }
    let mut cut = BODY_LIMIT;
    while !masked.is_char_boundary(cut) {
        cut -= 1;
    }
    Some(format!("{}… <{} bytes in all>", &masked[..cut], body.len()))
}

fn millis(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

fn usize_is_zero(n: &usize) -> bool {
    *n == 0
}
