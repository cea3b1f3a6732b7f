//! Parsing: the model a scenario file becomes, and the located errors a broken one gives.

use std::path::Path;

use contend::scenario::{load_file, load_str, Template, Vars};

#[test]
fn every_feature_parses_into_the_model() {
    let scenarios = load_file(Path::new("fixtures/every-feature.yaml")).unwrap();
    insta::assert_debug_snapshot!(scenarios);
}

#[test]
fn several_documents_make_several_scenarios_and_names_must_differ() {
    let two = "name: a\nsteps: [{ name: s, request: { path: / } }]\n---\nname: b\nsteps: [{ name: s, request: { path: / } }]\n";
    let loaded = load_str(two, Path::new("two.yaml")).unwrap();
    assert_eq!(
        loaded.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        ["a", "b"]
    );
    let same = two.replace("name: b", "name: a");
    let err = load_str(&same, Path::new("two.yaml")).unwrap_err();
    insta::assert_snapshot!(err[0].to_string(), @r#"
    two.yaml:4:1: error: two scenarios are named "a": names must be unique within a file
     --> two.yaml:4:1
      |
    4 | name: a
      | ^^^^^
    "#);
}

#[test]
fn templates_survive_yaml_quoting() {
    // The value is YAML-parsed first, templated after: quotes and colons in it are just text.
    let yaml = r#"
name: q
steps:
  - name: s
    request:
      path: /x
      headers: { If-Match: '"a", {{tag}}', X-Colon: "a: {{tag}}" }
"#;
    let loaded = load_str(yaml, Path::new("q.yaml")).unwrap();
    let contend::scenario::Action::Send { request, .. } = &loaded[0].steps[0].action else {
        panic!()
    };
    let mut vars = Vars::default();
    vars.set("tag", "\"b\"");
    let rendered: Vec<String> = request
        .headers
        .0
        .iter()
        .map(|(_, t)| t.render(&vars).unwrap())
        .collect();
    assert_eq!(rendered, [r#""a", "b""#, r#"a: "b""#]);
    assert_eq!(
        Template::parse("{{tag}}").unwrap().render(&vars).unwrap(),
        "\"b\""
    );
}

#[test]
fn a_bom_is_accepted_and_deep_nesting_is_refused_at_once() {
    let with_bom = "\u{feff}name: saved by an editor\nsteps: [{ name: s, request: { path: / } }]\n";
    assert_eq!(
        load_str(with_bom, Path::new("bom.yaml")).unwrap()[0].name,
        "saved by an editor"
    );
    // 100,000 `[` (200 KB) took serde_yaml minutes: refused before it parses.
    let deep = format!("name: x\nsteps: {}", "[".repeat(100_000));
    let started = std::time::Instant::now();
    let err = &load_str(&deep, Path::new("deep.yaml")).unwrap_err()[0];
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
    assert_eq!(err.location, Some((2, 72)));
    assert!(err.to_string().contains("nested deeper than 64 levels"));
    // An apostrophe in plain text opens no quoted string that would hide the nesting (the
    // fuzzer found this one: it took minutes).
    let hidden = format!(
        "name: x\ndescription: the collection's\nsteps: {}",
        "[".repeat(100_000)
    );
    let started = std::time::Instant::now();
    let err = &load_str(&hidden, Path::new("deep.yaml")).unwrap_err()[0];
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
    assert!(
        err.to_string().contains("nested deeper than 64 levels"),
        "{err}"
    );
}

// The JSON Schemas editors read (`contend schema`): generated from the model, committed under
// docs/schema/, and held to what the loader accepts: every shipped scenario and profile is
// valid, and every broken fixture a schema can see is refused.

mod schema {
    use std::path::{Path, PathBuf};

    use contend::scenario::schema;

    const SCENARIO: &str = "docs/schema/scenario.schema.json";
    const PROFILE: &str = "docs/schema/profile.schema.json";

    /// Broken fixtures whose mistake only the loader can see, each with why.
    const BEYOND_A_SCHEMA: [(&str, &str); 8] = [
        ("bad-template.yaml", "a `{{` left open inside a string"),
        (
            "capture-used-before.yaml",
            "the order in which steps define variables",
        ),
        (
            "duplicate-scenario-names.yaml",
            "names across a file's documents",
        ),
        ("missing-body-file.yaml", "the files beside the scenario"),
        ("undefined-env.yaml", "the environment"),
        ("undefined-variable.yaml", "which variables are defined"),
        ("unknown-rule.yaml", "the rule catalog"),
        ("version-template-typo.yaml", "which variables are defined"),
    ];

    fn yaml_files(dir: &str) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .collect();
        files.sort();
        files
    }

    /// YAML as an editor's language server sees it: JSON, every key a string (`412: 1`).
    fn as_json(value: serde_yaml::Value) -> serde_json::Value {
        use serde_yaml::Value as Y;
        match value {
            Y::Null => serde_json::Value::Null,
            Y::Bool(b) => b.into(),
            Y::Number(n) => serde_json::to_value(&n).unwrap(),
            Y::String(s) => s.into(),
            Y::Sequence(items) => items.into_iter().map(as_json).collect(),
            Y::Mapping(map) => (map.into_iter())
                .map(|(k, v)| {
                    let key = match k {
                        Y::String(s) => s,
                        other => serde_yaml::to_string(&other).unwrap().trim().to_owned(),
                    };
                    (key, as_json(v))
                })
                .collect::<serde_json::Map<_, _>>()
                .into(),
            Y::Tagged(tagged) => {
                let mut one = serde_json::Map::new();
                one.insert(
                    tagged.tag.to_string().trim_start_matches('!').into(),
                    as_json(tagged.value),
                );
                one.into()
            }
        }
    }

    /// Each document of a file, or `None` when it is not YAML at all (no schema applies).
    fn documents(path: &Path) -> Option<Vec<serde_json::Value>> {
        let text = std::fs::read_to_string(path).ok()?;
        let mut all = Vec::new();
        for document in serde_yaml::Deserializer::from_str(&text) {
            let value = serde::Deserialize::deserialize(document).ok()?;
            all.push(as_json(value));
        }
        Some(all)
    }

    struct Validator {
        schemas: boon::Schemas,
        index: boon::SchemaIndex,
    }

    impl Validator {
        fn new(schema: serde_json::Value) -> Validator {
            let mut schemas = boon::Schemas::new();
            let mut compiler = boon::Compiler::new();
            compiler.enable_format_assertions();
            compiler
                .add_resource("contend.schema.json", schema)
                .unwrap();
            let index = compiler
                .compile("contend.schema.json", &mut schemas)
                .unwrap();
            Validator { schemas, index }
        }

        /// The first error's words, or `None` when every document is valid.
        fn refuses(&self, documents: &[serde_json::Value]) -> Option<String> {
            documents.iter().find_map(|d| {
                (self.schemas.validate(d, self.index))
                    .err()
                    .map(|e| format!("{e:#}"))
            })
        }
    }

    #[test]
    fn the_committed_schemas_are_what_contend_schema_prints() {
        for (path, generated) in [(SCENARIO, schema::scenario()), (PROFILE, schema::profile())] {
            let committed: serde_json::Value = std::fs::read_to_string(path)
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or_default();
            let which = path
                .split('/')
                .next_back()
                .unwrap()
                .split('.')
                .next()
                .unwrap();
            assert!(
                committed == generated,
                "{path} is stale: `cargo run -q -- schema {which} > {path}`"
            );
        }
    }

    #[test]
    fn every_shipped_scenario_and_profile_is_valid() {
        let scenarios = Validator::new(schema::scenario());
        let mut files = Vec::new();
        for dir in [
            "specs",
            "specs/api",
            "specs/idempotency",
            "fixtures",
            "fixtures/alone",
        ] {
            files.extend(yaml_files(dir));
        }
        let mut checked = 0;
        for file in &files {
            let documents = documents(file).unwrap_or_else(|| panic!("{} is YAML", file.display()));
            if let Some(error) = scenarios.refuses(&documents) {
                panic!(
                    "{} is a valid scenario, yet the schema refuses it: {error}",
                    file.display()
                );
            }
            checked += documents.len();
        }
        assert!(checked >= 35, "only {checked} scenarios found");
        // What the loader accepts that no shipped file shows: `url:` for `path:`.
        let aliased = "name: a\nsteps: [{ name: s, request: { url: \"http://[::1]/x\" } }]\n";
        contend::scenario::load_str(aliased, Path::new("a.yaml")).unwrap();
        let value: serde_yaml::Value = serde_yaml::from_str(aliased).unwrap();
        assert_eq!(scenarios.refuses(&[as_json(value)]), None);

        let profiles = Validator::new(schema::profile());
        let mut files = yaml_files("fixtures/profiles");
        files.extend(yaml_files("scripts/real-servers"));
        for file in &files {
            contend::scenario::load_profile(file).unwrap();
            let documents = documents(file).unwrap();
            if let Some(error) = profiles.refuses(&documents) {
                panic!(
                    "{} is a valid profile, yet the schema refuses it: {error}",
                    file.display()
                );
            }
        }
        assert!(files.len() >= 15, "only {} profiles found", files.len());
    }

    #[test]
    fn broken_fixtures_are_refused_or_said_to_be_beyond_a_schema() {
        let scenarios = Validator::new(schema::scenario());
        let mut wrong = Vec::new();
        for file in yaml_files("fixtures/invalid") {
            let name = file.file_name().unwrap().to_str().unwrap();
            let beyond = BEYOND_A_SCHEMA.iter().find(|(n, _)| *n == name);
            let refused = match documents(&file) {
                None => true, // not YAML: the editor says so before any schema
                Some(documents) => scenarios.refuses(&documents).is_some(),
            };
            match (refused, beyond) {
                (true, None) | (false, Some(_)) => {}
                (true, Some(_)) => {
                    wrong.push(format!("{name}: refused, yet listed as beyond a schema"))
                }
                (false, None) => wrong.push(format!("{name}: the schema accepts it")),
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }
}
