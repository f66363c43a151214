//! `soiree-grain [--var DIR] [--only NAME…|--only-links] SERVICES_JSON`: the process a grain
//! (or a container) runs; `--ready NAME…` is its probe, `--agones NAME…` its Agones health. Exit status: 0 after a clean stop (or
//! ready), 1 if the services could not start (or are not ready), 2 for a bad command line.

use std::path::PathBuf;
use std::process::ExitCode;

use soiree_grain::{log, Config, Options};

const USAGE: &str = "usage: soiree-grain [--var DIR] [--only NAME]... [--after NAME]... [--only-links] [--forward PORT=tcp://HOST:PORT]... SERVICES_JSON\n       \
    soiree-grain [--var DIR] --ready NAME...\n       \
    soiree-grain [--var DIR] --agones NAME...\n\
    Runs the services of SERVICES_JSON (normally /opt/soiree/services.json) until SIGTERM.\n\
    --var DIR      the grain's persistent directory (default /var)\n\
    --only NAME    run only this service (repeatable; the others run in other containers)\n\
    --after NAME   first wait until NAME, run by another container, is ready (repeatable)\n\
    --only-links   run no service, only the package's link service and forwarders\n\
                   (SOIREE_LINK_<REQUEST>=http://HOST:PORT/PATH/: a forwarder goes straight there)\n\
    --forward PORT=tcp://HOST:PORT  also join 127.0.0.1:PORT to a service run elsewhere\n\
    --ready NAME   exit 0 if each named service is ready, else 1 (a container's probe)\n\
    --agones NAME  post ready, then health, to the Agones SDK while each named service is ready";

fn main() -> ExitCode {
    let mut opts = Options::default();
    let mut file: Option<PathBuf> = None;
    let mut only: Vec<String> = Vec::new();
    let mut only_links = false;
    let mut after: Vec<String> = Vec::new();
    let mut ready: Option<Vec<String>> = None;
    let mut agones: Option<Vec<String>> = None;
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
            Some("--after") => match args.next().and_then(|n| n.into_string().ok()) {
                Some(n) => after.push(n),
                None => return usage("--after needs a service name"),
            },
            Some("--forward") => match args.next().and_then(|f| f.into_string().ok()) {
                Some(f) => match f
                    .split_once('=')
                    .and_then(|(p, u)| Some((p.parse::<u16>().ok()?, u)))
                {
                    Some((port, url)) => opts.forwards.push((port, url.to_string())),
                    None => return usage(&format!("--forward {f}: expected PORT=URL")),
                },
                None => return usage("--forward needs PORT=URL"),
            },
            Some("--agones") => agones = Some(Vec::new()),
            Some("--ready") => ready = Some(Vec::new()),
            Some(s) if s.starts_with('-') => return usage(&format!("unknown option {s}")),
            Some(name) if ready.is_some() => ready.get_or_insert_with(Vec::new).push(name.to_string()),
            Some(name) if agones.is_some() => agones.get_or_insert_with(Vec::new).push(name.to_string()),
            _ if file.is_none() => file = Some(PathBuf::from(a)),
            _ => return usage("one services file only"),
        }
    }
    if let Some(names) = agones {
        if names.is_empty() {
            return usage("--agones needs service names");
        }
        return match soiree_grain::agones::report(&opts.var_dir, &names) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                log::say(&format!("error: {e}"));
                ExitCode::from(1)
            }
        };
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
    if !after.is_empty() {
        // A stop while waiting ends the container cleanly, before anything started.
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
            if let Err(e) = signal_hook::flag::register(sig, stop.clone()) {
                log::say(&format!("error: cannot handle signals: {e}"));
                return ExitCode::from(1);
            }
        }
        if !soiree_grain::ready_mark::wait_for(&opts.var_dir, &after, &stop) {
            return ExitCode::SUCCESS;
        }
    }
    match soiree_grain::run(&config, &opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::from(1),
    }
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("soiree-grain: {problem}\n{USAGE}");
    ExitCode::from(2)
}
