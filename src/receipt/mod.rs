//! Offline verification of write receipts: proof that a transaction is in the ledger.
//!
//! A receipt lets anyone holding the ledger's **service certificate** check, without talking
//! to the ledger, that a transaction was committed. This module needs nothing but the receipt
//! and that certificate, so it also verifies receipts stored long ago.
//!
//! - [`Receipt`], [`ReceiptResponse`]: the receipt as ledgers return it, in every shape they
//!   have used.
//! - [`verify`]: one-shot verification; [`ReceiptVerifier`]: the same with caches, for many
//!   receipts (range audits) and for sharing across threads.
//! - [`claims_digest`], [`ledger_entry_claim`], [`ledger_entry_claims_digest`]: application
//!   claims.
//!
//! # Examples
//!
//! ```no_run
//! use confidential_ledger::receipt::{ReceiptResponse, ReceiptVerifier, VerifyOptions};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // The ledger's service certificate (from the identity service, or pinned by a client).
//! let service_pem = std::fs::read("service_cert.pem")?;
//! let verifier = ReceiptVerifier::new(&service_pem)?;
//!
//! // The body of GET /app/transactions/2.15/receipt.
//! let response = ReceiptResponse::from_json(&std::fs::read_to_string("receipt.json")?)?;
//! let verified = verifier.verify_response(&response, &VerifyOptions::new().transaction_id("2.15"))?;
//! println!("2.15 is committed under Merkle root {}", verified.root);
//! # Ok(())
//! # }
//! ```
//!
//! # The algorithm
//!
//! The ledger keeps a Merkle tree over all its transactions (leaf index = sequence number, the
//! RFC 6962 shape without domain-separation prefixes: `parent = SHA-256(left || right)`). A
//! signature transaction signs the root of the tree of all transactions before it; a receipt
//! for transaction `s` is built from the first signature after `s`. Verification, in the order
//! the steps are numbered in [`ReceiptError`]:
//!
//! 1. **Leaf.** `leaf = SHA-256(writeSetDigest || SHA-256(commitEvidence) || claimsDigest)`,
//!    digests hex-decoded, the commit evidence hashed **as text**; very old receipts without a
//!    claims digest omit the last part. Signature-transaction receipts state `leaf` directly.
//! 2. **Root.** Fold the proof into the leaf in order: `{"left": h}` gives
//!    `SHA-256(h || cur)`, `{"right": h}` gives `SHA-256(cur || h)`. Very old receipts state
//!    the `root` too; it must match.
//! 3. **Signature.** The base64 DER ECDSA `signature` must verify under the public key of the
//!    node certificate `cert` with the 32-byte root **as the prehashed digest** (it is not
//!    hashed again, whatever the curve). P-256 and P-384 node keys are supported.
//! 4. **Node id.** When present, `nodeId` must be the hex SHA-256 of the node key's DER
//!    SubjectPublicKeyInfo.
//! 5. **Endorsements.** In the chain `[cert] + serviceEndorsements + [service certificate]`
//!    each certificate must be signed by the next one (ECDSA over the hash of its signed part,
//!    the hash being the one its signature algorithm names: SHA-256, SHA-384 or SHA-512).
//!    After a disaster recovery, `serviceEndorsements` link an older service identity to the
//!    current one. The service certificate is the trust anchor: its own signature is not
//!    checked. Validity periods are checked only when asked
//!    ([`VerifyOptions::check_validity_at`]).
//! 6. **Commit evidence.** `commitEvidence` must be `ce:<view>.<seqno>:<64 hex digits>` and,
//!    when an expected transaction id is given ([`VerifyOptions::transaction_id`]), name that
//!    transaction. The evidence is revealed only once the transaction is committed.
//! 7. **Claims.** When application claims are given, their digest (see [`claims_digest`])
//!    must equal `claimsDigest`, compared as bytes.
//!
//! Like the official verifiers, this module does not check certificate extensions (CA flag,
//! key usage, names) or revocation: the chain is trusted because each link is signed by the
//! next, up to the service certificate.
//!
//! # Strictness
//!
//! Every field of a receipt has exactly one accepted spelling: lowercase hex, canonical padded
//! base64, DER, and certificates in the PEM layout ledgers write (64-character base64 lines,
//! `\n` or `\r\n` line ends). Any change to any byte of a signed or hashed field is therefore
//! rejected. The service certificate passed to the verifier is parsed leniently (any line
//! layout, surrounding whitespace, trailing NUL characters).
//!
//! Differences from the official Python verifier (`azure.confidentialledger.receipt`), all
//! checked by this crate's cross-verification test: it does not check the commit evidence
//! format, the transaction id or validity periods; it rejects signature-transaction receipts and
//! receipts without a claims digest, which this module verifies; and it accepts non-canonical
//! spellings (upper-case hex, whitespace in hex, re-wrapped PEM, base64 with non-zero trailing
//! bits) that this module rejects.

mod cache;
mod certificate;
mod claims;
mod commit_evidence;
mod digest;
mod encoding;
mod error;
mod generator_multiples;
mod merkle;
mod options;
mod root_signature;
mod types;
mod verifier;

pub use claims::{
    ApplicationClaim, ClaimDigest, ClaimsError, LEDGER_ENTRY_V1, LedgerEntryClaim, claims_digest,
    claims_digest_of, ledger_entry_claim, ledger_entry_claims_digest,
};
pub use digest::{InvalidDigest, Sha256Digest};
pub use error::{CertificateRole, ReceiptError};
pub use options::{Verified, VerifyOptions};
pub use types::{LeafComponents, ProofStep, Receipt, ReceiptLeaf, ReceiptResponse, ReceiptState};
pub use verifier::{
    CacheStats, MAX_CACHED_CHAIN_TEXT, MAX_CACHED_ENDORSEMENTS, ReceiptVerifier, VerifierOptions,
    verify,
};
