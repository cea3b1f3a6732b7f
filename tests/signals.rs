//! However a run is stopped, it leaves nothing on the target and writes every report: SIGINT
//! (twice within a moment, as a process group receives it), SIGTERM and SIGHUP, each during
//! the probe, a step, a concurrent group and a workload, against a slow reference server that
//! lists what it holds. A deliberate second Ctrl-C quits at once and says what it leaves.
#![cfg(unix)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn contend() -> Command {
    Command::new(env!("CARGO_BIN_EXE_contend"))
}

/// A reference server answering every request `latency` late, stopped when dropped.
struct Slow {
    child: Child,
    url: String,
}

impl Slow {
    fn start(latency: &str) -> Slow {
        let mut child = contend()
            .args(["serve", "--addr", "127.0.0.1:0", "--latency", latency])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line.trim().rsplit(' ').next().unwrap().to_owned();
        Slow { child, url }
    }

    /// What the server holds (the resources nobody deleted), as its JSON list.
    fn holdings(&self) -> String {
        use std::io::{Read, Write};
        let addr = self.url.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        let request = format!(
            "GET /.well-known/contend/holdings HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let (_, body) = response.split_once("\r\n\r\n").unwrap_or_default();
        body.to_owned()
    }
}

impl Drop for Slow {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Clone, Copy, Debug)]
enum Moment {
    Probe,
    Step,
    Group,
    Workload,
}

impl Moment {
    fn scenario(self) -> &'static str {
        match self {
            Moment::Probe | Moment::Step => "specs/if-match.yaml",
            Moment::Group => "specs/race-if-match.yaml",
            Moment::Workload => "specs/race-counter.yaml",
        }
    }

    /// How long after the run's heading (the probe done) the signal goes: the scenario's first
    /// steps take 50 ms each.
    fn after_heading(self) -> Option<Duration> {
        match self {
            Moment::Probe => None,
            Moment::Step => Some(Duration::from_millis(60)),
            Moment::Group => Some(Duration::from_millis(170)),
            Moment::Workload => Some(Duration::from_millis(300)),
        }
    }
}

struct Stopped {
    code: Option<i32>,
    stderr: String,
    reports: PathBuf,
    holdings: String,
    during_probe: bool,
}

/// Runs one scenario against a fresh server answering `latency` late and signals it at
/// `moment`: `signals` is sent in turn, `gap` apart.
fn stop_at(
    moment: Moment,
    latency: &str,
    extra: &[&str],
    signals: &[&str],
    gap: Duration,
) -> Stopped {
    let server = Slow::start(latency);
    let reports = std::env::temp_dir().join(format!(
        "contend-signals-{}-{moment:?}-{}",
        std::process::id(),
        signals.join("-")
    ));
    let _ = std::fs::remove_dir_all(&reports);
    std::fs::create_dir_all(&reports).unwrap();
    let mut child = contend()
        .args(["run", "--target", &server.url, moment.scenario()])
        .args(extra)
        .arg("--report")
        .arg(format!("json={}", reports.join("run.json").display()))
        .arg("--report")
        .arg(format!("junit={}", reports.join("junit.xml").display()))
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The heading line says the probe is done and scenarios start.
    let heading: Arc<Mutex<Option<Instant>>> = Arc::default();
    let stdout = child.stdout.take().unwrap();
    let seen = heading.clone();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains("scenarios against") {
                seen.lock().unwrap().get_or_insert(Instant::now());
            }
        }
    });
    let started = Instant::now();
    let during_probe = match moment.after_heading() {
        None => {
            std::thread::sleep(Duration::from_millis(200));
            heading.lock().unwrap().is_none()
        }
        Some(after) => {
            while heading.lock().unwrap().is_none() && started.elapsed() < Duration::from_secs(20) {
                std::thread::sleep(Duration::from_millis(5));
            }
            std::thread::sleep(after);
            false
        }
    };
    for (i, signal) in signals.iter().enumerate() {
        if i > 0 {
            std::thread::sleep(gap);
        }
        let _ = Command::new("kill")
            .args(["-s", signal, &child.id().to_string()])
            .status();
    }
    // Bounded: a stopped run ends within the timeout of the steps in flight.
    let deadline = Instant::now() + Duration::from_secs(30);
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let _ = reader.join();
    let mut stderr = String::new();
    let _ = std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr);
    Stopped {
        code,
        stderr,
        holdings: server.holdings(),
        reports,
        during_probe,
    }
}

fn assert_clean(moment: Moment, signals: &[&str], code: i32) {
    let stopped = stop_at(moment, "50ms", &[], signals, Duration::from_millis(30));
    let what = format!("{signals:?} during the {moment:?}");
    assert_eq!(stopped.code, Some(code), "{what}: {}", stopped.stderr);
    if let Moment::Probe = moment {
        assert!(stopped.during_probe, "{what}: the probe had ended");
    }
    assert_eq!(stopped.holdings.trim(), "[]", "{what}: left on the target");
    let json = std::fs::read_to_string(stopped.reports.join("run.json")).unwrap();
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(report["scenarios"].as_array().unwrap().len(), 1, "{what}");
    let junit = std::fs::read_to_string(stopped.reports.join("junit.xml")).unwrap();
    assert!(junit.contains("<testsuites"), "{what}: {junit}");
    let _ = std::fs::remove_dir_all(&stopped.reports);
}

/// Each signal at each moment, all at once (each against its own server).
#[test]
fn every_stop_cleans_up_and_writes_every_report() {
    let signals: [(&[&str], i32); 3] = [(&["INT", "INT"], 130), (&["TERM"], 143), (&["HUP"], 129)];
    let moments = [Moment::Probe, Moment::Step, Moment::Group, Moment::Workload];
    let runs: Vec<_> = (signals.iter())
        .flat_map(|(s, code)| moments.map(|m| (*s, *code, m)))
        .map(|(s, code, m)| std::thread::spawn(move || assert_clean(m, s, code)))
        .collect();
    let failed: Vec<String> = (runs.into_iter())
        .filter_map(|r| r.join().err())
        .map(|e| {
            (e.downcast_ref::<String>().cloned()).unwrap_or_else(|| "a run panicked".to_owned())
        })
        .collect();
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}

/// A second Ctrl-C after the first has had a moment quits at once, and first says which URLs
/// it made and did not delete: they are exactly what the target still holds.
#[test]
fn a_deliberate_second_ctrl_c_quits_at_once_and_names_what_it_leaves() {
    // Every answer 700 ms late: the steps in flight and the cleanup outlast the second. The
    // capabilities are declared, so no probe takes its time.
    let declared = ["--capabilities", "put-create,delete,last-modified"];
    let (two, gap) = (["INT", "INT"], Duration::from_millis(1200));
    let stopped = stop_at(Moment::Step, "700ms", &declared, &two, gap);
    assert_eq!(stopped.code, Some(130), "{}", stopped.stderr);
    let _ = std::fs::remove_dir_all(&stopped.reports);
    let held: Vec<String> = serde_json::from_str(&stopped.holdings).unwrap();
    assert!(!held.is_empty(), "nothing was left: {}", stopped.stderr);
    assert!(
        stopped.stderr.contains("left on the target"),
        "{}",
        stopped.stderr
    );
    for path in held {
        assert!(stopped.stderr.contains(&path), "{path}: {}", stopped.stderr);
    }
}
