//! Private folders are 0700 whatever the umask. (Its own test binary: the umask is per process.)

use std::os::unix::fs::PermissionsExt;

use soiree_fs::create_private_dir;

fn mode(p: &std::path::Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn private_folders_are_0700_under_umask_000_and_existing_ones_are_narrowed() {
    // SAFETY: umask only changes this process's file creation mask.
    let old = unsafe { libc::umask(0) };
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("data/soiree-pack/dev-keys");
    create_private_dir(&keys).unwrap();
    assert_eq!(mode(&keys), 0o700);
    assert_eq!(mode(&dir.path().join("data/soiree-pack")), 0o700);

    let open = dir.path().join("cache");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    create_private_dir(&open).unwrap();
    assert_eq!(mode(&open), 0o700);
    // SAFETY: as above.
    unsafe { libc::umask(old) };
}
