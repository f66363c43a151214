//! JSON output for machines that a person may still read in a terminal: serde_json escapes C0
//! control characters in strings but writes C1 controls (`U+009B` is CSI on some terminals) and
//! bidirectional overrides raw; these are written as `\uXXXX` too. The values are unchanged for
//! any JSON reader.

use serde::Serialize;
use serde_json::ser::Formatter;
use soiree_spk::display::needs_escape;

/// serde_json's compact form, but for string contents.
struct Formatted;

impl Formatter for Formatted {
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let mut rest = fragment;
        while let Some(at) = rest.find(needs_escape) {
            w.write_all(&rest.as_bytes()[..at])?;
            let c = rest[at..].chars().next().unwrap_or_default();
            // Every such character is in the Basic Multilingual Plane: one \u escape each.
            write!(w, "\\u{:04x}", c as u32)?;
            rest = &rest[at + c.len_utf8()..];
        }
        w.write_all(rest.as_bytes())
    }
}

/// `value` as one line of JSON, with every character a terminal would act on escaped.
pub fn line(value: &impl Serialize) -> String {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, Formatted);
    if value.serialize(&mut ser).is_err() {
        return String::new();
    }
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn c1_and_bidi_controls_are_escaped_and_the_value_is_unchanged() {
        let text = "a\u{1b}[2J\u{9b}2J\u{202e}b \"q\" é";
        let line = super::line(&serde_json::json!({ "t": text, "n": [1, 2] }));
        assert_eq!(line, r#"{"n":[1,2],"t":"a\u001b[2J\u009b2J\u202eb \"q\" é"}"#);
        let back: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(back["t"], text);
    }
}
