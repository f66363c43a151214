//! The run-time closure of everything a package holds that runs: every ELF file and executable
//! `#!` script, whoever placed it, gets its loader, libraries and interpreters. The package's own
//! files are seen above the root (`/` or the sysroot) as in the grain; what the package lacks is
//! added from the root at its own path.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use soiree_deps::{Closure, Options, ProgramOrigin};
use soiree_party::Package;
use soiree_spk::Dir;

use crate::error::{ClosureError, PlanError};
use crate::provenance::{self, Provenance};

/// The closure added to a tree, and what the build should warn about.
pub struct Added {
    pub closure: Closure,
    pub warnings: Vec<String>,
}

/// Adds to `tree` the closure of its programs, found in `root` beneath the tree.
pub fn add(
    tree: &mut Dir,
    pkg: &Package,
    root: &Path,
    provenance: &Provenance,
    dir_mtime_ns: i64,
) -> Result<Added, PlanError> {
    let skip = pkg.deps.skip_set()?;
    let programs = soiree_deps::programs_in(tree, |p| skip.is_match(p)).map_err(|e| e.to_string())?;
    let options = options(pkg, root, tree);
    let closure = soiree_deps::closure(&programs, &options)
        .map_err(|e| blame(pkg, &programs, &options, provenance, e))?;
    closure
        .add_to_dir(tree, dir_mtime_ns)
        .map_err(|e| e.to_string())?;

    let mut warnings: Vec<String> = closure
        .warnings
        .iter()
        .map(|w| format!("package `{}`: {w}", pkg.name))
        .collect();
    for m in &closure.missing {
        let name = m.name.to_string_lossy();
        let marked = pkg
            .deps
            .optional
            .iter()
            .find(|o| *o.value == *name)
            .map(|o| format!(" (optional in {}, {})", o.origin.via, provenance::at(&o.origin)))
            .unwrap_or_default();
        warnings.push(format!(
            "package `{}`: {} goes without {name}, which is not in {}{marked}",
            pkg.name,
            m.needed_by.display(),
            root.display()
        ));
    }
    Ok(Added { closure, warnings })
}

/// How the grain's ld.so will search: `[deps]` first, then the package's environment, which is
/// what every program in the grain starts with. A grain has no /proc, so a program's `$ORIGIN`
/// is only known through `LD_ORIGIN_PATH`.
fn options(pkg: &Package, root: &Path, tree: &Dir) -> Options {
    let env_dirs = |name: &str| -> Option<Vec<PathBuf>> {
        pkg.env.get(name).map(|v| {
            v.split(':')
                .filter(|d| !d.is_empty())
                .map(PathBuf::from)
                .collect()
        })
    };
    let mut library_path: Vec<PathBuf> = pkg.deps.library_path.iter().map(|d| (&d.value).into()).collect();
    let mut path: Vec<PathBuf> = pkg.deps.path.iter().map(|d| (&d.value).into()).collect();
    let env_path =
        env_dirs("PATH").unwrap_or_else(|| soiree_deps::DEFAULT_PATH.iter().map(PathBuf::from).collect());
    for (list, more) in [
        (&mut library_path, env_dirs("LD_LIBRARY_PATH").unwrap_or_default()),
        (&mut path, env_path),
    ] {
        for dir in more {
            if !list.contains(&dir) {
                list.push(dir);
            }
        }
    }
    Options {
        root: root.to_path_buf(),
        package: Some(Arc::new(tree.clone())),
        library_path,
        path,
        optional: pkg
            .deps
            .optional
            .iter()
            .map(|o| OsString::from(&o.value))
            .collect(),
        program_origin: match pkg.env.get("LD_ORIGIN_PATH") {
            Some(dir) if !dir.is_empty() => ProgramOrigin::Fixed(dir.into()),
            _ => ProgramOrigin::Unknown,
        },
    }
}

/// Names the program whose closure failed, and the recipe line that placed it. The closure of
/// several programs is the union of each one's, so the first program that fails alone is the
/// one to blame; this runs only when the build is failing anyway.
fn blame(
    pkg: &Package,
    programs: &[PathBuf],
    options: &Options,
    provenance: &Provenance,
    error: soiree_deps::Error,
) -> PlanError {
    let culprit = programs.iter().find_map(|p| {
        soiree_deps::closure(std::slice::from_ref(p), options)
            .err()
            .map(|e| (p, e))
    });
    let (program, error) = match culprit {
        Some((p, e)) => (Some(p.clone()), e),
        None => (None, error),
    };
    let placed_by = program
        .as_ref()
        .and_then(|p| provenance.get(p))
        .and_then(|p| p.origin().cloned());
    PlanError::Closure(Box::new(ClosureError::new(&pkg.name, program, placed_by, error)))
}
