//! The blocking [`ConfidentialLedgerClient`]: every method of the async client, forwarded.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use reqwest::Url;

use super::builder::ClientBuilder;
use super::pager::Pager;
use super::poller::TransactionPoller;
use super::runtime::Runtime;
use crate::client::{
    CreateLedgerEntryOptions, CreateOrUpdateLedgerUserOptions, CreateOrUpdateUserOptions,
    CreateUserDefinedEndpointOptions, CreateUserDefinedFunctionOptions,
    CreateUserDefinedRoleOptions, DeleteLedgerUserOptions, DeleteUserDefinedFunctionOptions,
    DeleteUserDefinedRoleOptions, DeleteUserOptions, ExecuteUserDefinedFunctionOptions,
    GetConstitutionOptions, GetCurrentLedgerEntryOptions, GetEnclaveQuotesOptions,
    GetLedgerEntryOptions, GetLedgerUserOptions, GetReceiptOptions, GetRuntimeOptionsOptions,
    GetTransactionStatusOptions, GetUserDefinedEndpointOptions,
    GetUserDefinedEndpointsModuleOptions, GetUserDefinedFunctionOptions, GetUserDefinedRoleOptions,
    GetUserOptions, GetVerifiedReceiptOptions, ListCollectionsOptions,
    ListConsortiumMembersOptions, ListLedgerEntriesOptions, ListLedgerUsersOptions,
    ListTagsOptions, ListUserDefinedFunctionsOptions, ListUsersOptions,
    UpdateRuntimeOptionsOptions, UpdateUserDefinedRoleOptions, WaitForCommitOptions,
};
use crate::models::{
    Bundle, Collection, ConsortiumMember, Constitution, EnclaveQuotes, FunctionExecution,
    JsRuntimeOptions, LedgerEntry, LedgerRole, LedgerUser, LedgerWriteResult, LegacyUser,
    ModuleDef, QueryState, TransactionReceipt, TransactionState, TransactionStatus,
    UserDefinedFunction, UserDefinedFunctionWrite, UserDefinedRole,
};
use crate::receipt::{ReceiptVerifier, Verified, VerifyOptions};
use crate::tls::PinnedCertificate;
use crate::{ClientOptions, Error, IntoTransactionId, TransactionIdArg, VerifiedReceipt};

/// A blocking client of one Azure Confidential Ledger: the [async
/// client](crate::ConfidentialLedgerClient)'s methods, with the same names, arguments and
/// options, that block until done.
///
/// Build it with [`ConfidentialLedgerClient::builder`]. Cheap to clone: clones share the async
/// client and its runtime thread, and can be used from several threads at once (their calls
/// run concurrently). Methods that wait return a [`TransactionPoller`]: call
/// [`wait`](TransactionPoller::wait). Lists return a [`Pager`], an `Iterator` of items (or of
/// pages with [`into_pages`](Pager::into_pages)).
///
/// # Panics
///
/// Every method that talks to the ledger panics when called from inside an async execution
/// context; see [the module documentation](super#async-contexts).
///
/// # Examples
///
/// ```
/// use confidential_ledger::CertificateCredential;
/// use confidential_ledger::blocking::ConfidentialLedgerClient;
/// # use confidential_ledger_sandbox::{Sandbox, SandboxOptions};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let tokio = tokio::runtime::Runtime::new()?;
/// # let sandbox = tokio.block_on(Sandbox::start(SandboxOptions::for_tests()))?;
/// let client = ConfidentialLedgerClient::builder(sandbox.ledger_endpoint())
///     .identity_endpoint(sandbox.identity_endpoint())
///     .identity_root_certificate_pem(sandbox.identity_ca_certificate_pem())
///     .ledger_id(sandbox.ledger_id())
///     .certificate_credential(CertificateCredential::from_pem_parts(
///         sandbox.admin_certificate_pem(),
///         sandbox.admin_private_key_pem(),
///     )?)
///     .build()?;
///
/// let written = client.create_ledger_entry_and_wait("hello, ledger", None)?;
/// let entry = client.get_ledger_entry(written.transaction_id, None).wait()?;
/// assert_eq!(entry.contents, "hello, ledger");
/// let proof = client.get_verified_receipt(written.transaction_id, None)?;
/// println!("{} is under the Merkle root {}", written.transaction_id, proof.verified.root);
/// # drop(client);
/// # tokio.block_on(sandbox.shutdown());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct ConfidentialLedgerClient {
    inner: crate::ConfidentialLedgerClient,
    runtime: Runtime,
}

impl fmt::Debug for ConfidentialLedgerClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("blocking::ConfidentialLedgerClient")
            .field(&self.inner)
            .finish()
    }
}

impl ConfidentialLedgerClient {
    pub(crate) fn from_parts(inner: crate::ConfidentialLedgerClient, runtime: Runtime) -> Self {
        Self { inner, runtime }
    }

    /// A builder for a blocking client of the ledger at `endpoint`; see [`ClientBuilder`].
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use confidential_ledger::StaticTokenCredential;
    /// use confidential_ledger::blocking::ConfidentialLedgerClient;
    ///
    /// # fn run() -> Result<(), confidential_ledger::Error> {
    /// let client = ConfidentialLedgerClient::builder("https://my-ledger.confidential-ledger.azure.com")
    ///     .credential(StaticTokenCredential::new("<an Entra ID token>"))
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn builder(endpoint: impl Into<String>) -> ClientBuilder {
        ClientBuilder::new(endpoint)
    }

    /// The async client this one forwards to (for code that has an async runtime at hand).
    pub fn as_async(&self) -> &crate::ConfidentialLedgerClient {
        &self.inner
    }

    /// Runs `call` on the async client, on the runtime thread, and waits for it.
    fn call<T, F, Fut>(&self, call: F) -> Result<T, Error>
    where
        F: FnOnce(crate::ConfidentialLedgerClient) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, Error>> + Send + 'static,
        T: Send + 'static,
    {
        let client = self.inner.clone();
        self.runtime.block_on(async move { call(client).await })
    }

    fn poller<T, S>(&self, inner: crate::TransactionPoller<T, S>) -> TransactionPoller<T, S>
    where
        T: Send + 'static,
        S: Clone + Send + Sync + 'static,
    {
        TransactionPoller::new(inner, self.runtime.clone())
    }

    fn pager<T: Send + 'static>(&self, inner: crate::Pager<T, Error>) -> Pager<T> {
        Pager::new(inner, self.runtime.clone())
    }

    // Accessors and offline checks: no request, nothing to block on.

    /// The ledger's endpoint.
    pub fn endpoint(&self) -> &Url {
        self.inner.endpoint()
    }

    /// The ledger's id (the name the identity service knows it by).
    pub fn ledger_id(&self) -> &str {
        self.inner.ledger_id()
    }

    /// The client's options.
    pub fn options(&self) -> &ClientOptions {
        self.inner.options()
    }

    /// The service certificate the client currently pins; see
    /// [`crate::ConfidentialLedgerClient::service_certificate`].
    pub fn service_certificate(&self) -> PinnedCertificate {
        self.inner.service_certificate()
    }

    /// Verifies a receipt against the pinned service certificate, offline; see
    /// [`crate::ConfidentialLedgerClient::verify_receipt`].
    ///
    /// # Errors
    ///
    /// [`InvalidReceipt`](crate::ErrorKind::InvalidReceipt).
    pub fn verify_receipt(
        &self,
        receipt: &TransactionReceipt,
        options: Option<VerifyOptions>,
    ) -> Result<Verified, Error> {
        self.inner.verify_receipt(receipt, options)
    }

    /// The receipt verifier of the pinned certificate; see
    /// [`crate::ConfidentialLedgerClient::receipt_verifier`].
    ///
    /// # Errors
    ///
    /// [`InvalidReceipt`](crate::ErrorKind::InvalidReceipt) when the pinned certificate cannot
    /// verify receipts.
    pub fn receipt_verifier(&self) -> Result<Arc<ReceiptVerifier>, Error> {
        self.inner.receipt_verifier()
    }

    // Entries.

    /// Appends an entry; see [`crate::ConfidentialLedgerClient::create_ledger_entry`].
    ///
    /// # Errors
    ///
    /// As for the async method.
    pub fn create_ledger_entry(
        &self,
        contents: impl Into<String>,
        options: Option<CreateLedgerEntryOptions>,
    ) -> Result<LedgerWriteResult, Error> {
        let contents = contents.into();
        self.call(move |c| async move { c.create_ledger_entry(contents, options).await })
    }

    /// Appends an entry and returns it committed, with its receipt; see
    /// [`crate::ConfidentialLedgerClient::create_ledger_entry_committed`].
    ///
    /// # Errors
    ///
    /// As for the async method.
    pub fn create_ledger_entry_committed(
        &self,
        contents: impl Into<String>,
        options: Option<CreateLedgerEntryOptions>,
    ) -> Result<crate::models::CommittedWrite, Error> {
        let contents = contents.into();
        self.call(move |c| async move { c.create_ledger_entry_committed(contents, options).await })
    }

    /// Appends an entry and waits for its commit; see
    /// [`crate::ConfidentialLedgerClient::create_ledger_entry_and_wait`].
    ///
    /// # Errors
    ///
    /// As for the async method.
    pub fn create_ledger_entry_and_wait(
        &self,
        contents: impl Into<String>,
        options: Option<CreateLedgerEntryOptions>,
    ) -> Result<LedgerWriteResult, Error> {
        let contents = contents.into();
        self.call(move |c| async move { c.create_ledger_entry_and_wait(contents, options).await })
    }

    /// Appends an entry and returns a poller waiting for its commit; see
    /// [`crate::ConfidentialLedgerClient::begin_create_ledger_entry`].
    ///
    /// # Errors
    ///
    /// As for the async method.
    pub fn begin_create_ledger_entry(
        &self,
        contents: impl Into<String>,
        options: Option<CreateLedgerEntryOptions>,
    ) -> Result<TransactionPoller<LedgerWriteResult, TransactionState>, Error> {
        let contents = contents.into();
        let poller = self
            .call(move |c| async move { c.begin_create_ledger_entry(contents, options).await })?;
        Ok(self.poller(poller))
    }

    /// The commit state of a transaction, once; see
    /// [`crate::ConfidentialLedgerClient::get_transaction_status`].
    ///
    /// # Errors
    ///
    /// As for the async method.
    pub fn get_transaction_status(
        &self,
        transaction_id: impl IntoTransactionId,
        options: Option<GetTransactionStatusOptions>,
    ) -> Result<TransactionStatus, Error> {
        let id = TransactionIdArg::new(transaction_id);
        self.call(move |c| async move { c.get_transaction_status(id, options).await })
    }

    /// The commit state of a transaction with the metadata of the answer; see
    /// [`crate::ConfidentialLedgerClient::get_transaction_status_with_response`].
    ///
    /// # Errors
    ///
    /// As for the async method.
    pub fn get_transaction_status_with_response(
        &self,
        transaction_id: impl IntoTransactionId,
        options: Option<GetTransactionStatusOptions>,
    ) -> Result<crate::Response<TransactionStatus>, Error> {
        let id = TransactionIdArg::new(transaction_id);
        self.call(move |c| async move { c.get_transaction_status_with_response(id, options).await })
    }

    /// How many status requests the client's commit watcher has sent; see
    /// [`crate::ConfidentialLedgerClient::commit_watcher_polls`].
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn run(client: confidential_ledger::blocking::ConfidentialLedgerClient) {
    /// println!("{} status requests so far", client.commit_watcher_polls());
    /// # }
    /// ```
    pub fn commit_watcher_polls(&self) -> u64 {
        self.inner.commit_watcher_polls()
    }

    /// Waits until a transaction is committed; see
    /// [`crate::ConfidentialLedgerClient::wait_for_commit`].
    pub fn wait_for_commit(
        &self,
        transaction_id: impl IntoTransactionId,
        options: Option<WaitForCommitOptions>,
    ) -> TransactionPoller<TransactionStatus, TransactionState> {
        self.poller(self.inner.wait_for_commit(transaction_id, options))
    }

    /// Reads the entry a transaction wrote, waiting out `Loading`; see
    /// [`crate::ConfidentialLedgerClient::get_ledger_entry`].
    pub fn get_ledger_entry(
        &self,
        transaction_id: impl IntoTransactionId,
        options: Option<GetLedgerEntryOptions>,
    ) -> TransactionPoller<LedgerEntry, QueryState> {
        self.poller(self.inner.get_ledger_entry(transaction_id, options))
    }

    /// An entry with the metadata of the ledger's final answer; see
    /// [`crate::ConfidentialLedgerClient::get_ledger_entry_with_response`].
    pub fn get_ledger_entry_with_response(
        &self,
        transaction_id: impl IntoTransactionId,
        options: Option<GetLedgerEntryOptions>,
    ) -> TransactionPoller<crate::Response<LedgerEntry>, QueryState> {
        self.poller(
            self.inner
                .get_ledger_entry_with_response(transaction_id, options),
        )
    }

    /// The latest entry of a collection; see
    /// [`crate::ConfidentialLedgerClient::get_current_ledger_entry`].
    ///
    /// # Errors
    ///
    /// As for the async method.
    pub fn get_current_ledger_entry(
        &self,
        options: Option<GetCurrentLedgerEntryOptions>,
    ) -> Result<LedgerEntry, Error> {
        self.call(move |c| async move { c.get_current_ledger_entry(options).await })
    }

    /// The latest entry of a collection with the metadata of the answer; see
    /// [`crate::ConfidentialLedgerClient::get_current_ledger_entry_with_response`].
    ///
    /// # Errors
    ///
    /// As for the async method.
    pub fn get_current_ledger_entry_with_response(
        &self,
        options: Option<GetCurrentLedgerEntryOptions>,
    ) -> Result<crate::Response<LedgerEntry>, Error> {
        self.call(move |c| async move { c.get_current_ledger_entry_with_response(options).await })
    }

    /// The entries of a collection over a range of transactions; see
    /// [`crate::ConfidentialLedgerClient::list_ledger_entries`].
    pub fn list_ledger_entries(
        &self,
        options: Option<ListLedgerEntriesOptions>,
    ) -> Pager<LedgerEntry> {
        self.pager(self.inner.list_ledger_entries(options))
    }

    // Receipts.

    /// The receipt of a committed transaction, waiting out `Loading`; see
    /// [`crate::ConfidentialLedgerClient::get_receipt`].
    pub fn get_receipt(
        &self,
        transaction_id: impl IntoTransactionId,
        options: Option<GetReceiptOptions>,
    ) -> TransactionPoller<TransactionReceipt, QueryState> {
        self.poller(self.inner.get_receipt(transaction_id, options))
    }

    /// Fetches a receipt and verifies it; see
    /// [`crate::ConfidentialLedgerClient::get_verified_receipt`].
    ///
    /// # Errors
    ///
    /// As for the async method.
    pub fn get_verified_receipt(
        &self,
        transaction_id: impl IntoTransactionId,
        options: Option<GetVerifiedReceiptOptions>,
    ) -> Result<VerifiedReceipt, Error> {
        let id = TransactionIdArg::new(transaction_id);
        self.call(move |c| async move { c.get_verified_receipt(id, options).await })
    }

    // Collections.

    /// The ledger's collections; see [`crate::ConfidentialLedgerClient::list_collections`].
    pub fn list_collections(&self, options: Option<ListCollectionsOptions>) -> Pager<Collection> {
        self.pager(self.inner.list_collections(options))
    }

    /// The tags of a collection; see [`crate::ConfidentialLedgerClient::list_tags`].
    pub fn list_tags(&self, options: Option<ListTagsOptions>) -> Pager<String> {
        self.pager(self.inner.list_tags(options))
    }

    // Governance.

    /// The constitution; see [`crate::ConfidentialLedgerClient::get_constitution`].
    ///
    /// # Errors
    ///
    /// As for the async method.
    pub fn get_constitution(
        &self,
        options: Option<GetConstitutionOptions>,
    ) -> Result<Constitution, Error> {
        self.call(move |c| async move { c.get_constitution(options).await })
    }

    /// The consortium's members; see
    /// [`crate::ConfidentialLedgerClient::list_consortium_members`].
    pub fn list_consortium_members(
        &self,
        options: Option<ListConsortiumMembersOptions>,
    ) -> Pager<ConsortiumMember> {
        self.pager(self.inner.list_consortium_members(options))
    }

    /// The nodes' enclave quotes; see [`crate::ConfidentialLedgerClient::get_enclave_quotes`].
    ///
    /// # Errors
    ///
    /// As for the async method.
    pub fn get_enclave_quotes(
        &self,
        options: Option<GetEnclaveQuotesOptions>,
    ) -> Result<EnclaveQuotes, Error> {
        self.call(move |c| async move { c.get_enclave_quotes(options).await })
    }

    // Users.

    /// A ledger user; see [`crate::ConfidentialLedgerClient::get_ledger_user`].
    ///
    /// # Errors
    ///
    /// As for the async method.
    pub fn get_ledger_user(
        &self,
        user_id: &str,
        options: Option<GetLedgerUserOptions>,
    ) -> Result<LedgerUser, Error> {
        let user_id = user_id.to_owned();
        self.call(move |c| async move { c.get_ledger_user(&user_id, options).await })
    }

    /// Adds a ledger user or replaces its roles; see
    /// [`crate::ConfidentialLedgerClient::create_or_update_ledger_user`].
    ///
    /// # Errors
    ///
    /// As for the async method.
    pub fn create_or_update_ledger_user(
        &self,
        user_id: &str,
        roles: &[LedgerRole],
        options: Option<CreateOrUpdateLedgerUserOptions>,
    ) -> Result<LedgerUser, Error> {
        let (user_id, roles) = (user_id.to_owned(), roles.to_vec());
        self.call(move |c| async move {
            c.create_or_update_ledger_user(&user_id, &roles, options)
                .await
        })
    }

    /// Removes a ledger user; see [`crate::ConfidentialLedgerClient::delete_ledger_user`].
    ///
    /// # Errors
    ///
    /// As for the async method.
    pub fn delete_ledger_user(
        &self,
        user_id: &str,
        options: Option<DeleteLedgerUserOptions>,
    ) -> Result<(), Error> {
        let user_id = user_id.to_owned();
        self.call(move |c| async move { c.delete_ledger_user(&user_id, options).await })
    }

    /// The ledger's users; see [`crate::ConfidentialLedgerClient::list_ledger_users`].
    pub fn list_ledger_users(&self, options: Option<ListLedgerUsersOptions>) -> Pager<LedgerUser> {
        self.pager(self.inner.list_ledger_users(options))
    }

    /// A user, through the legacy calls; see [`crate::ConfidentialLedgerClient::get_user`].
    ///
    /// # Errors
    ///
    /// As for the async method.
    #[deprecated(
        since = "0.1.0",
        note = "use get_ledger_user: the legacy /app/users calls fail with ApiVersionRedirect on the default api-version"
    )]
    #[allow(deprecated)]
    pub fn get_user(
        &self,
        user_id: &str,
        options: Option<GetUserOptions>,
    ) -> Result<LegacyUser, Error> {
        let user_id = user_id.to_owned();
        self.call(move |c| async move { c.get_user(&user_id, options).await })
    }

    /// Adds a user with one role through the legacy calls; see
    /// [`crate::ConfidentialLedgerClient::create_or_update_user`].
    ///
    /// # Errors
    ///
    /// As for the async method.
    #[deprecated(
        since = "0.1.0",
        note = "use create_or_update_ledger_user: the legacy /app/users calls fail with ApiVersionRedirect on the default api-version"
    )]
    #[allow(deprecated)]
    pub fn create_or_update_user(
        &self,
        user_id: &str,
        role: LedgerRole,
        options: Option<CreateOrUpdateUserOptions>,
    ) -> Result<LegacyUser, Error> {
        let user_id = user_id.to_owned();
        self.call(move |c| async move { c.create_or_update_user(&user_id, role, options).await })
    }

    /// Removes a user through the legacy calls; see
    /// [`crate::ConfidentialLedgerClient::delete_user`].
    ///
    /// # Errors
    ///
    /// As for the async method.
    #[deprecated(
        since = "0.1.0",
        note = "use delete_ledger_user: the legacy /app/users calls fail with ApiVersionRedirect on the default api-version"
    )]
    #[allow(deprecated)]
    pub fn delete_user(
        &self,
        user_id: &str,
        options: Option<DeleteUserOptions>,
    ) -> Result<(), Error> {
        let user_id = user_id.to_owned();
        self.call(move |c| async move { c.delete_user(&user_id, options).await })
    }

    /// The ledger's users through the legacy calls; see
    /// [`crate::ConfidentialLedgerClient::list_users`].
    #[deprecated(
        since = "0.1.0",
        note = "use list_ledger_users: the legacy /app/users calls fail with ApiVersionRedirect on the default api-version"
    )]
    #[allow(deprecated)]
    pub fn list_users(&self, options: Option<ListUsersOptions>) -> Pager<LegacyUser> {
        self.pager(self.inner.list_users(options))
    }

    // Roles.

    /// Creates user-defined roles; see
    /// [`crate::ConfidentialLedgerClient::create_user_defined_role`].
    ///
    /// # Errors
    ///
    /// As for the async method.
    pub fn create_user_defined_role(
        &self,
        roles: &[UserDefinedRole],
        options: Option<CreateUserDefinedRoleOptions>,
    ) -> Result<Vec<UserDefinedRole>, Error> {
        let roles = roles.to_vec();
        self.call(move |c| async move { c.create_user_defined_role(&roles, options).await })
    }

    /// A user-defined role; see [`crate::ConfidentialLedgerClient::get_user_defined_role`].
    ///
    /// # Errors
    ///
    /// As for the async method.
    pub fn get_user_defined_role(
        &self,
        role_name: &str,
        options: Option<GetUserDefinedRoleOptions>,
    ) -> Result<UserDefinedRole, Error> {
        let role_name = role_name.to_owned();
        self.call(move |c| async move { c.get_user_defined_role(&role_name, options).await })
    }

    /// Replaces the actions of user-defined roles; see
    /// [`crate::ConfidentialLedgerClient::update_user_defined_role`].
    ///
    /// # Errors
    ///
    /// As for the async method.
    pub fn update_user_defined_role(
        &self,
        roles: &[UserDefinedRole],
        options: Option<UpdateUserDefinedRoleOptions>,
    ) -> Result<Vec<UserDefinedRole>, Error> {
        let roles = roles.to_vec();
        self.call(move |c| async move { c.update_user_defined_role(&roles, options).await })
    }

    /// Deletes a user-defined role; see
    /// [`crate::ConfidentialLedgerClient::delete_user_defined_role`].
    ///
    /// # Errors
    ///
    /// As for the async method.
    pub fn delete_user_defined_role(
        &self,
        role_name: &str,
        options: Option<DeleteUserDefinedRoleOptions>,
    ) -> Result<(), Error> {
        let role_name = role_name.to_owned();
        self.call(move |c| async move { c.delete_user_defined_role(&role_name, options).await })
    }

    // User-defined endpoints, functions and runtime options.

    /// The user-defined endpoints bundle; see
    /// [`crate::ConfidentialLedgerClient::get_user_defined_endpoint`].
    ///
    /// # Errors
    ///
    /// As for the async method.
    pub fn get_user_defined_endpoint(
        &self,
        options: Option<GetUserDefinedEndpointOptions>,
    ) -> Result<Bundle, Error> {
        self.call(move |c| async move { c.get_user_defined_endpoint(options).await })
    }

    /// Installs a user-defined endpoints bundle; see
    /// [`crate::ConfidentialLedgerClient::create_user_defined_endpoint`].
    ///
    /// # Errors
    ///
    /// As for the async method.
    pub fn create_user_defined_endpoint(
        &self,
        bundle: &Bundle,
        options: Option<CreateUserDefinedEndpointOptions>,
    ) -> Result<(), Error> {
        let bundle = bundle.clone();
        self.call(move |c| async move { c.create_user_defined_endpoint(&bundle, options).await })
    }

    /// A module of the endpoints bundle; see
    /// [`crate::ConfidentialLedgerClient::get_user_defined_endpoints_module`].
    ///
    /// # Errors
    ///
    /// As for the async method.
    pub fn get_user_defined_endpoints_module(
        &self,
        module_name: &str,
        options: Option<GetUserDefinedEndpointsModuleOptions>,
    ) -> Result<ModuleDef, Error> {
        let module_name = module_name.to_owned();
        self.call(move |c| async move {
            c.get_user_defined_endpoints_module(&module_name, options)
                .await
        })
    }

    /// The JavaScript runtime options; see
    /// [`crate::ConfidentialLedgerClient::get_runtime_options`].
    ///
    /// # Errors
    ///
    /// As for the async method.
    pub fn get_runtime_options(
        &self,
        options: Option<GetRuntimeOptionsOptions>,
    ) -> Result<JsRuntimeOptions, Error> {
        self.call(move |c| async move { c.get_runtime_options(options).await })
    }

    /// Replaces the JavaScript runtime options; see
    /// [`crate::ConfidentialLedgerClient::update_runtime_options`].
    ///
    /// # Errors
    ///
    /// As for the async method.
    pub fn update_runtime_options(
        &self,
        runtime_options: &JsRuntimeOptions,
        options: Option<UpdateRuntimeOptionsOptions>,
    ) -> Result<JsRuntimeOptions, Error> {
        let runtime_options = runtime_options.clone();
        self.call(move |c| async move { c.update_runtime_options(&runtime_options, options).await })
    }

    /// The user-defined functions; see
    /// [`crate::ConfidentialLedgerClient::list_user_defined_functions`].
    pub fn list_user_defined_functions(
        &self,
        options: Option<ListUserDefinedFunctionsOptions>,
    ) -> Pager<UserDefinedFunction> {
        self.pager(self.inner.list_user_defined_functions(options))
    }

    /// A user-defined function; see
    /// [`crate::ConfidentialLedgerClient::get_user_defined_function`].
    ///
    /// # Errors
    ///
    /// As for the async method.
    pub fn get_user_defined_function(
        &self,
        function_id: &str,
        options: Option<GetUserDefinedFunctionOptions>,
    ) -> Result<UserDefinedFunction, Error> {
        let function_id = function_id.to_owned();
        self.call(move |c| async move { c.get_user_defined_function(&function_id, options).await })
    }

    /// Creates or replaces a user-defined function; see
    /// [`crate::ConfidentialLedgerClient::create_user_defined_function`].
    ///
    /// # Errors
    ///
    /// As for the async method.
    pub fn create_user_defined_function(
        &self,
        function_id: &str,
        code: impl Into<String>,
        options: Option<CreateUserDefinedFunctionOptions>,
    ) -> Result<UserDefinedFunctionWrite, Error> {
        let (function_id, code) = (function_id.to_owned(), code.into());
        self.call(move |c| async move {
            c.create_user_defined_function(&function_id, code, options)
                .await
        })
    }

    /// Deletes a user-defined function; see
    /// [`crate::ConfidentialLedgerClient::delete_user_defined_function`].
    ///
    /// # Errors
    ///
    /// As for the async method.
    pub fn delete_user_defined_function(
        &self,
        function_id: &str,
        options: Option<DeleteUserDefinedFunctionOptions>,
    ) -> Result<(), Error> {
        let function_id = function_id.to_owned();
        self.call(
            move |c| async move { c.delete_user_defined_function(&function_id, options).await },
        )
    }

    /// Runs a user-defined function; see
    /// [`crate::ConfidentialLedgerClient::execute_user_defined_function`].
    ///
    /// # Errors
    ///
    /// As for the async method.
    pub fn execute_user_defined_function(
        &self,
        function_id: &str,
        options: Option<ExecuteUserDefinedFunctionOptions>,
    ) -> Result<FunctionExecution, Error> {
        let function_id = function_id.to_owned();
        self.call(
            move |c| async move { c.execute_user_defined_function(&function_id, options).await },
        )
    }

    // The pinned certificate.

    /// Fetches the ledger's identity again and re-pins if it changed; see
    /// [`crate::ConfidentialLedgerClient::refresh_service_certificate`].
    ///
    /// # Errors
    ///
    /// As for the async method.
    pub fn refresh_service_certificate(&self) -> Result<bool, Error> {
        self.call(move |c| async move { c.refresh_service_certificate().await })
    }
}
