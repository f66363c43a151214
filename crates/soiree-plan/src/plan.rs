//! One package's plan: its tree with every generated file and the run-time closure of its
//! programs, where each path came from, its manifest and bridge config, its encoded powerbox
//! requests and the services its supervisor runs.

use std::path::PathBuf;

use soiree_party::Package;
use soiree_spk::{Dir, Entry, Node};

use crate::error::PlanError;
use crate::manifest::{self, POWERBOX_JSON, SERVICES_JSON, SUPERVISOR};
use crate::powerbox::{self, EncodedRequest};
use crate::provenance::{Placed, Provenance};
use crate::sources::{self, Sources};
use crate::tree;

pub struct Plan {
    pub tree: Dir,
    pub manifest: capnp::message::Builder<capnp::message::HeapAllocator>,
    pub bridge_config: Option<capnp::message::Builder<capnp::message::HeapAllocator>>,
    pub requests: Vec<EncodedRequest>,
    /// The run-time closure of every program in the tree (its root is where it came from).
    pub closure: soiree_deps::Closure,
    /// Who placed each path: a recipe, soiree-pack, or the closure.
    pub provenance: Provenance,
    /// What does not stop the build but should be said: optional libraries that are missing…
    pub warnings: Vec<String>,
}

/// The supervisor's link service for the package's requests: their descriptors (as the page
/// passes them to `powerboxRequest`) and, for an API reached locally, its forwarder.
fn links(requests: &[EncodedRequest], pkg: &Package) -> Option<soiree_grain::Links> {
    use soiree_grain::{Forward, LinkRequest, Links};
    if pkg.requests.is_empty() {
        return None;
    }
    Some(Links {
        port: soiree_grain::config::LINKS_PORT,
        requests: pkg
            .requests
            .iter()
            .zip(requests)
            .map(|(r, e)| LinkRequest {
                name: r.name.clone(),
                label: r.label.clone().unwrap_or_else(|| r.name.clone()),
                interface: r.interface.name().to_string(),
                descriptor: e.descriptor.clone(),
                forward: r.local.as_ref().map(|l| Forward {
                    port: l.port,
                    path: l.path.clone(),
                }),
            })
            .collect(),
    })
}

/// `/opt/soiree/services.json`, as the supervisor's own `Config` type serializes it.
fn services_json(pkg: &Package, requests: &[EncodedRequest]) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(&config(pkg, requests)).unwrap_or_default();
    out.push(b'\n');
    out
}

/// What the package's supervisor runs: the contents of `/opt/soiree/services.json`.
pub fn services_config(pkg: &Package) -> soiree_grain::Config {
    let requests: Vec<EncodedRequest> = pkg.requests.iter().map(powerbox::encode_request).collect();
    config(pkg, &requests)
}

fn config(pkg: &Package, requests: &[EncodedRequest]) -> soiree_grain::Config {
    use soiree_grain::config::{Config, Restart, Service, DEFAULT_READY_TIMEOUT, DEFAULT_STOP_TIMEOUT};
    Config {
        links: links(requests, pkg),
        package: pkg.name.clone(),
        env: pkg.env.clone(),
        services: pkg
            .services
            .iter()
            .map(|s| Service {
                name: s.name.clone(),
                command: s.command.clone(),
                env: s.env.clone(),
                workdir: s.workdir.clone(),
                var_dirs: s.var_dirs.clone(),
                ready: s.ready.clone(),
                after: s.after.clone(),
                ports: s.ports.clone(),
                first_run: s.first_run.clone(),
                pre_start: s.pre_start.clone(),
                ready_timeout: DEFAULT_READY_TIMEOUT,
                stop_timeout: DEFAULT_STOP_TIMEOUT,
                restart: Restart::default(),
                secrets: s.secrets.clone(),
            })
            .collect(),
    }
}

/// Where the grain user's account is written unless a recipe provides the file.
pub const ETC_PASSWD: &str = "/etc/passwd";
pub const ETC_GROUP: &str = "/etc/group";
/// The grain's one user (uid and gid 1000 in every grain, as Sandstorm runs it), with `/var`
/// (its only writable folder) as home; and root, which programs expect to find.
const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\ngrain:x:1000:1000:grain:/var:/bin/sh\n";
const GROUP: &str = "root:x:0:\ngrain:x:1000:\n";

/// Whether the tree has an entry at `path`, or something in the way of one (a file or
/// symlink where a parent folder would be): then nothing is added there.
fn holds(tree: &Dir, path: &str) -> bool {
    let mut dir = tree;
    for part in path.trim_start_matches('/').split('/') {
        match dir.entries.get(part.as_bytes()) {
            None => return false,
            Some(Entry {
                node: Node::Dir(d), ..
            }) => dir = d,
            Some(_) => return true,
        }
    }
    true
}

/// Builds the plan of `pkg`: every file it holds, generated ones and the run-time closure of its
/// programs included.
pub fn plan(pkg: &Package, sources: &Sources, epoch_ns: Option<i64>) -> Result<Plan, PlanError> {
    let (mut tree, mut provenance) = sources::mapped_files(pkg, sources, epoch_ns)?;
    // After the mapped files, which they list; before soiree-pack's own, which they do not.
    crate::listing_page::add(pkg, &mut tree, &mut provenance)?;
    let mtime = epoch_ns.unwrap_or(0);
    let manifest = manifest::manifest(pkg)?;
    let bridge_config = manifest::bridge_config(pkg);
    let requests: Vec<EncodedRequest> = pkg.requests.iter().map(powerbox::encode_request).collect();
    let generated: [(&str, Option<Vec<u8>>); 4] = [
        (
            manifest::MANIFEST,
            Some(capnp::serialize::write_message_to_words(&manifest)),
        ),
        (
            manifest::BRIDGE_CONFIG,
            bridge_config
                .as_ref()
                .map(capnp::serialize::write_message_to_words),
        ),
        (SERVICES_JSON, Some(services_json(pkg, &requests))),
        (POWERBOX_JSON, {
            let mut v =
                serde_json::to_vec_pretty(&serde_json::json!({ "requests": requests })).unwrap_or_default();
            v.push(b'\n');
            Some(v)
        }),
    ];
    for (path, bytes) in generated {
        if let Some(bytes) = bytes {
            // Synthetic files carry no build-machine time, as `spk pack` gives them 0.
            tree::graft(&mut tree, path, Entry::bytes(bytes, false, 0), "soiree-pack")?;
            provenance.insert(PathBuf::from(path), Placed::Generated);
        }
    }
    // A grain runs as uid and gid 1000, which nothing names: programs that look their user up
    // (PostgreSQL, ssh, `id`, getpwuid in general) fail on a grain without these. A recipe that
    // maps its own /etc/passwd or /etc/group keeps it.
    for (path, text) in [(ETC_PASSWD, PASSWD), (ETC_GROUP, GROUP)] {
        if !holds(&tree, path) {
            tree::graft(
                &mut tree,
                path,
                Entry::bytes(text.as_bytes().to_vec(), false, 0),
                "soiree-pack",
            )?;
            provenance.insert(PathBuf::from(path), Placed::Generated);
        }
    }
    // The supervisor is soiree-pack's own program; its closure comes with the others below.
    let supervisor = sources.supervisor().ok_or_else(|| {
        format!("no supervisor program given to ship at {SUPERVISOR} (Sources::with_supervisor)")
    })?;
    let meta = std::fs::metadata(supervisor).map_err(|e| format!("{}: {e}", supervisor.display()))?;
    let program = Entry {
        node: Node::File {
            source: soiree_spk::Source::Path(supervisor.to_path_buf()),
            size: meta.len(),
            executable: true,
        },
        mtime_ns: mtime,
    };
    tree::graft(&mut tree, SUPERVISOR, program, "soiree-pack")?;
    provenance.insert(PathBuf::from(SUPERVISOR), Placed::Generated);
    // Last: the closure is that of every file placed above, whoever placed it.
    let added = crate::closure::add(&mut tree, pkg, sources.closure_root(), &provenance, mtime)?;
    for entry in added.closure.entries.values().filter(|e| !e.in_package) {
        provenance.entry(entry.path.clone()).or_insert(Placed::Closure);
    }
    if let Some(epoch) = epoch_ns {
        tree.clamp_mtimes(epoch);
    }
    tree.add_sandbox_mount_points(mtime).map_err(|e| e.to_string())?;
    Ok(Plan {
        tree,
        manifest,
        bridge_config,
        requests,
        closure: added.closure,
        provenance,
        warnings: added.warnings,
    })
}
