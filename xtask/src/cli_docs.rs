//! Shell completions and man pages, generated from soiree-pack's own clap definition into
//! `docs/generated/` (committed; `xtask/tests/generated_code.rs` checks they are fresh).

use std::path::{Path, PathBuf};

use clap::CommandFactory;
use clap_complete::Shell;

// The definition itself, not a copy: the CLI's `cli.rs` needs only clap, so it is compiled here
// too (xtask cannot depend on the soiree-pack binary crate).
#[allow(dead_code)]
#[path = "../../crates/soiree-pack/src/cli.rs"]
mod cli;

const BIN: &str = "soiree-pack";
const SHELLS: &[(Shell, &str)] = &[
    (Shell::Bash, "completions/soiree-pack.bash"),
    (Shell::Zsh, "completions/_soiree-pack"),
    (Shell::Fish, "completions/soiree-pack.fish"),
];

pub fn generated_dir(root: &Path) -> PathBuf {
    root.join("docs/generated")
}

/// Every generated file, by its path under `docs/generated/`.
pub fn files() -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut out = Vec::new();
    for (shell, name) in SHELLS {
        let mut cmd = cli::Cli::command();
        let mut text = Vec::new();
        clap_complete::generate(*shell, &mut cmd, BIN, &mut text);
        if *shell == Shell::Bash {
            text = bash_hyphen_fix(&text)?;
        }
        out.push((name.to_string(), text));
    }
    let mut cmd = cli::Cli::command();
    cmd.build();
    out.push((format!("man/{BIN}.1"), man(cmd.clone())?));
    // One page per command, as git and cargo have (`man soiree-pack-build`).
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        // clap names are `'static` (without its `string` feature); these few live as long as
        // this short program anyway.
        let name: &'static str = Box::leak(format!("{BIN}-{}", sub.get_name()).into_boxed_str());
        let bin: &'static str = Box::leak(format!("{BIN} {}", sub.get_name()).into_boxed_str());
        out.push((
            format!("man/{name}.1"),
            man(sub.clone().name(name).bin_name(bin))?,
        ));
    }
    Ok(out)
}

/// clap_complete's bash script spells a command's state two ways when the program's name has a
/// hyphen (`soiree__pack__subcmd__build` in the loop, `soiree__subcmd__pack__subcmd__build` in
/// the arms: clap-rs/clap#6421), so nothing after a command would complete. One spelling for
/// both; `cli_docs_follow_the_definition` runs bash to check that options complete.
fn bash_hyphen_fix(text: &[u8]) -> Result<Vec<u8>, String> {
    let text = std::str::from_utf8(text).map_err(|e| format!("bash completion: {e}"))?;
    Ok(text.replace("soiree__subcmd__pack", "soiree__pack").into_bytes())
}

fn man(cmd: clap::Command) -> Result<Vec<u8>, String> {
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd)
        .render(&mut page)
        .map_err(|e| format!("man page: {e}"))?;
    Ok(page)
}

/// Writes every file into `dir`, removing generated files that no longer exist.
pub fn write(dir: &Path) -> Result<usize, String> {
    let files = files()?;
    for sub in ["completions", "man"] {
        let d = dir.join(sub);
        if d.is_dir() {
            std::fs::remove_dir_all(&d).map_err(|e| format!("{}: {e}", d.display()))?;
        }
    }
    for (name, bytes) in &files {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(files.len())
}
