//! `up`: the party's packages planned and staged, then hosted by `soiree-up` with their own
//! bridges until Ctrl-C, each grain's `/var` kept in `.soiree/up/NAME/var`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::cli::PlanArg;

/// Where `up` keeps a package's grain: `.soiree/up/NAME/` in the current directory.
fn up_dir(name: &str) -> PathBuf {
    Path::new(".soiree/up").join(name)
}

/// Replaces the party's source `NAME` by the folder `DIR` for every `NAME=DIR`.
fn override_sources(party: &mut soiree_party::Party, specs: &[String]) -> Result<(), ExitCode> {
    for spec in specs {
        let Some((name, dir)) = spec.split_once('=') else {
            eprintln!("error: --source {spec}: expected NAME=DIR");
            return Err(ExitCode::from(2));
        };
        if !party.sources.contains_key(name) {
            let names: Vec<&str> = party.sources.keys().map(String::as_str).collect();
            eprintln!(
                "error: --source {spec}: the party has no source `{name}` (it has: {})",
                names.join(", ")
            );
            return Err(ExitCode::from(2));
        }
        let path = match std::fs::canonicalize(dir) {
            Ok(p) if p.is_dir() => p,
            Ok(_) => {
                eprintln!("error: --source {spec}: {dir} is not a folder");
                return Err(ExitCode::from(2));
            }
            Err(e) => {
                eprintln!("error: --source {spec}: {dir}: {e}");
                return Err(ExitCode::from(2));
            }
        };
        party.sources.insert(
            name.to_string(),
            soiree_party::SourceDef::Path {
                path,
                strip_components: 0,
                sub_path: None,
            },
        );
    }
    Ok(())
}

pub fn up(packages: &[String], plan: &PlanArg, port: u16, idle: u64, source: &[String]) -> ExitCode {
    let mut party = match soiree_party::load(&plan.party.party, plan.party.profile.as_deref()) {
        Ok(p) => p,
        Err(problems) => return crate::cmd_party::report_problems(problems),
    };
    if let Err(code) = override_sources(&mut party, source) {
        return code;
    }
    let names: Vec<String> = if packages.is_empty() {
        party.packages.iter().map(|p| p.name.clone()).collect()
    } else {
        packages.to_vec()
    };
    for name in &names {
        if !party.packages.iter().any(|p| &p.name == name) {
            let have: Vec<&str> = party.packages.iter().map(|p| p.name.as_str()).collect();
            eprintln!(
                "error: the party has no package `{name}` (it has: {})",
                have.join(", ")
            );
            return ExitCode::from(2);
        }
    }
    let sources = match crate::cmd_inspect::sources(&party, plan.offline, &plan.sysroot, &plan.rebuild) {
        Ok(s) => s,
        Err(code) => return code,
    };
    // Each package's files for this run only (removed at the end); the grains' /var stay.
    let mut work = Vec::new();
    let mut grains = Vec::new();
    for name in &names {
        let Some(pkg) = party.packages.iter().find(|p| &p.name == name) else {
            continue;
        };
        let dir = up_dir(name);
        let staged = std::fs::create_dir_all(&dir)
            .and_then(|()| tempfile::Builder::new().prefix("root-").tempdir_in(&dir));
        let tmp = match staged {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: {}: {e}", dir.display());
                return ExitCode::from(3);
            }
        };
        let root = tmp.path().join("root");
        let planned = match soiree_plan::plan(pkg, &sources, soiree_spk::source_date_epoch_ns()) {
            Ok(p) => p,
            Err(e) => {
                crate::cmd_inspect::report_plan_error(name, e);
                return ExitCode::from(1);
            }
        };
        for w in &planned.warnings {
            eprintln!("warning: {w}");
        }
        if let Err(e) = soiree_plan::tree::stage(&planned.tree, &root) {
            eprintln!("error: staging package `{name}`: {e}");
            return ExitCode::from(3);
        }
        // Refused before any grain starts, so nothing is left running.
        if let Err(e) = soiree_up::check_bridge(&root) {
            eprintln!("{name}: {:?}", miette::Report::new(e));
            return ExitCode::from(1);
        }
        grains.push(soiree_up::GrainSpec {
            name: name.clone(),
            root,
            var: dir.join("var"),
            log: None,
        });
        work.push(tmp);
    }
    let opts = soiree_up::Options {
        grains,
        port,
        bwrap: PathBuf::from("bwrap"),
        idle: (idle > 0).then(|| std::time::Duration::from_secs(idle)),
    };
    let code = serve(&opts);
    drop(work);
    code
}

/// Runs the party until Ctrl-C (or SIGTERM, SIGHUP) or until a grain ends by itself.
fn serve(opts: &soiree_up::Options) -> ExitCode {
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the event loop: {e}");
            return ExitCode::from(3);
        }
    };
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async {
        use tokio::signal::unix::{signal, SignalKind};
        let mut signals = Vec::new();
        for kind in [
            SignalKind::interrupt(),
            SignalKind::terminate(),
            SignalKind::hangup(),
        ] {
            match signal(kind) {
                Ok(s) => signals.push(s),
                Err(e) => {
                    eprintln!("error: cannot handle signals: {e}");
                    return ExitCode::from(3);
                }
            }
        }
        let party = match soiree_up::Party::start(opts).await {
            Ok(p) => p,
            Err(e) => {
                let code = if e.is_machine() { 3 } else { 1 };
                eprintln!("{:?}", miette::Report::new(e));
                return ExitCode::from(code);
            }
        };
        eprintln!("the party is up: http://{}/", party.addr());
        for u in party.urls() {
            eprintln!("{}: {}", u.name, u.shell);
            eprintln!("{}: API {}", u.name, u.api_url);
        }
        eprintln!("Ctrl-C stops every grain");
        let [mut int, mut term, mut hup] = match <[_; 3]>::try_from(signals) {
            Ok(s) => s,
            Err(_) => return ExitCode::from(3),
        };
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(500));
        let code = loop {
            tokio::select! {
                _ = int.recv() => break ExitCode::SUCCESS,
                _ = term.recv() => break ExitCode::SUCCESS,
                _ = hup.recv() => break ExitCode::SUCCESS,
                _ = tick.tick() => {
                    if let Some(name) = party.ended_grain() {
                        eprintln!("{name}: the grain ended by itself (its log is above); stopping the party");
                        break ExitCode::from(1);
                    }
                }
            }
        };
        party.stop();
        eprintln!("every grain stopped");
        code
    })
}
