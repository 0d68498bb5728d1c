//! Collections.

use serde::{Deserialize, Serialize};

use crate::raw::ledger::types;

/// A collection of the ledger: a named group of entries.
///
/// # Examples
///
/// ```no_run
/// use futures::TryStreamExt;
/// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
/// let collections: Vec<_> = client.list_collections(None).try_collect().await?;
/// for c in collections {
///     println!("{}", c.collection_id);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Collection {
    /// The collection's id.
    pub collection_id: String,
}

impl Collection {
    pub(crate) fn from_generated(c: types::Collection) -> Self {
        // Exhaustive: a field added upstream is a compile error here (see xtask/coverage.json).
        let types::Collection { collection_id } = c;
        Self { collection_id }
    }
}
