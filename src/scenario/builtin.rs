//! The built-in suite, compiled into the binary from specs/, so `contend run` works from any
//! directory. Its files keep their `specs/...` paths, so their ids match a run of the
//! directory in this repository.

use std::path::{Path, PathBuf};

use include_dir::{include_dir, Dir};

use super::load::{load_str, LoadError};
use super::model::Scenario;

static SPECS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/specs");

/// Every built-in scenario file as (path, text), in path order.
pub fn files() -> Vec<(PathBuf, &'static str)> {
    let mut out = Vec::new();
    collect(&SPECS, &mut out);
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn collect(dir: &'static Dir<'static>, out: &mut Vec<(PathBuf, &'static str)>) {
    for file in dir.files() {
        let is_yaml = matches!(
            file.path().extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        );
        if let (true, Some(text)) = (is_yaml, file.contents_utf8()) {
            out.push((Path::new("specs").join(file.path()), text));
        }
    }
    for sub in dir.dirs() {
        collect(sub, out);
    }
}

/// The built-in scenarios; every error is returned (there are none unless the build is broken).
pub fn load() -> Result<Vec<Scenario>, Vec<LoadError>> {
    let mut scenarios = Vec::new();
    let mut errors = Vec::new();
    for (path, text) in files() {
        match load_str(text, &path) {
            Ok(found) => scenarios.extend(found),
            Err(e) => errors.extend(e),
        }
    }
    if errors.is_empty() {
        Ok(scenarios)
    } else {
        Err(errors)
    }
}
