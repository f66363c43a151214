//! Errors in a party or recipe file, as miette diagnostics that point at the file, line and column.

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceSpan};
use soiree_types::display::{masked, Escaped, EscapedLines};
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

/// A file the diagnostics can point into: its name as shown to the user, and its text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub name: String,
    pub text: Arc<str>,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<Arc<str>>) -> SourceFile {
        SourceFile {
            name: name.into(),
            text: text.into(),
        }
    }

    /// The text as a diagnostic shows it: control characters masked (offsets kept), so a file
    /// holding terminal escape sequences cannot redraw the screen when its lines are quoted.
    fn named(&self) -> NamedSource<String> {
        NamedSource::new(Escaped(&self.name).to_string(), masked(&self.text)).with_language("toml")
    }
}

/// A place in a file.
#[derive(Debug, Clone)]
pub struct Place {
    pub file: SourceFile,
    pub span: Range<usize>,
}

impl Place {
    pub fn new(file: &SourceFile, span: Range<usize>) -> Place {
        Place {
            file: file.clone(),
            span,
        }
    }
}

/// One problem with a party: what is wrong, where, and how to fix it.
#[derive(Debug, Clone)]
pub struct PartyError {
    pub code: &'static str,
    pub message: String,
    pub place: Option<Box<Place>>,
    pub label: String,
    pub help: Option<String>,
    /// Other places the problem involves (the other side of a conflict), each its own diagnostic.
    pub related: Vec<PartyError>,
}

/// The code of a problem that is the machine's, not the party's: a file that cannot be read or
/// written (exit 3 rather than 1).
pub const IO_CODE: &str = "soiree::party::io";

impl PartyError {
    /// A file could not be read or written: the machine failed, the party was not rejected.
    pub fn is_io(&self) -> bool {
        self.code == IO_CODE
    }

    pub fn new(code: &'static str, message: impl Into<String>) -> PartyError {
        PartyError {
            code,
            message: message.into(),
            place: None,
            label: String::new(),
            help: None,
            related: Vec::new(),
        }
    }

    pub fn at(mut self, place: Place, label: impl Into<String>) -> PartyError {
        self.place = Some(Box::new(place));
        self.label = label.into();
        self
    }

    pub fn at_span(self, file: &SourceFile, span: Range<usize>, label: impl Into<String>) -> PartyError {
        self.at(Place::new(file, span), label)
    }

    pub fn help(mut self, help: impl Into<String>) -> PartyError {
        self.help = Some(help.into());
        self
    }

    pub fn related(mut self, other: PartyError) -> PartyError {
        self.related.push(other);
        self
    }
}

/// Messages, labels and help quote names and values from the party file: every character that
/// could drive a terminal is shown escaped (see `soiree_types::display`).
impl fmt::Display for PartyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&EscapedLines(&self.message), f)
    }
}

impl std::error::Error for PartyError {}

/// The source code a diagnostic shows, kept alongside it so miette can borrow it.
struct Shown {
    error: PartyError,
    src: Option<NamedSource<String>>,
    related: Vec<Shown>,
}

impl Diagnostic for PartyError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(EscapedLines(h)) as Box<dyn fmt::Display>)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let place = self.place.as_ref()?;
        let span = SourceSpan::from(place.span.clone());
        let label = if self.label.is_empty() {
            None
        } else {
            Some(EscapedLines(&self.label).to_string())
        };
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(label, span))))
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        None
    }
}

impl fmt::Debug for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.error, f)
    }
}

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl std::error::Error for Shown {}

impl Diagnostic for Shown {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Diagnostic::code(&self.error)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Diagnostic::help(&self.error)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Diagnostic::labels(&self.error)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.src.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(self.related.iter().map(|r| r as &dyn Diagnostic)))
    }
}

impl PartyError {
    /// A diagnostic that owns the source text it points into, ready for a miette handler.
    pub fn into_report(self) -> miette::Report {
        miette::Report::new(shown(self))
    }

    /// Renders the diagnostic as plain text (no colour), as `soiree-pack check` prints it.
    pub fn render_plain(&self) -> String {
        let handler = miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
            .with_width(100)
            .with_links(false);
        let mut out = String::new();
        let shown = shown(self.clone());
        if handler.render_report(&mut out, &shown).is_err() {
            out = format!("{}\n", EscapedLines(&self.message));
        }
        out
    }
}

fn shown(error: PartyError) -> Shown {
    let src = error.place.as_ref().map(|p| p.file.named());
    let related = error.related.iter().cloned().map(shown).collect();
    Shown { error, src, related }
}

/// All the problems found in one pass, in the order they were found.
#[derive(Debug, Default)]
pub struct Problems(pub Vec<PartyError>);

impl Problems {
    pub fn push(&mut self, e: PartyError) {
        self.0.push(e);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }
}

/// The closest of `candidates` to `word`, for "did you mean" hints.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::osa_distance(word, c), c))
        .filter(|(d, c)| *d <= (c.len().max(word.len()) / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Two recipes (or a recipe and `party.toml`) define one thing differently: both places shown.
pub(crate) fn conflict(
    code: &'static str,
    message: String,
    here: crate::model::Origin,
    there: &crate::model::Origin,
) -> PartyError {
    PartyError::new(code, message)
        .at(here.place, format!("from {}", here.via))
        .related(
            PartyError::new(code, "the other definition is here")
                .at(there.place.clone(), format!("from {}", there.via)),
        )
}

/// A `{{name}}` that names no parameter of its recipe.
pub(crate) fn unknown_param(
    file: &SourceFile,
    span: std::ops::Range<usize>,
    unknown: &crate::params::Unknown,
) -> PartyError {
    let name = &unknown.name;
    let e = PartyError::new(
        "soiree::recipe::template",
        format!("`{{{{{name}}}}}` names no parameter of this recipe"),
    )
    .at_span(file, span, "in this template");
    match &unknown.near {
        Some(near) => e.help(format!("did you mean `{{{{{near}}}}}`?")),
        None => e.help("declare it under [params], or fix the name"),
    }
}
