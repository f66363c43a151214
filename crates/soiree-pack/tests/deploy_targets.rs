//! `build --target compose|helm` through the command line: the repository's party as a compose
//! file that `podman-compose` (Debian's) reads and turns into podman commands, the chart folder,
//! byte-identical output from two runs, and the problems the targets cannot map shown at their
//! recipe lines.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn soiree(party: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_soiree-pack"))
        .arg("--color")
        .arg("never")
        .args(args)
        .arg("--party")
        .arg(party)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A copy of the repository's party.toml and recipes (its sources are not read by these targets).
fn repo_party(dir: &Path) -> PathBuf {
    common::repo_party_in(dir);
    dir.join("party.toml")
}

#[test]
fn compose_file_is_read_by_podman_compose() {
    let t = tempfile::tempdir().unwrap();
    let party = repo_party(t.path());
    let out = soiree(
        &party,
        &[
            "build",
            "--target",
            "compose",
            "--registry",
            "registry.example:5000/v-sekai",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let file = t.path().join("dist/compose/compose.yaml");
    let first = std::fs::read(&file).unwrap();
    let again = soiree(
        &party,
        &[
            "build",
            "--target",
            "compose",
            "--registry",
            "registry.example:5000/v-sekai",
        ],
    );
    assert!(again.status.success(), "{}", text(&again));
    assert_eq!(
        first,
        std::fs::read(&file).unwrap(),
        "the same party gave other bytes"
    );

    // podman-compose 1.0 (Debian's) has no `config`: `--dry-run up` parses the file and prints the
    // podman commands it would run. It still creates volumes and the network: in a podman of
    // the test's own (root, runroot, network configs under the temp dir).
    let p = t.path().join("podman");
    let conf = t.path().join("containers.conf");
    std::fs::write(&conf, "[containers]\ndefault_ulimits = []\n").unwrap();
    let podman_args = format!(
        "--root {0}/root --runroot {0}/run --network-config-dir {0}/net --runtime runc --cgroup-manager cgroupfs --events-backend file",
        p.display()
    );
    let run = Command::new("podman-compose")
        .arg(format!("--podman-args={podman_args}"))
        .args(["--dry-run", "-p", "party", "-f"])
        .arg(&file)
        .args(["up", "-d"])
        .env("CONTAINERS_CONF", &conf)
        .output()
        .expect("podman-compose (Debian package podman-compose)");
    let said = text(&run);
    assert!(run.status.success(), "{said}");
    let line = |service: &str| -> String {
        said.lines()
            .find(|l| l.starts_with("podman") && l.contains(&format!("--name=party_{service}_1")))
            .unwrap_or_else(|| panic!("no podman run for {service}:\n{said}"))
            .to_string()
    };
    let server = line("server");
    for part in [
        "-e SOIREE_LINK_URO=http://uro:8000/api/v1/",
        "-v party_server-var:/var",
        "-p 127.0.0.1:7777:7777/udp",
        "--network-alias server",
        "registry.example:5000/v-sekai/soiree-server:1",
        "--entrypoint [\"/opt/soiree/bin/soiree-grain\", \"/opt/soiree/services.json\"]",
    ] {
        assert!(server.contains(part), "no `{part}` in:\n{server}");
    }
    let uro = line("uro");
    assert!(
        uro.contains("-v party_uro-var:/var")
            && uro.contains("-p 127.0.0.1:8002:8000")
            && uro.contains("soiree-uro:1"),
        "{uro}"
    );
    assert!(line("client").contains("soiree-client:1"));
    // Uro starts before the server that links to it.
    let at = |s: &str| said.find(&format!("--name=party_{s}_1")).unwrap();
    assert!(at("uro") < at("server"), "{said}");
}

#[test]
fn helm_chart_lands_in_dist_helm_party() {
    let t = tempfile::tempdir().unwrap();
    let party = repo_party(t.path());
    let out = soiree(&party, &["build", "--target", "helm"]);
    assert!(out.status.success(), "{}", text(&out));
    let chart = t.path().join("dist/helm/soiree");
    for f in [
        "Chart.yaml",
        "values.yaml",
        "templates/packages.yaml",
        ".soiree-pack-output",
    ] {
        assert!(chart.join(f).is_file(), "no {f}");
    }
    let values = std::fs::read_to_string(chart.join("values.yaml")).unwrap();
    assert!(values.contains("registry: localhost/soiree"), "{values}");
    // A file the user put there is theirs: the chart is not replaced over it.
    std::fs::write(chart.join("my-notes.txt"), "mine").unwrap();
    let out = soiree(&party, &["build", "--target", "helm"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("my-notes.txt"), "{}", text(&out));
    assert_eq!(
        std::fs::read_to_string(chart.join("my-notes.txt")).unwrap(),
        "mine"
    );
}

#[test]
fn a_link_that_leads_nowhere_is_shown_at_its_recipe_line() {
    let t = tempfile::tempdir().unwrap();
    let party = repo_party(t.path());
    // No package offers what the server's and the client's `uro` requests ask for.
    let toml = std::fs::read_to_string(&party).unwrap().replace(
        "canonical-url = \"https://v-sekai.org/uro/api/v1\"\ntitle",
        "canonical-url = \"https://v-sekai.org/uro/api/v2\"\ntitle",
    );
    std::fs::write(&party, toml).unwrap();
    let out = soiree(&party, &["build", "--target", "helm"]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("no package of the party offers https://v-sekai.org/uro/api/v1"),
        "{said}"
    );
    // At the request's `local-port`: where the recipe says its programs reach the link.
    for recipe in ["godot-server", "godot-client"] {
        let line = std::fs::read_to_string(repo().join(format!("recipes/{recipe}.toml")))
            .unwrap()
            .lines()
            .position(|l| l.starts_with("local-port = "))
            .unwrap()
            + 1;
        assert!(
            said.contains(&format!("recipes/{recipe}.toml:{line}:14")),
            "{recipe}: {said}"
        );
    }
    assert!(said.contains("this address cannot be resolved"), "{said}");
    assert!(!t.path().join("dist/helm").exists());
}

#[test]
fn a_link_two_packages_could_answer_is_the_users_choice_not_the_planners() {
    let t = tempfile::tempdir().unwrap();
    let party = repo_party(t.path());
    let mut toml = std::fs::read_to_string(&party).unwrap();
    toml.push_str(
        "\n[packages.mirror]\ntitle = \"Mirror\"\nrecipes = [\n  { use = \"sandstorm-http-bridge\", with = { port = 8000 } },\n  { use = \"godot-client\" },\n]\n\n\
         [[packages.mirror.offers]]\nname = \"uro-api\"\npath = \"/api/v1/\"\ncanonical-url = \"https://v-sekai.org/uro/api/v1\"\n",
    );
    std::fs::write(&party, toml).unwrap();
    let out = soiree(&party, &["build", "--target", "compose"]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("packages `mirror`, `uro` all offer https://v-sekai.org/uro/api/v1"),
        "{said}"
    );
    assert!(said.contains("recipes/godot-server.toml:"), "{said}");
}

#[test]
fn a_readiness_check_on_another_host_cannot_be_a_probe() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    std::fs::create_dir(dir.join("recipes")).unwrap();
    std::fs::write(
        dir.join("party.toml"),
        "[party]\nname = \"p\"\napp-version = 1\nmarketing-version = \"1\"\n\n[packages.web]\ntitle = \"Web\"\nrecipes = [{ use = \"web\" }]\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("recipes/web.toml"),
        "[services.web]\ncommand = [\"/bin/web\"]\nports = [8000]\nready = { http = \"http://db:5432/health\" }\n",
    )
    .unwrap();
    let out = soiree(&dir.join("party.toml"), &["build", "--target", "compose"]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("the readiness check of service `web` asks http://db:5432/health"),
        "{said}"
    );
    assert!(said.contains("recipes/web.toml:1:11"), "{said}");
}
