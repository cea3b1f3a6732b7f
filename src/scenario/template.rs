//! `{{name}}` templates in scenario strings.
//!
//! Substitution happens after YAML parsing, on plain strings, so YAML quoting can never break a
//! file and a variable's value is never re-parsed as YAML. The grammar is one construct (a name
//! in double braces), small enough that a template engine would add more surface than it saves.

use std::fmt;

/// A parsed template. Parsing happens at load time so a malformed `{{` is a located YAML error.
#[derive(Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    parts: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Literal(String),
    /// A variable, plus an integer to add (`{{value+1}}`, for read-modify-write loops).
    Var(String, i64),
}

/// A variable referenced by a template and not defined when it was rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("variable `{name}` is not defined{hint}")]
pub struct Undefined {
    pub name: String,
    hint: String,
}

impl Template {
    pub fn parse(source: &str) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut rest = source;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(Part::Literal(rest[..open].to_owned()));
            }
            let after = &rest[open + 2..];
            let close = after
                .find("}}")
                .ok_or_else(|| format!("`{{{{` without a closing `}}}}` in {source:?}"))?;
            let inner = after[..close].trim();
            let (name, offset) = split_offset(inner)?;
            if !is_name(name) {
                return Err(format!(
                    "`{{{{{inner}}}}}` is not a variable name: use letters, digits, `_`, `-` and `.` \
                     (for example `{{{{etag}}}}` or `{{{{env.TOKEN}}}}`), optionally `+ 1` or `- 1`"
                ));
            }
            parts.push(Part::Var(name.to_owned(), offset));
            rest = &after[close + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_owned()));
        }
        Ok(Template {
            source: source.to_owned(),
            parts,
        })
    }

    /// A template with no variables.
    pub fn literal(text: &str) -> Template {
        let parts = if text.is_empty() {
            vec![]
        } else {
            vec![Part::Literal(text.to_owned())]
        };
        Template {
            source: text.to_owned(),
            parts,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The names this template refers to, in order.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Var(name, _) => Some(name.as_str()),
            Part::Literal(_) => None,
        })
    }

    pub fn render(&self, vars: &Vars) -> Result<String, Undefined> {
        let mut out = String::with_capacity(self.source.len());
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Var(name, 0) => out.push_str(vars.get(name)?),
                Part::Var(name, offset) => {
                    let value = vars.get(name)?;
                    let sum = value
                        .trim()
                        .parse::<i64>()
                        .ok()
                        .and_then(|n| n.checked_add(*offset))
                        .ok_or_else(|| Undefined {
                            name: name.clone(),
                            hint: format!(
                                " as a number (it is {value:?}, so {offset:+} cannot apply)"
                            ),
                        })?;
                    out.push_str(&sum.to_string());
                }
            }
        }
        Ok(out)
    }
}

impl fmt::Debug for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.source)
    }
}

/// `value+1` or `value + 1` → (`value`, 1); `value - 1` → (`value`, -1); `value` → (`value`,
/// 0). A minus needs a space before it: `run-2` is a name (names may hold dashes).
fn split_offset(inner: &str) -> Result<(&str, i64), String> {
    let at = inner
        .rfind('+')
        .or_else(|| inner.rfind(" -").map(|at| at + 1));
    let Some(at) = at else { return Ok((inner, 0)) };
    let digits = inner[at + 1..].trim();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Ok((inner, 0));
    }
    let number: i64 = digits
        .parse()
        .map_err(|_| format!("`{inner}`: the number is too large"))?;
    let offset = if inner.as_bytes()[at] == b'-' {
        -number
    } else {
        number
    };
    Ok((inner[..at].trim(), offset))
}

fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// A JSON string that is one expression marked `| json` (`"{{count | json}}"`): the template
/// without the mark. Its value goes into the document as JSON (a number, `true`), not as a
/// string, so a captured count can be sent as the number an API expects.
fn json_slot(s: &str) -> Option<String> {
    let inner = s.trim().strip_prefix("{{")?.strip_suffix("}}")?;
    let expression = inner.trim_end().strip_suffix("json")?.trim_end();
    let expression = expression.strip_suffix('|')?;
    (!inner.contains("{{") && !inner.contains("}}")).then(|| format!("{{{{{expression}}}}}"))
}

/// Renders every string inside a JSON value as a template; keys and other types are kept. A
/// string that is one `{{name | json}}` becomes the JSON its value holds.
pub fn render_json(
    value: &serde_json::Value,
    vars: &Vars,
) -> Result<serde_json::Value, TemplateError> {
    use serde_json::Value;
    Ok(match value {
        Value::String(s) => match json_slot(s) {
            Some(slot) => {
                let text = (Template::parse(&slot).map_err(TemplateError::Syntax)?).render(vars)?;
                serde_json::from_str(text.trim())
                    .map_err(|_| TemplateError::NotJson(s.clone(), text))?
            }
            None => Value::String(
                Template::parse(s)
                    .map_err(TemplateError::Syntax)?
                    .render(vars)?,
            ),
        },
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| render_json(v, vars))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), render_json(v, vars)?)))
                .collect::<Result<_, TemplateError>>()?,
        ),
        other => other.clone(),
    })
}

/// Every template found in the strings of a JSON value (for static checks before running).
pub fn json_templates(value: &serde_json::Value) -> Result<Vec<Template>, String> {
    let mut out = Vec::new();
    let mut stack = vec![value];
    while let Some(value) = stack.pop() {
        match value {
            serde_json::Value::String(s) => {
                out.push(Template::parse(&json_slot(s).unwrap_or_else(|| s.clone()))?)
            }
            serde_json::Value::Array(items) => stack.extend(items),
            serde_json::Value::Object(map) => stack.extend(map.values()),
            _ => {}
        }
    }
    Ok(out)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("{0}")]
    Syntax(String),
    #[error(transparent)]
    Undefined(#[from] Undefined),
    /// `{{name | json}}` whose value is not a JSON value.
    #[error("`{0}` is {1:?}, which is not a JSON value (a number, true, false, null, or quoted)")]
    NotJson(String, String),
}

/// Variable values, with the ones marked secret remembered so reports can mask them.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    /// Sorted by name. A scenario holds a handful (`run_id`, `uuid`, `scratch`, its captures):
    /// a BTreeMap's first node alone is 544 bytes, for each of 100,000 planned scenarios.
    values: Vec<(String, String)>,
    secret: Vec<String>,
}

impl Vars {
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let (name, value) = (name.into(), value.into());
        match self.find(&name) {
            Ok(at) => self.values[at].1 = value,
            Err(at) => self.values.insert(at, (name, value)),
        }
    }

    fn find(&self, name: &str) -> Result<usize, usize> {
        self.values.binary_search_by(|(n, _)| n.as_str().cmp(name))
    }

    pub fn set_secret(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let value = value.into();
        self.remember_secret(value.clone());
        self.set(name, value);
    }

    /// A value to mask in reports, without a variable of its own (captured by a workload client).
    pub fn remember_secret(&mut self, value: String) {
        if !value.is_empty() && !self.secret.contains(&value) {
            self.secret.push(value);
        }
    }

    pub fn contains(&self, name: &str) -> bool {
        self.find(name).is_ok()
    }

    pub fn get(&self, name: &str) -> Result<&str, Undefined> {
        let found = self.find(name).ok().map(|at| self.values[at].1.as_str());
        found.ok_or_else(|| {
            let hint = match name.split_once('.') {
                Some(("env", var)) => format!(" (environment variable {var} is not set)"),
                _ => String::new(),
            };
            Undefined {
                name: name.to_owned(),
                hint,
            }
        })
    }

    /// Values of variables marked secret, for masking.
    pub fn secrets(&self) -> &[String] {
        &self.secret
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> Vars {
        let mut vars = Vars::default();
        vars.set("etag", "\"abc\"");
        vars.set("env.HOME", "/root");
        vars
    }

    #[test]
    fn renders_variables_and_literals() {
        let t = Template::parse("If-Match: {{ etag }} at {{env.HOME}}/x").unwrap();
        assert_eq!(t.render(&vars()).unwrap(), "If-Match: \"abc\" at /root/x");
        assert_eq!(t.variables().collect::<Vec<_>>(), ["etag", "env.HOME"]);
    }

    #[test]
    fn a_json_slot_sends_the_value_as_json() {
        let mut vars = vars();
        vars.set("count", "41");
        vars.set("flag", "true");
        let body = serde_json::json!({
            "count": "{{ count + 1 | json }}", "flag": "{{flag|json}}", "text": "{{count}}"
        });
        let names: Vec<String> = (json_templates(&body).unwrap().iter())
            .flat_map(|t| t.variables().map(str::to_owned).collect::<Vec<_>>())
            .collect();
        assert_eq!(names.len(), 3);
        assert!(
            names.iter().all(|n| n == "count" || n == "flag"),
            "{names:?}"
        );
        // Inside a longer string the mark is no slot (and no variable name either): an error
        // when the file is loaded.
        assert!(json_templates(&serde_json::json!({"n": "n={{count | json}}"})).is_err());
        assert_eq!(
            render_json(&body, &vars).unwrap(),
            serde_json::json!({"count": 42, "flag": true, "text": "41"})
        );
        // A quoted value is a JSON string.
        let quoted = render_json(&serde_json::json!(["{{etag | json}}"]), &vars).unwrap();
        assert_eq!(quoted, serde_json::json!(["abc"]));
        vars.set("etag", "abc");
        let err = render_json(&serde_json::json!(["{{etag | json}}"]), &vars).unwrap_err();
        assert!(matches!(err, TemplateError::NotJson(..)), "{err}");
        assert!(err.to_string().contains("not a JSON value"), "{err}");
    }

    #[test]
    fn syntax_errors_say_what_is_wrong() {
        insta::assert_snapshot!(Template::parse("a {{etag").unwrap_err(), @r#"`{{` without a closing `}}` in "a {{etag""#);
        insta::assert_snapshot!(Template::parse("{{ two words }}").unwrap_err(), @"`{{two words}}` is not a variable name: use letters, digits, `_`, `-` and `.` (for example `{{etag}}` or `{{env.TOKEN}}`), optionally `+ 1` or `- 1`");
    }

    #[test]
    fn undefined_variables_are_named() {
        let err = Template::parse("{{nope}}")
            .unwrap()
            .render(&vars())
            .unwrap_err();
        assert_eq!(err.to_string(), "variable `nope` is not defined");
        let err = Template::parse("{{env.MISSING}}")
            .unwrap()
            .render(&vars())
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "variable `env.MISSING` is not defined (environment variable MISSING is not set)"
        );
    }

    #[test]
    fn integer_offsets_for_counters() {
        let mut vars = Vars::default();
        vars.set("n", "41");
        vars.set("word", "x");
        assert_eq!(
            Template::parse("{{n+1}}/{{ n - 2 }}")
                .unwrap()
                .render(&vars)
                .unwrap(),
            "42/39"
        );
        // A name with a dash and digits is still a plain name.
        vars.set("run-2", "r");
        assert_eq!(
            Template::parse("{{run-2}}").unwrap().render(&vars).unwrap(),
            "r"
        );
        let err = Template::parse("{{word+1}}")
            .unwrap()
            .render(&vars)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "variable `word` is not defined as a number (it is \"x\", so +1 cannot apply)"
        );
    }

    #[test]
    fn json_strings_are_templates() {
        let value = serde_json::json!({"tag": "{{etag}}", "n": 1, "list": ["{{env.HOME}}"]});
        let out = render_json(&value, &vars()).unwrap();
        assert_eq!(
            out,
            serde_json::json!({"tag": "\"abc\"", "n": 1, "list": ["/root"]})
        );
    }

    #[test]
    fn secrets_are_remembered() {
        let mut vars = Vars::default();
        vars.set_secret("token", "s3cr3t");
        assert_eq!(vars.secrets(), ["s3cr3t"]);
    }
}
