//! Registry credentials as other container tools find them: `SOIREE_REGISTRY_USER` and
//! `SOIREE_REGISTRY_PASSWORD`, else the `auths` of a Docker-format file — `REGISTRY_AUTH_FILE`
//! (podman, skopeo), `$DOCKER_CONFIG/config.json`, `~/.docker/config.json` — else anonymous.
//! A file that is named and unreadable or malformed is an error, never silently anonymous.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::PushError;

/// Who the registry is told we are.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    Anonymous,
    Basic {
        user: String,
        password: String,
    },
    /// An OAuth2 refresh token a registry handed out (`identitytoken`).
    Token(String),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Anonymous => write!(f, "Anonymous"),
            Credentials::Basic { user, .. } => write!(f, "Basic({user}, <hidden>)"),
            Credentials::Token(_) => write!(f, "Token(<hidden>)"),
        }
    }
}

#[derive(Deserialize)]
struct ConfigFile {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
}

#[derive(Deserialize)]
struct AuthEntry {
    auth: Option<String>,
    username: Option<String>,
    password: Option<String>,
    identitytoken: Option<String>,
}

/// Where to look, from the environment given (so tests need not change the process's).
pub struct Lookup<'a> {
    pub var: &'a dyn Fn(&str) -> Option<String>,
}

impl Lookup<'_> {
    /// The process environment.
    pub fn process() -> Lookup<'static> {
        Lookup {
            var: &|name| std::env::var(name).ok().filter(|v| !v.is_empty()),
        }
    }
}

/// The credentials for `host` (`HOST[:PORT]`).
pub fn for_registry(host: &str, env: &Lookup) -> Result<Credentials, PushError> {
    if let (Some(user), Some(password)) = (
        (env.var)("SOIREE_REGISTRY_USER"),
        (env.var)("SOIREE_REGISTRY_PASSWORD"),
    ) {
        return Ok(Credentials::Basic { user, password });
    }
    let (file, must_exist) = if let Some(f) = (env.var)("REGISTRY_AUTH_FILE") {
        (PathBuf::from(f), true)
    } else if let Some(dir) = (env.var)("DOCKER_CONFIG") {
        (Path::new(&dir).join("config.json"), true)
    } else if let Some(home) = (env.var)("HOME") {
        (Path::new(&home).join(".docker/config.json"), false)
    } else {
        return Ok(Credentials::Anonymous);
    };
    let text = match std::fs::read_to_string(&file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !must_exist => {
            return Ok(Credentials::Anonymous)
        }
        Err(e) => {
            return Err(PushError::Credentials {
                file,
                why: e.to_string(),
            })
        }
    };
    from_text(&text, host).map_err(|why| PushError::Credentials { file, why })
}

/// The entry for `host` in a Docker-format file's text.
pub fn from_text(text: &str, host: &str) -> Result<Credentials, String> {
    let config: ConfigFile =
        serde_json::from_str(text).map_err(|e| format!("line {} column {}: {e}", e.line(), e.column()))?;
    let entry = config.auths.iter().find(|(key, _)| {
        let key = key.trim_start_matches("https://").trim_start_matches("http://");
        key.split('/').next() == Some(host)
    });
    let Some((key, entry)) = entry else {
        return Ok(Credentials::Anonymous);
    };
    if let Some(token) = &entry.identitytoken {
        return Ok(Credentials::Token(token.clone()));
    }
    if let (Some(user), Some(password)) = (&entry.username, &entry.password) {
        return Ok(Credentials::Basic {
            user: user.clone(),
            password: password.clone(),
        });
    }
    let Some(auth) = &entry.auth else {
        return Err(format!(
            "`auths.{key}` has neither `auth` nor `username` and `password`"
        ));
    };
    let decoded = data_encoding::BASE64
        .decode(auth.trim().as_bytes())
        .map_err(|e| format!("`auths.{key}.auth` is not base64: {e}"))?;
    let decoded = String::from_utf8(decoded)
        .map_err(|_| format!("`auths.{key}.auth` is not UTF-8 text once decoded"))?;
    let (user, password) = decoded
        .split_once(':')
        .ok_or_else(|| format!("`auths.{key}.auth` is not base64 of `user:password`"))?;
    Ok(Credentials::Basic {
        user: user.to_string(),
        password: password.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_by_host_with_or_without_scheme() {
        let text = r#"{"auths":{"https://reg.example:5000":{"auth":"dXNlcjpwYXNz"}}}"#;
        assert_eq!(
            from_text(text, "reg.example:5000").unwrap(),
            Credentials::Basic {
                user: "user".into(),
                password: "pass".into()
            }
        );
        assert_eq!(from_text(text, "other").unwrap(), Credentials::Anonymous);
    }

    #[test]
    fn malformed_files_say_where() {
        let err = from_text("{\"auths\": {\n  \"h\": 3}}", "h").unwrap_err();
        assert!(err.contains("line 2"), "{err}");
        let err = from_text(r#"{"auths":{"h":{"auth":"not base64!"}}}"#, "h").unwrap_err();
        assert!(err.contains("not base64"), "{err}");
        let err = from_text(r#"{"auths":{"h":{"auth":"bm9jb2xvbg=="}}}"#, "h").unwrap_err();
        assert!(err.contains("user:password"), "{err}");
    }
}
