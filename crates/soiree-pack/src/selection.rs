//! The packages a command acts on (those named, each checked to be in the party, or every one), and going through them so that one failure does not stop the others.

use soiree_party::{Package, Party};

use crate::cli::MessageFormat;
use crate::failure::Failure;

/// The packages of `party` that `only` names, in the party's order; all of them when `only` is
/// empty. A name the party does not have is refused before anything is done.
pub fn selected<'p>(party: &'p Party, only: &[String]) -> Result<Vec<&'p Package>, Failure> {
    for name in only {
        soiree_build::find_package(party, name)?;
    }
    Ok(party
        .packages
        .iter()
        .filter(|p| only.is_empty() || only.contains(&p.name))
        .collect())
}

/// Runs `each` on every one of `packages`. A failure is printed as it comes and the others
/// still run; the first failure's class is the exit code.
pub fn each_keep_going<'p>(
    packages: Vec<&'p Package>,
    format: MessageFormat,
    mut each: impl FnMut(&'p Package) -> Result<(), Failure>,
) -> Result<(), Failure> {
    let mut failure: Option<Failure> = None;
    for pkg in packages {
        if let Err(f) = each(pkg) {
            f.print(format == MessageFormat::Json);
            // Printed already: what is kept is the class, for the exit code.
            failure.get_or_insert(Failure {
                diagnostics: Vec::new(),
                ..f
            });
        }
    }
    failure.map_or(Ok(()), Err)
}
