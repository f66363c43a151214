//! What a terminal shows while long work runs (`build`, `pack`): a line that says what is being
//! done and for how long, redrawn in place; nothing at all when standard error is not a
//! terminal, with `-q`, or with `--color never`.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A spinner for one piece of work; it disappears when the work ends, leaving the report.
pub struct Working(Option<ProgressBar>);

impl Working {
    pub fn start(what: String) -> Working {
        if crate::ui::quiet() || !crate::ui::progress() || !std::io::stderr().is_terminal() {
            return Working(None);
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
            bar.set_style(style);
        }
        bar.set_message(what);
        bar.tick();
        bar.enable_steady_tick(Duration::from_millis(120));
        Working(Some(bar))
    }

    pub fn finish(self) {
        if let Some(bar) = self.0 {
            bar.finish_and_clear();
        }
    }
}
