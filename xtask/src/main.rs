//! `cargo xtask <task>`: see `cargo xtask --help`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use xtask::{
    bench, bench_deps, bench_relay, cli_docs, codegen, fuzz, fuzz_seeds, schema_check, test_deps,
    workspace_root,
};

/// Developer tasks for soiree-pack.
#[derive(Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask")]
struct Xtask {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Install the Debian packages the tests run (as root; otherwise print the apt-get line and
    /// fail), then `cargo test --workspace ARGS…`.
    Test {
        /// Passed on to `cargo test --workspace`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Regenerate crates/soiree-schema/src/generated from schema/.
    Codegen,
    /// Regenerate docs/generated/ (shell completions, man pages) from soiree-pack's clap
    /// definition.
    CliDocs,
    /// Compare the compiled schema with Sandstorm's schema files.
    SchemaCheck {
        /// Sandstorm's schema folder.
        #[arg(long, default_value = "../shared/spk-schemas")]
        sandstorm: PathBuf,
    },
    /// Benchmarks; each writes its section of docs/benchmarks.md.
    #[command(subcommand)]
    Bench(Bench),
    /// Run cargo-fuzz targets (installs cargo-fuzz if missing).
    Fuzz {
        /// Targets to run (default: all).
        #[arg(value_parser = clap::builder::PossibleValuesParser::new(fuzz::TARGETS))]
        targets: Vec<String>,
        /// Seconds per target.
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        /// `address` or `none`.
        #[arg(long, default_value = "address")]
        sanitizer: String,
    },
    /// Write valid packages and keyrings to fuzz/corpus/<target>/.
    FuzzSeeds,
}

#[derive(Subcommand)]
enum Bench {
    /// Time and peak RSS of `soiree-pack pack` against `tar c | xz -6` on trees of real shared
    /// libraries; writes the `## pack` section of docs/benchmarks.md.
    Pack {
        /// Tree sizes in MB (10^6 bytes), comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "40,160", value_parser = clap::value_parser!(u64).range(1..))]
        sizes: Vec<u64>,
        /// A bigger tree packed once for its peak RSS (0: none).
        #[arg(long = "rss-size", default_value_t = 400)]
        rss_size: u64,
        /// Runs of each measurement (the median is reported).
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..))]
        runs: u64,
        /// Where the shared libraries come from.
        #[arg(long, default_value = "/usr/lib/x86_64-linux-gnu")]
        source: PathBuf,
        /// A soiree-pack binary to measure instead of a fresh release build.
        #[arg(long)]
        exe: Option<PathBuf>,
        /// Print the section without writing docs/benchmarks.md.
        #[arg(long = "no-docs")]
        no_docs: bool,
    },
    /// UDP echo through soiree-tunnel and soiree-relay against direct UDP, on loopback; writes
    /// the `## relay` section of docs/benchmarks.md.
    Relay {
        /// Round trips timed one at a time, per path.
        #[arg(long, default_value_t = 10_000)]
        samples: usize,
        /// Datagrams sent for the throughput figure.
        #[arg(long, default_value_t = 200_000)]
        datagrams: u64,
        /// Seconds of the 32-player run.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Whole measurements, each with a fresh relay and tunnel; every target must hold in each.
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Print the section without writing docs/benchmarks.md.
        #[arg(long = "no-docs")]
        no_docs: bool,
    },
    /// Median time of soiree-deps' run-time closure of a program, beside `ldd`.
    Deps {
        #[arg(long, default_value = "/usr/bin/godot3-server")]
        program: PathBuf,
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..))]
        runs: u64,
    },
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = workspace_root();
    let result = match Xtask::parse().task {
        Task::Test { args } => test_deps::run(&args),
        Task::CliDocs => {
            let dir = cli_docs::generated_dir(&root);
            cli_docs::write(&dir).map(|n| println!("wrote {n} files to {}", dir.display()))
        }
        Task::Codegen => codegen::generate(&root, &codegen::generated_dir(&root))
            .map(|()| println!("wrote {}", codegen::generated_dir(&root).display())),
        Task::SchemaCheck { sandstorm } => {
            let dir = if sandstorm.is_relative() {
                root.join(sandstorm)
            } else {
                sandstorm
            };
            match schema_check::check(&root, &dir) {
                Ok(s) => {
                    println!(
                        "schema-check: {} structs, {} enums, {} interfaces ({} methods), {} fields match Sandstorm's schema in {}",
                        s.structs,
                        s.enums,
                        s.interfaces,
                        s.methods,
                        s.fields,
                        dir.display()
                    );
                    Ok(())
                }
                Err(errors) => Err(errors.join("\n")),
            }
        }
        Task::Bench(Bench::Pack {
            sizes,
            rss_size,
            runs,
            source,
            exe,
            no_docs,
        }) => {
            let opts = bench::Options {
                sizes_mb: sizes,
                rss_mb: rss_size,
                runs: runs as usize,
                source,
                exe,
                write_docs: !no_docs,
            };
            // The report records the command as it was typed.
            bench::pack(&root, &opts, &args[1..]).map(|section| print!("{section}"))
        }
        Task::Bench(Bench::Relay {
            samples,
            datagrams,
            seconds,
            runs,
            no_docs,
        }) => bench_relay::run(
            &root,
            &bench_relay::Options {
                samples,
                datagrams,
                seconds,
                runs,
                no_docs,
            },
            &args,
        )
        .map(|section| print!("{section}")),
        Task::Bench(Bench::Deps { program, runs }) => bench_deps::run(&bench_deps::Options {
            program,
            runs: runs as usize,
        })
        .map(|report| print!("{report}")),
        Task::Fuzz {
            targets,
            seconds,
            sanitizer,
        } => {
            let targets = if targets.is_empty() {
                fuzz::TARGETS.iter().map(|t| t.to_string()).collect()
            } else {
                targets
            };
            fuzz::run(
                &root,
                &fuzz::Options {
                    targets,
                    seconds,
                    sanitizer,
                },
            )
        }
        Task::FuzzSeeds => {
            fuzz_seeds::write(&root).map(|n| println!("wrote {n} seed inputs to fuzz/corpus/"))
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
