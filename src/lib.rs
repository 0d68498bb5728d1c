//! Client library for Azure Confidential Ledger.
#![deny(missing_docs)]

pub mod generated;
pub mod operation_facts;
