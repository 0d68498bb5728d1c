//! The X.509 certificates of a receipt's chain: decoding, ECDSA keys, endorsement checks.

use std::time::SystemTime;

use der::asn1::BitStringRef;
use der::oid::ObjectIdentifier;
use der::{Decode, Reader, SliceReader};
use p256::ecdsa::signature::hazmat::PrehashVerifier;
use sha2::{Digest as _, Sha256, Sha512};
use spki::AlgorithmIdentifierRef;
use x509_cert::TbsCertificate;

use super::Sha256Digest;

const ID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const SECP256R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const SECP384R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_WITH_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const ECDSA_WITH_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");

/// DER SubjectPublicKeyInfo prefix of an uncompressed P-256 key (the 65-byte point follows).
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];
/// DER SubjectPublicKeyInfo prefix of an uncompressed P-384 key (the 97-byte point follows).
const P384_SPKI_PREFIX: [u8; 23] = [
    0x30, 0x76, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b,
    0x81, 0x04, 0x00, 0x22, 0x03, 0x62, 0x00,
];

/// An ECDSA public key on one of the curves ledgers use, decoded (for the portable arithmetic)
/// and as its uncompressed SEC1 point `04 || x || y` (what ring and node ids take), so that
/// neither is recomputed from the other per use.
#[derive(Clone, Debug)]
pub(crate) enum PublicKey {
    P256(p256::ecdsa::VerifyingKey, [u8; 65]),
    P384(p384::ecdsa::VerifyingKey, [u8; 97]),
}

/// The uncompressed SEC1 encoding of a point decoded from `sec1`: `sec1` itself when it already
/// is one (a decoded point has canonical coordinates, so re-encoding it gives the same bytes),
/// otherwise `encode()`.
fn uncompressed<const N: usize>(sec1: &[u8], encode: impl FnOnce() -> Vec<u8>) -> [u8; N] {
    let mut out = [0; N];
    if sec1.len() == N && sec1.first() == Some(&0x04) {
        out.copy_from_slice(sec1);
    } else {
        let encoded = encode();
        if encoded.len() == N {
            out.copy_from_slice(&encoded);
        }
    }
    out
}

impl From<p256::ecdsa::VerifyingKey> for PublicKey {
    fn from(key: p256::ecdsa::VerifyingKey) -> Self {
        let point = uncompressed(&[], || key.to_sec1_point(false).as_bytes().to_vec());
        PublicKey::P256(key, point)
    }
}

impl From<p384::ecdsa::VerifyingKey> for PublicKey {
    fn from(key: p384::ecdsa::VerifyingKey) -> Self {
        let point = uncompressed(&[], || key.to_sec1_point(false).as_bytes().to_vec());
        PublicKey::P384(key, point)
    }
}

impl PublicKey {
    /// Decodes a SEC1 point (compressed or not) on `curve`; `Err` names what is wrong.
    fn from_sec1(curve: ObjectIdentifier, point: &[u8]) -> Result<Self, String> {
        if curve == SECP256R1 {
            let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(point)
                .map_err(|_| "invalid P-256 public key".to_owned())?;
            let encoded = uncompressed(point, || key.to_sec1_point(false).as_bytes().to_vec());
            Ok(PublicKey::P256(key, encoded))
        } else if curve == SECP384R1 {
            let key = p384::ecdsa::VerifyingKey::from_sec1_bytes(point)
                .map_err(|_| "invalid P-384 public key".to_owned())?;
            let encoded = uncompressed(point, || key.to_sec1_point(false).as_bytes().to_vec());
            Ok(PublicKey::P384(key, encoded))
        } else {
            Err(format!(
                "unsupported curve {curve} (P-256 and P-384 are supported)"
            ))
        }
    }

    /// Verifies a DER ECDSA signature over `prehash`, taken as the digest as is (no hashing).
    /// `None` when the signature is not a DER ECDSA signature for this curve.
    pub(crate) fn verify_prehash(&self, prehash: &[u8], der_signature: &[u8]) -> Option<bool> {
        match self {
            PublicKey::P256(key, _) => p256::ecdsa::DerSignature::from_bytes(der_signature)
                .ok()
                .map(|sig| key.verify_prehash(prehash, &sig).is_ok()),
            PublicKey::P384(key, _) => p384::ecdsa::DerSignature::from_bytes(der_signature)
                .ok()
                .map(|sig| key.verify_prehash(prehash, &sig).is_ok()),
        }
    }

    /// The key as an uncompressed SEC1 point (`04 || x || y`).
    fn sec1_uncompressed(&self) -> &[u8] {
        match self {
            PublicKey::P256(_, point) => point,
            PublicKey::P384(_, point) => point,
        }
    }

    /// SHA-256 of the key's DER SubjectPublicKeyInfo with the point uncompressed: a node id.
    pub(crate) fn spki_sha256(&self) -> Sha256Digest {
        let mut h = Sha256::new();
        match self {
            PublicKey::P256(..) => h.update(P256_SPKI_PREFIX),
            PublicKey::P384(..) => h.update(P384_SPKI_PREFIX),
        }
        h.update(self.sec1_uncompressed());
        Sha256Digest(h.finalize().into())
    }
}

/// Hash of a certificate signature, from its `signatureAlgorithm`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SignatureHash {
    Sha256,
    Sha384,
    Sha512,
}

/// A decoded certificate: what verifying a chain needs of it.
#[derive(Debug)]
pub(crate) struct Certificate {
    /// DER of the signed part (`tbsCertificate`), exactly as received.
    tbs: Vec<u8>,
    signature_hash: SignatureHash,
    /// DER ECDSA signature (the `signatureValue` bits).
    signature: Vec<u8>,
    pub(crate) key: PublicKey,
    pub(crate) not_before: SystemTime,
    pub(crate) not_after: SystemTime,
}

impl Certificate {
    /// Decodes a DER certificate whose key is an ECDSA P-256/P-384 key and whose signature
    /// algorithm is ECDSA with SHA-256/384/512.
    pub(crate) fn from_der(der: &[u8]) -> Result<Self, String> {
        let mut reader = SliceReader::new(der).map_err(|e| e.to_string())?;
        let (tbs, algorithm, signature) = reader
            .sequence(|r| {
                let tbs = r.tlv_bytes()?;
                let algorithm = AlgorithmIdentifierRef::decode(r)?;
                let signature = BitStringRef::decode(r)?;
                Ok::<_, der::Error>((tbs, algorithm, signature))
            })
            .map_err(|e| format!("not a DER X.509 certificate: {e}"))?;
        reader
            .finish()
            .map_err(|e| format!("data after the certificate: {e}"))?;
        let parsed = TbsCertificate::from_der(tbs)
            .map_err(|e| format!("not a DER X.509 certificate: {e}"))?;

        let signature_hash = signature_hash(&algorithm)?;
        let inner = parsed.signature();
        if inner.oid != algorithm.oid || inner.parameters.is_some() {
            return Err(
                "the signature algorithm inside the signed part differs from the outer one"
                    .to_owned(),
            );
        }
        let signature = signature
            .as_bytes()
            .ok_or("the signature is not a whole number of bytes")?
            .to_vec();

        let spki = parsed.subject_public_key_info();
        if spki.algorithm.oid != ID_EC_PUBLIC_KEY {
            return Err(format!(
                "the public key is not an elliptic-curve key (algorithm {})",
                spki.algorithm.oid
            ));
        }
        let curve = spki
            .algorithm
            .parameters
            .as_ref()
            .ok_or("the EC public key names no curve")?
            .decode_as::<ObjectIdentifier>()
            .map_err(|_| "the EC public key names no curve".to_owned())?;
        let point = spki
            .subject_public_key
            .as_bytes()
            .ok_or("the public key is not a whole number of bytes")?;
        let key = PublicKey::from_sec1(curve, point)?;
        let validity = parsed.validity();
        Ok(Certificate {
            tbs: tbs.to_vec(),
            signature_hash,
            signature,
            key,
            not_before: validity.not_before.to_system_time(),
            not_after: validity.not_after.to_system_time(),
        })
    }

    /// True when `issuer_key` signed this certificate: the ECDSA signature verifies over the
    /// hash of the signed part, with the hash named by this certificate's signature algorithm.
    ///
    /// The pairs ring implements (P-256 and P-384 with SHA-256 or SHA-384, the ones ledgers
    /// use) go through ring's assembly P-256/P-384 arithmetic, several times faster than the
    /// portable one; SHA-512 signatures are checked as a prehash. Both are plain ECDSA
    /// verification with the digest truncated to the curve order, so they accept the same
    /// signatures.
    pub(crate) fn is_signed_by(&self, issuer_key: &PublicKey) -> bool {
        use ring::signature;
        let algorithm: &'static signature::EcdsaVerificationAlgorithm =
            match (issuer_key, self.signature_hash) {
                (PublicKey::P256(..), SignatureHash::Sha256) => &signature::ECDSA_P256_SHA256_ASN1,
                (PublicKey::P256(..), SignatureHash::Sha384) => &signature::ECDSA_P256_SHA384_ASN1,
                (PublicKey::P384(..), SignatureHash::Sha256) => &signature::ECDSA_P384_SHA256_ASN1,
                (PublicKey::P384(..), SignatureHash::Sha384) => &signature::ECDSA_P384_SHA384_ASN1,
                (_, SignatureHash::Sha512) => {
                    return issuer_key.verify_prehash(&Sha512::digest(&self.tbs), &self.signature)
                        == Some(true);
                }
            };
        signature::UnparsedPublicKey::new(algorithm, issuer_key.sec1_uncompressed())
            .verify(&self.tbs, &self.signature)
            .is_ok()
    }
}

fn signature_hash(algorithm: &AlgorithmIdentifierRef<'_>) -> Result<SignatureHash, String> {
    let hash = match algorithm.oid {
        oid if oid == ECDSA_WITH_SHA256 => SignatureHash::Sha256,
        oid if oid == ECDSA_WITH_SHA384 => SignatureHash::Sha384,
        oid if oid == ECDSA_WITH_SHA512 => SignatureHash::Sha512,
        oid => {
            return Err(format!(
                "unsupported signature algorithm {oid} (ECDSA with SHA-256/384/512 is supported)"
            ));
        }
    };
    // RFC 5758: the ecdsa-with-SHA* identifiers take no parameters.
    if algorithm.parameters.is_some() {
        return Err("ECDSA signature algorithm with parameters".to_owned());
    }
    Ok(hash)
}

#[cfg(test)]
mod tests {
    use p256::ecdsa::signature::hazmat::PrehashSigner;
    use sha2::Sha384;

    use super::*;

    /// A certificate whose signed part is `tbs`, signed by `sign` over the `hash` of it.
    fn signed(tbs: &[u8], hash: SignatureHash, sign: impl Fn(&[u8]) -> Vec<u8>) -> Certificate {
        let digest = match hash {
            SignatureHash::Sha256 => Sha256::digest(tbs).to_vec(),
            SignatureHash::Sha384 => Sha384::digest(tbs).to_vec(),
            SignatureHash::Sha512 => Sha512::digest(tbs).to_vec(),
        };
        Certificate {
            tbs: tbs.to_vec(),
            signature_hash: hash,
            signature: sign(&digest),
            key: PublicKey::from(
                *p256::ecdsa::SigningKey::from_slice(&[3; 32])
                    .unwrap()
                    .verifying_key(),
            ),
            not_before: SystemTime::UNIX_EPOCH,
            not_after: SystemTime::UNIX_EPOCH,
        }
    }

    /// Every curve and hash pair a certificate may use: a signature over the signed part
    /// verifies under the issuer's key, and not after one byte of the signed part changes,
    /// nor under another key.
    #[test]
    fn certificate_signatures_verify_for_every_curve_and_hash() {
        let p256_key = p256::ecdsa::SigningKey::from_slice(&[7; 32]).unwrap();
        let p384_key = p384::ecdsa::SigningKey::from_slice(&[9; 48]).unwrap();
        let other_p256 = p256::ecdsa::SigningKey::from_slice(&[8; 32]).unwrap();
        let other_p384 = p384::ecdsa::SigningKey::from_slice(&[10; 48]).unwrap();
        let sign_p256 = |digest: &[u8]| {
            let sig: p256::ecdsa::Signature = p256_key.sign_prehash(digest).unwrap();
            sig.to_der().as_bytes().to_vec()
        };
        let sign_p384 = |digest: &[u8]| {
            let sig: p384::ecdsa::Signature = p384_key.sign_prehash(digest).unwrap();
            sig.to_der().as_bytes().to_vec()
        };
        let tbs = b"the signed part of a certificate".as_slice();
        for hash in [
            SignatureHash::Sha256,
            SignatureHash::Sha384,
            SignatureHash::Sha512,
        ] {
            for (issuer, other, sign) in [
                (
                    PublicKey::from(*p256_key.verifying_key()),
                    PublicKey::from(*other_p256.verifying_key()),
                    &sign_p256 as &dyn Fn(&[u8]) -> Vec<u8>,
                ),
                (
                    PublicKey::from(*p384_key.verifying_key()),
                    PublicKey::from(*other_p384.verifying_key()),
                    &sign_p384,
                ),
            ] {
                let cert = signed(tbs, hash, sign);
                assert!(cert.is_signed_by(&issuer), "{hash:?} {issuer:?}");
                assert!(!cert.is_signed_by(&other), "{hash:?} {issuer:?}");
                let mut changed = signed(tbs, hash, sign);
                changed.tbs[5] ^= 1;
                assert!(!changed.is_signed_by(&issuer), "{hash:?} {issuer:?}");
                let mut bad_der = signed(tbs, hash, sign);
                bad_der.signature.push(0);
                assert!(!bad_der.is_signed_by(&issuer), "{hash:?} {issuer:?}");
            }
        }
    }
}
