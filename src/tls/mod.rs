//! TLS to a ledger: the pinned service certificate as the only trust anchor, and client
//! certificates for mutual TLS.
//!
//! A ledger's nodes present their own certificate (`CN=CCF Node`, with the ledger's host names
//! as subject alternative names), issued by the ledger's self-signed **service certificate**,
//! which the identity service publishes. [`client_config`] builds the rustls configuration that
//! trusts that certificate and nothing else; hand it to reqwest with
//! `ClientBuilder::use_preconfigured_tls`.
//!
//! # Defaults
//!
//! - Trust: only chains leading to the [`PinnedCertificate`] (no system or web roots).
//! - Host names are checked against the node certificate's subject alternative names.
//! - Every certificate of the chain must be valid now; the pinned certificate's own dates are
//!   not checked (a trust anchor is a name and a key). No revocation checks.
//! - A chain that does not lead to the pinned certificate fails with a [`PinMismatch`], which
//!   [`find_pin_mismatch`] recognises through reqwest's error chain.
//! - TLS 1.3 and 1.2 with the ring provider's safe defaults; ALPN offers `h2`, then
//!   `http/1.1`.
//!
//! # Changing the pin
//!
//! A configuration's pin is fixed. When a request fails with a [`PinMismatch`], fetch the
//! ledger's identity again and, if it differs from the pinned one ([`PinnedCertificate`]
//! compares by DER), build a new configuration and a new HTTP client from it. That also drops
//! pooled connections that were verified against the old pin.

mod pin_mismatch;
mod pinned;
mod verifier;

use std::sync::Arc;

use rustls::client::ResolvesClientCert;
use rustls::sign::CertifiedKey;
use rustls::{ClientConfig, SignatureScheme};

pub(crate) use pin_mismatch::error_chain;
pub use pin_mismatch::{PinMismatch, find_pin_mismatch, find_tls_error};
pub use pinned::{PinnedCertificate, PinnedCertificateError};
pub use verifier::PinnedServerVerifier;

use crate::CertificateCredential;

/// The ALPN protocols offered, most preferred first.
pub const ALPN_PROTOCOLS: [&[u8]; 2] = [b"h2", b"http/1.1"];

pub use crate::crypto::crypto_provider;

/// The rustls configuration could not be built.
#[derive(Debug, thiserror::Error)]
#[error("cannot build the TLS configuration: {0}")]
pub struct TlsConfigError(#[source] rustls::Error);

/// The rustls client configuration for a ledger: trusts only `pinned` (see
/// [`PinnedServerVerifier`]) and, when given, authenticates with `client_certificate`.
///
/// See the [module documentation](self) for the defaults. The result is meant for
/// `reqwest::ClientBuilder::use_preconfigured_tls` (with reqwest's `rustls-no-provider`
/// feature); it sets ALPN itself, as reqwest leaves a preconfigured configuration untouched.
///
/// # Errors
///
/// [`TlsConfigError`] if the crypto provider supports none of the default protocol versions,
/// which does not happen with the ring provider.
///
/// # Examples
///
/// ```no_run
/// use confidential_ledger::tls::{client_config, PinnedCertificate};
///
/// # fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let pinned = PinnedCertificate::from_pem_file("ledger-service.pem")?;
/// let http = reqwest::Client::builder()
///     .use_preconfigured_tls(client_config(&pinned, None)?)
///     .build()?;
/// # Ok(()) }
/// ```
pub fn client_config(
    pinned: &PinnedCertificate,
    client_certificate: Option<&CertificateCredential>,
) -> Result<ClientConfig, TlsConfigError> {
    let builder = ClientConfig::builder_with_provider(crypto_provider())
        .with_safe_default_protocol_versions()
        .map_err(TlsConfigError)?
        // "Dangerous" in rustls' terms only: this verifier is stricter than the web PKI one.
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PinnedServerVerifier::new(pinned.clone())));
    let mut config = match client_certificate {
        Some(credential) => builder
            .with_client_cert_resolver(Arc::new(ClientCertificate(credential.certified_key()))),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = ALPN_PROTOCOLS.iter().map(|p| p.to_vec()).collect();
    Ok(config)
}

/// Presents the same client certificate to every server that asks for one.
#[derive(Debug)]
struct ClientCertificate(Arc<CertifiedKey>);

impl ResolvesClientCert for ClientCertificate {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        _sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(&self.0))
    }

    fn has_certs(&self) -> bool {
        true
    }
}
