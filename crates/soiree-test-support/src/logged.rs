//! A program run in the background with its output collected as it comes, waited on for a line or its end, stopped when dropped.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A running program whose output is collected into one text as it comes. Killed when dropped
/// (after a chance to stop on SIGINT, if [`Logged::interrupt_on_drop`] said so).
pub struct Logged {
    child: Child,
    log: Arc<Mutex<String>>,
    what: String,
    interrupt_on_drop: bool,
}

impl Logged {
    /// Starts `cmd` (stdin closed, stdout discarded) collecting its stderr as it comes, bytes
    /// and all: a program whose children write to the same stderr may have its lines cut by
    /// theirs, and what it wrote is seen as soon as it is written.
    pub fn stderr(mut cmd: Command, what: &str) -> Logged {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        let mut stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let sink = log.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Logged::new(child, log, what)
    }

    /// Starts `cmd` (stdin closed) collecting its stdout and stderr line by line, so that the
    /// two streams never mix inside a line.
    pub fn lines(mut cmd: Command, what: &str) -> Logged {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        let log = Arc::new(Mutex::new(String::new()));
        for r in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let sink = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(r).lines().map_while(Result::ok) {
                    let mut l = sink.lock().unwrap();
                    l.push_str(&line);
                    l.push('\n');
                }
            });
        }
        Logged::new(child, log, what)
    }

    fn new(child: Child, log: Arc<Mutex<String>>, what: &str) -> Logged {
        Logged {
            child,
            log,
            what: what.to_string(),
            interrupt_on_drop: false,
        }
    }

    /// When dropped still running, SIGINT first and up to 30 s to stop (as `up` stops its
    /// grains on Ctrl-C), then SIGKILL.
    pub fn interrupt_on_drop(mut self) -> Logged {
        self.interrupt_on_drop = true;
        self
    }

    /// What it wrote so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Waits until the log holds `want`; the log then. Fails the test if the program ends
    /// first or after `within`.
    pub fn wait_log(&mut self, want: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            let l = self.log();
            if l.contains(want) {
                return l;
            }
            if let Some(st) = self.child.try_wait().unwrap() {
                // What it wrote last may still be on its way through a reader thread.
                std::thread::sleep(Duration::from_millis(100));
                let l = self.log();
                if l.contains(want) {
                    return l;
                }
                panic!("{} ended ({st}) before `{want}`:\n{l}", self.what);
            }
            assert!(Instant::now() < deadline, "{}: no `{want}` in:\n{l}", self.what);
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends signal `sig`.
    pub fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on our own child.
        unsafe {
            libc::kill(self.child.id() as i32, sig);
        }
    }

    /// Waits for its own end: its exit code (`None` for a signal) and the whole log. Fails
    /// the test after `within`.
    pub fn finish(&mut self, within: Duration) -> (Option<i32>, String) {
        let deadline = Instant::now() + within;
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                // Let the reader threads take the last lines.
                std::thread::sleep(Duration::from_millis(100));
                return (st.code(), self.log());
            }
            assert!(
                Instant::now() < deadline,
                "{} did not end in {within:?}:\n{}",
                self.what,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Ctrl-C (SIGINT), then [`Logged::finish`].
    pub fn interrupt(&mut self, within: Duration) -> (Option<i32>, String) {
        self.signal(libc::SIGINT);
        self.finish(within)
    }
}

impl Drop for Logged {
    fn drop(&mut self) {
        if self.interrupt_on_drop && self.child.try_wait().ok().flatten().is_none() {
            self.signal(libc::SIGINT);
            let deadline = Instant::now() + Duration::from_secs(30);
            while self.child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
