//! What tests of `up` share: Sandstorm's bridge bundle, the gateway's port in up's log, and headless Chromium under chromedriver.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Sandstorm's bridge built from source, laid out like a release bundle
/// (`../shared/sandstorm-bundle` beside the repository), or `SOIREE_SANDSTORM_BUNDLE`. `None`
/// (said on stderr) when it has no `bin/sandstorm-http-bridge`.
pub fn sandstorm_bundle() -> Option<PathBuf> {
    let dir = std::env::var_os("SOIREE_SANDSTORM_BUNDLE")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/sandstorm-bundle"));
    if dir.join("bin/sandstorm-http-bridge").is_file() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED: {} has no bin/sandstorm-http-bridge (set SOIREE_SANDSTORM_BUNDLE)",
            dir.display()
        );
        None
    }
}

/// The gateway's port in the stderr of `soiree-pack up`. Grains write to the same stderr, so
/// one of up's lines may be cut by theirs, and they print loopback URLs of their own (nginx's
/// upstream): only a whole shell URL, `http://127.0.0.1:PORT/grain/`, which only up prints,
/// is taken.
pub fn gateway_port(log: &str) -> Option<u16> {
    const AT: &str = "http://127.0.0.1:";
    log.match_indices(AT).find_map(|(at, _)| {
        let rest = &log[at + AT.len()..];
        let digits = rest.find(|c: char| !c.is_ascii_digit())?;
        if rest[digits..].starts_with("/grain/") {
            rest[..digits].parse().ok()
        } else {
            None
        }
    })
}

/// chromedriver on a free loopback port, for a headless Chromium with its profile in a folder
/// of the test's. Stopped when dropped.
pub struct Chromium {
    driver: Child,
    port: u16,
    profile: PathBuf,
}

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

impl Chromium {
    /// Panics, saying what to install, when Chromium or its driver is missing.
    pub fn start(profile: &Path) -> Chromium {
        assert!(
            Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists(),
            "apt-get install chromium chromium-driver (.ci/run installs them)"
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or_else(|e| panic!("no free loopback port: {e}"));
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {CHROMEDRIVER}: {e}"));
        Chromium {
            driver,
            port,
            profile: profile.to_path_buf(),
        }
    }

    /// A WebDriver session with a new headless Chromium; waits for chromedriver to listen.
    pub async fn client(&self) -> fantoccini::Client {
        let mut caps = fantoccini::wd::Capabilities::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": CHROMIUM,
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                         "--no-first-run", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync",
                         format!("--user-data-dir={}", self.profile.display())],
            }),
        );
        let mut last = String::new();
        for _ in 0..50 {
            match fantoccini::ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{}", self.port))
                .await
            {
                Ok(c) => return c,
                Err(e) => last = e.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not start: {last}")
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::gateway_port;

    #[test]
    fn the_gateway_port_is_found_only_in_a_whole_shell_url() {
        let log = "nginx| upstream: \"http://127.0.0.1:4000/api/v1//\"\n\
                   the party is up: http://127.0.0.1:36soiree-grain| x\n\
                   311/\nclient: http://127.0.0.1:36311/grain/client/\n";
        assert_eq!(gateway_port(log), Some(36311));
        assert_eq!(gateway_port("the party is up: http://127.0.0.1:36311/\n"), None);
    }
}
