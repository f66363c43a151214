//! Recipe parameters: binding the values a `use` gives, and `{{name}}` substitution.

use std::collections::BTreeMap;

use crate::diagnostic::{closest, unknown_param, PartyError, Problems, SourceFile};
use crate::schema::{ParamType, RecipeFile, RecipeUse, S};

/// Bound parameter values of one recipe use.
pub type Params = BTreeMap<String, toml::Value>;

pub fn type_name(v: &toml::Value) -> &'static str {
    match v {
        toml::Value::String(_) => "a string",
        toml::Value::Integer(_) => "an integer",
        toml::Value::Boolean(_) => "a boolean",
        toml::Value::Array(_) => "a list",
        toml::Value::Float(_) => "a float",
        toml::Value::Datetime(_) => "a date",
        toml::Value::Table(_) => "a table",
    }
}

pub fn matches(kind: ParamType, v: &toml::Value) -> bool {
    match (kind, v) {
        (ParamType::String, toml::Value::String(_))
        | (ParamType::Integer, toml::Value::Integer(_))
        | (ParamType::Boolean, toml::Value::Boolean(_)) => true,
        (ParamType::List, toml::Value::Array(items)) => {
            items.iter().all(|i| matches!(i, toml::Value::String(_)))
        }
        _ => false,
    }
}

pub fn kind_name(kind: ParamType) -> &'static str {
    match kind {
        ParamType::String => "a string",
        ParamType::Integer => "an integer",
        ParamType::Boolean => "a boolean",
        ParamType::List => "a list of strings",
    }
}

fn render(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Array(items) => items.iter().map(render).collect::<Vec<_>>().join(" "),
        other => other.to_string(),
    }
}

/// A `{{name}}` that names no parameter, with the parameter it most likely means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unknown {
    pub name: String,
    pub near: Option<String>,
}

impl Unknown {
    fn new(name: &str, params: &Params) -> Unknown {
        Unknown {
            name: name.to_string(),
            near: closest(name, params.keys().map(String::as_str)).map(String::from),
        }
    }
}

/// Replaces every `{{name}}` in `text`. Returns the first unknown name on failure.
pub fn substitute(text: &str, params: &Params) -> Result<String, Unknown> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let name = after[..end].trim();
        match params.get(name) {
            Some(v) => out.push_str(&render(v)),
            None => return Err(Unknown::new(name, params)),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Substitutes inside a value: a string that is exactly `{{name}}` takes the parameter's own
/// type (so `port = "{{port}}"` stays an integer); other strings are rendered as text.
pub fn substitute_value(v: &toml::Value, params: &Params) -> Result<toml::Value, Unknown> {
    match v {
        toml::Value::String(s) => {
            let trimmed = s.trim();
            if let Some(name) = trimmed.strip_prefix("{{").and_then(|t| t.strip_suffix("}}")) {
                if !name.contains("{{") {
                    return params
                        .get(name.trim())
                        .cloned()
                        .ok_or_else(|| Unknown::new(name.trim(), params));
                }
            }
            substitute(s, params).map(toml::Value::String)
        }
        toml::Value::Array(items) => items
            .iter()
            .map(|i| substitute_value(i, params))
            .collect::<Result<_, _>>()
            .map(toml::Value::Array),
        other => Ok(other.clone()),
    }
}

/// Binds a use's `with` values (substituted with the caller's parameters) and the defaults.
pub(crate) fn bind(
    recipe_file: &SourceFile,
    recipe: &RecipeFile,
    u: &S<RecipeUse>,
    use_file: &SourceFile,
    caller: &Params,
    problems: &mut Problems,
) -> Option<Params> {
    let mut bound = Params::new();
    let mut ok = true;
    let declared = &recipe.params;
    let name = u.get_ref().recipe.get_ref();
    for (k, v) in &u.get_ref().with {
        let Some(spec) = declared
            .iter()
            .find(|(d, _)| d.get_ref() == k.get_ref())
            .map(|(_, s)| s)
        else {
            let mut e = PartyError::new(
                "soiree::recipe::param",
                format!("recipe `{name}` has no parameter `{}`", k.get_ref()),
            )
            .at_span(use_file, k.span(), "unknown parameter");
            let names: Vec<&str> = declared.keys().map(|d| d.get_ref().as_str()).collect();
            e = match closest(k.get_ref(), names.iter().copied()) {
                Some(m) => e.help(format!("did you mean `{m}`?")),
                None => e.help(format!(
                    "its parameters: {}",
                    if names.is_empty() {
                        "(none)".into()
                    } else {
                        names.join(", ")
                    }
                )),
            };
            problems.push(e);
            ok = false;
            continue;
        };
        let value = match substitute_value(v.get_ref(), caller) {
            Ok(v) => v,
            Err(unknown) => {
                problems.push(unknown_param(use_file, v.span(), &unknown));
                ok = false;
                continue;
            }
        };
        let kind = *spec.get_ref().kind.get_ref();
        if !matches(kind, &value) {
            problems.push(
                PartyError::new(
                    "soiree::recipe::param_type",
                    format!(
                        "parameter `{}` of `{name}` is {}, not {}",
                        k.get_ref(),
                        kind_name(kind),
                        type_name(&value)
                    ),
                )
                .at_span(use_file, v.span(), format!("expected {}", kind_name(kind)))
                .related(
                    PartyError::new("soiree::recipe::param_type", "declared here").at_span(
                        recipe_file,
                        spec.span(),
                        "declaration",
                    ),
                ),
            );
            ok = false;
            continue;
        }
        bound.insert(k.get_ref().clone(), value);
    }
    for (k, spec) in declared {
        if bound.contains_key(k.get_ref()) || u.get_ref().with.keys().any(|w| w.get_ref() == k.get_ref()) {
            continue;
        }
        match &spec.get_ref().default {
            Some(d) => {
                let kind = *spec.get_ref().kind.get_ref();
                if !matches(kind, d.get_ref()) {
                    problems.push(
                        PartyError::new(
                            "soiree::recipe::param_type",
                            format!(
                                "the default of `{}` is {}, but the parameter is {}",
                                k.get_ref(),
                                type_name(d.get_ref()),
                                kind_name(kind)
                            ),
                        )
                        .at_span(
                            recipe_file,
                            d.span(),
                            format!("expected {}", kind_name(kind)),
                        ),
                    );
                    ok = false;
                    continue;
                }
                bound.insert(k.get_ref().clone(), d.get_ref().clone());
            }
            None => {
                let what = spec.get_ref().description.clone().unwrap_or_default();
                problems.push(
                    PartyError::new(
                        "soiree::recipe::param_missing",
                        format!("recipe `{name}` needs the parameter `{}`", k.get_ref()),
                    )
                    .at_span(use_file, u.span(), "in this use")
                    .help(format!(
                        "add it: {{ use = \"{name}\", with = {{ {} = … }} }}{}",
                        k.get_ref(),
                        if what.is_empty() {
                            String::new()
                        } else {
                            format!(" ({what})")
                        }
                    )),
                );
                ok = false;
            }
        }
    }
    ok.then_some(bound)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> Params {
        let mut p = Params::new();
        p.insert("port".into(), toml::Value::Integer(8000));
        p.insert("host".into(), toml::Value::String("127.0.0.1".into()));
        p
    }

    #[test]
    fn substitutes_text_and_keeps_types_of_whole_values() {
        assert_eq!(
            substitute("listen {{host}}:{{ port }};", &params()).unwrap(),
            "listen 127.0.0.1:8000;"
        );
        assert_eq!(
            substitute_value(&toml::Value::String("{{port}}".into()), &params()).unwrap(),
            toml::Value::Integer(8000)
        );
        assert_eq!(
            substitute("{{nope}}", &params()).map_err(|u| u.name),
            Err("nope".into())
        );
        assert_eq!(
            substitute("{{prot}}", &params()).map_err(|u| u.near),
            Err(Some("port".into()))
        );
        assert_eq!(
            substitute("no braces {here}", &params()).unwrap(),
            "no braces {here}"
        );
    }
}
