//! `--uro`: the party's Uro API on a local port for the unmodified game client. Sandstorm's
//! gateway takes `Authorization` for its own token and the bridge passes only whitelisted
//! headers, so each request goes to the Uro grain's token URL with the client's `Authorization`
//! carried as `X-Sandstorm-App-Authorization` (the Uro package's nginx maps it back).

use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls;

/// The longest request head passed on.
const MAX_HEAD: usize = 64 * 1024;

/// Where the Uro grain's API is.
#[derive(Debug, Clone)]
pub struct Upstream {
    tls: bool,
    /// Host (and port) for the `Host` header.
    authority: String,
    dial_host: String,
    port: u16,
    /// The token URL's path, without its final `/`.
    base: String,
}

impl Upstream {
    pub fn from_api_url(text: &str) -> Result<Upstream, String> {
        let uri = crate::endpoint::parse_url(text)?;
        let tls = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err(format!("`{text}`: give the Uro grain's http(s) API URL")),
        };
        let (host, port) = crate::endpoint::host_port(text, &uri, tls)?;
        Ok(Upstream {
            tls,
            authority: uri
                .authority()
                .map(|a| a.as_str().to_string())
                .unwrap_or_else(|| host.to_string()),
            dial_host: crate::endpoint::dial_host(host),
            port,
            base: uri.path().trim_end_matches('/').to_string(),
        })
    }
}

/// Serves the local Uro API until the task is dropped.
pub async fn serve(listener: TcpListener, upstream: Upstream) {
    let upstream = Arc::new(upstream);
    let tls = Arc::new(tls_connector());
    loop {
        let Ok((client, _)) = listener.accept().await else {
            continue;
        };
        let upstream = upstream.clone();
        let tls = tls.clone();
        tokio::task::spawn_local(async move {
            if let Err(e) = one_request(client, &upstream, &tls).await {
                eprintln!("soiree-tunnel: Uro API: {e}");
            }
        });
    }
}

fn tls_connector() -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

/// Reads the head (up to its blank line), keeping any body bytes read with it.
async fn read_head(client: &mut TcpStream) -> Result<(String, Vec<u8>), String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(end + 4);
            let head = String::from_utf8(buf).map_err(|_| "request head is not UTF-8".to_string())?;
            return Ok((head, rest));
        }
        if buf.len() > MAX_HEAD {
            return Err(format!("request head over {MAX_HEAD} bytes"));
        }
        let n = client.read(&mut chunk).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("the client closed before its request".into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// The request as it goes to the grain: its path under the token URL, `Host` the grain's, the
/// client's `Authorization` as `X-Sandstorm-App-Authorization`, one request per connection, asking
/// the gateway to pass the player's address on (`X-Sandstorm-Passthrough: address`).
pub fn rewrite(head: &str, upstream_authority: &str, base: &str) -> Result<String, String> {
    let mut lines = head.trim_end_matches("\r\n").split("\r\n");
    let request = lines.next().unwrap_or_default();
    let mut parts = request.splitn(3, ' ');
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(format!("bad request line {request:?}"));
    };
    if !target.starts_with('/') {
        return Err(format!("a path was expected, not {target:?}"));
    }
    let mut out = format!("{method} {base}{target} {version}\r\nHost: {upstream_authority}\r\n");
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            return Err(format!("bad header line {line:?}"));
        };
        let lower = name.trim().to_ascii_lowercase();
        match lower.as_str() {
            "host" | "connection" | "keep-alive" | "proxy-connection" | "upgrade" => {}
            // What the gateway would take for its token is carried under a name the bridge passes.
            "authorization" => out.push_str(&format!("X-Sandstorm-App-Authorization:{value}\r\n")),
            _ => {
                out.push_str(line);
                out.push_str("\r\n");
            }
        }
    }
    out.push_str(&format!("{}: {}\r\n", crate::PASSTHROUGH.0, crate::PASSTHROUGH.1));
    out.push_str("Connection: close\r\n\r\n");
    Ok(out)
}

async fn one_request(
    mut client: TcpStream,
    upstream: &Upstream,
    tls: &tokio_rustls::TlsConnector,
) -> Result<(), String> {
    let (head, early_body) = read_head(&mut client).await?;
    let rewritten = match rewrite(&head, &upstream.authority, &upstream.base) {
        Ok(r) => r,
        Err(e) => {
            let _ = client
                .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .await;
            return Err(e);
        }
    };
    let tcp = TcpStream::connect((upstream.dial_host.as_str(), upstream.port))
        .await
        .map_err(|e| format!("{}:{}: {e}", upstream.dial_host, upstream.port))?;
    if upstream.tls {
        let name = rustls::pki_types::ServerName::try_from(upstream.dial_host.clone())
            .map_err(|e| format!("{}: {e}", upstream.dial_host))?;
        let server = tls.connect(name, tcp).await.map_err(|e| e.to_string())?;
        exchange(client, server, &rewritten, &early_body).await
    } else {
        exchange(client, tcp, &rewritten, &early_body).await
    }
}

/// Sends the head and the body as it comes, and the answer back until the grain closes.
async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    client: TcpStream,
    mut server: S,
    head: &str,
    early_body: &[u8],
) -> Result<(), String> {
    server
        .write_all(head.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    server.write_all(early_body).await.map_err(|e| e.to_string())?;
    let (mut server_r, mut server_w) = tokio::io::split(server);
    let (mut client_r, mut client_w) = client.into_split();
    let up = async {
        let _ = tokio::io::copy(&mut client_r, &mut server_w).await;
    };
    let down = async {
        let r = tokio::io::copy(&mut server_r, &mut client_w).await;
        let _ = client_w.shutdown().await;
        r
    };
    // The answer's end (the grain closes: `Connection: close`) ends the exchange.
    tokio::select! {
        r = down => r.map(|_| ()).map_err(|e| e.to_string()),
        () = async { up.await; std::future::pending::<()>().await } => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorization_is_carried_under_the_app_header_and_the_path_goes_under_the_token() {
        let head = "GET /api/v1/profile?x=1 HTTP/1.1\r\nHost: 127.0.0.1:4000\r\nAuthorization: Bearer abc\r\nAccept: */*\r\nConnection: keep-alive\r\n\r\n";
        let out = rewrite(head, "api-1.example", "/.sandstorm-token/T").unwrap();
        assert_eq!(
            out,
            "GET /.sandstorm-token/T/api/v1/profile?x=1 HTTP/1.1\r\nHost: api-1.example\r\nX-Sandstorm-App-Authorization: Bearer abc\r\nAccept: */*\r\nx-sandstorm-passthrough: address\r\nConnection: close\r\n\r\n"
        );
        assert!(rewrite("GET http://x/ HTTP/1.1\r\n\r\n", "a", "").is_err());
    }

    #[test]
    fn the_uro_api_url_gives_where_to_dial_and_the_token_path() {
        let u = Upstream::from_api_url("https://api-1.example.org/.sandstorm-token/T/").unwrap();
        assert_eq!(
            (u.tls, u.dial_host.as_str(), u.port, u.base.as_str()),
            (true, "api-1.example.org", 443, "/.sandstorm-token/T")
        );
        let u = Upstream::from_api_url("http://api-2.localhost:6080/.sandstorm-token/T").unwrap();
        assert_eq!(
            (u.tls, u.dial_host.as_str(), u.port, u.authority.as_str()),
            (false, "127.0.0.1", 6080, "api-2.localhost:6080")
        );
        let err = Upstream::from_api_url("ws://api-1.example.org/x").unwrap_err();
        assert!(err.contains("http(s) API URL"), "{err}");
        let err = Upstream::from_api_url("http://").unwrap_err();
        assert_eq!(err, "`http://` is not a URL: empty string");
    }
}
