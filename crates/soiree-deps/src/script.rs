//! `#!` lines, read the way Linux's binfmt_script reads them, and `#!/usr/bin/env NAME`.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

/// Linux reads at most this much of a file to find the `#!` line (BINPRM_BUF_SIZE).
pub const HEAD: usize = 256;

/// Linux refuses more than this many nested interpreters (BINPRM_MAX_RECURSION).
pub const MAX_NESTING: usize = 4;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shebang {
    pub interpreter: PathBuf,
    /// The one optional argument: the rest of the line, trimmed, spaces and all.
    pub arg: Option<OsString>,
}

/// Parses the `#!` line at the start of `head` (the first [`HEAD`] bytes of a file). `None` if
/// the file does not start with `#!`; `Some(None)` if it does but names no interpreter.
pub fn parse(head: &[u8]) -> Option<Option<Shebang>> {
    let rest = head.strip_prefix(b"#!")?;
    let line = rest.split(|b| *b == b'\n').next().unwrap_or(rest);
    let blank = |b: &u8| *b == b' ' || *b == b'\t';
    let line = trim(line, blank);
    let end = line
        .iter()
        .position(|b| blank(b) || *b == 0)
        .unwrap_or(line.len());
    let (interpreter, arg) = line.split_at(end);
    if interpreter.is_empty() {
        return Some(None);
    }
    let arg = trim(arg, blank);
    let arg = arg.split(|b| *b == 0).next().unwrap_or(arg);
    Some(Some(Shebang {
        interpreter: PathBuf::from(OsStr::from_bytes(interpreter)),
        arg: (!arg.is_empty()).then(|| OsStr::from_bytes(arg).to_os_string()),
    }))
}

fn trim(mut s: &[u8], blank: impl Fn(&u8) -> bool) -> &[u8] {
    while let [first, rest @ ..] = s {
        if !blank(first) {
            break;
        }
        s = rest;
    }
    while let [rest @ .., last] = s {
        if !blank(last) && *last != b'\r' {
            break;
        }
        s = rest;
    }
    s
}

/// The program `env` runs for this argument: `python3` in `#!/usr/bin/env python3` and in
/// `#!/usr/bin/env -S python3 -u`. Without `-S` the kernel hands env the whole rest of the line
/// as one word, so that whole word is the name.
pub fn env_program(arg: &OsStr) -> Option<OsString> {
    let bytes = arg.as_bytes();
    if !bytes.starts_with(b"-") {
        return Some(arg.to_os_string());
    }
    let mut words = bytes
        .split(|b| *b == b' ' || *b == b'\t')
        .filter(|w| !w.is_empty());
    while let Some(word) = words.next() {
        match word {
            b"-S"
            | b"--split-string"
            | b"-i"
            | b"--ignore-environment"
            | b"-"
            | b"-0"
            | b"--null"
            | b"-v"
            | b"--debug" => {}
            b"-u" | b"--unset" | b"-C" | b"--chdir" | b"-P" => {
                words.next();
            }
            w if w.starts_with(b"-S") => return Some(OsStr::from_bytes(&w[2..]).to_os_string()),
            w if w.starts_with(b"-") => {}
            w if w.contains(&b'=') => {}
            w => return Some(OsStr::from_bytes(w).to_os_string()),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shebang(s: &str) -> Option<Option<Shebang>> {
        parse(s.as_bytes())
    }

    #[test]
    fn reads_interpreter_and_one_argument() {
        let s = shebang("#! /bin/sh -e  \nrest").unwrap().unwrap();
        assert_eq!(s.interpreter, PathBuf::from("/bin/sh"));
        assert_eq!(s.arg.as_deref(), Some(OsStr::new("-e")));
        let s = shebang("#!/usr/bin/env python3 -u\n").unwrap().unwrap();
        assert_eq!(s.arg.as_deref(), Some(OsStr::new("python3 -u")));
        assert_eq!(shebang("#!\n"), Some(None));
        assert_eq!(shebang("\x7fELF"), None);
    }

    #[test]
    fn finds_the_program_env_runs() {
        let name = |s: &str| env_program(OsStr::new(s)).map(|n| n.to_string_lossy().into_owned());
        assert_eq!(name("python3").as_deref(), Some("python3"));
        assert_eq!(name("-S python3 -u").as_deref(), Some("python3"));
        assert_eq!(name("-S A=1 -u X node").as_deref(), Some("node"));
        assert_eq!(name("-Sruby").as_deref(), Some("ruby"));
        assert_eq!(name("-i").as_deref(), None);
    }
}
