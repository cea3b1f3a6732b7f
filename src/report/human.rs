//! The terminal report: one line per scenario, and for each failure what was expected and what
//! came back.

use std::fmt::Write;

use super::{Report, ScenarioReport, Status};

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "contend {}: {} scenarios against {}\n",
        report.contend,
        report.scenarios.len(),
        report.target
    );
    for scenario in &report.scenarios {
        out.push_str(&scenario_block(scenario));
    }
    if !report.target_findings.is_empty() {
        let _ = writeln!(out, "\nthe target as a whole (each rule once):");
        for t in &report.target_findings {
            let label = match t.first.weight {
                "failure" => String::new(),
                other => format!("{other}: "),
            };
            let _ = writeln!(
                out,
                "      {label}{}{}: {} ({} exchanges in {} scenarios, first in {} step `{}`)",
                t.first.rule.as_deref().unwrap_or("?"),
                cite(&t.first),
                t.first.message,
                t.count,
                t.scenarios.len(),
                t.scenarios[0],
                t.first.step
            );
        }
    }
    if let Some(g) = &report.gateway {
        let _ = writeln!(
            out,
            "\nthrough the gateway vs at the origin {}: {} differences (the gateway's doing)",
            g.origin,
            g.differences.len()
        );
        for d in &g.differences {
            let step = d
                .step
                .as_deref()
                .map(|s| format!(" step `{s}`"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "      {}{step}: {}: gateway {}, origin {}",
                d.scenario, d.what, d.gateway, d.origin
            );
        }
    }
    let s = &report.summary;
    let mut extra = String::new();
    if s.not_checked > 0 {
        let _ = write!(extra, ", {} not checked", s.not_checked);
    }
    if s.not_run > 0 {
        let _ = write!(extra, ", {} steps not run", s.not_run);
    }
    if s.target_failures > 0 {
        let _ = write!(extra, ", {} target-wide failures", s.target_failures);
    }
    let _ = writeln!(
        out,
        "\n{} scenarios: {} passed, {} failed, {} not applicable, {} errors, {} warnings{extra} ({:.2} s)",
        report.scenarios.len(),
        s.passed,
        s.failed,
        s.not_applicable,
        s.errors,
        s.warnings,
        s.duration_ms / 1000.0
    );
    out
}

/// ` [if-match.mismatch, MUST, RFC 9110 13.1.1]`, or as much of it as is known.
fn cite(f: &super::FailureReport) -> String {
    match (&f.rule, f.level, &f.section) {
        (Some(id), Some(level), Some(section)) => format!(" [{id}, {level}, {section}]"),
        (Some(id), _, _) => format!(" [{id}]"),
        _ => String::new(),
    }
}

/// One scenario: its status line, then its failures and the exchanges of the failing step.
pub fn scenario_block(scenario: &ScenarioReport) -> String {
    let mut out = String::new();
    let label = match scenario.status {
        Status::Passed => "PASS ",
        Status::Failed => "FAIL ",
        Status::NotApplicable => "N/A  ",
        Status::Error => "ERROR",
    };
    let _ = write!(out, "{label} {}", scenario.id);
    if scenario.status != Status::NotApplicable {
        let _ = write!(out, "  ({:.0} ms)", scenario.duration_ms);
    }
    out.push('\n');
    if let Some(reason) = &scenario.reason {
        let _ = writeln!(out, "      {reason}");
    }
    if let Some(rounds) = &scenario.rounds {
        let verdict = match rounds.failed {
            0 if rounds.total == rounds.asked => format!("held in all {} rounds", rounds.total),
            0 => format!(
                "held in the {} of {} rounds that ran",
                rounds.total, rounds.asked
            ),
            n => format!(
                "broken in {n} of {} rounds (the first broken round is shown)",
                rounds.total
            ),
        };
        let _ = writeln!(out, "      rounds: {verdict}");
    }
    if let Some(why) = &scenario.round_error {
        let _ = writeln!(out, "      {why}");
    }
    for step in &scenario.steps {
        if let Some(w) = &step.workload {
            let _ = writeln!(
                out,
                "      workload `{}`: {} clients, {} of {} iterations completed, {} retries",
                step.name, w.clients, w.writes, w.iterations, w.retries
            );
        }
        if let Some(race) = &step.race {
            let _ = writeln!(
                out,
                "      race `{}`: {} of {} requests released within {:.0} µs ({})",
                step.name, race.released, race.requests, race.release_spread_us, race.sync
            );
        }
    }
    let listed = [
        ("", &scenario.failures),
        ("warning: ", &scenario.warnings),
        ("waived: ", &scenario.waived),
        (
            "accepted by the profile, not RFC 9110: ",
            &scenario.accepted_by_profile,
        ),
        ("not checked: ", &scenario.not_checked),
    ];
    for (label, findings) in listed {
        for f in findings {
            let _ = writeln!(
                out,
                "      {label}step `{}`{}: {}",
                f.step,
                cite(f),
                f.message
            );
            if let Some(why) = &f.reason {
                let _ = writeln!(out, "        because {why}");
            }
        }
    }
    for step in &scenario.steps {
        if let Some(why) = &step.not_run {
            let _ = writeln!(out, "      not run: step `{}`: {why}", step.name);
        }
    }
    if scenario.status == Status::Failed {
        let failing: Vec<&str> = scenario.failures.iter().map(|f| f.step.as_str()).collect();
        for step in scenario
            .steps
            .iter()
            .filter(|s| failing.contains(&s.name.as_str()))
        {
            // A workload makes hundreds of exchanges: the first ones show the shape, the JSON
            // report has them all.
            for e in step.exchanges.iter().take(EXCHANGES_SHOWN) {
                let index = e.index.map(|i| format!("#{i} ")).unwrap_or_default();
                let outcome = match (&e.response, &e.error) {
                    (Some(r), _) => r.status.to_string(),
                    (None, Some(err)) => format!("no response: {err}"),
                    (None, None) => "no response".to_owned(),
                };
                let _ = writeln!(
                    out,
                    "        {index}{} {} -> {outcome}",
                    e.request.method, e.request.url
                );
            }
            if step.exchanges.len() > EXCHANGES_SHOWN {
                let more = step.exchanges.len() - EXCHANGES_SHOWN;
                let _ = writeln!(
                    out,
                    "        ... and {more} more exchanges (all of them with --format json)"
                );
            }
        }
    }
    out
}

/// Exchanges listed under a failing step.
const EXCHANGES_SHOWN: usize = 25;
