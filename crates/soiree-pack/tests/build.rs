//! `soiree-pack build` on the repository's own party.toml (the embedded default): three signed
//! packages whose manifests, bridge configs, powerbox descriptors and pkgdefs are what they
//! should be, checked with the real `capnp` tool where it matters.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use soiree_schema::archive_capnp::archive;
use soiree_schema::manifest_capnp::{bridge_config, manifest};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

struct Built {
    _tmp: tempfile::TempDir,
    out: PathBuf,
    json: Vec<serde_json::Value>,
}

fn build(extra: &[&str]) -> Built {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("dist");
    common::ensure_grain();
    let o = Command::new(env!("CARGO_BIN_EXE_soiree-pack"))
        .current_dir(workspace())
        .args(["build", "--message-format", "json", "--out"])
        .arg(&out)
        .args(extra)
        .env("XDG_DATA_HOME", tmp.path().join("data"))
        .env("HOME", tmp.path())
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .env_remove("SOIREE_SIGNING_KEY")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let json = String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    Built { _tmp: tmp, out, json }
}

/// The bytes of a top-level file inside a package.
fn file_in(spk: &Path, name: &str) -> Vec<u8> {
    let opened = soiree_spk::open(spk).unwrap();
    let msg = opened.archive_message().unwrap();
    let root = msg.get_root::<archive::Reader>().unwrap();
    for f in root.get_files().unwrap() {
        if f.get_name().unwrap().as_bytes() == name.as_bytes() {
            match f.which().unwrap() {
                archive::file::Regular(d) | archive::file::Executable(d) => return d.unwrap().to_vec(),
                _ => panic!("{name} is not a file"),
            }
        }
    }
    panic!("{name} not in {}", spk.display());
}

fn read<'a>(
    bytes: &'a [u8],
    words: &'a mut Vec<capnp::Word>,
) -> capnp::message::Reader<capnp::serialize::NoAllocSliceSegments<'a>> {
    *words = soiree_spk::message::aligned(bytes);
    capnp::serialize::read_message_from_flat_slice_no_alloc(
        &mut capnp::Word::words_to_bytes(words),
        Default::default(),
    )
    .unwrap()
}

#[test]
fn builds_the_three_default_packages_with_titles_bridge_and_powerbox() {
    let b = build(&[]);
    let names: Vec<&str> = b.json.iter().map(|j| j["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["client", "server", "uro"]);
    for (name, title) in [
        ("uro", "V-Sekai Uro"),
        ("server", "V-Sekai Server"),
        ("client", "V-Sekai Client"),
    ] {
        let spk = b.out.join(format!("{name}.spk"));
        let v = soiree_spk::verify(&spk).unwrap();
        assert_eq!(v.manifest.title.as_deref(), Some(title));
        let j = b.json.iter().find(|j| j["name"] == name).unwrap();
        assert_eq!(j["package_id"], v.opened.package_id.to_string());
        assert_eq!(j["app_id"], v.opened.app_id.to_string());
        assert_eq!(j["size"], v.opened.file_size);
        // The bridge binary and the supervisor's inputs are in every package.
        assert!(!file_in(&spk, "sandstorm-http-bridge").is_empty());
    }

    // Uro exports its API as an ApiSession through the bridge config.
    let bytes = file_in(&b.out.join("uro.spk"), "sandstorm-http-bridge-config");
    let mut words = Vec::new();
    let msg = read(&bytes, &mut words);
    let cfg = msg.get_root::<bridge_config::Reader>().unwrap();
    assert!(cfg.get_save_identity_caps());
    let apis = cfg.get_powerbox_apis().unwrap();
    assert_eq!(apis.len(), 1);
    let api = apis.get(0);
    assert_eq!(api.get_path().unwrap().to_str().unwrap(), "/api/v1/");
    assert_eq!(
        api.get_tag()
            .unwrap()
            .get_canonical_url()
            .unwrap()
            .to_str()
            .unwrap(),
        "https://v-sekai.org/uro/api/v1"
    );

    // The server requests IpInterface and ApiSession; the descriptors decode to those ids.
    let server = b.json.iter().find(|j| j["name"] == "server").unwrap();
    let mut ids: Vec<String> = server["powerbox"]["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            soiree_plan::powerbox::decode(r["descriptor"].as_str().unwrap())
                .unwrap()
                .tags[0]
                .id
                .clone()
        })
        .collect();
    ids.sort();
    assert_eq!(ids, ["0xc879e379c625cdc7", "0xe32c506ee93ed6fa"]);
    let client = b.json.iter().find(|j| j["name"] == "client").unwrap();
    assert_eq!(client["powerbox"]["requests"][0]["interface"], "api-session");
}

#[test]
fn powerbox_json_in_the_package_lists_the_requests() {
    let b = build(&["server"]);
    let opened = soiree_spk::open(&b.out.join("server.spk")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    soiree_spk::unpack::unpack_opened(&opened, &tmp.path().join("u")).unwrap();
    let text = std::fs::read_to_string(tmp.path().join("u/opt/soiree/powerbox.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["requests"], b.json[0]["powerbox"]["requests"]);
    let services: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("u/opt/soiree/services.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(services["services"][0]["name"], "godot");
}

#[test]
fn every_pkgdef_evaluates_and_its_manifest_is_the_packed_one() {
    let schemas = workspace().join("../shared/spk-schemas");
    if !schemas.is_dir() {
        eprintln!("SKIPPED: ../shared/spk-schemas is absent; the pkgdef imports /sandstorm/package.capnp");
        return;
    }
    let b = build(&[]);
    for name in ["uro", "server", "client"] {
        let pkgdef = b.out.join(name).join("sandstorm-pkgdef.capnp");
        let eval = Command::new("capnp")
            .args(["eval", "--binary", "-I"])
            .arg(&schemas)
            .arg(&pkgdef)
            .arg("pkgdef.manifest")
            .env_remove("PWD")
            .output()
            .expect("the capnp tool");
        assert!(
            eval.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&eval.stderr)
        );
        // Same message, compared as canonical Cap'n Proto (layout-independent).
        let packed = file_in(&b.out.join(format!("{name}.spk")), "sandstorm-manifest");
        let canon = |bytes: &[u8]| {
            let mut words = Vec::new();
            let msg = read(bytes, &mut words);
            let root: manifest::Reader = msg.get_root().unwrap();
            let mut out = capnp::message::Builder::new_default();
            out.set_root_canonical(root).unwrap();
            capnp::serialize::write_message_to_words(&out)
        };
        assert_eq!(
            canon(&eval.stdout),
            canon(&packed),
            "{name}: pkgdef manifest differs from the packed one"
        );
        // The staged tree holds what the package holds.
        assert!(b.out.join(name).join("root/sandstorm-http-bridge").is_file());
    }
}

#[test]
fn release_builds_refuse_a_missing_key() {
    let tmp = tempfile::tempdir().unwrap();
    common::ensure_grain();
    let o = Command::new(env!("CARGO_BIN_EXE_soiree-pack"))
        .current_dir(workspace())
        .args(["build", "--release", "--out"])
        .arg(tmp.path().join("dist"))
        .env("XDG_DATA_HOME", tmp.path().join("data"))
        .env("HOME", tmp.path())
        .env_remove("SOIREE_SIGNING_KEY")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("app-id"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        !tmp.path().join("data").exists(),
        "no development key is made for a release build"
    );
}

#[test]
fn builds_are_reproducible_with_source_date_epoch() {
    let (a, b) = (build(&[]), build(&[]));
    for name in ["uro", "server", "client"] {
        let x = std::fs::read(a.out.join(format!("{name}.spk"))).unwrap();
        let y = std::fs::read(b.out.join(format!("{name}.spk"))).unwrap();
        // Different development keys (separate data dirs) sign, so compare the archive streams.
        let va = soiree_spk::verify(&a.out.join(format!("{name}.spk"))).unwrap();
        let vb = soiree_spk::verify(&b.out.join(format!("{name}.spk"))).unwrap();
        assert_eq!(va.opened.archive_sha512, vb.opened.archive_sha512, "{name}");
        assert_eq!(x.len(), y.len());
    }
}
