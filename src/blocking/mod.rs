//! A blocking API (cargo feature `blocking`): the async client's twin, for programs without an
//! async runtime.
//!
//! [`ConfidentialLedgerClient`] has every method of the [async
//! client](crate::ConfidentialLedgerClient), with the same names, arguments, option types,
//! models and [`Error`](crate::Error); a method returns when its call is done. The
//! differences are only where waiting is involved:
//!
//! | async | blocking |
//! |---|---|
//! | `ConfidentialLedgerClient::builder(..).build().await?` | `blocking::ConfidentialLedgerClient::builder(..).build()?` |
//! | `client.create_ledger_entry(..).await?` | `client.create_ledger_entry(..)?` |
//! | [`TransactionPoller`](crate::TransactionPoller): `.await?` | [`TransactionPoller`]: [`.wait()?`](TransactionPoller::wait) |
//! | [`progress()`](crate::TransactionPoller::progress): a `Stream` | [`on_progress(callback)`](TransactionPoller::on_progress), or [`progress()`](TransactionPoller::progress): an `Iterator` |
//! | [`Pager`](crate::Pager) / [`Pages`](crate::Pages): `Stream`s | [`Pager`] / [`Pages`]: `Iterator`s |
//! | [`IdentityServiceClient`](crate::IdentityServiceClient) | [`IdentityServiceClient`] |
//!
//! The generated client escape hatch (`raw()`) needs an async runtime and has no blocking
//! form; [`ConfidentialLedgerClient::as_async`] gives the async client.
//!
//! # How it works
//!
//! Each client (with its clones, pollers and pagers) owns one background thread running a
//! single-threaded tokio runtime, on which the async client does the work; a blocking method
//! hands its call to that thread and parks until the answer comes back. Nothing is
//! re-implemented: retries, redirects, pinning, polling schedules and paging are the async
//! client's. The thread stops when the client and everything made from it are dropped. A
//! panic on that thread (a bug) is resumed on the calling thread.
//!
//! # Async contexts
//!
//! Blocking calls must not be made from a thread that is driving async tasks (inside
//! `#[tokio::main]`, `Runtime::block_on`, or a task spawned on a runtime): parking that thread
//! would stall every task it runs. There, building a client and every method that talks to
//! the ledger **panic** with tokio's message *"Cannot block the current thread from within a
//! runtime"*, before anything is sent. Use the async client there, or move the blocking call
//! to `tokio::task::spawn_blocking` (or `block_in_place`, or a thread of your own), where it
//! works. Accessors and offline checks ([`endpoint`](ConfidentialLedgerClient::endpoint),
//! [`verify_receipt`](ConfidentialLedgerClient::verify_receipt), ...) work anywhere.
//!
//! # Examples
//!
//! ```no_run
//! use confidential_ledger::StaticTokenCredential;
//! use confidential_ledger::blocking::ConfidentialLedgerClient;
//!
//! # fn main() -> Result<(), confidential_ledger::Error> {
//! let client = ConfidentialLedgerClient::builder("https://my-ledger.confidential-ledger.azure.com")
//!     .credential(StaticTokenCredential::new("<an Entra ID token>"))
//!     .build()?;
//! let written = client.create_ledger_entry_and_wait("hello, ledger", None)?;
//! let proof = client.get_verified_receipt(written.transaction_id, None)?;
//! println!("{} is under the Merkle root {}", written.transaction_id, proof.verified.root);
//! for entry in client.list_ledger_entries(None) {
//!     println!("{}", entry?.contents);
//! }
//! # Ok(()) }
//! ```

mod builder;
mod client;
mod identity;
mod pager;
mod poller;
mod runtime;

pub use builder::ClientBuilder;
pub use client::ConfidentialLedgerClient;
pub use identity::IdentityServiceClient;
pub use pager::{Pager, Pages};
pub use poller::{Progress, TransactionPoller};
