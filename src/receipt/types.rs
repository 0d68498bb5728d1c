//! The receipt as ledgers return it, and the `GET /app/transactions/{id}/receipt` response.
//!
//! Values are kept exactly as written (strings), so a receipt re-serialises to what was
//! received and verification can say precisely which field is malformed.

use serde::de::{Error as _, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::{ApplicationClaim, ReceiptError};

/// A write receipt: the proof that a transaction is in the ledger, signed by a ledger node.
///
/// Deserialises every shape ledgers have produced: camelCase keys (`leafComponents`, `nodeId`,
/// `serviceEndorsements`...) or snake_case ones (`leaf_components`, `node_id`, ...), unknown
/// keys (kept in [`additional_properties`](Self::additional_properties)), missing `nodeId`,
/// `serviceEndorsements` or `claimsDigest`, signature-transaction receipts (`leaf` and an empty
/// `proof`) and very old receipts (`leaf` and `root`). It serialises back in camelCase.
///
/// Verify it with [`verify`](super::verify) or a [`ReceiptVerifier`](super::ReceiptVerifier).
///
/// # Examples
///
/// ```
/// use confidential_ledger::receipt::{ProofStep, Receipt, ReceiptLeaf};
///
/// let receipt = Receipt::from_json(r#"{
///     "cert": "-----BEGIN CERTIFICATE-----\n...",
///     "leaf_components": {
///         "write_set_digest": "a7baea5c36a6edb7c8c08747eec9c8930684706e333030a0a17ca6d2e32e0822",
///         "commit_evidence": "ce:8.6032:eab2727645e97dbd2a25a6272e125d1876104e594535135347740b20365a2bb4",
///         "claims_digest": "0000000000000000000000000000000000000000000000000000000000000000"
///     },
///     "node_id": "65f1797f0b4c103af76e61641438cdfc8098b2f737ff8ba267eaa71ff57afe4c",
///     "proof": [{"left": "8d6179f6f0d2a12250cae23c90062be28f34af15d9afc3fda008cf16e7dc0d40"}],
///     "signature": "MEUCIQ...",
///     "is_signature_transaction": false
/// }"#)?;
/// let ReceiptLeaf::Components(leaf) = &receipt.leaf else { unreachable!() };
/// assert!(leaf.commit_evidence.starts_with("ce:8.6032:"));
/// assert!(matches!(receipt.proof[0], ProofStep::Left(_)));
/// assert_eq!(receipt.is_signature_transaction, Some(false));
/// assert!(receipt.service_endorsements.is_none());
/// # Ok::<(), confidential_ledger::receipt::ReceiptError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Receipt {
    /// PEM certificate of the node that signed the Merkle root (`cert`).
    pub cert: String,
    /// What the proof starts from (`leafComponents`, or `leaf`).
    pub leaf: ReceiptLeaf,
    /// Path from the leaf to the signed Merkle root (`proof`), leaf end first.
    pub proof: Vec<ProofStep>,
    /// Base64 DER ECDSA signature of the Merkle root by the node key (`signature`).
    pub signature: String,
    /// Hex SHA-256 of the node's public key (`nodeId`), when the ledger sent it.
    pub node_id: Option<String>,
    /// PEM certificates linking the node certificate to the current service certificate after
    /// disaster recoveries (`serviceEndorsements`), oldest identity first, when sent.
    pub service_endorsements: Option<Vec<String>>,
    /// The Merkle root stated by very old receipts (`root`); newer receipts leave it out.
    pub root: Option<String>,
    /// `is_signature_transaction`, which some ledgers add (informational).
    pub is_signature_transaction: Option<bool>,
    /// Keys this crate does not know, kept as received.
    pub additional_properties: Map<String, Value>,
}

/// What a receipt's proof starts from.
#[derive(Debug, Clone, PartialEq)]
pub enum ReceiptLeaf {
    /// The leaf's components (`leafComponents`): the receipt of an ordinary transaction.
    Components(LeafComponents),
    /// The leaf digest itself (`leaf`, 64 hex digits): receipts of signature transactions, where
    /// it is the Merkle root the transaction signs and the proof is empty, and very old receipts.
    Digest(String),
}

/// The parts the leaf of an ordinary transaction is hashed from:
/// `leaf = SHA-256(writeSetDigest || SHA-256(commitEvidence) || claimsDigest)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeafComponents {
    /// Hex SHA-256 of the transaction's write set (`writeSetDigest`).
    #[serde(rename = "writeSetDigest", alias = "write_set_digest")]
    pub write_set_digest: String,
    /// `ce:<view>.<seqno>:<hex>`, hashed as text (`commitEvidence`). It is revealed only once
    /// the transaction is committed, so it proves commitment.
    #[serde(rename = "commitEvidence", alias = "commit_evidence")]
    pub commit_evidence: String,
    /// Hex digest of the application claims (`claimsDigest`); 32 zero bytes when there are
    /// none. Very old receipts leave it out, and their leaf has only two parts.
    #[serde(
        rename = "claimsDigest",
        alias = "claims_digest",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub claims_digest: Option<String>,
    /// Keys this crate does not know, kept as received.
    #[serde(flatten)]
    pub additional_properties: Map<String, Value>,
}

/// One step of a Merkle proof: the sibling digest (64 hex digits) and its side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProofStep {
    /// `{"left": h}`: the parent is `SHA-256(h || current)`.
    Left(String),
    /// `{"right": h}`: the parent is `SHA-256(current || h)`.
    Right(String),
}

/// A key of a receipt object, in either spelling.
enum ReceiptKey {
    Cert,
    LeafComponents,
    Leaf,
    Proof,
    Signature,
    NodeId,
    ServiceEndorsements,
    Root,
    IsSignatureTransaction,
    Other(String),
}

impl<'de> Deserialize<'de> for ReceiptKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = ReceiptKey;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a receipt key")
            }

            fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<ReceiptKey, E> {
                Ok(match key {
                    "cert" => ReceiptKey::Cert,
                    "leafComponents" | "leaf_components" => ReceiptKey::LeafComponents,
                    "leaf" => ReceiptKey::Leaf,
                    "proof" => ReceiptKey::Proof,
                    "signature" => ReceiptKey::Signature,
                    "nodeId" | "node_id" => ReceiptKey::NodeId,
                    "serviceEndorsements" | "service_endorsements" => {
                        ReceiptKey::ServiceEndorsements
                    }
                    "root" => ReceiptKey::Root,
                    "isSignatureTransaction" | "is_signature_transaction" => {
                        ReceiptKey::IsSignatureTransaction
                    }
                    other => ReceiptKey::Other(other.to_owned()),
                })
            }
        }
        deserializer.deserialize_identifier(KeyVisitor)
    }
}

/// Stores the value of a key seen once.
fn once<T, E: serde::de::Error>(
    slot: &mut Option<T>,
    value: T,
    key: &'static str,
) -> Result<(), E> {
    if slot.is_some() {
        return Err(E::duplicate_field(key));
    }
    *slot = Some(value);
    Ok(())
}

struct ReceiptVisitor;

impl<'de> Visitor<'de> for ReceiptVisitor {
    type Value = Receipt;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a receipt object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Receipt, A::Error> {
        let mut cert = None;
        let mut leaf_components: Option<Option<LeafComponents>> = None;
        let mut leaf: Option<Option<String>> = None;
        let mut proof = None;
        let mut signature = None;
        let mut node_id: Option<Option<String>> = None;
        let mut service_endorsements: Option<Option<Vec<String>>> = None;
        let mut root: Option<Option<String>> = None;
        let mut is_signature_transaction: Option<Option<bool>> = None;
        let mut additional_properties = Map::new();
        while let Some(key) = map.next_key::<ReceiptKey>()? {
            match key {
                ReceiptKey::Cert => once(&mut cert, map.next_value()?, "cert")?,
                ReceiptKey::LeafComponents => {
                    once(&mut leaf_components, map.next_value()?, "leafComponents")?
                }
                ReceiptKey::Leaf => once(&mut leaf, map.next_value()?, "leaf")?,
                ReceiptKey::Proof => once(&mut proof, map.next_value()?, "proof")?,
                ReceiptKey::Signature => once(&mut signature, map.next_value()?, "signature")?,
                ReceiptKey::NodeId => once(&mut node_id, map.next_value()?, "nodeId")?,
                ReceiptKey::ServiceEndorsements => once(
                    &mut service_endorsements,
                    map.next_value()?,
                    "serviceEndorsements",
                )?,
                ReceiptKey::Root => once(&mut root, map.next_value()?, "root")?,
                ReceiptKey::IsSignatureTransaction => once(
                    &mut is_signature_transaction,
                    map.next_value()?,
                    "isSignatureTransaction",
                )?,
                ReceiptKey::Other(name) => {
                    let value: Value = map.next_value()?;
                    additional_properties.insert(name, value);
                }
            }
        }
        let leaf = match (leaf_components.flatten(), leaf.flatten()) {
            (Some(components), None) => ReceiptLeaf::Components(components),
            (None, Some(leaf)) => ReceiptLeaf::Digest(leaf),
            (Some(_), Some(_)) => {
                return Err(A::Error::custom(
                    "a receipt has either `leafComponents` or `leaf`, not both",
                ));
            }
            (None, None) => {
                return Err(A::Error::custom(
                    "missing field `leafComponents` (or `leaf`)",
                ));
            }
        };
        Ok(Receipt {
            cert: cert.ok_or_else(|| A::Error::missing_field("cert"))?,
            leaf,
            proof: proof.ok_or_else(|| A::Error::missing_field("proof"))?,
            signature: signature.ok_or_else(|| A::Error::missing_field("signature"))?,
            node_id: node_id.flatten(),
            service_endorsements: service_endorsements.flatten(),
            root: root.flatten(),
            is_signature_transaction: is_signature_transaction.flatten(),
            additional_properties,
        })
    }
}

impl<'de> Deserialize<'de> for Receipt {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ReceiptVisitor)
    }
}

impl Serialize for Receipt {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("cert", &self.cert)?;
        match &self.leaf {
            ReceiptLeaf::Components(c) => map.serialize_entry("leafComponents", c)?,
            ReceiptLeaf::Digest(d) => map.serialize_entry("leaf", d)?,
        }
        if let Some(node_id) = &self.node_id {
            map.serialize_entry("nodeId", node_id)?;
        }
        map.serialize_entry("proof", &self.proof)?;
        if let Some(root) = &self.root {
            map.serialize_entry("root", root)?;
        }
        if let Some(e) = &self.service_endorsements {
            map.serialize_entry("serviceEndorsements", e)?;
        }
        map.serialize_entry("signature", &self.signature)?;
        if let Some(b) = self.is_signature_transaction {
            map.serialize_entry("isSignatureTransaction", &b)?;
        }
        for (k, v) in &self.additional_properties {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl Receipt {
    /// Parses a receipt (the `receipt` object of a receipt response) from JSON.
    ///
    /// # Errors
    ///
    /// [`ReceiptError::Json`] when the text is not a receipt.
    pub fn from_json(json: &str) -> Result<Self, ReceiptError> {
        Ok(serde_json::from_str(json)?)
    }

    /// The receipt as JSON, in the service's spelling, which [`from_json`](Self::from_json)
    /// reads back.
    ///
    /// # Errors
    ///
    /// [`ReceiptError::Json`] if serialisation fails (it does not for a parsed receipt).
    pub fn to_json(&self) -> Result<String, ReceiptError> {
        Ok(serde_json::to_string(self)?)
    }

    /// The leaf components, unless this is a signature-transaction (or very old) receipt.
    pub fn leaf_components(&self) -> Option<&LeafComponents> {
        match &self.leaf {
            ReceiptLeaf::Components(c) => Some(c),
            ReceiptLeaf::Digest(_) => None,
        }
    }
}

/// Whether the ledger has the receipt ready (`state`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ReceiptState {
    /// `Loading`: the ledger is fetching the transaction from its history; ask again.
    Loading,
    /// `Ready`: the response holds the receipt.
    Ready,
    /// A state this crate does not know, as received.
    Other(String),
}

impl ReceiptState {
    /// The state as the service spells it.
    pub fn as_str(&self) -> &str {
        match self {
            ReceiptState::Loading => "Loading",
            ReceiptState::Ready => "Ready",
            ReceiptState::Other(s) => s,
        }
    }
}

impl std::fmt::Display for ReceiptState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ReceiptState {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ReceiptState {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Ok(match s.as_str() {
            "Loading" => ReceiptState::Loading,
            "Ready" => ReceiptState::Ready,
            _ => ReceiptState::Other(s),
        })
    }
}

/// The response of `GET /app/transactions/{transactionId}/receipt`.
///
/// While the ledger is loading the transaction (`state: Loading`) it sends a placeholder
/// receipt with empty fields and an empty `transactionId`; [`receipt`](Self::receipt) is then
/// `None`. Once `Ready`, the receipt must parse.
///
/// # Examples
///
/// ```
/// use confidential_ledger::receipt::{ReceiptResponse, ReceiptState};
///
/// let loading = ReceiptResponse::from_json(
///     r#"{"receipt": {"nodeId": "", "proof": [], "signature": ""}, "state": "Loading", "transactionId": ""}"#,
/// )?;
/// assert_eq!(loading.state, ReceiptState::Loading);
/// assert!(loading.receipt.is_none());
/// # Ok::<(), confidential_ledger::receipt::ReceiptError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReceiptResponse {
    /// Whether the receipt is ready.
    pub state: ReceiptState,
    /// The transaction the receipt is for (`transactionId`; empty while loading).
    #[serde(rename = "transactionId")]
    pub transaction_id: String,
    /// The receipt, once ready.
    pub receipt: Option<Receipt>,
    /// The application claims the ledger recorded with the transaction (`applicationClaims`),
    /// when it sent them; their digest is the receipt's `claimsDigest`.
    #[serde(rename = "applicationClaims", skip_serializing_if = "Option::is_none")]
    pub application_claims: Option<Vec<ApplicationClaim>>,
    /// Keys this crate does not know, kept as received.
    #[serde(flatten)]
    pub additional_properties: Map<String, Value>,
}

#[derive(Deserialize)]
struct WireResponse {
    state: ReceiptState,
    #[serde(default, rename = "transactionId", alias = "transaction_id")]
    transaction_id: String,
    #[serde(default)]
    receipt: Option<Value>,
    #[serde(default, rename = "applicationClaims", alias = "application_claims")]
    application_claims: Option<Vec<ApplicationClaim>>,
    #[serde(flatten)]
    additional_properties: Map<String, Value>,
}

impl<'de> Deserialize<'de> for ReceiptResponse {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let w = WireResponse::deserialize(deserializer)?;
        let receipt = match (w.receipt, &w.state) {
            (None | Some(Value::Null), _) => None,
            // The placeholder sent while loading has empty fields and no certificate.
            (Some(_), ReceiptState::Loading) => None,
            (Some(v), _) => Some(
                Receipt::deserialize(v).map_err(|e| D::Error::custom(format!("`receipt`: {e}")))?,
            ),
        };
        Ok(ReceiptResponse {
            state: w.state,
            transaction_id: w.transaction_id,
            receipt,
            application_claims: w.application_claims,
            additional_properties: w.additional_properties,
        })
    }
}

impl ReceiptResponse {
    /// Parses a receipt response from JSON.
    ///
    /// # Errors
    ///
    /// [`ReceiptError::Json`] when the text is not a receipt response, or its state is not
    /// `Loading` and its receipt does not parse.
    pub fn from_json(json: &str) -> Result<Self, ReceiptError> {
        Ok(serde_json::from_str(json)?)
    }

    /// The response as JSON, in the service's spelling, which [`from_json`](Self::from_json)
    /// reads back.
    ///
    /// # Errors
    ///
    /// [`ReceiptError::Json`] if serialisation fails (it does not for a parsed response).
    pub fn to_json(&self) -> Result<String, ReceiptError> {
        Ok(serde_json::to_string(self)?)
    }
}
