//! `ls` and `why`: plan one package, without packing it, and show what it holds and why; and
//! what they share with `build` (sources with the sysroot, reporting a failed plan).

use std::path::Path;
use std::process::ExitCode;

use soiree_party::Party;
use soiree_plan::{Plan, PlanError, Sources};

use crate::cli::{PlanArg, RebuildArg, SysrootArg};
use crate::cmd_party::report_problems;

/// The party's sources, fetched as `offline` allows, with the sysroot if one is given, the
/// command sources of `--rebuild` built again, and the grain supervisor every package ships.
pub fn sources<'p>(
    party: &'p Party,
    offline: bool,
    sysroot: &SysrootArg,
    rebuild: &RebuildArg,
) -> Result<Sources<'p>, ExitCode> {
    for name in &rebuild.rebuild {
        if !matches!(party.sources.get(name), Some(soiree_party::SourceDef::Command(_))) {
            let built: Vec<&str> = party
                .sources
                .iter()
                .filter(|(_, d)| matches!(d, soiree_party::SourceDef::Command(_)))
                .map(|(n, _)| n.as_str())
                .collect();
            eprintln!(
                "error: --rebuild {name}: no source of that name is built by a command (those that are: {})",
                if built.is_empty() {
                    "none".into()
                } else {
                    built.join(", ")
                }
            );
            return Err(ExitCode::from(2));
        }
    }
    let fetcher = soiree_plan::sources::default_fetcher(offline, &party.root)
        .map_err(|e| {
            eprintln!("error: {e}");
            ExitCode::from(3)
        })?
        .rebuild(rebuild.rebuild.iter().cloned());
    let supervisor = crate::supervisor::locate().map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(3)
    })?;
    let sources = Sources::new(party, fetcher).with_supervisor(supervisor);
    match &sysroot.sysroot {
        None => Ok(sources),
        Some(dir) if dir.is_dir() => Ok(sources.with_sysroot(dir)),
        Some(dir) => {
            eprintln!("error: --sysroot {}: not a directory", dir.display());
            Err(ExitCode::from(1))
        }
    }
}

/// Prints why a package could not be planned or built: a closure problem as a diagnostic that
/// points into the recipe, anything else on one line.
pub fn report_plan_error(package: &str, e: PlanError) {
    match e {
        PlanError::Message(m) => eprintln!("error: package `{package}`: {m}"),
        other => eprintln!("{:?}", miette::Report::new(other)),
    }
}

/// Loads the party and plans `package`, then hands the plan to `show`.
pub fn with_plan(arg: &PlanArg, package: &str, show: impl FnOnce(&Plan) -> ExitCode) -> ExitCode {
    let party = match soiree_party::load(&arg.party.party, arg.party.profile.as_deref()) {
        Ok(p) => p,
        Err(problems) => return report_problems(problems),
    };
    let Some(pkg) = party.packages.iter().find(|p| p.name == package) else {
        let names: Vec<&str> = party.packages.iter().map(|p| p.name.as_str()).collect();
        eprintln!(
            "error: the party has no package `{package}` (it has: {})",
            names.join(", ")
        );
        return ExitCode::from(2);
    };
    let sources = match sources(&party, arg.offline, &arg.sysroot, &arg.rebuild) {
        Ok(s) => s,
        Err(code) => return code,
    };
    match soiree_plan::plan(pkg, &sources, soiree_spk::source_date_epoch_ns()) {
        Ok(plan) => {
            for w in &plan.warnings {
                eprintln!("warning: {w}");
            }
            show(&plan)
        }
        Err(e) => {
            report_plan_error(package, e);
            ExitCode::from(1)
        }
    }
}

pub fn ls(package: &str, arg: &PlanArg, json: bool) -> ExitCode {
    with_plan(arg, package, |plan| {
        let listing = soiree_plan::listing::list(plan, package);
        if json {
            println!("{}", serde_json::to_string(&listing).unwrap_or_default());
        } else {
            print!("{listing}");
        }
        for w in &listing.warnings {
            eprintln!("warning: {w}");
        }
        if listing.over_limit {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        }
    })
}

pub fn why(package: &str, path: &Path, arg: &PlanArg, json: bool) -> ExitCode {
    with_plan(arg, package, |plan| {
        match soiree_plan::explain::why(plan, package, path) {
            Some(e) if json => {
                println!("{}", serde_json::to_string(&e).unwrap_or_default());
                ExitCode::SUCCESS
            }
            Some(e) => {
                print!("{e}");
                ExitCode::SUCCESS
            }
            None => {
                eprintln!("error: {} is not in package `{package}`", path.display());
                ExitCode::from(1)
            }
        }
    })
}
