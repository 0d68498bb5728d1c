//! Reading earlier entries: the ledger may need a moment to load a historical transaction,
//! and the client waits for it (answers `Loading`, then the entry).
//!
//! ```sh
//! cargo run --example earlier_entries
//! ```
//!
//! An entry is read by the transaction that wrote it, in its collection: the value the
//! collection held at that point in the ledger's history.

#[path = "common/mod.rs"]
mod common;

use std::time::Duration;

use confidential_ledger::client::GetLedgerEntryOptions;
use futures::StreamExt;

#[tokio::main]
async fn main() -> common::Result {
    let ledger = common::connect().await?;
    let client = &ledger.client;
    client
        .create_ledger_entry_and_wait("First version", None)
        .await?;

    let latest = client.get_current_ledger_entry(None).await?;
    println!(
        "Current entry (transaction {}) in {}: {:?}",
        latest.transaction_id, latest.collection_id, latest.contents
    );
    let prior = latest.transaction_id;

    client
        .create_ledger_entry_and_wait("Second version", None)
        .await?;

    // The entry written at `prior`. The poller asks again, with backoff, while the ledger
    // answers `Loading`; its progress says how that goes.
    let poller = client.get_ledger_entry(
        prior,
        Some(GetLedgerEntryOptions::new().timeout(Duration::from_secs(60))),
    );
    let mut progress = poller.progress();
    let watcher = tokio::spawn(async move {
        while let Some(update) = progress.next().await {
            println!(
                "  the ledger is {:?} the entry (poll {})",
                update.status, update.polls
            );
        }
    });
    let older = poller.await?;
    watcher.await?;
    println!(
        "Contents of {} at {prior}: {:?} (the latest is now {:?}).",
        older.collection_id,
        older.contents,
        client.get_current_ledger_entry(None).await?.contents
    );

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
