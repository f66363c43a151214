//! The V-Sekai packages really start: each is built from the repository's recipes with real
//! programs (Debian's Godot, Redis and nginx, an Elixir release built with mix), then started
//! with `soiree-pack run` in a grain-like sandbox (read-only `/`, persistent `/var`, no `/proc`,
//! loopback only) and spoken to from the host.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

mod common;

use soiree_test_support::{free_tcp_port, free_udp_port, http_get};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn copy_dir(from: &Path, to: &Path) {
    let status = Command::new("cp").arg("-a").arg(from).arg(to).status().unwrap();
    assert!(status.success(), "cp -a {} {}", from.display(), to.display());
}

/// A party directory: the repository's recipes, this `party.toml` and the sandstorm bundle
/// stand-in (`run` starts what the bridge would start, not the bridge).
fn party(dir: &Path, sources: &str, packages: &str) -> PathBuf {
    copy_dir(&repo().join("recipes"), &dir.join("recipes"));
    copy_dir(
        &repo().join("fixtures/inputs/sandstorm-bundle"),
        &dir.join("bundle"),
    );
    let text = format!(
        "[party]\nname = \"e2e\"\napp-version = 1\nmarketing-version = \"0.1.0\"\n\n\
         [sources]\nsandstorm-bundle = {{ path = \"bundle\" }}\nsystem = {{ path = \"/\" }}\n{sources}\n{packages}"
    );
    let path = dir.join("party.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn soiree(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = common::soiree(dir, dir);
    cmd.args(args).env("NO_COLOR", "1");
    cmd
}

fn build(dir: &Path, package: &str) {
    let out: Output = soiree(dir, &["build", "--fast", package]).output().unwrap();
    assert!(
        out.status.success(),
        "build {package}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `soiree-pack run` in the background, its log in `log`.
struct Grain {
    child: Child,
    log: PathBuf,
}

impl Grain {
    fn start(dir: &Path, target: &str, var: &Path, extra: &[&str]) -> Grain {
        let log = dir.join("run.log");
        let file = std::fs::File::create(&log).unwrap();
        let mut args = vec!["run", target, "--var"];
        let var = var.to_str().unwrap().to_string();
        args.push(&var);
        args.extend_from_slice(extra);
        let child = soiree(dir, &args)
            .stdout(Stdio::from(file.try_clone().unwrap()))
            .stderr(Stdio::from(file))
            .spawn()
            .unwrap();
        Grain { child, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until `check` (given the log so far) passes, failing with the log after `timeout`.
    fn wait_for<T>(&mut self, timeout: Duration, mut check: impl FnMut(&str) -> Option<T>) -> T {
        let start = Instant::now();
        loop {
            if let Some(v) = check(&self.log()) {
                return v;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the grain stopped ({status}):\n{}", self.log());
            }
            assert!(
                start.elapsed() < timeout,
                "timed out; the grain's log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Ctrl-C, as a user stops it: the grain must stop cleanly.
    fn stop(mut self) -> String {
        interrupt(&self.child);
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(
                    status.success(),
                    "run exits 0 after Ctrl-C ({status}):\n{}",
                    self.log()
                );
                return self.log();
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "did not stop:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Grain {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            interrupt(&self.child);
            std::thread::sleep(Duration::from_secs(2));
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// SIGINT, as Ctrl-C in a terminal sends.
fn interrupt(child: &Child) {
    // SAFETY: kill(2) on our own child.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
}

#[test]
fn server_package_answers_an_enet_client_over_loopback_udp() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    // A Godot "export": Debian's godot3-server under the export's name, and the project beside it.
    let export = dir.join("export");
    std::fs::create_dir(&export).unwrap();
    std::fs::copy("/usr/bin/godot3-server", export.join("v_sekai_server.x86_64")).unwrap();
    copy_dir(&repo().join("fixtures/godot-enet"), &export.join("project"));
    copy_dir(&repo().join("fixtures/inputs/server-site"), &dir.join("site"));
    party(
        dir,
        "godot-server = { path = \"export\" }\nserver-site = { path = \"site\" }\nnginx = { path = \"/\" }\n",
        "[packages.server]\ntitle = \"V-Sekai Server\"\nrecipes = [\n  \
         { use = \"sandstorm-http-bridge\", with = { port = 8000 } },\n  \
         { use = \"godot-server\", with = { port = 7777, args = [\"--path\", \"/opt/godot/project\"] } },\n  \
         { use = \"static-site\", with = { port = 8000, source = \"server-site\" } },\n]\n",
    );
    build(dir, "server");
    let udp = free_udp_port();
    let http = free_tcp_port();
    let mut grain = Grain::start(
        dir,
        "dist/server.spk",
        &dir.join("var"),
        &["--port", &http.to_string(), "--udp", &format!("7777:{udp}")],
    );
    grain.wait_for(Duration::from_secs(60), |log| {
        log.contains("server: listening on UDP 7777").then_some(())
    });
    // The status page is served on the bridge's port.
    let (code, page) = grain.wait_for(Duration::from_secs(30), |_| http_get(http, "/"));
    assert_eq!(code, 200);
    assert!(page.contains("V-Sekai game server"), "{page}");

    // The client is the same project on the host, connecting to the forwarded port.
    let client = Command::new("godot3-server")
        .args(["--path"])
        .arg(repo().join("fixtures/godot-enet"))
        .args(["--client", "--host", "127.0.0.1", "--port", &udp.to_string()])
        .env("HOME", dir)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&client.stdout);
    assert!(
        client.status.success() && said.contains("client: pong soiree hello"),
        "client: {said}\n{}\ngrain:\n{}",
        String::from_utf8_lossy(&client.stderr),
        grain.log()
    );
    let log = grain.stop();
    assert!(log.contains("server: ping hello"), "{log}");
}

/// Builds the Uro-shaped release with mix (no hex dependencies, so offline).
fn elixir_release(dir: &Path) -> PathBuf {
    let src = dir.join("uro-src");
    copy_dir(&repo().join("fixtures/uro-mini"), &src);
    let _ = std::fs::remove_dir_all(src.join("_build"));
    let out = Command::new("mix")
        .args(["release", "--quiet", "--overwrite"])
        .current_dir(&src)
        .env("MIX_ENV", "prod")
        .env("HOME", dir)
        .env("MIX_HOME", dir.join("mix"))
        .env("HEX_OFFLINE", "1")
        .output()
        .expect("mix (apt-get install elixir)");
    assert!(
        out.status.success(),
        "mix release: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    src.join("_build/prod/rel/uro")
}

#[test]
fn uro_package_answers_through_nginx_and_keeps_its_state_across_restarts() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    let release = elixir_release(dir);
    party(
        dir,
        &format!(
            "uro-release = {{ path = \"{}\" }}\nnginx = {{ path = \"/\" }}\nredis = {{ path = \"/\" }}\n",
            release.display()
        ),
        "[packages.uro]\ntitle = \"V-Sekai Uro\"\nrecipes = [\n  \
         { use = \"sandstorm-http-bridge\", with = { port = 8000 } },\n  \
         { use = \"nginx\", with = { port = 8000, upstream = \"127.0.0.1:4000\" } },\n  \
         { use = \"uro\", with = { port = 4000, after = [\"redis\"] } },\n  \
         { use = \"redis\" },\n]\n",
    );
    build(dir, "uro");
    let var = dir.join("var");
    let http = free_tcp_port();
    let visits = |grain: &mut Grain| {
        grain.wait_for(Duration::from_secs(90), |_| {
            http_get(http, "/api/v1/visits").filter(|(code, _)| *code == 200)
        })
    };

    let mut grain = Grain::start(dir, "uro", &var, &["--port", &http.to_string()]);
    assert_eq!(visits(&mut grain).1, "visits 1\n");
    assert_eq!(visits(&mut grain).1, "visits 2\n");
    let (_, health) = http_get(http, "/api/v1/health").unwrap();
    assert_eq!(health, "schema 1 runs 1\n", "migrated before Uro started");
    let (_, key) = http_get(http, "/api/v1/key").unwrap();
    assert!(
        key.starts_with("86 "),
        "a 64-byte PHOENIX_KEY_BASE, generated in the grain: {key}"
    );
    let first = grain.stop();

    // Again, from the same /var: Redis's data and Uro's files are still there; the migration
    // runs before each start.
    let mut grain = Grain::start(dir, "uro", &var, &["--port", &http.to_string()]);
    assert_eq!(visits(&mut grain).1, "visits 3\n");
    let (_, health) = http_get(http, "/api/v1/health").unwrap();
    assert_eq!(health, "schema 1 runs 2\n");
    assert_eq!(
        http_get(http, "/api/v1/key").unwrap().1,
        key,
        "the grain keeps its secrets"
    );
    let second = grain.stop();
    assert_eq!(
        std::fs::read_to_string(var.join("uploads/visits.log")).unwrap(),
        "1\n2\n3\n"
    );
    for log in [&first, &second] {
        assert!(log.contains("uro: listening on 127.0.0.1:4000"), "{log}");
    }
}

#[test]
fn client_package_serves_its_download_page_and_files() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    copy_dir(&repo().join("fixtures/inputs/client-site"), &dir.join("site"));
    copy_dir(&repo().join("fixtures/inputs/godot-client"), &dir.join("clients"));
    party(
        dir,
        "client-site = { path = \"site\" }\ngodot-client = { path = \"clients\" }\nnginx = { path = \"/\" }\n",
        "[packages.client]\ntitle = \"V-Sekai Client\"\nrecipes = [\n  \
         { use = \"sandstorm-http-bridge\", with = { port = 8000 } },\n  \
         { use = \"godot-client\", with = { uro-host = \"https://api.sandstorm.example\" } },\n]\n",
    );
    build(dir, "client");
    // `why` names the recipe line that made the page.
    let why = soiree(dir, &["why", "client", "/opt/soiree/site/downloads/index.html"])
        .output()
        .unwrap();
    let why = String::from_utf8_lossy(&why.stdout);
    assert!(
        why.contains("recipes/godot-client.toml:")
            && why.contains("a listing of the files under /opt/soiree/site/downloads"),
        "{why}"
    );
    let http = free_tcp_port();
    let mut grain = Grain::start(
        dir,
        "dist/client.spk",
        &dir.join("var"),
        &["--port", &http.to_string()],
    );
    let (code, page) = grain.wait_for(Duration::from_secs(30), |_| http_get(http, "/"));
    assert_eq!(code, 200);
    assert!(page.contains("Join this V-Sekai party"), "{page}");
    // The page's main link: the recipe's listing of the downloads, each with its size in bytes
    // and the digest `sha256sum` gives for it.
    assert!(page.contains("href=\"downloads/\""), "{page}");
    let (code, listing) = http_get(http, "/downloads/").unwrap();
    assert_eq!(code, 200, "{listing}");
    assert!(listing.contains("<h1>V-Sekai client downloads</h1>"), "{listing}");
    let (_, cfg_bytes) = http_get(http, "/downloads/override.cfg").unwrap();
    let served_cfg = dir.join("override.cfg");
    std::fs::write(&served_cfg, &cfg_bytes).unwrap();
    let exports = repo().join("fixtures/inputs/godot-client");
    let mut files: Vec<(String, PathBuf)> = std::fs::read_dir(&exports)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (e.file_name().into_string().unwrap(), e.path())
        })
        .collect();
    files.push(("override.cfg".into(), served_cfg));
    // The players' tunnel, the one built beside soiree-pack.
    let tunnel = Path::new(env!("CARGO_BIN_EXE_soiree-pack")).with_file_name("soiree-tunnel");
    files.push(("soiree-tunnel-linux-x86_64".into(), tunnel));
    let mut at = Vec::new();
    for (name, path) in &files {
        let size = std::fs::metadata(path).unwrap().len();
        let out = Command::new("sha256sum").arg(path).output().unwrap();
        assert!(out.status.success());
        let sum = String::from_utf8(out.stdout).unwrap();
        let sum = sum.split_whitespace().next().unwrap().to_string();
        let (index, row) = listing
            .lines()
            .enumerate()
            .find(|(_, l)| l.contains(&format!("href=\"{name}\"")))
            .unwrap_or_else(|| panic!("no row for {name}: {listing}"));
        assert!(row.contains(&format!(">{size}</td>")), "{row}");
        assert!(row.contains(&format!("<code>{sum}</code>")), "{row}");
        at.push((name.clone(), index));
    }
    // One row per file, sorted by name, and not the page itself.
    at.sort_by_key(|(_, index)| *index);
    let order: Vec<&str> = at.iter().map(|(n, _)| n.as_str()).collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted);
    assert_eq!(listing.matches("<tr><td>").count(), files.len(), "{listing}");
    assert!(!listing.contains("index.html"), "{listing}");
    let (code, file) = http_get(http, "/downloads/v_sekai_linux.x86_64.txt").unwrap();
    assert_eq!(code, 200);
    assert_eq!(
        file,
        std::fs::read_to_string(repo().join("fixtures/inputs/godot-client/v_sekai_linux.x86_64.txt"))
            .unwrap()
    );
    let (code, cfg) = http_get(http, "/downloads/override.cfg").unwrap();
    assert_eq!(code, 200);
    assert!(
        cfg.contains("uro/host=\"https://api.sandstorm.example\""),
        "{cfg}"
    );
    assert_eq!(http_get(http, "/nothing-here").map(|(c, _)| c), Some(404));
    grain.stop();
}
