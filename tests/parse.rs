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
