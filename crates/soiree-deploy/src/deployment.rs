//! What the compose file and the chart are made from: per package its image reference, ports,
//! services and resolved links, with every problem the targets cannot map reported at its
//! party or recipe line.

use soiree_party::{Party, PartyError};
use soiree_plan::links::PlannedLink;

/// Images are `<registry>/<party>-<package>:<app-version>`, named as `build --target oci` names
/// them (`soiree_plan::container::image_reference`); without `--registry`, this registry.
pub use soiree_plan::container::DEFAULT_REGISTRY;
/// The supervisor and its services file inside every image.
pub const SUPERVISOR: &str = "/opt/soiree/bin/soiree-grain";
pub const SERVICES_JSON: &str = "/opt/soiree/services.json";

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `HOST/PREFIX` the images are pushed to.
    pub registry: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Deployment {
    pub party: String,
    pub registry: String,
    pub version: String,
    pub packages: Vec<PackageView>,
}

#[derive(Debug, Clone)]
pub struct PackageView {
    pub name: String,
    /// `<party>-<package>`, the image's name under the registry.
    pub repository: String,
    /// The HTTP port Sandstorm's bridge would forward to: the one to expose.
    pub http_port: Option<u16>,
    pub services: Vec<ServiceView>,
    pub links: Vec<PlannedLink>,
}

#[derive(Debug, Clone)]
pub struct ServiceView {
    pub name: String,
    /// Services of the package it starts after.
    pub after: Vec<String>,
    pub command: Vec<String>,
    pub ports: Vec<u16>,
    pub udp_ports: Vec<u16>,
    pub first_run: Vec<Vec<String>>,
    /// Seconds its readiness check may take (the startup probe's budget).
    pub ready_timeout: f64,
}

impl PackageView {
    pub fn image(&self, d: &Deployment) -> String {
        soiree_plan::container::image_reference(Some(&d.registry), &d.party, &self.name, &d.version)
    }

    pub fn udp_ports(&self) -> impl Iterator<Item = u16> + '_ {
        self.services.iter().flat_map(|s| s.udp_ports.iter().copied())
    }
}

impl Deployment {
    /// The deployment of `party`, or every problem that keeps it from being one.
    pub fn new(party: &Party, opts: &Options) -> Result<Deployment, Vec<PartyError>> {
        let mut problems = Vec::new();
        let links = soiree_plan::links::resolve(party).unwrap_or_else(|mut e| {
            problems.append(&mut e);
            Vec::new()
        });
        let mut packages = Vec::new();
        for pkg in &party.packages {
            problems.extend(crate::probes::unmappable(pkg));
            let config = soiree_plan::services_config(pkg);
            let services = pkg
                .services
                .iter()
                .zip(&config.services)
                .map(|(s, c)| ServiceView {
                    name: s.name.clone(),
                    after: s.after.clone(),
                    command: s.command.clone(),
                    ports: s.ports.clone(),
                    udp_ports: s.udp_ports.clone(),
                    first_run: s.first_run.clone(),
                    ready_timeout: c.ready_timeout,
                })
                .collect();
            packages.push(PackageView {
                name: pkg.name.clone(),
                repository: soiree_plan::container::repository(&party.meta.name, &pkg.name),
                http_port: pkg
                    .bridge
                    .as_ref()
                    .map(|b| b.port)
                    .or_else(|| pkg.services.iter().flat_map(|s| s.ports.first()).next().copied()),
                services,
                links: links.iter().filter(|l| l.package == pkg.name).cloned().collect(),
            });
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Deployment {
            party: party.meta.name.clone(),
            registry: soiree_plan::container::registry(opts.registry.as_deref()).to_string(),
            version: party.meta.app_version.to_string(),
            packages,
        })
    }
}
