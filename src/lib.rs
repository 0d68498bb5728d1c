//! Client library for Azure Confidential Ledger.
#![deny(missing_docs)]

pub mod credential;
pub mod error;
mod fingerprint;
pub mod generated;
pub mod operation_facts;
pub mod pager;
pub mod pipeline;
pub mod poller;
pub mod receipt;
pub mod tls;
mod transaction_id;

#[cfg(feature = "azure-identity")]
pub use credential::AzureCredential;
pub use credential::{
    AccessToken, CachedTokenCredential, CertificateCredential, CertificateCredentialError,
    CredentialError, DEFAULT_SCOPE, Secret, StaticTokenCredential, TokenCredential,
};
pub use error::{CARRIER_STATUS, Error, ErrorKind};
pub use fingerprint::certificate_fingerprint;
pub use pager::{Page, Pager, Pages};
pub use poller::{PollError, Poller, PollingOptions};
pub use transaction_id::{
    ParseTransactionIdError, TransactionId, TransactionIdErrorKind, TransactionIdPart,
};
