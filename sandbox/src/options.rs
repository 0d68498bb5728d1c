//! [`SandboxOptions`]: how a sandbox is started.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

/// How to start a [`Sandbox`](crate::Sandbox).
///
/// Fields are public; the chainable setters of the same names are a shorthand.
///
/// # Defaults
///
/// - `data_dir`: `None`, a temporary directory removed when the sandbox is dropped.
/// - `port`, `identity_port`: `0`, a free port chosen by the system.
/// - `bind`: `127.0.0.1`. The ledger endpoint is named `https://localhost:<port>`.
/// - `ledger_id`: `"sandbox"`.
/// - `signature_interval` / `signature_every`: 1000 ms / 5000 writes, CCF's defaults.
/// - `loading_responses`: 1 (a historical read answers `Loading` once before `Ready`).
/// - `page_size`: 1000 items per page of a ranged list.
/// - `legacy_users_redirect`: `true` (`/app/users` answers `301 ApiVersionRedirect` from
///   api-version `2024-08-22-preview` on, as real ledgers did in January 2025).
/// - `max_body_bytes`: 1 MiB.
/// - `storage_fault`: `None` (healthy storage).
/// - `max_connections`: 512 open connections per listener (at the cap, a new connection
///   evicts the oldest one that has not carried a request from a ledger user).
/// - `header_read_timeout`: 10 s to finish the TLS handshake, and to send a request's headers.
/// - `idle_timeout`: 60 s without a byte and without a request in progress closes a
///   connection.
/// - `wait_for_commit_timeout`: 60 s; a write with `waitForCommit=true` that is not committed
///   by then is answered `200` with `state: "Pending"` (it is applied and will commit).
/// - `commit_log`: `None` (no log of commit times).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use confidential_ledger_sandbox::SandboxOptions;
///
/// let options = SandboxOptions::default()
///     .ledger_id("contoso")
///     .signature_interval(Duration::from_millis(200))
///     .page_size(50);
/// assert_eq!(options.ledger_id, "contoso");
/// assert_eq!(options.signature_every, 5000);
///
/// let fast = SandboxOptions::for_tests();
/// assert!(fast.signature_interval < Duration::from_millis(50));
/// ```
#[derive(Clone, Debug)]
pub struct SandboxOptions {
    /// Where the ledger, certificates and keys live; `None` for a temporary directory.
    pub data_dir: Option<PathBuf>,
    /// Port of the ledger endpoint (HTTPS); 0 picks a free port.
    pub port: u16,
    /// Port of the identity endpoint (HTTPS, certificate from the local CA in the data
    /// directory; plain HTTP with [`identity_plain_http`](Self::identity_plain_http)); 0
    /// picks a free port.
    pub identity_port: u16,
    /// Serve the identity endpoint over plain HTTP instead of HTTPS (for tools that cannot add
    /// a trusted root). Off by default: the real identity service is HTTPS.
    pub identity_plain_http: bool,
    /// Address both listeners bind to.
    pub bind: IpAddr,
    /// The ledger id: the name the identity endpoint answers for, and a name in the node
    /// certificate. Fixed when the data directory is created.
    pub ledger_id: String,
    /// Emit a signature transaction at least this often while there are unsigned writes.
    pub signature_interval: Duration,
    /// Emit a signature transaction after this many unsigned transactions.
    pub signature_every: u64,
    /// How many times a historical read (entry by id, receipt, page of a ranged list) answers
    /// `Loading` before `Ready`.
    pub loading_responses: u32,
    /// Most items in one page of a paged list.
    pub page_size: usize,
    /// Answer `301 ApiVersionRedirect` on `/app/users` from api-version
    /// `2024-08-22-preview` on.
    pub legacy_users_redirect: bool,
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    /// A simulated storage fault switched on from the start (see
    /// [`Sandbox::storage_faults`](crate::Sandbox::storage_faults)). A new ledger is created
    /// before the fault applies.
    pub storage_fault: Option<crate::StorageFault>,
    /// Most open connections per listener (the ledger endpoint, the identity endpoint).
    pub max_connections: usize,
    /// Time allowed to finish the TLS handshake, and to send a request's headers.
    pub header_read_timeout: Duration,
    /// A connection that moves no bytes for this long, with no request in progress, is
    /// closed.
    pub idle_timeout: Duration,
    /// Longest a write with `waitForCommit=true` waits for its commit before answering
    /// `state: "Pending"`.
    pub wait_for_commit_timeout: Duration,
    /// A file to which the sandbox appends a line `SEQNO UNIX_MICROSECONDS` each time the
    /// committed end of the ledger moves, from the moment status reads answer `Committed` up
    /// to `SEQNO`: the clock a benchmark needs to tell how soon a client saw a commit. The
    /// file is created (or truncated) at start-up.
    pub commit_log: Option<PathBuf>,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        SandboxOptions {
            data_dir: None,
            port: 0,
            identity_port: 0,
            identity_plain_http: false,
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            ledger_id: "sandbox".to_string(),
            signature_interval: Duration::from_millis(1000),
            signature_every: 5000,
            loading_responses: 1,
            page_size: 1000,
            legacy_users_redirect: true,
            max_body_bytes: 1024 * 1024,
            storage_fault: None,
            max_connections: 512,
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            wait_for_commit_timeout: Duration::from_secs(60),
            commit_log: None,
        }
    }
}

impl SandboxOptions {
    /// Settings for tests: a temporary directory, free ports, a signature every 10 ms and one
    /// `Loading` answer per historical read.
    pub fn for_tests() -> Self {
        SandboxOptions {
            signature_interval: Duration::from_millis(10),
            ..SandboxOptions::default()
        }
    }

    /// Sets [`data_dir`](Self::data_dir).
    #[must_use]
    pub fn data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.data_dir = Some(dir.into());
        self
    }

    /// Sets [`port`](Self::port).
    #[must_use]
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Sets [`identity_plain_http`](Self::identity_plain_http).
    ///
    /// # Examples
    ///
    /// ```
    /// use confidential_ledger_sandbox::SandboxOptions;
    ///
    /// assert!(SandboxOptions::default().identity_plain_http(true).identity_plain_http);
    /// ```
    #[must_use]
    pub fn identity_plain_http(mut self, plain: bool) -> Self {
        self.identity_plain_http = plain;
        self
    }

    /// Sets [`identity_port`](Self::identity_port).
    #[must_use]
    pub fn identity_port(mut self, port: u16) -> Self {
        self.identity_port = port;
        self
    }

    /// Sets [`bind`](Self::bind).
    #[must_use]
    pub fn bind(mut self, address: IpAddr) -> Self {
        self.bind = address;
        self
    }

    /// Sets [`ledger_id`](Self::ledger_id).
    #[must_use]
    pub fn ledger_id(mut self, id: impl Into<String>) -> Self {
        self.ledger_id = id.into();
        self
    }

    /// Sets [`signature_interval`](Self::signature_interval).
    #[must_use]
    pub fn signature_interval(mut self, interval: Duration) -> Self {
        self.signature_interval = interval;
        self
    }

    /// Sets [`signature_every`](Self::signature_every).
    #[must_use]
    pub fn signature_every(mut self, writes: u64) -> Self {
        self.signature_every = writes;
        self
    }

    /// Sets [`loading_responses`](Self::loading_responses).
    #[must_use]
    pub fn loading_responses(mut self, count: u32) -> Self {
        self.loading_responses = count;
        self
    }

    /// Sets [`page_size`](Self::page_size).
    #[must_use]
    pub fn page_size(mut self, items: usize) -> Self {
        self.page_size = items;
        self
    }

    /// Sets [`legacy_users_redirect`](Self::legacy_users_redirect).
    #[must_use]
    pub fn legacy_users_redirect(mut self, on: bool) -> Self {
        self.legacy_users_redirect = on;
        self
    }

    /// Sets [`max_body_bytes`](Self::max_body_bytes).
    #[must_use]
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// Sets [`storage_fault`](Self::storage_fault).
    #[must_use]
    pub fn storage_fault(mut self, fault: Option<crate::StorageFault>) -> Self {
        self.storage_fault = fault;
        self
    }

    /// Sets [`max_connections`](Self::max_connections).
    #[must_use]
    pub fn max_connections(mut self, connections: usize) -> Self {
        self.max_connections = connections;
        self
    }

    /// Sets [`header_read_timeout`](Self::header_read_timeout).
    #[must_use]
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// Sets [`idle_timeout`](Self::idle_timeout).
    #[must_use]
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Sets [`wait_for_commit_timeout`](Self::wait_for_commit_timeout).
    #[must_use]
    pub fn wait_for_commit_timeout(mut self, timeout: Duration) -> Self {
        self.wait_for_commit_timeout = timeout;
        self
    }

    /// Sets [`commit_log`](Self::commit_log).
    #[must_use]
    pub fn commit_log(mut self, path: Option<PathBuf>) -> Self {
        self.commit_log = path;
        self
    }

    /// Checks the options for values the sandbox cannot work with.
    pub(crate) fn validate(&self) -> Result<(), crate::SandboxError> {
        let bad = |m: &str| Err(crate::SandboxError::Config(m.to_string()));
        if !valid_ledger_id(&self.ledger_id) {
            return bad(
                "the ledger id must be 1-63 characters: letters, digits and '-', not starting or ending with '-'",
            );
        }
        if self.signature_interval.is_zero() {
            return bad("signature_interval must be positive");
        }
        if self.signature_every == 0 {
            return bad("signature_every must be at least 1");
        }
        if self.page_size == 0 {
            return bad("page_size must be at least 1");
        }
        if self.max_body_bytes < 1024 {
            return bad("max_body_bytes must be at least 1024");
        }
        if self.max_connections == 0 {
            return bad("max_connections must be at least 1");
        }
        if self.header_read_timeout.is_zero() || self.idle_timeout.is_zero() {
            return bad("header_read_timeout and idle_timeout must be positive");
        }
        if self.wait_for_commit_timeout.is_zero() {
            return bad("wait_for_commit_timeout must be positive");
        }
        Ok(())
    }
}

/// A DNS label: what a ledger name can be.
pub(crate) fn valid_ledger_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 63
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !id.starts_with('-')
        && !id.ends_with('-')
}
