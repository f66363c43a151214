//! Every unknown key of a file, not only the first: serde stops at the first error, so each
//! unknown key it reports is replaced — by the key it most likely means when that is no longer
//! (`titel` → `title`, padded with spaces), else by spaces — and the file read again. Line breaks
//! and byte offsets are kept, so every later place is still right in the real file. Any other
//! error ends the search, and one that follows a replaced key is not reported: it may be the
//! replacement's doing (a required key spelled wrong and blanked is then "missing").

use std::ops::Range;

use toml_edit::{Item, Key, TableLike};

/// At most this many rounds; a file with more unknown keys shows this many.
const MAX_ROUNDS: usize = 32;

/// Parses `text` as `T`; on failure every error found, each with its span (in `text`) and
/// whether it was an unknown key.
pub(crate) fn from_str<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, Vec<toml::de::Error>> {
    let mut current = text.to_string();
    let mut errors = Vec::new();
    for _ in 0..MAX_ROUNDS {
        match toml::from_str::<T>(&current) {
            Ok(v) if errors.is_empty() => return Ok(v),
            Ok(_) => break,
            Err(e) => {
                let unknown = e.message().starts_with("unknown field");
                if !unknown && !errors.is_empty() {
                    break;
                }
                let span = e.span();
                let near = unknown_field_near(e.message());
                errors.push(e);
                let Some(span) = span.filter(|_| unknown) else {
                    break;
                };
                match near.filter(|n| n.len() <= span.len()) {
                    // The key as meant, padded to the same length: `title = …` reads on.
                    Some(near) => {
                        let padded = format!("{near:<width$}", width = span.len());
                        if !current.is_char_boundary(span.start) || !current.is_char_boundary(span.end) {
                            break;
                        }
                        current.replace_range(span, &padded);
                    }
                    None => {
                        let Some(range) = entry_at(&current, span.start) else {
                            break;
                        };
                        blank(&mut current, range);
                    }
                }
            }
        }
    }
    // In the order of the file, as a reader meets them.
    errors.sort_by_key(|e| e.span().map_or(0, |s| s.start));
    Err(errors)
}

/// For "unknown field `var_dirs`, expected one of `a`, `var-dirs`, …": the field meant. `_` for
/// `-` is the usual slip (TOML keys here are kebab-case), then a near spelling (`service` for
/// `services`).
pub(crate) fn unknown_field_near(message: &str) -> Option<String> {
    let mut quoted = message.split('`').skip(1).step_by(2);
    let field = quoted.next()?;
    let expected: Vec<&str> = quoted.collect();
    let kebab = field.replace('_', "-");
    if kebab != field && expected.contains(&kebab.as_str()) {
        return Some(kebab);
    }
    crate::diagnostic::closest(field, expected.iter().copied()).map(String::from)
}

/// Spaces over `range` (one a byte, so later byte offsets stay), line breaks kept.
fn blank(text: &mut String, range: Range<usize>) {
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..range.start]);
    for c in text[range.clone()].chars() {
        if c == '\n' || c == '\r' {
            out.push(c);
        } else {
            out.extend(std::iter::repeat_n(' ', c.len_utf8()));
        }
    }
    out.push_str(&text[range.end..]);
    *text = out;
}

/// The whole entry (key, value, and for a table its header and body) whose key holds byte `at`.
fn entry_at(text: &str, at: usize) -> Option<Range<usize>> {
    let doc = toml_edit::Document::parse(text).ok()?;
    find(doc.as_table(), at)
}

fn find(table: &dyn TableLike, at: usize) -> Option<Range<usize>> {
    for (name, _) in table.iter() {
        let (key, item) = table.get_key_value(name)?;
        if key.span().is_some_and(|s| s.contains(&at)) {
            return extent(key, item);
        }
        let nested = match item {
            Item::Table(t) => find(t, at),
            Item::Value(toml_edit::Value::InlineTable(t)) => find(t, at),
            Item::ArrayOfTables(a) => a.iter().find_map(|t| find(t, at)),
            _ => None,
        };
        if nested.is_some() {
            return nested;
        }
    }
    None
}

/// From the first to the last byte of an entry: its key, its value, and what a table holds.
fn extent(key: &Key, item: &Item) -> Option<Range<usize>> {
    let mut r = key.span()?;
    let mut widen = |s: Option<Range<usize>>| {
        if let Some(s) = s {
            r.start = r.start.min(s.start);
            r.end = r.end.max(s.end);
        }
    };
    widen(item.span());
    let tables: Vec<&toml_edit::Table> = match item {
        Item::Table(t) => vec![t],
        Item::ArrayOfTables(a) => a.iter().collect(),
        _ => Vec::new(),
    };
    for t in tables {
        widen(t.span());
        for (name, _) in t.iter() {
            if let Some((k, i)) = t.get_key_value(name) {
                widen(extent(k, i));
            }
        }
    }
    Some(r)
}
