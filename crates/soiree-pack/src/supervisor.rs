//! Finding soiree-pack's own programs that packages ship: the grain supervisor (`soiree-grain`)
//! every package has, and those recipes map (`soiree-relay`, `soiree-tunnel`): `SOIREE_GRAIN`
//! (`SOIREE_RELAY`, …), else the program beside this executable, where cargo builds them all.

use std::path::PathBuf;

/// The supervisor program to put into packages, or what to do to get one.
pub fn locate() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("SOIREE_GRAIN").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(format!("SOIREE_GRAIN={}: no such file", p.display()))
        };
    }
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this executable: {e}"))?;
    let beside = exe.with_file_name("soiree-grain");
    if beside.is_file() {
        Ok(beside)
    } else {
        Err(format!(
            "the grain supervisor {} is missing: every package ships it. Build both programs with \
             `cargo build --release` at the workspace root (`cargo run -p soiree-pack` builds only \
             soiree-pack), or set SOIREE_GRAIN to a soiree-grain binary",
            beside.display()
        ))
    }
}

/// The programs of `soiree_party::vocab::PROGRAM_SOURCES` that are there, from their variable
/// or beside this executable. A missing one is an error only for a package that maps it.
pub fn programs() -> Vec<(String, PathBuf)> {
    let beside = std::env::current_exe().ok();
    soiree_party::vocab::PROGRAM_SOURCES
        .iter()
        .filter_map(|name| {
            let var = soiree_plan::sources::program_env(name);
            let path = match std::env::var_os(&var).filter(|p| !p.is_empty()) {
                Some(p) => PathBuf::from(p),
                None => beside.as_ref()?.with_file_name(name),
            };
            path.is_file().then(|| (name.to_string(), path))
        })
        .collect()
}
