//! The blocking API (feature `blocking`): the same client, methods and options, without an
//! async runtime in the program.
//!
//! ```sh
//! cargo run --example blocking --features blocking
//! ```

#[path = "common/mod.rs"]
mod common;

use std::time::Duration;

use confidential_ledger::client::{CreateLedgerEntryOptions, ListLedgerEntriesOptions};

fn main() -> common::Result {
    let ledger = common::connect_blocking()?;
    let client = &ledger.client;

    // Write and wait: the poller's `wait()` is the async poller's `.await`.
    let written = client.create_ledger_entry("Hello from a blocking program", None)?;
    let status = client
        .wait_for_commit(written.transaction_id, None)
        .with_timeout(Duration::from_secs(30))
        .on_progress(|update| {
            if let Some(state) = &update.status {
                println!("  {state} after {} poll(s)", update.polls);
            }
        })
        .wait()?;
    println!("Transaction {} is {}.", status.transaction_id, status.state);

    // Read back, and prove it.
    let entry = client
        .get_ledger_entry(written.transaction_id, None)
        .wait()?;
    let proof = client.get_verified_receipt(written.transaction_id, None)?;
    println!(
        "Read {:?}; receipt verified under root {}.",
        entry.contents,
        common::short(proof.verified.root)
    );

    // Lists are iterators, of items or of pages.
    let mut last = None;
    for i in 0..7 {
        let options = CreateLedgerEntryOptions::new().collection_id("blocking");
        last = Some(client.create_ledger_entry(format!("item {i}"), Some(options))?);
    }
    if let Some(last) = last {
        client.wait_for_commit(last.transaction_id, None).wait()?;
    }
    let in_collection = || ListLedgerEntriesOptions::new().collection_id("blocking");
    for entry in client.list_ledger_entries(Some(in_collection())) {
        let entry = entry?;
        println!("  {}: {}", entry.transaction_id, entry.contents);
    }
    let pages: Vec<usize> = client
        .list_ledger_entries(Some(in_collection()))
        .into_pages()
        .map(|page| page.map(|p| p.items().len()))
        .collect::<Result<_, _>>()?;
    println!("The same entries in pages of {pages:?}.");

    ledger.close();
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn runs_against_an_embedded_sandbox() {
        super::main().expect("the example runs");
    }
}
