//! Where the relay is: the grain's API URL with its token (as the host shares it) turned into
//! the relay's WebSocket URL, and the TCP address to dial (`*.localhost` is loopback, as browsers
//! and curl treat it, which `soiree-pack up`'s API hosts rely on).

use tokio_tungstenite::tungstenite::http::Uri;

/// The relay's path under the grain's API.
pub const RELAY_PATH: &str = ".soiree/relay";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `ws://` or `wss://`, ending in `/.soiree/relay`.
    pub url: String,
    /// What to dial.
    pub dial_host: String,
    pub port: u16,
}

impl Endpoint {
    /// `http(s)://api-….host/.sandstorm-token/TOKEN/` (or its `ws(s)://` form, or the relay URL
    /// itself) into the relay endpoint.
    pub fn from_api_url(text: &str) -> Result<Endpoint, String> {
        let uri = parse_url(text)?;
        let (scheme, tls) = match uri.scheme_str() {
            Some("http") | Some("ws") => ("ws", false),
            Some("https") | Some("wss") => ("wss", true),
            Some(other) => return Err(format!("`{text}`: scheme `{other}`, expected http(s) or ws(s)")),
            None => return Err(format!("`{text}`: no scheme; give the whole URL the host shared")),
        };
        let (host, port) = host_port(text, &uri, tls)?;
        let host = host.to_string();
        let path = uri.path();
        if !path.contains("/.sandstorm-token/") && !path.ends_with(RELAY_PATH) {
            eprintln!(
                "soiree-tunnel: warning: `{text}` has no /.sandstorm-token/TOKEN/ in its path; the host's link has one"
            );
        }
        let path = if path.trim_end_matches('/').ends_with(RELAY_PATH) {
            path.trim_end_matches('/').to_string()
        } else {
            format!("{}/{RELAY_PATH}", path.trim_end_matches('/'))
        };
        let authority = uri.authority().map(|a| a.as_str()).unwrap_or(&host);
        // The token is in the path; user:password@ never is, so authority is host[:port].
        Ok(Endpoint {
            url: format!("{scheme}://{authority}{path}"),
            dial_host: dial_host(&host),
            port,
        })
    }
}

/// `text` (trimmed) as a URL, or a message naming it.
pub(crate) fn parse_url(text: &str) -> Result<Uri, String> {
    text.trim()
        .parse()
        .map_err(|e| format!("`{text}` is not a URL: {e}"))
}

/// A URL's host (never empty) and port: the scheme's default (443 with TLS, else 80) when it
/// gives none.
pub(crate) fn host_port<'u>(text: &str, uri: &'u Uri, tls: bool) -> Result<(&'u str, u16), String> {
    let host = uri
        .host()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| format!("`{text}` has no host"))?;
    Ok((host, uri.port_u16().unwrap_or(if tls { 443 } else { 80 })))
}

/// The address to connect to for a URL's host: loopback for `localhost` and `*.localhost`.
pub fn dial_host(host: &str) -> String {
    if host == "localhost" || host.ends_with(".localhost") {
        "127.0.0.1".to_string()
    } else {
        host.trim_start_matches('[').trim_end_matches(']').to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_urls_become_relay_urls() {
        let e = Endpoint::from_api_url("http://api-3f9c.localhost:6080/.sandstorm-token/abc/").unwrap();
        assert_eq!(
            e.url,
            "ws://api-3f9c.localhost:6080/.sandstorm-token/abc/.soiree/relay"
        );
        assert_eq!((e.dial_host.as_str(), e.port), ("127.0.0.1", 6080));
        let e = Endpoint::from_api_url("https://api-1.example.org/.sandstorm-token/t").unwrap();
        assert_eq!(e.url, "wss://api-1.example.org/.sandstorm-token/t/.soiree/relay");
        assert_eq!((e.dial_host.as_str(), e.port), ("api-1.example.org", 443));
        let same = Endpoint::from_api_url(&e.url).unwrap();
        assert_eq!(same.url, e.url);
        assert!(Endpoint::from_api_url("ftp://x/").is_err());
        assert!(Endpoint::from_api_url("api-1.example.org/x").is_err());
    }
}
