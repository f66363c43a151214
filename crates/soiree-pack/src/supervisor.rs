//! Finding the grain supervisor (`soiree-grain`) that every package ships: `SOIREE_GRAIN`, else
//! the `soiree-grain` beside this executable, where cargo builds both.

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
