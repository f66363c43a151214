//! The compose file of `build --target compose` run by `podman-compose up` (Debian's) with the
//! demo party's images from `build --target oci`: Uro answers its health check through nginx on
//! the port the file publishes on loopback, and the game server answers an ENet client on UDP.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use soiree_test_support::{
    free_tcp_port, free_udp_port, http_get, program, succeeded as ok, wait_until, Podman,
};

mod common;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn said(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `podman-compose -p party -f FILE ARGS…` against `podman`.
fn compose(podman: &Podman, file: &Path, args: &[&str]) -> Output {
    Command::new("podman-compose")
        .arg(format!("--podman-args={}", podman.args().join(" ")))
        .args(["-p", "party", "-f"])
        .arg(file)
        .args(args)
        .env("CONTAINERS_CONF", podman.conf())
        .output()
        .unwrap()
}

#[test]
fn the_compose_file_runs_under_podman_compose() {
    let t = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let dir = t.path();
    common::repo_party_in(dir);
    let soiree = |args: &[&str]| {
        ok(
            common::soiree(dir, dir)
                .args(args)
                .args(["--profile", "demo"])
                .output()
                .unwrap(),
            &format!("soiree-pack {}", args.join(" ")),
        )
    };
    soiree(&["build", "--target", "oci", "uro", "server"]);
    soiree(&["build", "--target", "compose"]);
    program("/usr/bin/podman-compose", "podman-compose");
    let podman = Podman::new(Path::new(env!("CARGO_TARGET_TMPDIR")));
    for p in ["uro", "server"] {
        podman.load(
            &dir.join("dist/oci").join(p),
            &format!("localhost/soiree/soiree-{p}:1"),
        );
    }

    // The file as written, but for the host ports: free ones, so that the test runs beside
    // anything else on this machine. Every port is published on loopback only.
    let file = dir.join("dist/compose/compose.yaml");
    let written = std::fs::read_to_string(&file).unwrap();
    let (http, udp) = (free_tcp_port(), free_udp_port());
    let mut text = written.clone();
    for (from, to) in [
        ("127.0.0.1:8002:8000", format!("127.0.0.1:{http}:8000")),
        ("127.0.0.1:7777:7777/udp", format!("127.0.0.1:{udp}:7777/udp")),
    ] {
        assert!(text.contains(from), "no `{from}` in:\n{written}");
        text = text.replace(from, &to);
    }
    let run = dir.join("compose.yaml");
    std::fs::write(&run, text).unwrap();

    // Uro and the server: the client's image is a desktop build, not made here.
    ok(
        compose(&podman, &run, &["up", "-d", "uro", "server"]),
        "podman-compose up",
    );

    // Uro behind nginx, with Redis, answers on the published port.
    let (_, health) = wait_until(
        "health from Uro through nginx",
        Duration::from_secs(180),
        || http_get(http, "/api/v1/health").filter(|(c, _)| *c == 200),
        || podman.logs("party_uro_1"),
    );
    assert_eq!(health, "schema 1 runs 1\n");

    // The game server, started after Uro (it links to it), answers an ENet client on UDP.
    wait_until(
        "game server listening",
        Duration::from_secs(60),
        || {
            podman
                .logs("party_server_1")
                .contains("server: listening on UDP 7777")
                .then_some(())
        },
        || podman.logs("party_server_1"),
    );
    let client = Command::new("godot3-server")
        .arg("--path")
        .arg(repo().join("fixtures/godot-enet"))
        .args(["--client", "--host", "127.0.0.1", "--port", &udp.to_string()])
        .env("HOME", dir)
        .output()
        .unwrap();
    assert!(
        client.status.success() && said(&client).contains("client: pong soiree hello"),
        "client: {}\nserver:\n{}",
        said(&client),
        podman.logs("party_server_1")
    );

    // `down` stops and removes what `up` made, and nothing of the party is left running.
    ok(
        compose(&podman, &run, &["down", "-t", "2"]),
        "podman-compose down",
    );
    let left = ok(podman.cmd().args(["ps", "-aq"]).output().unwrap(), "podman ps");
    assert_eq!(left.trim(), "", "containers left after down");
}
