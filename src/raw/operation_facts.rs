//! What the spec says about each generated operation beyond its method signature.
//!
//! The generated methods always send `application/json`, do not page and ignore response
//! headers. The build script reads the extensions the spec converter writes
//! (`x-original-content-type`, `x-ms-pageable`, response `headers`) into one table per raw
//! client, [`generated::ledger::OPERATIONS`](crate::raw::ledger::OPERATIONS) and
//! [`generated::identity::OPERATIONS`](crate::raw::identity::OPERATIONS), keyed by the
//! same id the client hooks see in `OperationInfo::operation_id`.
//!
//! # Examples
//!
//! ```
//! use confidential_ledger::raw::ledger::OPERATIONS;
//! use confidential_ledger::raw::find_operation;
//!
//! let patch = find_operation(OPERATIONS, "create_or_update_ledger_user").unwrap();
//! assert_eq!(patch.request_content_type, Some("application/merge-patch+json"));
//!
//! let list = find_operation(OPERATIONS, "list_ledger_entries").unwrap();
//! assert_eq!(list.paging.unwrap().item_name, "entries");
//! ```

/// Facts about one operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperationFacts {
    /// The generated method's name, which is also `OperationInfo::operation_id` in hooks.
    pub id: &'static str,
    /// The spec's `operationId`.
    pub operation_id: &'static str,
    /// Upper-case HTTP method.
    pub method: &'static str,
    /// Path template, such as `/app/transactions/{transactionId}`.
    pub path: &'static str,
    /// The content type the service expects for the request body (`None`: no body). The
    /// generated method sends `application/json`; a hook must set this one when it differs
    /// (`application/merge-patch+json`).
    pub request_content_type: Option<&'static str>,
    /// Paging (`x-ms-pageable`), when the operation returns pages.
    pub paging: Option<Paging>,
    /// Success status codes, as written in the spec (`"200"`, `"201"`).
    pub success_statuses: &'static [&'static str],
    /// Headers the success responses declare (such as `x-ms-ccf-transaction-id`); read them
    /// from `ResponseValue::headers()`.
    pub response_headers: &'static [&'static str],
    /// `x-ms-long-running-operation`: the service answers before the work is done, so a
    /// wrapper must poll for the outcome.
    pub long_running: bool,
}

/// How a paged operation links its pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    /// The response field holding the next page's link (server-relative, carrying the query);
    /// `None` when the operation has a single page.
    pub next_link_name: Option<&'static str>,
    /// The response field holding the page's items.
    pub item_name: &'static str,
}

/// The facts for operation `id` in `table`.
pub fn find(table: &'static [OperationFacts], id: &str) -> Option<&'static OperationFacts> {
    table.iter().find(|op| op.id == id)
}
