//! Client library for Azure Confidential Ledger.
#![deny(missing_docs)]

pub mod receipt;
