//! Durable storage: the record format of the ledger's transactions, the append-only,
//! checksummed log file they are group-committed to, the sync sidecar that records how far
//! the log was acknowledged, and the storage-fault switch tests use to make it all fail.

pub(crate) mod boundary;
pub(crate) mod faults;
pub(crate) mod log;
pub(crate) mod record;
