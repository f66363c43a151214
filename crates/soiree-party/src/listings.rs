//! `[[listings]]`: a recipe asks for an HTML page listing every file under an in-package folder
//! with its size and SHA-256; each entry is substituted, its paths checked, and kept with where it
//! was declared (soiree-plan writes the page).

use crate::diagnostic::{conflict, unknown_param, PartyError, Place, Problems, SourceFile};
use crate::model::{Listing, Origin};
use crate::params::{self, Params};
use crate::schema::{ListingSpec, S};
use crate::vocab;

/// Adds the `[[listings]]` of one recipe, declared in `file` and reached through `via`, to `into`.
pub(crate) fn add(
    specs: &[S<ListingSpec>],
    file: &SourceFile,
    params: &Params,
    via: &str,
    into: &mut Vec<Listing>,
    problems: &mut Problems,
) {
    for spec in specs {
        let s = spec.get_ref();
        let path = |v: &S<String>, problems: &mut Problems| -> Option<String> {
            let text = params::substitute(v.get_ref(), params)
                .map_err(|unknown| problems.push(unknown_param(file, v.span(), &unknown)))
                .ok()?;
            match vocab::mapping_target_problem(&text) {
                Some(problem) => {
                    problems.push(
                        PartyError::new(
                            "soiree::recipe::path",
                            format!("bad in-package path `{}`", text.escape_debug()),
                        )
                        .at_span(file, v.span(), problem),
                    );
                    None
                }
                None => Some(text),
            }
        };
        let (Some(dir), Some(to)) = (path(&s.dir, problems), path(&s.to, problems)) else {
            continue;
        };
        let title = match &s.title {
            Some(t) => match params::substitute(t.get_ref(), params) {
                Ok(t) => Some(t),
                Err(unknown) => {
                    problems.push(unknown_param(file, t.span(), &unknown));
                    continue;
                }
            },
            None => None,
        };
        let listing = Listing {
            dir,
            to,
            title,
            origin: Origin {
                via: via.to_string(),
                place: Place::new(file, s.to.span()),
            },
        };
        match into.iter().find(|l| l.to == listing.to) {
            Some(old) if old.dir == listing.dir && old.title == listing.title => {}
            Some(old) => problems.push(conflict(
                "soiree::recipe::listing_conflict",
                format!("two recipes put different listings at {}", listing.to),
                listing.origin.clone(),
                &old.origin,
            )),
            None => into.push(listing),
        }
    }
}
