//! `party.lock`: the URL, digest and size of every downloaded source, as TOML.
//!
//! ```toml
//! version = 1
//!
//! [source.cockroachdb]
//! url = "https://binaries.cockroachdb.com/cockroach-v24.1.0.linux-amd64.tgz"
//! sha256 = "…"
//! size = 123456789
//! ```
//!
//! Updates go through `toml_edit`, so comments, formatting and the order of what is already
//! there survive; new entries are placed among the others in name order.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use toml_edit::{DocumentMut, Item, Table, Value};

use crate::digest::Sha256;
use crate::error::{Error, Result};
use crate::source::Source;

/// The lock file's usual name, beside `party.toml`.
pub const LOCK_FILE_NAME: &str = "party.lock";

const VERSION: i64 = 1;

const HEADER: &str = "\
# The exact bytes of every downloaded source: written by `soiree-pack lock`, checked by builds.
# Commit this file with party.toml.
";

/// One resolved URL source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockEntry {
    pub name: String,
    pub url: String,
    pub sha256: Sha256,
    pub size: Option<u64>,
}

/// A lock file: its parsed entries and the document they came from.
#[derive(Debug, Clone)]
pub struct Lock {
    path: PathBuf,
    doc: DocumentMut,
    entries: BTreeMap<String, LockEntry>,
}

impl Lock {
    /// Reads `path`; a missing file is an empty lock that will be created on [`Lock::save`].
    pub fn load(path: impl Into<PathBuf>) -> Result<Lock> {
        let path = path.into();
        match std::fs::read_to_string(&path) {
            Ok(text) => Lock::parse(path, &text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut doc = DocumentMut::new();
                doc.decor_mut().set_prefix(HEADER);
                doc.insert("version", toml_edit::value(VERSION));
                Ok(Lock {
                    path,
                    doc,
                    entries: BTreeMap::new(),
                })
            }
            Err(e) => Err(Error::io(&path)(e)),
        }
    }

    /// Parses the text of a lock file that lives at `path`.
    pub fn parse(path: impl Into<PathBuf>, text: &str) -> Result<Lock> {
        let path = path.into();
        let bad = |reason: String| Error::BadLock {
            path: path.clone(),
            reason,
        };
        let doc: DocumentMut = text
            .parse()
            .map_err(|e: toml_edit::TomlError| bad(format!("not valid TOML: {e}")))?;
        if let Some(version) = doc.get("version") {
            if version.as_integer() != Some(VERSION) {
                return Err(bad(format!(
                    "version {} is not one this soiree-pack reads (it reads {VERSION})",
                    version.to_string().trim()
                )));
            }
        }
        let mut entries = BTreeMap::new();
        if let Some(sources) = doc.get("source") {
            let sources = sources
                .as_table_like()
                .ok_or_else(|| bad("`source` must be a table of sources".into()))?;
            for (name, item) in sources.iter() {
                let entry = parse_entry(name, item).map_err(|why| bad(format!("source {name:?}: {why}")))?;
                entries.insert(name.to_string(), entry);
            }
        }
        Ok(Lock { path, doc, entries })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every entry, by name.
    pub fn entries(&self) -> impl Iterator<Item = &LockEntry> {
        self.entries.values()
    }

    pub fn get(&self, name: &str) -> Option<&LockEntry> {
        self.entries.get(name)
    }

    /// Fails when `source` is a URL source the lock records with another digest.
    pub fn check(&self, source: &Source) -> Result<()> {
        let (Some(pin), Some(locked)) = (source.pin(), self.entries.get(&source.name)) else {
            return Ok(());
        };
        if locked.sha256 == pin.sha256 {
            return Ok(());
        }
        Err(Error::LockMismatch {
            name: source.name.clone(),
            url: pin.url.clone(),
            pinned: pin.sha256.hex(),
            locked: locked.sha256.hex(),
            path: self.path.clone(),
        })
    }

    /// Records `entry`: an existing entry of that name is updated in place (its comments and
    /// layout kept), a new one is placed among the others in name order.
    pub fn record(&mut self, entry: LockEntry) {
        if self.entries.get(&entry.name) == Some(&entry) {
            return;
        }
        let Some(sources) = self.sources_table() else {
            return;
        };
        let existing = sources.get_mut(&entry.name).and_then(Item::as_table_like_mut);
        match existing {
            Some(table) => {
                set_keeping_decor(table, "url", Value::from(entry.url.as_str()));
                set_keeping_decor(table, "sha256", Value::from(entry.sha256.hex()));
                match entry.size.and_then(|s| i64::try_from(s).ok()) {
                    Some(size) => set_keeping_decor(table, "size", Value::from(size)),
                    None => {
                        table.remove("size");
                    }
                }
            }
            None => {
                let mut table = Table::new();
                table.insert("url", toml_edit::value(entry.url.as_str()));
                table.insert("sha256", toml_edit::value(entry.sha256.hex()));
                if let Some(size) = entry.size.and_then(|s| i64::try_from(s).ok()) {
                    table.insert("size", toml_edit::value(size));
                }
                let position = self.make_room_for(&entry.name);
                table.set_position(Some(position));
                if let Some(sources) = self.sources_table() {
                    sources.insert(&entry.name, Item::Table(table));
                }
            }
        }
        self.entries.insert(entry.name.clone(), entry);
    }

    /// Removes the entry `name`; whether there was one.
    pub fn remove(&mut self, name: &str) -> bool {
        if self.entries.remove(name).is_none() {
            return false;
        }
        if let Some(sources) = self.sources_table() {
            sources.remove(name);
        }
        true
    }

    /// Keeps only the entries whose names `keep` accepts (a lock drops sources no longer used).
    pub fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        let gone: Vec<String> = self.entries.keys().filter(|n| !keep(n)).cloned().collect();
        for name in gone {
            self.remove(&name);
        }
    }

    /// Writes the lock to its path through a temporary file, so a reader never sees half of it.
    pub fn save(&self) -> Result<()> {
        let dir = soiree_fs::parent_dir(&self.path);
        let mut temp = tempfile::Builder::new()
            .prefix(".party.lock-")
            .tempfile_in(dir)
            .map_err(Error::io(dir))?;
        temp.write_all(self.doc.to_string().as_bytes())
            .and_then(|()| temp.as_file().sync_all())
            .map_err(Error::io(temp.path()))?;
        temp.persist(&self.path)
            .map_err(|e| Error::io(&self.path)(e.error))?;
        Ok(())
    }

    fn sources_table(&mut self) -> Option<&mut Table> {
        let item = self.doc.entry("source").or_insert_with(|| {
            let mut t = Table::new();
            // No `[source]` header of its own: only `[source.NAME]` ones.
            t.set_implicit(true);
            Item::Table(t)
        });
        if !item.is_table() {
            // `parse` accepted it as table-like, so it is an inline table; make it a real one.
            let table = std::mem::take(item).into_table().unwrap_or_else(|_| Table::new());
            *item = Item::Table(table);
        }
        item.as_table_mut()
    }

    /// The document position for a new `[source.NAME]`: before the first entry whose name sorts
    /// after it, else after the last entry, else at the end; later tables move down one.
    fn make_room_for(&mut self, name: &str) -> isize {
        let siblings: Vec<(String, Option<isize>)> = self
            .sources_table()
            .map(|sources| {
                sources
                    .iter()
                    .filter_map(|(k, item)| item.as_table().map(|t| (k.to_string(), t.position())))
                    .collect()
            })
            .unwrap_or_default();
        let before = siblings
            .iter()
            .filter(|(k, _)| k.as_str() > name)
            .min_by(|a, b| a.0.cmp(&b.0))
            .and_then(|(_, pos)| *pos);
        let position = match before {
            Some(pos) => pos,
            None => {
                let last = siblings.iter().filter_map(|(_, pos)| *pos).max();
                match last {
                    Some(pos) => pos + 1,
                    None => max_position(self.doc.as_table()).map_or(0, |p| p + 1),
                }
            }
        };
        shift_positions(self.doc.as_table_mut(), position);
        position
    }
}

fn parse_entry(name: &str, item: &Item) -> std::result::Result<LockEntry, String> {
    let table = item
        .as_table_like()
        .ok_or("must be a table with url, sha256 and size")?;
    let url = table
        .get("url")
        .and_then(Item::as_str)
        .ok_or("needs `url`, a string")?;
    let sha256 = table
        .get("sha256")
        .and_then(Item::as_str)
        .ok_or("needs `sha256`, a string")?;
    let sha256 = Sha256::parse_hex(sha256).ok_or_else(|| format!("{sha256:?} is not a SHA-256 digest"))?;
    let size = match table.get("size") {
        None => None,
        Some(item) => Some(
            item.as_integer()
                .and_then(|s| u64::try_from(s).ok())
                .ok_or("`size` must be a non-negative integer")?,
        ),
    };
    Ok(LockEntry {
        name: name.to_string(),
        url: url.to_string(),
        sha256,
        size,
    })
}

/// Sets `key` to `value`, keeping the comments and spacing around the old value.
fn set_keeping_decor(table: &mut dyn toml_edit::TableLike, key: &str, mut value: Value) {
    match table.get_mut(key) {
        Some(Item::Value(old)) => {
            let same = match (&*old, &value) {
                (Value::String(a), Value::String(b)) => a.value() == b.value(),
                (Value::Integer(a), Value::Integer(b)) => a.value() == b.value(),
                _ => false,
            };
            if same {
                return;
            }
            *value.decor_mut() = old.decor().clone();
            *old = value;
        }
        _ => {
            table.insert(key, Item::Value(value));
        }
    }
}

fn max_position(table: &Table) -> Option<isize> {
    let mut max = table.position();
    for (_, item) in table.iter() {
        let inner = match item {
            Item::Table(t) => max_position(t),
            Item::ArrayOfTables(a) => a.iter().filter_map(max_position).max(),
            _ => None,
        };
        max = max.max(inner);
    }
    max
}

fn shift_positions(table: &mut Table, from: isize) {
    if let Some(pos) = table.position() {
        if pos >= from {
            table.set_position(Some(pos + 1));
        }
    }
    for (_, item) in table.iter_mut() {
        match item {
            Item::Table(t) => shift_positions(t, from),
            Item::ArrayOfTables(a) => a.iter_mut().for_each(|t| shift_positions(t, from)),
            _ => {}
        }
    }
}
