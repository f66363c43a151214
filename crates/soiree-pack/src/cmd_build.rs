//! `build`: arguments into soiree-build's pipeline, every package of the party (or those named)
//! built, each reported as a line (or a JSON object), warnings on standard error.

use std::path::Path;

use serde_json::json;
use soiree_build::{Built, KeyPolicy};

use crate::cli::{CompressionArg, KeyringArg, MessageFormat, PartyArg, RebuildArg, SysrootArg};
use crate::failure::Failure;

#[allow(clippy::too_many_arguments)]
pub fn build(
    arg: &PartyArg,
    only: &[String],
    out: Option<&Path>,
    keyring_arg: &KeyringArg,
    release: bool,
    offline: bool,
    format: MessageFormat,
    compression: &CompressionArg,
    sysroot: &SysrootArg,
    rebuild: &RebuildArg,
) -> Result<(), Failure> {
    let packer = crate::packing::packer(compression)?;
    let file = arg.file.path();
    let party = soiree_party::load(&file, arg.profile.as_deref())?;
    // As cargo's target/: beside the party file, wherever the command is run from.
    let default_out = crate::party_file::folder(&file).join("dist");
    let out = out.unwrap_or(&default_out);
    let packages = crate::selection::selected(&party, only)?;
    let keys = KeyPolicy {
        keyring: crate::cmd_keys::keyring(keyring_arg)?,
        release,
    };
    let sources = crate::cmd_inspect::sources(&party, offline, sysroot, rebuild)?;
    crate::ui::step(format_args!(
        "{}: {} packages, {} sources; writing to {}",
        file.display(),
        party.packages.len(),
        party.sources.len(),
        out.display()
    ));
    crate::selection::each_keep_going(packages, format, |pkg| {
        let working = crate::progress::Working::start(format!("building `{}`", pkg.name), None);
        let built =
            soiree_build::build_package_observed(&party, pkg, &sources, out, &keys, &packer, |plan| {
                working.set_total(crate::progress::tree_bytes(&plan.tree))
            });
        working.finish();
        report(&built?, format);
        Ok(())
    })
}

fn report(b: &Built, format: MessageFormat) {
    for w in &b.warnings {
        crate::cmd_inspect::warn(w);
    }
    crate::ui::step(format_args!(
        "{}: run-time closure of {} paths; {}",
        b.name,
        b.closure_entries,
        crate::packing::describe(&b.blocks)
    ));
    if let Some(kept) = &b.development_key {
        eprintln!(
            "warning: `{}` is signed with a DEVELOPMENT key (app id {}, kept in {}).\n         \
             Sandstorm will treat it as a different app than the one it is published as. \
             Build with --release to require the real key.",
            b.name,
            b.app_id,
            kept.display()
        );
    }
    match format {
        MessageFormat::Json => println!(
            "{}",
            crate::json_line::line(&json!({
                "reason": "package",
                "name": b.name,
                "path": b.path,
                "app_id": b.app_id.to_string(),
                "package_id": b.package_id,
                "size": b.size,
                "development_key": b.development_key,
                "powerbox": { "offers": b.offers, "requests": b.requests },
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
    }
}
