//! Sequential conditional GETs, each checked for 304 with an ETag: contend (as a workload and as
//! generated steps) side by side with a minimal reqwest loop, a minimal hyper loop and, where it
//! is installed, Hurl; against the reference server and against nginx serving a static file
//! (where nginx is installed), with client and server on one core, on two, and unpinned; then
//! the instructions each executes per request (callgrind, where valgrind is installed); then
//! 100,000 scenario files checked and run at `--jobs 4` and 16.
//!
//!     cargo bench --bench throughput            # figures in docs/benchmarks.md
//!
//! Every figure is a whole process (started, run, exited), timed here and its CPU time and peak
//! memory read by GNU time; clients take turns, one round each, in an order that changes every
//! round so that each follows every other (see [`turns`]): load on the machine hits them alike,
//! and no client always runs after the same one.
//! Only 127.0.0.1 is contacted. `raw-reqwest` and `raw-hyper` are this binary run again.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ROUNDS: usize = 3;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let [_, mode, url, n, tag] = &args[..] {
        if mode.starts_with("raw-") {
            return raw_loop(mode, url, n.parse().unwrap(), tag);
        }
    }
    let work = std::env::temp_dir().join(format!("contend-bench-{}", std::process::id()));
    std::fs::create_dir_all(&work).unwrap();
    let started = Instant::now();
    println!(
        "machine: {} cores; load average {}",
        cores(),
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
    let hurl = which("hurl");
    let mut targets: Vec<Target> = vec![Target::reference(&work)];
    match which("nginx") {
        Some(nginx) => targets.push(Target::nginx(&nginx, &work)),
        None => println!("nginx is not installed: its rows are not measured"),
    }
    if hurl.is_none() {
        println!("hurl is not installed: its rows are not measured");
    }
    println!();
    println!(
        "| target | requests | placement | client | median s | client CPU s | requests/s | peak MiB | × raw hyper | × raw reqwest |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for target in &targets {
        for (n, placements) in [
            (2_000, &[Placement::Unpinned][..]),
            (20_000, &Placement::ALL[..]),
        ] {
            let clients = clients(target, n, &work, hurl.as_deref());
            for &placement in placements {
                timed(target, n, placement, &clients);
            }
        }
    }
    match which("valgrind") {
        Some(valgrind) => {
            println!();
            instructions(&targets, &work, hurl.as_deref(), &valgrind);
        }
        None => println!("\nvalgrind is not installed: instructions per request are not counted"),
    }
    println!();
    loading_steps(&targets[0], &work);
    println!();
    many_files(&targets[0], &work);
    println!();
    contended_workload(&targets[0], &work);
    println!("\nMeasured in {:.0} s.", started.elapsed().as_secs_f64());
    drop(targets);
    let _ = std::fs::remove_dir_all(&work);
}

/// Where client and server run. On this 2-core machine a round trip across cores costs about
/// 3 × one on a single core, and the scheduler spreads long runs and not short ones, so each
/// ratio is measured in each placement rather than left to chance.
#[derive(Clone, Copy, PartialEq)]
enum Placement {
    /// Client and server pinned to CPU 0.
    OneCore,
    /// The client on CPU 0, the server on CPU 1.
    TwoCores,
    /// Wherever the scheduler puts them.
    Unpinned,
}

impl Placement {
    const ALL: [Placement; 3] = [Placement::OneCore, Placement::TwoCores, Placement::Unpinned];

    fn name(self) -> &'static str {
        match self {
            Placement::OneCore => "one core",
            Placement::TwoCores => "two cores",
            Placement::Unpinned => "unpinned",
        }
    }

    /// (the client's CPUs, the server's), as taskset lists them.
    fn cpus(self) -> (String, String) {
        let every = format!("0-{}", cores().saturating_sub(1));
        match self {
            Placement::OneCore => ("0".into(), "0".into()),
            Placement::TwoCores => ("0".into(), "1".into()),
            Placement::Unpinned => (every.clone(), every),
        }
    }

    /// Moves the target's server (every thread of it) and returns the client's command pinned.
    fn apply(self, target: &Target, command: &Command) -> Command {
        let (client, server) = self.cpus();
        let pinned = Command::new("taskset")
            .args(["-a", "-p", "-c", &server, &target.child.id().to_string()])
            .stdout(Stdio::null())
            .status()
            .expect("taskset runs");
        assert!(pinned.success(), "taskset could not move the server");
        let mut c = Command::new("taskset");
        c.args(["-c", &client])
            .arg(command.get_program())
            .args(command.get_args());
        c
    }
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Every client once a round, as many rounds as clients, in one placement; a row each, then the
/// ratios.
fn timed(target: &Target, n: usize, placement: Placement, clients: &[(&'static str, Command)]) {
    if placement == Placement::TwoCores && cores() < 2 {
        println!(
            "| {} | {n} | {} | (one core only) | | | | | | |",
            target.name,
            placement.name()
        );
        return;
    }
    let pinned: Vec<Command> = (clients.iter())
        .map(|(_, c)| placement.apply(target, c))
        .collect();
    let mut times: Vec<Vec<Measured>> = vec![Vec::new(); clients.len()];
    for round in 0..clients.len() {
        for i in turns(clients.len(), round) {
            let command = &pinned[i];
            let before = target.cpu();
            let mut measured = measure(command);
            measured.server = target.cpu().saturating_sub(before);
            times[i].push(measured);
        }
    }
    let median_of = |i: usize, of: fn(&Measured) -> Duration| {
        let mut t: Vec<Duration> = times[i].iter().map(of).collect();
        t.sort();
        t[t.len() / 2].as_secs_f64()
    };
    let median = |i: usize| median_of(i, |m| m.took);
    let cpu = |i: usize| median_of(i, |m| m.cpu);
    let peak = |i: usize| times[i].iter().map(|m| m.peak_kib).max().unwrap_or(0);
    let index = |name: &str| clients.iter().position(|(n, _)| *n == name);
    let hyper = median(index("raw hyper").unwrap());
    let reqwest = median(index("raw reqwest").unwrap());
    let row = |what: &str, figure: String| {
        println!(
            "| {} | {n} | {} | {what} | {figure} | | | | | |",
            target.name,
            placement.name()
        )
    };
    for (i, (name, _)) in clients.iter().enumerate() {
        let t = median(i);
        println!(
            "| {} | {n} | {} | {name} | {t:.3} | {:.3} | {:.0} | {:.1} | {:.2} | {:.2} |",
            target.name,
            placement.name(),
            cpu(i),
            n as f64 / t,
            peak(i) as f64 / 1024.0,
            t / hyper,
            t / reqwest,
        );
    }
    let workload = median(index("contend workload").unwrap());
    let steps = median(index("contend steps").unwrap());
    row(
        "contend workload's time ÷ raw hyper's",
        format!("{:.2}", workload / hyper),
    );
    let (hyper_cpu, workload_cpu) = (
        cpu(index("raw hyper").unwrap()),
        cpu(index("contend workload").unwrap()),
    );
    row(
        "contend workload's client CPU ÷ raw hyper's",
        format!("{:.2}", workload_cpu / hyper_cpu),
    );
    let server = |name: &str| median_of(index(name).unwrap(), |m| m.server);
    let (hyper_server, workload_server) = (server("raw hyper"), server("contend workload"));
    row(
        "the server's CPU s while raw hyper ran, while contend workload ran (÷)",
        format!(
            "{hyper_server:.3}, {workload_server:.3} ({:.2})",
            workload_server / hyper_server
        ),
    );
    // Which round trip the runs got: a share near 1 crossed cores for every request, near 0
    // took turns on one core (6 × cheaper in the runs of 2026-12-07). Unpinned, a ratio
    // between runs that got different shares compares placements, not clients.
    let waits = |name: &str| {
        let mut w: Vec<u64> = times[index(name).unwrap()]
            .iter()
            .map(|m| m.waits)
            .collect();
        w.sort();
        w[w.len() / 2] as f64 / n as f64
    };
    row(
        "waits for the server per request (voluntary switches ÷ requests): raw hyper, contend workload",
        format!("{:.2}, {:.2}", waits("raw hyper"), waits("contend workload")),
    );
    row("steps ÷ workload", format!("{:.2}", steps / workload));
    if let Some(h) = index("hurl") {
        row(
            "contend workload's rate ÷ hurl's",
            format!("{:.2}", median(h) / workload),
        );
        // The most any client could show here: where the round trip itself dominates, the
        // raw loop's lead over Hurl shrinks with it.
        row(
            "raw hyper's rate ÷ hurl's (the ceiling for any client here)",
            format!("{:.2}", median(h) / hyper),
        );
        let memory = peak(h) as f64 / peak(index("contend workload").unwrap()) as f64;
        row(
            "hurl's peak memory ÷ contend workload's",
            format!("{memory:.1}"),
        );
    }
}

/// The order of `n` clients in `round`: a row of a balanced Latin square (Williams'), so that
/// over `n` rounds each client runs once in every place and, for an even `n`, right after each
/// other client once (for an odd `n`, after two of them twice each). Why: the client before moves the next one's time. Against the reference server
/// unpinned, the same build took 1.34-1.56 s for 20,000 requests right after the raw reqwest
/// loop and 1.26-1.36 s right after Hurl; a fixed order (A B C A B C) lent that to one client.
fn turns(n: usize, round: usize) -> Vec<usize> {
    // 0, 1, n-1, 2, n-2, ...: neighbours at every distance once.
    let first = (0..n).map(|j| match j {
        0 => 0,
        j if j % 2 == 1 => j.div_ceil(2),
        j => n - j / 2,
    });
    first.map(|c| (c + round) % n).collect()
}

/// User-space instructions per request from callgrind, a deterministic count: each client run
/// for 4,000 and for 2,000 requests, the difference divided by 2,000 (start-up and exit cancel
/// out). Against the reference server and nginx; the client's process only.
fn instructions(targets: &[Target], work: &Path, hurl: Option<&Path>, valgrind: &Path) {
    println!("| target | client | instructions per request | × raw hyper |");
    println!("|---|---|---|---|");
    for target in targets {
        let (small, large) = (2_000, 4_000);
        let counted = |n: usize| -> Vec<(&'static str, u64)> {
            (clients(target, n, work, hurl).into_iter())
                .map(|(name, command)| (name, callgrind(valgrind, &command)))
                .collect()
        };
        let (a, b) = (counted(small), counted(large));
        let per: Vec<(&str, f64)> = (a.iter().zip(&b))
            .map(|((name, x), (_, y))| (*name, (*y as f64 - *x as f64) / (large - small) as f64))
            .collect();
        let hyper = per.iter().find(|(n, _)| *n == "raw hyper").unwrap().1;
        for (name, count) in &per {
            println!(
                "| {} | {name} | {:.1} k | {:.2} |",
                target.name,
                count / 1000.0,
                count / hyper
            );
        }
    }
}

/// The instructions a whole run of `command` executed, as callgrind counts them.
fn callgrind(valgrind: &Path, command: &Command) -> u64 {
    let out = Command::new(valgrind)
        .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
        .arg(command.get_program())
        .args(command.get_args())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("valgrind runs");
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{command:?} under callgrind failed: {text}"
    );
    text.lines()
        .find_map(|l| l.split("Collected : ").nth(1))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no count from callgrind: {text}"))
}

/// A server on loopback, stopped when dropped.
struct Target {
    name: &'static str,
    url: String,
    /// The path every client reads, and the ETag it sends back.
    path: String,
    etag: String,
    /// Flags contend needs for it: nginx serves a file it cannot write, so its capabilities
    /// are declared rather than probed (a probe finds nothing writable and says so).
    flags: &'static [&'static str],
    child: Child,
}

impl Target {
    fn reference(work: &Path) -> Target {
        let mut child = Command::new(env!("CARGO_BIN_EXE_contend"))
            .args(["serve", "--addr", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let url = first.trim().rsplit(' ').next().unwrap().to_owned();
        let _ = work;
        let path = "/bench/doc".to_owned();
        let etag = put(&url, &path);
        Target {
            name: "reference server",
            url,
            path,
            etag,
            flags: &[],
            child,
        }
    }

    fn nginx(nginx: &Path, work: &Path) -> Target {
        let root = work.join("nginx");
        std::fs::create_dir_all(root.join("www")).unwrap();
        std::fs::write(root.join("www/doc.txt"), "a static file served by nginx\n").unwrap();
        let port = free_port();
        let conf = format!(
            "daemon off; master_process off; worker_processes 1; pid {r}/nginx.pid;\n\
             error_log {r}/error.log;\n\
             events {{}}\n\
             http {{ access_log off; keepalive_requests 1000000; client_body_temp_path {r}/body; proxy_temp_path {r}/proxy;\n\
               fastcgi_temp_path {r}/fcgi; uwsgi_temp_path {r}/uwsgi; scgi_temp_path {r}/scgi;\n\
               server {{ listen 127.0.0.1:{port}; root {r}/www; }} }}\n",
            r = root.display()
        );
        std::fs::write(root.join("nginx.conf"), conf).unwrap();
        let child = Command::new(nginx)
            .args(["-p", root.to_str().unwrap(), "-c", "nginx.conf"])
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let url = format!("http://127.0.0.1:{port}");
        let etag = (0..100)
            .find_map(|_| {
                std::thread::sleep(Duration::from_millis(20));
                head_etag(&url, "/doc.txt")
            })
            .expect("nginx answers");
        Target {
            name: "nginx (static file)",
            url,
            path: "/doc.txt".into(),
            etag,
            flags: &["--capabilities", "last-modified"],
            child,
        }
    }
}

impl Target {
    /// The CPU time every thread of the server has run so far, in the scheduler's count
    /// (`/proc/PID/task/*/schedstat`, nanoseconds; GNU time's clock ticks are too coarse here).
    fn cpu(&self) -> Duration {
        let tasks = format!("/proc/{}/task", self.child.id());
        let nanos: u64 = (std::fs::read_dir(tasks).into_iter().flatten().flatten())
            .filter_map(|task| std::fs::read_to_string(task.path().join("schedstat")).ok())
            .filter_map(|stat| stat.split(' ').next()?.parse::<u64>().ok())
            .sum();
        Duration::from_nanos(nanos)
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The clients compared, each a command for one whole-process run of `n` requests.
fn clients(
    target: &Target,
    n: usize,
    work: &Path,
    hurl: Option<&Path>,
) -> Vec<(&'static str, Command)> {
    let url = format!("{}{}", target.url, target.path);
    let me = std::env::current_exe().unwrap();
    let raw = |mode: &str| {
        let mut c = Command::new(&me);
        c.args([mode, url.as_str(), &n.to_string(), target.etag.as_str()]);
        c
    };
    let contend = |file: PathBuf| contend_once(target, &file);
    let read = format!(
        "request: {{ path: {}, headers: {{ If-None-Match: '{}' }} }}\n    \
         expect: {{ status: 304, headers: {{ ETag: {{ present: true }} }} }}",
        target.path, target.etag
    );
    let workload = work.join(format!("workload-{}-{n}.yaml", target.name.len()));
    std::fs::write(
        &workload,
        format!(
            "name: {n} conditional GETs as a workload\nsteps:\n  - name: read\n    workload:\n      \
             clients: 1\n      repeat: {n}\n      steps:\n        - name: get\n          {}\n",
            read.replace("\n    ", "\n          ")
        ),
    )
    .unwrap();
    let steps = steps_file(target, work, n);
    let mut text = format!("name: {n} conditional GETs as steps\nsteps:\n");
    for i in 0..n {
        text.push_str(&format!("  - name: get {i}\n    {read}\n"));
    }
    std::fs::write(&steps, text).unwrap();
    let mut out = vec![
        ("raw hyper", raw("raw-hyper")),
        ("raw reqwest", raw("raw-reqwest")),
        ("contend workload", contend(workload)),
        ("contend steps", contend(steps)),
    ];
    if let Some(hurl) = hurl {
        let file = work.join(format!("{n}.hurl"));
        let mut text = String::new();
        for _ in 0..n {
            text.push_str(&format!(
                "GET {url}\nIf-None-Match: {}\nHTTP 304\n[Asserts]\nheader \"ETag\" exists\n\n",
                target.etag
            ));
        }
        std::fs::write(&file, text).unwrap();
        let mut c = Command::new(hurl);
        c.arg("--test").arg(file);
        out.push(("hurl", c));
    }
    out
}

/// One whole-process run, as GNU time reports it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Measured {
    /// Wall time, from start to exit (first: runs sort by it).
    took: Duration,
    /// The process's own CPU time, user and system: the server's is not in it, so it shows
    /// what the client costs whatever the placement.
    cpu: Duration,
    peak_kib: u64,
    /// Times the client gave up its core to wait (GNU time's voluntary context switches):
    /// about one a request when every answer crosses cores, about none when client and server
    /// take turns on one core. Unpinned, it says which the scheduler chose for the run.
    waits: u64,
    /// The server's CPU time meanwhile (every thread's, from the scheduler's own count), where
    /// it was read: on one core the client's work can slow the server's too (they share the
    /// core's caches).
    server: Duration,
}

fn measure(command: &Command) -> Measured {
    let report = std::env::temp_dir().join(format!("contend-bench-time-{}", std::process::id()));
    let mut timed = Command::new("/usr/bin/time");
    timed
        .arg("-f")
        .arg("%M %U %S %w")
        .arg("-o")
        .arg(&report)
        .arg(command.get_program())
        .args(command.get_args())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let out = timed.output().expect("/usr/bin/time runs");
    let took = started.elapsed();
    assert!(
        out.status.success(),
        "{:?} failed: {}",
        command,
        String::from_utf8_lossy(&out.stderr)
    );
    let report = std::fs::read_to_string(&report).unwrap_or_default();
    let fields: Vec<f64> = (report.lines().last().unwrap_or_default().split(' '))
        .filter_map(|f| f.parse().ok())
        .collect();
    let &[kb, user, system, waits] = &fields[..] else {
        panic!("GNU time's report unread: {report:?}")
    };
    Measured {
        took,
        cpu: Duration::from_secs_f64(user + system),
        peak_kib: kb as u64,
        waits: waits as u64,
        server: Duration::ZERO,
    }
}

/// What the steps form pays before its first request: the generated files loaded and
/// planned (`contend check`), and serde_yaml alone reading them into a `Value`, in-process.
fn loading_steps(target: &Target, work: &Path) {
    use serde::Deserialize;
    println!(
        "| steps file | MB | `contend check` median s | check's peak MiB | serde_yaml alone median s | this process's peak MiB after it |"
    );
    println!("|---|---|---|---|---|---|");
    for n in [2_000, 20_000] {
        let file = steps_file(target, work, n);
        let mut check = Command::new(env!("CARGO_BIN_EXE_contend"));
        check.arg("check").arg(&file);
        let mut t: Vec<Measured> = (0..ROUNDS).map(|_| measure(&check)).collect();
        t.sort();
        let Measured {
            took, peak_kib: kb, ..
        } = t[t.len() / 2];
        let text = std::fs::read_to_string(&file).unwrap();
        let mut parse: Vec<Duration> = (0..ROUNDS)
            .map(|_| {
                let started = Instant::now();
                let value =
                    serde_yaml::Value::deserialize(serde_yaml::Deserializer::from_str(&text));
                assert!(value.is_ok());
                started.elapsed()
            })
            .collect();
        parse.sort();
        println!(
            "| {n} steps | {:.1} | {:.3} | {:.1} | {:.3} | {:.1} |",
            text.len() as f64 / 1e6,
            took.as_secs_f64(),
            kb as f64 / 1024.0,
            parse[parse.len() / 2].as_secs_f64(),
            peak_kib() as f64 / 1024.0
        );
    }
}

/// This process's peak resident memory so far (VmHWM), in KiB: the benchmark's own process
/// stays small otherwise (every client runs in a process of its own).
fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn steps_file(target: &Target, work: &Path, n: usize) -> PathBuf {
    work.join(format!("steps-{}-{n}.yaml", target.name.len()))
}

/// 100,000 one-step scenario files: checked (loaded and planned), and run at --jobs 4 and 16.
fn many_files(target: &Target, work: &Path) {
    let dir = work.join("many");
    std::fs::create_dir_all(&dir).unwrap();
    for i in 0..100_000 {
        std::fs::write(
            dir.join(format!("s{i:06}.yaml")),
            format!(
                "name: read {i}\nsteps:\n  - name: get\n    request: {{ path: {} }}\n    expect: {{ status: 200 }}\n",
                target.path
            ),
        )
        .unwrap();
    }
    println!("| 100,000 scenario files | median s | peak MiB |");
    println!("|---|---|---|");
    let contend = |args: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_contend"));
        c.args(args).arg(&dir);
        c
    };
    let url = target.url.as_str();
    let runs = [
        ("`contend check` (loaded and planned)", contend(&["check"])),
        (
            "`contend run --jobs 4`",
            contend(&["run", "--quiet", "--jobs", "4", "--target", url]),
        ),
        (
            "`contend run --jobs 16`",
            contend(&["run", "--quiet", "--jobs", "16", "--target", url]),
        ),
    ];
    for (name, command) in &runs {
        let mut t: Vec<Measured> = (0..ROUNDS).map(|_| measure(command)).collect();
        t.sort();
        let Measured { took, peak_kib, .. } = t[t.len() / 2];
        println!(
            "| {name} | {:.3} | {:.1} |",
            took.as_secs_f64(),
            peak_kib as f64 / 1024.0
        );
    }
}

/// `contend run` of one file against the target, one pass: a workload races, and would be
/// hunted round after round otherwise.
fn contend_once(target: &Target, file: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_contend"));
    c.args(["run", "--quiet", "--race-budget", "1", "--target"])
        .arg(&target.url)
        .args(target.flags)
        .arg(file);
    c
}

/// The lost-update workload at scale: 200 clients × 20 read-modify-write iterations on one
/// counter, retrying on 412 (hundreds of thousands of retries): once, for its peak memory.
fn contended_workload(target: &Target, work: &Path) {
    let spec = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/specs/race-counter.yaml"
    ))
    .unwrap();
    let spec = spec
        .replace("clients: 5", "clients: 200")
        .replace("repeat: 10", "repeat: 20")
        .replace("max: 500", "max: 100000");
    let file = work.join("counter-200x20.yaml");
    std::fs::write(&file, spec).unwrap();
    let Measured { took, peak_kib, .. } = measure(&contend_once(target, &file));
    println!("| specs/race-counter.yaml at 200 clients × 20 iterations | s | peak MiB |");
    println!("|---|---|---|");
    println!(
        "| one run against the {} | {:.1} | {:.1} |",
        target.name,
        took.as_secs_f64(),
        peak_kib as f64 / 1024.0
    );
}

/// The baselines: `n` sequential GETs with If-None-Match, each checked for a 304 with an ETag,
/// on one kept-alive connection; nothing else.
fn raw_loop(mode: &str, url: &str, n: usize, tag: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let ok = match mode {
            "raw-reqwest" => {
                let _ = rustls::crypto::ring::default_provider().install_default();
                let client = reqwest::Client::new();
                let mut ok = 0;
                for _ in 0..n {
                    let r = client
                        .get(url)
                        .header("if-none-match", tag)
                        .send()
                        .await
                        .unwrap();
                    ok += usize::from(r.status() == 304 && r.headers().contains_key("etag"));
                    let _ = r.bytes().await.unwrap();
                }
                ok
            }
            _ => {
                use http_body_util::{BodyExt, Empty};
                let uri: hyper::Uri = url.parse().unwrap();
                let authority = uri.authority().unwrap().to_string();
                let stream = tokio::net::TcpStream::connect(&authority).await.unwrap();
                let (mut sender, conn) =
                    hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                        .await
                        .unwrap();
                tokio::spawn(conn);
                let mut ok = 0;
                for _ in 0..n {
                    let request = hyper::Request::get(uri.path())
                        .header("host", &authority)
                        .header("if-none-match", tag)
                        .body(Empty::<bytes::Bytes>::new())
                        .unwrap();
                    let r = sender.send_request(request).await.unwrap();
                    ok += usize::from(r.status() == 304 && r.headers().contains_key("etag"));
                    let _ = r.into_body().collect().await.unwrap();
                }
                ok
            }
        };
        assert_eq!(ok, n, "{mode}: {ok} of {n} were 304 with an ETag");
    });
}

fn put(url: &str, path: &str) -> String {
    let mut stream = std::net::TcpStream::connect(url.trim_start_matches("http://")).unwrap();
    let body = "the benchmark's document\n";
    write!(
        stream,
        "PUT {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    etag_of(stream).expect("the PUT's ETag")
}

fn head_etag(url: &str, path: &str) -> Option<String> {
    let mut stream = std::net::TcpStream::connect(url.trim_start_matches("http://")).ok()?;
    write!(
        stream,
        "HEAD {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    etag_of(stream)
}

fn etag_of(stream: std::net::TcpStream) -> Option<String> {
    BufReader::new(stream)
        .lines()
        .map_while(Result::ok)
        .take_while(|l| !l.is_empty())
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("etag")
                .then(|| value.trim().to_owned())
        })
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin")])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}
