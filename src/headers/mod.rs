//! The service's response headers the crate reads, and how.

mod retry_after;

pub(crate) use retry_after::retry_after;
