//! Printing data: JSON (`--json`) or text, to stdout; a closed pipe is an error, never a panic.

use std::io::Write;

use serde::Serialize;

use crate::error::{CliError, CliResult};

/// Where a command prints its data.
#[derive(Clone, Copy, Debug)]
pub struct Output {
    /// `--json`.
    pub json: bool,
}

impl Output {
    /// Prints `value` as one JSON document (with `--json`) or `text()` otherwise.
    pub fn show<T: Serialize>(&self, value: &T, text: impl FnOnce() -> String) -> CliResult {
        if self.json {
            json_line(value)
        } else {
            line(&text())
        }
    }

    /// Prints one item of a list: one JSON line (with `--json`) or `text()` otherwise.
    pub fn item<T: Serialize>(&self, value: &T, text: impl FnOnce() -> String) -> CliResult {
        self.show(value, text)
    }
}

/// Prints `value` as one line of JSON.
pub fn json_line<T: Serialize>(value: &T) -> CliResult {
    let text =
        serde_json::to_string(value).map_err(|e| CliError::Output(std::io::Error::other(e)))?;
    line(&text)
}

/// Prints one line on stdout.
pub fn line(text: &str) -> CliResult {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}").map_err(CliError::Output)
}

/// Flushes stdout (before a long wait, so that streamed lines are seen).
pub fn flush() -> CliResult {
    std::io::stdout().flush().map_err(CliError::Output)
}
