//! The `contend` command line: a thin layer of clap over the library.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

mod live;

use clap::{Parser, Subcommand, ValueEnum};

use contend::judge::catalog::{self, CoverageState};
use contend::plan::{self, Applicability, Planned, Target};
use contend::report::{self, Redactor};
use contend::scenario::{self, Capability, Scenario};
use contend::server::Fault;
use contend::{exec, server, suite};

/// Prints a line to stdout. A reader that went away (`contend list | head`) ends the program
/// quietly instead of with a panic.
macro_rules! say {
    ($($arg:tt)*) => {{
        // anstream drops the styles where colour is off (a pipe, NO_COLOR, --color never).
        if writeln!(anstream::stdout(), $($arg)*).is_err() {
            std::process::exit(0)
        }
    }};
}

/// Exit code for bad input: unreadable or invalid scenarios, bad flags, a bad target URL.
const BAD_INPUT: u8 = 2;

#[derive(Parser)]
#[command(
    name = "contend",
    version,
    about = "Proves whether an HTTP server gets 409 Conflict and conditional requests right"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run scenarios against a target (the embedded reference server when none is given).
    Run(Box<RunArgs>),
    /// Run the reference server in the foreground.
    Serve(ServeArgs),
    /// Find out what a target supports, and which scenarios will run against it.
    Probe {
        /// Scenario files or directories, to show which apply (default: the built-in suite).
        paths: Vec<PathBuf>,
        #[command(flatten)]
        target: TargetArgs,
    },
    /// Check scenarios without sending anything: everything that can be known before a
    /// request (YAML, keys, types, variables, rules, body files, the profile). Exit 2 on any
    /// error.
    Check {
        /// Scenario files or directories (default: the built-in suite).
        paths: Vec<PathBuf>,
        /// A target profile (YAML); default: ./contend.yaml when it exists.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// List scenarios with their requirement ids.
    List {
        /// Scenario files or directories (default: the built-in suite).
        paths: Vec<PathBuf>,
        /// The built-in suite, compiled into contend (the default without paths).
        #[arg(long)]
        builtin: bool,
        /// Print the coverage table instead: each catalog rule and what checks it.
        #[arg(long)]
        requirements: bool,
    },
    /// Write a starter contend.yaml (from a probe of --target when given) and an example
    /// scenario under specs/.
    Init {
        #[command(flatten)]
        target: TargetArgs,
    },
    /// A requirement matrix from JSON reports (`--report json=...`), a column per report:
    /// as text, and as one self-contained HTML page with --html.
    Report {
        /// JSON reports to compare; each column is named by its file's stem (apache.json).
        #[arg(long, num_args = 1.., required = true, value_name = "JSON")]
        compare: Vec<PathBuf>,
        /// Write the matrix as HTML here.
        #[arg(long, value_name = "PATH")]
        html: Option<PathBuf>,
    },
    /// Print the JSON Schema of scenario files or of profiles (contend.yaml), for editors:
    /// yaml-language-server reads it from a `# yaml-language-server: $schema=PATH` line.
    Schema {
        #[arg(value_enum, default_value_t = SchemaOf::Scenario)]
        of: SchemaOf,
    },
    /// Explain a rule of the catalog: requirement, level, section, probe, examples.
    Explain {
        /// A rule id such as if-match.mismatch; omit it (or use --all) to list every rule.
        rule: Option<String>,
        #[arg(long)]
        all: bool,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum SchemaOf {
    /// A scenario file (each of its documents).
    Scenario,
    /// A target profile, contend.yaml.
    Profile,
}

/// Where `init` writes the JSON Schemas its files point at (`contend schema` prints them).
const SCHEMA_DIR: &str = ".contend";

impl SchemaOf {
    fn name(self) -> &'static str {
        match self {
            SchemaOf::Scenario => "scenario",
            SchemaOf::Profile => "profile",
        }
    }

    fn text(self) -> String {
        let schema = match self {
            SchemaOf::Scenario => contend::scenario::schema::scenario(),
            SchemaOf::Profile => contend::scenario::schema::profile(),
        };
        serde_json::to_string_pretty(&schema).expect("a JSON value prints") + "\n"
    }
}

#[derive(clap::Args)]
struct RunArgs {
    /// Scenario files or directories (default: the built-in suite, compiled into contend).
    paths: Vec<PathBuf>,
    #[command(flatten)]
    target: TargetArgs,
    /// A variable for the scenarios' templates (repeatable); overrides scenario `vars`.
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
    vars: Vec<(String, String)>,
    /// Scenarios run at once [default: 4].
    #[arg(long, short = 'j')]
    jobs: Option<usize>,
    /// Run only scenarios whose id (`file::name`) contains this text.
    #[arg(long)]
    filter: Option<String>,
    /// Run only scenarios with this tag (repeatable: any of them).
    #[arg(long = "tag")]
    tags: Vec<String>,
    /// Treat SHOULD-level findings as failures, not warnings.
    #[arg(long)]
    strict: bool,
    /// Waive a rule by id: its findings are reported but never fail (repeatable).
    #[arg(long = "allow", value_name = "RULE")]
    allow: Vec<String>,
    /// Record response content as the stored snapshots instead of comparing with them.
    #[arg(long)]
    update_snapshots: bool,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Also write a report file, KIND=PATH with KIND junit, json or html (repeatable). Written
    /// whatever the verdict, after the run (or its interruption).
    #[arg(long = "report", value_name = "KIND=PATH", value_parser = parse_report)]
    reports: Vec<(ReportKind, PathBuf)>,
    /// Every exchange of every step, with all headers.
    #[arg(long, short = 'v', conflicts_with = "quiet")]
    verbose: bool,
    /// Only failures and the summary.
    #[arg(long, short = 'q')]
    quiet: bool,
    /// Print every request each scenario would send, and send nothing (not even a probe).
    #[arg(long)]
    dry_run: bool,
    /// Colour: auto (a terminal, unless NO_COLOR is set), always (CI logs that render it), never.
    #[arg(long, value_enum, default_value_t = ColorWhen::Auto)]
    color: ColorWhen,
    /// The origin behind a gateway `--target`: every scenario runs both ways, and what differs
    /// is reported as the gateway's doing.
    #[arg(long, value_name = "URL")]
    origin: Option<String>,
    /// Fail the run when fewer catalog rules than this were judged (a profile's `min_judged`),
    /// so a drop in what is judged cannot pass unnoticed.
    #[arg(long, value_name = "N")]
    min_judged: Option<usize>,
    /// How long every racing scenario hunts, in place of its own `rounds`: ROUNDS, TIME or
    /// ROUNDS,TIME (e.g. 1000,20s). A race stops at its first broken round.
    #[arg(long, value_name = "ROUNDS,TIME", value_parser = contend::scenario::RoundsBudget::parse)]
    race_budget: Option<contend::scenario::RoundsBudget>,
}

/// Which server to talk to and how: shared by `run` and `probe`.
#[derive(clap::Args)]
struct TargetArgs {
    /// Base URL of the server under test; without it the embedded reference server is started.
    #[arg(long, env = "CONTEND_TARGET")]
    target: Option<String>,
    /// A target profile (YAML); default: ./contend.yaml when it exists.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// A header sent with every request, e.g. 'Authorization: Bearer ...' (repeatable).
    /// Credential headers are masked in all output.
    #[arg(long = "header", short = 'H', value_name = "'NAME: VALUE'", value_parser = parse_header)]
    headers: Vec<(String, String)>,
    /// What the target supports (comma-separated); scenarios needing anything else are not
    /// applicable. Without it (here or in the profile) contend probes the target.
    #[arg(long, value_delimiter = ',')]
    capabilities: Option<Vec<Capability>>,
    /// Per-request timeout, e.g. 500ms or 10s.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    timeout: Duration,
    /// The shape of sample bodies, for targets that accept one format: text bodies and exact
    /// body expectations replace `{{body}}` in it, e.g. '{"value": "{{body}}"}'.
    #[arg(long, value_name = "TEMPLATE", value_parser = parse_template)]
    body_format: Option<contend::scenario::Template>,
    /// Send nothing that writes: only scenarios whose requests are all reads run (on the
    /// profile's `existing:` resources), and the probe only reads.
    #[arg(long)]
    read_only: bool,
    /// Trust the CA certificates (PEM) in FILE for an HTTPS target, besides the system's.
    #[arg(long, value_name = "FILE")]
    cacert: Option<PathBuf>,
    /// Accept any TLS certificate (a staging server's self-signed one). Reports say so.
    #[arg(long)]
    insecure: bool,
    /// A client certificate chain (PEM) for targets that ask for one; needs --client-key.
    #[arg(long, value_name = "PEM", requires = "client_key")]
    client_cert: Option<PathBuf>,
    /// The private key (PEM, PKCS#8, PKCS#1 or SEC1) of --client-cert.
    #[arg(long, value_name = "PEM", requires = "client_cert")]
    client_key: Option<PathBuf>,
    /// The most content kept per response, e.g. 512KiB or 8MiB; more fails that exchange as
    /// too large, so memory stays bounded whatever the target sends.
    #[arg(long, value_name = "SIZE", default_value = "8MiB", value_parser = parse_size)]
    max_body: usize,
    /// Which exchanges reports keep: `failing` (those a finding points at, every one of a
    /// failed step, and a sample of 100 per scenario), `all`, or `none` (only those a finding
    /// points at). Counts are always complete.
    #[arg(long, value_name = "WHICH", default_value = "failing", value_parser = ["all", "failing", "none"])]
    report_exchanges: String,
    /// Start the embedded server in its 428 mode (only without --target).
    #[arg(long)]
    require_preconditions: bool,
    /// Start the embedded server with WebDAV collections (only without --target).
    #[arg(long)]
    collections: bool,
    /// Plant a fault in the embedded server (repeatable; see `contend serve --list-faults`).
    #[arg(long = "fault", value_name = "FAULT")]
    faults: Vec<Fault>,
    /// With --fault rare-lost-update: the share of writes that take the race (`0.03`, `3%`).
    #[arg(long, value_name = "RATE", value_parser = parse_rate)]
    fault_rate: Option<f64>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Human,
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ColorWhen {
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ReportKind {
    Junit,
    Json,
    Html,
}

/// `512KiB`, `8MiB`, `1GiB` or a number of bytes.
fn parse_size(s: &str) -> Result<usize, String> {
    let s = s.trim();
    let (digits, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let scale: usize = match unit.trim() {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        other => {
            return Err(format!(
                "unknown size unit {other:?}: use B, KiB, MiB or GiB"
            ))
        }
    };
    let n: usize = digits
        .parse()
        .map_err(|_| format!("expected a size such as 8MiB, got {s:?}"))?;
    n.checked_mul(scale)
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("{s:?} is not a usable size"))
}

fn parse_report(s: &str) -> Result<(ReportKind, PathBuf), String> {
    let (kind, path) = s
        .split_once('=')
        .ok_or_else(|| format!("expected KIND=PATH (junit=report.xml), got {s:?}"))?;
    let kind = match kind {
        "junit" => ReportKind::Junit,
        "json" => ReportKind::Json,
        "html" => ReportKind::Html,
        other => {
            return Err(format!(
                "unknown report kind {other:?}: junit, json or html"
            ))
        }
    };
    if path.is_empty() {
        return Err(format!("{s:?}: the path is empty"));
    }
    Ok((kind, PathBuf::from(path)))
}

/// Prints to stdout, ignoring a closed pipe.
fn progress_free_print(text: &str) {
    let _ = write!(anstream::stdout(), "{text}");
}

/// Writes `text` to `path` whole or not at all: a temporary file beside it, then a rename.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir)?;
    }
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let partial = path.with_file_name(format!(".{name}.partial-{}", std::process::id()));
    std::fs::write(&partial, text)?;
    std::fs::rename(&partial, path)
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on; loopback unless you say otherwise.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Answer unconditional writes to existing resources with 428 Precondition Required.
    #[arg(long)]
    require_preconditions: bool,
    /// WebDAV collections: MKCOL makes one, and a PUT needs its parent collection (RFC 4918).
    #[arg(long)]
    collections: bool,
    /// Refuse (403) every request whose query lacks `token=TOKEN`, like a signed URL.
    #[arg(long, value_name = "TOKEN")]
    require_token: Option<String>,
    /// Plant a fault: a realistic bug for contend to catch (repeatable).
    #[arg(long = "fault", value_name = "FAULT")]
    faults: Vec<Fault>,
    /// With --fault rare-lost-update: the share of writes that take the race (`0.03`, `3%`;
    /// default 3 %).
    #[arg(long, value_name = "RATE", value_parser = parse_rate)]
    fault_rate: Option<f64>,
    /// Give only weak ETags (`W/"..."`), as many web frameworks do.
    #[arg(long)]
    weak_etags: bool,
    /// Answer every request this much later (`200ms`): a slow target.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    latency: Option<std::time::Duration>,
    /// List the faults and the rules each breaks, then exit.
    #[arg(long)]
    list_faults: bool,
    /// Serve HTTPS with this certificate chain (PEM); needs --tls-key.
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key (PEM) for --tls-cert.
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Ask every client for a certificate signed by this CA (PEM); needs --tls-cert.
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    tls_client_ca: Option<PathBuf>,
}

fn parse_header(s: &str) -> Result<(String, String), String> {
    let (name, value) = s.split_once(':').ok_or("expected 'Name: value'")?;
    Ok((name.trim().to_owned(), value.trim().to_owned()))
}

fn parse_template(s: &str) -> Result<contend::scenario::Template, String> {
    contend::scenario::Template::parse(s)
}

fn parse_var(s: &str) -> Result<(String, String), String> {
    let (name, value) = s.split_once('=').ok_or("expected NAME=VALUE")?;
    Ok((name.trim().to_owned(), value.to_owned()))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Against a remote target one thread drives every request: the client waits on the
    // network, and a multi-threaded runtime only hands each request between workers (a third
    // of the time of a sequential run). The embedded server gets the threads it serves with.
    let remote = match &cli.command {
        Command::Run(args) => {
            args.target.target.is_some()
                || plan::find_profile(args.target.config.as_deref())
                    .is_ok_and(|p| p.target.is_some())
        }
        Command::Probe { .. } => true,
        _ => false,
    };
    let runtime = match remote {
        true => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
        false => tokio::runtime::Runtime::new(),
    };
    let runtime = match runtime {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match cli.command {
        Command::Run(args) => runtime.block_on(run(*args)),
        Command::Serve(args) => runtime.block_on(serve(args)),
        Command::Probe { paths, target } => runtime.block_on(probe(&paths, target)),
        Command::List {
            paths,
            builtin,
            requirements,
        } => {
            let paths = if builtin { Vec::new() } else { paths };
            if requirements {
                list_requirements(&paths)
            } else {
                list(&paths)
            }
        }
        Command::Init { target } => runtime.block_on(init(target)),
        Command::Explain {
            rule: Some(id),
            all: false,
        } => explain(&id),
        Command::Explain { .. } => explain_all(),
        Command::Report { compare, html } => compare_reports(&compare, html.as_deref()),
        Command::Check { paths, config } => check(&paths, config.as_deref()),
        Command::Schema { of } => {
            print!("{}", of.text());
            ExitCode::SUCCESS
        }
    }
}

/// `contend report --compare`: the matrix of several runs' JSON reports.
fn compare_reports(files: &[PathBuf], html: Option<&Path>) -> ExitCode {
    let mut reports = Vec::new();
    for file in files {
        let parsed = std::fs::read_to_string(file)
            .map_err(|e| e.to_string())
            .and_then(|text| {
                serde_json::from_str::<report::Report>(&text).map_err(|e| e.to_string())
            });
        match parsed {
            Ok(report) => {
                let label = file.file_stem().map_or_else(
                    || file.display().to_string(),
                    |s| s.to_string_lossy().into(),
                );
                reports.push((label, report));
            }
            Err(e) => {
                eprintln!("error: {}: not a contend JSON report: {e}", file.display());
                return ExitCode::from(BAD_INPUT);
            }
        }
    }
    let columns: Vec<(&str, &report::Report)> =
        reports.iter().map(|(l, r)| (l.as_str(), r)).collect();
    if let Some(path) = html {
        if let Err(e) = write_atomically(path, &report::html::render(&columns)) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    say!("{}", report::html::text(&columns).trim_end());
    ExitCode::SUCCESS
}

/// The scenarios at `paths`, or the built-in suite when none is given.
fn load(paths: &[PathBuf]) -> Result<Vec<Scenario>, ExitCode> {
    let loaded = if paths.is_empty() {
        scenario::builtin::load()
    } else {
        scenario::load_paths(paths)
    };
    loaded.map_err(|errors| {
        for e in &errors {
            eprintln!("{e}\n");
        }
        let files: std::collections::BTreeSet<&Path> =
            errors.iter().map(|e| e.file.as_path()).collect();
        eprintln!("{} error(s) in {} file(s)", errors.len(), files.len());
        ExitCode::from(BAD_INPUT)
    })
}

/// A target ready to run against: the runner, the target as planned (capabilities known), and
/// the embedded server when there is one (dropping it stops the server).
struct Connected {
    runner: exec::Runner,
    target: Target,
    redactor: Redactor,
    run_id: String,
    probe: Option<exec::Probe>,
    /// The origin behind a gateway target (`--origin`, the profile's `origin`).
    origin: Option<String>,
    _embedded: Option<server::RunningServer>,
}

/// Why a run stopped before its scenarios: the exit code and what to say. `target` is set once
/// the target was chosen, so report files can still be written (CI keeps an artifact).
struct Stopped {
    code: u8,
    message: String,
    target: Option<String>,
}

impl Stopped {
    fn bad_input(message: impl Into<String>) -> Self {
        Stopped {
            code: BAD_INPUT,
            message: message.into(),
            target: None,
        }
    }

    /// Prints the message and gives the exit code.
    fn exit(self) -> ExitCode {
        eprintln!("error: {}", self.message);
        ExitCode::from(self.code)
    }
}

impl TargetArgs {
    /// What these flags say, as the settings resolver's top layer.
    fn flags(&self) -> plan::Flags {
        plan::Flags {
            target: self.target.clone(),
            headers: self.headers.clone(),
            capabilities: self.capabilities.clone(),
            timeout: Some(self.timeout),
            body_format: self.body_format.clone(),
            read_only: self.read_only,
            cacert: self.cacert.clone(),
            insecure: self.insecure,
            client_cert: self.client_cert.clone().zip(self.client_key.clone()),
            max_body: Some(self.max_body),
            keep_exchanges: self.report_exchanges == "all",
            ..plan::Flags::default()
        }
    }

    /// Flags that only the embedded server can obey.
    fn embedded_only(&self) -> Vec<&'static str> {
        let mut set = Vec::new();
        if self.require_preconditions {
            set.push("--require-preconditions");
        }
        if self.collections {
            set.push("--collections");
        }
        if !self.faults.is_empty() {
            set.push("--fault");
        }
        if self.fault_rate.is_some() {
            set.push("--fault-rate");
        }
        set
    }
}

/// Resolves flags, environment and profile ([`plan::resolve`], as the harness does) into a
/// target, starting the embedded server or probing the target as needed.
async fn connect(
    args: &TargetArgs,
    flags: plan::Flags,
    force_probe: bool,
    send_nothing: bool,
) -> Result<Connected, Stopped> {
    // A profile that does not load or resolve is bad input; when the target was already named
    // (a flag, the environment), the report files still say so.
    let named = flags.target.clone();
    let bad = |message: String| Stopped {
        target: named.clone(),
        ..Stopped::bad_input(message)
    };
    let profile = plan::find_profile(args.config.as_deref()).map_err(|e| bad(e.to_string()))?;
    let env = plan::from_env(|name| std::env::var(name).ok()).map_err(&bad)?;
    let resolved = plan::resolve(&flags, &env, &profile).map_err(&bad)?;
    let settings = resolved.settings;

    let run_id = plan::new_run_id();
    let mut embedded = None;
    let capabilities = resolved.capabilities;
    let mut target = match resolved.target {
        Some(url) => {
            if let Some(flag) = args.embedded_only().first() {
                return Err(Stopped::bad_input(format!(
                    "{flag} applies to the embedded reference server, not to a --target"
                )));
            }
            Target::remote(&url, capabilities.as_deref()).map_err(Stopped::bad_input)?
        }
        None => {
            // The embedded server's capabilities follow from its mode: a list would be ignored.
            if args.capabilities.is_some() {
                return Err(Stopped::bad_input(
                    "--capabilities needs a --target: the embedded server's capabilities follow \
                     from its mode (--collections, --require-preconditions)",
                ));
            }
            let config = server::ServerConfig {
                require_preconditions: args.require_preconditions,
                collections: args.collections,
                token: None,
                faults: args.faults.iter().copied().collect(),
                fault_rate: args.fault_rate,
                tls: None,
                tls_client_ca: None,
                weak_etags: false,
                latency: None,
            };
            if let Some(why) = fault_rate_misused(&args.faults, args.fault_rate) {
                return Err(Stopped::bad_input(why));
            }
            let running = server::start(([127, 0, 0, 1], 0).into(), config)
                .await
                .map_err(|e| Stopped {
                    code: 1,
                    message: format!("cannot start the embedded reference server: {e}"),
                    target: None,
                })?;
            let target = running.target();
            embedded = Some(running);
            target
        }
    };
    if settings.insecure {
        // Loud, in every report: nothing said about this target's TLS was verified.
        target.label = format!(
            "{} (TLS certificate NOT verified: --insecure)",
            target.label
        );
    }
    target
        .own_capabilities
        .extend(resolved.own_capabilities.iter().cloned());
    // Credentials in headers, a profile's query and the target URL's own query are masked.
    let redactor = Redactor::for_settings(&settings, &target.url);
    let stopped = |code: u8, message: String| Stopped {
        code,
        message: redactor.text(&message),
        target: Some(redactor.text(&target.label)),
    };
    let runner =
        exec::Runner::new(target.clone(), settings.clone()).map_err(|e| stopped(BAD_INPUT, e))?;
    let mut probe = None;
    if send_nothing {
        // --dry-run: no probe, no reachability check.
    } else if force_probe || (embedded.is_none() && capabilities.is_none()) {
        let mut vars = contend::scenario::Vars::default();
        vars.set("run_id", run_id.as_str());
        vars.set("uuid", "probe");
        let scratch = settings
            .scratch
            .render(&vars)
            .map_err(|e| stopped(BAD_INPUT, format!("scratch: {e}")))?;
        let found = runner.probe(&scratch).await;
        if let Some(why) = &found.unreachable {
            // Nothing can be judged of a target that does not answer: never a green run.
            return Err(stopped(1, format!("target unreachable: {why}")));
        }
        let mut found = found;
        match found.misconfigured.clone() {
            // Every scenario would be not applicable: that is a wrong URL, not a verdict.
            // (`contend probe` shows its evidence first, then says so.)
            Some(why) if capabilities.is_none() && !force_probe => {
                return Err(stopped(1, format!("target misconfigured: {why}")));
            }
            // The profile says what the target does: a note, not a stop.
            Some(why) if capabilities.is_some() => {
                found.misconfigured = None;
                found.notes.push(format!(
                    "the probe could not write, but the profile declares the capabilities: {why}"
                ));
            }
            _ => {}
        }
        target.capabilities = found.capabilities.clone();
        probe = Some(found);
    } else if embedded.is_none() {
        // Capabilities declared, so no probe: one request still tells a dead target.
        if let Some(why) = runner.unreachable().await {
            return Err(stopped(1, format!("target unreachable: {why}")));
        }
    }
    // What the profile says of its keyed endpoint no probe could tell.
    target.capabilities.extend(resolved.keyed.iter().copied());
    // The same runner, so the connections the probe opened are kept.
    let runner = runner.with_target(target.clone());
    Ok(Connected {
        runner,
        target,
        redactor,
        run_id,
        probe,
        origin: resolved.origin,
        _embedded: embedded,
    })
}

fn plan_or_exit(scenarios: Vec<Scenario>, connected: &Connected) -> Result<Vec<Planned>, ExitCode> {
    let settings = connected.runner.settings();
    suite::plan_all(scenarios, &connected.target, settings, &connected.run_id).map_err(|errors| {
        for e in &errors {
            eprintln!("error: {e}");
        }
        ExitCode::from(BAD_INPUT)
    })
}

async fn run(args: RunArgs) -> ExitCode {
    match args.color {
        ColorWhen::Always => anstream::ColorChoice::Always.write_global(),
        ColorWhen::Never => anstream::ColorChoice::Never.write_global(),
        ColorWhen::Auto => {}
    }
    let scenarios = match select(&args) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let flags = plan::Flags {
        vars: args.vars.clone(),
        update_snapshots: args.update_snapshots,
        strict: args.strict,
        allow: args.allow.clone(),
        origin: args.origin.clone(),
        min_judged: args.min_judged,
        race_budget: args.race_budget,
        jobs: args.jobs,
        ..args.target.flags()
    };
    // Before the first request: a run stopped during the probe still cleans up and reports.
    let stop = live::stop_on_signals();
    let connected = match connect(&args.target, flags, false, args.dry_run).await {
        Ok(c) => c,
        Err(stopped) => return stopped_before_running(&args, stopped),
    };
    // --quiet is failures and the summary only; `contend probe` shows the evidence.
    if let (Some(probe), Format::Human, false) = (&connected.probe, args.format, args.quiet) {
        print_probe(&connected.target.label, probe, &connected.redactor, false);
    }
    // Kept for the run at the origin behind a gateway, planned afresh there.
    let origin = connected.origin.clone();
    let sources = match origin {
        Some(_) => scenarios.clone(),
        None => Vec::new(),
    };
    let planned = match plan_or_exit(scenarios, &connected) {
        Ok(p) => p,
        Err(code) => return code,
    };
    if args.dry_run {
        let base = connected.target.url.as_str().to_owned();
        for p in &planned {
            // The scenario's own `secret: true` variables too, not only the run's.
            let redactor = connected.redactor.with_secrets(p.vars.secrets());
            progress_free_print(&redactor.text(&plan::preview(p, &base)));
        }
        progress_free_print(&format!(
            "\n--dry-run: {} scenarios planned, nothing sent\n",
            planned.len()
        ));
        return ExitCode::SUCCESS;
    }
    let mut report = execute(&args, &connected, planned, &stop).await;
    report.probe = connected
        .probe
        .as_ref()
        .map(|p| probe_report(p, &connected.redactor));
    if let Some(probe) = &connected.probe {
        report.add_probe_findings(&probe.findings, &connected.redactor);
    }
    if let (Some(origin), None) = (origin, stop.code()) {
        match at_origin(&origin, sources, &connected).await {
            Ok(direct) => {
                let label = connected.redactor.text(&direct.target);
                report.gateway = Some(report::gateway::compare(&label, &report, &direct));
            }
            Err(code) => return code,
        }
    }
    finish(&args, report, stop.code())
}

/// The scenarios of the paths given (or the built-in suite) that `--filter` and `--tag`
/// select; selecting none is bad input, never an empty green run.
fn select(args: &RunArgs) -> Result<Vec<Scenario>, ExitCode> {
    let scenarios: Vec<Scenario> = load(&args.paths)?
        .into_iter()
        .filter(|s| args.tags.is_empty() || s.tags.iter().any(|t| args.tags.contains(t)))
        .filter(|s| {
            args.filter
                .as_ref()
                .is_none_or(|f| plan::scenario_id(s).contains(f))
        })
        .collect();
    if !scenarios.is_empty() {
        return Ok(scenarios);
    }
    let mut asked = Vec::new();
    if let Some(f) = &args.filter {
        asked.push(format!("--filter {f:?}"));
    }
    if !args.tags.is_empty() {
        asked.push(format!("--tag {}", args.tags.join(", ")));
    }
    let what = if asked.is_empty() {
        "the paths given hold no scenario".to_owned()
    } else {
        format!("{} selects no scenario", asked.join(" with "))
    };
    Err(bad_input(&format!(
        "{what}: nothing to run (`contend list` shows them)"
    )))
}

/// A run that stopped before any scenario: once the target was chosen, CI still gets a report
/// that says why nothing ran.
fn stopped_before_running(args: &RunArgs, stopped: Stopped) -> ExitCode {
    if let Some(target) = &stopped.target {
        let mut report =
            report::Report::stopped(target.clone(), String::new(), stopped.message.clone());
        report.seal();
        if args.format == Format::Json {
            progress_free_print(&format!("{}\n", report.to_json()));
        }
        if let Err(code) = write_reports(&args.reports, &report) {
            return code;
        }
    }
    stopped.exit()
}

/// Runs the planned scenarios `jobs` at a time, each block printed as its scenario ends, until
/// done or stopped.
async fn execute(
    args: &RunArgs,
    connected: &Connected,
    planned: Vec<Planned>,
    stop: &live::Stop,
) -> report::Report {
    let detail = match (args.quiet, args.verbose) {
        (true, _) => report::human::Detail::Quiet,
        (_, true) => report::human::Detail::Verbose,
        _ => report::human::Detail::Normal,
    };
    let human = args.format == Format::Human;
    if human {
        progress_free_print(&report::human::heading(
            &connected.redactor.text(&connected.target.label),
            planned.len(),
        ));
    }
    // A blank line between the heading and the first block shown (with --quiet there may be
    // none, and the summary brings its own).
    let shown_any = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let progress = live::Progress::start(planned.len(), human);
    let cancel = stop.flag.clone();
    let runner = connected.runner.clone().interruptible(cancel.clone());
    let control = suite::Control {
        kept: match args.target.report_exchanges.as_str() {
            "all" => report::Kept::All,
            "none" => report::Kept::None,
            _ => report::Kept::Failing,
        },
        cancel,
        on_done: Some(Box::new({
            let progress = progress.clone();
            move |scenario| {
                let block = match human {
                    true => report::human::block(scenario, detail),
                    false => String::new(),
                };
                if !block.is_empty() {
                    let first = !shown_any.swap(true, std::sync::atomic::Ordering::SeqCst);
                    progress.print(&format!("{}{block}", if first { "\n" } else { "" }));
                }
                progress.advance();
            }
        })),
    };
    let report = suite::run_all_with(
        &runner,
        planned,
        runner.settings().jobs,
        &connected.redactor,
        &connected.run_id,
        &control,
    )
    .await;
    progress.finish();
    report
}

/// The closing summary, the report files, and the exit code: the signal's when one stopped
/// the run (130, 143, 129); a run that judged nothing says why each scenario gave no verdict.
fn finish(args: &RunArgs, mut report: report::Report, stopped: Option<u8>) -> ExitCode {
    let verdict = report.seal();
    // A closed pipe (`| head`) stops the printing, not the report files.
    match args.format {
        Format::Human => progress_free_print(&report::human::closing(&report)),
        Format::Json => progress_free_print(&format!("{}\n", report.to_json())),
    }
    if let Err(code) = write_reports(&args.reports, &report) {
        return code;
    }
    if let Some(code) = stopped {
        eprintln!("stopped: {} scenarios not run", report.summary.interrupted);
        return ExitCode::from(code);
    }
    if report.summary.passed + report.summary.failed == 0 {
        // No verdict at all: say why each scenario gave none.
        eprintln!("error: nothing was tested:");
        for s in &report.scenarios {
            eprintln!(
                "  {}: {}",
                s.id,
                s.reason.as_deref().unwrap_or("no reason given")
            );
        }
    }
    ExitCode::from(verdict.exit_code)
}

/// Writes every `--report KIND=PATH`, whatever the verdict.
fn write_reports(
    reports: &[(ReportKind, PathBuf)],
    report: &report::Report,
) -> Result<(), ExitCode> {
    for (kind, path) in reports {
        let text = match kind {
            ReportKind::Json => report.to_json(),
            ReportKind::Junit => report::junit::render(report),
            ReportKind::Html => report::html::render(&[(report.target.as_str(), report)]),
        };
        if let Err(e) = write_atomically(path, &text) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return Err(ExitCode::FAILURE);
        }
    }
    Ok(())
}

/// The same scenarios, planned afresh, against the origin behind a gateway (with the
/// gateway's capabilities, so the same scenarios run).
async fn at_origin(
    origin: &str,
    scenarios: Vec<Scenario>,
    connected: &Connected,
) -> Result<report::Report, ExitCode> {
    let caps: Vec<Capability> = connected.target.capabilities.iter().copied().collect();
    let mut target =
        Target::remote(origin, Some(&caps)).map_err(|e| bad_input(&format!("origin: {e}")))?;
    target.own_capabilities = connected.target.own_capabilities.clone();
    let settings = connected.runner.settings().clone();
    let runner = exec::Runner::new(target.clone(), settings.clone()).map_err(|e| bad_input(&e))?;
    let run_id = plan::new_run_id();
    let planned = suite::plan_all(scenarios, &target, &settings, &run_id).map_err(|errors| {
        for e in &errors {
            eprintln!("error: {e}");
        }
        ExitCode::from(BAD_INPUT)
    })?;
    let jobs = settings.jobs;
    Ok(suite::run_all(&runner, planned, jobs, &connected.redactor, &run_id).await)
}

async fn probe(paths: &[PathBuf], args: TargetArgs) -> ExitCode {
    let scenarios = match load(paths) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let connected = match connect(&args, args.flags(), true, false).await {
        Ok(c) => c,
        Err(stopped) => return stopped.exit(),
    };
    let Some(probe) = &connected.probe else {
        return ExitCode::FAILURE;
    };
    print_probe(&connected.target.label, probe, &connected.redactor, true);
    if let Some(why) = &probe.misconfigured {
        eprintln!(
            "error: target misconfigured: {}",
            connected.redactor.text(why)
        );
        return ExitCode::FAILURE;
    }
    let planned = match plan_or_exit(scenarios, &connected) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let runs = planned
        .iter()
        .filter(|p| p.applicability == Applicability::Run)
        .count();
    say!("\n{runs} of {} scenarios will run:", planned.len());
    for p in &planned {
        match &p.applicability {
            Applicability::Run => say!("  run  {}", p.id),
            Applicability::NotApplicable(why) => say!("  n/a  {}: {why}", p.id),
        }
    }
    ExitCode::SUCCESS
}

/// What the probe found: in full for `probe`, else the capabilities found and the evidence
/// for each one missing.
/// The probe's findings for the JSON report, masked.
fn probe_report(probe: &exec::Probe, redactor: &Redactor) -> report::ProbeReport {
    report::ProbeReport {
        capabilities: probe
            .capabilities
            .iter()
            .map(|c| c.name().to_owned())
            .collect(),
        evidence: probe
            .evidence
            .iter()
            .map(|(capability, found, evidence)| report::ProbeEvidence {
                capability: capability.name().to_owned(),
                found: *found,
                evidence: redactor.text(evidence),
            })
            .collect(),
        notes: probe.notes.iter().map(|n| redactor.text(n)).collect(),
    }
}

fn print_probe(label: &str, probe: &exec::Probe, redactor: &Redactor, full: bool) {
    let label = redactor.text(label);
    if full {
        say!("{label}\n");
    } else {
        let found: Vec<&str> = probe.capabilities.iter().map(|c| c.name()).collect();
        say!("probed {label}: found {}", found.join(", "));
    }
    // One column for every capability's name, the longest included.
    let width = Capability::ALL.iter().map(|c| c.name().len()).max();
    for (capability, found, evidence) in &probe.evidence {
        if full || !found {
            let shown = if *found { "yes" } else { "no" };
            let evidence = redactor.text(evidence);
            let name = capability.name();
            say!("  {name:<w$} {shown:<4} {evidence}", w = width.unwrap_or(0));
        }
    }
    for note in &probe.notes {
        say!("  note: {}", redactor.text(note));
    }
}

/// The example scenario `contend init` writes: the lost update, refused.
const EXAMPLE_SCENARIO: &str = r#"# An example: a stale If-Match is refused, and concurrent writers get one winner.
# Run it with `contend run specs`; the scenario format is in docs/scenario-format.md.
name: a stale If-Match is refused
requires: [put-create]
steps:
  - name: create
    rule: put.created
    request: { method: PUT, path: "{{scratch}}/doc", body: "v1" }
    expect: { status: 201 }
  - name: read
    request: { path: "{{scratch}}/doc" }
    capture: { etag: { header: ETag, strong: true } }
  - name: update with the current tag
    rule: if-match.match
    request: { method: PUT, path: "{{scratch}}/doc", headers: { If-Match: "{{etag}}" }, body: "v2" }
    expect: { status: [200, 204] }
  - name: the old tag is stale now
    rule: if-match.mismatch
    request: { method: PUT, path: "{{scratch}}/doc", headers: { If-Match: "{{etag}}" }, body: "v3" }
    expect: { status: 412 }
cleanup:
  - name: delete
    request: { method: DELETE, path: "{{scratch}}/doc", headers: { If-Match: "*" } }
"#;

/// `contend init`: a starter profile and an example scenario, never over existing files.
async fn init(args: TargetArgs) -> ExitCode {
    let profile_path = std::path::Path::new("contend.yaml");
    let example_path = std::path::Path::new("specs/example.yaml");
    for path in [profile_path, example_path] {
        if path.exists() {
            return bad_input(&format!(
                "{} exists; contend init leaves it as it is",
                path.display()
            ));
        }
    }
    // Editors with yaml-language-server (VS Code's YAML extension, IntelliJ, Neovim) complete
    // and check both files from these lines; paths are relative to the file.
    let mut profile = format!(
        "# yaml-language-server: $schema={SCHEMA_DIR}/profile.schema.json\n\
         # contend's target profile: docs/profiles.md has every key.\n"
    );
    match &args.target {
        Some(url) => {
            let connected = match connect(&args, args.flags(), true, false).await {
                Ok(c) => c,
                Err(stopped) => return stopped.exit(),
            };
            // A password or token belongs in the environment, not in a committed file: the
            // profile names a variable for each, and says which to set.
            let (lines, names) = init_references(url, &args.headers);
            profile.push_str(&lines);
            if !names.is_empty() {
                say!(
                    "contend.yaml reads {} from the environment: set them before `contend run`",
                    names.join(", ")
                );
            }
            if let Some(probe) = &connected.probe {
                let found: Vec<&str> = probe.capabilities.iter().map(|c| c.name()).collect();
                profile.push_str(&format!(
                    "# What `contend probe` found; scenarios needing anything else are not applicable.\ncapabilities: [{}]\n",
                    found.join(", ")
                ));
                let masked = |t: &str| connected.redactor.text(t);
                for (capability, found, evidence) in &probe.evidence {
                    if !found {
                        let evidence = masked(evidence);
                        profile.push_str(&format!("#   no {}: {evidence}\n", capability.name()));
                    }
                }
                for note in &probe.notes {
                    profile.push_str(&format!("#   note: {}\n", masked(note)));
                }
                if let Some(why) = &probe.misconfigured {
                    profile.push_str(&format!("#   MISCONFIGURED: {}\n", masked(why)));
                }
                profile.push_str(&init_hints(probe));
            }
        }
        None => profile.push_str("# target: https://staging.example.com/api\n"),
    }
    profile.push_str(
        "# headers: { Authorization: \"Bearer {{env.STAGING_TOKEN}}\" }\n\
         # create_scratch: true   # WebDAV: make a collection per scenario (a PUT got 409)\n\
         # content_type: application/json\n\
         # body_format: '{\"value\": \"{{body}}\"}'\n\
         # accept: { race.loser-412: [409] }   # a status the target answers by design\n",
    );
    let example = format!(
        "# yaml-language-server: $schema=../{SCHEMA_DIR}/scenario.schema.json\n{EXAMPLE_SCENARIO}"
    );
    let schema = |of: SchemaOf| {
        std::fs::write(
            Path::new(SCHEMA_DIR).join(format!("{}.schema.json", of.name())),
            of.text(),
        )
    };
    let written = std::fs::write(profile_path, profile)
        .and_then(|()| std::fs::create_dir_all("specs"))
        .and_then(|()| std::fs::write(example_path, example))
        .and_then(|()| std::fs::create_dir_all(SCHEMA_DIR))
        .and_then(|()| schema(SchemaOf::Scenario))
        .and_then(|()| schema(SchemaOf::Profile));
    if let Err(e) = written {
        eprintln!("error: cannot write the starter files: {e}");
        return ExitCode::FAILURE;
    }
    say!(
        "wrote contend.yaml, specs/example.yaml and the JSON Schemas editors read ({SCHEMA_DIR}/)"
    );
    say!("next: `contend run` (the built-in suite), `contend run specs` (yours)");
    ExitCode::SUCCESS
}

/// The profile lines `init` writes for a target URL and `--header`s: the URL without its
/// password and query, each secret in an `{{env.NAME}}` reference (a password as the Basic
/// credential it is sent as, a query value, a credential header's credential), and the
/// variables to set.
fn init_references(url: &str, headers: &[(String, String)]) -> (String, Vec<String>) {
    let mut names = Vec::new();
    let mut lines = String::new();
    let Ok(mut parsed) = url::Url::parse(url) else {
        return (String::new(), names);
    };
    let mut sent = Vec::new();
    let authorized = (headers.iter()).any(|(n, _)| n.eq_ignore_ascii_case("authorization"));
    if parsed.password().is_some() && !authorized {
        names.push("CONTEND_TARGET_BASIC".to_owned());
        sent.push((
            "Authorization".to_owned(),
            "Basic {{env.CONTEND_TARGET_BASIC}}".to_owned(),
        ));
        lines.push_str(&format!(
            "# CONTEND_TARGET_BASIC: base64 of {}:PASSWORD, the user and password the URL gave\n",
            parsed.username()
        ));
    }
    let _ = parsed.set_password(None);
    let _ = parsed.set_username("");
    let query: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
    parsed.set_query(None);
    lines.push_str(&format!("target: {parsed}\n"));
    if !query.is_empty() {
        let pairs: Vec<String> = (query.iter())
            .map(|(key, _)| {
                let name = env_name("CONTEND_QUERY", key);
                let pair = format!("{key}={{{{env.{name}}}}}");
                names.push(name);
                pair
            })
            .collect();
        lines.push_str(&format!("query: \"{}\"\n", pairs.join("&")));
    }
    for (name, value) in headers {
        let kept = match contend::record::is_credential(name) {
            true => {
                let env = env_name("CONTEND", name);
                let reference = format!("{{{{env.{env}}}}}");
                names.push(env);
                match value.trim().split_once(' ') {
                    Some((scheme, _)) => format!("{scheme} {reference}"),
                    None => reference,
                }
            }
            false => value.clone(),
        };
        sent.push((name.clone(), kept));
    }
    if !sent.is_empty() {
        let fields: Vec<String> = (sent.iter())
            .map(|(n, v)| format!("{n}: {}", serde_json::Value::String(v.clone())))
            .collect();
        lines.push_str(&format!("headers: {{ {} }}\n", fields.join(", ")));
    }
    (lines, names)
}

/// The profile keys a probe's evidence points at, each commented out with what was seen: a
/// target where PUT does not create (an API that creates by POST), one whose tags are weak (a
/// version kept in the content), one where nothing could be written (a read-only run).
fn init_hints(probe: &contend::exec::Probe) -> String {
    let mut out = String::new();
    let lacks = |c: Capability| !probe.capabilities.contains(&c);
    if lacks(Capability::PutCreate) && lacks(Capability::Create) {
        out.push_str(
            "# PUT to a new path did not create (above). If the API creates by POST to a\n\
             # collection, say where; the new resource's URL is read from Location by default:\n\
             # create: { path: /api/items, url: { header: Location } }\n",
        );
    }
    if probe.misconfigured.is_some() {
        out.push_str(
            "# Or, if nothing may be written here, judge what reads show of resources that exist:\n\
             # read_only: true\n\
             # existing:\n\
             #   - { path: /some/document, body: \"its exact content\" }\n",
        );
    }
    if probe.notes.iter().any(|n| n.starts_with("ETags stay weak")) {
        out.push_str(
            "# Only weak ETags: If-Match cannot guard a write (strong comparison). If the API\n\
             # keeps a version in its content, say where it is read and sent back:\n\
             # version: { read: { json: /version }, send: { json: version } }\n",
        );
    }
    out
}

/// `CONTEND_QUERY_SIG` for `sig`: a variable name from a prefix and a key.
fn env_name(prefix: &str, key: &str) -> String {
    let key: String = (key.chars())
        .map(|c| match c.is_ascii_alphanumeric() {
            true => c.to_ascii_uppercase(),
            false => '_',
        })
        .collect();
    format!("{prefix}_{key}")
}

/// `0.03` or `3%`: a share of writes, more than 0 and at most 1.
fn parse_rate(text: &str) -> Result<f64, String> {
    let (number, scale) = match text.trim().strip_suffix('%') {
        Some(percent) => (percent.trim(), 100.0),
        None => (text.trim(), 1.0),
    };
    match number.parse::<f64>().map(|n| n / scale) {
        Ok(rate) if rate > 0.0 && rate <= 1.0 => Ok(rate),
        _ => Err(format!(
            "expected a share of writes above 0 and at most 1, like `0.03` or `3%`, not {text:?}"
        )),
    }
}

/// A rate only means something for the fault it sets the rate of.
fn fault_rate_misused(faults: &[Fault], rate: Option<f64>) -> Option<&'static str> {
    (rate.is_some() && !faults.contains(&Fault::RareLostUpdate)).then_some(
        "--fault-rate sets how often --fault rare-lost-update strikes: give that fault too",
    )
}

async fn serve(args: ServeArgs) -> ExitCode {
    if args.list_faults {
        for fault in Fault::ALL {
            say!(
                "{}\n    {}\n    breaks: {}",
                fault.name(),
                fault.description(),
                fault.breaks().join(", ")
            );
        }
        return ExitCode::SUCCESS;
    }
    if let Some(why) = fault_rate_misused(&args.faults, args.fault_rate) {
        return bad_input(why);
    }
    let config = server::ServerConfig {
        require_preconditions: args.require_preconditions,
        collections: args.collections,
        token: args.require_token.clone(),
        faults: args.faults.iter().copied().collect(),
        fault_rate: args.fault_rate,
        tls: args.tls_cert.clone().zip(args.tls_key.clone()),
        tls_client_ca: args.tls_client_ca.clone(),
        weak_etags: args.weak_etags,
        latency: args.latency,
    };
    let running = match server::start(args.addr, config).await {
        Ok(r) => r,
        Err(e) => return bad_input(&format!("cannot listen on {}: {e}", args.addr)),
    };
    // Whoever started us may stop reading (a test, `| head`): never panic on a closed stdout.
    let mut out = std::io::stdout();
    let _ = writeln!(
        out,
        "contend reference server listening on {}",
        running.url()
    );
    let _ = writeln!(out, "press Ctrl-C to stop");
    let _ = out.flush();
    let _ = tokio::signal::ctrl_c().await;
    ExitCode::SUCCESS
}

/// `contend check`: loads and plans every scenario against a target that has everything,
/// so that only what the scenarios themselves get wrong is reported.
fn check(paths: &[PathBuf], config: Option<&Path>) -> ExitCode {
    match validate(paths, config) {
        Ok(count) => {
            say!("{count} scenarios: no errors found without sending a request");
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}

/// A plan problem as the loader shows its errors: `file:line:column: error: ...` when the
/// problem is located.
fn plan_problem(id: &str, problem: &str) -> String {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| regex::Regex::new(r"^(\S+:\d+:\d+): (.*)$").expect("valid regex"));
    match re.captures(problem) {
        Some(c) => format!("{}: error: {}\n  --> {} ({id})", &c[1], &c[2], &c[1]),
        None => format!("error: {id}: {problem}"),
    }
}

/// Every mistake of every file in one pass: each file read past its mistakes, and what it
/// gave planned, so a typo and an undefined variable of one file are reported together.
fn validate(paths: &[PathBuf], config: Option<&Path>) -> Result<usize, ExitCode> {
    let profile = plan::find_profile(config).map_err(|e| bad_input(&e.to_string()))?;
    let settings = plan::resolve(&plan::Flags::default(), &plan::Flags::default(), &profile)
        .map_err(|e| bad_input(&e))?
        .settings;
    let mut target = Target::remote("http://check.invalid", Some(&Capability::ALL))
        .map_err(|e| bad_input(&e))?;
    target
        .own_capabilities
        .extend(profile.own_capabilities.iter().cloned());
    let run_id = plan::new_run_id();
    // One file: its scenarios counted, every mistake in it (loading's, then planning's).
    let check_file = |file: scenario::Lenient| -> (usize, Vec<String>) {
        let count = file.scenarios.len();
        let mut problems: Vec<String> = file.errors.iter().map(|e| e.to_string()).collect();
        if let Err(plan_errors) = suite::plan_all(file.scenarios, &target, &settings, &run_id) {
            // A variable named in an entry left out may be defined there: not reported.
            let left_out = |p: &&String| {
                let named = p.split('`').nth(3).unwrap_or("");
                !p.contains("is not defined") || !file.left_out.iter().any(|t| t.contains(named))
            };
            for e in plan_errors {
                let own: Vec<String> = e.problems.iter().filter(left_out).cloned().collect();
                problems.extend(own.iter().map(|p| plan_problem(&e.id, p)));
            }
        }
        (count, problems)
    };
    let mut unreadable = Vec::new();
    let checked: Vec<(usize, Vec<String>)> = match paths.is_empty() {
        true => scenario::builtin::files()
            .into_iter()
            .map(|(path, text)| check_file(scenario::load_lenient(text, &path)))
            .collect(),
        false => {
            let files = scenario::scenario_files(paths, &mut unreadable);
            on_every_core(&files, |file| check_file(scenario::load_file_lenient(file)))
        }
    };
    let (mut count, mut errors, mut broken) = (0, unreadable.len(), unreadable.len());
    for e in &unreadable {
        eprintln!("{e}\n");
    }
    for (scenarios, problems) in checked {
        count += scenarios;
        broken += usize::from(!problems.is_empty());
        errors += problems.len();
        for p in problems {
            eprintln!("{p}\n");
        }
    }
    match errors {
        0 => Ok(count),
        _ => {
            eprintln!("{errors} error(s) in {broken} file(s)");
            Err(ExitCode::from(BAD_INPUT))
        }
    }
}

/// `work` done on every item on every core, the results in the items' order. Each thread
/// takes the next batch as it finishes one, so a core the system keeps busy does less, not
/// the same share late. Each file is read and checked on its own and only what is said of it
/// is kept, so checking 100,000 files takes the cores' time and little memory.
fn on_every_core<T: Sync, R: Send>(items: &[T], work: impl Fn(&T) -> R + Sync) -> Vec<R> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    const BATCH: usize = 256;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let next = AtomicUsize::new(0);
    let mut done: Vec<(usize, Vec<R>)> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..cores.min(items.len().div_ceil(BATCH)).max(1))
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let start = next.fetch_add(BATCH, Ordering::Relaxed);
                        let Some(batch) = items.get(start..(start + BATCH).min(items.len())) else {
                            return mine;
                        };
                        if batch.is_empty() {
                            return mine;
                        }
                        mine.push((start, batch.iter().map(&work).collect::<Vec<R>>()));
                    }
                })
            })
            .collect();
        (threads.into_iter())
            .flat_map(|t| t.join().expect("a checking thread panicked"))
            .collect()
    });
    done.sort_unstable_by_key(|(start, _)| *start);
    done.into_iter().flat_map(|(_, results)| results).collect()
}

fn list(paths: &[PathBuf]) -> ExitCode {
    // A list of scenarios that cannot run is no list: the same checks as `contend check`.
    if let Err(code) = validate(paths, None) {
        return code;
    }
    let scenarios = match load(paths) {
        Ok(s) => s,
        Err(code) => return code,
    };
    for s in &scenarios {
        let requires: Vec<&str> = s.requires.iter().map(|c| c.name()).collect();
        let mut line = plan::scenario_id(s);
        if !s.requirements.is_empty() {
            line.push_str(&format!("  [{}]", s.requirements.join(", ")));
        }
        if !requires.is_empty() {
            line.push_str(&format!("  requires: {}", requires.join(", ")));
        }
        say!("{line}");
    }
    say!("\n{} scenarios", scenarios.len());
    ExitCode::SUCCESS
}

fn list_requirements(paths: &[PathBuf]) -> ExitCode {
    let scenarios = match load(paths) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let ids: Vec<(String, &[String])> = scenarios
        .iter()
        .map(|s| (plan::scenario_id(s), s.requirements.as_slice()))
        .collect();
    let coverage = catalog::coverage(ids.iter().map(|(id, reqs)| (id.clone(), *reqs)));
    let width = catalog::all().map(|r| r.id.len()).max().unwrap_or(0);
    let mut counts = [0usize; 3];
    for c in &coverage {
        let mut by: Vec<String> = Vec::new();
        if c.kinds.contains(&catalog::Kind::Passive) {
            by.push("passive check".into());
        }
        if c.kinds.contains(&catalog::Kind::History) {
            by.push("history check".into());
        }
        by.extend(c.scenarios.iter().cloned());
        let state = c.state();
        counts[state as usize] += 1;
        let shown = match state {
            CoverageState::Checked => by.join(", "),
            CoverageState::NotYetChecked => format!("NOT YET CHECKED: {}", c.rule.probe),
            CoverageState::Informational => format!("informational: {}", c.rule.probe),
        };
        say!("{:<width$}  {:<8}  {shown}", c.rule.id, c.rule.level.name());
    }
    // Requirements that name no catalog rule: the profile's own rules, or typos.
    let own = plan::find_profile(None)
        .map(|p| p.rules)
        .unwrap_or_default();
    for (id, reqs) in &ids {
        for r in reqs.iter().filter(|r| catalog::find(r).is_none()) {
            match own.get(r.as_str()) {
                Some(rule) => say!(
                    "{r:<width$}  {:<8}  {id} (the profile's own rule)",
                    rule.level
                ),
                None => say!("{r:<width$}  (not in the catalog)  {id}"),
            }
        }
    }
    say!(
        "\n{} rules: {} checked, {} checkable but not yet checked, {} informational",
        coverage.len(),
        counts[0],
        counts[1],
        counts[2]
    );
    ExitCode::SUCCESS
}

fn explain(id: &str) -> ExitCode {
    let Some(rule) = catalog::find(id) else {
        // A profile's own rule (./contend.yaml, or CONTEND_CONFIG).
        let path = std::env::var_os("CONTEND_CONFIG").map(PathBuf::from);
        let own = plan::find_profile(path.as_deref())
            .ok()
            .and_then(|p| p.rules.get(id).cloned());
        let Some(own) = own else {
            eprintln!("error: no rule {id:?}; `contend explain --all` lists them");
            return ExitCode::from(BAD_INPUT);
        };
        say!(
            "{id}  {}  {}",
            own.level,
            own.section.as_deref().unwrap_or("the team's own rule")
        );
        say!("  {}\n", own.summary);
        if let Some(link) = &own.link {
            say!("  read:     {link}");
        }
        say!("  declared: in the profile (contend.yaml `rules:`)");
        return ExitCode::SUCCESS;
    };
    // How it is checked follows from what is registered, and from the scenarios at hand.
    let scenarios = scenario::builtin::load().unwrap_or_default();
    let naming: Vec<String> = scenarios
        .iter()
        .filter(|s| s.requirements.iter().any(|r| r == rule.id))
        .map(plan::scenario_id)
        .collect();
    let kinds = catalog::kinds(rule.id, scenarios.iter().map(|s| s.requirements.as_slice()));
    let mut ways: Vec<String> = kinds
        .iter()
        .map(|k| match k {
            catalog::Kind::Passive => {
                "a passive check on every exchange of every scenario".to_owned()
            }
            catalog::Kind::History => "a history check over every race and workload".to_owned(),
            catalog::Kind::Scenario => format!("scenarios: {}", naming.join(", ")),
        })
        .collect();
    if ways.is_empty() {
        ways.push(match rule.observability {
            catalog::Observability::Informational => {
                "informational: not observable on its own".into()
            }
            catalog::Observability::Checkable => {
                "by no scenario here: name it in a scenario's `requirements`".into()
            }
        });
    }
    let kind = ways.join("; ");
    say!("{}  {}  {}", rule.id, rule.level.name(), rule.section);
    say!("  {}\n", rule.summary);
    say!("  read:     {}", rule.link);
    say!("  checked:  {kind}");
    say!("  probe:    {}", rule.probe);
    say!("  good:     {}", rule.good);
    say!("  bad:      {}", rule.bad);
    ExitCode::SUCCESS
}

fn explain_all() -> ExitCode {
    let width = catalog::all().map(|r| r.id.len()).max().unwrap_or(0);
    for rule in catalog::all() {
        say!(
            "{:<width$}  {:<8}  {:<18}  {}",
            rule.id,
            rule.level.name(),
            rule.section,
            rule.summary
        );
    }
    ExitCode::SUCCESS
}

fn bad_input(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(BAD_INPUT)
}
