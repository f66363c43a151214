//! Text from a package or a party file, made safe to print for a person: control characters
//! (C0, DEL, C1) and Unicode's bidirectional and line-separator controls are shown as visible
//! `\u{…}` escapes, so a title holding `ESC[4A ESC[2K` cannot move the cursor and redraw the
//! lines above it (the app id `verify` printed), and a right-to-left override cannot reorder
//! what follows it. JSON output needs none of this: serde escapes control characters itself.

use std::fmt;

/// Whether `c` could change how a terminal shows the text around it.
pub fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
        )
}

/// Displays its text with every unsafe character (newlines too) as `\u{…}`: for one-line fields
/// such as a title or a path.
pub struct Escaped<'a>(pub &'a str);

/// Like [`Escaped`], but keeps line breaks and tabs: for messages of several lines.
pub struct EscapedLines<'a>(pub &'a str);

fn write_escaped(f: &mut fmt::Formatter<'_>, text: &str, keep: &[char]) -> fmt::Result {
    let mut rest = text;
    while let Some(at) = rest.find(|c: char| needs_escape(c) && !keep.contains(&c)) {
        f.write_str(&rest[..at])?;
        let c = rest[at..].chars().next().unwrap_or_default();
        write!(f, "\\u{{{:x}}}", c as u32)?;
        rest = &rest[at + c.len_utf8()..];
    }
    f.write_str(rest)
}

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_escaped(f, self.0, &[])
    }
}

impl fmt::Display for EscapedLines<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_escaped(f, self.0, &['\n', '\t'])
    }
}

/// `text` with every unsafe character but tab and line ends replaced by as many `?` as its UTF-8
/// bytes: for source text a diagnostic quotes, whose spans are byte offsets that must stay right.
pub fn masked(text: &str) -> String {
    text.chars()
        .map(|c| {
            if needs_escape(c) && !matches!(c, '\t' | '\n' | '\r') {
                "?".repeat(c.len_utf8())
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// `text` with every unsafe character escaped (see [`Escaped`]).
pub fn escaped(text: &str) -> String {
    Escaped(text).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_bidi_overrides_become_visible() {
        assert_eq!(
            escaped("Title\u{1b}[4A\u{1b}[2Kapp id\u{7f}\u{85}\u{202e}gnp.exe\n"),
            "Title\\u{1b}[4A\\u{1b}[2Kapp id\\u{7f}\\u{85}\\u{202e}gnp.exe\\u{a}"
        );
        assert_eq!(escaped("Ünïcode stays — 日本語"), "Ünïcode stays — 日本語");
        let source = "a = 1 # \u{1b}[2J\u{85}\u{202e}\r\n\tb";
        assert_eq!(masked(source), "a = 1 # ?[2J?????\r\n\tb");
        assert_eq!(masked(source).len(), source.len());
        assert_eq!(
            EscapedLines("two\tcolumns\nlines\r\u{1b}]0;x\u{7}").to_string(),
            "two\tcolumns\nlines\\u{d}\\u{1b}]0;x\\u{7}"
        );
    }
}
