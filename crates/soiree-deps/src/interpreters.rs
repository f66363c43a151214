//! Scripts: the kernel runs a `#!` interpreter, and `#!/usr/bin/env NAME` runs NAME from PATH.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::closure::{Job, Walker};
use crate::error::{Error, Result};
use crate::model::{How, Reason};
use crate::script::{self, Shebang};

impl Walker<'_> {
    pub(crate) fn run_script(&mut self, job: &Job, shebang: Option<Shebang>) -> Result<()> {
        let script = &job.path;
        let Some(shebang) = shebang else {
            return Err(Error::EmptyShebang {
                script: script.clone(),
            });
        };
        if job.nesting >= script::MAX_NESTING {
            return Err(Error::InterpreterTooDeep {
                script: script.clone(),
                limit: script::MAX_NESTING,
            });
        }
        let interpreter = shebang.interpreter;
        if !interpreter.is_absolute() {
            return Err(Error::RelativeInterpreter {
                script: script.clone(),
                interpreter: interpreter.to_string_lossy().into_owned(),
            });
        }
        self.queue.push_back(Job {
            path: interpreter.clone(),
            reason: Reason {
                by: Some(script.clone()),
                how: How::Shebang,
            },
            nesting: job.nesting + 1,
            what: format!("the `#!` interpreter of {}", script.display()),
        });
        let runs = match (interpreter.file_name(), &shebang.arg) {
            (Some(base), Some(arg)) if base == "env" => script::env_program(arg),
            _ => None,
        };
        let Some(name) = runs else {
            return Ok(());
        };
        let program = if name.as_bytes().contains(&b'/') {
            let program = PathBuf::from(&name);
            if !program.is_absolute() {
                return Err(Error::RelativeInterpreter {
                    script: script.clone(),
                    interpreter: name.to_string_lossy().into_owned(),
                });
            }
            program
        } else {
            self.on_path(script, &interpreter, &name)?
        };
        self.queue.push_back(Job {
            path: program,
            reason: Reason {
                by: Some(script.clone()),
                how: How::Env { name: name.clone() },
            },
            nesting: job.nesting + 1,
            what: format!("what `{}` runs for {}", interpreter.display(), script.display()),
        });
        Ok(())
    }

    /// `execvp`'s lookup: the first PATH directory holding an executable regular file `name`.
    fn on_path(&self, script: &Path, env: &Path, name: &OsStr) -> Result<PathBuf> {
        for dir in &self.options.path {
            let candidate = dir.join(name);
            if let Ok(r) = self.loader.root.resolve(&candidate) {
                if r.meta.is_file() && r.meta.mode() & 0o111 != 0 {
                    return Ok(candidate);
                }
            }
        }
        let path: Vec<String> = self
            .options
            .path
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        Err(Error::NotOnPath {
            script: script.to_path_buf(),
            env: env.to_path_buf(),
            name: name.to_string_lossy().into_owned(),
            path: path.join(":"),
        })
    }
}
