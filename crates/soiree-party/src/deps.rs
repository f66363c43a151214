//! `[deps]`: how the run-time closure of a package's programs is found. Each recipe's table
//! (and `party.toml`'s `[packages.NAME.deps]`) is substituted, checked and merged into the
//! package's [`Deps`], keeping where each value came from.

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use crate::diagnostic::unknown_param;
use crate::diagnostic::{PartyError, Place, Problems, SourceFile};
use crate::model::{Deps, DepsValue, Origin};
use crate::params::{self, Params};
use crate::schema::{DepsSpec, S};
use crate::vocab;

const CODE: &str = "soiree::recipe::deps";

/// Where one `[deps]` table is declared: its file, the recipe parameters, the include chain.
struct Declared<'a> {
    file: &'a SourceFile,
    params: &'a Params,
    via: &'a str,
}

/// Adds one `[deps]` table, declared in `file` and reached through `via`, to `into`.
pub(crate) fn add(
    spec: &DepsSpec,
    file: &SourceFile,
    params: &Params,
    via: &str,
    into: &mut Deps,
    problems: &mut Problems,
) {
    let at = Declared { file, params, via };
    add_list(
        &at,
        "library-path",
        &spec.library_path,
        library_dir_problem,
        &mut into.library_path,
        problems,
    );
    add_list(
        &at,
        "path",
        &spec.path,
        path_dir_problem,
        &mut into.path,
        problems,
    );
    add_list(
        &at,
        "optional",
        &spec.optional,
        soname_problem,
        &mut into.optional,
        problems,
    );
    add_list(&at, "skip", &spec.skip, skip_problem, &mut into.skip, problems);
}

/// Substitutes and checks the values of one key, and adds those not there yet.
fn add_list(
    at: &Declared,
    key: &str,
    values: &[S<String>],
    problem: fn(&str) -> Option<String>,
    out: &mut Vec<DepsValue>,
    problems: &mut Problems,
) {
    for v in values {
        let value = match params::substitute(v.get_ref(), at.params) {
            Ok(value) => value,
            Err(unknown) => {
                problems.push(unknown_param(at.file, v.span(), &unknown));
                continue;
            }
        };
        if let Some(why) = problem(&value) {
            problems.push(
                PartyError::new(CODE, format!("`{value}` is not a usable deps.{key} entry"))
                    .at_span(at.file, v.span(), why)
                    .help("docs/recipes.md (deps) says what each key takes"),
            );
            continue;
        }
        if !out.iter().any(|d| d.value == value) {
            out.push(DepsValue {
                value,
                origin: Origin {
                    via: at.via.to_string(),
                    place: Place::new(at.file, v.span()),
                },
            });
        }
    }
}

/// `library-path`: what ld.so can use from `LD_LIBRARY_PATH` in a grain, an in-package
/// directory or one relative to `$ORIGIN`. A relative directory would be taken from the working
/// directory, and `:` or `;` would split the entry.
fn library_dir_problem(dir: &str) -> Option<String> {
    if dir.contains([':', ';']) {
        return Some("one directory per entry: `:` and `;` separate directories for ld.so".into());
    }
    for origin in ["$ORIGIN", "${ORIGIN}"] {
        if let Some(rest) = dir.strip_prefix(origin) {
            return (!rest.is_empty() && !rest.starts_with('/'))
                .then(|| format!("`{origin}` must be followed by `/` or nothing"));
        }
    }
    vocab::package_path_problem(dir).map(|p| format!("{p} (or with `$ORIGIN`, the program's directory)"))
}

fn path_dir_problem(dir: &str) -> Option<String> {
    if dir.contains(':') {
        return Some("one directory per entry: `:` separates directories in PATH".into());
    }
    vocab::package_path_problem(dir).map(str::to_string)
}

fn soname_problem(name: &str) -> Option<String> {
    if name.is_empty() || name.contains('/') {
        return Some("a library as programs name it (`DT_NEEDED`), such as `libfoo.so.1`; not a path".into());
    }
    None
}

fn skip_problem(pattern: &str) -> Option<String> {
    if !pattern.starts_with(['/', '*']) {
        return Some("skip globs match absolute in-package paths, such as `/opt/app/downloads/**`".into());
    }
    glob(pattern).err()
}

/// `*` stays within one directory and `**` crosses them, as in `[[files]]` include and exclude.
fn glob(pattern: &str) -> Result<globset::Glob, String> {
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map_err(|e| e.kind().to_string())
}

impl Deps {
    /// The `skip` globs as one matcher for in-package paths.
    pub fn skip_set(&self) -> Result<GlobSet, String> {
        let mut set = GlobSetBuilder::new();
        for s in &self.skip {
            set.add(glob(&s.value).map_err(|e| format!("skip glob `{}`: {e}", s.value))?);
        }
        set.build().map_err(|e| e.to_string())
    }
}
