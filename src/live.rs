//! The binary's terminal while a run goes on: a progress bar on stderr, and the signals that
//! stop a run (Ctrl-C, SIGTERM, SIGHUP).

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Scenario blocks on stdout as they finish, and a bar on stderr below them.
#[derive(Clone)]
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// The bar shows only on a terminal, outside CI, and once the run has taken a second.
    pub fn start(total: usize, human: bool) -> Progress {
        let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::hidden());
        if let Ok(style) =
            ProgressStyle::with_template("{spinner} {pos}/{len} scenarios  {elapsed}")
        {
            bar.set_style(style);
        }
        let wanted = human && std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        if wanted {
            let shown = bar.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_secs(1)).await;
                if !shown.is_finished() {
                    shown.set_draw_target(ProgressDrawTarget::stderr());
                    shown.enable_steady_tick(Duration::from_millis(120));
                }
            });
        }
        Progress { bar }
    }

    pub fn print(&self, text: &str) {
        self.bar.suspend(|| {
            // A closed pipe (`| head`) is not an error worth reporting mid-run.
            let _ = write!(anstream::stdout(), "{text}");
        });
    }

    pub fn advance(&self) {
        self.bar.inc(1);
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// How a run is asked to stop: set by the first SIGINT, SIGTERM or SIGHUP, with the exit code
/// that says which (130, 143, 129: 128 and the signal's number).
#[derive(Clone)]
pub struct Stop {
    pub flag: Arc<AtomicBool>,
    code: Arc<AtomicU8>,
}

impl Stop {
    /// The exit code of the signal that stopped the run, if one did.
    pub fn code(&self) -> Option<u8> {
        match self.flag.load(Ordering::SeqCst) {
            true => Some(self.code.load(Ordering::SeqCst)),
            false => None,
        }
    }
}

/// Signals that arrive this soon after the first are the same stop: a process group gets a
/// Ctrl-C once per process, and `timeout` and CI runners signal the whole group.
const SAME_STOP: Duration = Duration::from_secs(1);

/// Installed before the first request (the probe's included). The first SIGINT, SIGTERM or
/// SIGHUP stops new work: no new scenario starts, those in flight stop before their next step
/// and run their cleanup, and every report is written. One more after [`SAME_STOP`] quits at
/// once, first printing every URL made and not deleted.
pub fn stop_on_signals() -> Stop {
    let stop = Stop {
        flag: Arc::new(AtomicBool::new(false)),
        code: Arc::new(AtomicU8::new(130)),
    };
    let set = stop.clone();
    let mut signals = Signals::install();
    tokio::spawn(async move {
        let Some(code) = signals.next().await else {
            return;
        };
        let first = std::time::Instant::now();
        set.code.store(code, Ordering::SeqCst);
        set.flag.store(true, Ordering::SeqCst);
        eprintln!(
            "\n{}: finishing the steps in flight and every started scenario's cleanup, then the \
             reports (once more after a second quits at once)",
            Signals::name(code)
        );
        while signals.next().await.is_some() {
            if first.elapsed() < SAME_STOP {
                continue;
            }
            let left = contend::exec::holdings::left();
            if !left.is_empty() {
                eprintln!("quitting at once; left on the target, not deleted:");
                for url in left {
                    eprintln!("  {url}");
                }
            }
            std::process::exit(i32::from(code));
        }
    });
    stop
}

/// The stop signals, each as the exit code it gives.
struct Signals {
    #[cfg(unix)]
    each: Vec<(u8, tokio::signal::unix::Signal)>,
}

impl Signals {
    fn install() -> Signals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let kinds = [
                (130, SignalKind::interrupt()),
                (143, SignalKind::terminate()),
                (129, SignalKind::hangup()),
            ];
            let each = (kinds.into_iter())
                .filter_map(|(code, kind)| signal(kind).ok().map(|s| (code, s)))
                .collect();
            Signals { each }
        }
        #[cfg(not(unix))]
        Signals {}
    }

    /// The next signal's exit code; `None` when none can arrive.
    async fn next(&mut self) -> Option<u8> {
        #[cfg(unix)]
        {
            let waits = (self.each.iter_mut())
                .map(|(code, s)| Box::pin(async move { s.recv().await.map(|_| *code) }));
            let waits: Vec<_> = waits.collect();
            if waits.is_empty() {
                return None;
            }
            futures::future::select_all(waits).await.0
        }
        #[cfg(not(unix))]
        tokio::signal::ctrl_c().await.ok().map(|_| 130)
    }

    fn name(code: u8) -> &'static str {
        match code {
            143 => "terminated (SIGTERM)",
            129 => "hung up (SIGHUP)",
            _ => "interrupted",
        }
    }
}
