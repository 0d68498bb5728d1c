//! Durable storage: the record format of the ledger's transactions and the append-only,
//! checksummed log file they are group-committed to.

pub(crate) mod log;
pub(crate) mod record;
