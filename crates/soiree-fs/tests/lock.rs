//! Locks: a second taker is told who holds the lock, waits for it when asked to, and takes it
//! once the holder is gone; a FIFO in the lock's place is refused instead of blocking.

use std::sync::mpsc;
use std::time::Duration;

use soiree_fs::{Lock, LockError};

#[test]
fn a_held_lock_names_its_holder_and_is_free_once_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.lock");
    let first = Lock::try_acquire(&path, "first run").unwrap();
    match Lock::try_acquire(&path, "second run") {
        Err(LockError::Held { holder, .. }) => {
            assert_eq!(holder, format!("pid {} (first run)", std::process::id()))
        }
        other => panic!("expected Held, got {other:?}"),
    }
    drop(first);
    let again = Lock::try_acquire(&path, "second run").unwrap();
    assert_eq!(again.path(), path);
}

#[test]
fn acquire_waits_for_the_holder() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.lock");
    let first = Lock::try_acquire(&path, "first run").unwrap();
    let (told, heard) = mpsc::channel();
    let (took, taken) = mpsc::channel();
    let waiter = {
        let path = path.clone();
        std::thread::spawn(move || {
            let lock = Lock::acquire(&path, "second run", |holder| {
                told.send(holder.to_string()).unwrap()
            })
            .unwrap();
            took.send(()).unwrap();
            drop(lock);
        })
    };
    let holder = heard.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(holder.contains("first run"), "{holder}");
    assert!(
        taken.recv_timeout(Duration::from_millis(300)).is_err(),
        "took a held lock"
    );
    drop(first);
    taken.recv_timeout(Duration::from_secs(10)).unwrap();
    waiter.join().unwrap();
}

#[test]
fn a_fifo_where_the_lock_file_belongs_is_refused_not_waited_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.lock");
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let err = Lock::try_acquire(&path, "run").unwrap_err();
    assert!(err.is_io() && err.to_string().contains("FIFO"), "{err}");
}

#[test]
fn a_symlink_where_the_lock_file_belongs_is_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("precious");
    std::fs::write(&target, "keep me").unwrap();
    let path = dir.path().join("x.lock");
    std::os::unix::fs::symlink(&target, &path).unwrap();
    assert!(Lock::try_acquire(&path, "run").is_err());
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");
}
