//! TLS for the ledger endpoint: rustls (ring provider) presenting only the node certificate,
//! requesting a client certificate without requiring one.
//!
//! Client certificates are not validated against any authority: like a real ledger, the
//! sandbox identifies certificate users by the SHA-256 fingerprint of the certificate the client
//! proved it holds the key of (the TLS handshake checks that proof).

use std::sync::{Arc, RwLock};

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::{DigitallySignedStruct, DistinguishedName, ServerConfig, SignatureScheme};

use crate::SandboxError;
use crate::identity::Generation;

/// The TLS identity the ledger endpoint presents: the node certificate chain and its private
/// key, both PEM ([`Sandbox::node_tls_identity`](crate::Sandbox::node_tls_identity)).
///
/// A test aid: a test proxy that terminates TLS with it is accepted by a client pinned to the
/// service certificate exactly as the sandbox is. `Debug` redacts the key.
///
/// # Examples
///
/// ```
/// use confidential_ledger_sandbox::NodeTlsIdentity;
///
/// let id = NodeTlsIdentity {
///     certificate_chain_pem: "-----BEGIN CERTIFICATE-----\n...".into(),
///     private_key_pem: "-----BEGIN PRIVATE KEY-----\nsecret".into(),
/// };
/// assert!(!format!("{id:?}").contains("secret"));
/// ```
#[derive(Clone)]
pub struct NodeTlsIdentity {
    /// The certificates the node presents, leaf first (PEM). A node presents only its own
    /// certificate, issued by the service certificate.
    pub certificate_chain_pem: String,
    /// The node's private key (PKCS#8 PEM).
    pub private_key_pem: String,
}

impl std::fmt::Debug for NodeTlsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeTlsIdentity")
            .field("certificate_chain_pem", &self.certificate_chain_pem)
            .field("private_key_pem", &"<redacted>")
            .finish()
    }
}

/// Serves the current node certificate; swapped when the identity rotates.
#[derive(Debug)]
pub(crate) struct NodeCertResolver {
    current: RwLock<Arc<CertifiedKey>>,
}

fn certified_key(generation: &Generation) -> Result<Arc<CertifiedKey>, SandboxError> {
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(generation.node_key_der.clone()));
    let signing = rustls::crypto::ring::sign::any_ecdsa_type(&key)
        .map_err(|e| SandboxError::Tls(format!("unusable node key: {e}")))?;
    Ok(Arc::new(CertifiedKey::new(
        vec![CertificateDer::from(generation.node_cert_der.clone())],
        signing,
    )))
}

impl NodeCertResolver {
    pub(crate) fn new(generation: &Generation) -> Result<Self, SandboxError> {
        Ok(NodeCertResolver {
            current: RwLock::new(certified_key(generation)?),
        })
    }

    /// Presents `generation`'s node certificate to new connections.
    pub(crate) fn update(&self, generation: &Generation) -> Result<(), SandboxError> {
        let key = certified_key(generation)?;
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = key;
        Ok(())
    }
}

impl ResolvesServerCert for NodeCertResolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(
            self.current
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        )
    }
}

/// Requests a client certificate, accepts any (or none), checks the handshake signature.
#[derive(Debug)]
struct AnyClientCertificate {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for AnyClientCertificate {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// The server configuration: TLS 1.2 and 1.3, ALPN `h2` and `http/1.1`.
pub(crate) fn server_config(
    resolver: Arc<NodeCertResolver>,
) -> Result<Arc<ServerConfig>, SandboxError> {
    let provider: Arc<CryptoProvider> = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(AnyClientCertificate {
        algorithms: provider.signature_verification_algorithms,
    });
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| SandboxError::Tls(e.to_string()))?
        .with_client_cert_verifier(verifier)
        .with_cert_resolver(resolver);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
