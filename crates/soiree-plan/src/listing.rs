//! `soiree-pack ls`: a package's files with their sizes, grouped by who placed them (a recipe and
//! its source, templates, the run-time closure of each program, soiree-pack), with totals and
//! warnings before Sandstorm's limits are hit.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use serde::Serialize;
use soiree_spk::display::Escaped;
use soiree_spk::limits::{MAX_ARCHIVE_SIZE, MAX_FILE_SIZE};
use soiree_spk::{Dir, Node};

use crate::plan::Plan;
use crate::provenance::{self, Placed};

/// Warn once a file or the archive reaches this share of Sandstorm's limit.
const WARN_PERCENT: u64 = 80;

#[derive(Debug, Serialize)]
pub struct Listing {
    pub package: String,
    pub groups: Vec<Group>,
    /// Files and symlinks.
    pub files: usize,
    /// Their bytes (a symlink counts its target's length).
    pub bytes: u64,
    /// The archive Sandstorm unpacks: files, names and structure, as packed.
    pub archive_bytes: u64,
    pub warnings: Vec<String>,
    /// A file or the archive is over Sandstorm's limit: `build` will refuse the package.
    pub over_limit: bool,
}

#[derive(Debug, Serialize)]
pub struct Group {
    pub title: String,
    pub bytes: u64,
    pub files: Vec<Listed>,
}

#[derive(Debug, Serialize)]
pub struct Listed {
    pub path: String,
    pub size: u64,
    /// `file`, `executable` or `symlink`.
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

/// Lists the files of a planned package.
pub fn list(plan: &Plan, package: &str) -> Listing {
    let mut files = Vec::new();
    walk(&plan.tree, &mut PathBuf::from("/"), &mut files);
    // Recipes first, then closures, then soiree-pack's own files; by title within each.
    let mut groups: BTreeMap<(u8, String), Group> = BTreeMap::new();
    let mut listing = Listing {
        package: package.to_string(),
        groups: Vec::new(),
        files: files.len(),
        bytes: 0,
        archive_bytes: soiree_spk::encode::message_len(&plan.tree),
        warnings: Vec::new(),
        over_limit: false,
    };
    for (path, listed) in files {
        listing.bytes += listed.size;
        let placed = provenance::placed(&plan.provenance, &path, false);
        let key = group_of(plan, &path, &placed);
        let group = groups.entry(key.clone()).or_insert_with(|| Group {
            title: key.1,
            bytes: 0,
            files: Vec::new(),
        });
        group.bytes += listed.size;
        if listed.kind != "symlink" {
            check_file(&mut listing, &listed);
        }
        group.files.push(listed);
    }
    listing.groups = groups.into_values().collect();
    let archive = listing.archive_bytes;
    if archive > MAX_ARCHIVE_SIZE {
        listing.over_limit = true;
        listing.warnings.push(format!(
            "the archive is {}, over Sandstorm's limit of {}: build will refuse it",
            human(archive),
            human(MAX_ARCHIVE_SIZE)
        ));
    } else if archive * 100 >= MAX_ARCHIVE_SIZE * WARN_PERCENT {
        listing.warnings.push(format!(
            "the archive is {} ({}% of Sandstorm's limit of {})",
            human(archive),
            archive * 100 / MAX_ARCHIVE_SIZE,
            human(MAX_ARCHIVE_SIZE)
        ));
    }
    listing
}

fn check_file(listing: &mut Listing, f: &Listed) {
    if f.size >= MAX_FILE_SIZE {
        listing.over_limit = true;
        listing.warnings.push(format!(
            "{} is {}; Sandstorm takes files under {}: build will refuse it",
            f.path,
            human(f.size),
            human(MAX_FILE_SIZE)
        ));
    } else if f.size * 100 >= MAX_FILE_SIZE * WARN_PERCENT {
        listing.warnings.push(format!(
            "{} is {} ({}% of Sandstorm's limit of {} a file)",
            f.path,
            human(f.size),
            f.size * 100 / MAX_FILE_SIZE,
            human(MAX_FILE_SIZE)
        ));
    }
}

/// The group a path belongs to: its rank (recipes, closures, soiree-pack) and title.
fn group_of(plan: &Plan, path: &Path, placed: &Placed) -> (u8, String) {
    match placed {
        Placed::Source {
            origin,
            source,
            built_by,
            ..
        } => {
            let built = built_by
                .as_ref()
                .map(|c| format!(", built by `{c}`"))
                .unwrap_or_default();
            (0, format!("recipe {}, source `{source}`{built}", origin.via))
        }
        Placed::Template { origin } => (0, format!("recipe {}, templates", origin.via)),
        Placed::Listing { origin, .. } => (0, format!("recipe {}, listings", origin.via)),
        Placed::Closure => {
            let program = plan
                .closure
                .why(path)
                .and_then(|w| w.steps.first().map(|(p, _)| p.display().to_string()))
                .unwrap_or_else(|| "the package's programs".into());
            (
                1,
                format!("closure of {program}, from {}", plan.closure.root.display()),
            )
        }
        Placed::Generated | Placed::Directory => (2, "soiree-pack".into()),
    }
}

fn walk(dir: &Dir, at: &mut PathBuf, out: &mut Vec<(PathBuf, Listed)>) {
    for (name, entry) in &dir.entries {
        at.push(OsStr::from_bytes(name));
        let listed = match &entry.node {
            Node::Dir(d) => {
                walk(d, at, out);
                None
            }
            Node::File { size, executable, .. } => Some(Listed {
                path: at.display().to_string(),
                size: *size,
                kind: if *executable { "executable" } else { "file" },
                target: None,
            }),
            Node::Symlink { target } => Some(Listed {
                path: at.display().to_string(),
                size: target.len() as u64,
                kind: "symlink",
                target: Some(String::from_utf8_lossy(target).into_owned()),
            }),
        };
        if let Some(listed) = listed {
            out.push((at.clone(), listed));
        }
        at.pop();
    }
}

fn files(n: usize) -> String {
    if n == 1 {
        "1 file".into()
    } else {
        format!("{n} files")
    }
}

/// Bytes in the largest binary unit that keeps a number ≥ 1: `1.9 MiB`, `512 B`.
pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

impl fmt::Display for Listing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for g in &self.groups {
            // Paths and targets come from sources (a downloaded archive's names): escaped.
            writeln!(
                f,
                "{} ({}, {})",
                Escaped(&g.title),
                files(g.files.len()),
                human(g.bytes)
            )?;
            for file in &g.files {
                let target = file
                    .target
                    .as_deref()
                    .map(|t| format!(" → {}", Escaped(t)))
                    .unwrap_or_default();
                let mark = if file.kind == "executable" { "*" } else { "" };
                writeln!(
                    f,
                    "  {:>10}  {}{mark}{target}",
                    human(file.size),
                    Escaped(&file.path)
                )?;
            }
        }
        writeln!(
            f,
            "{}: {}, {}; archive {} of Sandstorm's {}",
            self.package,
            files(self.files),
            human(self.bytes),
            human(self.archive_bytes),
            human(MAX_ARCHIVE_SIZE)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::human;

    #[test]
    fn sizes_in_binary_units() {
        assert_eq!(human(0), "0 B");
        assert_eq!(human(1023), "1023 B");
        assert_eq!(human(1536), "1.5 KiB");
        assert_eq!(human(512 << 20), "512.0 MiB");
        assert_eq!(human(1 << 30), "1.0 GiB");
    }
}
