//! `build --target oci`: the demo party's images (real nginx, Redis, Godot 3 server, the Elixir
//! release) run in podman — Uro answers HTTP through nginx, the game server answers an ENet
//! client on UDP — `skopeo inspect` and `umoci unpack` read every image, two checkouts give the
//! same digests, images share their base layer, and a one-file change changes one layer; a
//! small party's image config exposes its UDP ports and has no `SANDSTORM` variable.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use soiree_test_support::{free_tcp_port, free_udp_port, http_get, succeeded as ok, wait_until, Podman};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let name = e.file_name();
        // A build of the fixture left in the repository is not part of a checkout.
        if name == "_build" || name == "deps" || name == ".import" {
            continue;
        }
        let ft = e.file_type().unwrap();
        if ft.is_dir() {
            copy_dir(&e.path(), &to.join(&name));
        } else if ft.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(e.path()).unwrap(), to.join(&name)).unwrap();
        } else {
            std::fs::copy(e.path(), to.join(&name)).unwrap();
        }
    }
}

/// A checkout: what a clone of the repository holds that a build reads.
fn checkout(to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for f in ["party.toml", "party.lock"] {
        std::fs::copy(repo().join(f), to.join(f)).unwrap();
    }
    copy_dir(&repo().join("recipes"), &to.join("recipes"));
    copy_dir(&repo().join("fixtures"), &to.join("fixtures"));
}

/// The images `build --target oci --json` reports: name → its JSON object.
fn build_images(home: &Path, party_dir: &Path, extra: &[&str]) -> BTreeMap<String, serde_json::Value> {
    let out = common::soiree(party_dir, home)
        .args(["build", "--target", "oci", "--json", "--profile", "demo"])
        .args(extra)
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .output()
        .unwrap();
    let text = ok(out, "build --target oci");
    text.lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["reason"] == "image")
        .map(|v| (v["name"].as_str().unwrap().to_string(), v))
        .collect()
}

fn layer_digests(image: &serde_json::Value) -> BTreeMap<String, String> {
    image["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["name"].as_str().unwrap().to_string(),
                l["digest"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Starts a container of `image` named `name`, publishing `publish` (`-p` values); its name.
fn run(podman: &Podman, name: &str, image: &str, publish: &[String]) -> String {
    let mut c = podman.cmd();
    c.args([
        "run",
        "-d",
        "--pull",
        "never",
        "--name",
        name,
        "--network",
        "slirp4netns",
    ]);
    for p in publish {
        c.args(["-p", p]);
    }
    ok(c.arg(image).output().unwrap(), "podman run");
    name.to_string()
}

#[test]
fn demo_images_run_in_podman_read_with_skopeo_and_umoci_and_rebuild_to_the_same_digests() {
    let home = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let (a, b) = (home.path().join("a"), home.path().join("b"));
    checkout(&a);
    checkout(&b);
    let first = build_images(home.path(), &a, &[]);
    let second = build_images(home.path(), &b, &[]);
    assert_eq!(first.keys().collect::<Vec<_>>(), ["client", "server", "uro"]);
    for (name, image) in &first {
        assert_eq!(
            image["digest"], second[name]["digest"],
            "{name}: two checkouts, one image:\n{image}\n{}",
            second[name]
        );
        assert_eq!(
            image["reference"],
            format!("localhost/soiree/soiree-{name}:1"),
            "the name compose and Helm refer to"
        );
    }
    // The supervisor and what it needs are one layer every image shares.
    let bases: Vec<String> = first.values().map(|i| layer_digests(i)["base"].clone()).collect();
    assert!(bases.iter().all(|d| *d == bases[0]), "{bases:?}");
    // nginx's layer is the same in the two images that run it from the same recipe.
    assert_eq!(
        layer_digests(&first["uro"])["source nginx"],
        layer_digests(&first["server"])["source nginx"]
    );

    // Every image is read by skopeo and unpacked by umoci.
    soiree_test_support::program("/usr/bin/skopeo", "skopeo");
    soiree_test_support::program("/usr/bin/umoci", "umoci");
    for (name, image) in &first {
        let layout = a.join("dist/oci").join(name);
        let out = Command::new("skopeo")
            .args(["inspect", "--raw"])
            .arg(format!("oci:{}", layout.display()))
            .output()
            .unwrap();
        let raw = ok(out, "skopeo inspect --raw");
        let manifest: serde_json::Value = serde_json::from_str(&raw).unwrap();
        assert_eq!(
            manifest["layers"].as_array().unwrap().len(),
            image["layers"].as_array().unwrap().len()
        );
        let out = Command::new("skopeo")
            .args(["inspect", "--config"])
            .arg(format!("oci:{}", layout.display()))
            .output()
            .unwrap();
        let config: serde_json::Value = serde_json::from_str(&ok(out, "skopeo inspect --config")).unwrap();
        assert_eq!(config["config"]["User"], "1000:1000");
        assert_eq!(
            config["config"]["Entrypoint"],
            serde_json::json!(["/opt/soiree/bin/soiree-grain", "/opt/soiree/services.json"])
        );
        assert!(config["config"]["Volumes"].get("/var").is_some(), "{config}");
        assert!(
            config["config"]["ExposedPorts"].get("8000/tcp").is_some(),
            "{config}"
        );
        assert_eq!(
            config["config"]["ExposedPorts"].get("7777/udp").is_some(),
            name == "server",
            "the game's UDP port: {config}"
        );
        assert!(
            !config["config"]["Env"].to_string().contains("SANDSTORM"),
            "{config}"
        );
        let unpacked = home.path().join(format!("unpacked-{name}"));
        let out = Command::new("umoci")
            .args(["unpack", "--rootless", "--image"])
            .arg(format!("{}:localhost/soiree/soiree-{name}:1", layout.display()))
            .arg(&unpacked)
            .output()
            .unwrap();
        ok(out, "umoci unpack");
        let rootfs = unpacked.join("rootfs");
        assert!(rootfs.join("opt/soiree/bin/soiree-grain").is_file());
        assert!(rootfs.join("opt/soiree/services.json").is_file());
        assert!(
            !rootfs.join("sandstorm-http-bridge").exists(),
            "a container runs without Sandstorm's bridge"
        );
    }
    assert!(first["uro"]["config"].is_string());
    assert!(
        first["uro"]["layers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["name"] == "source uro-release"),
        "{}",
        first["uro"]
    );

    // Uro behind nginx, with Redis, answers on the published port.
    let podman = Podman::new(Path::new(env!("CARGO_TARGET_TMPDIR")));
    let uro = "localhost/soiree/soiree-uro:1";
    podman.load(&a.join("dist/oci/uro"), uro);
    let http = free_tcp_port();
    let name = run(&podman, "soiree-uro", uro, &[format!("127.0.0.1:{http}:8000")]);
    let (code, body) = wait_until(
        "Uro's health through nginx",
        Duration::from_secs(120),
        || http_get(http, "/api/v1/health").filter(|(c, _)| *c == 200),
        || podman.logs(&name),
    );
    assert_eq!((code, body.as_str()), (200, "schema 1 runs 1\n"));
    // Uro may answer before the supervisor's probe has seen it; the supervisor then says so.
    wait_until(
        "the supervisor saying every service is up",
        Duration::from_secs(30),
        || {
            podman
                .logs(&name)
                .contains("3 services of `uro` are up")
                .then_some(())
        },
        || podman.logs(&name),
    );

    // The game server answers an ENet client on UDP.
    let server = "localhost/soiree/soiree-server:1";
    podman.load(&a.join("dist/oci/server"), server);
    let udp = free_udp_port();
    let name = run(
        &podman,
        "soiree-server",
        server,
        &[format!("127.0.0.1:{udp}:7777/udp")],
    );
    wait_until(
        "the game server listening",
        Duration::from_secs(60),
        || {
            podman
                .logs(&name)
                .contains("server: listening on UDP 7777")
                .then_some(())
        },
        || podman.logs(&name),
    );
    let client = Command::new("godot3-server")
        .arg("--path")
        .arg(repo().join("fixtures/godot-enet"))
        .args(["--client", "--host", "127.0.0.1", "--port", &udp.to_string()])
        .env("HOME", home.path())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&client.stdout);
    assert!(
        client.status.success() && said.contains("client: pong soiree hello"),
        "client: {said}\n{}\nserver:\n{}",
        String::from_utf8_lossy(&client.stderr),
        podman.logs(&name)
    );

    // One file of one source changed: that source's layer changes, no other.
    let page = b.join("fixtures/inputs/server-site/index.html");
    let mut text = std::fs::read_to_string(&page).unwrap();
    text.push_str("<!-- changed -->\n");
    std::fs::write(&page, text).unwrap();
    let changed = build_images(home.path(), &b, &["server"]);
    let (before, after) = (layer_digests(&first["server"]), layer_digests(&changed["server"]));
    let differ: Vec<&String> = before.keys().filter(|k| before[*k] != after[*k]).collect();
    assert_eq!(differ, ["source server-site"], "{before:?}\n{after:?}");
}

/// A blob of the layout at `dir` by its digest, as JSON.
fn blob(dir: &Path, digest: &str) -> serde_json::Value {
    let hex = digest.strip_prefix("sha256:").unwrap();
    serde_json::from_slice(&std::fs::read(dir.join("blobs/sha256").join(hex)).unwrap()).unwrap()
}

#[test]
fn image_config_exposes_udp_ports_and_says_nothing_of_sandstorm() {
    let party = common::Party::new("", &["game"]);
    party.recipe(
        "game",
        r##"
[bridge]
port = 8000

# What the manifest would run on Sandstorm; a container leaves it out.
[[files]]
to = "/sandstorm-http-bridge"
content = "#!/bin/sh\n"
executable = true

[env]
HOME = "/var"
SANDSTORM = "1"

[[files]]
to = "/opt/game/run"
content = "#!/bin/sh\n"
executable = true

[services.game]
command = ["/opt/game/run"]
ports = [9000]
udp-ports = [7777, 7000]
ready = { log = "listening" }

[services.voice]
command = ["/opt/game/run"]
udp-ports = [8000]
ready = { log = "listening" }
"##,
    );
    let out = party.run(&["build", "--target", "oci"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let layout = party.path("dist/oci/app");
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let manifest = blob(&layout, index["manifests"][0]["digest"].as_str().unwrap());
    let config = blob(&layout, manifest["config"]["digest"].as_str().unwrap());
    let exposed: Vec<&String> = config["config"]["ExposedPorts"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(
        exposed,
        ["7000/udp", "7777/udp", "8000/tcp", "8000/udp", "9000/tcp"],
        "the bridge's port, the services' TCP and UDP ports"
    );
    let env: Vec<&str> = config["config"]["Env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(env.contains(&"HOME=/var"), "{env:?}");
    assert!(
        !env.iter().any(|v| v.starts_with("SANDSTORM=")),
        "no Sandstorm in a container: {env:?}"
    );
}
