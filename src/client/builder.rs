//! [`ClientBuilder`]: endpoint, credential, where the service certificate comes from, options.

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use reqwest::Url;

use super::pinning::{PinnedConnections, ledger_http};
use super::{ConfidentialLedgerClient, Inner};
use crate::http_client::{base_url, parse_endpoint};
use crate::identity::DEFAULT_IDENTITY_ENDPOINT;
use crate::identity::IdentityRoots;
use crate::pipeline::Pipeline;
use crate::tls::{PinnedCertificate, PinnedCertificateError};
use crate::validate;
use crate::{CertificateCredential, ClientOptions, Error, IdentityServiceClient, TokenCredential};

/// How the client proves who it is.
#[derive(Clone)]
enum Credential {
    Token(Arc<dyn TokenCredential>),
    Certificate(CertificateCredential),
}

/// Where the service certificate to pin comes from.
#[derive(Clone)]
enum CertificateSource {
    /// The identity service at this endpoint.
    IdentityService(String),
    Pem(Vec<u8>),
    File(PathBuf),
    Pinned(PinnedCertificate),
}

/// Builds a [`ConfidentialLedgerClient`].
///
/// # Defaults
///
/// - **Service certificate**: fetched from the identity service
///   ([`DEFAULT_IDENTITY_ENDPOINT`], see
///   [`identity_endpoint`](Self::identity_endpoint)) for the ledger id taken from the
///   endpoint's first host label (`my-ledger` for
///   `https://my-ledger.confidential-ledger.azure.com`; see [`ledger_id`](Self::ledger_id)),
///   and pinned as the only trust anchor. It is fetched again when it no longer matches.
/// - **Credential**: none (anonymous requests, which ledgers refuse); set a token credential
///   with [`credential`](Self::credential) or a client certificate with
///   [`certificate_credential`](Self::certificate_credential).
/// - **Options**: [`ClientOptions::default`].
///
/// # Examples
///
/// With an Entra ID credential: any `azure_core` credential (every `azure_identity`
/// credential) as an `Arc<dyn TokenCredential>`:
///
/// ```no_run
/// use std::sync::Arc;
/// use azure_core::credentials::TokenCredential;
/// use confidential_ledger::{ClientOptions, ConfidentialLedgerClient};
///
/// # async fn run(credential: Arc<dyn TokenCredential>) -> Result<(), confidential_ledger::Error> {
/// // let credential: Arc<dyn TokenCredential> = azure_identity::DeveloperToolsCredential::new(None)?;
/// let client = ConfidentialLedgerClient::builder("https://my-ledger.confidential-ledger.azure.com")
///     .credential(credential)
///     .options(ClientOptions {
///         application_id: Some("inventory".into()),
///         ..Default::default()
///     })
///     .build()
///     .await?;
/// # Ok(()) }
/// ```
///
/// With a client certificate and a service certificate saved earlier:
///
/// ```no_run
/// use confidential_ledger::{CertificateCredential, ConfidentialLedgerClient};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let client = ConfidentialLedgerClient::builder("https://my-ledger.confidential-ledger.azure.com")
///     .certificate_credential(CertificateCredential::from_pem_files("user.pem", "user.key")?)
///     .service_certificate_file("ledger_certificate.pem")
///     .build()
///     .await?;
/// # Ok(()) }
/// ```
#[must_use = "a builder does nothing until built"]
#[derive(Clone)]
pub struct ClientBuilder {
    endpoint: String,
    credential: Option<Credential>,
    certificate: CertificateSource,
    ledger_id: Option<String>,
    identity_roots: Vec<Vec<u8>>,
    options: ClientOptions,
    anonymous: bool,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let credential = match &self.credential {
            None if self.anonymous => "anonymous".to_owned(),
            None => "none".to_owned(),
            // A credential's own `Debug` is not ours to trust with secrets.
            Some(Credential::Token(_)) => "token credential".to_owned(),
            Some(Credential::Certificate(cert)) => format!("certificate {}", cert.user_id()),
        };
        let certificate = match &self.certificate {
            CertificateSource::IdentityService(endpoint) => format!("identity service {endpoint}"),
            CertificateSource::Pem(_) => "PEM".to_owned(),
            CertificateSource::File(path) => format!("file {}", path.display()),
            CertificateSource::Pinned(pinned) => format!("{pinned:?}"),
        };
        f.debug_struct("ClientBuilder")
            .field("endpoint", &self.endpoint)
            .field("credential", &credential)
            .field("service_certificate", &certificate)
            .field("ledger_id", &self.ledger_id)
            .field("identity_roots", &self.identity_roots.len())
            .field("options", &self.options)
            .finish()
    }
}

impl ClientBuilder {
    /// A builder for the ledger at `endpoint`, with the [defaults](Self#defaults).
    pub fn new(endpoint: impl Into<String>) -> Self {
        Self {
            endpoint: endpoint.into(),
            credential: None,
            certificate: CertificateSource::IdentityService(DEFAULT_IDENTITY_ENDPOINT.to_owned()),
            ledger_id: None,
            identity_roots: Vec::new(),
            options: ClientOptions::default(),
            anonymous: false,
        }
    }

    /// Authenticates with bearer tokens from `credential` (an Entra ID principal; the scope
    /// is [`ClientOptions::credential_scopes`]). Replaces a certificate credential.
    ///
    /// Takes what every `azure_identity` credential is, an `Arc<dyn
    /// azure_core::credentials::TokenCredential>`, as it is, as well as any [`TokenCredential`]
    /// of this crate ([`StaticTokenCredential`](crate::StaticTokenCredential),
    /// [`CachedTokenCredential`](crate::CachedTokenCredential), your own).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use std::sync::Arc;
    /// use confidential_ledger::ConfidentialLedgerClient;
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let credential: Arc<dyn azure_core::credentials::TokenCredential> =
    ///     azure_identity::DeveloperToolsCredential::new(None)?;
    /// let client = ConfidentialLedgerClient::builder("https://my-ledger.confidential-ledger.azure.com")
    ///     .credential(credential)
    ///     .build()
    ///     .await?;
    /// # let _ = client;
    /// # Ok(()) }
    /// ```
    pub fn credential(mut self, credential: impl TokenCredential + 'static) -> Self {
        self.credential = Some(Credential::Token(Arc::new(credential)));
        self.anonymous = false;
        self
    }

    /// Builds a client that sends no credential at all. Ledgers refuse anonymous calls to
    /// everything but a few public endpoints, so [`build`](Self::build) refuses a builder
    /// with no credential unless this was asked for. A credential set later replaces it.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use confidential_ledger::ConfidentialLedgerClient;
    ///
    /// # async fn run() -> Result<(), confidential_ledger::Error> {
    /// let client = ConfidentialLedgerClient::builder("https://my-ledger.confidential-ledger.azure.com")
    ///     .anonymous()
    ///     .build()
    ///     .await?;
    /// let quotes = client.get_enclave_quotes(None).await?;
    /// # let _ = quotes;
    /// # Ok(()) }
    /// ```
    pub fn anonymous(mut self) -> Self {
        self.credential = None;
        self.anonymous = true;
        self
    }

    /// Authenticates with a client certificate (mutual TLS; no bearer token is sent). The
    /// ledger knows this principal by [`CertificateCredential::user_id`]. Replaces a token
    /// credential.
    pub fn certificate_credential(mut self, credential: CertificateCredential) -> Self {
        self.credential = Some(Credential::Certificate(credential));
        self.anonymous = false;
        self
    }

    /// Fetches the service certificate from the identity service at `endpoint` (default
    /// [`DEFAULT_IDENTITY_ENDPOINT`]; the `identityServiceUri`
    /// of the ledger's ARM description). `http` is accepted for loopback addresses only.
    pub fn identity_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.certificate = CertificateSource::IdentityService(endpoint.into());
        self
    }

    /// Trusts the certificates in `pem` (one or more PEM `CERTIFICATE` sections), besides the
    /// platform's, for the identity service only: a local identity service's private CA,
    /// such as the sandbox's `identity_ca.pem`. The ledger's certificate stays pinned; these
    /// roots never apply to it. May be called more than once.
    ///
    /// A malformed `pem` is reported by [`build`](Self::build) as
    /// [`InvalidInput`](crate::ErrorKind::InvalidInput).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use confidential_ledger::ConfidentialLedgerClient;
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let client = ConfidentialLedgerClient::builder("https://localhost:8080")
    ///     .ledger_id("sandbox")
    ///     .identity_endpoint("https://127.0.0.1:8081")
    ///     .identity_root_certificate_pem(std::fs::read("sandbox-data/identity_ca.pem")?)
    ///     .build()
    ///     .await?;
    /// # let _ = client;
    /// # Ok(()) }
    /// ```
    pub fn identity_root_certificate_pem(mut self, pem: impl AsRef<[u8]>) -> Self {
        self.identity_roots.push(pem.as_ref().to_vec());
        self
    }

    /// The ledger id to ask the identity service about, when it is not the first label of
    /// the endpoint's host.
    pub fn ledger_id(mut self, ledger_id: impl Into<String>) -> Self {
        self.ledger_id = Some(ledger_id.into());
        self
    }

    /// Pins this service certificate (PEM; trailing NULs ignored) instead of fetching it. It
    /// is never replaced: if the ledger's certificate changes, calls fail with
    /// [`PinMismatch`](crate::ErrorKind::PinMismatch).
    pub fn service_certificate_pem(mut self, pem: impl AsRef<[u8]>) -> Self {
        self.certificate = CertificateSource::Pem(pem.as_ref().to_vec());
        self
    }

    /// Pins the service certificate in this PEM file (read when the client is built) instead
    /// of fetching it; see [`service_certificate_pem`](Self::service_certificate_pem).
    pub fn service_certificate_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.certificate = CertificateSource::File(path.into());
        self
    }

    /// Pins this service certificate instead of fetching it; see
    /// [`service_certificate_pem`](Self::service_certificate_pem).
    pub fn service_certificate(mut self, certificate: PinnedCertificate) -> Self {
        self.certificate = CertificateSource::Pinned(certificate);
        self
    }

    /// The client's options.
    pub fn options(mut self, options: ClientOptions) -> Self {
        self.options = options;
        self
    }

    /// Builds the client: checks the settings, gets the service certificate (from the
    /// identity service unless given) and sets up the connections.
    ///
    /// # Errors
    ///
    /// - [`Credential`](crate::ErrorKind::Credential): no credential was set and
    ///   [`anonymous`](Self::anonymous) was not asked for (checked after the endpoint and the
    ///   options, before anything is sent).
    /// - [`InvalidInput`](crate::ErrorKind::InvalidInput): the endpoint is not an `https` URL,
    ///   the ledger id cannot be derived or is malformed, a given service certificate is not
    ///   one PEM certificate, or the options are invalid.
    /// - The identity lookup's errors (transport, [`NotFound`](crate::ErrorKind::NotFound) for
    ///   an unknown ledger id, [`Decode`](crate::ErrorKind::Decode) for an unusable
    ///   certificate).
    pub async fn build(self) -> Result<ConfidentialLedgerClient, Error> {
        let options = self.options;
        let endpoint = parse_endpoint(&self.endpoint, "ledger endpoint", false)?;
        let ledger_id = match self.ledger_id {
            Some(id) => id,
            None => ledger_id_of(&endpoint)?,
        };
        validate::ledger_id(&ledger_id)?;
        validate::options(&options)?;
        if self.credential.is_none() && !self.anonymous {
            return Err(Error::new(
                crate::ErrorKind::Credential,
                "the client has no credential: give one with credential() (an Entra ID token \
                 credential) or certificate_credential(), or call anonymous() for a client that \
                 sends none",
            ));
        }

        let mut identity = None;
        let pinned = match self.certificate {
            CertificateSource::IdentityService(identity_endpoint) => {
                let url = parse_endpoint(&identity_endpoint, "identity endpoint", true)?;
                let mut roots = IdentityRoots::new();
                for pem in &self.identity_roots {
                    roots = roots.add_pem(pem)?;
                }
                let client = IdentityServiceClient::from_parts(url, &options, &roots)?;
                let pinned = client
                    .get_ledger_identity(&ledger_id, None)
                    .await?
                    .pinned_certificate()?;
                identity = Some(client);
                pinned
            }
            CertificateSource::Pem(pem) => PinnedCertificate::from_pem(pem).map_err(given)?,
            CertificateSource::File(path) => {
                PinnedCertificate::from_pem_file(path).map_err(given)?
            }
            CertificateSource::Pinned(pinned) => pinned,
        };

        let certificate = match &self.credential {
            Some(Credential::Certificate(cert)) => Some(cert.clone()),
            _ => None,
        };
        let http = ledger_http(&options, &pinned, certificate.as_ref())?;
        let mut pipeline = Pipeline::builder(endpoint.clone(), http)
            .options(options.pipeline_options())
            .scopes(options.credential_scopes.iter().cloned());
        match self.credential {
            Some(Credential::Token(token)) => pipeline = pipeline.credential(token),
            Some(Credential::Certificate(cert)) => pipeline = pipeline.principal_id(cert.user_id()),
            None => {}
        }
        let pipeline = pipeline.build()?;
        tracing::debug!(
            target: "confidential_ledger::client",
            endpoint = %endpoint,
            ledger_id = %ledger_id,
            pinned = %pinned.fingerprint(),
            "client ready"
        );
        // The commit watcher's rounds are never further apart than the polling cap.
        let options_polling_cap = options.polling.max_delay;
        let base_url = base_url(&endpoint);
        let fast_urls = super::fast_calls::FastUrls::new(&base_url, &options.api_version)?;
        Ok(ConfidentialLedgerClient {
            inner: Arc::new(Inner {
                base_url,
                fast_urls,
                endpoint,
                ledger_id,
                options,
                identity,
                certificate,
                connections: RwLock::new(Arc::new(PinnedConnections::new(0, pinned, pipeline))),
                refresh: tokio::sync::Mutex::new(()),
                watcher: super::commit_watcher::CommitWatcher::new(options_polling_cap),
            }),
        })
    }
}

/// A service certificate the caller gave that cannot be pinned.
fn given(err: PinnedCertificateError) -> Error {
    Error::invalid_input(format!(
        "the service certificate given to the client is unusable: {err}"
    ))
    .with_source(err)
}

/// The ledger id in a ledger endpoint: the first label of its host name.
fn ledger_id_of(endpoint: &Url) -> Result<String, Error> {
    match endpoint.domain() {
        Some(domain) => match domain.split('.').next() {
            Some(label) if !label.is_empty() => Ok(label.to_ascii_lowercase()),
            _ => Err(Error::invalid_input(format!(
                "cannot take a ledger id from the host of {endpoint}; give it with ledger_id()"
            ))),
        },
        None => Err(Error::invalid_input(format!(
            "the ledger endpoint {endpoint} has an IP address for a host, which names no \
             ledger; give the ledger id with ledger_id()"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ledger_ids_come_from_the_first_host_label() {
        let url = Url::parse("https://My-Ledger.confidential-ledger.azure.com").unwrap();
        assert_eq!(ledger_id_of(&url).unwrap(), "my-ledger");
        let url = Url::parse("https://localhost:8443").unwrap();
        assert_eq!(ledger_id_of(&url).unwrap(), "localhost");
        let url = Url::parse("https://127.0.0.1:8443").unwrap();
        let err = ledger_id_of(&url).unwrap_err();
        assert!(err.to_string().contains("ledger_id()"), "{err}");
    }
}
