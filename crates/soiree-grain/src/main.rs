//! `soiree-grain [--var DIR] SERVICES_JSON`: the process a grain runs (behind the HTTP bridge).
//! Exit status: 0 after a clean stop, 1 if the services could not start, 2 for a bad command line.

use std::path::PathBuf;
use std::process::ExitCode;

use soiree_grain::{log, Config, Options};

const USAGE: &str = "usage: soiree-grain [--var DIR] SERVICES_JSON\n\
    Runs the services of SERVICES_JSON (normally /opt/soiree/services.json) until SIGTERM.\n\
    --var DIR   the grain's persistent directory (default /var)";

fn main() -> ExitCode {
    let mut opts = Options::default();
    let mut file: Option<PathBuf> = None;
    let mut args = std::env::args_os().skip(1);
    while let Some(a) = args.next() {
        match a.to_str() {
            Some("--help" | "-h") => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            Some("--version") => {
                println!("soiree-grain {}", env!("CARGO_PKG_VERSION"));
                return ExitCode::SUCCESS;
            }
            Some("--var") => match args.next() {
                Some(d) => opts.var_dir = PathBuf::from(d),
                None => return usage("--var needs a directory"),
            },
            Some(s) if s.starts_with('-') => return usage(&format!("unknown option {s}")),
            _ if file.is_none() => file = Some(PathBuf::from(a)),
            _ => return usage("one services file only"),
        }
    }
    let Some(file) = file else {
        return usage("which services file?");
    };
    let config = match Config::load(&file) {
        Ok(c) => c,
        Err(e) => {
            log::say(&format!("error: {e}"));
            return ExitCode::from(1);
        }
    };
    match soiree_grain::run(&config, &opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::from(1),
    }
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("soiree-grain: {problem}\n{USAGE}");
    ExitCode::from(2)
}
