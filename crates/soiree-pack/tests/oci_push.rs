//! `push`: an image built by `build --target oci` sent to Debian's `docker-registry` on
//! loopback and pulled back by skopeo with the same digest; a registry that asks for a password
//! and one that refuses writes, and credentials files that are wrong, give clear errors.

mod common;

use soiree_test_support::succeeded;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A docker-registry on a free loopback port, its storage and config in a temp folder.
struct Registry {
    port: u16,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Registry {
    fn start(htpasswd: Option<&str>, read_only: bool) -> Registry {
        soiree_test_support::program("/usr/bin/docker-registry", "docker-registry");
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap();
        let mut config = format!(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  \
             maintenance:\n    readonly:\n      enabled: {read_only}\nhttp:\n  addr: 127.0.0.1:{port}\n",
            dir.path().join("data").display()
        );
        if let Some(line) = htpasswd {
            std::fs::write(dir.path().join("htpasswd"), line).unwrap();
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: test\n    path: {}\n",
                dir.path().join("htpasswd").display()
            ));
        }
        let file = dir.path().join("config.yml");
        std::fs::write(&file, config).unwrap();
        let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&file)
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "docker-registry did not listen:\n{}",
                std::fs::read_to_string(dir.path().join("registry.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Registry {
            port,
            child,
            _dir: dir,
        }
    }

    fn prefix(&self) -> String {
        format!("127.0.0.1:{}/party", self.port)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A party of one package with one file, its image built; the party and the image's digest.
fn built_party() -> (common::Party, String) {
    let party = common::Party::new("", &["site"]);
    party.recipe(
        "site",
        "[[files]]\nto = \"/opt/site/index.html\"\ncontent = \"hello from a registry\\n\"\n",
    );
    let out = party.run(&["build", "--target", "oci", "--json"]);
    let text = succeeded(out, "build --target oci");
    let image: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(image["reference"], "localhost/soiree/closure-test-app:1");
    (party, image["digest"].as_str().unwrap().to_string())
}

fn push(dir: &Path, registry: &str, env: &[(&str, &Path)]) -> Output {
    let mut cmd = common::soiree(dir, dir);
    cmd.args(["push", "--json", "--registry", registry])
        .env_remove("REGISTRY_AUTH_FILE")
        .env_remove("DOCKER_CONFIG")
        .env_remove("SOIREE_REGISTRY_USER")
        .env_remove("SOIREE_REGISTRY_PASSWORD");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn pushed(out: Output) -> serde_json::Value {
    serde_json::from_str(succeeded(out, "push").lines().next().unwrap()).unwrap()
}

fn failed(out: &Output) -> String {
    assert!(!out.status.success(), "push should have failed");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn push_sends_the_image_and_skopeo_pulls_back_the_same_digest() {
    let registry = Registry::start(None, false);
    let (party, digest) = built_party();
    let dir = party.dir.path();
    let first = pushed(push(dir, &registry.prefix(), &[]));
    let reference = format!("{}/closure-test-app:1", registry.prefix());
    assert_eq!(first["reference"], reference.as_str());
    assert_eq!(first["digest"], digest.as_str());
    assert!(first["blobs_sent"].as_u64().unwrap() >= 2, "{first}");

    soiree_test_support::program("/usr/bin/skopeo", "skopeo");
    let out = Command::new("skopeo")
        .args(["inspect", "--tls-verify=false", &format!("docker://{reference}")])
        .output()
        .unwrap();
    let inspected: serde_json::Value = serde_json::from_str(&succeeded(out, "skopeo inspect")).unwrap();
    assert_eq!(inspected["Digest"], digest.as_str());
    let pulled = dir.join("pulled");
    let out = Command::new("skopeo")
        .args([
            "copy",
            "-q",
            "--src-tls-verify=false",
            &format!("docker://{reference}"),
        ])
        .arg(format!("oci:{}:pulled", pulled.display()))
        .output()
        .unwrap();
    succeeded(out, "skopeo copy");
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(pulled.join("index.json")).unwrap()).unwrap();
    assert_eq!(index["manifests"][0]["digest"], digest.as_str());

    // Again: every blob is there already, the digest is the same.
    let again = pushed(push(dir, &registry.prefix(), &[]));
    assert_eq!(again["blobs_sent"], 0, "{again}");
    assert_eq!(again["digest"], digest.as_str());
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn push_uses_credentials_and_says_clearly_when_they_or_the_registry_refuse() {
    soiree_test_support::program("/usr/bin/htpasswd", "apache2-utils");
    let out = Command::new("htpasswd")
        .args(["-Bbn", "party", "s3cret"])
        .output()
        .unwrap();
    let line = succeeded(out, "htpasswd");
    let registry = Registry::start(Some(line.trim()), false);
    let (party, digest) = built_party();
    let dir = party.dir.path();

    let text = failed(&push(dir, &registry.prefix(), &[]));
    assert!(text.contains("the registry refused"), "{text}");

    let malformed = write(dir, "auth/bad.json", "{\"auths\": {\n  \"x\": 3}}\n");
    let text = failed(&push(
        dir,
        &registry.prefix(),
        &[("REGISTRY_AUTH_FILE", &malformed)],
    ));
    assert!(text.contains("credentials could not be read"), "{text}");
    assert!(text.contains("bad.json") && text.contains("line 2"), "{text}");

    let missing = dir.join("auth/none.json");
    let text = failed(&push(
        dir,
        &registry.prefix(),
        &[("REGISTRY_AUTH_FILE", &missing)],
    ));
    assert!(text.contains("none.json"), "{text}");

    let host = format!("127.0.0.1:{}", registry.port);
    let auth = |user_pass: &str| {
        format!(
            "{{\"auths\": {{\"{host}\": {{\"auth\": \"{}\"}}}}}}",
            data_encoding::BASE64.encode(user_pass.as_bytes())
        )
    };
    let wrong = write(dir, "auth/wrong.json", &auth("party:wrong"));
    let text = failed(&push(dir, &registry.prefix(), &[("REGISTRY_AUTH_FILE", &wrong)]));
    assert!(text.contains("the registry refused"), "{text}");

    let docker_config = dir.join("docker");
    write(&docker_config, "config.json", &auth("party:s3cret"));
    let done = pushed(push(
        dir,
        &registry.prefix(),
        &[("DOCKER_CONFIG", &docker_config)],
    ));
    assert_eq!(done["digest"], digest.as_str());
}

#[test]
fn a_registry_that_refuses_writes_is_reported() {
    let registry = Registry::start(None, true);
    let (party, _) = built_party();
    let text = failed(&push(party.dir.path(), &registry.prefix(), &[]));
    assert!(text.contains("the registry refused"), "{text}");
    assert!(text.contains("closure-test-app:1"), "{text}");
}
