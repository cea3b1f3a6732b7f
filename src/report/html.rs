//! One self-contained HTML page (no script, no fetch), summary first: each run's verdict,
//! counts, what it judged and did not and what its races rest on; for two runs, what changed;
//! the failures and then the warnings, grouped by rule, each with its exchange; then the
//! requirement matrix, rules grouped by RFC section (a section folded unless a cell in it
//! fails), one column per report, each cell pass / fail / warning / not applicable / not run,
//! expanding (`<details>`) to the scenarios that judged the rule and the failing exchange,
//! filtered by status with radio buttons and CSS alone. cache-tests.fyi is the model.

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
/// The scenarios behind a cell, each with the findings it made under the rule.
pub type Behind<'r> = Vec<(&'r ScenarioReport, Vec<&'r FailureReport>)>;

pub fn cell<'r>(report: &'r Report, rule: &str) -> (Cell, Behind<'r>) {
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
    summary(&mut out, columns);
    if let [(before, old), (after, new)] = columns {
        changes(&mut out, (before, old), (after, new), &by_section);
    }
    findings(&mut out, columns, "Failures", |s| &s.failures);
    findings(&mut out, columns, "Warnings", |s| &s.warnings);
    matrix(&mut out, columns, &by_section);
    out.push_str("</body>\n</html>\n");
    out
}

/// What a person reads first: each run's verdict as decided once (`Report::verdict`), its
/// counts, what it judged and each rule it did not with the reason, and what its races rest on.
fn summary(out: &mut String, columns: &[(&str, &Report)]) {
    out.push_str("<section id=summary><h2>Summary</h2>\n");
    if columns.len() > 2 {
        return summary_table(out, columns);
    }
    for (label, report) in columns {
        let (class, said) = verdict_said(report);
        let s = &report.summary;
        let c = &report.coverage;
        let _ = writeln!(
            out,
            "<div class='run {class}'><h3>{}: {}</h3><p>{} scenarios: {} passed, {} failed, {} not \
             applicable, {} errors, {} warnings, {} not checked, {} steps not run</p><p>judged {} \
             rules ({} about preconditions and conflicts), {} not judged</p>",
            escape(label),
            escape(&said),
            report.scenarios.len(),
            s.passed,
            s.failed,
            s.not_applicable,
            s.errors,
            s.warnings,
            s.not_checked,
            s.not_run,
            c.judged.len(),
            c.preconditions_judged(),
            c.not_judged.len()
        );
        if !c.not_judged.is_empty() {
            out.push_str("<details><summary>rules not judged, and why</summary><ul>");
            for n in &c.not_judged {
                let _ = write!(
                    out,
                    "<li><code>{}</code>: {}</li>",
                    escape(&n.rule),
                    escape(&n.reason)
                );
            }
            out.push_str("</ul></details>");
        }
        let races: Vec<&ScenarioReport> = (report.scenarios.iter())
            .filter(|s| s.rounds.as_ref().is_some_and(|r| r.races))
            .collect();
        if !races.is_empty() {
            out.push_str("<details><summary>what the races rest on</summary><ul>");
            for s in races {
                let said = s
                    .rounds
                    .as_ref()
                    .map(super::rounds_said)
                    .unwrap_or_default();
                let _ = write!(out, "<li>{}: {}</li>", escape(&s.id), escape(&said));
            }
            out.push_str("</ul></details>");
        }
        out.push_str("</div>\n");
    }
    out.push_str("</section>\n");
}

/// A run's verdict in words, and the class that colours it.
fn verdict_said(report: &Report) -> (&'static str, String) {
    let verdict = report.verdict();
    match verdict.passed {
        true => ("pass", "passed".to_owned()),
        false => (
            "fail",
            format!("not passed: {}", verdict.reasons.join("; ")),
        ),
    }
}

/// Many runs (a matrix across servers): a row each, so the matrix stays in reach.
fn summary_table(out: &mut String, columns: &[(&str, &Report)]) {
    out.push_str(
        "<table class=summary><thead><tr><th>run</th><th>verdict</th><th>passed</th>\
         <th>failed</th><th>not applicable</th><th>warnings</th><th>not checked</th>\
         <th>rules judged</th><th>not judged</th></tr></thead><tbody>\n",
    );
    for (label, report) in columns {
        let (class, said) = verdict_said(report);
        let (s, c) = (&report.summary, &report.coverage);
        let _ = writeln!(
            out,
            "<tr><th title='{}'>{}</th><td class={class}>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{} ({} about preconditions)</td><td>{}</td></tr>",
            escape(&report.target),
            escape(label),
            escape(&said),
            s.passed,
            s.failed,
            s.not_applicable,
            s.warnings,
            s.not_checked,
            c.judged.len(),
            c.preconditions_judged(),
            c.not_judged.len()
        );
    }
    out.push_str("</tbody></table></section>\n");
}

/// Two runs side by side: the rules whose verdict changed from the first to the second.
fn changes(
    out: &mut String,
    (before, old): (&str, &Report),
    (after, new): (&str, &Report),
    by_section: &BTreeMap<String, Vec<&str>>,
) {
    let mut lines: Vec<(&str, &str)> = Vec::new();
    for rule in by_section.values().flatten() {
        let (was, is) = (cell(old, rule).0, cell(new, rule).0);
        let change = match (was, is) {
            (a, b) if a == b => continue,
            (_, Cell::Fail) => "newly failing",
            (Cell::Fail | Cell::Warning, Cell::Pass) => "newly passing",
            (Cell::Pass | Cell::Fail | Cell::Warning, _) => "no longer judged",
            (_, Cell::Pass | Cell::Warning) => "newly judged",
            _ => "changed",
        };
        lines.push((change, rule));
    }
    let _ = writeln!(
        out,
        "<section id=changes><h2>What changed from {} to {}</h2>",
        escape(before),
        escape(after)
    );
    if lines.is_empty() {
        out.push_str("<p>no rule's verdict changed</p>");
    }
    lines.sort();
    out.push_str("<ul>");
    for (change, rule) in lines {
        let _ = write!(out, "<li>{change}: <code>{}</code></li>", escape(rule));
    }
    out.push_str("</ul></section>\n");
}

/// Every failure (or warning), grouped by the rule it is under, each with the exchange that
/// shows it: open, no click needed.
fn findings(
    out: &mut String,
    columns: &[(&str, &Report)],
    title: &str,
    of: impl Fn(&ScenarioReport) -> &Vec<FailureReport>,
) {
    let mut by_rule: BTreeMap<&str, Vec<(&str, &ScenarioReport, &FailureReport)>> = BTreeMap::new();
    for (label, report) in columns {
        for s in &report.scenarios {
            for f in of(s) {
                let rule = f.rule.as_deref().unwrap_or("a scenario's own expectation");
                by_rule.entry(rule).or_default().push((label, s, f));
            }
        }
    }
    if by_rule.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<section class=findings id={}><h2>{title}</h2>",
        title.to_ascii_lowercase()
    );
    for (rule, found) in by_rule {
        let about = catalog::find(rule).map_or(String::new(), |r| {
            format!(
                " <small>{} ({})</small>",
                escape(r.summary),
                escape(r.section)
            )
        });
        let _ = writeln!(out, "<h3><code>{}</code>{about}</h3>", escape(rule));
        for (label, scenario, f) in found {
            let _ = write!(
                out,
                "<div class=finding><b>{}</b> {}: step <code>{}</code>: {}",
                escape(label),
                escape(&scenario.id),
                escape(&f.step),
                escape(&f.message)
            );
            if let Some(e) = (f.exchanges.first())
                .and_then(|at| scenario.steps.get(at.step)?.exchange(at.exchange))
            {
                out.push_str(&exchange(e));
            }
            out.push_str("</div>\n");
        }
    }
    out.push_str("</section>\n");
}

/// Words for a scenario's status.
fn status_said(status: Status) -> &'static str {
    match status {
        Status::Passed => "passed",
        Status::Failed => "failed",
        Status::NotApplicable => "not applicable",
        Status::Error => "error",
        Status::NotRun => "not run",
    }
}

/// The full matrix: rules by RFC section, a column per report, each section folded (open when
/// a cell in it fails). Filters by status work without script: a radio button shows only the
/// rows that have a cell of its status.
fn matrix(out: &mut String, columns: &[(&str, &Report)], by_section: &BTreeMap<String, Vec<&str>>) {
    let reports: Vec<&Report> = columns.iter().map(|(_, r)| *r).collect();
    out.push_str("<section id=matrix><h2>Every rule, by section</h2>\n");
    out.push_str("<input type=radio name=show id=show-all checked><label for=show-all>all</label>");
    for c in [
        Cell::Fail,
        Cell::Warning,
        Cell::Pass,
        Cell::NotApplicable,
        Cell::NotRun,
    ] {
        let _ = write!(
            out,
            " <input type=radio name=show id=show-{0}><label for=show-{0} class='{0}'>{1}</label>",
            c.class(),
            c.label()
        );
    }
    out.push_str("\n<div class=sections>\n");
    for (section, rules) in by_section {
        let cells: Vec<Vec<(Cell, Behind)>> = (rules.iter())
            .map(|rule| reports.iter().map(|r| cell(r, rule)).collect())
            .collect();
        let failing = cells
            .iter()
            .flatten()
            .filter(|(c, _)| *c == Cell::Fail)
            .count();
        let _ = write!(
            out,
            "<details class=section{}><summary>{} <small>({} rules{})</small></summary>\n<table>\n\
             <thead><tr><th>rule</th>",
            if failing > 0 { " open" } else { "" },
            escape(section),
            rules.len(),
            match failing {
                0 => String::new(),
                n => format!(", {n} failing"),
            }
        );
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
        for (rule, row) in rules.iter().zip(cells) {
            let summary = catalog::find(rule).map_or("", |r| r.summary);
            let mut classes: Vec<&str> = row.iter().map(|(c, _)| c.class()).collect();
            classes.sort_unstable();
            classes.dedup();
            let has: Vec<String> = classes.iter().map(|c| format!("has-{c}")).collect();
            let _ = write!(
                out,
                "<tr class='{}'><td class=rule><code>{}</code><br><small>{}</small></td>",
                has.join(" "),
                escape(rule),
                escape(summary)
            );
            for ((cell, behind), report) in row.into_iter().zip(&reports) {
                let _ = write!(
                    out,
                    "<td class='{}' data-rule='{}'>",
                    cell.class(),
                    escape(rule)
                );
                let _ = write!(out, "<details><summary>{}</summary>", cell.label());
                // A rule any response shows on its own is reported once for the target.
                let target_wide = (report.target_findings.iter())
                    .filter(|t| t.first.rule.as_deref() == Some(*rule));
                for t in target_wide {
                    let _ = write!(
                        out,
                        "<p class=finding>on the whole target ({} times, in {}): {}</p>",
                        t.count,
                        escape(&t.scenarios.join(", ")),
                        escape(&t.first.message)
                    );
                }
                for (scenario, findings) in behind {
                    let _ = write!(
                        out,
                        "<div class=scenario><b>{}</b> <small>{}</small>",
                        escape(&scenario.id),
                        status_said(scenario.status)
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
        out.push_str("</tbody>\n</table>\n</details>\n");
    }
    out.push_str("</div>\n</section>\n");
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
.run { border-left: 6px solid #ccc; padding: 2px 10px; margin: 8px 0; }
.run.pass { border-color: #3a3; background: #f3fbf3; } .run.fail { border-color: #c33; background: #fdf3f3; }
.findings .finding { margin: 6px 0 12px 1em; }
details.section { margin: 6px 0; } details.section > summary { font-weight: bold; }
/* Filters without script: a checked radio shows only the rows with a cell of its status. */
#show-fail:checked ~ .sections tr[class]:not(.has-fail),
#show-warn:checked ~ .sections tr[class]:not(.has-warn),
#show-pass:checked ~ .sections tr[class]:not(.has-pass),
#show-na:checked ~ .sections tr[class]:not(.has-na),
#show-notrun:checked ~ .sections tr[class]:not(.has-notrun) { display: none; }
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
