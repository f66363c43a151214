//! The socket handoff that lets `soiree-pack run` reach a grain's loopback ports from the host.
//!
//! A grain has a network namespace of its own; the host cannot connect to its 127.0.0.1. When
//! `SOIREE_RUN_RELAY` names a directory (shared with the host), the supervisor listens on
//! `DIR/sockets` and, for each request byte, creates a TCP (`t`) or UDP (`u`) socket *inside*
//! the grain's namespace and passes it to the host with `SCM_RIGHTS`. A socket belongs to the
//! namespace it was created in, so the host connects it to the grain's 127.0.0.1:PORT and
//! copies bytes itself: nothing inside the grain relays data, and datagrams keep their bounds.
//! When every service is up, the supervisor creates `DIR/ready`.

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;

/// The environment variable that turns the handoff on.
pub const RELAY_ENV: &str = "SOIREE_RUN_RELAY";
/// The Unix socket the supervisor listens on, in the relay directory.
pub const SOCKETS: &str = "sockets";
/// Created by the supervisor once every service is ready and its first-run steps are done.
pub const READY: &str = "ready";

/// The kind of socket to ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Tcp,
    Udp,
}

impl Kind {
    fn byte(self) -> u8 {
        match self {
            Kind::Tcp => b't',
            Kind::Udp => b'u',
        }
    }
}

/// Supervisor side: serves socket requests on `dir/sockets` from a thread.
pub fn serve(dir: &Path) -> std::io::Result<()> {
    let path = dir.join(SOCKETS);
    // A socket file left by an earlier run of the same directory.
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path)?;
    std::thread::Builder::new().name("relay".into()).spawn(move || {
        for conn in listener.incoming().flatten() {
            let _ = std::thread::Builder::new()
                .name("relay conn".into())
                .spawn(move || answer(conn));
        }
    })?;
    Ok(())
}

fn answer(mut conn: UnixStream) {
    let mut req = [0u8; 1];
    while let Ok(1) = conn.read(&mut req) {
        let kind = match req[0] {
            b't' => libc::SOCK_STREAM,
            b'u' => libc::SOCK_DGRAM,
            _ => return,
        };
        // SAFETY: socket(2) with constant arguments; the result is checked before use.
        let fd = unsafe { libc::socket(libc::AF_INET, kind | libc::SOCK_CLOEXEC, 0) };
        let sent = if fd < 0 {
            conn.write_all(b"-")
        } else {
            // SAFETY: `fd` was just created and is owned here alone.
            let owned = unsafe { OwnedFd::from_raw_fd(fd) };
            send_fd(&conn, owned.as_raw_fd())
        };
        if sent.is_err() {
            return;
        }
    }
}

/// Host side: asks the supervisor listening at `sockets` for a socket of `kind` in the grain's
/// network namespace, over `conn` (a connection to `DIR/sockets`).
pub fn request(conn: &mut UnixStream, kind: Kind) -> std::io::Result<OwnedFd> {
    conn.write_all(&[kind.byte()])?;
    recv_fd(conn)
}

/// Host side: connects a TCP socket from [`request`] to the grain's `127.0.0.1:port`.
pub fn connect_tcp(fd: OwnedFd, port: u16) -> std::io::Result<std::net::TcpStream> {
    let addr = libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: port.to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from(std::net::Ipv4Addr::LOCALHOST).to_be(),
        },
        sin_zero: [0; 8],
    };
    loop {
        // SAFETY: `addr` is a valid sockaddr_in of the length given.
        let r = unsafe {
            libc::connect(
                fd.as_raw_fd(),
                (&addr as *const libc::sockaddr_in).cast(),
                std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
            )
        };
        if r == 0 {
            return Ok(std::net::TcpStream::from(fd));
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Space for one `SCM_RIGHTS` message carrying one descriptor, aligned for `cmsghdr`.
#[repr(C)]
union CmsgBuf {
    _align: libc::cmsghdr,
    bytes: [u8; 64],
}

fn send_fd(conn: &UnixStream, fd: RawFd) -> std::io::Result<()> {
    let mut byte = *b"+";
    let mut iov = libc::iovec {
        iov_base: byte.as_mut_ptr().cast(),
        iov_len: 1,
    };
    let mut buf = CmsgBuf { bytes: [0; 64] };
    // SAFETY: the msghdr points at live locals; CMSG_* stay within `buf`, which is large and
    // aligned enough for one cmsghdr and one int.
    unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = buf.bytes.as_mut_ptr().cast();
        msg.msg_controllen = libc::CMSG_SPACE(std::mem::size_of::<RawFd>() as u32) as _;
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        (*cmsg).cmsg_level = libc::SOL_SOCKET;
        (*cmsg).cmsg_type = libc::SCM_RIGHTS;
        (*cmsg).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<RawFd>() as u32) as _;
        std::ptr::write_unaligned(libc::CMSG_DATA(cmsg).cast::<RawFd>(), fd);
        if libc::sendmsg(conn.as_raw_fd(), &msg, libc::MSG_NOSIGNAL) < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

fn recv_fd(conn: &UnixStream) -> std::io::Result<OwnedFd> {
    let mut byte = [0u8; 1];
    let mut iov = libc::iovec {
        iov_base: byte.as_mut_ptr().cast(),
        iov_len: 1,
    };
    let mut buf = CmsgBuf { bytes: [0; 64] };
    // SAFETY: as in `send_fd`; the received descriptor is taken over only if the kernel put one
    // in a SCM_RIGHTS message.
    unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = buf.bytes.as_mut_ptr().cast();
        msg.msg_controllen = std::mem::size_of::<CmsgBuf>() as _;
        let n = libc::recvmsg(conn.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC);
        if n < 0 {
            return Err(std::io::Error::last_os_error());
        }
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the grain's supervisor closed the relay",
            ));
        }
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        if byte[0] != b'+' || cmsg.is_null() || (*cmsg).cmsg_type != libc::SCM_RIGHTS {
            return Err(std::io::Error::other(
                "the grain's supervisor could not create a socket",
            ));
        }
        Ok(OwnedFd::from_raw_fd(std::ptr::read_unaligned(
            libc::CMSG_DATA(cmsg).cast::<RawFd>(),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hands_out_working_sockets() {
        let dir = tempfile::tempdir().unwrap();
        serve(dir.path()).unwrap();
        let mut conn = UnixStream::connect(dir.path().join(SOCKETS)).unwrap();
        let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = server.local_addr().unwrap().port();
        let mut tcp = connect_tcp(request(&mut conn, Kind::Tcp).unwrap(), port).unwrap();
        tcp.write_all(b"hi").unwrap();
        let (mut accepted, _) = server.accept().unwrap();
        let mut got = [0u8; 2];
        accepted.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"hi");
        let udp = std::net::UdpSocket::from(request(&mut conn, Kind::Udp).unwrap());
        let peer = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        udp.connect(peer.local_addr().unwrap()).unwrap();
        udp.send(b"x").unwrap();
        let mut got = [0u8; 4];
        assert_eq!(peer.recv(&mut got).unwrap(), 1);
    }
}
