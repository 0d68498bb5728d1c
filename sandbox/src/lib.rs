//! A local Azure Confidential Ledger server.
