//! `/opt/soiree/services.json`: what the plan writes and the supervisor reads, checked before
//! anything starts. The one type for both sides: the planner serializes these very structs.

use std::collections::BTreeMap;
use std::path::{Component, Path};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::Error;

/// The whole file: the package's environment and its services, in the order the recipes
/// declared them.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub package: String,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub services: Vec<Service>,
    /// The package's Powerbox requests, served by the link service (`links.rs`); absent when the
    /// package makes none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<Links>,
}

/// The link service: the page and claim handler at `127.0.0.1:port` (the package's web server
/// routes `/.soiree/links/` there), and a forwarder per request reached on a local port.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Links {
    pub port: u16,
    pub requests: Vec<LinkRequest>,
}

/// Letters, digits, `-` and `_`, at least one: a request's name is a file name under
/// `/var/.soiree/links` and a path segment of the link page's URLs.
pub fn is_request_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The port the link service listens on unless services.json says otherwise; the nginx recipe
/// routes `/.soiree/links/` to it. Next to the bridge's own proxy (15239).
pub const LINKS_PORT: u16 = 15240;

/// One `[[requests]]` of the package.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LinkRequest {
    pub name: String,
    /// What the user is asked for, shown on the page and saved with the capability.
    pub label: String,
    /// `api-session`, `ip-interface` or `ip-network`.
    pub interface: String,
    /// The packed, base64url `PowerboxDescriptor` the page passes to `powerboxRequest`.
    pub descriptor: String,
    /// For an `api-session`: where the programs reach it inside the grain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forward: Option<Forward>,
}

/// `127.0.0.1:port`, where requests under `path` go to the granted API (with `path` taken off:
/// the capability stands for the API's root).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Forward {
    pub port: u16,
    pub path: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    pub name: String,
    pub command: Vec<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workdir: Option<String>,
    #[serde(default)]
    pub var_dirs: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready: Option<Ready>,
    #[serde(default)]
    pub after: Vec<String>,
    #[serde(default)]
    pub ports: Vec<u16>,
    #[serde(default)]
    pub first_run: Vec<Vec<String>>,
    /// Commands run before each start of the service by the grain (migrations).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pre_start: Vec<Vec<String>>,
    /// Seconds to wait for `ready` before the grain gives up.
    #[serde(default = "default_ready_timeout")]
    pub ready_timeout: f64,
    /// Seconds between SIGTERM and SIGKILL when the grain stops.
    #[serde(default = "default_stop_timeout")]
    pub stop_timeout: f64,
    #[serde(default)]
    pub restart: Restart,
    /// Variables generated once per grain: name → bytes of randomness.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub secrets: BTreeMap<String, u32>,
}

/// Defaults shared with the plan, which writes them explicitly.
pub const DEFAULT_READY_TIMEOUT: f64 = 120.0;
pub const DEFAULT_STOP_TIMEOUT: f64 = 10.0;

fn default_ready_timeout() -> f64 {
    DEFAULT_READY_TIMEOUT
}

fn default_stop_timeout() -> f64 {
    DEFAULT_STOP_TIMEOUT
}

/// How the supervisor knows a service is up.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum Ready {
    Tcp(u16),
    Http(String),
    Unix(String),
    File(String),
    /// A line of the service's output since its last start contains this text: for services
    /// no probe can ask, such as a UDP game server that prints when it listens.
    Log(String),
}

/// What happens when a service's process exits while the grain runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Restart {
    /// Started again after any exit (a grain has no operator to do it).
    #[default]
    Always,
    /// Started again after a non-zero exit or a signal; an exit with 0 means it is done.
    OnFailure,
    /// Never started again.
    Never,
}

impl Service {
    pub fn ready_timeout(&self) -> Duration {
        secs(self.ready_timeout)
    }

    pub fn stop_timeout(&self) -> Duration {
        secs(self.stop_timeout)
    }
}

fn secs(s: f64) -> Duration {
    Duration::try_from_secs_f64(s).unwrap_or(Duration::ZERO)
}

impl Config {
    /// Reads and checks `path`.
    pub fn load(path: &Path) -> Result<Config, Error> {
        let bytes =
            std::fs::read(path).map_err(|e| Error::Config(format!("cannot read {}: {e}", path.display())))?;
        Config::parse(&bytes)
    }

    /// Parses and checks a services.json document.
    pub fn parse(bytes: &[u8]) -> Result<Config, Error> {
        let config: Config = serde_json::from_slice(bytes).map_err(|e| Error::Config(e.to_string()))?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), Error> {
        let bad = |s: &Service, what: String| Error::Config(format!("service `{}`: {what}", s.name));
        let mut seen = std::collections::BTreeSet::new();
        for s in &self.services {
            if s.name.is_empty() || s.name.contains(['/', '\0']) || s.name.starts_with('.') {
                return Err(Error::Config(format!(
                    "`{}` is not a service name (it names a marker file: no `/`, no leading `.`)",
                    s.name
                )));
            }
            if !seen.insert(s.name.as_str()) {
                return Err(bad(s, "defined twice".into()));
            }
            if s.command.is_empty() || s.command[0].is_empty() {
                return Err(bad(s, "empty command".into()));
            }
            for (what, steps) in [("first-run", &s.first_run), ("pre-start", &s.pre_start)] {
                if let Some(c) = steps.iter().find(|c| c.is_empty() || c[0].is_empty()) {
                    return Err(bad(s, format!("empty {what} command {c:?}")));
                }
            }
            for d in &s.var_dirs {
                if !is_relative_inside(d) {
                    return Err(bad(
                        s,
                        format!("var dir `{d}` is not a relative path inside /var"),
                    ));
                }
            }
            for t in [s.ready_timeout, s.stop_timeout] {
                if !(t.is_finite() && t >= 0.0) {
                    return Err(bad(s, format!("{t} is not a number of seconds")));
                }
            }
            if let Some(Ready::Http(url)) = &s.ready {
                crate::ready::HttpUrl::parse(url).map_err(|e| bad(s, e))?;
            }
            if let Some(Ready::Log(text)) = &s.ready {
                if text.is_empty() || text.contains('\n') {
                    return Err(bad(
                        s,
                        "a log readiness check is one non-empty line of text".into(),
                    ));
                }
            }
        }
        crate::order::start_order(&self.services)?;
        if let Some(links) = &self.links {
            links.check()?;
        }
        Ok(())
    }
}

impl Config {
    /// The same package with only the services named in `names` (each one's `after` reduced to
    /// those kept: the others run elsewhere, in their own containers, ordered by their probes)
    /// and the links only if `links`. An unknown name is an error.
    pub fn only(&self, names: &[String], links: bool) -> Result<Config, Error> {
        if let Some(n) = names
            .iter()
            .find(|n| !self.services.iter().any(|s| &s.name == *n))
        {
            let known: Vec<&str> = self.services.iter().map(|s| s.name.as_str()).collect();
            return Err(Error::Config(format!(
                "no service `{n}` (the package has: {})",
                known.join(", ")
            )));
        }
        let mut services: Vec<Service> = self
            .services
            .iter()
            .filter(|s| names.contains(&s.name))
            .cloned()
            .collect();
        for s in &mut services {
            s.after.retain(|a| names.contains(a));
        }
        Ok(Config {
            package: self.package.clone(),
            env: self.env.clone(),
            services,
            links: if links { self.links.clone() } else { None },
        })
    }
}

impl Links {
    fn check(&self) -> Result<(), Error> {
        let mut names = std::collections::BTreeSet::new();
        let mut ports = std::collections::BTreeSet::from([self.port]);
        for r in &self.requests {
            let bad = |what: String| Error::Config(format!("request `{}`: {what}", r.name));
            // The name is a file name under /var and a path segment of the page's URLs.
            if !is_request_name(&r.name) {
                return Err(bad("a request name is letters, digits, `-` and `_`".into()));
            }
            if !names.insert(r.name.as_str()) {
                return Err(bad("defined twice".into()));
            }
            if r.descriptor.is_empty() {
                return Err(bad("no descriptor".into()));
            }
            if let Some(f) = &r.forward {
                if r.interface != "api-session" {
                    return Err(bad("only api-session requests are forwarded".into()));
                }
                if !f.path.starts_with('/') || !f.path.ends_with('/') {
                    return Err(bad(format!(
                        "the forwarded path `{}` must start and end with `/`",
                        f.path
                    )));
                }
                if !ports.insert(f.port) {
                    return Err(bad(format!(
                        "port {} is taken by the link service or another request",
                        f.port
                    )));
                }
            }
        }
        Ok(())
    }
}

/// `a/b` yes; `/a`, `a/../..`, `..`, `` no.
fn is_relative_inside(p: &str) -> bool {
    let path = Path::new(p);
    !p.is_empty()
        && path
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
        && path.components().any(|c| matches!(c, Component::Normal(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_the_plan_writes() {
        let c = Config::parse(
            br#"{"package": "uro", "env": {"HOME": "/var"}, "services": [
                {"name": "redis", "command": ["/usr/bin/redis-server"], "env": {}, "var_dirs": ["redis"],
                 "ready": {"tcp": 6379}, "after": [], "ports": [6379], "first_run": []},
                {"name": "web", "command": ["/bin/web"], "workdir": "/var", "var_dirs": [],
                 "ready": {"http": "http://127.0.0.1:8000/health"}, "after": ["redis"], "ports": [8000],
                 "first_run": [["/bin/web", "--init"]], "restart": "on-failure", "stop_timeout": 2.5}]}"#,
        )
        .unwrap();
        assert_eq!(c.services[0].ready, Some(Ready::Tcp(6379)));
        assert_eq!(c.services[1].restart, Restart::OnFailure);
        assert_eq!(c.services[1].stop_timeout(), Duration::from_millis(2500));
        assert_eq!(c.services[0].ready_timeout(), Duration::from_secs(120));
    }

    fn one(service: &str) -> Result<Config, Error> {
        Config::parse(format!(r#"{{"package": "p", "services": [{service}]}}"#).as_bytes())
    }

    #[test]
    fn only_keeps_the_named_services_and_drops_waits_on_the_others() {
        let c = Config::parse(
            br#"{"package": "p", "links": {"port": 15240, "requests": [{"name": "uro",
                "label": "Uro", "interface": "api-session", "descriptor": "AA",
                "forward": {"port": 4000, "path": "/api/"}}]}, "services": [
                {"name": "db", "command": ["db"]},
                {"name": "web", "command": ["web"], "after": ["db"]}]}"#,
        )
        .unwrap();
        let web = c.only(&["web".into()], false).unwrap();
        assert_eq!(web.services.len(), 1);
        assert!(web.services[0].after.is_empty() && web.links.is_none());
        let both = c.only(&["db".into(), "web".into()], true).unwrap();
        assert_eq!(both.services[1].after, ["db"]);
        assert_eq!(both.links.unwrap().requests[0].name, "uro");
        let e = c.only(&["cache".into()], false).unwrap_err().to_string();
        assert!(e.contains("no service `cache`") && e.contains("db, web"), "{e}");
    }

    #[test]
    fn rejects_what_the_supervisor_cannot_run() {
        for (json, want) in [
            (r#"{"name": "a", "command": []}"#, "empty command"),
            (r#"{"name": "a/b", "command": ["x"]}"#, "not a service name"),
            (
                r#"{"name": "a", "command": ["x"], "var_dirs": ["../etc"]}"#,
                "not a relative path",
            ),
            (
                r#"{"name": "a", "command": ["x"], "var_dirs": ["/var/a"]}"#,
                "not a relative path",
            ),
            (
                r#"{"name": "a", "command": ["x"], "first_run": [[]]}"#,
                "empty first-run",
            ),
            (
                r#"{"name": "a", "command": ["x"], "ready": {"http": "https://x/"}}"#,
                "http://",
            ),
            (
                r#"{"name": "a", "command": ["x"], "ready": {"tcp": 1, "file": "/f"}}"#,
                "",
            ),
            (
                r#"{"name": "a", "command": ["x"], "restart": "sometimes"}"#,
                "unknown variant",
            ),
            (r#"{"name": "a", "command": ["x"], "colour": 1}"#, "unknown field"),
            (
                r#"{"name": "a", "command": ["x"], "after": ["b"]}"#,
                "no service `b`",
            ),
        ] {
            let e = one(json).unwrap_err().to_string();
            assert!(e.contains(want), "{json}: {e}");
        }
        for (links, want) in [
            (
                r#"{"port": 1, "requests": [{"name": "a b", "label": "", "interface": "api-session", "descriptor": "x"}]}"#,
                "letters",
            ),
            (
                r#"{"port": 1, "requests": [{"name": "a", "label": "", "interface": "ip-network", "descriptor": "x", "forward": {"port": 2, "path": "/"}}]}"#,
                "only api-session",
            ),
            (
                r#"{"port": 1, "requests": [{"name": "a", "label": "", "interface": "api-session", "descriptor": "x", "forward": {"port": 1, "path": "/"}}]}"#,
                "port 1 is taken",
            ),
            (
                r#"{"port": 1, "requests": [{"name": "a", "label": "", "interface": "api-session", "descriptor": "x", "forward": {"port": 2, "path": "api"}}]}"#,
                "must start and end",
            ),
            (
                r#"{"port": 1, "requests": [{"name": "a", "label": "", "interface": "api-session", "descriptor": ""}]}"#,
                "no descriptor",
            ),
        ] {
            let json = format!(r#"{{"package": "p", "links": {links}}}"#);
            let e = Config::parse(json.as_bytes()).unwrap_err().to_string();
            assert!(e.contains(want), "{links}: {e}");
        }
        assert!(
            one(r#"{"name": "a", "command": ["x"]}, {"name": "a", "command": ["y"]}"#)
                .unwrap_err()
                .to_string()
                .contains("defined twice")
        );
    }
}
