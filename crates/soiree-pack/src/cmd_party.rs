//! `check` and `descriptor`.

use std::process::ExitCode;

use soiree_party::{Interface, Problems};
use soiree_plan::powerbox;

use crate::cli::{DescriptorCommand, PartyArg};

/// Prints every problem as a diagnostic; returns the exit code.
pub fn report_problems(problems: Problems) -> ExitCode {
    let count = problems.len();
    for p in problems.0 {
        eprintln!("{:?}", p.into_report());
    }
    eprintln!("{count} problem{} found", if count == 1 { "" } else { "s" });
    ExitCode::from(1)
}

pub fn check(arg: &PartyArg) -> ExitCode {
    match soiree_party::load(&arg.party, arg.profile.as_deref()) {
        Ok(party) => {
            for p in &party.packages {
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
            eprintln!("{}: ok", arg.party.display());
            ExitCode::SUCCESS
        }
        Err(problems) => report_problems(problems),
    }
}

pub fn descriptor(cmd: &DescriptorCommand) -> ExitCode {
    match cmd {
        DescriptorCommand::Encode {
            interface,
            canonical_url,
            tls,
        } => {
            let Some(i) = Interface::parse(interface) else {
                eprintln!(
                    "unknown interface `{interface}`; one of: {}",
                    Interface::NAMES.join(", ")
                );
                return ExitCode::from(2);
            };
            if canonical_url.is_some() && i != Interface::ApiSession {
                eprintln!("--canonical-url goes with --interface api-session");
                return ExitCode::from(2);
            }
            if *tls && i != Interface::IpNetwork {
                eprintln!("--tls goes with --interface ip-network");
                return ExitCode::from(2);
            }
            let tls = (i == Interface::IpNetwork).then_some(*tls);
            println!(
                "{}",
                powerbox::encode(&powerbox::descriptor_message(i, canonical_url.as_deref(), tls))
            );
            ExitCode::SUCCESS
        }
        DescriptorCommand::Decode { descriptor } => match powerbox::decode(descriptor) {
            Ok(d) => {
                println!("{}", serde_json::to_string_pretty(&d).unwrap_or_default());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("not a powerbox descriptor: {e}");
                ExitCode::from(1)
            }
        },
    }
}

pub fn add(recipe: &str, package: &str, set: &[String], party: &std::path::Path) -> ExitCode {
    let result = soiree_party::edit::parse_assignments(set)
        .and_then(|with| soiree_party::edit::add_recipe(party, package, recipe, &with));
    match result {
        Ok(()) => {
            eprintln!("added `{recipe}` to package `{package}` in {}", party.display());
            ExitCode::SUCCESS
        }
        Err(p) => report_problems(p),
    }
}

pub fn set(path: &str, value: &str, party: &std::path::Path) -> ExitCode {
    match soiree_party::edit::set(party, path, soiree_party::edit::parse_value(value)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(p) => report_problems(p),
    }
}

pub fn lock(arg: &PartyArg, offline: bool) -> ExitCode {
    let party = match soiree_party::load_for_lock(&arg.party, arg.profile.as_deref()) {
        Ok(p) => p,
        Err(problems) => return report_problems(problems),
    };
    let lock_path = party.root.join(soiree_source::LOCK_FILE_NAME);
    let run = || -> Result<usize, String> {
        let cache = soiree_source::Cache::open_default().map_err(|e| e.to_string())?;
        let fetcher = soiree_source::Fetcher::new(cache)
            .offline(offline)
            .base_dir(&party.root);
        let mut lock = soiree_source::Lock::load(&lock_path).map_err(|e| e.to_string())?;
        let mut count = 0;
        for (name, def) in &party.sources {
            let soiree_party::SourceDef::Url {
                url, sha256, size, ..
            } = def
            else {
                continue;
            };
            let (path, digest) = match sha256 {
                Some(sha256) => {
                    let source =
                        soiree_source::Source::url(name, url, sha256, *size).map_err(|e| e.to_string())?;
                    let Some(pin) = source.pin() else { continue };
                    (fetcher.fetch(name, pin).map_err(|e| e.to_string())?, pin.sha256)
                }
                None => {
                    let (path, digest) = fetcher
                        .fetch_unpinned(name, url, *size)
                        .map_err(|e| e.to_string())?;
                    // Trust on first use: say so, so that someone compares it with the
                    // publisher's checksum before the lock is committed.
                    eprintln!(
                        "pinned {name} on first download: sha256 {} — compare it with the checksum {url} is published with",
                        digest.hex()
                    );
                    (path, digest)
                }
            };
            let size = std::fs::metadata(&path).map(|m| m.len()).ok();
            lock.record(soiree_source::LockEntry {
                name: name.clone(),
                url: url.clone(),
                sha256: digest,
                size,
            });
            count += 1;
        }
        // Entries of sources that only another profile downloads stay: every profile's sources
        // share [sources]' names, so only a name no longer defined at all is dropped.
        lock.retain(|n| party.sources.contains_key(n));
        lock.save().map_err(|e| e.to_string())?;
        Ok(count)
    };
    match run() {
        Ok(n) => {
            eprintln!(
                "{}: {n} pinned download{} verified and recorded",
                lock_path.display(),
                if n == 1 { "" } else { "s" }
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
