//! TLS on both sides of the HTTP proxy: it presents the upstream's own identity to clients
//! (HTTP/1.1 only) and verifies the upstream against a trust anchor.

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore, ServerConfig};

use crate::error::ProxyError;

/// A certificate chain and private key (PEM) the proxy presents to its clients: for a test
/// against the sandbox, the sandbox's own node identity, so a client pinned to the service
/// certificate accepts the proxy exactly as it accepts the sandbox. `Debug` redacts the key.
///
/// # Examples
///
/// ```
/// use faultproxy::TlsIdentity;
///
/// let id = TlsIdentity::new("-----BEGIN CERTIFICATE-----...", "-----BEGIN PRIVATE KEY-----secret");
/// assert!(!format!("{id:?}").contains("secret"));
/// ```
#[derive(Clone)]
pub struct TlsIdentity {
    /// Certificates, leaf first (PEM).
    pub certificate_chain_pem: String,
    /// The leaf's private key (PEM: PKCS#8, SEC1 or PKCS#1).
    pub private_key_pem: String,
}

impl TlsIdentity {
    /// An identity from its certificate chain and key.
    pub fn new(
        certificate_chain_pem: impl Into<String>,
        private_key_pem: impl Into<String>,
    ) -> TlsIdentity {
        TlsIdentity {
            certificate_chain_pem: certificate_chain_pem.into(),
            private_key_pem: private_key_pem.into(),
        }
    }
}

impl std::fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsIdentity")
            .field("certificate_chain_pem", &self.certificate_chain_pem)
            .field("private_key_pem", &"<redacted>")
            .finish()
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn tls_error(what: &str) -> impl Fn(rustls::Error) -> ProxyError + '_ {
    move |e| ProxyError::Tls(format!("{what}: {e}"))
}

/// The proxy's server side: `identity`, no client authentication, ALPN `http/1.1` only.
pub(crate) fn server_config(identity: &TlsIdentity) -> Result<Arc<ServerConfig>, ProxyError> {
    let chain = CertificateDer::pem_slice_iter(identity.certificate_chain_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ProxyError::Tls(format!("certificate chain: {e}")))?;
    if chain.is_empty() {
        return Err(ProxyError::Tls("the certificate chain is empty".into()));
    }
    let key = PrivateKeyDer::from_pem_slice(identity.private_key_pem.as_bytes())
        .map_err(|e| ProxyError::Tls(format!("private key: {e}")))?;
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(tls_error("protocol versions"))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(tls_error("certificate and key"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The proxy's client side: trusts only the certificates in `trust_pem` (for the sandbox, its
/// service certificate), checks the host name, ALPN `http/1.1`.
pub(crate) fn upstream_config(trust_pem: &str) -> Result<Arc<ClientConfig>, ProxyError> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(trust_pem.as_bytes()) {
        let cert = cert.map_err(|e| ProxyError::Tls(format!("upstream trust anchor: {e}")))?;
        roots
            .add(cert)
            .map_err(tls_error("upstream trust anchor"))?;
    }
    if roots.is_empty() {
        return Err(ProxyError::Tls(
            "no certificate in the upstream trust anchor PEM".into(),
        ));
    }
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(tls_error("protocol versions"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
