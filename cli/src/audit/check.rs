//! Checking one entry: fetch its receipt, check the receipt's ledger-entry claim against the
//! entry the ledger listed, verify the receipt.

use std::time::{Duration, Instant};

use confidential_ledger::ConfidentialLedgerClient;
use confidential_ledger::models::LedgerEntry;
use confidential_ledger::receipt::{
    ApplicationClaim, Receipt, ReceiptVerifier, Sha256Digest, VerifyOptions,
};

use crate::commands::receipts::failed_step;

/// What checking one entry found.
pub enum Outcome {
    /// The receipt verified and its claim (if any) matches the entry.
    Verified {
        /// The signing node (hex SHA-256 of its key).
        node: String,
        /// The endorsement chain (see [`chain_key`]).
        chain: String,
        /// The receipt carried application claims.
        claims: bool,
    },
    /// It failed at `step`.
    Failed {
        /// The step.
        step: &'static str,
        /// Why.
        error: String,
    },
}

/// Checks `entry`; returns what was found and the time spent verifying.
pub async fn check(
    client: &ConfidentialLedgerClient,
    verifier: &ReceiptVerifier,
    entry: &LedgerEntry,
) -> (Outcome, Duration) {
    let id = entry.transaction_id;
    let receipt = match client.get_receipt(id, None).await {
        Ok(receipt) => receipt,
        Err(e) => {
            return (
                Outcome::Failed {
                    step: "fetch receipt",
                    error: error_chain(&e),
                },
                Duration::ZERO,
            );
        }
    };
    let started = Instant::now();
    let outcome = verify(
        verifier,
        entry,
        &receipt.receipt,
        receipt.application_claims.as_deref(),
    );
    (outcome, started.elapsed())
}

fn verify(
    verifier: &ReceiptVerifier,
    entry: &LedgerEntry,
    receipt: &Receipt,
    claims: Option<&[ApplicationClaim]>,
) -> Outcome {
    if let Some(Err(error)) = claims.map(|claims| claim_matches(entry, claims)) {
        return Outcome::Failed {
            step: "claim",
            error,
        };
    }
    let mut options = VerifyOptions::new().transaction_id(entry.transaction_id.to_string());
    if let Some(claims) = claims {
        options = options.application_claims(claims.to_vec());
    }
    match verifier.verify(receipt, &options) {
        Ok(verified) => Outcome::Verified {
            node: verified.node_id.to_hex(),
            chain: chain_key(receipt),
            claims: claims.is_some(),
        },
        Err(e) => Outcome::Failed {
            step: failed_step(&e),
            error: e.to_string(),
        },
    }
}

/// The receipt's ledger-entry claims must name the entry's collection and contents (the claims
/// digest, checked by the verifier, then ties the receipt to exactly this entry).
fn claim_matches(entry: &LedgerEntry, claims: &[ApplicationClaim]) -> Result<(), String> {
    for claim in claims {
        if let ApplicationClaim::LedgerEntry(claim) = claim {
            if claim.collection_id != entry.collection_id {
                return Err(format!(
                    "the receipt's claim names collection {:?}, the entry is in {:?}",
                    claim.collection_id, entry.collection_id
                ));
            }
            if claim.contents != entry.contents {
                return Err(format!(
                    "the receipt's claim has contents of SHA-256 {}, the entry listed has {}",
                    Sha256Digest::of(claim.contents.as_bytes()),
                    Sha256Digest::of(entry.contents.as_bytes())
                ));
            }
        }
    }
    Ok(())
}

/// `direct` when the node certificate is endorsed by the service certificate itself, else the
/// first 16 hex digits of the SHA-256 of each service endorsement, joined by `>`.
pub fn chain_key(receipt: &Receipt) -> String {
    match receipt.service_endorsements.as_deref() {
        None | Some([]) => "direct".to_owned(),
        Some(endorsements) => endorsements
            .iter()
            .map(|pem| Sha256Digest::of(pem.as_bytes()).to_hex()[..16].to_owned())
            .collect::<Vec<_>>()
            .join(">"),
    }
}

/// An error and its causes on one line.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
