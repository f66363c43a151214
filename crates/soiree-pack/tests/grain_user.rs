//! Every package names the grain's user: a minimal `/etc/passwd` and `/etc/group` for uid and
//! gid 1000, so that a program that looks its user up (`id`, PostgreSQL's initdb) works in a
//! grain; a recipe that maps its own files keeps them.

mod common;

use std::path::Path;
use std::process::Output;

use common::{text, Party};

/// A party whose package holds coreutils' `id` (its closure comes with it).
fn id_party(extra_recipe: Option<&str>) -> Party {
    let id = common::program("/usr/bin/id", "coreutils");
    let mut recipes = vec!["id"];
    if extra_recipe.is_some() {
        recipes.push("etc");
    }
    let party = Party::new(
        "tools = { path = \"inputs/tools\" }\netc = { path = \"inputs/etc\" }",
        &recipes,
    );
    party.copy(&id, "inputs/tools/usr/bin/id");
    party.recipe(
        "id",
        "[[files]]\nsource = \"tools\"\nfrom = \"usr/bin/id\"\nto = \"/usr/bin/id\"\nexecutable = true\n",
    );
    std::fs::create_dir_all(party.path("inputs/etc")).unwrap();
    if let Some(passwd) = extra_recipe {
        std::fs::write(party.path("inputs/etc/passwd"), passwd).unwrap();
        party.recipe(
            "etc",
            "[[files]]\nsource = \"etc\"\nfrom = \"passwd\"\nto = \"/etc/passwd\"\n",
        );
    }
    party
}

/// `id ARGS` in the package as a grain runs it: as uid and gid 1000 in a user namespace.
fn id_in_grain(root: &Path, args: &[&str]) -> Output {
    let mut cmd = std::process::Command::new("bwrap");
    cmd.args(soiree_test_support::bwrap_flags())
        .args(["--unshare-user", "--uid", "1000", "--gid", "1000", "--ro-bind"])
        .arg(root)
        .args(["/", "--dev", "/dev", "--clearenv", "/usr/bin/id"])
        .args(args);
    cmd.output().unwrap()
}

#[test]
fn the_grain_user_has_a_name() {
    let party = id_party(None);
    let root = party.build(&[]).unwrap_or_else(|o| panic!("{}", text(&o.stderr)));
    let passwd = std::fs::read_to_string(root.join("etc/passwd")).unwrap();
    assert!(passwd.contains("grain:x:1000:1000:"), "{passwd}");
    let out = id_in_grain(&root, &["-un"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "grain");
    let out = id_in_grain(&root, &["-gn"]);
    assert_eq!(text(&out.stdout).trim(), "grain", "{}", text(&out.stderr));
    // `ls` says who placed it.
    let out = party.run(&["why", "app", "/etc/passwd"]);
    assert!(text(&out.stdout).contains("soiree-pack"), "{}", text(&out.stdout));
}

#[test]
fn a_recipes_own_passwd_is_kept() {
    let own = "root:x:0:0::/root:/bin/sh\npostgres:x:1000:1000::/var/lib/postgresql:/bin/sh\n";
    let party = id_party(Some(own));
    let root = party.build(&[]).unwrap_or_else(|o| panic!("{}", text(&o.stderr)));
    assert_eq!(std::fs::read_to_string(root.join("etc/passwd")).unwrap(), own);
    let out = id_in_grain(&root, &["-un"]);
    assert_eq!(text(&out.stdout).trim(), "postgres", "{}", text(&out.stderr));
    // The group file is still there for the recipe that brought no /etc/group.
    assert!(root.join("etc/group").is_file());
}
