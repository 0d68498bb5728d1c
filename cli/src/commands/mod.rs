//! The commands that talk to a ledger, one module per area.

pub mod admin;
pub mod entries;
pub mod governance;
pub mod identity;
pub mod input;
pub mod receipts;
