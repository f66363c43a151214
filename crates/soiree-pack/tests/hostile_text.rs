//! Text from a package or a party file never reaches a terminal raw: a title, a marketing
//! version, a file name or symlink target from a source, a package name or a line of party.toml
//! holding escape sequences (`ESC[4A ESC[2K` moves the cursor up and erases the app id line
//! `verify` printed) or a right-to-left override is printed with those characters escaped.

mod common;

use std::process::Output;

use common::{text, Party};
use soiree_schema::manifest_capnp::manifest;

/// Nothing in `out`'s stdout or stderr that a terminal would act on.
fn no_raw_controls(out: &Output) {
    for (what, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        let shown = text(bytes);
        assert!(
            !shown
                .chars()
                .any(|c| (c.is_control() && c != '\n' && c != '\t') || c == '\u{202e}'),
            "{what} holds a raw control character: {shown:?}"
        );
    }
}

const EVIL_TITLE: &str = "Evil\u{1b}[4A\u{1b}[2Kapp id          0000";

fn manifest_bytes() -> Vec<u8> {
    let mut b = capnp::message::Builder::new_default();
    {
        let mut m = b.init_root::<manifest::Builder>();
        m.set_app_version(1);
        m.reborrow().init_app_title().set_default_text(EVIL_TITLE);
        m.reborrow()
            .init_app_marketing_version()
            .set_default_text("1.0\u{202e}\u{9b}2J");
        m.init_continue_command().init_argv(1).set(0, "/run");
    }
    capnp::serialize::write_message_to_words(&b)
}

#[test]
fn verify_escapes_the_title_and_marketing_version() {
    let t = tempfile::tempdir().unwrap();
    let app = t.path().join("app");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::write(app.join("sandstorm-manifest"), manifest_bytes()).unwrap();
    let ring = t.path().join("keyring");
    let spk = t.path().join("evil.spk");
    let run = |args: &[&str]| common::soiree(t.path(), t.path()).args(args).output().unwrap();
    assert!(run(&["keygen", "-k", ring.to_str().unwrap()]).status.success());
    let packed = run(&[
        "pack",
        app.to_str().unwrap(),
        "-o",
        spk.to_str().unwrap(),
        "-k",
        ring.to_str().unwrap(),
    ]);
    assert!(packed.status.success(), "{}", text(&packed.stderr));

    let out = run(&["verify", spk.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    no_raw_controls(&out);
    let shown = text(&out.stdout);
    assert!(
        shown.contains("title           Evil\\u{1b}[4A\\u{1b}[2Kapp id          0000\n"),
        "{shown}"
    );
    assert!(shown.contains("(1.0\\u{202e}\\u{9b}2J)"), "{shown}");
    // JSON keeps the text exactly (serde escapes it for JSON).
    let json = run(&["verify", "--json", spk.to_str().unwrap()]);
    no_raw_controls(&json);
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(doc["title"], EVIL_TITLE);
}

#[test]
fn ls_and_why_escape_names_and_targets_from_sources() {
    let party = Party::new("data = { path = \"inputs/data\" }", &["data"]);
    let dir = party.path("inputs/data");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("evil\u{1b}[2Jname"), b"x").unwrap();
    std::os::unix::fs::symlink("\u{1b}]0;pwned\u{7}", dir.join("link")).unwrap();
    party.recipe("data", "[[files]]\nsource = \"data\"\nto = \"/opt/data\"\n");

    let out = party.run(&["ls", "app"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    no_raw_controls(&out);
    let shown = text(&out.stdout);
    assert!(shown.contains("/opt/data/evil\\u{1b}[2Jname"), "{shown}");
    assert!(
        shown.contains("/opt/data/link → \\u{1b}]0;pwned\\u{7}"),
        "{shown}"
    );

    let out = party.run(&["why", "app", "/opt/data/evil\u{1b}[2Jname"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    no_raw_controls(&out);
    assert!(
        text(&out.stdout).contains("/opt/data/evil\\u{1b}[2Jname in package `app`"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn check_escapes_party_text_in_its_diagnostics() {
    let t = tempfile::tempdir().unwrap();
    let check = |party: &str| {
        std::fs::write(t.path().join("party.toml"), party).unwrap();
        let out = common::soiree(t.path(), t.path()).arg("check").output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        no_raw_controls(&out);
        text(&out.stderr)
    };
    // A package name given with a TOML escape: quoted in the message, escaped.
    let shown = check(
        "[party]\nname = \"p\"\napp-version = 1\nmarketing-version = \"1\"\n\n\
         [packages.\"evil\\u001b[2J\"]\ntitle = \"T\"\nrecipes = []\n",
    );
    assert!(shown.contains("evil\\u{1b}[2J"), "{shown}");
    // A raw escape in the file itself: the quoted line shows it masked.
    let shown = check("[party]\nname = \"p\" \u{1b}[2J\n");
    assert!(shown.contains("party.toml"), "{shown}");
}
