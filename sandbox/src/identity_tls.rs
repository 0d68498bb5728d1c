//! TLS for the identity endpoint: a local certificate authority kept in the data directory
//! (`identity_ca.pem`, key in `identity_ca_key.pem`, mode 0600) issues, at every start, the
//! endpoint's server certificate (SAN `localhost`, `127.0.0.1`, `::1`).
//!
//! The real identity service has a publicly trusted certificate; clients trust the sandbox's
//! by adding the local CA to their roots (this crate's client:
//! `ClientBuilder::identity_root_certificate_pem`; Python: `REQUESTS_CA_BUNDLE` /
//! `SSL_CERT_FILE`; Node: `NODE_EXTRA_CA_CERTS`).

use std::path::Path;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use time::{Duration, OffsetDateTime};

use crate::SandboxError;
use crate::fsutil;
use crate::identity::{err, generate, name, serial};

use crate::files::{IDENTITY_CA as CA_CERT_FILE, IDENTITY_CA_KEY as CA_KEY_FILE};

/// The CA is valid this long from its creation.
const CA_VALIDITY_DAYS: i64 = 3650;
/// Each server certificate is valid this long from the start that issued it.
const SERVER_VALIDITY_DAYS: i64 = 90;

/// The local certificate authority of the identity endpoint.
pub(crate) struct IdentityCa {
    /// The CA certificate (PEM).
    pub(crate) certificate_pem: String,
    key: KeyPair,
    params: CertificateParams,
}

impl std::fmt::Debug for IdentityCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityCa")
            .field("certificate_pem", &self.certificate_pem)
            .finish_non_exhaustive()
    }
}

fn ca_params(now: OffsetDateTime) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = name("Confidential Ledger Sandbox Identity CA");
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.not_before = now - Duration::minutes(5);
    p.not_after = now + Duration::days(CA_VALIDITY_DAYS);
    p.serial_number = Some(serial());
    p
}

impl IdentityCa {
    /// Loads the CA from `dir`, or creates one there (certificate 0644, key 0600) when the
    /// directory has none. A certificate without its key (or the reverse) is an error.
    pub(crate) fn load_or_create(dir: &Path) -> Result<IdentityCa, SandboxError> {
        let cert_path = dir.join(CA_CERT_FILE);
        let key_path = dir.join(CA_KEY_FILE);
        match (cert_path.exists(), key_path.exists()) {
            (true, true) => {
                let certificate_pem = fsutil::read_to_string(&cert_path)?;
                let key = KeyPair::from_pem(&fsutil::read_to_string(&key_path)?).map_err(|e| {
                    SandboxError::Identity(format!("{} is unusable: {e}", key_path.display()))
                })?;
                // Signing needs only the issuer's name and key: the stored certificate was
                // made from the same parameters.
                pem_to_der(&certificate_pem).map_err(|e| {
                    SandboxError::Identity(format!("{} is unusable: {e}", cert_path.display()))
                })?;
                let params = ca_params(OffsetDateTime::now_utc());
                Ok(IdentityCa {
                    certificate_pem,
                    key,
                    params,
                })
            }
            (false, false) => {
                let key = generate(&rcgen::PKCS_ECDSA_P256_SHA256)?;
                let params = ca_params(OffsetDateTime::now_utc());
                let certificate_pem = params.self_signed(&key).map_err(err)?.pem();
                fsutil::write_atomic(&key_path, key.serialize_pem().as_bytes(), 0o600)?;
                fsutil::write_atomic(&cert_path, certificate_pem.as_bytes(), 0o644)?;
                Ok(IdentityCa {
                    certificate_pem,
                    key,
                    params,
                })
            }
            _ => Err(SandboxError::Config(format!(
                "{} must hold both {CA_CERT_FILE} and {CA_KEY_FILE}, or neither",
                dir.display()
            ))),
        }
    }

    /// Issues a server certificate for `localhost`, `127.0.0.1` and `::1` (and `extra_host`,
    /// when the endpoint is bound elsewhere); returns its DER and its key's PKCS#8 DER.
    fn issue_server(&self, extra_host: Option<&str>) -> Result<(Vec<u8>, Vec<u8>), SandboxError> {
        let now = OffsetDateTime::now_utc();
        let key = generate(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let mut p = CertificateParams::default();
        p.distinguished_name = name("localhost");
        p.is_ca = IsCa::ExplicitNoCa;
        p.not_before = now - Duration::minutes(5);
        p.not_after = now + Duration::days(SERVER_VALIDITY_DAYS);
        p.serial_number = Some(serial());
        p.use_authority_key_identifier_extension = true;
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        p.subject_alt_names = vec![
            SanType::DnsName("localhost".try_into().map_err(err)?),
            SanType::IpAddress([127, 0, 0, 1].into()),
            SanType::IpAddress(std::net::Ipv6Addr::LOCALHOST.into()),
        ];
        if let Some(host) = extra_host {
            p.subject_alt_names
                .push(match host.parse::<std::net::IpAddr>() {
                    Ok(ip) => SanType::IpAddress(ip),
                    Err(_) => SanType::DnsName(host.to_string().try_into().map_err(err)?),
                });
        }
        let issuer = Issuer::from_params(&self.params, &self.key);
        let cert = p.signed_by(&key, &issuer).map_err(err)?;
        Ok((cert.der().to_vec(), key.serialize_der()))
    }

    /// The identity endpoint's server configuration: a fresh server certificate issued by
    /// this CA, presented with the CA certificate; TLS 1.2 and 1.3, ALPN `h2` and
    /// `http/1.1`, no client certificates.
    pub(crate) fn server_config(
        &self,
        extra_host: Option<&str>,
    ) -> Result<Arc<ServerConfig>, SandboxError> {
        let (leaf, key) = self.issue_server(extra_host)?;
        let ca = pem_to_der(&self.certificate_pem)?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| SandboxError::Tls(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(leaf), CertificateDer::from(ca)],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key)),
            )
            .map_err(|e| SandboxError::Tls(e.to_string()))?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

fn pem_to_der(text: &str) -> Result<Vec<u8>, SandboxError> {
    Ok(pem::parse(text).map_err(err)?.into_contents())
}

/// A client configuration that trusts only the CA certificate `ca_pem` (HTTP/1.1), for the
/// command line's control requests to a running sandbox.
pub(crate) fn client_config(ca_pem: &str) -> Result<Arc<ClientConfig>, SandboxError> {
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from(pem_to_der(ca_pem)?))
        .map_err(|e| SandboxError::Tls(format!("unusable identity CA certificate: {e}")))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| SandboxError::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ca_is_created_once_and_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let first = IdentityCa::load_or_create(dir.path()).unwrap();
        let again = IdentityCa::load_or_create(dir.path()).unwrap();
        assert_eq!(first.certificate_pem, again.certificate_pem);
        assert!(again.server_config(None).is_ok());
        assert!(client_config(&again.certificate_pem).is_ok());
    }

    #[test]
    fn a_ca_certificate_without_its_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        IdentityCa::load_or_create(dir.path()).unwrap();
        std::fs::remove_file(dir.path().join(CA_KEY_FILE)).unwrap();
        let e = IdentityCa::load_or_create(dir.path()).unwrap_err();
        assert!(e.to_string().contains(CA_KEY_FILE), "{e}");
    }
}
