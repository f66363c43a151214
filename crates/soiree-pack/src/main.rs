//! `soiree-pack`: build, sign and check Sandstorm packages for a V-Sekai party.

mod cli;
mod cmd_build;
mod cmd_cache;
mod cmd_deploy;
mod cmd_enter;
mod cmd_image;
mod cmd_inspect;
mod cmd_keys;
mod cmd_new;
mod cmd_package;
mod cmd_party;
mod cmd_run;
mod cmd_up;
mod failure;
mod json_line;
mod packing;
mod party_file;
mod progress;
mod selection;
mod supervisor;
mod ui;

use std::process::ExitCode;

use clap::Parser;
use cli::{Cli, Command};
use failure::Failure;

/// Compression allocates and frees tens of MiB per block on several threads. glibc's malloc would
/// raise its mmap threshold after the first such free and then serve these buffers from
/// per-thread heaps that it rarely gives back, so peak memory crept up with package size. A fixed
/// threshold keeps every large buffer a mapping of its own, returned to the system when freed.
/// Only for commands that compress: decompressing (`verify`) reuses its buffers better from the
/// heap, and fresh mappings would cost it page faults.
fn fixed_mmap_threshold() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tuning; it is called before any thread is started.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    ui::configure(cli.quiet, cli.verbose, cli.color);
    // Long messages stay one line each: the terminal wraps them, and scripts can grep them.
    let _ = miette::set_hook(Box::new(|_| {
        Box::new(
            miette::MietteHandlerOpts::new()
                .wrap_lines(false)
                .color(ui::color())
                .build(),
        )
    }));
    let json = wants_json(&cli.command);
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            f.print(json);
            f.exit_code()
        }
    }
}

/// Whether the command was asked for machine-readable output: then its errors are JSON too.
fn wants_json(command: &Command) -> bool {
    match command {
        Command::Build { output, .. }
        | Command::Push { output, .. }
        | Command::Check { output, .. }
        | Command::Ls { output, .. }
        | Command::Why { output, .. }
        | Command::Verify { output, .. }
        | Command::Recipes { output, .. } => output.is_json(),
        _ => false,
    }
}

/// Runs one command; every error, of every command, comes back here as a [`Failure`].
fn run(cli: &Cli) -> Result<(), Failure> {
    if matches!(
        cli.command,
        Command::Pack { .. } | Command::Build { .. } | Command::Sign { .. }
    ) {
        fixed_mmap_threshold();
    }
    if let Command::Build {
        target: cli::BuildTarget::Spk,
        registry: Some(_),
        ..
    } = &cli.command
    {
        return Err(Failure::usage(
            "--registry names OCI images: it goes with --target oci",
        ));
    }
    match &cli.command {
        Command::Keygen { keyring } => Ok(cmd_keys::keygen(keyring)?),
        Command::Keys { command } => Ok(cmd_keys::keys(command)?),
        Command::Pack {
            dir,
            output,
            keyring,
            app_id,
            compression,
        } => Ok(cmd_package::pack(
            dir,
            output,
            keyring,
            app_id.as_deref(),
            compression,
        )?),
        Command::Verify { file, output } => cmd_package::verify(file, output.is_json()).map_err(|e| {
            let mut f = Failure::from(e);
            if !output.is_json() {
                // One line a script can read: `FILE: invalid package: REASON`.
                let reason = f
                    .diagnostics
                    .iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join("; ");
                f.diagnostics.clear();
                f.summary = Some(format!("{}: invalid package: {reason}", file.display()));
            }
            f
        }),
        Command::Unpack { file, dir } => Ok(cmd_package::unpack(file, dir)?),
        Command::Check { party, output } => cmd_party::check(party, output.is_json()),
        Command::Lock { party, offline } => cmd_party::lock(party, *offline),
        Command::Build {
            party,
            packages,
            out,
            target: target @ (cli::BuildTarget::Compose | cli::BuildTarget::Helm),
            registry,
            ..
        } => cmd_deploy::deploy(party, *target, out.as_deref(), registry.as_deref(), packages),
        Command::Build {
            party,
            packages,
            out,
            offline,
            output,
            sysroot,
            rebuild,
            target: cli::BuildTarget::Oci,
            registry,
            ..
        } => cmd_image::build(
            party,
            packages,
            out.as_deref(),
            *offline,
            output.format(),
            sysroot,
            rebuild,
            registry.as_deref(),
        ),
        Command::Push {
            party,
            packages,
            registry,
            insecure,
            out,
            output,
        } => cmd_image::push(
            party,
            packages,
            registry,
            *insecure,
            out.as_deref(),
            output.format(),
        ),
        Command::Build {
            party,
            packages,
            out,
            keyring,
            release,
            offline,
            output,
            compression,
            sysroot,
            rebuild,
            ..
        } => cmd_build::build(
            party,
            packages,
            out.as_deref(),
            keyring,
            *release,
            *offline,
            output.format(),
            compression,
            sysroot,
            rebuild,
        ),
        Command::Ls {
            package,
            plan,
            output,
        } => cmd_inspect::ls(package, plan, output.is_json()),
        Command::Why {
            package,
            path,
            all,
            plan,
            output,
        } => cmd_inspect::why(package, path, *all, plan, output.is_json()),
        Command::Run {
            target,
            plan,
            var,
            port,
            tcp,
            udp,
        } => cmd_run::run(target, plan, var.as_deref(), *port, tcp, udp),
        Command::Up {
            packages,
            plan,
            port,
            idle,
            source,
            link,
        } => cmd_up::up(packages, plan, *port, *idle, source, link),
        Command::Descriptor { command } => cmd_party::descriptor(command),
        Command::Enter { grain, command } => cmd_enter::enter(grain, command),
        Command::Init { dir, name } => cmd_new::init(dir, name.as_deref()),
        Command::New {
            command: cli::NewCommand::Recipe { name, party },
        } => cmd_new::new_recipe(name, &party.path()),
        Command::Recipes { party, output } => cmd_new::recipes(&party.path(), output.is_json()),
        Command::Add {
            recipe,
            package,
            set,
            party,
        } => cmd_party::add(recipe, package, set, &party.path()),
        Command::Set { path, value, party } => cmd_party::set(path, value, &party.path()),
        Command::Sign {
            input,
            output,
            keyring,
            app_id,
            verify,
            compression,
        } => Ok(cmd_package::sign(
            input,
            output,
            keyring,
            app_id.as_deref(),
            *verify,
            compression,
        )?),
        Command::Cache {
            command: cli::CacheCommand::Clean { keep, which },
        } => cmd_cache::clean(
            keep.as_deref(),
            cmd_cache::Which::new(which.blocks, which.sources),
        ),
        Command::Cache {
            command: cli::CacheCommand::Info { which },
        } => cmd_cache::info(cmd_cache::Which::new(which.blocks, which.sources)),
    }
}
