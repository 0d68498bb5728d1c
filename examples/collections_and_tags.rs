//! Collections and tags: group entries in one ledger, and find them again.
//!
//! ```sh
//! cargo run --example collections_and_tags
//! ```
//!
//! Entries written without a collection id go to the ledger's default collection
//! (`subledger:0`). Tags file entries inside a collection for filtered listing.

#[path = "common/mod.rs"]
mod common;

use confidential_ledger::client::{
    CreateLedgerEntryOptions, GetCurrentLedgerEntryOptions, ListLedgerEntriesOptions,
    ListTagsOptions,
};
use futures::TryStreamExt;

#[tokio::main]
async fn main() -> common::Result {
    let ledger = common::connect().await?;
    let client = &ledger.client;

    // One collection per correspondent.
    let alice = CreateLedgerEntryOptions::new().collection_id("Messages_Alice");
    let bob = CreateLedgerEntryOptions::new().collection_id("Messages_Bob");
    client
        .create_ledger_entry("Hello from Alice", Some(alice.clone().tags(["greeting"])))
        .await?;
    client
        .create_ledger_entry("Alice again", Some(alice.tags(["follow-up"])))
        .await?;
    let from_bob = client
        .create_ledger_entry_and_wait("Hello from Bob", Some(bob.tags(["greeting"])))
        .await?;
    println!("Bob's entry went to {}.", from_bob.collection_id);

    // Without a collection id: the default collection, which the write result names.
    let default = client
        .create_ledger_entry_and_wait("Hello world?", None)
        .await?;
    let latest = client.get_current_ledger_entry(None).await?;
    assert_eq!(latest.collection_id, default.collection_id);
    println!(
        "Without a collection id the entry went to {:?}; its latest entry is {:?}.",
        default.collection_id, latest.contents
    );

    // The latest entry of one collection.
    let latest_alice = client
        .get_current_ledger_entry(Some(
            GetCurrentLedgerEntryOptions::new().collection_id("Messages_Alice"),
        ))
        .await?;
    println!("Alice's latest: {:?}.", latest_alice.contents);

    // Every collection, and the tags used in one.
    let collections: Vec<String> = client
        .list_collections(None)
        .map_ok(|c| c.collection_id)
        .try_collect()
        .await?;
    println!("Collections: {collections:?}");
    let tags: Vec<String> = client
        .list_tags(Some(ListTagsOptions::new().collection_id("Messages_Alice")))
        .try_collect()
        .await?;
    println!("Tags in Messages_Alice: {tags:?}");

    // Only the entries of one collection filed under a tag.
    let greetings: Vec<String> = client
        .list_ledger_entries(Some(
            ListLedgerEntriesOptions::new()
                .collection_id("Messages_Alice")
                .tag("greeting"),
        ))
        .map_ok(|entry| entry.contents)
        .try_collect()
        .await?;
    println!("Alice's greetings: {greetings:?}");

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
