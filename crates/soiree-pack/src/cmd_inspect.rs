//! `ls` and `why`: plan one package, without packing it, and show what it holds and why; and
//! the sources they, `build` and `run` resolve alike.

use std::path::Path;

use soiree_party::Party;
use soiree_plan::{Plan, Sources};
use soiree_spk::display::EscapedLines;

use crate::cli::{PlanArg, RebuildArg, SysrootArg};
use crate::failure::Failure;

/// The party's sources, fetched as `offline` allows, with the sysroot if one is given, the
/// command sources of `--rebuild` built again, and the grain supervisor every package ships.
pub fn sources<'p>(
    party: &'p Party,
    offline: bool,
    sysroot: &SysrootArg,
    rebuild: &RebuildArg,
) -> Result<Sources<'p>, Failure> {
    let opts = soiree_build::SourceOptions {
        offline,
        sysroot: sysroot.sysroot.clone(),
        rebuild: rebuild.rebuild.clone(),
        supervisor: crate::supervisor::locate().map_err(Failure::machine)?,
        programs: crate::supervisor::programs(),
    };
    Ok(soiree_build::sources(party, &opts)?)
}

/// Prints a warning of the plan, whose text may quote paths from sources (escaped: see
/// `soiree_spk::display`).
pub fn warn(w: &str) {
    eprintln!("warning: {}", EscapedLines(w));
}

/// Loads the party and plans `package`, then hands the plan to `show`.
pub fn with_plan(
    arg: &PlanArg,
    package: &str,
    show: impl FnOnce(&Plan) -> Result<(), Failure>,
) -> Result<(), Failure> {
    let party = soiree_party::load(&arg.party.file.path(), arg.party.profile.as_deref())?;
    let pkg = soiree_build::find_package(&party, package)?;
    let sources = sources(&party, arg.offline, &arg.sysroot, &arg.rebuild)?;
    let plan = soiree_plan::plan(pkg, &sources, soiree_spk::source_date_epoch_ns())?;
    for w in &plan.warnings {
        warn(w);
    }
    show(&plan)
}

pub fn ls(package: &str, arg: &PlanArg, json: bool) -> Result<(), Failure> {
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
            Err(Failure::rejected(format!(
                "package `{package}` is over Sandstorm's limits (above)"
            )))
        } else {
            Ok(())
        }
    })
}

pub fn why(package: &str, path: &Path, all: bool, arg: &PlanArg, json: bool) -> Result<(), Failure> {
    with_plan(arg, package, |plan| {
        match soiree_plan::explain::why_with(plan, package, path, all) {
            Some(e) if json => {
                println!("{}", crate::json_line::line(&e));
                Ok(())
            }
            Some(e) => {
                print!("{e}");
                Ok(())
            }
            None => {
                let mut f = Failure::rejected(format!(
                    "{} is not in package `{package}`",
                    EscapedLines(&path.to_string_lossy())
                ));
                if let Some(near) = soiree_plan::explain::closest(plan, path) {
                    f.diagnostics = vec![miette::miette!(
                        code = "soiree::rejected",
                        help = format!(
                            "did you mean {}? (`soiree-pack ls {package}` lists every file)",
                            EscapedLines(&near.to_string_lossy())
                        ),
                        "{} is not in package `{package}`",
                        EscapedLines(&path.to_string_lossy())
                    )];
                }
                Err(f)
            }
        }
    })
}
