//! The raw clients, generated at build time from `spec/*.json` (see `build.rs`; the generator
//! settings are in `build/generator.rs`). Nothing here is written by hand and nothing is
//! checked in: change the converter (`cargo xtask regen`) or the settings instead.
//!
//! This is the escape hatch under the hand-written client: one `async fn` per operation on
//! [`ledger::Client`] and [`identity::Client`], with their request and response types in
//! [`ledger::types`] and [`identity::types`].
//!
//! - Construct with `Client::new_with_client(base_url, reqwest_client, hook_state)`: every
//!   request then goes through the [`Pipeline`](crate::pipeline::Pipeline) of the
//!   [`HookState`] (the hooks, see [`HookState`] and [`operation_context`]). (`Client::new`
//!   builds its own `reqwest::Client`, which needs a process-wide rustls crypto provider.)
//!   [`ConfidentialLedgerClient::raw`](crate::ConfidentialLedgerClient::raw) hands out one
//!   over the client's connections.
//! - Arguments are positional: path parameters in path order, then query parameters sorted by
//!   wire name, then `body`. `api-version` is an ordinary required argument.
//! - Every method returns `Result<ResponseValue<T>, Error<E>>`; convert the error with
//!   `crate::Error::from`, which recovers the pipeline's error (the hooks turn every failure,
//!   error answers included, into a carrier response; see [`CARRIER_STATUS`](crate::error::CARRIER_STATUS)).
//! - Open enums (`x-ms-enum.modelAsString`) are `enum X { Known(XKnown), Other(String) }`:
//!   values the spec does not list deserialize as `Other`.
//! - What the signatures do not carry (merge-patch content type, paging, response headers) is
//!   in each module's `OPERATIONS` table ([`OperationFacts`]).

mod hooks;
mod operation_facts;

/// Public because a program using the raw clients constructs them with it
/// (`Client::new_with_client(base_url, reqwest_client, HookState::new(pipeline))`).
pub use hooks::HookState;
pub use hooks::operation_context;
/// Public because the generated `OPERATIONS` tables are made of them: what the generated
/// signatures do not say (merge-patch content type, paging, response headers).
pub use operation_facts::{OperationFacts, Paging, find as find_operation};

// Lints the generated code cannot satisfy: fields and variants have no docs (the spec holds no
// prose), and an explicit error status next to the `5XX` range (2026-07-31-preview's `503`)
// makes an unreachable match arm.

/// The Confidential Ledger data plane (`spec/ledger.json`).
#[allow(
    missing_docs,
    clippy::all,
    clippy::pedantic,
    unused_imports,
    unreachable_patterns
)]
pub mod ledger {
    include!(concat!(env!("OUT_DIR"), "/ledger.rs"));
    include!(concat!(env!("OUT_DIR"), "/ledger_operations.rs"));
}

/// The identity service, which serves a ledger's TLS certificate (`spec/identity.json`).
#[allow(
    missing_docs,
    clippy::all,
    clippy::pedantic,
    unused_imports,
    unreachable_patterns
)]
pub mod identity {
    include!(concat!(env!("OUT_DIR"), "/identity.rs"));
    include!(concat!(env!("OUT_DIR"), "/identity_operations.rs"));
}
