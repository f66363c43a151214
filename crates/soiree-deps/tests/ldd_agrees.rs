//! The closure of real Debian programs holds exactly the loader and libraries `ldd` lists.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use soiree_deps::{closure, ObjectKind, Options};

/// Real paths of every ELF object in the closure of `program` except the program itself.
fn closure_libraries(program: &Path) -> BTreeSet<PathBuf> {
    let c = closure(&[program], &Options::default()).unwrap();
    let own = std::fs::canonicalize(program).unwrap();
    c.objects
        .values()
        .filter(|o| o.kind == ObjectKind::Elf)
        .map(|o| o.real.clone())
        .filter(|real| *real != own)
        .collect()
}

fn assert_agrees(program: &Path) {
    let ours = closure_libraries(program);
    let theirs = common::ldd(program);
    let only_ours: Vec<_> = ours.difference(&theirs).collect();
    let only_ldd: Vec<_> = theirs.difference(&ours).collect();
    assert!(
        only_ours.is_empty() && only_ldd.is_empty(),
        "{}: only in the closure: {only_ours:#?}\nonly in ldd: {only_ldd:#?}",
        program.display()
    );
}

#[test]
fn godot3_server_matches_ldd() {
    let godot = common::godot();
    assert_agrees(&godot);
    assert!(common::ldd(&godot).len() > 30);
}

#[test]
fn beam_smp_matches_ldd() {
    assert_agrees(&common::beam());
}

#[test]
fn redis_server_matches_ldd() {
    assert_agrees(&common::redis());
}

#[test]
fn nginx_matches_ldd() {
    assert_agrees(&common::nginx());
}
