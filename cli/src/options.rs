//! One helper per per-method options value this tool passes to the library, so that a change
//! of the options types touches only this file.

use confidential_ledger::TransactionId;
use confidential_ledger::client::{
    CreateLedgerEntryOptions, GetCurrentLedgerEntryOptions, GetLedgerEntryOptions,
    ListLedgerEntriesOptions, ListTagsOptions,
};

use crate::error::{CliError, CliResult};

/// Parses a transaction id given on the command line (`--from 2.15`).
pub fn transaction_id(text: &str, what: &str) -> CliResult<TransactionId> {
    text.parse()
        .map_err(|e| CliError::Usage(format!("{what} {text:?} is not a transaction id: {e}")))
}

/// Options of a write.
pub fn create_entry(collection: Option<&str>, tags: &[String]) -> CreateLedgerEntryOptions {
    let mut options = CreateLedgerEntryOptions::new();
    if let Some(collection) = collection {
        options = options.collection_id(collection);
    }
    if !tags.is_empty() {
        options = options.tags(tags.iter().cloned());
    }
    options
}

/// Options of a read by id.
pub fn get_entry(collection: Option<&str>) -> GetLedgerEntryOptions {
    let mut options = GetLedgerEntryOptions::new();
    if let Some(collection) = collection {
        options = options.collection_id(collection);
    }
    options
}

/// Options of a read of the latest entry.
pub fn current_entry(collection: Option<&str>) -> GetCurrentLedgerEntryOptions {
    let mut options = GetCurrentLedgerEntryOptions::new();
    if let Some(collection) = collection {
        options = options.collection_id(collection);
    }
    options
}

/// Options of a range listing.
pub fn list_entries(
    collection: Option<&str>,
    from: Option<TransactionId>,
    to: Option<TransactionId>,
    tag: Option<&str>,
) -> ListLedgerEntriesOptions {
    let mut options = ListLedgerEntriesOptions::new();
    if let Some(collection) = collection {
        options = options.collection_id(collection);
    }
    if let Some(from) = from {
        options = options.from_transaction_id(from);
    }
    if let Some(to) = to {
        options = options.to_transaction_id(to);
    }
    if let Some(tag) = tag {
        options = options.tag(tag);
    }
    options
}

/// Options of a tag listing.
pub fn list_tags(collection: Option<&str>) -> ListTagsOptions {
    let mut options = ListTagsOptions::new();
    if let Some(collection) = collection {
        options = options.collection_id(collection);
    }
    options
}
