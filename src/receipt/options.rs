//! [`VerifyOptions`] (what to check beyond the receipt itself) and [`Verified`] (what a
//! successful verification established).

use std::time::SystemTime;

use super::{ApplicationClaim, Sha256Digest};

/// Optional checks for [`verify`](super::verify) and [`ReceiptVerifier::verify`](super::ReceiptVerifier::verify).
///
/// # Defaults
///
/// No expected transaction id, no application claims, and certificate validity periods are
/// **not** checked: ledger certificates live about 90 days and receipts must keep verifying
/// long after, as the official verifiers do.
///
/// # Examples
///
/// ```
/// use std::time::SystemTime;
/// use confidential_ledger::receipt::{ApplicationClaim, VerifyOptions};
///
/// let options = VerifyOptions::new()
///     .transaction_id("2.15")
///     .application_claims(vec![ApplicationClaim::ledger_entry("subledger:0", "hello", b"key")])
///     .check_validity_at(SystemTime::now());
/// assert_eq!(options.transaction_id.unwrap().get()?.to_string(), "2.15");
///
/// // As a struct literal: the transaction id as text or as a `TransactionId`.
/// let options = VerifyOptions {
///     transaction_id: Some("2.15".into()),
///     ..Default::default()
/// };
/// # let _ = options;
/// # Ok::<(), confidential_ledger::ParseTransactionIdError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// The transaction the receipt must be for (`<view>.<seqno>`, as text or a
    /// [`TransactionId`](crate::TransactionId)), compared with the id in the commit evidence.
    /// A signature-transaction receipt names no transaction and fails this check; a malformed
    /// id fails with [`ReceiptError::InvalidTransactionId`](super::ReceiptError::InvalidTransactionId).
    pub transaction_id: Option<crate::TransactionIdArg>,
    /// The transaction's application claims; their digest must be the receipt's
    /// `claimsDigest`. An empty list means "no claims": the receipt must state 32 zero bytes
    /// (or, for very old receipts, no claims digest at all).
    pub application_claims: Option<Vec<ApplicationClaim>>,
    /// Check that every certificate of the chain (node, endorsements, service) is valid at
    /// this time.
    pub validity_time: Option<SystemTime>,
}

impl VerifyOptions {
    /// The defaults: receipt checks only.
    pub fn new() -> Self {
        Self::default()
    }

    /// Requires the receipt to be for transaction `id` (`<view>.<seqno>`).
    #[must_use]
    pub fn transaction_id(mut self, id: impl Into<crate::TransactionIdArg>) -> Self {
        self.transaction_id = Some(id.into());
        self
    }

    /// Requires the receipt's claims digest to be the digest of `claims`.
    #[must_use]
    pub fn application_claims(mut self, claims: Vec<ApplicationClaim>) -> Self {
        self.application_claims = Some(claims);
        self
    }

    /// Requires every certificate of the chain to be valid at `at`.
    #[must_use]
    pub fn check_validity_at(mut self, at: SystemTime) -> Self {
        self.validity_time = Some(at);
        self
    }
}

/// What a successful verification established.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Verified {
    /// The transaction the receipt proves (`<view>.<seqno>`, from its commit evidence); `None`
    /// for signature-transaction and very old receipts, which name none.
    pub transaction_id: Option<String>,
    /// The transaction's leaf in the ledger's Merkle tree.
    pub leaf: Sha256Digest,
    /// The Merkle root the node signed.
    pub root: Sha256Digest,
    /// The id of the node that signed (SHA-256 of its public key).
    pub node_id: Sha256Digest,
    /// The claims digest the receipt states, if any.
    pub claims_digest: Option<Sha256Digest>,
}
