//! `cargo xtask <task>`: see `cargo xtask help`.

use std::path::PathBuf;
use std::process::ExitCode;

use xtask::{
    bench, bench_deps, cli_docs, codegen, fuzz, fuzz_seeds, schema_check, test_deps, workspace_root,
};

const HELP: &str = "\
cargo xtask <task>

  test [ARGS…]               install the Debian packages the tests run (as root; otherwise
                             print the apt-get line and fail), then `cargo test --workspace ARGS…`
  codegen                    regenerate crates/soiree-schema/src/generated from schema/
  cli-docs                   regenerate docs/generated/ (shell completions, man pages) from
                             soiree-pack's clap definition
  schema-check [--sandstorm DIR]
                             compare the compiled schema with Sandstorm's schema files
                             (default DIR: ../shared/spk-schemas)
  bench pack [--sizes MB,MB] [--runs N] [--source DIR] [--exe PATH] [--no-docs]
                             time and peak RSS of `soiree-pack pack` against `tar c | xz -6`
                             on trees of real shared libraries (default: 40,160 MB, 3 runs,
                             /usr/lib/x86_64-linux-gnu, a fresh release build);
                             writes the `## pack` section of docs/benchmarks.md
  bench deps [--program PATH] [--runs N]
                             median time of soiree-deps' run-time closure of PATH (default
                             /usr/bin/godot3-server, 20 runs) beside `ldd PATH`
  fuzz [TARGET] [--seconds N] [--sanitizer S]
                             run cargo-fuzz targets (verify, archive, keyring, party; default all,
                             60 s each, AddressSanitizer); installs cargo-fuzz if missing
  fuzz-seeds                 write valid packages and keyrings to fuzz/corpus/<target>/
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = workspace_root();
    let result = match args.first().map(String::as_str) {
        Some("codegen") => codegen::generate(&root, &codegen::generated_dir(&root))
            .map(|()| println!("wrote {}", codegen::generated_dir(&root).display())),
        Some("test") => test_deps::run(&args[1..]),
        Some("cli-docs") => {
            let dir = cli_docs::generated_dir(&root);
            cli_docs::write(&dir).map(|n| println!("wrote {n} files to {}", dir.display()))
        }
        Some("schema-check") => {
            let dir = match args.get(1).map(String::as_str) {
                Some("--sandstorm") => args.get(2).map(PathBuf::from),
                _ => None,
            }
            .unwrap_or_else(|| root.join("../shared/spk-schemas"));
            match schema_check::check(&root, &dir) {
                Ok(s) => {
                    println!(
                        "schema-check: {} structs, {} enums, {} interfaces, {} fields match Sandstorm's schema in {}",
                        s.structs,
                        s.enums,
                        s.interfaces,
                        s.fields,
                        dir.display()
                    );
                    Ok(())
                }
                Err(errors) => Err(errors.join("\n")),
            }
        }
        Some("bench") if args.get(1).map(String::as_str) == Some("deps") => {
            bench_deps::parse_args(&args[2..])
                .and_then(|opts| bench_deps::run(&opts))
                .map(|report| print!("{report}"))
        }
        Some("bench") => bench::parse_args(&args[1..])
            .and_then(|opts| bench::pack(&root, &opts, &args[1..]))
            .map(|section| print!("{section}")),
        Some("fuzz") => fuzz::parse_args(&args[1..]).and_then(|opts| fuzz::run(&root, &opts)),
        Some("fuzz-seeds") => {
            fuzz_seeds::write(&root).map(|n| println!("wrote {n} seed inputs to fuzz/corpus/"))
        }
        _ => {
            print!("{HELP}");
            return if args.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            };
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
