//! [`PinMismatch`]: the server's certificate does not chain to the pinned one.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

use rustls::{CertificateError, OtherError};

/// The server presented a certificate that was not issued by the pinned service certificate.
///
/// This is what a stale pin looks like: the ledger's service certificate was replaced (after a
/// disaster recovery its key changes) or the connection reached another server. The client
/// reacts by fetching the ledger's identity again, once.
///
/// The verifier reports it as a rustls
/// `Error::InvalidCertificate(CertificateError::Other(..))` carrying this value, so it survives
/// any error chain (tokio-rustls, hyper, reqwest): find it with [`find_pin_mismatch`].
///
/// # Examples
///
/// ```
/// use std::error::Error;
/// use confidential_ledger::tls::find_pin_mismatch;
///
/// /// What to do about a failed request (for example a `reqwest::Error`).
/// fn advice(error: &(dyn Error + 'static)) -> String {
///     match find_pin_mismatch(error) {
///         Some(mismatch) => format!(
///             "the server presented {}; fetch the ledger's identity again",
///             mismatch.presented_fingerprint()
///         ),
///         None => "not a certificate problem".to_owned(),
///     }
/// }
///
/// assert_eq!(advice(&std::io::Error::other("refused")), "not a certificate problem");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PinMismatch {
    pinned: String,
    presented: String,
    reason: CertificateError,
}

impl PinMismatch {
    pub(crate) fn new(pinned: String, presented: String, reason: CertificateError) -> Self {
        Self {
            pinned,
            presented,
            reason,
        }
    }

    /// SHA-256 fingerprint of the pinned service certificate.
    pub fn pinned_fingerprint(&self) -> &str {
        &self.pinned
    }

    /// SHA-256 fingerprint of the certificate the server presented.
    pub fn presented_fingerprint(&self) -> &str {
        &self.presented
    }

    /// Why the chain could not be built: `UnknownIssuer` (no certificate names the pinned one
    /// as issuer), `BadSignature` (same issuer name, different key: the service certificate was
    /// replaced) or an algorithm that does not fit the pinned key.
    pub fn reason(&self) -> &CertificateError {
        &self.reason
    }
}

impl fmt::Display for PinMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let why = match &self.reason {
            CertificateError::UnknownIssuer => {
                "its issuer is not the pinned certificate".to_owned()
            }
            CertificateError::BadSignature => {
                "its signature does not verify with the pinned certificate's key".to_owned()
            }
            other => other.to_string(),
        };
        write!(
            f,
            "pinned service certificate mismatch: the server's certificate (SHA-256 {}) does not \
             chain to the pinned service certificate (SHA-256 {}): {why}",
            self.presented, self.pinned
        )
    }
}

impl StdError for PinMismatch {}

impl From<PinMismatch> for rustls::Error {
    fn from(value: PinMismatch) -> Self {
        Self::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(value))))
    }
}

/// The errors of `error`'s chain, looking inside `std::io::Error`s (whose `source` skips the
/// error they wrap).
pub(crate) fn error_chain<'a>(
    error: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    let mut next = Some(error);
    std::iter::from_fn(move || {
        let current = next?;
        next = match current.downcast_ref::<std::io::Error>() {
            Some(io) => io.get_ref().map(|inner| inner as &(dyn StdError + 'static)),
            None => current.source(),
        };
        Some(current)
    })
    // Error chains are short; a bound protects against a cyclic `source`.
    .take(64)
}

/// The rustls error in `error`'s chain, if any: a failed TLS handshake.
///
/// Finds it behind any wrapping that keeps the chain (`source()`), including reqwest, hyper,
/// tokio-rustls and `std::io::Error`.
///
/// # Examples
///
/// ```
/// use confidential_ledger::tls::find_tls_error;
///
/// let io = std::io::Error::new(std::io::ErrorKind::InvalidData, rustls::Error::DecryptError);
/// assert_eq!(find_tls_error(&io), Some(&rustls::Error::DecryptError));
/// assert_eq!(find_tls_error(&std::io::Error::other("no")), None);
/// ```
pub fn find_tls_error<'a>(error: &'a (dyn StdError + 'static)) -> Option<&'a rustls::Error> {
    error_chain(error).find_map(|e| e.downcast_ref::<rustls::Error>())
}

/// The [`PinMismatch`] in `error`'s chain, if the failure was a pin mismatch.
///
/// Works on the error a connection attempt returns, however wrapped: reqwest's error,
/// hyper's, tokio-rustls' `std::io::Error` or the rustls error itself.
pub fn find_pin_mismatch<'a>(error: &'a (dyn StdError + 'static)) -> Option<&'a PinMismatch> {
    error_chain(error).find_map(|e| {
        if let Some(found) = e.downcast_ref::<PinMismatch>() {
            return Some(found);
        }
        match e.downcast_ref::<rustls::Error>()? {
            rustls::Error::InvalidCertificate(CertificateError::Other(other))
            | rustls::Error::Other(other) => other.0.downcast_ref::<PinMismatch>(),
            _ => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mismatch() -> PinMismatch {
        PinMismatch::new("AA".into(), "BB".into(), CertificateError::BadSignature)
    }

    #[test]
    fn found_inside_io_errors_and_wrappers() {
        #[derive(Debug, thiserror::Error)]
        #[error("request failed")]
        struct Outer(#[source] std::io::Error);

        let tls: rustls::Error = mismatch().into();
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, tls.clone());
        let outer = Outer(io);
        assert_eq!(find_pin_mismatch(&outer), Some(&mismatch()));
        assert!(matches!(
            find_tls_error(&outer),
            Some(rustls::Error::InvalidCertificate(CertificateError::Other(
                _
            )))
        ));
        assert_eq!(find_pin_mismatch(&tls), Some(&mismatch()));
        assert_eq!(find_pin_mismatch(&mismatch()), Some(&mismatch()));
    }

    #[test]
    fn other_certificate_errors_are_not_pin_mismatches() {
        let expired = rustls::Error::InvalidCertificate(CertificateError::Expired);
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, expired);
        assert_eq!(find_pin_mismatch(&io), None);
        assert!(find_tls_error(&io).is_some());
        let unrelated = rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(
            Arc::new(std::io::Error::other("x")),
        )));
        assert_eq!(find_pin_mismatch(&unrelated), None);
    }

    #[test]
    fn message_names_both_certificates_and_the_reason() {
        let text = mismatch().to_string();
        assert!(
            text.starts_with("pinned service certificate mismatch"),
            "{text}"
        );
        assert!(
            text.contains("(SHA-256 BB)") && text.contains("(SHA-256 AA)"),
            "{text}"
        );
        assert!(
            text.contains("does not verify with the pinned certificate's key"),
            "{text}"
        );
        // rustls shows the carried error with `Debug`.
        let wrapped = rustls::Error::from(mismatch()).to_string();
        assert!(
            wrapped.contains("PinMismatch") && wrapped.contains("BB"),
            "{wrapped}"
        );
    }
}
