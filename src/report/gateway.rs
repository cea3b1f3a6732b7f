//! A run through a gateway compared with the same run at its origin: what differs is the
//! gateway's doing (a proxy that compresses weakens ETags and so breaks If-Match; one that
//! answers 304 itself must carry the origin's validators).

use serde::{Deserialize, Serialize};

use super::{ExchangeReport, Report, ScenarioReport, Status};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GatewayReport {
    /// The origin's URL (masked like the target's).
    pub origin: String,
    /// Scenarios whose verdict differs, and exchanges whose answer differs.
    pub differences: Vec<Difference>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Difference {
    pub scenario: String,
    /// The step, or `None` for the scenario's verdict.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// What differs: `verdict`, `PUT status`, `GET ETag`.
    pub what: String,
    /// Through the gateway.
    pub gateway: String,
    /// At the origin.
    pub origin: String,
}

/// Compares each scenario, step and exchange (in order) of the run through the gateway with
/// the run at the origin. ETags are compared by kind (absent, weak, strong): their values may
/// differ between the runs, their strength must not.
pub fn compare(origin: &str, through: &Report, direct: &Report) -> GatewayReport {
    let mut differences = Vec::new();
    for g in &through.scenarios {
        let Some(o) = direct.scenarios.iter().find(|o| o.id == g.id) else {
            continue;
        };
        if g.status != o.status {
            differences.push(Difference {
                scenario: g.id.clone(),
                step: None,
                what: "verdict".into(),
                gateway: verdict(g),
                origin: verdict(o),
            });
        }
        for (gs, os) in g
            .steps
            .iter()
            .zip(&o.steps)
            .filter(|(a, b)| a.name == b.name)
        {
            let mut differ = |what: String, gateway: String, origin: String| {
                if gateway != origin {
                    differences.push(Difference {
                        scenario: g.id.clone(),
                        step: Some(gs.name.clone()),
                        what,
                        gateway,
                        origin,
                    });
                }
            };
            // Which racer wins is chance, and a workload's exchanges depend on its retries:
            // a race is compared by its outcomes, a workload by the verdict alone. Cleanup
            // answers whatever state the scenario left, which differs when the runs did.
            if gs.workload.is_some() || gs.cleanup {
                continue;
            }
            if gs.race.is_some() {
                differ(
                    "outcomes".into(),
                    tally(&gs.exchanges),
                    tally(&os.exchanges),
                );
                continue;
            }
            for (ge, oe) in gs.exchanges.iter().zip(&os.exchanges) {
                let method = &ge.request.method;
                let (gateway, origin) = (status(ge), status(oe));
                if gateway != origin {
                    differ(format!("{method} status"), gateway, origin);
                } else {
                    differ(format!("{method} ETag"), etag_kind(ge), etag_kind(oe));
                }
            }
        }
    }
    GatewayReport {
        origin: origin.to_owned(),
        differences,
    }
}

fn verdict(s: &ScenarioReport) -> String {
    let status = match s.status {
        Status::Passed => "passed",
        Status::Failed => "failed",
        Status::NotApplicable => "not applicable",
        Status::Error => "error",
        Status::NotRun => "not run",
    };
    match (s.failures.first(), &s.reason) {
        (Some(f), _) => format!(
            "{status} ({}: {})",
            f.rule.as_deref().unwrap_or("own"),
            f.message
        ),
        (None, Some(why)) => format!("{status} ({why})"),
        (None, None) => status.to_owned(),
    }
}

/// `204 × 1, 412 × 19`.
fn tally(exchanges: &[ExchangeReport]) -> String {
    let statuses: Vec<Option<u16>> = exchanges
        .iter()
        .map(|e| e.response.as_ref().map(|r| r.status))
        .collect();
    crate::record::tally(&statuses)
}

fn status(e: &ExchangeReport) -> String {
    e.response
        .as_ref()
        .map_or_else(|| "no response".to_owned(), |r| r.status.to_string())
}

fn etag_kind(e: &ExchangeReport) -> String {
    let Some(r) = &e.response else {
        return "no response".into();
    };
    match r.headers.get("etag").map(|tag| tag.joined()) {
        None => "no ETag".into(),
        Some(tag) if tag.starts_with("W/") => "a weak ETag".into(),
        Some(_) => "a strong ETag".into(),
    }
}
