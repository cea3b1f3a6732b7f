//! Rude targets: a server on loopback that misbehaves in every way a staging server can. Each
//! case must fail its scenario with a readable reason within its timeout, the run goes on, the
//! report is complete, and contend neither panics nor hangs.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

/// What the server does for each path (and under `/cors-storage/`, for each method).
fn misbehave(method: &str, path: &str, origin: bool, mut stream: TcpStream) {
    let mut write = |bytes: &[u8]| {
        let _ = stream.write_all(bytes);
        let _ = stream.flush();
    };
    if path.starts_with("/cors-storage/") {
        // Storage behind CORS: a preflight without `Origin` is refused, whatever else it has.
        // One exchange per connection, said so: the server closes after answering.
        let answer: &[u8] = match method {
            "PUT" => b"HTTP/1.1 201 Created\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
            "OPTIONS" if origin => {
                b"HTTP/1.1 200 OK\r\nConnection: close\r\nAccess-Control-Allow-Origin: *\r\nAccess-Control-Allow-Methods: PUT\r\nContent-Length: 0\r\n\r\n"
            }
            "OPTIONS" => {
                b"HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 19\r\n\r\nCORS not configured"
            }
            _ => b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n",
        };
        write(answer);
        let _ = stream.shutdown(std::net::Shutdown::Write);
        let _ = stream.read(&mut [0u8; 64]);
        return;
    }
    match path {
        "/reset-in-headers" => write(b"HTTP/1.1 200 OK\r\nContent-Le"),
        "/reset-in-body" => write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b"),
        "/close-after-headers" => write(b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n"),
        "/silent" => std::thread::sleep(Duration::from_secs(4)),
        "/drip" => {
            for b in b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" {
                write(&[*b]);
                std::thread::sleep(Duration::from_millis(400));
            }
        }
        "/bad-status" => write(b"HTTP/1.1 two-hundred OK\r\nContent-Length: 0\r\n\r\n"),
        "/bad-header-bytes" => {
            write(b"HTTP/1.1 200 OK\r\nX-Bad: a\x01b\r\nContent-Length: 0\r\n\r\n")
        }
        "/many-headers" => {
            let mut response = b"HTTP/1.1 200 OK\r\n".to_vec();
            for i in 0..20_000 {
                response.extend_from_slice(format!("X-H{i}: v\r\n").as_bytes());
            }
            response.extend_from_slice(b"Content-Length: 0\r\n\r\n");
            write(&response);
        }
        "/huge" => {
            write(b"HTTP/1.1 200 OK\r\nContent-Length: 10000000000\r\n\r\n");
            let zeros = vec![0u8; 1 << 16];
            // Bounded: 64 MiB at most, far past any cap contend keeps.
            for _ in 0..1024 {
                if stream.write_all(&zeros).is_err() {
                    break;
                }
            }
        }
        "/length-too-long" => {
            write(b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\nshort");
            std::thread::sleep(Duration::from_secs(4));
        }
        "/length-too-short" => {
            write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nfar more than two bytes")
        }
        "/locked" => {
            LOCKED_HITS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            write(b"HTTP/1.1 423 Locked\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
            // Closed only once the client has read the answer: a close that crosses bytes
            // still on their way is a reset, and this case is not about resets.
            let _ = stream.shutdown(std::net::Shutdown::Write);
            let _ = stream.read(&mut [0u8; 64]);
        }
        _ => write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"),
    }
}

/// Requests that reached `/locked`.
static LOCKED_HITS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

const CASES: [&str; 11] = [
    "/reset-in-headers",
    "/reset-in-body",
    "/close-after-headers",
    "/silent",
    "/drip",
    "/bad-status",
    "/bad-header-bytes",
    "/many-headers",
    "/huge",
    "/length-too-long",
    "/length-too-short",
];

fn start() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut stream = stream;
                let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf) {
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                // Read the content too: a socket closed with unread bytes is reset, and the
                // client may lose the answer to that.
                let head_end = request.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
                let head = String::from_utf8_lossy(&request[..head_end]).to_ascii_lowercase();
                let length: usize = (head.lines())
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                while request.len() < head_end + length {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let line = String::from_utf8_lossy(&request);
                let method = line.split(' ').next().unwrap_or("GET").to_owned();
                let path = line.split(' ').nth(1).unwrap_or("/").to_owned();
                let origin = head.contains("\norigin:");
                misbehave(&method, &path, origin, stream);
            });
        }
    });
    format!("http://{address}")
}

/// Held by the tests that must not run beside the rude cases: under their load (64 MiB
/// streamed, eleven scenarios at once, on 2 cores) a connection to another test's server was
/// seen reset before that server read its request, about 1 run in 15; not what those tests are
/// about.
static APART: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn every_rude_answer_fails_its_scenario_cleanly_and_the_run_goes_on() {
    let _apart = APART.lock().unwrap_or_else(|p| p.into_inner());
    let url = start();
    let dir = std::env::temp_dir().join(format!("contend-rude-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for case in CASES {
        let name = case.trim_start_matches('/');
        // A Content-Length shorter than the content frames a valid 200 of two bytes: what
        // shows the lie is the content the scenario expected.
        let expect = match case {
            "/length-too-short" => "{ status: 200, body: far more than two bytes }",
            _ => "{ status: 200 }",
        };
        std::fs::write(
            dir.join(format!("{name}.yaml")),
            format!(
                "name: {name}\nsteps:\n  - name: get\n    request: {{ path: {case}, timeout: 1s }}\n    expect: {expect}\n"
            ),
        )
        .unwrap();
    }
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_contend"))
        .args([
            "run",
            "--target",
            &url,
            "--capabilities",
            "put-create",
            "--format",
            "json",
            "-j",
            "11",
            "--max-body",
            "1MiB",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    // Every case within its 1 s timeout (they run at once), with room for a slow machine.
    assert!(elapsed < Duration::from_secs(8), "took {elapsed:?}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let scenarios = report["scenarios"].as_array().unwrap();
    assert_eq!(scenarios.len(), CASES.len(), "the report lost scenarios");
    for s in scenarios {
        let id = s["id"].as_str().unwrap();
        assert_eq!(s["status"], "failed", "{id}: {s:#}");
        let message = s["failures"][0]["message"].as_str().unwrap();
        // A sentence, not a Debug dump or an empty string.
        assert!(
            message.len() > 20 && !message.contains("Error {"),
            "{id}: {message}"
        );
        println!("{id}: {message}");
        if id.starts_with("huge::") {
            // Memory stays bounded: the content is cut off at --max-body.
            assert!(
                message.contains("larger than 1048576 bytes (--max-body)"),
                "{message}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A server that answers every GET with 200 and counts its connections; `close` drops each
/// connection right after its first answer, without saying so (`Connection: close`), as nginx
/// does after a 412 it marked keep-alive.
fn counting(close: bool) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let connections = std::sync::Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            counted.fetch_add(1, Ordering::SeqCst);
            std::thread::spawn(move || {
                let mut stream = stream;
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                loop {
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut buf) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                    let end = request.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
                    request.drain(..end + 4);
                    let answer = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nETag: \"v1\"\r\n\r\nok";
                    if stream.write_all(answer).is_err() || close {
                        return;
                    }
                }
            });
        }
    });
    (format!("http://{address}"), connections)
}

#[test]
fn kept_alive_connections_are_reused_a_closed_one_replaced_and_a_proxy_honoured() {
    let dir = std::env::temp_dir().join(format!("contend-keep-alive-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut text = "name: five reads\nsteps:\n".to_owned();
    for i in 0..5 {
        text.push_str(&format!(
            "  - name: get {i}\n    request: {{ path: /doc, timeout: 2s }}\n    expect: {{ status: 200 }}\n"
        ));
    }
    std::fs::write(dir.join("reads.yaml"), text).unwrap();
    // One request first checks the target answers (capabilities declared, so no probe).
    for (close, expected) in [(false, 1), (true, 6)] {
        let (url, connections) = counting(close);
        let out = Command::new(env!("CARGO_BIN_EXE_contend"))
            .args(["run", "--target", &url, "--capabilities", "put-create"])
            .arg(dir.join("reads.yaml"))
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "close: {close}\n{stdout}");
        let opened = connections.load(std::sync::atomic::Ordering::SeqCst);
        assert_eq!(opened, expected, "close: {close}: connections opened");
    }
    // Through a proxy named in the environment, as reqwest reads it: the target's name is
    // never resolved here, only the proxy (on loopback) is connected to.
    let (proxy, connections) = counting(false);
    let out = Command::new(env!("CARGO_BIN_EXE_contend"))
        .args(["run", "--target", "http://contend-proxied.invalid"])
        .args(["--capabilities", "put-create"])
        .arg(dir.join("reads.yaml"))
        .env("HTTP_PROXY", &proxy)
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "through {proxy}\n{stdout}");
    assert!(connections.load(std::sync::atomic::Ordering::SeqCst) >= 1);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A write answered 423 Locked by a target whose lock someone else holds (with several
/// scenarios at once, often contend itself) is sent again once; locked again, it is not checked
/// and the scenario stops with the reason: never a finding under the step's rule.
#[test]
fn a_write_locked_by_someone_else_is_sent_again_once_then_not_checked() {
    let _apart = APART.lock().unwrap_or_else(|p| p.into_inner());
    let url = start();
    let dir = std::env::temp_dir().join(format!("contend-locked-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("locked.yaml"),
        "name: locked\nsteps:\n  - name: create\n    rule: put.created\n    request: { method: PUT, \
         path: /locked, body: x }\n    expect: { status: 201 }\n  - name: read\n    request: { path: \
         /locked }\n    expect: { status: 200 }\n",
    )
    .unwrap();
    // About 1 run in 10 with the other tests of this file beside it, the first connection was
    // reset before this server read the request (it counted nothing); not understood yet, and
    // not what this test is about: such a run is made again, at most twice.
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_contend"))
            .args(["run", "--target", &url, "--capabilities", "put-create"])
            .args(["--format", "json"])
            .arg(dir.join("locked.yaml"))
            .output()
            .unwrap()
    };
    let mut out = run();
    for _ in 0..2 {
        if LOCKED_HITS.load(std::sync::atomic::Ordering::SeqCst) > 0 {
            break;
        }
        out = run();
    }
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let scenario = &report["scenarios"][0];
    let hits = LOCKED_HITS.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(
        scenario["status"], "not_applicable",
        "{hits} hits: {scenario}"
    );
    let reason = scenario["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("423 Locked twice"), "{reason}");
    assert_eq!(
        scenario["failures"].as_array().map_or(0, Vec::len),
        0,
        "{scenario}"
    );
    // The create and its one retry; the read after it is not run.
    assert_eq!(LOCKED_HITS.load(std::sync::atomic::Ordering::SeqCst), 2);
    assert_eq!(
        out.status.code(),
        Some(1),
        "nothing was tested: never green"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// specs/options.yaml against storage behind CORS (`/cors-storage/`), with `extra` flags: the
/// scenario's report and the OPTIONS exchange.
fn options_behind_cors(extra: &[&std::ffi::OsStr]) -> (serde_json::Value, serde_json::Value) {
    let url = start();
    let target = format!("{url}/cors-storage");
    let out = Command::new(env!("CARGO_BIN_EXE_contend"))
        .args(["run", "specs/options.yaml", "--target", &target])
        .args([
            "--capabilities",
            "create,put-create,delete",
            "--format",
            "json",
        ])
        .args(extra)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let scenario = report["scenarios"][0].clone();
    let options = (scenario["steps"].as_array().unwrap().iter())
        .find(|s| s["name"] == "OPTIONS with a stale If-Match")
        .map(|s| s["exchanges"][0].clone())
        .unwrap_or_default();
    (scenario, options)
}

/// Storage behind CORS refuses an OPTIONS without `Origin` (403) whether or not it carries
/// If-Match: nothing about preconditions, so `scope.options` holds.
#[test]
fn an_options_refused_for_cors_is_no_precondition_finding() {
    let _apart = APART.lock().unwrap_or_else(|p| p.into_inner());
    let (scenario, options) = options_behind_cors(&[]);
    assert_eq!(scenario["status"], "passed", "{scenario}");
    assert_eq!(options["response"]["status"], 403, "{options}");
}

/// With a profile's `cors_origin`, every OPTIONS goes as a preflight, so storage behind CORS
/// answers it (200 here, 403 without `Origin`) and `scope.options` judges a real answer.
#[test]
fn a_profile_s_cors_origin_sends_options_as_a_preflight() {
    let _apart = APART.lock().unwrap_or_else(|p| p.into_inner());
    let dir = std::env::temp_dir().join(format!("contend-cors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let profile = dir.join("cors.yaml");
    std::fs::write(&profile, "cors_origin: https://app.example\n").unwrap();
    let (scenario, options) = options_behind_cors(&["--config".as_ref(), profile.as_os_str()]);
    assert_eq!(scenario["status"], "passed", "{scenario}");
    assert_eq!(
        options["request"]["headers"]["origin"], "https://app.example",
        "{options}"
    );
    assert_eq!(options["response"]["status"], 200, "{options}");
    std::fs::remove_dir_all(&dir).unwrap();
}
