//! Advisory locks on a file that records who holds them, so that a second run says what it
//! waits for (or what stops it) instead of racing the first.
//!
//! `flock(2)` through `File::lock`: the kernel drops the lock when its holder dies, however it
//! dies, so a killed run never leaves a lock that has to be removed by hand.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// A held lock; dropping it releases the lock (the file stays, empty of a holder).
#[derive(Debug)]
pub struct Lock {
    file: File,
    path: PathBuf,
}

#[derive(Debug)]
pub enum LockError {
    /// Another process holds the lock; `holder` is what it wrote there.
    Held {
        path: PathBuf,
        holder: String,
    },
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl std::fmt::Display for LockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LockError::Held { path, holder } => {
                write!(f, "{} is held by {holder}", path.display())
            }
            LockError::Io { path, source } => write!(f, "{}: {source}", path.display()),
        }
    }
}

impl std::error::Error for LockError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LockError::Held { .. } => None,
            LockError::Io { source, .. } => Some(source),
        }
    }
}

impl LockError {
    /// The lock file could not be opened or locked (the machine's fault, not a holder).
    pub fn is_io(&self) -> bool {
        matches!(self, LockError::Io { .. })
    }
}

impl Lock {
    /// Takes the lock at `path`, or fails at once naming the process that holds it.
    /// `what` describes this run to whoever finds the lock held ("soiree-pack build").
    pub fn try_acquire(path: &Path, what: &str) -> Result<Lock, LockError> {
        let file = open(path)?;
        match file.try_lock() {
            Ok(()) => Lock::held(file, path, what),
            Err(TryLockError::WouldBlock) => Err(LockError::Held {
                path: path.to_path_buf(),
                holder: holder(&file),
            }),
            Err(TryLockError::Error(e)) => Err(io(path)(e)),
        }
    }

    /// Takes the lock at `path`, waiting for its holder to finish; `waiting` is told who that is
    /// once, before the wait.
    pub fn acquire(path: &Path, what: &str, waiting: impl FnOnce(&str)) -> Result<Lock, LockError> {
        Lock::wait_for(path, what, waiting, false)
    }

    /// Takes the lock at `path` shared with other shared holders (readers of what it guards),
    /// waiting while someone holds it exclusively; `waiting` is told who that is. The holder line
    /// names the latest of the sharing holders.
    pub fn acquire_shared(path: &Path, what: &str, waiting: impl FnOnce(&str)) -> Result<Lock, LockError> {
        Lock::wait_for(path, what, waiting, true)
    }

    fn wait_for(
        path: &Path,
        what: &str,
        waiting: impl FnOnce(&str),
        shared: bool,
    ) -> Result<Lock, LockError> {
        let file = open(path)?;
        let tried = if shared {
            file.try_lock_shared()
        } else {
            file.try_lock()
        };
        match tried {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                waiting(&holder(&file));
                let locked = if shared { file.lock_shared() } else { file.lock() };
                locked.map_err(io(path))?;
            }
            Err(TryLockError::Error(e)) => return Err(io(path)(e)),
        }
        Lock::held(file, path, what)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn held(mut file: File, path: &Path, what: &str) -> Result<Lock, LockError> {
        let line = format!("pid {} ({what})\n", std::process::id());
        file.set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| file.write_all(line.as_bytes()))
            .map_err(io(path))?;
        Ok(Lock {
            file,
            path: path.to_path_buf(),
        })
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // A holder that is gone should not be named by the next run that waits on a new one.
        let _ = self.file.set_len(0);
    }
}

/// Opens (creating) a lock file. Never follows a symlink and never blocks on a FIFO put there:
/// a lock file is soiree-pack's own, so anything else in its place is refused.
fn open(path: &Path) -> Result<File, LockError> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o644)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .map_err(io(path))?;
    let kind = file.metadata().map_err(io(path))?.file_type();
    if !kind.is_file() {
        let what = if kind.is_fifo() {
            "a FIFO"
        } else {
            "not a regular file"
        };
        return Err(io(path)(std::io::Error::other(format!(
            "{what} where a lock file belongs"
        ))));
    }
    Ok(file)
}

fn holder(mut file: &File) -> String {
    let mut text = String::new();
    let _ = file.read_to_string(&mut text);
    let text = text.trim();
    if text.is_empty() {
        "another process".into()
    } else {
        text.chars().filter(|c| !c.is_control()).collect()
    }
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> LockError + '_ {
    move |source| LockError::Io {
        path: path.to_path_buf(),
        source,
    }
}
