//! Ledger JavaScript: user-defined functions and endpoints run in an embedded QuickJS
//! engine (`rquickjs`, the engine CCF itself embeds), with the `ccf` API of CCF's
//! JavaScript applications and the ledger's runtime limits.

pub(crate) mod engine;
pub(crate) mod kv;
pub(crate) mod limits;
