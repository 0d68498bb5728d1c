//! The error type of the sandbox's library API.

use std::path::PathBuf;

/// Why the sandbox could not start, or an operation on a running sandbox failed.
///
/// # Examples
///
/// ```
/// use confidential_ledger_sandbox::SandboxError;
///
/// let err = SandboxError::Corrupt {
///     path: "ledger.log".into(),
///     offset: 4096,
///     reason: "checksum mismatch".into(),
/// };
/// assert_eq!(
///     err.to_string(),
///     "ledger file ledger.log is corrupt at byte offset 4096: checksum mismatch"
/// );
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SandboxError {
    /// A file or socket operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What the sandbox was doing.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The ledger file is damaged somewhere other than its tail; the sandbox refuses to start
    /// rather than drop acknowledged transactions.
    #[error("ledger file {} is corrupt at byte offset {offset}: {reason}", path.display())]
    Corrupt {
        /// The damaged file.
        path: PathBuf,
        /// Byte offset of the first damaged record.
        offset: u64,
        /// What is wrong there.
        reason: String,
    },
    /// Another sandbox process holds the data directory.
    #[error("data directory {} is in use by another sandbox process", path.display())]
    Locked {
        /// The data directory.
        path: PathBuf,
    },
    /// The options or the data directory's contents are not usable.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// Creating, loading or rotating certificates and keys failed.
    #[error("identity: {0}")]
    Identity(String),
    /// Setting up TLS failed.
    #[error("TLS: {0}")]
    Tls(String),
    /// The ledger file could not be written; the write was not applied (it is not in the
    /// ledger file, and will not appear after a restart). Answered `503 StorageUnavailable`.
    #[error("storage failed: {0}")]
    Storage(String),
    /// The ledger file could not be written and the failed write could not be removed
    /// durably: it may or may not appear after a restart. Answered `500`.
    #[error("storage failed, outcome unknown: {0}")]
    StorageOutcomeUnknown(String),
    /// An argument was rejected (for example an empty user id).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The sandbox is shutting down.
    #[error("the sandbox is shutting down")]
    ShuttingDown,
}

impl SandboxError {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        SandboxError::Io {
            context: context.into(),
            source,
        }
    }
}
