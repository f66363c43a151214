//! `/etc/ld.so.conf` and the files it includes: the directories ldconfig would have put in the
//! cache. Read only when the root has no `/etc/ld.so.cache` (a tree ldconfig never ran in).
//!
//! The syntax is ldconfig's: `#` starts a comment; `include PATTERN...` reads more files
//! (patterns relative to the including file's directory, expanded like glob(3), sorted);
//! `hwcap` lines are ignored; any other line is one directory, with an old `=TYPE` suffix and
//! trailing slashes dropped.

use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};
use crate::pattern;
use crate::root::Root;

pub const LD_SO_CONF: &str = "/etc/ld.so.conf";

/// Include files can include each other; real paths already read are not read again.
const MAX_FILES: usize = 1000;

/// The directories the configuration lists, in order, each once.
pub fn directories(root: &Root) -> Result<Vec<PathBuf>> {
    let mut dirs = Vec::new();
    let mut seen = HashSet::new();
    read(root, Path::new(LD_SO_CONF), &mut dirs, &mut seen)?;
    let mut unique = HashSet::new();
    dirs.retain(|d| unique.insert(d.clone()));
    Ok(dirs)
}

fn read(root: &Root, file: &Path, dirs: &mut Vec<PathBuf>, seen: &mut HashSet<PathBuf>) -> Result<()> {
    let resolved = match root.resolve(file) {
        Ok(r) if r.meta.is_file() => r,
        // A configuration that is absent or dangling lists nothing, as for ldconfig.
        _ => return Ok(()),
    };
    if seen.len() >= MAX_FILES || !seen.insert(resolved.real.clone()) {
        return Ok(());
    }
    let text = root.read(&resolved).map_err(Error::io(file))?;
    let base = file.parent().unwrap_or(Path::new("/"));
    for line in text.split(|b| *b == b'\n') {
        let line = line.split(|b| *b == b'#').next().unwrap_or(line);
        let line = line.trim_ascii();
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = keyword(line, b"include") {
            for pat in rest
                .split(|b| *b == b' ' || *b == b'\t')
                .filter(|p| !p.is_empty())
            {
                let pat = base.join(OsStr::from_bytes(pat));
                for path in glob(root, &pat) {
                    read(root, &path, dirs, seen)?;
                }
            }
        } else if keyword(line, b"hwcap").is_some() {
            continue;
        } else {
            let dir = line.split(|b| *b == b'=').next().unwrap_or(line).trim_ascii_end();
            let mut end = dir.len();
            while end > 1 && dir[end - 1] == b'/' {
                end -= 1;
            }
            let dir = Path::new(OsStr::from_bytes(&dir[..end]));
            if dir.is_absolute() {
                dirs.push(dir.to_path_buf());
            }
        }
    }
    Ok(())
}

/// The rest of `line` if it starts with `word` and a blank (ldconfig: `hwcap` in any case).
fn keyword<'a>(line: &'a [u8], word: &[u8]) -> Option<&'a [u8]> {
    let head = line.get(..word.len())?;
    if !head.eq_ignore_ascii_case(word) || (word == b"include" && head != word) {
        return None;
    }
    match line.get(word.len()) {
        Some(b' ' | b'\t') => Some(&line[word.len() + 1..]),
        _ => None,
    }
}

/// Expands an absolute in-root pattern to the existing paths it matches, sorted.
pub fn glob(root: &Root, pattern_path: &Path) -> Vec<PathBuf> {
    let mut current = vec![PathBuf::from("/")];
    for component in pattern_path.components() {
        let part: &OsStr = match component {
            Component::Normal(n) => n,
            Component::ParentDir => OsStr::new(".."),
            _ => continue,
        };
        if !pattern::has_wildcards(part.as_bytes()) {
            for path in &mut current {
                path.push(part);
            }
            continue;
        }
        let mut next = Vec::new();
        for dir in &current {
            let Ok(resolved) = root.resolve(dir) else {
                continue;
            };
            if !resolved.meta.is_dir() {
                continue;
            }
            let mut names: Vec<OsString> = root
                .list(&resolved)
                .into_iter()
                .filter(|n| pattern::matches(part.as_bytes(), n.as_bytes()))
                .collect();
            names.sort();
            next.extend(names.into_iter().map(|n| dir.join(n)));
        }
        current = next;
    }
    current.retain(|p| root.resolve(p).is_ok());
    current.sort();
    current
}
