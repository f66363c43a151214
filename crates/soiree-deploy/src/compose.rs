//! `compose.yaml` for one host: a service per package running its grain supervisor (all its
//! services, in order, as in a grain), `/var` a named volume (secrets are generated there once,
//! as in a grain), HTTP ports published on loopback from the first one up, UDP ports as they are
//! (on loopback too: an operator opens them up by editing the address), links as
//! `SOIREE_LINK_<REQUEST>` addresses of the offering package's service, and a healthcheck that
//! asks the supervisor whether every service is ready.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::deployment::{Deployment, SERVICES_JSON, SUPERVISOR};

/// The host address ports are published on: loopback, so that nothing is open to the network
/// until the operator says so (a reverse proxy in front, or the address edited).
const PUBLISH_ON: &str = "127.0.0.1";

#[derive(Serialize)]
struct File {
    name: String,
    services: BTreeMap<String, Service>,
    volumes: BTreeMap<String, Volume>,
}

#[derive(Serialize)]
struct Service {
    image: String,
    entrypoint: Vec<String>,
    user: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    environment: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ports: Vec<String>,
    volumes: Vec<String>,
    healthcheck: Healthcheck,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    depends_on: Vec<String>,
    restart: String,
}

#[derive(Serialize)]
struct Healthcheck {
    test: Vec<String>,
    interval: String,
    timeout: String,
    retries: u32,
    start_period: String,
}

#[derive(Serialize)]
struct Volume {}

/// The text of `compose.yaml`.
pub fn render(d: &Deployment) -> Result<String, String> {
    let mut services = BTreeMap::new();
    let mut volumes = BTreeMap::new();
    let mut published = BTreeSet::new();
    for p in &d.packages {
        let mut ports = Vec::new();
        if let Some(port) = p.http_port {
            // Every package of a party listens on the bridge's port (8000 as a rule): on one
            // host they get the next free one, in package order.
            let mut host = port;
            while !published.insert(host) {
                host = host.checked_add(1).ok_or("no host port left to publish on")?;
            }
            ports.push(format!("{PUBLISH_ON}:{host}:{port}"));
        }
        for udp in p.udp_ports() {
            ports.push(format!("{PUBLISH_ON}:{udp}:{udp}/udp"));
        }
        let environment = p
            .links
            .iter()
            .map(|l| {
                (
                    soiree_grain::links::env_name(&l.request),
                    format!("http://{}:{}{}", l.target, l.target_port, l.path),
                )
            })
            .collect();
        let volume = format!("{}-var", p.name);
        let mut test = vec!["CMD".to_string(), SUPERVISOR.to_string(), "--ready".to_string()];
        test.extend(p.services.iter().map(|s| s.name.clone()));
        let start = p.services.iter().map(|s| s.ready_timeout).sum::<f64>().ceil() as u64;
        services.insert(
            p.name.clone(),
            Service {
                image: p.image(d),
                entrypoint: vec![SUPERVISOR.to_string(), SERVICES_JSON.to_string()],
                user: soiree_plan::container::IMAGE_USER.into(),
                environment,
                ports,
                volumes: vec![format!("{volume}:/var")],
                healthcheck: Healthcheck {
                    test,
                    interval: "10s".into(),
                    timeout: "5s".into(),
                    retries: 3,
                    start_period: format!("{start}s"),
                },
                depends_on: p
                    .links
                    .iter()
                    .map(|l| l.target.clone())
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect(),
                restart: "unless-stopped".into(),
            },
        );
        volumes.insert(volume, Volume {});
    }
    let file = File {
        name: d.party.clone(),
        services,
        volumes,
    };
    let yaml = serde_yaml_ng::to_string(&file).map_err(|e| e.to_string())?;
    Ok(format!(
        "# Written by `soiree-pack build --target compose` from party.toml and recipes/: build\n\
         # again rather than edit. Images: `soiree-pack build --target oci` and `push`.\n{yaml}"
    ))
}
