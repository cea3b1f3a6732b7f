//! `headers_if`: headers a request sends only to a target with a capability, folded into its
//! headers for this target.

use crate::scenario::{Request, Scenario, Step};

use super::Target;

/// True when some request of the scenario has `headers_if`.
pub(super) fn used(scenario: &Scenario) -> bool {
    (scenario.steps.iter().chain(&scenario.cleanup))
        .flat_map(Step::requests)
        .any(|r| !r.headers_if.0.is_empty())
}

/// `headers_if` folded into `headers` for the capabilities the target has.
pub(super) fn fold(mut scenario: Scenario, target: &Target) -> Scenario {
    let fold = |request: &mut Request| {
        for (capability, headers) in std::mem::take(&mut request.headers_if.0) {
            if target.capabilities.contains(&capability) {
                request.headers.0.extend(headers.0);
            }
        }
        Ok(())
    };
    for step in scenario.steps.iter_mut().chain(scenario.cleanup.iter_mut()) {
        let _ = step.each_request_mut(&fold);
    }
    scenario
}
