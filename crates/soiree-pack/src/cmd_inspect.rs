//! `ls` and `why`: plan one package, without packing it, and show what it holds and why; and
//! what they share with `build` (sources with the sysroot, reporting a failed plan).

use std::path::Path;
use std::process::ExitCode;

use soiree_party::Party;
use soiree_plan::{Plan, PlanError, Sources};
use soiree_spk::display::EscapedLines;

use crate::cli::{PlanArg, SysrootArg};
use crate::cmd_party::report_problems;

/// The party's sources, fetched as `offline` allows, with the sysroot if one is given, and the
/// grain supervisor every package ships.
pub fn sources<'p>(party: &'p Party, offline: bool, sysroot: &SysrootArg) -> Result<Sources<'p>, ExitCode> {
    let fetcher = soiree_plan::sources::default_fetcher(offline, &party.root).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(3)
    })?;
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
        PlanError::Message(m) => eprintln!("error: package `{package}`: {}", EscapedLines(&m)),
        other => eprintln!("{:?}", miette::Report::new(other)),
    }
}

/// Prints a warning of the plan, whose text may quote paths from sources (escaped: see
/// `soiree_spk::display`).
pub fn warn(w: &str) {
    eprintln!("warning: {}", EscapedLines(w));
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
    let sources = match sources(&party, arg.offline, &arg.sysroot) {
        Ok(s) => s,
        Err(code) => return code,
    };
    match soiree_plan::plan(pkg, &sources, soiree_spk::source_date_epoch_ns()) {
        Ok(plan) => {
            for w in &plan.warnings {
                warn(w);
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
            println!("{}", crate::json_line::line(&listing));
        } else {
            print!("{listing}");
        }
        for w in &listing.warnings {
            warn(w);
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
                println!("{}", crate::json_line::line(&e));
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
