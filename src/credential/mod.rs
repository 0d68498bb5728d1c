//! Credentials: how the client proves who it is to the ledger.
//!
//! The ledger accepts two kinds of principals:
//!
//! - **Entra ID principals**, with a bearer token for the scope [`DEFAULT_SCOPE`]. Tokens come
//!   from a [`TokenCredential`]: any `azure_core` credential as an
//!   `Arc<dyn azure_core::credentials::TokenCredential>` (every `azure_identity` credential:
//!   `DeveloperToolsCredential`, `ManagedIdentityCredential`, ...), [`StaticTokenCredential`]
//!   for a token you already have (tests, the sandbox), or your own implementation. Wrap a credential that does not
//!   cache in [`CachedTokenCredential`] to reuse tokens until shortly before they expire.
//! - **Certificate principals**, with mutual TLS and no bearer token: [`CertificateCredential`]
//!   holds the client certificate and its private key.
//!
//! Secrets are kept in [`Secret`], whose `Debug` and `Display` never show the value.

mod azure;
mod cache;
mod certificate;
mod secret;
mod static_token;

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

#[allow(deprecated)]
pub use azure::AzureCredential;
pub use cache::{CachedTokenCredential, DEFAULT_REFRESH_MARGIN, DEFAULT_REFRESH_TIMEOUT};
pub use certificate::{CertificateCredential, CertificateCredentialError};
pub use secret::Secret;
pub use static_token::StaticTokenCredential;

/// Re-exported so that [`TokenCredential`] can be implemented without adding the dependency.
pub use async_trait::async_trait;

/// The OAuth scope of Azure Confidential Ledger data-plane tokens.
pub const DEFAULT_SCOPE: &str = "https://confidential-ledger.azure.com/.default";

/// A bearer token and the time it stops being valid.
///
/// `Debug` shows the expiry but not the token.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use confidential_ledger::AccessToken;
///
/// let token = AccessToken::new("eyJ0eXAi...", SystemTime::now() + Duration::from_secs(3600));
/// assert!(!format!("{token:?}").contains("eyJ0eXAi"));
/// assert_eq!(token.token.expose(), "eyJ0eXAi...");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessToken {
    /// The token, sent as `Authorization: Bearer <token>`.
    pub token: Secret,
    /// When the token expires.
    pub expires_on: SystemTime,
}

impl AccessToken {
    /// A token valid until `expires_on`.
    pub fn new(token: impl Into<Secret>, expires_on: SystemTime) -> Self {
        Self {
            token: token.into(),
            expires_on,
        }
    }
}

/// A source of bearer tokens: what [`ClientBuilder::credential`](crate::ClientBuilder::credential)
/// takes.
///
/// Every `azure_core` credential already is one: `Arc<dyn
/// azure_core::credentials::TokenCredential>` (what `azure_identity` constructors return)
/// implements this trait, so Azure SDK credentials are passed as they are. This trait stays
/// beside `azure_core`'s because it is the one the client's pipeline and
/// [`CachedTokenCredential`] work with: its tokens are [`Secret`]s (zeroed on drop, never
/// shown by `Debug`) with a `SystemTime` expiry, and its [`CredentialError`] is cloneable (one
/// failed refresh reported to every waiting caller) and tells a timeout apart, which the client
/// reports as [`Timeout`](crate::ErrorKind::Timeout). Implement it for a token source of your
/// own that is not an `azure_core` credential (a fixed token: [`StaticTokenCredential`]).
///
/// Object safe: the client holds an `Arc<dyn TokenCredential>`. Implementations are called for
/// every request unless wrapped in a [`CachedTokenCredential`]; they should not cache errors.
///
/// # Examples
///
/// A credential that reads a token from somewhere of your own:
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use confidential_ledger::credential::async_trait;
/// use confidential_ledger::{AccessToken, CredentialError, TokenCredential, DEFAULT_SCOPE};
///
/// #[derive(Debug)]
/// struct FromEnvironment;
///
/// #[async_trait]
/// impl TokenCredential for FromEnvironment {
///     async fn get_token(&self, _scopes: &[&str]) -> Result<AccessToken, CredentialError> {
///         let token = std::env::var("LEDGER_TOKEN")
///             .map_err(|e| CredentialError::with_source("LEDGER_TOKEN is not set", e))?;
///         Ok(AccessToken::new(token, SystemTime::now() + Duration::from_secs(300)))
///     }
/// }
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let credential: Box<dyn TokenCredential> = Box::new(FromEnvironment);
/// # if std::env::var_os("LEDGER_TOKEN").is_none() {
/// let err = credential.get_token(&[DEFAULT_SCOPE]).await.unwrap_err();
/// assert_eq!(err.to_string(), "LEDGER_TOKEN is not set");
/// # }
/// # });
/// ```
#[async_trait]
pub trait TokenCredential: Send + Sync + fmt::Debug {
    /// A token valid for `scopes` (for this service: `[DEFAULT_SCOPE]` unless configured
    /// otherwise).
    ///
    /// # Errors
    ///
    /// A [`CredentialError`] when no token can be obtained.
    async fn get_token(&self, scopes: &[&str]) -> Result<AccessToken, CredentialError>;
}

#[async_trait]
impl<T: TokenCredential + ?Sized> TokenCredential for Arc<T> {
    async fn get_token(&self, scopes: &[&str]) -> Result<AccessToken, CredentialError> {
        (**self).get_token(scopes).await
    }
}

#[async_trait]
impl<T: TokenCredential + ?Sized> TokenCredential for Box<T> {
    async fn get_token(&self, scopes: &[&str]) -> Result<AccessToken, CredentialError> {
        (**self).get_token(scopes).await
    }
}

/// A token could not be obtained.
///
/// Cloneable so that one failed token request can be reported to every caller that was waiting
/// for it (see [`CachedTokenCredential`]); the cause is kept as the error's
/// [`source`](StdError::source).
///
/// # Examples
///
/// ```
/// use std::error::Error;
/// use confidential_ledger::CredentialError;
///
/// let cause = std::io::Error::other("identity endpoint unreachable");
/// let err = CredentialError::with_source("cannot get a token for the ledger", cause);
/// assert_eq!(err.to_string(), "cannot get a token for the ledger");
/// assert_eq!(err.source().unwrap().to_string(), "identity endpoint unreachable");
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct CredentialError {
    message: String,
    #[source]
    source: Option<Arc<dyn StdError + Send + Sync>>,
    timed_out: bool,
}

impl CredentialError {
    /// An error with a message and no underlying cause.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            source: None,
            timed_out: false,
        }
    }

    /// A token request that did not finish in time; the client reports it as
    /// [`Timeout`](crate::ErrorKind::Timeout).
    ///
    /// # Examples
    ///
    /// ```
    /// use confidential_ledger::{CredentialError, Error, ErrorKind};
    ///
    /// let err = CredentialError::timed_out("the token request took longer than 30s");
    /// assert!(err.is_timeout());
    /// assert_eq!(Error::from(err).kind(), &ErrorKind::Timeout);
    /// ```
    pub fn timed_out(message: impl Into<String>) -> Self {
        Self {
            timed_out: true,
            ..Self::new(message)
        }
    }

    /// True for an error made with [`timed_out`](Self::timed_out).
    pub fn is_timeout(&self) -> bool {
        self.timed_out
    }

    /// An error with a message and the error that caused it.
    pub fn with_source(
        message: impl Into<String>,
        source: impl Into<Box<dyn StdError + Send + Sync>>,
    ) -> Self {
        Self {
            message: message.into(),
            source: Some(Arc::from(source.into())),
            timed_out: false,
        }
    }

    /// The message, without the cause.
    pub fn message(&self) -> &str {
        &self.message
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Fixed;

    #[async_trait]
    impl TokenCredential for Fixed {
        async fn get_token(&self, scopes: &[&str]) -> Result<AccessToken, CredentialError> {
            Ok(AccessToken::new(scopes.join(" "), SystemTime::UNIX_EPOCH))
        }
    }

    #[tokio::test]
    async fn trait_objects_and_smart_pointers_forward() {
        let arc: Arc<dyn TokenCredential> = Arc::new(Fixed);
        let boxed: Box<dyn TokenCredential> = Box::new(Fixed);
        let arc_of_box = Arc::new(boxed);
        assert_eq!(
            arc.get_token(&["a", "b"]).await.unwrap().token.expose(),
            "a b"
        );
        assert_eq!(
            arc_of_box
                .get_token(&[DEFAULT_SCOPE])
                .await
                .unwrap()
                .token
                .expose(),
            DEFAULT_SCOPE
        );
    }

    #[test]
    fn credential_error_keeps_its_cause_through_clones() {
        let err = CredentialError::with_source("outer", std::io::Error::other("inner"));
        let copy = err.clone();
        assert_eq!(copy.message(), "outer");
        assert_eq!(
            copy.source().map(ToString::to_string).as_deref(),
            Some("inner")
        );
        assert!(CredentialError::new("alone").source().is_none());
    }
}
