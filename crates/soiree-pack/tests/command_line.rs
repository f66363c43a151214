//! The command line as a user meets it: the order of `--help`, one JSON form (`--message-format
//! json`, `--json` its alias) on every command that reports, `-q`/`-v`, confirmations, the party
//! file found from a subfolder, and `add` refusing a recipe the package already uses.

mod common;

use std::process::Output;

use common::{text, Party};

fn party() -> Party {
    let p = Party::new("input = { path = \"input\" }", &["web"]);
    p.recipe("web", "[[files]]\nsource = \"input\"\nto = \"/srv\"\n");
    std::fs::create_dir_all(p.path("input")).unwrap();
    std::fs::write(p.path("input/index.html"), "hi\n").unwrap();
    p
}

fn run_in(p: &Party, sub: &str, args: &[&str]) -> Output {
    let cwd = p.path(sub);
    std::fs::create_dir_all(&cwd).unwrap();
    common::soiree(&cwd, p.dir.path())
        .args(args)
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .output()
        .unwrap()
}

#[test]
fn help_lists_commands_in_the_order_a_user_meets_them() {
    let p = party();
    let out = run_in(&p, "", &["--help"]);
    let help = text(&out.stdout);
    let commands: Vec<&str> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(
        &commands[..6],
        ["build", "check", "run", "up", "enter", "ls"],
        "{help}"
    );
    let keygen = commands.iter().position(|c| *c == "keygen").unwrap();
    assert_eq!(&commands[keygen..], ["keygen", "keys", "help"], "{help}");
    // Each command's summary fits one line of the list.
    let list = help.split("Options:").next().unwrap();
    assert!(list.lines().all(|l| l.len() < 110), "{help}");
}

#[test]
fn every_argument_and_flag_has_help() {
    let p = party();
    let top = text(&run_in(&p, "", &["--help"]).stdout);
    let names: Vec<String> = top
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .filter(|c| c != "help")
        .collect();
    let mut commands: Vec<Vec<String>> = names.iter().map(|n| vec![n.clone()]).collect();
    for (parent, subs) in [
        ("keys", &["list", "export"][..]),
        ("descriptor", &["encode", "decode"]),
        ("cache", &["clean"]),
    ] {
        for s in subs {
            commands.push(vec![parent.to_string(), s.to_string()]);
        }
    }
    for cmd in commands {
        let mut args: Vec<&str> = cmd.iter().map(String::as_str).collect();
        args.push("--help");
        let help = text(&run_in(&p, "", &args).stdout);
        // An item is described on its own line (`  -q, --quiet   Say less…`) or, in long help,
        // on the more indented lines below it.
        let lines: Vec<&str> = help.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let item = line.trim_start();
            let indent = line.len() - item.len();
            if !(2..=6).contains(&indent) || !item.starts_with(['-', '<', '[']) {
                continue;
            }
            let inline = item.split_once("  ").is_some_and(|(_, t)| !t.trim().is_empty());
            let next = lines.get(i + 1).copied().unwrap_or("");
            let below = next.len() - next.trim_start().len() > indent + 2 && !next.trim().is_empty();
            let described = inline || below;
            assert!(
                described,
                "`soiree-pack {}`: {line:?} has no help\n{help}",
                cmd.join(" ")
            );
        }
    }
}

#[test]
fn check_reports_every_problem_as_json_with_its_place() {
    let p = party();
    p.recipe(
        "web",
        "[[files]]\nsource = \"input\"\nto = \"/srv\"\nexecutabel = true\n",
    );
    let out = run_in(&p, "", &["check", "--message-format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!lines.is_empty());
    let d = &lines[0];
    assert_eq!(d["reason"], "error");
    assert!(d["file"].as_str().unwrap().ends_with("web.toml"), "{d}");
    assert_eq!(d["line"], 4, "{d}");
    assert_eq!(d["column"], 1, "{d}");
    assert!(d["message"].as_str().unwrap().contains("executabel"), "{d}");
    // `--json` is the same thing.
    let alias = run_in(&p, "", &["check", "--json"]);
    assert_eq!(alias.stdout, out.stdout);
    // And a good party: one object per package, nothing on standard error.
    p.recipe("web", "[[files]]\nsource = \"input\"\nto = \"/srv\"\n");
    let good = run_in(&p, "", &["check", "--json"]);
    assert!(good.status.success());
    let v: serde_json::Value = serde_json::from_str(text(&good.stdout).trim()).unwrap();
    assert_eq!(v["reason"], "package");
    assert_eq!(v["name"], "app");
    assert_eq!(text(&good.stderr), "");
}

#[test]
fn json_is_an_alias_on_every_reporting_command() {
    let p = party();
    for cmd in [
        &["build"][..],
        &["check"],
        &["ls", "app"],
        &["why", "app", "/srv"],
        &["verify", "x.spk"],
    ] {
        let mut args = cmd.to_vec();
        args.push("--help");
        let help = text(&run_in(&p, "", &args).stdout);
        assert!(help.contains("--message-format <FORMAT>"), "{cmd:?}\n{help}");
        assert!(help.contains("--json"), "{cmd:?}\n{help}");
    }
    // A JSON command's errors are JSON too.
    let out = run_in(&p, "", &["ls", "--offline", "no-such", "--json"]);
    let v: serde_json::Value = serde_json::from_str(text(&out.stdout).lines().next().unwrap()).unwrap();
    assert_eq!(v["reason"], "error");
}

#[test]
fn party_file_is_found_from_a_subfolder() {
    let p = party();
    let out = run_in(&p, "input/deeper", &["check"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("app"));
    // `build` puts dist/ beside the party file, as cargo puts target/ at the workspace root.
    let out = run_in(&p, "input/deeper", &["build", "--offline"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(p.path("dist/app.spk").is_file());
    assert!(!p.path("input/deeper/dist").exists());
    // `set` edits that file too.
    let out = run_in(&p, "input", &["set", "party.marketing-version", "\"0.2.0\""]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let toml = std::fs::read_to_string(p.path("party.toml")).unwrap();
    assert!(toml.contains("marketing-version = \"0.2.0\""), "{toml}");
}

#[test]
fn set_confirms_and_quiet_silences_it() {
    let p = party();
    let out = run_in(&p, "", &["set", "packages.app.title", "Shop"]);
    assert!(out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("set packages.app.title = \"Shop\" in party.toml"),
        "{err}"
    );
    let out = run_in(&p, "", &["-q", "set", "packages.app.title", "Shop"]);
    assert!(out.status.success());
    assert_eq!(text(&out.stderr), "");
    let out = run_in(&p, "", &["check", "--quiet"]);
    assert_eq!(text(&out.stderr), "");
}

#[test]
fn verbose_build_says_each_step_and_plain_build_does_not() {
    let p = party();
    let out = run_in(&p, "", &["build", "--offline", "-v"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("1 packages, 1 sources; writing to dist"), "{err}");
    assert!(err.contains("app: run-time closure of"), "{err}");
    assert!(err.contains("blocks:"), "{err}");
    let out = run_in(&p, "", &["build", "--offline"]);
    let err = text(&out.stderr);
    assert!(!err.contains("run-time closure of"), "{err}");
    // Piped, there is no progress line (no carriage returns, no cursor movement).
    assert!(!err.contains('\r') && !err.contains('\u{1b}'), "{err:?}");
}

#[test]
fn build_shows_progress_on_a_terminal_only() {
    let p = party();
    // `script` gives the command a pseudo-terminal, as a user's shell would.
    let cmd = format!("{} build --offline", env!("CARGO_BIN_EXE_soiree-pack"));
    common::ensure_grain();
    let in_terminal = |cmd: &str| {
        std::process::Command::new("script")
            .args(["-qec", cmd, "/dev/null"])
            .current_dir(p.dir.path())
            .env("HOME", p.dir.path())
            .env("XDG_DATA_HOME", p.path("data"))
            .env("XDG_CACHE_HOME", p.path("cache"))
            .env("SOURCE_DATE_EPOCH", "1700000000")
            .env_remove("SOIREE_SIGNING_KEY")
            .output()
            .unwrap()
    };
    let out = in_terminal(&cmd);
    let all = text(&out.stdout);
    assert!(out.status.success(), "{all}");
    assert!(all.contains("building `app`: "), "{all:?}");
    assert!(all.contains(" read, "), "{all:?}");
    assert!(all.contains(" blocks compressed, "), "{all:?}");
    // Once the package is planned, its size is known: a bar and the time left.
    assert!(all.contains(" left"), "{all:?}");
    // `--color never` (or -q) keeps a terminal free of redrawn lines.
    for flag in ["-q", "--color never"] {
        let plain = in_terminal(&format!("{cmd} {flag}"));
        assert!(plain.status.success());
        assert!(!text(&plain.stdout).contains("building `app`"), "{flag}");
    }
}

#[test]
fn add_refuses_a_recipe_the_package_already_uses() {
    let p = party();
    let before = std::fs::read_to_string(p.path("party.toml")).unwrap();
    let out = run_in(&p, "", &["add", "web", "--package", "app"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("already uses recipe `web`"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(p.path("party.toml")).unwrap(), before);
}

#[test]
fn the_check_example_in_the_docs_is_what_check_prints() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = common::soiree(&root, &root)
        .args(["check", "--party", "party.toml"])
        .output()
        .unwrap();
    let printed = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let doc = std::fs::read_to_string(root.join("docs/party-toml.md")).unwrap();
    assert!(
        doc.contains(&format!("```\n{printed}```")),
        "docs/party-toml.md's `check` example is stale; check prints:\n{printed}"
    );
}

#[test]
fn docs_cli_md_holds_the_real_help() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = common::soiree(&root, &root).arg("--help").output().unwrap();
    let help = text(&out.stdout);
    let doc = std::fs::read_to_string(root.join("docs/cli.md")).unwrap();
    assert!(
        doc.contains(&format!("```text\n{help}```")),
        "docs/cli.md's copy of `soiree-pack --help` is stale; the program prints:\n{help}"
    );
}
