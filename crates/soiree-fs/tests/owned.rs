//! Output folders: replaceable only when soiree-pack's manifest lists everything in them; new
//! outputs switched in together or not at all.

use std::path::{Path, PathBuf};

use soiree_fs::owned::replace_together;
use soiree_fs::{OwnedDir, OwnershipError, MARKER};

fn made(dir: &Path) {
    std::fs::create_dir_all(dir.join("root/bin")).unwrap();
    std::fs::write(dir.join("root/bin/app"), "app").unwrap();
    std::fs::write(dir.join("sandstorm-pkgdef.capnp"), "pkgdef").unwrap();
    std::os::unix::fs::symlink("bin/app", dir.join("root/app")).unwrap();
    OwnedDir::mark(dir).unwrap();
}

#[test]
fn a_folder_soiree_pack_made_may_be_replaced() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pkg");
    made(&dir);
    OwnedDir::check_replaceable(&dir).unwrap();
    OwnedDir::check_replaceable(&tmp.path().join("missing")).unwrap();
}

#[test]
fn a_folder_without_a_manifest_is_the_users() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("recipes");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("web.toml"), "x").unwrap();
    assert!(matches!(
        OwnedDir::check_replaceable(&dir),
        Err(OwnershipError::NotOurs { .. })
    ));
    let file = tmp.path().join("file");
    std::fs::write(&file, "x").unwrap();
    assert!(matches!(
        OwnedDir::check_replaceable(&file),
        Err(OwnershipError::NotOurs { .. })
    ));
}

#[test]
fn a_file_added_to_a_made_folder_keeps_it_from_being_replaced() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pkg");
    made(&dir);
    std::fs::write(dir.join("root/bin/notes.txt"), "mine").unwrap();
    match OwnedDir::check_replaceable(&dir) {
        Err(OwnershipError::Foreign { entry, .. }) => assert_eq!(entry, PathBuf::from("root/bin/notes.txt")),
        other => panic!("expected Foreign, got {other:?}"),
    }
    // A file named like the manifest deeper in the tree is not the manifest.
    std::fs::remove_file(dir.join("root/bin/notes.txt")).unwrap();
    std::fs::write(dir.join("root").join(MARKER), "").unwrap();
    assert!(OwnedDir::check_replaceable(&dir).is_err());
}

#[test]
fn outputs_switch_together() {
    let tmp = tempfile::tempdir().unwrap();
    let (old_dir, old_file) = (tmp.path().join("pkg"), tmp.path().join("pkg.spk"));
    made(&old_dir);
    std::fs::write(&old_file, "old package").unwrap();
    let new_dir = tmp.path().join(".pkg.staging");
    std::fs::create_dir(&new_dir).unwrap();
    std::fs::write(new_dir.join("new"), "new").unwrap();
    let new_file = tmp.path().join(".pkg.spk.new");
    std::fs::write(&new_file, "new package").unwrap();
    replace_together(&[
        (new_dir.clone(), old_dir.clone()),
        (new_file.clone(), old_file.clone()),
    ])
    .unwrap();
    assert_eq!(std::fs::read_to_string(old_dir.join("new")).unwrap(), "new");
    assert_eq!(std::fs::read_to_string(&old_file).unwrap(), "new package");
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 2, "only the two outputs stay: {left:?}");
}

#[test]
fn a_failed_switch_puts_every_old_output_back() {
    let tmp = tempfile::tempdir().unwrap();
    let (old_dir, old_file) = (tmp.path().join("pkg"), tmp.path().join("pkg.spk"));
    made(&old_dir);
    std::fs::write(&old_file, "old package").unwrap();
    let new_dir = tmp.path().join(".pkg.staging");
    std::fs::create_dir(&new_dir).unwrap();
    std::fs::write(new_dir.join("new"), "new").unwrap();
    // The second new output is missing, so its rename fails after the folder was switched.
    let missing = tmp.path().join(".pkg.spk.new");
    assert!(replace_together(&[(new_dir.clone(), old_dir.clone()), (missing, old_file.clone())]).is_err());
    assert_eq!(
        std::fs::read_to_string(old_dir.join("root/bin/app")).unwrap(),
        "app"
    );
    assert!(!old_dir.join("new").exists());
    assert_eq!(std::fs::read_to_string(&old_file).unwrap(), "old package");
    assert!(
        new_dir.join("new").exists(),
        "the new folder is back where it was"
    );
}
