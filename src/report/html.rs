//! One self-contained HTML page (no script, no fetch): the requirement matrix, rules grouped by
//! RFC section as rows, one column per report (a server), each cell pass / fail / warning /
//! not applicable / not run, expanding (`<details>`) to the scenarios and the failing exchange.
//! cache-tests.fyi is the model.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::{ExchangeReport, FailureReport, Report, ScenarioReport, Status};
use crate::judge::catalog;

/// What one report says of one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Cell {
    // In order of precedence: one scenario's failure outweighs another's pass, and a step
    // that should have run and did not says more than a scenario that did not apply.
    Fail,
    Warning,
    Pass,
    NotRun,
    NotApplicable,
}

impl Cell {
    fn class(self) -> &'static str {
        match self {
            Cell::Fail => "fail",
            Cell::Warning => "warn",
            Cell::Pass => "pass",
            Cell::NotApplicable => "na",
            Cell::NotRun => "notrun",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Cell::Fail => "fail",
            Cell::Warning => "warning",
            Cell::Pass => "pass",
            Cell::NotApplicable => "not applicable",
            Cell::NotRun => "not run",
        }
    }
}

/// The cell of `rule` in `report`, and the scenarios and findings behind it. A rule is
/// passed only where a scenario that names it in `requirements` ran without a finding under
/// it: nothing tested is never green.
pub fn cell<'r>(
    report: &'r Report,
    rule: &str,
) -> (Cell, Vec<(&'r ScenarioReport, Vec<&'r FailureReport>)>) {
    let mut cell: Option<Cell> = None;
    let mut behind = Vec::new();
    for s in &report.scenarios {
        let names = s.requirements.iter().any(|r| r == rule);
        let failures: Vec<&FailureReport> = s
            .failures
            .iter()
            .filter(|f| f.rule.as_deref() == Some(rule))
            .collect();
        let warnings: Vec<&FailureReport> = s
            .warnings
            .iter()
            .filter(|f| f.rule.as_deref() == Some(rule))
            .collect();
        let this = if !failures.is_empty() {
            Cell::Fail
        } else if !warnings.is_empty() {
            Cell::Warning
        } else if !names {
            continue;
        } else {
            // A rule the scenario's steps check passes only where one of those steps ran.
            let checking: Vec<_> = s
                .steps
                .iter()
                .filter(|st| st.rule.as_deref() == Some(rule))
                .collect();
            let ran = checking
                .iter()
                .any(|st| st.not_run.is_none() && !st.exchanges.is_empty());
            match s.status {
                Status::Passed | Status::Failed if checking.is_empty() || ran => Cell::Pass,
                Status::Passed | Status::Failed => Cell::NotRun,
                Status::NotApplicable => Cell::NotApplicable,
                Status::Error | Status::NotRun => Cell::NotRun,
            }
        };
        cell = Some(cell.map_or(this, |c| c.min(this)));
        let shown = if failures.is_empty() {
            warnings
        } else {
            failures
        };
        behind.push((s, shown));
    }
    if report
        .target_findings
        .iter()
        .any(|t| t.first.rule.as_deref() == Some(rule) && t.first.weight == super::Shown::Failure)
    {
        cell = Some(Cell::Fail);
    }
    (cell.unwrap_or(Cell::NotRun), behind)
}

/// The page for one or more reports, each a column under its label (`contend report
/// --compare` gives several, labelled by file name).
pub fn render(columns: &[(&str, &Report)]) -> String {
    let reports: Vec<&Report> = columns.iter().map(|(_, r)| *r).collect();
    let mut rules: Vec<&str> = Vec::new();
    for report in &reports {
        for s in &report.scenarios {
            for r in s
                .requirements
                .iter()
                .chain(s.failures.iter().filter_map(|f| f.rule.as_ref()))
            {
                if !rules.contains(&r.as_str()) {
                    rules.push(r.as_str());
                }
            }
        }
    }
    let mut by_section: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for rule in rules {
        let section = catalog::find(rule).map_or("the team's own rules", |r| r.section);
        by_section.entry(section.to_owned()).or_default().push(rule);
    }

    let mut out = String::new();
    out.push_str(HEAD);
    let _ = writeln!(
        out,
        "<h1>contend: conditional requests, {} target(s)</h1>",
        reports.len()
    );
    // Each run's verdict, as decided once (`Report::verdict`), with what it judged.
    for (label, report) in columns {
        let verdict = report.verdict();
        let c = &report.coverage;
        let said = match verdict.passed {
            true => "passed".to_owned(),
            false => format!("not passed: {}", verdict.reasons.join("; ")),
        };
        let _ = writeln!(
            out,
            "<p class=verdict>{}: {}; judged {} rules ({} about preconditions and conflicts), {} not judged</p>",
            escape(label),
            escape(&said),
            c.judged.len(),
            c.preconditions_judged(),
            c.not_judged.len()
        );
    }
    out.push_str("<p class=legend>");
    for c in [
        Cell::Pass,
        Cell::Fail,
        Cell::Warning,
        Cell::NotApplicable,
        Cell::NotRun,
    ] {
        let _ = write!(out, "<span class='{}'>{}</span> ", c.class(), c.label());
    }
    out.push_str("</p>\n<table>\n<thead><tr><th>section</th><th>rule</th>");
    for (label, report) in columns {
        let s = &report.summary;
        let _ = write!(
            out,
            "<th title='{}'>{}<br><small>{} passed, {} failed, {} n/a</small></th>",
            escape(&report.target),
            escape(label),
            s.passed,
            s.failed,
            s.not_applicable
        );
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for (section, rules) in &by_section {
        for (i, rule) in rules.iter().enumerate() {
            let summary = catalog::find(rule).map_or("", |r| r.summary);
            out.push_str("<tr>");
            if i == 0 {
                let _ = write!(out, "<th rowspan={}>{}</th>", rules.len(), escape(section));
            }
            let _ = write!(
                out,
                "<td class=rule><code>{}</code><br><small>{}</small></td>",
                escape(rule),
                escape(summary)
            );
            for report in &reports {
                let (cell, behind) = cell(report, rule);
                let _ = write!(
                    out,
                    "<td class='{}' data-rule='{}'>",
                    cell.class(),
                    escape(rule)
                );
                let _ = write!(out, "<details><summary>{}</summary>", cell.label());
                for (scenario, findings) in behind {
                    let _ = write!(
                        out,
                        "<div class=scenario><b>{}</b> <small>{:?}</small>",
                        escape(&scenario.id),
                        scenario.status
                    );
                    if let Some(reason) = &scenario.reason {
                        let _ = write!(out, "<br><small>{}</small>", escape(reason));
                    }
                    if let Some(rounds) = &scenario.rounds {
                        let said = super::rounds_said(rounds);
                        let _ = write!(out, "<br><small>rounds: {}</small>", escape(&said));
                    }
                    for f in findings {
                        let _ = write!(
                            out,
                            "<p class=finding>step <code>{}</code>: {}</p>",
                            escape(&f.step),
                            escape(&f.message)
                        );
                        for at in f.exchanges.iter().take(2) {
                            if let Some(e) = scenario
                                .steps
                                .get(at.step)
                                .and_then(|s| s.exchange(at.exchange))
                            {
                                out.push_str(&exchange(e));
                            }
                        }
                    }
                    out.push_str("</div>");
                }
                out.push_str("</details></td>");
            }
            out.push_str("</tr>\n");
        }
    }
    out.push_str("</tbody>\n</table>\n</body>\n</html>\n");
    out
}

fn exchange(e: &ExchangeReport) -> String {
    let mut text = format!("> {} {}\n", e.request.method, e.request.url);
    for (name, values) in &e.request.headers {
        for value in values.iter() {
            let _ = writeln!(text, "> {name}: {value}");
        }
    }
    if let Some(body) = &e.request.body {
        let _ = writeln!(text, ">\n> {body}");
    }
    match (&e.response, &e.error) {
        (Some(r), _) => {
            let _ = writeln!(text, "< {}", r.status);
            for (name, values) in &r.headers {
                for value in values.iter() {
                    let _ = writeln!(text, "< {name}: {value}");
                }
            }
            if let Some(body) = &r.body {
                let _ = writeln!(text, "<\n< {body}");
            }
        }
        (None, Some(err)) => {
            let _ = writeln!(text, "< no response: {err}");
        }
        (None, None) => text.push_str("< no response\n"),
    }
    format!("<pre class=exchange>{}</pre>", escape(&text))
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const HEAD: &str = r#"<!doctype html>
<html lang=en>
<head>
<meta charset=utf-8>
<title>contend: conditional requests matrix</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; }
table { border-collapse: collapse; }
th, td { border: 1px solid #ccc; padding: 4px 6px; vertical-align: top; text-align: left; }
td.rule { max-width: 28em; }
.pass { background: #d9f2d9; } .fail { background: #f7c6c6; } .warn { background: #fbe9b7; }
.na { background: #eee; color: #666; } .notrun { background: #fff; color: #999; }
.legend span { padding: 2px 8px; margin-right: 4px; border: 1px solid #ccc; }
details summary { cursor: pointer; }
pre.exchange { background: #fafafa; border: 1px solid #ddd; padding: 4px; max-width: 60em; overflow-x: auto; white-space: pre-wrap; }
.scenario { margin: 4px 0; }
</style>
</head>
<body>
"#;

/// The same matrix as text, a column per report: for a terminal or a CI log.
pub fn text(columns: &[(&str, &Report)]) -> String {
    let reports: Vec<&Report> = columns.iter().map(|(_, r)| *r).collect();
    let mut rules: Vec<&str> = Vec::new();
    for report in &reports {
        for s in &report.scenarios {
            for r in &s.requirements {
                if !rules.contains(&r.as_str()) {
                    rules.push(r.as_str());
                }
            }
        }
    }
    rules.sort_by_key(|r| (catalog::find(r).map_or("~", |c| c.section), *r));
    let width = rules.iter().map(|r| r.len()).max().unwrap_or(4).max(4);
    let mut out = format!("{:width$}", "rule");
    for (label, _) in columns {
        let _ = write!(out, "  {label:>14}");
    }
    out.push('\n');
    for rule in rules {
        let _ = write!(out, "{rule:width$}");
        for report in &reports {
            let _ = write!(out, "  {:>14}", cell(report, rule).0.label());
        }
        out.push('\n');
    }
    out
}
