//! [`ReceiptError`]: which verification step rejected a receipt, and why.

use std::fmt;
use std::time::SystemTime;

use super::Sha256Digest;

/// A certificate of the chain from the signing node to the service certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CertificateRole {
    /// The node certificate (the receipt's `cert`).
    Node,
    /// The receipt's `serviceEndorsements[i]`.
    Endorsement(usize),
    /// The service certificate the receipt is verified against (the trust anchor).
    Service,
}

impl fmt::Display for CertificateRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CertificateRole::Node => f.write_str("node certificate (`cert`)"),
            CertificateRole::Endorsement(i) => write!(f, "`serviceEndorsements[{i}]`"),
            CertificateRole::Service => f.write_str("service certificate"),
        }
    }
}

/// Why a receipt was rejected. Each variant names the verification step that failed; none of
/// them is transient (verifying the same input again gives the same answer).
///
/// # Examples
///
/// ```
/// use confidential_ledger::receipt::{ReceiptError, ReceiptVerifier};
///
/// let err = ReceiptVerifier::new("not a certificate").unwrap_err();
/// assert!(matches!(err, ReceiptError::Certificate { .. }));
/// assert!(err.to_string().contains("service certificate"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReceiptError {
    /// The text is not a receipt (or receipt response) at all: invalid JSON, a missing required
    /// field, a field of the wrong type, or both `leafComponents` and `leaf`.
    #[error("not a valid receipt: {0}")]
    Json(#[from] serde_json::Error),

    /// A field is present but its value is not in the required encoding (64 lowercase hex
    /// digits, canonical base64, a DER ECDSA signature...). `field` is the JSON path in the
    /// receipt's camelCase spelling, such as `proof[2].left`.
    #[error("receipt field `{field}` is malformed: {reason}")]
    Malformed {
        /// JSON path of the field.
        field: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A certificate cannot be used: not a PEM X.509 certificate, or its key is not an ECDSA
    /// P-256/P-384 key, or its signature algorithm is not ECDSA with SHA-256/384/512.
    #[error("{role} is unusable: {reason}")]
    Certificate {
        /// Which certificate.
        role: CertificateRole,
        /// What is wrong with it.
        reason: String,
    },

    /// Step 5: a certificate of the chain `[cert] + serviceEndorsements + [service certificate]`
    /// is not signed by the next one. Link `index` is the signature on certificate `index` of
    /// that chain (0 = the node certificate), made by certificate `index + 1`.
    #[error("endorsement {index} fails: {subject} is not signed by {issuer}")]
    Endorsement {
        /// Position of the link in the chain (0 = the node certificate's signature).
        index: usize,
        /// The certificate whose signature failed.
        subject: CertificateRole,
        /// The certificate expected to have signed it.
        issuer: CertificateRole,
    },

    /// Only with [`VerifyOptions::check_validity_at`](super::VerifyOptions::check_validity_at):
    /// a certificate of the chain is not valid at the requested time.
    #[error("{role} is not valid at {at:?} (valid from {not_before:?} to {not_after:?})")]
    CertificateValidity {
        /// Which certificate.
        role: CertificateRole,
        /// The time checked.
        at: SystemTime,
        /// Start of its validity period.
        not_before: SystemTime,
        /// End of its validity period.
        not_after: SystemTime,
    },

    /// Step 2 (very old receipts only): the root computed from the leaf and the proof is not the
    /// `root` the receipt states.
    #[error(
        "the Merkle root computed from the leaf and proof ({computed}) is not the receipt's `root` ({stated})"
    )]
    Root {
        /// Root computed from the leaf and proof.
        computed: Sha256Digest,
        /// Root stated in the receipt.
        stated: Sha256Digest,
    },

    /// Step 3: the signature does not verify, under the node certificate's key, with the Merkle
    /// root computed from the leaf and proof as the prehashed digest. Any change to a leaf
    /// component, the proof or the signature ends here.
    #[error("the node's signature over the Merkle root {root} does not verify")]
    Signature {
        /// The root computed from the receipt's leaf and proof.
        root: Sha256Digest,
    },

    /// Step 4: `nodeId` is not the SHA-256 of the node certificate's public key.
    #[error("`nodeId` {stated} does not identify the node certificate's key (expected {expected})")]
    NodeId {
        /// Node id derived from the node certificate.
        expected: Sha256Digest,
        /// `nodeId` stated in the receipt.
        stated: Sha256Digest,
    },

    /// Step 6: the commit evidence is not `ce:<view>.<seqno>:<64 lowercase hex digits>`.
    #[error("commit evidence {commit_evidence:?} is malformed: {reason}")]
    CommitEvidence {
        /// The commit evidence as stated in the receipt.
        commit_evidence: String,
        /// What is wrong with it.
        reason: String,
    },

    /// Step 6: the receipt is not for the transaction the caller asked about. `found` is `None`
    /// for a signature-transaction receipt, which names no transaction.
    #[error("the receipt is for transaction {}, not {expected}", found.as_deref().unwrap_or("(none: signature transaction receipt)"))]
    TransactionId {
        /// The transaction id the caller expected.
        expected: String,
        /// The transaction id in the receipt's commit evidence.
        found: Option<String>,
    },

    /// The expected transaction id given in the options is not `<view>.<seqno>`.
    #[error("expected transaction id {0:?} is not of the form <view>.<seqno>")]
    InvalidTransactionId(String),

    /// Step 7: the claims digest recomputed from the application claims is not the receipt's
    /// `claimsDigest` (`stated` is `None` when the receipt has no claims digest).
    #[error("the application claims digest to {computed}, but the receipt states {}", stated.map(|d| d.to_string()).unwrap_or_else(|| "no claims digest".to_owned()))]
    ClaimsDigest {
        /// Claims digest computed from the claims given.
        computed: Sha256Digest,
        /// Claims digest in the receipt's leaf components.
        stated: Option<Sha256Digest>,
    },

    /// Step 7: the application claims given cannot be digested.
    #[error(transparent)]
    Claims(#[from] super::ClaimsError),

    /// A receipt response without a receipt (the ledger was still loading the transaction).
    #[error("the response holds no receipt yet (state {state})")]
    NotReady {
        /// The response's `state`.
        state: String,
    },
}

impl ReceiptError {
    pub(crate) fn malformed(field: impl Into<String>, reason: impl Into<String>) -> Self {
        ReceiptError::Malformed {
            field: field.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn certificate(role: CertificateRole, reason: impl Into<String>) -> Self {
        ReceiptError::Certificate {
            role,
            reason: reason.into(),
        }
    }
}
