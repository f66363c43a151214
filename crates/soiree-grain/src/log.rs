//! Service output on the supervisor's stderr, one line at a time, each line prefixed with the
//! service's name (`redis| Ready to accept connections`).

use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A line without its end is written anyway after this long without more output (a prompt, a
/// progress bar), or at this length, so nothing waits forever in the buffer.
const PARTIAL_AFTER_MS: i32 = 500;
const MAX_LINE: usize = 16 * 1024;

/// Splits a byte stream into prefixed lines.
pub struct Prefixer {
    prefix: Vec<u8>,
    pending: Vec<u8>,
}

impl Prefixer {
    pub fn new(name: &str) -> Prefixer {
        Prefixer {
            prefix: format!("{name}| ").into_bytes(),
            pending: Vec::new(),
        }
    }

    /// The complete lines in `data` (and before it), prefixed, ready to write in one piece.
    pub fn feed(&mut self, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for &b in data {
            self.pending.push(b);
            if b == b'\n' || self.pending.len() >= MAX_LINE {
                self.emit(&mut out);
            }
        }
        out
    }

    /// What is left of an unfinished line, ended with a newline.
    pub fn flush(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        if !self.pending.is_empty() {
            self.emit(&mut out);
        }
        out
    }

    pub fn has_partial(&self) -> bool {
        !self.pending.is_empty()
    }

    fn emit(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.prefix);
        out.append(&mut self.pending);
        if out.last() != Some(&b'\n') {
            out.push(b'\n');
        }
    }
}

/// Writes prefixed lines to stderr. One `write_all` per batch under stderr's lock, so lines of
/// different services never mix.
pub fn write_stderr(bytes: &[u8]) {
    if !bytes.is_empty() {
        // Nowhere to report a closed stderr to.
        let _ = std::io::stderr().lock().write_all(bytes);
    }
}

/// A message of the supervisor itself.
pub fn say(message: &str) {
    write_stderr(
        Prefixer::new("soiree-grain")
            .feed(format!("{message}\n").as_bytes())
            .as_slice(),
    );
}

/// A text to watch a service's output for, and the flag set once a line contains it.
pub type Watch = (String, Arc<AtomicBool>);

/// How many of a service's last lines are kept, to show when it keeps failing.
pub const TAIL_LINES: usize = 8;

/// A service's last [`TAIL_LINES`] lines of output (prefixed), across its restarts.
pub type Tail = Arc<std::sync::Mutex<std::collections::VecDeque<String>>>;

fn remember(tail: &Tail, lines: &[u8]) {
    // A poisoned lock only means a log thread panicked mid-push: the lines are still usable.
    let mut kept = tail.lock().unwrap_or_else(|e| e.into_inner());
    for line in lines.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        if kept.len() == TAIL_LINES {
            kept.pop_front();
        }
        kept.push_back(String::from_utf8_lossy(line).into_owned());
    }
}

/// Copies `reader` (a service's stdout and stderr, one pipe) to stderr with `name`'s prefix,
/// until every writer has closed it; sets `watch`'s flag when a line contains its text, and
/// keeps the last lines in `tail`.
pub fn forward(
    name: &str,
    mut reader: std::io::PipeReader,
    watch: Option<Watch>,
    tail: Option<Tail>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    let mut p = Prefixer::new(name);
    let write = move |lines: &[u8]| {
        if let Some(tail) = &tail {
            remember(tail, lines);
        }
        if let Some((text, seen)) = &watch {
            // Lines come out whole and the text has no newline, so a match is within a line.
            if lines.windows(text.len()).any(|w| w == text.as_bytes()) {
                seen.store(true, Ordering::SeqCst);
            }
        }
        write_stderr(lines);
    };
    std::thread::Builder::new()
        .name(format!("log {name}"))
        .spawn(move || {
            let mut buf = [0u8; 8192];
            loop {
                if p.has_partial() && !readable_within(&reader, PARTIAL_AFTER_MS) {
                    write(&p.flush());
                }
                match reader.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => write(&p.feed(&buf[..n])),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
            write(&p.flush());
        })
}

/// Whether `fd` has data (or end of file) within `ms` milliseconds.
fn readable_within(fd: &impl AsRawFd, ms: i32) -> bool {
    let mut pfd = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd for the duration of the call.
    let n = unsafe { libc::poll(&mut pfd, 1, ms) };
    n != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_each_line_and_keeps_partial_ones() {
        let mut p = Prefixer::new("db");
        assert_eq!(p.feed(b"one\ntw"), b"db| one\n");
        assert_eq!(p.feed(b"o\nthree"), b"db| two\n");
        assert!(p.has_partial());
        assert_eq!(p.flush(), b"db| three\n");
        assert_eq!(p.flush(), b"");
        assert_eq!(p.feed(b"\n"), b"db| \n");
    }

    #[test]
    fn a_very_long_line_is_cut() {
        let mut p = Prefixer::new("x");
        let out = p.feed(&vec![b'a'; MAX_LINE + 10]);
        assert_eq!(out.len(), 3 + MAX_LINE + 1);
        assert_eq!(p.flush().len(), 3 + 10 + 1);
    }
}
