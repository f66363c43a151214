//! Leftovers of killed runs are removed; files a running process writes are not.

use soiree_fs::stale::{locked_temp_file, remove_leftovers, remove_unheld_files};

fn ours(name: &str) -> bool {
    name.starts_with(".tool-") && name.ends_with(".tmp")
}

#[test]
fn unheld_temporaries_go_and_held_ones_stay() {
    let dir = tempfile::tempdir().unwrap();
    // What a run killed with SIGKILL leaves: the file, and no process holding its lock.
    let left = dir.path().join(".tool-abc123.tmp");
    std::fs::write(&left, vec![0u8; 4096]).unwrap();
    let writing = locked_temp_file(dir.path(), ".tool-", ".tmp").unwrap();
    let user = dir.path().join("tool-notes.tmp");
    std::fs::write(&user, "mine").unwrap();

    let removed = remove_unheld_files(dir.path(), ours).unwrap();
    assert_eq!(removed, vec![left.clone()]);
    assert!(!left.exists());
    assert!(writing.path().exists(), "a file being written stays");
    assert!(user.exists(), "a name the tool does not make stays");
}

#[test]
fn leftover_folders_go_under_their_lock() {
    let dir = tempfile::tempdir().unwrap();
    let staging = dir.path().join(".tool-x.tmp");
    std::fs::create_dir_all(staging.join("root/bin")).unwrap();
    std::fs::write(staging.join("root/bin/a"), "a").unwrap();
    std::fs::write(dir.path().join("keep"), "k").unwrap();
    assert_eq!(remove_leftovers(dir.path(), ours).unwrap(), vec![staging.clone()]);
    assert!(!staging.exists() && dir.path().join("keep").exists());
}
