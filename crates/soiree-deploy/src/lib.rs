//! Turn a planned party into manifests for engines that run OCI images: a compose file and a Helm chart.
//!
//! Both start from [`Deployment`]: each package's image, HTTP and UDP ports and services (from
//! the same services.json its grain runs), its links resolved by the planner into the address
//! of the package that offers them. Output is deterministic: the same party gives the same bytes.

pub mod compose;
pub mod deployment;
pub mod helm;
pub mod output;
pub mod probes;

pub use deployment::{Deployment, Options, DEFAULT_REGISTRY};
