//! What can go wrong in a command, its exit code, and how it is printed: one line, then the
//! cause chain.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use confidential_ledger::ErrorKind;

/// A failed command.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad arguments or unusable input.
    #[error("{0}")]
    Usage(String),
    /// A file could not be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A file could not be written.
    #[error("cannot write {}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Standard output or error is gone (a closed pipe).
    #[error("cannot write the output")]
    Output(#[source] std::io::Error),
    /// A call to the ledger failed.
    #[error("{context}")]
    Ledger {
        /// What was being done.
        context: String,
        /// The library's error.
        #[source]
        source: confidential_ledger::Error,
    },
    /// No credential could be made.
    #[error("{0}")]
    Credential(
        String,
        #[source] Option<Box<dyn std::error::Error + Send + Sync>>,
    ),
    /// The embedded sandbox failed.
    #[error("the sandbox failed")]
    Sandbox(#[source] confidential_ledger_sandbox::SandboxError),
    /// Something did not verify.
    #[error("{0}")]
    Verification(String),
    /// Ctrl-C.
    #[error("interrupted{0}")]
    Interrupted(String),
}

impl CliError {
    /// A ledger call that failed while doing `context`.
    pub fn ledger(context: impl Into<String>) -> impl FnOnce(confidential_ledger::Error) -> Self {
        let context = context.into();
        move |source| CliError::Ledger { context, source }
    }

    /// Reading `path` failed.
    pub fn read(path: &Path) -> impl FnOnce(std::io::Error) -> Self + '_ {
        move |source| CliError::Read {
            path: path.to_path_buf(),
            source,
        }
    }

    /// Writing `path` failed.
    pub fn write(path: &Path) -> impl FnOnce(std::io::Error) -> Self + '_ {
        move |source| CliError::Write {
            path: path.to_path_buf(),
            source,
        }
    }

    /// The process exit code (documented in `--help`, see [`crate::args::EXIT_CODES`]).
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) | CliError::Read { .. } => 2,
            CliError::Verification(_) => 3,
            CliError::Credential(..) => 4,
            CliError::Interrupted(_) => 130,
            CliError::Ledger { source, .. } => match source.kind() {
                ErrorKind::InvalidReceipt => 3,
                ErrorKind::Unauthorized | ErrorKind::Forbidden { .. } | ErrorKind::Credential => 4,
                ErrorKind::InvalidInput => 2,
                _ => 1,
            },
            CliError::Write { .. } | CliError::Output(_) | CliError::Sandbox(_) => 1,
        }
    }
}

/// Prints `error` as `error: <line>` and one `  caused by: <line>` per source, on stderr, and
/// returns its exit code.
pub fn report(error: &CliError) -> ExitCode {
    // The reader of stdout went away (`cledger list | head`): what it wanted was printed, and
    // there is no one left to tell, as with any other filter in a pipeline.
    if let CliError::Output(e) = error
        && e.kind() == std::io::ErrorKind::BrokenPipe
    {
        return ExitCode::SUCCESS;
    }
    let mut text = format!("error: {error}");
    let mut source = std::error::Error::source(error);
    let mut depth = 0;
    while let Some(cause) = source {
        depth += 1;
        if depth > 16 {
            break;
        }
        text.push_str(&format!("\n  caused by: {cause}"));
        source = cause.source();
    }
    eprintln!("{text}");
    ExitCode::from(error.exit_code())
}

/// Result of a command.
pub type CliResult<T = ()> = Result<T, CliError>;
