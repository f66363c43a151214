//! One ELF program as one process: the kernel maps its `PT_INTERP`, then ld.so loads its
//! `DT_NEEDED` libraries breadth first. A name already loaded in the process (by the name it
//! was needed as, by its soname, or as the same file) is not searched for again, so one
//! program's `DT_RPATH` choice does not leak into another program's process.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::arch::Ident;
use crate::closure::{Job, Walker};
use crate::elf::ElfInfo;
use crate::error::{Error, Result};
use crate::model::{How, MissingLibrary, ObjectKind, Reason, Via};
use crate::options::ProgramOrigin;
use crate::search::{Found, Needer, Trail, LD_SO_CACHE};
use crate::why;

/// One object in one process: ld.so's `link_map`, as far as the search needs it.
struct Loaded {
    path: PathBuf,
    real: PathBuf,
    info: Arc<ElfInfo>,
    /// The object whose `DT_NEEDED` brought it in.
    loader: Option<usize>,
    /// `$ORIGIN`; `None` for a program whose directory ld.so cannot learn.
    origin: Option<PathBuf>,
    /// The name it was needed as.
    name: Option<OsString>,
    /// The interpreter is loaded by the kernel, not searched for; its needs are its own.
    walk: bool,
}

impl Walker<'_> {
    pub(crate) fn run_elf(&mut self, path: &Path, real: PathBuf, info: Arc<ElfInfo>) -> Result<()> {
        if !info.loadable() {
            return Ok(());
        }
        let origin = if info.interp.is_some() {
            match &self.options.program_origin {
                ProgramOrigin::ProcSelfExe => Some(parent(&real)),
                ProgramOrigin::Fixed(dir) => Some(dir.clone()),
                ProgramOrigin::Unknown => None,
            }
        } else {
            // No PT_INTERP: a library (or ld.so), which is loaded by the name it is found under.
            Some(parent(path))
        };
        let mut procs = vec![Loaded {
            path: path.to_path_buf(),
            real,
            info: info.clone(),
            loader: None,
            origin,
            name: None,
            walk: true,
        }];
        let mut names: HashMap<OsString, usize> = HashMap::new();
        if let Some(soname) = &info.soname {
            names.insert(soname.clone(), 0);
        }

        if let Some(interp) = &info.interp {
            if !interp.is_absolute() {
                return Err(Error::MalformedElf {
                    path: path.to_path_buf(),
                    reason: format!("PT_INTERP {} is not an absolute path", interp.display()),
                });
            }
            let what = format!("the program interpreter (PT_INTERP) of {}", path.display());
            let resolved = self.resolve(interp, &what)?;
            let interp_info = self.loader.elf(&resolved).map_err(|e| e.opened_as(interp))?;
            self.queue.push_back(Job {
                path: interp.clone(),
                reason: Reason {
                    by: Some(path.to_path_buf()),
                    how: How::Interpreter,
                },
                nesting: 0,
                what,
            });
            names.insert(interp.as_os_str().to_os_string(), 1);
            if let Some(soname) = &interp_info.soname {
                names.insert(soname.clone(), 1);
            }
            procs.push(Loaded {
                path: interp.clone(),
                real: resolved.real,
                info: interp_info,
                loader: None,
                origin: Some(PathBuf::from("/")),
                name: None,
                walk: false,
            });
        }

        let mut i = 0;
        while i < procs.len() {
            if !procs[i].walk {
                i += 1;
                continue;
            }
            let needer_info = procs[i].info.clone();
            for name in &needer_info.needed {
                let reason = |via: Via| Reason {
                    by: Some(procs[i].path.clone()),
                    how: How::Needed {
                        name: name.clone(),
                        via,
                    },
                };
                if let Some(&j) = names.get(name) {
                    let loaded = procs[j].path.clone();
                    self.add_reason(&loaded, reason(Via::Loaded));
                    continue;
                }
                let mut trail = Trail::default();
                let found = {
                    let needer = needer_context(&procs, i);
                    self.loader.find(name, &needer, &mut trail)?
                };
                let Some(found) = found else {
                    if self.options.optional.contains(name) {
                        self.out.missing.push(MissingLibrary {
                            name: name.clone(),
                            needed_by: procs[i].path.clone(),
                        });
                        continue;
                    }
                    let needed_by = self.lineage(&procs, i);
                    if let Some((link, target)) = trail.broken.first().cloned() {
                        return Err(Error::BrokenSymlink {
                            link,
                            target,
                            root: self.options.root.clone(),
                            what: format!("{}, needed by {needed_by}", name.to_string_lossy()),
                        });
                    }
                    return Err(Error::LibraryNotFound {
                        name: name.to_string_lossy().into_owned(),
                        needed_by,
                        root: self.options.root.clone(),
                        help: trail.help(),
                    });
                };
                self.add_object(
                    &found.opened,
                    &found.resolved,
                    ObjectKind::Elf,
                    reason(found.via.clone()),
                );
                self.note_system_lookup(&found, procs[0].info.ident)?;
                if let Some(j) = procs.iter().position(|p| p.real == found.resolved.real) {
                    names.insert(name.clone(), j);
                    continue;
                }
                let j = procs.len();
                names.insert(name.clone(), j);
                names.insert(found.opened.as_os_str().to_os_string(), j);
                if let Some(soname) = &found.info.soname {
                    names.entry(soname.clone()).or_insert(j);
                }
                procs.push(Loaded {
                    origin: Some(parent(&found.opened)),
                    path: found.opened,
                    real: found.resolved.real,
                    info: found.info,
                    loader: Some(i),
                    name: Some(name.clone()),
                    walk: true,
                });
            }
            i += 1;
        }
        Ok(())
    }

    /// A library the cache found outside the default directories opens in the package only if
    /// the cache comes along; one found through ld.so.conf (no cache in the root) does not open
    /// there at all unless the library path names its directory.
    fn note_system_lookup(&mut self, found: &Found, ident: Ident) -> Result<()> {
        let defaults = self.loader.defaults(ident);
        let dir = found.opened.parent().unwrap_or(Path::new("/"));
        if defaults.iter().any(|d| d == dir) {
            return Ok(());
        }
        match found.via {
            Via::Cache => {
                let cache = Path::new(LD_SO_CACHE);
                let resolved = self.resolve(cache, "the loader's cache")?;
                let reason = Reason {
                    by: Some(found.opened.clone()),
                    how: How::LoaderCache,
                };
                self.add_object(cache, &resolved, ObjectKind::Data, reason);
            }
            Via::Conf => self.out.warnings.push(format!(
                "{} was found in {} through /etc/ld.so.conf, but the root has no \
                 /etc/ld.so.cache: ld.so in the package will not look there unless \
                 LD_LIBRARY_PATH names it (or run `ldconfig -r ROOT` first)",
                found.opened.display(),
                dir.display()
            )),
            _ => {}
        }
        Ok(())
    }

    /// "/app/run.sh → /bin/sh → libc.so.6 (/lib/x86_64-linux-gnu/libc.so.6)" for object `i`.
    fn lineage(&self, procs: &[Loaded], i: usize) -> String {
        let mut libs = Vec::new();
        let mut at = Some(i);
        while let Some(k) = at {
            if procs[k].loader.is_none() {
                break;
            }
            libs.push(k);
            at = procs[k].loader;
        }
        let main = at.unwrap_or(0);
        let mut parts: Vec<String> = why::lineage(&self.out, &procs[main].path)
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        for k in libs.into_iter().rev() {
            let name = procs[k].name.as_deref().unwrap_or(OsStr::new("?"));
            parts.push(format!(
                "{} ({})",
                name.to_string_lossy(),
                procs[k].path.display()
            ));
        }
        parts.join(" → ")
    }
}

/// The search context of object `i`: the `DT_RPATH`s of it and its loaders (none if it has
/// `DT_RUNPATH`), its `DT_RUNPATH`, and what the main program fixes for the whole process.
fn needer_context(procs: &[Loaded], i: usize) -> Needer<'_> {
    let needer = &procs[i];
    let mut rpaths = Vec::new();
    if needer.info.runpath.is_none() {
        let mut at = Some(i);
        while let Some(k) = at {
            let l = &procs[k];
            if let Some(rpath) = &l.info.rpath {
                rpaths.push((l.path.as_path(), rpath.as_os_str(), l.origin.as_deref()));
            }
            at = l.loader;
        }
    }
    let main = &procs[0];
    Needer {
        rpaths,
        runpath: needer
            .info
            .runpath
            .as_deref()
            .map(|r| (r, needer.origin.as_deref())),
        main_origin: main.origin.as_deref(),
        ident: main.info.ident,
        nodeflib: needer.info.nodeflib,
    }
}

fn parent(path: &Path) -> PathBuf {
    path.parent().map(Path::to_path_buf).unwrap_or_else(|| "/".into())
}
