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
    /// The line of the error, for the snippet.
    snippet: Option<Excerpt>,
}

/// The line an error is on, cut from the file's text: an error keeps its line, never the whole
/// text, so a file of ten thousand documents with a mistake in every tenth is reported in time
/// and memory linear in its size.
#[derive(Debug, Clone)]
struct Excerpt {
    /// The whole line, without its line end.
    line_text: String,
    /// The error's byte offset within `line_text`.
    at: usize,
    /// The line's 1-based number in the file.
    number: usize,
}

impl Excerpt {
    fn of(text: &str, at: usize) -> Excerpt {
        // At end of input, point at the last character rather than past it; never inside one.
        let at = on_char(text, at.min(text.len().saturating_sub(1)));
        let start = text[..at].rfind('\n').map_or(0, |nl| nl + 1);
        let end = text[at..].find('\n').map_or(text.len(), |nl| at + nl);
        let number = text.as_bytes()[..start]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        Excerpt {
            line_text: text[start..end].trim_end_matches('\r').to_owned(),
            at: at - start,
            number,
        }
    }
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
        let index = err.location().map(|l| on_char(text, l.index()));
        let (message, index) = plainer(message, text, index, is_syntax(text));
        let location = index.map(|at| line_column(text, at));
        LoadError {
            file: file.to_owned(),
            location,
            message,
            snippet: index.map(|at| Excerpt::of(text, at)),
        }
    }
}

impl LoadError {
    /// The same error in a document that starts `lines` lines into its file.
    fn lines_down(mut self, lines: usize) -> Self {
        if let Some((line, _)) = &mut self.location {
            *line += lines;
        }
        if let Some(excerpt) = &mut self.snippet {
            excerpt.number += lines;
        }
        self
    }

    /// Points the error at another offset of the same text.
    fn relocate(&mut self, text: &str, at: usize) {
        self.location = Some(line_column(text, at));
        self.snippet = Some(Excerpt::of(text, at));
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.file.display().to_string();
        let (Some(_), Some(excerpt)) = (self.location, &self.snippet) else {
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
        let text = excerpt.line_text.as_str();
        let start = on_char(text, excerpt.at);
        // Underline the token at the error: up to the next whitespace or punctuation.
        let len = text[start..]
            .find(|c: char| c.is_whitespace() || matches!(c, ',' | ']' | '}'))
            .unwrap_or(text.len() - start)
            .max(1);
        let end = (start + len).min(text.len().max(start + 1));
        let report = [Level::ERROR.primary_title(&self.message).element(
            Snippet::source(text)
                .line_start(excerpt.number)
                .path(&path)
                .fold(true)
                .annotation(AnnotationKind::Primary.span(start..end)),
        )];
        let rendered = Renderer::plain().render(&report);
        let column = start + 1;
        // The snippet shows the path with line:column; say it on the first line too, for tools
        // that only look there.
        write!(f, "{path}:{}:{column}: {rendered}", excerpt.number)
    }
}

impl std::error::Error for LoadError {}

/// The parser's offset, moved back onto a character boundary within the text (a BOM inside
/// the text leaves it mid-character).
fn on_char(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// 1-based line and column of a byte offset.
fn line_column(text: &str, at: usize) -> (usize, usize) {
    let at = at.min(text.len());
    let line = text[..at].matches('\n').count() + 1;
    let column = text[..at].chars().rev().take_while(|&c| c != '\n').count() + 1;
    (line, column)
}

/// Three common mistakes said plainly and pointed at the right place, each recognised from the
/// text's structure, not from the parser's words: a tab in the indentation, a key given twice in
/// the mapping the error is in (serde_yaml points at the mapping, not at the second one), and,
/// in text that is not YAML, a line indented to no enclosing block.
fn plainer(
    message: String,
    text: &str,
    index: Option<usize>,
    syntax: bool,
) -> (String, Option<usize>) {
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
    if let Some((key, first, second)) = twice(text, line_start) {
        let (first_line, _) = line_column(text, first);
        return (
            format!("`{key}` is given twice in one mapping (first on line {first_line})"),
            Some(second),
        );
    }
    let indent = line.len() - line.trim_start().len();
    if syntax && lines_up_with_nothing(&text[..line_start], indent) {
        let above = text[..line_start]
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .map_or(0, |l| l.len() - l.trim_start().len());
        return (
            format!(
                "this line is indented {indent} spaces, which lines up with no enclosing \
                 block (the line above: {above}): misindented? ({message})"
            ),
            index,
        );
    }
    (message, index)
}

/// Whether the text parses as YAML at all (every document a YAML value): when it does, a
/// mistake is in what the model expects, not in the YAML.
fn is_syntax(text: &str) -> bool {
    serde_yaml::Deserializer::from_str(text).any(|d| serde_yaml::Value::deserialize(d).is_err())
}

/// A key given twice in the block mapping whose first line starts at `line_start`: the key,
/// where it first is and where it is again.
fn twice(text: &str, line_start: usize) -> Option<(String, usize, usize)> {
    let first_line = text[line_start..].lines().next()?;
    let column = first_line.len() - first_line.trim_start_matches([' ', '-']).len();
    let mut seen: Vec<(&str, usize)> = Vec::new();
    let mut offset = line_start;
    for (n, line) in text[line_start..].split_inclusive('\n').enumerate() {
        let body = line.trim_end();
        let indent = body.len() - body.trim_start().len();
        let key_column = if n == 0 { column } else { indent };
        let content = !body.trim().is_empty() && !body.trim_start().starts_with('#');
        if n > 0 && content && indent < column {
            break;
        }
        // `get`: a line shorter than the column, or a column inside a character, holds no key.
        let entry = body
            .get(key_column..)
            .filter(|_| key_column == column && content);
        if let Some(entry) = entry {
            if let Some((key, _)) = entry.split_once(':') {
                let key = key.trim();
                let plain = !key.is_empty() && !key.contains([' ', '"', '\'', '{', '[', '#']);
                if plain {
                    if let Some(&(_, first)) = seen.iter().find(|(k, _)| *k == key) {
                        return Some((key.to_owned(), first, offset + key_column));
                    }
                    seen.push((key, offset + key_column));
                }
            }
        }
        offset += line.len();
    }
    None
}

/// Whether a line indented `indent` spaces lines up with no block it could belong to: less
/// indented than the line above it, and at no indentation of the lines that enclose that one.
fn lines_up_with_nothing(above: &str, indent: usize) -> bool {
    let mut enclosing = above
        .lines()
        .rev()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|l| l.len() - l.trim_start().len());
    let Some(nearest) = enclosing.next() else {
        return false;
    };
    if indent >= nearest {
        return false;
    }
    let mut deepest = nearest;
    for at in enclosing {
        if at < deepest {
            if at == indent {
                return false;
            }
            deepest = at;
        }
    }
    indent != 0
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
    if let Some(hint) = misplaced(&message, given) {
        return format!("{message}: {hint}");
    }
    match nearest {
        Some((_, name)) => format!("{message}: did you mean `{name}`?"),
        None => message,
    }
}

/// A key that belongs one level up (`capture:` indented under `expect:`): said so, with where
/// it goes. The levels are a step's and the scenario's, their keys read from their types.
fn misplaced(message: &str, given: &str) -> Option<String> {
    let (path, _) = message.split_once(": unknown field `")?;
    let (parent, inner) = path.rsplit_once('.').unwrap_or(("", path));
    let (level, keys) = match parent {
        "" => ("the scenario", scenario_keys()),
        p if p.ends_with(']') && (p.starts_with("steps") || p.starts_with("cleanup")) => {
            ("the step", step_keys())
        }
        _ => return None,
    };
    let inner = inner.split('[').next().unwrap_or(inner);
    keys.iter().any(|k| k == given).then(|| {
        format!("`{given}` is a key of {level}, not of `{inner}`: indent it as `{inner}` is")
    })
}

/// The keys a type takes, as its derived deserializer lists them for an unknown one.
fn keys_of<T: serde::de::DeserializeOwned>() -> Vec<String> {
    let Err(e) = serde_yaml::from_str::<T>("contend-no-such-key: 0") else {
        return Vec::new();
    };
    let text = e.to_string();
    let listed = text.split_once("expected one of ").map_or("", |(_, l)| l);
    let listed = listed.split(" at line ").next().unwrap_or(listed);
    (listed.split(", "))
        .map(|k| k.trim().trim_matches('`').to_owned())
        .filter(|k| !k.is_empty())
        .collect()
}

fn scenario_keys() -> &'static [String] {
    static KEYS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    KEYS.get_or_init(keys_of::<Scenario>)
}

fn step_keys() -> &'static [String] {
    static KEYS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    KEYS.get_or_init(keys_of::<super::shape::RawStep>)
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
            Err(found) => errors.extend(found),
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
    // Sorted by name (all in one directory): comparing whole paths component by component
    // cost more than reading 10,000 files. Whether each is a directory comes with the entry
    // (no stat), but for a symbolic link, which is followed.
    let mut paths: Vec<(std::ffi::OsString, PathBuf, bool)> = entries
        .filter_map(|e| {
            let e = e.ok()?;
            let kind = e.file_type().ok()?;
            let path = e.path();
            let dir = if kind.is_symlink() {
                path.is_dir()
            } else {
                kind.is_dir()
            };
            Some((e.file_name(), path, dir))
        })
        .collect();
    paths.sort_unstable_by(|(a, ..), (b, ..)| a.cmp(b));
    for (_, path, dir) in paths {
        if dir {
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
    load_profile_str(&read_text(file)?, file)
}

/// A profile's text; `file` is where errors say it came from.
pub fn load_profile_str(text: &str, file: &Path) -> Result<super::Profile, LoadError> {
    let text = within_limits(text, file)?;
    serde_yaml::from_str(text).map_err(|err| LoadError::from_yaml(file, text, &err))
}

pub fn load_file(file: &Path) -> Result<Vec<Scenario>, Vec<LoadError>> {
    let text = read_text(file).map_err(|e| vec![e])?;
    load_str(&text, file)
}

/// [`load_lenient`] on a file.
pub fn load_file_lenient(file: &Path) -> Lenient {
    match read_text(file) {
        Ok(text) => load_lenient(&text, file),
        Err(err) => Lenient {
            errors: vec![err],
            scenarios: Vec::new(),
            left_out: Vec::new(),
        },
    }
}

/// The largest scenario or profile file read; scenarios are a few KiB.
pub const MAX_FILE: usize = 4 << 20;
/// The deepest nesting of `[` and `{` accepted: serde_yaml's time grows with its square.
pub const MAX_DEPTH: usize = 64;

/// A file's text, with non-UTF-8 bytes located.
fn read_text(file: &Path) -> Result<String, LoadError> {
    use std::io::Read;
    // Read up to one byte past the limit, without asking the file's size first (a stat per
    // file, 100,000 of them for a large suite), and never a huge file whole. Room for a
    // usual file from the start: two reads, not a probe and the growing reads (four).
    let mut bytes = Vec::with_capacity(16 * 1024);
    std::fs::File::open(file)
        .and_then(|f| f.take(MAX_FILE as u64 + 1).read_to_end(&mut bytes))
        .map_err(|err| LoadError::new(file, format!("cannot read file: {err}")))?;
    if bytes.len() > MAX_FILE {
        return Err(LoadError::new(
            file,
            format!("the file is more than {MAX_FILE} bytes; at most {MAX_FILE} are read"),
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
    // A quote opens a quoted scalar only where a scalar starts: the apostrophe in a plain
    // `collection's` opens nothing (taking it for one once hid 100,000 `[` from this count).
    let (mut depth, mut quote, mut prev) = (0usize, None::<char>, '\n');
    let mut escaped = false;
    for (at, c) in text.char_indices() {
        let after = std::mem::replace(&mut prev, c);
        match (quote, c) {
            (Some('"'), '\\') if !escaped => {
                escaped = true;
                continue;
            }
            (Some(q), c) if c == q && !escaped => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') if after.is_whitespace() || "[{,:-".contains(after) => {
                quote = Some(c)
            }
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
                    e.snippet = Some(Excerpt::of(text, at));
                    return Err(e);
                }
            }
            (None, ']' | '}') => depth = depth.saturating_sub(1),
            _ => {}
        }
        escaped = false;
    }
    Ok(text)
}

/// Parses one file's text: one scenario per YAML document (`---` separates them). Every
/// mistake is reported, not only the first: see [`load_lenient`].
pub fn load_str(text: &str, file: &Path) -> Result<Vec<Scenario>, Vec<LoadError>> {
    let loaded = load_lenient(text, file);
    match loaded.errors.is_empty() {
        true => Ok(loaded.scenarios),
        false => Err(loaded.errors),
    }
}

/// What a file's text gave, read past its mistakes.
pub struct Lenient {
    /// Every mistake found, in file order.
    pub errors: Vec<LoadError>,
    /// The scenarios read once the mistaken entries were left out: their own static checks
    /// (variables, body files) can still be reported in the same pass.
    pub scenarios: Vec<Scenario>,
    /// The text of the entries left out; a variable named in it may have been defined there.
    pub left_out: Vec<String>,
}

/// The most mistakes reported for one file; past that, fixing the first ones is the way on.
pub const MAX_ERRORS: usize = 20;

/// serde stops at the first mistake. To find the next, the entry holding it (a `key: value`,
/// block or flow) is blanked out with spaces, so every later offset stays where it was, and the
/// text is read again; a syntax error ends the search (what follows it cannot be trusted).
pub fn load_lenient(text: &str, file: &Path) -> Lenient {
    let mut out = Lenient {
        errors: Vec::new(),
        scenarios: Vec::new(),
        left_out: Vec::new(),
    };
    let text = match within_limits(text, file) {
        Ok(text) => text,
        Err(err) => {
            out.errors.push(err);
            return out;
        }
    };
    let only_comments = text
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#') || l.trim() == "---");
    if only_comments {
        let mut empty = LoadError::new(file, "the file holds no scenario");
        empty.location = Some((1, 1));
        out.errors.push(empty);
        return out;
    }
    // Each document read on its own, so recovering from a mistake re-reads that document,
    // not the whole file: linear in the file's size however many documents it holds.
    for (first_line, document) in split_documents(text) {
        if out.errors.len() >= MAX_ERRORS {
            break;
        }
        let mut one = Lenient {
            errors: Vec::new(),
            scenarios: Vec::new(),
            left_out: Vec::new(),
        };
        read_past_mistakes(document, file, &mut one);
        out.errors
            .extend(one.errors.into_iter().map(|e| e.lines_down(first_line)));
        out.scenarios.extend(one.scenarios);
        out.left_out.extend(one.left_out);
    }
    out.errors.truncate(MAX_ERRORS);
    if out.errors.is_empty() {
        unique_names(text, file, &mut out);
    }
    for scenario in &mut out.scenarios {
        scenario.file = file.to_owned();
        // serde grows a list with no length known to four places: for 100,000 one-step
        // scenarios, three unused steps each.
        scenario.steps.shrink_to_fit();
        scenario.cleanup.shrink_to_fit();
    }
    out
}

/// The file's YAML documents, each with the number of lines before it: split at each line that
/// is `---` (alone or before content), as YAML ends a document there whatever is open. Empty
/// and comment-only documents are left out.
fn split_documents(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let (mut start, mut line, mut first_line) = (0, 0, 0);
    let mut at = 0;
    for raw in text.split_inclusive('\n') {
        let marker =
            raw.starts_with("---") && raw[3..].chars().next().is_none_or(|c| c.is_whitespace());
        if marker {
            out.push((first_line, &text[start..at]));
            // The marker's line stays with the document it opens (a `--- name: x` holds content).
            start = at;
            first_line = line;
        }
        at += raw.len();
        line += 1;
    }
    out.push((first_line, &text[start..]));
    out.retain(|(_, doc)| {
        doc.lines().any(|l| {
            let l = l.trim();
            !l.is_empty() && !l.starts_with('#') && l != "---"
        })
    });
    out
}

/// Reads `text` (one document, or a file that is one), leaving out each mistaken entry and
/// reading again, until it reads or nothing more can be left out.
fn read_past_mistakes(text: &str, file: &Path, out: &mut Lenient) {
    let mut work = text.to_owned();
    let mut blanked: Vec<std::ops::Range<usize>> = Vec::new();
    let mut whole_items: Vec<usize> = Vec::new();
    loop {
        let err = match documents(&work) {
            Ok(scenarios) => {
                out.scenarios = scenarios;
                break;
            }
            Err(err) => err,
        };
        let syntax = is_syntax(&work);
        let message = err.to_string();
        let mistake = Mistake::of(&message, syntax);
        // A step's own checks run once its mapping is read, and serde_yaml then points at the
        // sequence: the step's `name:` line is where the mistake is.
        let step = mistake.step().and_then(|name| step_at(&work, name));
        let index = step.or(err.location().map(|l| on_char(&work, l.index())));
        let whole = step.is_some() || matches!(mistake, Mistake::MissingKey { .. });
        let region = index
            .filter(|_| !syntax)
            .and_then(|at| entry_at(&work, at, whole));
        // A key reported missing where a near-named key was left out is that key, already
        // reported.
        let caused = mistake.names_keys()
            && named_keys(&message).any(|name| {
                out.left_out.iter().any(|t| {
                    let key = t
                        .trim_start_matches(['-', ' '])
                        .split(':')
                        .next()
                        .unwrap_or("");
                    strsim::damerau_levenshtein(key.trim(), name) <= 2
                })
            });
        // A step's own check failing where something inside the step was left out: most
        // likely what was left out (a capture's misspelt source), already reported.
        let inside = step
            .and_then(|at| entry_at(&work, at, true))
            .is_some_and(|item| {
                blanked
                    .iter()
                    .any(|r| item.start <= r.start && r.end <= item.end)
            });
        let caused = caused || inside;
        if !caused {
            let mut error = LoadError::from_yaml(file, text, &err);
            if let Some(at) = step {
                error.relocate(text, at);
            }
            // Text that is not YAML with a quote never closed: that quote is the mistake.
            if let (Mistake::Syntax, Some(at)) = (&mistake, unclosed_quote(text)) {
                error.message = "this string is never closed".into();
                error.relocate(text, at);
            }
            if whole_items.iter().any(|&start| start < index.unwrap_or(0)) {
                // Items left out above shift serde's `steps[N]`: the line says where it is.
                error.message = unindexed(&error.message);
            }
            out.errors.push(error);
        }
        let Some(region) = region.filter(|r| !blanked.contains(r)) else {
            break;
        };
        if out.errors.len() >= MAX_ERRORS {
            break;
        }
        out.left_out.push(work[region.clone()].to_owned());
        // Multi-byte characters become several spaces: offsets stay byte-exact.
        let spaces: String = work[region.clone()]
            .chars()
            .map(|c| match c {
                '\n' => "\n".to_owned(),
                c => " ".repeat(c.len_utf8()),
            })
            .collect();
        work.replace_range(region.clone(), &spaces);
        if whole {
            whole_items.push(region.start);
        }
        blanked.push(region);
    }
    if out.errors.is_empty() && out.scenarios.is_empty() {
        out.errors
            .push(LoadError::new(file, "the file holds no scenario"));
    }
}

/// Names are unique within a file: the second `name:` line of a name given twice is an error.
fn unique_names(text: &str, file: &Path, out: &mut Lenient) {
    {
        let mut names = std::collections::HashSet::new();
        for scenario in &mut out.scenarios {
            if !names.insert(scenario.name.clone()) {
                let mut error = LoadError::new(
                    file,
                    format!(
                        "two scenarios are named {:?}: names must be unique within a file",
                        scenario.name
                    ),
                );
                // The second top-level `name:` line with that name.
                let line = format!("name: {}", scenario.name);
                let second = text
                    .match_indices(&line)
                    .filter(|(at, _)| *at == 0 || text[..*at].ends_with('\n'))
                    .nth(1);
                if let Some((at, _)) = second {
                    error.relocate(text, at);
                }
                out.errors.push(error);
            }
        }
    }
}

fn documents(text: &str) -> Result<Vec<Scenario>, serde_yaml::Error> {
    if let Some(scenario) = sliced(text) {
        return Ok(vec![scenario]);
    }
    serde_yaml::Deserializer::from_str(text)
        .map(Scenario::deserialize)
        .collect()
}

/// A document at least this long is read a slice of steps at a time where it can be:
/// serde_yaml holds every event of a document (about 160 bytes each, some 30 per step) before
/// deserializing any of it, so a 20,000-step file (3 MB) peaked at 104 MiB to keep 10.
const SLICED_FROM: usize = 256 * 1024;
const STEPS_PER_SLICE: usize = 256;

/// A large document whose `steps:` is a plain block list, read as its head (the list left
/// empty) and then its steps a slice at a time. `None` for any other text, and for any part
/// that does not read: the whole text is then read as one, so a mistake is reported exactly
/// as in any other file. Anchors and aliases can reach across slices, so a document that may
/// hold one is read whole.
fn sliced(text: &str) -> Option<Scenario> {
    if text.len() < SLICED_FROM || may_hold_node_references(text) {
        return None;
    }
    let (items, end) = steps_block(text)?;
    let first = items[0];
    let indent = text[first..].len() - text[first..].trim_start_matches(' ').len();
    let head = format!(
        "{}{}[]\n{}",
        &text[..first],
        " ".repeat(indent + 1),
        &text[end..]
    );
    let mut scenario: Scenario = serde_yaml::from_str(&head).ok()?;
    let mut steps = Vec::with_capacity(items.len());
    for (i, slice) in items.chunks(STEPS_PER_SLICE).enumerate() {
        let until = items.get((i + 1) * STEPS_PER_SLICE).copied().unwrap_or(end);
        steps.extend(serde_yaml::from_str::<Vec<super::Step>>(&text[slice[0]..until]).ok()?);
    }
    scenario.steps = steps;
    Some(scenario)
}

/// Whether an anchor (`&a`) or alias (`*a`) may start anywhere: `&` or `*` where a token
/// starts, followed by a name. Quoted ones (`'*'`) are not; a false alarm only costs memory.
fn may_hold_node_references(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.iter().enumerate().any(|(i, &b)| {
        (b == b'&' || b == b'*')
            && (i == 0 || matches!(bytes[i - 1], b' ' | b'\n' | b'[' | b'{' | b','))
            && bytes
                .get(i + 1)
                .is_some_and(|c| !matches!(c, b' ' | b'\n' | b'\r' | b',' | b']' | b'}'))
    })
}

/// The top-level `steps:` block list: where each item's line starts, and where the block
/// ends. `None` unless every line of the block is an item at one indent, more indented
/// content, a comment or blank.
fn steps_block(text: &str) -> Option<(Vec<usize>, usize)> {
    let (mut at, mut inside, mut indent) = (0, false, None);
    let mut items = Vec::new();
    for line in text.split_inclusive('\n') {
        let content = line.trim_end();
        let trimmed = content.trim_start_matches(' ');
        let here = at;
        at += line.len();
        if !inside {
            inside = content == "steps:";
            continue;
        }
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let n = content.len() - trimmed.len();
        let item = trimmed == "-" || trimmed.starts_with("- ");
        let i = *indent.get_or_insert(n);
        match (n.cmp(&i), item) {
            (std::cmp::Ordering::Equal, true) => items.push(here),
            (std::cmp::Ordering::Greater, _) => {}
            _ if n == 0 => return (!items.is_empty()).then_some((items, here)),
            _ => return None,
        }
    }
    (!items.is_empty()).then_some((items, text.len()))
}

/// Where the quoted scalar that is never closed opens: quotes opened where a scalar may start,
/// outside comments, with `\"` and `''` escapes.
fn unclosed_quote(text: &str) -> Option<usize> {
    let (mut open, mut prev) = (None::<(usize, char)>, '\n');
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match open {
            Some((_, '"')) if c == '\\' => {
                chars.next();
            }
            Some((_, '\'')) if c == '\'' && chars.peek().map(|p| p.1) == Some('\'') => {
                chars.next();
            }
            Some((_, q)) if c == q => open = None,
            Some(_) => {}
            None if c == '#' && prev.is_whitespace() => {
                while chars.peek().is_some_and(|p| p.1 != '\n') {
                    chars.next();
                }
            }
            None if matches!(c, '"' | '\'')
                && (prev.is_whitespace() || matches!(prev, '[' | '{' | ',' | ':' | '-')) =>
            {
                open = Some((at, c))
            }
            None => {}
        }
        prev = c;
    }
    open.map(|(at, _)| at)
}

/// What kind of mistake stopped a read, for the recovery that reads past it. Whether the text
/// is YAML at all is decided by parsing it as YAML values; past that, the kind is named by the
/// one thing every error carries besides its place, its message, in words that are not
/// serde_yaml's: serde's derive (`missing field`, pinned by a test through serde_yaml) and
/// contend's own step checks (`step `NAME`...`). A serde_yaml update cannot move them.
#[derive(Debug, PartialEq, Eq)]
enum Mistake<'m> {
    /// The text is not YAML: nothing after the error can be trusted.
    Syntax,
    /// A key the model needs is absent from the mapping at the error: the whole entry goes.
    MissingKey,
    /// A step's own check failed (it names the step; `needs` when a key it requires is absent).
    InStep { name: &'m str, needs: bool },
    /// Anything else about the entry at the error: an unknown key, a value of the wrong type.
    Entry,
}

impl<'m> Mistake<'m> {
    fn of(message: &'m str, syntax: bool) -> Mistake<'m> {
        if syntax {
            return Mistake::Syntax;
        }
        if let Some(name) = step_named(message) {
            let needs = message.contains(" needs ");
            return Mistake::InStep { name, needs };
        }
        if message.contains(SERDE_MISSING_FIELD) {
            return Mistake::MissingKey;
        }
        Mistake::Entry
    }

    fn step(&self) -> Option<&'m str> {
        match self {
            Mistake::InStep { name, .. } => Some(name),
            _ => None,
        }
    }

    /// The message names keys that should have been there.
    fn names_keys(&self) -> bool {
        matches!(
            self,
            Mistake::MissingKey | Mistake::InStep { needs: true, .. }
        )
    }
}

/// serde's derive, reporting a required field absent (`de::Error::missing_field`).
const SERDE_MISSING_FIELD: &str = "missing field `";

/// `step `NAME`...` → NAME: how contend's own step checks begin their messages (`shape.rs`).
fn step_named(message: &str) -> Option<&str> {
    let rest = message.split_once("step `")?.1;
    Some(rest.split_once('`')?.0)
}

/// The offset of the sequence item whose `name:` is `name`: its dash, or the `name` key.
fn step_at(text: &str, name: &str) -> Option<usize> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let body = line.trim_start_matches([' ', '-']);
        let value = body
            .strip_prefix("name:")
            .map(|v| v.trim().trim_matches(['"', '\'']));
        if value == Some(name) {
            let dash = line.find('-').filter(|&d| line[..d].trim().is_empty());
            return Some(offset + dash.unwrap_or(line.len() - body.len()));
        }
        offset += line.len();
    }
    None
}

/// `steps[3].request: unknown field` → `steps[].request: unknown field`.
fn unindexed(message: &str) -> String {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| regex::Regex::new(r"\[\d+\]").expect("valid regex"));
    match message.split_once(": ") {
        Some((path, rest)) if !path.contains(' ') => {
            format!("{}: {rest}", re.replace_all(path, "[]"))
        }
        _ => message.to_owned(),
    }
}

/// The `quoted` names in a message.
fn named_keys(message: &str) -> impl Iterator<Item = &str> {
    message.split('`').skip(1).step_by(2)
}

/// The byte range of the entry at `at`: inside a flow collection on its line, the item between
/// its separators; otherwise the block `key: value` from its key to the end of its more-indented
/// continuation lines. `whole`: the error is about the mapping at `at` itself (a missing field),
/// so the sequence item or value holding that mapping goes.
fn entry_at(text: &str, at: usize, whole: bool) -> Option<std::ops::Range<usize>> {
    let at = at.min(text.len());
    let line_start = text[..at].rfind('\n').map_or(0, |nl| nl + 1);
    let line_end = text[at..].find('\n').map_or(text.len(), |nl| at + nl);
    let line = &text[line_start..line_end];
    if !whole {
        if let Some(range) = flow_item(line, at - line_start) {
            return Some(line_start + range.start..line_start + range.end);
        }
    }
    let dash = line.len() - line.trim_start_matches([' ', '-']).len();
    let indent = line.len() - line.trim_start().len();
    // A missing field: the mapping starts at `at`; the whole sequence item (from its dash) goes.
    let key = if whole { indent } else { dash };
    if line[key..].trim().is_empty() {
        return None;
    }
    // Through the continuation lines, up to (not into) the last one's newline: the line count,
    // and with it every later offset, stays the same.
    let (mut end, mut cursor) = (line_end, (line_end + 1).min(text.len()));
    for next in text[cursor..].split_inclusive('\n') {
        let next_indent = next.len() - next.trim_start().len();
        if !next.trim().is_empty() && next_indent <= key {
            break;
        }
        end = cursor + next.trim_end_matches('\n').len();
        cursor += next.len();
    }
    Some(line_start + key..end.max(line_start + key))
}

/// Inside a flow collection on `line` at `at`: the range of the item there, with the comma that
/// ends it.
fn flow_item(line: &str, at: usize) -> Option<std::ops::Range<usize>> {
    let (mut depth, mut open, mut quote) = (0usize, Vec::new(), None::<char>);
    for (i, c) in line[..at].char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '{' | '[') => {
                depth += 1;
                open.push(i);
            }
            (None, ',') if depth > 0 => *open.last_mut()? = i,
            (None, '}' | ']') => {
                depth = depth.saturating_sub(1);
                open.pop();
            }
            _ => {}
        }
    }
    let start = *open.last()? + 1;
    let (mut inner, mut quote) = (0usize, None::<char>);
    for (i, c) in line[at..].char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '{' | '[') => inner += 1,
            (None, '}' | ']') if inner > 0 => inner -= 1,
            (None, ',') if inner == 0 => return Some(start..at + i + 1),
            (None, '}' | ']') => return Some(start..at + i),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A large document of steps of every form, comments and block scalars between them.
    fn large(steps: usize) -> String {
        let mut text = "name: large\ntags: [big]\nsteps:\n".to_owned();
        for i in 0..steps {
            text.push_str(&match i % 4 {
                0 => format!("  - name: put {i}\n    request:\n      method: PUT\n      path: /r/{i}\n      body: |\n        line one\n\n        - not an item\n    expect: {{ status: [200, 201, 204] }}\n    capture: {{ tag{i}: {{ header: ETag }} }}\n"),
                1 => format!("# a comment at the margin\n  - name: get {i}\n    request: {{ path: /r/{i}, headers: {{ If-Match: '*' }} }}\n"),
                2 => format!("  - name: race {i}\n    concurrent:\n      count: 2\n      request: {{ method: DELETE, path: /r/{i} }}\n    expect: {{ exactly: {{ 2xx: 1 }} }}\n"),
                _ => format!("  -\n    name: bare {i}\n    request: {{ path: /r/{i} }}\n"),
            });
        }
        text.push_str("cleanup:\n  - name: gone\n    request: { method: DELETE, path: /r/0 }\n");
        text
    }

    #[test]
    fn a_large_document_read_a_slice_of_steps_at_a_time_is_the_document_read_whole() {
        let text = large(3_000);
        assert!(text.len() >= SLICED_FROM);
        let sliced = sliced(&text).expect("a plain block list of steps is sliced");
        let whole: Scenario = serde_yaml::from_str(&text).unwrap();
        assert_eq!(sliced.steps.len(), 3_000);
        assert_eq!(format!("{sliced:?}"), format!("{whole:?}"));

        // What a slice cannot read the same way is read whole: an alias, a flow list, a
        // small document.
        let aliased = text.replace("tags: [big]", "tags: &t [big]\ndescription: *t");
        assert!(read_whole(&aliased));
        assert!(read_whole(&text.replacen(
            "steps:\n",
            "steps: # listed\n",
            1
        )));
        assert!(read_whole(&large(10)));
    }

    /// Whether `text` is read as one document, not a slice of steps at a time.
    fn read_whole(text: &str) -> bool {
        sliced(text).is_none()
    }

    #[test]
    fn a_mistake_in_a_large_document_is_reported_as_in_any_other() {
        let text = large(3_000).replace("name: get 2001\n", "name: get 2001\n    bdy: x\n");
        let errors = load_str(&text, Path::new("big.yaml")).unwrap_err();
        let line = text[..text.find("bdy").unwrap()].lines().count();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].location, Some((line, 5)), "{}", errors[0]);
        assert!(errors[0].message.contains("bdy"), "{}", errors[0]);
    }

    /// The recovery's kinds come from structure, and from words that are serde's derive or
    /// contend's own, never serde_yaml's: produced here through serde_yaml as a file would be,
    /// so an update that changed them fails this test instead of silently changing which
    /// mistakes a file reports.
    #[test]
    fn mistakes_are_told_apart_by_structure_and_words_that_are_not_serde_yamls() {
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Needs {
            method: String,
            path: Option<String>,
        }
        let missing = serde_yaml::from_str::<Needs>("path: /x\n").unwrap_err();
        assert_eq!(
            Mistake::of(&missing.to_string(), is_syntax("path: /x\n")),
            Mistake::MissingKey
        );
        let step = load_str("name: s\nsteps:\n  - name: lonely\n", Path::new("s.yaml"))
            .unwrap_err()
            .remove(0)
            .message;
        assert!(
            matches!(
                Mistake::of(&step, false),
                Mistake::InStep {
                    name: "lonely",
                    needs: true
                }
            ),
            "{step}"
        );
        let unknown = serde_yaml::from_str::<Needs>("method: GET\nbdy: x\n").unwrap_err();
        assert_eq!(Mistake::of(&unknown.to_string(), false), Mistake::Entry);
        // Not YAML: decided by parsing, whatever the parser says.
        assert!(is_syntax("steps: [\n"));
        assert!(!is_syntax("steps: []\n"));
        assert_eq!(Mistake::of("missing field `x`", true), Mistake::Syntax);

        // A line indented to no block, and a key given twice: found in the text, so any words
        // from the parser give the plain message.
        let misindented = "name: s\nsteps:\n    - name: a\n  request: x\n";
        let at = misindented.find("request").unwrap();
        let (said, _) = plainer(
            "words a parser may change".into(),
            misindented,
            Some(at),
            true,
        );
        assert!(said.starts_with("this line is indented 2 spaces"), "{said}");
        let twice_given = "name: x\nname: y\nsteps: []\n";
        let (said, where_) = plainer("other words".into(), twice_given, Some(0), true);
        assert_eq!(
            said,
            "`name` is given twice in one mapping (first on line 1)"
        );
        assert_eq!(where_, Some(8));
        // Lines that do line up are left to the parser's words.
        let fine = "name: s\nsteps:\n  - name: a\n";
        let (said, _) = plainer(
            "words".into(),
            fine,
            fine.find("- name").map(|a| a + 2),
            true,
        );
        assert_eq!(said, "words");
    }
}
