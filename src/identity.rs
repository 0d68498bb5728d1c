//! The identity service: where a ledger's TLS (service) certificate is published.
//!
//! A ledger's nodes present certificates issued by the ledger's own self-signed service
//! certificate, which no public CA vouches for. The identity service (public TLS) publishes
//! that certificate by ledger id; [`ConfidentialLedgerClient`](crate::ConfidentialLedgerClient)
//! fetches and pins it by default, and [`IdentityServiceClient`] does the lookup alone.

use std::fmt;

use reqwest::Url;

use crate::http_client::{
    base_url, http_builder, parse_endpoint, public_tls_with_roots, unused_tls,
};
use crate::models::misfit;
use crate::pipeline::Pipeline;
use crate::raw::HookState;
use crate::raw::identity;
use crate::tls::PinnedCertificate;
use crate::{CallOptions, ClientOptions, Error};

/// The identity service of Azure Confidential Ledger.
pub const DEFAULT_IDENTITY_ENDPOINT: &str = "https://identity.confidential-ledger.core.azure.com";

/// A client of the identity service.
///
/// It uses the same [`ClientOptions`] as the ledger client (proxy, timeouts, retries, user
/// agent, logging), and trusts the platform's certificate authorities: the identity service
/// has a publicly trusted certificate. Plain `http` endpoints are accepted for loopback
/// addresses only (local test servers such as the sandbox). No credential is sent.
///
/// Cheap to clone.
///
/// # Examples
///
/// ```no_run
/// use confidential_ledger::IdentityServiceClient;
/// use confidential_ledger::identity::DEFAULT_IDENTITY_ENDPOINT;
///
/// # async fn run() -> Result<(), confidential_ledger::Error> {
/// let identity = IdentityServiceClient::new(DEFAULT_IDENTITY_ENDPOINT, None)?;
/// let ledger = identity.get_ledger_identity("my-ledger", None).await?;
/// std::fs::write("ledger_certificate.pem", &ledger.ledger_tls_certificate).ok();
/// println!("pin {}", ledger.pinned_certificate()?.fingerprint());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct IdentityServiceClient {
    endpoint: Url,
    base_url: String,
    api_version: String,
    pipeline: Pipeline,
}

impl fmt::Debug for IdentityServiceClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityServiceClient")
            .field("endpoint", &self.endpoint.as_str())
            .field("api_version", &self.api_version)
            .finish_non_exhaustive()
    }
}

/// Extra trusted roots for the identity service only (never for the ledger, whose
/// certificate stays pinned): a local identity service's private CA, such as the sandbox's
/// `identity_ca.pem`.
///
/// # Examples
///
/// ```
/// use confidential_ledger::identity::IdentityRoots;
///
/// let roots = IdentityRoots::new();
/// assert!(roots.is_empty());
/// let err = roots.add_pem(b"not a certificate").unwrap_err();
/// assert_eq!(err.kind(), &confidential_ledger::ErrorKind::InvalidInput);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IdentityRoots {
    certificates: Vec<rustls::pki_types::CertificateDer<'static>>,
}

impl IdentityRoots {
    /// No extra roots: the platform's trusted certificates only.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds every certificate of the PEM text `pem` (one or more `CERTIFICATE` sections).
    ///
    /// # Errors
    ///
    /// [`InvalidInput`](crate::ErrorKind::InvalidInput) when `pem` holds no certificate or a
    /// malformed one.
    pub fn add_pem(mut self, pem: impl AsRef<[u8]>) -> Result<Self, Error> {
        use rustls::pki_types::pem::PemObject;
        let mut found = 0;
        for certificate in rustls::pki_types::CertificateDer::pem_slice_iter(pem.as_ref()) {
            let certificate = certificate.map_err(|e| {
                Error::invalid_input(format!("an identity-service root is not valid PEM: {e}"))
            })?;
            self.certificates.push(certificate);
            found += 1;
        }
        if found == 0 {
            return Err(Error::invalid_input(
                "the identity-service root holds no PEM certificate",
            ));
        }
        Ok(self)
    }

    /// Whether no extra root was added.
    pub fn is_empty(&self) -> bool {
        self.certificates.is_empty()
    }

    /// How many extra roots were added.
    pub fn len(&self) -> usize {
        self.certificates.len()
    }
}

/// What the identity service says about a ledger.
///
/// # Examples
///
/// ```
/// use confidential_ledger::LedgerIdentity;
///
/// # fn show(identity: &LedgerIdentity) -> Result<(), confidential_ledger::Error> {
/// let pinned = identity.pinned_certificate()?;
/// println!("{} is served under {}", identity.ledger_id, pinned.fingerprint());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LedgerIdentity {
    /// The ledger's id.
    pub ledger_id: String,
    /// The ledger's service certificate (PEM), exactly as published (it may end with NUL
    /// characters, which [`pinned_certificate`](Self::pinned_certificate) ignores).
    pub ledger_tls_certificate: String,
}

impl LedgerIdentity {
    /// The service certificate, to pin.
    ///
    /// # Errors
    ///
    /// [`Decode`](crate::ErrorKind::Decode) when the published text is not exactly one PEM
    /// certificate.
    pub fn pinned_certificate(&self) -> Result<PinnedCertificate, Error> {
        PinnedCertificate::from_pem(&self.ledger_tls_certificate).map_err(|e| {
            Error::decode(
                format!(
                    "the identity service's certificate for ledger {} is unusable: {e}",
                    self.ledger_id
                ),
                self.ledger_tls_certificate.as_bytes(),
            )
            .with_source(e)
        })
    }
}

crate::options::method_options! {
    /// Options of [`IdentityServiceClient::get_ledger_identity`].
    ///
    /// # Examples
    ///
    /// ```
    /// use confidential_ledger::identity::GetLedgerIdentityOptions;
    ///
    /// let options = GetLedgerIdentityOptions::new().logging_enable(true);
    /// # let _ = options;
    /// ```
    pub struct GetLedgerIdentityOptions {}
}

impl IdentityServiceClient {
    /// A client of the identity service at `endpoint` (usually
    /// [`DEFAULT_IDENTITY_ENDPOINT`]), with `options` (default: [`ClientOptions::default`]).
    ///
    /// # Errors
    ///
    /// [`InvalidInput`](crate::ErrorKind::InvalidInput) for an endpoint that is not an `https`
    /// URL (or `http` on a loopback address), or invalid options;
    /// [`Tls`](crate::ErrorKind::Tls) when the platform has no trusted certificates.
    pub fn new(endpoint: impl Into<String>, options: Option<ClientOptions>) -> Result<Self, Error> {
        let options = options.unwrap_or_default();
        let endpoint = parse_endpoint(&endpoint.into(), "identity endpoint", true)?;
        Self::from_parts(endpoint, &options, &IdentityRoots::default())
    }

    /// Like [`new`](Self::new), trusting the certificates of `roots` besides the platform's
    /// for this identity service (a local identity service such as the sandbox's, whose
    /// certificate a private CA issued).
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use confidential_ledger::IdentityServiceClient;
    /// use confidential_ledger::identity::IdentityRoots;
    ///
    /// # fn run() -> Result<(), confidential_ledger::Error> {
    /// let ca = std::fs::read("sandbox-data/identity_ca.pem").unwrap_or_default();
    /// let roots = IdentityRoots::new().add_pem(&ca)?;
    /// let identity = IdentityServiceClient::with_roots("https://127.0.0.1:8081", None, &roots)?;
    /// # let _ = identity;
    /// # Ok(()) }
    /// ```
    pub fn with_roots(
        endpoint: impl Into<String>,
        options: Option<ClientOptions>,
        roots: &IdentityRoots,
    ) -> Result<Self, Error> {
        let options = options.unwrap_or_default();
        let endpoint = parse_endpoint(&endpoint.into(), "identity endpoint", true)?;
        Self::from_parts(endpoint, &options, roots)
    }

    pub(crate) fn from_parts(
        endpoint: Url,
        options: &ClientOptions,
        roots: &IdentityRoots,
    ) -> Result<Self, Error> {
        let tls = if endpoint.scheme() == "https" {
            public_tls_with_roots(&roots.certificates)?
        } else {
            unused_tls()?
        };
        let pipeline = Pipeline::builder(endpoint.clone(), http_builder(options, tls)?)
            .options(options.pipeline_options())
            .build()?;
        Ok(Self {
            base_url: base_url(&endpoint),
            endpoint,
            api_version: options.identity_api_version.clone(),
            pipeline,
        })
    }

    /// The identity service's endpoint.
    pub fn endpoint(&self) -> &Url {
        &self.endpoint
    }

    /// The identity of the ledger `ledger_id` (the first label of its host name:
    /// `my-ledger` for `https://my-ledger.confidential-ledger.azure.com`).
    ///
    /// # Errors
    ///
    /// [`InvalidInput`](crate::ErrorKind::InvalidInput) for an empty or malformed ledger id
    /// (nothing is sent); [`NotFound`](crate::ErrorKind::NotFound) when the service knows no
    /// such ledger; [`Decode`](crate::ErrorKind::Decode) when it answers for another ledger id
    /// (the answer is not used) or without a certificate;
    /// [`ResponseTooLarge`](crate::ErrorKind::ResponseTooLarge) for an answer larger than
    /// [`ResponseLimits::identity_bytes`](crate::pipeline::ResponseLimits::identity_bytes); the
    /// transport and service errors of any call.
    pub async fn get_ledger_identity(
        &self,
        ledger_id: &str,
        options: Option<GetLedgerIdentityOptions>,
    ) -> Result<LedgerIdentity, Error> {
        let options = options.unwrap_or_default();
        crate::validate::ledger_id(ledger_id)?;
        let raw = self.raw(&options.call);
        let response = raw
            .get_ledger_identity(ledger_id, &self.api_version)
            .await
            .map_err(Error::from)?;
        let info = response.into_inner();
        if info
            .ledger_tls_certificate
            .trim_matches(['\0', ' ', '\n', '\r', '\t'])
            .is_empty()
        {
            return Err(misfit(
                format!("the identity service returned no certificate for ledger {ledger_id}"),
                &info,
            ));
        }
        // An answer about another ledger must never be pinned for this one.
        if let Some(answered) = &info.ledger_id
            && !answered.trim().eq_ignore_ascii_case(ledger_id)
        {
            return Err(Error::decode(
                format!(
                    "the identity service answered for ledger {:?} when asked for ledger \
                     {ledger_id:?}; its certificate is not used",
                    crate::error::excerpt(answered, 64)
                ),
                answered.as_bytes(),
            ));
        }
        Ok(LedgerIdentity {
            ledger_id: info.ledger_id.unwrap_or_else(|| ledger_id.to_owned()),
            ledger_tls_certificate: info.ledger_tls_certificate,
        })
    }

    /// The generated identity client for one call.
    fn raw(&self, call: &CallOptions) -> identity::Client {
        let mut state = HookState::new(self.pipeline.clone());
        if let Some(enabled) = call.logging_enable {
            state = state.logging_enable(enabled);
        }
        if let Some(deadline) = call
            .call_timeout
            .and_then(|timeout| tokio::time::Instant::now().checked_add(timeout))
        {
            state = state.deadline(deadline);
        }
        if let Some(id) = &call.client_request_id {
            state = state.shared_client_request_id(std::sync::Arc::from(id.as_str()));
        }
        identity::Client::new_with_client(
            &self.base_url,
            self.pipeline.http_client().clone(),
            state,
        )
    }
}
