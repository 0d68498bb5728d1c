//! `--check`: compare the documents the converter would write with those in `spec/`.

use std::path::{Path, PathBuf};

/// A file in `spec/` that does not match what `cargo xtask regen` would write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stale {
    /// The file.
    pub path: PathBuf,
    /// What is wrong with it.
    pub reason: StaleReason,
}

/// Why a file is stale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaleReason {
    /// The file does not exist.
    Missing,
    /// The file exists but cannot be read.
    Unreadable(String),
    /// The contents differ; the first differing line (1-based) and both versions of it, and
    /// where the JSON values first differ when both parse.
    Differs {
        /// The first JSON difference, as `<pointer>: <what>` (`None` when only formatting
        /// differs or a side is not JSON).
        json: Option<String>,
        /// First differing line number.
        line: usize,
        /// That line as it is on disk (`None` past the end of the file).
        on_disk: Option<String>,
        /// That line as it would be written (`None` past the end).
        expected: Option<String>,
    },
}

impl std::fmt::Display for Stale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = self.path.display();
        match &self.reason {
            StaleReason::Missing => write!(f, "{path}: missing"),
            StaleReason::Unreadable(e) => write!(f, "{path}: cannot read: {e}"),
            StaleReason::Differs {
                json,
                line,
                on_disk,
                expected,
            } => {
                if let Some(json) = json {
                    write!(
                        f,
                        "{path}: differs from the converter's output at {json}\n    "
                    )?;
                }
                let show = |l: &Option<String>| {
                    l.as_deref()
                        .map_or_else(|| "<end of file>".to_string(), |s| s.trim().to_string())
                };
                if json.is_none() {
                    write!(f, "{path}: differs from the converter's output\n    ")?;
                }
                write!(
                    f,
                    "first different line {line}:\n      on disk:   {}\n      expected:  {}",
                    show(on_disk),
                    show(expected)
                )
            }
        }
    }
}

/// Compare `expected` with the file at `path`; `None` when identical.
pub fn compare(path: &Path, expected: &str) -> Option<Stale> {
    let reason = match std::fs::read_to_string(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => StaleReason::Missing,
        Err(e) => StaleReason::Unreadable(e.to_string()),
        Ok(actual) if actual == expected => return None,
        Ok(actual) => {
            let (line, on_disk, wanted) = first_line_difference(&actual, expected);
            StaleReason::Differs {
                json: json_difference(&actual, expected),
                line,
                on_disk,
                expected: wanted,
            }
        }
    };
    Some(Stale {
        path: path.to_path_buf(),
        reason,
    })
}

/// The first differing line: (1-based number, on-disk line, expected line).
fn first_line_difference(actual: &str, expected: &str) -> (usize, Option<String>, Option<String>) {
    // Lines with their terminators, so a missing final newline is a difference too.
    let mut a = actual.split_inclusive('\n');
    let mut e = expected.split_inclusive('\n');
    let mut line = 1;
    loop {
        match (a.next(), e.next()) {
            (Some(x), Some(y)) if x == y => line += 1,
            (x, y) => {
                let strip = |l: &str| l.trim_end_matches('\n').to_string();
                return (line, x.map(strip), y.map(strip));
            }
        }
    }
}

/// Where two JSON texts first differ, as `<pointer>: <what>`; `None` when equal as values or
/// when one does not parse.
fn json_difference(actual: &str, expected: &str) -> Option<String> {
    let a: serde_json::Value = serde_json::from_str(actual).ok()?;
    let e: serde_json::Value = serde_json::from_str(expected).ok()?;
    value_difference(&a, &e, String::new())
}

fn value_difference(a: &serde_json::Value, e: &serde_json::Value, at: String) -> Option<String> {
    use serde_json::Value;
    let here = |at: &str| {
        if at.is_empty() {
            "/".to_string()
        } else {
            at.to_string()
        }
    };
    match (a, e) {
        (Value::Object(am), Value::Object(em)) => {
            let mut keys: Vec<&String> = am.keys().chain(em.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let child = format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"));
                match (am.get(key), em.get(key)) {
                    (Some(x), Some(y)) => {
                        if let Some(d) = value_difference(x, y, child) {
                            return Some(d);
                        }
                    }
                    (Some(_), None) => {
                        return Some(format!("{child}: not expected (in the file only)"));
                    }
                    (None, Some(_)) => return Some(format!("{child}: missing from the file")),
                    (None, None) => {}
                }
            }
            None
        }
        (Value::Array(aa), Value::Array(ea)) => {
            for (i, (x, y)) in aa.iter().zip(ea).enumerate() {
                if let Some(d) = value_difference(x, y, format!("{at}/{i}")) {
                    return Some(d);
                }
            }
            (aa.len() != ea.len()).then(|| {
                format!(
                    "{}: {} items in the file, {} expected",
                    here(&at),
                    aa.len(),
                    ea.len()
                )
            })
        }
        _ if a == e => None,
        _ => Some(format!("{}: the file has {a}, expected {e}", here(&at))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_files_are_fresh_and_others_are_named_with_the_first_difference() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.json");
        assert_eq!(compare(&path, "x\n").unwrap().reason, StaleReason::Missing);
        std::fs::write(&path, "{\n  \"a\": 1\n}\n").unwrap();
        assert!(compare(&path, "{\n  \"a\": 1\n}\n").is_none());
        let stale = compare(&path, "{\n  \"a\": 2\n}\n").unwrap();
        assert_eq!(
            stale.reason,
            StaleReason::Differs {
                json: Some("/a: the file has 1, expected 2".to_string()),
                line: 2,
                on_disk: Some("  \"a\": 1".to_string()),
                expected: Some("  \"a\": 2".to_string()),
            }
        );
        let text = stale.to_string();
        assert!(text.contains("a.json") && text.contains("line 2"), "{text}");
        assert!(text.contains("/a: the file has 1, expected 2"), "{text}");
        // Same value, different formatting: only the line is reported.
        let shorter = compare(&path, "{\n  \"a\": 1\n}\n\n").unwrap();
        assert!(matches!(
            shorter.reason,
            StaleReason::Differs {
                json: None,
                line: 4,
                ..
            }
        ));
    }

    #[test]
    fn json_differences_name_the_pointer() {
        assert_eq!(
            json_difference(r#"{"p": {"a": 1}}"#, r#"{"p": {"a": 1, "b": 2}}"#).as_deref(),
            Some("/p/b: missing from the file")
        );
        assert_eq!(
            json_difference(r#"{"x/y": [1, 2]}"#, r#"{"x/y": [1]}"#).as_deref(),
            Some("/x~1y: 2 items in the file, 1 expected")
        );
        assert_eq!(json_difference("not json", "{}"), None);
    }
}
