//! A profile's `cors_origin`: storage behind CORS answers an OPTIONS only as a preflight, so
//! every OPTIONS a scenario sends goes as one (`Origin` and `Access-Control-Request-Method`),
//! and what comes back is about the request, not about a missing `Origin`.

use crate::scenario::{FieldName, Request, Scenario, Step, Template};

/// True when some request of the scenario is an OPTIONS.
pub(super) fn used(scenario: &Scenario) -> bool {
    (scenario.steps.iter().chain(&scenario.cleanup))
        .flat_map(Step::requests)
        .any(|r| r.method.0 == "OPTIONS")
}

/// Every OPTIONS made a preflight from `origin` for a PUT (the suite's writes), unless the
/// scenario set those headers itself.
pub(super) fn preflight(mut scenario: Scenario, origin: &str) -> Result<Scenario, String> {
    let origin = Template::parse(origin).map_err(|e| format!("profile cors_origin: {e}"))?;
    let method = Template::parse("PUT")?;
    let add = |request: &mut Request| {
        if request.method.0 != "OPTIONS" {
            return Ok(());
        }
        for (name, value) in [
            ("Origin", &origin),
            ("Access-Control-Request-Method", &method),
        ] {
            let set = (request.headers.0.iter()).any(|(n, _)| n.0.eq_ignore_ascii_case(name));
            if !set {
                request
                    .headers
                    .0
                    .push((FieldName(name.to_owned()), value.clone()));
            }
        }
        Ok(())
    };
    for step in scenario.steps.iter_mut().chain(scenario.cleanup.iter_mut()) {
        step.each_request_mut(&add)?;
    }
    Ok(scenario)
}
