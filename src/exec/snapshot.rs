//! Stored snapshots of response content: plain files beside the scenario,
//! `snapshots/<scenario file stem>__<name>.snap`, holding the content exactly.
//!
//! Plain files rather than insta at run time: insta's assertions expect a `cargo test` process
//! (a compile-time workspace root, panics as failures), and contend also runs as a CLI against
//! staging. The comparison itself is `judge::check_snapshot`.

use std::path::{Path, PathBuf};

use crate::judge::check_snapshot;
use crate::record::Check;

/// Compares with (or, when `update`, records) the snapshot `name` of `scenario_file`.
/// On a mismatch the received content is written to `<snapshot>.new` for review.
pub fn compare(
    scenario_file: &Path,
    name: &str,
    actual: &str,
    update: bool,
) -> Result<Option<Check>, String> {
    let path = snapshot_path(scenario_file, name);
    let io = |e: std::io::Error| format!("snapshot {}: {e}", path.display());
    if update {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        std::fs::write(&path, actual).map_err(io)?;
        return Ok(None);
    }
    let stored = match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(io(e)),
    };
    let failure = check_snapshot(name, stored.as_deref(), actual);
    if failure.is_some() {
        let mut pending = path.clone().into_os_string();
        pending.push(".new");
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = std::fs::write(pending, actual);
    }
    Ok(failure)
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
