//! Finding one `DT_NEEDED` library the way glibc's `_dl_map_object` does:
//!
//! 1. a name with a `/` is a path;
//! 2. unless the needer has `DT_RUNPATH`: the `DT_RPATH` of the needer, then of the object that
//!    loaded it, and so on up to the main program;
//! 3. the extra library path (`LD_LIBRARY_PATH`);
//! 4. the needer's `DT_RUNPATH`;
//! 5. `/etc/ld.so.cache` — or, in a root without one, the directories of `/etc/ld.so.conf`;
//! 6. the default directories (Debian's: `/lib/TRIPLET`, `/usr/lib/TRIPLET`, `/lib`, `/usr/lib`).
//!
//! Steps 5 and 6 are skipped for paths in default directories when the needer (or the main
//! program) has `DF_1_NODEFLIB`. A candidate of another class or machine is skipped, as ld.so
//! skips it. ld.so also tries glibc-hwcaps and legacy hwcap subdirectories of every directory
//! (`x86-64-v3/`, `tls/`, `x86_64/`) when the CPU it runs on qualifies; the grain's CPU is not
//! known here, so only the baseline libraries are chosen, and those run on any CPU.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::arch::{Fit, Ident};
use crate::dst::{self, Tokens};
use crate::elf::{ElfInfo, MAGIC};
use crate::error::{Error, Result};
use crate::layer::Content;
use crate::ld_cache::LdCache;
use crate::ld_conf;
use crate::model::Via;
use crate::root::{Miss, Resolved, Root};
use crate::script::{self, Shebang};

pub const LD_SO_CACHE: &str = "/etc/ld.so.cache";

/// What a file is, from its first bytes.
#[derive(Debug, Clone)]
pub enum FileKind {
    Elf(Arc<ElfInfo>),
    /// Starts with `#!`; `None` when the line names no interpreter.
    Script(Option<Shebang>),
    Data,
}

/// A library found.
#[derive(Debug)]
pub struct Found {
    /// The path ld.so opens.
    pub opened: PathBuf,
    pub resolved: Resolved,
    pub info: Arc<ElfInfo>,
    pub via: Via,
}

/// The needer, as far as the search is concerned.
pub struct Needer<'a> {
    /// `DT_RPATH` lists to try, with the object each belongs to and that object's `$ORIGIN`
    /// (`None` when ld.so cannot know it): the needer's and its loaders', empty when the needer
    /// has `DT_RUNPATH`.
    pub rpaths: Vec<(&'a Path, &'a OsStr, Option<&'a Path>)>,
    pub runpath: Option<(&'a OsStr, Option<&'a Path>)>,
    /// The main program's `$ORIGIN`, for tokens in the extra library path.
    pub main_origin: Option<&'a Path>,
    /// What the loader accepts: the main program's class and machine.
    pub ident: Ident,
    pub nodeflib: bool,
}

/// What a failed search looked at, for the error's help.
#[derive(Debug, Default)]
pub struct Trail {
    steps: Vec<(String, Vec<PathBuf>)>,
    pub other_arch: Vec<PathBuf>,
    pub broken: Vec<(PathBuf, PathBuf)>,
    /// Search lists whose `$ORIGIN` elements were dropped because the program's `$ORIGIN` is
    /// unknown (no /proc/self/exe, no LD_ORIGIN_PATH).
    pub no_origin: Vec<(String, String)>,
}

impl Trail {
    fn looked(&mut self, step: impl Into<String>, dir: PathBuf) {
        let step = step.into();
        match self.steps.last_mut() {
            Some((last, dirs)) if *last == step => dirs.push(dir),
            _ => self.steps.push((step, vec![dir])),
        }
    }

    /// Notes a search list that uses `$ORIGIN` when `origin` is unknown.
    fn without_origin(&mut self, step: String, list: &[u8], origin: Option<&Path>) {
        if origin.is_none() && dst::uses_origin(list) {
            let list = String::from_utf8_lossy(list).into_owned();
            if !self.no_origin.contains(&(step.clone(), list.clone())) {
                self.no_origin.push((step, list));
            }
        }
    }

    pub fn help(&self) -> String {
        let mut lines = vec!["looked in:".to_string()];
        for (step, dirs) in &self.steps {
            let dirs: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
            lines.push(format!("  {step}: {}", dirs.join(", ")));
        }
        for (step, list) in &self.no_origin {
            lines.push(format!(
                "skipped `{list}` ({step}): a program's $ORIGIN comes from /proc/self/exe, which a \
                 Sandstorm grain does not have; set LD_ORIGIN_PATH in the package's [env] to the \
                 program's directory, or name the directory without $ORIGIN"
            ));
        }
        for path in &self.other_arch {
            lines.push(format!(
                "skipped {}: built for another architecture",
                path.display()
            ));
        }
        lines.push("install the package that holds it, or mark it optional".into());
        lines.join("\n")
    }
}

/// The library search state for one closure: the root, its cache or configuration (read once),
/// and every ELF file read so far.
pub struct Loader {
    pub root: Root,
    extra: Vec<PathBuf>,
    cache: Option<Option<LdCache>>,
    conf: Option<Vec<PathBuf>>,
    defaults: HashMap<Ident, Arc<[PathBuf]>>,
    lib_token: HashMap<Ident, String>,
    files: HashMap<PathBuf, FileKind>,
}

impl Loader {
    pub fn new(root: Root, extra: Vec<PathBuf>) -> Loader {
        Loader {
            root,
            extra,
            cache: None,
            conf: None,
            defaults: HashMap::new(),
            lib_token: HashMap::new(),
            files: HashMap::new(),
        }
    }

    /// What a resolved file is (read once per real path).
    pub fn kind(&mut self, resolved: &Resolved) -> Result<FileKind> {
        let real = &resolved.real;
        if let Some(kind) = self.files.get(real) {
            return Ok(kind.clone());
        }
        let head = head(resolved).map_err(Error::io(real))?;
        let kind = if head.starts_with(MAGIC) {
            FileKind::Elf(Arc::new(match &resolved.content {
                Content::Host(host) => ElfInfo::open(host, real)?,
                Content::Bytes(bytes) => ElfInfo::parse(bytes, real)?,
                Content::InPackage => return Err(Error::io(real)(std::io::Error::other("not a file"))),
            }))
        } else if let Some(shebang) = script::parse(&head) {
            FileKind::Script(shebang)
        } else {
            FileKind::Data
        };
        self.files.insert(real.to_path_buf(), kind.clone());
        Ok(kind)
    }

    /// The resolved ELF file; an error if it is not one.
    pub fn elf(&mut self, resolved: &Resolved) -> Result<Arc<ElfInfo>> {
        match self.kind(resolved)? {
            FileKind::Elf(info) => Ok(info),
            _ => Err(Error::MalformedElf {
                path: resolved.real.clone(),
                reason: "invalid ELF header".into(),
            }),
        }
    }

    /// The loader's built-in directories for this architecture in this root.
    pub fn defaults(&mut self, ident: Ident) -> Arc<[PathBuf]> {
        if let Some(dirs) = self.defaults.get(&ident) {
            return dirs.clone();
        }
        let multiarch = ident.multiarch().filter(|t| {
            ["/lib", "/usr/lib"].iter().any(|d| {
                let dir = Path::new(d).join(t);
                self.root.resolve(&dir).is_ok_and(|r| r.meta.is_dir())
            })
        });
        let dirs: Vec<PathBuf> = match multiarch {
            // Debian and its derivatives.
            Some(t) => vec![
                Path::new("/lib").join(t),
                Path::new("/usr/lib").join(t),
                "/lib".into(),
                "/usr/lib".into(),
            ],
            // Upstream glibc on 64-bit machines (Fedora, SUSE); Arch's /lib64 → usr/lib too.
            None if ident.is_64() => vec![
                "/lib64".into(),
                "/usr/lib64".into(),
                "/lib".into(),
                "/usr/lib".into(),
            ],
            None => vec!["/lib".into(), "/usr/lib".into()],
        };
        let lib = match multiarch {
            Some(t) => format!("lib/{t}"),
            None if ident.is_64() => "lib64".into(),
            None => "lib".into(),
        };
        self.lib_token.insert(ident, lib);
        let dirs: Arc<[PathBuf]> = dirs.into();
        self.defaults.insert(ident, dirs.clone());
        dirs
    }

    fn tokens<'a>(&'a mut self, ident: Ident, origin: Option<&'a Path>) -> Tokens<'a> {
        self.defaults(ident);
        Tokens {
            origin,
            lib: self.lib_token.get(&ident).map(String::as_str).unwrap_or("lib"),
            platform: ident.platform(),
        }
    }

    /// The root's `/etc/ld.so.cache`, read once; `None` if it has none.
    pub fn cache(&mut self) -> Result<Option<&LdCache>> {
        if self.cache.is_none() {
            let path = Path::new(LD_SO_CACHE);
            let cache = match self.root.resolve(path) {
                Ok(r) if r.meta.is_file() => {
                    let bytes = self.root.read(&r).map_err(Error::io(path))?;
                    Some(LdCache::parse(&bytes).map_err(|reason| Error::BadLdCache {
                        path: self.root.host_path(path),
                        reason,
                    })?)
                }
                _ => None,
            };
            self.cache = Some(cache);
        }
        Ok(self.cache.as_ref().and_then(Option::as_ref))
    }

    fn conf(&mut self) -> Result<&[PathBuf]> {
        if self.conf.is_none() {
            self.conf = Some(ld_conf::directories(&self.root)?);
        }
        Ok(self.conf.as_deref().unwrap_or(&[]))
    }

    /// Finds `name` for `needer`; `None` if no step finds it.
    pub fn find(&mut self, name: &OsStr, needer: &Needer, trail: &mut Trail) -> Result<Option<Found>> {
        if name.as_bytes().contains(&b'/') {
            let path = Path::new(name);
            if !path.is_absolute() {
                // ld.so opens it relative to the working directory, which is not known here.
                trail.looked("a relative path, opened from the working directory", path.into());
                return Ok(None);
            }
            return self.try_path(path.to_path_buf(), needer.ident, Via::Path, trail);
        }

        for (of, rpath, origin) in &needer.rpaths {
            trail.without_origin(format!("DT_RPATH of {}", of.display()), rpath.as_bytes(), *origin);
            let dirs = dst::search_dirs(rpath.as_bytes(), &self.tokens(needer.ident, *origin));
            let via = Via::Rpath(of.to_path_buf());
            if let Some(found) = self.try_dirs(name, &dirs, &via, needer.ident, trail)? {
                return Ok(Some(found));
            }
        }

        if !self.extra.is_empty() {
            let mut dirs = Vec::new();
            for dir in self.extra.clone() {
                trail.without_origin(
                    Via::LibraryPath.to_string(),
                    dir.as_os_str().as_bytes(),
                    needer.main_origin,
                );
                let tokens = self.tokens(needer.ident, needer.main_origin);
                dirs.extend(dst::search_dirs(dir.as_os_str().as_bytes(), &tokens));
            }
            if let Some(found) = self.try_dirs(name, &dirs, &Via::LibraryPath, needer.ident, trail)? {
                return Ok(Some(found));
            }
        }

        if let Some((runpath, origin)) = needer.runpath {
            trail.without_origin(Via::Runpath.to_string(), runpath.as_bytes(), origin);
            let dirs = dst::search_dirs(runpath.as_bytes(), &self.tokens(needer.ident, origin));
            if let Some(found) = self.try_dirs(name, &dirs, &Via::Runpath, needer.ident, trail)? {
                return Ok(Some(found));
            }
        }

        let defaults = self.defaults(needer.ident);
        let in_defaults = |p: &Path| p.parent().is_some_and(|d| defaults.iter().any(|x| x == d));
        let listed = self.cache()?.map(|cache| cache.lookup(name).to_vec());
        if let Some(listed) = listed {
            if listed.is_empty() {
                trail.looked(
                    LD_SO_CACHE,
                    format!("no entry for {}", name.to_string_lossy()).into(),
                );
            }
            for path in listed {
                if needer.nodeflib && in_defaults(&path) {
                    continue;
                }
                trail.looked(LD_SO_CACHE, path.clone());
                if let Some(found) = self.try_path(path, needer.ident, Via::Cache, trail)? {
                    return Ok(Some(found));
                }
            }
        } else {
            let dirs = self.conf()?.to_vec();
            if let Some(found) = self.try_dirs(name, &dirs, &Via::Conf, needer.ident, trail)? {
                return Ok(Some(found));
            }
        }

        if !needer.nodeflib {
            if let Some(found) = self.try_dirs(name, &defaults, &Via::Default, needer.ident, trail)? {
                return Ok(Some(found));
            }
        }
        Ok(None)
    }

    fn try_dirs(
        &mut self,
        name: &OsStr,
        dirs: &[PathBuf],
        via: &Via,
        ident: Ident,
        trail: &mut Trail,
    ) -> Result<Option<Found>> {
        for dir in dirs {
            trail.looked(via.to_string(), dir.clone());
            if let Some(found) = self.try_path(dir.join(name), ident, via.clone(), trail)? {
                return Ok(Some(found));
            }
        }
        Ok(None)
    }

    /// Opens one candidate as ld.so's `open_verify` would: missing files and libraries for
    /// another machine are passed over; a file that is there but is not a loadable ELF object
    /// for this machine stops the search with an error, as it stops ld.so.
    fn try_path(
        &mut self,
        path: PathBuf,
        ident: Ident,
        via: Via,
        trail: &mut Trail,
    ) -> Result<Option<Found>> {
        let resolved = match self.root.resolve(&path) {
            Ok(r) => r,
            Err(Miss::Missing(_) | Miss::Loop(_)) => return Ok(None),
            Err(Miss::Broken { link, target }) => {
                trail.broken.push((link, target));
                return Ok(None);
            }
            Err(Miss::Io(host, kind, message)) => {
                return Err(Error::Io {
                    path: host,
                    source: std::io::Error::new(kind, message),
                })
            }
        };
        if !resolved.meta.is_file() {
            return Ok(None);
        }
        let info = match self.elf(&resolved) {
            Ok(info) => info,
            Err(e) => {
                let other = head(&resolved)
                    .ok()
                    .and_then(|h| crate::elf::ident_from_head(&h))
                    .is_some_and(|id| ident.fit(&id) == Fit::OtherArch);
                if other {
                    trail.other_arch.push(path);
                    return Ok(None);
                }
                return Err(e.opened_as(&path));
            }
        };
        match ident.fit(&info.ident) {
            Fit::Fits => {}
            Fit::OtherArch => {
                trail.other_arch.push(path);
                return Ok(None);
            }
            Fit::Refused(reason) => {
                return Err(Error::MalformedElf {
                    path,
                    reason: reason.into(),
                })
            }
        }
        if !info.loadable() {
            return Err(Error::MalformedElf {
                path,
                reason: "only ET_DYN and ET_EXEC can be loaded".into(),
            });
        }
        Ok(Some(Found {
            opened: path,
            resolved,
            info,
            via,
        }))
    }
}

/// The first bytes of a resolved file: enough for `#!` lines and ELF identification.
fn head(resolved: &Resolved) -> std::io::Result<Vec<u8>> {
    match &resolved.content {
        Content::Host(host) => {
            let mut head = Vec::with_capacity(script::HEAD);
            std::fs::File::open(host)?
                .take(script::HEAD as u64)
                .read_to_end(&mut head)?;
            Ok(head)
        }
        Content::Bytes(bytes) => Ok(bytes[..bytes.len().min(script::HEAD)].to_vec()),
        Content::InPackage => Err(std::io::Error::other("not a file")),
    }
}
