//! The programs a command source names: found on `PATH`, their versions for the cache key, and
//! the Debian package to install when one is missing.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::digest::Sha256;

/// Where a missing tool comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolHint {
    /// `apt-get install NAME` provides it.
    Debian(&'static str),
    /// Debian has no package for it; the text says where it comes from.
    NotInDebian(&'static str),
}

/// The Debian package that provides `tool`, for the tools recipes commonly run.
pub fn tool_package(tool: &str) -> Option<ToolHint> {
    use ToolHint::*;
    Some(match tool {
        "mix" | "elixir" | "iex" => Debian("elixir"),
        "erl" | "escript" => Debian("erlang-base"),
        "godot3-server" => Debian("godot3-server"),
        "godot3" => Debian("godot3"),
        "godot" | "godot4" => NotInDebian(
            "Godot 4 is not packaged by Debian: put V-Sekai's editor build (V-Sekai/world-godot \
             releases) on PATH as `godot`",
        ),
        "make" => Debian("make"),
        "gcc" | "cc" => Debian("gcc"),
        "cargo" => Debian("cargo"),
        "node" => Debian("nodejs"),
        "npm" => Debian("npm"),
        "python3" => Debian("python3"),
        "git" => Debian("git"),
        "tar" => Debian("tar"),
        "xz" => Debian("xz-utils"),
        "unzip" => Debian("unzip"),
        "sh" | "dash" => Debian("dash"),
        "bash" => Debian("bash"),
        _ => return None,
    })
}

/// How to get `tool`, for a diagnostic: the Debian package, or where it comes from.
pub fn install_help(tool: &str) -> String {
    match tool_package(tool) {
        Some(ToolHint::Debian(pkg)) => format!("`apt-get install {pkg}` provides `{tool}`"),
        Some(ToolHint::NotInDebian(text)) => text.to_string(),
        None => format!("install `{tool}`, or put the folder that has it on PATH"),
    }
}

/// Whether `tool` is a relative path with a `/` (`./build.sh`): a program of the input itself,
/// found in the command's folder rather than on `PATH`.
pub fn in_copy(tool: &str) -> bool {
    tool.contains('/') && !tool.starts_with('/')
}

/// `tool` as the command will find it: a path with a `/` as it is, a bare name on `path` (the
/// value of `PATH`).
pub fn find_tool(tool: &str, path: Option<&OsStr>) -> Option<PathBuf> {
    if tool.contains('/') {
        return is_executable(Path::new(tool)).then(|| PathBuf::from(tool));
    }
    let path = path?;
    std::env::split_paths(path)
        .map(|dir| dir.join(tool))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// What identifies a tool's version: what `TOOL --version` prints when it succeeds, otherwise
/// the digest of the program file. It runs with an empty HOME each time: some tools print
/// more on their first run in a home (Godot creates its folders), which must not change the key.
pub(crate) fn version(program: &Path) -> String {
    let home = tempfile::tempdir().ok();
    let mut cmd = Command::new(program);
    cmd.arg("--version").env_clear().env("LANG", "C.UTF-8");
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
    if let Some(h) = &home {
        cmd.env("HOME", h.path()).current_dir(h.path());
    }
    let out = cmd.stdin(Stdio::null()).stderr(Stdio::null()).output();
    match out {
        Ok(o) if o.status.success() && !o.stdout.is_empty() => {
            String::from_utf8_lossy(&o.stdout).trim().to_string()
        }
        _ => match Sha256::of_file(program) {
            Ok(d) => format!("sha256 {d}"),
            Err(_) => "unknown".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_programs_on_path_and_names_their_packages() {
        let path = std::env::var_os("PATH");
        assert!(find_tool("sh", path.as_deref()).is_some());
        assert_eq!(find_tool("no-such-tool-here", path.as_deref()), None);
        assert_eq!(tool_package("mix"), Some(ToolHint::Debian("elixir")));
        assert!(matches!(tool_package("godot"), Some(ToolHint::NotInDebian(_))));
        assert_eq!(tool_package("frobnicate"), None);
        assert!(in_copy("./build.sh") && in_copy("scripts/build"));
        assert!(!in_copy("/bin/sh") && !in_copy("mix"));
    }
}
