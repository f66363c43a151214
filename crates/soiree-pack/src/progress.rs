//! What a terminal shows while long work runs (`build`, `pack`): what is being done, the bytes
//! read into the archive, blocks compressed and taken from the cache, the rate, and — once the
//! total is known (`pack` at once, `build` when the package is planned) — a bar and the time
//! left; redrawn in place and cleared at the end.
//! Nothing at all when standard error is not a terminal, with `-q`, or with `--color never`.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use soiree_spk::{Dir, Node};

/// A progress line for one piece of work; it disappears when the work ends, leaving the report.
pub struct Working(Option<(ProgressBar, Arc<AtomicBool>, std::thread::JoinHandle<()>)>);

impl Working {
    /// `total`: the bytes the work will read, if known (a bar and an ETA), else a spinner.
    pub fn start(what: String, total: Option<u64>) -> Working {
        if crate::ui::quiet() || !crate::ui::progress() || !std::io::stderr().is_terminal() {
            return Working(None);
        }
        let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr());
        set_style(&bar, total.is_some());
        bar.set_prefix(what);
        bar.set_message("0 blocks compressed, 0 from the cache");
        let stop = Arc::new(AtomicBool::new(false));
        let (b, s) = (bar.clone(), stop.clone());
        // The counters are the whole process's: this work's share is what they grow by.
        let base = soiree_spk::live_progress();
        let updater = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                let now = soiree_spk::live_progress();
                let read = now.bytes_in - base.bytes_in;
                b.set_position(b.length().map_or(read, |len| read.min(len)));
                b.set_message(format!(
                    "{} blocks compressed, {} from the cache",
                    now.compressed - base.compressed,
                    now.from_cache - base.from_cache
                ));
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        bar.enable_steady_tick(Duration::from_millis(120));
        Working(Some((bar, stop, updater)))
    }

    /// The bytes the work will read, once known (`build` learns them from the plan): the spinner
    /// becomes a bar with the time left.
    pub fn set_total(&self, total: u64) {
        if let Some((bar, _, _)) = &self.0 {
            bar.set_length(total);
            set_style(bar, true);
            // Drawn now: a small package may be packed before the next tick.
            bar.tick();
        }
    }

    pub fn finish(self) {
        if let Some((bar, stop, updater)) = self.0 {
            stop.store(true, Ordering::Relaxed);
            let _ = updater.join();
            bar.finish_and_clear();
        }
    }
}

fn set_style(bar: &ProgressBar, with_total: bool) {
    let template = if with_total {
        "{spinner} {prefix} [{bar:24}] {bytes}/{total_bytes} read, {msg}, {binary_bytes_per_sec}, {eta} left"
    } else {
        "{spinner} {prefix}: {bytes} read, {msg}, {binary_bytes_per_sec} ({elapsed})"
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
}

/// The bytes of every file of `tree`: about what packing it reads.
pub fn tree_bytes(tree: &Dir) -> u64 {
    tree.entries
        .values()
        .map(|e| match &e.node {
            Node::File { size, .. } => *size,
            Node::Dir(d) => tree_bytes(d),
            Node::Symlink { .. } => 0,
        })
        .sum()
}
