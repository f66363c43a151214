//! Sources built by a command in `party.toml`: their keys checked, their input folder or input
//! source resolved, and the programs they run looked up on `PATH` for the chosen profile (a
//! missing one is a diagnostic at its line naming the package that provides it).

use std::collections::BTreeMap;
use std::path::Path;

use crate::diagnostic::{closest, PartyError, Problems, SourceFile};
use crate::model::{CommandDef, CommandInput, SourceDef};
use crate::schema::{PartyFile, SourceSpec, S};

/// The keys only a command source may have, and whether `spec` has any of them.
fn command_keys(spec: &SourceSpec) -> Vec<&'static str> {
    let mut keys = Vec::new();
    for (has, key) in [
        (spec.dir.is_some(), "dir"),
        (spec.source.is_some(), "source"),
        (!spec.env.is_empty(), "env"),
        (spec.output.is_some(), "output"),
        (!spec.tools.is_empty(), "tools"),
        (spec.network.is_some(), "network"),
        (!spec.exclude.is_empty(), "exclude"),
    ] {
        if has {
            keys.push(key);
        }
    }
    keys
}

/// A diagnostic when a `path` or `url` source has keys only command sources take.
pub(crate) fn refuse_command_keys(name: &str, s: &S<SourceSpec>, file: &SourceFile, problems: &mut Problems) {
    let keys = command_keys(s.get_ref());
    if !keys.is_empty() {
        problems.push(
            PartyError::new(
                "soiree::party::source",
                format!(
                    "source `{name}`: {} only apply to a source built by a command",
                    keys.join(", ")
                ),
            )
            .at_span(file, s.span(), "this source has no `command`"),
        );
    }
}

/// A `command = [...]` source.
pub(crate) fn command_def(
    name: &str,
    s: &S<SourceSpec>,
    command: &S<Vec<String>>,
    file: &SourceFile,
    root: &Path,
    problems: &mut Problems,
) -> Option<SourceDef> {
    let spec = s.get_ref();
    let mut ok = true;
    let mut fail = |e: PartyError| {
        problems.push(e);
        ok = false;
    };
    if command.get_ref().first().is_none_or(|c| c.is_empty()) {
        fail(
            PartyError::new(
                "soiree::party::command",
                format!("source `{name}`: the command is empty"),
            )
            .at_span(file, command.span(), "a program and its arguments"),
        );
    }
    for (key, bad) in [
        ("sha256", spec.sha256.is_some()),
        ("size", spec.size.is_some()),
        ("strip-components", spec.strip_components.is_some()),
    ] {
        if bad {
            fail(
                PartyError::new(
                    "soiree::party::command",
                    format!("source `{name}`: {key} does not apply to a source built by a command"),
                )
                .at_span(file, s.span(), "a download's key"),
            );
        }
    }
    let input = match (&spec.dir, &spec.source) {
        (Some(dir), None) => Some(CommandInput::Dir(root.join(dir.get_ref()))),
        (None, Some(src)) => Some(CommandInput::Source(src.get_ref().clone())),
        _ => {
            fail(
                PartyError::new(
                    "soiree::party::command",
                    format!("source `{name}` needs exactly one of dir or source: what its command runs in"),
                )
                .at_span(file, s.span(), "give `dir = \"FOLDER\"` or `source = \"NAME\"`"),
            );
            None
        }
    };
    let output = spec
        .output
        .as_ref()
        .map_or("out".to_string(), |o| o.get_ref().clone());
    if let Some(o) = &spec.output {
        let path = Path::new(o.get_ref());
        // A folder below the copy, not the copy itself: the inputs are not the output.
        let clean = path
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_) | std::path::Component::CurDir))
            && path
                .components()
                .any(|c| matches!(c, std::path::Component::Normal(_)));
        if !clean {
            fail(
                PartyError::new(
                    "soiree::party::command",
                    format!("source `{name}`: output must be a folder inside the command's copy"),
                )
                .at_span(file, o.span(), "a relative path below it, without `..`"),
            );
        }
    }
    for (k, _) in spec
        .env
        .iter()
        .filter(|(k, _)| k.is_empty() || k.contains(['=', '\0']))
    {
        fail(
            PartyError::new(
                "soiree::party::command",
                format!("source `{name}`: {k:?} is not an environment variable name"),
            )
            .at_span(file, s.span(), "in env"),
        );
    }
    if !ok {
        return None;
    }
    Some(SourceDef::Command(Box::new(CommandDef {
        command: command.get_ref().clone(),
        input: input?,
        env: spec.env.clone(),
        output,
        tools: spec.tools.iter().map(|t| t.get_ref().clone()).collect(),
        network: spec.network.unwrap_or(false),
        exclude: spec.exclude.clone(),
        sub_path: spec.sub_path.as_ref().map(|p| p.get_ref().clone()),
    })))
}

/// The entry that defines `name` for `profile`: the profile's when it replaces it.
fn entry<'a>(spec: &'a PartyFile, profile: Option<&str>, name: &str) -> Option<&'a S<SourceSpec>> {
    profile
        .and_then(|p| spec.profiles.get(p))
        .and_then(|p| p.sources.get(name))
        .or_else(|| spec.sources.get(name))
}

/// For the chosen profile: every command's input source exists and no command depends on its
/// own output; with `tools`, every program the commands name is on `PATH`.
pub(crate) fn check_commands(
    spec: &PartyFile,
    profile: Option<&str>,
    sources: &BTreeMap<String, SourceDef>,
    file: &SourceFile,
    tools: bool,
    problems: &mut Problems,
) {
    let path_var = std::env::var_os("PATH");
    for (name, def) in sources {
        let SourceDef::Command(c) = def else { continue };
        let Some(s) = entry(spec, profile, name) else {
            continue;
        };
        if let CommandInput::Source(input) = &c.input {
            let span = s.get_ref().source.as_ref().map_or(s.span(), |x| x.span());
            if !sources.contains_key(input) {
                let mut err = PartyError::new(
                    "soiree::party::command",
                    format!("source `{name}` runs its command in source `{input}`, which party.toml does not define"),
                )
                .at_span(file, span.clone(), "unknown source");
                if let Some(near) = closest(input, sources.keys().map(String::as_str)) {
                    err = err.help(format!("did you mean `{near}`?"));
                }
                problems.push(err);
            } else if let Some(cycle) = cycle(name, sources) {
                problems.push(
                    PartyError::new(
                        "soiree::party::command",
                        format!("source `{name}` needs its own output: {}", cycle.join(" → ")),
                    )
                    .at_span(file, span, "a cycle"),
                );
            }
        }
        if !tools {
            continue;
        }
        let program = s.get_ref().command.as_ref();
        let named = s.get_ref().tools.iter().map(|t| (t.get_ref().as_str(), t.span()));
        let first = program.and_then(|p| p.get_ref().first().map(|c| (c.as_str(), p.span())));
        for (tool, span) in named.chain(first) {
            if tool.is_empty()
                || soiree_source::command::in_copy(tool)
                || soiree_source::command::find_tool(tool, path_var.as_deref()).is_some()
            {
                continue;
            }
            let help = soiree_source::command::install_help(tool);
            problems.push(
                PartyError::new(
                    "soiree::party::missing_tool",
                    format!("source `{name}` runs `{tool}`, which is not on PATH"),
                )
                .at_span(file, span, "not found")
                .help(help),
            );
        }
    }
}

/// The chain back to `name` through command inputs, if there is one.
fn cycle(name: &str, sources: &BTreeMap<String, SourceDef>) -> Option<Vec<String>> {
    let mut chain = vec![name.to_string()];
    let mut at = name;
    while let Some(SourceDef::Command(c)) = sources.get(at) {
        let CommandInput::Source(next) = &c.input else {
            return None;
        };
        chain.push(next.clone());
        if next == name {
            return Some(chain);
        }
        if chain.len() > sources.len() + 1 {
            return None;
        }
        at = next;
    }
    None
}
