//! A profile's `resource_path`: where a scenario's resource named NAME lives on this target, in
//! place of `{{scratch}}/NAME` (a flat namespace, a bucket's key prefix).

use crate::scenario::{Request, Scenario, Template};

/// Every request path `{{scratch}}/NAME` becomes `path` with NAME for `{{name}}`.
pub(super) fn rename(mut scenario: Scenario, path: &Template) -> Result<Scenario, String> {
    let rename = |request: &mut Request| {
        if let Some(name) = request.path.as_str().strip_prefix("{{scratch}}/") {
            let renamed = path.as_str().replace("{{name}}", name);
            request.path = Template::parse(&renamed)?;
        }
        Ok(())
    };
    for step in scenario.steps.iter_mut().chain(scenario.cleanup.iter_mut()) {
        step.each_request_mut(&rename)?;
    }
    Ok(scenario)
}
