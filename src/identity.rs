//! The identity service: where a ledger's TLS (service) certificate is published.
//!
//! A ledger's nodes present certificates issued by the ledger's own self-signed service
//! certificate, which no public CA vouches for. The identity service (public TLS) publishes
//! that certificate by ledger id; [`ConfidentialLedgerClient`](crate::ConfidentialLedgerClient)
//! fetches and pins it by default, and [`IdentityServiceClient`] does the lookup alone.

use std::fmt;

use reqwest::Url;

use crate::generated::identity;
use crate::hooks::HookState;
use crate::models::misfit;
use crate::pipeline::Pipeline;
use crate::tls::PinnedCertificate;
use crate::transport::{base_url, http_builder, parse_endpoint, public_tls, unused_tls};
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
/// use confidential_ledger::{IdentityServiceClient, DEFAULT_IDENTITY_ENDPOINT};
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

crate::client::options::method_options! {
    /// Options of [`IdentityServiceClient::get_ledger_identity`].
    ///
    /// # Examples
    ///
    /// ```
    /// use confidential_ledger::GetLedgerIdentityOptions;
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
    pub fn new(endpoint: &str, options: Option<ClientOptions>) -> Result<Self, Error> {
        let options = options.unwrap_or_default();
        let endpoint = parse_endpoint(endpoint, "identity endpoint", true)?;
        Self::from_parts(endpoint, &options)
    }

    pub(crate) fn from_parts(endpoint: Url, options: &ClientOptions) -> Result<Self, Error> {
        let tls = if endpoint.scheme() == "https" {
            public_tls()?
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
        crate::client::validate::ledger_id(ledger_id)?;
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
            state = state.log_bodies(enabled);
        }
        if let Some(deadline) = call
            .call_timeout
            .and_then(|timeout| tokio::time::Instant::now().checked_add(timeout))
        {
            state = state.deadline(deadline);
        }
        identity::Client::new_with_client(
            &self.base_url,
            self.pipeline.http_client().clone(),
            state,
        )
    }
}
