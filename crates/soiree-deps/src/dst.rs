//! Dynamic string tokens in `DT_RPATH`/`DT_RUNPATH` and the extra library path: `$ORIGIN`,
//! `$LIB`, `$PLATFORM`, bare or in braces, expanded as glibc's `_dl_dst_substitute` does.

use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

/// What the tokens expand to for one object.
pub struct Tokens<'a> {
    /// The directory of the object: for the main program its real path's directory (ld.so
    /// reads /proc/self/exe), for a library the directory it was opened from.
    pub origin: Option<&'a Path>,
    pub lib: &'a str,
    pub platform: Option<&'a str>,
}

/// Splits a colon-separated search path into directories, expanding tokens. Elements that stay
/// relative are dropped: they would be relative to the program's working directory, which is
/// not known here. An element whose token has no value is dropped, as ld.so drops it.
pub fn search_dirs(list: &[u8], tokens: &Tokens) -> Vec<PathBuf> {
    list.split(|b| *b == b':')
        .filter(|e| !e.is_empty())
        .filter_map(|e| expand(e, tokens))
        .map(|e| PathBuf::from(std::ffi::OsString::from_vec(e)))
        .filter(|p| p.is_absolute())
        .collect()
}

/// Expands the tokens in one path element; `None` if a token it uses has no value.
pub fn expand(element: &[u8], tokens: &Tokens) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(element.len());
    let mut i = 0;
    while i < element.len() {
        if element[i] == b'$' {
            if let Some((name, len)) = token_at(&element[i + 1..]) {
                match name {
                    Token::Origin => out.extend_from_slice(tokens.origin?.as_os_str().as_bytes()),
                    Token::Lib => out.extend_from_slice(tokens.lib.as_bytes()),
                    Token::Platform => out.extend_from_slice(tokens.platform?.as_bytes()),
                }
                i += 1 + len;
                continue;
            }
        }
        out.push(element[i]);
        i += 1;
    }
    Some(out)
}

/// Whether some element of a search list uses `$ORIGIN`.
pub fn uses_origin(list: &[u8]) -> bool {
    (0..list.len()).any(|i| list[i] == b'$' && matches!(token_at(&list[i + 1..]), Some((Token::Origin, _))))
}

enum Token {
    Origin,
    Lib,
    Platform,
}

/// The token right after a `$`, and how many bytes it takes. A bare token must end the element
/// or be followed by `/` (`$ORIGINx` is not a token); a braced one must close its brace.
fn token_at(s: &[u8]) -> Option<(Token, usize)> {
    let (curly, body) = match s.strip_prefix(b"{") {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    for (word, token) in [
        (&b"ORIGIN"[..], Token::Origin),
        (&b"LIB"[..], Token::Lib),
        (&b"PLATFORM"[..], Token::Platform),
    ] {
        let Some(after) = body.strip_prefix(word) else {
            continue;
        };
        if curly {
            if after.first() == Some(&b'}') {
                return Some((token, word.len() + 2));
            }
        } else if after.is_empty() || after[0] == b'/' {
            return Some((token, word.len()));
        }
        return None;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expanded(s: &str) -> Option<String> {
        let tokens = Tokens {
            origin: Some(Path::new("/opt/app/bin")),
            lib: "lib/x86_64-linux-gnu",
            platform: Some("x86_64"),
        };
        expand(s.as_bytes(), &tokens).map(|v| String::from_utf8(v).unwrap())
    }

    #[test]
    fn expands_like_glibc() {
        assert_eq!(expanded("$ORIGIN/../lib").as_deref(), Some("/opt/app/bin/../lib"));
        assert_eq!(expanded("/y/${ORIGIN}z").as_deref(), Some("/y//opt/app/binz"));
        assert_eq!(expanded("/w/$ORIGINz").as_deref(), Some("/w/$ORIGINz"));
        assert_eq!(expanded("/v/$ORIGIN_a").as_deref(), Some("/v/$ORIGIN_a"));
        assert_eq!(
            expanded("/x/$LIB/$PLATFORM").as_deref(),
            Some("/x/lib/x86_64-linux-gnu/x86_64")
        );
        assert_eq!(expanded("/$HOME/x").as_deref(), Some("/$HOME/x"));
    }

    #[test]
    fn drops_relative_and_empty_elements() {
        let tokens = Tokens {
            origin: None,
            lib: "lib",
            platform: None,
        };
        let dirs = search_dirs(b"/a::lib:$ORIGIN/x:/b", &tokens);
        assert_eq!(dirs, vec![PathBuf::from("/a"), PathBuf::from("/b")]);
    }

    #[test]
    fn knows_which_lists_use_origin() {
        assert!(uses_origin(b"/a:$ORIGIN/../lib"));
        assert!(uses_origin(b"${ORIGIN}"));
        assert!(!uses_origin(b"/w/$ORIGINz:/x/$LIB"));
    }
}
