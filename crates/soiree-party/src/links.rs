//! `[[links]]`: a recipe says at which loopback address its programs reach what one of the
//! package's Powerbox requests is linked to; each entry is substituted, its address checked,
//! and kept with where it was declared (the request is resolved where a link is used).

use crate::diagnostic::{conflict, unknown_param, PartyError, Place, Problems, SourceFile};
use crate::model::{Link, Origin};
use crate::params::{self, Params};
use crate::schema::{LinkSpec, S};

/// Adds the `[[links]]` of one recipe, declared in `file` and reached through `via`, to `into`.
pub(crate) fn add(
    specs: &[S<LinkSpec>],
    file: &SourceFile,
    params: &Params,
    via: &str,
    into: &mut Vec<Link>,
    problems: &mut Problems,
) {
    for spec in specs {
        let s = spec.get_ref();
        let text = |v: &S<String>, problems: &mut Problems| -> Option<String> {
            params::substitute(v.get_ref(), params)
                .map_err(|unknown| problems.push(unknown_param(file, v.span(), &unknown)))
                .ok()
        };
        let (Some(request), Some(address)) = (text(&s.request, problems), text(&s.address, problems)) else {
            continue;
        };
        let Some(port) = loopback_port(&address) else {
            problems.push(
                PartyError::new(
                    "soiree::recipe::link_address",
                    format!("`{}` is not a loopback address", address.escape_debug()),
                )
                .at_span(file, s.address.span(), "a link is reached at 127.0.0.1:PORT")
                .help("programs reach the other package on the grain's own loopback, as a Powerbox link gives it"),
            );
            continue;
        };
        let link = Link {
            request,
            port,
            origin: Origin {
                via: via.to_string(),
                place: Place::new(file, s.address.span()),
            },
        };
        match into.iter().find(|l| l.port == link.port) {
            Some(old) if old.request == link.request => {}
            Some(old) => problems.push(conflict(
                "soiree::recipe::link_conflict",
                format!("two links on 127.0.0.1:{}", link.port),
                link.origin.clone(),
                &old.origin,
            )),
            None => into.push(link),
        }
    }
}

/// `127.0.0.1:4000` or `localhost:4000` → 4000.
fn loopback_port(address: &str) -> Option<u16> {
    let (host, port) = address.rsplit_once(':')?;
    if !matches!(host, "127.0.0.1" | "localhost") {
        return None;
    }
    port.parse().ok().filter(|p| *p != 0)
}
