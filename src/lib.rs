//! Client library for Azure Confidential Ledger: append entries to a tamper-proof ledger, wait
//! for them to commit, read them back, and fetch and verify receipts that prove, offline, that
//! they are in the ledger.
//!
//! [`ConfidentialLedgerClient`] is the entry point: build it with
//! [`ConfidentialLedgerClient::builder`], which fetches the ledger's service certificate from
//! the identity service and pins it as the only trust anchor. Every operation of api-version
//! `2026-02-23` is a method; waits are [`TransactionPoller`]s and lists are [`Pager`]s; every
//! failure is an [`Error`] whose [`kind`](Error::kind) a program can match.
//!
//! # Examples
//!
//! Against a local sandbox ledger (the `confidential-ledger-sandbox` crate), authenticated as
//! its administrator with a client certificate; a real ledger only needs its endpoint and a
//! credential (any `azure_identity` credential as an `Arc<dyn azure_core::credentials::TokenCredential>`, [`StaticTokenCredential`],
//! or a [`CertificateCredential`]):
//!
//! ```
//! use confidential_ledger::{CertificateCredential, ConfidentialLedgerClient};
//! use confidential_ledger_sandbox::{Sandbox, SandboxOptions};
//! use futures::TryStreamExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let sandbox = Sandbox::start(SandboxOptions::for_tests()).await?;
//! let client = ConfidentialLedgerClient::builder(sandbox.ledger_endpoint())
//!     .identity_endpoint(sandbox.identity_endpoint())
//!     .identity_root_certificate_pem(sandbox.identity_ca_certificate_pem())
//!     .ledger_id(sandbox.ledger_id())
//!     .certificate_credential(CertificateCredential::from_pem_parts(
//!         sandbox.admin_certificate_pem(),
//!         sandbox.admin_private_key_pem(),
//!     )?)
//!     .build()
//!     .await?;
//!
//! // Write and wait until the entry is durable.
//! let written = client.create_ledger_entry_and_wait("hello, ledger", None).await?;
//!
//! // Proof that it is in the ledger, checked against the pinned service certificate.
//! let proof = client.get_verified_receipt(written.transaction_id, None).await?;
//! println!("{} is under the Merkle root {}", written.transaction_id, proof.verified.root);
//!
//! // Everything in the collection, page by page behind the scenes.
//! let entries: Vec<_> = client.list_ledger_entries(None).try_collect().await?;
//! assert_eq!(entries.last().map(|e| e.contents.as_str()), Some("hello, ledger"));
//! # sandbox.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! The [README](https://github.com/confidential-ledger/confidential-ledger-rust#readme) is the
//! guided tour: getting started (credentials, pinning), key concepts, the code of every task of
//! a user's day (each also a runnable example in `examples/`), troubleshooting, and the local
//! sandbox ledger. Its Rust snippets are compiled with this crate's doctests.
//!
//! # Module map
//!
//! Layers, top to bottom: a module uses only modules in its own row or below, never above
//! (`cargo xtask modules --check` fails on any cycle between top-level modules; CI runs it).
//!
//! | layer | module | job |
//! |---|---|---|
//! | user API | [`client`] | [`ConfidentialLedgerClient`] and [`ClientBuilder`]; one file per group of methods, each method's `XxxOptions` (all reachable as `client::XxxOptions`), pin refresh, exactly-once writes |
//! | | `blocking` | (feature `blocking`) the same client without an async runtime |
//! | | [`identity`] | [`IdentityServiceClient`]: where a ledger's certificate is published |
//! | | [`models`] | what the methods take and return (converted from the raw types) |
//! | | [`Response`] | a call's value with the answer's metadata (status, headers, transaction id, client request id) |
//! | generated | [`raw`] | the clients generated from `spec/` at build time, the hooks that send their requests through the pipeline, and the operation tables; an escape hatch |
//! | sending | [`pipeline`] | one request: authentication, retries, redirects, limits, deadline, logging |
//! | | [`options`] | [`ClientOptions`] and [`CallOptions`]: settings shared by both clients |
//! | errors | [`error`] | [`Error`] and [`ErrorKind`], from HTTP answers, failures and the layers below |
//! | trust | [`tls`] | pinning the ledger's certificate, client certificates over TLS |
//! | | [`credential`] | bearer tokens and client certificates |
//! | foundations | [`poller`], [`pager`] | waiting and paging, independent of HTTP |
//! | | [`receipt`] | offline receipt verification, independent of the client |
//! | | [`TransactionId`], [`TransactionIdArg`], [`certificate_fingerprint`] | values every layer passes around |
//!
//! Private helpers sit beside the layer that needs them: `http_client` builds the HTTP clients
//! (timeouts, proxy, TLS), `validate` checks input before a request, `headers` reads the
//! service's response headers, `pem_file` reads certificate and key files under a size bound,
//! `crypto` holds the one rustls crypto provider.
//!
//! The crate root re-exports what most programs name; everything else is reached through its
//! module (for example `confidential_ledger::client::CreateLedgerEntryOptions`).

/// The README's Rust snippets, compiled as doctests. They use every feature (the blocking API,
/// `azure_identity` credentials), so they are checked with `--all-features`.
#[cfg(all(doctest, feature = "blocking", feature = "azure-identity"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

#[cfg(feature = "blocking")]
pub mod blocking;
pub mod client;
pub mod credential;
mod crypto;
pub mod error;
mod fingerprint;
mod headers;
mod http_client;
pub mod identity;
pub mod models;
pub mod options;
pub mod pager;
mod pem_file;
pub mod pipeline;
pub mod poller;
pub mod raw;
pub mod receipt;
mod response_meta;
pub mod tls;
mod transaction_id;
mod transaction_id_arg;
mod validate;

/// The former name of [`raw`], kept so that existing code still compiles (without a warning:
/// deprecating a module does not flag paths through it).
#[doc(hidden)]
pub mod generated {
    pub use crate::raw::*;
}

/// The former home of [`raw::HookState`], kept so that existing code still compiles.
#[doc(hidden)]
pub mod hooks {
    /// The former path of [`raw::HookState`](crate::raw::HookState).
    #[deprecated(note = "use `raw::HookState` (the hooks themselves are private)")]
    pub type HookState = crate::raw::HookState;
}

/// The former home of the operation tables' types, kept so that existing code still compiles.
#[doc(hidden)]
pub mod operation_facts {
    /// The former path of [`raw::OperationFacts`](crate::raw::OperationFacts).
    #[deprecated(note = "use `raw::OperationFacts`")]
    pub type OperationFacts = crate::raw::OperationFacts;

    /// The former path of [`raw::Paging`](crate::raw::Paging).
    #[deprecated(note = "use `raw::Paging`")]
    pub type Paging = crate::raw::Paging;

    /// The former path of [`raw::find_operation`](crate::raw::find_operation).
    #[deprecated(note = "use `raw::find_operation`")]
    pub fn find(
        table: &'static [crate::raw::OperationFacts],
        id: &str,
    ) -> Option<&'static crate::raw::OperationFacts> {
        crate::raw::find_operation(table, id)
    }
}

// The crate root holds what most programs name; everything else is in its module (each
// method's options in `client`, settings in `options`, the identity service's in `identity`).
pub use client::{
    ClientBuilder, ConfidentialLedgerClient, TransactionPollFuture, TransactionPoller,
    VerifiedReceipt,
};
#[allow(deprecated)]
pub use credential::AzureCredential;
pub use credential::{
    AccessToken, CachedTokenCredential, CertificateCredential, CertificateCredentialError,
    CredentialError, DEFAULT_SCOPE, Secret, StaticTokenCredential, TokenCredential,
};
pub use error::{Error, ErrorKind};
pub use fingerprint::{FingerprintError, certificate_fingerprint};
pub use identity::{IdentityServiceClient, LedgerIdentity};
pub use options::{CallOptions, ClientOptions};
pub use pager::{Page, Pager, Pages};
pub use poller::{PollError, Poller, PollingOptions};
pub use response_meta::Response;
pub use transaction_id::{
    IntoTransactionId, ParseTransactionIdError, TransactionId, TransactionIdErrorKind,
    TransactionIdPart,
};
pub use transaction_id_arg::TransactionIdArg;
