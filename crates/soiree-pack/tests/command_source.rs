//! Sources built by a command: the Uro-shaped fixture release built by `mix release` in a
//! scratch copy and packed, reused from the cache until an input changes, and the diagnostics
//! for a missing tool, a failing command and a command that leaves its folder.

mod common;

use std::path::{Path, PathBuf};

use common::{text, Party};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A party whose package `app` takes source `built` at /opt/built, with `built` declared as
/// `spec` (the inside of `{ … }`).
fn party(spec: &str) -> Party {
    let party = Party::new(&format!("built = {{ {spec} }}"), &["built"]);
    party.recipe("built", "[[files]]\nsource = \"built\"\nto = \"/opt/built\"\n");
    party
}

/// `mix` on PATH ahead of Debian's: it runs the real one and, after a `release`, leaves the
/// time it ran in the release, so a package shows whether mix ran for it.
fn mix_wrapper(party: &Party) -> String {
    let real = common::program("/usr/bin/mix", "elixir");
    let bin = party.path("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let script = format!(
        "#!/bin/sh\n{} \"$@\" || exit $?\nif [ \"$1\" = release ]; then date +%s%N > \"$OUT/mix-ran-at\"; fi\n",
        real.display()
    );
    let path = bin.join("mix");
    std::fs::write(&path, script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default())
}

fn build(party: &Party, path_var: &str, extra: &[&str]) -> (PathBuf, String) {
    let out = common::soiree(party.dir.path(), party.dir.path())
        .args(["build", "--fast", "--out", "dist", "--offline"])
        .args(extra)
        .env("PATH", path_var)
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert!(out.status.success(), "build failed:\n{err}");
    let unpacked = party.path("unpacked");
    if unpacked.exists() {
        std::fs::remove_dir_all(&unpacked).unwrap();
    }
    soiree_spk::unpack(&party.path("dist/app.spk"), &unpacked).unwrap();
    (unpacked, err)
}

fn ran_at(unpacked: &Path) -> String {
    std::fs::read_to_string(unpacked.join("opt/built/mix-ran-at"))
        .expect("the release holds the wrapper's mark")
}

#[test]
fn the_fixture_release_is_built_by_mix_cached_and_rebuilt_when_a_source_file_changes() {
    let party = party(
        "command = [\"mix\", \"release\", \"--quiet\", \"--path\", \"$OUT\"], dir = \"uro\", \
         env = { MIX_ENV = \"prod\" }, tools = [\"mix\"], exclude = [\"_build\", \"deps\"]",
    );
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(repo().join("fixtures/uro-mini"))
        .arg(party.path("uro"))
        .status()
        .unwrap();
    assert!(status.success());
    let path_var = mix_wrapper(&party);
    let before: Vec<_> = walk(&party.path("uro"));

    let (unpacked, err) = build(&party, &path_var, &[]);
    assert!(err.contains("source `built`: running mix release"), "{err}");
    assert!(
        unpacked.join("opt/built/bin/uro").is_file(),
        "the release is packed"
    );
    assert!(unpacked.join("opt/built/lib").is_dir());
    let first = ran_at(&unpacked);
    assert_eq!(
        walk(&party.path("uro")),
        before,
        "the user's tree is never written"
    );

    // Nothing changed: the cached output is packed and mix does not run.
    let (unpacked, err) = build(&party, &path_var, &[]);
    assert!(!err.contains("running"), "{err}");
    assert_eq!(ran_at(&unpacked), first, "mix did not run again");

    // One .ex file changed: built again.
    let ex = party.path("uro/lib/uro/release.ex");
    let mut code = std::fs::read_to_string(&ex).unwrap();
    code.push_str("\n# changed\n");
    std::fs::write(&ex, code).unwrap();
    let (unpacked, err) = build(&party, &path_var, &[]);
    assert!(err.contains("source `built`: running mix release"), "{err}");
    let second = ran_at(&unpacked);
    assert_ne!(second, first);

    // `--rebuild` runs it again with nothing changed.
    let (unpacked, err) = build(&party, &path_var, &["--rebuild", "built"]);
    assert!(err.contains("source `built`: running"), "{err}");
    assert_ne!(ran_at(&unpacked), second);

    // ls and why name the command.
    let out = common::soiree(party.dir.path(), party.dir.path())
        .args(["why", "app", "/opt/built/bin/uro", "--offline"])
        .env("PATH", &path_var)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("from source `built` bin/uro, built by `mix release --quiet --path $OUT`"),
        "{}",
        text(&out.stdout)
    );
    let out = common::soiree(party.dir.path(), party.dir.path())
        .args(["ls", "app", "--offline"])
        .env("PATH", &path_var)
        .output()
        .unwrap();
    assert!(
        text(&out.stdout)
            .contains("recipe built, source `built`, built by `mix release --quiet --path $OUT`"),
        "{}",
        text(&out.stdout)
    );
}

/// Every path under `dir` with its contents, to see that nothing changed.
fn walk(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p.clone());
                out.push((p, Vec::new()));
            } else {
                out.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_missing_tool_is_a_diagnostic_at_the_line_that_names_it_with_its_package() {
    let party = party("command = [\"/bin/sh\", \"-c\", \"true\"], dir = \".\", tools = [\"mix\"]");
    std::fs::create_dir_all(party.path("empty-bin")).unwrap();
    // sh is found by its path; mix is nowhere on this PATH.
    let out = common::soiree(party.dir.path(), party.dir.path())
        .args(["check"])
        .env("PATH", party.path("empty-bin"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("source `built` runs `mix`, which is not on PATH"),
        "{err}"
    );
    assert!(err.contains("party.toml:7:68"), "points at the line: {err}");
    assert!(err.contains("apt-get install elixir"), "{err}");
}

fn build_fails(party: &Party) -> String {
    let out = party.run(&["build", "--fast", "--out", "dist"]);
    assert!(!out.status.success(), "the build must fail");
    assert!(!party.path("dist/app.spk").exists());
    text(&out.stderr)
}

#[test]
fn a_failing_command_shows_its_last_lines() {
    let party = party(
        "command = [\"sh\", \"-c\", \"for i in $(seq 1 30); do echo step $i; done; echo broken >&2; exit 3\"], dir = \".\"",
    );
    let err = build_fails(&party);
    assert!(err.contains("failed (exit status: 3)"), "{err}");
    assert!(err.contains("| step 30\n") && err.contains("| broken"), "{err}");
    assert!(err.contains("| step 12\n"), "{err}");
    assert!(!err.contains("| step 11\n"), "only the last 20 lines: {err}");
    // All of it is kept in the cache, and the error says where.
    let kept = party.path("cache/soiree-pack/sources/built/logs/built.log");
    assert!(err.contains(&format!("(all of it: {})", kept.display())), "{err}");
    assert!(std::fs::read_to_string(kept)
        .unwrap()
        .starts_with("step 1\nstep 2\n"));
}

#[test]
fn a_command_cannot_write_outside_its_folder() {
    // Into the copy's parent, and into the user's own tree by its absolute path.
    let party = party("command = [\"sh\", \"-c\", \"echo x > ../escaped\"], dir = \"src\"");
    std::fs::create_dir_all(party.path("src")).unwrap();
    let err = build_fails(&party);
    assert!(err.contains("`sh -c 'echo x > ../escaped'` failed"), "{err}");
    assert!(err.contains("Read-only file system"), "{err}");

    let mine = party.path("src/mine.txt");
    std::fs::write(&mine, "mine\n").unwrap();
    let party2 = party_at(&party, &format!("echo changed > {}", mine.display()));
    let err = build_fails(party2);
    assert!(err.contains("Read-only file system"), "{err}");
    assert_eq!(std::fs::read_to_string(&mine).unwrap(), "mine\n");
}

/// The same party directory with the command replaced.
fn party_at<'a>(party: &'a Party, script: &str) -> &'a Party {
    let text = std::fs::read_to_string(party.path("party.toml")).unwrap();
    let start = text.find("built = {").unwrap();
    let end = start + text[start..].find('\n').unwrap();
    let line = format!("built = {{ command = [\"sh\", \"-c\", {script:?}], dir = \"src\" }}");
    std::fs::write(
        party.path("party.toml"),
        format!("{}{line}{}", &text[..start], &text[end..]),
    )
    .unwrap();
    party
}

#[test]
fn an_output_with_an_escaping_symlink_or_a_fifo_is_refused() {
    let party = party("command = [\"sh\", \"-c\", \"ln -s /etc/passwd $OUT/passwd\"], dir = \"src\"");
    std::fs::create_dir_all(party.path("src")).unwrap();
    let err = build_fails(&party);
    assert!(
        err.contains("the command's output \"passwd\" is a symlink to /etc/passwd that leaves the output"),
        "{err}"
    );

    party_at(&party, "mkdir $OUT/a && ln -s ../../work $OUT/a/up");
    let err = build_fails(&party);
    assert!(
        err.contains("\"a/up\" is a symlink to ../../work that leaves the output"),
        "{err}"
    );

    party_at(&party, "mkfifo $OUT/pipe");
    let err = build_fails(&party);
    assert!(err.contains("\"pipe\" is a fifo"), "{err}");

    // A symlink that stays inside is kept.
    party_at(
        &party,
        "echo hi > $OUT/file && mkdir $OUT/d && ln -s ../file $OUT/d/link",
    );
    let unpacked = party
        .build(&["--fast"])
        .unwrap_or_else(|o| panic!("{}", text(&o.stderr)));
    assert_eq!(
        std::fs::read_link(unpacked.join("opt/built/d/link")).unwrap(),
        Path::new("../file")
    );
}

/// Without `network = true` the command has no network (not even the host's loopback); with it,
/// it does, and the build says so.
#[test]
fn only_a_command_that_asks_for_the_network_has_one() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let script = format!("echo hello > /dev/tcp/127.0.0.1/{port} && touch \\\"$OUT/sent\\\"");
    let party = party(&format!(
        "command = [\"bash\", \"-c\", \"{script}\"], dir = \"src\", tools = [\"bash\"]"
    ));
    std::fs::create_dir_all(party.path("src")).unwrap();
    let err = build_fails(&party);
    assert!(
        err.contains("Connection refused") || err.contains("Network is unreachable"),
        "{err}"
    );

    let toml = std::fs::read_to_string(party.path("party.toml")).unwrap();
    std::fs::write(
        party.path("party.toml"),
        toml.replace("tools = [\"bash\"]", "tools = [\"bash\"], network = true"),
    )
    .unwrap();
    // Not --offline: a command with the network cannot be built offline.
    let out = common::soiree(party.dir.path(), party.dir.path())
        .args(["build", "--fast", "--out", "dist"])
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("with network access (the source says network = true)"),
        "{err}"
    );
    listener.set_nonblocking(true).unwrap();
    assert!(
        listener.accept().is_ok(),
        "the command connected to the host's loopback"
    );

    // Cached: an offline build packs it; building it again offline is refused.
    assert!(party.build(&["--fast"]).is_ok());
    let out = party.run(&["build", "--fast", "--out", "dist", "--rebuild", "built"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("is built by a command that needs the network, and the build is offline"),
        "{}",
        text(&out.stderr)
    );
}

/// A program of the input itself (`./build.sh`) runs from the copy; it is no tool to find on
/// PATH, for `check` or `build`.
#[test]
fn a_script_of_the_input_runs_from_its_copy() {
    let party = party("command = [\"./build.sh\", \"site\"], dir = \"src\"");
    std::fs::create_dir_all(party.path("src")).unwrap();
    let script = party.path("src/build.sh");
    std::fs::write(&script, "#!/bin/sh\necho \"built $1\" > \"$OUT/index.html\"\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = common::soiree(party.dir.path(), party.dir.path())
        .arg("check")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let unpacked = party
        .build(&["--fast"])
        .unwrap_or_else(|o| panic!("{}", text(&o.stderr)));
    assert_eq!(
        std::fs::read_to_string(unpacked.join("opt/built/index.html")).unwrap(),
        "built site\n"
    );
}
