//! `soiree-pack recipes`: every recipe of `recipes/` with its description and parameters (name,
//! type, default, description), read the way `check` reads them.

use std::path::Path;

use serde::Serialize;

use crate::diagnostic::{PartyError, Problems};
use crate::load::{parse, read_file};
use crate::schema::{ParamType, RecipeFile};

#[derive(Debug, Serialize)]
pub struct RecipeInfo {
    pub name: String,
    pub description: Option<String>,
    pub params: Vec<ParamInfo>,
}

#[derive(Debug, Serialize)]
pub struct ParamInfo {
    pub name: String,
    /// `string`, `integer`, `boolean` or `list`: what `type` says in the recipe.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The default, when the parameter has one; a parameter without one must be given.
    pub default: Option<toml::Value>,
    pub description: Option<String>,
}

fn type_word(kind: ParamType) -> &'static str {
    match kind {
        ParamType::String => "string",
        ParamType::Integer => "integer",
        ParamType::Boolean => "boolean",
        ParamType::List => "list",
    }
}

/// Every `*.toml` of `recipes_dir`, by name. A recipe that does not parse is a problem (all of
/// them are reported); a missing folder is an empty list.
pub fn recipes(recipes_dir: &Path) -> Result<Vec<RecipeInfo>, Problems> {
    let mut names: Vec<String> = match std::fs::read_dir(recipes_dir) {
        Ok(dir) => dir
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().to_str()?.strip_suffix(".toml").map(String::from))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => {
            return Err(Problems(vec![PartyError::new(
                crate::diagnostic::IO_CODE,
                format!("cannot read {}: {e}", recipes_dir.display()),
            )]))
        }
    };
    names.sort();
    let mut found = Vec::new();
    let mut problems = Vec::new();
    for name in names {
        let read = read_file(
            &recipes_dir.join(format!("{name}.toml")),
            format!("recipes/{name}.toml"),
        )
        .map_err(|e| vec![e])
        .and_then(|file| parse::<RecipeFile>(&file, "recipes.md"));
        match read {
            Ok(spec) => found.push(RecipeInfo {
                params: spec
                    .params
                    .iter()
                    .map(|(k, v)| {
                        let v = v.get_ref();
                        ParamInfo {
                            name: k.get_ref().clone(),
                            kind: type_word(*v.kind.get_ref()),
                            default: v.default.as_ref().map(|d| d.get_ref().clone()),
                            description: v.description.clone(),
                        }
                    })
                    .collect(),
                name,
                description: spec.description,
            }),
            Err(errors) => problems.extend(errors),
        }
    }
    if problems.is_empty() {
        Ok(found)
    } else {
        Err(Problems(problems))
    }
}
