//! Certificate fingerprints: how the ledger names certificate users.
//!
//! A principal that authenticates with a client certificate (mutual TLS) is known to the ledger
//! by the SHA-256 digest of its certificate's DER encoding, written as upper-case hexadecimal
//! pairs separated by colons (`5F:23:3D:...`). That string is the user id to pass to the user
//! management calls.

use sha2::{Digest, Sha256};

/// The SHA-256 fingerprint of a DER-encoded certificate, as upper-case hex pairs separated by
/// colons: the user id the ledger gives a certificate user.
///
/// The input is hashed as given; it is not parsed, so any byte string yields a fingerprint.
/// Certificates read from PEM are decoded first by
/// [`CertificateCredential`](crate::CertificateCredential) and
/// [`PinnedCertificate`](crate::tls::PinnedCertificate), which expose their fingerprints.
///
/// # Examples
///
/// ```
/// use confidential_ledger::certificate_fingerprint;
///
/// let id = certificate_fingerprint(b"");
/// assert_eq!(
///     id,
///     "E3:B0:C4:42:98:FC:1C:14:9A:FB:F4:C8:99:6F:B9:24:\
///      27:AE:41:E4:64:9B:93:4C:A4:95:99:1B:78:52:B8:55"
/// );
/// ```
pub fn certificate_fingerprint(der: &[u8]) -> String {
    colon_hex(&Sha256::digest(der))
}

/// Upper-case hex pairs joined by `:`.
fn colon_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(bytes.len().saturating_mul(3));
    for (i, byte) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
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
            certificate_fingerprint(b"abc"),
            "BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:\
             B0:03:61:A3:96:17:7A:9C:B4:10:FF:61:F2:00:15:AD"
        );
    }

    #[test]
    fn format_is_32_upper_case_pairs() {
        let id = certificate_fingerprint(b"some certificate bytes");
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
}
