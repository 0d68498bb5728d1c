//! The service's response headers the crate reads, and how.

mod retry_after;

pub(crate) use retry_after::retry_after;

/// The response header carrying the transaction id: of a write, or of the state a read saw.
///
/// # Examples
///
/// ```
/// assert_eq!(confidential_ledger::pipeline::TRANSACTION_ID_HEADER, "x-ms-ccf-transaction-id");
/// ```
pub const TRANSACTION_ID_HEADER: &str = "x-ms-ccf-transaction-id";

/// [`TRANSACTION_ID_HEADER`] as a header name: a lookup with it hashes the name directly,
/// where a lookup with the `&str` parses and validates it first (on every call).
pub(crate) const TRANSACTION_ID: reqwest::header::HeaderName =
    reqwest::header::HeaderName::from_static(TRANSACTION_ID_HEADER);
