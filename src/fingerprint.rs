//! Certificate fingerprints: how the ledger names certificate users.
//!
//! A principal that authenticates with a client certificate (mutual TLS) is known to the ledger
//! by the SHA-256 digest of its certificate's DER encoding, written as upper-case hexadecimal
//! pairs separated by colons (`5F:23:3D:...`). That string is the user id to pass to the user
//! management calls.

use der::Decode as _;
use sha2::{Digest, Sha256};

/// The PEM label of a certificate.
const CERTIFICATE_LABEL: &str = "CERTIFICATE";

/// What [`certificate_fingerprint`] refuses: text that is neither one PEM certificate nor the
/// DER encoding of an X.509 certificate. Converts into an [`Error`](crate::Error) of kind
/// [`InvalidInput`](crate::ErrorKind::InvalidInput).
///
/// # Examples
///
/// ```
/// use confidential_ledger::{FingerprintError, certificate_fingerprint};
///
/// let err = certificate_fingerprint(b"not a certificate").unwrap_err();
/// assert!(matches!(err, FingerprintError::NotACertificate { .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FingerprintError {
    /// The input is PEM text but not one well-formed PEM block.
    #[error("the certificate is PEM text but not a valid PEM block: {reason}")]
    Pem {
        /// What is wrong with it.
        reason: String,
    },
    /// The input is one PEM block of another kind (a private key, a request...).
    #[error("the PEM block is a {label:?}, not a CERTIFICATE")]
    NotACertificateLabel {
        /// The block's label.
        label: String,
    },
    /// The input (or the PEM block's contents) is not the DER encoding of an X.509
    /// certificate.
    #[error("not a certificate (neither PEM nor DER X.509): {reason}")]
    NotACertificate {
        /// Why it does not decode.
        reason: String,
    },
}

/// The SHA-256 fingerprint of a certificate, as upper-case hex pairs separated by colons: the
/// user id the ledger gives a certificate user.
///
/// `certificate` is one PEM certificate (`-----BEGIN CERTIFICATE-----`, surrounding whitespace
/// allowed) or the DER encoding of one; the fingerprint is always that of the DER encoding, so
/// both spellings of a certificate give the same id.
///
/// # Errors
///
/// [`FingerprintError`] for anything else: other PEM blocks (a private key), malformed PEM, or
/// bytes that are not a DER X.509 certificate. Nothing is fingerprinted by guess.
///
/// # Examples
///
/// ```
/// use confidential_ledger::certificate_fingerprint;
///
/// # fn run(pem: &str, der: &[u8]) -> Result<(), confidential_ledger::FingerprintError> {
/// // `pem` is a certificate file's text, `der` the same certificate in DER.
/// let id = certificate_fingerprint(pem)?;
/// assert_eq!(id, certificate_fingerprint(der)?);
/// assert_eq!(id.len(), 32 * 3 - 1); // "5F:23:3D:..."
/// # Ok(()) }
/// assert!(certificate_fingerprint("-----BEGIN PRIVATE KEY-----").is_err());
/// ```
pub fn certificate_fingerprint(certificate: impl AsRef<[u8]>) -> Result<String, FingerprintError> {
    let bytes = certificate.as_ref();
    let trimmed = bytes.trim_ascii_start();
    if trimmed.starts_with(b"-----BEGIN") {
        let (label, der) =
            pem_rfc7468::decode_vec(bytes.trim_ascii()).map_err(|e| FingerprintError::Pem {
                reason: e.to_string(),
            })?;
        if label != CERTIFICATE_LABEL {
            return Err(FingerprintError::NotACertificateLabel {
                label: label.to_owned(),
            });
        }
        check_der(&der)?;
        Ok(der_fingerprint(&der))
    } else {
        check_der(bytes)?;
        Ok(der_fingerprint(bytes))
    }
}

/// Refuses bytes that are not one DER X.509 certificate (nothing after it).
fn check_der(der: &[u8]) -> Result<(), FingerprintError> {
    x509_cert::Certificate::from_der(der)
        .map(|_| ())
        .map_err(|e| FingerprintError::NotACertificate {
            reason: e.to_string(),
        })
}

/// The fingerprint of DER bytes already known to be a certificate (decoded by rustls or
/// x509-cert), hashed as they are.
pub(crate) fn der_fingerprint(der: &[u8]) -> String {
    colon_hex(&Sha256::digest(der))
}

/// Upper-case hex pairs joined by `:`.
fn colon_hex(bytes: &[u8]) -> String {
    let hex = base16ct::upper::encode_string(bytes);
    let mut out = String::with_capacity(bytes.len().saturating_mul(3));
    for (i, pair) in hex.as_bytes().chunks(2).enumerate() {
        if i > 0 {
            out.push(':');
        }
        out.extend(pair.iter().map(|&b| char::from(b)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_abc_matches_the_published_vector() {
        // FIPS 180-2, appendix B.1.
        assert_eq!(
            der_fingerprint(b"abc"),
            "BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:\
             B0:03:61:A3:96:17:7A:9C:B4:10:FF:61:F2:00:15:AD"
        );
    }

    #[test]
    fn format_is_32_upper_case_pairs() {
        let id = der_fingerprint(b"some certificate bytes");
        let pairs: Vec<&str> = id.split(':').collect();
        assert_eq!(pairs.len(), 32);
        for pair in pairs {
            assert_eq!(pair.len(), 2);
            assert!(
                pair.chars()
                    .all(|c| c.is_ascii_digit() || ('A'..='F').contains(&c)),
                "{pair}"
            );
        }
    }

    #[test]
    fn colon_hex_handles_every_nibble() {
        assert_eq!(colon_hex(&[0x00, 0x0f, 0xf0, 0xff, 0xa5]), "00:0F:F0:FF:A5");
        assert_eq!(colon_hex(&[]), "");
    }

    #[test]
    fn pem_and_der_of_one_certificate_give_one_id_and_anything_else_is_refused() {
        let key = rcgen::KeyPair::generate().expect("a key");
        let cert = rcgen::CertificateParams::new(vec!["user".to_owned()])
            .expect("params")
            .self_signed(&key)
            .expect("a certificate");
        let der = cert.der().to_vec();
        let pem = cert.pem();
        let id = certificate_fingerprint(&der).expect("DER");
        assert_eq!(id, der_fingerprint(&der));
        assert_eq!(certificate_fingerprint(&pem), Ok(id.clone()));
        assert_eq!(
            certificate_fingerprint(format!("\n  {pem}\r\n")),
            Ok(id.clone())
        );
        // The old trap: PEM text hashed as if it were DER gives another id; now it cannot.
        assert_ne!(der_fingerprint(pem.as_bytes()), id);

        assert!(matches!(
            certificate_fingerprint(key.serialize_pem()),
            Err(FingerprintError::NotACertificateLabel { label }) if label == "PRIVATE KEY"
        ));
        assert!(matches!(
            certificate_fingerprint(
                "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"
            ),
            Err(FingerprintError::Pem { .. })
        ));
        assert!(matches!(
            certificate_fingerprint(b""),
            Err(FingerprintError::NotACertificate { .. })
        ));
        let mut trailing = der.clone();
        trailing.push(0);
        assert!(matches!(
            certificate_fingerprint(&trailing),
            Err(FingerprintError::NotACertificate { .. })
        ));
        assert!(matches!(
            certificate_fingerprint(&der[..der.len() - 1]),
            Err(FingerprintError::NotACertificate { .. })
        ));
        let err = crate::Error::from(certificate_fingerprint("abc").unwrap_err());
        assert_eq!(err.kind(), &crate::ErrorKind::InvalidInput);
    }
}
