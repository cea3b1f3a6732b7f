//! `status: replaced`: what the target answers to a PUT that replaced a resource, made the
//! target's own (a profile's `replace.status`), else 200, 201 or 204. Such a step checks that
//! the write was performed; which success status a replace must use is `put.replaced`'s to
//! judge (specs/put-status.yaml), so a target's 201 is reported there once, not under every
//! rule whose scenario replaces a resource on the way.

use crate::scenario::{
    Expect, GroupExpect, Scenario, StatusPattern, StatusSet, Step, Visit, VisitMut,
};

/// A write performed, when the profile does not say.
const PERFORMED: [u16; 3] = [200, 201, 204];

/// Whether some step of the scenario expects `replaced` (without, nothing to copy).
pub(super) fn mentioned(scenario: &Scenario) -> bool {
    struct Mentions(bool);
    impl<'a> Visit<'a> for Mentions {
        fn expect(&mut self, _: &'a Step, expect: &'a Expect) {
            self.0 |= (expect.status.iter()).any(|set| set.0.contains(&StatusPattern::Replaced));
        }
        fn group_expect(&mut self, _: &'a Step, expect: &'a GroupExpect) {
            self.0 |= expect.counts(StatusPattern::Replaced);
        }
    }
    let mut mentions = Mentions(false);
    for step in scenario.steps.iter().chain(&scenario.cleanup) {
        step.walk(&mut mentions);
    }
    mentions.0
}

/// Every `replaced` in a status set becomes `statuses` (or the default).
pub(super) fn place(
    mut scenario: Scenario,
    statuses: Option<&StatusSet>,
) -> Result<Scenario, String> {
    let statuses = match statuses {
        Some(set) => set.0.clone(),
        None => PERFORMED.map(StatusPattern::Exact).to_vec(),
    };
    let mut pass = Place(statuses);
    for step in scenario.steps.iter_mut().chain(scenario.cleanup.iter_mut()) {
        step.walk_mut(&mut pass)?;
    }
    Ok(scenario)
}

struct Place(Vec<StatusPattern>);

impl VisitMut for Place {
    fn expect(&mut self, expect: &mut Expect) -> Result<(), String> {
        for set in expect.status.iter_mut() {
            if set.0.contains(&StatusPattern::Replaced) {
                set.0.retain(|p| *p != StatusPattern::Replaced);
                for status in &self.0 {
                    if !set.0.contains(status) {
                        set.0.push(*status);
                    }
                }
            }
        }
        Ok(())
    }

    fn group_expect(&mut self, expect: &mut GroupExpect) -> Result<(), String> {
        match expect.counts(StatusPattern::Replaced) {
            true => Err(
                "`replaced` stands for a set of statuses, and a count takes one \
                         status: count `2xx`, or put `replaced` under `each`"
                    .to_owned(),
            ),
            false => Ok(()),
        }
    }
}
