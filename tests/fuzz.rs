//! Fuzzing the loader, the planner's static checks and the template engine (proptest, on
//! stable). Inputs are the files under specs/ and fixtures/, mutated where YAML is fragile:
//! indentation, quotes, brackets, tabs, multi-byte characters, BOMs, `{{`, truncation, splices
//! of two files. Whatever the input: no panic, every error renders, the loader returns at once.
//!
//! `cargo test` runs a short pass (256 inputs per target). The long run (docs/fuzzing.md):
//!     PROPTEST_CASES=1000000 cargo test --release --test fuzz
//! A failing input is kept in fixtures/fuzz/regressions.txt (proptest replays it first on
//! every run); fixtures/fuzz/*.yaml holds inputs that once broke the loader.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use contend::plan::{self, Settings, Target};
use contend::scenario::{self, Capability, Template, Vars};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};

/// Every seed file's text (specs/ and fixtures/, YAML only), read once.
fn seeds() -> &'static [String] {
    static SEEDS: OnceLock<Vec<String>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut files = Vec::new();
        for dir in ["specs", "fixtures"] {
            collect(Path::new(dir), &mut files);
        }
        files.sort();
        let texts: Vec<String> = files
            .iter()
            .filter_map(|f| std::fs::read(f).ok())
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .collect();
        assert!(texts.len() > 50, "seeds: {}", texts.len());
        texts
    })
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, files);
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        ) {
            files.push(path);
        }
    }
}

/// The seeds that are one document and load without error.
fn valid_single_documents() -> &'static [&'static String] {
    static VALID: OnceLock<Vec<&'static String>> = OnceLock::new();
    VALID.get_or_init(|| {
        let valid: Vec<&String> = (seeds().iter())
            .filter(|s| s.starts_with("name:") && !s.contains("\n---"))
            .filter(|s| {
                scenario::load_lenient(s, Path::new("seed.yaml"))
                    .errors
                    .is_empty()
            })
            .collect();
        assert!(valid.len() > 10, "{} valid seeds", valid.len());
        valid
    })
}

/// What YAML and templates are fragile around.
const PIECES: &[&str] = &[
    ":",
    ": ",
    "-",
    "- ",
    "[",
    "]",
    "{",
    "}",
    ",",
    "\"",
    "'",
    "#",
    "\t",
    "\n",
    "\n  ",
    "    ",
    "é",
    "\u{feff}",
    "\u{1F600}",
    "{{",
    "}}",
    "{{x}}",
    "{{env.X}}",
    "*",
    "&a",
    "*a",
    "!",
    "|",
    ">",
    "%",
    "@",
    "`",
    "\\",
    "---\n",
    "...",
    "~",
    "null",
    "0x",
    "1e999",
    "-1",
    "\r\n",
];

#[derive(Debug, Clone)]
enum Edit {
    Insert(usize, &'static str),
    Delete(usize, usize),
    Truncate(usize),
    Duplicate(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => (any::<usize>(), prop::sample::select(PIECES)).prop_map(|(at, p)| Edit::Insert(at, p)),
        2 => (any::<usize>(), 1usize..40).prop_map(|(at, n)| Edit::Delete(at, n)),
        1 => any::<usize>().prop_map(Edit::Truncate),
        1 => (any::<usize>(), 1usize..200).prop_map(|(at, n)| Edit::Duplicate(at, n)),
    ]
}

/// A seed (or two spliced), with a few edits applied at character boundaries.
fn mutated() -> impl Strategy<Value = String> {
    (
        any::<prop::sample::Index>(),
        proptest::option::weighted(0.2, (any::<prop::sample::Index>(), any::<usize>())),
        prop::collection::vec(edit(), 0..8),
    )
        .prop_map(|(seed, splice, edits)| {
            let seeds = seeds();
            let mut text = seed.get(seeds).clone();
            if let Some((other, at)) = splice {
                let other = other.get(seeds);
                let at = boundary(&text, at);
                let from = boundary(other, at);
                text = format!("{}{}", &text[..at], &other[from..]);
            }
            for e in edits {
                apply(&mut text, e);
            }
            text
        })
}

fn boundary(text: &str, at: usize) -> usize {
    let mut at = at % (text.len() + 1);
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn apply(text: &mut String, e: Edit) {
    match e {
        Edit::Insert(at, piece) => {
            let at = boundary(text, at);
            text.insert_str(at, piece);
        }
        Edit::Delete(at, n) => {
            let at = boundary(text, at);
            let end = boundary(text, at + n).max(at);
            text.replace_range(at..end, "");
        }
        Edit::Truncate(at) => {
            let at = boundary(text, at);
            text.truncate(at);
        }
        Edit::Duplicate(at, n) => {
            let at = boundary(text, at);
            let end = boundary(text, at + n).max(at);
            let copy = text[at..end].to_owned();
            text.insert_str(end, &copy);
        }
    }
}

fn target() -> &'static Target {
    static TARGET: OnceLock<Target> = OnceLock::new();
    TARGET.get_or_init(|| Target::remote("http://fuzz.invalid", Some(&Capability::ALL)).unwrap())
}

fn config() -> Config {
    Config {
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "fixtures/fuzz/regressions.txt",
        ))),
        // Shrinking a failure is worth it; the budget keeps a long run's failure readable.
        max_shrink_iters: 2048,
        ..Config::with_cases(
            std::env::var("PROPTEST_CASES")
                .ok()
                .and_then(|n| n.parse().ok())
                .unwrap_or(256),
        )
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_scenario_text_loads_or_fails_with_located_errors(text in mutated()) {
        let file = Path::new("fuzz.yaml");
        let started = std::time::Instant::now();
        let loaded = scenario::load_lenient(&text, file);
        for e in &loaded.errors {
            let shown = e.to_string();
            prop_assert!(shown.contains("fuzz.yaml"), "{shown}");
        }
        prop_assert!(loaded.errors.len() <= scenario::MAX_ERRORS + 2);
        // The planner's static checks (templates, variables, resource rewrites) on what loaded.
        for s in loaded.scenarios {
            let id = plan::scenario_id(&s);
            let _ = plan::plan(Arc::new(s), id, target(), &Settings::default(), "fuzz");
        }
        // Linear in the file: even 4 MiB of input is read in well under this.
        prop_assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    /// Many documents in one file, one of them mutated: every error is located in that one,
    /// and the file is read in time linear in its size (each document re-read on its own).
    #[test]
    fn a_mistake_in_one_of_many_documents_is_located_in_that_document(
        picks in prop::collection::vec(any::<prop::sample::Index>(), 2..8),
        broken in any::<prop::sample::Index>(),
        edits in prop::collection::vec(edit(), 1..6),
    ) {
        let valid = valid_single_documents();
        // Named apart: a seed may be picked twice.
        let mut docs: Vec<String> = (picks.iter().enumerate())
            .map(|(i, p)| {
                let seed = p.get(valid);
                let rest = seed.split_once('\n').map_or("", |(_, rest)| rest);
                format!("name: document {i}\n{rest}")
            })
            .collect();
        let k = broken.index(docs.len());
        for e in edits {
            apply(&mut docs[k], e);
        }
        // Every document ends its last line, so a mutation cannot pull the marker into it.
        let mut text = String::new();
        let mut range = 0..0;
        for (i, doc) in docs.iter().enumerate() {
            let first = text.lines().count() + 1;
            text.push_str(doc);
            text.push('\n');
            if i == k {
                range = first..text.lines().count() + 2;
            }
            text.push_str("---\n");
        }
        let started = std::time::Instant::now();
        let loaded = scenario::load_lenient(&text, Path::new("many.yaml"));
        prop_assert!(started.elapsed() < std::time::Duration::from_secs(5));
        for e in &loaded.errors {
            let _ = e.to_string();
            if let Some((line, _)) = e.location {
                prop_assert!(range.contains(&line), "{e} not in lines {range:?} of:\n{text}");
            }
        }
    }

    #[test]
    fn any_profile_text_loads_or_fails_with_an_error(text in mutated()) {
        let loaded = scenario::load_profile_str(&text, Path::new("contend.yaml"));
        if let Err(e) = loaded {
            let _ = e.to_string();
        }
    }

    #[test]
    fn any_template_parses_or_fails_and_renders_without_panic(
        source in prop::collection::vec(prop::sample::select(PIECES), 0..12)
            .prop_map(|p| p.concat()),
        value in ".{0,8}",
    ) {
        if let Ok(template) = Template::parse(&source) {
            let mut vars = Vars::default();
            for name in template.variables().map(str::to_owned).collect::<Vec<_>>() {
                vars.set(name, value.clone());
            }
            let rendered = template.render(&vars);
            prop_assert!(rendered.is_ok(), "{source:?}: {rendered:?}");
            let _ = template.render(&Vars::default());
        }
    }
}

/// The inputs that once broke the loader (fixtures/fuzz/*.yaml) are loaded on every run; they
/// are seeds of the fuzzing too.
#[test]
fn the_corpus_of_inputs_that_once_broke_the_loader_loads_or_fails_cleanly() {
    let mut count = 0;
    for file in std::fs::read_dir("fixtures/fuzz").unwrap().flatten() {
        let path = file.path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
            let started = std::time::Instant::now();
            let loaded = scenario::load_lenient(&text, &path);
            assert!(
                started.elapsed() < std::time::Duration::from_secs(1),
                "{path:?}"
            );
            for e in &loaded.errors {
                let _ = e.to_string();
            }
            count += 1;
        }
    }
    assert!(count >= 5, "{count} corpus files");
}
