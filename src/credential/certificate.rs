//! [`CertificateCredential`]: a client certificate and its key, for mutual TLS.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::{self, PemObject, SectionKind};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::ParsedCertificate;
use rustls::sign::CertifiedKey;
use rustls::{Error as TlsError, InconsistentKeys};
use zeroize::Zeroizing;

use crate::fingerprint::der_fingerprint;

/// A client certificate (with any intermediates) and its private key, for principals that
/// authenticate with mutual TLS instead of a bearer token.
///
/// Everything is checked when the credential is made: the PEM or DER decodes, the first
/// certificate is an X.509 certificate, there is exactly one private key (PKCS#8, SEC1
/// `EC PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`; ECDSA P-256/P-384, RSA or Ed25519), the
/// key can sign, and it belongs to the first certificate. Encrypted keys are refused with a
/// message saying so. The certificate's validity dates are left to the server.
///
/// The private key is loaded into a signing key straight away; the PEM text and DER bytes it
/// came from are wiped from memory. `Debug` shows the user id and the chain length, never the
/// key.
///
/// The ledger knows this principal by [`user_id`](Self::user_id): the SHA-256 fingerprint of
/// the first certificate.
///
/// # Examples
///
/// ```
/// use confidential_ledger::{CertificateCredential, CertificateCredentialError};
///
/// let err = CertificateCredential::from_pem("-----BEGIN CERTIFICATE-----\n...").unwrap_err();
/// assert!(matches!(err, CertificateCredentialError::Pem(_)));
///
/// # fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let credential = CertificateCredential::from_pem_files("user.pem", "user.key")?;
/// println!("add this user to the ledger: {}", credential.user_id());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct CertificateCredential {
    key: Arc<CertifiedKey>,
    user_id: String,
}

/// A [`CertificateCredential`] could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CertificateCredentialError {
    /// A file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: std::io::Error,
    },
    /// The PEM text is malformed.
    #[error("the PEM data is malformed: {0}")]
    Pem(#[source] pem::Error),
    /// No `CERTIFICATE` section was found.
    #[error("no certificate found: expected a PEM 'CERTIFICATE' section")]
    NoCertificate,
    /// No private key section was found.
    #[error(
        "no private key found: expected a PEM 'PRIVATE KEY', 'EC PRIVATE KEY' or \
         'RSA PRIVATE KEY' section"
    )]
    NoPrivateKey,
    /// The private key is encrypted with a passphrase.
    #[error(
        "the private key is encrypted; decrypt it first (for example \
         `openssl pkey -in key.pem -out key-decrypted.pem`)"
    )]
    EncryptedPrivateKey,
    /// More than one private key was found.
    #[error("found {0} private keys; expected exactly one")]
    MultiplePrivateKeys(usize),
    /// The first certificate is not a valid X.509 certificate.
    #[error("the certificate is not a valid X.509 certificate: {0}")]
    InvalidCertificate(#[source] TlsError),
    /// The private key is malformed or of an unsupported type.
    #[error("the private key is invalid or of an unsupported type: {0}")]
    InvalidPrivateKey(#[source] TlsError),
    /// The private key does not belong to the first certificate.
    #[error("the private key does not match the certificate's public key")]
    KeyMismatch,
}

impl CertificateCredential {
    /// From PEM text holding the certificate (end-entity first, then any intermediates) and the
    /// private key, in any order.
    ///
    /// # Errors
    ///
    /// See [`CertificateCredentialError`].
    pub fn from_pem(pem: impl AsRef<[u8]>) -> Result<Self, CertificateCredentialError> {
        let (chain, key) = collect([pem.as_ref()])?;
        Self::from_der(chain, key)
    }

    /// From separate PEM texts for the certificate chain and the private key.
    ///
    /// # Errors
    ///
    /// See [`CertificateCredentialError`].
    pub fn from_pem_parts(
        certificate_pem: impl AsRef<[u8]>,
        key_pem: impl AsRef<[u8]>,
    ) -> Result<Self, CertificateCredentialError> {
        let (chain, key) = collect([certificate_pem.as_ref(), key_pem.as_ref()])?;
        Self::from_der(chain, key)
    }

    /// From one PEM file holding both the certificate chain and the private key.
    ///
    /// # Errors
    ///
    /// [`CertificateCredentialError::Read`] when the file cannot be read; otherwise as
    /// [`from_pem`](Self::from_pem).
    pub fn from_pem_file(path: impl AsRef<Path>) -> Result<Self, CertificateCredentialError> {
        Self::from_pem(read(path.as_ref())?.as_slice())
    }

    /// From a certificate chain file and a private key file, both PEM.
    ///
    /// # Errors
    ///
    /// [`CertificateCredentialError::Read`] when a file cannot be read; otherwise as
    /// [`from_pem_parts`](Self::from_pem_parts).
    pub fn from_pem_files(
        certificate_path: impl AsRef<Path>,
        key_path: impl AsRef<Path>,
    ) -> Result<Self, CertificateCredentialError> {
        let certificate = read(certificate_path.as_ref())?;
        let key = read(key_path.as_ref())?;
        Self::from_pem_parts(certificate.as_slice(), key.as_slice())
    }

    /// From DER: the chain (end-entity first) and the private key.
    ///
    /// # Errors
    ///
    /// See [`CertificateCredentialError`].
    pub fn from_der(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Result<Self, CertificateCredentialError> {
        let end_entity = chain
            .first()
            .ok_or(CertificateCredentialError::NoCertificate)?;
        ParsedCertificate::try_from(end_entity)
            .map_err(CertificateCredentialError::InvalidCertificate)?;
        let user_id = der_fingerprint(end_entity);
        let signing_key = crate::crypto::crypto_provider()
            .key_provider
            .load_private_key(key)
            .map_err(CertificateCredentialError::InvalidPrivateKey)?;
        let certified = CertifiedKey::new(chain, signing_key);
        match certified.keys_match() {
            // Ring's signing keys all expose their public key; "unknown" would mean a key type
            // whose consistency cannot be checked, which the server will then judge.
            Ok(()) | Err(TlsError::InconsistentKeys(InconsistentKeys::Unknown)) => {}
            Err(TlsError::InconsistentKeys(_)) => {
                return Err(CertificateCredentialError::KeyMismatch);
            }
            Err(other) => return Err(CertificateCredentialError::InvalidCertificate(other)),
        }
        Ok(Self {
            key: Arc::new(certified),
            user_id,
        })
    }

    /// The ledger user id of this principal: the SHA-256 fingerprint of the end-entity
    /// certificate, upper-case hex pairs separated by colons.
    pub fn user_id(&self) -> &str {
        &self.user_id
    }

    /// The certificate chain, end-entity first.
    pub fn certificate_chain(&self) -> &[CertificateDer<'static>] {
        &self.key.cert
    }

    /// The chain and signing key, as rustls uses them for client authentication.
    pub fn certified_key(&self) -> Arc<CertifiedKey> {
        Arc::clone(&self.key)
    }
}

impl fmt::Debug for CertificateCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateCredential")
            .field("user_id", &self.user_id)
            .field("chain_length", &self.key.cert.len())
            .field("private_key", &"redacted")
            .finish()
    }
}

fn read(path: &Path) -> Result<Zeroizing<Vec<u8>>, CertificateCredentialError> {
    crate::pem_file::read_bounded(path).map_err(|source| CertificateCredentialError::Read {
        path: path.to_owned(),
        source,
    })
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// Gathers the certificates and the one private key from PEM texts.
fn collect<'a>(
    texts: impl IntoIterator<Item = &'a [u8]>,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), CertificateCredentialError> {
    let mut chain = Vec::new();
    let mut keys: Vec<PrivateKeyDer<'static>> = Vec::new();
    let mut encrypted = false;
    for text in texts {
        // Legacy OpenSSL encryption puts headers inside the key section, which the PEM decoder
        // would report as bad base64; PKCS#8 encryption has a section label of its own, which it
        // skips.
        if contains(text, b"Proc-Type: 4,ENCRYPTED") {
            return Err(CertificateCredentialError::EncryptedPrivateKey);
        }
        encrypted |= contains(text, b"-----BEGIN ENCRYPTED PRIVATE KEY-----");
        for section in <(SectionKind, Vec<u8>)>::pem_slice_iter(text) {
            let (kind, der) = section.map_err(CertificateCredentialError::Pem)?;
            match kind {
                SectionKind::Certificate => chain.push(CertificateDer::from(der)),
                SectionKind::PrivateKey => keys.push(PrivateKeyDer::Pkcs8(der.into())),
                SectionKind::EcPrivateKey => keys.push(PrivateKeyDer::Sec1(der.into())),
                SectionKind::RsaPrivateKey => keys.push(PrivateKeyDer::Pkcs1(der.into())),
                _ => drop(Zeroizing::new(der)),
            }
        }
    }
    if chain.is_empty() {
        return Err(CertificateCredentialError::NoCertificate);
    }
    match keys.len() {
        1 => Ok((chain, keys.remove(0))),
        0 if encrypted => Err(CertificateCredentialError::EncryptedPrivateKey),
        0 => Err(CertificateCredentialError::NoPrivateKey),
        n => Err(CertificateCredentialError::MultiplePrivateKeys(n)),
    }
}
