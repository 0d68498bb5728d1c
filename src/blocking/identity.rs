//! The blocking [`IdentityServiceClient`].

use std::fmt;

use reqwest::Url;

use super::runtime::Runtime;
use crate::identity::{GetLedgerIdentityOptions, IdentityRoots};
use crate::{ClientOptions, Error, LedgerIdentity};

/// A blocking client of the identity service: the blocking form of
/// [`crate::IdentityServiceClient`], with its own runtime thread.
///
/// # Examples
///
/// ```no_run
/// use confidential_ledger::identity::DEFAULT_IDENTITY_ENDPOINT;
/// use confidential_ledger::blocking::IdentityServiceClient;
///
/// # fn run() -> Result<(), confidential_ledger::Error> {
/// let identity = IdentityServiceClient::new(DEFAULT_IDENTITY_ENDPOINT, None)?;
/// let ledger = identity.get_ledger_identity("my-ledger", None)?;
/// println!("pin {}", ledger.pinned_certificate()?.fingerprint());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct IdentityServiceClient {
    inner: crate::IdentityServiceClient,
    runtime: Runtime,
}

impl fmt::Debug for IdentityServiceClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("blocking::IdentityServiceClient")
            .field(&self.inner)
            .finish()
    }
}

impl IdentityServiceClient {
    /// A client of the identity service at `endpoint`; see
    /// [`crate::IdentityServiceClient::new`].
    ///
    /// # Errors
    ///
    /// Those of [`crate::IdentityServiceClient::new`];
    /// [`Transport`](crate::ErrorKind::Transport) when the runtime thread cannot be started.
    ///
    /// # Panics
    ///
    /// Inside an async execution context; see [the module documentation](super#async-contexts).
    pub fn new(endpoint: impl Into<String>, options: Option<ClientOptions>) -> Result<Self, Error> {
        let runtime = Runtime::start()?;
        let endpoint: String = endpoint.into();
        let inner = runtime
            .block_on(async move { crate::IdentityServiceClient::new(endpoint, options) })?;
        Ok(Self { inner, runtime })
    }

    /// A client of the identity service at `endpoint` that trusts `roots` besides the
    /// platform's certificates; see [`crate::IdentityServiceClient::with_roots`].
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new).
    ///
    /// # Panics
    ///
    /// Inside an async execution context; see [the module documentation](super#async-contexts).
    pub fn with_roots(
        endpoint: impl Into<String>,
        options: Option<ClientOptions>,
        roots: &IdentityRoots,
    ) -> Result<Self, Error> {
        let runtime = Runtime::start()?;
        let endpoint: String = endpoint.into();
        let roots = roots.clone();
        let inner = runtime.block_on(async move {
            crate::IdentityServiceClient::with_roots(endpoint, options, &roots)
        })?;
        Ok(Self { inner, runtime })
    }

    /// The identity service's endpoint.
    pub fn endpoint(&self) -> &Url {
        self.inner.endpoint()
    }

    /// The identity of the ledger `ledger_id`; see
    /// [`crate::IdentityServiceClient::get_ledger_identity`].
    ///
    /// # Errors
    ///
    /// As for the async method.
    ///
    /// # Panics
    ///
    /// Inside an async execution context; see [the module documentation](super#async-contexts).
    pub fn get_ledger_identity(
        &self,
        ledger_id: &str,
        options: Option<GetLedgerIdentityOptions>,
    ) -> Result<LedgerIdentity, Error> {
        let (client, ledger_id) = (self.inner.clone(), ledger_id.to_owned());
        self.runtime
            .block_on(async move { client.get_ledger_identity(&ledger_id, options).await })
    }
}
