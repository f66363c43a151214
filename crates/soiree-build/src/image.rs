//! `build --target oci`: one package planned as a container runs it (no Sandstorm bridge, the
//! supervisor as entrypoint), cut into shared layers, written as an OCI image layout under
//! `OUT/NAME/` and named `REGISTRY/PARTY-PACKAGE:APP-VERSION`.

use std::collections::BTreeMap;
use std::path::Path;

use soiree_oci::Owner;
use soiree_party::{Package, Party};
use soiree_plan::Sources;

use crate::BuildError;

/// `REGISTRY/PARTY-PACKAGE:APP-VERSION`, the name the other targets refer to images by.
pub fn image_reference(party: &Party, pkg: &Package, registry: Option<&str>) -> String {
    soiree_plan::container::image_reference(registry, &party.meta.name, &pkg.name, pkg.meta.app_version)
}

/// Builds `pkg`'s image layout at `out/NAME/`.
pub fn build_image(
    party: &Party,
    pkg: &Package,
    sources: &Sources,
    out: &Path,
    registry: Option<&str>,
) -> Result<soiree_oci::WrittenImage, BuildError> {
    let epoch_ns = soiree_spk::source_date_epoch_ns();
    let (container, app_port) = soiree_plan::container::without_bridge(pkg);
    let plan = soiree_plan::plan(&container, sources, epoch_ns)?;
    let layers: Vec<soiree_oci::Layer> = soiree_plan::layers::cut(&plan)
        .into_iter()
        .map(|l| soiree_oci::Layer {
            name: l.key.name(),
            tree: l.tree,
        })
        .collect();

    let mut labels = BTreeMap::from([
        ("org.opencontainers.image.title".to_string(), pkg.title.clone()),
        (
            "org.opencontainers.image.version".to_string(),
            pkg.meta.marketing_version.clone(),
        ),
    ]);
    if let Some(url) = &pkg.meta.code_url {
        labels.insert("org.opencontainers.image.source".into(), url.clone());
    }
    if let Some(d) = &pkg.meta.short_description {
        labels.insert("org.opencontainers.image.description".into(), d.clone());
    }
    let spec = soiree_oci::ImageSpec {
        reference: image_reference(party, pkg, registry),
        entrypoint: soiree_plan::manifest::command_argv(&container),
        env: container.env.clone(),
        user: soiree_plan::container::IMAGE_USER.into(),
        exposed_ports: soiree_plan::container::exposed_ports(&container, app_port),
        volumes: vec!["/var".into()],
        working_dir: None,
        labels,
        epoch: epoch_ns.map_or(0, |ns| ns.div_euclid(1_000_000_000)),
        // The grain user owns /var (the volume takes the image's owner); /tmp is everyone's.
        owners: BTreeMap::from([
            (
                "/var".to_string(),
                Owner {
                    uid: 1000,
                    gid: 1000,
                    mode: 0o755,
                },
            ),
            (
                "/tmp".to_string(),
                Owner {
                    uid: 0,
                    gid: 0,
                    mode: 0o1777,
                },
            ),
        ]),
        size_limit: pkg.meta.image_size_limit.as_ref().map(|l| l.bytes),
    };
    std::fs::create_dir_all(out).map_err(BuildError::io(out))?;
    let lock_path = out.join(format!(".{}.lock", pkg.name));
    let _lock = soiree_fs::Lock::acquire(&lock_path, "soiree-pack build --target oci", |holder| {
        eprintln!(
            "Blocking: waiting for {} (held by {holder}): another build writes the image of `{}`",
            lock_path.display(),
            pkg.name
        );
    })
    .map_err(|e| BuildError::Machine(e.to_string()))?;
    soiree_oci::write_layout(&layers, &spec, &out.join(&pkg.name)).map_err(|e| match (e, &pkg.meta.image_size_limit) {
        (soiree_oci::OciError::TooBig { reference, size, limit }, Some(setting)) => {
            BuildError::OverLimit(Box::new(crate::error::OverLimit(
                soiree_party::PartyError::new(
                    "soiree::oci::too_big",
                    format!("image `{reference}` of package `{}` is {size} bytes, over its image-size-limit of {limit} bytes", pkg.name),
                )
                .at_span(&setting.place.file, setting.place.span.clone(), "the limit is set here")
                .help("raise the limit, or leave files out of the package (`soiree-pack ls` lists them by size)"),
            )))
        }
        (e, _) => BuildError::Oci(e),
    })
}
