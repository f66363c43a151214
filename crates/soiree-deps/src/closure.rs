//! Computing a closure: every program asked for is run, on paper, the way the kernel and ld.so
//! would run it (`process.rs` for ELF programs, `interpreters.rs` for scripts), and everything
//! they would open is recorded with the reason it is opened. Parsed files are shared between
//! programs.

use std::collections::{BTreeSet, HashSet, VecDeque};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::layer::{Content, Layer};
use crate::model::{Closure, ClosureEntry, EntryKind, How, Object, ObjectKind, Reason};
use crate::options::Options;
use crate::root::{Miss, Resolved, Root};
use crate::search::{FileKind, Loader};

/// Everything `programs` (absolute paths inside `options.root`) need at run time.
pub fn closure<P: AsRef<Path>>(programs: &[P], options: &Options) -> Result<Closure> {
    let mut requested: Vec<PathBuf> = Vec::new();
    for program in programs {
        let program = program.as_ref();
        if !program.is_absolute() {
            return Err(Error::RelativeProgram {
                path: program.to_path_buf(),
            });
        }
        requested.push(program.to_path_buf());
    }
    requested.sort();
    requested.dedup();

    let root = Root::with_package(&options.root, options.package.clone());
    let mut walker = Walker {
        loader: Loader::new(root, options.library_path.clone()),
        options,
        out: Closure {
            root: options.root.clone(),
            ..Closure::default()
        },
        started: HashSet::new(),
        queue: VecDeque::new(),
    };
    for path in requested {
        walker.queue.push_back(Job {
            what: "asked for".into(),
            path,
            reason: Reason {
                by: None,
                how: How::Requested,
            },
            nesting: 0,
        });
    }
    while let Some(job) = walker.queue.pop_front() {
        walker.run(job)?;
    }
    let mut out = walker.out;
    out.missing.sort();
    out.missing.dedup();
    out.warnings.sort();
    out.warnings.dedup();
    Ok(out)
}

/// A program to run on paper.
pub(crate) struct Job {
    pub(crate) path: PathBuf,
    pub(crate) reason: Reason,
    /// How many `#!` interpreters deep this is.
    pub(crate) nesting: usize,
    /// What it is, for errors: "asked for", "the `#!` interpreter of /app/run".
    pub(crate) what: String,
}

pub(crate) struct Walker<'o> {
    pub(crate) options: &'o Options,
    pub(crate) loader: Loader,
    pub(crate) out: Closure,
    /// Programs already run, by the path they were opened under.
    pub(crate) started: HashSet<PathBuf>,
    pub(crate) queue: VecDeque<Job>,
}

impl Walker<'_> {
    fn run(&mut self, job: Job) -> Result<()> {
        let resolved = self.resolve(&job.path, &job.what)?;
        if !resolved.meta.is_file() {
            return Err(Error::NotAFile {
                path: job.path,
                what: job.what,
            });
        }
        let kind = self.loader.kind(&resolved).map_err(|e| e.opened_as(&job.path))?;
        let object_kind = match kind {
            FileKind::Elf(_) => ObjectKind::Elf,
            FileKind::Script(_) => ObjectKind::Script,
            FileKind::Data => ObjectKind::Data,
        };
        self.add_object(&job.path, &resolved, object_kind, job.reason.clone());
        if !self.started.insert(job.path.clone()) {
            return Ok(());
        }
        match kind {
            FileKind::Elf(info) => self.run_elf(&job.path, resolved.real, info),
            FileKind::Script(shebang) => self.run_script(&job, shebang),
            FileKind::Data => Ok(()),
        }
    }

    pub(crate) fn resolve(&self, path: &Path, what: &str) -> Result<Resolved> {
        let root = self.options.root.clone();
        match self.loader.root.resolve(path) {
            Ok(r) => Ok(r),
            Err(Miss::Missing(at)) => Err(Error::NotFound {
                path: path.to_path_buf(),
                root,
                what: if at == path {
                    what.to_string()
                } else {
                    format!("{what}; {} is missing", at.display())
                },
            }),
            Err(Miss::Broken { link, target }) => Err(Error::BrokenSymlink {
                link,
                target,
                root,
                what: format!("{} {what}", path.display()),
            }),
            Err(Miss::Loop(path)) => Err(Error::SymlinkLoop { path, root }),
            Err(Miss::Io(host, kind, message)) => Err(Error::Io {
                path: host,
                source: std::io::Error::new(kind, message),
            }),
        }
    }

    pub(crate) fn add_reason(&mut self, path: &Path, reason: Reason) {
        if let Some(object) = self.out.objects.get_mut(path) {
            if !object.reasons.contains(&reason) {
                object.reasons.push(reason);
            }
        }
    }

    pub(crate) fn add_object(&mut self, path: &Path, resolved: &Resolved, kind: ObjectKind, reason: Reason) {
        if self.out.objects.contains_key(path) {
            self.add_reason(path, reason);
            return;
        }
        for hop in &resolved.hops {
            self.out
                .entries
                .entry(hop.link.clone())
                .or_insert_with(|| ClosureEntry {
                    path: hop.link.clone(),
                    kind: EntryKind::Symlink {
                        target: hop.target.clone(),
                    },
                    host_path: hop.host.clone(),
                    mtime_ns: hop.mtime_ns,
                    in_package: hop.layer == Layer::Package,
                    serves: BTreeSet::new(),
                })
                .serves
                .insert(path.to_path_buf());
        }
        self.out
            .entries
            .entry(resolved.real.clone())
            .or_insert_with(|| ClosureEntry {
                path: resolved.real.clone(),
                kind: EntryKind::File {
                    size: resolved.meta.len(),
                    executable: resolved.meta.mode() & 0o111 != 0,
                },
                host_path: match &resolved.content {
                    Content::Host(path) => path.clone(),
                    Content::Bytes(_) | Content::InPackage => PathBuf::new(),
                },
                mtime_ns: resolved.meta.mtime_ns,
                in_package: resolved.layer == Layer::Package,
                serves: BTreeSet::new(),
            })
            .serves
            .insert(path.to_path_buf());
        self.out.objects.insert(
            path.to_path_buf(),
            Object {
                path: path.to_path_buf(),
                real: resolved.real.clone(),
                symlinks: resolved.hops.iter().map(|h| h.link.clone()).collect(),
                kind,
                reasons: vec![reason],
            },
        );
    }
}
