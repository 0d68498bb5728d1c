//! [`StaticTokenCredential`]: a token you already have.

use std::time::{Duration, SystemTime};

use async_trait::async_trait;

use super::{AccessToken, CredentialError, Secret, TokenCredential};

/// A credential that always returns the same token, whatever the scopes.
///
/// Meant for tokens obtained elsewhere (a CLI, a test fixture) and for the sandbox, which
/// accepts any bearer token it was configured with. `Debug` does not show the token.
///
/// # Examples
///
/// ```
/// use confidential_ledger::{StaticTokenCredential, TokenCredential, DEFAULT_SCOPE};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let credential = StaticTokenCredential::new("sandbox-token");
/// let token = credential.get_token(&[DEFAULT_SCOPE]).await?;
/// assert_eq!(token.token.expose(), "sandbox-token");
/// assert!(!format!("{credential:?}").contains("sandbox-token"));
/// # Ok::<(), confidential_ledger::CredentialError>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct StaticTokenCredential {
    token: AccessToken,
}

impl StaticTokenCredential {
    /// A credential returning `token`, reported as never expiring (its expiry is 2106-02-07, the
    /// end of unsigned 32-bit Unix time).
    pub fn new(token: impl Into<Secret>) -> Self {
        Self::with_expiry(token, never())
    }

    /// A credential returning `token`, reported as expiring at `expires_on`.
    pub fn with_expiry(token: impl Into<Secret>, expires_on: SystemTime) -> Self {
        Self {
            token: AccessToken::new(token, expires_on),
        }
    }
}

/// 2106-02-07T06:28:15Z: "never" for a token.
fn never() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(u64::from(u32::MAX))
}

#[async_trait]
impl TokenCredential for StaticTokenCredential {
    async fn get_token(&self, _scopes: &[&str]) -> Result<AccessToken, CredentialError> {
        Ok(self.token.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn returns_the_token_and_its_expiry() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(42);
        let c = StaticTokenCredential::with_expiry("t", at);
        let token = c.get_token(&["x", "y"]).await.unwrap();
        assert_eq!(token, AccessToken::new("t", at));
        let forever = StaticTokenCredential::new("t")
            .get_token(&[])
            .await
            .unwrap();
        assert_eq!(forever.expires_on, never());
        assert!(forever.expires_on > SystemTime::UNIX_EPOCH + Duration::from_secs(4_000_000_000));
    }
}
