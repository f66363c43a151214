//! `soiree-pack add` and `set`: edits to `party.toml` that keep its comments and layout
//! (toml_edit), checked like `soiree-pack check` before anything is written, and written
//! through a temp file renamed into place.

use std::io::Write;
use std::path::Path;

use toml_edit::{DocumentMut, InlineTable, Item, Value};

use crate::diagnostic::{PartyError, Problems};

fn problem(message: impl Into<String>) -> Problems {
    Problems(vec![PartyError::new("soiree::edit", message)])
}

/// A file that cannot be read or written: the machine's fault, not the edit's.
fn io_problem(message: impl Into<String>) -> Problems {
    Problems(vec![PartyError::new(crate::diagnostic::IO_CODE, message)])
}

/// Parses `text` as a TOML value; anything that is not one is taken as a string.
pub fn parse_value(text: &str) -> Value {
    let probe = format!("v = {text}");
    match probe.parse::<DocumentMut>() {
        Ok(doc) => doc
            .get("v")
            .and_then(|i| i.as_value())
            .cloned()
            .unwrap_or_else(|| Value::from(text)),
        Err(_) => Value::from(text),
    }
}

/// `key=value` pairs from `--set`.
pub fn parse_assignments(pairs: &[String]) -> Result<Vec<(String, Value)>, Problems> {
    pairs
        .iter()
        .map(|p| match p.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), parse_value(v.trim()))),
            _ => Err(problem(format!("`{p}` is not key=value"))),
        })
        .collect()
}

fn read(path: &Path) -> Result<(String, DocumentMut), Problems> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| io_problem(format!("cannot read {}: {e}", path.display())))?;
    let doc = text
        .parse::<DocumentMut>()
        .map_err(|e| problem(format!("{}: {e}", path.display())))?;
    Ok((text, doc))
}

/// Checks the edited text like `check` does, then replaces the file atomically.
fn commit(path: &Path, text: &str, profile: Option<&str>) -> Result<(), Problems> {
    crate::load::load_with(path, Some(text), profile)?;
    let dir = soiree_fs::parent_dir(path);
    let io = |e: std::io::Error| io_problem(format!("cannot write {}: {e}", path.display()));
    let mut tmp = tempfile::Builder::new()
        .prefix(".party.toml.")
        .tempfile_in(dir)
        .map_err(io)?;
    tmp.write_all(text.as_bytes()).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    if let Ok(meta) = std::fs::metadata(path) {
        let _ = tmp.as_file().set_permissions(meta.permissions());
    }
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

/// Appends `{ use = RECIPE, with = { … } }` to `packages.PACKAGE.recipes`.
pub fn add_recipe(
    path: &Path,
    package: &str,
    recipe: &str,
    with: &[(String, Value)],
) -> Result<(), Problems> {
    let (_, mut doc) = read(path)?;
    let pkg = doc
        .get_mut("packages")
        .and_then(|p| p.get_mut(package))
        .and_then(Item::as_table_like_mut)
        .ok_or_else(|| problem(format!("party.toml has no [packages.{package}]")))?;
    let recipes = pkg
        .entry("recipes")
        .or_insert(Item::Value(Value::Array(toml_edit::Array::new())));
    let array = recipes
        .as_array_mut()
        .ok_or_else(|| problem(format!("packages.{package}.recipes is not an inline array")))?;
    // A second entry would only collide with the first (the same services, files and ports).
    let used = array.iter().any(|v| {
        v.as_inline_table()
            .and_then(|t| t.get("use"))
            .and_then(Value::as_str)
            == Some(recipe)
    });
    if used {
        return Err(problem(format!(
            "package `{package}` already uses recipe `{recipe}`; change its parameters with \
             `soiree-pack set` or by editing {}",
            path.display()
        )));
    }
    let mut entry = InlineTable::new();
    entry.insert("use", Value::from(recipe));
    if !with.is_empty() {
        let mut params = InlineTable::new();
        for (k, v) in with {
            params.insert(k, v.clone());
        }
        params.fmt();
        entry.insert("with", Value::InlineTable(params));
    }
    entry.fmt();
    // Match the layout of the array: one entry a line if it already is.
    let multiline = array.iter().next().is_some_and(|v| {
        v.decor()
            .prefix()
            .and_then(|p| p.as_str())
            .is_some_and(|p| p.contains('\n'))
    });
    array.push(Value::InlineTable(entry));
    if multiline {
        let n = array.len();
        if let Some(last) = array.get_mut(n - 1) {
            last.decor_mut().set_prefix("\n  ");
        }
        array.set_trailing(",\n");
        array.set_trailing_comma(false);
    }
    commit(path, &doc.to_string(), None)
}

/// Sets the value at a dotted path (`party.marketing-version`, `packages.uro.title`).
pub fn set(path: &Path, key_path: &str, value: Value) -> Result<(), Problems> {
    let (_, mut doc) = read(path)?;
    let keys: Vec<&str> = key_path.split('.').collect();
    let Some((last, parents)) = keys.split_last() else {
        return Err(problem("an empty key path"));
    };
    let mut table: &mut dyn toml_edit::TableLike = doc.as_table_mut();
    for k in parents {
        table = table
            .get_mut(k)
            .and_then(Item::as_table_like_mut)
            .ok_or_else(|| problem(format!("party.toml has no table `{k}` on the way to {key_path}")))?;
    }
    match table.get_mut(last) {
        Some(Item::Value(old)) => {
            // Keep the comments and spacing around the old value.
            let decor = old.decor().clone();
            *old = value;
            *old.decor_mut() = decor;
        }
        Some(_) => return Err(problem(format!("{key_path} is a table, not a value"))),
        None => {
            table.insert(last, Item::Value(value));
        }
    }
    commit(path, &doc.to_string(), None)
}
