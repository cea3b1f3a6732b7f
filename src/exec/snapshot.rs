//! Stored snapshots of response content beside the scenario,
//! `snapshots/<scenario file stem>__<name>.snap`, in insta's file format (a `---` metadata
//! header, then the content), so `cargo insta review` and `accept` work on them: a mismatch
//! writes the received content as a pending `<snapshot>.snap.new`.
//!
//! Written here rather than through insta's assertions: those expect a `cargo test` process
//! (a compile-time workspace root, panics as failures), and contend also runs as a CLI against
//! staging. `INSTA_UPDATE` means what it means to insta: `always` records, `no` writes no
//! pending file. The comparison itself is `judge::check_snapshot`.

use std::path::{Path, PathBuf};

use crate::judge::check_snapshot;
use crate::record::Check;

/// What became of a snapshot: compared (a finding when it differs), or recorded.
pub enum Outcome {
    Compared(Option<Check>),
    Recorded(PathBuf),
}

/// Compares with (or, when `update`, records) the snapshot `name` of `scenario_file`.
/// On a mismatch the received content is written to `<snapshot>.new` for review.
pub fn compare(
    scenario_file: &Path,
    name: &str,
    actual: &str,
    update: bool,
) -> Result<Outcome, String> {
    let path = snapshot_path(scenario_file, name);
    let io = |e: std::io::Error| format!("snapshot {}: {e}", path.display());
    let insta_update = std::env::var("INSTA_UPDATE").unwrap_or_default();
    let file = insta_file(scenario_file, name, actual);
    if update || insta_update == "always" {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        std::fs::write(&path, file).map_err(io)?;
        return Ok(Outcome::Recorded(path));
    }
    let stored = match std::fs::read_to_string(&path) {
        Ok(text) => Some(content_of(&text).to_owned()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(io(e)),
    };
    // As insta compares: trailing newlines do not count (`cargo insta accept` rewrites them).
    let line_ended = |s: &str| format!("{}\n", s.trim_end_matches('\n'));
    let failure = check_snapshot(
        name,
        stored.as_deref().map(line_ended).as_deref(),
        &line_ended(actual),
    );
    if failure.is_some() && insta_update != "no" {
        let mut pending = path.clone().into_os_string();
        pending.push(".new");
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = std::fs::write(pending, file);
    }
    Ok(Outcome::Compared(failure))
}

/// insta's `.snap` layout: YAML metadata between `---` lines, then the content and a newline.
fn insta_file(scenario_file: &Path, name: &str, content: &str) -> String {
    let quote = |s: &str| serde_json::to_string(s).unwrap_or_default();
    format!(
        "---\nsource: {}\nexpression: {}\n---\n{content}\n",
        quote(&scenario_file.display().to_string()),
        quote(name)
    )
}

/// The content of a stored snapshot: after insta's header when there is one (a file written by
/// an older contend is content only).
fn content_of(file: &str) -> &str {
    let body = file
        .strip_prefix("---\n")
        .and_then(|rest| rest.split_once("\n---\n"))
        .map_or(file, |(_, content)| content);
    body
}

fn snapshot_path(scenario_file: &Path, name: &str) -> PathBuf {
    let dir = scenario_file.parent().unwrap_or(Path::new("."));
    let stem = scenario_file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("scenario");
    // Names become file names: keep them portable.
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    dir.join("snapshots").join(format!("{stem}__{safe}.snap"))
}
