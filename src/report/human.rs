//! The terminal report: one line per scenario, and for each failure the rule, what was
//! expected and what came back, and the exchange that shows it. Styles are ANSI escapes; the
//! stream they are written to drops them where colour is off (a pipe, `NO_COLOR`).

use std::fmt::Write;

use anstyle::{AnsiColor, Style};

use super::{ExchangeReport, FailureReport, Report, ScenarioReport, Status, StepReport};

/// How much to show.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Detail {
    /// Failures and the summary only (`-q`).
    Quiet,
    /// A line per scenario, and each failure with its exchange.
    #[default]
    Normal,
    /// Every exchange of every step, with all its headers (`-v`).
    Verbose,
}

const FAIL: Style = AnsiColor::Red.on_default().bold();
const PASS: Style = AnsiColor::Green.on_default();
const WARN: Style = AnsiColor::Yellow.on_default();
const DIM: Style = Style::new().dimmed();

fn styled(style: Style, text: &str) -> String {
    format!("{style}{text}{style:#}")
}

/// The opening line of a run.
pub fn heading(report_target: &str, scenarios: usize) -> String {
    format!(
        "contend {}: {scenarios} scenarios against {report_target}\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// The whole report, scenario blocks included.
pub fn render(report: &Report) -> String {
    render_with(report, Detail::Normal)
}

pub fn render_with(report: &Report, detail: Detail) -> String {
    let mut out = heading(&report.target, report.scenarios.len());
    out.push('\n');
    for scenario in &report.scenarios {
        out.push_str(&block(scenario, detail));
    }
    out.push_str(&closing(report));
    out
}

/// What follows the scenario blocks: target-wide findings, gateway differences, the summary.
pub fn closing(report: &Report) -> String {
    let mut out = String::new();
    if !report.target_findings.is_empty() {
        let _ = writeln!(out, "\nthe target as a whole (each rule once):");
        for t in &report.target_findings {
            let label = match t.first.weight {
                super::Shown::Failure => String::new(),
                other => format!("{}: ", other.label()),
            };
            // A finding of the probe's own evidence has no scenario to point at.
            let seen = match t.first.step.as_str() {
                "the probe" => "seen by the probe".to_owned(),
                _ => format!(
                    "{} exchanges in {} scenarios, first in {} step `{}`",
                    t.count,
                    t.scenarios.len(),
                    t.scenarios[0],
                    t.first.step
                ),
            };
            let _ = writeln!(
                out,
                "      {label}{}{}: {} ({seen})",
                t.first.rule.as_deref().unwrap_or("?"),
                cite(&t.first),
                t.first.message,
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
    if s.interrupted > 0 {
        let _ = write!(extra, ", {} not run (interrupted)", s.interrupted);
    }
    let failed: Vec<&str> = report
        .scenarios
        .iter()
        .filter(|s| matches!(s.status, Status::Failed | Status::Error))
        .map(|s| s.id.as_str())
        .collect();
    if !failed.is_empty() {
        let _ = writeln!(out, "\n{}", styled(FAIL, "failed:"));
        for id in failed {
            let _ = writeln!(out, "      {id}");
        }
    }
    out.push_str(&coverage(report));
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
    let verdict = report.verdict();
    match verdict.passed {
        true => {
            let _ = writeln!(out, "{}", styled(PASS, "verdict: passed"));
        }
        false => {
            for reason in &verdict.reasons {
                let _ = writeln!(out, "{} {reason}", styled(FAIL, "verdict: not passed:"));
            }
        }
    }
    out
}

/// `judged 52 of 71 rules (38 about preconditions and conflicts)`, and the required number when there is one.
fn judged_line(report: &Report) -> String {
    let c = &report.coverage;
    let of = c.judged.len() + c.not_judged.len();
    let required = match c.required {
        Some(n) => format!(", at least {n} required"),
        None => String::new(),
    };
    format!(
        "judged {} of {of} rules ({} about preconditions and conflicts{required})",
        c.judged.len(),
        c.preconditions_judged()
    )
}

/// What was judged, and the rules that were not, grouped by the reason.
fn coverage(report: &Report) -> String {
    let c = &report.coverage;
    if report.error.is_some() {
        return String::new();
    }
    let mut out = format!("\n{}\n", judged_line(report));
    let mut by_reason: Vec<(&str, Vec<&str>)> = Vec::new();
    for n in &c.not_judged {
        match by_reason.iter_mut().find(|(r, _)| *r == n.reason) {
            Some((_, rules)) => rules.push(&n.rule),
            None => by_reason.push((&n.reason, vec![&n.rule])),
        }
    }
    for (reason, rules) in by_reason {
        let _ = writeln!(out, "      not judged: {}: {reason}", rules.join(", "));
    }
    out
}

/// ` [if-match.mismatch, MUST, RFC 9110 13.1.1]`, or as much of it as is known.
fn cite(f: &super::FailureReport) -> String {
    match (&f.rule, &f.level, &f.section) {
        (Some(id), Some(level), Some(section)) => format!(" [{id}, {level}, {section}]"),
        (Some(id), _, _) => format!(" [{id}]"),
        _ => String::new(),
    }
}

/// One scenario, as the harness shows it: its status line, its failures with their exchanges.
pub fn scenario_block(scenario: &ScenarioReport) -> String {
    block(scenario, Detail::Normal)
}

/// One scenario: its status line, then its failures, each with the exchange that shows it.
pub fn block(scenario: &ScenarioReport, detail: Detail) -> String {
    let mut out = String::new();
    let (label, style) = match scenario.status {
        Status::Passed => ("PASS ", PASS),
        Status::Failed => ("FAIL ", FAIL),
        Status::NotApplicable => ("N/A  ", DIM),
        Status::Error => ("ERROR", FAIL),
        Status::NotRun => ("-    ", DIM),
    };
    let quiet_pass =
        detail == Detail::Quiet && !matches!(scenario.status, Status::Failed | Status::Error);
    if quiet_pass {
        return out;
    }
    let _ = write!(out, "{} {}", styled(style, label), scenario.id);
    if !matches!(scenario.status, Status::NotApplicable | Status::NotRun) {
        let _ = write!(
            out,
            "  {}",
            styled(DIM, &format!("({:.0} ms)", scenario.duration_ms))
        );
    }
    out.push('\n');
    if let Some(reason) = &scenario.reason {
        let _ = writeln!(out, "      {reason}");
    }
    if let Some(rounds) = &scenario.rounds {
        let _ = writeln!(out, "      rounds: {}", super::rounds_said(rounds));
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
            if let Some(why) = &w.stopped {
                let _ = writeln!(out, "        {why}");
            }
        }
        if let Some(race) = &step.race {
            let _ = writeln!(
                out,
                "      race `{}`: {} of {} requests released within {:.0} µs ({}){}{}",
                step.name,
                race.released,
                race.requests - race.delayed,
                race.release_spread_us,
                match race.stagger_us {
                    0 => race.sync.clone(),
                    us => format!("{}, {us} µs apart on purpose", race.sync),
                },
                match race.delayed {
                    0 => String::new(),
                    n => format!(", {n} released later by `after:`"),
                },
                match race.warm {
                    0 => String::new(),
                    n => format!(", {n} on connections kept from the round before"),
                }
            );
        }
    }
    let listed = [
        ("", FAIL, &scenario.failures),
        ("warning: ", WARN, &scenario.warnings),
        ("waived: ", DIM, &scenario.waived),
        (
            "accepted by the profile, not RFC 9110: ",
            DIM,
            &scenario.accepted_by_profile,
        ),
        ("not checked: ", DIM, &scenario.not_checked),
    ];
    for (label, style, findings) in listed {
        for f in findings {
            let _ = writeln!(
                out,
                "      {}step `{}`{}: {}",
                styled(style, label),
                f.step,
                cite(f),
                f.message
            );
            if let Some(why) = &f.reason {
                let _ = writeln!(out, "        because {why}");
            }
            // The exchange behind a failure or a warning, and where the rule is written.
            if label.is_empty() || label == "warning: " {
                if let Some(link) = &f.link {
                    let _ = writeln!(out, "        {}", styled(DIM, link));
                }
                if detail != Detail::Verbose {
                    shown_exchanges(&mut out, scenario, f);
                }
            }
        }
    }
    for step in &scenario.steps {
        if let Some(why) = &step.not_run {
            let _ = writeln!(out, "      not run: step `{}`: {why}", step.name);
        }
        if let Some(what) = &step.recorded {
            let _ = writeln!(out, "      step `{}`: {what}", step.name);
        }
    }
    if detail == Detail::Verbose {
        for step in &scenario.steps {
            if step.exchanges.is_empty() {
                continue;
            }
            let _ = writeln!(out, "      step `{}`:", step.name);
            for e in &step.exchanges {
                exchange_block(&mut out, e, true);
            }
            if step.sent > step.exchanges.len() {
                let _ = writeln!(
                    out,
                    "      ({} of its {} exchanges kept: --report-exchanges all keeps every one)",
                    step.exchanges.len(),
                    step.sent
                );
            }
        }
    }
    out
}

/// The exchanges a finding names (at most two: a race's two winners on one tag), or the
/// first of its step's when it names none.
fn shown_exchanges(out: &mut String, scenario: &ScenarioReport, f: &FailureReport) {
    let step_of = |name: &str| scenario.steps.iter().find(|s| s.name == name);
    let named: Vec<&ExchangeReport> = f
        .exchanges
        .iter()
        .filter_map(|at| scenario.steps.get(at.step)?.exchange(at.exchange))
        .take(2)
        .collect();
    let shown = match named.is_empty() {
        false => named,
        true => step_of(&f.step)
            .and_then(|s: &StepReport| s.exchanges.first())
            .into_iter()
            .collect(),
    };
    for e in shown {
        exchange_block(out, e, false);
    }
}

/// Request and response headers worth showing with a failure; `-v` shows all.
const REQUEST_HEADERS: [&str; 8] = [
    "if-match",
    "if-none-match",
    "if-modified-since",
    "if-unmodified-since",
    "if-range",
    "range",
    "content-type",
    "lock-token",
];
const RESPONSE_HEADERS: [&str; 8] = [
    "etag",
    "last-modified",
    "content-type",
    "content-range",
    "content-encoding",
    "location",
    "vary",
    "date",
];

/// Content previews are cut here (after masking: the report masked it when it was built).
const PREVIEW: usize = 200;

fn exchange_block(out: &mut String, e: &ExchangeReport, all_headers: bool) {
    let index = e.index.map(|i| format!("#{i} ")).unwrap_or_default();
    let _ = writeln!(
        out,
        "        {index}> {} {}",
        e.request.method, e.request.url
    );
    for (name, values) in &e.request.headers {
        if all_headers || REQUEST_HEADERS.contains(&name.as_str()) {
            for value in values.iter() {
                let _ = writeln!(out, "        {index}> {name}: {value}");
            }
        }
    }
    if let Some(body) = &e.request.body {
        let _ = writeln!(out, "        {index}> {}", preview(body));
    }
    match (&e.response, &e.error) {
        (Some(r), _) => {
            let _ = writeln!(out, "        {index}< {} {}", r.status, reason(r.status));
            for (name, values) in &r.headers {
                if all_headers || RESPONSE_HEADERS.contains(&name.as_str()) {
                    for value in values.iter() {
                        let _ = writeln!(out, "        {index}< {name}: {value}");
                    }
                }
            }
            if let Some(body) = &r.body {
                let _ = writeln!(out, "        {index}< {}", preview(body));
            }
        }
        (None, Some(err)) => {
            let _ = writeln!(out, "        {index}< no response: {err}");
        }
        (None, None) => {
            let _ = writeln!(out, "        {index}< no response");
        }
    }
}

fn preview(body: &str) -> String {
    let one_line = body.replace('\r', "\\r").replace('\n', "\\n");
    match one_line.char_indices().nth(PREVIEW) {
        Some((cut, _)) => format!("{}… ({} bytes)", &one_line[..cut], body.len()),
        None => one_line,
    }
}

fn reason(status: u16) -> &'static str {
    hyper::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("")
}
