//! A step's `weak:` form (what it does once the target has shown only weak entity tags): the
//! scenario with every step in that form goes through the same shaping, and the shaped forms
//! are put back on their steps.

use crate::scenario::{Scenario, Step};

/// The scenario with each step in its `weak:` form, when some step has one.
pub(super) fn twin(scenario: &Scenario) -> Option<Scenario> {
    let judged = |s: &Step| matches!(s.on_weak, Some(crate::scenario::OnWeak::Judge(_)));
    if !scenario.steps.iter().any(judged) {
        return None;
    }
    let mut twin = scenario.clone();
    for step in twin.steps.iter_mut() {
        if let Some(crate::scenario::OnWeak::Judge(weak)) = step.on_weak.take() {
            *step = *weak;
        }
    }
    Some(twin)
}

/// Puts the shaped weak forms of `twin` back on the steps of `scenario`, step for step (the
/// shaping adds the same steps to both, so they line up by position and name).
pub(super) fn attach(mut scenario: Scenario, twin: &Scenario) -> Scenario {
    if scenario.steps.len() != twin.steps.len() {
        return scenario;
    }
    for (step, weak) in scenario.steps.iter_mut().zip(&twin.steps) {
        if step.name == weak.name && matches!(step.on_weak, Some(crate::scenario::OnWeak::Judge(_)))
        {
            step.on_weak = Some(crate::scenario::OnWeak::Judge(Box::new(weak.clone())));
        }
    }
    scenario
}
