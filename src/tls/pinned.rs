//! [`PinnedCertificate`]: the ledger's service certificate, the only trust anchor.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::{self, PemObject};

use crate::fingerprint::der_fingerprint;

/// The ledger's service certificate, pinned as the only trust anchor of TLS connections.
///
/// The identity service publishes it as PEM (`ledgerTlsCertificate`); some answers end it with
/// NUL characters, which are ignored here. Only the certificate's subject and public key take
/// part in chain verification (as for any trust anchor); its own validity dates are not checked
/// (see [`client_config`](super::client_config)). Two pins are equal when their DER bytes are.
///
/// # Examples
///
/// ```
/// use confidential_ledger::tls::{PinnedCertificate, PinnedCertificateError};
///
/// let err = PinnedCertificate::from_pem("no certificate here").unwrap_err();
/// assert!(matches!(err, PinnedCertificateError::NoCertificate));
///
/// # fn run(identity_pem: &str) -> Result<(), PinnedCertificateError> {
/// let pinned = PinnedCertificate::from_pem(identity_pem)?;
/// println!("pinning the service certificate {}", pinned.fingerprint());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct PinnedCertificate {
    der: CertificateDer<'static>,
    roots: Arc<RootCertStore>,
}

/// A [`PinnedCertificate`] could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PinnedCertificateError {
    /// The file could not be read.
    #[error("cannot read the service certificate {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: std::io::Error,
    },
    /// The PEM text is malformed.
    #[error("the service certificate PEM is malformed: {0}")]
    Pem(#[source] pem::Error),
    /// No `CERTIFICATE` section was found.
    #[error("no service certificate found: expected a PEM 'CERTIFICATE' section")]
    NoCertificate,
    /// More than one certificate was found; which one to pin would be a guess.
    #[error("found {0} certificates; expected exactly the ledger's service certificate")]
    MultipleCertificates(usize),
    /// The certificate cannot be used as a trust anchor.
    #[error("the service certificate is not a valid X.509 certificate: {0}")]
    Invalid(#[source] rustls::Error),
}

impl PinnedCertificate {
    /// From PEM text holding exactly one certificate; trailing NULs and whitespace are ignored.
    ///
    /// # Errors
    ///
    /// See [`PinnedCertificateError`].
    pub fn from_pem(pem: impl AsRef<[u8]>) -> Result<Self, PinnedCertificateError> {
        let mut text = pem.as_ref();
        while let [rest @ .., last] = text
            && (*last == 0 || last.is_ascii_whitespace())
        {
            text = rest;
        }
        let mut certificates = Vec::new();
        for certificate in CertificateDer::pem_slice_iter(text) {
            certificates.push(certificate.map_err(PinnedCertificateError::Pem)?);
        }
        match certificates.len() {
            0 => Err(PinnedCertificateError::NoCertificate),
            1 => Self::from_der(certificates.remove(0)),
            n => Err(PinnedCertificateError::MultipleCertificates(n)),
        }
    }

    /// From a PEM file (see [`from_pem`](Self::from_pem)).
    ///
    /// # Errors
    ///
    /// [`PinnedCertificateError::Read`] when the file cannot be read; otherwise as
    /// [`from_pem`](Self::from_pem).
    pub fn from_pem_file(path: impl AsRef<Path>) -> Result<Self, PinnedCertificateError> {
        let path = path.as_ref();
        let text =
            crate::pem_file::read_bounded(path).map_err(|source| PinnedCertificateError::Read {
                path: path.to_owned(),
                source,
            })?;
        Self::from_pem(text.as_slice())
    }

    /// From the certificate's DER encoding.
    ///
    /// # Errors
    ///
    /// [`PinnedCertificateError::Invalid`] when it is not an X.509 certificate.
    pub fn from_der(
        der: impl Into<CertificateDer<'static>>,
    ) -> Result<Self, PinnedCertificateError> {
        let der = der.into();
        let mut roots = RootCertStore::empty();
        roots
            .add(der.clone())
            .map_err(PinnedCertificateError::Invalid)?;
        Ok(Self {
            der,
            roots: Arc::new(roots),
        })
    }

    /// The certificate's DER encoding.
    pub fn der(&self) -> &CertificateDer<'static> {
        &self.der
    }

    /// The certificate as PEM text (one `CERTIFICATE` block, 64-character lines, `\n` line
    /// ends), as [`from_pem`](Self::from_pem) and
    /// [`ClientBuilder::service_certificate_pem`](crate::ClientBuilder::service_certificate_pem)
    /// read it: save it to pin the same certificate later.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> std::io::Result<()> {
    /// let pinned = client.service_certificate();
    /// std::fs::write("ledger_certificate.pem", pinned.to_pem())?;
    /// # Ok(()) }
    /// ```
    pub fn to_pem(&self) -> String {
        // Encoding cannot fail for a label of ASCII letters; an empty string is never returned
        // for a certificate (its DER is never empty).
        pem_rfc7468::encode_string("CERTIFICATE", pem_rfc7468::LineEnding::LF, &self.der)
            .unwrap_or_default()
    }

    /// The SHA-256 fingerprint of the certificate, upper-case hex pairs separated by colons.
    pub fn fingerprint(&self) -> String {
        der_fingerprint(&self.der)
    }

    /// The certificate as the only root of a rustls trust store.
    pub(crate) fn roots(&self) -> &RootCertStore {
        &self.roots
    }
}

impl PartialEq for PinnedCertificate {
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}

impl Eq for PinnedCertificate {}

impl fmt::Debug for PinnedCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PinnedCertificate")
            .field("sha256", &self.fingerprint())
            .finish()
    }
}
