//! [`PinnedServerVerifier`]: accepts only chains issued by the pinned service certificate.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{verify_server_cert_signed_by_trust_anchor, verify_server_name};
use rustls::crypto::{WebPkiSupportedAlgorithms, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{CertificateError, DigitallySignedStruct, Error, SignatureScheme};

use super::{PinMismatch, PinnedCertificate};
use crate::fingerprint::der_fingerprint;

/// A rustls server certificate verifier that trusts exactly one certificate: the ledger's
/// service certificate.
///
/// For each handshake it checks, with rustls-webpki and the ring provider's signature
/// algorithms:
///
/// 1. the presented chain leads to the pinned certificate (subject and key): otherwise the
///    handshake fails with a [`PinMismatch`];
/// 2. every certificate of the chain is valid at the current time (not expired, not yet
///    valid otherwise) and fit for server authentication;
/// 3. the end-entity certificate names the host connected to (DNS or IP subject alternative
///    names);
/// 4. the handshake signatures verify with the end-entity certificate's key.
///
/// No revocation checks are made (the service publishes no revocation lists) and OCSP
/// responses are ignored.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use confidential_ledger::tls::{PinnedCertificate, PinnedServerVerifier};
///
/// # fn run(pinned: PinnedCertificate) -> Result<(), rustls::Error> {
/// let verifier = Arc::new(PinnedServerVerifier::new(pinned));
/// let config = rustls::ClientConfig::builder_with_provider(confidential_ledger::tls::crypto_provider())
///     .with_safe_default_protocol_versions()?
///     .dangerous()
///     .with_custom_certificate_verifier(verifier)
///     .with_no_client_auth();
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct PinnedServerVerifier {
    pinned: PinnedCertificate,
    algorithms: WebPkiSupportedAlgorithms,
}

impl PinnedServerVerifier {
    /// A verifier trusting only `pinned`.
    pub fn new(pinned: PinnedCertificate) -> Self {
        Self {
            pinned,
            algorithms: super::crypto_provider().signature_verification_algorithms,
        }
    }

    /// The pinned service certificate.
    pub fn pinned(&self) -> &PinnedCertificate {
        &self.pinned
    }
}

/// Whether a chain-building failure means "not issued by the pinned certificate".
fn is_pin_mismatch(reason: &CertificateError) -> bool {
    matches!(
        reason,
        CertificateError::UnknownIssuer
            | CertificateError::BadSignature
            | CertificateError::UnsupportedSignatureAlgorithmForPublicKeyContext { .. }
    )
}

impl ServerCertVerifier for PinnedServerVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let certificate = ParsedCertificate::try_from(end_entity)?;
        match verify_server_cert_signed_by_trust_anchor(
            &certificate,
            self.pinned.roots(),
            intermediates,
            now,
            self.algorithms.all,
        ) {
            Ok(()) => {}
            Err(Error::InvalidCertificate(reason)) if is_pin_mismatch(&reason) => {
                return Err(PinMismatch::new(
                    self.pinned.fingerprint(),
                    der_fingerprint(end_entity),
                    reason,
                )
                .into());
            }
            Err(other) => return Err(other),
        }
        verify_server_name(&certificate, server_name)?;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
