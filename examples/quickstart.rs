//! Quickstart: write an entry, wait until the ledger has committed it, read it back, and
//! verify the receipt that proves it is in the ledger.
//!
//! ```sh
//! cargo run --example quickstart
//! ```
//!
//! Without `CONFIDENTIALLEDGER_ENDPOINT` it runs against a local sandbox ledger; see
//! `examples/common/mod.rs` for the variables that point it at your own ledger.

#[path = "common/mod.rs"]
mod common;

#[tokio::main]
async fn main() -> common::Result {
    let ledger = common::connect().await?;
    let client = &ledger.client;
    println!(
        "Connected to ledger {:?}. Its TLS certificate came from the identity service and is pinned:",
        client.ledger_id()
    );
    println!("  SHA-256 {}\n", client.service_certificate().fingerprint());

    // 1. Write. The ledger answers at once with the transaction id of the write.
    let written = client
        .create_ledger_entry("Hello, confidential ledger!", None)
        .await?;
    println!(
        "1. Wrote \"Hello, confidential ledger!\" in transaction {} (collection {}).",
        written.transaction_id, written.collection_id
    );

    // 2. Wait for the commit: from then on the write is durable.
    let status = client.wait_for_commit(written.transaction_id, None).await?;
    println!(
        "2. Transaction {} is {}: it is durable and can no longer be rolled back.",
        status.transaction_id, status.state
    );

    // 3. Read it back.
    let entry = client
        .get_ledger_entry(written.transaction_id, None)
        .await?;
    println!("3. Read it back: {:?}.", entry.contents);

    // 4. The receipt: a Merkle proof signed by the ledger, checked here against the pinned
    //    service certificate. Anyone holding that certificate can check it, offline.
    let proof = client
        .get_verified_receipt(written.transaction_id, None)
        .await?;
    println!(
        "4. Receipt verified: transaction {} is under the Merkle root {}, signed by node {}.",
        written.transaction_id,
        common::short(proof.verified.root),
        common::short(proof.verified.node_id)
    );

    ledger.close().await;
    println!("\nDone. Next: the other examples in examples/, and the README.");
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn runs_against_an_embedded_sandbox() {
        super::main().expect("the example runs");
    }
}
