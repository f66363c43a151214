//! The one place errors become what the user sees and the exit code: every command returns
//! `Result<(), Failure>`, and `main` prints it — as diagnostics, or as JSON lines when the command
//! was asked for JSON — and exits with its class (docs/exit-codes.md).

use miette::{Diagnostic, Report};
use serde_json::json;

pub use soiree_build::Class;

/// Why a command failed: one or more diagnostics, and whose fault it was.
pub struct Failure {
    pub class: Class,
    pub diagnostics: Vec<Report>,
    /// A line said after the diagnostics (`3 problems found`).
    pub summary: Option<String>,
}

impl Failure {
    fn one(class: Class, report: Report) -> Failure {
        Failure {
            class,
            diagnostics: vec![report],
            summary: None,
        }
    }

    /// The command was used wrongly (exit 2).
    pub fn usage(message: impl std::fmt::Display) -> Failure {
        Failure::one(Class::Usage, miette::miette!(code = "soiree::usage", "{message}"))
    }

    /// The input was rejected (exit 1).
    pub fn rejected(message: impl std::fmt::Display) -> Failure {
        Failure::one(
            Class::Rejected,
            miette::miette!(code = "soiree::rejected", "{message}"),
        )
    }

    /// The machine failed (exit 3).
    pub fn machine(message: impl std::fmt::Display) -> Failure {
        Failure::one(Class::Machine, miette::miette!(code = "soiree::io", "{message}"))
    }

    pub fn exit_code(&self) -> std::process::ExitCode {
        std::process::ExitCode::from(self.class.exit_code())
    }

    /// Prints the failure: miette diagnostics on standard error, or, with `json`, one JSON object
    /// per diagnostic on standard output (what CI annotations read).
    pub fn print(&self, json: bool) {
        for d in &self.diagnostics {
            if json {
                println!(
                    "{}",
                    crate::json_line::line(&diagnostic_json(d.as_ref(), self.class))
                );
            } else {
                eprintln!("{d:?}");
            }
        }
        if let Some(s) = &self.summary {
            if !json {
                eprintln!("{s}");
            }
        }
    }
}

fn class_name(class: Class) -> &'static str {
    match class {
        Class::Rejected => "rejected",
        Class::Usage => "usage",
        Class::Machine => "machine",
    }
}

/// `{"reason":"error", "class", "code", "message", "help", "file", "line", "column"}`: the place
/// is the first labelled span of the diagnostic, when it has one.
pub fn diagnostic_json(d: &dyn Diagnostic, class: Class) -> serde_json::Value {
    let mut v = json!({
        "reason": "error",
        "class": class_name(class),
        "code": d.code().map(|c| c.to_string()),
        "message": d.to_string(),
        "help": d.help().map(|h| h.to_string()),
    });
    if let (Some(src), Some(label)) = (d.source_code(), d.labels().and_then(|mut l| l.next())) {
        if let Ok(contents) = src.read_span(label.inner(), 0, 0) {
            v["file"] = json!(contents.name());
            v["line"] = json!(contents.line() + 1);
            v["column"] = json!(contents.column() + 1);
            v["label"] = json!(label.label());
        }
    }
    v
}

impl From<soiree_build::BuildError> for Failure {
    fn from(e: soiree_build::BuildError) -> Failure {
        let e = match e {
            soiree_build::BuildError::Plan(p) => soiree_build::BuildError::Plan(escaped(p)),
            // Shown with the party file's text, as `check` shows its problems.
            soiree_build::BuildError::OverLimit(limit) => {
                return Failure::one(Class::Rejected, limit.0.into_report())
            }
            other => other,
        };
        Failure::one(e.class(), Report::new(e))
    }
}

/// A plan's message may quote paths and text from sources: shown escaped (soiree_spk::display).
fn escaped(e: soiree_plan::PlanError) -> soiree_plan::PlanError {
    match e {
        soiree_plan::PlanError::Message(m) => {
            soiree_plan::PlanError::Message(soiree_spk::display::EscapedLines(&m).to_string())
        }
        other => other,
    }
}

impl From<soiree_spk::Error> for Failure {
    fn from(e: soiree_spk::Error) -> Failure {
        let class = if e.is_io() {
            Class::Machine
        } else {
            Class::Rejected
        };
        Failure::one(class, Report::new(e))
    }
}

impl From<soiree_plan::PlanError> for Failure {
    fn from(e: soiree_plan::PlanError) -> Failure {
        Failure::one(Class::Rejected, Report::new(escaped(e)))
    }
}

impl From<soiree_run::Error> for Failure {
    fn from(e: soiree_run::Error) -> Failure {
        let class = if e.is_machine() {
            Class::Machine
        } else {
            Class::Rejected
        };
        Failure::one(class, Report::new(e))
    }
}

impl From<soiree_up::Error> for Failure {
    fn from(e: soiree_up::Error) -> Failure {
        let class = if e.is_machine() {
            Class::Machine
        } else {
            Class::Rejected
        };
        Failure::one(class, Report::new(e))
    }
}

impl From<soiree_party::Problems> for Failure {
    fn from(problems: soiree_party::Problems) -> Failure {
        let count = problems.len();
        // A party file that cannot be read is the machine's fault; anything else is the party's.
        let class = if problems.0.iter().any(|p| p.is_io()) {
            Class::Machine
        } else {
            Class::Rejected
        };
        Failure {
            class,
            diagnostics: problems.0.into_iter().map(|p| p.into_report()).collect(),
            summary: Some(format!(
                "{count} problem{} found",
                if count == 1 { "" } else { "s" }
            )),
        }
    }
}

/// The source cache's own errors are the machine's (a folder it cannot read or remove), kept as
/// diagnostics so their codes (`soiree::source::io`) and paths reach the user.
impl From<soiree_source::Error> for Failure {
    fn from(e: soiree_source::Error) -> Failure {
        Failure::one(Class::Machine, Report::new(e))
    }
}

impl From<soiree_oci::PushError> for Failure {
    fn from(e: soiree_oci::PushError) -> Failure {
        use soiree_oci::PushError;
        let class = match &e {
            PushError::Registry { .. } => Class::Usage,
            PushError::Io { .. } => Class::Machine,
            PushError::Layout { .. } | PushError::Credentials { .. } | PushError::Refused { .. } => {
                Class::Rejected
            }
        };
        Failure::one(class, Report::new(e))
    }
}
