//! The `cargo test` harness as a user's crate has it (README: `tests/contend.rs` calling
//! `contend::harness::run_dir("specs")`), run in a process of its own against real servers:
//! the verdict under `cargo test` is the verdict of `contend run`, and every profile key the
//! CLI reads (`cacert` here) works there too.
//!
//! This file is both: run with `CONTEND_AS_USER_CRATE=1` it *is* that user's test binary;
//! otherwise its trials start `contend serve` and run themselves as the user's crate.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use libtest_mimic::{Arguments, Failed, Trial};

fn main() {
    if std::env::var_os("CONTEND_AS_USER_CRATE").is_some() {
        contend::harness::run_dir("specs").exit();
    }
    let args = Arguments::from_args();
    let trials = vec![
        Trial::test("a correct server passes every trial", correct_server_passes),
        Trial::test(
            "a target-wide MUST finding fails its own trial and the verdict",
            target_wide_finding_fails,
        ),
        Trial::test(
            "an https target whose CA only the profile names is reached",
            profile_cacert_is_used,
        ),
    ];
    libtest_mimic::run(&args, trials).exit();
}

/// `contend serve`, stopped when dropped.
struct Served {
    child: Child,
    url: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(extra: &[&str]) -> Served {
    let mut child = Command::new(env!("CARGO_BIN_EXE_contend"))
        .args(["serve", "--addr", "127.0.0.1:0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("contend serve starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("piped"))
        .read_line(&mut line)
        .expect("contend serve says where it listens");
    let url = line
        .split_whitespace()
        .last()
        .expect("a URL on the first line")
        .to_owned();
    Served { child, url }
}

/// This test binary run as the user's crate, with `env`; its exit success and its output.
fn as_user_crate(env: &[(&str, &str)]) -> (bool, String) {
    as_user_crate_with(env, &[])
}

/// The same with libtest arguments (a filter).
fn as_user_crate_with(env: &[(&str, &str)], args: &[&str]) -> (bool, String) {
    let mut command = Command::new(std::env::current_exe().expect("the test binary"));
    command
        .args(args)
        .env("CONTEND_AS_USER_CRATE", "1")
        .env("CONTEND_RACE_BUDGET", "3")
        .env_remove("CONTEND_TARGET")
        .env_remove("CONTEND_CONFIG")
        .env_remove("CONTEND_CAPABILITIES")
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    for (name, value) in env {
        command.env(name, value);
    }
    let out = command.output().expect("the user's test binary runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn check(ok: bool, what: &str, output: &str) -> Result<(), Failed> {
    match ok {
        true => Ok(()),
        false => Err(format!("{what}; the user's `cargo test` printed:\n{output}").into()),
    }
}

fn correct_server_passes() -> Result<(), Failed> {
    let server = serve(&[]);
    let (passed, out) = as_user_crate(&[("CONTEND_TARGET", &server.url)]);
    check(passed, "expected a pass against the correct server", &out)?;
    check(
        out.contains("contend::verdict") && out.contains("target::last-modified.syntax"),
        "expected the verdict and target-wide trials to be listed",
        &out,
    )
}

fn target_wide_finding_fails() -> Result<(), Failed> {
    let server = serve(&["--fault", "rfc850-last-modified"]);
    let (passed, out) = as_user_crate(&[("CONTEND_TARGET", &server.url)]);
    check(
        !passed,
        "expected `cargo test` to fail, as `contend run` does",
        &out,
    )?;
    let failed = |trial: &str| {
        out.lines()
            .any(|l| l.contains(trial) && l.trim_end().ends_with("FAILED"))
    };
    check(
        failed("target::last-modified.syntax") && failed("contend::verdict"),
        "expected target::last-modified.syntax and contend::verdict to fail",
        &out,
    )?;
    check(
        out.contains("[last-modified.syntax, MUST, RFC 9110 8.8.2"),
        "expected the finding with its rule, level and section",
        &out,
    )?;
    // Filtered to the target-wide trials (as nextest runs one at a time): they still judge
    // the whole suite, not an empty one.
    let (passed, out) = as_user_crate_with(
        &[("CONTEND_TARGET", &server.url)],
        &["target::last-modified.syntax", "--exact"],
    );
    check(
        !passed && out.contains("1 failed") && out.contains("exchanges in"),
        "expected the lone target-wide trial to fail on the whole suite's exchanges",
        &out,
    )
}

fn profile_cacert_is_used() -> Result<(), Failed> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tls = root.join("fixtures/tls");
    let (cert, key) = (tls.join("server.pem"), tls.join("server.key"));
    let server = serve(&[
        "--tls-cert",
        cert.to_str().expect("UTF-8 path"),
        "--tls-key",
        key.to_str().expect("UTF-8 path"),
    ]);
    let dir = std::env::temp_dir().join(format!("contend-harness-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let with_ca = dir.join("with-ca.yaml");
    let without_ca = dir.join("without-ca.yaml");
    let target = format!("target: {}\n", server.url);
    std::fs::write(
        &with_ca,
        format!("{target}cacert: {}\n", tls.join("ca.pem").display()),
    )?;
    std::fs::write(&without_ca, &target)?;
    let (passed, out) = as_user_crate(&[("CONTEND_CONFIG", with_ca.to_str().unwrap_or(""))]);
    let (refused, refused_out) =
        as_user_crate(&[("CONTEND_CONFIG", without_ca.to_str().unwrap_or(""))]);
    let _ = std::fs::remove_dir_all(&dir);
    check(passed, "expected a pass with the profile's cacert", &out)?;
    // The control: without the key the certificate is not trusted, so the key did the work.
    check(
        !refused && refused_out.contains("target unreachable"),
        "expected the same target without `cacert` to be unreachable",
        &refused_out,
    )
}
