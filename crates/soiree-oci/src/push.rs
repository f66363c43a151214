//! `push`: an image layout soiree-pack wrote, sent to `HOST[:PORT]/PREFIX/NAME:TAG` with
//! oci-client — blobs the registry lacks, then the manifest's very bytes, so the registry's
//! digest is the layout's. `NAME:TAG` is the last part of the layout's `ref.name`.

use std::path::{Path, PathBuf};

use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference, RegistryOperation};

use crate::credentials::{self, Credentials, Lookup};
use crate::layout::REF_NAME;
use crate::PushError;

/// Where to push and how.
#[derive(Debug, Clone)]
pub struct PushOptions {
    /// `HOST[:PORT]/PREFIX` (the prefix may be empty or several parts).
    pub registry: String,
    /// Plain HTTP, whatever the host (loopback hosts always get plain HTTP).
    pub insecure: bool,
}

/// What a push did.
#[derive(Debug, Clone)]
pub struct Pushed {
    /// `HOST/PREFIX/NAME:TAG`.
    pub reference: String,
    /// The manifest's digest, as the registry now serves it.
    pub digest: String,
    /// Blobs sent, and blobs the registry already had.
    pub sent: usize,
    pub present: usize,
}

struct Layout {
    name_tag: String,
    manifest: Vec<u8>,
    manifest_digest: String,
    blobs: Vec<String>,
}

fn read_layout(layout: &Path) -> Result<Layout, PushError> {
    let bad = |what: String| PushError::Layout {
        layout: layout.to_path_buf(),
        what,
    };
    let index_path = layout.join("index.json");
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&index_path).map_err(|e| bad(format!("index.json: {e}")))?)
            .map_err(|e| bad(format!("index.json: {e}")))?;
    let entry = index["manifests"]
        .as_array()
        .and_then(|m| m.first())
        .ok_or_else(|| bad("index.json lists no manifest".into()))?;
    let reference = entry["annotations"][REF_NAME]
        .as_str()
        .ok_or_else(|| bad(format!("its manifest has no `{REF_NAME}` annotation")))?;
    let name_tag = reference.rsplit('/').next().unwrap_or(reference).to_string();
    let manifest_digest = entry["digest"]
        .as_str()
        .ok_or_else(|| bad("its manifest has no digest".into()))?
        .to_string();
    let manifest = read_blob(layout, &manifest_digest)?;
    let parsed: serde_json::Value =
        serde_json::from_slice(&manifest).map_err(|e| bad(format!("manifest: {e}")))?;
    let mut blobs = Vec::new();
    if let Some(d) = parsed["config"]["digest"].as_str() {
        blobs.push(d.to_string());
    }
    for layer in parsed["layers"].as_array().into_iter().flatten() {
        if let Some(d) = layer["digest"].as_str() {
            blobs.push(d.to_string());
        }
    }
    Ok(Layout {
        name_tag,
        manifest,
        manifest_digest,
        blobs,
    })
}

fn blob_file(layout: &Path, digest: &str) -> PathBuf {
    crate::blobs::blob_path(layout, digest)
}

fn read_blob(layout: &Path, digest: &str) -> Result<Vec<u8>, PushError> {
    let path = blob_file(layout, digest);
    let bytes = std::fs::read(&path).map_err(|source| PushError::Io {
        path: path.clone(),
        source,
    })?;
    // A blob that is not what its name says would be refused by the registry anyway; say so here.
    if crate::blobs::digest_of(&bytes) != digest {
        return Err(PushError::Layout {
            layout: layout.to_path_buf(),
            what: format!("blob {digest} does not have that digest"),
        });
    }
    Ok(bytes)
}

fn is_loopback(host: &str) -> bool {
    let name = host
        .rsplit_once(':')
        .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
        .map_or(host, |(h, _)| h);
    matches!(name, "localhost" | "127.0.0.1" | "[::1]") || name.starts_with("127.")
}

/// Pushes the layout at `layout`; the process environment gives the credentials.
pub fn push_layout(layout: &Path, options: &PushOptions) -> Result<Pushed, PushError> {
    push_layout_with(layout, options, &Lookup::process())
}

/// [`push_layout`] with credentials looked up in `env`.
pub fn push_layout_with(layout: &Path, options: &PushOptions, env: &Lookup) -> Result<Pushed, PushError> {
    let registry = options.registry.trim_end_matches('/');
    let host = registry.split('/').next().unwrap_or_default();
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(PushError::Registry {
            registry: options.registry.clone(),
            why: "no host".into(),
        });
    }
    let image = read_layout(layout)?;
    let target = format!("{registry}/{}", image.name_tag);
    let reference: Reference = target.parse().map_err(|e| PushError::Registry {
        registry: options.registry.clone(),
        why: format!("`{target}`: {e}"),
    })?;
    let auth = match credentials::for_registry(host, env)? {
        Credentials::Anonymous => RegistryAuth::Anonymous,
        Credentials::Basic { user, password } => RegistryAuth::Basic(user, password),
        Credentials::Token(t) => RegistryAuth::Bearer(t),
    };
    // reqwest's rustls needs a crypto provider; an error means one is installed already.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let protocol = if options.insecure || is_loopback(host) {
        ClientProtocol::Http
    } else {
        ClientProtocol::Https
    };
    let client = Client::new(ClientConfig {
        protocol,
        ..Default::default()
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| PushError::Io {
            path: layout.to_path_buf(),
            source,
        })?;
    let refused = |what: &str| {
        let target = target.clone();
        let what = what.to_string();
        move |e: oci_client::errors::OciDistributionError| PushError::Refused {
            reference: target,
            what,
            why: e.to_string(),
        }
    };
    runtime.block_on(async {
        client
            .auth(&reference, &auth, RegistryOperation::Push)
            .await
            .map_err(refused("the credentials"))?;
        let (mut sent, mut present) = (0, 0);
        for digest in &image.blobs {
            if client.blob_exists(&reference, digest).await.unwrap_or(false) {
                present += 1;
                continue;
            }
            let bytes = read_blob(layout, digest)?;
            client
                .push_blob(&reference, bytes, digest)
                .await
                .map_err(refused(&format!("blob {digest}")))?;
            sent += 1;
        }
        let content_type = http::HeaderValue::from_static("application/vnd.oci.image.manifest.v1+json");
        client
            .push_manifest_raw(&reference, image.manifest.clone(), content_type)
            .await
            .map_err(refused("the manifest"))?;
        Ok(Pushed {
            reference: target.clone(),
            digest: image.manifest_digest.clone(),
            sent,
            present,
        })
    })
}
