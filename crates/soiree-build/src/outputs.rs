//! One package's outputs in `--out`: `NAME.spk` and the staged folder `NAME/`. A run holds the
//! package's lock while it writes them, replaces them only if soiree-pack made them, and switches
//! both to the new build together (or leaves both as they were).

use std::io::Read;
use std::path::{Path, PathBuf};

use soiree_fs::{Lock, OwnedDir};

use crate::BuildError;

/// The claim on one package's outputs for this run.
pub struct PackageOutputs {
    out: PathBuf,
    name: String,
    _lock: Lock,
}

impl PackageOutputs {
    /// Takes the package's lock in `out` (waiting, with a message, for another run that holds
    /// it), removes what killed runs left for this package, and checks that the existing outputs
    /// may be replaced — before any work is done.
    pub fn claim(out: &Path, name: &str) -> Result<PackageOutputs, BuildError> {
        let lock_path = out.join(format!(".{name}.lock"));
        let lock = Lock::acquire(&lock_path, "soiree-pack build", |holder| {
            eprintln!(
                "Blocking: waiting for {} (held by {holder}): another build writes `{name}` into {}",
                lock_path.display(),
                out.display()
            );
        })
        .map_err(|e| BuildError::Machine(e.to_string()))?;
        let prefix_dir = format!(".{name}.");
        soiree_fs::stale::remove_leftovers(out, |n| {
            n.strip_prefix(&prefix_dir).is_some_and(|rest| {
                rest.starts_with("staging-")
                    || rest.starts_with("old-")
                    || rest == "spk.new"
                    || rest.starts_with("spk.old-")
            })
        })
        .map_err(|e| {
            BuildError::Machine(format!(
                "{}: removing what an earlier, killed build left: {e}",
                out.display()
            ))
        })?;
        let claim = PackageOutputs {
            out: out.to_path_buf(),
            name: name.to_string(),
            _lock: lock,
        };
        OwnedDir::check_replaceable(&claim.staged_dir()).map_err(|e| {
            if e.is_io() {
                BuildError::Machine(e.to_string())
            } else {
                BuildError::NotOurs(e.to_string())
            }
        })?;
        check_spk_replaceable(&claim.spk())?;
        Ok(claim)
    }

    pub fn spk(&self) -> PathBuf {
        self.out.join(format!("{}.spk", self.name))
    }

    pub fn staged_dir(&self) -> PathBuf {
        self.out.join(&self.name)
    }

    /// Where the new package is written before the switch.
    pub fn new_spk(&self) -> PathBuf {
        self.out.join(format!(".{}.spk.new", self.name))
    }

    /// A fresh folder to stage the new tree in, beside its final place.
    pub fn staging(&self) -> Result<tempfile::TempDir, BuildError> {
        tempfile::Builder::new()
            .prefix(&format!(".{}.staging-", self.name))
            .tempdir_in(&self.out)
            .map_err(BuildError::io(&self.out))
    }

    /// Marks the staged folder as soiree-pack's and puts it and the new package in place together.
    pub fn commit(self, staging: tempfile::TempDir) -> Result<(), BuildError> {
        let staged = staging.keep();
        let result = OwnedDir::mark(&staged)
            .map_err(BuildError::io(&staged))
            .and_then(|()| {
                soiree_fs::owned::replace_together(&[
                    (staged.clone(), self.staged_dir()),
                    (self.new_spk(), self.spk()),
                ])
                .map_err(|e| {
                    BuildError::Machine(format!(
                        "{}: {e}; {} and {} were left as they were",
                        self.out.display(),
                        self.spk().display(),
                        self.staged_dir().display()
                    ))
                })
            });
        if result.is_err() {
            let _ = std::fs::remove_dir_all(&staged);
        }
        result
    }
}

impl Drop for PackageOutputs {
    /// A build that failed after packing leaves no new package behind (after a commit there is
    /// none left to remove).
    fn drop(&mut self) {
        let _ = std::fs::remove_file(self.new_spk());
    }
}

/// `NAME.spk` may be replaced when it does not exist or is a Sandstorm package; anything else in
/// its place (the user's file, a folder) is refused.
fn check_spk_replaceable(path: &Path) -> Result<(), BuildError> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(BuildError::io(path)(e)),
    };
    let mut magic = [0u8; 8];
    let is_package = meta.is_file()
        && std::fs::File::open(path)
            .and_then(|mut f| f.read_exact(&mut magic))
            .is_ok()
        && magic == soiree_schema::SPK_MAGIC;
    if is_package {
        Ok(())
    } else {
        Err(BuildError::NotOurs(format!(
            "{} exists and is not a Sandstorm package",
            path.display()
        )))
    }
}
