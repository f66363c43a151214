//! Why a plan failed. A run-time closure that cannot be completed is a diagnostic that points at
//! the recipe line that placed the program; anything else is a message.

use std::fmt;
use std::path::PathBuf;

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceCode};
use soiree_party::Origin;

#[derive(Debug)]
pub enum PlanError {
    /// A problem with no place in a file to point at.
    Message(String),
    /// A program of the package needs something that is nowhere to be found.
    Closure(Box<ClosureError>),
}

#[derive(Debug)]
pub struct ClosureError {
    pub package: String,
    /// The package's file whose closure failed.
    pub program: Option<PathBuf>,
    /// The recipe mapping that placed it, when a recipe did.
    pub placed_by: Option<Origin>,
    pub error: soiree_deps::Error,
    source_code: Option<NamedSource<String>>,
}

impl ClosureError {
    pub fn new(
        package: &str,
        program: Option<PathBuf>,
        placed_by: Option<Origin>,
        error: soiree_deps::Error,
    ) -> ClosureError {
        let source_code = placed_by.as_ref().map(|o| {
            NamedSource::new(o.place.file.name.clone(), o.place.file.text.to_string()).with_language("toml")
        });
        ClosureError {
            package: package.to_string(),
            program,
            placed_by,
            error,
            source_code,
        }
    }
}

impl From<String> for PlanError {
    fn from(message: String) -> PlanError {
        PlanError::Message(message)
    }
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlanError::Message(m) => f.write_str(m),
            PlanError::Closure(c) => write!(f, "package `{}`: {}", c.package, c.error),
        }
    }
}

impl std::error::Error for PlanError {}

impl Diagnostic for PlanError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        match self {
            PlanError::Message(_) => None,
            PlanError::Closure(c) => c.error.code(),
        }
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        let PlanError::Closure(c) = self else {
            return None;
        };
        let mut help = c.error.help().map(|h| h.to_string()).unwrap_or_default();
        if let Some(program) = &c.program {
            if !help.is_empty() {
                help.push('\n');
            }
            help.push_str(&format!(
                "a library the program does without goes in the recipe's [deps] optional; \
                 if nothing runs {} in the grain, put it in [deps] skip",
                program.display()
            ));
        }
        Some(Box::new(help))
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        match self {
            PlanError::Closure(c) => c.source_code.as_ref().map(|s| s as &dyn SourceCode),
            PlanError::Message(_) => None,
        }
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let PlanError::Closure(c) = self else {
            return None;
        };
        let origin = c.placed_by.as_ref()?;
        let what = c
            .program
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "the program".into());
        let label = format!("{what} is placed here, by recipe {}", origin.via);
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(
            Some(label),
            origin.place.span.clone(),
        ))))
    }
}
