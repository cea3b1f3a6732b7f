//! The one place a run's outcome is decided: what was judged ([`Coverage`]) and whether the run
//! passes ([`Verdict`]). The CLI's exit code, the `cargo test` harness, JUnit, HTML and JSON
//! all read these; none re-derives a verdict from statuses or labels.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{Report, ScenarioReport, Status};
use crate::judge::catalog::{self, Kind, Observability};

/// Which catalog rules a run judged, and why each other one was not.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Coverage {
    /// Rules some exchange was judged against: a scenario covering them ran its steps, or a
    /// finding names them.
    pub judged: Vec<String>,
    /// Rules the run's scenarios cover but did not judge, each with the reason (rules no
    /// scenario of the run covers are not listed: a `--filter` did not ask about them).
    pub not_judged: Vec<NotJudged>,
    /// The fewest rules the run had to judge (`--min-judged`, a profile's `min_judged`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotJudged {
    pub rule: String,
    /// `not applicable in SCENARIO: ...`, `not run in ...`, `not checked in ...`.
    pub reason: String,
}

impl Coverage {
    /// What `scenarios` judged. Only scenario and history rules and rules with a finding
    /// count: a passive check that saw nothing wrong cannot say whether it saw anything at all.
    pub fn of(scenarios: &[ScenarioReport], target_rules: &[String]) -> Coverage {
        let mut judged: BTreeSet<String> = BTreeSet::new();
        let mut reasons: BTreeMap<String, String> = BTreeMap::new();
        for s in scenarios {
            let ran = matches!(s.status, Status::Passed | Status::Failed);
            for rule in &s.requirements {
                let steps: Vec<_> = s
                    .steps
                    .iter()
                    .filter(|st| st.rule.as_deref() == Some(rule.as_str()))
                    .collect();
                let unsent = steps.iter().find_map(|st| st.not_run.as_ref());
                let all_unsent = !steps.is_empty() && steps.iter().all(|st| st.not_run.is_some());
                let not_checked = s
                    .not_checked
                    .iter()
                    .find(|f| f.rule.as_deref() == Some(rule.as_str()));
                if ran && !all_unsent && not_checked.is_none() {
                    judged.insert(rule.clone());
                    continue;
                }
                let why = match (not_checked, unsent, &s.reason) {
                    (Some(f), _, _) => format!(
                        "not checked in {}: {}",
                        s.id,
                        f.reason.as_deref().unwrap_or("")
                    ),
                    (None, Some(why), _) if all_unsent => format!("not run in {}: {why}", s.id),
                    (_, _, Some(why)) => format!("{} in {}: {why}", status_words(s.status), s.id),
                    _ => format!("{} in {}", status_words(s.status), s.id),
                };
                reasons.entry(rule.clone()).or_insert(why);
            }
            // A step sent under a rule judged it, whatever the scenario names (a `weak:`
            // form's rule, a step's own).
            if ran {
                let sent = s
                    .steps
                    .iter()
                    .filter(|st| !st.cleanup && st.not_run.is_none());
                for rule in sent.filter_map(|st| st.rule.as_ref()) {
                    judged.insert(rule.clone());
                }
            }
            let found = s
                .failures
                .iter()
                .chain(&s.warnings)
                .chain(&s.waived)
                .chain(&s.accepted_by_profile);
            for f in found {
                if let Some(rule) = &f.rule {
                    judged.insert(rule.clone());
                }
            }
        }
        for rule in target_rules {
            judged.insert(rule.clone());
        }
        let requirements: Vec<&[String]> = scenarios
            .iter()
            .map(|s| s.requirements.as_slice())
            .collect();
        let mut not_judged = Vec::new();
        for rule in catalog::all() {
            if judged.contains(rule.id) || rule.observability == Observability::Informational {
                continue;
            }
            let kinds = catalog::kinds(rule.id, requirements.iter().copied());
            if !kinds.contains(&Kind::Scenario) && !kinds.contains(&Kind::History) {
                // Passive only: judged on every response, reported when one breaks it.
                continue;
            }
            // A rule no scenario of this run covers was not asked about (`--filter`).
            if let Some(reason) = reasons.remove(rule.id) {
                not_judged.push(NotJudged {
                    rule: rule.id.to_owned(),
                    reason,
                });
            }
        }
        // The profile's own rules (`x-team.rule`) are judged too; left out only here.
        for (rule, reason) in reasons {
            if !judged.contains(&rule) && catalog::find(&rule).is_none() {
                not_judged.push(NotJudged { rule, reason });
            }
        }
        Coverage {
            judged: judged.into_iter().collect(),
            not_judged,
            required: None,
        }
    }

    /// The judged rules about preconditions and conflicts ([`about_preconditions_or_conflicts`]).
    pub fn preconditions_judged(&self) -> usize {
        self.judged
            .iter()
            .filter(|r| about_preconditions_or_conflicts(r))
            .count()
    }
}

/// True for the rules contend is for: conditional requests (and their scope), conflicts (409,
/// 423) and the races and retries they guard. False for what any response shows on its own
/// (validator syntax, 201 versus 204, Content-Length): a run that judged only those tested
/// nothing of what it promises.
pub fn about_preconditions_or_conflicts(rule: &str) -> bool {
    const GENERAL: &[&str] = &[
        "etag.",
        "last-modified.",
        "head.",
        "put.created",
        "put.replaced",
        "put.validator-means-stored",
        "204.",
    ];
    !GENERAL.iter().any(|g| rule.starts_with(g))
}

fn status_words(status: Status) -> &'static str {
    match status {
        Status::Passed => "passed",
        Status::Failed => "failed",
        Status::NotApplicable => "not applicable",
        Status::Error => "could not run",
        Status::NotRun => "not run",
    }
}

/// The outcome of a run, decided once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub passed: bool,
    /// 0 passed, 1 failed (or nothing tested, or the target could not be tested), 130
    /// interrupted.
    pub exit_code: u8,
    /// Why it did not pass, one line each, the most important first.
    pub reasons: Vec<String>,
}

impl Report {
    /// The run's verdict: the only function that decides one.
    pub fn verdict(&self) -> Verdict {
        let s = &self.summary;
        let mut reasons = Vec::new();
        if let Some(error) = &self.error {
            reasons.push(error.clone());
        }
        if s.failed > 0 {
            reasons.push(format!("{} scenario(s) failed", s.failed));
        }
        if s.errors > 0 {
            reasons.push(format!("{} scenario(s) could not run", s.errors));
        }
        if s.target_failures > 0 {
            reasons.push(format!(
                "{} target-wide finding(s) failed",
                s.target_failures
            ));
        }
        if self.error.is_none() && s.interrupted == 0 {
            let judged = self.coverage.preconditions_judged();
            // A team's own scenario (no catalog rule named) is a test of its own expectations.
            let own = self.scenarios.iter().any(|sc| {
                matches!(sc.status, Status::Passed | Status::Failed)
                    && sc.requirements.iter().all(|r| catalog::find(r).is_none())
            });
            if s.passed + s.failed == 0 || judged == 0 && s.failed == 0 && !own {
                reasons.push(format!(
                    "nothing was tested: no rule about preconditions or conflicts was judged ({} scenario(s) ran, {} not applicable)",
                    s.passed + s.failed,
                    s.not_applicable
                ));
            }
            if let Some(min) = self.coverage.required {
                let got = self.coverage.judged.len();
                if got < min {
                    reasons.push(format!(
                        "{got} rules judged, fewer than the {min} required (min_judged)"
                    ));
                }
            }
        }
        let exit_code = match (s.interrupted > 0, reasons.is_empty()) {
            (true, _) => 130,
            (false, true) => 0,
            (false, false) => 1,
        };
        Verdict {
            passed: exit_code == 0,
            exit_code,
            reasons,
        }
    }
}
