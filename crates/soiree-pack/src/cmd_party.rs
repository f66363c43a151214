//! `check` and `descriptor`.

use soiree_party::Interface;
use soiree_plan::powerbox;

use crate::cli::{DescriptorCommand, PartyArg};
use crate::failure::Failure;

pub fn check(arg: &PartyArg, json: bool) -> Result<(), Failure> {
    let file = arg.file.path();
    match soiree_party::load(&file, arg.profile.as_deref()) {
        Ok(party) => {
            for p in &party.packages {
                if json {
                    println!(
                        "{}",
                        crate::json_line::line(&serde_json::json!({
                            "reason": "package",
                            "name": p.name,
                            "recipes": p.recipes.len(),
                            "files": p.files.len(),
                            "services": p.services.len(),
                            "offers": p.offers.len(),
                            "requests": p.requests.len(),
                        }))
                    );
                    continue;
                }
                println!(
                    "{:<10} {} recipes, {} file mappings, {} services, {} offers, {} requests",
                    p.name,
                    p.recipes.len(),
                    p.files.len(),
                    p.services.len(),
                    p.offers.len(),
                    p.requests.len()
                );
            }
            if !json {
                crate::ui::note(format_args!("{}: ok", file.display()));
            }
            Ok(())
        }
        Err(problems) => Err(problems.into()),
    }
}

pub fn descriptor(cmd: &DescriptorCommand) -> Result<(), Failure> {
    match cmd {
        DescriptorCommand::Encode {
            interface,
            canonical_url,
            tls,
        } => {
            let Some(i) = Interface::parse(interface) else {
                return Err(Failure::usage(format!(
                    "unknown interface `{interface}`; one of: {}",
                    Interface::NAMES.join(", ")
                )));
            };
            if canonical_url.is_some() && i != Interface::ApiSession {
                return Err(Failure::usage(
                    "--canonical-url goes with --interface api-session",
                ));
            }
            if *tls && i != Interface::IpNetwork {
                return Err(Failure::usage("--tls goes with --interface ip-network"));
            }
            let tls = (i == Interface::IpNetwork).then_some(*tls);
            println!(
                "{}",
                powerbox::encode(&powerbox::descriptor_message(i, canonical_url.as_deref(), tls))
            );
            Ok(())
        }
        DescriptorCommand::Decode { descriptor } => match powerbox::decode(descriptor) {
            Ok(d) => {
                println!("{}", serde_json::to_string_pretty(&d).unwrap_or_default());
                Ok(())
            }
            Err(e) => Err(Failure::rejected(format!("not a powerbox descriptor: {e}"))),
        },
    }
}

pub fn add(recipe: &str, package: &str, set: &[String], party: &std::path::Path) -> Result<(), Failure> {
    let result = soiree_party::edit::parse_assignments(set)
        .and_then(|with| soiree_party::edit::add_recipe(party, package, recipe, &with));
    result?;
    crate::ui::note(format_args!(
        "added `{recipe}` to package `{package}` in {}",
        party.display()
    ));
    Ok(())
}

pub fn set(path: &str, value: &str, party: &std::path::Path) -> Result<(), Failure> {
    let parsed = soiree_party::edit::parse_value(value);
    let shown = parsed.to_string();
    soiree_party::edit::set(party, path, parsed)?;
    crate::ui::note(format_args!(
        "set {path} = {} in {}",
        soiree_spk::display::Escaped(shown.trim()),
        party.display()
    ));
    Ok(())
}

pub fn lock(arg: &PartyArg, offline: bool) -> Result<(), Failure> {
    let party = soiree_party::load_for_lock(&arg.file.path(), arg.profile.as_deref())?;
    let locked = soiree_build::lock::lock_downloads(&party, offline)?;
    for p in &locked.first_pins {
        eprintln!(
            "pinned {} on first download: sha256 {} — compare it with the checksum {} is published with",
            p.name, p.sha256, p.url
        );
    }
    eprintln!(
        "{}: {} pinned download{} verified and recorded",
        locked.path.display(),
        locked.count,
        if locked.count == 1 { "" } else { "s" }
    );
    Ok(())
}
