//! Judge: pure functions from exchanges and expectations to [`Failure`]s. No I/O, no clock:
//! easy to test with recorded exchanges.

pub mod catalog;
mod expect;
pub mod history;
pub mod linearize;
pub mod passive;
mod snapshot;

pub use expect::{check_group, check_response};
pub use snapshot::check_snapshot;

use serde::Serialize;

use crate::scenario::StatusSet;

/// One thing that was not as expected, stated as expected vs actual (the h2spec shape).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// The catalog rule this breaks, when it is one (`if-match.mismatch`); `None` for a
    /// scenario's own expectation.
    pub rule: Option<String>,
    /// What was checked: `status`, `header ETag`, `body`, `outcomes`, `request #3 status`.
    pub subject: String,
    pub expected: String,
    pub actual: String,
}

impl Failure {
    pub fn new(
        subject: impl Into<String>,
        expected: impl Into<String>,
        actual: impl Into<String>,
    ) -> Self {
        Failure {
            rule: None,
            subject: subject.into(),
            expected: expected.into(),
            actual: actual.into(),
        }
    }

    /// One line: `status: expected 412, got 204`.
    pub fn message(&self) -> String {
        format!(
            "{}: expected {}, got {}",
            self.subject, self.expected, self.actual
        )
    }
}

/// How findings weigh in a verdict: SHOULD-level rules warn unless `strict`; rules in `allow`
/// are waived (reported, never failing); `accept` lists statuses a profile accepts per rule.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub strict: bool,
    pub allow: Vec<String>,
    pub accept: Vec<(String, StatusSet)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weight {
    Failure,
    Warning,
    Waived,
    /// A status the target's profile accepts for this rule (RFC 9110 asks for another).
    AcceptedByProfile,
}

impl Policy {
    pub fn weigh(&self, failure: &Failure) -> Weight {
        let Some(id) = failure.rule.as_deref() else {
            return Weight::Failure;
        };
        if self.allow.iter().any(|a| a == id) {
            return Weight::Waived;
        }
        if self.accepts(id, failure) {
            return Weight::AcceptedByProfile;
        }
        match catalog::find(id) {
            Some(rule) if rule.level.is_advisory() && !self.strict => Weight::Warning,
            _ => Weight::Failure,
        }
    }

    /// A status finding whose actual status the profile accepts for this rule.
    fn accepts(&self, rule: &str, failure: &Failure) -> bool {
        let Ok(status) = failure.actual.parse::<u16>() else {
            return false;
        };
        failure.subject.ends_with("status")
            && self
                .accept
                .iter()
                .any(|(r, statuses)| r == rule && statuses.matches(status))
    }
}
