//! `azure_core` credentials as this crate's [`TokenCredential`]: an
//! `Arc<dyn azure_core::credentials::TokenCredential>` (what every `azure_identity` credential
//! is) is accepted as it is by [`ClientBuilder::credential`](crate::ClientBuilder::credential);
//! [`AzureCredential`], the wrapper once needed for it, is deprecated.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use azure_core::credentials::TokenCredential as AzureTokenCredential;
use azure_core::time::OffsetDateTime;

use super::{AccessToken, CredentialError, TokenCredential};

/// Every `azure_core` credential is a [`TokenCredential`], so that an
/// `Arc<dyn azure_core::credentials::TokenCredential>` can be passed to
/// [`ClientBuilder::credential`](crate::ClientBuilder::credential) as it is. `azure_identity`
/// credentials cache their tokens themselves; errors keep the `azure_core` error as their
/// [`source`](std::error::Error::source).
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use confidential_ledger::{TokenCredential, DEFAULT_SCOPE};
///
/// // `entra` is any azure_core credential, for example
/// // `azure_identity::DeveloperToolsCredential::new(None)?`.
/// async fn ledger_token(
///     entra: Arc<dyn azure_core::credentials::TokenCredential>,
/// ) -> Result<(), confidential_ledger::CredentialError> {
///     let token = entra.get_token(&[DEFAULT_SCOPE]).await?;
///     println!("token valid until {:?}", token.expires_on);
///     Ok(())
/// }
/// ```
#[async_trait]
impl TokenCredential for dyn AzureTokenCredential {
    async fn get_token(&self, scopes: &[&str]) -> Result<AccessToken, CredentialError> {
        azure_token(self, scopes).await
    }
}

/// A token from an `azure_core` credential, converted.
async fn azure_token(
    credential: &dyn AzureTokenCredential,
    scopes: &[&str],
) -> Result<AccessToken, CredentialError> {
    let token = AzureTokenCredential::get_token(credential, scopes, None)
        .await
        .map_err(|e| {
            CredentialError::with_source("the Azure credential could not get a token", e)
        })?;
    Ok(AccessToken::new(
        token.token.secret(),
        to_system_time(token.expires_on),
    ))
}

/// Uses any [`azure_core::credentials::TokenCredential`] as a [`TokenCredential`].
///
/// Deprecated: `azure_core` credentials are [`TokenCredential`]s themselves, so an
/// `Arc<dyn azure_core::credentials::TokenCredential>` goes to
/// [`ClientBuilder::credential`](crate::ClientBuilder::credential) without a wrapper. `Debug`
/// shows nothing of the wrapped credential.
///
/// # Examples
///
/// ```
/// # #![allow(deprecated)]
/// use std::sync::Arc;
/// use confidential_ledger::{AzureCredential, ConfidentialLedgerClient};
///
/// fn builder(entra: Arc<dyn azure_core::credentials::TokenCredential>) {
///     // Before: .credential(AzureCredential::new(entra)); now: .credential(entra).
///     let builder = ConfidentialLedgerClient::builder("https://my-ledger.confidential-ledger.azure.com")
///         .credential(AzureCredential::new(entra));
///     # let _ = builder;
/// }
/// ```
#[deprecated(
    since = "0.1.0",
    note = "pass the Arc<dyn azure_core::credentials::TokenCredential> to ClientBuilder::credential directly"
)]
#[derive(Clone)]
pub struct AzureCredential {
    inner: Arc<dyn AzureTokenCredential>,
}

#[allow(deprecated)]
impl AzureCredential {
    /// Wraps an `azure_core` credential (`azure_identity` constructors return them in an
    /// `Arc`).
    pub fn new(credential: Arc<dyn AzureTokenCredential>) -> Self {
        Self { inner: credential }
    }
}

#[allow(deprecated)]
impl fmt::Debug for AzureCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The wrapped credential's own `Debug` is not ours to trust with secrets.
        f.debug_struct("AzureCredential").finish_non_exhaustive()
    }
}

/// The same instant as a `SystemTime`; out-of-range times (beyond what the platform can
/// represent) become the Unix epoch, i.e. an expired token.
fn to_system_time(at: OffsetDateTime) -> SystemTime {
    let seconds = at.unix_timestamp();
    let whole = if seconds >= 0 {
        SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(seconds.unsigned_abs()))
    } else {
        SystemTime::UNIX_EPOCH.checked_sub(Duration::from_secs(seconds.unsigned_abs()))
    };
    whole
        .and_then(|t| t.checked_add(Duration::from_nanos(u64::from(at.nanosecond()))))
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

#[allow(deprecated)]
#[async_trait]
impl TokenCredential for AzureCredential {
    async fn get_token(&self, scopes: &[&str]) -> Result<AccessToken, CredentialError> {
        azure_token(self.inner.as_ref(), scopes).await
    }
}

#[cfg(test)]
#[allow(deprecated)]
mod tests {
    use std::error::Error as _;

    use azure_core::credentials::{AccessToken as AzureToken, Secret, TokenRequestOptions};
    use azure_core::error::{Error as AzureError, ErrorKind};

    use super::*;

    #[derive(Debug)]
    struct Fake(Option<&'static str>);

    #[async_trait]
    impl AzureTokenCredential for Fake {
        async fn get_token(
            &self,
            scopes: &[&str],
            _options: Option<TokenRequestOptions<'_>>,
        ) -> azure_core::Result<AzureToken> {
            assert_eq!(scopes, [crate::DEFAULT_SCOPE]);
            match self.0 {
                Some(token) => Ok(AzureToken::new(
                    Secret::new(token),
                    OffsetDateTime::from_unix_timestamp(2_000_000_000).unwrap(),
                )),
                None => Err(AzureError::with_message(
                    ErrorKind::Credential,
                    "no account signed in",
                )),
            }
        }
    }

    #[tokio::test]
    async fn converts_the_token_and_its_expiry() {
        let credential = AzureCredential::new(Arc::new(Fake(Some("aad-token"))));
        let token = credential.get_token(&[crate::DEFAULT_SCOPE]).await.unwrap();
        assert_eq!(token.token.expose(), "aad-token");
        assert_eq!(
            token.expires_on,
            SystemTime::UNIX_EPOCH + Duration::from_secs(2_000_000_000)
        );
        assert!(!format!("{credential:?}").contains("aad-token"));
    }

    #[tokio::test]
    async fn an_arc_dyn_azure_credential_is_a_token_credential() {
        let entra: Arc<dyn AzureTokenCredential> = Arc::new(Fake(Some("aad-token")));
        let token = TokenCredential::get_token(&entra, &[crate::DEFAULT_SCOPE])
            .await
            .unwrap();
        assert_eq!(token.token.expose(), "aad-token");
        assert_eq!(
            token.expires_on,
            SystemTime::UNIX_EPOCH + Duration::from_secs(2_000_000_000)
        );
        let failing: Arc<dyn AzureTokenCredential> = Arc::new(Fake(None));
        let err = TokenCredential::get_token(&failing, &[crate::DEFAULT_SCOPE])
            .await
            .unwrap_err();
        assert!(
            err.source()
                .unwrap()
                .to_string()
                .contains("no account signed in"),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn keeps_the_azure_error_as_the_source() {
        let credential = AzureCredential::new(Arc::new(Fake(None)));
        let err = credential
            .get_token(&[crate::DEFAULT_SCOPE])
            .await
            .unwrap_err();
        assert_eq!(err.message(), "the Azure credential could not get a token");
        let source = err.source().unwrap().to_string();
        assert!(source.contains("no account signed in"), "{source}");
    }

    #[test]
    fn converts_times_before_and_after_the_epoch() {
        let at = OffsetDateTime::from_unix_timestamp_nanos(1_500_000_000_250_000_000).unwrap();
        assert_eq!(
            to_system_time(at),
            SystemTime::UNIX_EPOCH + Duration::from_nanos(1_500_000_000_250_000_000)
        );
        let before = OffsetDateTime::from_unix_timestamp(-10).unwrap();
        assert_eq!(
            to_system_time(before),
            SystemTime::UNIX_EPOCH - Duration::from_secs(10)
        );
    }
}
