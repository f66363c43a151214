//! `cargo xtask <task>`: see `cargo xtask help`.

use std::path::PathBuf;
use std::process::ExitCode;

use xtask::{codegen, schema_check, workspace_root};

const HELP: &str = "\
cargo xtask <task>

  codegen                    regenerate crates/soiree-schema/src/generated from schema/
  schema-check [--sandstorm DIR]
                             compare the compiled schema with Sandstorm's schema files
                             (default DIR: ../shared/spk-schemas)
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = workspace_root();
    let result = match args.first().map(String::as_str) {
        Some("codegen") => codegen::generate(&root, &codegen::generated_dir(&root))
            .map(|()| println!("wrote {}", codegen::generated_dir(&root).display())),
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
