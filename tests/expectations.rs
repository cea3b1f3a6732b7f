//! Each kind of expectation fails when it should, and says what it expected and what it got.
//! Scenarios run against the reference server (correct, so a wrong expectation must fail) and
//! against a deliberately wrong server (tests/support).

mod support;

use std::net::SocketAddr;

use contend::report::Status;
use support::{messages, run_yaml, start_wrong_server};

const LOOPBACK: ([u8; 4], u16) = ([127, 0, 0, 1], 0);

async fn reference() -> contend::server::RunningServer {
    contend::server::start(SocketAddr::from(LOOPBACK), Default::default())
        .await
        .unwrap()
}

/// Stores a JSON document, then GETs it with `expect` (and `capture`) as given.
fn on_json_doc(expect: &str) -> String {
    format!(
        r#"
name: probe
steps:
  - name: store
    request:
      method: PUT
      path: /doc
      headers: {{ Content-Type: application/json }}
      body: {{ json: {{ id: 7, tags: [a, b], owner: {{ name: ann }} }} }}
    capture: {{ etag: {{ header: ETag }} }}
  - name: check
    request: {{ path: /doc }}
{expect}
"#
    )
}

#[tokio::test]
async fn single_response_expectations_report_expected_and_actual() {
    let server = reference().await;
    let cases: &[(&str, &str)] = &[
        (
            "    expect: { status: 201 }",
            "check: status: expected 201, got 200",
        ),
        (
            "    expect: { status: [201, 4xx] }",
            "check: status: expected 201 or 4xx, got 200",
        ),
        (
            "    expect: { headers: { Content-Type: text/plain } }",
            r#"check: header Content-Type: expected "text/plain", got "application/json""#,
        ),
        (
            "    expect: { headers: { X-Missing: { present: true } } }",
            "check: header X-Missing: expected present, got absent",
        ),
        (
            "    expect: { headers: { ETag: { absent: true } } }",
            "check: header ETag: expected absent, got \"\\\"",
        ),
        (
            "    expect: { headers: { ETag: { matches: '^W/' } } }",
            "check: header ETag: expected matching /^W//, got",
        ),
        (
            "    expect: { headers: { ETag: { not_equals: '{{etag}}' } } }",
            "check: header ETag: expected not \"\\\"",
        ),
        (
            "    expect: { headers: { content-type: { contains: xml } } }",
            r#"check: header content-type: expected containing "xml", got "application/json""#,
        ),
        (
            "    expect: { body: nope }",
            r#"check: body: expected "nope", got "{\"id\":7,"#,
        ),
        (
            "    expect: { body: { contains: zed } }",
            r#"check: body: expected containing "zed", got "{\"id\""#,
        ),
        (
            "    expect: { body: { matches: '^\\[' } }",
            r#"check: body: expected matching /^\[/, got"#,
        ),
        (
            "    expect: { body: { json: { id: 8 } } }",
            r#"check: body: expected JSON {"id":8}, got JSON {"id":7,"#,
        ),
        (
            "    expect: { body: { json_subset: { owner: { name: bob } } } }",
            r#"check: body: expected JSON {"owner":{"name":"bob"}} as a subset, got JSON {"id":7"#,
        ),
        (
            "    expect: { body: { json_path: { /id: 8 } } }",
            "check: body /id: expected 8, got 7",
        ),
        (
            r#"    expect: { body: { json_path: { "$.tags[1]": c } } }"#,
            r#"check: body $.tags[1]: expected "c", got "b""#,
        ),
        (
            "    expect: { body: { json_path: { /nope: 1 } } }",
            "check: body /nope: expected 1, got nothing at that path",
        ),
        (
            "    expect: { body: { json_path: { /owner/name: { contains: bo } } } }",
            r#"check: body /owner/name: expected containing "bo", got "ann""#,
        ),
        (
            "    expect: { body: { json_path: { /tags: { contains: c } } } }",
            r#"check: body /tags: expected containing "c", got ["a","b"]"#,
        ),
        (
            "    expect: { body: { json_path: { /id: { matches: '^8' } } } }",
            "check: body /id: expected matching /^8/, got 7",
        ),
        (
            "    expect: { body: { json_path: { /id: { one_of: [1, 2] } } } }",
            "check: body /id: expected one of 1, 2, got 7",
        ),
        (
            "    expect: { body: { json_path: { /owner: { exists: false } } } }",
            r#"check: body /owner: expected nothing at that path, got {"name":"ann"}"#,
        ),
        (
            "    expect: { body: { json_path: { /nope: { exists: true } } } }",
            "check: body /nope: expected something at that path, got nothing at that path",
        ),
        (
            "    expect: { body: { empty: true } }",
            "check: body: expected no content, got 48 bytes",
        ),
    ];
    for (expect, wanted) in cases {
        let reports = run_yaml(&on_json_doc(expect), &server.url()).await;
        let report = &reports[0];
        assert_eq!(report.status, Status::Failed, "{expect} should fail");
        let got = messages(report);
        assert!(
            got.starts_with(wanted),
            "{expect}\n  wanted: {wanted}\n  got:    {got}"
        );
    }
    // The same checks, holding.
    let holding = "    expect: { body: { json_path: { /owner/name: { contains: an }, /tags: { contains: b }, \
                   /id: { one_of: [7, 8], matches: '^7$' }, /nope: { exists: false }, /owner: { equals: { name: ann } } } } }";
    let report = &run_yaml(&on_json_doc(holding), &server.url()).await[0];
    assert_eq!(report.status, Status::Passed, "{}", messages(report));

    // A capture that finds nothing is no verdict on the target (a correct server need not
    // send what a scenario wants to capture): the scenario is not applicable, with the reason.
    let captures = [
        (
            "    capture: { x: { header: X-Nope } }",
            "step `check`: capture `x`: header X-Nope of the response: no such header",
        ),
        (
            "    capture: { x: { json: /owner/age } }",
            "step `check`: capture `x`: a JSON value at /owner/age of the response: nothing at that path",
        ),
    ];
    for (capture, wanted) in captures {
        let reports = run_yaml(&on_json_doc(capture), &server.url()).await;
        let report = &reports[0];
        assert_eq!(report.status, Status::NotApplicable, "{capture}");
        assert_eq!(report.reason.as_deref(), Some(wanted), "{capture}");
    }
}

#[tokio::test]
async fn expectations_that_hold_pass() {
    let server = reference().await;
    let expect = r#"    expect:
      status: [200, 203]
      headers:
        ETag: { equals: "{{etag}}", matches: '^"', present: true }
        X-Missing: { absent: true }
        Content-Type: { contains: json }
      body:
        contains: '"ann"'
        json_subset: { owner: { name: ann } }
        json_path: { /tags/0: a, "$.owner.name": ann }
    capture:
      name: { json: "$.owner.name" }
      digits: { header: ETag, regex: '([0-9a-f]+)' }"#;
    let reports = run_yaml(&on_json_doc(expect), &server.url()).await;
    assert_eq!(
        reports[0].status,
        Status::Passed,
        "{}",
        messages(&reports[0])
    );
}

fn group(expect: &str) -> String {
    format!(
        r#"
name: group
steps:
  - name: create
    request: {{ method: PUT, path: /g, body: v0 }}
    capture: {{ etag: {{ header: ETag }} }}
  - name: race
    concurrent:
      count: 5
      request: {{ method: PUT, path: /g, headers: {{ If-Match: "{{{{etag}}}}" }}, body: "w{{{{index}}}}" }}
    expect:
{expect}
"#
    )
}

#[tokio::test]
async fn group_expectations_count_and_check_outcomes() {
    let server = reference().await;
    let cases: &[(&str, &str)] = &[
        (
            "      exactly: { 2xx: 2 }",
            "race: outcomes: expected exactly 2 × 2xx, got 1 × 2xx (204 × 1, 412 × 4)",
        ),
        (
            "      at_least: { 412: 5 }",
            "race: outcomes: expected at least 5 × 412, got 4 × 412",
        ),
        (
            "      at_most: { 4xx: 1 }",
            "race: outcomes: expected at most 1 × 4xx, got 4 × 4xx",
        ),
        (
            "      exactly: { 2xx: 1 }\n      others: { status: 409 }",
            "race: request #",
        ),
        (
            "      each: { headers: { X-Nope: { present: true } } }",
            "race: every request: header X-Nope: expected present, got absent",
        ),
    ];
    for (expect, wanted) in cases {
        let reports = run_yaml(&group(expect), &server.url()).await;
        let got = messages(&reports[0]);
        assert!(
            got.starts_with(wanted),
            "{expect}\n  wanted: {wanted}\n  got:    {got}"
        );
    }
    // `others` names the members and what they answered.
    let reports = run_yaml(
        &group("      exactly: { 2xx: 1 }\n      others: { status: 409 }"),
        &server.url(),
    )
    .await;
    assert!(
        messages(&reports[0]).ends_with("status: expected 409, got 412"),
        "{}",
        messages(&reports[0])
    );
}

#[tokio::test]
async fn the_built_in_if_match_scenarios_catch_a_server_that_ignores_if_match() {
    let url = start_wrong_server().await;
    for (file, wanted) in [
        (
            "specs/if-match.yaml",
            "update with the stale tag: status: expected 412, got 200",
        ),
        (
            "specs/race-if-match.yaml",
            "race: outcomes: expected exactly 1 × 2xx, got 20 × 2xx (200 × 20)",
        ),
        (
            "specs/if-none-match-write.yaml",
            "the star refuses to overwrite: status: expected 412, got 200",
        ),
    ] {
        let yaml = std::fs::read_to_string(file).unwrap();
        let reports = run_yaml(&yaml, &url).await;
        assert_eq!(reports[0].status, Status::Failed, "{file}");
        assert!(
            messages(&reports[0]).contains(wanted),
            "{file}: {}",
            messages(&reports[0])
        );
    }
}

#[tokio::test]
async fn an_unreachable_target_fails_each_scenario_with_a_reason() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let yaml = "name: one\nsteps:\n  - { name: get, request: { path: /a } }\n---\nname: two\nsteps:\n  - { name: get, request: { path: /b } }\n";
    let reports = run_yaml(yaml, &format!("http://127.0.0.1:{port}")).await;
    assert_eq!(reports.len(), 2, "the run goes on after the first failure");
    for r in &reports {
        assert_eq!(r.status, Status::Failed);
        let got = messages(r);
        assert!(
            got.starts_with("get: response: expected an HTTP response, got none (cannot connect"),
            "{got}"
        );
    }
}

#[tokio::test]
async fn a_silent_target_times_out_and_a_garbled_one_is_reported() {
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_url = format!("http://{}", silent.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        // Accept and never answer (bounded: the test ends long before 16 connections).
        for _ in 0..16 {
            if let Ok((s, _)) = silent.accept().await {
                held.push(s);
            }
        }
    });
    let yaml = "name: slow\nsteps:\n  - { name: get, request: { path: /a, timeout: 200ms } }\n";
    let got = messages(&run_yaml(yaml, &silent_url).await[0]);
    assert_eq!(
        got,
        "get: response: expected an HTTP response, got none (timed out after 200ms)"
    );

    let garbled = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let garbled_url = format!("http://{}", garbled.local_addr().unwrap());
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        for _ in 0..4 {
            if let Ok((mut s, _)) = garbled.accept().await {
                let mut buf = [0u8; 1024];
                let _ = s.read(&mut buf).await;
                let _ = s.write_all(b"HELLO THERE\r\n\r\n").await;
            }
        }
    });
    let yaml = "name: rude\nsteps:\n  - { name: get, request: { path: /a } }\n";
    let got = messages(&run_yaml(yaml, &garbled_url).await[0]);
    assert!(
        got.starts_with("get: response: expected an HTTP response, got none ("),
        "{got}"
    );
    assert!(
        got.contains("invalid HTTP") || got.contains("parse"),
        "{got}"
    );
}

#[tokio::test]
async fn a_content_that_never_ends_is_reported_as_that_not_as_no_response() {
    // Status and headers, three of the ten promised bytes, then nothing (connections held).
    let stalling = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", stalling.local_addr().unwrap());
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut held = Vec::new();
        for _ in 0..4 {
            if let Ok((mut s, _)) = stalling.accept().await {
                let mut buf = [0u8; 1024];
                let _ = s.read(&mut buf).await;
                let _ = s
                    .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
                    .await;
                held.push(s);
            }
        }
    });
    let yaml = "name: stall\nsteps:\n  - { name: get, request: { path: /a, timeout: 300ms } }\n";
    let report = &run_yaml(yaml, &url).await[0];
    let exchange = &report.steps[0].exchanges[0];
    assert_eq!(
        (exchange.error_kind.as_deref(), exchange.partial_status),
        (Some("timeout"), Some(200))
    );
    let got = messages(report);
    assert!(
        got.starts_with(
            "get: response: expected an HTTP response, got none (status 200 and headers arrived, then the content stalled: timed out after 300ms"
        ),
        "{got}"
    );
}

/// A header value HTTP cannot carry (a control character) stops the step before anything is
/// sent, naming the header and the value.
#[tokio::test]
async fn a_header_value_http_cannot_carry_is_an_error_that_names_it() {
    let server = reference().await;
    let yaml = r#"
name: bad value
steps:
  - name: get
    request: { path: /doc, headers: { X-Note: "a\u0007b" } }
    expect: { status: 404 }
"#;
    let reports = run_yaml(yaml, &server.url()).await;
    assert_eq!(reports[0].status, Status::Error);
    let step = &reports[0].steps[0];
    assert_eq!(
        step.error.as_deref(),
        Some("header x-note: value \"a\\u{7}b\" is not valid in HTTP"),
        "{step:?}"
    );
    assert!(step.exchanges.is_empty(), "nothing is sent: {step:?}");
}

/// Timeouts' timers are reused between requests: after one fired, a later request is neither
/// timed out at once nor left without a timeout. One runner sends a request that times out, one
/// that is answered, and one that times out again, taking its whole timeout to do so.
#[tokio::test]
async fn a_timeout_after_a_timeout_takes_its_own_time_and_an_answer_between_is_not_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", server.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        // `/fast` is answered; anything else is held unanswered (bounded: a few connections).
        for _ in 0..16 {
            let Ok((mut s, _)) = server.accept().await else {
                continue;
            };
            let mut buf = [0u8; 1024];
            let n = s.read(&mut buf).await.unwrap_or(0);
            if buf[..n].starts_with(b"GET /fast ") {
                let _ = s
                    .write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                    )
                    .await;
            } else {
                held.push(s);
            }
        }
    });
    let slow = |name: &str| {
        format!("name: {name}\nsteps:\n  - {{ name: get, request: {{ path: /slow, timeout: 300ms }} }}\n")
    };
    let fast = "name: fast\nsteps:\n  - { name: get, request: { path: /fast, timeout: 5s }, expect: { status: 200 } }\n";
    let yaml = [slow("first"), fast.to_owned(), slow("again")].join("---\n");
    let reports = run_yaml(&yaml, &url).await;
    let timed_out = "get: response: expected an HTTP response, got none (timed out after 300ms)";
    assert_eq!(messages(&reports[0]), timed_out);
    assert_eq!(
        reports[1].status,
        Status::Passed,
        "{}",
        messages(&reports[1])
    );
    assert_eq!(messages(&reports[2]), timed_out);
    assert!(
        reports[2].duration_ms >= 250.0,
        "timed out after {} ms, before its 300 ms",
        reports[2].duration_ms
    );
}

/// A workload's client renders a request that is the same every iteration once and sends
/// copies of it: on the wire each is byte for byte the request a plain step sends, and a
/// request that changes (`{{iteration}}`) is rendered anew each time.
#[tokio::test]
async fn a_workload_sends_the_bytes_a_step_sends_and_renders_what_changes() {
    use std::sync::{Arc, Mutex};
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
    let server = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", server.local_addr().unwrap());
    let seen: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let recorded = seen.clone();
    tokio::spawn(async move {
        // Bounded: a few connections, each read until its client closes it.
        for _ in 0..8 {
            let Ok((s, _)) = server.accept().await else {
                continue;
            };
            let recorded = recorded.clone();
            tokio::spawn(async move {
                let mut s = BufReader::new(s);
                loop {
                    let mut request = Vec::new();
                    let mut length = 0;
                    loop {
                        let mut line = String::new();
                        if s.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        if let Some(n) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                            length = n.trim().parse().unwrap();
                        }
                        request.extend_from_slice(line.as_bytes());
                        if line == "\r\n" {
                            break;
                        }
                    }
                    let mut body = vec![0; length];
                    s.read_exact(&mut body).await.unwrap();
                    request.extend(body);
                    recorded.lock().unwrap().push(request);
                    let ok = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
                    if s.get_mut().write_all(ok).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    let same = r#"{ method: POST, path: "/same?q=1", headers: { X-Token: abc, Accept: text/plain }, body: hi }"#;
    let yaml = format!(
        r#"
name: same bytes
steps:
  - name: alone
    request: {same}
  - name: loop
    workload:
      clients: 1
      repeat: 3
      steps:
        - {{ name: same, request: {same} }}
        - {{ name: counted, request: {{ path: "/n/{{{{iteration}}}}" }} }}
"#
    );
    let reports = run_yaml(&yaml, &url).await;
    assert_eq!(
        reports[0].status,
        Status::Passed,
        "{}",
        messages(&reports[0])
    );
    let seen = seen.lock().unwrap();
    let text: Vec<String> = seen
        .iter()
        .map(|r| String::from_utf8_lossy(r).into_owned())
        .collect();
    assert_eq!(text.len(), 7, "{text:#?}");
    let alone = &text[0];
    assert!(alone.starts_with("POST /same?q=1 HTTP/1.1\r\n"), "{alone}");
    assert!(alone.ends_with("\r\n\r\nhi"), "{alone}");
    for (i, pair) in text[1..].chunks(2).enumerate() {
        assert_eq!(&pair[0], alone, "iteration {i} sent other bytes");
        assert!(
            pair[1].starts_with(&format!("GET /n/{i} HTTP/1.1\r\n")),
            "iteration {i}: {}",
            pair[1]
        );
    }
}

/// A timer left set for an earlier request's deadline fires before a later request's: the
/// later request is then waited for until its own deadline, not timed out early. Each request
/// here may take 300 ms; the first is answered after 150 ms, the second, sent then, after
/// 200 ms, past the first one's deadline.
#[tokio::test]
async fn a_timer_set_for_an_earlier_request_does_not_cut_a_later_one_short() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", server.local_addr().unwrap());
    tokio::spawn(async move {
        // Bounded: a few connections, each answered after the milliseconds its path names.
        for _ in 0..8 {
            let Ok((mut s, _)) = server.accept().await else {
                continue;
            };
            tokio::spawn(async move {
                let mut buf = [0u8; 1024];
                let n = s.read(&mut buf).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&buf[..n]).into_owned();
                let ms: u64 = (head.split(' ').nth(1))
                    .and_then(|path| path.trim_start_matches("/after/").parse().ok())
                    .unwrap_or(0);
                tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
                let ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
                let _ = s.write_all(ok).await;
            });
        }
    });
    let yaml = r#"
name: two timeouts
steps:
  - { name: first, request: { path: /after/150, timeout: 300ms }, expect: { status: 200 } }
  - { name: second, request: { path: /after/200, timeout: 300ms }, expect: { status: 200 } }
"#;
    let reports = run_yaml(yaml, &url).await;
    assert_eq!(
        reports[0].status,
        Status::Passed,
        "{}",
        messages(&reports[0])
    );
}
