//! The HTTP pipeline every ledger request goes through: authentication, retries, redirects,
//! content types, user agent and tracing.
//!
//! [`Pipeline::send`] takes a built `reqwest::Request` and an [`OperationContext`] and returns
//! the response for a success status (2xx), or an [`Error`] for everything else, the ledger's
//! error answers included. One job per module:
//!
//! | module | job |
//! |---|---|
//! | [`retry`] | which failures are retried, backoff with full jitter, `Retry-After`, writes never applied twice |
//! | [`redirect`] | which redirects are followed, where credentials may go, the primary node's address |
//! | `auth` | a bearer token per attempt from the [`TokenCredential`], marked sensitive; none with certificate authentication |
//! | [`limits`] | how many bytes of each kind of answer are read ([`ResponseLimits`]) |
//! | `body` | success bodies read as a stream, refused past their limit; a cut body keeps the answer's status and transaction id |
//! | `deadline` | one deadline per call, retries, waits and the credential included |
//! | `template` | the request kept for a call's attempts, copied for each attempt and redirect hop |
//! | [`logging`] | a span per operation, events per attempt, bodies only when asked, secrets redacted |
//! | `user_agent` | `User-Agent: [<application id> ]confidential-ledger-rust/<version>` |
//!
//! # Defaults
//!
//! - 3 retries of idempotent requests on 408, 429, 500, 502, 503, 504, connection failures and
//!   timeouts; `POST` retried only after a failure to connect, when nothing was sent
//!   ([`RetryOptions`]).
//! - reqwest's own redirect handling is **off**: [`PipelineBuilder::build`] sets
//!   `redirect::Policy::none()` on the client builder it is given, and the pipeline follows
//!   redirects itself, at most 5 hops, only inside the ledger ([`redirect`]).
//! - Every call ends within [`PipelineOptions::call_timeout`] (120 s,
//!   [`DEFAULT_CALL_TIMEOUT`]) or its own [`OperationContext::deadline`]: then
//!   [`Timeout`](crate::ErrorKind::Timeout), or for a write that may have been sent
//!   [`OutcomeUnknown`](crate::ErrorKind::OutcomeUnknown). A retry whose wait would end after
//!   the deadline is not waited for: the error that would have been retried is returned.
//! - Every success body is read by the pipeline, as a stream, up to the limit of its kind of
//!   answer ([`ResponseLimits`]: 8 MiB for entries and receipts, 64 MiB for pages, 256 KiB for
//!   identity answers, 16 MiB otherwise); a `Content-Length` or a stream past it is
//!   [`ResponseTooLarge`](crate::ErrorKind::ResponseTooLarge). Error bodies are read up to
//!   64 KiB. The generated code decodes the bytes read.
//! - A success body that breaks off keeps the answer's status and `x-ms-ccf-transaction-id`
//!   in the error ([`Error::transaction_id`]); for a write the error is
//!   [`OutcomeUnknown`](crate::ErrorKind::OutcomeUnknown), for a read it is retried.
//! - Bodies are not logged; headers are logged redacted at `DEBUG` ([`logging`]).
//! - Requests are only sent inside the ledger's endpoint (same scheme, port, and host or a
//!   subdomain of it); anything else is refused before it is sent.
//!
//! # Plugging into the generated client
//!
//! The generated client (progenitor) calls its `exec` hook with each built request; the hook
//! cannot return anything but `reqwest::Result<reqwest::Response>`. The pipeline's own errors
//! cross that boundary inside a *carrier*: [`Error::into_response`] wraps the error in a
//! synthetic response with status [`CARRIER_STATUS`](crate::error::CARRIER_STATUS) (999), which no
//! operation declares, so the generated code returns it as
//! `progenitor_client::Error::UnexpectedResponse`; `Error::from` on that gives the original
//! error back, intact. Because the pipeline turns every non-2xx answer into an [`Error`]
//! while it still has the body, the generated code only ever sees 2xx responses and carriers.
//! The crate's own hooks ([`raw`](crate::raw)) do this for the generated clients (and set the
//! content type each operation's table names, with
//! [`raw::operation_context`](crate::raw::operation_context)); the sketch below shows the
//! mechanism on a stand-in client.
//!
//! ```
//! use confidential_ledger::pipeline::{OperationContext, Pipeline};
//! use confidential_ledger::Error;
//! use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
//!
//! /// What the generated client looks like to its hooks.
//! struct Client {
//!     baseurl: String,
//!     client: reqwest::Client,
//!     pipeline: Pipeline,
//! }
//!
//! impl ClientInfo<()> for Client {
//!     fn api_version() -> &'static str { "2026-02-23" }
//!     fn baseurl(&self) -> &str { &self.baseurl }
//!     fn client(&self) -> &reqwest::Client { &self.client }
//!     fn inner(&self) -> &() { &() }
//! }
//!
//! impl ClientHooks<()> for Client {
//!     async fn exec(
//!         &self,
//!         request: reqwest::Request,
//!         info: &OperationInfo,
//!     ) -> reqwest::Result<reqwest::Response> {
//!         let op = OperationContext::new(info.operation_id);
//!         Ok(self.pipeline.send(request, &op).await.unwrap_or_else(Error::into_response))
//!     }
//! }
//!
//! // And around each generated call: `.await.map_err(Error::from)`.
//! ```

mod auth;
mod body;
pub(crate) use body::Answer;
mod deadline;
pub mod limits;
pub mod logging;
pub mod redirect;
pub(crate) mod request_id;
pub mod retry;
mod template;
mod user_agent;

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue, LOCATION, USER_AGENT as UA};
use reqwest::{Method, StatusCode, Url};
use tracing::Instrument;

pub(crate) use crate::headers::retry_after;
pub use limits::ResponseLimits;
pub use request_id::{CLIENT_REQUEST_ID_HEADER, MAX_CLIENT_REQUEST_ID_CHARS};
pub use retry::{FullJitter, Jitter, RetryOptions, Timer, TokioTimer};
pub use user_agent::{MAX_APPLICATION_ID_CHARS, USER_AGENT, user_agent};

use crate::error::{read_bounded, redact};
use crate::{DEFAULT_SCOPE, Error, TokenCredential};
use auth::Authorizer;
use redirect::{LedgerOrigin, PrimaryCache};
use retry::RetryDecision;
use template::Template;

pub use crate::headers::TRANSACTION_ID_HEADER;

/// The content type of JSON merge patches (RFC 7396), which the ledger's `PATCH` operations
/// take.
pub const MERGE_PATCH_JSON: &str = "application/merge-patch+json";

/// The longest a call takes by default, everything included: 120 s.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(120);

/// Settings of a [`Pipeline`].
///
/// # Examples
///
/// ```
/// use confidential_ledger::pipeline::{PipelineOptions, RetryOptions};
///
/// let mut options = PipelineOptions::default();
/// options.retry = RetryOptions::disabled();
/// options.application_id = Some("inventory".into());
/// options.logging_enable = true;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineOptions {
    /// Retries of transient failures.
    pub retry: RetryOptions,
    /// The most redirects followed for one attempt (default 5; 0 follows none).
    pub max_redirects: u32,
    /// Log request and response bodies at `DEBUG` for every call (default: no; a call can
    /// ask for it alone with [`OperationContext::logging_enable`]).
    pub logging_enable: bool,
    /// The most bytes of a body logged (default 4096).
    pub max_logged_body_bytes: usize,
    /// Put in front of the user agent, to tell your application's requests apart in the
    /// ledger's logs (at most [`MAX_APPLICATION_ID_CHARS`] visible ASCII characters).
    pub application_id: Option<String>,
    /// The most bytes of each kind of response body read ([`ResponseLimits`]).
    pub response_limits: ResponseLimits,
    /// The longest one call of [`Pipeline::send`] may take, with its credential lookup,
    /// connections, retries and waits between them (default 120 s; `None`: no bound but the
    /// per-attempt timeouts of the HTTP client). A call can set its own deadline with
    /// [`OperationContext::deadline`].
    pub call_timeout: Option<Duration>,
}

impl Default for PipelineOptions {
    fn default() -> Self {
        Self {
            retry: RetryOptions::default(),
            max_redirects: 5,
            logging_enable: false,
            max_logged_body_bytes: 4096,
            application_id: None,
            response_limits: ResponseLimits::default(),
            call_timeout: Some(DEFAULT_CALL_TIMEOUT),
        }
    }
}

/// What the pipeline needs to know about one call.
///
/// # Examples
///
/// ```
/// use confidential_ledger::pipeline::OperationContext;
/// use reqwest::Method;
///
/// let op = OperationContext::new("create_ledger_entry");
/// assert!(op.is_non_idempotent(&Method::POST), "POST is not idempotent unless said so");
/// assert!(!op.is_non_idempotent(&Method::PUT));
///
/// let patch = OperationContext::new("create_or_update_ledger_user").merge_patch().logging_enable(true);
/// assert_eq!(patch.content_type().unwrap(), "application/merge-patch+json");
/// ```
#[derive(Debug, Clone)]
pub struct OperationContext {
    operation_id: Cow<'static, str>,
    non_idempotent: Option<bool>,
    content_type: Option<HeaderValue>,
    logging_enable: Option<bool>,
    deadline: Option<tokio::time::Instant>,
    client_request_id: Option<Arc<str>>,
}

impl OperationContext {
    /// A call of the operation `operation_id` (snake_case, such as `create_ledger_entry`):
    /// non-idempotent if it is a `POST`, its content type as built, body logging as the
    /// pipeline says.
    pub fn new(operation_id: impl Into<Cow<'static, str>>) -> Self {
        Self {
            operation_id: operation_id.into(),
            non_idempotent: None,
            content_type: None,
            logging_enable: None,
            deadline: None,
            client_request_id: None,
        }
    }

    /// Says whether the call must never be applied twice (by default: exactly when it is a
    /// `POST`). Non-idempotent calls are retried only when the ledger provably did not
    /// process them; see [`retry`].
    #[must_use]
    pub fn non_idempotent(mut self, non_idempotent: bool) -> Self {
        self.non_idempotent = Some(non_idempotent);
        self
    }

    /// Sends the body with this `Content-Type`, replacing the one the request was built with.
    #[must_use]
    pub fn with_content_type(mut self, content_type: HeaderValue) -> Self {
        self.content_type = Some(content_type);
        self
    }

    /// Sends the body as [`MERGE_PATCH_JSON`].
    #[must_use]
    pub fn merge_patch(self) -> Self {
        self.with_content_type(HeaderValue::from_static(MERGE_PATCH_JSON))
    }

    /// Logs (or does not log) this call's bodies at `DEBUG`, whatever the pipeline's
    /// [`logging_enable`](PipelineOptions::logging_enable) says.
    #[must_use]
    pub fn logging_enable(mut self, enabled: bool) -> Self {
        self.logging_enable = Some(enabled);
        self
    }

    /// The former name of [`logging_enable`](Self::logging_enable).
    #[deprecated(note = "renamed to `logging_enable`, the name of the setting everywhere")]
    #[must_use]
    pub fn log_bodies(self, enabled: bool) -> Self {
        self.logging_enable(enabled)
    }

    /// Ends the call at `deadline` (on tokio's clock), retries and waits included, instead
    /// of after the pipeline's [`call_timeout`](PipelineOptions::call_timeout). Several calls
    /// that make up one operation can share a deadline this way.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use confidential_ledger::pipeline::OperationContext;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let at = tokio::time::Instant::now() + Duration::from_secs(5);
    /// let op = OperationContext::new("get_constitution").deadline(at);
    /// assert_eq!(op.deadline_at(), Some(at));
    /// # }
    /// ```
    #[must_use]
    pub fn deadline(mut self, deadline: tokio::time::Instant) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Sends `id` as the call's `x-ms-client-request-id` ([`CLIENT_REQUEST_ID_HEADER`]) instead
    /// of a fresh one. Several requests that make up one logical call can share an id this
    /// way. An id that is not 1 to [`MAX_CLIENT_REQUEST_ID_CHARS`] visible ASCII characters
    /// fails the call with [`InvalidInput`](crate::ErrorKind::InvalidInput) before sending.
    ///
    /// # Examples
    ///
    /// ```
    /// use confidential_ledger::pipeline::OperationContext;
    ///
    /// let op = OperationContext::new("get_constitution").with_client_request_id("case-42");
    /// assert_eq!(op.client_request_id(), Some("case-42"));
    /// ```
    #[must_use]
    pub fn with_client_request_id(mut self, id: impl Into<String>) -> Self {
        self.client_request_id = Some(Arc::from(id.into()));
        self
    }

    /// [`with_client_request_id`](Self::with_client_request_id) with an id shared with the
    /// caller (no copy).
    pub(crate) fn with_shared_client_request_id(mut self, id: Arc<str>) -> Self {
        self.client_request_id = Some(id);
        self
    }

    /// The settings a call brings, each where given: its body logging, its deadline and its
    /// client request id (shared, not copied). How the generated clients' hooks and the
    /// client's own calls apply a call's settings alike.
    pub(crate) fn with_call_settings(
        mut self,
        logging_enable: Option<bool>,
        deadline: Option<tokio::time::Instant>,
        client_request_id: Option<&Arc<str>>,
    ) -> Self {
        if let Some(enabled) = logging_enable {
            self = self.logging_enable(enabled);
        }
        if let Some(deadline) = deadline {
            self = self.deadline(deadline);
        }
        if let Some(id) = client_request_id {
            self = self.with_shared_client_request_id(Arc::clone(id));
        }
        self
    }

    /// The id set with [`with_client_request_id`](Self::with_client_request_id), if any.
    pub fn client_request_id(&self) -> Option<&str> {
        self.client_request_id.as_deref()
    }

    /// The call's own deadline, if one was set with [`deadline`](Self::deadline).
    pub fn deadline_at(&self) -> Option<tokio::time::Instant> {
        self.deadline
    }

    /// The operation id.
    pub fn operation_id(&self) -> &str {
        &self.operation_id
    }

    /// The content type the body is sent with, if overridden.
    pub fn content_type(&self) -> Option<&HeaderValue> {
        self.content_type.as_ref()
    }

    /// True when a request with `method` in this context must never be applied twice.
    pub fn is_non_idempotent(&self, method: &Method) -> bool {
        self.non_idempotent.unwrap_or(*method == Method::POST)
    }
}

/// Builds a [`Pipeline`].
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use confidential_ledger::pipeline::{Pipeline, PipelineOptions};
/// use confidential_ledger::{tls, StaticTokenCredential};
///
/// # fn run(pinned: tls::PinnedCertificate) -> Result<(), Box<dyn std::error::Error>> {
/// let http = reqwest::Client::builder()
///     .use_preconfigured_tls(tls::client_config(&pinned, None)?);
/// let pipeline = Pipeline::builder("https://myledger.confidential-ledger.azure.com".parse()?, http)
///     .credential(Arc::new(StaticTokenCredential::new("token")))
///     .options(PipelineOptions::default())
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct PipelineBuilder {
    endpoint: Url,
    http: reqwest::ClientBuilder,
    options: PipelineOptions,
    credential: Option<Arc<dyn TokenCredential>>,
    scopes: Vec<String>,
    principal_id: Option<String>,
    timer: Arc<dyn Timer>,
    jitter: Arc<dyn Jitter>,
}

impl PipelineBuilder {
    /// A pipeline for the ledger at `endpoint`, sending with a client built from `http`
    /// (with its TLS configuration, proxy and timeouts; redirects are switched off on it).
    ///
    /// A timeout set on `http` applies to each attempt (and each redirect hop), not to the
    /// whole operation with its retries.
    pub fn new(endpoint: Url, http: reqwest::ClientBuilder) -> Self {
        Self {
            endpoint,
            http,
            options: PipelineOptions::default(),
            credential: None,
            scopes: vec![DEFAULT_SCOPE.to_owned()],
            principal_id: None,
            timer: Arc::new(TokioTimer),
            jitter: Arc::new(FullJitter::default()),
        }
    }

    /// The settings (default: [`PipelineOptions::default`]).
    #[must_use]
    pub fn options(mut self, options: PipelineOptions) -> Self {
        self.options = options;
        self
    }

    /// Authenticate with bearer tokens from `credential` (without one, no `Authorization`
    /// header is sent: certificate authentication).
    #[must_use]
    pub fn credential(mut self, credential: Arc<dyn TokenCredential>) -> Self {
        self.credential = Some(credential);
        self
    }

    /// The scopes tokens are requested for (default: [`DEFAULT_SCOPE`]).
    #[must_use]
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// The principal's id as the ledger knows it (a certificate user's fingerprint), named in
    /// `403 NotAllowed` errors. Without it, the object id of the bearer token is used, if
    /// there is one.
    #[must_use]
    pub fn principal_id(mut self, id: impl Into<String>) -> Self {
        self.principal_id = Some(id.into());
        self
    }

    /// How to wait between retries and tell the time (default: [`TokioTimer`]).
    #[must_use]
    pub fn timer(mut self, timer: Arc<dyn Timer>) -> Self {
        self.timer = timer;
        self
    }

    /// How to pick a wait below the backoff cap (default: [`FullJitter`]).
    #[must_use]
    pub fn jitter(mut self, jitter: Arc<dyn Jitter>) -> Self {
        self.jitter = jitter;
        self
    }

    /// The pipeline.
    ///
    /// # Errors
    ///
    /// [`InvalidInput`](crate::ErrorKind::InvalidInput) for an endpoint that is not an
    /// `https` (or `http`) URL with a host and without user information, or an invalid
    /// application id; the error of `reqwest::ClientBuilder::build` otherwise.
    pub fn build(self) -> Result<Pipeline, Error> {
        let ledger = LedgerOrigin::new(&self.endpoint)?;
        let user_agent = user_agent::header(self.options.application_id.as_deref())?;
        let http = self
            .http
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Pipeline {
            shared: Arc::new(Shared {
                http,
                endpoint: self.endpoint,
                ledger,
                auth: Authorizer::new(self.credential, self.scopes),
                principal_id: self.principal_id,
                user_agent,
                options: self.options,
                primary: PrimaryCache::default(),
                timer: self.timer,
                jitter: self.jitter,
            }),
        })
    }
}

/// Sends requests to one ledger; see the [module documentation](self).
///
/// Cheap to clone: clones share the HTTP client, the credential and the primary node's
/// address.
#[derive(Clone)]
pub struct Pipeline {
    shared: Arc<Shared>,
}

struct Shared {
    http: reqwest::Client,
    endpoint: Url,
    ledger: LedgerOrigin,
    auth: Authorizer,
    principal_id: Option<String>,
    user_agent: HeaderValue,
    options: PipelineOptions,
    primary: PrimaryCache,
    timer: Arc<dyn Timer>,
    jitter: Arc<dyn Jitter>,
}

impl fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.shared;
        f.debug_struct("Pipeline")
            .field("endpoint", &s.endpoint.as_str())
            .field("bearer_auth", &s.auth.has_credential())
            .field("primary", &s.primary.get())
            .field("options", &s.options)
            .finish_non_exhaustive()
    }
}

impl Pipeline {
    /// A builder for a pipeline to the ledger at `endpoint`; see [`PipelineBuilder::new`].
    pub fn builder(endpoint: Url, http: reqwest::ClientBuilder) -> PipelineBuilder {
        PipelineBuilder::new(endpoint, http)
    }

    /// The same pipeline (settings, credential) over a new HTTP client built from `http`,
    /// for example with a new pinned certificate. The primary node's address is not carried
    /// over.
    ///
    /// # Errors
    ///
    /// The error of `reqwest::ClientBuilder::build`.
    pub fn with_http_client(&self, http: reqwest::ClientBuilder) -> Result<Pipeline, Error> {
        let s = &self.shared;
        let http = http.redirect(reqwest::redirect::Policy::none()).build()?;
        Ok(Pipeline {
            shared: Arc::new(Shared {
                http,
                endpoint: s.endpoint.clone(),
                ledger: s.ledger.clone(),
                auth: s.auth.clone(),
                principal_id: s.principal_id.clone(),
                user_agent: s.user_agent.clone(),
                options: s.options.clone(),
                primary: PrimaryCache::default(),
                timer: Arc::clone(&s.timer),
                jitter: Arc::clone(&s.jitter),
            }),
        })
    }

    /// The former name of [`with_http_client`](Self::with_http_client).
    ///
    /// # Errors
    ///
    /// As [`with_http_client`](Self::with_http_client).
    #[deprecated(
        note = "renamed to `with_http_client` (\"transport\" now only names connection failures)"
    )]
    pub fn with_transport(&self, http: reqwest::ClientBuilder) -> Result<Pipeline, Error> {
        self.with_http_client(http)
    }

    /// The HTTP client requests are sent with (redirects off). Hand it to the generated
    /// client, which builds requests with it.
    pub fn http_client(&self) -> &reqwest::Client {
        &self.shared.http
    }

    /// The ledger's endpoint.
    pub fn endpoint(&self) -> &Url {
        &self.shared.endpoint
    }

    /// The settings.
    pub fn options(&self) -> &PipelineOptions {
        &self.shared.options
    }

    /// The `User-Agent` sent.
    pub fn user_agent(&self) -> &str {
        // Built from visible ASCII only.
        self.shared.user_agent.to_str().unwrap_or(USER_AGENT)
    }

    /// `host[:port]` of the primary node writes are currently sent to, if a write was
    /// redirected there and nothing has failed since.
    pub fn primary(&self) -> Option<String> {
        self.shared.primary.get()
    }

    /// Forgets the primary node's address: the next write goes to the ledger's endpoint.
    pub fn forget_primary(&self) {
        self.shared.primary.forget();
    }

    /// Sends `request`, retrying and following redirects as the [module documentation](self)
    /// says. Returns the response when its status is a success (2xx).
    ///
    /// The request's own `Authorization` header, if any, is dropped: the pipeline attaches
    /// credentials itself, and only inside the ledger.
    ///
    /// # Errors
    ///
    /// An [`Error`] for every non-success answer (mapped from its status and body), and for
    /// transport failures, refused redirects, unknown write outcomes and credential failures.
    /// The error names the operation.
    pub fn send<'a>(
        &'a self,
        request: reqwest::Request,
        op: &OperationContext,
    ) -> impl Future<Output = Result<reqwest::Response, Error>> + Send + use<'a> {
        futures::FutureExt::map(self.send_call(request, op.clone(), false), |result| {
            result.map(Answer::into_response)
        })
    }

    /// [`send`](Self::send) for a request the generated clients built, with the call's context
    /// moved in (their hooks make one per request), so that the future borrows nothing but
    /// the pipeline.
    pub(crate) fn send_generated(
        &self,
        request: reqwest::Request,
        op: OperationContext,
    ) -> impl Future<Output = Result<reqwest::Response, Error>> + Send + '_ {
        futures::FutureExt::map(self.send_call(request, op, true), |result| {
            result.map(Answer::into_response)
        })
    }

    /// [`send_generated`](Self::send_generated) for a request built by hand like the
    /// generated clients build theirs (method, URL, headers and a body of bytes, nothing
    /// else), answered with the success body read but not rebuilt into a response: for the
    /// calls that decode it themselves.
    pub(crate) fn send_for_answer(
        &self,
        request: reqwest::Request,
        op: OperationContext,
    ) -> impl Future<Output = Result<Answer, Error>> + Send + '_ {
        self.send_call(request, op, true)
    }

    /// [`send`](Self::send), answered with the success body read; `generated` says the
    /// request is as the generated clients build them (see [`template`]).
    fn send_call(
        &self,
        request: reqwest::Request,
        op: OperationContext,
        generated: bool,
    ) -> impl Future<Output = Result<Answer, Error>> + Send + '_ {
        // Everything the call keeps across its awaits (the request kept for copies, the
        // deadline's timer, the retry loop) is in one box, and each attempt (the redirect loop
        // with reqwest's pending request) in another: the future every caller holds inline is
        // a pointer, and the request is not also kept as this function's argument.
        let call = self
            .shared
            .begin(request, &op, generated)
            .map(|(template, request_id)| Box::pin(self.shared.call(template, request_id, op)));
        async move { call?.await }
    }
}

impl Shared {
    /// What is checked and set before anything is sent: the call's client request id (one
    /// for the call: every attempt and redirect carries it, and so does its error), the URL
    /// inside the ledger, the pipeline's own headers. Returns the request to copy for each
    /// attempt, with the id.
    fn begin(
        &self,
        mut request: reqwest::Request,
        op: &OperationContext,
        generated: bool,
    ) -> Result<(Template, Arc<str>), Error> {
        let request_id = match &op.client_request_id {
            Some(id) => Arc::clone(id),
            None => request_id::new_client_request_id(),
        };
        let value = request_id::header_value(&request_id)
            .map_err(|e| e.with_operation(op.operation_id()))?;
        request
            .headers_mut()
            .insert(CLIENT_REQUEST_ID_HEADER, value);
        if let Err(reason) = self.ledger.admits(request.url()) {
            return Err(Error::invalid_input(format!(
                "the request's URL {} is outside the ledger's endpoint {}: {reason}",
                redirect::shown(request.url()),
                self.endpoint
            ))
            .with_operation(op.operation_id())
            .with_client_request_id(&request_id));
        }
        self.prepare(&mut request, op);
        Ok((Template::new(request, generated), request_id))
    }

    /// The call, within its deadline and span, once [`begin`](Self::begin) has checked it.
    fn call(
        &self,
        template: Template,
        request_id: Arc<str>,
        op: OperationContext,
    ) -> impl Future<Output = Result<Answer, Error>> + Send + '_ {
        let span = logging::operation_span(&op, template.method(), &request_id);
        let non_idempotent = op.is_non_idempotent(template.method());
        let deadline = deadline::Deadline::of(op.deadline, self.options.call_timeout);
        // Captured, and only borrowed inside: each is kept once.
        async move {
            let sent = deadline::Sent::default();
            let started = tokio::time::Instant::now();
            let run = self.run(&template, &op, &deadline, &sent).instrument(span);
            let result = match tokio::time::timeout_at(deadline.end(), run).await {
                Ok(result) => result,
                Err(_) => Err(deadline::Deadline::expired(
                    started.elapsed(),
                    non_idempotent,
                    &sent,
                )),
            };
            result.map_err(|err| {
                err.with_operation(op.operation_id())
                    .with_client_request_id(&request_id)
            })
        }
    }

    fn prepare(&self, request: &mut reqwest::Request, op: &OperationContext) {
        let has_body = request.body().is_some();
        let headers = request.headers_mut();
        headers.remove(AUTHORIZATION);
        headers.insert(UA, self.user_agent.clone());
        if let (Some(content_type), true) = (&op.content_type, has_body) {
            headers.insert(CONTENT_TYPE, content_type.clone());
        }
    }

    async fn run(
        &self,
        template: &Template,
        op: &OperationContext,
        deadline: &deadline::Deadline,
        sent: &deadline::Sent,
    ) -> Result<Answer, Error> {
        let non_idempotent = op.is_non_idempotent(template.method());
        let bodies = op.logging_enable.unwrap_or(self.options.logging_enable);
        let retry = &self.options.retry;
        let started = logging::Stopwatch::start();
        let mut retries = 0u32;
        let result = loop {
            // Boxed apart from the call: each box stays within the sizes the allocator serves
            // from its per-thread cache (about 1 KiB), where one box of both would not.
            let attempt = Box::pin(
                self.attempt(template, bodies, op, sent)
                    .instrument(logging::attempt_span(retries + 1)),
            )
            .await;
            let err = match attempt {
                Ok(response) => break Ok(response),
                Err(err) => err,
            };
            match retry::judge(&err, non_idempotent) {
                RetryDecision::Fail => break Err(err),
                RetryDecision::OutcomeUnknown => {
                    let why = retry::why_unknown(&err);
                    break Err(Error::outcome_unknown(err, why));
                }
                RetryDecision::Retry => {}
            }
            if retries >= retry.max_retries || !template.replayable() {
                break Err(err);
            }
            let delay = match err.retry_after() {
                Some(wait) if wait > retry.max_retry_after => break Err(err),
                Some(wait) => wait,
                None => self.jitter.pick(retry.backoff_cap(retries + 1)),
            };
            if !deadline.allows(delay) {
                // The wait would outlast the call: the last failure says more than a timeout.
                break Err(err);
            }
            retries += 1;
            tracing::info!(
                target: "confidential_ledger::pipeline",
                retry = retries,
                delay_ms = delay.as_millis(),
                error = %err,
                "retrying"
            );
            self.timer.sleep(delay).await;
        };
        logging::finished(&result, retries + 1, started);
        result
    }

    /// One attempt: the request and the redirects it gets, up to a final answer.
    async fn attempt(
        &self,
        template: &Template,
        bodies: bool,
        op: &OperationContext,
        sent: &deadline::Sent,
    ) -> Result<Answer, Error> {
        let (method, own_url) = (template.method(), template.url());
        let write = !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
        let max_body = self.options.max_logged_body_bytes;
        // The request's own URL, unless it is routed to the primary or redirected (no copy
        // for the usual attempt).
        let mut url = Cow::Borrowed(own_url);
        if write && let Some(routed) = self.primary.route(own_url) {
            url = Cow::Owned(routed);
        }
        let mut hops = 0u32;
        let mut redirected = false;
        loop {
            // The copy lives in this block only: the awaits after it (the answer, its body)
            // do not keep its place in the future.
            let (pending, token, started) = {
                let Some(mut request) = template.next() else {
                    return Err(Error::redirect_refused(
                        redirect::shown(&url),
                        "the request's body is a stream, which cannot be sent again",
                    ));
                };
                // Checked before: the first URL by `begin`, redirect targets below, the primary
                // when it was remembered. Checked again because a credential depends on it,
                // except for the request's own URL, which `begin` checked (the copy sent
                // already holds it).
                if let Cow::Owned(other) = &url {
                    if let Err(reason) = self.ledger.admits(other) {
                        return Err(Error::redirect_refused(redirect::shown(other), reason));
                    }
                    *request.url_mut() = other.clone();
                }
                let token = self.auth.authorize(&mut request).await?;
                logging::request(&request, bodies, max_body);
                let started = logging::Stopwatch::start();
                sent.mark();
                (self.http.execute(request), token, started)
            };
            let response = match pending.await {
                Ok(response) => response,
                Err(err) => {
                    self.primary.forget();
                    return Err(Error::from(err));
                }
            };
            logging::response_head(&response, started);
            let status = response.status();
            if status.is_server_error() {
                self.primary.forget();
            }
            if redirect::follows(status, method)
                && let Some(location) = response.headers().get(LOCATION).cloned()
            {
                // A `301` with code `ApiVersionRedirect` is the ledger's answer to a legacy
                // `/app/users` call, not a move, even with a `Location` (live ledgers sent
                // one in 2025): following it lands on a path without the api-version.
                if status == StatusCode::MOVED_PERMANENTLY {
                    let headers = response.headers().clone();
                    let mut response = response;
                    let limit = self.options.response_limits.error_read_limit();
                    let body = read_bounded(&mut response, limit).await;
                    let err = Error::from_parts_at(status, &headers, &body, self.timer.now());
                    if err.kind() == &crate::ErrorKind::ApiVersionRedirect {
                        return Err(err);
                    }
                }
                let target = redirect::resolve(&url, &location)?;
                if let Err(reason) = self.ledger.admits(&target) {
                    tracing::warn!(
                        target: "confidential_ledger::pipeline",
                        status = status.as_u16(),
                        location = %redact(&redirect::shown(&target)),
                        reason = %reason,
                        "redirect refused"
                    );
                    return Err(Error::redirect_refused(redirect::shown(&target), reason));
                }
                hops += 1;
                if hops > self.options.max_redirects {
                    return Err(Error::redirect_refused(
                        redirect::shown(&target),
                        format!(
                            "the limit of {} redirects is reached",
                            self.options.max_redirects
                        ),
                    ));
                }
                tracing::debug!(
                    target: "confidential_ledger::pipeline",
                    status = status.as_u16(),
                    from = %redact(&redirect::shown(&url)),
                    to = %redact(&redirect::shown(&target)),
                    "following redirect"
                );
                url = Cow::Owned(target);
                redirected = true;
                continue;
            }
            if redirected && write && !status.is_server_error() {
                self.primary.remember(&url);
            }
            let limits = &self.options.response_limits;
            if status.is_success() {
                let (limit, max_bytes) = limits.for_kind(limits::BodyKind::of(op.operation_id()));
                let answer = body::read(response, limit, max_bytes).await?;
                logging::success_body(&answer.body, bodies, max_body);
                return Ok(answer);
            }
            let mut response = response;
            let body = read_bounded(&mut response, limits.error_read_limit()).await;
            logging::error_body(&body, bodies, max_body);
            let err = Error::from_parts_at(status, response.headers(), &body, self.timer.now());
            if status == StatusCode::FORBIDDEN {
                let principal = self.principal_id.clone().or_else(|| {
                    token
                        .as_ref()
                        .and_then(|t| auth::token_object_id(t.token.expose()))
                });
                return Err(err.with_principal(principal));
            }
            return Err(err);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>(_: &T) {}

    fn pipeline(endpoint: &str) -> Pipeline {
        let tls = rustls::ClientConfig::builder_with_provider(crate::tls::crypto_provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth();
        Pipeline::builder(
            endpoint.parse().unwrap(),
            reqwest::Client::builder().use_preconfigured_tls(tls),
        )
        .build()
        .unwrap()
    }

    #[test]
    fn send_futures_are_send() {
        let pipeline = pipeline("https://ledger.test");
        let request = reqwest::Request::new(Method::GET, "https://ledger.test/".parse().unwrap());
        let op = OperationContext::new("get");
        let future = pipeline.send(request, &op);
        assert_send(&future);
    }

    #[tokio::test]
    async fn requests_outside_the_ledger_are_refused_before_sending() {
        let pipeline = pipeline("https://ledger.test");
        let request = reqwest::Request::new(
            Method::GET,
            "https://elsewhere.test/app/transactions".parse().unwrap(),
        );
        let err = pipeline
            .send(request, &OperationContext::new("list_ledger_entries"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), &crate::ErrorKind::InvalidInput);
        assert!(
            err.to_string()
                .contains("outside the ledger's endpoint https://ledger.test/"),
            "{err}"
        );
        assert_eq!(err.operation(), Some("list_ledger_entries"));
    }

    #[test]
    fn builder_checks_its_input() {
        let tls = || {
            rustls::ClientConfig::builder_with_provider(crate::tls::crypto_provider())
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth()
        };
        let http = || reqwest::Client::builder().use_preconfigured_tls(tls());
        let err = Pipeline::builder("ftp://ledger.test".parse().unwrap(), http())
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), &crate::ErrorKind::InvalidInput);
        let options = PipelineOptions {
            application_id: Some("two words".into()),
            ..PipelineOptions::default()
        };
        let err = Pipeline::builder("https://ledger.test".parse().unwrap(), http())
            .options(options)
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), &crate::ErrorKind::InvalidInput);
        let pipeline = pipeline("https://ledger.test");
        assert!(
            pipeline
                .user_agent()
                .starts_with("confidential-ledger-rust/")
        );
        assert_eq!(pipeline.primary(), None);
        let shown = format!("{pipeline:?}");
        assert!(shown.contains("bearer_auth: false"), "{shown}");
        let again = pipeline.with_http_client(http()).unwrap();
        assert_eq!(again.endpoint(), pipeline.endpoint());
    }
}
