//! How a configuration is refused: every problem, each as `path: problem`, phrased so that nothing of the file's
//! content reaches a log or the terminal.
//!
//! Invariant: a problem names a key, a line and column, or a byte offset; it never quotes the text of a line it
//! could not read. TOML's and figment's own messages embed the offending source line or value (a
//! `pseudonym_secret` on a broken line, the NUL bytes of a binary file), so they are rebuilt here from the error's
//! position and kind only. `Config::validate` may quote values of keys that hold no secret (ids, addresses,
//! domains) to say what is wrong with them.

use figment::error::{Actual, Kind};
use std::fmt;

/// A configuration that could not be loaded or is invalid: at least one problem, each `path: problem`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    problems: Vec<String>,
}

impl ConfigError {
    /// One problem, already phrased `path: problem`.
    pub fn new(problem: impl Into<String>) -> ConfigError {
        ConfigError { problems: vec![problem.into()] }
    }

    pub fn problems(&self) -> &[String] {
        &self.problems
    }
}

impl fmt::Display for ConfigError {
    /// One problem: the problem. Several: a count, then one per line, so a start-up failure shows them all.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.problems.as_slice() {
            [one] => f.write_str(one),
            many => {
                write!(f, "{} problems in the configuration:", many.len())?;
                many.iter().try_for_each(|p| write!(f, "\n  {p}"))
            }
        }
    }
}

impl std::error::Error for ConfigError {}

/// Collects every problem found by a check instead of stopping at the first.
#[derive(Debug, Default)]
pub struct Problems(Vec<String>);

impl Problems {
    /// Records a problem phrased `path: problem`.
    pub fn add(&mut self, problem: impl Into<String>) {
        self.0.push(problem.into());
    }

    pub fn into_result(self) -> Result<(), ConfigError> {
        if self.0.is_empty() { Ok(()) } else { Err(ConfigError { problems: self.0 }) }
    }
}

/// Checks that `bytes` are TOML text: UTF-8, then TOML syntax. `origin` names the source in messages (the file's
/// path, or "configuration" for a string).
pub fn toml_text(bytes: Vec<u8>, origin: &str) -> Result<String, ConfigError> {
    let text = String::from_utf8(bytes).map_err(|e| {
        ConfigError::new(format!("{origin}: not valid UTF-8 text at byte {}", e.utf8_error().valid_up_to()))
    })?;
    syntax(&text, origin)?;
    Ok(text)
}

/// A TOML syntax error as `origin: line L, column C: not valid TOML`; toml's message is left out because it quotes
/// the line.
fn syntax(text: &str, origin: &str) -> Result<(), ConfigError> {
    let Err(e) = toml::from_str::<toml::Table>(text) else {
        return Ok(());
    };
    let at = e.span().map_or(0, |s| s.start).min(text.len());
    let before = text.get(..at).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Err(ConfigError::new(format!("{origin}: line {line}, column {column}: not valid TOML")))
}

/// Figment's errors (a value of the wrong type, an unknown key or variant), each as `path: problem` without the
/// value that was found: the value may be a secret typed under the wrong key.
pub fn from_figment(error: figment::Error) -> ConfigError {
    let problems = error
        .into_iter()
        .map(|e| {
            let mut path = e.path.join(".");
            let problem = match &e.kind {
                Kind::UnknownField(field, expected) => {
                    path = if path.is_empty() { field.clone() } else { format!("{path}.{field}") };
                    format!("unknown key; expected one of {}", expected.join(", "))
                }
                kind => describe(kind),
            };
            if path.is_empty() { problem } else { format!("{path}: {problem}") }
        })
        .collect();
    ConfigError { problems }
}

fn describe(kind: &Kind) -> String {
    match kind {
        Kind::InvalidType(actual, expected) => format!("expected {expected}, found {}", type_of(actual)),
        Kind::InvalidValue(actual, expected) => format!("invalid {}, expected {expected}", type_of(actual)),
        Kind::InvalidLength(len, expected) => format!("{len} elements, expected {expected}"),
        Kind::UnknownVariant(_, expected) => format!("unknown value; expected one of {}", expected.join(", ")),
        Kind::UnknownField(field, _) => format!("unknown key {field}"),
        Kind::MissingField(field) => format!("missing key {field}"),
        Kind::DuplicateField(field) => format!("key {field} is given twice"),
        Kind::ISizeOutOfRange(_) | Kind::USizeOutOfRange(_) => "number out of range".into(),
        Kind::Unsupported(actual) | Kind::UnsupportedKey(actual, _) => format!("{} is not supported", type_of(actual)),
        // Free text from a deserializer may quote the value.
        Kind::Message(_) => "invalid value".into(),
    }
}

/// The kind of a value that was found, never the value.
fn type_of(actual: &Actual) -> &'static str {
    match actual {
        Actual::Bool(_) => "a boolean",
        Actual::Unsigned(_) | Actual::Signed(_) => "an integer",
        Actual::Float(_) => "a float",
        Actual::Char(_) | Actual::Str(_) => "a string",
        Actual::Bytes(_) => "bytes",
        Actual::Seq => "an array",
        Actual::Map => "a table",
        _ => "a value of another kind",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_syntax_error_gives_line_and_column_only() {
        let e = toml_text(b"[store]\npseudonym_secret = \"hunter2-secret\n".to_vec(), "c.toml").expect_err("broken");
        assert_eq!(e.to_string(), "c.toml: line 2, column 35: not valid TOML");
    }

    #[test]
    fn binary_text_gives_the_byte_offset_only() {
        let e = toml_text(b"a = 1\n\xff\xfe\x00secret".to_vec(), "c.toml").expect_err("binary");
        assert_eq!(e.to_string(), "c.toml: not valid UTF-8 text at byte 6");
        let e = toml_text(b"a = 1\n\x00\x00secret = 2".to_vec(), "c.toml").expect_err("NUL bytes");
        assert_eq!(e.to_string(), "c.toml: line 2, column 1: not valid TOML");
    }

    #[test]
    fn several_problems_are_listed_one_per_line() {
        let mut p = Problems::default();
        p.add("a: x");
        p.add("b: y");
        assert_eq!(p.into_result().expect_err("two").to_string(), "2 problems in the configuration:\n  a: x\n  b: y");
        assert_eq!(Problems::default().into_result(), Ok(()));
    }
}
