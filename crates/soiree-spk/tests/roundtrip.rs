mod common;
use common::*;

#[test]
fn smoke() {
    let t = tempfile::tempdir().unwrap();
    sample_tree(&t.path().join("app"));
    let w = pack_dir(&t.path().join("app"), &key(1), &t.path().join("a.spk"));
    let v = soiree_spk::verify(&t.path().join("a.spk")).unwrap();
    assert_eq!(v.opened.package_id, w.package_id);
}
