//! Entries: write, wait for commit, read back, list.

use std::time::{Duration, SystemTime};

use futures::FutureExt;
use reqwest::header::HeaderMap;
use tracing::Instrument;

use super::exactly_once::{self, WriteMode};
use super::paging::raw_page;
use super::polling::ReadPolicy;
use super::{CallOptions, ConfidentialLedgerClient, Response, TransactionPoller};
use crate::models::{
    LedgerEntry, LedgerWriteResult, QueryState, TransactionState, TransactionStatus,
    UserDefinedFunctionHook, misfit,
};
use crate::options::{method_options, wait_setters};
use crate::pipeline::{TRANSACTION_ID_HEADER, retry_after};
use crate::poller::{PollStep, Poller, PollingOptions};
use crate::raw::ledger::types;
use crate::validate;
use crate::{Error, ErrorKind, IntoTransactionId, Pager, TransactionId, TransactionIdArg};

method_options! {
    /// Options of [`create_ledger_entry`](ConfidentialLedgerClient::create_ledger_entry) (and
    /// of the calls that write and wait, which also use `polling` and `timeout`).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use confidential_ledger::client::CreateLedgerEntryOptions;
    ///
    /// let options = CreateLedgerEntryOptions::new()
    ///     .collection_id("audit")
    ///     .tags(["login", "admin"])
    ///     .timeout(Duration::from_secs(30));
    /// assert_eq!(options.tags, ["login", "admin"]);
    /// ```
    pub struct CreateLedgerEntryOptions {
        /// The collection to write to (default: the ledger's default collection,
        /// `subledger:0`).
        pub collection_id: Option<String>,
        /// Tags to file the entry under (each without a comma), for
        /// [`ListLedgerEntriesOptions::tag`].
        pub tags: Vec<String>,
        /// User-defined functions run before the write.
        pub pre_hooks: Vec<UserDefinedFunctionHook>,
        /// User-defined functions run after the write.
        pub post_hooks: Vec<UserDefinedFunctionHook>,
        /// For the calls that wait for the commit: the polling schedule (default: the
        /// client's).
        pub polling: Option<PollingOptions>,
        /// For the calls that wait for the commit: how long to wait (default: the client's
        /// [`wait_timeout`](crate::ClientOptions::wait_timeout)).
        pub timeout: Option<Duration>,
        /// How an ambiguous outcome is treated (default: the client's
        /// [`write_mode`](crate::ClientOptions::write_mode)); see
        /// [`exactly_once`](crate::client::exactly_once).
        pub write_mode: Option<WriteMode>,
        /// For [`create_ledger_entry_committed`](ConfidentialLedgerClient::create_ledger_entry_committed):
        /// verify the receipt against the pinned service certificate in the same call (default:
        /// no).
        pub verify_receipt: bool,
    }
}

wait_setters!(CreateLedgerEntryOptions);

impl CreateLedgerEntryOptions {
    /// Writes to the collection `collection_id`.
    #[must_use]
    pub fn collection_id(mut self, collection_id: impl Into<String>) -> Self {
        self.collection_id = Some(collection_id.into());
        self
    }

    /// Files the entry under `tags`.
    #[must_use]
    pub fn tags<I, S>(mut self, tags: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.tags = tags.into_iter().map(Into::into).collect();
        self
    }

    /// Runs `hooks` before the write.
    #[must_use]
    pub fn pre_hooks(mut self, hooks: Vec<UserDefinedFunctionHook>) -> Self {
        self.pre_hooks = hooks;
        self
    }

    /// Runs `hooks` after the write.
    #[must_use]
    pub fn post_hooks(mut self, hooks: Vec<UserDefinedFunctionHook>) -> Self {
        self.post_hooks = hooks;
        self
    }

    /// Writes in `mode` whatever the client's
    /// [`write_mode`](crate::ClientOptions::write_mode) says.
    ///
    /// # Examples
    ///
    /// ```
    /// use confidential_ledger::client::CreateLedgerEntryOptions;
    /// use confidential_ledger::options::WriteMode;
    ///
    /// let options = CreateLedgerEntryOptions::new().write_mode(WriteMode::ExactlyOnce);
    /// assert_eq!(options.write_mode, Some(WriteMode::ExactlyOnce));
    /// ```
    #[must_use]
    pub fn write_mode(mut self, mode: WriteMode) -> Self {
        self.write_mode = Some(mode);
        self
    }

    /// Has [`create_ledger_entry_committed`](ConfidentialLedgerClient::create_ledger_entry_committed)
    /// verify the write's receipt before it returns (a receipt that does not verify is an
    /// [`InvalidReceipt`](ErrorKind::InvalidReceipt) error).
    ///
    /// # Examples
    ///
    /// ```
    /// use confidential_ledger::client::CreateLedgerEntryOptions;
    ///
    /// let options = CreateLedgerEntryOptions::new().verify_receipt(true);
    /// assert!(options.verify_receipt);
    /// ```
    #[must_use]
    pub fn verify_receipt(mut self, verify: bool) -> Self {
        self.verify_receipt = verify;
        self
    }
}

/// A write ready to be sent (and sent again, unchanged, in exactly-once mode).
pub(super) struct PreparedWrite {
    body: types::LedgerEntry,
    collection_id: Option<String>,
    tags: Option<String>,
    marker: Option<String>,
    /// `waitForCommit` (2026-07-31-preview): sent only as `true`, never to an older
    /// api-version.
    wait_for_commit: Option<bool>,
}

impl PreparedWrite {
    /// The contents written.
    pub(super) fn contents(&self) -> &str {
        &self.body.contents
    }

    /// The collection written to, if not the default.
    pub(super) fn collection_id(&self) -> Option<&str> {
        self.collection_id.as_deref()
    }

    /// The exactly-once marker tag, if any.
    pub(super) fn marker(&self) -> Option<&str> {
        self.marker.as_deref()
    }

    /// The body sent.
    pub(super) fn body(&self) -> &types::LedgerEntry {
        &self.body
    }

    /// The `tags` query parameter, if any (the marker included).
    pub(super) fn tags(&self) -> Option<&str> {
        self.tags.as_deref()
    }

    /// The `waitForCommit` query parameter, if sent.
    pub(super) fn wait_for_commit(&self) -> Option<bool> {
        self.wait_for_commit
    }
}

/// The collection a write without one goes to.
const DEFAULT_COLLECTION_ID: &str = "subledger:0";

method_options! {
    /// Options of [`wait_for_commit`](ConfidentialLedgerClient::wait_for_commit).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use confidential_ledger::client::WaitForCommitOptions;
    /// use confidential_ledger::poller::PollingOptions;
    ///
    /// // Poll every half second, as the official clients do, for at most a minute.
    /// let options = WaitForCommitOptions::new()
    ///     .polling(PollingOptions::fixed(Duration::from_millis(500)))
    ///     .timeout(Duration::from_secs(60));
    /// # let _ = options;
    /// ```
    pub struct WaitForCommitOptions {
        /// The polling schedule (default: the client's).
        pub polling: Option<PollingOptions>,
        /// How long to wait (default: the client's
        /// [`wait_timeout`](crate::ClientOptions::wait_timeout)).
        pub timeout: Option<Duration>,
    }
}

wait_setters!(WaitForCommitOptions);

method_options! {
    /// Options of [`get_ledger_entry`](ConfidentialLedgerClient::get_ledger_entry).
    ///
    /// # Examples
    ///
    /// ```
    /// use confidential_ledger::client::GetLedgerEntryOptions;
    ///
    /// let options = GetLedgerEntryOptions::new().collection_id("audit");
    /// assert_eq!(options.collection_id.as_deref(), Some("audit"));
    /// ```
    pub struct GetLedgerEntryOptions {
        /// The collection the entry is in (default: the ledger's default collection).
        pub collection_id: Option<String>,
        /// The schedule of polls while the ledger is `Loading` the entry (default: the
        /// client's).
        pub polling: Option<PollingOptions>,
        /// How long to wait out `Loading` (default: the client's
        /// [`wait_timeout`](crate::ClientOptions::wait_timeout)).
        pub timeout: Option<Duration>,
    }
}

wait_setters!(GetLedgerEntryOptions);

impl GetLedgerEntryOptions {
    /// Reads from the collection `collection_id`.
    #[must_use]
    pub fn collection_id(mut self, collection_id: impl Into<String>) -> Self {
        self.collection_id = Some(collection_id.into());
        self
    }
}

method_options! {
    /// Options of [`get_current_ledger_entry`](ConfidentialLedgerClient::get_current_ledger_entry).
    ///
    /// # Examples
    ///
    /// ```
    /// use confidential_ledger::client::GetCurrentLedgerEntryOptions;
    ///
    /// let options = GetCurrentLedgerEntryOptions::new().collection_id("audit");
    /// # let _ = options;
    /// ```
    pub struct GetCurrentLedgerEntryOptions {
        /// The collection (default: the ledger's default collection).
        pub collection_id: Option<String>,
    }
}

impl GetCurrentLedgerEntryOptions {
    /// Reads the latest entry of the collection `collection_id`.
    #[must_use]
    pub fn collection_id(mut self, collection_id: impl Into<String>) -> Self {
        self.collection_id = Some(collection_id.into());
        self
    }
}

method_options! {
    /// Options of [`list_ledger_entries`](ConfidentialLedgerClient::list_ledger_entries): which
    /// collection, which range of transactions, which tag.
    ///
    /// # Examples
    ///
    /// ```
    /// use confidential_ledger::TransactionId;
    /// use confidential_ledger::client::ListLedgerEntriesOptions;
    ///
    /// let options = ListLedgerEntriesOptions {
    ///     collection_id: Some("audit".into()),
    ///     from_transaction_id: Some("2.100".into()),
    ///     to_transaction_id: Some(TransactionId::new(2, 200).into()),
    ///     ..Default::default()
    /// };
    /// // The same with setters.
    /// let same = ListLedgerEntriesOptions::new()
    ///     .collection_id("audit")
    ///     .from_transaction_id("2.100")
    ///     .to_transaction_id(TransactionId::new(2, 200))
    ///     .tag("login");
    /// # let _ = (options, same);
    /// ```
    pub struct ListLedgerEntriesOptions {
        /// The collection (default: the ledger's default collection).
        pub collection_id: Option<String>,
        /// The first transaction of the range (default: the collection's first entry); a
        /// malformed id fails the list with [`InvalidInput`](ErrorKind::InvalidInput).
        pub from_transaction_id: Option<TransactionIdArg>,
        /// The last transaction of the range (default: the latest); a malformed id fails the
        /// list with [`InvalidInput`](ErrorKind::InvalidInput).
        pub to_transaction_id: Option<TransactionIdArg>,
        /// Only entries filed under this tag.
        pub tag: Option<String>,
    }
}

impl ListLedgerEntriesOptions {
    /// Lists the collection `collection_id`.
    #[must_use]
    pub fn collection_id(mut self, collection_id: impl Into<String>) -> Self {
        self.collection_id = Some(collection_id.into());
        self
    }

    /// Starts at transaction `id`.
    #[must_use]
    pub fn from_transaction_id(mut self, id: impl Into<TransactionIdArg>) -> Self {
        self.from_transaction_id = Some(id.into());
        self
    }

    /// Ends at transaction `id` (included).
    #[must_use]
    pub fn to_transaction_id(mut self, id: impl Into<TransactionIdArg>) -> Self {
        self.to_transaction_id = Some(id.into());
        self
    }

    /// Lists only entries filed under `tag`.
    #[must_use]
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tag = Some(tag.into());
        self
    }
}

method_options! {
    /// Options of [`get_transaction_status`](ConfidentialLedgerClient::get_transaction_status).
    ///
    /// # Examples
    ///
    /// ```
    /// use confidential_ledger::client::GetTransactionStatusOptions;
    ///
    /// let options = GetTransactionStatusOptions::new().logging_enable(true);
    /// # let _ = options;
    /// ```
    pub struct GetTransactionStatusOptions {}
}

/// The transaction id a write was answered with: a write without a well-formed one is a
/// [`Decode`](ErrorKind::Decode) error, never a made-up id.
pub(super) fn written_transaction_id(
    headers: &HeaderMap,
    what: &str,
) -> Result<TransactionId, Error> {
    let Some(value) = headers.get(crate::headers::TRANSACTION_ID) else {
        return Err(Error::decode(
            format!(
                "{what} succeeded but the answer has no {TRANSACTION_ID_HEADER} header, so its \
                 transaction id is unknown"
            ),
            b"",
        ));
    };
    match value
        .to_str()
        .ok()
        .map(|text| text.trim().parse::<TransactionId>())
    {
        // CCF never gives a user transaction view 0 or sequence number 0.
        Some(Ok(id)) if id.is_issuable() => Ok(id),
        Some(Ok(id)) => Err(Error::decode(
            format!(
                "{what} succeeded but its {TRANSACTION_ID_HEADER} header names transaction \
                 {id}, which no write can have (view and sequence number start at 1), so its \
                 transaction id is unknown"
            ),
            value.as_bytes(),
        )),
        _ => Err(Error::decode(
            format!(
                "{what} succeeded but its {TRANSACTION_ID_HEADER} header is not a transaction \
                 id, so its transaction id is unknown"
            ),
            value.as_bytes(),
        )),
    }
}

/// What a write attempt that ended in `err` came to. A `2xx` answer whose transaction id
/// arrived (its body was then cut) is a written entry, in the request's collection. A transport
/// failure or timeout that is still a plain error here happened while the answer of a sent
/// write was read (the pipeline reports the others as unknown outcomes or as failures to
/// connect): the write may have been applied.
fn written_despite(err: Error, write: &PreparedWrite) -> Result<LedgerWriteResult, Error> {
    if let (Some(status), Some(id)) = (err.status(), err.transaction_id())
        && status.is_success()
        && id.is_issuable()
    {
        let collection = write
            .collection_id
            .clone()
            .unwrap_or_else(|| DEFAULT_COLLECTION_ID.to_owned());
        tracing::debug!(
            target: "confidential_ledger::client",
            transaction_id = %id,
            error = %err,
            "the write's answer was cut after its transaction id arrived"
        );
        return Ok(LedgerWriteResult::new(id, collection));
    }
    if matches!(err.kind(), ErrorKind::Transport | ErrorKind::Timeout)
        && !err.is_connect()
        && err.status().is_none()
    {
        return Err(Error::outcome_unknown(
            err,
            "the connection failed while the ledger's answer was read",
        ));
    }
    Err(err)
}

impl ConfidentialLedgerClient {
    /// Appends an entry to the ledger. Returns the write's transaction id (and collection)
    /// once the ledger has accepted it; it is durable once committed (see
    /// [`wait_for_commit`](Self::wait_for_commit), or write with
    /// [`create_ledger_entry_and_wait`](Self::create_ledger_entry_and_wait)).
    ///
    /// In the default [`WriteMode::AtMostOnce`] a write is never sent twice: it is retried only
    /// when nothing was sent (no connection); after any other failure (`429` and `503`
    /// included) the error is [`OutcomeUnknown`](ErrorKind::OutcomeUnknown) and the caller
    /// decides. In [`WriteMode::ExactlyOnce`] (for the client, or for this call with
    /// [`CreateLedgerEntryOptions::write_mode`]) the client resolves such outcomes itself: see
    /// [`exactly_once`].
    ///
    /// A `2xx` answer whose `x-ms-ccf-transaction-id` arrived is the write's result, in every
    /// mode, even when its body is cut.
    ///
    /// # Errors
    ///
    /// - [`InvalidInput`](ErrorKind::InvalidInput), before anything is sent: empty contents,
    ///   contents over [`max_entry_bytes`](crate::ClientOptions::max_entry_bytes), a malformed
    ///   collection id or tag.
    /// - [`InvalidInput`](ErrorKind::InvalidInput) also for exactly-once mode with an
    ///   api-version older than 2026-02-23.
    /// - [`OutcomeUnknown`](ErrorKind::OutcomeUnknown): the write may or may not have been
    ///   applied (in exactly-once mode: only when the ledger stayed unreachable past the call's
    ///   deadline, [`call_timeout`](crate::ClientOptions::call_timeout), or refused the
    ///   lookup).
    /// - [`Forbidden`](ErrorKind::Forbidden): the principal may not write (a `Reader`, or not
    ///   a user at all: the message names it).
    /// - [`Decode`](ErrorKind::Decode): the ledger accepted the write but did not say its
    ///   transaction id.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use confidential_ledger::client::CreateLedgerEntryOptions;
    /// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
    /// let written = client.create_ledger_entry("hello", None).await?;
    /// println!("{}", written.transaction_id);
    ///
    /// let options = CreateLedgerEntryOptions::new().collection_id("audit").tags(["login"]);
    /// client.create_ledger_entry("alice logged in", Some(options)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn create_ledger_entry(
        &self,
        contents: impl Into<String>,
        options: Option<CreateLedgerEntryOptions>,
    ) -> Result<LedgerWriteResult, Error> {
        let options = options.unwrap_or_default();
        let span = Self::span("create_ledger_entry", None);
        self.write_entry(contents.into(), &options)
            .instrument(span)
            .await
    }

    /// The write mode of a call.
    fn write_mode(&self, options: &CreateLedgerEntryOptions) -> WriteMode {
        options.write_mode.unwrap_or(self.inner.options.write_mode)
    }

    /// Checks and prepares a write; in exactly-once mode it gets a fresh marker tag.
    pub(super) fn prepare_write(
        &self,
        contents: String,
        options: &CreateLedgerEntryOptions,
        wait_for_commit: bool,
    ) -> Result<PreparedWrite, Error> {
        validate::entry(&contents, self.inner.options.max_entry_bytes)?;
        if let Some(collection) = &options.collection_id {
            validate::name("collection id", collection)?;
        }
        let marker = match self.write_mode(options) {
            WriteMode::ExactlyOnce => {
                exactly_once::check_api_version(self.api_version())?;
                Some(exactly_once::new_marker()?)
            }
            _ => None,
        };
        let mut tags = options.tags.clone();
        tags.extend(marker.clone());
        let tags = validate::tags(&tags)?;
        Ok(PreparedWrite {
            body: types::LedgerEntry {
                collection_id: None,
                contents,
                post_hooks: options.post_hooks.clone(),
                pre_hooks: options.pre_hooks.clone(),
                transaction_id: None,
            },
            collection_id: options.collection_id.clone(),
            tags,
            marker,
            wait_for_commit: wait_for_commit.then_some(true),
        })
    }

    /// Writes in the call's mode.
    async fn write_entry(
        &self,
        contents: String,
        options: &CreateLedgerEntryOptions,
    ) -> Result<LedgerWriteResult, Error> {
        let write = self.prepare_write(contents, options, false)?;
        self.send_prepared(&write, options).await
    }

    /// Sends a prepared write in the call's mode.
    pub(super) async fn send_prepared(
        &self,
        write: &PreparedWrite,
        options: &CreateLedgerEntryOptions,
    ) -> Result<LedgerWriteResult, Error> {
        let deadline = self.deadline_for(&options.call);
        let written = if write.marker.is_some() {
            // Boxed: the lookups would otherwise make every write's future larger.
            Box::pin(self.write_exactly_once(write, &options.call, deadline)).await?
        } else {
            self.send_write(write, &options.call).await?
        };
        tracing::Span::current().record(
            "transaction_id",
            tracing::field::display(written.transaction_id),
        );
        Ok(written)
    }

    /// Sends a write once (the pipeline retries it only when nothing was sent).
    ///
    /// A `2xx` answer whose transaction id arrived is the write's result even when its body is
    /// then lost; a connection broken while the answer was read leaves the outcome unknown.
    pub(super) async fn send_write(
        &self,
        write: &PreparedWrite,
        call: &CallOptions,
    ) -> Result<LedgerWriteResult, Error> {
        let response = match self.write_response(write, call).await {
            Ok(response) => response,
            Err(err) => return written_despite(err, write),
        };
        let id = written_transaction_id(response.headers(), "the write")
            .map_err(|e| e.with_operation("create_ledger_entry"))?;
        LedgerWriteResult::from_generated(id, response.into_inner())
            .map_err(|e| e.with_operation("create_ledger_entry"))
    }

    /// Appends an entry, then waits until it is committed: a
    /// [`create_ledger_entry`](Self::create_ledger_entry) followed by a
    /// [`wait_for_commit`](Self::wait_for_commit) (with the options' `polling` and `timeout`).
    ///
    /// # Errors
    ///
    /// Those of both calls. In exactly-once mode a write whose transaction is rolled back
    /// (`Invalid`) is sent again, within the mode's deadline. If the wait fails, the entry was
    /// written: the error's
    /// [`transaction_id`](Error::transaction_id) may be unset, so use
    /// [`begin_create_ledger_entry`](Self::begin_create_ledger_entry) to keep the id in hand.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
    /// let written = client.create_ledger_entry_and_wait("durable", None).await?;
    /// println!("{} is committed", written.transaction_id);
    /// # Ok(()) }
    /// ```
    pub async fn create_ledger_entry_and_wait(
        &self,
        contents: impl Into<String>,
        options: Option<CreateLedgerEntryOptions>,
    ) -> Result<LedgerWriteResult, Error> {
        let options = options.unwrap_or_default();
        if self.write_mode(&options) != WriteMode::ExactlyOnce {
            return self
                .begin_create_ledger_entry(contents, Some(options))
                .await?
                .await;
        }
        let span = Self::span("create_ledger_entry", None);
        Box::pin(self.write_and_wait_exactly_once(contents.into(), options))
            .instrument(span)
            .await
    }

    /// [`create_ledger_entry_and_wait`](Self::create_ledger_entry_and_wait) in exactly-once
    /// mode: a write whose transaction is rolled back (`Invalid`) was not applied, and is sent
    /// again (same marker) within the deadline.
    async fn write_and_wait_exactly_once(
        &self,
        contents: String,
        options: CreateLedgerEntryOptions,
    ) -> Result<LedgerWriteResult, Error> {
        let deadline = self.deadline_for(&options.call);
        let write = self.prepare_write(contents, &options, false)?;
        loop {
            let written = self
                .write_exactly_once(&write, &options.call, deadline)
                .await?;
            let id = written.transaction_id;
            tracing::Span::current().record("transaction_id", tracing::field::display(id));
            let committed = self.commit_poller(
                id,
                options.call.clone(),
                options.polling.clone(),
                options.timeout,
                |_| (),
            );
            match committed.await {
                Ok(()) => return Ok(written),
                Err(err)
                    if err.kind() == &ErrorKind::TransactionInvalid
                        && deadline.is_none_or(|at| tokio::time::Instant::now() < at) =>
                {
                    tracing::info!(
                        target: "confidential_ledger::client",
                        transaction_id = %id,
                        "the write was rolled back: sending it again"
                    );
                }
                Err(err) => return Err(err),
            }
        }
    }

    /// Appends an entry and returns a poller that waits for its commit. The write is done when
    /// this returns (the poller knows its [`transaction_id`](TransactionPoller::transaction_id));
    /// awaiting the poller waits for the commit and yields the write's result.
    ///
    /// # Errors
    ///
    /// Those of [`create_ledger_entry`](Self::create_ledger_entry); the poller's own are those
    /// of [`wait_for_commit`](Self::wait_for_commit).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
    /// let poller = client.begin_create_ledger_entry("hello", None).await?;
    /// let id = poller.transaction_id().expect("written");
    /// println!("written at {id}, waiting for the commit");
    /// let written = poller.await?;
    /// assert_eq!(written.transaction_id, id);
    /// # Ok(()) }
    /// ```
    pub async fn begin_create_ledger_entry(
        &self,
        contents: impl Into<String>,
        options: Option<CreateLedgerEntryOptions>,
    ) -> Result<TransactionPoller<LedgerWriteResult, TransactionState>, Error> {
        let options = options.unwrap_or_default();
        let span = Self::span("create_ledger_entry", None);
        let written = self
            .write_entry(contents.into(), &options)
            .instrument(span)
            .await?;
        let id = written.transaction_id;
        Ok(self.commit_poller(
            id,
            options.call,
            options.polling,
            options.timeout,
            move |_| written.clone(),
        ))
    }

    /// The commit state of a transaction, once.
    ///
    /// # Errors
    ///
    /// [`InvalidInput`](ErrorKind::InvalidInput) for a malformed id (nothing is sent);
    /// [`NotFound`](ErrorKind::NotFound) with code `InvalidTransactionId` for an id the
    /// ledger never issued (or, briefly after a write, from a node that has not caught up).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
    /// let status = client.get_transaction_status("2.15", None).await?;
    /// println!("{} is {}", status.transaction_id, status.state);
    /// # Ok(()) }
    /// ```
    pub async fn get_transaction_status(
        &self,
        transaction_id: impl IntoTransactionId,
        options: Option<GetTransactionStatusOptions>,
    ) -> Result<TransactionStatus, Error> {
        let options = options.unwrap_or_default();
        let id = transaction_id
            .into_transaction_id()
            .map_err(|e| Error::from(e).with_operation("get_transaction_status"))?;
        self.status_once(id, &options.call)
            .instrument(Self::span("get_transaction_status", Some(id)))
            .await
    }

    async fn status_once(
        &self,
        id: TransactionId,
        call: &CallOptions,
    ) -> Result<TransactionStatus, Error> {
        let response = self.status_response(id, call).await?;
        TransactionStatus::from_generated(response.into_inner())
    }

    async fn status_once_with_response(
        &self,
        id: TransactionId,
        call: &CallOptions,
    ) -> Result<Response<TransactionStatus>, Error> {
        let id_text = id.to_string();
        let (api, id_text) = (self.api_version(), id_text.as_str());
        let response = self
            .run_with_response(call, |raw| async move {
                raw.get_transaction_status(id_text, api).await
            })
            .await?;
        response.try_map(TransactionStatus::from_generated)
    }

    /// [`get_transaction_status`](Self::get_transaction_status), with the metadata of the
    /// ledger's answer: its status, headers, the transaction the answer reflects and the
    /// call's client request id (see [`Response`]).
    ///
    /// # Errors
    ///
    /// Those of [`get_transaction_status`](Self::get_transaction_status).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
    /// let response = client.get_transaction_status_with_response("2.15", None).await?;
    /// println!("{} (request {})", response.state, response.client_request_id());
    /// # Ok(()) }
    /// ```
    pub async fn get_transaction_status_with_response(
        &self,
        transaction_id: impl IntoTransactionId,
        options: Option<GetTransactionStatusOptions>,
    ) -> Result<Response<TransactionStatus>, Error> {
        let options = options.unwrap_or_default();
        let id = transaction_id
            .into_transaction_id()
            .map_err(|e| Error::from(e).with_operation("get_transaction_status"))?;
        self.status_once_with_response(id, &options.call)
            .instrument(Self::span("get_transaction_status", Some(id)))
            .await
            .map_err(|e| e.with_operation("get_transaction_status"))
    }

    /// Waits until a transaction is committed. Returns a [`TransactionPoller`]: await it for
    /// the final status, or watch its progress.
    ///
    /// Right after a write, a node that has not caught up may answer `404`, and a pending
    /// transaction may be answered `406`: the wait goes on through `406`s and up to three
    /// `404`s in a row. It ends at once on a `404` with code `InvalidTransactionId` (the
    /// ledger never issued that id) and on the state `Invalid` (rolled back).
    /// Between polls it waits at least as long as the ledger asks (`Retry-After`), up to
    /// [`RetryOptions::max_retry_after`](crate::pipeline::RetryOptions::max_retry_after)
    /// (60 s by default), and never past the wait's timeout. Without its own `polling`, the
    /// wait is answered by the client's commit watcher, shared by all its commit waits (see
    /// [`TransactionPoller`]); a commit already seen is answered without a request.
    ///
    /// # Errors
    ///
    /// Awaiting it fails with [`InvalidInput`](ErrorKind::InvalidInput) for a malformed id
    /// (nothing is sent), [`TransactionInvalid`](ErrorKind::TransactionInvalid) for a rolled
    /// back transaction, [`Timeout`](ErrorKind::Timeout) when the wait gives up, and with the
    /// errors of [`get_transaction_status`](Self::get_transaction_status) it does not survive.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
    /// let written = client.create_ledger_entry("hello", None).await?;
    /// client.wait_for_commit(written.transaction_id, None).await?;
    /// # Ok(()) }
    /// ```
    pub fn wait_for_commit(
        &self,
        transaction_id: impl IntoTransactionId,
        options: Option<WaitForCommitOptions>,
    ) -> TransactionPoller<TransactionStatus, TransactionState> {
        let options = options.unwrap_or_default();
        match transaction_id.into_transaction_id() {
            Ok(id) => self.commit_poller(id, options.call, options.polling, options.timeout, |s| s),
            Err(e) => TransactionPoller::invalid(&e, "wait_for_commit"),
        }
    }

    /// Reads the entry a transaction wrote. Returns a [`TransactionPoller`] that asks again
    /// while the ledger is `Loading` it from its history (with backoff); await it for the
    /// entry.
    ///
    /// Only committed transactions can be read: right after a write, wait for the commit
    /// first (or write with [`create_ledger_entry_and_wait`](Self::create_ledger_entry_and_wait)).
    /// A node that has not caught up yet may answer `404 TransactionPendingOrUnknown` for a
    /// moment: up to three such answers in a row are waited out.
    ///
    /// # Errors
    ///
    /// Awaiting it fails with [`InvalidInput`](ErrorKind::InvalidInput) for a malformed id
    /// (nothing is sent); [`NotFound`](ErrorKind::NotFound) when the transaction wrote no
    /// entry to that collection (code `UnknownLedgerEntry`, at once), is still not committed
    /// after the answers waited out (`TransactionPendingOrUnknown`) or does not exist
    /// (`InvalidTransactionId`, at once); [`Timeout`](ErrorKind::Timeout) when `Loading` lasts
    /// longer than the timeout.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
    /// let entry = client.get_ledger_entry("2.15", None).await?;
    /// println!("{}", entry.contents);
    /// # Ok(()) }
    /// ```
    pub fn get_ledger_entry(
        &self,
        transaction_id: impl IntoTransactionId,
        options: Option<GetLedgerEntryOptions>,
    ) -> TransactionPoller<LedgerEntry, QueryState> {
        self.ledger_entry_poller(transaction_id, options, Response::into_inner)
    }

    /// [`get_ledger_entry`](Self::get_ledger_entry), with the metadata of the ledger's final
    /// (`Ready`) answer: its status, headers, the transaction it reflects
    /// (`x-ms-ccf-transaction-id`) and the client request id of that request (see
    /// [`Response`]).
    ///
    /// # Errors
    ///
    /// Those of [`get_ledger_entry`](Self::get_ledger_entry).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
    /// let response = client.get_ledger_entry_with_response("2.15", None).await?;
    /// println!("{} (request {})", response.contents, response.client_request_id());
    /// # Ok(()) }
    /// ```
    pub fn get_ledger_entry_with_response(
        &self,
        transaction_id: impl IntoTransactionId,
        options: Option<GetLedgerEntryOptions>,
    ) -> TransactionPoller<Response<LedgerEntry>, QueryState> {
        self.ledger_entry_poller(transaction_id, options, |response| response)
    }

    /// The poller of both `get_ledger_entry` forms: `finish` makes the result of the final
    /// answer.
    fn ledger_entry_poller<T: Send + 'static>(
        &self,
        transaction_id: impl IntoTransactionId,
        options: Option<GetLedgerEntryOptions>,
        finish: fn(Response<LedgerEntry>) -> T,
    ) -> TransactionPoller<T, QueryState> {
        let options = options.unwrap_or_default();
        let id = match transaction_id.into_transaction_id() {
            Ok(id) => id,
            Err(e) => return TransactionPoller::invalid(&e, "get_ledger_entry"),
        };
        let client = self.clone();
        let (call, collection) = (options.call, options.collection_id);
        let poller = Poller::new(move || {
            let (client, call, collection) = (client.clone(), call.clone(), collection.clone());
            async move {
                if let Some(collection) = &collection {
                    validate::name("collection id", collection)?;
                }
                let id_text = id.to_string();
                let (api, id_text, collection) = (
                    client.api_version(),
                    id_text.as_str(),
                    collection.as_deref(),
                );
                let response = client
                    .run_with_response(&call, |raw| async move {
                        raw.get_ledger_entry(id_text, api, collection).await
                    })
                    .await?;
                let retry_after = retry_after(response.headers(), SystemTime::now());
                match QueryState::from_generated(&response.state) {
                    QueryState::Ready => {
                        let ready = response.try_map(|result| match result.entry {
                            Some(entry) => LedgerEntry::from_generated(entry),
                            None => Err(misfit("the entry is Ready but missing", &result)),
                        })?;
                        Ok(PollStep::Done(finish(ready)))
                    }
                    QueryState::Loading => Ok(PollStep::Pending {
                        status: QueryState::Loading,
                        retry_after,
                    }),
                    QueryState::Other(state) => Err(misfit(
                        format!("the entry's state {state:?} is neither Loading nor Ready"),
                        response.value(),
                    )),
                }
            }
            .map(|step| step.map_err(|e: Error| e.with_operation("get_ledger_entry")))
            .instrument(Self::span("get_ledger_entry", Some(id)))
        })
        .with_error_policy(ReadPolicy::default());
        TransactionPoller::new(
            self.configure_poller(poller, options.polling, options.timeout),
            id,
        )
    }

    /// The latest entry of a collection.
    ///
    /// # Errors
    ///
    /// [`NotFound`](ErrorKind::NotFound) (code `UnknownLedgerEntry`) when the collection has
    /// no entry.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
    /// let latest = client.get_current_ledger_entry(None).await?;
    /// println!("{} at {}", latest.contents, latest.transaction_id);
    /// # Ok(()) }
    /// ```
    pub async fn get_current_ledger_entry(
        &self,
        options: Option<GetCurrentLedgerEntryOptions>,
    ) -> Result<LedgerEntry, Error> {
        self.get_current_ledger_entry_with_response(options)
            .await
            .map(Response::into_inner)
    }

    /// [`get_current_ledger_entry`](Self::get_current_ledger_entry), with the metadata of the
    /// ledger's answer: its status, headers, the transaction the answer reflects
    /// (`x-ms-ccf-transaction-id`) and the call's client request id (see [`Response`]).
    ///
    /// # Errors
    ///
    /// Those of [`get_current_ledger_entry`](Self::get_current_ledger_entry).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
    /// let latest = client.get_current_ledger_entry_with_response(None).await?;
    /// println!("{} as of {:?}", latest.contents, latest.transaction_id());
    /// # Ok(()) }
    /// ```
    pub async fn get_current_ledger_entry_with_response(
        &self,
        options: Option<GetCurrentLedgerEntryOptions>,
    ) -> Result<Response<LedgerEntry>, Error> {
        let options = options.unwrap_or_default();
        async {
            if let Some(collection) = &options.collection_id {
                validate::name("collection id", collection)?;
            }
            let (api, collection) = (self.api_version(), options.collection_id.as_deref());
            let response = self
                .run_with_response(&options.call, |raw| async move {
                    raw.get_current_ledger_entry(api, collection).await
                })
                .await?;
            let entry = response
                .try_map(LedgerEntry::from_generated)
                .map_err(|e| e.with_operation("get_current_ledger_entry"))?;
            tracing::Span::current().record(
                "transaction_id",
                tracing::field::display(entry.transaction_id),
            );
            Ok(entry)
        }
        .instrument(Self::span("get_current_ledger_entry", None))
        .await
    }

    /// The entries of a collection over a range of transactions, oldest first: a lazy
    /// [`Pager`] (a `Stream` of entries; `into_pages()` for pages) that follows the ledger's
    /// pages and waits out `Loading` pages with backoff. It holds one page at a time.
    ///
    /// # Errors
    ///
    /// The stream yields [`InvalidInput`](ErrorKind::InvalidInput) first (and nothing is
    /// sent) for a malformed collection id, tag or transaction id, or a range whose start is
    /// after its end;
    /// then the errors of the requests, and [`Timeout`](ErrorKind::Timeout) when a page stays
    /// `Loading` longer than the client's [`wait_timeout`](crate::ClientOptions::wait_timeout).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use futures::TryStreamExt;
    /// use confidential_ledger::client::ListLedgerEntriesOptions;
    /// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
    /// let options = ListLedgerEntriesOptions {
    ///     from_transaction_id: Some("2.10".into()),
    ///     to_transaction_id: Some("2.50".into()),
    ///     ..Default::default()
    /// };
    /// let mut entries = client.list_ledger_entries(Some(options));
    /// while let Some(entry) = entries.try_next().await? {
    ///     println!("{}: {}", entry.transaction_id, entry.contents);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn list_ledger_entries(
        &self,
        options: Option<ListLedgerEntriesOptions>,
    ) -> Pager<LedgerEntry, Error> {
        let options = options.unwrap_or_default();
        let checked = (|| {
            if let Some(collection) = &options.collection_id {
                validate::name("collection id", collection)?;
            }
            if let Some(tag) = &options.tag {
                validate::name("tag", tag)?;
            }
            let from = options
                .from_transaction_id
                .as_ref()
                .map(TransactionIdArg::get)
                .transpose()?;
            let to = options
                .to_transaction_id
                .as_ref()
                .map(TransactionIdArg::get)
                .transpose()?;
            if let (Some(from), Some(to)) = (from, to)
                && from > to
            {
                return Err(Error::invalid_input(format!(
                    "the range starts at {from}, after its end {to}"
                )));
            }
            Ok((from, to))
        })();
        let (from, to) = match checked {
            Ok(range) => range,
            Err(err) => return Self::failed_pager(err.with_operation("list_ledger_entries")),
        };
        let ListLedgerEntriesOptions {
            collection_id,
            tag,
            call,
            ..
        } = options;
        let from = from.map(|id: TransactionId| id.to_string());
        let to = to.map(|id: TransactionId| id.to_string());
        self.pager(
            "list_ledger_entries",
            "entries",
            call,
            Box::new(move |client, call| {
                let (collection, from, to, tag) =
                    (collection_id.clone(), from.clone(), to.clone(), tag.clone());
                async move {
                    let (api, collection, from, tag, to) = (
                        client.api_version(),
                        collection.as_deref(),
                        from.as_deref(),
                        tag.as_deref(),
                        to.as_deref(),
                    );
                    let response = client
                        .run(&call, |raw| async move {
                            raw.list_ledger_entries(api, collection, from, tag, to)
                                .await
                        })
                        .await?;
                    raw_page(response, |page: types::PagedLedgerEntries| {
                        let loading = match QueryState::from_generated(&page.state) {
                            QueryState::Loading => true,
                            QueryState::Ready => false,
                            QueryState::Other(state) => {
                                return Err(misfit(
                                    format!(
                                        "the page's state {state:?} is neither Loading nor Ready"
                                    ),
                                    &page,
                                ));
                            }
                        };
                        Ok((page.entries, page.next_link, loading))
                    })
                }
                .boxed()
            }),
            LedgerEntry::from_generated,
        )
    }

    /// `poller` with the polling schedule and timeout of a call, or the client's.
    pub(super) fn configure_poller<T, S>(
        &self,
        poller: Poller<T, S, Error>,
        polling: Option<PollingOptions>,
        timeout: Option<Duration>,
    ) -> Poller<T, S, Error>
    where
        T: Send + 'static,
        S: Clone + Send + Sync + 'static,
    {
        let poller =
            poller.with_options(polling.unwrap_or_else(|| self.inner.options.polling.clone()));
        match timeout.or(self.inner.options.wait_timeout) {
            Some(timeout) => poller.with_timeout(timeout),
            None => poller,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_without_a_well_formed_transaction_id_is_a_decode_error() {
        let mut headers = HeaderMap::new();
        let err = written_transaction_id(&headers, "the write").unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Decode { .. }), "{err}");
        assert!(
            err.to_string().contains("has no x-ms-ccf-transaction-id"),
            "{err}"
        );

        for garbled in ["", "2", "2.x", "-1.2", "2.3.4"] {
            headers.insert(TRANSACTION_ID_HEADER, garbled.parse().unwrap());
            let err = written_transaction_id(&headers, "the write").unwrap_err();
            assert!(
                matches!(err.kind(), ErrorKind::Decode { .. }),
                "{garbled}: {err}"
            );
            assert!(err.to_string().contains("is not a transaction id"), "{err}");
        }
        headers.insert(TRANSACTION_ID_HEADER, " 2.15 ".parse().unwrap());
        assert_eq!(
            written_transaction_id(&headers, "the write").unwrap(),
            TransactionId::new(2, 15)
        );
    }
}
