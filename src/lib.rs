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
//! # Modules
//!
//! | module | what |
//! |---|---|
//! | [`client`] | [`ConfidentialLedgerClient`], its builder and options, and each method's options |
//! | [`models`] | what the methods take and return |
//! | [`identity`] | [`IdentityServiceClient`]: where a ledger's certificate is published |
//! | [`receipt`] | offline receipt verification, independent of the client |
//! | [`credential`] | bearer token and client certificate credentials |
//! | [`error`] | [`Error`] and [`ErrorKind`] |
//! | [`poller`], [`pager`] | the waiting and paging machinery under the client's pollers and lists |
//! | [`pipeline`], [`hooks`], [`tls`] | how requests are sent: retries, redirects, auth, logging, pinning |
//! | [`generated`] | the raw generated clients, an escape hatch |
//! | `blocking` | (feature `blocking`) the same client for programs without an async runtime |
#![deny(missing_docs)]

/// The README's Rust snippets, compiled as doctests. They use every feature (the blocking API,
/// `azure_identity` credentials), so they are checked with `--all-features`.
#[cfg(all(doctest, feature = "blocking", feature = "azure-identity"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

#[cfg(feature = "blocking")]
pub mod blocking;
pub mod client;
pub mod credential;
pub mod error;
mod fingerprint;
pub mod generated;
pub mod hooks;
pub mod identity;
pub mod models;
pub mod operation_facts;
pub mod pager;
pub mod pipeline;
pub mod poller;
pub mod receipt;
mod response_meta;
pub mod tls;
mod transaction_id;
mod transaction_id_arg;
mod transport;

pub use client::{
    CallOptions, ClientBuilder, ClientOptions, ConfidentialLedgerClient, CreateLedgerEntryOptions,
    CreateOrUpdateLedgerUserOptions, CreateOrUpdateUserOptions, CreateUserDefinedEndpointOptions,
    CreateUserDefinedFunctionOptions, CreateUserDefinedRoleOptions, DEFAULT_API_VERSION,
    DEFAULT_MAX_ENTRY_BYTES, DeleteLedgerUserOptions, DeleteUserDefinedFunctionOptions,
    DeleteUserDefinedRoleOptions, DeleteUserOptions, EXACTLY_ONCE_MIN_API_VERSION,
    ExactlyOnceOptions, ExecuteUserDefinedFunctionOptions, GetConstitutionOptions,
    GetCurrentLedgerEntryOptions, GetEnclaveQuotesOptions, GetLedgerEntryOptions,
    GetLedgerUserOptions, GetReceiptOptions, GetRuntimeOptionsOptions, GetTransactionStatusOptions,
    GetUserDefinedEndpointOptions, GetUserDefinedEndpointsModuleOptions,
    GetUserDefinedFunctionOptions, GetUserDefinedRoleOptions, GetUserOptions,
    GetVerifiedReceiptOptions, HttpConfigurer, ListCollectionsOptions,
    ListConsortiumMembersOptions, ListLedgerEntriesOptions, ListLedgerUsersOptions,
    ListTagsOptions, ListUserDefinedFunctionsOptions, ListUsersOptions, PREVIEW_API_VERSION,
    ProxyOptions, TransactionPollFuture, TransactionPoller, UpdateRuntimeOptionsOptions,
    UpdateUserDefinedRoleOptions, VerifiedReceipt, WaitForCommitOptions, WriteMode, is_marker,
};
#[allow(deprecated)]
pub use credential::AzureCredential;
pub use credential::{
    AccessToken, CachedTokenCredential, CertificateCredential, CertificateCredentialError,
    CredentialError, DEFAULT_SCOPE, Secret, StaticTokenCredential, TokenCredential,
};
pub use error::{CARRIER_STATUS, Error, ErrorKind};
pub use fingerprint::{FingerprintError, certificate_fingerprint};
pub use identity::{
    DEFAULT_IDENTITY_ENDPOINT, GetLedgerIdentityOptions, IdentityRoots, IdentityServiceClient,
    LedgerIdentity,
};
pub use pager::{Page, Pager, Pages};
pub use poller::{PollError, Poller, PollingOptions};
pub use response_meta::Response;
pub use transaction_id::{
    IntoTransactionId, ParseTransactionIdError, TransactionId, TransactionIdErrorKind,
    TransactionIdPart,
};
pub use transaction_id_arg::TransactionIdArg;
