//! `run`: a package of the party (planned and staged) or a `.spk` (all of `verify`, then unpacked), run
//! in bubblewrap as a grain until Ctrl-C, its ports on the host's loopback.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use soiree_run::{Options, Proto, Publish};

use crate::cli::PlanArg;

/// Where `run` keeps a package's grain: `.soiree/run/NAME/` in the current directory, so that
/// `run uro` and `run dist/uro.spk` share one `/var`.
fn run_dir(name: &str) -> PathBuf {
    Path::new(".soiree/run").join(name)
}

pub fn run(
    target: &str,
    plan: &PlanArg,
    var: Option<&Path>,
    port: Option<u16>,
    tcp: &[String],
    udp: &[String],
) -> ExitCode {
    let mut publish = Vec::new();
    for (proto, specs) in [(Proto::Tcp, tcp), (Proto::Udp, udp)] {
        for spec in specs {
            match Publish::parse(proto, spec) {
                Ok(p) => publish.push(p),
                Err(e) => {
                    eprintln!("error: --{proto} {e}");
                    return ExitCode::from(2);
                }
            }
        }
    }
    let spk = Path::new(target);
    let is_spk = target.ends_with(".spk") || spk.is_file();
    let name = if is_spk {
        spk.file_stem()
            .map_or("package".into(), |s| s.to_string_lossy().into_owned())
    } else {
        target.to_string()
    };
    let dir = run_dir(&name);
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("error: {}: {e}", dir.display());
        return ExitCode::from(3);
    }
    // The package's files for this run only; the grain's /var stays.
    let work = match tempfile::Builder::new().prefix("root-").tempdir_in(&dir) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("error: {}: {e}", dir.display());
            return ExitCode::from(3);
        }
    };
    let root = work.path().join("root");
    if is_spk {
        // Everything `verify` checks, before anything of the package runs: a package Sandstorm
        // would refuse to install is not started here either.
        let unpacked =
            soiree_spk::verify(spk).and_then(|v| soiree_spk::unpack::unpack_opened(&v.opened, &root));
        if let Err(e) = unpacked {
            let code = if e.is_io() { 3 } else { 1 };
            eprintln!("{}: invalid package", spk.display());
            eprintln!("{:?}", miette::Report::new(e));
            return ExitCode::from(code);
        }
    } else {
        let staged =
            crate::cmd_inspect::with_plan(plan, target, |p| match soiree_plan::tree::stage(&p.tree, &root) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: staging package `{target}`: {e}");
                    ExitCode::from(3)
                }
            });
        if staged != ExitCode::SUCCESS {
            // No package, no grain: leave no empty directory behind for it.
            drop(work);
            let _ = std::fs::remove_dir(&dir);
            return staged;
        }
    }
    let mut opts = Options::new(&root, var.map_or_else(|| dir.join("var"), Path::to_path_buf));
    opts.port = port;
    opts.publish = publish;
    grain(&name, &opts)
}

/// Runs the grain until it ends or a stop signal arrives.
fn grain(name: &str, opts: &Options) -> ExitCode {
    // Registered before the grain starts, so an early Ctrl-C stops it cleanly too.
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ] {
        if let Err(e) = signal_hook::flag::register(sig, stop.clone()) {
            eprintln!("error: cannot handle signal {sig}: {e}");
            return ExitCode::from(3);
        }
    }
    let mut running = match soiree_run::start(opts) {
        Ok(r) => r,
        Err(e) => {
            let code = if e.is_machine() { 3 } else { 1 };
            eprintln!("{:?}", miette::Report::new(e));
            return ExitCode::from(code);
        }
    };
    for (p, addr) in running.published() {
        let url = if p.proto == Proto::Tcp && running.bridge_port() == Some(p.grain) {
            format!(" (the HTTP bridge's port: http://{addr}/)")
        } else {
            String::new()
        };
        eprintln!("{name}: grain {} port {} is {addr}{url}", p.proto, p.grain);
    }
    eprintln!("{name}: /var is {}; Ctrl-C stops the grain", opts.var.display());
    let mut asked = 0;
    let status = loop {
        match running.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => {}
            Err(e) => {
                eprintln!("{:?}", miette::Report::new(e));
                return ExitCode::from(3);
            }
        }
        // Each Ctrl-C is passed on: the first stops the services gently, a second kills them.
        if stop.swap(false, Ordering::SeqCst) && asked < 2 {
            running.request_stop();
            asked += 1;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    match status.code() {
        Some(0) => ExitCode::SUCCESS,
        Some(_) => ExitCode::from(1),
        None => {
            eprintln!("{name}: the grain ended by {status}");
            ExitCode::from(1)
        }
    }
}
