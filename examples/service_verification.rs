//! Verifying service details: who governs the ledger (the consortium), under which rules
//! (the constitution), and on what hardware (the enclave quotes).
//!
//! ```sh
//! cargo run --example service_verification
//! ```

#[path = "common/mod.rs"]
mod common;

use confidential_ledger::IdentityServiceClient;
use futures::TryStreamExt;

#[tokio::main]
async fn main() -> common::Result {
    let ledger = common::connect().await?;
    let client = &ledger.client;

    // Consortium members can propose and vote on changes to the ledger; Microsoft is one, to
    // operate the service.
    let members: Vec<_> = client.list_consortium_members(None).try_collect().await?;
    for member in &members {
        let first_line = member.certificate.lines().nth(1).unwrap_or_default();
        println!(
            "Member {} (certificate {}…)",
            common::short(&member.id),
            first_line.get(..24).unwrap_or(first_line)
        );
    }

    // The constitution: the JavaScript that decides what members may do, and its digest.
    let constitution = client.get_constitution(None).await?;
    if !constitution.digest_matches() {
        return Err("the constitution does not match its digest".into());
    }
    println!(
        "The constitution ({} bytes of JavaScript) matches its SHA-256 digest {}.",
        constitution.script.len(),
        common::short(&constitution.digest)
    );

    // Enclave quotes: attestation material for each node, to check with an attestation
    // service (Microsoft Azure Attestation, for instance) that it runs the expected code in
    // a genuine trusted execution environment.
    let quotes = client.get_enclave_quotes(None).await?;
    if !quotes.enclave_quotes.contains_key(&quotes.current_node_id) {
        return Err("the node that answered has no quote".into());
    }
    for (node, quote) in &quotes.enclave_quotes {
        println!(
            "Node {}: quote version {} ({} characters), measurement {}",
            common::short(node),
            quote.quote_version,
            quote.raw.len(),
            quote
                .mrenclave
                .as_deref()
                .map_or_else(|| "none".to_owned(), common::short)
        );
    }

    // The certificate the client pinned (and verifies receipts against) is the one the
    // identity service publishes for this ledger.
    let identity =
        IdentityServiceClient::with_roots(&ledger.identity_endpoint, None, &ledger.identity_roots)?;
    let published = identity
        .get_ledger_identity(client.ledger_id(), None)
        .await?
        .pinned_certificate()?;
    if published == client.service_certificate() {
        println!("The pinned certificate is the one the identity service publishes.");
    } else {
        println!(
            "The identity service now publishes another certificate (rotated since the client was built)."
        );
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
