//! Every catalog rule is covered: by a passive check, by a scenario under specs/ that names it
//! in `requirements`, or it is informational. The gaps are listed here by name, so closing one
//! means deleting its line, and a new rule cannot slip in unchecked.

use std::path::{Path, PathBuf};

use contend::judge::catalog::{self, CoverageState};
use contend::plan;
use contend::scenario;

/// Checkable from outside, not checked yet, and why.
const KNOWN_GAPS: &[(&str, &str)] = &[];

#[test]
fn every_catalog_rule_is_covered_or_a_named_gap() {
    let scenarios = scenario::load_paths(&[PathBuf::from("specs")]).unwrap();
    let ids: Vec<(String, &[String])> = scenarios
        .iter()
        .map(|s| (plan::scenario_id(s), s.requirements.as_slice()))
        .collect();
    let coverage = catalog::coverage(ids.iter().map(|(id, reqs)| (id.clone(), *reqs)));
    for c in &coverage {
        let gap = KNOWN_GAPS.iter().any(|(id, _)| *id == c.rule.id);
        match c.state() {
            CoverageState::NotYetChecked => assert!(gap, "{} is covered by nothing", c.rule.id),
            _ => assert!(
                !gap,
                "{} is covered now: remove it from KNOWN_GAPS",
                c.rule.id
            ),
        }
    }
    // Every requirement a built-in scenario names is a catalog rule.
    for (id, reqs) in &ids {
        for r in *reqs {
            assert!(
                catalog::find(r).is_some(),
                "{id} names {r}, which is not in the catalog"
            );
        }
    }
}

#[test]
fn against_the_embedded_server_only_the_428_collections_and_version_scenarios_are_not_applicable() {
    // The harness decides applicability before starting anything; with no CONTEND_TARGET it
    // must use the embedded server's capabilities (its example API included).
    if std::env::var_os("CONTEND_TARGET").is_some()
        || std::env::var_os("CONTEND_CAPABILITIES").is_some()
    {
        return;
    }
    let trials = contend::harness::trials(Path::new("specs"));
    let ignored: Vec<&str> = trials
        .iter()
        .filter(|t| t.has_ignored_flag())
        .map(|t| t.name())
        .collect();
    // The version scenarios need a profile's `version:` (tests/conformance.rs gives one).
    let files: Vec<&str> = ignored
        .iter()
        .map(|name| name.split("::").next().unwrap())
        .collect();
    assert_eq!(
        files,
        [
            "precondition-required",
            "put-missing-parent",
            "race-version",
            "version-stale"
        ],
        "{ignored:?}"
    );
    assert!(trials.len() >= 20);
}

#[test]
fn a_scenario_that_cannot_run_is_never_ok_even_with_ignored() {
    if std::env::var_os("CONTEND_TARGET").is_some() {
        return;
    }
    // `cargo test -- --ignored` runs the ignored trials: a not-applicable one must fail, with
    // the reason, rather than report `ok` for a scenario that sent nothing.
    let trials = contend::harness::trials(Path::new("specs"));
    // The inner run's log goes to a file, read here: a passing `cargo test` prints no FAILED.
    let log = std::env::temp_dir().join(format!("contend-ignored-{}.log", std::process::id()));
    let args = libtest_mimic::Arguments {
        ignored: true,
        filter: Some("precondition-required".into()),
        quiet: true,
        test_threads: Some(1),
        logfile: Some(log.display().to_string()),
        ..Default::default()
    };
    let conclusion = libtest_mimic::run(&args, trials);
    let logged = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    assert_eq!(
        (conclusion.num_passed, conclusion.num_failed),
        (0, 1),
        "{logged}"
    );
    assert!(
        logged.contains("the target lacks requires-preconditions"),
        "{logged}"
    );
}
