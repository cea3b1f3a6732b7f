//! A bounded linearizability search (in the manner of Porcupine: Wing and Gong's search with
//! memoised states) for one compare-and-set register, used when ETags are not unique versions.
//!
//! The ETag-keyed check in [`super::history`] is exact when every write produces a new ETag. When
//! a server reuses ETags (nginx's `mtime-length` tags repeat within a second), two successes with
//! the same `If-Match` can be legitimate: the first write may have put back the very tag the
//! second was conditioned on. Then the question is whether *some* order of the operations,
//! consistent with real time, explains every answer. The search answers yes, no, or — when it
//! runs out of its budget of explored states — unknown, which is never reported as a pass.

use std::collections::HashSet;
use std::time::Instant;

use bytes::Bytes;

/// One operation on the register, with the interval it took.
#[derive(Debug, Clone)]
pub struct Op {
    pub start: Instant,
    pub end: Instant,
    pub kind: OpKind,
}

#[derive(Debug, Clone)]
pub enum OpKind {
    /// A write conditioned on `If-Match: if_match`; `ok` when it answered 2xx, `new_tag` the
    /// ETag it answered with (unknown when it sent none).
    Write {
        if_match: Vec<u8>,
        content: Bytes,
        ok: bool,
        new_tag: Option<Vec<u8>>,
    },
    /// A read that returned `content` under `tag`.
    Read {
        content: Bytes,
        tag: Option<Vec<u8>>,
    },
}

/// The register: its ETag and content, either unknown when nothing told us.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct State {
    pub tag: Option<Vec<u8>>,
    pub content: Option<Bytes>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Linearizable,
    /// No order of the operations explains the answers.
    Violation,
    /// The budget ran out first.
    Unknown {
        explored: usize,
    },
    /// More operations than the search takes on ([`MAX_OPS`]): how many, when all are known.
    TooMany {
        ops: Option<usize>,
    },
}

/// The most operations searched. Each state remembers which operations are done (a bit each)
/// and the search goes as deep as there are operations: 100,000 of them once took gigabytes
/// and minutes for a budget of 200,000 states. A bigger history is not checked, and says so.
pub const MAX_OPS: usize = 1024;

/// The sequential specification: the state after `op`, or `None` when `op`'s answer is
/// impossible from `state`. Unknown parts of the state never rule an answer out.
fn apply(state: &State, op: &OpKind) -> Option<State> {
    let tag_is = |tag: &[u8]| state.tag.as_deref().is_none_or(|t| t == tag);
    match op {
        OpKind::Write {
            if_match,
            content,
            ok: true,
            new_tag,
        } => tag_is(if_match).then(|| State {
            tag: new_tag.clone(),
            content: Some(content.clone()),
        }),
        OpKind::Write {
            if_match,
            ok: false,
            ..
        } => {
            // A refusal says the tag differed; an unknown tag may have.
            let refused = state
                .tag
                .as_deref()
                .is_none_or(|t| t != if_match.as_slice());
            refused.then(|| state.clone())
        }
        OpKind::Read { content, tag } => {
            let content_ok = state.content.as_ref().is_none_or(|c| c == content);
            let tag_ok = match (tag, &state.tag) {
                (Some(seen), Some(known)) => seen == known,
                _ => true,
            };
            // A read teaches what was unknown.
            (content_ok && tag_ok).then(|| State {
                tag: tag.clone().or_else(|| state.tag.clone()),
                content: Some(content.clone()),
            })
        }
    }
}

/// Searches for a linearization of `ops` from `initial`, exploring at most `budget` states:
/// a count, not a time, so the verdict never depends on how busy the machine is.
pub fn check(ops: &[Op], initial: State, budget: usize) -> Outcome {
    if ops.len() > MAX_OPS {
        return Outcome::TooMany {
            ops: Some(ops.len()),
        };
    }
    let mut done = Done(vec![0; ops.len().div_ceil(64)]);
    let mut seen: HashSet<(Done, State)> = HashSet::new();
    let mut explored = 0;
    match search(ops, &initial, &mut done, &mut seen, &mut explored, budget) {
        Some(true) => Outcome::Linearizable,
        Some(false) => Outcome::Violation,
        None => Outcome::Unknown { explored },
    }
}

/// Which operations are done, a bit each.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Done(Vec<u64>);

impl Done {
    fn get(&self, i: usize) -> bool {
        self.0[i / 64] & (1 << (i % 64)) != 0
    }

    fn set(&mut self, i: usize, on: bool) {
        match on {
            true => self.0[i / 64] |= 1 << (i % 64),
            false => self.0[i / 64] &= !(1 << (i % 64)),
        }
    }
}

/// `Some(found)`, or `None` when the budget of states ran out.
fn search(
    ops: &[Op],
    state: &State,
    done: &mut Done,
    seen: &mut HashSet<(Done, State)>,
    explored: &mut usize,
    budget: usize,
) -> Option<bool> {
    if (0..ops.len()).all(|i| done.get(i)) {
        return Some(true);
    }
    *explored += 1;
    if *explored > budget {
        return None;
    }
    if !seen.insert((done.clone(), state.clone())) {
        return Some(false);
    }
    // An operation can go next only if no pending operation finished before it started.
    let earliest_end = (0..ops.len())
        .filter(|&i| !done.get(i))
        .map(|i| ops[i].end)
        .min()?;
    for i in 0..ops.len() {
        if done.get(i) || ops[i].start > earliest_end {
            continue;
        }
        if let Some(next) = apply(state, &ops[i].kind) {
            done.set(i, true);
            let found = search(ops, &next, done, seen, explored, budget);
            done.set(i, false);
            if found != Some(false) {
                return found;
            }
        }
    }
    Some(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn write(
        at: u64,
        until: u64,
        if_match: &str,
        content: &'static str,
        ok: bool,
        new_tag: Option<&str>,
    ) -> Op {
        let base = base();
        Op {
            start: base + Duration::from_millis(at),
            end: base + Duration::from_millis(until),
            kind: OpKind::Write {
                if_match: if_match.as_bytes().to_vec(),
                content: Bytes::from_static(content.as_bytes()),
                ok,
                new_tag: new_tag.map(|t| t.as_bytes().to_vec()),
            },
        }
    }

    fn base() -> Instant {
        static BASE: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
        *BASE.get_or_init(Instant::now)
    }

    fn initial() -> State {
        State {
            tag: Some(b"E".to_vec()),
            content: Some(Bytes::from_static(b"v0")),
        }
    }

    const BUDGET: usize = 1_000_000;

    #[test]
    fn a_reused_tag_can_explain_two_winners() {
        // The first write put back tag E, so the second, conditioned on E, may succeed too.
        let ops = [
            write(0, 10, "E", "a", true, Some("E")),
            write(0, 10, "E", "b", true, Some("F")),
        ];
        assert_eq!(check(&ops, initial(), BUDGET), Outcome::Linearizable);
    }

    #[test]
    fn two_winners_on_a_tag_nothing_restored_is_a_violation() {
        let ops = [
            write(0, 10, "E", "a", true, Some("F")),
            write(0, 10, "E", "b", true, Some("G")),
        ];
        assert_eq!(check(&ops, initial(), BUDGET), Outcome::Violation);
    }

    #[test]
    fn real_time_order_is_respected() {
        // b started after a ended, so a came first; a changed the tag to F; b cannot match E.
        let ops = [
            write(0, 5, "E", "a", true, Some("F")),
            write(6, 9, "E", "b", true, Some("E")),
        ];
        assert_eq!(check(&ops, initial(), BUDGET), Outcome::Violation);
        // Overlapping, b may go first and restore E for a.
        let ops = [
            write(0, 9, "E", "a", true, Some("F")),
            write(1, 8, "E", "b", true, Some("E")),
        ];
        assert_eq!(check(&ops, initial(), BUDGET), Outcome::Linearizable);
    }

    #[test]
    fn too_many_operations_are_not_searched() {
        let ops: Vec<Op> = (0..MAX_OPS + 1)
            .map(|_| write(0, 10, "E", "a", true, Some("E")))
            .collect();
        let started = std::time::Instant::now();
        assert_eq!(
            check(&ops, initial(), BUDGET),
            Outcome::TooMany {
                ops: Some(MAX_OPS + 1)
            }
        );
        assert!(started.elapsed() < Duration::from_millis(100));
    }

    #[test]
    fn running_out_of_budget_is_unknown_never_a_pass() {
        let ops = [
            write(0, 10, "E", "a", true, Some("E")),
            write(0, 10, "E", "b", true, Some("F")),
        ];
        assert!(matches!(check(&ops, initial(), 0), Outcome::Unknown { .. }));
    }
}
