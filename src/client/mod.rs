//! [`ConfidentialLedgerClient`]: every operation of the ledger, typed, with pinning, pollers,
//! pagers and receipt verification.
//!
//! # How a call runs
//!
//! Each method validates its input (a malformed transaction id, an empty or oversized entry,
//! a malformed user id are refused with [`InvalidInput`](crate::ErrorKind::InvalidInput)
//! before anything is sent), then calls the generated operation
//! ([`raw::ledger::Client`](crate::raw::ledger::Client)), whose hooks send the request
//! through the [`Pipeline`](crate::pipeline::Pipeline): bearer token or client certificate, retries with backoff (writes only when provably not sent), redirects kept
//! inside the ledger, the merge-patch content type, the user agent, and tracing. The answer is
//! converted into the [`models`](crate::models).
//!
//! The two calls made most often, a transaction's status (every commit wait polls it) and a
//! write, are built and decoded by the client itself (`fast_calls`): the same request on the
//! wire, the same pipeline, without the generated client's per-call work. Their
//! `*_with_response` variants, and every other operation, go through the generated client.
//!
//! # Each method's options
//!
//! Every method takes its own `Option<XxxOptions>` (`None`: the defaults), named after the
//! method: [`CreateLedgerEntryOptions`] for
//! [`create_ledger_entry`](ConfidentialLedgerClient::create_ledger_entry), and so on. They are
//! all in this module, `confidential_ledger::client::XxxOptions`, and not at the crate root;
//! the settings of the whole client ([`ClientOptions`], [`CallOptions`]) are in
//! [`options`](crate::options) and at the root.
//!
//! # The pinned certificate
//!
//! The ledger's nodes present certificates issued by the ledger's own service certificate.
//! The client trusts that certificate and nothing else (see [`tls`](crate::tls)). By default it
//! fetches it from the identity service when it is built; when a later connection fails with a
//! [`PinMismatch`](crate::ErrorKind::PinMismatch) (the certificate rotated, or the ledger was
//! recovered), the client fetches it once more, and if it changed, rebuilds its connections
//! with the new pin and tries the call again, once. Nothing was sent on a connection that
//! failed verification, so this is safe for writes too. A certificate given to the builder
//! ([`ClientBuilder::service_certificate_pem`]) is never replaced: a mismatch is then an error.
//! Verification is never switched off.
//!
//! # Options
//!
//! Every options struct ([`ClientOptions`], [`CallOptions`], each method's `XxxOptions`, and
//! the [`pipeline`](crate::pipeline), [`poller`](crate::poller) and [`receipt`](crate::receipt)
//! options they hold) has public fields and a `Default`, and is written as a struct literal
//! ending in `..Default::default()`, the way the Azure SDK for Rust writes its options:
//!
//! ```
//! use std::time::Duration;
//! use confidential_ledger::client::{CallOptions, ClientOptions, ListLedgerEntriesOptions};
//!
//! let client_options = ClientOptions {
//!     application_id: Some("inventory".into()),
//!     call_timeout: Some(Duration::from_secs(30)),
//!     ..Default::default()
//! };
//! let list = ListLedgerEntriesOptions {
//!     collection_id: Some("orders".into()),
//!     call: CallOptions { logging_enable: Some(true), ..Default::default() },
//!     ..Default::default()
//! };
//! # let _ = (client_options, list);
//! ```
//!
//! **Policy for adding fields.** A new field of an options struct always has a default that
//! keeps the behaviour the struct had without it, and adding one is a minor (not a breaking)
//! change: literals are to end with `..Default::default()` (as every example here does), and a
//! literal that lists every field without it may stop compiling on a minor release. Removing or
//! retyping a field is a breaking change. Structs the client returns (models, errors) stay
//! `#[non_exhaustive]`: they are read, never built by users.
//!
//! # Logging
//!
//! Every method runs in an `INFO` span `ledger_call` (target `confidential_ledger::client`)
//! with the fields `method` and `transaction_id` (the transaction the call is about, or the one
//! a write created); the pipeline's `ledger_operation` and `ledger_attempt` spans nest inside
//! it (see [`pipeline::logging`](crate::pipeline::logging)). Bodies are logged at `DEBUG` only
//! when [`ClientOptions::logging_enable`] or the call's
//! [`CallOptions::logging_enable`] asks for it.

mod builder;
mod collections;
mod commit_book;
mod commit_cadence;
mod commit_wait;
mod commit_watcher;
mod committed;
mod entries;
pub mod exactly_once;
mod fast_calls;
mod governance;
mod paging;
mod pinning;
mod polling;
mod programmability;
mod receipts;
mod roles;
mod users;

use std::fmt;
use std::future::Future;
#[cfg(test)]
use std::future::IntoFuture;
use std::sync::{Arc, PoisonError, RwLock};

use progenitor_client::ResponseValue;
use reqwest::Url;
use tracing::Span;

pub use crate::options::{
    CallOptions, ClientOptions, DEFAULT_API_VERSION, DEFAULT_MAX_ENTRY_BYTES, HttpConfigurer,
    ProxyOptions,
};
pub use crate::response_meta::Response;
pub use builder::ClientBuilder;
pub use collections::{ListCollectionsOptions, ListTagsOptions};
pub use committed::PREVIEW_API_VERSION;
pub use entries::{
    CreateLedgerEntryOptions, GetCurrentLedgerEntryOptions, GetLedgerEntryOptions,
    GetTransactionStatusOptions, ListLedgerEntriesOptions, WaitForCommitOptions,
};
pub use exactly_once::{
    EXACTLY_ONCE_MIN_API_VERSION, ExactlyOnceOptions, MARKER_PREFIX, WriteMode, is_marker,
};
pub use governance::{
    GetConstitutionOptions, GetEnclaveQuotesOptions, ListConsortiumMembersOptions,
};
pub use polling::{TransactionPollFuture, TransactionPoller};
pub use programmability::{
    CreateUserDefinedEndpointOptions, CreateUserDefinedFunctionOptions,
    DeleteUserDefinedFunctionOptions, ExecuteUserDefinedFunctionOptions, GetRuntimeOptionsOptions,
    GetUserDefinedEndpointOptions, GetUserDefinedEndpointsModuleOptions,
    GetUserDefinedFunctionOptions, ListUserDefinedFunctionsOptions, UpdateRuntimeOptionsOptions,
};
pub use receipts::{GetReceiptOptions, GetVerifiedReceiptOptions, VerifiedReceipt};
pub use roles::{
    CreateUserDefinedRoleOptions, DeleteUserDefinedRoleOptions, GetUserDefinedRoleOptions,
    UpdateUserDefinedRoleOptions,
};
pub use users::{
    CreateOrUpdateLedgerUserOptions, CreateOrUpdateUserOptions, DeleteLedgerUserOptions,
    DeleteUserOptions, GetLedgerUserOptions, GetUserOptions, ListLedgerUsersOptions,
    ListUsersOptions,
};

use crate::raw::HookState;
use crate::raw::ledger;
use crate::tls::PinnedCertificate;
use crate::{CertificateCredential, Error, IdentityServiceClient, TransactionId};
use pinning::PinnedConnections;

/// A client of one Azure Confidential Ledger.
///
/// Build it with [`ConfidentialLedgerClient::builder`]. Cheap to clone: clones share the
/// connections, the credential, the pinned certificate and the receipt verifier; it is `Send`
/// and `Sync`, so one client can serve a whole program.
///
/// Methods follow one shape: required arguments, then `Option<XxxOptions>` (`None` for the
/// defaults). Those that wait return a [`TransactionPoller`] (await it, or watch its progress);
/// lists return a [`Pager`](crate::Pager), a `Stream` of items (or of pages with
/// `into_pages()`).
///
/// | task | methods |
/// |---|---|
/// | write | [`create_ledger_entry`](Self::create_ledger_entry), [`create_ledger_entry_and_wait`](Self::create_ledger_entry_and_wait), [`begin_create_ledger_entry`](Self::begin_create_ledger_entry) |
/// | commit | [`get_transaction_status`](Self::get_transaction_status), [`wait_for_commit`](Self::wait_for_commit) |
/// | read | [`get_ledger_entry`](Self::get_ledger_entry), [`get_current_ledger_entry`](Self::get_current_ledger_entry), [`list_ledger_entries`](Self::list_ledger_entries) |
/// | receipts | [`get_receipt`](Self::get_receipt), [`verify_receipt`](Self::verify_receipt), [`get_verified_receipt`](Self::get_verified_receipt) |
/// | collections | [`list_collections`](Self::list_collections), [`list_tags`](Self::list_tags) |
/// | governance | [`get_constitution`](Self::get_constitution), [`list_consortium_members`](Self::list_consortium_members), [`get_enclave_quotes`](Self::get_enclave_quotes) |
/// | users | [`get_ledger_user`](Self::get_ledger_user), [`create_or_update_ledger_user`](Self::create_or_update_ledger_user), [`delete_ledger_user`](Self::delete_ledger_user), [`list_ledger_users`](Self::list_ledger_users); deprecated legacy calls (older api-versions only) [`get_user`](Self::get_user), [`create_or_update_user`](Self::create_or_update_user), [`delete_user`](Self::delete_user), [`list_users`](Self::list_users) |
/// | roles | [`create_user_defined_role`](Self::create_user_defined_role), [`get_user_defined_role`](Self::get_user_defined_role), [`update_user_defined_role`](Self::update_user_defined_role), [`delete_user_defined_role`](Self::delete_user_defined_role) |
/// | endpoints | [`get_user_defined_endpoint`](Self::get_user_defined_endpoint), [`create_user_defined_endpoint`](Self::create_user_defined_endpoint), [`get_user_defined_endpoints_module`](Self::get_user_defined_endpoints_module), [`get_runtime_options`](Self::get_runtime_options), [`update_runtime_options`](Self::update_runtime_options) |
/// | functions | [`list_user_defined_functions`](Self::list_user_defined_functions), [`get_user_defined_function`](Self::get_user_defined_function), [`create_user_defined_function`](Self::create_user_defined_function), [`delete_user_defined_function`](Self::delete_user_defined_function), [`execute_user_defined_function`](Self::execute_user_defined_function) |
///
/// See the [module documentation](self) for how calls run, how the pinned certificate is
/// kept current, and what is logged.
///
/// # Examples
///
/// Against a local sandbox ledger, as the administrator (mutual TLS):
///
/// ```
/// use confidential_ledger::{CertificateCredential, ConfidentialLedgerClient};
/// use confidential_ledger_sandbox::{Sandbox, SandboxOptions};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let sandbox = Sandbox::start(SandboxOptions::for_tests()).await?;
/// let client = ConfidentialLedgerClient::builder(sandbox.ledger_endpoint())
///     .identity_endpoint(sandbox.identity_endpoint())
///     .identity_root_certificate_pem(sandbox.identity_ca_certificate_pem())
///     .ledger_id(sandbox.ledger_id())
///     .certificate_credential(CertificateCredential::from_pem_parts(
///         sandbox.admin_certificate_pem(),
///         sandbox.admin_private_key_pem(),
///     )?)
///     .build()
///     .await?;
///
/// let written = client.create_ledger_entry_and_wait("hello, ledger", None).await?;
/// let entry = client.get_ledger_entry(written.transaction_id, None).await?;
/// assert_eq!(entry.contents, "hello, ledger");
///
/// let receipt = client.get_receipt(written.transaction_id, None).await?;
/// let verified = client.verify_receipt(&receipt, None)?;
/// assert_eq!(verified.transaction_id, Some(written.transaction_id.to_string()));
/// # sandbox.shutdown().await;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct ConfidentialLedgerClient {
    inner: Arc<Inner>,
}

struct Inner {
    endpoint: Url,
    base_url: String,
    /// The URLs of the status read and the write, parsed once.
    fast_urls: fast_calls::FastUrls,
    ledger_id: String,
    options: ClientOptions,
    /// Where the pinned certificate comes from; `None` when the caller gave it.
    identity: Option<IdentityServiceClient>,
    certificate: Option<CertificateCredential>,
    /// The current connections and pin; replaced when the pin is refreshed.
    connections: RwLock<Arc<PinnedConnections>>,
    /// One refresh at a time.
    refresh: tokio::sync::Mutex<()>,
    /// The commit waits' shared status polls.
    watcher: commit_watcher::CommitWatcher,
}

impl fmt::Debug for ConfidentialLedgerClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let connections = self.connections();
        f.debug_struct("ConfidentialLedgerClient")
            .field("endpoint", &self.inner.endpoint.as_str())
            .field("ledger_id", &self.inner.ledger_id)
            .field("api_version", &self.inner.options.api_version)
            .field("pinned", &connections.pinned)
            .field(
                "certificate_source",
                &match &self.inner.identity {
                    Some(identity) => format!("identity service {}", identity.endpoint()),
                    None => "given by the caller".to_owned(),
                },
            )
            .field("pipeline", &connections.pipeline)
            .finish_non_exhaustive()
    }
}

impl ConfidentialLedgerClient {
    /// A builder for a client of the ledger at `endpoint`
    /// (`https://<ledger-name>.confidential-ledger.azure.com`); see [`ClientBuilder`].
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use std::sync::Arc;
    /// use confidential_ledger::{ConfidentialLedgerClient, StaticTokenCredential};
    ///
    /// # async fn run() -> Result<(), confidential_ledger::Error> {
    /// let client = ConfidentialLedgerClient::builder("https://my-ledger.confidential-ledger.azure.com")
    ///     .credential(StaticTokenCredential::new("<an Entra ID token>"))
    ///     .build()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn builder(endpoint: impl Into<String>) -> ClientBuilder {
        ClientBuilder::new(endpoint)
    }

    /// The ledger's endpoint.
    pub fn endpoint(&self) -> &Url {
        &self.inner.endpoint
    }

    /// The ledger's id (the name the identity service knows it by).
    pub fn ledger_id(&self) -> &str {
        &self.inner.ledger_id
    }

    /// The client's options.
    pub fn options(&self) -> &ClientOptions {
        &self.inner.options
    }

    /// The service certificate the client currently pins (and verifies receipts against).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn run(client: confidential_ledger::ConfidentialLedgerClient) {
    /// println!("trusting {}", client.service_certificate().fingerprint());
    /// # }
    /// ```
    pub fn service_certificate(&self) -> PinnedCertificate {
        self.connections().pinned.clone()
    }

    /// The generated client over the current connections, for operations or parameters the
    /// typed methods do not cover. Its calls go through the same pipeline (credentials,
    /// retries, redirects, logging) but are not retried after a pin refresh; convert their
    /// errors with `Error::from`.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use confidential_ledger::Error;
    /// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), Error> {
    /// let raw = client.raw();
    /// let quotes = raw.get_enclave_quotes(&client.options().api_version).await.map_err(Error::from)?;
    /// println!("{}", quotes.current_node_id);
    /// # Ok(()) }
    /// ```
    pub fn raw(&self) -> ledger::Client {
        self.raw_for(&self.connections(), &CallOptions::default(), None, None)
    }

    /// The current connections.
    fn connections(&self) -> Arc<PinnedConnections> {
        Arc::clone(
            &self
                .inner
                .connections
                .read()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    fn api_version(&self) -> &str {
        &self.inner.options.api_version
    }

    /// When a call with `call`'s settings, starting now, must be over: its own
    /// [`call_timeout`](CallOptions::call_timeout), else the client's (none without either).
    fn deadline_for(&self, call: &CallOptions) -> Option<tokio::time::Instant> {
        call.call_timeout
            .or(self.inner.options.call_timeout)
            .and_then(|timeout| tokio::time::Instant::now().checked_add(timeout))
    }

    /// The generated client for one call over `connections`, ending at `deadline` if given
    /// (otherwise after the client's call timeout, counted per request), sending
    /// `client_request_id` if given (otherwise `call`'s, or a fresh one per request).
    fn raw_for(
        &self,
        connections: &PinnedConnections,
        call: &CallOptions,
        deadline: Option<tokio::time::Instant>,
        client_request_id: Option<&Arc<str>>,
    ) -> ledger::Client {
        let mut state = HookState::new(connections.pipeline.clone());
        if let Some(enabled) = call.logging_enable {
            state = state.logging_enable(enabled);
        }
        if let Some(deadline) = deadline {
            state = state.deadline(deadline);
        }
        if let Some(id) = client_request_id {
            state = state.shared_client_request_id(Arc::clone(id));
        } else if let Some(id) = &call.client_request_id {
            state = state.shared_client_request_id(Arc::from(id.as_str()));
        }
        ledger::Client::new_with_client(
            &self.inner.base_url,
            connections.pipeline.http_client().clone(),
            state,
        )
    }

    /// Runs a generated operation (`op` is given the generated client), refreshing the pin and
    /// trying again once after a pin mismatch.
    async fn run<T, E, F, Fut>(&self, call: &CallOptions, op: F) -> Result<ResponseValue<T>, Error>
    where
        F: FnMut(ledger::Client) -> Fut,
        Fut: Future<Output = Result<ResponseValue<T>, progenitor_client::Error<E>>>,
    {
        let id = request_id_for(call);
        self.run_as(call, &id, op).await
    }

    /// [`run`](Self::run) with the client request id `id`, decided by the caller.
    async fn run_as<T, E, F, Fut>(
        &self,
        call: &CallOptions,
        id: &Arc<str>,
        mut op: F,
    ) -> Result<ResponseValue<T>, Error>
    where
        F: FnMut(ledger::Client) -> Fut,
        Fut: Future<Output = Result<ResponseValue<T>, progenitor_client::Error<E>>>,
    {
        // One deadline and one client request id for the call, a second try after a pin
        // refresh included.
        let deadline = self.deadline_for(call);
        self.with_pinned_connections(|connections| {
            // A combinator, not `async move { pending.await }`: an async block would hold the
            // operation's future twice (as its capture and as what it awaits), doubling every
            // call's future.
            futures::TryFutureExt::map_err(
                op(self.raw_for(&connections, call, deadline, Some(id))),
                Error::from,
            )
        })
        .await
    }

    /// [`run`](Self::run), keeping the metadata of the answer: `value` made from the
    /// answer's body, in a [`Response`] with its status, headers and client request id.
    async fn run_with_response<T, E, F, Fut>(
        &self,
        call: &CallOptions,
        op: F,
    ) -> Result<Response<T>, Error>
    where
        F: FnMut(ledger::Client) -> Fut,
        Fut: Future<Output = Result<ResponseValue<T>, progenitor_client::Error<E>>>,
    {
        let id = request_id_for(call);
        let response = self.run_as(call, &id, op).await?;
        let (status, headers) = (response.status(), response.headers().clone());
        Ok(Response::new(
            response.into_inner(),
            status,
            headers,
            id.as_ref().to_owned(),
        ))
    }

    /// Runs `attempt` over the current connections; after a pin mismatch, refreshes the pin (see
    /// the [module documentation](self)) and runs it once more over the new connections.
    async fn with_pinned_connections<T, F, Fut>(&self, mut attempt: F) -> Result<T, Error>
    where
        F: FnMut(Arc<PinnedConnections>) -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let connections = self.connections();
        match attempt(Arc::clone(&connections)).await {
            Err(err) if err.pin_mismatch().is_some() => {
                // Boxed: a refresh (an identity lookup, new connections) is rare, and inline
                // it would make every call's future several times larger.
                match Box::pin(self.refresh_after_mismatch(&connections)).await {
                    Ok(fresh) => attempt(fresh).await,
                    Err(why) => Err(err.with_detail(why)),
                }
            }
            other => other,
        }
    }

    /// Runs `call` in the span of `method`; an error that names no operation yet (a refused
    /// argument, a malformed answer) is named after `method`.
    ///
    /// A plain function returning a combinator rather than an `async fn`: an `async fn` would
    /// keep `call` both as its argument and inside the span wrapper, doubling the size of
    /// every call's future (unoptimised builds then copy it on the stack at each level).
    fn traced<T>(
        method: &'static str,
        call: impl Future<Output = Result<T, Error>>,
    ) -> impl Future<Output = Result<T, Error>> {
        futures::FutureExt::map(
            tracing::Instrument::instrument(call, Self::span(method, None)),
            move |result| result.map_err(|e| e.with_operation(method)),
        )
    }

    /// The span of a call of `method`, about `transaction_id` when known. Its
    /// `client_request_id` is recorded when the request is made (a poller's or pager's
    /// requests are calls of their own, each with its id).
    fn span(method: &'static str, transaction_id: Option<TransactionId>) -> Span {
        let span = tracing::info_span!(
            target: "confidential_ledger::client",
            "ledger_call",
            method,
            transaction_id = tracing::field::Empty,
            client_request_id = tracing::field::Empty,
        );
        if let Some(id) = transaction_id {
            span.record("transaction_id", tracing::field::display(id));
        }
        span
    }
}

/// The client request id of a call with `call`'s settings: the caller's, or a fresh one,
/// recorded on the current (`ledger_call`) span. Shared, not copied, by every request of the
/// call.
fn request_id_for(call: &CallOptions) -> Arc<str> {
    let id = match &call.client_request_id {
        Some(id) => Arc::from(id.as_str()),
        None => crate::pipeline::request_id::new_client_request_id(),
    };
    Span::current().record("client_request_id", tracing::field::display(&id));
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>(_: &T) {}
    fn assert_send_sync<T: Send + Sync + 'static>() {}

    /// Futures, pollers and pagers can move to other tasks (`tokio::spawn`).
    #[allow(dead_code, clippy::diverging_sub_expression, unreachable_code)]
    fn everything_is_send(client: ConfidentialLedgerClient) {
        assert_send_sync::<ConfidentialLedgerClient>();
        assert_send(&client.create_ledger_entry("x", None));
        assert_send(&client.create_ledger_entry_and_wait("x", None));
        assert_send(&client.begin_create_ledger_entry("x", None));
        assert_send(&client.get_current_ledger_entry(None));
        assert_send(&client.get_ledger_entry("1.1", None).into_future());
        assert_send(&client.get_receipt("1.1", None).into_future());
        assert_send(&client.get_verified_receipt("1.1", None));
        assert_send(&client.wait_for_commit("1.1", None).into_future());
        assert_send(&client.list_ledger_entries(None));
        assert_send(&client.create_or_update_ledger_user("u", &[], None));
        assert_send(&client.execute_user_defined_function("f", None));
        assert_send(&client.refresh_service_certificate());
        assert_send(&ClientBuilder::new("https://x").build());
    }
}
