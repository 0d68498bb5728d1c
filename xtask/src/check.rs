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
    /// The contents differ; the first differing line (1-based) and both versions of it.
    Differs {
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
                line,
                on_disk,
                expected,
            } => {
                let show = |l: &Option<String>| {
                    l.as_deref()
                        .map_or_else(|| "<end of file>".to_string(), |s| s.trim().to_string())
                };
                write!(
                    f,
                    "{path}: differs from the converter's output at line {line}\n    in spec/:  {}\n    expected:  {}",
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
        Ok(actual) => first_difference(&actual, expected),
    };
    Some(Stale {
        path: path.to_path_buf(),
        reason,
    })
}

fn first_difference(actual: &str, expected: &str) -> StaleReason {
    // Lines with their terminators, so a missing final newline is a difference too.
    let mut a = actual.split_inclusive('\n');
    let mut e = expected.split_inclusive('\n');
    let mut line = 1;
    loop {
        match (a.next(), e.next()) {
            (Some(x), Some(y)) if x == y => line += 1,
            (None, None) => {
                // Unreachable for different texts; kept so the function is total.
                return StaleReason::Differs {
                    line,
                    on_disk: None,
                    expected: None,
                };
            }
            (x, y) => {
                return StaleReason::Differs {
                    line,
                    on_disk: x.map(|l| l.trim_end_matches('\n').to_string()),
                    expected: y.map(|l| l.trim_end_matches('\n').to_string()),
                };
            }
        }
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
                line: 2,
                on_disk: Some("  \"a\": 1".to_string()),
                expected: Some("  \"a\": 2".to_string()),
            }
        );
        let text = stale.to_string();
        assert!(text.contains("a.json") && text.contains("line 2"), "{text}");
        let shorter = compare(&path, "{\n  \"a\": 1\n}\n\n").unwrap();
        assert!(matches!(
            shorter.reason,
            StaleReason::Differs { line: 4, .. }
        ));
    }
}
