//! `expect.snapshot`: the response content compared with a stored copy.

use crate::record::Check;

fn finding(name: &str, expected: &str, actual: String) -> Check {
    Check::Body {
        part: format!("snapshot {name}"),
        expected: expected.to_owned(),
        got: actual,
    }
}

/// Compares `actual` with the stored snapshot (`None` when there is none yet). A mismatch
/// shows a unified diff, stored (`-`) against received (`+`).
pub fn check_snapshot(name: &str, stored: Option<&str>, actual: &str) -> Option<Check> {
    let Some(stored) = stored else {
        return Some(finding(
            name,
            "a stored snapshot",
            "none yet (run with --update-snapshots to record this response)".into(),
        ));
    };
    if stored == actual {
        return None;
    }
    let diff = similar::TextDiff::from_lines(stored, actual)
        .unified_diff()
        .context_radius(2)
        .header("stored", "received")
        .to_string();
    Some(finding(
        name,
        "the stored content",
        format!("different content:\n{diff}"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_content_passes_and_a_change_shows_a_diff() {
        assert_eq!(check_snapshot("s", Some("a\nb\n"), "a\nb\n"), None);
        let failure = check_snapshot("s", Some("a\nb\n"), "a\nc\n").unwrap();
        insta::assert_snapshot!(failure.actual(), @r"
        different content:
        --- stored
        +++ received
        @@ -1,2 +1,2 @@
         a
        -b
        +c
        ");
        assert!(check_snapshot("s", None, "x").is_some());
    }
}
