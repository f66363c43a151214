//! `--forward PORT=tcp://HOST:PORT`: a service split out of the package's Pod (a database)
//! reached at the loopback port its recipe names, bytes copied both ways as they are.

use std::net::{Shutdown, TcpListener, TcpStream};
use std::time::Duration;

use crate::ready::HttpUrl;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Listens on `127.0.0.1:port` and joins every connection to one to `upstream`
/// (`tcp://HOST:PORT`) on threads of its own, for the life of the process.
pub fn serve(port: u16, upstream: &str) -> Result<(), String> {
    let addr = upstream
        .strip_prefix("tcp://")
        .ok_or_else(|| format!("--forward {port}: `{upstream}` is not tcp://HOST:PORT"))?;
    // The authority parser of readiness URLs, without their path.
    let target = HttpUrl::parse(&format!("http://{addr}"))?;
    let listener = TcpListener::bind(("127.0.0.1", port))
        .map_err(|e| format!("--forward: cannot listen on 127.0.0.1:{port}: {e}"))?;
    std::thread::Builder::new()
        .name(format!("forward {port}"))
        .spawn(move || {
            let target = std::sync::Arc::new(target);
            for client in listener.incoming().flatten() {
                let target = target.clone();
                let _ = std::thread::Builder::new()
                    .name(format!("forward {port}"))
                    .spawn(move || {
                        if let Err(e) = copy_both_ways(client, &target) {
                            crate::log::say(&format!("--forward {port}: {e}"));
                        }
                    });
            }
        })
        .map_err(|e| format!("--forward {port}: cannot start its thread: {e}"))?;
    Ok(())
}

/// A TCP connection joined to one to `target`, bytes copied both ways until each side ends.
fn copy_both_ways(mut a: TcpStream, target: &HttpUrl) -> Result<(), String> {
    let mut b = target
        .addr()
        .and_then(|addr| TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT))
        .map_err(|e| format!("cannot reach {}:{}: {e}", target.host, target.port))?;
    let (mut a_in, mut b_out) = (
        a.try_clone().map_err(|e| e.to_string())?,
        b.try_clone().map_err(|e| e.to_string())?,
    );
    let there = std::thread::spawn(move || {
        let _ = std::io::copy(&mut a_in, &mut b_out);
        let _ = b_out.shutdown(Shutdown::Write);
    });
    let _ = std::io::copy(&mut b, &mut a);
    let _ = a.shutdown(Shutdown::Both);
    let _ = b.shutdown(Shutdown::Both);
    let _ = there.join();
    Ok(())
}
