//! `run`: a package of the party (planned and staged) or a `.spk` (all of `verify`, then unpacked), run
//! in bubblewrap as a grain until Ctrl-C, its ports on the host's loopback.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use soiree_run::{Options, Proto, Publish};

use crate::cli::PlanArg;
use crate::failure::Failure;

/// Where `run` keeps a package's grain: `.soiree/run/NAME/` in the current directory, so that
/// `run uro` and `run dist/uro.spk` share one `/var`.
pub fn run_dir(name: &str) -> PathBuf {
    Path::new(".soiree/run").join(name)
}

pub fn run(
    target: &str,
    plan: &PlanArg,
    var: Option<&Path>,
    port: Option<u16>,
    tcp: &[String],
    udp: &[String],
) -> Result<(), Failure> {
    let mut publish = Vec::new();
    for (proto, specs) in [(Proto::Tcp, tcp), (Proto::Udp, udp)] {
        for spec in specs {
            publish.push(Publish::parse(proto, spec).map_err(|e| Failure::usage(format!("--{proto} {e}")))?);
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
    let machine = |e: std::io::Error| Failure::machine(format!("{}: {e}", dir.display()));
    std::fs::create_dir_all(&dir).map_err(machine)?;
    // The package's files for this run only; the grain's /var stays.
    let work = tempfile::Builder::new()
        .prefix("root-")
        .tempdir_in(&dir)
        .map_err(machine)?;
    let root = work.path().join("root");
    let prepared = if is_spk {
        // Everything `verify` checks, before anything of the package runs: a package Sandstorm
        // would refuse to install is not started here either.
        soiree_spk::verify(spk)
            .and_then(|v| soiree_spk::unpack::unpack_opened(&v.opened, &root))
            .map(|_| ())
            .map_err(|e| {
                let mut f = Failure::from(e);
                f.summary = Some(format!("{}: invalid package", spk.display()));
                f
            })
    } else {
        crate::cmd_inspect::with_plan(plan, target, |p| {
            soiree_plan::tree::stage(&p.tree, &root)
                .map_err(|e| Failure::machine(format!("staging package `{target}`: {e}")))
        })
    };
    if let Err(f) = prepared {
        // No package, no grain: leave no empty directory behind for it.
        drop(work);
        let _ = std::fs::remove_dir(&dir);
        return Err(f);
    }
    let mut opts = Options::new(&root, var.map_or_else(|| dir.join("var"), Path::to_path_buf));
    opts.port = port;
    opts.publish = publish;
    grain(&name, &opts, &dir)
}

/// Runs the grain until it ends or a stop signal arrives.
fn grain(name: &str, opts: &Options, dir: &Path) -> Result<(), Failure> {
    // Registered before the grain starts, so an early Ctrl-C stops it cleanly too.
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ] {
        signal_hook::flag::register(sig, stop.clone())
            .map_err(|e| Failure::machine(format!("cannot handle signal {sig}: {e}")))?;
    }
    let mut running = soiree_run::start(opts)?;
    // How `enter` finds this grain; gone when the grain is.
    let record = soiree_run::enter::RecordFile::write(dir, running.supervisor_pid(), &opts.root)
        .map_err(|e| Failure::machine(format!("{}: {e}", dir.display())))?;
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
        if let Some(status) = running.try_wait()? {
            break status;
        }
        // Each Ctrl-C is passed on: the first stops the services gently, a second kills them.
        if stop.swap(false, Ordering::SeqCst) && asked < 2 {
            running.request_stop();
            asked += 1;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    drop(record);
    match status.code() {
        Some(0) => Ok(()),
        Some(_) => Err(Failure::rejected(format!(
            "{name}: the grain's services could not run (its log is above)"
        ))),
        None => Err(Failure::rejected(format!("{name}: the grain ended by {status}"))),
    }
}
