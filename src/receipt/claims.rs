//! Application claims and the claims digest a receipt commits to (step 7).
//!
//! A transaction may carry application claims; the ledger stores only their digest in the
//! transaction's leaf (`claimsDigest`) and returns the claims themselves beside the receipt
//! (`applicationClaims`). Recomputing the digest proves the claims are the ones the ledger
//! recorded:
//!
//! ```text
//! LedgerEntry (protocol LedgerEntryV1):
//!     k = base64-decode(secretKey)
//!     inner = SHA-256( HMAC-SHA256(k, collectionId) || HMAC-SHA256(k, contents) )
//!     d = SHA-256( "LedgerEntryV1" || inner )
//! ClaimDigest:
//!     d = SHA-256( utf8(protocol) || hex-decode(value) )
//! claimsDigest = SHA-256( u32-little-endian(number of claims) || d_1 || ... || d_n )
//! ```

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

use super::{Sha256Digest, encoding};

/// The only `LedgerEntry` claim protocol ledgers use.
pub const LEDGER_ENTRY_V1: &str = "LedgerEntryV1";

/// One application claim of a transaction (an element of `applicationClaims`).
///
/// Claims of a kind this crate does not know deserialise as [`ApplicationClaim::Other`], so a
/// newer ledger does not break parsing; digesting them fails with
/// [`ClaimsError::UnsupportedKind`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ApplicationClaim {
    /// `{"kind": "LedgerEntry", "ledgerEntry": {...}}`: the entry written, bound by a secret key.
    LedgerEntry(LedgerEntryClaim),
    /// `{"kind": "ClaimDigest", "digest": {...}}`: a digest chosen by the application.
    ClaimDigest(ClaimDigest),
    /// A claim of another kind, as received.
    Other(Value),
}

/// A `LedgerEntry` claim: the entry's collection and contents, bound with a per-entry secret.
///
/// Its [`Debug`](fmt::Debug) output hides the secret key.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntryClaim {
    /// The entry's collection (`collectionId`).
    #[serde(rename = "collectionId", alias = "collection_id")]
    pub collection_id: String,
    /// The entry's contents (`contents`).
    pub contents: String,
    /// Claim protocol (`protocol`); only [`LEDGER_ENTRY_V1`] exists.
    pub protocol: String,
    /// Base64 of the per-entry secret key (`secretKey`).
    #[serde(rename = "secretKey", alias = "secret_key")]
    pub secret_key: String,
}

impl fmt::Debug for LedgerEntryClaim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LedgerEntryClaim")
            .field("collection_id", &self.collection_id)
            .field("contents", &self.contents)
            .field("protocol", &self.protocol)
            .field("secret_key", &"<redacted>")
            .finish()
    }
}

/// A `ClaimDigest` claim: a protocol name and a hex digest chosen by the application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimDigest {
    /// Protocol name (`protocol`), hashed as UTF-8 before the value.
    pub protocol: String,
    /// The digest, lowercase hex (`value`).
    pub value: String,
}

/// An application claim cannot be digested.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClaimsError {
    /// Claim `index` is of a kind this crate cannot digest.
    #[error("application claim {index} is of unsupported kind {kind:?}")]
    UnsupportedKind {
        /// Position in the claims list.
        index: usize,
        /// The claim's `kind`.
        kind: String,
    },
    /// Claim `index` is a `LedgerEntry` claim with a protocol other than `LedgerEntryV1`.
    #[error("application claim {index} uses unsupported protocol {protocol:?}")]
    UnsupportedProtocol {
        /// Position in the claims list.
        index: usize,
        /// The claim's `protocol`.
        protocol: String,
    },
    /// Claim `index` has a secret key that is not canonical base64, or a digest value that is
    /// not lowercase hex.
    #[error("application claim {index}: `{field}` is malformed: {reason}")]
    Malformed {
        /// Position in the claims list.
        index: usize,
        /// The offending field.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// More claims than a claims digest can count.
    #[error("too many application claims")]
    TooMany,
}

impl ApplicationClaim {
    /// A `LedgerEntryV1` claim for an entry written to `collection_id` with `contents`, bound
    /// by `secret_key`.
    pub fn ledger_entry(collection_id: &str, contents: &str, secret_key: &[u8]) -> Self {
        ApplicationClaim::LedgerEntry(LedgerEntryClaim {
            collection_id: collection_id.to_owned(),
            contents: contents.to_owned(),
            protocol: LEDGER_ENTRY_V1.to_owned(),
            secret_key: encoding::base64_string(secret_key),
        })
    }

    /// The digest `d` of this claim (see [`claims_digest`] for the formulas).
    ///
    /// # Errors
    ///
    /// [`ClaimsError`] for claims of unknown kinds or protocols, or with malformed fields
    /// (reported as claim 0).
    pub fn digest(&self) -> Result<Sha256Digest, ClaimsError> {
        self.digest_at(0)
    }

    fn digest_at(&self, index: usize) -> Result<Sha256Digest, ClaimsError> {
        match self {
            ApplicationClaim::LedgerEntry(e) => {
                if e.protocol != LEDGER_ENTRY_V1 {
                    return Err(ClaimsError::UnsupportedProtocol {
                        index,
                        protocol: e.protocol.clone(),
                    });
                }
                let key = encoding::base64_strict(&e.secret_key).map_err(|reason| {
                    ClaimsError::Malformed {
                        index,
                        field: "secretKey",
                        reason,
                    }
                })?;
                Ok(ledger_entry_claim(&e.collection_id, &e.contents, &key))
            }
            ApplicationClaim::ClaimDigest(c) => {
                let value =
                    encoding::hex_vec(&c.value).map_err(|reason| ClaimsError::Malformed {
                        index,
                        field: "value",
                        reason,
                    })?;
                Ok(Sha256Digest::of_parts(&[c.protocol.as_bytes(), &value]))
            }
            ApplicationClaim::Other(v) => Err(ClaimsError::UnsupportedKind {
                index,
                kind: v
                    .get("kind")
                    .map(|k| match k {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .unwrap_or_default(),
            }),
        }
    }
}

/// The claim digest `d` of a `LedgerEntryV1` claim: `SHA-256("LedgerEntryV1" || SHA-256(
/// HMAC-SHA256(secret_key, collection_id) || HMAC-SHA256(secret_key, contents)))`.
///
/// `secret_key` is the raw key (the claim carries it base64-encoded).
///
/// # Examples
///
/// ```
/// use confidential_ledger::receipt::{claims_digest_of, ledger_entry_claim};
///
/// let d = ledger_entry_claim("subledger:0", "Hello world", b"0123456789abcdef0123456789abcdef");
/// // A receipt whose only claim is this entry states this claims digest:
/// let claims_digest = claims_digest_of(&[d]);
/// assert_ne!(claims_digest, d);
/// ```
pub fn ledger_entry_claim(collection_id: &str, contents: &str, secret_key: &[u8]) -> Sha256Digest {
    let hmac = |data: &[u8]| -> [u8; 32] {
        // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
        match <Hmac<Sha256> as KeyInit>::new_from_slice(secret_key) {
            Ok(mut mac) => {
                mac.update(data);
                mac.finalize().into_bytes().into()
            }
            Err(_) => [0; 32],
        }
    };
    let inner = Sha256::new()
        .chain_update(hmac(collection_id.as_bytes()))
        .chain_update(hmac(contents.as_bytes()))
        .finalize();
    Sha256Digest::of_parts(&[LEDGER_ENTRY_V1.as_bytes(), &inner])
}

/// The claims digest of a transaction whose only application claim is a `LedgerEntryV1` claim
/// for (`collection_id`, `contents`, `secret_key`): what its receipt states as `claimsDigest`.
///
/// # Examples
///
/// ```
/// use base64::Engine as _;
/// use confidential_ledger::receipt::ledger_entry_claims_digest;
///
/// let key = base64::engine::general_purpose::STANDARD
///     .decode("Jde/VvaIfyrjQ/B19P+UJCBwmcrgN7sERStoyHnYO0M=")
///     .unwrap();
/// assert_eq!(
///     ledger_entry_claims_digest("subledger:0", "Hello world", &key).to_string(),
///     "d08d8764437d09b2d4d07d52293cddaf40f44a3ea2176a0528819a80002df9f6"
/// );
/// ```
pub fn ledger_entry_claims_digest(
    collection_id: &str,
    contents: &str,
    secret_key: &[u8],
) -> Sha256Digest {
    claims_digest_of(&[ledger_entry_claim(collection_id, contents, secret_key)])
}

/// The claims digest of a list of application claims, in order:
/// `SHA-256(u32-little-endian(n) || d_1 || ... || d_n)`.
///
/// The digest `d` of each claim depends on its kind:
///
/// ```text
/// LedgerEntry (protocol LedgerEntryV1):
///     k = base64-decode(secretKey)
///     inner = SHA-256( HMAC-SHA256(k, collectionId) || HMAC-SHA256(k, contents) )
///     d = SHA-256( "LedgerEntryV1" || inner )
/// ClaimDigest:
///     d = SHA-256( utf8(protocol) || hex-decode(value) )
/// ```
///
/// An empty list digests like any other (`SHA-256(00000000)`); note that a transaction without
/// claims states 32 zero bytes instead.
///
/// # Errors
///
/// [`ClaimsError`] when a claim cannot be digested.
///
/// # Examples
///
/// ```
/// use confidential_ledger::receipt::{ApplicationClaim, claims_digest};
///
/// let claims: Vec<ApplicationClaim> = serde_json::from_str(r#"[{
///     "kind": "LedgerEntry",
///     "ledgerEntry": {
///         "collectionId": "subledger:0",
///         "contents": "Hello world",
///         "protocol": "LedgerEntryV1",
///         "secretKey": "Jde/VvaIfyrjQ/B19P+UJCBwmcrgN7sERStoyHnYO0M="
///     }
/// }]"#)?;
/// assert_eq!(
///     claims_digest(&claims)?.to_string(),
///     "d08d8764437d09b2d4d07d52293cddaf40f44a3ea2176a0528819a80002df9f6"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn claims_digest(claims: &[ApplicationClaim]) -> Result<Sha256Digest, ClaimsError> {
    let digests = claims
        .iter()
        .enumerate()
        .map(|(i, c)| c.digest_at(i))
        .collect::<Result<Vec<_>, _>>()?;
    if u32::try_from(digests.len()).is_err() {
        return Err(ClaimsError::TooMany);
    }
    Ok(claims_digest_of(&digests))
}

/// The claims digest of already digested claims `d_1..d_n` (see [`claims_digest`]).
///
/// # Panics
///
/// Never for lists a process can hold in memory in practice; lists of more than `u32::MAX`
/// digests are counted modulo 2^32.
pub fn claims_digest_of(claim_digests: &[Sha256Digest]) -> Sha256Digest {
    let count = (claim_digests.len() as u64 & u64::from(u32::MAX)) as u32;
    let mut h = Sha256::new();
    h.update(count.to_le_bytes());
    for d in claim_digests {
        h.update(d.as_bytes());
    }
    Sha256Digest(h.finalize().into())
}

impl Serialize for ApplicationClaim {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Tagged<'a, T: Serialize> {
            kind: &'static str,
            #[serde(rename = "ledgerEntry", skip_serializing_if = "Option::is_none")]
            ledger_entry: Option<&'a T>,
            #[serde(skip_serializing_if = "Option::is_none")]
            digest: Option<&'a T>,
        }
        match self {
            ApplicationClaim::LedgerEntry(e) => Tagged {
                kind: "LedgerEntry",
                ledger_entry: Some(e),
                digest: None,
            }
            .serialize(serializer),
            ApplicationClaim::ClaimDigest(d) => Tagged {
                kind: "ClaimDigest",
                ledger_entry: None,
                digest: Some(d),
            }
            .serialize(serializer),
            ApplicationClaim::Other(v) => v.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for ApplicationClaim {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut map = Map::<String, Value>::deserialize(deserializer)?;
        let kind = match map.get("kind") {
            Some(Value::String(k)) => k.clone(),
            Some(_) => return Err(D::Error::custom("application claim `kind` is not a string")),
            None => return Err(D::Error::missing_field("kind")),
        };
        let take = |map: &mut Map<String, Value>, camel: &str, snake: &str| {
            map.remove(camel).or_else(|| map.remove(snake))
        };
        match kind.as_str() {
            "LedgerEntry" => {
                let v = take(&mut map, "ledgerEntry", "ledger_entry")
                    .ok_or_else(|| D::Error::missing_field("ledgerEntry"))?;
                LedgerEntryClaim::deserialize(v)
                    .map(ApplicationClaim::LedgerEntry)
                    .map_err(|e| D::Error::custom(format!("`ledgerEntry`: {e}")))
            }
            "ClaimDigest" => {
                let v = take(&mut map, "digest", "digest")
                    .ok_or_else(|| D::Error::missing_field("digest"))?;
                ClaimDigest::deserialize(v)
                    .map(ApplicationClaim::ClaimDigest)
                    .map_err(|e| D::Error::custom(format!("`digest`: {e}")))
            }
            _ => Ok(ApplicationClaim::Other(Value::Object(map))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ledger_entry_v1_vector() {
        let key = encoding::base64_strict("Jde/VvaIfyrjQ/B19P+UJCBwmcrgN7sERStoyHnYO0M=")
            .unwrap_or_default();
        assert_eq!(
            ledger_entry_claims_digest("subledger:0", "Hello world", &key).to_hex(),
            "d08d8764437d09b2d4d07d52293cddaf40f44a3ea2176a0528819a80002df9f6"
        );
        let claim = ApplicationClaim::ledger_entry("subledger:0", "Hello world", &key);
        assert_eq!(
            claims_digest(&[claim]).map(|d| d.to_hex()),
            Ok("d08d8764437d09b2d4d07d52293cddaf40f44a3ea2176a0528819a80002df9f6".to_owned())
        );
    }

    #[test]
    fn claim_digest_kind_hashes_protocol_then_value() {
        let claim = ApplicationClaim::ClaimDigest(ClaimDigest {
            protocol: "p".into(),
            value: "00ff".into(),
        });
        assert_eq!(claim.digest(), Ok(Sha256Digest::of(b"p\x00\xff")));
        let bad = ApplicationClaim::ClaimDigest(ClaimDigest {
            protocol: "p".into(),
            value: "0G".into(),
        });
        assert!(matches!(
            claims_digest(&[claim, bad]),
            Err(ClaimsError::Malformed {
                index: 1,
                field: "value",
                ..
            })
        ));
    }

    #[test]
    fn unknown_kinds_parse_but_do_not_digest() {
        let claims: Vec<ApplicationClaim> =
            serde_json::from_str(r#"[{"kind": "Future", "x": 1}]"#).unwrap_or_default();
        assert_eq!(claims.len(), 1);
        assert!(matches!(
            claims_digest(&claims),
            Err(ClaimsError::UnsupportedKind { index: 0, ref kind }) if kind == "Future"
        ));
        let text = serde_json::to_string(&claims).unwrap_or_default();
        assert_eq!(text, r#"[{"kind":"Future","x":1}]"#);
    }

    #[test]
    fn secret_key_is_redacted_and_checked() {
        let claim = LedgerEntryClaim {
            collection_id: "c".into(),
            contents: "x".into(),
            protocol: LEDGER_ENTRY_V1.into(),
            secret_key: "c2VjcmV0".into(),
        };
        assert!(!format!("{claim:?}").contains("c2VjcmV0"));
        let mut bad = claim.clone();
        bad.secret_key = "not base64!".into();
        assert!(matches!(
            ApplicationClaim::LedgerEntry(bad).digest(),
            Err(ClaimsError::Malformed {
                field: "secretKey",
                ..
            })
        ));
        let mut v2 = claim;
        v2.protocol = "LedgerEntryV2".into();
        assert!(matches!(
            ApplicationClaim::LedgerEntry(v2).digest(),
            Err(ClaimsError::UnsupportedProtocol { .. })
        ));
    }

    #[test]
    fn claims_round_trip_in_camel_case() {
        let json = r#"[{"kind":"LedgerEntry","ledgerEntry":{"collectionId":"c","contents":"x","protocol":"LedgerEntryV1","secretKey":"AA=="}},{"kind":"ClaimDigest","digest":{"protocol":"p","value":"00"}}]"#;
        let claims: Vec<ApplicationClaim> = serde_json::from_str(json).unwrap_or_default();
        assert_eq!(claims.len(), 2);
        assert_eq!(serde_json::to_string(&claims).unwrap_or_default(), json);
        let snake = r#"[{"kind":"LedgerEntry","ledger_entry":{"collection_id":"c","contents":"x","protocol":"LedgerEntryV1","secret_key":"AA=="}}]"#;
        let parsed: Vec<ApplicationClaim> = serde_json::from_str(snake).unwrap_or_default();
        assert_eq!(parsed.first(), claims.first());
    }
}
