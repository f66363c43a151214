//! `soiree-pack up`: the repository's Client package (the `local` profile's nginx) with
//! Sandstorm's real HTTP bridge as its `sandstorm-bundle` source, reached through the gateway and
//! stopped by Ctrl-C; bad input refused before any grain starts.

mod common;

use soiree_test_support::Logged;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn up_args<'a>(extra: &[&'a str], party: &'a str) -> Vec<&'a str> {
    let mut a = vec!["up", "--party", party, "--profile", "local", "--port", "0"];
    a.extend_from_slice(extra);
    a
}

fn run_to_end(cwd: &Path, args: &[&str]) -> Output {
    common::soiree(cwd, cwd).args(args).output().unwrap()
}

fn get(port: u16, host: &str, path: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn up_hosts_the_client_grain_with_the_real_bridge_and_stops_on_ctrl_c() {
    let Some(bundle) = soiree_test_support::sandstorm_bundle() else {
        return;
    };
    let cwd = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let party = repo().join("party.toml");
    let source = format!("sandstorm-bundle={}", bundle.display());
    let party_s = party.to_string_lossy().into_owned();
    let mut cmd = common::soiree(cwd.path(), cwd.path());
    cmd.args(up_args(&["client", "--source", &source], &party_s));
    let mut up = Logged::stderr(cmd, "up");
    up.wait_log("services of `client` are up", Duration::from_secs(120));
    up.wait_log("Ctrl-C stops every grain", Duration::from_secs(120));
    let text = up.log();
    let port =
        soiree_test_support::gateway_port(&text).unwrap_or_else(|| panic!("no gateway address in:\n{text}"));
    assert!(
        text.contains(&format!("client: http://127.0.0.1:{port}/grain/client/")),
        "{text}"
    );

    // nginx answers through the bridge, with the gateway's headers on the way back.
    let page = get(port, &format!("ui-client.localhost:{port}"), "/");
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("Join this V-Sekai party"), "{page}");
    assert!(
        page.to_ascii_lowercase().contains("referrer-policy: same-origin"),
        "{page}"
    );
    let shell = get(port, "localhost", "/grain/client/");
    assert!(shell.contains("_soiree-init?as=owner"), "{shell}");

    // `enter` reaches a grain of `up` as it does one of `run`: the package is `/` (this package
    // has no shell, so its supervisor is what runs), and the exit status comes back.
    let entered = common::soiree(cwd.path(), cwd.path())
        .args(["enter", "client", "--", "/opt/soiree/bin/soiree-grain"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&entered.stderr).into_owned();
    assert_eq!(entered.status.code(), Some(2), "{said}");
    assert!(said.contains("usage: soiree-grain"), "{said}");
    assert!(cwd.path().join(".soiree/up/client/grain.json").is_file());

    let (code, log) = up.interrupt(Duration::from_secs(60));
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("every grain stopped"), "{log}");
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the gateway still listens"
    );
    // The grain's /var stays; the staged package and the record `enter` reads go.
    let dir = cwd.path().join(".soiree/up/client");
    assert!(dir.join("var").is_dir());
    assert!(!dir.join("grain.json").exists());
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("root-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn up_refuses_bad_input_before_starting_anything() {
    let cwd = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let party = repo().join("party.toml").to_string_lossy().into_owned();
    let text = |o: &Output| String::from_utf8_lossy(&o.stderr).into_owned();

    let unknown = run_to_end(cwd.path(), &up_args(&["nope"], &party));
    assert_eq!(unknown.status.code(), Some(2), "{}", text(&unknown));
    assert!(
        text(&unknown).contains("the party has no package `nope` (it has: client, server, uro)"),
        "{}",
        text(&unknown)
    );

    let bad_source = run_to_end(cwd.path(), &up_args(&["client", "--source", "nope=/"], &party));
    assert_eq!(bad_source.status.code(), Some(2));
    assert!(
        text(&bad_source).contains("the party has no source `nope`"),
        "{}",
        text(&bad_source)
    );

    // Links naming what the party does not have, or what `up` does not start.
    for (args, want) in [
        (
            vec!["client", "uro", "--link", "client.uro"],
            "expected PKG.REQUEST=TARGET[/API]",
        ),
        (
            vec!["client", "uro", "--link", "client=uro"],
            "no `.` before the `=`",
        ),
        (
            vec!["client", "uro", "--link", "nope.uro=uro"],
            "the party has no package `nope` (it has: client, server, uro)",
        ),
        (
            vec!["client", "uro", "--link", "client.nope=uro"],
            "package `client` has no request `nope` (it has: uro)",
        ),
        (
            vec!["client", "--link", "client.uro=uro"],
            "package `uro` is not among those `up` starts (client): add it",
        ),
        (
            vec!["server", "--link", "server.players-udp=server"],
            "asks for ip-interface: `up` grants only api-session requests",
        ),
        (
            vec!["uro", "--link", "uro.uro=uro"],
            "package `uro` makes no Powerbox request",
        ),
        (
            vec!["client", "uro", "--link", "client.uro=uro/nope"],
            "package `uro` offers no API `nope` (it offers: uro-api)",
        ),
        (
            vec!["client", "uro", "--link", "client.uro=client/uro-api"],
            "package `client` offers no API (`[[packages.client.offers]]`)",
        ),
    ] {
        let o = run_to_end(cwd.path(), &up_args(&args, &party));
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(text(&o).contains(want), "{args:?}: want {want:?} in {}", text(&o));
    }

    // The repository's default sandstorm-bundle is the offline stand-in.
    let stand_in = run_to_end(cwd.path(), &up_args(&["client"], &party));
    assert_eq!(stand_in.status.code(), Some(1), "{}", text(&stand_in));
    let t = text(&stand_in);
    assert!(t.contains("offline stand-in"), "{t}");
    assert!(t.contains("--source sandstorm-bundle=DIR"), "{t}");
    assert!(
        !cwd.path().join(".soiree/up/client/var").exists(),
        "no grain was started"
    );
}

/// `--link` to a package whose bridge exports no matching API: refused once the packages are
/// staged, before any grain starts, naming both; exit 1.
#[test]
fn a_link_to_a_package_offering_nothing_is_refused_before_any_grain_starts() {
    let Some(bundle) = soiree_test_support::sandstorm_bundle() else {
        return;
    };
    let cwd = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let party = repo().join("party.toml").to_string_lossy().into_owned();
    let source = format!("sandstorm-bundle={}", bundle.display());
    let o = run_to_end(
        cwd.path(),
        &up_args(
            &["client", "--source", &source, "--link", "client.uro=client"],
            &party,
        ),
    );
    let t = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(t.contains("--link client.uro=client"), "{t}");
    assert!(
        t.contains("`client` asks for 0xc879e379c625cdc7 at https://v-sekai.org/uro/api/v1; `client` offers nothing that matches"),
        "{t}"
    );
    assert!(
        !cwd.path().join(".soiree/up/client/var").exists(),
        "a grain was started"
    );
    let left = soiree_test_support::processes_naming(cwd.path());
    assert!(left.is_empty(), "still running: {left:#?}");
}

/// A request in party.toml whose descriptor cannot be built (a canonical URL on an ip-network
/// request) is the party's error, shown where it is, before anything starts.
#[test]
fn a_request_whose_descriptor_cannot_be_built_is_refused_where_it_is() {
    let cwd = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let init = run_to_end(cwd.path(), &["init", "p"]);
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    let dir = cwd.path().join("p");
    let mut party = std::fs::read_to_string(dir.join("party.toml")).unwrap();
    let line = party.lines().count() + 2;
    party.push_str("\n[[packages.p.requests]]\nname = \"other\"\ninterface = \"ip-network\"\ncanonical-url = \"https://x.example/\"\n");
    std::fs::write(dir.join("party.toml"), party).unwrap();
    let o = run_to_end(&dir, &["up", "--port", "0", "--link", "p.other=p"]);
    let t = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(
        t.contains("only api-session requests take a canonical-url"),
        "{t}"
    );
    assert!(t.contains(&format!("party.toml:{line}:1")), "{t}");
    assert!(!dir.join(".soiree/up").exists(), "{t}");
}
