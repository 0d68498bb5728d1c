//! Receipts: cryptographic proof that a transaction is in the ledger, verified against the
//! ledger's service certificate, now or later, online or offline.
//!
//! ```sh
//! cargo run --example receipts
//! ```

#[path = "common/mod.rs"]
mod common;

use confidential_ledger::ErrorKind;
use confidential_ledger::receipt::{ReceiptLeaf, ReceiptResponse, ReceiptVerifier, VerifyOptions};

#[tokio::main]
async fn main() -> common::Result {
    let ledger = common::connect().await?;
    let client = &ledger.client;
    let written = client
        .create_ledger_entry_and_wait("An entry worth proving", None)
        .await?;
    let id = written.transaction_id;

    // Fetch the receipt (the poller waits while the ledger is `Loading` it), then verify it
    // against the service certificate the client pinned: the leaf, the Merkle proof, the
    // node's signature over the root, and the node's endorsement by the service.
    let receipt = client.get_receipt(id, None).await?;
    let verified = client.verify_receipt(&receipt, None)?;
    println!(
        "Receipt of {id}: leaf {} under root {}, signed by node {}.",
        common::short(verified.leaf),
        common::short(verified.root),
        common::short(verified.node_id)
    );

    // Or both in one call, which also checks the receipt is for the transaction asked for.
    let proof = client.get_verified_receipt(id, None).await?;
    assert_eq!(proof.verified.root, verified.root);

    // Keep it: a receipt saves as the ledger's own JSON...
    let stored = receipt.to_json()?;
    let service_certificate = client.service_certificate();
    println!(
        "Stored the receipt ({} bytes of JSON) and the service certificate {}.",
        stored.len(),
        common::short(service_certificate.fingerprint())
    );

    // ...and anyone with the service certificate can verify it later, without the client
    // or the ledger.
    let verifier = ReceiptVerifier::from_der(service_certificate.der())?;
    let response = ReceiptResponse::from_json(&stored)?;
    let again = verifier.verify_response(
        &response,
        &VerifyOptions {
            transaction_id: Some(id.into()),
            ..Default::default()
        },
    )?;
    println!(
        "Verified offline: still under root {}.",
        common::short(again.root)
    );

    // A receipt that was tampered with does not verify, and the error says which check
    // failed: here the write set digest claims other contents than were written.
    let mut forged = receipt.clone();
    if let ReceiptLeaf::Components(leaf) = &mut forged.receipt.leaf {
        let flipped = if leaf.write_set_digest.starts_with('0') {
            "1"
        } else {
            "0"
        };
        leaf.write_set_digest.replace_range(..1, flipped);
    }
    match client.verify_receipt(&forged, None) {
        Err(err) if err.kind() == &ErrorKind::InvalidReceipt => {
            println!("A forged receipt is refused: {err}");
        }
        other => return Err(format!("a forged receipt was not refused: {other:?}").into()),
    }

    ledger.close().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn runs_against_an_embedded_sandbox() {
        super::main().expect("the example runs");
    }
}
