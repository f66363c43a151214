//! The real `soiree-grain` as a container runs it: `--only NAME` runs one service of the
//! package (the others are other containers), `--ready NAME` is the probe that sees what the
//! supervisor saw, and a link's loopback port forwards to the address `SOIREE_LINK_<REQUEST>`
//! gives, its path under that address's path.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use soiree_test_support::free_tcp_port;

fn grain(var: &Path, file: &Path, args: &[&str], env: &[(&str, String)]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_soiree-grain"))
        .arg("--var")
        .arg(var)
        .args(args)
        .arg(file)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn probe(var: &Path, names: &[&str]) -> bool {
    let st = Command::new(env!("CARGO_BIN_EXE_soiree-grain"))
        .arg("--var")
        .arg(var)
        .arg("--ready")
        .args(names)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(matches!(st.code(), Some(0 | 1)), "{st}");
    st.success()
}

fn until(secs: u64, what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !ok() {
        assert!(Instant::now() < deadline, "{what} after {secs} s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn stop(mut child: Child) {
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

#[test]
fn only_runs_the_named_service_and_ready_probes_its_marker() {
    let t = tempfile::tempdir().unwrap();
    let var = t.path().join("var");
    let port = free_tcp_port();
    let file = t.path().join("services.json");
    // `db` writes a file when it starts; `web` waits for `db` in a grain but not with --only.
    let db = t.path().join("db-started");
    let server = format!(
        "import socket, time\ns = socket.socket(); s.bind(('127.0.0.1', {port})); s.listen()\nwhile True: time.sleep(1)\n"
    );
    std::fs::write(
        &file,
        serde_json::to_vec(&json!({ "package": "p", "services": [
            { "name": "db", "command": ["/bin/sh", "-c", format!("touch {}; exec sleep 60", db.display())] },
            { "name": "web", "command": ["python3", "-c", server], "after": ["db"], "ready": { "tcp": port } },
        ]}))
        .unwrap(),
    )
    .unwrap();
    assert!(!probe(&var, &["web"]));
    let web = grain(&var, &file, &["--only", "web"], &[]);
    until(30, "web not ready", || probe(&var, &["web"]));
    assert!(!db.exists(), "--only web started db too");
    assert!(!probe(&var, &["web", "db"]), "db was never ready");
    stop(web);
    assert!(!probe(&var, &["web"]), "a stopped service is not ready");
    // A new supervisor forgets the last one's word until its service is ready again.
    let again = grain(&var, &file, &["--only", "web", "--only", "db"], &[]);
    until(30, "both not ready", || probe(&var, &["web", "db"]));
    assert!(db.exists());
    stop(again);
    let st = Command::new(env!("CARGO_BIN_EXE_soiree-grain"))
        .args(["--only", "cache"])
        .arg(&file)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert_eq!(st.code(), Some(1), "an unknown service is an error");
}

#[test]
fn a_link_forwards_requests_under_the_targets_path() {
    let t = tempfile::tempdir().unwrap();
    let var = t.path().join("var");
    let (link_port, target_port, service_port) = (free_tcp_port(), free_tcp_port(), free_tcp_port());
    // The "other package": answers with the path and Host it was asked for.
    let echo = format!(
        "import http.server\n\
         class H(http.server.BaseHTTPRequestHandler):\n\
         \x20   def do_POST(self):\n\
         \x20       body = self.rfile.read(int(self.headers['Content-Length']))\n\
         \x20       out = (self.path + ' ' + self.headers['Host'] + ' ' + body.decode()).encode()\n\
         \x20       self.send_response(201); self.send_header('Content-Length', str(len(out))); self.end_headers(); self.wfile.write(out)\n\
         http.server.HTTPServer(('127.0.0.1', {target_port}), H).serve_forever()\n"
    );
    let mut target = Command::new("python3")
        .args(["-c", &echo])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let file = t.path().join("services.json");
    std::fs::write(
        &file,
        serde_json::to_vec(&json!({ "package": "server", "services": [],
            "links": { "port": service_port, "requests": [{ "name": "uro-api", "label": "Uro",
                "interface": "api-session", "descriptor": "AA",
                "forward": { "port": link_port, "path": "/api/v1/" } }] } }))
        .unwrap(),
    )
    .unwrap();
    // The offer's path on the other package, where the grain's own `local-path` stood.
    let up = format!("http://localhost:{target_port}/uro/api/v1/");
    let g = grain(&var, &file, &["--only-links"], &[("SOIREE_LINK_URO_API", up)]);
    let ask = || -> Option<String> {
        let mut s = TcpStream::connect(("127.0.0.1", link_port)).ok()?;
        s.write_all(
            b"POST /api/v1/shards?map=a HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n\r\nhello",
        )
        .ok()?;
        let mut out = String::new();
        s.read_to_string(&mut out).ok()?;
        Some(out)
    };
    let mut answer = None;
    until(30, "no answer through the link", || {
        answer = ask().filter(|a| a.starts_with("HTTP/1.0 201"));
        answer.is_some()
    });
    let answer = answer.unwrap();
    assert!(
        answer.ends_with(&format!("/uro/api/v1/shards?map=a localhost:{target_port} hello")),
        "{answer}"
    );
    let _ = target.kill();
    let _ = target.wait();
    // The target gone: the link says so with 502, it does not hang up silently.
    until(10, "no 502", || {
        ask().is_some_and(|a| a.starts_with("HTTP/1.1 502"))
    });
    stop(g);
}

#[test]
fn a_link_address_that_is_not_http_stops_the_grain_before_anything_starts() {
    let t = tempfile::tempdir().unwrap();
    let file = t.path().join("services.json");
    std::fs::write(
        &file,
        serde_json::to_vec(&json!({ "package": "server", "services": [],
            "links": { "port": free_tcp_port(), "requests": [{ "name": "uro", "label": "Uro",
                "interface": "api-session", "descriptor": "AA",
                "forward": { "port": free_tcp_port(), "path": "/" } }] } }))
        .unwrap(),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_soiree-grain"))
        .arg("--var")
        .arg(t.path().join("var"))
        .arg(&file)
        .env("SOIREE_LINK_URO", "ftp://uro/")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("SOIREE_LINK_URO") && said.contains("http://"),
        "{said}"
    );
}

#[test]
fn forward_copies_plain_tcp_to_a_service_run_elsewhere() {
    let t = tempfile::tempdir().unwrap();
    let (port, target_port) = (free_tcp_port(), free_tcp_port());
    // A line protocol, not HTTP: what a database split out of the Pod speaks.
    let echo = format!(
        "import socket\ns = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
         s.bind(('127.0.0.1', {target_port})); s.listen()\n\
         while True:\n    c, _ = s.accept(); c.sendall(b'echo ' + c.recv(100)); c.close()\n"
    );
    let mut target = Command::new("python3").args(["-c", &echo]).spawn().unwrap();
    let file = t.path().join("services.json");
    std::fs::write(&file, br#"{"package": "uro", "services": []}"#).unwrap();
    let forward = format!("{port}=tcp://localhost:{target_port}");
    let g = grain(
        &t.path().join("var"),
        &file,
        &["--only-links", "--forward", &forward],
        &[],
    );
    let mut answer = String::new();
    until(30, "no echo through --forward", || {
        answer.clear();
        TcpStream::connect(("127.0.0.1", port))
            .and_then(|mut s| {
                s.write_all(b"SELECT 1")?;
                s.read_to_string(&mut answer)
            })
            .is_ok()
            && answer == "echo SELECT 1"
    });
    let _ = target.kill();
    let _ = target.wait();
    stop(g);
}

#[test]
fn agones_posts_ready_then_health_once_the_services_are_ready() {
    let t = tempfile::tempdir().unwrap();
    let var = t.path().join("var");
    let sdk_port = free_tcp_port();
    let seen = t.path().join("sdk.log");
    // Agones' SDK sidecar as its REST API behaves: POST /ready and /health answer 200 `{}`.
    let sdk = format!(
        "import http.server\n\
         class H(http.server.BaseHTTPRequestHandler):\n\
         \x20   def do_POST(self):\n\
         \x20       self.rfile.read(int(self.headers['Content-Length']))\n\
         \x20       open({seen:?}, 'a').write(self.path + '\\n')\n\
         \x20       self.send_response(200); self.send_header('Content-Length', '2'); self.end_headers(); self.wfile.write(b'{{}}')\n\
         \x20   def log_message(self, *a): pass\n\
         http.server.HTTPServer(('127.0.0.1', {sdk_port}), H).serve_forever()\n",
        seen = seen.to_str().unwrap()
    );
    let mut sdk = Command::new("python3").args(["-c", &sdk]).spawn().unwrap();
    let mut agones = Command::new(env!("CARGO_BIN_EXE_soiree-grain"))
        .arg("--var")
        .arg(&var)
        .args(["--agones", "godot"])
        .env("AGONES_SDK_HTTP_PORT", sdk_port.to_string())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    assert!(!seen.exists(), "told Agones before the game server was ready");
    // The game server's supervisor marks it ready (as `--only godot` does).
    let file = t.path().join("services.json");
    std::fs::write(
        &file,
        br#"{"package": "server", "services": [{"name": "godot", "command": ["sleep", "60"]}]}"#,
    )
    .unwrap();
    let game = grain(&var, &file, &["--only", "godot"], &[]);
    until(30, "no /ready then /health", || {
        std::fs::read_to_string(&seen).is_ok_and(|s| s.starts_with("/ready\n/health\n"))
    });
    stop(game);
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(agones.id() as i32, libc::SIGTERM) };
    assert_eq!(agones.wait().unwrap().code(), Some(0));
    let _ = sdk.kill();
    let _ = sdk.wait();
}

#[test]
fn after_waits_for_a_service_of_another_container() {
    let t = tempfile::tempdir().unwrap();
    let var = t.path().join("var");
    let file = t.path().join("services.json");
    let started = t.path().join("web-started");
    std::fs::write(
        &file,
        serde_json::to_vec(&json!({ "package": "p", "services": [
            { "name": "db", "command": ["sleep", "60"] },
            { "name": "web", "command": ["/bin/sh", "-c", format!("touch {}; exec sleep 60", started.display())], "after": ["db"] },
        ]}))
        .unwrap(),
    )
    .unwrap();
    let web = grain(&var, &file, &["--only", "web", "--after", "db"], &[]);
    std::thread::sleep(Duration::from_millis(1500));
    assert!(!started.exists(), "web started before db was ready");
    let db = grain(&var, &file, &["--only", "db"], &[]);
    until(30, "web not started once db was ready", || started.exists());
    until(30, "web not ready", || probe(&var, &["web"]));
    stop(web);
    stop(db);
    // A container stopped while it waits ends cleanly.
    let waiting = grain(&var, &file, &["--only", "web", "--after", "db"], &[]);
    std::thread::sleep(Duration::from_millis(500));
    stop(waiting);
}
