//! One package built: planned, signed, packed, staged beside `spk pack`'s pkgdef, and put in
//! place together — and what the caller reports about it.

use std::path::{Path, PathBuf};

use serde_json::json;
use soiree_party::{Package, Party};
use soiree_plan::Sources;
use soiree_spk::AppId;

use crate::outputs::PackageOutputs;
use crate::{BuildError, KeyPolicy, Packer};

/// A package that was built.
#[derive(Debug)]
pub struct Built {
    pub name: String,
    pub path: PathBuf,
    pub app_id: AppId,
    pub package_id: String,
    pub size: u64,
    pub requests: Vec<soiree_plan::powerbox::EncodedRequest>,
    pub offers: Vec<serde_json::Value>,
    /// Where the development key that signed it is kept, when one did (Sandstorm will see a
    /// different app than the package's `app-id`).
    pub development_key: Option<PathBuf>,
    /// What did not stop the build but should be said (optional libraries missing…).
    pub warnings: Vec<String>,
    /// How many paths the run-time closure of the package's programs holds (`-v` says it).
    pub closure_entries: usize,
    /// How the archive's blocks were made: compressed now or taken from the cache.
    pub blocks: soiree_spk::BlockStats,
}

/// The package called `name`, or the error that lists the party's packages.
pub fn find_package<'p>(party: &'p Party, name: &str) -> Result<&'p Package, BuildError> {
    party
        .packages
        .iter()
        .find(|p| p.name == name)
        .ok_or_else(|| BuildError::NoPackage {
            name: name.to_string(),
            known: party.packages.iter().map(|p| p.name.clone()).collect(),
        })
}

/// Builds `pkg` into `out`: `out/NAME.spk` and `out/NAME/` (its pkgdef and staged tree). Nothing
/// already in `out` changes unless both new outputs are complete; a folder or file soiree-pack did
/// not make is never replaced.
pub fn build_package(
    party: &Party,
    pkg: &Package,
    sources: &Sources,
    out: &Path,
    keys: &KeyPolicy,
    packer: &Packer,
) -> Result<Built, BuildError> {
    build_package_observed(party, pkg, sources, out, keys, packer, |_| {})
}

/// [`build_package`], telling `planned` the plan before it is packed (a progress display learns
/// the bytes it will read there).
pub fn build_package_observed(
    party: &Party,
    pkg: &Package,
    sources: &Sources,
    out: &Path,
    keys: &KeyPolicy,
    packer: &Packer,
    planned: impl FnOnce(&soiree_plan::Plan),
) -> Result<Built, BuildError> {
    let epoch = soiree_spk::source_date_epoch_ns();
    let plan = soiree_plan::plan(pkg, sources, epoch)?;
    planned(&plan);
    let key = keys.key_for(party, pkg)?;
    std::fs::create_dir_all(out).map_err(BuildError::io(out))?;
    // Claimed before any work, so that a folder we may not replace is refused at once.
    let outputs = PackageOutputs::claim(out, &pkg.name)?;
    let written = packer.pack(&plan.tree, &key.pair, &outputs.new_spk())?;

    let app_id_text = key.pair.app_id().to_string();
    let pkgdef = soiree_plan::pkgdef::render(&app_id_text, &plan.manifest, plan.bridge_config.as_ref())
        .map_err(|e| BuildError::Plan(e.into()))?;
    let staging = outputs.staging()?;
    soiree_plan::tree::stage(&plan.tree, &staging.path().join(soiree_plan::pkgdef::STAGED_ROOT))
        .map_err(BuildError::Machine)?;
    let pkgdef_path = staging.path().join("sandstorm-pkgdef.capnp");
    std::fs::write(&pkgdef_path, pkgdef).map_err(BuildError::io(&pkgdef_path))?;
    let spk = outputs.spk();
    // Both outputs change together: a failure anywhere above leaves the old ones untouched.
    outputs.commit(staging)?;

    let offers = pkg
        .offers
        .iter()
        .map(|o| json!({ "name": o.name, "path": o.path, "canonical_url": o.canonical_url, "interface": "api-session" }))
        .collect();
    Ok(Built {
        name: pkg.name.clone(),
        path: spk,
        app_id: written.app_id,
        package_id: written.package_id.to_string(),
        size: written.size,
        requests: plan.requests,
        offers,
        development_key: key.development,
        warnings: plan.warnings,
        closure_entries: plan.closure.entries.len(),
        blocks: written.blocks,
    })
}
