//! The proxy's error type.

use crate::plan::PlanError;

/// A proxy that cannot start or a plan that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProxyError {
    /// Unusable configuration (an upstream that is not on loopback, a malformed endpoint).
    #[error("invalid proxy configuration: {0}")]
    Config(String),
    /// An unusable fault plan.
    #[error("invalid fault plan: {0}")]
    Plan(#[from] PlanError),
    /// Certificates or keys that cannot be used for TLS.
    #[error("TLS setup failed: {0}")]
    Tls(String),
    /// A socket operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

impl ProxyError {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> ProxyError {
        ProxyError::Io {
            context: context.into(),
            source,
        }
    }
}
