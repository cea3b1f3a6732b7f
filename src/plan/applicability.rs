//! Whether a planned scenario runs on this target, and which of its steps are set aside: from
//! the capabilities the target has (probed or declared), the profile's resource model (a create
//! request, versions) and `read_only`.

use std::sync::Arc;

use crate::scenario::{Capability, Need, Scenario};

use super::{resource, Applicability, Settings, Target};

/// The scenario with steps that need what the target lacks set aside, and whether it runs: a
/// scenario on a read-only target that writes, or one needing a capability the target lacks,
/// or one updating without the version a target requires (`unversioned`) does not.
pub(super) fn decide(
    scenario: Arc<Scenario>,
    target: &Target,
    settings: &Settings,
    on_existing: bool,
    unversioned: Option<String>,
) -> (Arc<Scenario>, Applicability) {
    let has = |c: &Capability| match c {
        Capability::Create => {
            on_existing
                || settings.resources.create.is_some()
                || target.capabilities.contains(&Capability::Create)
                || target.capabilities.contains(&Capability::PutCreate)
        }
        Capability::Versions => {
            settings.resources.version.is_some() || target.capabilities.contains(c)
        }
        other => target.capabilities.contains(other),
    };
    let lacks = |needs: &[Need]| -> Vec<String> {
        needs
            .iter()
            .filter(|need| match need {
                Need::Builtin(c) => !has(c),
                Need::Own(name) => !target.own_capabilities.contains(name),
            })
            .map(|n| n.name().to_owned())
            .collect()
    };
    let missing = lacks(&scenario.requires);
    // A step that needs more than its scenario is set aside where the target lacks it; the
    // other steps still run and judge.
    let scenario = match scenario.steps.iter().any(|s| !s.requires.is_empty()) {
        false => scenario,
        true => {
            let mut shaped = (*scenario).clone();
            for step in shaped.steps.iter_mut() {
                let lacking = lacks(&step.requires);
                if !lacking.is_empty() {
                    step.set_aside = Some(format!("the target lacks {}", lacking.join(", ")));
                }
            }
            Arc::new(shaped)
        }
    };
    let writes = settings
        .resources
        .read_only
        .then(|| resource::writes(&scenario))
        .flatten();
    // On a read-only target, that a scenario writes is the reason that matters most.
    let applicability = match (missing.is_empty(), writes) {
        (_, Some(write)) => Applicability::NotApplicable(format!(
            "the target is read-only and {write}{}",
            match settings.resources.existing.is_empty() {
                true => " (a profile's `existing:` resource lets read scenarios run)",
                false => "",
            }
        )),
        (false, None) => {
            Applicability::NotApplicable(format!("the target lacks {}", missing.join(", ")))
        }
        (true, None) if unversioned.is_some() => Applicability::NotApplicable(format!(
            "the target needs the version with every update (version.required) and {}",
            unversioned.unwrap_or_default()
        )),
        (true, None) => Applicability::Run,
    };
    (scenario, applicability)
}
