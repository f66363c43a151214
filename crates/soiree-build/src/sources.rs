//! A build's sources: the party's inputs fetched as allowed (offline or not), the command
//! sources named by `--rebuild` built again, the sysroot, and the grain supervisor every package
//! ships.

use std::path::PathBuf;

use soiree_party::{Party, SourceDef};
use soiree_plan::Sources;

use crate::BuildError;

/// What the caller decides about sources.
#[derive(Debug, Clone, Default)]
pub struct SourceOptions {
    /// Use only what is cached or local: no download.
    pub offline: bool,
    /// Libraries and interpreters from this root instead of `/` (also for `path = "/"` sources).
    pub sysroot: Option<PathBuf>,
    /// Command sources to build again even when their inputs are unchanged.
    pub rebuild: Vec<String>,
    /// The `soiree-grain` program to ship at `/opt/soiree/bin/soiree-grain`.
    pub supervisor: PathBuf,
    /// soiree-pack's own programs that recipes may map (`soiree-relay`, …), where they were found.
    pub programs: Vec<(String, PathBuf)>,
}

/// The party's sources, ready for planning.
pub fn sources<'p>(party: &'p Party, opts: &SourceOptions) -> Result<Sources<'p>, BuildError> {
    for name in &opts.rebuild {
        if !matches!(party.sources.get(name), Some(SourceDef::Command(_))) {
            let built = party
                .sources
                .iter()
                .filter(|(_, d)| matches!(d, SourceDef::Command(_)))
                .map(|(n, _)| n.clone())
                .collect();
            return Err(BuildError::NotACommandSource {
                name: name.clone(),
                built,
            });
        }
    }
    let fetcher = soiree_plan::sources::default_fetcher(opts.offline, &party.root)
        .map_err(BuildError::Machine)?
        .rebuild(opts.rebuild.iter().cloned());
    let mut sources = Sources::new(party, fetcher).with_supervisor(opts.supervisor.clone());
    for (name, path) in &opts.programs {
        sources = sources.with_program(name, path);
    }
    match &opts.sysroot {
        None => Ok(sources),
        Some(dir) if dir.is_dir() => Ok(sources.with_sysroot(dir)),
        Some(dir) => Err(BuildError::Sysroot(dir.clone())),
    }
}
