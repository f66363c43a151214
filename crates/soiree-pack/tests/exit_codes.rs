//! docs/exit-codes.md, checked against every command: 1 when the input is rejected, 2 for a
//! usage error, 3 when the machine fails — the same fault the same code in every command.

mod common;

use std::path::Path;

use common::{text, Party};

/// A party with one package `app` that maps `input/` to `/srv`.
fn party() -> Party {
    let p = Party::new("input = { path = \"input\" }", &["web"]);
    p.recipe("web", "[[files]]\nsource = \"input\"\nto = \"/srv\"\n");
    std::fs::create_dir_all(p.path("input")).unwrap();
    std::fs::write(p.path("input/index.html"), "hi\n").unwrap();
    p
}

/// Runs `soiree-pack ARGS` in the party's folder; returns its exit code and standard error.
fn code(p: &Party, args: &[&str]) -> (Option<i32>, String) {
    let out = common::soiree(p.dir.path(), p.dir.path())
        .args(args)
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .output()
        .unwrap();
    (out.status.code(), text(&out.stderr))
}

fn expect(p: &Party, args: &[&str], want: i32) {
    let (got, err) = code(p, args);
    assert_eq!(got, Some(want), "soiree-pack {}: {err}", args.join(" "));
}

/// A path under a regular file: every attempt to create it fails with ENOTDIR, even as root.
fn unwritable(p: &Party) -> String {
    std::fs::write(p.path("a-file"), "x").unwrap();
    p.path("a-file/below").display().to_string()
}

#[test]
fn party_commands() {
    let p = party();
    let bad_out = unwritable(&p);
    // build
    expect(&p, &["build", "--offline", "no-such-package"], 2);
    expect(&p, &["build", "--offline", "--out", &bad_out], 3);
    expect(&p, &["build", "--offline", "--party", "missing.toml"], 3);
    expect(&p, &["build", "--offline", "--rebuild", "input"], 2);
    // check
    expect(&p, &["check"], 0);
    expect(&p, &["check", "--party", "missing.toml"], 3);
    // ls and why
    expect(&p, &["ls", "--offline", "no-such-package"], 2);
    expect(&p, &["why", "--offline", "app", "/no/such/path"], 1);
    expect(&p, &["ls", "--offline", "app", "--sysroot", &bad_out], 1);
    // run
    expect(&p, &["run", "--offline", "no-such-package"], 2);
    expect(&p, &["run", "--offline", "app", "--udp", "not-a-port"], 2);
    // descriptor
    expect(&p, &["descriptor", "encode", "--interface", "nope"], 2);
    expect(&p, &["descriptor", "decode", "not-base64!"], 1);
    // add and set
    expect(&p, &["add", "web", "--package", "nope"], 1);
    expect(&p, &["set", "party.name", "\"x\"", "--party", "missing.toml"], 3);
    // cache
    expect(&p, &["cache", "clean", "--keep", "lots"], 2);
    // enter: no grain of that name runs here
    expect(&p, &["enter", "app"], 2);
    // init, new recipe, recipes
    expect(&p, &["init"], 2);
    expect(&p, &["init", &bad_out], 3);
    expect(&p, &["init", "fresh", "--name", "Not_A_Name"], 2);
    expect(&p, &["new", "recipe", "web"], 2);
    expect(&p, &["new", "recipe", "Not_A_Name"], 2);
    expect(&p, &["recipes"], 0);
    std::fs::write(p.path("recipes/broken.toml"), "files = 3\n").unwrap();
    expect(&p, &["recipes"], 1);
    std::fs::remove_file(p.path("recipes/broken.toml")).unwrap();
    // why of a path the package lacks, with --all
    expect(&p, &["why", "--offline", "--all", "app", "/no/such/path"], 1);

    // A party that is wrong is rejected by every command that reads it.
    std::fs::write(p.path("party.toml"), "[party]\nname = 3\n").unwrap();
    for args in [
        &["check"][..],
        &["build", "--offline"],
        &["ls", "--offline", "app"],
        &["lock", "--offline"],
    ] {
        expect(&p, args, 1);
    }
}

#[test]
fn package_commands() {
    let p = party();
    let bad_out = unwritable(&p);
    let ring = p.path("ring").display().to_string();
    expect(&p, &["keygen", "--keyring", &ring], 0);
    let tree = p.path("tree");
    std::fs::create_dir(&tree).unwrap();
    let tree_s = tree.display().to_string();
    // pack: no manifest in the tree is the input's fault; an output that cannot be written the
    // machine's; a missing argument is usage.
    expect(&p, &["pack"], 2);
    expect(&p, &["pack", &tree_s, "-o", "x.spk", "--keyring", &ring], 1);
    // A real package to verify, sign and unpack.
    let built = code(&p, &["build", "--offline", "--out", "dist"]);
    assert_eq!(built.0, Some(0), "{}", built.1);
    let root = p.path("dist/app/root").display().to_string();
    expect(
        &p,
        &[
            "pack",
            &root,
            "-o",
            &format!("{bad_out}/x.spk"),
            "--keyring",
            &ring,
        ],
        3,
    );
    std::fs::write(p.path("garbage.spk"), "not a package").unwrap();
    for cmd in ["verify", "unpack"] {
        let mut args = vec![cmd, "garbage.spk"];
        if cmd == "unpack" {
            args.push("out");
        }
        expect(&p, &args, 1);
        args[1] = "missing.spk";
        expect(&p, &args, 3);
    }
    expect(&p, &["unpack", "dist/app.spk", &bad_out], 3);
    expect(&p, &["sign", "garbage.spk", "-o", "s.spk", "--keyring", &ring], 1);
    expect(&p, &["sign", "missing.spk", "-o", "s.spk", "--keyring", &ring], 3);
    expect(
        &p,
        &[
            "sign",
            "dist/app.spk",
            "-o",
            &format!("{bad_out}/s.spk"),
            "--keyring",
            &ring,
        ],
        3,
    );
    // keys
    expect(&p, &["keys", "list", "--keyring", &format!("{bad_out}/ring")], 3);
    std::fs::write(p.path("damaged"), [1u8; 13]).unwrap();
    expect(&p, &["keys", "list", "--keyring", "damaged"], 1);
    expect(&p, &["keys", "export", "not-an-app-id", "--keyring", &ring], 1);
    expect(&p, &["keygen", "--keyring", &format!("{bad_out}/ring")], 3);
}

#[test]
fn an_unknown_command_or_flag_is_usage() {
    let p = party();
    expect(&p, &["no-such-command"], 2);
    expect(&p, &["build", "--no-such-flag"], 2);
    assert!(Path::new(env!("CARGO_BIN_EXE_soiree-pack")).exists());
}
