//! `up`: the party's packages planned and staged, then hosted by `soiree-up` with their own
//! bridges until Ctrl-C, each grain's `/var` kept in `.soiree/up/NAME/var`.

use std::path::{Path, PathBuf};

use crate::cli::PlanArg;
use crate::failure::Failure;

/// Where `up` keeps a package's grain: `.soiree/up/NAME/` in the current directory.
pub fn up_dir(name: &str) -> PathBuf {
    Path::new(".soiree/up").join(name)
}

/// Replaces the party's source `NAME` by the folder `DIR` for every `NAME=DIR`.
fn override_sources(party: &mut soiree_party::Party, specs: &[String]) -> Result<(), Failure> {
    for spec in specs {
        let Some((name, dir)) = spec.split_once('=') else {
            return Err(Failure::usage(format!("--source {spec}: expected NAME=DIR")));
        };
        if !party.sources.contains_key(name) {
            let names: Vec<&str> = party.sources.keys().map(String::as_str).collect();
            return Err(Failure::usage(format!(
                "--source {spec}: the party has no source `{name}` (it has: {})",
                names.join(", ")
            )));
        }
        let path = match std::fs::canonicalize(dir) {
            Ok(p) if p.is_dir() => p,
            Ok(_) => return Err(Failure::usage(format!("--source {spec}: {dir} is not a folder"))),
            Err(e) => return Err(Failure::usage(format!("--source {spec}: {dir}: {e}"))),
        };
        party.sources.insert(
            name.to_string(),
            soiree_party::SourceDef::Path {
                path,
                strip_components: 0,
                sub_path: None,
            },
        );
    }
    Ok(())
}

/// A `--link PKG.REQUEST=TARGET[/API]`, checked against the party and the packages started: the
/// request's descriptor built as the package's page gets it, and the API named one that TARGET
/// offers (`[[packages.TARGET.offers]]`).
fn link_spec(
    party: &soiree_party::Party,
    started: &[String],
    text: &str,
) -> Result<soiree_up::LinkSpec, Failure> {
    let usage = |why: String| Failure::usage(format!("--link {text}: {why}"));
    let Some((from, target)) = text.split_once('=') else {
        return Err(usage("expected PKG.REQUEST=TARGET[/API]".into()));
    };
    let (target, api) = match target.split_once('/') {
        Some((t, a)) => (t, Some(a)),
        None => (target, None),
    };
    let Some((pkg, request)) = from.split_once('.') else {
        return Err(usage(
            "expected PKG.REQUEST=TARGET[/API] (no `.` before the `=`)".into(),
        ));
    };
    let names: Vec<&str> = party.packages.iter().map(|p| p.name.as_str()).collect();
    for name in [pkg, target] {
        if !names.contains(&name) {
            return Err(usage(format!(
                "the party has no package `{name}` (it has: {})",
                names.join(", ")
            )));
        }
        if !started.iter().any(|s| s == name) {
            return Err(usage(format!(
                "package `{name}` is not among those `up` starts ({}): add it",
                started.join(", ")
            )));
        }
    }
    let Some(requesting) = party.packages.iter().find(|p| p.name == pkg) else {
        return Err(usage(format!("the party has no package `{pkg}`")));
    };
    let Some(r) = requesting.requests.iter().find(|r| r.name == request) else {
        let have: Vec<&str> = requesting.requests.iter().map(|r| r.name.as_str()).collect();
        return Err(usage(if have.is_empty() {
            format!("package `{pkg}` makes no Powerbox request (`[[packages.{pkg}.requests]]`)")
        } else {
            format!(
                "package `{pkg}` has no request `{request}` (it has: {})",
                have.join(", ")
            )
        }));
    };
    if r.interface != soiree_party::Interface::ApiSession {
        return Err(usage(format!(
            "request `{pkg}.{request}` asks for {}: `up` grants only api-session requests (another grain's HTTP API)",
            r.interface.name()
        )));
    }
    if let Some(api) = api {
        let offers: Vec<&str> = party
            .packages
            .iter()
            .filter(|p| p.name == target)
            .flat_map(|p| p.offers.iter().map(|o| o.name.as_str()))
            .collect();
        if !offers.contains(&api) {
            return Err(usage(if offers.is_empty() {
                format!("package `{target}` offers no API (`[[packages.{target}.offers]]`)")
            } else {
                format!(
                    "package `{target}` offers no API `{api}` (it offers: {})",
                    offers.join(", ")
                )
            }));
        }
    }
    Ok(soiree_up::LinkSpec {
        requester: pkg.to_string(),
        request: request.to_string(),
        query: vec![soiree_plan::powerbox::encode_request(r).descriptor],
        provider: target.to_string(),
        api: api.map(str::to_string),
    })
}

pub fn up(
    packages: &[String],
    plan: &PlanArg,
    port: u16,
    idle: u64,
    source: &[String],
    link: &[String],
) -> Result<(), Failure> {
    let mut party = soiree_party::load(&plan.party.file.path(), plan.party.profile.as_deref())?;
    override_sources(&mut party, source)?;
    let names: Vec<String> = if packages.is_empty() {
        party.packages.iter().map(|p| p.name.clone()).collect()
    } else {
        packages.to_vec()
    };
    let packages = names
        .iter()
        .map(|name| soiree_build::find_package(&party, name))
        .collect::<Result<Vec<_>, _>>()?;
    let links = link
        .iter()
        .map(|l| link_spec(&party, &names, l))
        .collect::<Result<Vec<_>, _>>()?;
    let sources = crate::cmd_inspect::sources(&party, plan.offline, &plan.sysroot, &plan.rebuild)?;
    // Each package's files for this run only (removed at the end); the grains' /var stay.
    let mut work = Vec::new();
    let mut grains = Vec::new();
    for pkg in packages {
        let name = &pkg.name;
        let dir = up_dir(name);
        let tmp = std::fs::create_dir_all(&dir)
            .and_then(|()| tempfile::Builder::new().prefix("root-").tempdir_in(&dir))
            .map_err(|e| Failure::machine(format!("{}: {e}", dir.display())))?;
        let root = tmp.path().join("root");
        let planned = soiree_plan::plan(pkg, &sources, soiree_spk::source_date_epoch_ns())?;
        for w in &planned.warnings {
            crate::cmd_inspect::warn(w);
        }
        soiree_plan::tree::stage(&planned.tree, &root)
            .map_err(|e| Failure::machine(format!("staging package `{name}`: {e}")))?;
        // Refused before any grain starts, so nothing is left running.
        soiree_up::check_bridge(&root)?;
        grains.push(soiree_up::GrainSpec {
            name: name.clone(),
            root,
            var: dir.join("var"),
            log: None,
        });
        work.push(tmp);
    }
    // Every package is staged: the source cache is not read again, so `cache clean` need not
    // wait for the party to stop.
    drop(sources);
    let opts = soiree_up::Options {
        grains,
        port,
        bwrap: PathBuf::from("bwrap"),
        idle: (idle > 0).then(|| std::time::Duration::from_secs(idle)),
        links,
    };
    let result = serve(&opts);
    drop(work);
    result
}

/// Runs the party until Ctrl-C (or SIGTERM, SIGHUP) or until a grain ends by itself.
fn serve(opts: &soiree_up::Options) -> Result<(), Failure> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::machine(format!("cannot start the event loop: {e}")))?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async {
        use tokio::signal::unix::{signal, SignalKind};
        let handle = |e: std::io::Error| Failure::machine(format!("cannot handle signals: {e}"));
        let mut int = signal(SignalKind::interrupt()).map_err(handle)?;
        let mut term = signal(SignalKind::terminate()).map_err(handle)?;
        let mut hup = signal(SignalKind::hangup()).map_err(handle)?;
        let party = soiree_up::Party::start(opts).await?;
        eprintln!("the party is up: http://{}/", party.addr());
        for u in party.urls() {
            eprintln!("{}: {}", u.name, u.shell);
            eprintln!("{}: API {}", u.name, u.api_url);
        }
        for l in party.links() {
            eprintln!(
                "linked {}.{} to {}'s API `{}`{}",
                l.requester,
                l.request,
                l.provider,
                l.api,
                if l.title.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", l.title)
                }
            );
        }
        eprintln!("Ctrl-C stops every grain");
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(500));
        let result = loop {
            tokio::select! {
                _ = int.recv() => break Ok(()),
                _ = term.recv() => break Ok(()),
                _ = hup.recv() => break Ok(()),
                _ = tick.tick() => {
                    if let Some(name) = party.ended_grain() {
                        break Err(Failure::rejected(format!(
                            "{name}: the grain ended by itself (its log is above); the party was stopped"
                        )));
                    }
                }
            }
        };
        party.stop();
        eprintln!("every grain stopped");
        result
    })
}
