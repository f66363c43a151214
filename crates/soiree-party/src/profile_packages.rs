//! `[profiles.NAME.packages.PACKAGE]`: a profile that gives a package another recipe list (the
//! `demo` profile runs Uro without CockroachDB, which Debian does not ship).

use std::borrow::Cow;

use crate::diagnostic::{closest, PartyError, Problems, SourceFile};
use crate::schema::{PackageSpec, PartyFile, S};

/// Every profile (chosen or not) may only replace the recipes of packages the party defines.
pub(crate) fn check(spec: &PartyFile, file: &SourceFile, problems: &mut Problems) {
    for (profile, p) in &spec.profiles {
        for (name, pkg) in &p.packages {
            if spec.packages.contains_key(name) {
                continue;
            }
            let mut err = PartyError::new(
                "soiree::party::profile",
                format!("profile `{profile}` replaces the recipes of package `{name}`, which [packages] does not define"),
            )
            .at_span(file, pkg.span(), "unknown package");
            if let Some(near) = closest(name, spec.packages.keys().map(String::as_str)) {
                err = err.help(format!("did you mean `{near}`?"));
            }
            problems.push(err);
        }
    }
}

/// Package `name` as the chosen profile has it: its own recipes, or the profile's.
pub(crate) fn package_spec<'a>(
    spec: &PartyFile,
    profile: Option<&str>,
    name: &str,
    pkg: &'a S<PackageSpec>,
) -> Cow<'a, S<PackageSpec>> {
    let replaced = profile
        .and_then(|p| spec.profiles.get(p))
        .and_then(|p| p.packages.get(name));
    match replaced {
        None => Cow::Borrowed(pkg),
        Some(r) => {
            let mut pkg = pkg.clone();
            pkg.get_mut().recipes = r.get_ref().recipes.clone();
            Cow::Owned(pkg)
        }
    }
}
