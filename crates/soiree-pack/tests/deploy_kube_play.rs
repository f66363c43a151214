//! The chart's default rendering run by `podman kube play` with the demo party's images from
//! `build --target oci`: Uro's Pod (a container per service, `soiree-grain --only`, sharing
//! loopback and `/var`) answers HTTP through nginx, every container's probe passes, and the
//! game server's container reports its ENet server ready.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use soiree_test_support::{succeeded as ok, wait_until, Podman};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Whether `service` in `container` passes its probe, `soiree-grain --ready`.
fn ready(podman: &Podman, container: &str, service: &str) -> bool {
    podman
        .cmd()
        .args([
            "exec",
            container,
            "/opt/soiree/bin/soiree-grain",
            "--ready",
            service,
        ])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn the_default_rendering_runs_under_podman_kube_play() {
    let t = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let dir = t.path();
    common::repo_party_in(dir);
    let soiree = |args: &[&str]| {
        ok(
            Command::new(env!("CARGO_BIN_EXE_soiree-pack"))
                .args(args)
                .args(["--profile", "demo", "--party"])
                .arg(dir.join("party.toml"))
                .output()
                .unwrap(),
            &format!("soiree-pack {}", args.join(" ")),
        )
    };
    soiree(&["build", "--target", "oci", "uro", "server"]);
    soiree(&["build", "--target", "helm"]);
    let podman = Podman::new(Path::new(env!("CARGO_TARGET_TMPDIR")));
    for p in ["uro", "server"] {
        podman.load(
            &dir.join("dist/oci").join(p),
            &format!("localhost/soiree/soiree-{p}:1"),
        );
    }
    // The default values, rendered, linted and validated by Helm's own code.
    let values = dir.join("values.json");
    std::fs::write(&values, "{}").unwrap();
    ok(
        Command::new("python3")
            .arg(repo().join("fixtures/deploy/check_chart.py"))
            .arg(dir.join("dist/helm/soiree"))
            .arg(&values)
            .arg(dir)
            .output()
            .unwrap(),
        "check_chart.py",
    );
    let rendered: Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifests.json")).unwrap()).unwrap();
    let mut docs = Vec::new();
    for m in rendered["manifests"].as_array().unwrap() {
        let mut doc = m["doc"].clone();
        let name = doc["metadata"]["name"].as_str().unwrap_or("").to_string();
        let wanted = ["party-uro", "party-uro-var", "party-server", "party-server-var"];
        if !matches!(doc["kind"].as_str(), Some("Deployment" | "PersistentVolumeClaim"))
            || !wanted.contains(&name.as_str())
        {
            continue;
        }
        // podman publishes every containerPort on all the host's addresses; the test reaches
        // each Pod through its network namespace instead, so nothing leaves loopback.
        if let Some(cs) = doc
            .pointer_mut("/spec/template/spec/containers")
            .and_then(Value::as_array_mut)
        {
            for c in cs {
                c.as_object_mut().unwrap().remove("ports");
            }
        }
        docs.push(doc.to_string());
    }
    assert_eq!(docs.len(), 4, "{rendered}");
    let kube = dir.join("kube.yaml");
    std::fs::write(&kube, docs.join("\n---\n")).unwrap();
    ok(
        podman
            .cmd()
            .args(["kube", "play", "--network", "none"])
            .arg(&kube)
            .output()
            .unwrap(),
        "podman kube play",
    );
    for (pod, services) in [
        ("uro", &["nginx", "redis", "uro"][..]),
        ("server", &["godot", "nginx"][..]),
    ] {
        for s in services {
            let c = format!("party-{pod}-pod-0-{s}");
            wait_until(
                &format!("{c} ready"),
                Duration::from_secs(180),
                || ready(&podman, &c, s).then_some(()),
                || podman.logs(&c),
            );
        }
    }
    assert!(podman
        .logs("party-server-pod-0-godot")
        .contains("server: listening on UDP 7777"));
    // Uro answers through nginx on the Pod's loopback, as in a grain.
    let pid = ok(
        podman
            .cmd()
            .args(["inspect", "--format", "{{.State.Pid}}", "party-uro-pod-0-nginx"])
            .output()
            .unwrap(),
        "podman inspect",
    );
    let health = ok(
        Command::new("nsenter")
            .args(["-t", pid.trim(), "-n", "python3", "-c"])
            .arg("import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:8000/api/v1/health').status)")
            .output()
            .unwrap(),
        "GET /api/v1/health in the Pod",
    );
    assert_eq!(health.trim(), "200");
}
