//! A staged package — the real supervisor and a probe program, each with its shared-library
//! closure and nothing else — run in bubblewrap through `soiree_run::start`, reached from the
//! host through the TCP and UDP relays.
//!
//! The probe is this test binary itself: run inside the grain with `SOIREE_RUN_PROBE=1`, its
//! `probe_server` test checks what the grain allows and serves the answers.

use std::io::{Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::time::Duration;

use soiree_run::{Options, Proto, Publish};
use soiree_spk::{Dir, Entry};

const BRIDGE_PORT: u16 = 8000;
const UDP_PORT: u16 = 7777;

/// The `soiree-grain` binary beside this test's profile directory (`target/<profile>/`), built
/// (or brought up to date) now: only `cargo test --workspace` would build it otherwise.
fn grain_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("SOIREE_GRAIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO"));
    cmd.args(["build", "--quiet", "-p", "soiree-grain"]);
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        cmd.arg("--release");
    }
    assert!(
        cmd.status().unwrap().success(),
        "cargo build -p soiree-grain failed"
    );
    let bin = profile_dir.join("soiree-grain");
    assert!(bin.exists(), "{} is missing", bin.display());
    bin
}

fn bwrap_is_installed() {
    let ok = std::process::Command::new("bwrap")
        .arg("--version")
        .output()
        .is_ok();
    assert!(
        ok,
        "bwrap is missing: apt-get install bubblewrap (.ci/run installs it)"
    );
}

/// A framed `Manifest` whose grain runs the supervisor behind the bridge, as soiree-pack
/// writes it.
fn manifest() -> Vec<u8> {
    let argv = [
        "/sandstorm-http-bridge",
        "8000",
        "--",
        "/opt/soiree/bin/soiree-grain",
        "/opt/soiree/services.json",
    ];
    let mut b = capnp::message::Builder::new_default();
    {
        let mut m = b.init_root::<soiree_schema::manifest_capnp::manifest::Builder>();
        m.set_app_version(1);
        m.reborrow().init_app_title().set_default_text("Run Test");
        m.reborrow()
            .init_app_marketing_version()
            .set_default_text("0.0.1");
        let mut c = m.init_continue_command();
        let mut list = c.reborrow().init_argv(argv.len() as u32);
        for (i, a) in argv.iter().enumerate() {
            list.set(i as u32, *a);
        }
        let mut env = c.init_environ(2);
        env.reborrow().get(0).set_key("HOME");
        env.reborrow().get(0).set_value("/var");
        env.reborrow().get(1).set_key("SOIREE_RUN_PROBE");
        env.reborrow().get(1).set_value("1");
    }
    capnp::serialize::write_message_to_words(&b)
}

fn services() -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "package": "probe",
        "env": { "HOME": "/var", "SOIREE_RUN_PROBE": "1" },
        "services": [{
            "name": "probe",
            "command": ["/opt/probe/probe", "--exact", "probe_server", "--nocapture", "--test-threads=1"],
            "var_dirs": ["probe"],
            "ready": { "tcp": BRIDGE_PORT },
            "first_run": [["/opt/probe/probe", "--exact", "probe_first_run", "--nocapture"]],
        }],
    }))
    .unwrap()
}

fn file(path: &Path) -> Entry {
    Entry::from_disk(path, &std::fs::metadata(path).unwrap()).unwrap()
}

/// Stages the package: the supervisor and this binary with their closures, the manifest and
/// services.json.
fn stage(work: &Path) -> PathBuf {
    let grain = grain_binary();
    let probe = std::env::current_exe().unwrap();
    let closure = soiree_deps::closure(&[&grain, &probe], &soiree_deps::Options::default()).unwrap();
    let mut tree: Dir = closure.to_dir(0).unwrap();
    for (path, entry) in [
        ("/opt/soiree/bin/soiree-grain", file(&grain)),
        ("/opt/probe/probe", file(&probe)),
        ("/opt/soiree/services.json", Entry::bytes(services(), false, 0)),
        ("/sandstorm-manifest", Entry::bytes(manifest(), false, 0)),
    ] {
        soiree_plan::tree::graft(&mut tree, path, entry, "test").unwrap();
    }
    tree.add_sandbox_mount_points(0).unwrap();
    let root = work.join("root");
    soiree_plan::tree::stage(&tree, &root).unwrap();
    root
}

/// What the probe says over TCP.
fn ask(addr: std::net::SocketAddr) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

fn udp_ask(addr: std::net::SocketAddr, message: &str) -> String {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut buf = [0u8; 1024];
    // The first datagram may arrive before the grain-side socket is connected: retry.
    for _ in 0..5 {
        s.send_to(message.as_bytes(), addr).unwrap();
        if let Ok(n) = s.recv(&mut buf) {
            return String::from_utf8_lossy(&buf[..n]).into_owned();
        }
    }
    panic!("no UDP answer from {addr}");
}

#[test]
fn a_staged_package_runs_in_a_grain_reached_through_the_relays() {
    bwrap_is_installed();
    let work = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let root = stage(work.path());
    let var = work.path().join("var");
    let log = work.path().join("grain.log");
    let mut opts = Options::new(&root, &var);
    opts.port = Some(0);
    opts.publish = vec![Publish::udp(UDP_PORT, 0)];
    opts.log = Some(log.clone());
    let read_log = || std::fs::read_to_string(&log).unwrap_or_default();

    for run in 1..=2 {
        let mut grain = soiree_run::start(&opts).unwrap();
        if let Err(e) = grain.wait_ready(Duration::from_secs(60)) {
            panic!("{e}; log:\n{}", read_log());
        }
        let tcp = grain.addr(Proto::Tcp, BRIDGE_PORT).unwrap();
        assert_eq!(tcp.ip().to_string(), "127.0.0.1");
        assert_eq!(
            ask(tcp),
            format!(
                "runs={run} first-run=1 proc=absent root=read-only opt=read-only tmp=writable net=loopback-only\n"
            ),
            "log:\n{}",
            read_log()
        );
        // Two UDP clients, each answered, each a different peer inside the grain.
        let udp = grain.addr(Proto::Udp, UDP_PORT).unwrap();
        let a = udp_ask(udp, "a");
        let b = udp_ask(udp, "b");
        assert!(a.starts_with("echo a from 127.0.0.1:"), "{a}");
        assert!(b.starts_with("echo b from 127.0.0.1:"), "{b}");
        assert_ne!(a[7..], b[7..], "one grain-side socket per client");
        let status = grain.stop(Duration::from_secs(30)).unwrap();
        assert!(status.success(), "{status}; log:\n{}", read_log());
    }
    let log = read_log();
    assert!(log.contains("probe listening"), "{log}");
    assert!(log.contains("soiree-grain| stopping probe"), "{log}");
    assert_eq!(std::fs::read_to_string(var.join("probe/runs")).unwrap(), "2");
    assert!(var.join(".soiree/first-run/probe.done").exists());
}

#[test]
fn a_package_without_its_grain_command_is_refused() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("root");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(root.join("sandstorm-manifest"), manifest()).unwrap();
    let e = soiree_run::start(&Options::new(&root, work.path().join("var")))
        .err()
        .unwrap();
    assert_eq!(
        e.to_string(),
        "the grain runs /opt/soiree/bin/soiree-grain, which is not in the package"
    );
    let e = soiree_run::start(&Options::new(work.path(), work.path().join("var")))
        .err()
        .unwrap();
    assert!(e.to_string().contains("not a package's manifest"), "{e}");
}

#[test]
fn a_host_port_in_use_is_an_error_that_names_it() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("root");
    std::fs::create_dir_all(root.join("opt/soiree/bin")).unwrap();
    std::fs::write(root.join("opt/soiree/bin/soiree-grain"), "").unwrap();
    std::fs::write(root.join("sandstorm-manifest"), manifest()).unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut opts = Options::new(&root, work.path().join("var"));
    opts.port = Some(taken.local_addr().unwrap().port());
    let e = soiree_run::start(&opts).err().unwrap();
    assert!(matches!(e, soiree_run::Error::Port { grain: 8000, .. }), "{e}");
}

// ---- the probe, inside the grain ----

fn inside() -> bool {
    std::env::var_os("SOIREE_RUN_PROBE").is_some()
}

/// What the grain allows, as one line.
fn report() -> String {
    let runs = std::fs::read_to_string("/var/probe/runs").unwrap_or_default();
    let first = std::fs::read_to_string("/var/probe/first-run").unwrap_or_default();
    let proc_ = if Path::new("/proc/self").exists() {
        "present"
    } else {
        "absent"
    };
    let ro = |p: &str| match std::fs::write(p, "x") {
        Ok(()) => "writable".to_string(),
        Err(e) if e.raw_os_error() == Some(libc::EROFS) => "read-only".to_string(),
        Err(e) => e.to_string(),
    };
    // Any address off the loopback: a grain's namespace has no route to it.
    let net = match TcpStream::connect_timeout(&"192.0.2.1:80".parse().unwrap(), Duration::from_secs(1)) {
        Err(e) if e.raw_os_error() == Some(libc::ENETUNREACH) => "loopback-only".to_string(),
        other => format!("{other:?}"),
    };
    format!(
        "runs={runs} first-run={} proc={proc_} root={} opt={} tmp={} net={net}\n",
        first.len(),
        ro("/x"),
        ro("/opt/x"),
        ro("/tmp/x")
    )
}

#[test]
fn probe_first_run() {
    if inside() {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open("/var/probe/first-run")
            .unwrap();
        f.write_all(b"1").unwrap();
    }
}

#[test]
fn probe_server() {
    if !inside() {
        return;
    }
    let runs: u32 = std::fs::read_to_string("/var/probe/runs")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    std::fs::write("/var/probe/runs", (runs + 1).to_string()).unwrap();
    let udp = UdpSocket::bind(("127.0.0.1", UDP_PORT)).unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 1024];
        while let Ok((n, peer)) = udp.recv_from(&mut buf) {
            let answer = format!("echo {} from {peer}", String::from_utf8_lossy(&buf[..n]));
            let _ = udp.send_to(answer.as_bytes(), peer);
        }
    });
    let tcp = std::net::TcpListener::bind(("127.0.0.1", BRIDGE_PORT)).unwrap();
    println!("probe listening");
    for conn in tcp.incoming() {
        let _ = conn.unwrap().write_all(report().as_bytes());
    }
}
