//! The reports as users see them, pinned: the terminal output, the JUnit file and the JSON
//! report of one fixed run against the reference server with a planted fault (ports, times,
//! ids, dates and validators normalised). `cargo insta review` shows what changed.

use std::process::Command;

fn normalise(text: &str) -> String {
    let rules = [
        (r"127\.0\.0\.1:\d+", "127.0.0.1:PORT"),
        (
            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            "UUID",
        ),
        (r"contend-[0-9a-f]{8}", "contend-RUN"),
        (r#""run_id": "[0-9a-f]{8}""#, r#""run_id": "RUN""#),
        (r"\(\d+ ms\)", "(N ms)"),
        (r"\(\d+\.\d+ s\)", "(N s)"),
        (r#""duration_ms": [0-9.]+"#, r#""duration_ms": N"#),
        (r#"time="[0-9.]+""#, r#"time="N""#),
        (r#"timestamp="[^"]+""#, r#"timestamp="T""#),
        (
            r"[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT",
            "DATE",
        ),
        (r#"\\"[0-9a-f]{16}\\""#, r#"\"ETAG\""#),
        (r#""[0-9a-f]{16}""#, r#""ETAG""#),
        (r"&quot;[0-9a-f]{16}&quot;", "&quot;ETAG&quot;"),
    ];
    let mut out = text.to_owned();
    for (pattern, with) in rules {
        out = regex::Regex::new(pattern)
            .unwrap()
            .replace_all(&out, with)
            .into_owned();
    }
    out
}

#[test]
fn the_reports_of_a_run_with_a_planted_fault() {
    let dir = std::env::temp_dir().join(format!("contend-report-snaps-{}", std::process::id()));
    let junit = dir.join("junit.xml");
    let out = Command::new(env!("CARGO_BIN_EXE_contend"))
        .args([
            "run",
            "--fault",
            "ignore-if-match",
            "-j",
            "1",
            "specs/if-match.yaml",
            "specs/options.yaml",
            "specs/precondition-required.yaml",
        ])
        .arg(format!("--report=junit={}", junit.display()))
        .arg(format!(
            "--report=json={}",
            dir.join("report.json").display()
        ))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!("human", normalise(&String::from_utf8_lossy(&out.stdout)));
    insta::assert_snapshot!(
        "junit",
        normalise(&std::fs::read_to_string(&junit).unwrap())
    );
    let json = std::fs::read_to_string(dir.join("report.json")).unwrap();
    // The first scenario's failure and the exchange it names: the shape consumers rely on.
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    let failure = &report["scenarios"][0]["failures"][0];
    let at = &failure["exchanges"][0];
    let exchange = &report["scenarios"][0]["steps"][at["step"].as_u64().unwrap() as usize]
        ["exchanges"][at["exchange"].as_u64().unwrap() as usize];
    let shown = serde_json::json!({ "summary": report["summary"], "failure": failure, "exchange": exchange });
    insta::assert_snapshot!(
        "json",
        normalise(&serde_json::to_string_pretty(&shown).unwrap())
    );
    let _ = std::fs::remove_dir_all(&dir);
}
