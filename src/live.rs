//! The binary's terminal while a run goes on: a progress bar on stderr, and Ctrl-C.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
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

/// Set by the first Ctrl-C: no new scenario starts, those in flight stop before their next
/// step and run their cleanup, and the report of what ran is printed and written. A second
/// Ctrl-C exits at once with 130.
pub fn interrupt_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let set = flag.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        set.store(true, Ordering::SeqCst);
        eprintln!(
            "\ninterrupted: finishing the steps in flight and every started scenario's cleanup \
             (Ctrl-C again quits at once)"
        );
        if tokio::signal::ctrl_c().await.is_ok() {
            std::process::exit(130);
        }
    });
    flag
}
