//! Throwaway service PKI for TLS test servers: a CA (what a client pins) and a node
//! certificate it issued for one host name, in a server configuration that speaks HTTP/2 and
//! HTTP/1.1.

use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A fresh service CA named `ca_name`, and a TLS server configuration presenting a node
/// certificate it issued for `host`. Returns the CA's certificate (to pin) and the
/// configuration (for [`Server::start_tls`](crate::http::Server::start_tls)).
///
/// # Panics
///
/// When the certificates cannot be made (a test setup failure).
pub fn service_pki(
    ca_name: &str,
    host: &str,
) -> (CertificateDer<'static>, Arc<rustls::ServerConfig>) {
    let ca_key = KeyPair::generate().expect("a CA key");
    let mut ca = CertificateParams::default();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, ca_name);
    let ca_cert = ca.self_signed(&ca_key).expect("a CA certificate");
    let node_key = KeyPair::generate().expect("a node key");
    let node = CertificateParams::new(vec![host.to_owned()])
        .expect("node parameters")
        .signed_by(&node_key, &Issuer::from_params(&ca, &ca_key))
        .expect("a node certificate");
    let key: PrivateKeyDer<'static> = PrivatePkcs8KeyDer::from(node_key.serialize_der()).into();
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("TLS versions")
    .with_no_client_auth()
    .with_single_cert(vec![node.der().clone()], key)
    .expect("a server configuration");
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    (ca_cert.der().clone(), Arc::new(config))
}
