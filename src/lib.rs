//! Client library for Azure Confidential Ledger.
#![deny(missing_docs)]
