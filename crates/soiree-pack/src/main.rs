//! `soiree-pack`: build, sign and check Sandstorm packages for a V-Sekai party.

mod cli;
mod cmd_build;
mod cmd_inspect;
mod cmd_keys;
mod cmd_package;
mod cmd_party;
mod cmd_run;
mod cmd_up;
mod outputs;
mod packing;
mod supervisor;

use std::process::ExitCode;

use clap::Parser;
use cli::{Cli, Command};
use soiree_spk::Error;

/// Exit codes (docs/exit-codes.md): 0 success, 1 the input was rejected, 2 usage, 3 the machine
/// failed us (I/O).
fn exit_code(e: &Error) -> ExitCode {
    if e.is_io() {
        ExitCode::from(3)
    } else {
        ExitCode::from(1)
    }
}

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
    if matches!(
        cli.command,
        Command::Pack { .. } | Command::Build { .. } | Command::Sign { .. }
    ) {
        fixed_mmap_threshold();
    }
    let result = match &cli.command {
        Command::Keygen { keyring } => cmd_keys::keygen(keyring),
        Command::Keys { command } => cmd_keys::keys(command),
        Command::Pack {
            dir,
            output,
            keyring,
            app_id,
            compression,
        } => cmd_package::pack(dir, output, keyring, app_id.as_deref(), compression),
        Command::Verify { file, json } => {
            return match cmd_package::verify(file, *json) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("{}: invalid package: {e}", file.display());
                    exit_code(&e)
                }
            };
        }
        Command::Unpack { file, dir } => cmd_package::unpack(file, dir),
        Command::Check { party } => return cmd_party::check(party),
        Command::Lock { party, offline } => return cmd_party::lock(party, *offline),
        Command::Build {
            party,
            packages,
            out,
            keyring,
            release,
            offline,
            message_format,
            compression,
            sysroot,
            rebuild,
        } => {
            return cmd_build::build(
                party,
                packages,
                out,
                keyring,
                *release,
                *offline,
                *message_format,
                compression,
                sysroot,
                rebuild,
            )
        }
        Command::Ls { package, plan, json } => return cmd_inspect::ls(package, plan, *json),
        Command::Why {
            package,
            path,
            plan,
            json,
        } => return cmd_inspect::why(package, path, plan, *json),
        Command::Run {
            target,
            plan,
            var,
            port,
            tcp,
            udp,
        } => return cmd_run::run(target, plan, var.as_deref(), *port, tcp, udp),
        Command::Up {
            packages,
            plan,
            port,
            idle,
            source,
        } => return cmd_up::up(packages, plan, *port, *idle, source),
        Command::Descriptor { command } => return cmd_party::descriptor(command),
        Command::Add {
            recipe,
            package,
            set,
            party,
        } => return cmd_party::add(recipe, package, set, party),
        Command::Set { path, value, party } => return cmd_party::set(path, value, party),
        Command::Sign {
            input,
            output,
            keyring,
            app_id,
            verify,
            compression,
        } => cmd_package::sign(input, output, keyring, app_id.as_deref(), *verify, compression),
        Command::Cache {
            command: cli::CacheCommand::Clean { keep },
        } => {
            return match packing::cache_clean(keep.as_deref()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(3)
                }
            }
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let code = exit_code(&e);
            eprintln!("{:?}", miette::Report::new(e));
            code
        }
    }
}
