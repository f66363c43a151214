//! The Helm chart `dist/helm/<party>/`: `Chart.yaml`, `values.yaml` written from the
//! deployment (every package's image, ports, services and links; the scale knobs), and the
//! templates under `chart/templates/`, which hold no party-specific text: what differs between
//! parties is all in the values.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::deployment::{Deployment, PackageView};

/// The chart's templates, the same for every party.
const TEMPLATES: [(&str, &str); 6] = [
    (
        "templates/_helpers.tpl",
        include_str!("../chart/templates/_helpers.tpl"),
    ),
    (
        "templates/packages.yaml",
        include_str!("../chart/templates/packages.yaml"),
    ),
    (
        "templates/game-server.yaml",
        include_str!("../chart/templates/game-server.yaml"),
    ),
    (
        "templates/cockroachdb.yaml",
        include_str!("../chart/templates/cockroachdb.yaml"),
    ),
    (
        "templates/redis.yaml",
        include_str!("../chart/templates/redis.yaml"),
    ),
    (
        "templates/ingress.yaml",
        include_str!("../chart/templates/ingress.yaml"),
    ),
];

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Values {
    image: Image,
    ingress: Ingress,
    packages: BTreeMap<String, Package>,
    #[serde(skip_serializing_if = "Option::is_none")]
    game_server: Option<GameServer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cockroachdb: Option<Cockroach>,
    #[serde(skip_serializing_if = "Option::is_none")]
    redis: Option<Redis>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Image {
    registry: String,
    tag: String,
    pull_policy: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Ingress {
    enabled: bool,
    host: String,
    class_name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Package {
    repository: String,
    replicas: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    http_port: Option<u16>,
    resources: BTreeMap<String, BTreeMap<String, String>>,
    storage: Storage,
    services: Vec<Service>,
    links: Vec<Link>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Storage {
    size: String,
    access_mode: String,
    class_name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Service {
    name: String,
    after: Vec<String>,
    ports: Vec<u16>,
    udp_ports: Vec<u16>,
    startup_seconds: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Link {
    request: String,
    env: String,
    port: u16,
    package: String,
    package_port: u16,
    path: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GameServer {
    package: String,
    service_type: String,
    agones: Agones,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Agones {
    enabled: bool,
    port_policy: String,
    health: Health,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Health {
    initial_delay_seconds: u32,
    period_seconds: u32,
    failure_threshold: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Cockroach {
    enabled: bool,
    package: String,
    service: String,
    replicas: u32,
    binary: String,
    sql_port: u16,
    http_port: u16,
    args: Vec<String>,
    env: BTreeMap<String, String>,
    first_run: Vec<Vec<String>>,
    storage: Storage,
    resources: BTreeMap<String, BTreeMap<String, String>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Redis {
    enabled: bool,
    package: String,
    service: String,
    binary: String,
    port: u16,
    dir: String,
    args: Vec<String>,
    storage: Storage,
    resources: BTreeMap<String, BTreeMap<String, String>>,
}

/// Every file of the chart: relative path → text.
pub fn render(d: &Deployment, party: &soiree_party::Party) -> Result<BTreeMap<String, String>, String> {
    let values = values(d, party);
    let yaml = quote_yaml11_booleans(&serde_yaml_ng::to_string(&values).map_err(|e| e.to_string())?);
    let mut files = BTreeMap::new();
    files.insert(
        "Chart.yaml".to_string(),
        format!(
            "# Written by `soiree-pack build --target helm` from party.toml and recipes/.\n\
             apiVersion: v2\nname: {}\ndescription: {}\ntype: application\nversion: 0.1.{}\nappVersion: {:?}\n",
            d.party,
            serde_yaml_ng::to_string(&party.meta.short_description.clone().unwrap_or_else(|| format!("The {} party", d.party)))
                .map_err(|e| e.to_string())?
                .trim_end(),
            d.version,
            party.meta.marketing_version,
        ),
    );
    files.insert("values.yaml".to_string(), format!("{VALUES_HEADER}{yaml}"));
    for (path, text) in TEMPLATES {
        files.insert(path.to_string(), text.to_string());
    }
    Ok(files)
}

/// Words YAML 1.1 reads as booleans. serde_yaml_ng writes YAML 1.2, where they are plain
/// strings, but Helm reads values with a YAML 1.1 parser: a recipe's `--appendonly yes` would
/// reach the template as `true`.
const YAML11_BOOLEANS: [&str; 16] = [
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF",
];

/// `yaml` (as serde_yaml_ng writes it: one scalar per line, multi-line strings as `|` blocks)
/// with every plain scalar that a YAML 1.1 reader would take for a boolean single-quoted.
fn quote_yaml11_booleans(yaml: &str) -> String {
    let mut out = String::with_capacity(yaml.len());
    let mut block: Option<usize> = None;
    for line in yaml.lines() {
        let indent = line.len() - line.trim_start().len();
        if let Some(at) = block {
            if line.trim().is_empty() || indent > at {
                out.push_str(line);
                out.push('\n');
                continue;
            }
            block = None;
        }
        let mut value_at = indent;
        while line[value_at..].starts_with("- ") {
            value_at += 2;
        }
        if let Some(colon) = line[value_at..].find(": ") {
            value_at += colon + 2;
        }
        let value = &line[value_at..];
        if value_at > indent && YAML11_BOOLEANS.contains(&value) {
            out.push_str(&line[..value_at]);
            out.push_str(&format!("'{value}'"));
        } else {
            if value.starts_with('|') || value.starts_with('>') {
                block = Some(indent);
            }
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

const VALUES_HEADER: &str = "\
# Written by `soiree-pack build --target helm` from party.toml and recipes/; docs/beyond-sandstorm.md
# explains each value. Override with `helm install -f` or `--set`, e.g. to scale:
#   packages.uro.replicas=3 (with packages.uro.storage.accessMode=ReadWriteMany, cockroachdb.enabled=true
#     and redis.enabled=true: one database and one Redis for every replica, not one each on a shared /var)
#   cockroachdb.enabled=true cockroachdb.replicas=3
#   redis.enabled=true (Redis in a StatefulSet of its own, on its own claim)
#   gameServer.agones.enabled=true
";

fn values(d: &Deployment, party: &soiree_party::Party) -> Values {
    let game = d
        .packages
        .iter()
        .find(|p| p.udp_ports().next().is_some())
        .map(|p| GameServer {
            package: p.name.clone(),
            service_type: "LoadBalancer".into(),
            agones: Agones {
                enabled: false,
                port_policy: "Dynamic".into(),
                health: Health {
                    initial_delay_seconds: 30,
                    period_seconds: 5,
                    failure_threshold: 3,
                },
            },
        });
    Values {
        image: Image {
            registry: d.registry.clone(),
            tag: d.version.clone(),
            pull_policy: "IfNotPresent".into(),
        },
        ingress: Ingress {
            enabled: false,
            host: format!("{}.example.org", d.party),
            class_name: String::new(),
        },
        packages: d.packages.iter().map(|p| (p.name.clone(), package(p))).collect(),
        game_server: game,
        cockroachdb: cockroach(d, party),
        redis: redis(d),
    }
}

fn storage(size: &str) -> Storage {
    Storage {
        size: size.into(),
        access_mode: "ReadWriteOnce".into(),
        class_name: String::new(),
    }
}

fn package(p: &PackageView) -> Package {
    Package {
        repository: p.repository.clone(),
        replicas: 1,
        http_port: p.http_port,
        resources: BTreeMap::new(),
        storage: storage("1Gi"),
        services: p
            .services
            .iter()
            .map(|s| Service {
                name: s.name.clone(),
                after: s.after.clone(),
                ports: s.ports.clone(),
                udp_ports: s.udp_ports.clone(),
                startup_seconds: s.ready_timeout.ceil() as u64,
            })
            .collect(),
        links: p
            .links
            .iter()
            .map(|l| Link {
                request: l.request.clone(),
                env: soiree_grain::links::env_name(&l.request),
                port: l.port,
                package: l.target.clone(),
                package_port: l.target_port,
                path: l.path.clone(),
            })
            .collect(),
    }
}

/// The CockroachDB service of the party, if one runs `cockroach start-single-node`: its
/// cluster form reuses the recipe's binary, ports, flags and first-run steps, with the
/// addresses a cluster needs in place of loopback ones.
fn cockroach(d: &Deployment, party: &soiree_party::Party) -> Option<Cockroach> {
    let (pkg, svc) = d.packages.iter().find_map(|p| {
        p.services
            .iter()
            .find(|s| s.command.get(1).map(String::as_str) == Some("start-single-node"))
            .map(|s| (p, s))
    })?;
    let binary = svc.command.first()?.clone();
    let flag = |name: &str| -> Option<u16> {
        svc.command
            .iter()
            .find_map(|a| a.strip_prefix(name))
            .and_then(|v| v.rsplit(':').next())
            .and_then(|p| p.parse().ok())
    };
    let sql_port = flag("--listen-addr=").unwrap_or(26257);
    let http_port = flag("--http-addr=").unwrap_or(8080);
    let args = svc.command[2..]
        .iter()
        .filter(|a| !a.starts_with("--listen-addr=") && !a.starts_with("--http-addr="))
        .cloned()
        .collect();
    let env = party
        .packages
        .iter()
        .find(|p| p.name == pkg.name)
        .and_then(|p| p.services.iter().find(|s| s.name == svc.name))
        .map(|s| s.env.clone())
        .unwrap_or_default();
    let mut first_run = svc.first_run.clone();
    if first_run.is_empty() {
        first_run.push(vec![
            binary.clone(),
            "sql".into(),
            "--insecure".into(),
            format!("--host=127.0.0.1:{sql_port}"),
            "-e".into(),
            "SELECT 1".into(),
        ]);
    }
    Some(Cockroach {
        enabled: false,
        package: pkg.name.clone(),
        service: svc.name.clone(),
        replicas: 1,
        binary,
        sql_port,
        http_port,
        args,
        env,
        first_run,
        storage: storage("10Gi"),
        resources: BTreeMap::new(),
    })
}

/// Flags of `redis-server` the split form sets itself: where it listens and keeps its files.
const REDIS_OWN_FLAGS: [&str; 4] = ["--bind", "--protected-mode", "--port", "--dir"];

/// The Redis service of the party, if one runs `redis-server`: its split form reuses the
/// recipe's binary, port, data dir and other flags, but listens on every address without
/// protected mode, since the package's Pods reach it through a Service, not loopback.
fn redis(d: &Deployment) -> Option<Redis> {
    let (pkg, svc) = d.packages.iter().find_map(|p| {
        p.services
            .iter()
            .find(|s| {
                s.command
                    .first()
                    .is_some_and(|c| c.rsplit('/').next() == Some("redis-server"))
            })
            .map(|s| (p, s))
    })?;
    // `redis-server [config] --flag value… --flag value…`: a flag may take several values
    // (`--bind 127.0.0.1 ::1`), so a flag's values run to the next `--`.
    let mut groups: Vec<Vec<String>> = Vec::new();
    for a in &svc.command[1..] {
        match groups.last_mut() {
            Some(g) if !a.starts_with("--") => g.push(a.clone()),
            _ => groups.push(vec![a.clone()]),
        }
    }
    let value = |flag: &str| {
        groups
            .iter()
            .find(|g| g[0] == flag)
            .and_then(|g| g.get(1))
            .cloned()
    };
    let port = value("--port").and_then(|p| p.parse().ok()).unwrap_or(6379);
    let dir = value("--dir").unwrap_or_else(|| "/var/redis".into());
    let args = groups
        .into_iter()
        .filter(|g| !REDIS_OWN_FLAGS.contains(&g[0].as_str()))
        .flatten()
        .collect();
    Some(Redis {
        enabled: false,
        package: pkg.name.clone(),
        service: svc.name.clone(),
        binary: svc.command[0].clone(),
        port,
        dir,
        args,
        storage: storage("1Gi"),
        resources: BTreeMap::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml11_booleans_are_quoted_but_not_inside_blocks() {
        let yaml = serde_yaml_ng::to_string(&serde_json::json!({
            "args": ["--appendonly", "yes", "--save", "", "on"],
            "env": { "A": "no", "B": "yes\nno\n", "C": "nothing" },
            "first": [["y", "n"]],
        }))
        .unwrap();
        let quoted = quote_yaml11_booleans(&yaml);
        let back: serde_json::Value = serde_yaml_ng::from_str(&quoted).unwrap();
        assert_eq!(
            back["args"],
            serde_json::json!(["--appendonly", "yes", "--save", "", "on"])
        );
        assert_eq!(back["env"]["B"], "yes\nno\n");
        assert!(
            quoted.contains("- 'yes'") && quoted.contains("A: 'no'"),
            "{quoted}"
        );
        assert!(quoted.contains("- - 'y'"), "{quoted}");
        assert!(quoted.contains("    yes\n    no\n"), "{quoted}");
    }
}
