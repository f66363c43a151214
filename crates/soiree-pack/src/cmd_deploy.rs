//! `build --target compose|helm`: the party as a compose file or a Helm chart, written by
//! soiree-deploy from the same model and plan the packages are built from.

use std::collections::BTreeMap;
use std::path::Path;

use crate::cli::{BuildTarget as Target, PartyArg};
use crate::failure::Failure;

pub fn deploy(
    arg: &PartyArg,
    target: Target,
    out: Option<&Path>,
    registry: Option<&str>,
    only: &[String],
) -> Result<(), Failure> {
    if !only.is_empty() {
        return Err(Failure::usage(
            "`--target compose` and `--target helm` take the whole party (its links join the packages): name no package",
        ));
    }
    let file = arg.file.path();
    let party = soiree_party::load(&file, arg.profile.as_deref())?;
    let default_out = crate::party_file::folder(&file).join("dist");
    let out = out.unwrap_or(&default_out);
    let opts = soiree_deploy::Options {
        registry: registry.map(str::to_string),
    };
    let d = soiree_deploy::Deployment::new(&party, &opts).map_err(soiree_party::Problems)?;
    let (dir, files) = match target {
        Target::Compose => {
            let text = soiree_deploy::compose::render(&d).map_err(Failure::rejected)?;
            (
                out.join("compose"),
                BTreeMap::from([("compose.yaml".to_string(), text)]),
            )
        }
        Target::Helm => (
            out.join("helm").join(&d.party),
            soiree_deploy::helm::render(&d, &party).map_err(Failure::rejected)?,
        ),
        Target::Spk | Target::Oci => {
            return Err(Failure::usage("`--target spk|oci` is not a deployment file"))
        }
    };
    soiree_deploy::output::write_dir(&dir, &files).map_err(Failure::machine)?;
    let images: Vec<String> = d.packages.iter().map(|p| p.image(&d)).collect();
    crate::ui::note(format_args!(
        "wrote {} ({} packages; images {})",
        dir.display(),
        d.packages.len(),
        images.join(", ")
    ));
    Ok(())
}
