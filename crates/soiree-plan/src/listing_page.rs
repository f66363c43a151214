//! A recipe's `[[listings]]`: a self-contained HTML page listing every file under an in-package
//! folder with its size and SHA-256, so players can check what they downloaded.

use std::io::Read;
use std::path::PathBuf;

use sha2::{Digest, Sha256};
use soiree_party::{Listing, Package};
use soiree_spk::{Dir, Entry, Node, Source};

use crate::provenance::{at, Placed, Provenance};
use crate::tree;

/// One file of the listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Bytes of the in-package path below the listed folder, `/`-separated.
    pub path: Vec<u8>,
    pub size: u64,
    /// Lowercase hex.
    pub sha256: String,
}

/// Writes every listing of `pkg` into `tree`, recording each page in `provenance`.
pub fn add(pkg: &Package, tree: &mut Dir, provenance: &mut Provenance) -> Result<(), String> {
    add_listings(&pkg.name, &pkg.listings, tree, provenance)
}

fn add_listings(
    package: &str,
    listings: &[Listing],
    tree: &mut Dir,
    provenance: &mut Provenance,
) -> Result<(), String> {
    for listing in listings {
        let named = || format!("recipe {} ({})", listing.origin.via, at(&listing.origin));
        let folder = find_dir(tree, &listing.dir).ok_or_else(|| {
            format!(
                "{}: [[listings]] dir {} is not a folder in package `{}`",
                named(),
                listing.dir,
                package
            )
        })?;
        let rows = rows(folder, &listing.dir, &listing.to)?;
        let page = page(listing, &rows);
        tree::graft(
            tree,
            &listing.to,
            Entry::bytes(page.into_bytes(), false, 0),
            &named(),
        )?;
        provenance.insert(
            PathBuf::from(&listing.to),
            Placed::Listing {
                origin: listing.origin.clone(),
                dir: listing.dir.clone(),
            },
        );
    }
    Ok(())
}

/// The folder at the absolute in-package `path`, if there is one.
fn find_dir<'t>(tree: &'t Dir, path: &str) -> Option<&'t Dir> {
    let mut dir = tree;
    for part in path.split('/').filter(|p| !p.is_empty()) {
        match &dir.entries.get(part.as_bytes())?.node {
            Node::Dir(d) => dir = d,
            _ => return None,
        }
    }
    Some(dir)
}

/// Every regular file under `folder` (at `dir` in the package), sorted by path, but the page.
pub fn rows(folder: &Dir, dir: &str, page: &str) -> Result<Vec<Row>, String> {
    let mut out = Vec::new();
    walk(folder, &mut Vec::new(), &mut |rel, source, size| {
        let mut full = dir.trim_end_matches('/').as_bytes().to_vec();
        full.push(b'/');
        full.extend_from_slice(rel);
        if full == page.as_bytes() {
            return Ok(());
        }
        out.push(Row {
            path: rel.to_vec(),
            size,
            sha256: sha256(source)?,
        });
        Ok(())
    })?;
    Ok(out)
}

type Visit<'a> = dyn FnMut(&[u8], &Source, u64) -> Result<(), String> + 'a;

/// Depth-first in the tree's bytewise order, which is the order of the paths.
fn walk(dir: &Dir, at: &mut Vec<u8>, visit: &mut Visit) -> Result<(), String> {
    for (name, entry) in &dir.entries {
        let len = at.len();
        if !at.is_empty() {
            at.push(b'/');
        }
        at.extend_from_slice(name);
        match &entry.node {
            Node::Dir(d) => walk(d, at, visit)?,
            Node::File { source, size, .. } => visit(at, source, *size)?,
            Node::Symlink { .. } => {}
        }
        at.truncate(len);
    }
    Ok(())
}

fn sha256(source: &Source) -> Result<String, String> {
    let mut hasher = Sha256::new();
    match source {
        Source::Bytes(b) => hasher.update(b),
        Source::Path(p) => {
            let err = |e: std::io::Error| format!("{}: {e}", p.display());
            let mut file = std::fs::File::open(p).map_err(err)?;
            let mut buf = vec![0u8; 1 << 16];
            loop {
                let n = file.read(&mut buf).map_err(err)?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
            }
        }
    }
    Ok(data_encoding::HEXLOWER.encode(&hasher.finalize()))
}

/// The link from the page's folder to `rel` under the listed folder.
fn link(listing: &Listing, rel: &[u8]) -> String {
    let page_dir: Vec<&[u8]> = parts(listing.to.as_bytes());
    let page_dir = &page_dir[..page_dir.len().saturating_sub(1)];
    let mut target: Vec<&[u8]> = parts(listing.dir.as_bytes());
    target.extend(parts(rel));
    let common = page_dir.iter().zip(&target).take_while(|(a, b)| a == b).count();
    let mut out = "../".repeat(page_dir.len() - common);
    let rest: Vec<String> = target[common..].iter().map(|p| percent_encode(p)).collect();
    out.push_str(&rest.join("/"));
    out
}

fn parts(path: &[u8]) -> Vec<&[u8]> {
    path.split(|b| *b == b'/').filter(|p| !p.is_empty()).collect()
}

/// Percent-encodes one path segment: everything but RFC 3986's unreserved characters.
pub fn percent_encode(segment: &[u8]) -> String {
    let mut out = String::with_capacity(segment.len());
    for &b in segment {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Escapes text for HTML content and double-quoted attributes.
pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The page: a title and one table row per file (no clock, no scripts, no outside resources).
pub fn page(listing: &Listing, rows: &[Row]) -> String {
    let title = html_escape(
        &listing
            .title
            .clone()
            .unwrap_or_else(|| format!("Files in {}", listing.dir)),
    );
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>\n\
         body {{ font-family: sans-serif; margin: 2em; }}\n\
         table {{ border-collapse: collapse; }}\n\
         th, td {{ text-align: left; padding: 0.3em 1em; border-bottom: 1px solid #ccc; }}\n\
         td.size {{ text-align: right; }}\n\
         code {{ font-size: 0.85em; word-break: break-all; }}\n\
         </style>\n</head>\n<body>\n<h1>{title}</h1>\n<table>\n\
         <thead><tr><th>File</th><th>Size (bytes)</th><th>SHA-256</th></tr></thead>\n<tbody>\n"
    );
    for row in rows {
        out.push_str(&format!(
            "<tr><td><a href=\"{}\">{}</a></td><td class=\"size\">{}</td><td><code>{}</code></td></tr>\n",
            html_escape(&link(listing, &row.path)),
            html_escape(&String::from_utf8_lossy(&row.path)),
            row.size,
            row.sha256
        ));
    }
    out.push_str("</tbody>\n</table>\n</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use soiree_party::diagnostic::Place;
    use soiree_party::{Origin, SourceFile};

    const RECIPE: &str = "[[listings]]\ndir = \"/d\"\nto = \"/d/index.html\"\n";

    fn listing(dir: &str, to: &str, title: Option<&str>) -> Listing {
        Listing {
            dir: dir.into(),
            to: to.into(),
            title: title.map(str::to_string),
            origin: Origin {
                via: "client".into(),
                place: Place::new(&SourceFile::new("recipes/client.toml", RECIPE), 13..34),
            },
        }
    }

    fn tree(files: &[(&str, &[u8])]) -> Dir {
        let mut t = Dir::default();
        for (path, bytes) in files {
            tree::graft(&mut t, path, Entry::bytes(bytes.to_vec(), false, 0), "test").unwrap();
        }
        t
    }

    fn page_of(t: &mut Dir, l: Listing) -> String {
        let mut provenance = Provenance::new();
        add_listings("client", std::slice::from_ref(&l), t, &mut provenance).unwrap();
        assert_eq!(provenance[&PathBuf::from(&l.to)].kind(), "listing");
        let mut at: &Dir = t;
        let parts: Vec<&str> = l.to.split('/').filter(|p| !p.is_empty()).collect();
        let (last, parents) = parts.split_last().unwrap();
        for p in parents {
            at = match &at.entries[p.as_bytes()].node {
                Node::Dir(d) => d,
                _ => panic!(),
            };
        }
        match &at.entries[last.as_bytes()].node {
            Node::File {
                source: Source::Bytes(b),
                ..
            } => String::from_utf8(b.to_vec()).unwrap(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn rows_are_sorted_escaped_summed_and_leave_out_the_page() {
        let mut t = tree(&[
            ("/d/b.txt", b"abc"),
            ("/d/a b&<x>\".txt", b""),
            ("/d/sub/z.bin", b"zz"),
            ("/elsewhere.txt", b"not listed"),
        ]);
        let html = page_of(&mut t, listing("/d", "/d/index.html", Some("Tom & <Jerry>")));
        let rows: Vec<&str> = html.lines().filter(|l| l.starts_with("<tr><td>")).collect();
        assert_eq!(
            rows,
            [
                // SHA-256 of the empty string and of "abc" (FIPS 180-2's example).
                "<tr><td><a href=\"a%20b%26%3Cx%3E%22.txt\">a b&amp;&lt;x&gt;&quot;.txt</a></td>\
                 <td class=\"size\">0</td><td><code>\
                 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855</code></td></tr>",
                "<tr><td><a href=\"b.txt\">b.txt</a></td><td class=\"size\">3</td><td><code>\
                 ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad</code></td></tr>",
                &format!(
                    "<tr><td><a href=\"sub/z.bin\">sub/z.bin</a></td><td class=\"size\">2</td>\
                     <td><code>{}</code></td></tr>",
                    sha256(&Source::Bytes(b"zz".to_vec().into())).unwrap()
                ),
            ]
        );
        assert!(html.contains("<title>Tom &amp; &lt;Jerry&gt;</title>"), "{html}");
        assert!(!html.contains("index.html"), "{html}");
        // Listed again (a second listing of the folder), the page does not list itself.
        let d = find_dir(&t, "/d").unwrap();
        let paths: Vec<Vec<u8>> = super::rows(d, "/d", "/d/index.html")
            .unwrap()
            .into_iter()
            .map(|r| r.path)
            .collect();
        assert_eq!(paths.len(), 3);
        assert!(!paths.contains(&b"index.html".to_vec()));
        assert_eq!(super::rows(d, "/d", "/d/other.html").unwrap().len(), 4);
    }

    #[test]
    fn links_are_relative_to_the_page_folder() {
        let mut t = tree(&[("/d/x y/f.txt", b"f")]);
        let html = page_of(&mut t, listing("/d/x y", "/d/list/page.html", None));
        assert!(html.contains("<a href=\"../x%20y/f.txt\">f.txt</a>"), "{html}");
        assert!(html.contains("<h1>Files in /d/x y</h1>"), "{html}");
    }

    #[test]
    fn a_missing_or_file_dir_is_an_error_naming_the_recipe() {
        for dir in ["/nothing", "/d/f.txt"] {
            let mut t = tree(&[("/d/f.txt", b"f")]);
            let e = add_listings(
                "client",
                &[listing(dir, "/d/index.html", None)],
                &mut t,
                &mut Provenance::new(),
            )
            .unwrap_err();
            assert_eq!(
                e,
                format!(
                    "recipe client (recipes/client.toml:2:1): [[listings]] dir {dir} is not a \
                     folder in package `client`"
                )
            );
        }
    }
}
