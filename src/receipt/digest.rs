//! [`Sha256Digest`], the 32-byte value every hash in a receipt is.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest as _, Sha256};

use super::encoding;

/// A SHA-256 digest: a Merkle tree node, a leaf component, a claims digest or a node id.
///
/// It is written as 64 lowercase hex digits ([`Display`](fmt::Display), serde), the spelling
/// receipts use.
///
/// # Examples
///
/// ```
/// use confidential_ledger::receipt::Sha256Digest;
///
/// let d = Sha256Digest::of(b"abc");
/// assert_eq!(
///     d.to_string(),
///     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
/// );
/// assert_eq!("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad".parse(), Ok(d));
/// assert!(Sha256Digest::ZERO.is_zero());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Sha256Digest(pub [u8; 32]);

impl Sha256Digest {
    /// 32 zero bytes: the claims digest of a transaction without application claims, and the
    /// leaf of transaction 0.
    pub const ZERO: Sha256Digest = Sha256Digest([0; 32]);

    /// SHA-256 of `data`.
    pub fn of(data: &[u8]) -> Self {
        Sha256Digest(Sha256::digest(data).into())
    }

    /// SHA-256 of the concatenation of `parts`.
    pub fn of_parts(parts: &[&[u8]]) -> Self {
        let mut h = Sha256::new();
        for part in parts {
            h.update(part);
        }
        Sha256Digest(h.finalize().into())
    }

    /// Parses 64 lowercase hex digits.
    ///
    /// # Errors
    ///
    /// [`InvalidDigest`] for any other text (wrong length, upper case, whitespace...).
    pub fn from_hex(text: &str) -> Result<Self, InvalidDigest> {
        encoding::hex_array(text)
            .map(Sha256Digest)
            .map_err(InvalidDigest)
    }

    /// The digest as 64 lowercase hex digits.
    pub fn to_hex(&self) -> String {
        encoding::hex_string(&self.0)
    }

    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// True for [`Sha256Digest::ZERO`].
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 32]
    }
}

impl From<[u8; 32]> for Sha256Digest {
    fn from(bytes: [u8; 32]) -> Self {
        Sha256Digest(bytes)
    }
}

impl From<Sha256Digest> for [u8; 32] {
    fn from(d: Sha256Digest) -> Self {
        d.0
    }
}

impl AsRef<[u8]> for Sha256Digest {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Display for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256Digest({})", self.to_hex())
    }
}

impl std::str::FromStr for Sha256Digest {
    type Err = InvalidDigest;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Sha256Digest::from_hex(s)
    }
}

impl Serialize for Sha256Digest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Sha256Digest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Sha256Digest::from_hex(&text).map_err(serde::de::Error::custom)
    }
}

/// Text that is not 64 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid SHA-256 digest: {0}")]
pub struct InvalidDigest(String);
