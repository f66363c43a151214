//! `soiree-grain [--var DIR] [--only NAME…|--only-links] SERVICES_JSON`: the process a grain
//! (or a container) runs; `--ready NAME…` is its probe. Exit status: 0 after a clean stop (or
//! ready), 1 if the services could not start (or are not ready), 2 for a bad command line.

use std::path::PathBuf;
use std::process::ExitCode;

use soiree_grain::{log, Config, Options};

const USAGE: &str = "usage: soiree-grain [--var DIR] [--only NAME]... [--only-links] SERVICES_JSON\n       \
    soiree-grain [--var DIR] --ready NAME...\n\
    Runs the services of SERVICES_JSON (normally /opt/soiree/services.json) until SIGTERM.\n\
    --var DIR      the grain's persistent directory (default /var)\n\
    --only NAME    run only this service (repeatable; the others run in other containers)\n\
    --only-links   run no service, only the package's links (SOIREE_LINK_<REQUEST>)\n\
    --ready NAME   exit 0 if each named service is ready, else 1 (a container's probe)";

fn main() -> ExitCode {
    let mut opts = Options::default();
    let mut file: Option<PathBuf> = None;
    let mut only: Vec<String> = Vec::new();
    let mut only_links = false;
    let mut ready: Option<Vec<String>> = None;
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
            Some("--only") => match args.next().and_then(|n| n.into_string().ok()) {
                Some(n) => only.push(n),
                None => return usage("--only needs a service name"),
            },
            Some("--only-links") => only_links = true,
            Some("--ready") => ready = Some(Vec::new()),
            Some(s) if s.starts_with('-') => return usage(&format!("unknown option {s}")),
            Some(name) if ready.is_some() => ready.get_or_insert_with(Vec::new).push(name.to_string()),
            _ if file.is_none() => file = Some(PathBuf::from(a)),
            _ => return usage("one services file only"),
        }
    }
    if let Some(names) = ready {
        if names.is_empty() {
            return usage("--ready needs service names");
        }
        let waiting = soiree_grain::ready_mark::not_ready(&opts.var_dir, &names);
        if waiting.is_empty() {
            return ExitCode::SUCCESS;
        }
        eprintln!("not ready: {}", waiting.join(", "));
        return ExitCode::from(1);
    }
    let Some(file) = file else {
        return usage("which services file?");
    };
    let config = match Config::load(&file).and_then(|c| {
        if only.is_empty() && !only_links {
            Ok(c)
        } else {
            c.only(&only, only_links)
        }
    }) {
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
