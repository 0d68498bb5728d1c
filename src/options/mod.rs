//! [`ClientOptions`]: how a [`ConfidentialLedgerClient`](crate::ConfidentialLedgerClient) (and
//! an [`IdentityServiceClient`](crate::IdentityServiceClient)) talks to the service, and
//! [`CallOptions`], the settings of one call.

mod write_mode;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::DEFAULT_SCOPE;
use crate::pipeline::{DEFAULT_CALL_TIMEOUT, PipelineOptions, ResponseLimits, RetryOptions};
use crate::poller::PollingOptions;

pub use write_mode::{ExactlyOnceOptions, WriteMode};

/// The api-version the client speaks unless told otherwise: the ledger api-version the raw
/// client is generated from, as `spec/manifest.json` names it (the build script reads it, so
/// `cargo xtask regen --api-version V` moves it and nothing else repeats it).
pub const DEFAULT_API_VERSION: &str = env!("CONFIDENTIAL_LEDGER_API_VERSION");

/// The identity-service api-version of `spec/manifest.json`.
pub(crate) const DEFAULT_IDENTITY_API_VERSION: &str =
    env!("CONFIDENTIAL_LEDGER_IDENTITY_API_VERSION");

/// The largest entry [`create_ledger_entry`](crate::ConfidentialLedgerClient::create_ledger_entry)
/// sends by default: 1 MiB of UTF-8 contents ([`ClientOptions::max_entry_bytes`]).
pub const DEFAULT_MAX_ENTRY_BYTES: usize = 1024 * 1024;

/// How a client reaches the service: api-version, retries, polling, logging, timeouts, proxy
/// and user agent. The same settings apply to the ledger and to the identity service (the
/// certificate lookup goes through the same proxy, with the same timeouts).
///
/// # Defaults
///
/// | field | default |
/// |---|---|
#[doc = concat!("| [`api_version`](Self::api_version) | [`DEFAULT_API_VERSION`] (`", env!("CONFIDENTIAL_LEDGER_API_VERSION"), "`) |")]
#[doc = concat!("| [`identity_api_version`](Self::identity_api_version) | `", env!("CONFIDENTIAL_LEDGER_IDENTITY_API_VERSION"), "` |")]
/// | [`retry`](Self::retry) | 3 retries with exponential backoff and jitter ([`RetryOptions`]) |
/// | [`polling`](Self::polling) | 25 ms growing by 1.5× to 1 s ([`PollingOptions`]) |
/// | [`wait_timeout`](Self::wait_timeout) | 120 s for a poller or a `Loading` page |
/// | [`logging_enable`](Self::logging_enable) | `false`: bodies are not logged |
/// | [`connect_timeout`](Self::connect_timeout) | 10 s |
/// | [`request_timeout`](Self::request_timeout) | 60 s per attempt |
/// | [`call_timeout`](Self::call_timeout) | 120 s per call ([`DEFAULT_CALL_TIMEOUT`]), everything included |
/// | [`response_limits`](Self::response_limits) | 8 MiB per entry or receipt, 64 MiB per page, 256 KiB per identity answer, 64 KiB of an error, 16 MiB otherwise ([`ResponseLimits`]) |
/// | [`proxy`](Self::proxy) | [`ProxyOptions::System`]: `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` |
/// | [`application_id`](Self::application_id) | none |
/// | [`credential_scopes`](Self::credential_scopes) | [`DEFAULT_SCOPE`] |
/// | [`max_entry_bytes`](Self::max_entry_bytes) | [`DEFAULT_MAX_ENTRY_BYTES`] (1 MiB) |
/// | [`max_redirects`](Self::max_redirects) | 5 |
/// | [`write_mode`](Self::write_mode) | [`WriteMode::AtMostOnce`]: an ambiguous write is `OutcomeUnknown` |
/// | [`exactly_once`](Self::exactly_once) | settle 2 s, deadline 120 s ([`ExactlyOnceOptions`]) |
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use confidential_ledger::ClientOptions;
/// use confidential_ledger::options::ProxyOptions;
/// use confidential_ledger::pipeline::RetryOptions;
///
/// let mut options = ClientOptions::default();
/// options.retry = RetryOptions::disabled();
/// options.request_timeout = Some(Duration::from_secs(10));
/// options.proxy = ProxyOptions::url("http://proxy.internal:3128");
/// options.application_id = Some("inventory".into());
/// options.logging_enable = true;
/// assert_eq!(options.api_version, confidential_ledger::options::DEFAULT_API_VERSION);
/// ```
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// The ledger api-version sent with every call.
    pub api_version: String,
    /// The identity service api-version.
    pub identity_api_version: String,
    /// Retries of transient failures (writes are retried only when provably not sent).
    pub retry: RetryOptions,
    /// Delays between polls of the pollers, and between fetches of a `Loading` page.
    pub polling: PollingOptions,
    /// How long a poller waits (for a commit, for a `Loading` entry or receipt) and how long a
    /// pager waits out one `Loading` page before giving up with
    /// [`Timeout`](crate::ErrorKind::Timeout); `None` waits as long as it takes. A call's
    /// options can set their own.
    pub wait_timeout: Option<Duration>,
    /// Log request and response bodies at `DEBUG` for every call (`logging_enable` in the
    /// official clients). A call can say otherwise with [`CallOptions::logging_enable`].
    /// Credentials are never logged.
    pub logging_enable: bool,
    /// The longest wait for a connection to be made.
    pub connect_timeout: Option<Duration>,
    /// The longest wait for one attempt of a request, from sending to the end of the
    /// response (retries and pollers make several attempts).
    pub request_timeout: Option<Duration>,
    /// The longest one call may take, everything included: getting a token, connecting,
    /// every attempt and redirect, and the waits between retries. A call that reaches it
    /// fails with [`Timeout`](crate::ErrorKind::Timeout) (a write that may have been sent:
    /// [`OutcomeUnknown`](crate::ErrorKind::OutcomeUnknown)). Each request of a poller or a
    /// pager is one call; their waiting is bounded by [`wait_timeout`](Self::wait_timeout).
    /// `None` leaves only the per-attempt bounds: up to `(max_retries + 1) ×
    /// request_timeout` plus backoff (4 × 60 s + waits with the defaults). A call can set its
    /// own with [`CallOptions::call_timeout`].
    pub call_timeout: Option<Duration>,
    /// The most bytes of each kind of response body the client reads; a larger answer fails
    /// with [`ResponseTooLarge`](crate::ErrorKind::ResponseTooLarge) naming the limit.
    pub response_limits: ResponseLimits,
    /// Which proxy requests go through.
    pub proxy: ProxyOptions,
    /// Put in front of the user agent (`<application id> confidential-ledger-rust/<version>`),
    /// at most [`MAX_APPLICATION_ID_CHARS`](crate::pipeline::MAX_APPLICATION_ID_CHARS) visible
    /// ASCII characters.
    pub application_id: Option<String>,
    /// The scopes bearer tokens are requested for.
    pub credential_scopes: Vec<String>,
    /// The largest entry (UTF-8 bytes of its contents) the client sends; a larger one is
    /// refused before any request with [`InvalidInput`](crate::ErrorKind::InvalidInput).
    pub max_entry_bytes: usize,
    /// The most redirects followed for one request.
    pub max_redirects: u32,
    /// How a write whose outcome is ambiguous is treated:
    /// [`WriteMode::ExactlyOnce`] resolves it by a lookup (and writes a marker tag with every
    /// entry); see [`exactly_once`](crate::client::exactly_once). A call can say otherwise with
    /// [`CreateLedgerEntryOptions::write_mode`](crate::client::CreateLedgerEntryOptions::write_mode).
    pub write_mode: WriteMode,
    /// Settings of [`WriteMode::ExactlyOnce`].
    pub exactly_once: ExactlyOnceOptions,
    /// Changes to the HTTP client builder, applied after the settings above and before the
    /// TLS configuration (which stays the client's own: pinned for the ledger, public roots
    /// for the identity service).
    pub configure_http: Option<HttpConfigurer>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            api_version: DEFAULT_API_VERSION.to_owned(),
            identity_api_version: DEFAULT_IDENTITY_API_VERSION.to_owned(),
            retry: RetryOptions::default(),
            polling: PollingOptions::default(),
            wait_timeout: Some(Duration::from_secs(120)),
            logging_enable: false,
            connect_timeout: Some(Duration::from_secs(10)),
            request_timeout: Some(Duration::from_secs(60)),
            call_timeout: Some(DEFAULT_CALL_TIMEOUT),
            response_limits: ResponseLimits::default(),
            proxy: ProxyOptions::System,
            application_id: None,
            credential_scopes: vec![DEFAULT_SCOPE.to_owned()],
            max_entry_bytes: DEFAULT_MAX_ENTRY_BYTES,
            max_redirects: 5,
            write_mode: WriteMode::AtMostOnce,
            exactly_once: ExactlyOnceOptions::default(),
            configure_http: None,
        }
    }
}

impl ClientOptions {
    /// The pipeline settings these options stand for.
    pub(crate) fn pipeline_options(&self) -> PipelineOptions {
        PipelineOptions {
            retry: self.retry.clone(),
            max_redirects: self.max_redirects,
            logging_enable: self.logging_enable,
            application_id: self.application_id.clone(),
            response_limits: self.response_limits,
            call_timeout: self.call_timeout,
            ..PipelineOptions::default()
        }
    }
}

/// Which proxy requests go through.
///
/// # Examples
///
/// ```
/// use confidential_ledger::options::ProxyOptions;
///
/// let proxy = ProxyOptions::url("http://user:secret@proxy.internal:3128");
/// assert!(!format!("{proxy:?}").contains("secret"));
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxyOptions {
    /// The proxy the environment names (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, with
    /// `NO_PROXY` exceptions), if any.
    #[default]
    System,
    /// No proxy, whatever the environment says.
    Disabled,
    /// This proxy for every request (`http://`, `https://` or `socks5://` URL; user
    /// information in it is used for proxy authentication and never shown).
    Url(String),
}

impl ProxyOptions {
    /// [`ProxyOptions::Url`].
    pub fn url(url: impl Into<String>) -> Self {
        Self::Url(url.into())
    }
}

impl fmt::Debug for ProxyOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::System => f.write_str("System"),
            Self::Disabled => f.write_str("Disabled"),
            Self::Url(url) => {
                let shown = match reqwest::Url::parse(url) {
                    Ok(mut parsed) => {
                        // Only URLs that cannot have user information refuse these.
                        let _ = parsed.set_username("");
                        let _ = parsed.set_password(None);
                        parsed.to_string()
                    }
                    Err(_) => "(unparsable URL)".to_owned(),
                };
                f.debug_tuple("Url").field(&shown).finish()
            }
        }
    }
}

/// A change to the `reqwest::ClientBuilder` the client sends with (TCP keepalive, local
/// address, connection pool sizes, DNS overrides...).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use confidential_ledger::ClientOptions;
/// use confidential_ledger::options::HttpConfigurer;
///
/// let mut options = ClientOptions::default();
/// options.configure_http = Some(HttpConfigurer::new(|builder| {
///     builder.tcp_keepalive(Duration::from_secs(30)).pool_max_idle_per_host(4)
/// }));
/// ```
#[derive(Clone)]
pub struct HttpConfigurer(
    Arc<dyn Fn(reqwest::ClientBuilder) -> reqwest::ClientBuilder + Send + Sync>,
);

impl HttpConfigurer {
    /// Applies `configure` to every HTTP client builder the client makes.
    pub fn new(
        configure: impl Fn(reqwest::ClientBuilder) -> reqwest::ClientBuilder + Send + Sync + 'static,
    ) -> Self {
        Self(Arc::new(configure))
    }

    pub(crate) fn apply(&self, builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
        (self.0)(builder)
    }
}

impl fmt::Debug for HttpConfigurer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HttpConfigurer(..)")
    }
}

/// Settings of one call, part of every method's options (`options.call`).
///
/// # Examples
///
/// ```
/// use confidential_ledger::client::GetCurrentLedgerEntryOptions;
///
/// // Log this call's bodies at DEBUG, whatever the client says.
/// let options = GetCurrentLedgerEntryOptions::new().logging_enable(true);
/// assert_eq!(options.call.logging_enable, Some(true));
///
/// // Give this call at most 5 s, everything included.
/// let options = GetCurrentLedgerEntryOptions::new().call_timeout(std::time::Duration::from_secs(5));
/// assert_eq!(options.call.call_timeout, Some(std::time::Duration::from_secs(5)));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallOptions {
    /// Log this call's request and response bodies at `DEBUG` (`Some(true)`), or not
    /// (`Some(false)`), whatever [`ClientOptions::logging_enable`] says; `None` follows it.
    pub logging_enable: Option<bool>,
    /// The longest this call may take, everything included, instead of
    /// [`ClientOptions::call_timeout`]; `None` follows the client.
    pub call_timeout: Option<Duration>,
    /// The `x-ms-client-request-id` to send with every request of this call (`None`: a fresh
    /// random UUID per call). Either way it is the same on every retry, is recorded as
    /// `client_request_id` on the call's tracing spans and is kept by its error
    /// ([`Error::client_request_id`](crate::Error::client_request_id)). At most
    /// [`MAX_CLIENT_REQUEST_ID_CHARS`](crate::pipeline::MAX_CLIENT_REQUEST_ID_CHARS) visible
    /// ASCII characters; anything else fails the call with
    /// [`InvalidInput`](crate::ErrorKind::InvalidInput) before sending.
    pub client_request_id: Option<String>,
}

/// Defines a method's options struct: the given fields, a `call: CallOptions` field, `Default`,
/// `new()` and the `logging_enable` and `call_timeout` setters.
macro_rules! method_options {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$field_meta:meta])* pub $field:ident : $ty:ty, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default)]
        pub struct $name {
            $( $(#[$field_meta])* pub $field: $ty, )*
            /// Settings of this call (body logging).
            pub call: $crate::options::CallOptions,
        }

        impl $name {
            /// The defaults.
            pub fn new() -> Self {
                Self::default()
            }

            /// Logs this call's request and response bodies at `DEBUG` (or not), whatever
            /// [`ClientOptions::logging_enable`]($crate::ClientOptions::logging_enable) says.
            #[must_use]
            pub fn logging_enable(mut self, enabled: bool) -> Self {
                self.call.logging_enable = Some(enabled);
                self
            }

            /// Sends `id` as this call's `x-ms-client-request-id` instead of a fresh one; see
            /// [`CallOptions::client_request_id`]($crate::client::CallOptions::client_request_id).
            #[must_use]
            pub fn client_request_id(mut self, id: impl Into<String>) -> Self {
                self.call.client_request_id = Some(id.into());
                self
            }

            /// Ends this call after `timeout`, everything included, instead of
            /// [`ClientOptions::call_timeout`]($crate::ClientOptions::call_timeout).
            #[must_use]
            pub fn call_timeout(mut self, timeout: std::time::Duration) -> Self {
                self.call.call_timeout = Some(timeout);
                self
            }
        }
    };
}

pub(crate) use method_options;

/// Setters for the `polling` and `timeout` fields of a poller method's options.
macro_rules! wait_setters {
    ($name:ident) => {
        impl $name {
            /// Polls on this schedule instead of the client's
            /// [`polling`]($crate::ClientOptions::polling).
            #[must_use]
            pub fn polling(mut self, polling: $crate::poller::PollingOptions) -> Self {
                self.polling = Some(polling);
                self
            }

            /// Gives up after `timeout` instead of the client's
            /// [`wait_timeout`]($crate::ClientOptions::wait_timeout).
            #[must_use]
            pub fn timeout(mut self, timeout: std::time::Duration) -> Self {
                self.timeout = Some(timeout);
                self
            }
        }
    };
}

pub(crate) use wait_setters;
