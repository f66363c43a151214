//! The real `soiree-tunnel` program against endpoints that fail: a `wss://` relay and an
//! `https://` Uro that do not speak TLS are reported on a line each and retried, nothing
//! crashes, and Ctrl-C ends it with status 0. (Its working paths are tested with `soiree-pack
//! up` in crates/soiree-pack/tests/game_relay.rs.)

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A TCP server that answers every connection with plain HTTP, never TLS.
fn not_tls() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut s in l.incoming().map_while(Result::ok) {
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        }
    });
    port
}

#[test]
fn tls_failures_are_reported_and_ctrl_c_ends_cleanly() {
    let port = not_tls();
    let mut child = Command::new(env!("CARGO_BIN_EXE_soiree-tunnel"))
        .arg(format!("https://localhost:{port}/.sandstorm-token/x/"))
        .args(["--listen", "127.0.0.1:0", "--uro-listen", "127.0.0.1:0", "--uro"])
        .arg(format!("https://localhost:{port}/.sandstorm-token/y/"))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = Arc::new(Mutex::new(String::new()));
    let sink = log.clone();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let mut l = sink.lock().unwrap();
            l.push_str(&line);
            l.push('\n');
        }
    });
    let wait = |want: &str| {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let l = log.lock().unwrap().clone();
            if l.contains(want) {
                return l;
            }
            assert!(Instant::now() < deadline, "no `{want}` in:\n{l}");
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let l = wait("Uro API on http://127.0.0.1:");
    let number = |after: &str, end: char| -> u16 {
        l.split(after)
            .nth(1)
            .and_then(|r| r.split(end).next())
            .and_then(|p| p.parse().ok())
            .unwrap()
    };
    let udp_port = number("point the game at 127.0.0.1:", ' ');
    let uro_port = number("Uro API on http://127.0.0.1:", '/');

    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .send_to(b"hello", ("127.0.0.1", udp_port))
        .unwrap();
    wait("cannot reach the relay (");
    wait("again in 0.5 s");

    let mut s = TcpStream::connect(("127.0.0.1", uro_port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
    wait("soiree-tunnel: Uro API: ");

    assert!(child.try_wait().unwrap().is_none(), "{}", log.lock().unwrap());
    // SAFETY: kill(2) on our own child; SIGINT is what Ctrl-C sends.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let status = child.wait().unwrap();
    let l = log.lock().unwrap().clone();
    assert_eq!(status.code(), Some(0), "{l}");
    assert!(l.ends_with("soiree-tunnel: stopped\n"), "{l}");
    assert!(!l.contains("panicked"), "{l}");
}
