//! Steps 1 and 2: the leaf of a transaction, and the Merkle root its proof leads to.
//!
//! The ledger's Merkle tree is the RFC 6962 shape without domain-separation prefixes: a parent
//! is `SHA-256(left || right)` and leaves are inserted already hashed.

use sha2::{Digest as _, Sha256};

use super::{LeafComponents, ProofStep, ReceiptError, Sha256Digest, encoding};

/// `SHA-256(writeSetDigest || SHA-256(commitEvidence) || claimsDigest)`, or without the last
/// part when the receipt has no claims digest. The commit evidence is hashed as text.
pub(crate) fn leaf_of(components: &LeafComponents) -> Result<Sha256Digest, ReceiptError> {
    let write_set = encoding::hex_array::<32>(&components.write_set_digest)
        .map_err(|e| ReceiptError::malformed("leafComponents.writeSetDigest", e))?;
    let claims = match &components.claims_digest {
        Some(c) => Some(
            encoding::hex_array::<32>(c)
                .map_err(|e| ReceiptError::malformed("leafComponents.claimsDigest", e))?,
        ),
        None => None,
    };
    let commit_evidence = Sha256::digest(components.commit_evidence.as_bytes());
    let mut h = Sha256::new();
    h.update(write_set);
    h.update(commit_evidence);
    if let Some(claims) = claims {
        h.update(claims);
    }
    Ok(Sha256Digest(h.finalize().into()))
}

/// Folds the proof into the leaf: `{"left": h}` gives `SHA-256(h || cur)`, `{"right": h}`
/// gives `SHA-256(cur || h)`.
pub(crate) fn root_of(
    leaf: Sha256Digest,
    proof: &[ProofStep],
) -> Result<Sha256Digest, ReceiptError> {
    let mut current = leaf.0;
    for (i, step) in proof.iter().enumerate() {
        let (side, hex) = match step {
            ProofStep::Left(h) => ("left", h),
            ProofStep::Right(h) => ("right", h),
        };
        let sibling = encoding::hex_array::<32>(hex)
            .map_err(|e| ReceiptError::malformed(format!("proof[{i}].{side}"), e))?;
        let mut h = Sha256::new();
        match step {
            ProofStep::Left(_) => {
                h.update(sibling);
                h.update(current);
            }
            ProofStep::Right(_) => {
                h.update(current);
                h.update(sibling);
            }
        }
        current = h.finalize().into();
    }
    Ok(Sha256Digest(current))
}
