//! The files of a package tree that something runs or loads: ELF objects (programs and shared
//! libraries, which a program may load by name or with `dlopen`) and executable `#!` scripts.
//! Their closure is what the package needs from the root.

use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use soiree_types::{Dir, Node, Source};

use crate::elf::MAGIC;
use crate::error::{Error, Result};

/// Every ELF file and every executable `#!` script in `tree`, as absolute in-package paths in
/// tree order, except those `skip` says no to. Other files are data and are not read further.
pub fn programs_in(tree: &Dir, skip: impl Fn(&Path) -> bool) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    walk(tree, &mut PathBuf::from("/"), &skip, &mut found)?;
    Ok(found)
}

fn walk(dir: &Dir, at: &mut PathBuf, skip: &impl Fn(&Path) -> bool, found: &mut Vec<PathBuf>) -> Result<()> {
    for (name, entry) in &dir.entries {
        at.push(std::ffi::OsStr::from_bytes(name));
        match &entry.node {
            Node::Dir(d) => walk(d, at, skip, found)?,
            Node::File {
                source, executable, ..
            } if !skip(at) => {
                let head = head(source)?;
                if head.starts_with(MAGIC) || (*executable && head.starts_with(b"#!")) {
                    found.push(at.clone());
                }
            }
            _ => {}
        }
        at.pop();
    }
    Ok(())
}

/// The first four bytes (fewer for a shorter file).
fn head(source: &Source) -> Result<Vec<u8>> {
    match source {
        Source::Bytes(bytes) => Ok(bytes[..bytes.len().min(MAGIC.len())].to_vec()),
        Source::Path(path) => {
            let mut head = Vec::with_capacity(MAGIC.len());
            std::fs::File::open(path)
                .and_then(|f| f.take(MAGIC.len() as u64).read_to_end(&mut head))
                .map_err(Error::io(path))?;
            Ok(head)
        }
    }
}
