//! Prints the closure of the programs named on the command line, and why each file is there.
//!
//! `cargo run -p soiree-deps --example closure -- [--root DIR] PROGRAM...`

use std::path::PathBuf;

fn main() -> miette::Result<()> {
    let mut options = soiree_deps::Options::default();
    let mut programs = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--root" => options.root = args.next().map(PathBuf::from).unwrap_or_default(),
            _ => programs.push(PathBuf::from(arg)),
        }
    }
    let closure = soiree_deps::closure(&programs, &options)?;
    for entry in closure.entries.values() {
        println!(
            "{}  [{}]  from {}",
            entry.path.display(),
            entry.kind,
            entry.host_path.display()
        );
        if let Some(why) = closure.why(&entry.path) {
            for line in why.to_string().lines() {
                println!("    {line}");
            }
        }
    }
    for warning in &closure.warnings {
        println!("warning: {warning}");
    }
    Ok(())
}
