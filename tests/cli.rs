//! The `contend` binary end to end: exit codes, output formats, serve + run, secrets.

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};

/// contend as a user runs it, races hunted 3 rounds (the default budget's seconds per race
/// would add up over these tests; `the_default_race_budget_states_what_a_pass_proves` runs it).
fn contend(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_contend"))
        .env("CONTEND_RACE_BUDGET", "3")
        .args(args)
        .output()
        .expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn the_built_in_suite_passes_against_the_embedded_server() {
    let out = contend(&["run"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let text = stdout(&out);
    assert!(text.contains("embedded reference server"), "{text}");
    assert!(
        text.contains(" 0 failed, ") && text.contains(" 0 errors"),
        "{text}"
    );
    readme_shows(&text);
}

/// README.md's sample run says what this run printed: the scenario count in the heading, the
/// coverage lines and the summary (all but the times and the port), so it cannot go stale.
fn readme_shows(printed: &str) {
    let readme = std::fs::read_to_string("README.md").unwrap();
    let sample = readme
        .split("```\ncontend ")
        .nth(1)
        .and_then(|s| s.split("\n```").next())
        .map(|s| format!("contend {s}"))
        .expect("README.md has a sample run");
    let without_times = |line: &str| match line.rfind(" (") {
        Some(at) if line.ends_with(" s)") => line[..at].to_owned(),
        _ => line.to_owned(),
    };
    let heading = |text: &str| {
        let line = text
            .lines()
            .find(|l| l.starts_with("contend "))
            .unwrap_or("");
        line.split(" against ").next().unwrap_or("").to_owned()
    };
    assert_eq!(heading(&sample), heading(printed), "README.md's heading");
    let said = |text: &str| -> Vec<String> {
        (text.lines())
            .filter(|l| {
                l.starts_with("judged ")
                    || l.trim_start().starts_with("not judged: ")
                    || l.contains(" scenarios: ")
                    || l.starts_with("verdict: ")
            })
            .map(without_times)
            .collect()
    };
    assert_eq!(
        said(&sample),
        said(printed),
        "README.md's sample run is stale: update it from `cargo run --release -- run`"
    );
}

#[test]
fn the_428_scenario_passes_when_the_embedded_server_requires_preconditions() {
    let out = contend(&[
        "run",
        "--require-preconditions",
        "specs/precondition-required.yaml",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("1 passed"), "{}", stdout(&out));
}

#[test]
fn invalid_input_exits_2_with_a_location() {
    let out = contend(&["run", "fixtures/invalid/unknown-key.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.starts_with(
            "fixtures/invalid/unknown-key.yaml:7:7: error: steps[0].request: unknown field `bdy`"
        ),
        "{err}"
    );

    let out = contend(&["run", "--target", "ftp://example"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = contend(&["run", "--jobs", "many"]);
    assert_eq!(out.status.code(), Some(2));
}

/// The corpus of broken files: `contend check` shows every error of each, located, and exits 2
/// at once. A fixture says how many errors it holds in a first `# errors: N` line (else 1);
/// the snapshot is what a user reads.
#[test]
fn every_broken_file_gets_all_its_errors_located_at_once() {
    let mut files: Vec<_> = std::fs::read_dir("fixtures/invalid")
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 30, "the corpus has {} files", files.len());
    let located =
        regex::Regex::new(r"^fixtures/invalid/[a-z0-9-]+\.yaml:\d+:\d+: error: ").unwrap();
    for file in files {
        let path = file.to_str().unwrap();
        let bytes = std::fs::read(&file).unwrap();
        let declared = String::from_utf8_lossy(&bytes)
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# errors: "))
            .map_or(1, |n| n.trim().parse::<usize>().unwrap());
        let started = std::time::Instant::now();
        let out = contend(&["check", path]);
        let took = started.elapsed();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{path}: {err}");
        assert!(took < std::time::Duration::from_secs(1), "{path}: {took:?}");
        let errors: Vec<&str> = err
            .lines()
            .filter(|l| !l.starts_with(' ') && l.contains("error:"))
            .collect();
        for line in &errors {
            assert!(located.is_match(line), "{path}: not located: {line}");
        }
        assert_eq!(errors.len(), declared, "{path}:\n{err}");
        let name = file.file_stem().unwrap().to_str().unwrap().to_owned();
        insta::assert_snapshot!(name, err);
    }
}

/// 1,500 conditional GETs in a workload (more than the run keeps in memory unless asked to): the
/// report keeps a sample and every exchange a finding points at, and counts them all; a 304
/// inside the workload is compared with the 200 before.
#[test]
fn reports_keep_a_sample_of_a_long_workload_and_what_findings_point_at() {
    let dir = std::env::temp_dir().join(format!("contend-sample-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("long.yaml");
    std::fs::write(
        &file,
        "name: long\nsteps:\n  - name: put\n    request: { method: PUT, path: '{{scratch}}/d', body: x }\n\
         \x20 - name: get\n    request: { path: '{{scratch}}/d' }\n    capture: { tag: { header: ETag } }\n\
         \x20 - name: reads\n    workload:\n      clients: 1\n      repeat: 1500\n      steps:\n\
         \x20       - name: read\n          request: { path: '{{scratch}}/d', headers: { If-None-Match: '{{tag}}' } }\n\
         \x20         expect: { status: 304 }\n\
         cleanup:\n  - name: delete\n    request: { method: DELETE, path: '{{scratch}}/d' }\n",
    )
    .unwrap();
    let file = file.to_str().unwrap();
    let run = |target: &str, which: &str| -> serde_json::Value {
        let out = contend(&[
            "run",
            "--format",
            "json",
            "--target",
            target,
            "--report-exchanges",
            which,
            file,
        ]);
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)))
    };
    let reads = |report: &serde_json::Value| report["scenarios"][0]["steps"][2].clone();
    let (mut good, url) = serve(&[]);
    let sample = reads(&run(&url, "failing"));
    assert_eq!(sample["sent"], 1500);
    assert_eq!(
        sample["exchanges"].as_array().unwrap().len(),
        98,
        "100 in all, 2 before"
    );
    let all = reads(&run(&url, "all"));
    assert_eq!(all["exchanges"].as_array().unwrap().len(), 1500);
    assert_eq!(
        reads(&run(&url, "none"))["exchanges"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    good.kill().unwrap();
    let _ = good.wait();

    let (mut bad, url) = serve(&["--fault", "304-without-etag"]);
    let report = run(&url, "none");
    bad.kill().unwrap();
    let _ = bad.wait();
    let failure = &report["scenarios"][0]["failures"][0];
    assert_eq!(failure["rule"], "304.headers", "{report}");
    let at = &failure["exchanges"][0];
    assert_eq!(at["step"], 2, "{failure}");
    // The exchange the finding points at is kept even with `none`.
    let kept = reads(&report)["exchanges"].as_array().unwrap().clone();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0]["position"], at["exchange"]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A retry released after the first request was answered cannot show how the target treats a
/// retry in flight: inconclusive, never a pass, and the run says nothing was tested.
#[test]
fn a_retry_that_comes_too_late_is_inconclusive() {
    let dir = std::env::temp_dir().join(format!("contend-late-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let scenario = std::fs::read_to_string("specs/idempotency/in-flight.yaml").unwrap();
    // The reference server works 30 ms on a payment: 5 ms is in flight, 300 ms is not.
    assert!(scenario.contains("after: 5ms"));
    let late = dir.join("late.yaml");
    std::fs::write(&late, scenario.replace("after: 5ms", "after: 300ms")).unwrap();
    let out = contend(&["run", late.to_str().unwrap()]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("0 passed, 0 failed, 1 not applicable"),
        "{text}"
    );
    assert!(
        text.contains("inconclusive: request #1 (released 300ms after the others) left"),
        "{text}"
    );
    assert!(
        stderr(&out).contains("nothing was tested"),
        "{}",
        stderr(&out)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn json_output_shows_every_request_of_a_group() {
    let out = contend(&["run", "--format", "json", "specs/race-if-match.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["summary"]["passed"], 1);
    let steps = report["scenarios"][0]["steps"].as_array().unwrap();
    let race = steps.iter().find(|s| s["name"] == "race").unwrap();
    let exchanges = race["exchanges"].as_array().unwrap();
    assert_eq!(exchanges.len(), 20);
    let statuses: Vec<u64> = exchanges
        .iter()
        .map(|e| e["response"]["status"].as_u64().unwrap())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| (200..300).contains(*s)).count(),
        1
    );
    assert_eq!(statuses.iter().filter(|s| **s == 412).count(), 19);
    for (i, e) in exchanges.iter().enumerate() {
        assert_eq!(e["index"], i);
        assert_eq!(e["request"]["method"], "PUT");
    }
}

#[test]
fn serve_and_run_against_it_give_the_same_verdicts_as_embedded() {
    let (mut server, url) = serve(&[]);
    let verdicts = |out: &Output| -> Vec<(String, String)> {
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        report["scenarios"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["id"].as_str().unwrap().to_owned(),
                    s["status"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let remote = contend(&["run", "--format", "json", "--target", &url]);
    let embedded = contend(&["run", "--format", "json"]);
    server.kill().unwrap();
    let _ = server.wait();
    // On a mismatch, show what failed and why: the human report of both runs.
    let human = |out: &Output| {
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        report["scenarios"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["status"] == "failed")
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(remote.status.code(), Some(0), "{:?}", human(&remote));
    // What a profile must declare (no probe can tell it without executing a payment) is not
    // applicable where nothing declares it.
    let mut expected = verdicts(&embedded);
    for (id, verdict) in &mut expected {
        if id.starts_with("idempotency/key-scope::") || id.starts_with("idempotency/missing-key::")
        {
            *verdict = "not_applicable".into();
        }
    }
    assert_eq!(
        verdicts(&remote),
        expected,
        "remote: {:?}\nembedded: {:?}",
        human(&remote),
        human(&embedded)
    );
}

#[test]
fn every_feature_runs_and_secrets_stay_out_of_the_output() {
    let secret = "tour-token-8d1f";
    for format in ["human", "json"] {
        let out = Command::new(env!("CARGO_BIN_EXE_contend"))
            .args([
                "run",
                "--format",
                format,
                "fixtures/every-feature.yaml",
                "-H",
                "Cookie: session=cookie-5a5a",
            ])
            .env("CONTEND_TOUR_TOKEN", secret)
            .output()
            .unwrap();
        let all = format!("{}{}", stdout(&out), stderr(&out));
        assert_eq!(out.status.code(), Some(0), "{all}");
        assert!(
            !all.contains(secret),
            "secret variable leaked in {format} output"
        );
        assert!(
            !all.contains("cookie-5a5a"),
            "cookie leaked in {format} output"
        );
        if format == "json" {
            assert!(all.contains("\"authorization\": \"[secret]\""), "{all}");
        }
    }
}

/// Beside the routes below (`planted_secrets_appear_in_no_output_in_any_form`): a `secret:
/// true` capture, the target URL's query, and a value that carries a secret base64- and
/// URL-safe-encoded inside a larger blob, which the server echoes back, appear in no output:
/// the terminal (verbose), JSON, JUnit, HTML, `--dry-run`, a recorded snapshot, stderr.
#[test]
fn secrets_stay_out_of_dry_runs_snapshots_and_encoded_echoes() {
    use base64::Engine;
    let token = "qz7-signed-url-sig";
    let (_server, url) = serve(&["--require-token", token]);
    let secrets = [
        ("header", "hdr-credential-71x"),
        ("env", "env-credential-93k"),
        ("var", "var-credential-55q"),
        ("password", "pw-credential-28m"),
    ];
    let dir = temp_dir("planted");
    std::fs::write(
        dir.0.join("contend.yaml"),
        "headers: { X-Api-Key: \"{{env.PLANTED_KEY}}\" }\n",
    )
    .unwrap();
    // The server echoes what was stored: the secret inside larger values, encoded two ways.
    let blob = |engine: &base64::engine::GeneralPurpose| {
        engine.encode(format!(
            "{{\"user\":7,\"key\":\"{}\",\"n\":1}}",
            secrets[2].1
        ))
    };
    let standard = blob(&base64::engine::general_purpose::STANDARD);
    let url_safe = blob(&base64::engine::general_purpose::URL_SAFE_NO_PAD);
    std::fs::write(
        dir.0.join("planted.yaml"),
        format!(
            "name: planted\nvars:\n  key: {{ value: \"{}\", secret: true }}\nsteps:\n  - name: store\n    \
             request: {{ method: PUT, path: \"{{{{scratch}}}}/doc\", body: \"k={{{{key}}}} a={standard} b={url_safe}\" }}\n    \
             expect: {{ status: 201 }}\n  - name: read\n    request: {{ path: \"{{{{scratch}}}}/doc\" }}\n    \
             expect: {{ status: 200, snapshot: echoed }}\n    \
             capture: {{ again: {{ body: true, regex: 'k=(\\S+)', secret: true }} }}\n  - name: use it\n    \
             request: {{ path: \"{{{{scratch}}}}/{{{{again}}}}\" }}\n    expect: {{ status: 404 }}\n\
             cleanup:\n  - name: delete\n    request: {{ method: DELETE, path: \"{{{{scratch}}}}/doc\" }}\n",
            secrets[2].1
        ),
    )
    .unwrap();
    let target = format!(
        "http://user:{}@{}/?token={token}",
        secrets[3].1,
        url.trim_start_matches("http://").trim_end_matches('/')
    );
    let reports = ["json=out.json", "junit=out.xml", "html=out.html"];
    let mut outputs = Vec::new();
    for extra in [
        &["-v", "--update-snapshots"][..],
        &["--dry-run"][..],
        &["--format", "json"][..],
    ] {
        let mut args = vec!["run", "--target", &target, "-H"];
        let header = format!("Authorization: Bearer {}", secrets[0].1);
        args.push(&header);
        for r in &reports {
            args.extend(["--report", r]);
        }
        args.extend(extra);
        args.push("planted.yaml");
        let out = Command::new(env!("CARGO_BIN_EXE_contend"))
            .args(&args)
            .current_dir(&dir.0)
            .env("PLANTED_KEY", secrets[1].1)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        outputs.push((
            format!("{extra:?}"),
            format!("{}{}", stdout(&out), stderr(&out)),
        ));
        assert!(
            out.status.code() == Some(0),
            "{extra:?}: {}",
            outputs.last().unwrap().1
        );
    }
    for file in [
        "out.json",
        "out.xml",
        "out.html",
        "snapshots/planted__echoed.snap",
    ] {
        let text = std::fs::read_to_string(dir.0.join(file)).unwrap();
        outputs.push((file.to_owned(), text));
    }
    let echoed = &outputs[0].1;
    assert!(echoed.contains("[secret]"), "{echoed}");
    let mut forms: Vec<String> = secrets.iter().map(|(_, s)| s.to_string()).collect();
    forms.push(token.to_owned());
    forms.push(base64::engine::general_purpose::STANDARD.encode(secrets[2].1)[..12].to_owned());
    for (what, text) in &outputs {
        for form in &forms {
            assert!(!text.contains(form.as_str()), "{form} in {what}:\n{text}");
        }
        // What is left of the blobs decodes to nothing that holds the secret.
        for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || "+/-_=".contains(c))) {
            for engine in [
                base64::engine::general_purpose::STANDARD_NO_PAD,
                base64::engine::general_purpose::URL_SAFE_NO_PAD,
            ] {
                if let Ok(bytes) = engine.decode(word.trim_end_matches('=')) {
                    let decoded = String::from_utf8_lossy(&bytes);
                    assert!(!decoded.contains(secrets[2].1), "{word} in {what}");
                }
            }
        }
    }
}

/// Starts `contend serve` with extra flags on an ephemeral port; returns the child and its URL.
/// A reference server in a child process, stopped when dropped: a failing assertion must not
/// leave it running (and the test run waiting on its output).
struct Served(std::process::Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl std::ops::Deref for Served {
    type Target = std::process::Child;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for Served {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

fn serve(flags: &[&str]) -> (Served, String) {
    let mut server = Command::new(env!("CARGO_BIN_EXE_contend"))
        .args(["serve", "--addr", "127.0.0.1:0"])
        .args(flags)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let url = first.trim().rsplit(' ').next().unwrap().to_owned();
    let server = Served(server);
    assert!(url.contains("://127.0.0.1:"), "{first}");
    (server, url)
}

#[test]
fn a_server_that_ignores_if_match_fails_with_the_rule_named() {
    let (mut server, url) = serve(&["--fault", "ignore-if-match"]);
    let out = contend(&[
        "run",
        "--target",
        &url,
        "specs/if-match.yaml",
        "specs/race-if-match.yaml",
    ]);
    server.kill().unwrap();
    let _ = server.wait();
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    for wanted in [
        "step `update with the stale tag` [if-match.mismatch, MUST, RFC 9110 13.1.1]: status: expected 412, got 204",
        "step `race` [race.one-winner, MUST, RFC 9110 13.1.1 (its purpose)]: outcomes: expected exactly 1 × 2xx, got 20 × 2xx (204 × 20)",
    ] {
        assert!(text.contains(wanted), "{wanted}\n{text}");
    }
}

#[test]
fn should_level_findings_warn_unless_strict_and_allow_waives() {
    let args = [
        "run",
        "--fault",
        "409-without-content",
        "specs/conflict-409.yaml",
    ];
    let out = contend(&args);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out)
            .contains("warning: step `PUT beneath it` [409.explains, SHOULD, RFC 9110 15.5.10]"),
        "{}",
        stdout(&out)
    );
    let strict = contend(&[&args[..], &["--strict"]].concat());
    assert_eq!(strict.status.code(), Some(1));
    let waived = contend(&[&args[..], &["--strict", "--allow", "409.explains"]].concat());
    assert_eq!(waived.status.code(), Some(0));
    assert!(
        stdout(&waived).contains("waived: step `PUT beneath it`"),
        "{}",
        stdout(&waived)
    );
}

#[test]
fn explain_and_the_coverage_table() {
    let out = contend(&["explain", "if-match.strong"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(
        text.starts_with("if-match.strong  MUST  RFC 9110 13.1.1, 8.8.3.2"),
        "{text}"
    );
    assert!(
        text.contains("https://www.rfc-editor.org/rfc/rfc9110#section-8.8.3.2"),
        "{text}"
    );
    assert_eq!(contend(&["explain", "no.such-rule"]).status.code(), Some(2));

    let table = stdout(&contend(&["list", "--requirements"]));
    assert!(table.contains("if-match.mismatch"), "{table}");
    assert!(table.lines().last().unwrap().contains("rules:"), "{table}");
}

#[test]
fn snapshots_are_recorded_compared_and_diffed() {
    let dir = temp_dir("snap");
    let file = dir.join("snap.yaml");
    std::fs::write(
        &file,
        r#"
name: content snapshot
steps:
  - name: store
    request: { method: PUT, path: "{{scratch}}/doc", body: "line one\nline two\n" }
  - name: read
    request: { path: "{{scratch}}/doc" }
    expect: { status: 200, snapshot: doc-content }
"#,
    )
    .unwrap();
    let file = file.to_str().unwrap();
    let stored = dir.join("snapshots/snap__doc-content.snap");

    let first = contend(&["run", file]);
    assert_eq!(first.status.code(), Some(1));
    assert!(
        stdout(&first).contains("snapshot doc-content: expected a stored snapshot, got none yet"),
        "{}",
        stdout(&first)
    );

    let record = contend(&["run", "--update-snapshots", file]);
    assert_eq!(record.status.code(), Some(0), "{}", stdout(&record));
    assert!(
        stdout(&record).contains("step `read`: snapshot `doc-content` recorded, not compared:"),
        "{}",
        stdout(&record)
    );
    // insta's layout, so `cargo insta review` reads it: a metadata header, then the content.
    assert_eq!(
        std::fs::read_to_string(&stored).unwrap(),
        format!("---\nsource: {file:?}\nexpression: \"doc-content\"\n---\nline one\nline two\n\n")
    );
    assert_eq!(contend(&["run", file]).status.code(), Some(0));

    std::fs::write(&stored, "---\nsource: x\n---\nline one\nline 2\n\n").unwrap();
    let changed = contend(&["run", "--format", "json", file]);
    assert_eq!(changed.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&changed.stdout).unwrap();
    let actual = report["scenarios"][0]["failures"][0]["actual"]
        .as_str()
        .unwrap();
    assert!(actual.contains("-line 2\n+line two"), "{actual}");
    let pending = dir.join("snapshots/snap__doc-content.snap.new");
    let pending_text = std::fs::read_to_string(&pending).unwrap();
    assert!(
        pending_text.ends_with("---\nline one\nline two\n\n"),
        "{pending_text}"
    );
    // INSTA_UPDATE=always records, as insta does.
    let recorded = Command::new(env!("CARGO_BIN_EXE_contend"))
        .args(["run", file])
        .env("INSTA_UPDATE", "always")
        .output()
        .unwrap();
    assert_eq!(recorded.status.code(), Some(0));
    assert_eq!(contend(&["run", file]).status.code(), Some(0));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A scratch directory for one test, removed by the caller.
/// A directory of one test's own, removed when the test is done, passed or failed.
struct TempDir(std::path::PathBuf);

impl std::ops::Deref for TempDir {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl AsRef<std::path::Path> for TempDir {
    fn as_ref(&self) -> &std::path::Path {
        &self.0
    }
}

impl AsRef<std::ffi::OsStr> for TempDir {
    fn as_ref(&self) -> &std::ffi::OsStr {
        self.0.as_os_str()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn temp_dir(name: &str) -> TempDir {
    let dir = std::env::temp_dir().join(format!("contend-{name}-{}", std::process::id()));
    // A process id is reused: what an earlier run left under it must not leak in.
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    TempDir(dir)
}

#[test]
fn a_profile_accepts_a_documented_deviation_and_says_so() {
    let dir = temp_dir("profile");
    let profile = dir.join("contend.yaml");
    std::fs::write(&profile, "accept:\n  if-match.mismatch: [409]\n").unwrap();
    let profile = profile.to_str().unwrap();
    let args = ["run", "--fault", "409-for-412", "specs/if-match.yaml"];
    assert_eq!(
        contend(&args).status.code(),
        Some(1),
        "without the profile the 409 fails"
    );
    let out = contend(&[&args[..], &["--config", profile]].concat());
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let wanted = "accepted by the profile, not RFC 9110: step `update with the stale tag` [if-match.mismatch";
    assert!(stdout(&out).contains(wanted), "{}", stdout(&out));
    // The accepted refusal covers what follows it: the read that shows nothing changed runs.
    let follow_up = [&args[..], &["--config", profile, "-v"]].concat();
    let shown = stdout(&contend(&follow_up));
    assert!(!shown.contains("not run"), "{shown}");
    assert!(shown.contains("step `nothing changed`"), "{shown}");

    std::fs::write(
        dir.join("contend.yaml"),
        "target: http://127.0.0.1:1\nacept: {}\n",
    )
    .unwrap();
    let bad = contend(&[
        "run",
        "--config",
        dir.join("contend.yaml").to_str().unwrap(),
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("contend.yaml:2:1: error: unknown field `acept`"),
        "{}",
        stderr(&bad)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A target that answers 201 to a PUT that replaces breaks `put.replaced`, and only that: the
/// scenarios that replace a resource on the way (`status: replaced`) take the 201 as the write
/// performed. A profile that holds replaces to RFC 9110's two statuses makes them say so again;
/// one that accepts the 201 under its rule makes the run pass.
#[test]
fn a_201_on_replace_is_judged_once_under_its_rule() {
    let failed = |extra: &[&str]| -> Vec<(String, Vec<String>)> {
        let args = ["run", "--fault", "201-on-replace", "--race-budget", "2"];
        let out = contend(&[&args[..], &["--format", "json"], extra].concat());
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (report["scenarios"].as_array().unwrap().iter())
            .filter(|s| s["status"] == "failed")
            .map(|s| {
                let rules = (s["failures"].as_array().unwrap().iter())
                    .map(|f| f["rule"].as_str().unwrap_or("").to_owned())
                    .collect();
                (s["id"].as_str().unwrap().to_owned(), rules)
            })
            .collect()
    };
    let plain = failed(&[]);
    assert_eq!(plain.len(), 1, "{plain:?}");
    assert!(plain[0].0.starts_with("put-status::"), "{plain:?}");
    assert!(!plain[0].1.is_empty(), "{plain:?}");
    assert!(plain[0].1.iter().all(|r| r == "put.replaced"), "{plain:?}");

    let dir = temp_dir("replace");
    let strict = dir.join("strict.yaml");
    std::fs::write(&strict, "replace: { status: [200, 204] }\n").unwrap();
    let held = failed(&["--config", strict.to_str().unwrap()]);
    assert!(
        held.iter().any(|(id, _)| id.starts_with("if-match::")),
        "{held:?}"
    );
    let accepting = dir.join("accepting.yaml");
    std::fs::write(&accepting, "accept: { put.replaced: [201] }\n").unwrap();
    assert_eq!(failed(&["--config", accepting.to_str().unwrap()]), vec![]);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A CalDAV-style body format: the counter and the expected contents are read from the sample's
/// place in the document, so a correct target passes (the `2` of `VERSION:2.0` once read as
/// the counter: "48 acknowledged updates were lost").
#[test]
fn a_text_body_format_is_read_back_from_where_the_sample_sits() {
    let out = contend(&[
        "run",
        "specs/race-counter.yaml",
        "specs/validators.yaml",
        "specs/if-match-delete.yaml",
        "--config",
        "fixtures/profiles/icalendar.yaml",
        "--race-budget",
        "3",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("3 passed"), "{}", stdout(&out));
}

/// A scenario that reads what the whole target shares runs once the others are done, on its
/// own: listed first and quick, it still finishes after a slow one (without `alone` it is
/// done first).
#[test]
fn a_scenario_marked_alone_runs_with_no_other_at_once() {
    let out = contend(&["run", "fixtures/alone", "-j", "4"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let text = stdout(&out);
    let (alone, slow) = (text.find("PASS  a-alone::"), text.find("PASS  b-slow::"));
    assert!(alone.is_some() && slow.is_some(), "{text}");
    assert!(slow < alone, "{text}");
}

/// RFC 9110 13.2.2's evaluation order binds origin servers; a cache MAY ignore If-Match and
/// If-Unmodified-Since (13.1.1, 13.1.4). A target a profile calls a cache is not failed under
/// the order rules: they are not checked, with the sentence why.
#[test]
fn a_cache_is_not_judged_on_rules_for_origin_servers() {
    let args = [
        "run",
        "--fault",
        "if-none-match-first",
        "specs/precedence.yaml",
    ];
    let origin = contend(&[&args[..], &["--format", "json"]].concat());
    let report: serde_json::Value = serde_json::from_slice(&origin.stdout).unwrap();
    assert_eq!(report["scenarios"][0]["status"], "failed");
    let cached = contend(&[&args[..], &["--config", "fixtures/profiles/cache.yaml"]].concat());
    let text = stdout(&cached);
    assert!(!text.contains("FAIL"), "{text}");
    for rule in ["order.if-match-first", "order.ius-before-inm"] {
        assert!(
            text.contains(&format!("not judged: {rule}: not checked")),
            "{rule}: {text}"
        );
    }
    assert!(
        text.contains("the target is a cache: RFC 9110 13.2.2"),
        "{text}"
    );
}

/// A cache that keeps a copy after a write is found under the cache's own rule, and what such
/// a copy seems to say of the origin (a write not stored, a DELETE not done) is not checked:
/// through a cache that does not invalidate, the origin is not seen.
#[test]
fn a_cache_that_keeps_stale_copies_is_judged_under_its_own_rule() {
    let args = [
        "run",
        "--fault",
        "stale-cache",
        "--config",
        "fixtures/profiles/cache.yaml",
        "specs/if-match.yaml",
        "specs/race-delete-once.yaml",
        "--format",
        "json",
    ];
    let out = contend(&args);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let scenarios = report["scenarios"].as_array().unwrap();
    let failing: Vec<&str> = (scenarios.iter())
        .flat_map(|s| s["failures"].as_array().unwrap())
        .map(|f| f["rule"].as_str().unwrap_or("(none)"))
        .collect();
    assert_eq!(failing, ["cache.invalidates"], "{report}");
    let not_checked: Vec<&str> = (scenarios.iter())
        .flat_map(|s| s["not_checked"].as_array().unwrap())
        .map(|f| f["reason"].as_str().unwrap_or_default())
        .collect();
    assert!(
        not_checked
            .iter()
            .any(|w| w.contains("what the origin did is not seen")),
        "{report}"
    );
    // The same suite through a cache that invalidates: nothing to find.
    let correct = contend(&[&args[..1], &args[3..]].concat());
    assert_eq!(correct.status.code(), Some(0), "{}", stdout(&correct));
}

/// A workload's client that retries on 412 and is refused every time has met a target that did
/// as asked: giving up is not checked, never a failure under the step.
#[test]
fn a_client_that_gives_up_on_412_accuses_no_one() {
    let out = contend(&["run", "fixtures/workload-gives-up.yaml", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let scenario = &report["scenarios"][0];
    assert_eq!(
        scenario["failures"].as_array().unwrap().len(),
        0,
        "{scenario}"
    );
    assert_ne!(scenario["status"], "passed", "{scenario}");
    let reason = scenario["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("gave up after 3 retries, every one answered 412"),
        "{scenario}"
    );
}

/// A counter write that loses with 409 instead of 412 is retried like a 412 and judged under
/// `race.loser-412` (a warning, or accepted by a profile), never a failure of the write step.
#[test]
fn a_counter_writes_409_is_the_loser_rules_to_judge() {
    let args = [
        "run",
        "specs/race-counter.yaml",
        "--fault",
        "409-for-412",
        "--race-budget",
        "2",
    ];
    let out = contend(&args);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("warning: step `increment` [race.loser-412"),
        "{text}"
    );
    let dir = temp_dir("loser-409");
    let profile = dir.join("contend.yaml");
    std::fs::write(&profile, "accept: { race.loser-412: [409] }\n").unwrap();
    let accepted = contend(&[&args[..], &["--config", profile.to_str().unwrap()]].concat());
    let text = stdout(&accepted);
    assert!(
        text.contains("accepted by the profile, not RFC 9110: step `increment` [race.loser-412"),
        "{text}"
    );
}

#[test]
fn probe_finds_what_the_target_supports() {
    let out = contend(&["probe"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    for (capability, found) in [
        ("put-create", "yes"),
        ("range", "yes"),
        ("requires-preconditions", "no"),
        ("example-api", "yes"),
    ] {
        // One column, as wide as the longest capability name.
        let line = format!("{capability:<28} {found}");
        assert!(text.contains(&line), "{line}\n{text}");
    }
    assert!(text.contains("n/a  precondition-required::"), "{text}");

    let strict = stdout(&contend(&["probe", "--require-preconditions"]));
    let line = strict
        .lines()
        .find(|l| {
            l.contains("requires-preconditions       yes  unconditional PUT http://127.0.0.1:")
        })
        .unwrap_or_else(|| panic!("{strict}"));
    assert!(line.ends_with("of an existing resource -> 428"), "{line}");

    // A target that is not the reference server: its example API is not applicable.
    let (mut server, url) = serve(&[]);
    let remote = stdout(&contend(&[
        "run",
        "--target",
        &url,
        "--capabilities",
        "put-create,delete",
        "specs/api/lock.yaml",
    ]));
    server.kill().unwrap();
    let _ = server.wait();
    assert!(remote.contains("the target lacks example-api"), "{remote}");
}

#[test]
fn sample_bodies_take_the_targets_format() {
    let format = r#"{"value": "{{body}}"}"#;
    let out = contend(&["run", "--body-format", format, "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let sent: Vec<String> = report["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["steps"].as_array().unwrap().clone())
        .flat_map(|s| s["exchanges"].as_array().unwrap().clone())
        .filter(|e| {
            e["request"]["method"] == "PUT"
                && e["request"]["url"].as_str().unwrap().contains("/contend-")
        })
        .map(|e| e["request"]["body"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(!sent.is_empty());
    assert!(
        sent.iter().all(|b| b.starts_with(r#"{"value": ""#)),
        "{sent:?}"
    );
    // Once, in every round: the race scenarios run three rounds and show the last one (a
    // re-planned round used to wrap the already wrapped bodies again).
    assert!(
        sent.iter().all(|b| b.matches("\"value\"").count() == 1),
        "{sent:?}"
    );
    let race = report["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"].as_str().unwrap().starts_with("race-if-match::"))
        .unwrap();
    assert_eq!(race["rounds"]["total"], 3, "{race}");
    // The faults are still caught in that format.
    let broken = contend(&[
        "run",
        "--body-format",
        format,
        "--fault",
        "ignore-if-match",
        "specs/if-match.yaml",
    ]);
    assert_eq!(broken.status.code(), Some(1));

    // A user's own documents are sent as written unless the scenario says its bodies are
    // samples (`body_format: true`, as the built-in suite's do).
    let dir = temp_dir("own-bodies");
    let scenario = |name: &str, opt_in: &str| {
        format!(
            "name: {name}\n{opt_in}steps:\n  - name: write\n    request: {{ method: PUT, \
             path: \"{{{{scratch}}}}/{name}\", body: '{{\"mine\": 1}}' }}\n    \
             expect: {{ status: 201 }}\n  - name: read\n    request: {{ path: \
             \"{{{{scratch}}}}/{name}\" }}\n    expect: {{ status: 200 }}\n"
        )
    };
    std::fs::write(dir.0.join("own.yaml"), scenario("own", "")).unwrap();
    std::fs::write(
        dir.0.join("samples.yaml"),
        scenario("samples", "body_format: true\n"),
    )
    .unwrap();
    let out = contend(&[
        "run",
        "--body-format",
        format,
        "--format",
        "json",
        dir.0.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let read = |id: &str| {
        let scenario = (report["scenarios"].as_array().unwrap().iter())
            .find(|s| s["id"].as_str().unwrap().starts_with(id))
            .unwrap();
        scenario["steps"][1]["exchanges"][0]["response"]["body"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(read("own::"), r#"{"mine": 1}"#);
    assert_eq!(read("samples::"), r#"{"value": "{\"mine\": 1}"}"#);
}

/// Nothing tested is never green: an unreachable target, a selection of nothing, a run where
/// every scenario is not applicable.
#[test]
fn a_run_that_tests_nothing_never_passes() {
    // Port 1 on loopback: nothing listens there.
    let out = contend(&["run", "--target", "http://127.0.0.1:1"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stderr(&out).starts_with("error: target unreachable: PUT http://127.0.0.1:1/"),
        "{}",
        stderr(&out)
    );
    // Declared capabilities skip the probe, not the check that something answers.
    let out = contend(&[
        "run",
        "--target",
        "http://127.0.0.1:1",
        "--capabilities",
        "put-create",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stderr(&out).starts_with("error: target unreachable: GET http://127.0.0.1:1/"),
        "{}",
        stderr(&out)
    );
    let out = contend(&["probe", "--target", "http://127.0.0.1:1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("target unreachable"),
        "{}",
        stderr(&out)
    );

    let out = contend(&["run", "--filter", "no-such-scenario"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--filter \"no-such-scenario\" selects no scenario"),
        "{}",
        stderr(&out)
    );

    // The 428 scenario against a server that does not require preconditions.
    let out = contend(&["run", "specs/precondition-required.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.starts_with("error: nothing was tested:"), "{err}");
    assert!(
        err.contains("the target lacks requires-preconditions"),
        "{err}"
    );
}

/// A step whose inputs a failed step broke is listed as not run, with the reason; the steps
/// that do not depend on it still run and are judged.
#[test]
fn a_failed_step_hides_only_what_depends_on_it() {
    // With If-Match ignored, the stale update succeeds: "nothing changed" depends on it (same
    // resource) and is not run; the scenario's other findings still come.
    let out = contend(&["run", "--fault", "ignore-if-match", "specs/if-match.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("[if-match.mismatch, MUST, RFC 9110 13.1.1]: status: expected 412, got 204"),
        "{text}"
    );
    assert!(
        text.contains("not run: step `nothing changed`: step `update with the stale tag` failed"),
        "{text}"
    );
    assert!(text.contains("1 steps not run"), "{text}");
}

/// A profile's `accept` reaches every step judged under the rule: the create steps of the
/// built-in suite carry `put.created`, so a server that creates with 200 passes once the
/// profile accepts it, and says so.
#[test]
fn accept_reaches_the_create_steps_of_every_scenario() {
    let dir = temp_dir("accept-create");
    let profile = dir.join("contend.yaml");
    std::fs::write(&profile, "accept: { put.created: [200] }\n").unwrap();
    let without = contend(&["run", "--fault", "200-on-create"]);
    assert_eq!(without.status.code(), Some(1));
    let with = contend(&[
        "run",
        "--fault",
        "200-on-create",
        "--config",
        profile.to_str().unwrap(),
    ]);
    let text = stdout(&with);
    assert_eq!(with.status.code(), Some(0), "{text}");
    assert!(
        text.contains("accepted by the profile, not RFC 9110: step `create` [put.created, MUST, RFC 9110 9.3.4]: status: expected 201, got 200"),
        "{text}"
    );
}

fn contend_in(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_contend"))
        .env("CONTEND_RACE_BUDGET", "3")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the binary runs")
}

/// The built-in suite is compiled in: `contend run` works from any directory, and `init`
/// starts a user off there.
#[test]
fn the_built_in_suite_runs_from_anywhere_and_init_starts_a_project() {
    let dir = temp_dir("anywhere");
    let out = contend_in(&dir, &["run"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(text.contains(" 0 failed, "), "{text}");
    assert!(text.contains("PASS  race-if-match::"), "{text}");

    let out = contend_in(&dir, &["init"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(dir.join("contend.yaml").is_file() && dir.join("specs/example.yaml").is_file());
    // Each file names its JSON Schema, written where the line points, as `contend schema` prints it.
    for (file, line, schema) in [
        (
            "contend.yaml",
            "$schema=.contend/profile.schema.json",
            "profile",
        ),
        (
            "specs/example.yaml",
            "$schema=../.contend/scenario.schema.json",
            "scenario",
        ),
    ] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        let first = text.lines().next().unwrap();
        assert_eq!(first, format!("# yaml-language-server: {line}"));
        let written = std::fs::read(dir.join(format!(".contend/{schema}.schema.json"))).unwrap();
        assert_eq!(written, contend_in(&dir, &["schema", schema]).stdout);
    }
    let out = contend_in(&dir, &["run", "specs"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("PASS  example::a stale If-Match is refused"));
    // Never over a file the user has.
    let again = contend_in(&dir, &["init"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        stderr(&again).contains("contend.yaml exists"),
        "{}",
        stderr(&again)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `init --target` writes the profile keys the probe's evidence points at (a version for weak
/// tags; `create:` and a read-only run where PUT wrote nothing), and every secret of the URL
/// and headers as an `{{env.NAME}}` reference, never the value nor `[secret]`.
#[test]
fn init_writes_what_the_probe_saw_and_references_for_secrets() {
    let (_weak, weak_url) = serve(&["--weak-etags", "--require-token", "tok-init-88"]);
    let dir = temp_dir("init-weak");
    let target = format!("{}?token=tok-init-88", weak_url.trim_end_matches('/'));
    let target = target.replace("http://", "http://me:pw-init-77@");
    let out = contend_in(
        &dir,
        &[
            "init",
            "--target",
            &target,
            "-H",
            "Authorization: Bearer hdr-init-99",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let written = std::fs::read_to_string(dir.join("contend.yaml")).unwrap();
    for secret in ["tok-init-88", "pw-init-77", "hdr-init-99"] {
        assert!(!written.contains(secret), "{secret}: {written}");
    }
    // A value is a reference; only the probe's evidence, in comments, shows `[secret]`.
    let keys = written.lines().filter(|l| !l.starts_with('#'));
    assert!(keys.clone().all(|l| !l.contains("[secret]")), "{written}");
    assert!(
        written.contains("query: \"token={{env.CONTEND_QUERY_TOKEN}}\""),
        "{written}"
    );
    assert!(
        written.contains("Bearer {{env.CONTEND_AUTHORIZATION}}"),
        "{written}"
    );
    assert!(written.contains("# version: { read:"), "{written}");
    assert!(
        stdout(&out).contains("CONTEND_QUERY_TOKEN, CONTEND_AUTHORIZATION"),
        "{}",
        stdout(&out)
    );
    // With the variables set, the profile it wrote runs.
    let run = Command::new(env!("CARGO_BIN_EXE_contend"))
        .args(["run", "--format", "json", "--race-budget", "3"])
        .current_dir(&dir.0)
        .env("CONTEND_QUERY_TOKEN", "tok-init-88")
        .env("CONTEND_AUTHORIZATION", "hdr-init-99")
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(report["summary"]["failed"], 0, "{}", stderr(&run));
    assert!(
        report["summary"]["passed"].as_u64().unwrap() > 10,
        "{report}"
    );

    let (_api, api_url) = serve(&[]);
    let dir = temp_dir("init-api");
    let api = format!("{}/api/items/", api_url.trim_end_matches('/'));
    let out = contend_in(&dir, &["init", "--target", &api]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let written = std::fs::read_to_string(dir.join("contend.yaml")).unwrap();
    assert!(
        written.contains("# create: { path: /api/items"),
        "{written}"
    );
    assert!(written.contains("# read_only: true"), "{written}");
}

/// A scenario's id does not depend on how its path was given.
#[test]
fn scenario_ids_are_stable_however_the_path_is_given() {
    let here = std::env::current_dir().unwrap();
    let up = format!(
        "../{}/specs/if-match.yaml",
        here.file_name().unwrap().to_string_lossy()
    );
    let id = "if-match::a stale If-Match is refused with 412 and changes nothing";
    for args in [
        vec!["list", "specs/if-match.yaml"],
        vec!["list", "specs"],
        vec!["list", up.as_str()],
        vec!["list", "--builtin"],
    ] {
        let out = stdout(&contend(&args));
        assert!(
            out.lines().any(|l| l.starts_with(&format!("{id}  "))),
            "{args:?}:\n{out}"
        );
    }
    // Files below specs/ keep their directory in the id, given as a file or a directory.
    for path in ["specs/api/lock.yaml", "specs"] {
        assert!(
            stdout(&contend(&["list", path])).contains("api/lock::"),
            "{path}"
        );
    }
}

/// A team's own rules, declared in its profile, are used in `rule:` and reported with their
/// level like catalog rules; an id outside a namespace of its own is refused.
#[test]
fn a_profiles_own_rules_are_reported_with_their_level() {
    let dir = temp_dir("own-rules");
    std::fs::create_dir_all(dir.join("specs")).unwrap();
    std::fs::write(
        dir.join("contend.yaml"),
        "rules:\n  x-team.rev-conflict: { level: MUST, summary: a stale revision is 409, section: API guide 4.2 }\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("specs/own.yaml"),
        "name: own\nrequirements: [x-team.rev-conflict]\nsteps:\n  - name: stale\n    rule: x-team.rev-conflict\n    request: { method: PUT, path: \"{{scratch}}/doc\", headers: { If-Match: '\"stale\"' }, body: v }\n    expect: { status: 409 }\n",
    )
    .unwrap();
    let out = contend_in(&dir, &["run", "specs"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert!(
        text.contains("step `stale` [x-team.rev-conflict, MUST, API guide 4.2]: status: expected 409, got 412"),
        "{text}"
    );
    let explained = stdout(&contend_in(&dir, &["explain", "x-team.rev-conflict"]));
    assert!(
        explained.starts_with("x-team.rev-conflict  MUST  API guide 4.2"),
        "{explained}"
    );

    std::fs::write(
        dir.join("contend.yaml"),
        "rules:\n  rev-conflict: { level: MUST, summary: no namespace }\n",
    )
    .unwrap();
    let refused = contend_in(&dir, &["run", "specs"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains("a namespace of your own"),
        "{}",
        stderr(&refused)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A target that wants a token in every request's query (a signed URL): the `--target` URL's
/// query goes with every request, paths go before it, and the token never shows in output.
#[test]
fn a_query_token_in_the_target_goes_with_every_request_and_stays_secret() {
    let token = "sig-8f3b2c9d7e";
    let (mut server, url) = serve(&["--require-token", token]);
    let signed = format!("{url}/?token={token}");
    let out = contend(&["run", "--target", &signed, "--format", "json"]);
    let unsigned = contend(&["run", "--target", &url, "specs/if-match.yaml"]);
    server.kill().unwrap();
    let _ = server.wait();
    let text = stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        &text[..text.len().min(3000)],
        stderr(&out)
    );
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(report["summary"]["failed"], 0);
    assert!(
        report["summary"]["passed"].as_u64().unwrap() > 10,
        "{}",
        report["summary"]
    );
    assert!(!text.contains(token), "the token leaked into the report");
    assert!(
        text.contains("token=[secret]"),
        "the URLs show where the token went"
    );
    // Without it the server refuses everything: nothing can be tested, and the run says so.
    assert_eq!(unsigned.status.code(), Some(1));
    assert!(
        stderr(&unsigned).contains("target misconfigured: nothing could be written")
            && stderr(&unsigned).contains("-> 403"),
        "{}",
        stderr(&unsigned)
    );
}

/// `--origin`: the run through a gateway is compared with the same run at the origin, and what
/// differs is reported as the gateway's doing. A faulty reference server stands in for a
/// gateway that drops the ETag from its 304s.
#[test]
fn a_gateway_run_reports_what_differs_from_the_origin() {
    let (mut gateway, gateway_url) = serve(&["--fault", "304-without-etag"]);
    let (mut origin, origin_url) = serve(&[]);
    let out = contend(&[
        "run",
        "--target",
        &gateway_url,
        "--origin",
        &origin_url,
        "specs/if-none-match-get.yaml",
    ]);
    let same = contend(&[
        "run",
        "--target",
        &origin_url,
        "--origin",
        &origin_url,
        "specs/if-none-match-get.yaml",
    ]);
    for s in [&mut gateway, &mut origin] {
        s.kill().unwrap();
        let _ = s.wait();
    }
    let text = stdout(&out);
    assert!(
        text.contains(&format!(
            "through the gateway vs at the origin {origin_url}"
        )),
        "{text}"
    );
    assert!(
        text.contains(
            "step `the current tag gives 304`: GET ETag: gateway no ETag, origin a strong ETag"
        ),
        "{text}"
    );
    assert!(
        text.contains("verdict: gateway failed (304.headers"),
        "{text}"
    );
    assert!(
        stdout(&same).contains(": 0 differences"),
        "{}",
        stdout(&same)
    );
}

/// A flat namespace: a profile's `resource_path` puts each scenario's resource NAME where the
/// target wants it, in place of `{{scratch}}/NAME`, and the suite still passes.
#[test]
fn a_resource_path_template_names_resources_for_flat_namespaces() {
    let dir = temp_dir("flat");
    let profile = dir.join("flat.yaml");
    std::fs::write(
        &profile,
        "scratch: \"/flat/{{run_id}}-{{uuid}}\"\nresource_path: \"{{scratch}}-{{name}}\"\n",
    )
    .unwrap();
    let out = contend(&[
        "run",
        "--config",
        profile.to_str().unwrap(),
        "--format",
        "json",
        "specs/if-match.yaml",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let url = report["scenarios"][0]["steps"][0]["exchanges"][0]["request"]["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = url.split_once("/flat/").unwrap().1;
    assert!(path.ends_with("-doc") && !path.contains('/'), "{url}");
    std::fs::write(&profile, "resource_path: \"{{scratch}}/x\"\n").unwrap();
    let refused = contend(&[
        "run",
        "--config",
        profile.to_str().unwrap(),
        "specs/if-match.yaml",
    ]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains("has no `{{name}}`"),
        "{}",
        stderr(&refused)
    );
}

/// PUTs `body` at `path` on `url` (a reference server) with a bare HTTP/1.1 exchange.
fn put_directly(url: &str, path: &str, body: &str) {
    use std::io::{Read, Write};
    let address = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    write!(
        stream,
        "PUT {path} HTTP/1.1\r\nHost: {address}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
}

#[test]
fn a_read_only_run_reads_an_existing_resource_and_writes_nothing() {
    let (mut server, url) = serve(&[]);
    put_directly(&url, "/static/page.txt", "0123456789 static");
    let dir = temp_dir("read-only");
    std::fs::write(
        dir.join("contend.yaml"),
        "existing:\n  - { path: /static/page.txt, body: \"0123456789 static\" }\n",
    )
    .unwrap();
    let out = contend_in(
        &dir,
        &["run", "--target", &url, "--read-only", "--format", "json"],
    );
    let probe = contend_in(&dir, &["probe", "--target", &url, "--read-only"]);
    server.kill().unwrap();
    let _ = server.wait();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{report:#}");
    // The probe's findings are in the report, with their evidence.
    let evidence = report["probe"]["evidence"].as_array().unwrap();
    assert!(evidence.iter().any(|e| e["capability"] == "put-create"
        && e["found"] == false
        && e["evidence"] == "not probed: the target is read-only"));
    assert!(report["probe"]["capabilities"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!("range")));
    let mut ran = Vec::new();
    for s in report["scenarios"].as_array().unwrap() {
        let file = s["id"].as_str().unwrap().split("::").next().unwrap();
        for step in s["steps"].as_array().unwrap() {
            for e in step["exchanges"].as_array().unwrap() {
                let method = e["request"]["method"].as_str().unwrap();
                assert!(
                    ["GET", "HEAD", "OPTIONS"].contains(&method),
                    "{file} sent {method}"
                );
            }
        }
        match s["status"].as_str().unwrap() {
            "passed" => ran.push(file.to_owned()),
            "not_applicable" => {}
            other => panic!("{file}: {other}: {s:#}"),
        }
    }
    // The read scenarios run on the existing resource instead of one they create.
    for read in ["if-none-match-get", "if-range", "options", "scope"] {
        assert!(ran.iter().any(|f| f == read), "{read} did not run: {ran:?}");
    }
    let text = stdout(&probe);
    assert!(
        text.contains(&format!(
            "{:<28} no   not probed: the target is read-only",
            "put-create"
        )),
        "{text}"
    );
    assert!(text.contains("range                        yes"), "{text}");
}

#[test]
fn the_built_in_suite_runs_against_a_json_api_through_its_profile() {
    let (mut server, url) = serve(&[]);
    // Without `capabilities`, so the probe finds them the profile's way (POST-create).
    let profile: String = std::fs::read_to_string("fixtures/profiles/api-items.yaml")
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("capabilities:"))
        .map(|l| format!("{l}\n"))
        .collect();
    let dir = temp_dir("api-profile");
    std::fs::write(dir.join("contend.yaml"), profile).unwrap();
    let probe = stdout(&contend_in(&dir, &["probe", "--target", &url]));
    let out = contend_in(&dir, &["run", "--target", &url]);
    server.kill().unwrap();
    let _ = server.wait();
    assert!(
        probe.contains("(the profile's create) -> 201, the new resource at /api/items/"),
        "{probe}"
    );
    assert!(
        probe.contains(&format!("{:<28} yes", "requires-preconditions")),
        "{probe}"
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("23 passed, 0 failed, 11 not applicable"),
        "{text}"
    );
    assert!(
        text.contains("PASS  version-stale::") && text.contains("PASS  race-version::"),
        "{text}"
    );
}

/// GETs `path` from `url` with a bare HTTP/1.1 exchange and returns the content.
fn get_directly(url: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let address = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn ctrl_c_stops_new_work_runs_cleanup_and_reports_what_ran() {
    let (mut server, url) = serve(&[]);
    let dir = temp_dir("interrupt");
    // A workload long enough to be in flight when interrupted, and one scenario after it.
    std::fs::write(
        dir.join("long.yaml"),
        r#"name: a long workload
steps:
  - name: create
    request: { method: PUT, path: "{{scratch}}/n", body: "0" }
    expect: { status: 201 }
  - name: loop
    workload:
      clients: 2
      repeat: 20000
      steps:
        - name: read
          request: { path: "{{scratch}}/n" }
          expect: { status: 200 }
cleanup:
  - name: delete
    request: { method: DELETE, path: "{{scratch}}/n" }
"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("zz-later.yaml"),
        "name: never started\nsteps:\n  - name: read\n    request: { path: \"{{scratch}}/x\" }\n    expect: { status: 404 }\n",
    )
    .unwrap();
    let junit = dir.join("out/junit.xml");
    let mut run = Command::new(env!("CARGO_BIN_EXE_contend"))
        .args([
            "run",
            "--target",
            &url,
            "-j",
            "1",
            "--capabilities",
            "put-create,delete",
        ])
        .arg(format!("--report=junit={}", junit.display()))
        .arg(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let held = get_directly(&url, "/.well-known/contend/holdings");
    assert!(
        held.contains("/n\""),
        "the workload is not in flight: {held}"
    );
    let interrupted = Command::new("kill")
        .args(["-INT", &run.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let started = std::time::Instant::now();
    while run.try_wait().unwrap().is_none() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "contend did not stop after Ctrl-C"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = run.wait_with_output().unwrap();
    let held = get_directly(&url, "/.well-known/contend/holdings");
    server.kill().unwrap();
    let _ = server.wait();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert_eq!(held, "[]", "cleanup left this behind");
    let text = stdout(&out);
    // The scenario in flight is no verdict either: it did not run to its end.
    assert!(text.contains("2 not run (interrupted)"), "{text}");
    assert!(text.contains("interrupted while it ran ("), "{text}");
    assert!(stderr(&out).contains("interrupted"), "{}", stderr(&out));
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("not run: interrupted"), "{xml}");
}

#[test]
fn a_failing_run_shows_each_failure_with_its_exchange_and_writes_every_report() {
    let dir = temp_dir("reports");
    let (junit, json, html) = (
        dir.join("out/junit.xml"),
        dir.join("out/report.json"),
        dir.join("out/matrix.html"),
    );
    let out = contend(&[
        "run",
        "--fault",
        "ignore-if-match",
        "specs/if-match.yaml",
        "specs/options.yaml",
        "specs/precondition-required.yaml",
        &format!("--report=junit={}", junit.display()),
        &format!("--report=json={}", json.display()),
        &format!("--report=html={}", html.display()),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    // The failure, its rule and link, and the exchange that shows it.
    let failure = "step `update with the stale tag` [if-match.mismatch, MUST, RFC 9110 13.1.1]: status: expected 412, got 204";
    let at = text.find(failure).unwrap_or_else(|| panic!("{text}"));
    let after: Vec<&str> = text[at..].lines().skip(1).take(6).collect();
    assert_eq!(
        after[0].trim(),
        "https://www.rfc-editor.org/rfc/rfc9110#section-13.1.1"
    );
    assert!(
        after[1].trim().starts_with("> PUT http://127.0.0.1:"),
        "{after:?}"
    );
    assert!(after[2].trim().starts_with("> if-match: \""), "{after:?}");
    assert_eq!(after[3].trim(), "> v3");
    assert_eq!(after[4].trim(), "< 204 No Content");
    // Piped: no colour, no progress.
    assert!(!text.contains('\u{1b}'), "{text}");
    assert!(!stderr(&out).contains("scenarios  "), "{}", stderr(&out));

    // JUnit as reporters read it: one testcase per scenario, the finding as the message.
    let xml = std::fs::read_to_string(&junit).unwrap();
    let parsed = quick_junit::Report::deserialize_from_str(&xml).unwrap();
    let cases = &parsed.test_suites[0].test_cases;
    // Three scenarios, and the run's verdict.
    assert_eq!(cases.len(), 4);
    assert!(cases.iter().any(|c| c.name.as_str() == "verdict"));
    let failed = cases
        .iter()
        .find(|c| c.name.as_str().starts_with("a stale If-Match"))
        .unwrap();
    assert_eq!(
        failed.classname.as_ref().map(|c| c.as_str()),
        Some("specs.if-match")
    );
    match &failed.status {
        quick_junit::TestCaseStatus::NonSuccess {
            message,
            description,
            ..
        } => {
            let message = message.as_ref().unwrap().as_str();
            assert!(
                message.starts_with("step `update with the stale tag` [if-match.mismatch]"),
                "{message}"
            );
            assert!(description.as_ref().unwrap().as_str().contains("> PUT "));
        }
        other => panic!("{other:?}"),
    }
    let skipped = cases
        .iter()
        .find(|c| {
            c.classname
                .as_ref()
                .is_some_and(|n| n.as_str() == "specs.precondition-required")
        })
        .unwrap();
    assert!(
        matches!(&skipped.status, quick_junit::TestCaseStatus::Skipped { message: Some(m), .. } if m.as_str().contains("requires-preconditions")),
        "{:?}",
        skipped.status
    );

    // The JSON file is the --format json document, each failure naming its exchanges.
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["summary"]["failed"], 1);
    let scenario = &report["scenarios"][0];
    let at = &scenario["failures"][0]["exchanges"][0];
    let step = at["step"].as_u64().unwrap() as usize;
    assert_eq!(scenario["steps"][step]["name"], "update with the stale tag");

    // The HTML matrix: a failing cell for the rule, expandable to its exchange.
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("<td class='fail' data-rule='if-match.mismatch'><details>"),
        "{page}"
    );
    assert!(
        page.contains("<td class='pass' data-rule='scope.options'>"),
        "{page}"
    );
    assert!(
        page.contains("<td class='na' data-rule='428.enforced'>") || page.contains("class='na'"),
        "{page}"
    );
    assert!(!page.contains("<script") && !page.contains("http-equiv"));
}

#[test]
fn colour_only_where_asked_for() {
    let always = contend(&["run", "--color", "always", "specs/options.yaml"]);
    assert!(stdout(&always).contains("\u{1b}["), "{}", stdout(&always));
    let never = contend(&["run", "--color", "never", "specs/options.yaml"]);
    assert!(!stdout(&never).contains('\u{1b}'));
    // NO_COLOR wins over a terminal; CLICOLOR_FORCE would force it on a pipe.
    let out = Command::new(env!("CARGO_BIN_EXE_contend"))
        .args(["run", "specs/options.yaml"])
        .env("NO_COLOR", "1")
        .env("CLICOLOR_FORCE", "1")
        .output()
        .unwrap();
    assert!(!stdout(&out).contains('\u{1b}'), "{}", stdout(&out));
}

#[test]
fn snapshots_redact_what_changes_from_run_to_run() {
    let dir = temp_dir("snap-redact");
    let scenario = |id: &str| {
        format!(
            r#"
name: redacted snapshot
steps:
  - name: store
    request: {{ method: PUT, path: "{{{{scratch}}}}/doc", body: "id={id} name=widget" }}
  - name: read
    request: {{ path: "{{{{scratch}}}}/doc" }}
    expect: {{ status: 200, snapshot: {{ name: doc, redact: {{ 'id=\d+': 'id=[id]' }} }} }}
"#
        )
    };
    let file = dir.join("redact.yaml");
    std::fs::write(&file, scenario("123")).unwrap();
    let file = file.to_str().unwrap();
    assert_eq!(
        contend(&["run", "--update-snapshots", file]).status.code(),
        Some(0)
    );
    let stored = std::fs::read_to_string(dir.join("snapshots/redact__doc.snap")).unwrap();
    assert!(stored.ends_with("---\nid=[id] name=widget\n"), "{stored}");
    std::fs::write(dir.join("redact.yaml"), scenario("98765")).unwrap();
    let again = contend(&["run", file]);
    assert_eq!(again.status.code(), Some(0), "{}", stdout(&again));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Every route a credential takes into output, planted, and looked for in every form.
#[test]
fn planted_secrets_appear_in_no_output_in_any_form() {
    use base64::Engine;
    let (mut server, url) = serve(&[]);
    let dir = temp_dir("secrets");
    let private_token = "glpat-Zq81xT0kenPriv";
    let env_secret = "env/secret value+42";
    let password = "pa55-w0rd-url";
    std::fs::write(
        dir.join("contend.yaml"),
        "headers:\n  X-Custom-Auth: \"{{env.CONTEND_TEST_SECRET}}\"\nsecret_headers: [X-Custom-Auth]\n",
    )
    .unwrap();
    // The secret travels in a path (percent-encoded), a body and a header; the body echoes it.
    std::fs::write(
        dir.join("leak.yaml"),
        r#"name: leaks
vars:
  token: { value: "{{env.CONTEND_TEST_SECRET}}", secret: true }
steps:
  - name: store
    request: { method: PUT, path: "{{scratch}}/{{token}}", body: "the token is {{token}}" }
    expect: { status: 201 }
  - name: read
    request: { path: "{{scratch}}/{{token}}" }
    expect: { status: 200, body: "not what was stored" }
"#,
    )
    .unwrap();
    let with_userinfo = url.replace("http://", &format!("http://user:{password}@"));
    let reports = dir.join("out");
    let out = Command::new(env!("CARGO_BIN_EXE_contend"))
        .current_dir(&dir)
        .env("CONTEND_TEST_SECRET", env_secret)
        .args([
            "run",
            "--target",
            &with_userinfo,
            "--capabilities",
            "put-create,delete",
            "-v",
        ])
        .args(["--header", &format!("PRIVATE-TOKEN: {private_token}")])
        .arg(format!(
            "--report=json={}",
            reports.join("r.json").display()
        ))
        .arg(format!(
            "--report=junit={}",
            reports.join("r.xml").display()
        ))
        .arg(format!(
            "--report=html={}",
            reports.join("r.html").display()
        ))
        .arg("leak.yaml")
        .output()
        .unwrap();
    server.kill().unwrap();
    let _ = server.wait();
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let mut everything = format!("{}{}", stdout(&out), stderr(&out));
    for file in ["r.json", "r.xml", "r.html"] {
        everything.push_str(&std::fs::read_to_string(reports.join(file)).unwrap());
    }
    assert!(everything.contains("[secret]"), "{everything}");
    for secret in [private_token, env_secret, password] {
        let encoded: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        let forms = [
            secret.to_owned(),
            encoded.replace('+', "%20"),
            encoded,
            base64::engine::general_purpose::STANDARD.encode(secret),
        ];
        for form in forms {
            assert!(
                !everything.contains(&form),
                "{form:?} leaked:\n{everything}"
            );
        }
        // Nor any part of it long enough to mean something.
        let chars: Vec<char> = secret.chars().collect();
        for part in chars.windows(8) {
            let part: String = part.iter().collect();
            assert!(
                !everything.contains(&part),
                "{part:?} of a secret leaked:\n{everything}"
            );
        }
    }
}

#[test]
fn check_finds_what_can_be_known_without_sending() {
    let out = contend(&["check"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let dir = temp_dir("check");
    std::fs::write(
        dir.join("broken.yaml"),
        "name: x\nsteps:\n  - name: a\n    request: { method: PUT, path: /p, body: { file: missing.bin } }\n",
    )
    .unwrap();
    let out = contend(&["check", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("step `a`: body file")
            && stderr(&out).contains("missing.bin does not exist"),
        "{}",
        stderr(&out)
    );
    // `list` refuses the same file rather than listing what cannot run.
    assert_eq!(
        contend(&["list", dir.to_str().unwrap()]).status.code(),
        Some(2)
    );
    // An undefined variable is located where the file first uses it.
    std::fs::write(
        dir.join("broken.yaml"),
        "name: x\nsteps:\n  - name: a\n    request: { path: \"/{{nope}}\" }\n",
    )
    .unwrap();
    let out = contend(&["check", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let file = dir.join("broken.yaml");
    let located = format!(
        "{}:4:24: error: step `a`: variable `nope` is not defined",
        file.display()
    );
    assert!(stderr(&out).contains(&located), "{}", stderr(&out));
}

#[test]
fn a_dry_run_shows_every_request_and_sends_nothing() {
    // Port 1 answers nothing: a dry run that sent a probe or a request would fail.
    let out = contend(&[
        "run",
        "--dry-run",
        "--target",
        "http://127.0.0.1:1",
        "specs/if-match.yaml",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("  update with the stale tag: PUT http://127.0.0.1:1/contend-"),
        "{text}"
    );
    assert!(text.contains("      If-Match: <first>"), "{text}");
    assert!(
        text.contains("  cleanup: delete: DELETE http://127.0.0.1:1/"),
        "{text}"
    );
    assert!(text.contains("nothing sent"), "{text}");
}

#[test]
fn an_https_target_that_asks_for_a_client_certificate() {
    let (mut server, url) = serve(&[
        "--tls-cert",
        "fixtures/tls/server.pem",
        "--tls-key",
        "fixtures/tls/server.key",
        "--tls-client-ca",
        "fixtures/tls/client-ca.pem",
    ]);
    let without = contend(&["run", "--target", &url, "--cacert", "fixtures/tls/ca.pem"]);
    assert_eq!(without.status.code(), Some(1));
    assert!(
        stderr(&without).contains("pass --client-cert and --client-key"),
        "{}",
        stderr(&without)
    );
    // With it: reqwest's requests and a race on contend's own connections.
    let with = contend(&[
        "run",
        "--target",
        &url,
        "--cacert",
        "fixtures/tls/ca.pem",
        "--client-cert",
        "fixtures/tls/client.pem",
        "--client-key",
        "fixtures/tls/client.key",
        "specs/if-match.yaml",
        "specs/race-if-match.yaml",
    ]);
    server.kill().unwrap();
    let _ = server.wait();
    assert_eq!(with.status.code(), Some(0), "{}", stdout(&with));
    assert!(stdout(&with).contains("2 passed, 0 failed"));
}

#[test]
fn an_https_target_with_a_private_ca() {
    let (mut server, url) = serve(&[
        "--tls-cert",
        "fixtures/tls/server.pem",
        "--tls-key",
        "fixtures/tls/server.key",
    ]);
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    // Unknown authority: said as a sentence that says what to do.
    let refused = contend(&["run", "--target", &url, "specs/if-match.yaml"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains(
            "the server's certificate is signed by an unknown authority; pass --cacert FILE"
        ),
        "{}",
        stderr(&refused)
    );
    // With the CA: requests through reqwest, a race on our own connections, a raw read.
    let trusted = contend(&[
        "run",
        "--target",
        &url,
        "--cacert",
        "fixtures/tls/ca.pem",
        "specs/if-match.yaml",
        "specs/race-if-match.yaml",
        "specs/if-none-match-get.yaml",
    ]);
    assert_eq!(trusted.status.code(), Some(0), "{}", stdout(&trusted));
    assert!(stdout(&trusted).contains("3 passed, 0 failed"));
    // --insecure works, and every report says so.
    let insecure = contend(&[
        "run",
        "--target",
        &url,
        "--insecure",
        "--format",
        "json",
        "specs/options.yaml",
    ]);
    server.kill().unwrap();
    let _ = server.wait();
    assert_eq!(insecure.status.code(), Some(0), "{}", stderr(&insecure));
    let report: serde_json::Value = serde_json::from_slice(&insecure.stdout).unwrap();
    assert!(
        report["target"]
            .as_str()
            .unwrap()
            .ends_with("(TLS certificate NOT verified: --insecure)"),
        "{}",
        report["target"]
    );
}

/// Safe on staging: whatever the verdict, the scenarios take back what they made.
#[test]
fn nothing_is_left_behind_after_runs_that_pass_fail_or_time_out() {
    let caps = "put-create,delete,range,last-modified,hierarchy,http2,create";
    for fault in [None, Some("ignore-if-match"), Some("check-then-write")] {
        let flags: Vec<&str> = fault.iter().flat_map(|f| ["--fault", *f]).collect();
        let (_server, url) = serve(&flags);
        let out = contend(&["run", "--target", &url, "--capabilities", caps]);
        let expected = if fault.is_some() { 1 } else { 0 };
        assert_eq!(out.status.code(), Some(expected), "{}", stdout(&out));
        let held = get_directly(&url, "/.well-known/contend/holdings");
        assert_eq!(held, "[]", "{fault:?} left this behind");
    }
    // A step that times out (on a listener that never answers): the scenario fails, its
    // cleanup still runs.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_url = format!("http://{}/never", silent.local_addr().unwrap());
    let dir = temp_dir("timeout-cleanup");
    std::fs::write(
        dir.join("slow.yaml"),
        format!(
            r#"name: a read that times out
steps:
  - name: create
    request: {{ method: PUT, path: "{{{{scratch}}}}/doc", body: "v1" }}
    expect: {{ status: 201 }}
  - name: wait for an answer that never comes
    request: {{ url: "{silent_url}", timeout: 300ms }}
    expect: {{ status: 200 }}
cleanup:
  - name: delete
    request: {{ method: DELETE, path: "{{{{scratch}}}}/doc" }}
"#
        ),
    )
    .unwrap();
    let (_server, url) = serve(&[]);
    let out = contend(&[
        "run",
        "--target",
        &url,
        "--capabilities",
        caps,
        dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("timed out"), "{}", stdout(&out));
    assert_eq!(get_directly(&url, "/.well-known/contend/holdings"), "[]");
}

/// A profile's `idempotency:` puts the built-in keyed scenarios on the target's own endpoint:
/// its body shape, its count read and where the count is. A double execution is still caught.
#[test]
fn the_idempotency_scenarios_run_on_a_profiles_keyed_endpoint() {
    let dir = temp_dir("keyed-profile");
    let profile = dir.join("contend.yaml");
    std::fs::write(
        &profile,
        "capabilities: []\n\
         idempotency:\n  endpoint: /api/payments\n\
         \x20 body: '{\"amount\": {{amount}}, \"currency\": \"EUR\", \"reference\": \"{{key}}\", \"note\": \"shaped\"}'\n\
         \x20 count: '/api/payments?reference={{key}}'\n  count_at: $.count\n  required: true\n",
    )
    .unwrap();
    let once = concat!(env!("CARGO_MANIFEST_DIR"), "/specs/idempotency/once.yaml");
    let all = concat!(env!("CARGO_MANIFEST_DIR"), "/specs/idempotency");
    let config = profile.to_str().unwrap();
    let (_good, url) = serve(&[]);
    let planned = stdout(&contend(&[
        "run",
        "--config",
        config,
        "--target",
        &url,
        "--dry-run",
        once,
    ]));
    assert!(planned.contains("\"note\": \"shaped\""), "{planned}");
    let out = contend(&["run", "--config", config, "--target", &url, all]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    // key-scope needs a second endpoint the profile does not name.
    assert!(
        text.contains("5 passed, 0 failed, 1 not applicable"),
        "{text}"
    );
    let (_bad, url) = serve(&["--fault", "idempotency-lock-around-lookup"]);
    let out = contend(&["run", "--config", config, "--target", &url, once]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("[idempotency.once, EXPECTED") && text.contains("$.count"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every path 404, every method: a static file server behind the wrong prefix. Answers until
/// the test process ends; each connection is kept alive.
fn start_404_server() -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut stream = stream;
                let mut buf = [0u8; 65536];
                let mut seen = Vec::new();
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    seen.extend_from_slice(&buf[..n]);
                    // One answer per request head (the probe's bodies are small and sent whole).
                    while let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&seen[..end]).to_ascii_lowercase();
                        let length: usize = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse().ok())
                            .unwrap_or(0);
                        if seen.len() < end + 4 + length {
                            break;
                        }
                        seen.drain(..end + 4 + length);
                        let answer =
                            "HTTP/1.1 404 Not Found\r\ncontent-length: 10\r\n\r\nnot found\n";
                        if stream.write_all(answer.as_bytes()).is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    url
}

/// A wrong prefix (every path 404) is a misconfigured target, never a green run; an
/// unreachable one still writes its report files; a flag that cannot apply is refused.
#[test]
fn a_target_that_cannot_be_tested_fails_loudly_and_still_writes_its_reports() {
    let url = format!("{}/wrong/prefix", start_404_server());
    let dir = temp_dir("untestable");
    let json = dir.join("r.json");
    let junit = dir.join("r.xml");
    let out = contend(&[
        "run",
        "--target",
        &url,
        &format!("--report=json={}", json.display()),
        &format!("--report=junit={}", junit.display()),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("target misconfigured: nothing could be written")
            && err.contains("-> 404")
            && err.contains("wrong path prefix"),
        "{err}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert!(report["error"].as_str().unwrap().contains("misconfigured"));
    assert_eq!(report["verdict"]["passed"], false);
    assert!(std::fs::read_to_string(&junit)
        .unwrap()
        .contains("misconfigured"));

    // Nothing listens on port 9 of loopback (discard is never run here).
    let _ = std::fs::remove_file(&json);
    let dead = contend(&[
        "run",
        "--target",
        "http://127.0.0.1:9/",
        &format!("--report=json={}", json.display()),
    ]);
    assert_eq!(dead.status.code(), Some(1));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert!(
        report["error"]
            .as_str()
            .unwrap()
            .contains("target unreachable"),
        "{report}"
    );
    let _ = std::fs::remove_dir_all(&dir);

    let flag = contend(&["run", "--capabilities", "put-create"]);
    assert_eq!(flag.status.code(), Some(2));
    assert!(stderr(&flag).contains("--capabilities needs a --target"));
}

/// Frameworks that send only weak ETags are judged, not skipped: If-Match compares strongly,
/// so a correct one refuses every If-Match (and passes), and one that never evaluates If-Match
/// fails under the rule it breaks.
#[test]
fn a_weak_etag_target_is_judged_not_skipped() {
    let (_correct, url) = serve(&["--weak-etags"]);
    let out = contend(&["run", "--target", &url, "--format", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let weak_na: Vec<&str> = report["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == "not_applicable")
        .filter(|s| s["reason"].as_str().unwrap_or("").contains("weak"))
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert!(weak_na.len() <= 2, "{weak_na:?}");
    let judged = report["coverage"]["judged"].as_array().unwrap();
    for rule in ["if-match.strong", "if-match.mismatch", "race.one-winner"] {
        assert!(judged.iter().any(|r| r == rule), "{rule} not judged");
    }

    let (_ignoring, url) = serve(&["--weak-etags", "--fault", "ignore-if-match"]);
    let out = contend(&["run", "--target", &url]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    for wanted in [
        "step `a made-up tag is refused` [if-match.mismatch, MUST, RFC 9110 13.1.1]: status: expected 412, got 204",
        "step `race` [race.one-winner, MUST, RFC 9110 13.1.1 (its purpose)]: outcomes: expected exactly 0 × 2xx, got 20 × 2xx",
    ] {
        assert!(text.contains(wanted), "{wanted}\n{text}");
    }
}

/// Coverage is part of the verdict: a run that judged fewer rules than asked fails, and says
/// what it judged.
#[test]
fn min_judged_fails_a_run_that_judged_too_little() {
    let out = contend(&["run", "specs/if-match.yaml", "--min-judged", "40"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("rules judged, fewer than the 40 required (min_judged)"),
        "{}",
        stdout(&out)
    );
    let enough = contend(&["run", "specs/if-match.yaml", "--min-judged", "3"]);
    assert_eq!(enough.status.code(), Some(0), "{}", stdout(&enough));
}

/// A step that needs a capability its scenario does not is set aside where the target lacks
/// it; the other steps still run and judge, and the rules it checks are listed as not judged.
#[test]
fn a_step_needing_what_the_target_lacks_is_set_aside_not_the_scenario() {
    let (_server, url) = serve(&[]);
    let out = contend(&[
        "run",
        "--target",
        &url,
        "--capabilities",
        "put-create,create,delete",
        "specs/validators.yaml",
        "--format",
        "json",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["scenarios"][0]["status"], "passed", "{report:#}");
    let steps = report["scenarios"][0]["steps"].as_array().unwrap();
    let aside = steps
        .iter()
        .find(|s| s["name"] == "read Last-Modified")
        .unwrap();
    assert_eq!(aside["not_run"], "the target lacks last-modified");
    let judged = report["coverage"]["judged"].as_array().unwrap();
    assert!(judged.iter().any(|r| r == "etag.stable"), "{judged:?}");
}

/// A conditional write refused where it should have been performed changed nothing: a read
/// confirms it, and the later steps on the resource still run.
#[test]
fn a_refused_conditional_write_does_not_stop_later_steps() {
    // Every response gets a new ETag, so the current tag is refused with 412.
    let out = contend(&[
        "run",
        "--fault",
        "etag-per-response",
        "specs/if-match.yaml",
        "--format",
        "json",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let steps = report["scenarios"][0]["steps"].as_array().unwrap();
    let refused = steps
        .iter()
        .find(|s| s["name"] == "update with the current tag")
        .unwrap();
    // The write, then the read that confirms nothing changed.
    assert_eq!(refused["sent"], 2, "{refused:#}");
    let stale = steps
        .iter()
        .find(|s| s["name"] == "update with the stale tag")
        .unwrap();
    assert!(stale["not_run"].is_null(), "{stale:#}");
    assert_eq!(stale["exchanges"][0]["response"]["status"], 412);
}

/// Collections come from MKCOL (or a DAV class), not from the PUT under a missing parent that
/// put.missing-parent judges: a server that makes the parents on the fly fails that rule.
#[test]
fn a_server_that_makes_missing_parents_fails_put_missing_parent() {
    let (_server, url) = serve(&["--collections", "--fault", "put-creates-parents"]);
    let dir = temp_dir("collections");
    let profile = dir.join("webdav.yaml");
    std::fs::write(
        &profile,
        "create_scratch: true\nscratch: \"/contend-{{run_id}}-{{uuid}}\"\n",
    )
    .unwrap();
    let out = contend(&[
        "run",
        "--target",
        &url,
        "--config",
        profile.to_str().unwrap(),
        "specs/put-missing-parent.yaml",
    ]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out)
            .contains("[put.missing-parent, MUST, RFC 4918 9.7.1]: status: expected 409, got 201"),
        "{}",
        stdout(&out)
    );
}

/// With no budget given, a race is hunted round after round until one breaks or the default
/// budget is spent, and a pass says what it proved: its rounds and the rate it would have caught.
#[test]
fn the_default_race_budget_states_what_a_pass_proves() {
    let out = Command::new(env!("CARGO_BIN_EXE_contend"))
        .args(["run", "specs/race-if-match.yaml", "--format", "json"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rounds = &report["scenarios"][0]["rounds"];
    let total = rounds["total"].as_u64().unwrap();
    // More than the three rounds the suite used to stop at, within the default budget.
    assert!((4..=200).contains(&total), "{rounds}");
    assert_eq!(rounds["failed"], 0);
    let human = contend(&["run", "specs/race-if-match.yaml", "--race-budget", "40"]);
    assert!(
        stdout(&human).contains("rounds: held in 40 rounds (all 40 asked): a race that shows in 7.2 % of rounds or more would have been caught (95 % confidence)"),
        "{}",
        stdout(&human)
    );
    // A race that breaks ends the hunt at its first broken round.
    let caught = contend(&[
        "run",
        "specs/race-if-match.yaml",
        "--race-budget",
        "500,10s",
        "--fault",
        "check-then-write",
    ]);
    assert_eq!(caught.status.code(), Some(1));
    assert!(
        stdout(&caught).contains("rounds: broken in"),
        "{}",
        stdout(&caught)
    );
}

/// A group that pins no release rotates through the ones the target takes, round by round
/// (last byte held, whole request held, HTTP/2 where spoken), and every output says how many
/// rounds each release hunted; a workload's pass states its power over its operations too.
/// A round's racers go out on the connections the round before left open: no connect, no
/// handshake, the server meets them already accepted.
#[test]
fn racers_reuse_the_connections_of_the_round_before() {
    let out = Command::new(env!("CARGO_BIN_EXE_contend"))
        .args([
            "run",
            "specs/race-if-match.yaml",
            "--race-budget",
            "5",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let steps = report["scenarios"][0]["steps"].as_array().unwrap();
    let race = &steps.iter().find(|s| s["name"] == "race").unwrap()["race"];
    // Round 5 of the rotation (last byte, barrier, HTTP/2) is a barrier round after a
    // last-byte one: HTTP/1.1 both, so its racers can go out on the connections kept.
    assert_eq!(race["sync"], "barrier", "{race}");
    let warm = race["warm"].as_u64().unwrap_or(0);
    assert!(warm > 0 && warm <= 20, "{race}");
}

#[test]
fn rounds_rotate_through_the_releases_and_say_so() {
    let out = Command::new(env!("CARGO_BIN_EXE_contend"))
        .args([
            "run",
            "specs/race-if-match.yaml",
            "specs/race-counter.yaml",
            "--race-budget",
            "6",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let scenario = |id: &str| {
        report["scenarios"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"].as_str().unwrap().starts_with(id))
            .unwrap()
            .clone()
    };
    let race = scenario("race-if-match");
    let tallies: Vec<(String, u64)> = (race["rounds"]["releases"].as_array().unwrap().iter())
        .map(|t| {
            (
                t["release"].as_str().unwrap().to_owned(),
                t["rounds"].as_u64().unwrap(),
            )
        })
        .collect();
    let expected = [("last-byte", 2), ("barrier", 2), ("http2", 2)];
    assert_eq!(
        tallies,
        expected.map(|(r, n)| (r.to_owned(), n)).to_vec(),
        "{race}"
    );
    // The shown round is the last one: HTTP/2 in a six-round rotation.
    let step = (race["steps"].as_array().unwrap().iter())
        .find(|s| s["name"] == "race")
        .unwrap();
    assert_eq!(step["race"]["sync"], "http2", "{step}");
    let counter = scenario("race-counter");
    let operations = counter["rounds"]["operations"].as_u64().unwrap();
    assert!(operations >= 6 * 20, "{counter}");

    let human = contend(&["run", "specs/race-if-match.yaml", "--race-budget", "3"]);
    assert!(
        stdout(&human).contains("; rounds by release: last-byte 1, barrier 1, http2 1"),
        "{}",
        stdout(&human)
    );
}

/// A version template is checked like every other, wherever the profile puts the version (a
/// header, or a member of the JSON content), and the dry run shows the member it will send.
#[test]
fn a_version_template_is_checked_and_previewed() {
    for config in [None, Some("fixtures/profiles/api-items.yaml")] {
        let mut args = vec!["check", "fixtures/invalid/version-template-typo.yaml"];
        args.extend(config.iter().flat_map(|c| ["--config", c]));
        let out = contend(&args);
        assert_eq!(out.status.code(), Some(2), "{config:?}: {}", stdout(&out));
        assert!(
            stderr(&out).contains("version-template-typo.yaml:10:")
                && stderr(&out).contains("`verison` is not defined"),
            "{config:?}: {}",
            stderr(&out)
        );
    }
    let dry = contend(&[
        "run",
        "--dry-run",
        "--config",
        "fixtures/profiles/api-items.yaml",
        "--target",
        "http://127.0.0.1:9/",
        "--capabilities",
        "create,delete,example-api,versions",
        "specs/race-version.yaml",
    ]);
    assert_eq!(dry.status.code(), Some(0), "{}", stderr(&dry));
    assert!(
        stdout(&dry).contains("(in the content) \"version\": <version>"),
        "{}",
        stdout(&dry)
    );
}

/// A scenario can pin its release and offset; a staggered release says its spread is on purpose.
#[test]
fn a_pinned_stagger_is_kept_and_reported() {
    let out = contend(&["run", "fixtures/staggered-race.yaml", "--race-budget", "2"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("(barrier, 200 µs apart on purpose)"),
        "{text}"
    );
    assert!(text.contains("held in 2 rounds"), "{text}");
    // One release hunted: nothing to break down.
    assert!(!text.contains("rounds by release"), "{text}");
}

/// `--fault-rate` sets how often the planted rare race strikes: at every write it is caught in
/// the first round; without its fault, or outside (0, 1], it is refused before anything runs.
#[test]
fn the_rare_fault_takes_a_rate() {
    let caught = contend(&[
        "run",
        "specs/race-if-match.yaml",
        "--fault",
        "rare-lost-update",
        "--fault-rate",
        "100%",
    ]);
    assert_eq!(caught.status.code(), Some(1), "{}", stdout(&caught));
    assert!(
        stdout(&caught).contains("rounds: broken in its first round (shown)"),
        "{}",
        stdout(&caught)
    );
    let alone = contend(&["run", "specs/race-if-match.yaml", "--fault-rate", "0.5"]);
    assert_eq!(alone.status.code(), Some(2));
    assert!(
        stderr(&alone).contains("give that fault too"),
        "{}",
        stderr(&alone)
    );
    let zero = contend(&["serve", "--fault", "rare-lost-update", "--fault-rate", "0"]);
    assert_eq!(zero.status.code(), Some(2));
    assert!(
        stderr(&zero).contains("like `0.03` or `3%`"),
        "{}",
        stderr(&zero)
    );
}

/// When a capability's evidence itself breaks a rule, that is a finding about the target, not a
/// capability it lacks: the probe's `DELETE` with `If-Match: *` of its existing resource refused.
#[test]
fn the_probes_own_evidence_is_judged() {
    let (_server, url) = serve(&["--fault", "star-if-match-refused"]);
    let out = contend(&["run", "--target", &url, "specs/if-match.yaml"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(
        text.contains("[if-match.star-exists, EXPECTED, RFC 9110 13.1.1]: the probe's DELETE")
            && text.contains("got 412"),
        "{text}"
    );
    // The capability still came from the plain DELETE that followed.
    assert!(text.contains("PASS  if-match::"), "{text}");
}

/// What README.md and docs/ quote of the binary is what it has: each `contend SUBCOMMAND` and
/// the flags written after it in code, every other `--flag` they name (contend's, or one of
/// the other tools' listed here), and the README's sample mistake, as `contend check` prints it.
#[test]
fn the_docs_quote_the_commands_flags_and_errors_the_binary_has() {
    const OTHER_TOOLS: [&str; 12] = [
        "--bench",
        "--test",
        "--release",
        "--locked",
        "--path",
        "--ignored",
        "--run-ignored",
        "--partition",
        "--list",
        "--profile",
        "--in-memory", // cargo, nextest, pouchdb-server
        "--serve",     // scripts/real-servers.sh
    ];
    let flag = regex::Regex::new(r"--[a-z][a-z0-9-]+").unwrap();
    let command = regex::Regex::new(r"\bcontend ([a-z]+)((?: +[^ |;&#`]+)*)").unwrap();
    let code = regex::Regex::new(r"(?s)```[a-z]*\n(.*?)```|`([^`\n]+)`").unwrap();
    let flags_of = |help: &str| -> std::collections::BTreeSet<String> {
        flag.find_iter(help)
            .map(|m| m.as_str().to_owned())
            .collect()
    };
    let help = |sub: &str| stdout(&contend(&[sub, "--help"]));
    let every_flag = flags_of(
        &[
            "run", "serve", "probe", "check", "list", "init", "report", "explain", "schema",
        ]
        .map(help)
        .concat(),
    );
    let mut docs = vec![std::path::PathBuf::from("README.md")];
    docs.extend(
        std::fs::read_dir("docs")
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "md")),
    );
    let mut wrong = Vec::new();
    let mut quoted = 0;
    for doc in &docs {
        let text = std::fs::read_to_string(doc).unwrap();
        for named in flag.find_iter(&text).map(|m| m.as_str()) {
            if !every_flag.contains(named) && !OTHER_TOOLS.contains(&named) {
                wrong.push(format!(
                    "{}: {named} is no flag of contend's",
                    doc.display()
                ));
            }
        }
        for span in code.captures_iter(&text) {
            let span = span
                .get(1)
                .or(span.get(2))
                .unwrap()
                .as_str()
                .replace("\\\n", " ");
            for line in span.lines() {
                for found in command.captures_iter(line) {
                    let sub = &found[1];
                    let its_help = contend(&[sub, "--help"]);
                    if !its_help.status.success() {
                        // Prose inside a comment ("contend beside your crate") names no command.
                        if line.contains('#') {
                            continue;
                        }
                        wrong.push(format!("{}: `contend {sub}` is no command", doc.display()));
                        continue;
                    }
                    quoted += 1;
                    let its_flags = flags_of(&stdout(&its_help));
                    for named in flag.find_iter(&found[2]).map(|m| m.as_str()) {
                        if !its_flags.contains(named) {
                            wrong
                                .push(format!("{}: `contend {sub}` has no {named}", doc.display()));
                        }
                    }
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(quoted >= 20, "only {quoted} commands quoted");

    // The README's scenario with its first `body` misspelt gets exactly the quoted error.
    let readme = std::fs::read_to_string("README.md").unwrap();
    let scenario = readme
        .split("```yaml\n# specs/my-api.yaml\n")
        .nth(1)
        .and_then(|s| s.split("\n```").next())
        .expect("README.md has the sample scenario");
    let quoted_error = readme
        .split("```\nspecs/my-api.yaml:")
        .nth(1)
        .and_then(|s| s.split("\n```").next())
        .map(|s| format!("specs/my-api.yaml:{s}"))
        .expect("README.md quotes a mistake");
    let dir = temp_dir("readme-mistake");
    std::fs::create_dir_all(dir.join("specs")).unwrap();
    let misspelt = format!("# specs/my-api.yaml\n{scenario}\n").replacen("body:", "bdy:", 1);
    std::fs::write(dir.join("specs/my-api.yaml"), misspelt).unwrap();
    let out = contend_in(&dir, &["check", "specs/my-api.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    let printed = stdout(&out) + &stderr(&out);
    assert!(
        printed.contains(&quoted_error),
        "README.md quotes:\n{quoted_error}\ncontend check prints:\n{printed}"
    );
}
