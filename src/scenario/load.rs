//! Reading scenario files. All YAML parsing in the crate happens here (serde_yaml is archived
//! upstream: swapping it is one file).

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::model::Scenario;

/// A scenario file that cannot be used, located as precisely as the parser allows.
#[derive(Debug, Clone)]
pub struct LoadError {
    pub file: PathBuf,
    /// 1-based line and column, when known.
    pub location: Option<(usize, usize)>,
    pub message: String,
    /// The file's text and the byte offset of the error, for the snippet.
    snippet: Option<(String, usize)>,
}

impl LoadError {
    pub fn new(file: &Path, message: impl Into<String>) -> Self {
        LoadError {
            file: file.to_owned(),
            location: None,
            message: message.into(),
            snippet: None,
        }
    }

    fn from_yaml(file: &Path, text: &str, err: &serde_yaml::Error) -> Self {
        // serde_yaml writes " at line L column C" into its messages; the location is shown
        // separately, from the error's own position.
        let message = location_text()
            .replace_all(&err.to_string(), "")
            .into_owned();
        let message = with_hint(message);
        let index = err.location().map(|l| l.index());
        let (message, index) = plainer(message, text, index);
        let location = index.map(|at| line_column(text, at));
        LoadError {
            file: file.to_owned(),
            location,
            message,
            snippet: index.map(|at| (text.to_owned(), at)),
        }
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.file.display().to_string();
        let (Some(_), Some((text, index))) = (self.location, &self.snippet) else {
            return match self.location {
                Some((line, column)) => write!(
                    f,
                    "{path}:{line}:{column}: error: {}\n  --> {path}:{line}:{column}",
                    self.message
                ),
                None => write!(f, "error: {}\n  --> {path}", self.message),
            };
        };
        use annotate_snippets::{AnnotationKind, Level, Renderer, Snippet};
        // At end of input, point at the last character rather than past it; never inside one.
        let mut start = (*index).min(text.len().saturating_sub(1));
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        // Underline the token at the error: up to the next whitespace or punctuation.
        let len = text[start..]
            .find(|c: char| c.is_whitespace() || matches!(c, ',' | ']' | '}'))
            .unwrap_or(text.len() - start)
            .max(1);
        let end = (start + len).min(text.len());
        let report = [Level::ERROR.primary_title(&self.message).element(
            Snippet::source(text.as_str())
                .path(&path)
                .fold(true)
                .annotation(AnnotationKind::Primary.span(start..end)),
        )];
        let rendered = Renderer::plain().render(&report);
        let line = text[..start].matches('\n').count() + 1;
        let column = text[..start].rfind('\n').map_or(start, |nl| start - nl - 1) + 1;
        // The snippet shows the path with line:column; say it on the first line too, for tools
        // that only look there.
        write!(f, "{path}:{line}:{column}: {rendered}")
    }
}

impl std::error::Error for LoadError {}

/// 1-based line and column of a byte offset.
fn line_column(text: &str, at: usize) -> (usize, usize) {
    let at = at.min(text.len());
    let line = text[..at].matches('\n').count() + 1;
    let column = text[..at].chars().rev().take_while(|&c| c != '\n').count() + 1;
    (line, column)
}

/// The parser's words for three common mistakes, said plainly and pointed at the right place:
/// a tab in the indentation, a key given twice (serde_yaml points at the mapping, not at the
/// second one), a line indented to no enclosing block.
fn plainer(message: String, text: &str, index: Option<usize>) -> (String, Option<usize>) {
    let Some(at) = index else {
        return (message, index);
    };
    let line_start = text[..at.min(text.len())]
        .rfind('\n')
        .map_or(0, |nl| nl + 1);
    let line = text[line_start..].lines().next().unwrap_or("");
    if let Some(tab) = line.find('\t').filter(|&t| line[..t].trim().is_empty()) {
        return (
            "a tab in the indentation: YAML indents with spaces, never tabs".into(),
            Some(line_start + tab),
        );
    }
    if let Some(key) = message
        .strip_prefix("duplicate field `")
        .and_then(|rest| rest.split_once('`'))
        .map(|(key, _)| key.to_owned())
    {
        // The second line from here that opens with `key:` at the first one's indentation.
        let mut seen: Option<(usize, usize)> = None;
        let mut offset = line_start;
        for l in text[line_start..].split_inclusive('\n') {
            let indent = l.len() - l.trim_start().len();
            if l.trim_start().starts_with(&format!("{key}:")) {
                match seen {
                    Some((first, i)) if i == indent => {
                        let (first_line, _) = line_column(text, first);
                        return (
                            format!("`{key}` is given twice in one mapping (first on line {first_line})"),
                            Some(offset + indent),
                        );
                    }
                    None => seen = Some((offset + indent, indent)),
                    _ => {}
                }
            }
            offset += l.len();
        }
    }
    if message.starts_with("did not find expected") && message.contains("while parsing a block") {
        let indent = line.len() - line.trim_start().len();
        let above = text[..line_start]
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .map(|l| l.len() - l.trim_start().len());
        if let Some(above) = above.filter(|&a| a != indent) {
            return (
                format!(
                    "this line is indented {indent} spaces, which lines up with no enclosing \
                     block (the line above: {above}): misindented? ({message})"
                ),
                index,
            );
        }
    }
    (message, index)
}

/// serde's "unknown field `bdy`, expected one of `method`, ..., `body`" (or "unknown
/// variant"), with the nearest expected name suggested: "did you mean `body`?".
fn with_hint(message: String) -> String {
    let Some((_, rest)) = message
        .split_once("unknown field `")
        .or_else(|| message.split_once("unknown variant `"))
    else {
        return message;
    };
    let Some((given, expected)) = rest.split_once("`, expected one of ") else {
        return message;
    };
    let nearest = expected
        .split(", ")
        .map(|name| name.trim_matches(|c| c == '`' || c == ' '))
        .map(|name| (strsim::damerau_levenshtein(given, name), name))
        .filter(|(distance, name)| *distance <= 2.max(name.len() / 3))
        .min();
    match nearest {
        Some((_, name)) => format!("{message}: did you mean `{name}`?"),
        None => message,
    }
}

fn location_text() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| regex::Regex::new(r" at line \d+ column \d+").expect("valid regex"))
}

/// Loads every scenario under the given files and directories (`*.yaml`, `*.yml`, recursively,
/// in name order). All errors are collected so a user fixes them in one pass.
pub fn load_paths(paths: &[PathBuf]) -> Result<Vec<Scenario>, Vec<LoadError>> {
    let mut scenarios = Vec::new();
    let mut errors = Vec::new();
    for file in scenario_files(paths, &mut errors) {
        match load_file(&file) {
            Ok(found) => scenarios.extend(found),
            Err(err) => errors.push(err),
        }
    }
    if errors.is_empty() {
        Ok(scenarios)
    } else {
        Err(errors)
    }
}

/// The scenario files named by `paths`, directories expanded.
pub fn scenario_files(paths: &[PathBuf], errors: &mut Vec<LoadError>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            walk(path, &mut files, errors);
        } else if path.exists() {
            files.push(path.clone());
        } else {
            errors.push(LoadError::new(path, "no such file or directory"));
        }
    }
    files
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, errors: &mut Vec<LoadError>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) => {
            return errors.push(LoadError::new(dir, format!("cannot read directory: {err}")))
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            walk(&path, files, errors);
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        ) {
            files.push(path);
        }
    }
}

/// Reads a target profile (`contend.yaml`).
pub fn load_profile(file: &Path) -> Result<super::Profile, LoadError> {
    let text = read_text(file)?;
    let text = within_limits(&text, file)?;
    serde_yaml::from_str(text).map_err(|err| LoadError::from_yaml(file, text, &err))
}

pub fn load_file(file: &Path) -> Result<Vec<Scenario>, LoadError> {
    let text = read_text(file)?;
    load_str(&text, file)
}

/// The largest scenario or profile file read; scenarios are a few KiB.
pub const MAX_FILE: usize = 4 << 20;
/// The deepest nesting of `[` and `{` accepted: serde_yaml's time grows with its square.
pub const MAX_DEPTH: usize = 64;

/// A file's text, with non-UTF-8 bytes located.
fn read_text(file: &Path) -> Result<String, LoadError> {
    let bytes = std::fs::read(file)
        .map_err(|err| LoadError::new(file, format!("cannot read file: {err}")))?;
    if bytes.len() > MAX_FILE {
        return Err(LoadError::new(
            file,
            format!(
                "the file is {} bytes; at most {MAX_FILE} are read",
                bytes.len()
            ),
        ));
    }
    String::from_utf8(bytes).map_err(|err| {
        let valid = &err.as_bytes()[..err.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = valid.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
        let mut e = LoadError::new(
            file,
            format!("byte {line}:{column} is not UTF-8: scenario files are UTF-8 text"),
        );
        e.location = Some((line, column));
        e
    })
}

/// The text without a UTF-8 byte order mark, refused when it is too large or nested too deep
/// to parse in reasonable time.
fn within_limits<'t>(text: &'t str, file: &Path) -> Result<&'t str, LoadError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.len() > MAX_FILE {
        return Err(LoadError::new(
            file,
            format!("at most {MAX_FILE} bytes are read"),
        ));
    }
    let (mut depth, mut quote) = (0usize, None::<char>);
    for (at, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[' | '{') => {
                depth += 1;
                if depth > MAX_DEPTH {
                    let line = text[..at].matches('\n').count() + 1;
                    let column = text[..at].rfind('\n').map_or(at, |nl| at - nl - 1) + 1;
                    let mut e = LoadError::new(
                        file,
                        format!("nested deeper than {MAX_DEPTH} levels of `[` and `{{`"),
                    );
                    e.location = Some((line, column));
                    e.snippet = Some((text.to_owned(), at));
                    return Err(e);
                }
            }
            (None, ']' | '}') => depth = depth.saturating_sub(1),
            (None, '\n') => quote = None,
            _ => {}
        }
    }
    Ok(text)
}

/// Parses one file's text: one scenario per YAML document (`---` separates them).
pub fn load_str(text: &str, file: &Path) -> Result<Vec<Scenario>, LoadError> {
    let text = within_limits(text, file)?;
    let mut scenarios: Vec<Scenario> = Vec::new();
    for document in serde_yaml::Deserializer::from_str(text) {
        let mut scenario = Scenario::deserialize(document)
            .map_err(|err| LoadError::from_yaml(file, text, &err))?;
        if scenarios.iter().any(|s| s.name == scenario.name) {
            return Err(LoadError::new(
                file,
                format!(
                    "two scenarios are named {:?}: names must be unique within a file",
                    scenario.name
                ),
            ));
        }
        scenario.file = file.to_owned();
        scenarios.push(scenario);
    }
    if scenarios.is_empty() {
        return Err(LoadError::new(file, "the file holds no scenario"));
    }
    Ok(scenarios)
}
