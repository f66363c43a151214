//! Shared by soiree-up's tests: the real bridge, a staged package around it, the party run on a
//! thread of its own, and a small HTTP/1.1 client that sets `Host` as a browser would.

#![allow(dead_code)]

pub mod echo_app;
pub mod echo_package;

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use soiree_spk::{Dir, Entry};

/// Sandstorm's bridge built from source (`../shared/sandstorm-bundle`), or `SOIREE_SANDSTORM_BUNDLE`.
pub fn bundle() -> Option<PathBuf> {
    soiree_test_support::sandstorm_bundle().map(|dir| dir.join("bin/sandstorm-http-bridge"))
}

pub fn bwrap_is_installed() {
    let ok = std::process::Command::new("bwrap")
        .arg("--version")
        .output()
        .is_ok();
    assert!(
        ok,
        "bwrap is missing: apt-get install bubblewrap (.ci/run installs it)"
    );
}

fn file(path: &Path) -> Entry {
    Entry::from_disk(path, &std::fs::metadata(path).unwrap()).unwrap()
}

/// A framed `Manifest` whose grain runs `app` behind the bridge on port 8000.
pub fn manifest(app: &[&str], env: &[(&str, &str)]) -> Vec<u8> {
    let mut argv = vec!["/sandstorm-http-bridge", "8000", "--"];
    argv.extend_from_slice(app);
    let mut b = capnp::message::Builder::new_default();
    {
        let mut m = b.init_root::<soiree_schema::manifest_capnp::manifest::Builder>();
        m.set_app_version(1);
        m.reborrow().init_app_title().set_default_text("Up Test");
        m.reborrow()
            .init_app_marketing_version()
            .set_default_text("0.0.1");
        let mut c = m.init_continue_command();
        let mut list = c.reborrow().init_argv(argv.len() as u32);
        for (i, a) in argv.iter().enumerate() {
            list.set(i as u32, *a);
        }
        let mut e = c.init_environ(env.len() as u32);
        for (i, (k, v)) in env.iter().enumerate() {
            e.reborrow().get(i as u32).set_key(*k);
            e.reborrow().get(i as u32).set_value(*v);
        }
    }
    capnp::serialize::write_message_to_words(&b)
}

/// The canonical URL of the API the test package exports through the Powerbox.
pub const ECHO_API_URL: &str = "https://echo.example/api/";

/// A `BridgeConfig`: permissions read and write, roles viewer (read) and editor (both), API
/// requests under `/api/`, and one Powerbox API, `echo-api` under `/pb/` (needs read).
/// Unpacked, as `spk` writes it.
pub fn bridge_config() -> Vec<u8> {
    bridge_config_offering(&["echo-api"])
}

/// [`bridge_config`] exporting the same API under each of `names`.
pub fn bridge_config_offering(names: &[&str]) -> Vec<u8> {
    let mut b = capnp::message::Builder::new_default();
    {
        let mut c = b.init_root::<soiree_schema::manifest_capnp::bridge_config::Builder>();
        c.set_api_path("/api/");
        // The bridge exports Powerbox APIs only with this set.
        c.set_save_identity_caps(true);
        let mut apis = c.reborrow().init_powerbox_apis(names.len() as u32);
        for (i, name) in names.iter().enumerate() {
            let mut api = apis.reborrow().get(i as u32);
            api.set_name(*name);
            api.set_path("/pb/");
            api.reborrow()
                .init_display_info()
                .init_title()
                .set_default_text("Echo API");
            api.reborrow().init_tag().set_canonical_url(ECHO_API_URL);
            let mut perms = api.init_permissions(2);
            perms.set(0, true);
            perms.set(1, false);
        }
        let mut v = c.init_view_info();
        let mut p = v.reborrow().init_permissions(2);
        p.reborrow().get(0).set_name("read");
        p.reborrow().get(1).set_name("write");
        let mut r = v.init_roles(2);
        for (i, (title, perms)) in [("viewer", vec![true, false]), ("editor", vec![true, true])]
            .iter()
            .enumerate()
        {
            let mut role = r.reborrow().get(i as u32);
            role.reborrow().init_title().set_default_text(*title);
            let mut l = role.init_permissions(perms.len() as u32);
            for (j, x) in perms.iter().enumerate() {
                l.set(j as u32, *x);
            }
        }
    }
    capnp::serialize::write_message_to_words(&b)
}

/// Stages a package: the bridge, `app` (a program of this machine) with its closure, the
/// manifest and the bridge config.
pub fn stage(work: &Path, bridge: &Path, app: &Path, argv: &[&str], env: &[(&str, &str)]) -> PathBuf {
    let closure = soiree_deps::closure(&[app], &soiree_deps::Options::default()).unwrap();
    let mut tree: Dir = closure.to_dir(0).unwrap();
    // The app is this test binary, hundreds of MB with debug info, staged by several tests at
    // once: it is hard-linked in after staging rather than copied (the grain sees it
    // read-only), and left out where the closure found it (the grain runs /opt/app/app).
    let mut dir = &mut tree;
    let parts: Vec<Vec<u8>> = app
        .iter()
        .skip(1)
        .map(|c| c.as_encoded_bytes().to_vec())
        .collect();
    for part in &parts[..parts.len() - 1] {
        match dir.entries.get_mut(part).map(|e| &mut e.node) {
            Some(soiree_spk::Node::Dir(d)) => dir = d,
            _ => panic!("{} is not in its closure", app.display()),
        }
    }
    dir.entries.remove(&parts[parts.len() - 1]);
    for (path, entry) in [
        ("/sandstorm-http-bridge", file(bridge)),
        ("/opt/app/app", Entry::bytes(Vec::new(), true, 0)),
        ("/sandstorm-manifest", Entry::bytes(manifest(argv, env), false, 0)),
        (
            "/sandstorm-http-bridge-config",
            Entry::bytes(bridge_config(), false, 0),
        ),
    ] {
        soiree_plan::tree::graft(&mut tree, path, entry, "test").unwrap();
    }
    tree.add_sandbox_mount_points(0).unwrap();
    let root = work.join("root");
    soiree_plan::tree::stage(&tree, &root).unwrap();
    let staged = root.join("opt/app/app");
    std::fs::remove_file(&staged).unwrap();
    if std::fs::hard_link(app, &staged).is_err() {
        std::fs::copy(app, &staged).unwrap();
    }
    root
}

/// What the party thread reports once up.
pub struct Up {
    pub addr: SocketAddr,
    pub urls: Vec<soiree_up::GrainUrls>,
    pub links: Vec<soiree_up::Linked>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Up {
    pub fn token(&self, grain: &str) -> String {
        self.urls
            .iter()
            .find(|u| u.name == grain)
            .unwrap()
            .api_token
            .clone()
    }
}

impl Drop for Up {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Runs the party on a thread with its own single-threaded runtime (RPC is not `Send`).
pub fn up(opts: soiree_up::Options) -> Result<Up, String> {
    let (tx, rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let local = tokio::task::LocalSet::new();
        local.block_on(&rt, async move {
            match soiree_up::Party::start(&opts).await {
                Ok(party) => {
                    tx.send(Ok((party.addr(), party.urls().to_vec(), party.links().to_vec())))
                        .unwrap();
                    let _ = stop_rx.await;
                    party.stop();
                }
                Err(e) => tx.send(Err(format!("{e:?}"))).unwrap(),
            }
        });
    });
    match rx.recv_timeout(Duration::from_secs(120)) {
        Ok(Ok((addr, urls, links))) => Ok(Up {
            addr,
            urls,
            links,
            stop: Some(stop_tx),
            thread: Some(thread),
        }),
        Ok(Err(e)) => {
            let _ = thread.join();
            Err(e)
        }
        Err(e) => Err(format!("the party did not come up: {e}")),
    }
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One request with `Connection: close`; the body read to its end (chunked or not).
pub fn http(
    addr: SocketAddr,
    host: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Answer {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (n, v) in headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    if !body.is_empty() || method == "POST" || method == "PUT" {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    read_answer(&mut BufReader::new(s))
}

pub fn read_head(r: &mut impl BufRead) -> (u16, Vec<(String, String)>) {
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    let status = line.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let mut headers = Vec::new();
    loop {
        let mut l = String::new();
        r.read_line(&mut l).unwrap();
        let l = l.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((n, v)) = l.split_once(':') {
            headers.push((n.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    (status, headers)
}

pub fn read_answer(r: &mut impl BufRead) -> Answer {
    let (status, headers) = read_head(r);
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    let mut body = Vec::new();
    if chunked {
        loop {
            let mut size = String::new();
            r.read_line(&mut size).unwrap();
            let n = usize::from_str_radix(size.trim(), 16).unwrap();
            if n == 0 {
                break;
            }
            let mut chunk = vec![0u8; n + 2];
            r.read_exact(&mut chunk).unwrap();
            body.extend_from_slice(&chunk[..n]);
        }
    } else if let Some(n) = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
    {
        // A server may keep the connection open after the body despite `Connection: close`.
        body.resize(n, 0);
        r.read_exact(&mut body).unwrap();
    } else {
        r.read_to_end(&mut body).unwrap();
    }
    Answer {
        status,
        headers,
        body,
    }
}

/// A packed, base64url `ApiSession` request descriptor for `url`, as a package's page sends it.
pub fn api_request(url: &str) -> String {
    let m = soiree_plan::powerbox::descriptor_message(soiree_party::Interface::ApiSession, Some(url), None);
    soiree_plan::powerbox::encode(&m)
}
