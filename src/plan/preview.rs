//! `--dry-run`: what each planned scenario would send, templates resolved as far as they can
//! be before sending (captures and `{{index}}` shown as `<name>`), nothing sent.

use std::fmt::Write;

use crate::scenario::{Body, Member, Request, Step, Template, Vars, Visit, Workload};

use super::{Applicability, Planned};

/// The requests of `planned`, one line each with its conditional headers and content.
pub fn preview(planned: &Planned, base: &str) -> String {
    let mut out = format!("{}\n", planned.id);
    if let Applicability::NotApplicable(why) = &planned.applicability {
        let _ = writeln!(out, "  not applicable: {why}");
        return out;
    }
    let scenario = &planned.scenario;
    for step in &scenario.steps {
        step_lines(&mut out, step, &planned.vars, base, "");
    }
    for step in &scenario.cleanup {
        step_lines(&mut out, step, &planned.vars, base, "cleanup: ");
    }
    out
}

/// One line per request the step sends, through the walk every pass shares, so whatever a
/// request gains is previewed too.
fn step_lines(out: &mut String, step: &Step, vars: &Vars, base: &str, label: &str) {
    struct Lines<'o, 'v> {
        out: &'o mut String,
        vars: &'v Vars,
        base: &'v str,
        label: &'v str,
    }
    impl<'a> Visit<'a> for Lines<'_, '_> {
        fn request(&mut self, step: &'a Step, member: Member, request: &'a Request) {
            let name = match member {
                Member::Alone => step.name.clone(),
                Member::Repeated(count) => format!("{} ({count} at once)", step.name),
                Member::Listed(i) => format!("{} (#{i}, at once)", step.name),
            };
            request_line(self.out, &name, self.label, request, self.vars, self.base);
        }
        fn workload(&mut self, step: &'a Step, workload: &'a Workload) {
            let _ = writeln!(
                self.out,
                "  {}{}: {} clients × {} iterations of:",
                self.label, step.name, workload.clients, workload.repeat
            );
            // What follows is the workload's steps.
            self.label = "    ";
        }
    }
    step.walk(&mut Lines {
        out,
        vars,
        base,
        label,
    });
}

fn request_line(
    out: &mut String,
    step: &str,
    label: &str,
    request: &Request,
    vars: &Vars,
    base: &str,
) {
    let path = lenient(&request.path, vars);
    let url = match path.starts_with("http://") || path.starts_with("https://") {
        true => path,
        false => format!("{}{path}", base.trim_end_matches('/')),
    };
    let _ = writeln!(out, "  {label}{step}: {} {url}", request.method.0);
    for (name, value) in &request.headers.0 {
        let _ = writeln!(out, "      {}: {}", name.0, lenient(value, vars));
    }
    if let Some(version) = &request.version {
        let _ = writeln!(out, "      (version) {}", lenient(version, vars));
    }
    match request.body.as_deref() {
        Some(Body::Text(text)) => {
            let _ = writeln!(out, "      {}", lenient(text, vars).replace('\n', "\\n"));
        }
        Some(Body::Json(json)) => {
            let _ = writeln!(out, "      {json}");
        }
        Some(Body::File(file)) => {
            let _ = writeln!(out, "      <the bytes of {}>", file.display());
        }
        None => {}
    }
    // The profile's version, put into the JSON content when it is sent.
    for (name, value) in &request.json_members {
        let _ = writeln!(
            out,
            "      (in the content) \"{name}\": {}",
            lenient(value, vars)
        );
    }
}

/// `template` rendered with what is known now; what a step will capture shows as `<name>`.
fn lenient(template: &Template, vars: &Vars) -> String {
    let mut known = vars.clone();
    for name in template.variables() {
        if !known.contains(name) {
            known.set(name, format!("<{name}>"));
        }
    }
    template
        .render(&known)
        .unwrap_or_else(|_| template.as_str().to_owned())
}
