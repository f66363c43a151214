//! Building a command source once per set of inputs: the cache key, the scratch copy, the run,
//! the output check, and the rename into `built/v1/<key>` in the cache.

use std::path::{Path, PathBuf};
use std::time::Instant;

use sha2::{Digest as _, Sha256 as Hasher};

use super::inputs::{field, Inputs};
use super::{output, sandbox, tools, CommandSpec};
use crate::cache::Cache;
use crate::confine;
use crate::digest::Sha256;
use crate::error::{Error, Result};

/// How many lines of a failed command's output the error shows.
const TAIL_LINES: usize = 20;

/// The output folder of source `name`: from the cache when a build with the same key is there
/// (unless `rebuild`), otherwise built now.
pub(crate) fn build(
    cache: &Cache,
    name: &str,
    spec: &CommandSpec,
    offline: bool,
    rebuild: bool,
) -> Result<PathBuf> {
    let path_var = std::env::var_os("PATH");
    let output_rel = confine::clean_relative(spec.output.as_bytes())
        .filter(|p| !p.is_empty())
        .map(|p| p.iter().collect::<PathBuf>())
        .ok_or_else(|| Error::CommandInput {
            name: name.to_string(),
            reason: format!(
                "output {:?} must be a relative path inside the command's folder, without `..`",
                spec.output
            ),
        })?;
    let program = spec.argv.first().ok_or_else(|| Error::CommandInput {
        name: name.to_string(),
        reason: "the command is empty".into(),
    })?;
    let mut versions = Vec::new();
    for tool in spec.tools.iter().chain(std::iter::once(program)) {
        if tools::in_copy(tool) {
            // `./build.sh`: in the copy of the input, where it runs; a missing one fails there.
            continue;
        }
        let found = tools::find_tool(tool, path_var.as_deref()).ok_or_else(|| missing_tool(name, tool))?;
        if spec.tools.contains(tool) && !versions.iter().any(|(t, _)| t == tool) {
            versions.push((tool.clone(), tools::version(&found)));
        }
    }
    let inputs = Inputs::list(name, &spec.dir, &spec.exclude)?;
    let key = key(spec, &versions, &inputs);
    let dest = cache.built_path(&key);
    if dest.is_dir() && !rebuild {
        Cache::touch(&dest);
        return Ok(dest);
    }
    if offline && spec.network {
        return Err(Error::CommandOffline {
            name: name.to_string(),
        });
    }
    let tmp_root = cache.root().join("built").join("tmp");
    std::fs::create_dir_all(&tmp_root).map_err(Error::io(&tmp_root))?;
    let scratch = tempfile::Builder::new()
        .prefix(&format!("{name}-"))
        .tempdir_in(&tmp_root)
        .map_err(Error::io(&tmp_root))?;
    let work = scratch.path().join("work");
    let home = scratch.path().join("home");
    for d in [&work, &home] {
        std::fs::create_dir(d).map_err(Error::io(d))?;
    }
    inputs.copy_to(&work)?;
    let out = work.join(&output_rel);
    std::fs::create_dir_all(&out).map_err(Error::io(&out))?;
    let kept_log = cache
        .root()
        .join("built")
        .join("logs")
        .join(format!("{name}.log"));
    let ran = run(name, spec, &work, &home, &out, scratch.path(), &kept_log);
    // A build may leave read-only folders (Go's module cache does), which would stop the
    // scratch folder's removal.
    let result = ran.and_then(|()| finish(name, &out, &output_rel, &dest));
    crate::cache_entries::make_writable(scratch.path());
    result?;
    Ok(dest)
}

/// Checks the output and moves it into the cache.
fn finish(name: &str, out: &Path, output_rel: &Path, dest: &Path) -> Result<()> {
    match std::fs::symlink_metadata(out) {
        Ok(m) if m.is_dir() => {}
        _ => {
            return Err(Error::CommandOutput {
                name: name.to_string(),
                path: output_rel.to_path_buf(),
                reason: "is not a directory after the command ran".into(),
            })
        }
    }
    output::check(name, out)?;
    place(out, dest)
}

/// Keeps the whole output of a failed command at `kept` (the scratch folder goes); whether it
/// could.
fn keep_log(log: &Path, kept: &Path) -> bool {
    kept.parent().is_some_and(|d| std::fs::create_dir_all(d).is_ok()) && std::fs::copy(log, kept).is_ok()
}

fn missing_tool(name: &str, tool: &str) -> Error {
    Error::MissingTool {
        name: name.to_string(),
        tool: tool.to_string(),
        help: tools::install_help(tool),
    }
}

/// SHA-256 of everything the output may depend on: the command, its environment and output
/// folder, whether it has a network, the tools' versions and every input file.
fn key(spec: &CommandSpec, versions: &[(String, String)], inputs: &Inputs) -> Sha256 {
    let mut h = Hasher::new();
    field(&mut h, b"soiree-pack command source v1");
    h.update((spec.argv.len() as u64).to_le_bytes());
    for a in &spec.argv {
        field(&mut h, a.as_bytes());
    }
    h.update((spec.env.len() as u64).to_le_bytes());
    for (k, v) in &spec.env {
        field(&mut h, k.as_bytes());
        field(&mut h, v.as_bytes());
    }
    field(&mut h, spec.output.as_bytes());
    h.update([spec.network as u8]);
    h.update((versions.len() as u64).to_le_bytes());
    for (t, v) in versions {
        field(&mut h, t.as_bytes());
        field(&mut h, v.as_bytes());
    }
    inputs.hash_into(&mut h);
    Sha256(h.finalize().into())
}

fn substitute(text: &str, out: &Path) -> String {
    let out = out.to_string_lossy();
    text.replace("${OUT}", &out).replace("$OUT", &out)
}

fn run(
    name: &str,
    spec: &CommandSpec,
    work: &Path,
    home: &Path,
    out: &Path,
    scratch: &Path,
    kept_log: &Path,
) -> Result<()> {
    let log_path = scratch.join("output.log");
    let log = std::fs::File::create(&log_path).map_err(Error::io(&log_path))?;
    let argv: Vec<String> = spec.argv.iter().map(|a| substitute(a, out)).collect();
    let mut env = vec![
        ("HOME".to_string(), home.to_string_lossy().into_owned()),
        ("TMPDIR".into(), "/tmp".into()),
        ("LANG".into(), "C.UTF-8".into()),
        ("OUT".into(), out.to_string_lossy().into_owned()),
    ];
    for var in ["PATH", "SOURCE_DATE_EPOCH"] {
        if let Some(v) = std::env::var_os(var) {
            env.push((var.into(), v.to_string_lossy().into_owned()));
        }
    }
    for (k, v) in &spec.env {
        env.retain(|(name, _)| name != k);
        env.push((k.clone(), substitute(v, out)));
    }
    let (mut cmd, confined) = sandbox::command(sandbox::Setup {
        argv: &argv,
        env: &env,
        writable: &[work, home],
        workdir: work,
        network: spec.network,
        log,
    })
    .map_err(Error::io(&log_path))?;
    let how = match (confined, spec.network) {
        (true, false) => "",
        (true, true) => ", with network access (the source says network = true)",
        (false, _) => {
            ", UNCONFINED: bubblewrap cannot create namespaces here, so nothing stops it writing \
             outside its folder"
        }
    };
    eprintln!(
        "source `{name}`: running {} in a copy of {}{how}",
        spec.display(),
        spec.dir.display()
    );
    let started = Instant::now();
    let status = cmd.status().map_err(|e| Error::CommandFailed {
        name: name.to_string(),
        command: spec.display(),
        status: format!("could not start: {e}"),
        tail: String::new(),
    })?;
    if !status.success() {
        let mut tail = tail(&log_path);
        if keep_log(&log_path, kept_log) {
            tail.push_str(&format!("\n  (all of it: {})", kept_log.display()));
        }
        return Err(Error::CommandFailed {
            name: name.to_string(),
            command: spec.display(),
            status: status.to_string(),
            tail,
        });
    }
    eprintln!(
        "source `{name}`: built in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The last lines of the command's output, indented.
fn tail(log: &Path) -> String {
    let bytes = std::fs::read(log).unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes);
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(TAIL_LINES);
    if lines.is_empty() {
        return "  (it printed nothing)".into();
    }
    lines[start..]
        .iter()
        .map(|l| format!("  | {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Moves the checked output to its cache entry; an entry there already (a `--rebuild`) is
/// moved aside first and removed after.
fn place(out: &Path, dest: &Path) -> Result<()> {
    let parent = dest.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(Error::io(parent))?;
    let old = dest.with_extension("old");
    if dest.exists() {
        if old.exists() {
            std::fs::remove_dir_all(&old).map_err(Error::io(&old))?;
        }
        std::fs::rename(dest, &old).map_err(Error::io(dest))?;
    }
    std::fs::rename(out, dest).map_err(Error::io(dest))?;
    if old.exists() {
        std::fs::remove_dir_all(&old).map_err(Error::io(&old))?;
    }
    Ok(())
}
