//! [`Error`]: everything that can go wrong talking to a ledger, and what to do about it.
//!
//! Every fallible call of this crate returns one error type. Match on its
//! [`kind`](Error::kind) or ask its predicates ([`status`](Error::status),
//! [`error_code`](Error::error_code), [`is_retryable`](Error::is_retryable),
//! [`transaction_id`](Error::transaction_id)...); its message says what happened and, where
//! there is something to do, what to do.

mod carrier;
mod from_reqwest;
mod mapping;
mod snippet;

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use reqwest::StatusCode;

pub use carrier::CARRIER_STATUS;
pub use snippet::MAX_SNIPPET_CHARS;

pub(crate) use mapping::read_bounded;
pub(crate) use snippet::{excerpt, redact};

use crate::TransactionId;
use crate::tls::PinMismatch;

type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// The error returned by every fallible operation of this crate.
///
/// Its [`kind`](Self::kind) says what went wrong in a form a program can match; its message
/// (`Display`) says it to a person, with the ledger's error code and message when the ledger
/// answered, and with advice where there is any. The underlying cause, if any, is the error's
/// [`source`](StdError::source).
///
/// # Which errors are safe to retry
///
/// The client already retries transient failures (see
/// [`RetryOptions`](crate::pipeline::RetryOptions)); an error you see has outlived those
/// retries. [`is_retryable`](Self::is_retryable) says whether trying the same call again later
/// can succeed *without risk of applying a write twice*:
///
/// | kind | retryable | why |
/// |---|---|---|
/// | [`Throttled`](ErrorKind::Throttled) | yes | wait [`retry_after`](Self::retry_after) first |
/// | [`Service`](ErrorKind::Service) with status 408, 500, 502, 503, 504 | yes | transient on the ledger's side; a write that got one of these (or a `429`) is reported as [`OutcomeUnknown`](ErrorKind::OutcomeUnknown) instead |
/// | [`Transport`](ErrorKind::Transport), [`Timeout`](ErrorKind::Timeout) | yes | for writes these only remain when nothing was sent; otherwise the write is [`OutcomeUnknown`](ErrorKind::OutcomeUnknown) |
/// | [`OutcomeUnknown`](ErrorKind::OutcomeUnknown) | **no** | the write may have been applied: check by reading first |
/// | everything else | no | retrying sends the same request and gets the same answer |
///
/// # Examples
///
/// ```
/// use confidential_ledger::{Error, ErrorKind};
/// use reqwest::header::HeaderMap;
/// use reqwest::StatusCode;
///
/// let body = br#"{"error":{"code":"NotAllowed","message":"Could not find user"}}"#;
/// let err = Error::from_parts(StatusCode::FORBIDDEN, &HeaderMap::new(), body);
/// assert!(matches!(err.kind(), ErrorKind::Forbidden { .. }));
/// assert_eq!(err.error_code(), Some("NotAllowed"));
/// assert!(!err.is_retryable());
/// assert!(err.to_string().contains("an Administrator must add it with create_or_update_ledger_user"));
/// ```
#[derive(Debug, thiserror::Error)]
#[error("{inner}")]
pub struct Error {
    inner: Box<Inner>,
    #[source]
    source: Option<BoxError>,
}

/// What went wrong, for programs to match on.
///
/// New kinds may be added; match with a wildcard arm.
///
/// # Examples
///
/// ```
/// use confidential_ledger::{Error, ErrorKind};
///
/// fn describe(err: &Error) -> &'static str {
///     match err.kind() {
///         ErrorKind::NotFound => "no such thing",
///         ErrorKind::Throttled { .. } => "slow down",
///         ErrorKind::OutcomeUnknown => "check before writing again",
///         _ => "something else",
///     }
/// }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// `404`: the entry, transaction, user, collection... does not exist (yet). Right after a
    /// write, a status or entry read may briefly get this from a node that has not caught up;
    /// the pollers tolerate it.
    NotFound,
    /// `401`: the ledger did not accept the credentials (expired or wrong token, token for
    /// another audience, unregistered client certificate).
    Unauthorized,
    /// `403`: the principal may not do this. With the error code `NotAllowed` the principal is
    /// not a user of the ledger at all (the message says how to fix that).
    Forbidden {
        /// The principal's id (Entra object id or certificate fingerprint), when known.
        principal: Option<String>,
    },
    /// `409`: the request conflicts with the ledger's current state.
    Conflict,
    /// `429`: the ledger is throttling requests.
    Throttled {
        /// How long the ledger asked to wait (`Retry-After`), if it said.
        retry_after: Option<Duration>,
    },
    /// Any other error status, with what the ledger said about it.
    Service {
        /// The HTTP status.
        status: StatusCode,
        /// The ledger's error code (`error.code` of the body), if any.
        code: Option<String>,
        /// The ledger's error message (`error.message` of the body), if any.
        message: Option<String>,
    },
    /// `301` with code `ApiVersionRedirect` (not followed, even with a `Location`), or a `301`
    /// without `Location`: the ledger serves the legacy `/app/users` calls only for
    /// api-versions up to 2024-08-22-preview (some ledgers not even then). Use the ledger-user
    /// calls (`get_ledger_user`, `create_or_update_ledger_user`, `delete_ledger_user`,
    /// `list_ledger_users`) instead.
    ApiVersionRedirect,
    /// The ledger's TLS certificate does not chain to the pinned service certificate (it
    /// rotated, or the connection reached another server). The client re-fetches the ledger's
    /// identity once by itself; seeing this means that did not help.
    PinMismatch(PinMismatch),
    /// A TLS failure other than a pin mismatch (handshake, expired node certificate, host
    /// name), or a TLS configuration that cannot be built.
    Tls,
    /// The connection failed: refused, reset, DNS, or broken while reading a response.
    Transport,
    /// The request timed out.
    Timeout,
    /// A write (a non-idempotent `POST`) failed after the request may have reached the ledger:
    /// it may or may not have been applied. It was not retried, because that could apply it
    /// twice. This covers a connection lost or a timeout after sending, and every error status
    /// that does not prove a refusal: `408`, `429`, `500`, `502`, `503`, `504` (but a `503
    /// TransactionRolledBack` proves the write was not applied:
    /// [`TransactionRolledBack`](ErrorKind::TransactionRolledBack)) (the
    /// [`status`](Error::status) and any [`retry_after`](Error::retry_after) are kept). Check by
    /// reading (for example `get_transaction_status`, `get_current_ledger_entry` or
    /// `list_ledger_entries`) before writing again, or write in
    /// [`WriteMode::ExactlyOnce`](crate::options::WriteMode::ExactlyOnce), where the client does that
    /// itself and this kind remains only when the ledger stayed unreachable past the call's
    /// deadline. The cause is the error's [`source`](StdError::source).
    OutcomeUnknown,
    /// The ledger redirected to a place the client will not follow (another host, scheme or
    /// port, or too many redirects). Nothing was sent there.
    RedirectRefused {
        /// The redirect target, as far as it could be read (without user information).
        location: String,
    },
    /// A response could not be understood.
    Decode {
        /// The first characters of the body (at most [`MAX_SNIPPET_CHARS`]), with anything
        /// that looks like a credential redacted.
        snippet: String,
    },
    /// The request was refused before anything was sent: a malformed transaction id, an
    /// oversized entry, an invalid option.
    InvalidInput,
    /// No credential could be obtained (the token source failed, or a client certificate
    /// could not be loaded).
    Credential,
    /// A receipt did not verify against the ledger's service certificate (or the certificate
    /// cannot verify receipts). [`Error::receipt_error`] says which step failed.
    InvalidReceipt,
    /// The ledger reports the transaction as `Invalid`: it was rolled back (or never existed
    /// in the ledger's history) and will never commit. Write it again if it still matters.
    TransactionInvalid,
    /// `503` with code `TransactionRolledBack` (2026-07-31-preview, a write made with
    /// `waitForCommit`): the write was rolled back before it could commit, so it was **not
    /// applied** and is not in the ledger. Writing it again is safe; in
    /// [`WriteMode::ExactlyOnce`](crate::options::WriteMode::ExactlyOnce) the client does that itself
    /// (same marker, within the call's deadline). The rolled-back transaction id, when the
    /// ledger sent one, is [`Error::transaction_id`] (its status is `Invalid`).
    TransactionRolledBack,
    /// A response body was larger than the client reads: it was refused as soon as its
    /// `Content-Length`, or the bytes that had arrived, passed the limit (see
    /// [`ResponseLimits`](crate::pipeline::ResponseLimits)). The status and transaction id of
    /// the answer are kept ([`Error::status`], [`Error::transaction_id`]): a write answered
    /// this way was applied.
    ResponseTooLarge {
        /// The limit's name, as the field of [`ResponseLimits`](crate::pipeline::ResponseLimits)
        /// is called (`entry_bytes`, `page_bytes`...).
        limit: &'static str,
        /// The limit's value.
        max_bytes: u64,
    },
}

/// What an error response said.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ResponseInfo {
    pub(crate) status: StatusCode,
    pub(crate) code: Option<String>,
    pub(crate) message: Option<String>,
    /// An excerpt of a body that is not the ledger's error shape.
    pub(crate) body: Option<String>,
    pub(crate) transaction_id: Option<TransactionId>,
    pub(crate) retry_after: Option<Duration>,
}

#[derive(Debug)]
struct Inner {
    kind: ErrorKind,
    operation: Option<String>,
    detail: Option<String>,
    response: Option<ResponseInfo>,
    connect: bool,
    /// Said last, after everything else (such as "the write was not applied").
    note: Option<String>,
    /// The `x-ms-client-request-id` the failed call was sent with.
    client_request_id: Option<String>,
}

impl Error {
    /// An error of `kind` with a description of what happened.
    pub(crate) fn new(kind: ErrorKind, detail: impl Into<String>) -> Self {
        Self::build(kind, Some(detail.into()), None)
    }

    fn build(kind: ErrorKind, detail: Option<String>, response: Option<ResponseInfo>) -> Self {
        Self {
            inner: Box::new(Inner {
                kind,
                operation: None,
                detail,
                response,
                connect: false,
                note: None,
                client_request_id: None,
            }),
            source: None,
        }
    }

    /// Invalid input, refused before anything was sent.
    pub(crate) fn invalid_input(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, detail)
    }

    /// A response that could not be understood: `detail` says why, `body` is (the start of)
    /// what came.
    pub(crate) fn decode(detail: impl Into<String>, body: &[u8]) -> Self {
        let snippet = snippet::excerpt_bytes(body, MAX_SNIPPET_CHARS);
        Self::new(ErrorKind::Decode { snippet }, redact(&detail.into()))
    }

    /// A redirect to `location` that was not followed, and why.
    pub(crate) fn redirect_refused(location: impl Into<String>, reason: impl Into<String>) -> Self {
        let location = snippet::excerpt(&location.into(), 256);
        Self::new(ErrorKind::RedirectRefused { location }, reason)
    }

    /// A write whose outcome is unknown because of `cause`; `what_happened` completes "the
    /// outcome is unknown: ...".
    pub(crate) fn outcome_unknown(cause: Error, what_happened: impl Into<String>) -> Self {
        let mut err = Self::build(
            ErrorKind::OutcomeUnknown,
            Some(what_happened.into()),
            cause.inner.response.clone(),
        );
        err.inner.operation.clone_from(&cause.inner.operation);
        err.source = Some(Box::new(cause));
        err
    }

    /// A body larger than the limit `limit` (`max_bytes`); `seen` says what showed it.
    pub(crate) fn response_too_large(limit: &'static str, max_bytes: u64, seen: String) -> Self {
        Self::new(ErrorKind::ResponseTooLarge { limit, max_bytes }, seen)
    }

    /// Keeps the status and the transaction id of the answer whose body failed (a cut body,
    /// a body too large), so that [`status`](Self::status) and
    /// [`transaction_id`](Self::transaction_id) report them.
    pub(crate) fn with_answer_head(
        mut self,
        status: StatusCode,
        headers: &reqwest::header::HeaderMap,
    ) -> Self {
        let transaction_id = headers
            .get(crate::headers::TRANSACTION_ID)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        self.inner.response = Some(ResponseInfo {
            status,
            code: None,
            message: None,
            body: None,
            transaction_id,
            retry_after: None,
        });
        self
    }

    /// A copy for another waiter of the same answer: everything but the source, which is
    /// kept as its message.
    pub(crate) fn replicate(&self) -> Self {
        Self {
            inner: Box::new(Inner {
                kind: self.inner.kind.clone(),
                operation: self.inner.operation.clone(),
                detail: self.inner.detail.clone(),
                response: self.inner.response.clone(),
                connect: self.inner.connect,
                note: self.inner.note.clone(),
                client_request_id: self.inner.client_request_id.clone(),
            }),
            source: self
                .source
                .as_ref()
                .map(|source| BoxError::from(source.to_string())),
        }
    }

    /// Keeps `source` as the cause.
    pub(crate) fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// Names the operation that failed (kept if one is already named).
    /// Records the `x-ms-client-request-id` of the call, if none is recorded yet.
    pub(crate) fn with_client_request_id(mut self, id: &str) -> Self {
        if self.inner.client_request_id.is_none() {
            self.inner.client_request_id = Some(id.to_owned());
        }
        self
    }

    /// The `x-ms-client-request-id` the failed call was sent with (the same on each of its
    /// attempts): give it to Azure support to find the call in the service's logs. `None`
    /// when the call failed before anything was sent (a refused argument).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) {
    /// if let Err(err) = client.get_ledger_entry("2.15", None).await {
    ///     eprintln!("{err} (client request id {:?})", err.client_request_id());
    /// }
    /// # }
    /// ```
    pub fn client_request_id(&self) -> Option<&str> {
        self.inner.client_request_id.as_deref()
    }

    pub(crate) fn with_operation(mut self, operation: &str) -> Self {
        if self.inner.operation.is_none() {
            self.inner.operation = Some(operation.to_owned());
        }
        self
    }

    /// Names the principal of a [`Forbidden`](ErrorKind::Forbidden) error, if not named yet.
    pub(crate) fn with_principal(mut self, id: Option<String>) -> Self {
        if let ErrorKind::Forbidden { principal } = &mut self.inner.kind
            && principal.is_none()
        {
            *principal = id;
        }
        self
    }

    /// Replaces the description of what happened (shown after the kind's own text).
    pub(crate) fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.inner.detail = Some(detail.into());
        self
    }

    /// Adds `note` at the end of the message.
    pub(crate) fn with_note(mut self, note: impl Into<String>) -> Self {
        self.inner.note = Some(note.into());
        self
    }

    pub(crate) fn with_connect(mut self, connect: bool) -> Self {
        self.inner.connect = connect;
        self
    }

    /// What went wrong.
    ///
    /// Returned by reference, not by value: [`ErrorKind`] is not `Copy`, because several
    /// kinds carry what a program needs to act on them ([`PinMismatch`](ErrorKind::PinMismatch)
    /// the two fingerprints, [`Service`](ErrorKind::Service) the code and message,
    /// [`Decode`](ErrorKind::Decode) an excerpt of the body). Match on it directly
    /// (`match err.kind() { ErrorKind::NotFound => .., _ => .. }`), or clone it to keep it.
    pub fn kind(&self) -> &ErrorKind {
        &self.inner.kind
    }

    /// The HTTP status of the response that caused the error, if the ledger answered (for
    /// [`OutcomeUnknown`](ErrorKind::OutcomeUnknown): the answer that made the outcome
    /// unknown, such as `500`).
    pub fn status(&self) -> Option<StatusCode> {
        self.inner.response.as_ref().map(|r| r.status)
    }

    /// The ledger's error code (`error.code` of the body), such as `NotAllowed`,
    /// `InvalidTransactionId` or `TransactionRolledBack`.
    pub fn error_code(&self) -> Option<&str> {
        self.inner.response.as_ref()?.code.as_deref()
    }

    /// The ledger's error message (`error.message` of the body), bounded and with anything
    /// that looks like a credential redacted.
    pub fn service_message(&self) -> Option<&str> {
        self.inner.response.as_ref()?.message.as_deref()
    }

    /// The transaction id of the `x-ms-ccf-transaction-id` response header, if the ledger
    /// answered with one (for reads, the state that was read; for an
    /// [`OutcomeUnknown`](ErrorKind::OutcomeUnknown) write, possibly the write's own id).
    pub fn transaction_id(&self) -> Option<TransactionId> {
        self.inner.response.as_ref()?.transaction_id
    }

    /// How long the ledger asked to wait before trying again (`Retry-After`,
    /// `retry-after-ms`, `x-ms-retry-after-ms`), if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        self.inner.response.as_ref()?.retry_after
    }

    /// The operation that failed (its snake_case operation id, such as
    /// `create_ledger_entry`), when known.
    pub fn operation(&self) -> Option<&str> {
        self.inner.operation.as_deref()
    }

    /// True when the same call can be tried again later without risk; see
    /// [the table](Self#which-errors-are-safe-to-retry).
    pub fn is_retryable(&self) -> bool {
        match &self.inner.kind {
            ErrorKind::Throttled { .. } | ErrorKind::Transport | ErrorKind::Timeout => true,
            ErrorKind::Service { status, .. } => mapping::is_transient_status(*status),
            _ => false,
        }
    }

    /// True for [`ErrorKind::NotFound`].
    pub fn is_not_found(&self) -> bool {
        self.inner.kind == ErrorKind::NotFound
    }

    /// True for [`ErrorKind::Timeout`].
    pub fn is_timeout(&self) -> bool {
        self.inner.kind == ErrorKind::Timeout
    }

    /// True for [`ErrorKind::Throttled`].
    pub fn is_throttled(&self) -> bool {
        matches!(self.inner.kind, ErrorKind::Throttled { .. })
    }

    /// True for [`ErrorKind::ResponseTooLarge`]: an answer larger than the client reads.
    pub fn is_response_too_large(&self) -> bool {
        matches!(self.inner.kind, ErrorKind::ResponseTooLarge { .. })
    }

    /// True for [`ErrorKind::OutcomeUnknown`]: a write that may or may not have been applied.
    pub fn is_outcome_unknown(&self) -> bool {
        self.inner.kind == ErrorKind::OutcomeUnknown
    }

    /// True when no connection could be made, so nothing was sent (refused, DNS, TLS
    /// handshake, connect timeout).
    pub fn is_connect(&self) -> bool {
        self.inner.connect
    }

    /// Why a receipt was rejected, for [`ErrorKind::InvalidReceipt`].
    ///
    /// # Examples
    ///
    /// ```
    /// use confidential_ledger::receipt::{ReceiptError, ReceiptVerifier};
    /// use confidential_ledger::{Error, ErrorKind};
    ///
    /// let err = Error::from(ReceiptVerifier::new("not a certificate").unwrap_err());
    /// assert_eq!(err.kind(), &ErrorKind::InvalidReceipt);
    /// assert!(matches!(err.receipt_error(), Some(ReceiptError::Certificate { .. })));
    /// ```
    pub fn receipt_error(&self) -> Option<&crate::receipt::ReceiptError> {
        self.source.as_ref()?.downcast_ref()
    }

    /// The pin mismatch, for [`ErrorKind::PinMismatch`].
    pub fn pin_mismatch(&self) -> Option<&PinMismatch> {
        match &self.inner.kind {
            ErrorKind::PinMismatch(mismatch) => Some(mismatch),
            _ => None,
        }
    }
}

/// `HTTP 404 Not Found, code X: message`.
struct ServiceSummary<'a>(&'a ResponseInfo);

impl fmt::Display for ServiceSummary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let info = self.0;
        write!(f, "HTTP {}", info.status)?;
        if let Some(code) = &info.code {
            write!(f, ", code {code}")?;
        }
        if let Some(message) = &info.message {
            write!(f, ": {message}")?;
        } else if let Some(body) = &info.body {
            write!(f, ", unexpected body {body:?}")?;
        }
        if let Some(id) = &info.transaction_id {
            write!(f, ", transaction {id}")?;
        }
        Ok(())
    }
}

impl Inner {
    /// ` (HTTP ...)` when the ledger answered.
    fn answer(&self) -> Option<ServiceSummary<'_>> {
        self.response.as_ref().map(ServiceSummary)
    }

    fn detail(&self) -> &str {
        self.detail.as_deref().unwrap_or("")
    }
}

impl fmt::Display for Inner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.fmt_message(f)?;
        match &self.note {
            Some(note) => write!(f, "; {note}"),
            None => Ok(()),
        }
    }
}

impl Inner {
    fn fmt_message(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(operation) = &self.operation {
            write!(f, "{operation}: ")?;
        }
        let answer = |f: &mut fmt::Formatter<'_>| match self.answer() {
            Some(summary) => write!(f, " ({summary})"),
            None if self.detail.is_some() => write!(f, ": {}", self.detail()),
            None => Ok(()),
        };
        match &self.kind {
            ErrorKind::NotFound => {
                f.write_str("not found")?;
                answer(f)
            }
            ErrorKind::Unauthorized => {
                f.write_str("the ledger did not accept the credentials")?;
                answer(f)?;
                f.write_str(
                    "; check that the token is valid and was issued for the ledger's scope, or \
                     that the client certificate is registered with the ledger",
                )
            }
            ErrorKind::Forbidden { principal } => {
                f.write_str("access denied")?;
                answer(f)?;
                if self.response.as_ref().and_then(|r| r.code.as_deref()) == Some("NotAllowed") {
                    match principal {
                        Some(id) => write!(f, "; the principal {id} is not a user of this ledger")?,
                        None => f.write_str("; the principal is not a user of this ledger")?,
                    }
                    f.write_str(
                        "; an Administrator must add it with create_or_update_ledger_user",
                    )?;
                }
                Ok(())
            }
            ErrorKind::Conflict => {
                f.write_str("conflict with the ledger's state")?;
                answer(f)
            }
            ErrorKind::Throttled { retry_after } => {
                f.write_str("the ledger is throttling requests")?;
                answer(f)?;
                match retry_after {
                    Some(wait) => write!(f, "; retry after {wait:?}"),
                    None => f.write_str("; retry later"),
                }
            }
            ErrorKind::Service { .. } => {
                f.write_str("the ledger answered with an error")?;
                answer(f)
            }
            ErrorKind::ApiVersionRedirect => {
                f.write_str(
                    "the legacy user calls (/app/users) are not served for this api-version",
                )?;
                answer(f)?;
                f.write_str(
                    "; use the ledger-user calls instead: get_ledger_user, \
                     create_or_update_ledger_user, delete_ledger_user, list_ledger_users",
                )
            }
            ErrorKind::PinMismatch(mismatch) => {
                write!(f, "{mismatch}")?;
                match &self.detail {
                    Some(detail) => write!(f, "; {detail}"),
                    None => Ok(()),
                }
            }
            ErrorKind::Tls => write!(f, "TLS with the ledger failed: {}", self.detail()),
            ErrorKind::Transport => write!(f, "connection failed: {}", self.detail()),
            ErrorKind::Timeout => write!(f, "timed out: {}", self.detail()),
            ErrorKind::OutcomeUnknown => write!(
                f,
                "the outcome is unknown: {}. The write may or may not have been applied; it was \
                 not retried because a retry could apply it twice. Check by reading before \
                 writing again (get_transaction_status with its transaction id if known, \
                 otherwise get_current_ledger_entry or list_ledger_entries)",
                self.detail()
            ),
            ErrorKind::RedirectRefused { location } => write!(
                f,
                "refused to follow a redirect to {location}: {}; nothing was sent there",
                self.detail()
            ),
            ErrorKind::Decode { snippet } => {
                write!(f, "cannot understand the response")?;
                if let Some(summary) = self.answer() {
                    write!(f, " ({summary})")?;
                }
                write!(f, ": {}", self.detail())?;
                if snippet.is_empty() {
                    f.write_str("; the body is empty")
                } else {
                    write!(f, "; the body starts with {snippet:?}")
                }
            }
            ErrorKind::InvalidInput => write!(f, "invalid input: {}", self.detail()),
            ErrorKind::Credential => f.write_str(self.detail()),
            ErrorKind::InvalidReceipt => {
                write!(f, "the receipt does not verify: {}", self.detail())
            }
            ErrorKind::TransactionInvalid => write!(f, "{}", self.detail()),
            ErrorKind::TransactionRolledBack => {
                f.write_str("the write was rolled back before it could commit")?;
                answer(f)?;
                f.write_str("; it was not applied and can be written again")
            }
            ErrorKind::ResponseTooLarge { limit, max_bytes } => {
                write!(
                    f,
                    "the response is larger than the limit {limit} ({max_bytes} bytes): {}",
                    self.detail()
                )?;
                if let Some(summary) = self.answer() {
                    write!(f, " ({summary})")?;
                }
                write!(
                    f,
                    "; raise ClientOptions::response_limits.{limit} if such answers are expected"
                )
            }
        }
    }
}

impl From<crate::CredentialError> for Error {
    /// [`Credential`](ErrorKind::Credential), or [`Timeout`](ErrorKind::Timeout) for a token
    /// request that did not finish in time.
    fn from(err: crate::CredentialError) -> Self {
        let kind = if err.is_timeout() {
            ErrorKind::Timeout
        } else {
            ErrorKind::Credential
        };
        Self::new(
            kind,
            format!("cannot get a token for the ledger: {}", err.message()),
        )
        .with_source(err)
    }
}

impl From<crate::CertificateCredentialError> for Error {
    fn from(err: crate::CertificateCredentialError) -> Self {
        Self::new(
            ErrorKind::Credential,
            format!("cannot load the client certificate: {err}"),
        )
        .with_source(err)
    }
}

impl From<crate::FingerprintError> for Error {
    fn from(err: crate::FingerprintError) -> Self {
        Error::invalid_input(err.to_string()).with_source(err)
    }
}

impl From<crate::ParseTransactionIdError> for Error {
    fn from(err: crate::ParseTransactionIdError) -> Self {
        Self::invalid_input(err.to_string()).with_source(err)
    }
}

impl From<crate::receipt::ReceiptError> for Error {
    fn from(err: crate::receipt::ReceiptError) -> Self {
        Self::new(ErrorKind::InvalidReceipt, err.to_string()).with_source(err)
    }
}

impl From<crate::poller::TimedOut> for Error {
    /// A wait that gave up: [`ErrorKind::Timeout`].
    fn from(err: crate::poller::TimedOut) -> Self {
        Self::new(
            ErrorKind::Timeout,
            format!("the wait gave up: {err}; it can be resumed with a new call"),
        )
        .with_source(err)
    }
}

impl From<crate::poller::PollError<Error>> for Error {
    /// The error of a wait: the operation's own error, or [`ErrorKind::Timeout`] when the wait
    /// gave up.
    fn from(err: crate::poller::PollError<Error>) -> Self {
        err.into_error()
    }
}

impl From<crate::pager::PagingError> for Error {
    /// A paged list that could not go on (a page stayed `Loading` too long, or the pages kept
    /// leading back to a link already fetched): [`ErrorKind::Timeout`], as the pager gave up
    /// after waiting. Listing again later may succeed.
    ///
    /// A [`RepeatedLink`](crate::pager::PagingError::RepeatedLink) is
    /// [`Decode`](ErrorKind::Decode): the ledger's pages make no sense, and listing again gives
    /// the same circle.
    fn from(err: crate::pager::PagingError) -> Self {
        if let crate::pager::PagingError::RepeatedLink { link } = &err {
            let link = link.clone();
            return Self::decode(format!("the list gave up: {err}"), link.as_bytes())
                .with_source(err);
        }
        Self::new(ErrorKind::Timeout, format!("the list gave up: {err}")).with_source(err)
    }
}

impl From<std::convert::Infallible> for Error {
    fn from(err: std::convert::Infallible) -> Self {
        match err {}
    }
}

impl From<PinMismatch> for Error {
    fn from(err: PinMismatch) -> Self {
        Self::build(ErrorKind::PinMismatch(err), None, None).with_connect(true)
    }
}

impl From<crate::tls::PinnedCertificateError> for Error {
    fn from(err: crate::tls::PinnedCertificateError) -> Self {
        Self::new(ErrorKind::Tls, err.to_string()).with_source(err)
    }
}

impl From<crate::tls::TlsConfigError> for Error {
    fn from(err: crate::tls::TlsConfigError) -> Self {
        Self::new(ErrorKind::Tls, err.to_string()).with_source(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CredentialError, ParseTransactionIdError};

    fn assert_send_sync<T: Send + Sync + 'static>() {}

    #[test]
    fn is_small_and_thread_safe() {
        assert_send_sync::<Error>();
        assert!(std::mem::size_of::<Error>() <= 3 * std::mem::size_of::<usize>());
    }

    #[test]
    fn conversions_pick_the_kind_and_keep_the_cause() {
        let err = Error::from(CredentialError::new("expired refresh token"));
        assert_eq!(err.kind(), &ErrorKind::Credential);
        assert!(err.to_string().contains("expired refresh token"), "{err}");
        assert!(err.source().is_some());
        assert!(!err.is_retryable());

        let parse: ParseTransactionIdError = "2.x".parse::<TransactionId>().unwrap_err();
        let err = Error::from(parse);
        assert_eq!(err.kind(), &ErrorKind::InvalidInput);
        assert!(
            err.to_string()
                .starts_with("invalid input: invalid transaction id")
        );
        assert!(
            err.source()
                .unwrap()
                .downcast_ref::<ParseTransactionIdError>()
                .is_some()
        );

        let pinned = crate::tls::PinnedCertificate::from_pem("nothing").unwrap_err();
        assert_eq!(Error::from(pinned).kind(), &ErrorKind::Tls);
    }

    #[test]
    fn outcome_unknown_keeps_the_answer_and_the_cause() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("x-ms-ccf-transaction-id", "3.42".parse().unwrap());
        let cause = Error::from_parts(StatusCode::INTERNAL_SERVER_ERROR, &headers, b"")
            .with_operation("create_ledger_entry");
        assert!(cause.is_retryable());
        let err = Error::outcome_unknown(cause, "the ledger answered HTTP 500 to the write");
        assert!(err.is_outcome_unknown());
        assert!(!err.is_retryable());
        assert_eq!(err.status(), Some(StatusCode::INTERNAL_SERVER_ERROR));
        assert_eq!(err.transaction_id(), Some(TransactionId::new(3, 42)));
        assert_eq!(err.operation(), Some("create_ledger_entry"));
        let text = err.to_string();
        assert!(
            text.starts_with("create_ledger_entry: the outcome is unknown: the ledger answered"),
            "{text}"
        );
        assert!(text.contains("may or may not have been applied"), "{text}");
        assert!(text.contains("Check by reading"), "{text}");
        let cause = err.source().unwrap().downcast_ref::<Error>().unwrap();
        assert_eq!(cause.status(), Some(StatusCode::INTERNAL_SERVER_ERROR));
    }

    #[test]
    fn forbidden_names_the_principal_when_known() {
        let body = br#"{"error":{"code":"NotAllowed","message":"Could not find user"}}"#;
        let err = Error::from_parts(StatusCode::FORBIDDEN, &Default::default(), body)
            .with_principal(Some("0f6b1e29-abcd".into()));
        assert_eq!(
            err.kind(),
            &ErrorKind::Forbidden {
                principal: Some("0f6b1e29-abcd".into())
            }
        );
        assert_eq!(
            err.to_string(),
            "access denied (HTTP 403 Forbidden, code NotAllowed: Could not find user); the \
             principal 0f6b1e29-abcd is not a user of this ledger; an Administrator must add it \
             with create_or_update_ledger_user"
        );
        // Another 403 code gets no such hint.
        let body = br#"{"error":{"code":"RoleMissing","message":"no write access"}}"#;
        let err = Error::from_parts(StatusCode::FORBIDDEN, &Default::default(), body);
        assert!(!err.to_string().contains("create_or_update_ledger_user"));
    }

    #[test]
    fn decode_errors_show_a_redacted_bounded_snippet() {
        let body = format!("Bearer abc.def {}", "z".repeat(1000));
        let err = Error::decode("expected JSON", body.as_bytes());
        let ErrorKind::Decode { snippet } = err.kind() else {
            panic!("{err:?}")
        };
        assert!(snippet.starts_with("Bearer [redacted] zzz"), "{snippet}");
        assert!(snippet.chars().count() <= MAX_SNIPPET_CHARS + 1);
        assert!(!err.to_string().contains("abc.def"));
        let empty = Error::decode("expected JSON", b"");
        assert!(
            empty.to_string().ends_with("; the body is empty"),
            "{empty}"
        );
    }
}
