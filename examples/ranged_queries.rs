//! Ranged queries: the entries of a collection between two transactions, streamed page by
//! page (following the ledger's `nextLink`s, waiting out `Loading` pages).
//!
//! ```sh
//! cargo run --example ranged_queries
//! ```

#[path = "common/mod.rs"]
mod common;

use confidential_ledger::client::{CreateLedgerEntryOptions, ListLedgerEntriesOptions};
use futures::TryStreamExt;

#[tokio::main]
async fn main() -> common::Result {
    let ledger = common::connect().await?;
    let client = &ledger.client;
    let in_log = || CreateLedgerEntryOptions::new().collection_id("log");

    let first = client
        .create_ledger_entry_and_wait("First message", Some(in_log()))
        .await?
        .transaction_id;
    for i in 0..10 {
        client
            .create_ledger_entry(format!("Message {i}"), Some(in_log()))
            .await?;
    }
    let last = client
        .create_ledger_entry_and_wait("Last message", Some(in_log()))
        .await?
        .transaction_id;

    // Item by item: a lazy stream that holds one page at a time, whatever the range's size.
    let range = ListLedgerEntriesOptions::new()
        .collection_id("log")
        .from_transaction_id(first)
        .to_transaction_id(last);
    let mut entries = client.list_ledger_entries(Some(range.clone()));
    while let Some(entry) = entries.try_next().await? {
        println!("Contents at {}: {}", entry.transaction_id, entry.contents);
    }

    // Page by page, with the link each page gives to the next.
    let mut pages = client.list_ledger_entries(Some(range)).into_pages();
    while let Some(page) = pages.try_next().await? {
        println!(
            "A page of {} entries; next page: {}",
            page.items().len(),
            page.next_link().unwrap_or("none (the last page)")
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
