//! `build`: party.toml → plan → signed .spk and a staged pkgdef, for every package.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::json;
use soiree_party::{Package, Party};
use soiree_spk::{keys, AppId, KeyPair, Keyring};

use soiree_plan::PlanError;

use crate::cli::{CompressionArg, KeyringArg, MessageFormat, PartyArg, SysrootArg};
use crate::cmd_keys::keyring;
use crate::cmd_party::report_problems;
use crate::packing::Packer;

/// Where development keys live: the user's data directory, never the release keyring.
fn dev_keys_dir() -> Option<PathBuf> {
    std::env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .map(|d| d.join("soiree-pack/dev-keys"))
}

fn dev_key(party: &Party, pkg: &Package) -> Result<KeyPair, String> {
    let dir = dev_keys_dir().ok_or("neither XDG_DATA_HOME nor HOME is set; cannot keep a development key")?;
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let ring = Keyring::at(dir.join(format!("{}-{}.keyring", party.meta.name, pkg.name)));
    let mut keys = ring.read().map_err(|e| e.to_string())?;
    if let Some(k) = keys.pop() {
        return Ok(k);
    }
    let k = KeyPair::generate().map_err(|e| e.to_string())?;
    ring.append(&k).map_err(|e| e.to_string())?;
    Ok(k)
}

/// The package's real key (app-id in the environment or the keyring), or, unless `release`,
/// a development key with a loud warning.
fn signing_key(party: &Party, pkg: &Package, ring: &Keyring, release: bool) -> Result<KeyPair, String> {
    if let Some(id) = &pkg.app_id {
        let env = keys::key_from_env().map_err(|e| e.to_string())?;
        if let Some(k) = env.filter(|k| k.app_id() == soiree_spk::replacements::signing_key_for(id)) {
            return Ok(k);
        }
        match ring.find(id) {
            Ok(k) => return Ok(k),
            Err(e) if release => return Err(format!("package `{}`: {e}", pkg.name)),
            // Only a key that is not there falls back to a development key; a keyring that
            // cannot be read or parsed is the user's to fix, not to paper over.
            Err(soiree_spk::Error::KeyNotFound { .. }) => {}
            Err(e) => return Err(format!("package `{}`: {e}", pkg.name)),
        }
    } else if release {
        return Err(format!(
            "package `{}` has no app-id in party.toml; a release build signs with the app's real key",
            pkg.name
        ));
    }
    let k = dev_key(party, pkg)?;
    let wanted = pkg
        .app_id
        .map(|a| a.to_string())
        .unwrap_or_else(|| "(none set)".into());
    eprintln!(
        "warning: `{}` is signed with a DEVELOPMENT key: app id {} instead of {wanted}.\n         \
         Sandstorm will treat it as a different app. Build with --release to require the real key.",
        pkg.name,
        k.app_id()
    );
    Ok(k)
}

fn replace_dir(staging: &Path, target: &Path) -> Result<(), String> {
    if target.exists() {
        std::fs::remove_dir_all(target).map_err(|e| format!("{}: {e}", target.display()))?;
    }
    std::fs::rename(staging, target).map_err(|e| format!("{}: {e}", target.display()))
}

struct Built {
    name: String,
    path: PathBuf,
    app_id: AppId,
    package_id: String,
    size: u64,
    plan_requests: Vec<soiree_plan::powerbox::EncodedRequest>,
    offers: Vec<serde_json::Value>,
}

fn build_one(
    party: &Party,
    pkg: &Package,
    sources: &soiree_plan::Sources,
    out: &Path,
    ring: &Keyring,
    release: bool,
    packer: &Packer,
) -> Result<Built, PlanError> {
    let epoch = soiree_spk::source_date_epoch_ns();
    let plan = soiree_plan::plan(pkg, sources, epoch)?;
    for w in &plan.warnings {
        crate::cmd_inspect::warn(w);
    }
    let key = signing_key(party, pkg, ring, release)?;
    let spk = out.join(format!("{}.spk", pkg.name));
    let written = packer.pack(&plan.tree, &key, &spk).map_err(|e| format!("{e}"))?;

    let app_id_text = key.app_id().to_string();
    let pkgdef = soiree_plan::pkgdef::render(&app_id_text, &plan.manifest, plan.bridge_config.as_ref())?;
    let staging = tempfile::Builder::new()
        .prefix(&format!(".{}.staging-", pkg.name))
        .tempdir_in(out)
        .map_err(|e| format!("{}: {e}", out.display()))?;
    soiree_plan::tree::stage(&plan.tree, &staging.path().join(soiree_plan::pkgdef::STAGED_ROOT))?;
    std::fs::write(staging.path().join("sandstorm-pkgdef.capnp"), pkgdef).map_err(|e| e.to_string())?;
    replace_dir(&staging.keep(), &out.join(&pkg.name))?;

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
        plan_requests: plan.requests,
        offers,
    })
}

#[allow(clippy::too_many_arguments)]
pub fn build(
    arg: &PartyArg,
    only: &[String],
    out: &Path,
    keyring_arg: &KeyringArg,
    release: bool,
    offline: bool,
    format: MessageFormat,
    compression: &CompressionArg,
    sysroot: &SysrootArg,
) -> ExitCode {
    let packer = match Packer::new(compression) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let party = match soiree_party::load(&arg.party, arg.profile.as_deref()) {
        Ok(p) => p,
        Err(problems) => return report_problems(problems),
    };
    for name in only {
        if !party.packages.iter().any(|p| &p.name == name) {
            let names: Vec<&str> = party.packages.iter().map(|p| p.name.as_str()).collect();
            eprintln!(
                "error: the party has no package `{name}` (it has: {})",
                names.join(", ")
            );
            return ExitCode::from(2);
        }
    }
    let ring = match keyring(keyring_arg) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{:?}", miette::Report::new(e));
            return ExitCode::from(3);
        }
    };
    if let Err(e) = std::fs::create_dir_all(out) {
        eprintln!("error: {}: {e}", out.display());
        return ExitCode::from(3);
    }
    let sources = match crate::cmd_inspect::sources(&party, offline, sysroot) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let mut failed = false;
    for pkg in party
        .packages
        .iter()
        .filter(|p| only.is_empty() || only.contains(&p.name))
    {
        match build_one(&party, pkg, &sources, out, &ring, release, &packer) {
            Ok(b) => match format {
                MessageFormat::Json => println!(
                    "{}",
                    crate::json_line::line(&json!({
                        "name": b.name,
                        "path": b.path,
                        "app_id": b.app_id.to_string(),
                        "package_id": b.package_id,
                        "size": b.size,
                        "powerbox": { "offers": b.offers, "requests": b.plan_requests },
                    }))
                ),
                MessageFormat::Human => println!(
                    "{:<8} {}  {} bytes  app {}  package {}",
                    b.name,
                    b.path.display(),
                    b.size,
                    b.app_id,
                    b.package_id
                ),
            },
            Err(e) => {
                crate::cmd_inspect::report_plan_error(&pkg.name, e);
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
