//! The client against in-process sandbox ledgers: every operation, both ways to authenticate,
//! pollers and pagers (with `Loading` and several pages), pin refresh, identity lookup,
//! retries and dropped connections, redirects, input checks and access errors.
//!
//! One test binary with a module per area, each test with a sandbox of its own.

mod construction;
mod entries;
mod exactly_once;
mod fast_calls;
mod faults;
mod governance;
mod hooks;
mod logging;
mod preview;
mod programmability;
mod receipts;
mod request_id;
mod response_meta;
mod support;
mod users;
