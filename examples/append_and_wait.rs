//! Append entries and make sure they are durable: the three ways to wait for the commit, and
//! how to watch a wait.
//!
//! ```sh
//! cargo run --example append_and_wait
//! ```
//!
//! A ledger is a distributed system: a write it has accepted can still be lost (rolled back)
//! until it is committed. Entries that must not be lost are worth waiting for.

#[path = "common/mod.rs"]
mod common;

use std::time::Duration;

use confidential_ledger::client::CreateLedgerEntryOptions;
use futures::StreamExt;

#[tokio::main]
async fn main() -> common::Result {
    let ledger = common::connect().await?;
    let client = &ledger.client;

    // Write, then wait. The write returns its transaction id straight away: no header to dig
    // out. The wait polls the transaction's status (quickly at first, then backing off) and
    // rides out the brief 404/406 answers a ledger gives right after a write.
    let written = client.create_ledger_entry("Hello world!", None).await?;
    println!("Wrote at transaction {}.", written.transaction_id);
    let status = client.wait_for_commit(written.transaction_id, None).await?;
    println!("Transaction {} is {}.", status.transaction_id, status.state);

    // Write and wait in one call (fewer writes per second, but simpler).
    let options = CreateLedgerEntryOptions::new().timeout(Duration::from_secs(30));
    let durable = client
        .create_ledger_entry_and_wait("Hello world again!", Some(options))
        .await?;
    println!(
        "Wrote and committed transaction {} in one call.",
        durable.transaction_id
    );

    // Write now, wait later: the poller knows the transaction id before the commit, and its
    // progress can be watched from another task.
    let poller = client
        .begin_create_ledger_entry("Hello world, watched!", None)
        .await?;
    let id = poller
        .transaction_id()
        .expect("a write's poller knows its transaction");
    println!("Wrote at transaction {id}; waiting for the commit...");
    let mut progress = poller.progress();
    let watcher = tokio::spawn(async move {
        while let Some(update) = progress.next().await {
            println!(
                "  still {} after {} poll(s); next poll in {:?}",
                update
                    .status
                    .map_or_else(|| "unknown".into(), |s| s.to_string()),
                update.polls,
                update.next_poll_in
            );
        }
    });
    let committed = poller.with_timeout(Duration::from_secs(30)).await?;
    watcher.await?;
    println!("Transaction {} is committed.", committed.transaction_id);

    // The status alone, without waiting.
    let status = client.get_transaction_status(id, None).await?;
    println!("get_transaction_status({id}) says {}.", status.state);

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
