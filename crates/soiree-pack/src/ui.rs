//! How much the program says (`-q`, `-v`) and whether it colours it (`--color`): set once by
//! `main`, read wherever a confirmation or a step is printed.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU8, Ordering};

const QUIET: u8 = 0;
const NORMAL: u8 = 1;
const VERBOSE: u8 = 2;

static LEVEL: AtomicU8 = AtomicU8::new(NORMAL);
static COLOR: AtomicU8 = AtomicU8::new(0);
static PROGRESS: AtomicU8 = AtomicU8::new(1);

/// Sets the level from `-q`/`-v` and the colour choice from `--color`.
pub fn configure(quiet: bool, verbose: bool, color: clap::ColorChoice) {
    let level = match (quiet, verbose) {
        (true, _) => QUIET,
        (false, true) => VERBOSE,
        (false, false) => NORMAL,
    };
    LEVEL.store(level, Ordering::Relaxed);
    let on = match color {
        clap::ColorChoice::Always => true,
        clap::ColorChoice::Never => false,
        // As cargo: colour on a terminal, unless NO_COLOR asks otherwise.
        clap::ColorChoice::Auto => {
            std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    COLOR.store(u8::from(on), Ordering::Relaxed);
    // `--color never` is also how a terminal that cannot redraw lines asks for plain output.
    PROGRESS.store(u8::from(color != clap::ColorChoice::Never), Ordering::Relaxed);
}

/// Whether a progress line may be drawn (a terminal still decides; see `progress`).
pub fn progress() -> bool {
    PROGRESS.load(Ordering::Relaxed) == 1
}

/// Whether diagnostics are drawn with colours.
pub fn color() -> bool {
    COLOR.load(Ordering::Relaxed) == 1
}

/// Whether `-v` asked for each step.
pub fn verbose() -> bool {
    LEVEL.load(Ordering::Relaxed) >= VERBOSE
}

/// Whether `-q` asked for silence except errors and warnings.
pub fn quiet() -> bool {
    LEVEL.load(Ordering::Relaxed) == QUIET
}

/// A confirmation on standard error (`added …`, `party.toml: ok`), left out with `-q`.
pub fn note(message: impl std::fmt::Display) {
    if !quiet() {
        eprintln!("{message}");
    }
}

/// One step of the work on standard error, shown only with `-v`.
pub fn step(message: impl std::fmt::Display) {
    if verbose() {
        eprintln!("{message}");
    }
}
