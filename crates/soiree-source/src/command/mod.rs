//! Sources produced by a command: the declaration ([`CommandSpec`]), its cache key, the run in a
//! scratch copy of its input, and the checks on what it leaves.

mod build;
mod inputs;
mod output;
mod sandbox;
mod tools;

use std::collections::BTreeMap;
use std::path::PathBuf;

pub(crate) use build::build;
pub use tools::{find_tool, in_copy, install_help, tool_package, ToolHint};

/// How a command source is made: `argv` runs in a scratch copy of `dir`, and the folder
/// `output` (relative to that copy) is what the source stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandSpec {
    /// The program and its arguments; `$OUT` (or `${OUT}`) in an argument is the output folder.
    pub argv: Vec<String>,
    /// The directory the command runs in, copied first; the original is never written.
    pub dir: PathBuf,
    /// Variables added to the command's controlled environment (`$OUT` substituted too).
    pub env: BTreeMap<String, String>,
    /// The folder the command leaves its result in, relative to the copy of `dir`.
    pub output: String,
    /// Programs the command needs: they must exist, and their versions are part of the key.
    pub tools: Vec<String>,
    /// Whether the command may reach the network (otherwise it runs without one).
    pub network: bool,
    /// Globs (relative to `dir`) of inputs neither copied nor hashed: build folders, VCS data.
    pub exclude: Vec<String>,
}

impl CommandSpec {
    /// The command as a user would type it, for messages and provenance.
    pub fn display(&self) -> String {
        display_argv(&self.argv)
    }
}

/// A command as a user would type it in a shell: arguments quoted where a shell would split or
/// expand them.
pub fn display_argv(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            if a.is_empty() || a.contains(|c: char| c.is_whitespace() || "'\"&|;<>()*?".contains(c)) {
                format!("'{}'", a.replace('\'', "'\\''"))
            } else {
                a.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
