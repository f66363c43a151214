//! Helpers shared by the integration tests: archives built on the spot (including ones no honest
//! tool would write), and a tiny loopback HTTP server.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use sha2::Digest;

pub const MTIME: u64 = 1_700_000_000;

/// A tar member, written with raw names so that hostile archives can be built too.
pub enum Member<'a> {
    File(&'a str, &'a [u8], u32),
    Dir(&'a str),
    Symlink(&'a str, &'a str),
    Hardlink(&'a str, &'a str),
}

/// Builds a tar stream from `members`, writing names byte for byte (no checks).
pub fn tar_bytes(members: &[Member<'_>]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for member in members {
        let (name, kind, link, data, mode): (&str, tar::EntryType, Option<&str>, &[u8], u32) = match member {
            Member::File(n, d, m) => (n, tar::EntryType::Regular, None, d, *m),
            Member::Dir(n) => (n, tar::EntryType::Directory, None, b"", 0o755),
            Member::Symlink(n, t) => (n, tar::EntryType::Symlink, Some(t), b"", 0o777),
            Member::Hardlink(n, t) => (n, tar::EntryType::Link, Some(t), b"", 0o644),
        };
        let mut header = tar::Header::new_gnu();
        {
            let gnu = header.as_gnu_mut().expect("a GNU header");
            gnu.name[..name.len()].copy_from_slice(name.as_bytes());
            if let Some(link) = link {
                gnu.linkname[..link.len()].copy_from_slice(link.as_bytes());
            }
        }
        header.set_entry_type(kind);
        header.set_size(data.len() as u64);
        header.set_mode(mode);
        header.set_mtime(MTIME);
        header.set_cksum();
        builder.append(&header, data).expect("append");
    }
    builder.into_inner().expect("finish tar")
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).expect("gzip");
    enc.finish().expect("gzip")
}

pub fn write(path: &Path, bytes: &[u8]) -> PathBuf {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(path, bytes).expect("write");
    path.to_path_buf()
}

pub fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

pub fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .expect("stat")
        .permissions()
        .mode()
        & 0o777
}

/// A small release tree: `app-1.0/` with an executable, a library and its symlink, docs.
pub fn make_release_tree(dir: &Path) -> PathBuf {
    let top = dir.join("app-1.0");
    write(&top.join("bin/app"), b"#!/bin/sh\necho app\n");
    set_mode(&top.join("bin/app"), 0o755);
    write(&top.join("lib/libapp.so.1.0"), b"\x7fELF not really");
    std::os::unix::fs::symlink("libapp.so.1.0", top.join("lib/libapp.so.1")).expect("symlink");
    write(&top.join("share/doc/README"), b"read me\n");
    top
}

/// Runs the real `tar` with `args` in `dir`.
pub fn run_tar(dir: &Path, args: &[&str]) {
    let status = Command::new("tar")
        .args(args)
        .current_dir(dir)
        .status()
        .expect("run tar");
    assert!(status.success(), "tar {args:?} failed");
}

/// Names of the entries directly inside `dir` (empty when it does not exist).
pub fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    names
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = sha2::Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A loopback HTTP/1.1 server that answers every request with `body`, serves at most `max`
/// requests and stops by itself after `max` requests or `lifetime`, whichever comes first.
pub struct Server {
    pub url_base: String,
    pub requests: Arc<AtomicUsize>,
    handle: Option<JoinHandle<()>>,
}

impl Server {
    pub fn start(body: Vec<u8>, max: usize) -> Server {
        Server::start_for(body, max, Duration::from_secs(20))
    }

    pub fn start_for(body: Vec<u8>, max: usize, lifetime: Duration) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        listener.set_nonblocking(true).expect("nonblocking");
        let url_base = format!("http://{}", listener.local_addr().expect("addr"));
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = requests.clone();
        let handle = std::thread::spawn(move || {
            let deadline = Instant::now() + lifetime;
            while counter.load(Ordering::SeqCst) < max && Instant::now() < deadline {
                match listener.accept() {
                    Ok((stream, _)) => {
                        counter.fetch_add(1, Ordering::SeqCst);
                        serve(stream, &body);
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    Err(_) => break,
                }
            }
        });
        Server {
            url_base,
            requests,
            handle: Some(handle),
        }
    }

    pub fn count(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// Waits for the server thread to stop (after `max` requests or its lifetime).
    pub fn join(mut self) -> usize {
        if let Some(h) = self.handle.take() {
            h.join().expect("server thread");
        }
        self.count()
    }
}

fn serve(mut stream: TcpStream, body: &[u8]) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut request = Vec::new();
    let mut buf = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 64 * 1024 {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
    let _ = stream.flush();
}
