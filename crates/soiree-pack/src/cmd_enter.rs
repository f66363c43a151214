//! `enter GRAIN [-- COMMAND…]`: a shell (or COMMAND) inside a grain that `run` or `up` is running, in
//! its namespaces and as its user, like vagrant-spk's `enter-grain`.

use std::os::unix::process::CommandExt;
use std::path::Path;

use soiree_run::enter::{self, Record, RECORD};
use soiree_spk::display::Escaped;

use crate::failure::Failure;

pub fn enter(name: &str, command: &[String]) -> Result<(), Failure> {
    // A grain of `run`, else one of `up`, started in this folder.
    let run = crate::cmd_run::run_dir(name).join(RECORD);
    let up = crate::cmd_up::up_dir(name).join(RECORD);
    let path = if !run.exists() && up.exists() { up } else { run };
    let not_running = || {
        Failure::usage(format!(
            "no grain `{}` is running here (start it with `soiree-pack run {}` or `soiree-pack up` in this folder)",
            Escaped(name),
            Escaped(name)
        ))
    };
    let text = match std::fs::read(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(not_running()),
        Err(e) => return Err(Failure::machine(format!("{}: {e}", path.display()))),
    };
    let record: Record =
        serde_json::from_slice(&text).map_err(|e| Failure::machine(format!("{}: {e}", path.display())))?;
    // A record left by a `run` that was killed: its pid may now be another program's.
    if !enter::is_grain(record.pid) {
        return Err(not_running());
    }
    let argv: Vec<String> = if command.is_empty() {
        if !record.root.join("bin/sh").exists() {
            return Err(Failure::usage(format!(
                "package `{}` has no /bin/sh: name a program of the package, `soiree-pack enter {} -- /path/to/program`",
                Escaped(name),
                Escaped(name)
            )));
        }
        vec!["/bin/sh".into()]
    } else {
        command.to_vec()
    };
    let env = soiree_run::GrainCommand::read(&record.root)
        .map(|g| g.env)
        .unwrap_or_default();
    let nsenter = which("nsenter")
        .ok_or_else(|| Failure::machine("nsenter is not on PATH (apt-get install util-linux)"))?;
    // The command takes this process's place: its exit status is `enter`'s.
    let err = enter::command(&nsenter, record.pid, &env, &argv).exec();
    Err(Failure::machine(format!("{}: {err}", nsenter.display())))
}

fn which(program: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| Path::new(p).is_file())
}
