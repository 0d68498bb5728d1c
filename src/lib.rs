//! Client library for Azure Confidential Ledger.
#![deny(missing_docs)]

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
pub mod tls;
mod transaction_id;
mod transport;

pub use client::{
    CallOptions, ClientBuilder, ClientOptions, ConfidentialLedgerClient, CreateLedgerEntryOptions,
    CreateOrUpdateLedgerUserOptions, CreateOrUpdateUserOptions, CreateUserDefinedEndpointOptions,
    CreateUserDefinedFunctionOptions, CreateUserDefinedRoleOptions, DEFAULT_API_VERSION,
    DEFAULT_MAX_ENTRY_BYTES, DeleteLedgerUserOptions, DeleteUserDefinedFunctionOptions,
    DeleteUserDefinedRoleOptions, DeleteUserOptions, ExecuteUserDefinedFunctionOptions,
    GetConstitutionOptions, GetCurrentLedgerEntryOptions, GetEnclaveQuotesOptions,
    GetLedgerEntryOptions, GetLedgerUserOptions, GetReceiptOptions, GetRuntimeOptionsOptions,
    GetTransactionStatusOptions, GetUserDefinedEndpointOptions,
    GetUserDefinedEndpointsModuleOptions, GetUserDefinedFunctionOptions,
    GetUserDefinedRoleOptions, GetUserOptions, GetVerifiedReceiptOptions, HttpConfigurer,
    ListCollectionsOptions, ListConsortiumMembersOptions, ListLedgerEntriesOptions,
    ListLedgerUsersOptions, ListTagsOptions, ListUserDefinedFunctionsOptions, ListUsersOptions,
    ProxyOptions, TransactionPollFuture, TransactionPoller, UpdateRuntimeOptionsOptions,
    UpdateUserDefinedRoleOptions, VerifiedReceipt, WaitForCommitOptions,
};
#[cfg(feature = "azure-identity")]
pub use credential::AzureCredential;
pub use credential::{
    AccessToken, CachedTokenCredential, CertificateCredential, CertificateCredentialError,
    CredentialError, DEFAULT_SCOPE, Secret, StaticTokenCredential, TokenCredential,
};
pub use error::{CARRIER_STATUS, Error, ErrorKind};
pub use fingerprint::certificate_fingerprint;
pub use identity::{
    DEFAULT_IDENTITY_ENDPOINT, GetLedgerIdentityOptions, IdentityServiceClient, LedgerIdentity,
};
pub use pager::{Page, Pager, Pages};
pub use poller::{PollError, Poller, PollingOptions};
pub use transaction_id::{
    IntoTransactionId, ParseTransactionIdError, TransactionId, TransactionIdErrorKind,
    TransactionIdPart,
};
