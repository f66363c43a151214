//! Host-side forwarding of published ports into the grain. Each TCP connection and each UDP
//! client gets a socket made inside the grain's network namespace by the supervisor
//! (`soiree_grain::relay`), connected to the grain's 127.0.0.1; bytes and datagrams are copied
//! here, on the host.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::io;
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use soiree_grain::relay::{self, Kind};

use crate::publish::{Proto, Publish};

/// A bound host port and what to do with what arrives there.
pub enum Listener {
    Tcp(TcpListener),
    Udp(UdpSocket),
}

impl Listener {
    /// Binds the host side of `p` on 127.0.0.1.
    pub fn bind(p: &Publish) -> io::Result<Listener> {
        let addr = (Ipv4Addr::LOCALHOST, p.host);
        Ok(match p.proto {
            Proto::Tcp => Listener::Tcp(TcpListener::bind(addr)?),
            Proto::Udp => Listener::Udp(UdpSocket::bind(addr)?),
        })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        match self {
            Listener::Tcp(l) => l.local_addr(),
            Listener::Udp(u) => u.local_addr(),
        }
    }
}

/// A running forwarder; [`Forwarder::stop`] closes its host port.
pub struct Forwarder {
    addr: SocketAddr,
    proto: Proto,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Forwarder {
    pub fn start(listener: Listener, grain_port: u16, relay_dir: &Path) -> io::Result<Forwarder> {
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let sockets = relay_dir.join(relay::SOCKETS);
        let (proto, thread) = match listener {
            Listener::Tcp(l) => {
                let stop = stop.clone();
                (
                    Proto::Tcp,
                    std::thread::Builder::new()
                        .name(format!("tcp {}", addr.port()))
                        .spawn(move || tcp_accept(l, grain_port, sockets, stop))?,
                )
            }
            Listener::Udp(u) => {
                let stop = stop.clone();
                (
                    Proto::Udp,
                    std::thread::Builder::new()
                        .name(format!("udp {}", addr.port()))
                        .spawn(move || udp_loop(u, grain_port, sockets, stop))?,
                )
            }
        };
        Ok(Forwarder {
            addr,
            proto,
            stop,
            thread: Some(thread),
        })
    }

    /// Stops accepting and frees the host port (connections already open end with the grain).
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocked accept or receive so the thread sees the flag and drops its socket.
        match self.proto {
            Proto::Tcp => drop(TcpStream::connect_timeout(&self.addr, Duration::from_secs(1))),
            Proto::Udp => {
                if let Ok(s) = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)) {
                    let _ = s.send_to(b"", self.addr);
                }
            }
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A socket of `kind` from inside the grain.
fn grain_socket(sockets: &PathBuf, kind: Kind) -> io::Result<std::os::fd::OwnedFd> {
    let mut conn = UnixStream::connect(sockets)?;
    relay::request(&mut conn, kind)
}

fn tcp_accept(listener: TcpListener, grain_port: u16, sockets: PathBuf, stop: Arc<AtomicBool>) {
    for client in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(client) = client else { continue };
        let sockets = sockets.clone();
        let _ = std::thread::Builder::new()
            .name("tcp conn".into())
            .spawn(move || {
                // Not up yet, or nothing listens: the client sees its connection closed, as it
                // would from a grain that is starting.
                let inner =
                    grain_socket(&sockets, Kind::Tcp).and_then(|fd| relay::connect_tcp(fd, grain_port));
                if let Ok(inner) = inner {
                    splice(client, inner);
                }
            });
    }
}

/// Copies both ways until both sides have finished, passing on half-closes.
fn splice(a: TcpStream, b: TcpStream) {
    let (Ok(a2), Ok(b2)) = (a.try_clone(), b.try_clone()) else {
        return;
    };
    let up = std::thread::spawn(move || {
        let _ = io::copy(&mut &a2, &mut &b2);
        let _ = b2.shutdown(Shutdown::Write);
    });
    let _ = io::copy(&mut &b, &mut &a);
    let _ = a.shutdown(Shutdown::Write);
    let _ = up.join();
}

/// One grain-side socket per host-side client address, so replies reach the right client and
/// the service sees one peer per client, as ENet expects.
fn udp_loop(outer: UdpSocket, grain_port: u16, sockets: PathBuf, stop: Arc<AtomicBool>) {
    let outer = Arc::new(outer);
    let mut clients: HashMap<SocketAddr, UdpSocket> = HashMap::new();
    let mut buf = vec![0u8; 65536];
    loop {
        let Ok((n, peer)) = outer.recv_from(&mut buf) else {
            if stop.load(Ordering::SeqCst) {
                return;
            }
            continue;
        };
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let inner = match clients.entry(peer) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => match udp_client(&outer, peer, grain_port, &sockets, &stop) {
                Ok(inner) => e.insert(inner),
                // The grain is not up: the datagram is lost, as on a real network.
                Err(_) => continue,
            },
        };
        let _ = inner.send(&buf[..n]);
    }
}

/// A grain-side UDP socket connected to the grain's port, with a thread sending its replies
/// back to `peer` from the published port.
fn udp_client(
    outer: &Arc<UdpSocket>,
    peer: SocketAddr,
    grain_port: u16,
    sockets: &PathBuf,
    stop: &Arc<AtomicBool>,
) -> io::Result<UdpSocket> {
    let inner = UdpSocket::from(grain_socket(sockets, Kind::Udp)?);
    inner.connect((Ipv4Addr::LOCALHOST, grain_port))?;
    inner.set_read_timeout(Some(Duration::from_millis(500)))?;
    let replies = inner.try_clone()?;
    let outer = outer.clone();
    let stop = stop.clone();
    std::thread::Builder::new()
        .name(format!("udp {peer}"))
        .spawn(move || {
            let mut buf = vec![0u8; 65536];
            while !stop.load(Ordering::SeqCst) {
                // Errors are timeouts (to look at `stop`) and "connection refused" while nothing
                // listens on the grain port yet.
                if let Ok(n) = replies.recv(&mut buf) {
                    let _ = outer.send_to(&buf[..n], peer);
                }
            }
        })?;
    Ok(inner)
}
