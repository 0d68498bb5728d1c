//! Step 3: the node's ECDSA signature over the Merkle root.
//!
//! The 32-byte root *is* the digest `e` (a prehash), and ring, whose assembly P-256/P-384 is
//! several times faster than the portable RustCrypto arithmetic, only verifies signatures over
//! a message it hashes itself (`e' = H(m)`, with `H` SHA-256 for P-256, SHA-384 for P-384). The
//! check is moved onto ring exactly, by shifting the key instead of the digest.
//!
//! ECDSA accepts `(r, s)` for digest `e` under key `Q` when `R = (e/s)·G + (r/s)·Q` is not the
//! point at infinity and `x(R) mod n = r`. With any message `m`, `e' = H(m) mod n` and
//! `Q' = Q + ((e − e')/r)·G`:
//!
//! ```text
//! (e'/s)·G + (r/s)·Q' = (e'/s)·G + (r/s)·Q + ((e − e')/s)·G = (e/s)·G + (r/s)·Q = R
//! ```
//!
//! so ring's verification of `(r, s)` over `m` (here the root itself, as a message) under `Q'`
//! computes the very same point `R` and makes the very same decision. `r` is never 0 (the DER
//! decoding rejects it, as ring would), so `1/r` exists. The shift costs one variable-time
//! multiplication of the (public) scalar by the generator from a table of its multiples
//! ([`super::generator_multiples`] for P-256, RustCrypto's table for P-384): for P-256 about an
//! eighth of a portable verification. When `Q'` happens to be the point at infinity (it cannot
//! be encoded as a key), the portable verification decides instead.
//!
//! Everything here is public (key, root, signature): nothing is secret, so variable time is
//! fine. The DER signature is decoded by the same strict RustCrypto decoder on both paths, so
//! both accept exactly the same encodings.

use p256::elliptic_curve::group::Group as _;
use p256::elliptic_curve::ops::{MulByGeneratorVartime, Reduce};
use p256::elliptic_curve::sec1::ToSec1Point as _;
use ring::signature::{self, EcdsaVerificationAlgorithm, UnparsedPublicKey};

use super::certificate::PublicKey;
use super::generator_multiples;

/// Verifies the DER ECDSA signature `der_signature` under `key` with `root` as the digest
/// (through ring, see the module documentation). `None` when the signature is not a DER ECDSA
/// signature for the key's curve.
pub(crate) fn verify(key: &PublicKey, root: &[u8; 32], der_signature: &[u8]) -> Option<bool> {
    match key {
        PublicKey::P256(q, _) => {
            let sig = p256::ecdsa::Signature::from_der(der_signature).ok()?;
            Some(match p256_shifted_key(q, root, &sig) {
                Some(shifted) => ring_verifies(
                    &signature::ECDSA_P256_SHA256_FIXED,
                    &shifted,
                    root,
                    &sig.to_bytes(),
                ),
                None => key.verify_prehash(root, der_signature) == Some(true),
            })
        }
        PublicKey::P384(q, _) => {
            let sig = p384::ecdsa::Signature::from_der(der_signature).ok()?;
            Some(match p384_shifted_key(q, root, &sig) {
                Some(shifted) => ring_verifies(
                    &signature::ECDSA_P384_SHA384_FIXED,
                    &shifted,
                    root,
                    &sig.to_bytes(),
                ),
                None => key.verify_prehash(root, der_signature) == Some(true),
            })
        }
    }
}

/// ring's verdict on the fixed-size signature `r || s` over `message` under the uncompressed
/// SEC1 key `key`.
fn ring_verifies(
    algorithm: &'static EcdsaVerificationAlgorithm,
    key: &[u8],
    message: &[u8],
    fixed_signature: &[u8],
) -> bool {
    UnparsedPublicKey::new(algorithm, key)
        .verify(message, fixed_signature)
        .is_ok()
}

/// The shift `k = (e − e')/r` for verifying over the message `root` with ring (`None` only if
/// `r` had no inverse, which the DER decoding already excluded).
///
/// The same function for both curves (the types differ, the steps do not).
macro_rules! shift_scalar {
    ($name:ident, $curve:ident, $digest:ty) => {
        fn $name(root: &[u8; 32], sig: &$curve::ecdsa::Signature) -> Option<$curve::Scalar> {
            use sha2::Digest as _;
            // The digest as the portable verification takes it: the root as a big-endian
            // integer (left-padded to the field size), reduced modulo n.
            let mut padded = $curve::FieldBytes::default();
            let offset = padded.len() - root.len();
            padded[offset..].copy_from_slice(root);
            let e = <$curve::Scalar as Reduce<$curve::FieldBytes>>::reduce(&padded);
            // The digest ring will compute for the message `root`: its full hash as a
            // big-endian integer modulo n (the hash is exactly as long as the field).
            let hashed = <$digest>::digest(root);
            let e_ring = <$curve::Scalar as Reduce<$curve::FieldBytes>>::reduce(
                &$curve::FieldBytes::try_from(hashed.as_slice()).ok()?,
            );
            let r_inverse: $curve::Scalar = Option::from(sig.r().invert_vartime())?;
            Some((e - e_ring) * r_inverse)
        }
    };
}

shift_scalar!(p256_shift, p256, sha2::Sha256);
shift_scalar!(p384_shift, p384, sha2::Sha384);

/// The shifted P-256 key `Q' = Q + k·G` as an uncompressed SEC1 point, or `None` when it is
/// the point at infinity (the portable verification then decides).
fn p256_shifted_key(
    q: &p256::ecdsa::VerifyingKey,
    root: &[u8; 32],
    sig: &p256::ecdsa::Signature,
) -> Option<Vec<u8>> {
    let k = p256_shift(root, sig)?;
    generator_multiples::add_multiple_of_generator(q.as_affine(), &k).map(Vec::from)
}

/// The shifted P-384 key, as [`p256_shifted_key`] (with RustCrypto's table of multiples of
/// the generator).
fn p384_shifted_key(
    q: &p384::ecdsa::VerifyingKey,
    root: &[u8; 32],
    sig: &p384::ecdsa::Signature,
) -> Option<Vec<u8>> {
    let k = p384_shift(root, sig)?;
    let shifted = p384::ProjectivePoint::from(*q.as_affine())
        + <p384::ProjectivePoint as MulByGeneratorVartime>::mul_by_generator_vartime(&k);
    if bool::from(shifted.is_identity()) {
        return None;
    }
    Some(shifted.to_affine().to_sec1_point(false).as_bytes().to_vec())
}

#[cfg(test)]
mod tests {
    use p256::ecdsa::signature::hazmat::PrehashSigner;
    use sha2::{Digest as _, Sha256};

    use super::*;

    fn p256_key(seed: u8) -> p256::ecdsa::SigningKey {
        p256::ecdsa::SigningKey::from_slice(&[seed; 32]).unwrap()
    }

    fn p384_key(seed: u8) -> p384::ecdsa::SigningKey {
        p384::ecdsa::SigningKey::from_slice(&[seed; 48]).unwrap()
    }

    /// For each curve: the key, a wrong key of the same curve and a DER signature over `root`
    /// as the prehash.
    fn signed(root: &[u8; 32]) -> [(PublicKey, PublicKey, Vec<u8>); 2] {
        let s256: p256::ecdsa::Signature = p256_key(7).sign_prehash(root).unwrap();
        let s384: p384::ecdsa::Signature = p384_key(9).sign_prehash(root).unwrap();
        [
            (
                PublicKey::from(*p256_key(7).verifying_key()),
                PublicKey::from(*p256_key(8).verifying_key()),
                s256.to_der().as_bytes().to_vec(),
            ),
            (
                PublicKey::from(*p384_key(9).verifying_key()),
                PublicKey::from(*p384_key(10).verifying_key()),
                s384.to_der().as_bytes().to_vec(),
            ),
        ]
    }

    /// Both verifications: through ring, and the portable one.
    fn both(key: &PublicKey, root: &[u8; 32], der: &[u8]) -> [Option<bool>; 2] {
        [verify(key, root, der), key.verify_prehash(root, der)]
    }

    #[test]
    fn accepts_the_signature_and_rejects_any_change() {
        let root = [0x5a; 32];
        for (key, wrong_key, der) in signed(&root) {
            assert_eq!(both(&key, &root, &der), [Some(true); 2], "{key:?}");
            assert_eq!(both(&wrong_key, &root, &der), [Some(false); 2], "{key:?}");
            for byte in 0..32 {
                let mut other = root;
                other[byte] ^= 0x80;
                assert_eq!(both(&key, &other, &der), [Some(false); 2], "{key:?}");
            }
            // The last byte of the DER is the last byte of s.
            let mut flipped = der.clone();
            let last = flipped.len() - 1;
            flipped[last] ^= 1;
            assert_eq!(both(&key, &root, &flipped), [Some(false); 2], "{key:?}");
            // Not DER: trailing byte, truncated, empty.
            let mut trailing = der.clone();
            trailing.push(0);
            assert_eq!(both(&key, &root, &trailing), [None; 2], "{key:?}");
            assert_eq!(both(&key, &root, &der[..der.len() - 1]), [None; 2]);
            assert_eq!(both(&key, &root, &[]), [None; 2]);
        }
    }

    #[test]
    fn the_root_is_the_digest_not_hashed_again() {
        let root = [0x11; 32];
        let hashed: [u8; 32] = Sha256::digest(root).into();
        // A signature over SHA-256(root) is a signature over the message root (what ring
        // checks natively), not over the digest root.
        let sig: p256::ecdsa::Signature = p256_key(7).sign_prehash(&hashed).unwrap();
        let key = PublicKey::from(*p256_key(7).verifying_key());
        let der = sig.to_der();
        assert_eq!(verify(&key, &root, der.as_bytes()), Some(false));
        assert_eq!(verify(&key, &hashed, der.as_bytes()), Some(true));
    }

    #[test]
    fn agrees_with_the_portable_verification_on_many_roots() {
        // Roots whose integer exceeds the P-256 order (all 0xff), zero and one, and hashes.
        let mut roots: Vec<[u8; 32]> = vec![[0xff; 32], [0; 32], {
            let mut r = [0; 32];
            r[31] = 1;
            r
        }];
        roots.extend((0u8..48).map(|i| -> [u8; 32] { Sha256::digest([i]).into() }));
        for (i, root) in roots.iter().enumerate() {
            for (key, wrong_key, der) in signed(root) {
                assert_eq!(both(&key, root, &der), [Some(true); 2], "root {i}");
                assert_eq!(both(&wrong_key, root, &der), [Some(false); 2], "root {i}");
                // The signature of the next root, over this root.
                let next = &roots[(i + 1) % roots.len()];
                let [(.., other_der), (.., other_der_384)] = signed(next);
                let other = match key {
                    PublicKey::P256(..) => other_der,
                    PublicKey::P384(..) => other_der_384,
                };
                assert_eq!(both(&key, root, &other), [Some(false); 2], "root {i}");
            }
        }
    }

    #[test]
    fn a_shift_to_the_point_at_infinity_falls_back_to_the_portable_check() {
        use p256::elliptic_curve::PrimeField as _;
        use p256::elliptic_curve::point::AffineCoordinates as _;
        use p256::{FieldBytes, ProjectivePoint, Scalar};
        // A key and a valid signature for which Q' = Q + ((e − e')/r)·G is the point at
        // infinity: pick the nonce t (so r), then the private key d = −(e − e')/r, then s.
        let root = [0x42; 32];
        let e = <Scalar as Reduce<FieldBytes>>::reduce(&root.into());
        let hashed: [u8; 32] = Sha256::digest(root).into();
        let e_ring = <Scalar as Reduce<FieldBytes>>::reduce(&hashed.into());
        let t = Scalar::from(123_456_789u64);
        let r = <Scalar as Reduce<FieldBytes>>::reduce(
            &(ProjectivePoint::GENERATOR * t).to_affine().x(),
        );
        let d = -((e - e_ring) * r.invert().unwrap());
        let s = (e + r * d) * t.invert().unwrap();
        let sig = p256::ecdsa::Signature::from_scalars(r.to_repr(), s.to_repr()).unwrap();
        let vk =
            p256::ecdsa::VerifyingKey::from_affine((ProjectivePoint::GENERATOR * d).to_affine())
                .unwrap();
        assert_eq!(p256_shifted_key(&vk, &root, &sig), None);
        let key = PublicKey::from(vk);
        let der = sig.to_der();
        assert_eq!(both(&key, &root, der.as_bytes()), [Some(true); 2]);
        let mut other = root;
        other[0] ^= 1;
        assert_eq!(both(&key, &other, der.as_bytes()), [Some(false); 2]);
    }
}
