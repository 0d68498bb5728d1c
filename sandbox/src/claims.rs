//! Application claims of ledger entries (protocol `LedgerEntryV1`) and their digest.

use crate::digest::{Hash, hmac_sha256, sha256};

/// Digest of one `LedgerEntryV1` claim: `SHA256("LedgerEntryV1" || SHA256(HMAC(k, collection)
/// || HMAC(k, contents)))`.
fn ledger_entry_v1_digest(secret_key: &[u8], collection_id: &str, contents: &str) -> Hash {
    let inner = sha256(&[
        &hmac_sha256(secret_key, collection_id.as_bytes()),
        &hmac_sha256(secret_key, contents.as_bytes()),
    ]);
    sha256(&[b"LedgerEntryV1", &inner])
}

/// The claims secret that marks an entry written without application claims (as real ledgers
/// wrote them at the recorded api-versions): its claims digest is 32 zero bytes and its
/// receipt has no `applicationClaims`. A random secret is never all zero in practice.
pub(crate) const NO_CLAIMS: [u8; 32] = [0; 32];

/// The claims digest of a ledger entry's single `LedgerEntry` claim:
/// `SHA256(u32_le(1) || claim digest)`; 32 zero bytes for an entry without claims
/// ([`NO_CLAIMS`]).
pub(crate) fn entry_claims_digest(secret_key: &[u8], collection_id: &str, contents: &str) -> Hash {
    if secret_key == NO_CLAIMS {
        return [0; 32];
    }
    let claim = ledger_entry_v1_digest(secret_key, collection_id, contents);
    sha256(&[&1u32.to_le_bytes(), &claim])
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    #[test]
    fn published_test_vector() {
        let key = base64::engine::general_purpose::STANDARD
            .decode("Jde/VvaIfyrjQ/B19P+UJCBwmcrgN7sERStoyHnYO0M=")
            .unwrap();
        assert_eq!(
            hex::encode(entry_claims_digest(&key, "subledger:0", "Hello world")),
            "d08d8764437d09b2d4d07d52293cddaf40f44a3ea2176a0528819a80002df9f6"
        );
    }
}
