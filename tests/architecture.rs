//! The one-way flow of ARCHITECTURE.md, checked in the import graph: parse (`scenario`) →
//! `plan` → `exec` → `judge` → `report`, with `record` the leaf they share. Execute calls
//! judge after each step, so judge (pure functions) must import neither exec nor plan: the
//! graph among the stages has no circle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The stages and the leaves they share.
const STAGES: &[&str] = &[
    "record",
    "validators",
    "scenario",
    "plan",
    "exec",
    "judge",
    "report",
];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to: `src/judge/catalog/race.rs` → `judge`.
fn module_of(path: &Path) -> String {
    let relative = path.strip_prefix("src").unwrap();
    let first = relative
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_owned()
}

/// Which top-level modules each module's code names (`crate::judge::...`), tests left out.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(Path::new("src"), &mut files);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let from = module_of(&file);
        let text = std::fs::read_to_string(&file).unwrap();
        // Unit tests may build fixtures from anywhere; the shipped code may not.
        let shipped = text.split("#[cfg(test)]").next().unwrap_or_default();
        for (at, _) in shipped.match_indices("crate::") {
            let rest = &shipped[at + "crate::".len()..];
            let to: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !to.is_empty() && to != from {
                edges.entry(from.clone()).or_default().insert(to);
            }
        }
    }
    edges
}

#[test]
fn no_circle_among_the_stages() {
    let edges = graph();
    let stage = |m: &str| STAGES.contains(&m);
    // Depth-first search for a back edge, reporting the circle it closes.
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        stage: &dyn Fn(&str) -> bool,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == node) {
            let mut circle = path[at..].to_vec();
            circle.push(node.to_owned());
            return Some(circle);
        }
        if !done.insert(node.to_owned()) {
            return None;
        }
        path.push(node.to_owned());
        for next in edges.get(node).into_iter().flatten().filter(|n| stage(n)) {
            if let Some(circle) = visit(next, edges, stage, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        None
    }
    for start in STAGES {
        let mut done = BTreeSet::new();
        if let Some(circle) = visit(start, &edges, &stage, &mut Vec::new(), &mut done) {
            panic!("a circle of imports: {}", circle.join(" -> "));
        }
    }
}

#[test]
fn record_is_a_leaf_and_judge_is_pure() {
    let edges = graph();
    assert_eq!(
        edges.get("record"),
        None,
        "record imports {:?}",
        edges.get("record")
    );
    let judge = edges.get("judge").cloned().unwrap_or_default();
    for upstream in ["exec", "plan", "report", "suite", "harness", "server"] {
        assert!(!judge.contains(upstream), "judge imports {upstream}");
    }
}
