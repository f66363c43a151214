//! An image layout (`oci-layout`, `index.json`, `blobs/sha256/`) written from layers and an
//! [`ImageSpec`]: layers first, then the config, the manifest and the index, each JSON document
//! with sorted keys. The folder is filled beside its place and switched in whole; a folder
//! soiree-pack did not make is never replaced.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use oci_spec::image::{
    Arch, ConfigBuilder, Descriptor, DescriptorBuilder, HistoryBuilder, ImageConfigurationBuilder,
    ImageIndexBuilder, ImageManifestBuilder, MediaType, Os, RootFsBuilder,
};
use soiree_fs::OwnedDir;
use soiree_types::Dir;

use crate::blobs;
use crate::layer_tar::{self, Owner};
use crate::OciError;

/// The annotation an index gives an image's name (what `skopeo`/`podman` call it).
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// One layer: its name (said in the image's history) and the part of the tree it holds.
#[derive(Debug, Clone)]
pub struct Layer {
    pub name: String,
    pub tree: Dir,
}

/// What the image runs and how it is named.
#[derive(Debug, Clone, Default)]
pub struct ImageSpec {
    /// `HOST/PREFIX/NAME:TAG`, the index's `ref.name`.
    pub reference: String,
    pub entrypoint: Vec<String>,
    pub env: BTreeMap<String, String>,
    /// `UID:GID`.
    pub user: String,
    /// `PORT/tcp` or `PORT/udp`.
    pub exposed_ports: Vec<String>,
    pub volumes: Vec<String>,
    pub working_dir: Option<String>,
    pub labels: BTreeMap<String, String>,
    /// Every file time and the image's `created`, in seconds since the epoch.
    pub epoch: i64,
    /// Paths (absolute) owned by someone else than root, or with another mode: `/var` belongs
    /// to the image user, `/tmp` is sticky.
    pub owners: BTreeMap<String, Owner>,
    /// The most the image's blobs may weigh together.
    pub size_limit: Option<u64>,
}

/// A layer as written.
#[derive(Debug, Clone)]
pub struct WrittenLayer {
    pub name: String,
    pub digest: String,
    pub diff_id: String,
    pub size: u64,
}

/// An image as written.
#[derive(Debug, Clone)]
pub struct WrittenImage {
    pub path: PathBuf,
    pub reference: String,
    /// The manifest's digest: the image's identity, what a registry reports for it.
    pub manifest_digest: String,
    pub config_digest: String,
    pub layers: Vec<WrittenLayer>,
    /// Compressed layers, config and manifest together.
    pub size: u64,
}

/// Writes the image layout at `out` (replacing one soiree-pack wrote there before).
pub fn write_layout(layers: &[Layer], spec: &ImageSpec, out: &Path) -> Result<WrittenImage, OciError> {
    OwnedDir::check_replaceable(out).map_err(|e| {
        if e.is_io() {
            OciError::Io {
                path: out.to_path_buf(),
                source: std::io::Error::other(e.to_string()),
            }
        } else {
            OciError::NotOurs(e.to_string())
        }
    })?;
    let parent = soiree_fs::parent_dir(out);
    std::fs::create_dir_all(parent).map_err(OciError::io(parent))?;
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let staging = tempfile::Builder::new()
        .prefix(&format!(".{name}.staging-"))
        .tempdir_in(parent)
        .map_err(OciError::io(parent))?;
    let root = staging.path();
    // A temp folder is 0700; the layout is read by other users' tools (a registry, podman).
    std::fs::set_permissions(root, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .map_err(OciError::io(root))?;

    let mtime = u64::try_from(spec.epoch).unwrap_or(0);
    let mut written = Vec::new();
    for layer in layers {
        let blob = layer_tar::write_layer(root, &layer.tree, &spec.owners, mtime)?;
        written.push(WrittenLayer {
            name: layer.name.clone(),
            digest: blob.digest,
            diff_id: blob.diff_id,
            size: blob.size,
        });
    }

    let config_bytes = config_json(spec, &written)?;
    let (config_digest, config_size) = blobs::write_bytes(root, &config_bytes)?;
    let layer_descriptors = written
        .iter()
        .map(|l| descriptor(MediaType::ImageLayerGzip, l.size, &l.digest, None))
        .collect::<Result<Vec<_>, _>>()?;
    let manifest = ImageManifestBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageManifest)
        .config(descriptor(
            MediaType::ImageConfig,
            config_size,
            &config_digest,
            None,
        )?)
        .layers(layer_descriptors)
        .build()
        .map_err(spec_error)?;
    let manifest_bytes = canonical_json(&manifest)?;
    let (manifest_digest, manifest_size) = blobs::write_bytes(root, &manifest_bytes)?;

    let size = written.iter().map(|l| l.size).sum::<u64>() + config_size + manifest_size;
    if let Some(limit) = spec.size_limit {
        if size > limit {
            return Err(OciError::TooBig {
                reference: spec.reference.clone(),
                size,
                limit,
            });
        }
    }

    let annotations = HashMap::from([(REF_NAME.to_string(), spec.reference.clone())]);
    let index = ImageIndexBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageIndex)
        .manifests(vec![descriptor(
            MediaType::ImageManifest,
            manifest_size,
            &manifest_digest,
            Some(annotations),
        )?])
        .build()
        .map_err(spec_error)?;
    write_file(root, "index.json", &canonical_json(&index)?)?;
    write_file(root, "oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)?;

    OwnedDir::mark(root).map_err(OciError::io(root))?;
    let staged = staging.keep();
    if let Err(e) = soiree_fs::owned::replace_together(&[(staged.clone(), out.to_path_buf())]) {
        let _ = std::fs::remove_dir_all(&staged);
        return Err(OciError::Io {
            path: out.to_path_buf(),
            source: e,
        });
    }
    Ok(WrittenImage {
        path: out.to_path_buf(),
        reference: spec.reference.clone(),
        manifest_digest,
        config_digest,
        layers: written,
        size,
    })
}

fn config_json(spec: &ImageSpec, layers: &[WrittenLayer]) -> Result<Vec<u8>, OciError> {
    let created = crate::rfc3339::format(spec.epoch);
    let env: Vec<String> = spec.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut config = ConfigBuilder::default()
        .user(spec.user.clone())
        .env(env)
        .entrypoint(spec.entrypoint.clone())
        .exposed_ports(spec.exposed_ports.clone())
        .volumes(spec.volumes.clone())
        .labels(spec.labels.clone().into_iter().collect::<HashMap<_, _>>());
    if let Some(dir) = &spec.working_dir {
        config = config.working_dir(dir.clone());
    }
    let history = layers
        .iter()
        .map(|l| {
            HistoryBuilder::default()
                .created(created.clone())
                .created_by(format!("soiree-pack: {}", l.name))
                .build()
                .map_err(spec_error)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let image = ImageConfigurationBuilder::default()
        .created(created.clone())
        .architecture(Arch::from(oci_arch()))
        .os(Os::Linux)
        .config(config.build().map_err(spec_error)?)
        .rootfs(
            RootFsBuilder::default()
                .typ("layers")
                .diff_ids(layers.iter().map(|l| l.diff_id.clone()).collect::<Vec<_>>())
                .build()
                .map_err(spec_error)?,
        )
        .history(history)
        .build()
        .map_err(spec_error)?;
    canonical_json(&image)
}

/// The image architecture of this machine, by the OCI names.
fn oci_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    }
}

fn descriptor(
    media_type: MediaType,
    size: u64,
    digest: &str,
    annotations: Option<HashMap<String, String>>,
) -> Result<Descriptor, OciError> {
    let digest: oci_spec::image::Digest = digest.parse().map_err(spec_error)?;
    let mut b = DescriptorBuilder::default()
        .media_type(media_type)
        .size(size)
        .digest(digest);
    if let Some(a) = annotations {
        b = b.annotations(a);
    }
    b.build().map_err(spec_error)
}

/// JSON with keys sorted (serde_json's map is ordered), so the bytes do not depend on hash
/// order in oci-spec's maps.
fn canonical_json(value: &impl serde::Serialize) -> Result<Vec<u8>, OciError> {
    let value = serde_json::to_value(value).map_err(spec_error)?;
    serde_json::to_vec(&value).map_err(spec_error)
}

fn spec_error(e: impl std::fmt::Display) -> OciError {
    OciError::Spec(e.to_string())
}

fn write_file(root: &Path, name: &str, bytes: &[u8]) -> Result<(), OciError> {
    let path = root.join(name);
    std::fs::write(&path, bytes).map_err(OciError::io(&path))
}
