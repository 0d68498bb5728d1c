//! The blocking [`ClientBuilder`].

use std::path::PathBuf;

use super::client::ConfidentialLedgerClient;
use super::runtime::Runtime;
use crate::tls::PinnedCertificate;
use crate::{CertificateCredential, ClientOptions, Error, TokenCredential};

/// Builds a blocking [`ConfidentialLedgerClient`]: the same settings, with the same
/// [defaults](crate::ClientBuilder#defaults), as the async [`crate::ClientBuilder`], which it
/// wraps.
///
/// # Examples
///
/// ```no_run
/// use confidential_ledger::CertificateCredential;
/// use confidential_ledger::blocking::ConfidentialLedgerClient;
///
/// # fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let client = ConfidentialLedgerClient::builder("https://my-ledger.confidential-ledger.azure.com")
///     .certificate_credential(CertificateCredential::from_pem_files("user.pem", "user.key")?)
///     .build()?;
/// # Ok(()) }
/// ```
#[must_use = "a builder does nothing until built"]
#[derive(Clone, Debug)]
pub struct ClientBuilder {
    inner: crate::ClientBuilder,
}

/// The blocking form of an async builder, with its settings.
///
/// # Examples
///
/// ```
/// use confidential_ledger::{ClientBuilder, blocking};
///
/// let settings = ClientBuilder::new("https://my-ledger.confidential-ledger.azure.com").ledger_id("my-ledger");
/// let builder = blocking::ClientBuilder::from(settings);
/// # let _ = builder;
/// ```
impl From<crate::ClientBuilder> for ClientBuilder {
    fn from(inner: crate::ClientBuilder) -> Self {
        Self { inner }
    }
}

impl ClientBuilder {
    /// A builder for the ledger at `endpoint`; see [`crate::ClientBuilder::new`].
    pub fn new(endpoint: impl Into<String>) -> Self {
        Self {
            inner: crate::ClientBuilder::new(endpoint),
        }
    }

    /// Authenticates with bearer tokens from `credential` (an `Arc<dyn
    /// azure_core::credentials::TokenCredential>` as it is, or any [`TokenCredential`]); see
    /// [`crate::ClientBuilder::credential`].
    pub fn credential(self, credential: impl TokenCredential + 'static) -> Self {
        Self {
            inner: self.inner.credential(credential),
        }
    }

    /// Builds a client that sends no credential; see [`crate::ClientBuilder::anonymous`].
    pub fn anonymous(self) -> Self {
        Self {
            inner: self.inner.anonymous(),
        }
    }

    /// Authenticates with a client certificate; see
    /// [`crate::ClientBuilder::certificate_credential`].
    pub fn certificate_credential(self, credential: CertificateCredential) -> Self {
        Self {
            inner: self.inner.certificate_credential(credential),
        }
    }

    /// Fetches the service certificate from the identity service at `endpoint`; see
    /// [`crate::ClientBuilder::identity_endpoint`].
    pub fn identity_endpoint(self, endpoint: impl Into<String>) -> Self {
        Self {
            inner: self.inner.identity_endpoint(endpoint),
        }
    }

    /// Trusts the certificates in `pem` for the identity service only; see
    /// [`crate::ClientBuilder::identity_root_certificate_pem`].
    pub fn identity_root_certificate_pem(self, pem: impl AsRef<[u8]>) -> Self {
        Self {
            inner: self.inner.identity_root_certificate_pem(pem),
        }
    }

    /// The ledger id to ask the identity service about; see
    /// [`crate::ClientBuilder::ledger_id`].
    pub fn ledger_id(self, ledger_id: impl Into<String>) -> Self {
        Self {
            inner: self.inner.ledger_id(ledger_id),
        }
    }

    /// Pins this service certificate (PEM) instead of fetching it; see
    /// [`crate::ClientBuilder::service_certificate_pem`].
    pub fn service_certificate_pem(self, pem: impl AsRef<[u8]>) -> Self {
        Self {
            inner: self.inner.service_certificate_pem(pem),
        }
    }

    /// Pins the service certificate in this PEM file instead of fetching it; see
    /// [`crate::ClientBuilder::service_certificate_file`].
    pub fn service_certificate_file(self, path: impl Into<PathBuf>) -> Self {
        Self {
            inner: self.inner.service_certificate_file(path),
        }
    }

    /// Pins this service certificate instead of fetching it; see
    /// [`crate::ClientBuilder::service_certificate`].
    pub fn service_certificate(self, certificate: PinnedCertificate) -> Self {
        Self {
            inner: self.inner.service_certificate(certificate),
        }
    }

    /// The client's options.
    pub fn options(self, options: ClientOptions) -> Self {
        Self {
            inner: self.inner.options(options),
        }
    }

    /// Starts the client's runtime thread and builds the async client on it (fetching the
    /// service certificate unless given); see [`crate::ClientBuilder::build`].
    ///
    /// # Errors
    ///
    /// Those of [`crate::ClientBuilder::build`];
    /// [`Transport`](crate::ErrorKind::Transport) when the runtime thread cannot be started.
    ///
    /// # Panics
    ///
    /// Inside an async execution context; see [the module documentation](super#async-contexts).
    pub fn build(self) -> Result<ConfidentialLedgerClient, Error> {
        let runtime = Runtime::start()?;
        let inner = runtime.block_on(self.inner.build())?;
        Ok(ConfidentialLedgerClient::from_parts(inner, runtime))
    }
}
