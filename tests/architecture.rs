//! The one-way flow of ARCHITECTURE.md, checked on the parsed source (syn), not on its text:
//! every path the library's shipped code names (`use` trees grouped or not, `crate::`,
//! `super::`, `self::`, a child module by name, paths in expressions and types) is resolved to
//! the file it lands in. Unit tests (`#[cfg(test)]` items) may build fixtures from anywhere;
//! comments and strings are not code. Two rules:
//! - no circle among files (a `mod.rs` is the facade of the files beneath it: edges between it
//!   and them are its own business and not counted);
//! - every import among modules follows the order of stages below: a module names only those
//!   ranked lower, so parse → plan → judge → execute → report → glue is the only direction.
//!
//! The test of the test (`each_known_bypass_is_caught`) plants each way the old text search was
//! walked around and requires a failure.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use syn::visit::Visit;

/// Top-level modules by rank: a module may name only modules of a lower rank. `record` and
/// `validators` are leaves. judge is pure functions over records and the scenario model: plan
/// consults it (the catalog, the policy) and exec calls it after each step, so it ranks below
/// both and names neither. `server` (the reference origin) is beside exec: it names what a
/// target is (`plan::Target`) and the validators, and nothing of the stages names it.
const RANKS: &[(&str, u8)] = &[
    ("record", 0),
    ("validators", 0),
    ("scenario", 1),
    ("judge", 2),
    ("plan", 3),
    ("exec", 4),
    ("server", 4),
    ("report", 5),
    ("suite", 6),
    ("harness", 7),
];

/// A file's module path: `src/exec/group.rs` → `exec::group`, `src/exec/mod.rs` → `exec`.
fn module_of(path: &Path) -> Vec<String> {
    let relative = path.strip_prefix("src").unwrap_or(path);
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap_or_default();
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" {
        parts.push(stem.to_owned());
    }
    parts
}

/// The library's files (the binary's `main.rs` and `live.rs` sit on top and are left out).
fn library_files() -> Vec<(PathBuf, String)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(Path::new("src"), &mut files);
    files.sort();
    files
        .into_iter()
        .filter(|p| !p.ends_with("main.rs") && !p.ends_with("live.rs"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p, text)
        })
        .collect()
}

fn is_cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.parse_args::<syn::Expr>()
                .is_ok_and(|e| matches!(&e, syn::Expr::Path(p) if p.path.is_ident("test")))
    })
}

/// Collects every path a file's shipped code names, as written, with the inline module it is
/// written in.
#[derive(Default)]
struct Names {
    /// (inline module path within the file, the path's segments)
    paths: Vec<(Vec<String>, Vec<String>)>,
    /// Child modules declared with `mod x;` or `mod x { .. }`, per inline module.
    children: BTreeSet<(Vec<String>, String)>,
    inline: Vec<String>,
}

impl Names {
    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                let mut path = prefix.clone();
                if n.ident != "self" {
                    path.push(n.ident.to_string());
                }
                self.paths.push((self.inline.clone(), path));
            }
            syn::UseTree::Rename(r) => {
                let mut path = prefix.clone();
                if r.ident != "self" {
                    path.push(r.ident.to_string());
                }
                self.paths.push((self.inline.clone(), path));
            }
            syn::UseTree::Glob(_) => self.paths.push((self.inline.clone(), prefix.clone())),
            syn::UseTree::Group(g) => {
                for tree in &g.items {
                    self.use_tree(prefix, tree);
                }
            }
        }
    }
}

impl<'ast> Visit<'ast> for Names {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        let attrs = match item {
            syn::Item::Mod(m) => &m.attrs,
            syn::Item::Fn(f) => &f.attrs,
            syn::Item::Impl(i) => &i.attrs,
            syn::Item::Use(u) => &u.attrs,
            syn::Item::Struct(s) => &s.attrs,
            syn::Item::Enum(e) => &e.attrs,
            syn::Item::Const(c) => &c.attrs,
            syn::Item::Static(s) => &s.attrs,
            syn::Item::Trait(t) => &t.attrs,
            syn::Item::Macro(m) => &m.attrs,
            _ => return syn::visit::visit_item(self, item),
        };
        if is_cfg_test(attrs) {
            return;
        }
        syn::visit::visit_item(self, item);
    }

    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        self.children
            .insert((self.inline.clone(), m.ident.to_string()));
        if m.content.is_some() {
            self.inline.push(m.ident.to_string());
            syn::visit::visit_item_mod(self, m);
            self.inline.pop();
        }
    }

    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        self.use_tree(&mut Vec::new(), &u.tree);
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        let segments = p.segments.iter().map(|s| s.ident.to_string()).collect();
        self.paths.push((self.inline.clone(), segments));
        syn::visit::visit_path(self, p);
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        // Paths inside macro calls (`format!`, `matches!`) are tokens: parse what parses.
        if let Ok(args) = m.parse_body_with(
            syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated,
        ) {
            for expr in &args {
                self.visit_expr(expr);
            }
        }
        syn::visit::visit_macro(self, m);
    }
}

/// File-level import graph: file module → the file modules its shipped code names.
fn file_graph(files: &[(PathBuf, String)]) -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let modules: BTreeSet<Vec<String>> = files.iter().map(|(p, _)| module_of(p)).collect();
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for (path, text) in files {
        let here = module_of(path);
        let parsed = syn::parse_file(text)
            .unwrap_or_else(|e| panic!("{}: does not parse: {e}", path.display()));
        let mut names = Names::default();
        names.visit_file(&parsed);
        for (inline, segments) in names.paths {
            let mut current = here.clone();
            current.extend(inline.iter().cloned());
            let Some(first) = segments.first() else {
                continue;
            };
            let absolute: Vec<String> = match first.as_str() {
                "crate" => segments[1..].to_vec(),
                "self" => current.iter().chain(&segments[1..]).cloned().collect(),
                "super" => {
                    let ups = segments.iter().take_while(|s| *s == "super").count();
                    let mut base = current.clone();
                    base.truncate(base.len().saturating_sub(ups));
                    base.into_iter()
                        .chain(segments[ups..].iter().cloned())
                        .collect()
                }
                // A child module named from its parent (`group::run` in exec/mod.rs).
                name if names.children.contains(&(inline.clone(), name.to_owned())) => {
                    current.iter().chain(&segments).cloned().collect()
                }
                _ => continue,
            };
            // The longest prefix that is a file: `exec::group::Release` lands in exec/group.rs.
            let target = (0..=absolute.len())
                .rev()
                .map(|n| absolute[..n].to_vec())
                .find(|prefix| modules.contains(prefix));
            // The crate root (lib.rs) declares the modules and is named by paths through it.
            if let Some(target) = target.filter(|t| *t != here && !t.is_empty()) {
                edges.entry(here.clone()).or_default().insert(target);
            }
        }
    }
    edges
}

/// A `mod.rs` and the files beneath it are one facade; edges between them are not counted.
fn facade(from: &[String], to: &[String]) -> bool {
    from.starts_with(to) || to.starts_with(from)
}

fn circle(edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Option<Vec<String>> {
    fn visit(
        node: &Vec<String>,
        edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        path: &mut Vec<Vec<String>>,
        done: &mut BTreeSet<Vec<String>>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == node) {
            let mut found: Vec<String> = path[at..].iter().map(|m| m.join("::")).collect();
            found.push(node.join("::"));
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.clone());
        for next in edges.get(node).into_iter().flatten() {
            if facade(node, next) {
                continue;
            }
            if let Some(found) = visit(next, edges, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.clone());
        None
    }
    let mut done = BTreeSet::new();
    edges
        .keys()
        .find_map(|start| visit(start, edges, &mut Vec::new(), &mut done))
}

/// Imports among top-level modules against the order of stages.
fn against_the_order(edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Vec<String> {
    let rank = |m: &[String]| {
        let top = m.first().map(String::as_str).unwrap_or_default();
        RANKS.iter().find(|(name, _)| *name == top).map(|(_, r)| *r)
    };
    let mut wrong = Vec::new();
    for (from, tos) in edges {
        for to in tos {
            if from.first() == to.first() {
                continue;
            }
            match (rank(from), rank(to)) {
                (Some(a), Some(b)) if a > b => {}
                (a, b) => wrong.push(format!(
                    "{} names {}, against the order of stages (ranks {a:?} and {b:?})",
                    from.join("::"),
                    to.join("::")
                )),
            }
        }
    }
    wrong
}

/// Every rule on the given sources: a circle or imports against the order, or nothing.
fn problems(files: &[(PathBuf, String)]) -> Vec<String> {
    let edges = file_graph(files);
    let mut found = against_the_order(&edges);
    if let Some(c) = circle(&edges) {
        found.push(format!("a circle of files: {}", c.join(" -> ")));
    }
    found
}

#[test]
fn imports_follow_the_stages_and_no_file_circle_remains() {
    let found = problems(&library_files());
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn every_top_level_module_has_a_rank() {
    let lib = std::fs::read_to_string("src/lib.rs").unwrap();
    let parsed = syn::parse_file(&lib).unwrap();
    for item in parsed.items {
        if let syn::Item::Mod(m) = item {
            let name = m.ident.to_string();
            assert!(
                RANKS.iter().any(|(n, _)| *n == name),
                "src/lib.rs declares `{name}`, which has no rank in tests/architecture.rs"
            );
        }
    }
}

/// Each way the text search of old was walked around, planted in a copy of the sources held
/// in memory: each must be caught.
#[test]
fn each_known_bypass_is_caught() {
    let files = library_files();
    let plant = |file: &str, code: &str| -> Vec<String> {
        let mut copy = files.clone();
        let entry = copy
            .iter_mut()
            .find(|(p, _)| p == Path::new(file))
            .unwrap_or_else(|| panic!("{file} is not in src"));
        entry.1.push_str(code);
        problems(&copy)
    };
    // (where, what is planted, a word of the problem it must raise)
    let bypasses = [
        // A grouped import reaching back up.
        (
            "src/judge/mod.rs",
            "\nuse crate::{exec::Runner, record};\n",
            "judge names exec",
        ),
        // `super::super::` from deep inside a stage.
        (
            "src/judge/catalog/race.rs",
            "\nfn reach() { let _ = super::super::super::report::rounds_said; }\n",
            "judge::catalog::race names report",
        ),
        // A circle through the glue: a stage naming `suite`, which names it.
        (
            "src/exec/mod.rs",
            "\nfn glue() { let _ = crate::suite::DEFAULT_RACE_BUDGET; }\n",
            "exec names suite",
        ),
        // `#[cfg(test)]` in a comment hides nothing that follows it.
        (
            "src/record.rs",
            "\n// #[cfg(test)] marks unit tests\nfn leak() { let _ = crate::plan::replan; }\n",
            "record names plan",
        ),
        // A circle of sibling files (group names gate; gate names group back).
        (
            "src/exec/gate.rs",
            "\nfn back() { let _ = super::group::run; }\n",
            "a circle of files",
        ),
    ];
    for (file, code, expected) in bypasses {
        let found = plant(file, code);
        assert!(
            found.iter().any(|p| p.contains(expected)),
            "planted in {file}: {code:?}; expected {expected:?}, found {found:?}"
        );
    }
}
