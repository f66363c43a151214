//! Resolving a package's file mappings against the party's sources: local paths, archives and
//! pinned downloads (through soiree-source's cache), command outputs, with conflicts that name both origins; and
//! the system root that closures come from (`/`, or a sysroot that also stands in for every
//! `path = "/"` source).

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use soiree_party::{CommandInput, FileContent, Origin, Package, Party, SourceDef};
use soiree_source::{CommandSpec, Fetcher, FileSet, Mapping, Resolved, Source};
use soiree_spk::{Dir, Entry};

use crate::provenance::{Placed, Provenance};
use crate::tree;

/// Fetches (or finds in the cache) each source once per build.
pub struct Sources<'a> {
    party: &'a Party,
    fetcher: Fetcher,
    resolved: RefCell<HashMap<String, Resolved>>,
    sysroot: Option<PathBuf>,
    supervisor: Option<PathBuf>,
    programs: HashMap<String, PathBuf>,
}

impl<'a> Sources<'a> {
    pub fn new(party: &'a Party, fetcher: Fetcher) -> Sources<'a> {
        Sources {
            party,
            fetcher: fetcher.base_dir(&party.root),
            resolved: RefCell::new(HashMap::new()),
            sysroot: None,
            supervisor: None,
            programs: HashMap::new(),
        }
    }

    /// Takes the system from `dir` instead of the build machine: the run-time closures of the
    /// packages' programs, and every source whose path is `/`.
    pub fn with_sysroot(mut self, dir: impl Into<PathBuf>) -> Sources<'a> {
        self.sysroot = Some(dir.into());
        self
    }

    /// The grain supervisor (`soiree-grain`) to ship at `/opt/soiree/bin/soiree-grain`, which
    /// every package's grain command runs. The caller finds it; a plan without one fails.
    pub fn with_supervisor(mut self, program: impl Into<PathBuf>) -> Sources<'a> {
        self.supervisor = Some(program.into());
        self
    }

    /// One of soiree-pack's own programs (`soiree_party::vocab::PROGRAM_SOURCES`), mapped by a
    /// recipe as source `name` when `[sources]` defines no source of that name.
    pub fn with_program(mut self, name: &str, program: impl Into<PathBuf>) -> Sources<'a> {
        self.programs.insert(name.to_string(), program.into());
        self
    }

    pub fn supervisor(&self) -> Option<&Path> {
        self.supervisor.as_deref()
    }

    /// The root directory run-time closures are taken from: the sysroot, or `/`.
    pub fn closure_root(&self) -> &Path {
        self.sysroot.as_deref().unwrap_or(Path::new("/"))
    }

    fn source(&self, name: &str) -> Result<Source, String> {
        let Some(def) = self.party.sources.get(name) else {
            if let Some(program) = self.programs.get(name) {
                return Ok(Source::path(name, program));
            }
            if soiree_party::vocab::PROGRAM_SOURCES.contains(&name) {
                return Err(format!(
                    "`{name}` is missing: build it beside soiree-pack with `cargo build --release` at \
                     the workspace root, or set {} to the program",
                    program_env(name)
                ));
            }
            return Err(format!("no source named `{name}`"));
        };
        let (source, strip, sub) = match def {
            SourceDef::Path {
                path,
                strip_components,
                sub_path,
            } => {
                let path = match &self.sysroot {
                    Some(sysroot) if path == Path::new("/") => sysroot,
                    _ => path,
                };
                (Source::path(name, path), *strip_components, sub_path)
            }
            SourceDef::Url {
                url,
                sha256,
                size,
                strip_components,
                sub_path,
            } => (
                Source::url(
                    name,
                    url,
                    sha256.as_deref().ok_or_else(|| {
                        format!("source `{name}` ({url}) is not pinned: run `soiree-pack lock` to pin it")
                    })?,
                    *size,
                )
                .map_err(|e| e.to_string())?,
                *strip_components,
                sub_path,
            ),
            SourceDef::Command(c) => {
                let dir = match &c.input {
                    CommandInput::Dir(dir) => dir.clone(),
                    CommandInput::Source(input) => {
                        let resolved = self.resolve(input)?;
                        if !resolved.is_dir {
                            return Err(format!(
                                "source `{name}` runs its command in source `{input}`, which is a file, not a folder"
                            ));
                        }
                        resolved.root
                    }
                };
                let spec = CommandSpec {
                    argv: c.command.clone(),
                    dir,
                    env: c.env.clone(),
                    output: c.output.clone(),
                    tools: c.tools.clone(),
                    network: c.network,
                    exclude: c.exclude.clone(),
                };
                (Source::command(name, spec), 0, &c.sub_path)
            }
        };
        let mut source = source.with_strip_components(strip);
        if let Some(s) = sub {
            source = source.with_sub_path(s);
        }
        Ok(source)
    }

    /// The command that builds source `name`, as a user would type it, for a command source.
    pub fn built_by(&self, name: &str) -> Option<String> {
        match self.party.sources.get(name)? {
            SourceDef::Command(c) => Some(soiree_source::command::display_argv(&c.command)),
            _ => None,
        }
    }

    pub fn resolve(&self, name: &str) -> Result<Resolved, String> {
        if let Some(r) = self.resolved.borrow().get(name) {
            return Ok(r.clone());
        }
        let r = self
            .fetcher
            .resolve(&self.source(name)?)
            .map_err(|e| format!("{e}"))?;
        self.resolved.borrow_mut().insert(name.to_string(), r.clone());
        Ok(r)
    }
}

/// The variable that names one of soiree-pack's programs: `SOIREE_RELAY` for `soiree-relay`.
pub fn program_env(name: &str) -> String {
    name.to_ascii_uppercase().replace('-', "_")
}

fn describe(origin: &Origin) -> String {
    let text = &origin.place.file.text;
    let line = text[..origin.place.span.start.min(text.len())]
        .matches('\n')
        .count()
        + 1;
    format!("{} ({}:{line})", origin.via, origin.place.file.name)
}

/// The package's files from its recipes: source mappings and generated text files.
pub fn package_files(pkg: &Package, sources: &Sources, epoch_ns: Option<i64>) -> Result<Dir, String> {
    mapped_files(pkg, sources, epoch_ns).map(|(dir, _)| dir)
}

/// [`package_files`], with the mapping or template that placed each path.
pub fn mapped_files(
    pkg: &Package,
    sources: &Sources,
    epoch_ns: Option<i64>,
) -> Result<(Dir, Provenance), String> {
    let mut provenance = Provenance::new();
    let mut set = FileSet::new();
    let mut texts = Vec::new();
    for m in &pkg.files {
        match &m.content {
            FileContent::Source {
                source,
                from,
                include,
                exclude,
            } => {
                let resolved = sources.resolve(source)?;
                let mapping = Mapping {
                    from: from.clone(),
                    to: m.to.clone(),
                    include: include.clone(),
                    exclude: exclude.clone(),
                    executable: m.executable,
                    via: Some(describe(&m.origin)),
                };
                let entries = soiree_source::map_files(&resolved, &mapping).map_err(|e| format!("{e}"))?;
                for e in &entries {
                    provenance
                        .entry(e.path.clone())
                        .or_insert_with(|| Placed::Source {
                            origin: m.origin.clone(),
                            source: e.origin.source.clone(),
                            path: e.origin.path.clone(),
                            built_by: sources.built_by(&e.origin.source),
                        });
                }
                set.extend(entries).map_err(|e| format!("{e}"))?;
            }
            FileContent::Text(text) => texts.push((m, text)),
        }
    }
    let mtime = epoch_ns.unwrap_or(0);
    let mut dir = Dir::default();
    set.insert_into(&mut dir, mtime).map_err(|e| format!("{e}"))?;
    if let Some(epoch) = epoch_ns {
        dir.clamp_mtimes(epoch);
    }
    for (m, text) in texts {
        let entry = Entry::bytes(text.as_bytes().to_vec(), m.executable.unwrap_or(false), mtime);
        tree::graft(&mut dir, &m.to, entry, &describe(&m.origin))?;
        provenance
            .entry(PathBuf::from(&m.to))
            .or_insert_with(|| Placed::Template {
                origin: m.origin.clone(),
            });
    }
    Ok((dir, provenance))
}

/// A fetcher on the user's cache, online unless `offline`.
pub fn default_fetcher(offline: bool, lock_dir: &Path) -> Result<Fetcher, String> {
    let cache = soiree_source::Cache::open_default().map_err(|e| format!("{e}"))?;
    let lock = soiree_source::Lock::load(lock_dir.join(soiree_source::LOCK_FILE_NAME))
        .map_err(|e| format!("{e}"))?;
    Ok(Fetcher::new(cache).offline(offline).with_lock(&lock))
}
