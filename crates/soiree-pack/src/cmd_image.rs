//! `build --target oci` and `push`: each package's image layout written by soiree-build into
//! OUT/oci/, then sent to a registry by soiree-oci; a line (or a JSON object) per image.

use std::path::Path;

use serde_json::json;

use crate::cli::{MessageFormat, PartyArg, PartyFileArg, RebuildArg, SysrootArg};
use crate::failure::Failure;

/// Where `build --target oci` writes and `push` reads: OUT/oci.
fn images_dir(party_file: &Path, out: Option<&Path>) -> std::path::PathBuf {
    let default_out = crate::party_file::folder(party_file).join("dist");
    out.unwrap_or(&default_out).join("oci")
}

#[allow(clippy::too_many_arguments)]
pub fn build(
    arg: &PartyArg,
    only: &[String],
    out: Option<&Path>,
    offline: bool,
    format: MessageFormat,
    sysroot: &SysrootArg,
    rebuild: &RebuildArg,
    registry: Option<&str>,
) -> Result<(), Failure> {
    let file = arg.file.path();
    let party = soiree_party::load(&file, arg.profile.as_deref())?;
    let dir = images_dir(&file, out);
    let packages = crate::selection::selected(&party, only)?;
    let sources = crate::cmd_inspect::sources(&party, offline, sysroot, rebuild)?;
    crate::selection::each_keep_going(packages, format, |pkg| {
        let working = crate::progress::Working::start(format!("building the image of `{}`", pkg.name), None);
        let built = soiree_build::build_image(&party, pkg, &sources, &dir, registry);
        working.finish();
        report(&pkg.name, &built?, format);
        Ok(())
    })
}

fn report(name: &str, image: &soiree_oci::WrittenImage, format: MessageFormat) {
    for layer in &image.layers {
        crate::ui::step(format_args!(
            "{name}: layer {} {} ({} bytes)",
            layer.name, layer.digest, layer.size
        ));
    }
    match format {
        MessageFormat::Json => println!(
            "{}",
            crate::json_line::line(&json!({
                "reason": "image",
                "name": name,
                "path": image.path,
                "reference": image.reference,
                "digest": image.manifest_digest,
                "config": image.config_digest,
                "size": image.size,
                "layers": image.layers.iter().map(|l| json!({
                    "name": l.name, "digest": l.digest, "diff_id": l.diff_id, "size": l.size,
                })).collect::<Vec<_>>(),
            }))
        ),
        MessageFormat::Human => println!(
            "{:<8} {}  {}  {}  {} bytes",
            name,
            image.path.display(),
            image.reference,
            image.manifest_digest,
            image.size
        ),
    }
}

pub fn push(
    arg: &PartyFileArg,
    only: &[String],
    registry: &str,
    insecure: bool,
    out: Option<&Path>,
    format: MessageFormat,
) -> Result<(), Failure> {
    let file = arg.path();
    let party = soiree_party::load(&file, None)?;
    let packages = crate::selection::selected(&party, only)?;
    let dir = images_dir(&file, out);
    let options = soiree_oci::PushOptions {
        registry: registry.to_string(),
        insecure,
    };
    for pkg in packages {
        let pushed = soiree_oci::push_layout(&dir.join(&pkg.name), &options)?;
        crate::ui::step(format_args!(
            "{}: {} blobs sent, {} already there",
            pkg.name, pushed.sent, pushed.present
        ));
        match format {
            MessageFormat::Json => println!(
                "{}",
                crate::json_line::line(&json!({
                    "reason": "pushed",
                    "name": pkg.name,
                    "reference": pushed.reference,
                    "digest": pushed.digest,
                    "blobs_sent": pushed.sent,
                    "blobs_present": pushed.present,
                }))
            ),
            MessageFormat::Human => println!("{:<8} {}@{}", pkg.name, pushed.reference, pushed.digest),
        }
    }
    Ok(())
}
